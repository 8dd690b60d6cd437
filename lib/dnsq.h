/* dnsq: the check engine's DNS client.  All lookups of a message go out at once on our
 * own sockets under one absolute deadline; a reply counts only if source, ID and question
 * match (RFC 5452 9.1); TC=1 is re-asked over TCP; answers go to a shared TTL cache. */
#ifndef CHANRAC_DNSQ_H
#define CHANRAC_DNSQ_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Query types we ask for (RFC 1035 3.2.2, RFC 3596, RFC 7208 3.1). */
#define DNSQ_TYPE_A 1
#define DNSQ_TYPE_NS 2
#define DNSQ_TYPE_CNAME 5
#define DNSQ_TYPE_SOA 6
#define DNSQ_TYPE_PTR 12
#define DNSQ_TYPE_MX 15
#define DNSQ_TYPE_TXT 16
#define DNSQ_TYPE_AAAA 28
#define DNSQ_TYPE_SPF 99

/* At most this many servers per context, and queries per set.  A running query holds
 * up to two sockets, so a process running many sets at once needs a matching
 * RLIMIT_NOFILE. */
#define DNSQ_MAX_SERVERS 8
#define DNSQ_SET_MAX_QUERIES 256

enum dnsq_status {
	DNSQ_PENDING = 0, /* not run yet */
	DNSQ_NOERROR,     /* answered, rcode 0 (maybe with no records of the type) */
	DNSQ_NXDOMAIN,    /* answered, the name does not exist */
	DNSQ_SERVFAIL,    /* answered, the server failed */
	DNSQ_TIMEOUT,     /* no acceptable answer before the deadline */
	DNSQ_ERROR,       /* another rcode (REFUSED, FORMERR...), or no server reachable */
};

/* ---- shared cache -------------------------------------------------------------- */

/* Thread-safe TTL cache of answers keyed by (lower-case name, type), shared by all
 * sets and threads.  Positive answers live for the smallest TTL of the records used,
 * capped at max_ttl_s; NXDOMAIN and NODATA for min(SOA TTL, SOA minimum) per
 * RFC 2308 section 5, capped at max_neg_ttl_s, and are not cached without an SOA.
 * SERVFAIL and timeouts are not cached.  When full, the least recently used entry
 * goes.  NULL on bad arguments (max_entries 0). */
typedef struct dnsq_cache dnsq_cache;
dnsq_cache *dnsq_cache_new(size_t max_entries, uint32_t max_ttl_s, uint32_t max_neg_ttl_s,
			   char *err, size_t errlen);
void dnsq_cache_free(dnsq_cache *cache);
/* Entries currently held (expired ones may still count until touched). */
size_t dnsq_cache_count(dnsq_cache *cache);

/* ---- context: servers + cache, immutable and shared ---------------------------- */

/* servers: NULL-terminated list of "192.0.2.1", "192.0.2.1:5353", "::1",
 * "[::1]:5353"; NULL or empty = the nameserver lines of /etc/resolv.conf (port 53),
 * or 127.0.0.1 if there are none.  cache may be NULL (no caching); it is not owned
 * and must outlive the context.  NULL on bad input with err naming the server. */
typedef struct dnsq_ctx dnsq_ctx;
dnsq_ctx *dnsq_ctx_new(dnsq_cache *cache, const char *const *servers, char *err,
		       size_t errlen);
void dnsq_ctx_free(dnsq_ctx *ctx);
size_t dnsq_ctx_server_count(const dnsq_ctx *ctx);

/* ---- per-message query set (one thread at a time) ------------------------------ */

/* deadline_ms is absolute, in util_mono_ms() time, so several phases of one message
 * share it.  Each query gets two UDP tries (the second to the next server, after half
 * the time left), and one TCP try on TC=1, all before the deadline. */
typedef struct dnsq_set dnsq_set;
typedef struct dnsq_query dnsq_query;

