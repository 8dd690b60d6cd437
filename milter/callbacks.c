/* callbacks: the libmilter callbacks of chanrac-milter.  They gather the
 * connection facts, the envelope and the streamed message into per-connection
 * state (smfi_setpriv), run the engine once at end of message under the
 * engine's deadline, apply its verdict (headers, quarantine, reply) and log one
 * line per message.  Everything else is lib/engine's business. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "util.h"

/* Bounds on what the MTA may hand us (Postfix's own recipient limit is 1000). */
#define MILTER_MAX_RCPTS 1000
#define MILTER_TEXT_MAX 256
#define MILTER_SPOOF_MAX 16  /* distinct X-Chanrac-* names remembered */
#define MILTER_AR_MAX 32     /* Authentication-Results fields remembered */
#define MILTER_FOLD_AT 76    /* fold added header lines near this column */

/* ---------------------------------------------------------------- shared state */

/* An engine and the checks running on it.  Reload swaps g_engine; the old one
 * is freed by whoever drops its last reference. */
struct engine_ref {
	cr_engine *engine;
	unsigned refs; /* guarded by g_engine_lock */
};

static pthread_mutex_t g_engine_lock = PTHREAD_MUTEX_INITIALIZER; /* guards g_engine */
static struct engine_ref *g_engine;
static cr_stats *g_stats;          /* set once before smfi_main; internally locked */
static int g_max_sessions = 500;   /* set once before smfi_main */
static atomic_int g_sessions;      /* connections being checked now */

static struct engine_ref *engine_acquire(void)
{
	struct engine_ref *r;

	pthread_mutex_lock(&g_engine_lock);
	r = g_engine;
	if (r != NULL)
		r->refs++;
	pthread_mutex_unlock(&g_engine_lock);
	return r;
}

static void engine_release(struct engine_ref *r)
{
	int last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&g_engine_lock);
	last = --r->refs == 0 && r != g_engine;
	pthread_mutex_unlock(&g_engine_lock);
	if (last) {
		engine_free(r->engine);
		free(r);
	}
}

static struct engine_ref *engine_ref_new(cr_engine *e)
{
	struct engine_ref *r = calloc(1, sizeof *r);

	if (r != NULL)
		r->engine = e;
	return r;
}

/* Process counters for the metrics endpoint (milter_metrics): relaxed atomics,
 * bumped once per message or session by the callback threads. */
static const int64_t g_ms_buckets[] = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000 };
#define MS_BUCKETS (sizeof g_ms_buckets / sizeof g_ms_buckets[0])
static struct {
	atomic_ullong action[ENGINE_REJECT + 1];
	atomic_ullong degraded[5];         /* by ENGINE_DEG_* bit */
	atomic_ullong unchecked;           /* sessions over max_sessions */
	atomic_ullong rcpts_removed;       /* smfi_delrcpt per-recipient refusals */
	atomic_ullong ms_bucket[MS_BUCKETS]; /* non-cumulative here; cumulated when read */
	atomic_ullong ms_count, ms_sum;
} g_m;

