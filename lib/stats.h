/* stats: per-day message counters in Redis ("how many messages were accepted,
 * tagged, quarantined, tempfailed, rejected today"), counted by chanrac-milter.
 * Counting never touches the network: counts gather in memory and a background
 * thread writes them (HINCRBY) every interval, each Redis call bounded by a short
 * timeout.  While Redis is down the counts wait in memory and the failure is
 * logged once, then once a minute.  Key schema: doc/redis-keys.md. */
#ifndef CHANRAC_STATS_H
#define CHANRAC_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

typedef struct cr_stats cr_stats;

/* Days of counts kept in memory while Redis is unreachable; older ones are
 * dropped (and logged) when a new day needs room. */
#define STATS_MAX_DAYS 8
/* Longest counter name ("accept", "reject", ...): [a-z0-9_], 1..31 bytes. */
#define STATS_NAME_MAX 31
/* Distinct counter names per day. */
#define STATS_MAX_NAMES 16

/* Reads [redis] (host/port or socket, user + password_file, db, key_prefix) and
 * [milter] stats_interval, stats_timeout, stats_retry_max.  Does not connect.
 * NULL with err naming the key on a bad value. */
cr_stats *stats_new(const cr_conf *conf, char *err, size_t errlen);
/* Starts the writer thread.  0, or -1 with err. */
int stats_start(cr_stats *s, char *err, size_t errlen);
/* Stops the writer thread (if started), makes one last bounded attempt to
 * write what is pending, and frees s.  NULL is fine. */
void stats_free(cr_stats *s);

/* Counts one message with outcome name (e.g. "reject") on the UTC day of
 * unix time when: fields "msg.NAME" and "msg.total".  Thread-safe, never
 * blocks on I/O.  A name that is not [a-z0-9_]{1,31} counts as "other". */
void stats_count(cr_stats *s, int64_t when, const char *name);

/* Writes every pending count now (the writer thread does this every
 * interval).  0 when all were written (or none pending), -1 when Redis failed:
 * the counts stay pending.  Thread-safe. */
int stats_flush(cr_stats *s);

/* Counts waiting in memory (msg.total summed over days); for tests and logs. */
long long stats_pending(cr_stats *s);

/* The key of a day: "PREFIX:{st}:day:YYYY-MM-DD" (UTC).  Length or -1. */
int stats_day_key(const char *prefix, int64_t when, char *buf, size_t len);

#endif
