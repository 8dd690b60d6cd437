/* stats: per-day message counters, gathered in memory and written to Redis by one
 * background thread (see stats.h).  One hiredis connection, used only under
 * io_lock; the pending table only under lock.  A batch whose write failed is
 * kept as it is and sent again under the same token (one Lua script: applied
 * only if the token is new), so a write that reached Redis although it seemed
 * to fail (timed out, connection lost) is counted once; an outage shorter than
 * STATS_MAX_DAYS days loses nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "stats.h"
#include "redisconf.h"
#include "util.h"

/* A day key lives about 400 days: long enough for a yearly report. */
#define STATS_KEY_TTL_S "34560000"
/* A batch's token key (P:{st}:flush:TOKEN) outlives every retry of the batch. */
#define STATS_TOKEN_TTL_S "86400"
/* While Redis stays down, the failure is logged again this often. */
#define STATS_LOG_EVERY_MS 60000
#define STATS_PREFIX_MAX REDISCONF_PREFIX_MAX

struct stats_counter {
	char name[STATS_NAME_MAX + 1];
	long long n;
};

struct stats_day {
	char day[11]; /* "YYYY-MM-DD"; "" = free slot */
	struct stats_counter c[STATS_MAX_NAMES];
	size_t nc;
	long long total;
};

/* A pending count of the wider counter set (stats_add & co). */
enum { STATS_ITEM_FIELD, STATS_ITEM_LABEL, STATS_ITEM_MEMBER };
struct stats_item {
	int kind;
	char day[11];
	char name[STATS_FIELD_MAX + 1];
	char label[STATS_LABEL_MAX + 1]; /* LABEL: the label; MEMBER: the member */
	long long n;
};

struct cr_stats {
	/* configuration, immutable after stats_new */
	struct redis_conf rc;
	int64_t interval_ms, timeout_ms, retry_max_ms;

	pthread_mutex_t lock; /* guards days, stop, wake */
	pthread_cond_t wake;
	struct stats_day days[STATS_MAX_DAYS];
	struct stats_item *items; /* stats_add & co., pending */
	size_t nitems, capitems;
	int items_dropped_logged;
	int stop;

	pthread_mutex_t io_lock; /* guards c and the fields below */
	redisContext *c;
	int down;             /* the last attempt failed */
	int64_t next_try_ms;  /* no new attempt before this (backoff) */
	int64_t backoff_ms;
	int64_t last_log_ms;
	unsigned long failures; /* attempts failed since the last success */
	/* The batch whose write failed, sent again as it is under the same token. */
	int pend;
	char pend_token[33];
	struct stats_day pend_days[STATS_MAX_DAYS];
	struct stats_item *pend_items;
	size_t pend_nitems;
	long long pend_total; /* its message count; under lock (stats_pending) */

	pthread_t thread;
	int started;
};

static int stats_valid_name(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++) {
		char ch = name[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return 0;
	}
	return n >= 1 && n <= STATS_NAME_MAX;
}

static void stats_day_text(int64_t when, char out[11])
{
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		util_strlcpy(out, "1970-01-01", 11);
}

int stats_day_key(const char *prefix, int64_t when, char *buf, size_t len)
{
	char day[11];
	int n;

	stats_day_text(when, day);
	n = snprintf(buf, len, "%s:{st}:day:%s", prefix, day);
	return (n < 0 || (size_t)n >= len) ? -1 : n;
}

cr_stats *stats_new(const cr_conf *conf, char *err, size_t errlen)
{
	cr_stats *s = calloc(1, sizeof *s);

	if (s == NULL) {
		util_errf(err, errlen, "stats: out of memory");
		return NULL;
	}
	if (redis_conf_load(conf, &s->rc, err, errlen) < 0)
		goto fail;
	s->interval_ms = conf_ms(conf, "milter", "stats_interval");
	s->timeout_ms = conf_ms(conf, "milter", "stats_timeout");
	s->retry_max_ms = conf_ms(conf, "milter", "stats_retry_max");
	if (s->interval_ms <= 0)
		s->interval_ms = 1000;
	if (s->timeout_ms <= 0)
		s->timeout_ms = 200;
	if (s->retry_max_ms < s->interval_ms)
		s->retry_max_ms = s->interval_ms;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->io_lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	return s;
fail:
	explicit_bzero(s->rc.password, sizeof s->rc.password);
	free(s);
	return NULL;
}