static void count_message(enum engine_action action, unsigned degraded, size_t removed,
			  int64_t ms)
{
	if ((unsigned)action <= ENGINE_REJECT)
		atomic_fetch_add_explicit(&g_m.action[action], 1, memory_order_relaxed);
	for (unsigned i = 0; i < 5; i++)
		if (degraded & (1u << i))
			atomic_fetch_add_explicit(&g_m.degraded[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_m.rcpts_removed, removed, memory_order_relaxed);
	size_t b = 0;
	while (b < MS_BUCKETS && ms > g_ms_buckets[b])
		b++;
	if (b < MS_BUCKETS)
		atomic_fetch_add_explicit(&g_m.ms_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_m.ms_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_m.ms_sum, ms > 0 ? (unsigned long long)ms : 0,
				  memory_order_relaxed);
}

void milter_metrics(void *arg, struct metrics_buf *b)
{
	char labels[64];
	(void)arg;

	for (int a = ENGINE_ACCEPT; a <= ENGINE_REJECT; a++) {
		snprintf(labels, sizeof labels, "action=\"%s\"", engine_action_name(a));
		metrics_add(b, "chanrac_milter_messages_total", "counter",
			    a == ENGINE_ACCEPT ? "Messages checked, by final action." : NULL, labels,
			    (double)atomic_load_explicit(&g_m.action[a], memory_order_relaxed));
	}
	for (unsigned i = 0; i < 5; i++) {
		snprintf(labels, sizeof labels, "reason=\"%s\"", engine_degraded_name(1u << i));
		metrics_add(b, "chanrac_milter_degraded_total", "counter",
			    i == 0 ? "Messages whose verdict lacked a check (DNS, Redis, limits)."
				   : NULL,
			    labels, (double)atomic_load_explicit(&g_m.degraded[i], memory_order_relaxed));
	}
	metrics_add(b, "chanrac_milter_unchecked_sessions_total", "counter",
		    "Connections passed unchecked because max_sessions were open.", NULL,
		    (double)atomic_load_explicit(&g_m.unchecked, memory_order_relaxed));
	metrics_add(b, "chanrac_milter_rcpts_removed_total", "counter",
		    "Recipients removed for a per-recipient refusal (R5, R7).", NULL,
		    (double)atomic_load_explicit(&g_m.rcpts_removed, memory_order_relaxed));
	metrics_add(b, "chanrac_milter_sessions", "gauge", "Connections being checked now.", NULL,
		    (double)atomic_load(&g_sessions));
	unsigned long long cum = 0;
	for (size_t i = 0; i < MS_BUCKETS; i++) {
		cum += atomic_load_explicit(&g_m.ms_bucket[i], memory_order_relaxed);
		snprintf(labels, sizeof labels, "le=\"%.3f\"", (double)g_ms_buckets[i] / 1000.0);
		metrics_add(b, "chanrac_milter_check_seconds_bucket", "histogram",
			    i == 0 ? "Time from end of message to verdict." : NULL, labels,
			    (double)cum);
	}
	unsigned long long count = atomic_load_explicit(&g_m.ms_count, memory_order_relaxed);
	metrics_add(b, "chanrac_milter_check_seconds_bucket", "histogram", NULL, "le=\"+Inf\"",
		    (double)count);
	metrics_add(b, "chanrac_milter_check_seconds_sum", "histogram", NULL, NULL,
		    (double)atomic_load_explicit(&g_m.ms_sum, memory_order_relaxed) / 1000.0);
	metrics_add(b, "chanrac_milter_check_seconds_count", "histogram", NULL, NULL,
		    (double)count);
}

void milter_setup(cr_engine *engine, cr_stats *stats, int max_sessions)
{
	g_engine = engine_ref_new(engine);
	if (g_engine == NULL)
		engine_free(engine);
	g_stats = stats;
	if (max_sessions > 0)
		g_max_sessions = max_sessions;
}

void milter_engine_swap(cr_engine *engine)
{
	struct engine_ref *r = engine_ref_new(engine), *old;
	int free_old;

	if (r == NULL) {
		log_err("reload: out of memory; keeping the running configuration");
		engine_free(engine);
		return;
	}
	pthread_mutex_lock(&g_engine_lock);
	old = g_engine;
	g_engine = r;
	free_old = old != NULL && old->refs == 0;
	pthread_mutex_unlock(&g_engine_lock);
	if (free_old) {
		engine_free(old->engine);
		free(old);
	}
}

void milter_shutdown(void)
{
	pthread_mutex_lock(&g_engine_lock);
	if (g_engine != NULL && g_engine->refs == 0) {
		engine_free(g_engine->engine);
		free(g_engine);
		g_engine = NULL;
	}
	pthread_mutex_unlock(&g_engine_lock);
}

/* ---------------------------------------------------------------- per connection */

struct spoofed {
	char name[64];  /* as the sender wrote it */
	unsigned count; /* occurrences: smfi_chgheader indexes 1..count */
};

struct milter_conn {
	/* connection: kept until close */
	struct cr_addr client;
	int have_client;
	char client_ip[ADDR_TEXT_MAX];
	char client_ptr[MILTER_TEXT_MAX];
	char helo[MILTER_TEXT_MAX];
	int counted;           /* holds one of g_sessions */
	unsigned long actions; /* SMFIF_* the MTA granted */
	int can_skip;          /* the MTA understands SMFIS_SKIP */

	/* message: reset at MAIL FROM, end of message and abort */
	cr_msg *msg;
	size_t scan_max;       /* body bytes the parser keeps (limits) */
	size_t body_seen;
	int in_message;
	char mail_from[MSG_ADDR_MAX + 1];
	char sasl_user[MILTER_TEXT_MAX];
	char queue_id[64];
	char **rcpts;
	size_t nrcpts, rcpt_cap;
	size_t rcpts_dropped;
	struct spoofed spoof[MILTER_SPOOF_MAX];
	size_t nspoof;
	char ar_id[MILTER_AR_MAX][64]; /* authserv-id of each Authentication-Results */
	size_t nar;
};

static void message_reset(struct milter_conn *c)
{
	msg_free(c->msg);
	c->msg = NULL;
	for (size_t i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = c->rcpt_cap = c->rcpts_dropped = 0;
	c->mail_from[0] = c->sasl_user[0] = c->queue_id[0] = '\0';
	c->nspoof = c->nar = 0;
	c->body_seen = 0;
	c->scan_max = 0;
	c->in_message = 0;
}

static struct milter_conn *conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* Copies text from the MTA, bounded, with control characters made spaces. */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	if (src != NULL)
		for (; src[i] && i + 1 < len; i++)
			dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	dst[i] = '\0';
}

/* "<a@b>" (and ESMTP-less forms) -> "a@b"; "<>" -> "". */
static void copy_addr(char *dst, size_t len, const char *src)
{
	size_t n;

	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	while (*src == ' ')
		src++;
	if (*src == '<')
		src++;
	copy_text(dst, len, src);
	n = strlen(dst);
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '>'))
		dst[--n] = '\0';
}

