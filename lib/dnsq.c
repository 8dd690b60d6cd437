/* dnsq: concurrent DNS lookups for one message under one deadline, with a shared
 * TTL cache.  Packets are built and parsed by ldns; sockets, timing, reply checks
 * (source, ID, question: RFC 5452 section 9.1), TCP fallback and caching are ours. */
#include "dnsq.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "log.h"
#include "util.h"

/* RFC 1035 2.3.4: 253 characters of text. */
#define NAME_MAX_TEXT 253
/* DNS flag day 2020: an EDNS buffer that avoids IP fragmentation. */
#define EDNS_UDP_SIZE 1232
/* Two UDP tries per query (RFC 1035 4.2.1 leaves the policy to us). */
#define UDP_TRIES 2
/* Two UDP tries and one TCP try. */
#define MAX_TRIES 3
/* Longest CNAME chain followed inside one answer. */
#define CNAME_HOPS 8
/* Datagrams read from one socket per poll round, so a flood cannot starve others. */
#define READS_PER_ROUND 32
#define DNS_HEADER_LEN 12
#define RECV_BUF_LEN 65536

/* ---------------------------------------------------------------------------- */
/* cache */

struct cache_entry {
	struct cache_entry *hnext;              /* bucket chain */
	struct cache_entry *lru_prev, *lru_next; /* lru_prev is more recent */
	uint32_t hash;
	uint16_t qtype;
	int64_t expires_ms; /* util_mono_ms() time */
	uint8_t *wire;      /* the whole reply packet */
	size_t wirelen;
	char name[];        /* lower case, no trailing dot */
};

struct dnsq_cache {
	size_t max_entries;
	uint32_t max_ttl_s, max_neg_ttl_s;
	size_t nbuckets; /* power of two, fixed at creation */
	pthread_mutex_t lock; /* guards buckets, lru_head, lru_tail, count */
	struct cache_entry **buckets;
	struct cache_entry *lru_head, *lru_tail;
	size_t count;
};

static uint32_t cache_hash(const char *name, uint16_t qtype)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	h ^= qtype & 0xff;
	h *= 16777619u;
	h ^= qtype >> 8;
	h *= 16777619u;
	return h;
}

dnsq_cache *dnsq_cache_new(size_t max_entries, uint32_t max_ttl_s, uint32_t max_neg_ttl_s,
			   char *err, size_t errlen)
{
	dnsq_cache *c;
	size_t nb = 16;

	if (max_entries == 0 || max_entries > ((size_t)1 << 24)) {
		util_errf(err, errlen, "dns cache size %zu: must be 1..%zu", max_entries,
			  (size_t)1 << 24);
		return NULL;
	}
	while (nb < max_entries)
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		util_errf(err, errlen, "dns cache: out of memory");
		return NULL;
	}
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		util_errf(err, errlen, "dns cache: out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		util_errf(err, errlen, "dns cache: cannot create mutex");
		return NULL;
	}
	c->nbuckets = nb;
	c->max_entries = max_entries;
	c->max_ttl_s = max_ttl_s;
	c->max_neg_ttl_s = max_neg_ttl_s;
	return c;
}