/* ---------------------------------------------------------------- counting */

/* The slot of day (creating it; when full, the oldest day is dropped and
 * its counts logged as lost).  Called under lock. */
static struct stats_day *stats_slot(cr_stats *s, const char *day)
{
	struct stats_day *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < STATS_MAX_DAYS; i++) {
		struct stats_day *d = &s->days[i];
		if (d->day[0] == '\0') {
			if (free_slot == NULL)
				free_slot = d;
			continue;
		}
		if (strcmp(d->day, day) == 0)
			return d;
		if (oldest == NULL || strcmp(d->day, oldest->day) < 0)
			oldest = d;
	}
	if (free_slot == NULL) {
		if (strcmp(oldest->day, day) > 0)
			return NULL; /* older than everything kept: the caller drops it */
		log_warn("stats: Redis unreachable too long: dropped %lld message count(s) of %s",
			 oldest->total, oldest->day);
		free_slot = oldest;
	}
	memset(free_slot, 0, sizeof *free_slot);
	util_strlcpy(free_slot->day, day, sizeof free_slot->day);
	return free_slot;
}

static void stats_add_msg(cr_stats *s, const char *day, const char *name, long long n,
			  long long total)
{
	struct stats_day *d = stats_slot(s, day);
	size_t i;

	if (d == NULL)
		return;
	d->total += total;
	if (n == 0)
		return;
	for (i = 0; i < d->nc; i++)
		if (strcmp(d->c[i].name, name) == 0)
			break;
	if (i == d->nc) {
		if (d->nc == STATS_MAX_NAMES)
			i = STATS_MAX_NAMES - 1; /* cannot happen with stats_count's names */
		else
			util_strlcpy(d->c[d->nc++].name, name, sizeof d->c[0].name);
	}
	d->c[i].n += n;
}

void stats_count(cr_stats *s, int64_t when, const char *name)
{
	char day[11];

	if (s == NULL)
		return;
	if (name == NULL || !stats_valid_name(name))
		name = "other";
	stats_day_text(when, day);
	pthread_mutex_lock(&s->lock);
	stats_add_msg(s, day, name, 1, 1);
	pthread_mutex_unlock(&s->lock);
}

/* Adds to a pending item (merging with an equal one).  Called under lock. */
static void stats_item_put(cr_stats *s, int kind, const char *day, const char *name,
			   const char *label, long long n)
{
	struct stats_item *it;

	for (size_t i = s->nitems; i-- > 0;) {
		it = &s->items[i];
		if (it->kind == kind && strcmp(it->day, day) == 0 && strcmp(it->name, name) == 0 &&
		    strcmp(it->label, label) == 0) {
			if (kind != STATS_ITEM_MEMBER)
				it->n += n;
			return;
		}
	}
	if (s->nitems >= STATS_MAX_ITEMS) {
		if (!s->items_dropped_logged)
			log_warn("stats: more than %d pending counts: dropping (Redis away?)",
				 STATS_MAX_ITEMS);
		s->items_dropped_logged = 1;
		return;
	}
	if (s->nitems == s->capitems) {
		size_t cap = s->capitems ? s->capitems * 2 : 32;
		struct stats_item *ni = realloc(s->items, cap * sizeof *ni);
		if (ni == NULL)
			return;
		s->items = ni;
		s->capitems = cap;
	}
	it = &s->items[s->nitems++];
	it->kind = kind;
	util_strlcpy(it->day, day, sizeof it->day);
	util_strlcpy(it->name, name, sizeof it->name);
	util_strlcpy(it->label, label, sizeof it->label);
	it->n = n;
	s->items_dropped_logged = 0;
}