static const char *queue_id(SMFICTX *ctx, struct milter_conn *c)
{
	const char *q = smfi_getsymval(ctx, "i");

	if (q != NULL && *q)
		copy_text(c->queue_id, sizeof c->queue_id, q);
	return c->queue_id[0] ? c->queue_id : "NOQUEUE";
}

/* ---------------------------------------------------------------- callbacks */

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* DELRCPT: per-recipient rejects (R7) after content checks, doc/milter.md */
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_DELRCPT;
	/* Steps we do not use; everything else (connect, helo, mail, rcpt, header,
	 * eoh, body, eom) must be sent.  DATA is not skipped although unused:
	 * Postfix sends DATA's macros even for a skipped DATA step, and a packet
	 * that gets no reply leaves its delayed ACK to stall the next one (the
	 * first header) for ~40 ms over TCP; the reply to DATA costs one round trip. */
	unsigned long skip = SMFIP_NOUNKNOWN;

	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_ADDHDRS) == 0) {
		log_err("milter: the MTA does not allow adding headers (actions 0x%lx); "
			"messages pass unchecked", f0);
		return SMFIS_REJECT; /* libmilter: the MTA treats the filter as unavailable */
	}
	*pf0 = want & f0;
	if (f0 & SMFIF_SETSYMLIST)
		*pf0 |= SMFIF_SETSYMLIST;
	*pf1 = (skip | SMFIP_SKIP) & f1;
	*pf2 = 0;
	*pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		/* Postfix and Sendmail send these by default; asking costs nothing and
		 * makes the queue id, SASL user and verified client name dependable. */
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_name} {client_ptr} {client_resolve}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	/* The granted set is per connection; connect has not run yet, so pass it on
	 * in a small allocation that cb_connect adopts. */
	{
		struct milter_conn *c = calloc(1, sizeof *c);
		if (c != NULL) {
			c->actions = *pf0;
			c->can_skip = (*pf1 & SMFIP_SKIP) != 0;
			if (smfi_setpriv(ctx, c) != MI_SUCCESS)
				free(c);
		}
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *sa)
{
	struct milter_conn *c = conn_of(ctx);
	const char *v;

	if (atomic_fetch_add(&g_sessions, 1) >= g_max_sessions) {
		int open = atomic_fetch_sub(&g_sessions, 1) - 1;
		char ip[INET6_ADDRSTRLEN] = "unknown";
		if (sa != NULL && sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, ip, sizeof ip);
		else if (sa != NULL && sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, ip,
				  sizeof ip);
		atomic_fetch_add_explicit(&g_m.unchecked, 1, memory_order_relaxed);
		log_warn("connection from %s passed unchecked: %d sessions open (max_sessions %d)",
			 ip, open, g_max_sessions);
		free(c);
		smfi_setpriv(ctx, NULL);
		return SMFIS_ACCEPT;
	}
	if (c == NULL) {
		/* no negotiate step (old MTA) or out of memory there */
		c = calloc(1, sizeof *c);
		if (c == NULL || smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			atomic_fetch_sub(&g_sessions, 1);
			log_err("connection passed unchecked: out of memory");
			return SMFIS_ACCEPT;
		}
		c->actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_DELRCPT;
	}
	c->counted = 1;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		addr_from_v4(&c->client, ntohl(in->sin_addr.s_addr));
		c->have_client = 1;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(c->client.b, in6->sin6_addr.s6_addr, 16);
		c->have_client = 1;
	}
	if (c->have_client)
		addr_format(&c->client, c->client_ip, sizeof c->client_ip);
	else
		util_strlcpy(c->client_ip, "unknown", sizeof c->client_ip);
	/* A verified reverse name: Sendmail's {client_ptr} with {client_resolve}=OK,
	 * Postfix's {client_name} ("unknown" when not verified), else the connect
	 * hostname unless it is an address literal. */
	v = smfi_getsymval(ctx, "{client_ptr}");
	if (v == NULL || !*v)
		v = smfi_getsymval(ctx, "{client_name}");
	if (v == NULL || !*v)
		v = hostname;
	if (v != NULL && *v && *v != '[' && strcasecmp(v, "unknown") != 0)
		copy_text(c->client_ptr, sizeof c->client_ptr, v);
	return SMFIS_CONTINUE;
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct milter_conn *c = conn_of(ctx);

	if (c != NULL)
		copy_text(c->helo, sizeof c->helo, helo);
	return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = conn_of(ctx);
	struct engine_ref *r;
	struct msg_limits lim;
	const char *v;

	if (c == NULL)
		return SMFIS_ACCEPT;
	message_reset(c);
	c->in_message = 1;
	copy_addr(c->mail_from, sizeof c->mail_from, argv != NULL ? argv[0] : NULL);
	v = smfi_getsymval(ctx, "{auth_authen}");
	if (v != NULL)
		copy_text(c->sasl_user, sizeof c->sasl_user, v);
	(void)queue_id(ctx, c);
	msg_limits_default(&lim);
	r = engine_acquire();
	if (r != NULL)
		engine_msg_limits(r->engine, &lim);
	engine_release(r);
	c->scan_max = lim.max_scan_bytes;
	c->msg = msg_new(&lim);
	if (c->msg == NULL)
		log_warn("%s: out of memory for the message parser; checking the envelope only",
			 queue_id(ctx, c));
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = conn_of(ctx);
	char addr[MSG_ADDR_MAX + 1];

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (argv == NULL || argv[0] == NULL)
		return SMFIS_CONTINUE;
	if (c->nrcpts >= MILTER_MAX_RCPTS) {
		c->rcpts_dropped++;
		return SMFIS_CONTINUE;
	}
	if (c->nrcpts == c->rcpt_cap) {
		size_t cap = c->rcpt_cap ? c->rcpt_cap * 2 : 8;
		char **n = realloc(c->rcpts, cap * sizeof *n);
		if (n == NULL) {
			c->rcpts_dropped++;
			return SMFIS_CONTINUE;
		}
		c->rcpts = n;
		c->rcpt_cap = cap;
	}
	copy_addr(addr, sizeof addr, argv[0]);
	if ((c->rcpts[c->nrcpts] = strdup(addr)) == NULL)
		c->rcpts_dropped++;
	else
		c->nrcpts++;
	(void)queue_id(ctx, c);
	return SMFIS_CONTINUE;
}