void dnsq_cache_free(dnsq_cache *c)
{
	struct cache_entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->lru_head; e != NULL; e = next) {
		next = e->lru_next;
		free(e->wire);
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

size_t dnsq_cache_count(dnsq_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Caller holds c->lock. */
static void cache_lru_detach(dnsq_cache *c, struct cache_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
}

/* Removes e from its bucket and the LRU list.  Caller holds c->lock. */
static void cache_unlink(dnsq_cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	cache_lru_detach(c, e);
	c->count--;
}

/* Caller holds c->lock. */
static void cache_lru_front(dnsq_cache *c, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

/* Caller holds c->lock. */
static struct cache_entry *cache_find(dnsq_cache *c, const char *name, uint16_t qtype,
				      uint32_t h)
{
	struct cache_entry *e;

	for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->qtype == qtype && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* On a hit, a malloc'd copy of the reply (caller frees) and its expiry; 1 hit, 0 miss. */
static int cache_get(dnsq_cache *c, const char *name, uint16_t qtype, int64_t now,
		     uint8_t **wire, size_t *wirelen, int64_t *expires_ms)
{
	uint32_t h = cache_hash(name, qtype);
	struct cache_entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->lock);
	e = cache_find(c, name, qtype, h);
	if (e != NULL && e->expires_ms <= now) {
		cache_unlink(c, e);
		free(e->wire);
		free(e);
		e = NULL;
	}
	if (e != NULL) {
		*wire = malloc(e->wirelen);
		if (*wire != NULL) {
			memcpy(*wire, e->wire, e->wirelen);
			*wirelen = e->wirelen;
			*expires_ms = e->expires_ms;
			hit = 1;
			cache_lru_detach(c, e);
			cache_lru_front(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void cache_put(dnsq_cache *c, const char *name, uint16_t qtype, const uint8_t *wire,
		      size_t wirelen, uint32_t ttl_s, int negative, int64_t now)
{
	uint32_t cap = negative ? c->max_neg_ttl_s : c->max_ttl_s;
	uint32_t h = cache_hash(name, qtype);
	size_t nlen = strlen(name);
	struct cache_entry *e, *old;

	if (ttl_s > cap)
		ttl_s = cap;
	if (ttl_s == 0)
		return;
	e = malloc(sizeof(*e) + nlen + 1);
	if (e == NULL)
		return;
	e->wire = malloc(wirelen);
	if (e->wire == NULL) {
		free(e);
		return;
	}
	memcpy(e->wire, wire, wirelen);
	e->wirelen = wirelen;
	memcpy(e->name, name, nlen + 1);
	e->qtype = qtype;
	e->hash = h;
	e->expires_ms = now + (int64_t)ttl_s * 1000;

	pthread_mutex_lock(&c->lock);
	old = cache_find(c, name, qtype, h);
	if (old != NULL) {
		cache_unlink(c, old);
		free(old->wire);
		free(old);
	}
	while (c->count >= c->max_entries && c->lru_tail != NULL) {
		old = c->lru_tail;
		cache_unlink(c, old);
		free(old->wire);
		free(old);
	}
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	cache_lru_front(c, e);
	c->count++;
	pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------------------- */
/* context */

struct dnsq_server {
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[ADDR_TEXT_MAX + 8];
};

struct dnsq_ctx {
	dnsq_cache *cache; /* not owned; may be NULL */
	struct dnsq_server servers[DNSQ_MAX_SERVERS];
	size_t nservers;
};

static int server_parse(const char *s, struct dnsq_server *out, char *err, size_t errlen)
{
	char host[ADDR_TEXT_MAX + 2];
	const char *port_text = NULL;
	const char *colon;
	int64_t port = 53;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			util_errf(err, errlen, "dns server \"%s\": want [IPv6]:port", s);
			return -1;
		}
		hl = (size_t)(close - s - 1);
		if (close[1] == ':')
			port_text = close + 2;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - s); /* IPv4:port */
		port_text = colon + 1;
	} else {
		hl = strlen(s); /* bare IPv4 or IPv6 */
	}
	if (hl == 0 || hl >= sizeof(host)) {
		util_errf(err, errlen, "dns server \"%s\": bad address", s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (port_text != NULL && util_parse_i64(port_text, 1, 65535, &port) != 0) {
		util_errf(err, errlen, "dns server \"%s\": port must be 1..65535", s);
		return -1;
	}
	if (strchr(host, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			util_errf(err, errlen, "dns server \"%s\": bad IPv4 address", s);
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->salen = sizeof(*sin);
		snprintf(out->text, sizeof(out->text), "%s:%d", host, (int)port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			util_errf(err, errlen, "dns server \"%s\": bad IPv6 address", s);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->salen = sizeof(*sin6);
		snprintf(out->text, sizeof(out->text), "[%s]:%d", host, (int)port);
	}
	return 0;
}

/* The nameserver lines of /etc/resolv.conf; link-local ones with a zone are skipped. */
static void ctx_from_resolv_conf(dnsq_ctx *ctx)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[256], addr[ADDR_TEXT_MAX + 2];

	if (f != NULL) {
		while (ctx->nservers < DNSQ_MAX_SERVERS && fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " nameserver %47s", addr) != 1 || strchr(addr, '%'))
				continue;
			if (server_parse(addr, &ctx->servers[ctx->nservers], NULL, 0) == 0)
				ctx->nservers++;
		}
		fclose(f);
	}
	if (ctx->nservers == 0 && server_parse("127.0.0.1", &ctx->servers[0], NULL, 0) == 0)
		ctx->nservers = 1;
}

dnsq_ctx *dnsq_ctx_new(dnsq_cache *cache, const char *const *servers, char *err,
		       size_t errlen)
{
	dnsq_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t i;

	if (ctx == NULL) {
		util_errf(err, errlen, "dns: out of memory");
		return NULL;
	}
	ctx->cache = cache;
	for (i = 0; servers != NULL && servers[i] != NULL; i++) {
		if (i >= DNSQ_MAX_SERVERS) {
			util_errf(err, errlen, "dns servers: at most %d", DNSQ_MAX_SERVERS);
			free(ctx);
			return NULL;
		}
		if (server_parse(servers[i], &ctx->servers[i], err, errlen) != 0) {
			free(ctx);
			return NULL;
		}
		ctx->nservers++;
	}
	if (ctx->nservers == 0)
		ctx_from_resolv_conf(ctx);
	return ctx;
}

void dnsq_ctx_free(dnsq_ctx *ctx)
{
	free(ctx);
}

size_t dnsq_ctx_server_count(const dnsq_ctx *ctx)
{
	return ctx->nservers;
}

/* ---------------------------------------------------------------------------- */
/* queries and sets */

enum try_state {
	TRY_CLOSED = 0,
	TRY_UDP,
	TRY_TCP_CONNECT,
	TRY_TCP_WRITE,
	TRY_TCP_READ_LEN,
	TRY_TCP_READ_BODY,
};

struct dnsq_try {
	int fd;
	enum try_state state;
	uint16_t id;
	size_t server;
	size_t off;        /* TCP: bytes written, or read into lenbuf / in */
	uint8_t lenbuf[2];
	uint8_t *out;      /* TCP: length-framed query */
	size_t outlen;
	uint8_t *in;       /* TCP: reply being read */
	size_t inlen;
};

enum query_state { Q_NEW = 0, Q_RUNNING, Q_DONE };

struct dnsq_query {
	const dnsq_ctx *ctx;           /* servers and cache asked: the set's, or dnsq_add_via's */
	char qname[NAME_MAX_TEXT + 1]; /* lower case, no trailing dot */
	uint16_t qtype;
	ldns_rdf *qrdf;                /* qname as an ldns dname, for reply checks */
	enum query_state state;
	enum dnsq_status status;
	int rcode;
	int from_cache;
	uint32_t ttl;
	uint8_t *wire;                 /* the query, ID patched in per try */
	size_t wirelen;
	struct dnsq_try tries[MAX_TRIES];
	unsigned ntries;               /* tries used so far */
	unsigned udp_tries;
	int tcp_started;
	int64_t retry_at_ms;           /* start the next UDP try then; INT64_MAX = never */
	ldns_pkt *fallback;            /* SERVFAIL/REFUSED kept while another server is asked */
	ldns_pkt *reply;
	ldns_rr **rrs;                 /* answer records of qtype, pointers into reply */
	size_t nrr;
	int selected;                  /* part of the current run */
};

struct dnsq_set {
	const dnsq_ctx *ctx;
	int64_t deadline_ms;
	struct dnsq_query **q;
	size_t nq, capq;
	struct pollfd *pfd;            /* poll array and the try each entry belongs to */
	struct dnsq_try **pfd_try;
	struct dnsq_query **pfd_query;
	size_t cappfd;
	uint8_t rnd[64];               /* getrandom() pool for query IDs */
	size_t rnd_left;
	uint8_t *buf;                  /* RECV_BUF_LEN bytes for UDP replies */
	unsigned sent;
	char error[160];
};

dnsq_set *dnsq_set_new(const dnsq_ctx *ctx, int64_t deadline_ms)
{
	dnsq_set *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->buf = malloc(RECV_BUF_LEN);
	if (set->buf == NULL) {
		free(set);
		return NULL;
	}
	set->ctx = ctx;
	set->deadline_ms = deadline_ms;
	return set;
}

static void try_close(struct dnsq_try *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->state = TRY_CLOSED;
	free(t->out);
	free(t->in);
	t->out = t->in = NULL;
}

static void query_free(struct dnsq_query *q)
{
	unsigned i;

	for (i = 0; i < q->ntries; i++)
		try_close(&q->tries[i]);
	if (q->qrdf)
		ldns_rdf_deep_free(q->qrdf);
	if (q->reply)
		ldns_pkt_free(q->reply);
	if (q->fallback)
		ldns_pkt_free(q->fallback);
	free(q->rrs);
	free(q->wire);
	free(q);
}

void dnsq_set_free(dnsq_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nq; i++)
		query_free(set->q[i]);
	free(set->q);
	free(set->pfd);
	free(set->pfd_try);
	free(set->pfd_query);
	free(set->buf);
	free(set);
}

int64_t dnsq_set_deadline(const dnsq_set *set)
{
	return set->deadline_ms;
}

const char *dnsq_set_error(const dnsq_set *set)
{
	return set->error;
}

unsigned dnsq_set_sent(const dnsq_set *set)
{
	return set->sent;
}

/* Lower-cases and checks a query name: printable, labels of 1..63, at most 253. */
static int name_normalise(const char *in, char *out)
{
	size_t n = strlen(in), i, label = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_TEXT)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch <= ' ' || ch >= 0x7f || ch == '\\')
			return -1;
		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
		out[i] = (char)tolower(ch);
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* The query's name as an ldns dname (for reply checks), at dnsq_add. */
static int query_name(struct dnsq_query *q)
{
	char abs[NAME_MAX_TEXT + 2];

	snprintf(abs, sizeof(abs), "%s.", q->qname);
	return ldns_str2rdf_dname(&q->qrdf, abs) == LDNS_STATUS_OK ? 0 : -1;
}

/* The query packet, built when it is first sent: most lookups of a busy milter
 * are answered from the cache and never need one. */
static int query_wire(struct dnsq_query *q)
{
	ldns_rdf *dn;
	ldns_pkt *p;
	ldns_status st;

	if (q->wire != NULL)
		return 0;
	dn = ldns_rdf_clone(q->qrdf);
	if (dn == NULL)
		return -1;
	p = ldns_pkt_query_new(dn, (ldns_rr_type)q->qtype, LDNS_RR_CLASS_IN, LDNS_RD);
	if (p == NULL) {
		ldns_rdf_deep_free(dn);
		return -1;
	}
	ldns_pkt_set_edns_udp_size(p, EDNS_UDP_SIZE);
	st = ldns_pkt2wire(&q->wire, p, &q->wirelen);
	ldns_pkt_free(p);
	if (st != LDNS_STATUS_OK || q->wirelen < DNS_HEADER_LEN) {
		free(q->wire);
		q->wire = NULL;
		return -1;
	}
	return 0;
}

dnsq_query *dnsq_add(dnsq_set *set, const char *qname, uint16_t qtype)
{
	return dnsq_add_via(set, set->ctx, qname, qtype);
}

dnsq_query *dnsq_add_via(dnsq_set *set, const dnsq_ctx *ctx, const char *qname, uint16_t qtype)
{
	char name[NAME_MAX_TEXT + 2];
	struct dnsq_query *q;
	size_t i;

	if (ctx == NULL)
		ctx = set->ctx;
	if (qname == NULL || name_normalise(qname, name) != 0) {
		util_errf(set->error, sizeof(set->error), "bad query name \"%.80s\"",
			  qname ? qname : "(null)");
		return NULL;
	}
	for (i = 0; i < set->nq; i++)
		if (set->q[i]->qtype == qtype && set->q[i]->ctx == ctx &&
		    strcmp(set->q[i]->qname, name) == 0)
			return set->q[i];
	if (set->nq >= DNSQ_SET_MAX_QUERIES) {
		util_errf(set->error, sizeof(set->error), "%s: more than %d queries for one message",
			  name, DNSQ_SET_MAX_QUERIES);
		return NULL;
	}
	if (set->nq == set->capq) {
		size_t cap = set->capq ? set->capq * 2 : 16;
		struct dnsq_query **nqs = realloc(set->q, cap * sizeof(*nqs));
		if (nqs == NULL)
			goto oom;
		set->q = nqs;
		set->capq = cap;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		goto oom;
	q->ctx = ctx;
	memcpy(q->qname, name, strlen(name) + 1);
	q->qtype = qtype;
	q->rcode = -1;
	for (i = 0; i < MAX_TRIES; i++)
		q->tries[i].fd = -1;
	if (query_name(q) != 0) {
		query_free(q);
		util_errf(set->error, sizeof(set->error), "%s: cannot build query", name);
		return NULL;
	}
	set->q[set->nq++] = q;
	return q;
oom:
	util_errf(set->error, sizeof(set->error), "%s: out of memory", name);
	return NULL;
}

static int random_id(dnsq_set *set, uint16_t *id)
{
	if (set->rnd_left < 2) {
		ssize_t n = getrandom(set->rnd, sizeof(set->rnd), 0);
		if (n != (ssize_t)sizeof(set->rnd))
			return -1;
		set->rnd_left = sizeof(set->rnd);
	}
	*id = (uint16_t)(set->rnd[set->rnd_left - 1] | set->rnd[set->rnd_left - 2] << 8);
	set->rnd_left -= 2;
	return 0;
}

/* ---- answers ---------------------------------------------------------------- */

/* Negative TTL, RFC 2308 section 5: min(SOA TTL, SOA MINIMUM); 0 without an SOA. */
static uint32_t negative_ttl(const ldns_pkt *p)
{
	ldns_rr_list *auth = ldns_pkt_authority(p);
	size_t i;

	for (i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7) {
			uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
			uint32_t ttl = ldns_rr_ttl(rr);
			return ttl < min ? ttl : min;
		}
	}
	return 0;
}

/* Picks the answer records of the query type along the CNAME chain; sets q->ttl. */
static int query_collect(struct dnsq_query *q)
{
	ldns_rr_list *an = ldns_pkt_answer(q->reply);
	size_t n = an ? ldns_rr_list_rr_count(an) : 0, i;
	const ldns_rdf *cur = q->qrdf;
	uint32_t ttl = UINT32_MAX;
	int hop;

	q->nrr = 0;
	if (n > 0) {
		q->rrs = calloc(n, sizeof(*q->rrs));
		if (q->rrs == NULL)
			return -1;
	}
	for (hop = 0; hop <= CNAME_HOPS; hop++) {
		const ldns_rdf *next = NULL;
		uint32_t cname_ttl = 0;
		for (i = 0; i < n; i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			if (ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype) {
				q->rrs[q->nrr++] = rr;
				if (ldns_rr_ttl(rr) < ttl)
					ttl = ldns_rr_ttl(rr);
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
				   ldns_rr_rd_count(rr) == 1 && next == NULL) {
				next = ldns_rr_rdf(rr, 0);
				cname_ttl = ldns_rr_ttl(rr);
			}
		}
		if (q->nrr > 0 || next == NULL)
			break;
		if (cname_ttl < ttl)
			ttl = cname_ttl;
		cur = next;
	}
	if (q->nrr == 0)
		ttl = negative_ttl(q->reply);
	q->ttl = ttl == UINT32_MAX ? 0 : ttl;
	return 0;
}

static void query_close_tries(struct dnsq_query *q)
{
	unsigned i;

	for (i = 0; i < q->ntries; i++)
		try_close(&q->tries[i]);
}

static enum dnsq_status rcode_status(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NOERROR:
		return DNSQ_NOERROR;
	case LDNS_RCODE_NXDOMAIN:
		return DNSQ_NXDOMAIN;
	case LDNS_RCODE_SERVFAIL:
		return DNSQ_SERVFAIL;
	default:
		return DNSQ_ERROR;
	}
}

/* Takes ownership of p.  wire is the packet p came from (for the cache), or NULL. */
static void query_complete(struct dnsq_query *q, ldns_pkt *p,
			   const uint8_t *wire, size_t wirelen, int64_t now)
{
	query_close_tries(q);
	q->state = Q_DONE;
	q->reply = p;
	q->rcode = ldns_pkt_get_rcode(p);
	q->status = rcode_status(q->rcode);
	if (query_collect(q) != 0) {
		q->status = DNSQ_ERROR;
		return;
	}
	if (wire != NULL && q->ctx->cache != NULL &&
	    (q->status == DNSQ_NOERROR || q->status == DNSQ_NXDOMAIN))
		cache_put(q->ctx->cache, q->qname, q->qtype, wire, wirelen, q->ttl,
			  q->nrr == 0, now);
}

static void query_fail(struct dnsq_query *q, enum dnsq_status status)
{
	query_close_tries(q);
	q->state = Q_DONE;
	q->status = status;
}

/* At the deadline or when no try is left: a kept SERVFAIL beats TIMEOUT/ERROR. */
static void query_give_up(struct dnsq_query *q, enum dnsq_status status,
			  int64_t now)
{
	if (q->fallback != NULL) {
		ldns_pkt *p = q->fallback;
		q->fallback = NULL;
		query_complete(q, p, NULL, 0, now);
		return;
	}
	log_debug("dns %s/%u: %s", q->qname, q->qtype, dnsq_status_name(status));
	query_fail(q, status);
}

static int query_from_cache(struct dnsq_query *q, int64_t now)
{
	uint8_t *wire;
	size_t len;
	int64_t expires;
	ldns_pkt *p = NULL;

	if (q->ctx->cache == NULL ||
	    !cache_get(q->ctx->cache, q->qname, q->qtype, now, &wire, &len, &expires))
		return 0;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
		free(wire);
		return 0;
	}
	free(wire);
	query_complete(q, p, NULL, 0, now);
	q->from_cache = 1;
	q->ttl = (uint32_t)((expires - now + 999) / 1000);
	return 1;
}

/* ---- sending ---------------------------------------------------------------- */

static struct dnsq_try *try_new(dnsq_set *set, struct dnsq_query *q, size_t server)
{
	struct dnsq_try *t;

	if (q->ntries >= MAX_TRIES || query_wire(q) != 0)
		return NULL;
	t = &q->tries[q->ntries++];
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->server = server;
	if (random_id(set, &t->id) != 0)
		return NULL;
	q->wire[0] = (uint8_t)(t->id >> 8);
	q->wire[1] = (uint8_t)(t->id & 0xff);
	return t;
}

/* A fresh connected UDP socket per try: the kernel picks a random source port and
 * drops datagrams from any other peer; we still check the source ourselves. */
static int try_start_udp(dnsq_set *set, struct dnsq_query *q, int64_t now)
{
	const dnsq_ctx *ctx = q->ctx;
	size_t server = (size_t)q->udp_tries % ctx->nservers;
	const struct dnsq_server *sv = &ctx->servers[server];
	struct dnsq_try *t;

	q->udp_tries++;
	/* the first try gets half the time left, the second the rest */
	q->retry_at_ms = q->udp_tries < UDP_TRIES ? now + (set->deadline_ms - now) / 2 : INT64_MAX;
	t = try_new(set, q, server);
	if (t == NULL)
		return -1;
	t->fd = socket(sv->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || connect(t->fd, (const struct sockaddr *)&sv->sa, sv->salen) != 0 ||
	    send(t->fd, q->wire, q->wirelen, 0) != (ssize_t)q->wirelen) {
		log_debug("dns %s/%u: udp to %s: %s", q->qname, q->qtype, sv->text, strerror(errno));
		try_close(t);
		if (q->udp_tries < UDP_TRIES)
			q->retry_at_ms = now; /* next server at once */
		return -1;
	}
	t->state = TRY_UDP;
	set->sent++;
	return 0;
}

static int try_start_tcp(dnsq_set *set, struct dnsq_query *q, size_t server)
{
	const struct dnsq_server *sv = &q->ctx->servers[server];
	struct dnsq_try *t = try_new(set, q, server);

	q->tcp_started = 1;
	q->retry_at_ms = INT64_MAX;
	if (t == NULL)
		return -1;
	t->outlen = q->wirelen + 2; /* RFC 1035 4.2.2 length prefix */
	t->out = malloc(t->outlen);
	if (t->out == NULL)
		return -1;
	t->out[0] = (uint8_t)(q->wirelen >> 8);
	t->out[1] = (uint8_t)(q->wirelen & 0xff);
	memcpy(t->out + 2, q->wire, q->wirelen);
	t->fd = socket(sv->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 ||
	    (connect(t->fd, (const struct sockaddr *)&sv->sa, sv->salen) != 0 &&
	     errno != EINPROGRESS)) {
		log_debug("dns %s/%u: tcp to %s: %s", q->qname, q->qtype, sv->text, strerror(errno));
		try_close(t);
		return -1;
	}
	t->state = TRY_TCP_CONNECT;
	set->sent++;
	return 0;
}

/* ---- receiving -------------------------------------------------------------- */

static int same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

/* Parses a reply and checks it answers our question with our ID; NULL otherwise. */
static ldns_pkt *reply_parse(const struct dnsq_query *q, const struct dnsq_try *t,
			     const uint8_t *wire, size_t len)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *qd;
	ldns_rr *qr;

	if (len < DNS_HEADER_LEN || ((uint16_t)(wire[0] << 8 | wire[1])) != t->id)
		return NULL;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return NULL;
	qd = ldns_pkt_question(p);
	if (!ldns_pkt_qr(p) || ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY || qd == NULL ||
	    ldns_rr_list_rr_count(qd) != 1)
		goto bad;
	qr = ldns_rr_list_rr(qd, 0);
	if (ldns_rr_get_type(qr) != (ldns_rr_type)q->qtype ||
	    ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN ||
	    ldns_dname_compare(ldns_rr_owner(qr), q->qrdf) != 0)
		goto bad;
	return p;
bad:
	ldns_pkt_free(p);
	return NULL;
}

/* An acceptable reply arrived on try t (wire/len); decides what it means. */
static void query_on_reply(dnsq_set *set, struct dnsq_query *q, struct dnsq_try *t,
			   ldns_pkt *p, const uint8_t *wire, size_t len, int64_t now)
{
	int rcode = ldns_pkt_get_rcode(p);

	if (t->state == TRY_UDP && ldns_pkt_tc(p)) {
		size_t server = t->server;
		/* RFC 7766 section 5: a truncated answer is re-asked over TCP */
		ldns_pkt_free(p);
		query_close_tries(q);
		if (try_start_tcp(set, q, server) != 0)
			query_give_up(q, DNSQ_ERROR, now);
		return;
	}
	if ((rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED) &&
	    q->ctx->nservers > 1 && q->udp_tries < UDP_TRIES && !q->tcp_started) {
		/* another server may do better; keep this answer in case it does not */
		if (q->fallback)
			ldns_pkt_free(q->fallback);
		q->fallback = p;
		try_close(t);
		q->retry_at_ms = now;
		return;
	}
	query_complete(q, p, wire, len, now);
}

static void udp_readable(dnsq_set *set, struct dnsq_query *q, struct dnsq_try *t, int64_t now)
{
	const struct dnsq_server *sv = &q->ctx->servers[t->server];
	int i;

	for (i = 0; i < READS_PER_ROUND && q->state == Q_RUNNING && t->state == TRY_UDP; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(t->fd, set->buf, RECV_BUF_LEN, 0, (struct sockaddr *)&from,
				     &fromlen);
		ldns_pkt *p;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ECONNREFUSED from an ICMP port unreachable: this server is out */
			log_debug("dns %s/%u: udp from %s: %s", q->qname, q->qtype, sv->text,
				  strerror(errno));
			try_close(t);
			if (q->udp_tries < UDP_TRIES)
				q->retry_at_ms = now;
			return;
		}
		if (!same_peer(&from, &sv->sa)) {
			log_debug("dns %s/%u: ignored a reply from another address", q->qname, q->qtype);
			continue;
		}
		p = reply_parse(q, t, set->buf, (size_t)n);
		if (p == NULL) {
			log_debug("dns %s/%u: ignored a reply from %s with the wrong ID or question",
				  q->qname, q->qtype, sv->text);
			continue;
		}
		query_on_reply(set, q, t, p, set->buf, (size_t)n, now);
	}
}

