/* dkimcheck: DKIM (RFC 6376) verification of a parsed message with libopendkim, its
 * key lookups (selector._domainkey.domain TXT) going through our own DNS client
 * (lib/dnsq.h) under the message's deadline.  Used by the engine for the
 * Authentication-Results header and by R4h, which counts RFC 8058 one-click only
 * when a passing signature covers List-Unsubscribe and List-Unsubscribe-Post. */
#ifndef CHANRAC_DKIMCHECK_H
#define CHANRAC_DKIMCHECK_H

#include <stddef.h>

#include "dnsq.h"
#include "msg.h"

#define DKIMCHECK_MAX_SIGS 8

/* RFC 8601 2.7.1 result names. */
enum dkimcheck_res {
	DKIMCHECK_NONE = 0, /* no signature */
	DKIMCHECK_PASS,
	DKIMCHECK_FAIL,      /* signature or body hash did not verify */
	DKIMCHECK_NEUTRAL,   /* not judged: the body was cut at max_scan_bytes */
	DKIMCHECK_TEMPERROR, /* the key lookup timed out or failed */
	DKIMCHECK_PERMERROR, /* no key, a bad key, or a broken signature */
};

struct dkimcheck_sig {
	char domain[256];   /* d= */
	char selector[64];  /* s= */
	enum dkimcheck_res result;
	int covers_unsub;   /* h= names List-Unsubscribe */
	int covers_unsub_post; /* h= names List-Unsubscribe-Post */
	char why[96];       /* for results other than pass */
};

struct dkimcheck_result {
	size_t nsigs;       /* signatures judged (the first DKIMCHECK_MAX_SIGS) */
	struct dkimcheck_sig sigs[DKIMCHECK_MAX_SIGS];
	char error[128];    /* a library failure, "" if none */
};

/* One per engine: the libopendkim library handle, immutable after creation and
 * shared by threads (each verification has its own DKIM handle).  NULL with err. */
typedef struct dkimcheck dkimcheck;
dkimcheck *dkimcheck_new(char *err, size_t errlen);
void dkimcheck_free(dkimcheck *d);

/* Queues the key lookups of the message's DKIM-Signature fields (at most
 * DKIMCHECK_MAX_SIGS) on set, so they run with the message's other lookups.
 * Returns how many were queued. */
size_t dkimcheck_plan(const cr_msg *m, dnsq_set *set);

/* Verifies every DKIM-Signature of m; keys come from set (queued by
 * dkimcheck_plan, or resolved now within the set's deadline).  id names the
 * message in log lines.  set may be NULL: every key lookup is then a temperror. */
void dkimcheck_verify(dkimcheck *d, const cr_msg *m, dnsq_set *set, const char *id,
		      struct dkimcheck_result *out);

/* "none", "pass", "fail", "neutral", "temperror", "permerror". */
const char *dkimcheck_result_name(enum dkimcheck_res r);

#endif