static int stats_valid_field(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++) {
		char ch = name[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.'))
			return 0;
	}
	return n >= 1 && n <= STATS_FIELD_MAX;
}

/* Label/member text: control characters to spaces, cut to STATS_LABEL_MAX. */
static int stats_clean_label(const char *in, char out[STATS_LABEL_MAX + 1])
{
	size_t n = util_strlcpy(out, in ? in : "", STATS_LABEL_MAX + 1);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
	(void)n;
	return out[0] ? 0 : -1;
}

static void stats_put(cr_stats *s, int kind, int64_t when, const char *name, const char *label,
		      long long n)
{
	char day[11], clean[STATS_LABEL_MAX + 1] = "";

	if (s == NULL)
		return;
	if (name == NULL || !stats_valid_field(name)) {
		log_warn("stats: bad counter name \"%s\" dropped", name ? name : "(null)");
		return;
	}
	if (kind != STATS_ITEM_FIELD && stats_clean_label(label, clean) < 0)
		return;
	stats_day_text(when, day);
	pthread_mutex_lock(&s->lock);
	stats_item_put(s, kind, day, name, clean, n);
	pthread_mutex_unlock(&s->lock);
}

void stats_add(cr_stats *s, int64_t when, const char *field, long long n)
{
	stats_put(s, STATS_ITEM_FIELD, when, field, NULL, n);
}

void stats_add_label(cr_stats *s, int64_t when, const char *name, const char *label,
		     long long n)
{
	stats_put(s, STATS_ITEM_LABEL, when, name, label, n);
}

void stats_add_distinct(cr_stats *s, int64_t when, const char *name, const char *member)
{
	stats_put(s, STATS_ITEM_MEMBER, when, name, member, 1);
}

void stats_optout(cr_stats *s, int64_t when, const char *channel, const char *stage,
		  const char *reason)
{
	static const char *const channels[] = STATS_OPTOUT_CHANNELS;
	static const char *const stages[] = STATS_OPTOUT_STAGES;
	char field[STATS_FIELD_MAX + 1];
	int okc = 0, oks = 0;

	for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++)
		okc |= channel != NULL && strcmp(channel, channels[i]) == 0;
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
		oks |= stage != NULL && strcmp(stage, stages[i]) == 0;
	if (!okc || !oks) {
		log_warn("stats: opt-out channel \"%s\" / stage \"%s\" unknown: dropped",
			 channel ? channel : "", stage ? stage : "");
		return;
	}
	snprintf(field, sizeof field, "optout.%s.%s", stage, channel);
	stats_add(s, when, field, 1);
	if (strcmp(stage, "failed") == 0)
		stats_add_label(s, when, STATS_LABEL_OPTOUT_REASON,
				reason && reason[0] ? reason : "unspecified", 1);
}

void stats_advert_in(cr_stats *s, int64_t when, const char *advertiser,
		     const char *const *failed_rules, size_t nfailed)
{
	stats_add(s, when, STATS_ADV_TOTAL, 1);
	if (advertiser != NULL && advertiser[0])
		stats_add_distinct(s, when, STATS_SET_ADVERTISER, advertiser);
	for (size_t i = 0; i < nfailed; i++)
		stats_add_label(s, when, STATS_LABEL_NONCOMPLIANT, failed_rules[i], 1);
}

void stats_advert_out(cr_stats *s, int64_t when, const char *customer, const char *template_id)
{
	char m[STATS_LABEL_MAX + 1];

	if (customer == NULL || customer[0] == '\0')
		return;
	stats_add(s, when, "out.adv", 1);
	stats_add_label(s, when, STATS_LABEL_ADV_SENT, customer, 1);
	if (template_id != NULL && template_id[0]) {
		snprintf(m, sizeof m, "%s\t%s", customer, template_id);
		stats_add_distinct(s, when, STATS_SET_ADV_TEMPLATE, m);
	}
}