static void tcp_fail(struct dnsq_query *q, struct dnsq_try *t, const char *why,
		     int64_t now)
{
	log_debug("dns %s/%u: tcp to %s: %s", q->qname, q->qtype,
		  q->ctx->servers[t->server].text, why);
	try_close(t);
	query_give_up(q, DNSQ_ERROR, now);
}

/* Advances a TCP try as far as the socket allows: connect, write, read length, read. */
static void tcp_progress(dnsq_set *set, struct dnsq_query *q, struct dnsq_try *t, int64_t now)
{
	ssize_t n;

	if (t->state == TRY_TCP_CONNECT) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			tcp_fail(q, t, strerror(soerr ? soerr : errno), now);
			return;
		}
		t->state = TRY_TCP_WRITE;
		t->off = 0;
	}
	if (t->state == TRY_TCP_WRITE) {
		n = send(t->fd, t->out + t->off, t->outlen - t->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				tcp_fail(q, t, strerror(errno), now);
			return;
		}
		t->off += (size_t)n;
		if (t->off < t->outlen)
			return;
		t->state = TRY_TCP_READ_LEN;
		t->off = 0;
		return; /* wait for POLLIN */
	}
	if (t->state == TRY_TCP_READ_LEN) {
		n = recv(t->fd, t->lenbuf + t->off, 2 - t->off, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return;
			tcp_fail(q, t, n == 0 ? "closed before the reply" : strerror(errno), now);
			return;
		}
		t->off += (size_t)n;
		if (t->off < 2)
			return;
		t->inlen = (size_t)(t->lenbuf[0] << 8 | t->lenbuf[1]);
		if (t->inlen < DNS_HEADER_LEN) {
			tcp_fail(q, t, "reply shorter than a DNS header", now);
			return;
		}
		t->in = malloc(t->inlen); /* at most 65535 by the 2-byte framing */
		if (t->in == NULL) {
			tcp_fail(q, t, "out of memory", now);
			return;
		}
		t->state = TRY_TCP_READ_BODY;
		t->off = 0;
	}
	if (t->state == TRY_TCP_READ_BODY) {
		ldns_pkt *p;
		n = recv(t->fd, t->in + t->off, t->inlen - t->off, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return;
			tcp_fail(q, t, n == 0 ? "closed in the middle of the reply" :
				 strerror(errno), now);
			return;
		}
		t->off += (size_t)n;
		if (t->off < t->inlen)
			return;
		p = reply_parse(q, t, t->in, t->inlen);
		if (p == NULL) {
			tcp_fail(q, t, "reply with the wrong ID or question", now);
			return;
		}
		/* query_on_reply closes t (and t->in) only through query_complete */
		{
			uint8_t *in = t->in;
			size_t inlen = t->inlen;
			t->in = NULL;
			query_on_reply(set, q, t, p, in, inlen, now);
			free(in);
		}
	}
}