dnsq_set *dnsq_set_new(const dnsq_ctx *ctx, int64_t deadline_ms);
/* Closes every socket and frees every query handle of the set. */
void dnsq_set_free(dnsq_set *set);
int64_t dnsq_set_deadline(const dnsq_set *set);
/* Why the last dnsq_add / dnsq_resolve / dnsq_run failed. */
const char *dnsq_set_error(const dnsq_set *set);
/* UDP/TCP packets this set has sent (cache hits send none). */
unsigned dnsq_set_sent(const dnsq_set *set);

/* Queues a lookup; returns its handle, owned by the set.  Asking the same name and
 * type twice returns the same handle.  qname may end in a dot; case is ignored.
 * NULL on a bad name or a full set (see dnsq_set_error). */
dnsq_query *dnsq_add(dnsq_set *set, const char *qname, uint16_t qtype);
/* dnsq_add asking the servers of ctx instead of the set's (a DNSBL zone with its
 * own servers), under the set's deadline; ctx NULL = the set's.  ctx is not owned
 * and must outlive the set; its cache is used for this query (share the set's so
 * answers are cached once).  The same name and type through another ctx is
 * another query. */
dnsq_query *dnsq_add_via(dnsq_set *set, const dnsq_ctx *ctx, const char *qname, uint16_t qtype);
/* Sends every query not yet answered (cache hits answer at once) and waits until all
 * are answered or the deadline passes; those left get DNSQ_TIMEOUT.  Returns the
 * number of queries that got an answer (any rcode), or -1 on a local failure. */
int dnsq_run(dnsq_set *set);
/* dnsq_add + running just that query; for synchronous callers (the SPF adapter).
 * NULL only on a bad name or a full set. */
dnsq_query *dnsq_resolve(dnsq_set *set, const char *qname, uint16_t qtype);

/* DNSBL names (RFC 5782 2.1, 2.4, 2.3): "<reversed ip>.<zone>" and
 * "<domain>.<zone>".  Length written, or -1 if it does not fit / exceeds 253. */
int dnsq_dnsbl_ip_name(const struct cr_addr *ip, const char *zone, char *buf, size_t len);
int dnsq_dnsbl_domain_name(const char *domain, const char *zone, char *buf, size_t len);
/* Queue the A lookups for those names. */
dnsq_query *dnsq_add_dnsbl_ip(dnsq_set *set, const struct cr_addr *ip, const char *zone);
dnsq_query *dnsq_add_dnsbl_domain(dnsq_set *set, const char *domain, const char *zone);

/* ---- results ------------------------------------------------------------------- */

const char *dnsq_qname(const dnsq_query *q); /* lower case, no trailing dot */
uint16_t dnsq_qtype(const dnsq_query *q);
enum dnsq_status dnsq_status(const dnsq_query *q);
const char *dnsq_status_name(enum dnsq_status status); /* "NOERROR", "TIMEOUT"... */
int dnsq_rcode(const dnsq_query *q);   /* the reply's rcode, -1 if none */
int dnsq_from_cache(const dnsq_query *q);
/* Seconds the answer may be kept: smallest TTL of the records used (CNAMEs
 * included), or the negative TTL; remaining time for a cache hit; 0 if unknown. */
uint32_t dnsq_ttl(const dnsq_query *q);

/* Answer records of the query's type, following a CNAME chain in the answer section
 * from the query name (at most 8 links).  The i-th record's data: */
size_t dnsq_count(const dnsq_query *q);
/* A: host-order IPv4.  0, or -1 if i is out of range or not an A record. */
int dnsq_a(const dnsq_query *q, size_t i, uint32_t *out);
/* A or AAAA as a cr_addr.  0 or -1. */
int dnsq_addr(const dnsq_query *q, size_t i, struct cr_addr *out);
/* TXT (and SPF): its character-strings concatenated (RFC 7208 3.3), NUL-terminated.
 * Returns the length, or -1 if out of range or it does not fit in len. */
int dnsq_txt(const dnsq_query *q, size_t i, char *buf, size_t len);
/* MX exchange, NS, PTR or CNAME target as text without the trailing dot.
 * Returns the length or -1. */
int dnsq_name(const dnsq_query *q, size_t i, char *buf, size_t len);
/* MX preference, or -1. */
int dnsq_mx_pref(const dnsq_query *q, size_t i);

#endif