long long stats_pending(cr_stats *s)
{
	long long n = 0;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < STATS_MAX_DAYS; i++)
		n += s->days[i].total;
	n += s->pend_total;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---------------------------------------------------------------- writing */

static struct timeval stats_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static void stats_disconnect(cr_stats *s)
{
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
}

/* Why the connection failed, for the log. */
static const char *stats_why(const cr_stats *s, const redisReply *r)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		return r->str;
	if (s->c == NULL)
		return "not connected";
	return redis_conf_why(s->c);
}

static int stats_connect(cr_stats *s, char *why, size_t whylen)
{
	char err[768];
	size_t named = strlen("redis ") + strlen(s->rc.server) + strlen(": ");

	stats_disconnect(s);
	s->c = redis_conf_connect(&s->rc, s->timeout_ms, s->timeout_ms, err, sizeof err);
	if (s->c == NULL) {
		/* err is "redis SERVER: WHY"; the callers name the server themselves */
		util_strlcpy(why, strlen(err) >= named ? err + named : err, whylen);
		return -1;
	}
	return 0;
}

/* Applies a batch once per token: the token key is set first (NX) and the
 * counts only if it was new.  KEYS[1] the token key, KEYS[2..] one per count;
 * ARGV[1] the keys' TTL, then per count: "h" FIELD N (HINCRBY) or "s" MEMBER -
 * (SADD). */
static const char stats_script[] =
	"if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', '" STATS_TOKEN_TTL_S "') then\n"
	"  return 0\n"
	"end\n"
	"for k = 2, #KEYS do\n"
	"  local a = 3 * (k - 2) + 2\n"
	"  if ARGV[a] == 's' then\n"
	"    redis.call('SADD', KEYS[k], ARGV[a + 1])\n"
	"  else\n"
	"    redis.call('HINCRBY', KEYS[k], ARGV[a + 1], ARGV[a + 2])\n"
	"  end\n"
	"  redis.call('EXPIRE', KEYS[k], ARGV[1])\n"
	"end\n"
	"return 1\n";

struct stats_op {
	char key[STATS_PREFIX_MAX + STATS_FIELD_MAX + STATS_NAME_MAX + 64];
	char field[STATS_FIELD_MAX + STATS_NAME_MAX + STATS_LABEL_MAX + 8];
	char num[24];
	const char *kind;
};

/* Writes one batch under its token, all of it or nothing, at most once per
 * token.  0 (written now or before) or -1 with why. */