/* ---- the loop --------------------------------------------------------------- */

static int pfd_reserve(dnsq_set *set, size_t n)
{
	size_t cap;

	if (n <= set->cappfd)
		return 0;
	cap = set->cappfd ? set->cappfd : 32;
	while (cap < n)
		cap *= 2;
	{
		struct pollfd *pfd = realloc(set->pfd, cap * sizeof(*pfd));
		struct dnsq_try **pt;
		struct dnsq_query **pq;
		if (pfd == NULL)
			return -1;
		set->pfd = pfd;
		pt = realloc(set->pfd_try, cap * sizeof(*pt));
		if (pt == NULL)
			return -1;
		set->pfd_try = pt;
		pq = realloc(set->pfd_query, cap * sizeof(*pq));
		if (pq == NULL)
			return -1;
		set->pfd_query = pq;
	}
	set->cappfd = cap;
	return 0;
}

static int try_open(const struct dnsq_query *q)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < q->ntries; i++)
		if (q->tries[i].state != TRY_CLOSED)
			n++;
	return n;
}

/* Runs the selected queries to completion or the deadline. */
static int run_selected(dnsq_set *set)
{
	int64_t now = util_mono_ms();
	size_t i, npfd;
	unsigned k;
	int answered = 0, active;

	if (set->ctx->nservers == 0) {
		util_errf(set->error, sizeof(set->error), "no DNS server configured");
		return -1;
	}
	for (i = 0; i < set->nq; i++) {
		struct dnsq_query *q = set->q[i];
		if (!q->selected || q->state != Q_NEW)
			continue;
		if (query_from_cache(q, now))
			continue;
		if (now >= set->deadline_ms) {
			query_fail(q, DNSQ_TIMEOUT);
			continue;
		}
		q->state = Q_RUNNING;
		try_start_udp(set, q, now);
	}
	for (;;) {
		int64_t wake = set->deadline_ms;
		int rc, timeout;

		now = util_mono_ms();
		active = 0;
		npfd = 0;
		for (i = 0; i < set->nq; i++) {
			struct dnsq_query *q = set->q[i];
			if (!q->selected || q->state != Q_RUNNING)
				continue;
			if (now >= set->deadline_ms) {
				query_give_up(q, DNSQ_TIMEOUT, now);
				continue;
			}
			while (!q->tcp_started && q->udp_tries < UDP_TRIES && now >= q->retry_at_ms)
				try_start_udp(set, q, now);
			if (try_open(q) == 0) {
				query_give_up(q, DNSQ_ERROR, now);
				continue;
			}
			if (!q->tcp_started && q->udp_tries < UDP_TRIES && q->retry_at_ms < wake)
				wake = q->retry_at_ms;
			if (pfd_reserve(set, npfd + MAX_TRIES) != 0) {
				util_errf(set->error, sizeof(set->error), "out of memory");
				return -1;
			}
			for (k = 0; k < q->ntries; k++) {
				struct dnsq_try *t = &q->tries[k];
				if (t->state == TRY_CLOSED)
					continue;
				set->pfd[npfd].fd = t->fd;
				set->pfd[npfd].events =
					(t->state == TRY_TCP_CONNECT || t->state == TRY_TCP_WRITE) ?
					POLLOUT : POLLIN;
				set->pfd[npfd].revents = 0;
				set->pfd_try[npfd] = t;
				set->pfd_query[npfd] = q;
				npfd++;
			}
			active++;
		}
		if (active == 0)
			break;
		timeout = wake - now > INT_MAX ? INT_MAX : (int)(wake > now ? wake - now : 0);
		rc = poll(set->pfd, npfd, timeout);
		if (rc < 0 && errno != EINTR) {
			util_errf(set->error, sizeof(set->error), "poll: %s", strerror(errno));
			return -1;
		}
		now = util_mono_ms();
		for (i = 0; rc > 0 && i < npfd; i++) {
			struct dnsq_query *q = set->pfd_query[i];
			struct dnsq_try *t = set->pfd_try[i];
			if (set->pfd[i].revents == 0 || q->state != Q_RUNNING || t->fd != set->pfd[i].fd)
				continue;
			if (t->state == TRY_UDP)
				udp_readable(set, q, t, now);
			else if (t->state != TRY_CLOSED)
				tcp_progress(set, q, t, now);
		}
	}
	for (i = 0; i < set->nq; i++) {
		struct dnsq_query *q = set->q[i];
		if (q->selected && q->reply != NULL)
			answered++;
		q->selected = 0;
	}
	return answered;
}

