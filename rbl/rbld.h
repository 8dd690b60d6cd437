/* rbld: internal interfaces of chanrac-rbld — zones and their answers (zone.c),
 * the data generations and their loader thread (data.c), the network loop
 * (net.c), and main.c which ties them together. */
#ifndef CHANRAC_RBLD_H
#define CHANRAC_RBLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "dataset.h"
#include "rblindex.h"
#include "rblpkt.h"

#define RBLD_ZONE_SOURCES_MAX 32
#define RBLD_ZONE_NS_MAX 8

/* Counters of one zone (or of everything, for the "*" line).  Written only by the
 * network thread, read by it for the status socket, so plain integers. */
struct rbld_counters {
	uint64_t queries;
	uint64_t listed;      /* answers naming at least one listing */
	uint64_t nxdomain;
	uint64_t nodata;
	uint64_t refused;
	uint64_t formerr;     /* FORMERR, NOTIMP, BADVERS answers */
	uint64_t ratelimited; /* dropped or slipped by the response-rate limit */
	uint64_t tcp;         /* queries over TCP */
	uint64_t truncated;   /* UDP answers sent with TC=1 */
};

/* One source of entries: a Redis list or a dataset file. */
struct rbld_source {
	int redis;                       /* 1: Redis list, 0: file */
	char list[LISTING_LIST_MAX + 1]; /* Redis list name */
	enum dataset_format fmt;         /* file format */
	char path[4096];
};

enum rbld_zone_type { RBLD_ZONE_ANY = 0, RBLD_ZONE_IP, RBLD_ZONE_DOMAIN };

struct rbld_zone {
	char name[RBLPKT_WIRE_NAME_MAX + 1]; /* lower case, no final dot */
	size_t name_len;
	enum rbld_zone_type type;
	size_t nsrc;
	uint32_t src[RBLD_ZONE_SOURCES_MAX]; /* indexes into the source table */
	uint32_t ttl, neg_ttl, refresh, retry, expire;
	uint8_t soa_names[2 * RBLPKT_WIRE_NAME_MAX]; /* MNAME + RNAME, wire form */
	size_t soa_names_len;
	size_t soa_len[2]; /* wire lengths of MNAME and RNAME in soa_names */
	int soa_pre[2];    /* their bytes before the zone name (then compressed), or -1 */
	uint8_t ns[RBLD_ZONE_NS_MAX][RBLPKT_WIRE_NAME_MAX];
	size_t ns_len[RBLD_ZONE_NS_MAX];
	size_t nns;
	struct rbld_counters stats;
};

/* One immutable generation of data: an index per source.  Readers take the
 * current pointer; the loader replaces it and frees the old one after the
 * readers have moved on (rbld_data_reader_*). */
struct rbld_data {
	uint64_t gen;
	uint32_t serial;  /* SOA serial: time of the last change */
	size_t nsrc;
	rblindex *ix[];   /* never NULL */
};

struct rbld {
	const cr_conf *conf;
	struct rbld_zone *zones;
	size_t nzones;
	struct rbld_source *src;
	size_t nsrc;
	int allow_src;    /* source index of the allow list, -1 if none */
	struct rbld_counters total;
	/* RCU-like handover between loader (writer) and network thread (reader). */
	_Atomic(struct rbld_data *) data;
	atomic_uint_fast64_t reader_gen; /* RBLD_READER_IDLE, _BUSY, or the gen in use */
	atomic_int stop;
	atomic_int hup;
	atomic_int redis_up;
	struct rbld_loader *loader;
	/* Copies of the counters (nzones zones, then the total) published by the
	 * network thread about once a second for the metrics thread. */
	pthread_mutex_t pub_lock;
	struct rbld_counters *pub;
};

#define RBLD_READER_IDLE UINT64_MAX
#define RBLD_READER_BUSY 0

/* zone.c */
/* Builds zones and sources from conf; -1 with err naming the zone and key. */
int rbld_zones_setup(struct rbld *r, char *err, size_t errlen);
void rbld_zones_free(struct rbld *r);
/* Answers one query packet into out (limit bytes: the UDP limit is applied
 * inside unless tcp).  Returns the answer length, or 0 to send nothing.
 * Counts into the zone's counters and r->total. */
size_t rbld_answer(struct rbld *r, const struct rbld_data *d, int64_t now,
		   const uint8_t *pkt, size_t len, uint8_t *out, size_t limit, int tcp);
/* Counts a query dropped or slipped by the rate limit. */
void rbld_note_ratelimited(struct rbld *r, const uint8_t *pkt, size_t len);
/* An empty TC=1 answer to pkt (rate-limit slip); 0 if pkt is not a query. */
size_t rbld_answer_truncated(const uint8_t *pkt, size_t len, uint8_t *out, size_t limit);
/* Writes the counters, one line per zone and a final "*" line. */
size_t rbld_stats_format(const struct rbld *r, char *buf, size_t len);

/* data.c */
/* Loads every file source and, if any zone serves Redis lists, tries Redis once
 * (or the snapshot directory).  Fails only if a file does not load. */
int rbld_data_init(struct rbld *r, char *err, size_t errlen);
/* Starts the loader thread: SIGHUP reloads, Redis following and retries. */
int rbld_loader_start(struct rbld *r, char *err, size_t errlen);
void rbld_loader_stop(struct rbld *r);
/* Reader side of the handover, used once per batch of queries. */
const struct rbld_data *rbld_data_enter(struct rbld *r);
void rbld_data_leave(struct rbld *r);

/* net.c */
typedef struct rbld_net rbld_net;
/* Checks [rbld] listen, status_socket, acl_allow and acl_deny without binding
 * anything (-t): -1 with err naming the key. */
int rbld_net_check(const cr_conf *c, char *err, size_t errlen);
/* Binds every listen address (UDP and TCP) and the status socket. */
rbld_net *rbld_net_open(struct rbld *r, char *err, size_t errlen);
/* Serves until r->stop. */
int rbld_net_run(rbld_net *n);
void rbld_net_close(rbld_net *n);
/* Frees n and closes its sockets in this process only (the parent after a
 * fork into the background): the status socket's file is left in place. */
void rbld_net_release(rbld_net *n);

#endif