/* Remembers a header the verdict must replace: our own X-Chanrac-* fields and
 * Authentication-Results (RFC 8601 section 5: remove those that claim our
 * authserv-id), by occurrence, for smfi_chgheader. */
static void note_header(struct milter_conn *c, const char *name, const char *value)
{
	if (strncasecmp(name, "X-Chanrac-", 10) == 0) {
		size_t i;
		for (i = 0; i < c->nspoof; i++)
			if (strcasecmp(c->spoof[i].name, name) == 0)
				break;
		if (i == c->nspoof) {
			if (c->nspoof == MILTER_SPOOF_MAX || strlen(name) >= sizeof c->spoof[0].name)
				return;
			util_strlcpy(c->spoof[i].name, name, sizeof c->spoof[i].name);
			c->nspoof++;
		}
		c->spoof[i].count++;
	} else if (strcasecmp(name, "Authentication-Results") == 0) {
		size_t n = 0;
		if (c->nar == MILTER_AR_MAX)
			return;
		while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
			value++;
		/* authserv-id: up to ";" or white space (RFC 8601 2.2) */
		while (value[n] && value[n] != ';' && !isspace((unsigned char)value[n]) &&
		       n + 1 < sizeof c->ar_id[0]) {
			c->ar_id[c->nar][n] = (char)tolower((unsigned char)value[n]);
			n++;
		}
		c->ar_id[c->nar][n] = '\0';
		c->nar++;
	}
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (name == NULL || value == NULL)
		return SMFIS_CONTINUE;
	note_header(c, name, value);
	if (c->msg != NULL && msg_header(c->msg, name, value) < 0) {
		log_warn("%s: message parser out of memory; checking what it has",
			 queue_id(ctx, c));
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	(void)queue_id(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (c->msg != NULL && c->body_seen < c->scan_max)
		msg_body(c->msg, chunk, len);
	c->body_seen += len;
	/* The parser keeps no more than scan_max bytes: spare the MTA the rest. */
	if (c->can_skip && c->body_seen >= c->scan_max)
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

/* Header values from the engine come folded ("\n" + white space, as libmilter
 * wants).  Keep those folds, drop CR and any other control character, and fold
 * a line still longer than ~76 columns before a space (RFC 5322 2.2.3). */
static void fold_value(const char *name, const char *value, char *out, size_t len)
{
	size_t col = strlen(name) + 2, o = 0;

	for (const char *p = value; *p && o + 3 < len; p++) {
		char ch = *p;
		if (ch == '\r')
			continue;
		if (ch == '\n') {
			if (p[1] == ' ' || p[1] == '\t') {
				out[o++] = '\n';
				col = 0;
			}
			continue;
		}
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (ch == ' ' && col > 30) {
			size_t w = 1; /* length of the next word */
			while (p[w] && p[w] != ' ' && p[w] != '\n')
				w++;
			if (col + w > MILTER_FOLD_AT) {
				out[o++] = '\n';
				col = 0;
			}
		}
		out[o++] = ch;
		col++;
	}
	out[o] = '\0';
}

static void add_header(SMFICTX *ctx, const char *qid, const char *name, const char *value,
		       int at_top)
{
	char buf[ENGINE_HEADER_MAX * 2];
	int rc;

	if (value == NULL || value[0] == '\0')
		return;
	fold_value(name, value, buf, sizeof buf);
	rc = at_top ? smfi_insheader(ctx, 0, (char *)name, buf)
		    : smfi_addheader(ctx, (char *)name, buf);
	if (rc != MI_SUCCESS)
		log_warn("%s: the MTA refused to add %s", qid, name);
}

/* Deletes the X-Chanrac-* fields the message came with, and the
 * Authentication-Results fields claiming our authserv-id (last first, so the
 * indexes of the others stay valid). */
static void remove_forged(SMFICTX *ctx, struct milter_conn *c, const char *qid,
			  const char *our_ar)
{
	char id[64];
	size_t n = 0;
	unsigned removed = 0;

	if (!(c->actions & SMFIF_CHGHDRS))
		return;
	for (size_t i = 0; i < c->nspoof; i++)
		for (unsigned k = c->spoof[i].count; k >= 1; k--)
			if (smfi_chgheader(ctx, c->spoof[i].name, (int)k, NULL) == MI_SUCCESS)
				removed++;
	while (our_ar[n] && our_ar[n] != ';' && !isspace((unsigned char)our_ar[n]) &&
	       n + 1 < sizeof id) {
		id[n] = (char)tolower((unsigned char)our_ar[n]);
		n++;
	}
	id[n] = '\0';
	if (id[0])
		for (size_t k = c->nar; k >= 1; k--)
			if (strcmp(c->ar_id[k - 1], id) == 0 &&
			    smfi_chgheader(ctx, "Authentication-Results", (int)k, NULL) == MI_SUCCESS)
				removed++;
	if (removed)
		log_info("%s: removed %u forged X-Chanrac/Authentication-Results field(s)", qid,
			 removed);
}

static const char *degraded_text(unsigned d, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ENGINE_DEG_DNS_TIMEOUT, "dns_timeout" },
		{ ENGINE_DEG_DNS_FAILED, "dns_failed" },
		{ ENGINE_DEG_ZONE_UNUSABLE, "zone_unusable" },
		{ ENGINE_DEG_STORE, "store" },
		{ ENGINE_DEG_PARSE_CAP, "parse_cap" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (d & names[i].bit) {
			int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i].name);
			if (n < 0 || (size_t)n >= len - o)
				break;
			o += (size_t)n;
		}
	return buf;
}

/* The reply text as libmilter wants it: printable ASCII, no CR/LF.  The engine
 * already sanitises (and doubles '%'); this only guards against a regression. */
static void reply_text(const char *in, const char *fallback, char *out, size_t len)
{
	size_t o = 0;

	if (in == NULL || in[0] == '\0')
		in = fallback;
	for (; *in && o + 1 < len; in++)
		out[o++] = (*in < 0x20 || *in > 0x7e) ? ' ' : *in;
	out[o] = '\0';
}

/* Removes the recipients the verdict rejects alone (R7 opt-outs, doc/milter.md):
 * the message goes on to the others.  Returns how many were removed and marks
 * them in gone (v->nrcpts flags); when the MTA did not grant SMFIF_DELRCPT the
 * message is quarantined instead (never delivered to a recipient who refused
 * it, never lost). */
static size_t remove_rcpts(SMFICTX *ctx, struct milter_conn *c, const char *qid,
			   const struct engine_verdict *v, enum engine_action *action,
			   unsigned char *gone)
{
	char addr[MSG_ADDR_MAX + 3];
	size_t removed = 0;

	for (size_t i = 0; i < v->nrcpts && i < c->nrcpts; i++) {
		if (v->rcpt[i].action != ENGINE_REJECT)
			continue;
		snprintf(addr, sizeof addr, "<%s>", c->rcpts[i]);
		if ((c->actions & SMFIF_DELRCPT) && smfi_delrcpt(ctx, addr) == MI_SUCCESS) {
			removed++;
			gone[i] = 1;
			log_info("%s: rcpt=%s removed: %s", qid, addr, v->rcpt[i].rule);
			continue;
		}
		log_warn("%s: rcpt=%s must not receive this message (%s) but the MTA cannot "
			 "remove recipients; quarantined", qid, addr, v->rcpt[i].rule);
		if (*action == ENGINE_ACCEPT || *action == ENGINE_TAG)
			*action = ENGINE_QUARANTINE;
	}
	return removed;
}

/* The advertising statistics of the periodic reports (P7; doc/redis-keys.md):
 * inbound, the advertiser and the regulation rules failed; outbound (an
 * authenticated submission), the customer (SASL user) and the template id.
 * Not counted: a deferred message (counted when it comes back) and a refused
 * submission (it was not sent). */
static void count_advert(const struct milter_conn *c, const struct engine_verdict *v,
			 enum engine_action action, int64_t now)
{
	const char *failed[ENGINE_ADV_FAILED_MAX];
	size_t nfailed;

	if (!v->advertising || action == ENGINE_TEMPFAIL)
		return;
	if (c->sasl_user[0] == '\0') {
		nfailed = engine_advert_failed(v, failed);
		stats_advert_in(g_stats, now, v->advertiser, failed, nfailed);
	} else if (action != ENGINE_REJECT) {
		stats_advert_out(g_stats, now, c->sasl_user,
				 v->template_id[0] ? v->template_id : NULL);
	}
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);
	struct engine_verdict *v;
	struct engine_input in;
	struct engine_ref *r;
	enum engine_action action;
	char rules[1024], deg[96], reply[ENGINE_REPLY_MAX + 8] = "", reason[400], nrem[24];
	const char *qid;
	sfsistat rc = SMFIS_ACCEPT;
	int64_t t0 = util_mono_ms(), deadline, now;
	int quarantined = 0;
	size_t rcpts_removed = 0;
	unsigned char gone[MILTER_MAX_RCPTS] = { 0 }; /* recipients removed */

	if (c == NULL)
		return SMFIS_ACCEPT;
	qid = queue_id(ctx, c);
	r = engine_acquire();
	if (r == NULL) {
		log_err("%s: no engine; accepted unchecked", qid);
		message_reset(c);
		return SMFIS_ACCEPT;
	}
	v = malloc(sizeof *v);
	if (v == NULL) {
		log_err("%s: out of memory; accepted unchecked", qid);
		engine_release(r);
		message_reset(c);
		return SMFIS_ACCEPT;
	}
	if (c->msg != NULL)
		msg_end(c->msg);
	memset(&in, 0, sizeof in);
	in.client = c->client;
	in.have_client = c->have_client;
	in.client_ptr = c->client_ptr[0] ? c->client_ptr : NULL;
	in.helo = c->helo[0] ? c->helo : NULL;
	in.mail_from = c->mail_from;
	in.rcpts = (const char *const *)c->rcpts;
	in.nrcpts = c->nrcpts;
	in.sasl_user = c->sasl_user[0] ? c->sasl_user : NULL;
	in.queue_id = qid;
	deadline = t0 + engine_budget_ms(r->engine);
	engine_check(r->engine, &in, c->msg, deadline, v);

	/* The verdict is final: the engine already applied [engine] fail_mode to
	 * missing answers, so `chanrac scan` and the milter agree. */
	action = v->action;
	if (action != ENGINE_REJECT && action != ENGINE_TEMPFAIL)
		rcpts_removed = remove_rcpts(ctx, c, qid, v, &action, gone);

	switch (action) {
	case ENGINE_REJECT:
		reply_text(v->reply, "Message rejected as spam", reply, sizeof reply);
		if (smfi_setreply(ctx, "550", "5.7.1", reply) != MI_SUCCESS)
			log_warn("%s: the MTA refused the reply text; rejecting with its default",
				 qid);
		rc = SMFIS_REJECT;
		break;
	case ENGINE_TEMPFAIL:
		reply_text(v->reply, "Spam checks temporarily unavailable, try again later", reply,
			   sizeof reply);
		if (smfi_setreply(ctx, "451", "4.7.1", reply) != MI_SUCCESS)
			log_warn("%s: the MTA refused the reply text; deferring with its default",
				 qid);
		rc = SMFIS_TEMPFAIL;
		break;
	case ENGINE_QUARANTINE:
	case ENGINE_TAG:
	case ENGINE_ACCEPT:
		remove_forged(ctx, c, qid, v->hdr_auth_results);
		add_header(ctx, qid, "Authentication-Results", v->hdr_auth_results, 1);
		add_header(ctx, qid, "X-Chanrac-Score", v->hdr_score, 0);
		add_header(ctx, qid, "X-Chanrac-Report", v->hdr_report, 0);
		if (action != ENGINE_ACCEPT)
			add_header(ctx, qid, "X-Chanrac-Spam", "yes", 0);
		if (action == ENGINE_QUARANTINE) {
			engine_rules_line(v, rules, sizeof rules);
			snprintf(reason, sizeof reason, "chanrac: score %.1f: %.300s", v->score, rules);
			reply_text(reason, "chanrac", reason, sizeof reason);
			if ((c->actions & SMFIF_QUARANTINE) &&
			    smfi_quarantine(ctx, reason) == MI_SUCCESS)
				quarantined = 1;
			else
				log_warn("%s: the MTA cannot quarantine; delivered with "
					 "X-Chanrac-Spam: yes", qid);
		}
		rc = SMFIS_ACCEPT;
		break;
	}
	if (action == ENGINE_QUARANTINE && !quarantined)
		action = ENGINE_TAG;

	engine_rules_line(v, rules, sizeof rules);
	for (char *p = rules; *p; p++)
		if (*p == ' ')
			*p = ',';
	log_info("%s: client=%s%s%s%s helo=%s from=<%s> rcpts=%zu%s%s%s score=%.1f rules=%s "
		 "action=%s ms=%lld%s%s%s%s%s",
		 qid, c->client_ip, c->client_ptr[0] ? "[" : "", c->client_ptr,
		 c->client_ptr[0] ? "]" : "", c->helo[0] ? c->helo : "-", c->mail_from,
		 c->nrcpts + c->rcpts_dropped, c->sasl_user[0] ? " auth=yes" : "",
		 rcpts_removed ? " rcpts_removed=" : "",
		 rcpts_removed ? (snprintf(nrem, sizeof nrem, "%zu", rcpts_removed), nrem) : "",
		 v->score, rules[0] ? rules : "-", engine_action_name(action),
		 (long long)(util_mono_ms() - t0), v->degraded ? " degraded=" : "",
		 v->degraded ? degraded_text(v->degraded, deg, sizeof deg) : "",
		 rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL ? " reply=\"" : "",
		 rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL ? reply : "",
		 rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL ? "\"" : "");
	now = util_now();
	stats_count(g_stats, now, engine_action_name(action));
	count_message(action, v->degraded, rcpts_removed, util_mono_ms() - t0);
	/* authenticated submission = mail our users send (P7 "emails sent") */
	if (c->sasl_user[0])
		stats_add(g_stats, now, STATS_OUT_TOTAL, 1);
	count_advert(c, v, action, now);
	/* R5 counts only mail that is delivered: undo this message's record for the
	 * recipients it will not reach (doc/milter.md) */
	if (action == ENGINE_REJECT || action == ENGINE_TEMPFAIL)
		engine_forget(r->engine, &in, v, NULL);
	else if (rcpts_removed > 0)
		engine_forget(r->engine, &in, v, gone);
	free(v);
	engine_release(r);
	message_reset(c);
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c != NULL)
		message_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	message_reset(c);
	if (c->counted)
		atomic_fetch_sub(&g_sessions, 1);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = "chanrac-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_DELRCPT |
		      SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};