int dnsq_run(dnsq_set *set)
{
	size_t i;

	for (i = 0; i < set->nq; i++)
		set->q[i]->selected = set->q[i]->state != Q_DONE;
	return run_selected(set);
}

dnsq_query *dnsq_resolve(dnsq_set *set, const char *qname, uint16_t qtype)
{
	dnsq_query *q = dnsq_add(set, qname, qtype);

	if (q == NULL || q->state == Q_DONE)
		return q;
	q->selected = 1;
	if (run_selected(set) < 0)
		query_fail(q, DNSQ_ERROR);
	return q;
}

/* ---- DNSBL names ------------------------------------------------------------ */

static int join_zone(const char *left, size_t llen, const char *zone, char *buf, size_t len)
{
	size_t zl = strlen(zone);
	size_t total;

	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	if (llen > 0 && left[llen - 1] == '.')
		llen--;
	if (llen == 0 || zl == 0)
		return -1;
	total = llen + 1 + zl;
	if (total > NAME_MAX_TEXT || total + 1 > len)
		return -1;
	memcpy(buf, left, llen);
	buf[llen] = '.';
	memcpy(buf + llen + 1, zone, zl);
	buf[total] = '\0';
	return (int)total;
}

int dnsq_dnsbl_ip_name(const struct cr_addr *ip, const char *zone, char *buf, size_t len)
{
	char rev[ADDR_REVERSE_MAX];
	int n = addr_reverse_name(ip, rev, sizeof(rev));

	if (n < 0)
		return -1;
	return join_zone(rev, (size_t)n, zone, buf, len);
}