static int stats_write(cr_stats *s, const char *token, const struct stats_day *days,
		       const struct stats_item *items, size_t nitems, char *why, size_t whylen)
{
	size_t nops = 0, argc, k = 0;
	struct stats_op *ops;
	const char **argv;
	char tokkey[STATS_PREFIX_MAX + 64], nkeys[24];
	redisReply *r;
	int ok = -1;

	for (size_t i = 0; i < STATS_MAX_DAYS; i++)
		if (days[i].day[0] != '\0')
			nops += days[i].nc + 1;
	nops += nitems;
	ops = calloc(nops ? nops : 1, sizeof *ops);
	argc = 3 + (1 + nops) + 1 + 3 * nops;
	argv = calloc(argc, sizeof *argv);
	if (ops == NULL || argv == NULL) {
		snprintf(why, whylen, "out of memory");
		free(ops);
		free(argv);
		return -1;
	}
	nops = 0;
	for (size_t i = 0; i < STATS_MAX_DAYS; i++) {
		const struct stats_day *d = &days[i];
		if (d->day[0] == '\0')
			continue;
		for (size_t j = 0; j <= d->nc; j++) {
			struct stats_op *o = &ops[nops++];
			snprintf(o->key, sizeof o->key, "%.64s:{st}:day:%.10s", s->rc.prefix, d->day);
			snprintf(o->field, sizeof o->field, "msg.%s", j < d->nc ? d->c[j].name : "total");
			snprintf(o->num, sizeof o->num, "%lld", j < d->nc ? d->c[j].n : d->total);
			o->kind = "h";
		}
	}
	for (size_t i = 0; i < nitems; i++) {
		const struct stats_item *it = &items[i];
		struct stats_op *o = &ops[nops++];
		if (it->kind == STATS_ITEM_FIELD)
			snprintf(o->key, sizeof o->key, "%.64s:{st}:day:%.10s", s->rc.prefix, it->day);
		else
			snprintf(o->key, sizeof o->key, "%.64s:{st}:%s:%s:%.10s", s->rc.prefix,
				 it->kind == STATS_ITEM_LABEL ? "lab" : "set", it->name, it->day);
		snprintf(o->field, sizeof o->field, "%s",
			 it->kind == STATS_ITEM_FIELD ? it->name : it->label);
		snprintf(o->num, sizeof o->num, "%lld", it->n);
		o->kind = it->kind == STATS_ITEM_MEMBER ? "s" : "h";
	}
	snprintf(tokkey, sizeof tokkey, "%.64s:{st}:flush:%s", s->rc.prefix, token);
	snprintf(nkeys, sizeof nkeys, "%zu", 1 + nops);
	argv[k++] = "EVAL";
	argv[k++] = stats_script;
	argv[k++] = nkeys;
	argv[k++] = tokkey;
	for (size_t i = 0; i < nops; i++)
		argv[k++] = ops[i].key;
	argv[k++] = STATS_KEY_TTL_S;
	for (size_t i = 0; i < nops; i++) {
		argv[k++] = ops[i].kind;
		argv[k++] = ops[i].field;
		argv[k++] = ops[i].num;
	}
	r = redisCommandArgv(s->c, (int)k, argv, NULL);
	if (r == NULL) {
		snprintf(why, whylen, "%s", stats_why(s, NULL));
		stats_disconnect(s);
	} else {
		if (r->type == REDIS_REPLY_INTEGER)
			ok = 0;
		else
			snprintf(why, whylen, "EVAL: %s", stats_why(s, r));
		freeReplyObject(r);
	}
	free(ops);
	free(argv);
	return ok;
}

