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
#define STATS_MAX_NAMES 64

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

/* ---- the wider counter set: any module (CLI, milter, engine rules) counts
 * named events per UTC day.  Same write path as stats_count: gathered in
 * memory, written by stats_flush / the writer thread / stats_free in one
 * script per flush, applied once per flush token; never blocks on I/O.  A one-shot program (the CLI) does
 * stats_new, the calls, stats_free (which flushes once, bounded by
 * [milter] stats_timeout). */

/* Field names: [a-z0-9_.]{1,63}; labels and members: 1..255 bytes, control
 * characters become spaces.  A bad name is dropped (logged). */
#define STATS_FIELD_MAX 63
#define STATS_LABEL_MAX 255
/* Pending labelled counts and members kept while Redis is away; more are
 * dropped and logged. */
#define STATS_MAX_ITEMS 50000

/* Adds n to field of the day's hash P:{st}:day:DAY. */
void stats_add(cr_stats *s, int64_t when, const char *field, long long n);
/* Adds n to label in the day's hash P:{st}:lab:NAME:DAY (per customer, per
 * reason...). */
void stats_add_label(cr_stats *s, int64_t when, const char *name, const char *label,
		     long long n);
/* Adds member to the day's set P:{st}:set:NAME:DAY (distinct advertisers...). */
void stats_add_distinct(cr_stats *s, int64_t when, const char *name, const char *member);

/* The counter names chanrac uses (doc/redis-keys.md lists them all). */
#define STATS_MSG_TOTAL "msg.total"            /* every message checked */
#define STATS_OUT_TOTAL "out.total"            /* of those, authenticated submissions
						  (sent); received = msg.total - out.total */
#define STATS_REPORT_RECEIVED "report.received" /* spam reports stored (not duplicates) */
#define STATS_REPORT_DUPLICATE "report.duplicate"
#define STATS_REPORT_PROCESSED "report.processed" /* reached a decision: listed,
						     accepted or rejected */
#define STATS_LIST_ADDED "list.added"
#define STATS_LIST_REMOVED "list.removed"
#define STATS_LIST_EXPORTED "list.exported"
#define STATS_LIST_IMPORTED "list.imported"  /* entries read by chanrac list import */
#define STATS_WRONG_RELEASED "wrong.released"  /* quarantined mail released */
#define STATS_WRONG_NOTSPAM "wrong.notspam"    /* not-spam reports (RFC 6430) */
#define STATS_ADV_TOTAL "adv.total"            /* advertising messages seen */
#define STATS_SET_ADVERTISER "advertiser"      /* distinct advertisers (set) */
#define STATS_LABEL_ADV_SENT "adv_sent"        /* outbound advertising per customer */
#define STATS_SET_ADV_TEMPLATE "adv_tpl"       /* "customer<TAB>template" (set) */
#define STATS_LABEL_OPTOUT_REASON "optout_reason" /* not processable, by reason */
#define STATS_LABEL_NONCOMPLIANT "adv_rule"    /* non-compliant advertising, by rule */

/* Opt-out request stages and channels (Mẫu số 1 section 4). */
#define STATS_OPTOUT_CHANNELS { "web", "email", "phone" }
#define STATS_OPTOUT_STAGES { "received", "confirmed", "processed", "failed" }
/* Counts one opt-out request event: field optout.STAGE.CHANNEL; for stage
 * "failed" (could not be processed, force majeure) the reason is counted under
 * label optout_reason.  Unknown stage or channel: dropped (logged). */
void stats_optout(cr_stats *s, int64_t when, const char *channel, const char *stage,
		  const char *reason);
/* Counts one inbound advertising message: adv.total, the advertiser (its
 * organisational domain) in the distinct set, and each failed rule id
 * (R1, R3, R4...) under label adv_rule. */
void stats_advert_in(cr_stats *s, int64_t when, const char *advertiser,
		     const char *const *failed_rules, size_t nfailed);
/* Counts one outbound advertising message of a customer (SASL user or sender
 * domain) with its template id (fingerprint id): out.adv, label adv_sent,
 * member "customer<TAB>template" of adv_tpl. */
void stats_advert_out(cr_stats *s, int64_t when, const char *customer, const char *template_id);

/* ---- reading back (chanrac stats, compliance-report) ---- */

struct stats_value {
	char *name;
	long long n;
};
struct stats_values {
	struct stats_value *v;
	size_t n;
};
/* Sums of every field over the UTC days from..to inclusive (unix times, any
 * time in the day), into out (sorted by name; free with stats_values_free).
 * 0, or -1 with err (Redis unreachable). */
int stats_read_fields(cr_stats *s, int64_t from, int64_t to, struct stats_values *out,
		      char *err, size_t errlen);
/* Sums per label of a labelled counter over the days. */
int stats_read_labels(cr_stats *s, int64_t from, int64_t to, const char *name,
		      struct stats_values *out, char *err, size_t errlen);
/* The distinct members of a set over the days (n = 1 each). */
int stats_read_distinct(cr_stats *s, int64_t from, int64_t to, const char *name,
			struct stats_values *out, char *err, size_t errlen);
/* Value of name in v, 0 when absent. */
long long stats_value(const struct stats_values *v, const char *name);
void stats_values_free(struct stats_values *v);

#endif
