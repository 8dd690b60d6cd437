/* milter: what milter/main.c (start-up, privileges, reload) and
 * milter/callbacks.c (the libmilter callbacks over the engine) share.
 * Internal to chanrac-milter; the product logic is lib/engine. */
#ifndef CHANRAC_MILTER_H
#define CHANRAC_MILTER_H

#include <libmilter/mfapi.h>

#include "engine.h"
#include "stats.h"

/* The filter description passed to smfi_register. */
extern struct smfiDesc milter_desc;

/* Installs the first engine (owned from now on), the stats writer (may be
 * NULL; not owned) and the session cap.  Call once before smfi_main. */
void milter_setup(cr_engine *engine, cr_stats *stats, int max_sessions);

/* Swaps in a new engine (owned from now on) for the messages that start their
 * check after this call; the old one is freed once its last check ends. */
void milter_engine_swap(cr_engine *engine);

/* The metrics endpoint's callback (lib/metrics.h): messages by action,
 * degraded verdicts, unchecked sessions, removed recipients, open sessions and
 * a histogram of the time from end of message to verdict. */
struct metrics_buf;
void milter_metrics(void *arg, struct metrics_buf *b);

/* Frees the engine after smfi_main returned (no callback runs any more). */
void milter_shutdown(void);

#endif