/* A fresh random token for a batch (hex). */
static void stats_token(char out[33])
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		uint64_t x = (uint64_t)util_mono_ms() ^ ((uint64_t)getpid() << 32) ^
			     (uint64_t)(uintptr_t)out;
		for (i = 0; i < sizeof b; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			b[i] = (unsigned char)(x >> 56);
		}
	}
	for (i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* force: ignore the backoff (final flush). */
static int stats_flush_now(cr_stats *s, int force)
{
	char why[256] = "";
	int64_t now;
	int rc = 0, pass;

	pthread_mutex_lock(&s->io_lock);
	now = util_mono_ms();
	if (!force && s->down && now < s->next_try_ms) {
		pthread_mutex_unlock(&s->io_lock);
		return -1;
	}
	/* pass 0: the failed batch, if any, else the new counts; pass 1: the new
	 * counts after a failed batch went through */
	for (pass = 0; pass < 2; pass++) {
		int retry = s->pend;
		long long total = 0;

		if (!s->pend) {
			pthread_mutex_lock(&s->lock);
			memcpy(s->pend_days, s->days, sizeof s->pend_days);
			memset(s->days, 0, sizeof s->days);
			s->pend_items = s->items;
			s->pend_nitems = s->nitems;
			s->items = NULL;
			s->nitems = s->capitems = 0;
			for (size_t i = 0; i < STATS_MAX_DAYS; i++)
				total += s->pend_days[i].total;
			s->pend_total = total;
			pthread_mutex_unlock(&s->lock);
			if (total == 0 && s->pend_nitems == 0) {
				free(s->pend_items);
				s->pend_items = NULL;
				s->pend_nitems = 0;
				break;
			}
			stats_token(s->pend_token);
			s->pend = 1;
		}
		total = s->pend_total;
		rc = (s->c == NULL || s->c->err) ? stats_connect(s, why, sizeof why) : 0;
		if (rc == 0)
			rc = stats_write(s, s->pend_token, s->pend_days, s->pend_items,
					 s->pend_nitems, why, sizeof why);
		now = util_mono_ms();
		if (rc == 0) {
			if (s->down)
				log_info("stats: redis %s reachable again after %lu failed attempt(s); "
					 "%lld message count(s) written", s->rc.server, s->failures,
					 total);
			s->down = 0;
			s->failures = 0;
			s->backoff_ms = 0;
			s->pend = 0;
			free(s->pend_items);
			s->pend_items = NULL;
			s->pend_nitems = 0;
			pthread_mutex_lock(&s->lock);
			s->pend_total = 0;
			pthread_mutex_unlock(&s->lock);
			if (!retry)
				break;
			continue;
		}
		stats_disconnect(s);
		s->failures++;
		if (!s->down || now - s->last_log_ms >= STATS_LOG_EVERY_MS) {
			log_warn("stats: redis %s: %s; %lld message count(s) kept in memory, "
				 "retrying", s->rc.server, why[0] ? why : "failed", stats_pending(s));
			s->last_log_ms = now;
		}
		s->down = 1;
		s->backoff_ms = s->backoff_ms == 0 ? s->interval_ms : s->backoff_ms * 2;
		if (s->backoff_ms > s->retry_max_ms)
			s->backoff_ms = s->retry_max_ms;
		s->next_try_ms = now + s->backoff_ms;
		break;
	}
	pthread_mutex_unlock(&s->io_lock);
	return rc;
}

int stats_flush(cr_stats *s)
{
	return s == NULL ? 0 : stats_flush_now(s, 1);
}

static void *stats_thread(void *arg)
{
	cr_stats *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(s->interval_ms / 1000);
		ts.tv_nsec += (long)(s->interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &ts) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		stats_flush_now(s, 0);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int stats_start(cr_stats *s, char *err, size_t errlen)
{
	int rc;

	if (s->started)
		return 0;
	rc = pthread_create(&s->thread, NULL, stats_thread, s);
	if (rc != 0) {
		util_errf(err, errlen, "stats: cannot start the writer thread: %s", strerror(rc));
		return -1;
	}
	s->started = 1;
	return 0;
}

void stats_free(cr_stats *s)
{
	long long left;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	stats_flush_now(s, 1);
	left = stats_pending(s);
	if (left > 0)
		log_warn("stats: %lld message count(s) not written to redis %s", left, s->rc.server);
	stats_disconnect(s);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->io_lock);
	free(s->items);
	free(s->pend_items);
	explicit_bzero(s->rc.password, sizeof s->rc.password);
	free(s);
}

/* ---------------------------------------------------------------- reading */

static int stats_value_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stats_value *)a)->name, ((const struct stats_value *)b)->name);
}

/* Adds n to name in v (unsorted while building). 0 or -1 on out-of-memory. */
static int stats_values_add(struct stats_values *v, size_t *cap, const char *name, long long n)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0) {
			v->v[i].n += n;
			return 0;
		}
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct stats_value *nv = realloc(v->v, nc * sizeof *nv);
		if (nv == NULL)
			return -1;
		v->v = nv;
		*cap = nc;
	}
	v->v[v->n].name = strdup(name);
	if (v->v[v->n].name == NULL)
		return -1;
	v->v[v->n++].n = n;
	return 0;
}

void stats_values_free(struct stats_values *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i].name);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

long long stats_value(const struct stats_values *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0)
			return v->v[i].n;
	return 0;
}

/* Runs one command per day over from..to (keys "PREFIX:{st}:MID:DAY" or the day
 * hash when mid is NULL), pipelined, and folds the replies into out:
 * HGETALL (sums per field) or SMEMBERS (distinct members). */