int dnsq_dnsbl_domain_name(const char *domain, const char *zone, char *buf, size_t len)
{
	return join_zone(domain, strlen(domain), zone, buf, len);
}

dnsq_query *dnsq_add_dnsbl_ip(dnsq_set *set, const struct cr_addr *ip, const char *zone)
{
	char name[NAME_MAX_TEXT + 1];

	if (dnsq_dnsbl_ip_name(ip, zone, name, sizeof(name)) < 0) {
		util_errf(set->error, sizeof(set->error), "DNSBL name for zone %.80s too long", zone);
		return NULL;
	}
	return dnsq_add(set, name, DNSQ_TYPE_A);
}

dnsq_query *dnsq_add_dnsbl_domain(dnsq_set *set, const char *domain, const char *zone)
{
	char name[NAME_MAX_TEXT + 1];

	if (dnsq_dnsbl_domain_name(domain, zone, name, sizeof(name)) < 0) {
		util_errf(set->error, sizeof(set->error), "DNSBL name %.80s.%.80s too long", domain,
			  zone);
		return NULL;
	}
	return dnsq_add(set, name, DNSQ_TYPE_A);
}

/* ---- results ---------------------------------------------------------------- */

const char *dnsq_qname(const dnsq_query *q)
{
	return q->qname;
}