static int stats_read(cr_stats *s, int64_t from, int64_t to, const char *mid, int members,
		      struct stats_values *out, char *err, size_t errlen)
{
	char why[256] = "";
	size_t cap = 0, days = 0, got = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (to < from || (to - from) / 86400 > 3660) {
		util_errf(err, errlen, "stats: bad day range");
		return -1;
	}
	pthread_mutex_lock(&s->io_lock);
	if ((s->c == NULL || s->c->err) && stats_connect(s, why, sizeof why) < 0) {
		util_errf(err, errlen, "redis %s: %s", s->rc.server, why);
		pthread_mutex_unlock(&s->io_lock);
		return -1;
	}
	redisSetTimeout(s->c, stats_tv(s->timeout_ms < 5000 ? 5000 : s->timeout_ms));
	for (int64_t t = from - (from % 86400 + 86400) % 86400; t <= to; t += 86400) {
		char day[11], key[STATS_PREFIX_MAX + STATS_FIELD_MAX + 64];
		const char *argv[2];
		stats_day_text(t, day);
		if (mid == NULL)
			snprintf(key, sizeof key, "%s:{st}:day:%s", s->rc.prefix, day);
		else
			snprintf(key, sizeof key, "%s:{st}:%s:%s", s->rc.prefix, mid, day);
		argv[0] = members ? "SMEMBERS" : "HGETALL";
		argv[1] = key;
		if (redisAppendCommandArgv(s->c, 2, argv, NULL) != REDIS_OK) {
			rc = -1;
			break;
		}
		days++;
	}
	for (; got < days; got++) {
		void *reply = NULL;
		redisReply *r;
		if (redisGetReply(s->c, &reply) != REDIS_OK || reply == NULL) {
			rc = -1;
			break;
		}
		r = reply;
		if (r->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof why, "%s", r->str);
			rc = -1;
		} else if (r->type == REDIS_REPLY_ARRAY) {
			size_t step = members ? 1 : 2;
			for (size_t i = 0; i + step <= r->elements && rc == 0; i += step) {
				const redisReply *k = r->element[i];
				long long n = 1;
				if (k->type != REDIS_REPLY_STRING)
					continue;
				if (!members) {
					const redisReply *v = r->element[i + 1];
					if (v->type != REDIS_REPLY_STRING)
						continue;
					n = strtoll(v->str, NULL, 10);
				}
				if (stats_values_add(out, &cap, k->str, members ? 0 : n) < 0)
					rc = -1;
			}
		}
		freeReplyObject(r);
	}
	if (rc < 0) {
		util_errf(err, errlen, "redis %s: %s", s->rc.server,
			   why[0] ? why : stats_why(s, NULL));
		stats_disconnect(s);
		stats_values_free(out);
	} else {
		redisSetTimeout(s->c, stats_tv(s->timeout_ms));
		if (members)
			for (size_t i = 0; i < out->n; i++)
				out->v[i].n = 1;
		if (out->n > 1)
			qsort(out->v, out->n, sizeof *out->v, stats_value_cmp);
	}
	pthread_mutex_unlock(&s->io_lock);
	return rc;
}

int stats_read_fields(cr_stats *s, int64_t from, int64_t to, struct stats_values *out,
		      char *err, size_t errlen)
{
	return stats_read(s, from, to, NULL, 0, out, err, errlen);
}

int stats_read_labels(cr_stats *s, int64_t from, int64_t to, const char *name,
		      struct stats_values *out, char *err, size_t errlen)
{
	char mid[STATS_FIELD_MAX + 8];

	if (!stats_valid_field(name)) {
		util_errf(err, errlen, "stats: bad label counter name \"%s\"", name);
		return -1;
	}
	snprintf(mid, sizeof mid, "lab:%s", name);
	return stats_read(s, from, to, mid, 0, out, err, errlen);
}

int stats_read_distinct(cr_stats *s, int64_t from, int64_t to, const char *name,
			struct stats_values *out, char *err, size_t errlen)
{
	char mid[STATS_FIELD_MAX + 8];

	if (!stats_valid_field(name)) {
		util_errf(err, errlen, "stats: bad set name \"%s\"", name);
		return -1;
	}
	snprintf(mid, sizeof mid, "set:%s", name);
	return stats_read(s, from, to, mid, 1, out, err, errlen);
}