uint16_t dnsq_qtype(const dnsq_query *q)
{
	return q->qtype;
}

enum dnsq_status dnsq_status(const dnsq_query *q)
{
	return q->status;
}

const char *dnsq_status_name(enum dnsq_status status)
{
	switch (status) {
	case DNSQ_PENDING:
		return "PENDING";
	case DNSQ_NOERROR:
		return "NOERROR";
	case DNSQ_NXDOMAIN:
		return "NXDOMAIN";
	case DNSQ_SERVFAIL:
		return "SERVFAIL";
	case DNSQ_TIMEOUT:
		return "TIMEOUT";
	case DNSQ_ERROR:
		return "ERROR";
	}
	return "?";
}

int dnsq_rcode(const dnsq_query *q)
{
	return q->rcode;
}

int dnsq_from_cache(const dnsq_query *q)
{
	return q->from_cache;
}

uint32_t dnsq_ttl(const dnsq_query *q)
{
	return q->ttl;
}

size_t dnsq_count(const dnsq_query *q)
{
	return q->nrr;
}

static const ldns_rdf *rr_field(const dnsq_query *q, size_t i, ldns_rr_type type, size_t field,
				ldns_rdf_type rtype)
{
	const ldns_rdf *rdf;

	if (i >= q->nrr || ldns_rr_get_type(q->rrs[i]) != type ||
	    ldns_rr_rd_count(q->rrs[i]) <= field)
		return NULL;
	rdf = ldns_rr_rdf(q->rrs[i], field);
	return rdf != NULL && ldns_rdf_get_type(rdf) == rtype ? rdf : NULL;
}

int dnsq_a(const dnsq_query *q, size_t i, uint32_t *out)
{
	const ldns_rdf *rdf = rr_field(q, i, LDNS_RR_TYPE_A, 0, LDNS_RDF_TYPE_A);
	const uint8_t *d;

	if (rdf == NULL || ldns_rdf_size(rdf) != 4)
		return -1;
	d = ldns_rdf_data(rdf);
	*out = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	return 0;
}

int dnsq_addr(const dnsq_query *q, size_t i, struct cr_addr *out)
{
	const ldns_rdf *rdf;
	uint32_t v4;

	if (dnsq_a(q, i, &v4) == 0) {
		addr_from_v4(out, v4);
		return 0;
	}
	rdf = rr_field(q, i, LDNS_RR_TYPE_AAAA, 0, LDNS_RDF_TYPE_AAAA);
	if (rdf == NULL || ldns_rdf_size(rdf) != 16)
		return -1;
	memcpy(out->b, ldns_rdf_data(rdf), 16);
	return 0;
}

int dnsq_txt(const dnsq_query *q, size_t i, char *buf, size_t len)
{
	ldns_rr *rr;
	size_t f, used = 0;

	if (i >= q->nrr || len == 0)
		return -1;
	rr = q->rrs[i];
	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT && ldns_rr_get_type(rr) != LDNS_RR_TYPE_SPF)
		return -1;
	for (f = 0; f < ldns_rr_rd_count(rr); f++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, f);
		const uint8_t *d = ldns_rdf_data(rdf);
		size_t sz = ldns_rdf_size(rdf), sl;
		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || sz < 1)
			return -1;
		sl = d[0];
		if (sl > sz - 1 || used + sl >= len)
			return -1;
		memcpy(buf + used, d + 1, sl);
		used += sl;
	}
	buf[used] = '\0';
	return (int)used;
}

int dnsq_name(const dnsq_query *q, size_t i, char *buf, size_t len)
{
	const ldns_rdf *rdf = NULL;
	char *text;
	size_t n;

	if (i >= q->nrr)
		return -1;
	switch (ldns_rr_get_type(q->rrs[i])) {
	case LDNS_RR_TYPE_MX:
		rdf = rr_field(q, i, LDNS_RR_TYPE_MX, 1, LDNS_RDF_TYPE_DNAME);
		break;
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_CNAME:
		rdf = rr_field(q, i, ldns_rr_get_type(q->rrs[i]), 0, LDNS_RDF_TYPE_DNAME);
		break;
	default:
		break;
	}
	if (rdf == NULL || (text = ldns_rdf2str(rdf)) == NULL)
		return -1;
	n = strlen(text);
	if (n > 1 && text[n - 1] == '.')
		text[--n] = '\0';
	if (n + 1 > len) {
		free(text);
		return -1;
	}
	memcpy(buf, text, n + 1);
	free(text);
	return (int)n;
}

int dnsq_mx_pref(const dnsq_query *q, size_t i)
{
	const ldns_rdf *rdf = rr_field(q, i, LDNS_RR_TYPE_MX, 0, LDNS_RDF_TYPE_INT16);

	if (rdf == NULL)
		return -1;
	return ldns_rdf2native_int16(rdf);
}
