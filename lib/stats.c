/* stats: per-day message counters, gathered in memory and written to Redis by one
 * background thread (see stats.h).  One hiredis connection, used only under
 * io_lock; the pending table only under lock.  A failed write puts its counts
 * back, so an outage shorter than STATS_MAX_DAYS days loses nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "stats.h"
#include "util.h"

/* A day key lives about 400 days: long enough for a yearly report. */
#define STATS_KEY_TTL_S "34560000"
/* While Redis stays down, the failure is logged again this often. */
#define STATS_LOG_EVERY_MS 60000
#define STATS_PREFIX_MAX 64

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

struct cr_stats {
	/* configuration, immutable after stats_new */
	char server[300];
	char host[256];
	int port;
	char socket[256];
	char user[128];
	char password[512];
	int db;
	char prefix[STATS_PREFIX_MAX + 1];
	int64_t interval_ms, timeout_ms, retry_max_ms;

	pthread_mutex_t lock; /* guards days, stop, wake */
	pthread_cond_t wake;
	struct stats_day days[STATS_MAX_DAYS];
	int stop;

	pthread_mutex_t io_lock; /* guards c and the fields below */
	redisContext *c;
	int down;             /* the last attempt failed */
	int64_t next_try_ms;  /* no new attempt before this (backoff) */
	int64_t backoff_ms;
	int64_t last_log_ms;
	unsigned long failures; /* attempts failed since the last success */

	pthread_t thread;
	int started;
};

static void stats_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void stats_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int stats_valid_prefix(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > STATS_PREFIX_MAX)
		return 0;
	for (; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '{' || *p == '}')
			return 0;
	return 1;
}

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

/* First line of path, trimmed of surrounding white space. */
static int stats_read_password(cr_stats *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[sizeof s->password + 2];
	char *p, *end;

	if (f == NULL) {
		stats_errf(err, errlen, "[redis] password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		stats_errf(err, errlen, "[redis] password_file %s: empty", path);
		return -1;
	}
	fclose(f);
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strlen(p);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*p == '\0' || strlen(p) >= sizeof s->password) {
		explicit_bzero(line, sizeof line);
		stats_errf(err, errlen, "[redis] password_file %s: first line empty or too long",
			   path);
		return -1;
	}
	util_strlcpy(s->password, p, sizeof s->password);
	explicit_bzero(line, sizeof line);
	return 0;
}

cr_stats *stats_new(const cr_conf *conf, char *err, size_t errlen)
{
	cr_stats *s = calloc(1, sizeof *s);
	const char *v;

	if (s == NULL) {
		stats_errf(err, errlen, "stats: out of memory");
		return NULL;
	}
	v = conf_str(conf, "redis", "host");
	if (util_strlcpy(s->host, v ? v : "", sizeof s->host) >= sizeof s->host) {
		stats_errf(err, errlen, "[redis] host: too long");
		goto fail;
	}
	s->port = (int)conf_int(conf, "redis", "port");
	v = conf_str(conf, "redis", "socket");
	if (util_strlcpy(s->socket, v ? v : "", sizeof s->socket) >= sizeof s->socket) {
		stats_errf(err, errlen, "[redis] socket: path too long");
		goto fail;
	}
	if (!s->socket[0] && !s->host[0]) {
		stats_errf(err, errlen, "[redis] host: empty and no socket set");
		goto fail;
	}
	if (s->socket[0])
		snprintf(s->server, sizeof s->server, "unix:%s", s->socket);
	else if (strchr(s->host, ':') != NULL)
		snprintf(s->server, sizeof s->server, "[%s]:%d", s->host, s->port);
	else
		snprintf(s->server, sizeof s->server, "%s:%d", s->host, s->port);
	v = conf_str(conf, "redis", "user");
	if (util_strlcpy(s->user, v ? v : "", sizeof s->user) >= sizeof s->user) {
		stats_errf(err, errlen, "[redis] user: too long");
		goto fail;
	}
	v = conf_str(conf, "redis", "password_file");
	if (v != NULL && v[0]) {
		if (stats_read_password(s, v, err, errlen) < 0)
			goto fail;
	} else if (s->user[0]) {
		stats_errf(err, errlen, "[redis] user %s: set without password_file", s->user);
		goto fail;
	}
	s->db = (int)conf_int(conf, "redis", "db");
	v = conf_str(conf, "redis", "key_prefix");
	if (v == NULL || !stats_valid_prefix(v)) {
		stats_errf(err, errlen, "[redis] key_prefix \"%s\": must be 1..%d printable "
			   "characters without spaces or braces", v ? v : "", STATS_PREFIX_MAX);
		goto fail;
	}
	util_strlcpy(s->prefix, v, sizeof s->prefix);
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
	explicit_bzero(s->password, sizeof s->password);
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

static void stats_add(cr_stats *s, const char *day, const char *name, long long n,
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
	stats_add(s, day, name, 1, 1);
	pthread_mutex_unlock(&s->lock);
}

long long stats_pending(cr_stats *s)
{
	long long n = 0;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < STATS_MAX_DAYS; i++)
		n += s->days[i].total;
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
	if (s->c->err == REDIS_ERR_IO &&
	    (s->c->errstr[0] == '\0' || strcmp(s->c->errstr, strerror(EAGAIN)) == 0))
		return "timed out";
	if (s->c->err == REDIS_ERR_EOF)
		return "connection closed by server";
	return s->c->errstr[0] ? s->c->errstr : "no reply";
}

/* One command during connection set-up; 0 or -1 with why. */
static int stats_simple(cr_stats *s, int argc, const char **argv, char *why, size_t whylen)
{
	redisReply *r = redisCommandArgv(s->c, argc, argv, NULL);

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "%s: %s", argv[0], stats_why(s, r));
		if (r != NULL)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static int stats_connect(cr_stats *s, char *why, size_t whylen)
{
	stats_disconnect(s);
	if (s->socket[0])
		s->c = redisConnectUnixWithTimeout(s->socket, stats_tv(s->timeout_ms));
	else
		s->c = redisConnectWithTimeout(s->host, s->port, stats_tv(s->timeout_ms));
	if (s->c == NULL) {
		snprintf(why, whylen, "cannot allocate a connection");
		return -1;
	}
	if (s->c->err) {
		snprintf(why, whylen, "%s", s->c->errstr);
		stats_disconnect(s);
		return -1;
	}
	if (redisSetTimeout(s->c, stats_tv(s->timeout_ms)) != REDIS_OK) {
		snprintf(why, whylen, "cannot set the command timeout");
		stats_disconnect(s);
		return -1;
	}
	if (s->password[0]) {
		const char *argv[3] = { "AUTH", s->user, s->password };
		int rc = s->user[0] ? stats_simple(s, 3, argv, why, whylen)
				    : (argv[1] = s->password, stats_simple(s, 2, argv, why, whylen));
		if (rc < 0) {
			stats_disconnect(s);
			return -1;
		}
	}
	if (s->db != 0) {
		char db[16];
		const char *argv[2] = { "SELECT", db };
		snprintf(db, sizeof db, "%d", s->db);
		if (stats_simple(s, 2, argv, why, whylen) < 0) {
			stats_disconnect(s);
			return -1;
		}
	}
	return 0;
}

/* Writes the days in one MULTI/EXEC, so a flush is counted entirely or not at
 * all.  0 or -1 with why. */
static int stats_write(cr_stats *s, const struct stats_day *days, char *why, size_t whylen)
{
	char key[STATS_PREFIX_MAX + 32], field[STATS_NAME_MAX + 8], num[24];
	const char *argv[4];
	size_t sent = 0;
	redisReply *r;
	int ok = 0;

	if (redisAppendCommand(s->c, "MULTI") != REDIS_OK)
		goto io;
	sent++;
	for (size_t i = 0; i < STATS_MAX_DAYS; i++) {
		const struct stats_day *d = &days[i];
		if (d->day[0] == '\0')
			continue;
		snprintf(key, sizeof key, "%.64s:{st}:day:%.10s", s->prefix, d->day);
		for (size_t j = 0; j <= d->nc; j++) {
			long long n = j < d->nc ? d->c[j].n : d->total;
			snprintf(field, sizeof field, "msg.%s", j < d->nc ? d->c[j].name : "total");
			snprintf(num, sizeof num, "%lld", n);
			argv[0] = "HINCRBY";
			argv[1] = key;
			argv[2] = field;
			argv[3] = num;
			if (redisAppendCommandArgv(s->c, 4, argv, NULL) != REDIS_OK)
				goto io;
			sent++;
		}
		argv[0] = "EXPIRE";
		argv[1] = key;
		argv[2] = STATS_KEY_TTL_S;
		if (redisAppendCommandArgv(s->c, 3, argv, NULL) != REDIS_OK)
			goto io;
		sent++;
	}
	if (redisAppendCommand(s->c, "EXEC") != REDIS_OK)
		goto io;
	sent++;
	for (size_t i = 0; i < sent; i++) {
		void *reply = NULL;
		if (redisGetReply(s->c, &reply) != REDIS_OK || reply == NULL)
			goto io;
		r = reply;
		if (i + 1 == sent) {
			/* EXEC: an array when every command ran; nil/error otherwise */
			if (r->type == REDIS_REPLY_ARRAY) {
				ok = 1;
				for (size_t k = 0; k < r->elements; k++)
					if (r->element[k]->type == REDIS_REPLY_ERROR) {
						snprintf(why, whylen, "EXEC: %s", r->element[k]->str);
						ok = 0;
						break;
					}
			} else
				snprintf(why, whylen, "EXEC: %s", stats_why(s, r));
		} else if (r->type == REDIS_REPLY_ERROR && !why[0]) {
			snprintf(why, whylen, "%s", r->str);
		}
		freeReplyObject(r);
	}
	/* Commands refused while queueing (ACL, OOM) make EXEC fail as a whole. */
	return ok ? 0 : -1;
io:
	snprintf(why, whylen, "%s", stats_why(s, NULL));
	stats_disconnect(s);
	return -1;
}

/* force: ignore the backoff (final flush). */
static int stats_flush_now(cr_stats *s, int force)
{
	struct stats_day days[STATS_MAX_DAYS];
	long long total = 0;
	char why[256] = "";
	int64_t now;
	int rc;

	pthread_mutex_lock(&s->io_lock);
	now = util_mono_ms();
	if (!force && s->down && now < s->next_try_ms) {
		pthread_mutex_unlock(&s->io_lock);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	memcpy(days, s->days, sizeof days);
	memset(s->days, 0, sizeof s->days);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < STATS_MAX_DAYS; i++)
		total += days[i].total;
	if (total == 0) {
		pthread_mutex_unlock(&s->io_lock);
		return 0;
	}
	rc = (s->c == NULL || s->c->err) ? stats_connect(s, why, sizeof why) : 0;
	if (rc == 0)
		rc = stats_write(s, days, why, sizeof why);
	now = util_mono_ms();
	if (rc == 0) {
		if (s->down)
			log_info("stats: redis %s reachable again after %lu failed attempt(s); "
				 "%lld message count(s) written", s->server, s->failures, total);
		s->down = 0;
		s->failures = 0;
		s->backoff_ms = 0;
	} else {
		stats_disconnect(s);
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < STATS_MAX_DAYS; i++) {
			const struct stats_day *d = &days[i];
			if (d->day[0] == '\0')
				continue;
			stats_add(s, d->day, "", 0, d->total);
			for (size_t j = 0; j < d->nc; j++)
				stats_add(s, d->day, d->c[j].name, d->c[j].n, 0);
		}
		pthread_mutex_unlock(&s->lock);
		s->failures++;
		if (!s->down || now - s->last_log_ms >= STATS_LOG_EVERY_MS) {
			log_warn("stats: redis %s: %s; %lld message count(s) kept in memory, "
				 "retrying", s->server, why[0] ? why : "failed", total);
			s->last_log_ms = now;
		}
		s->down = 1;
		s->backoff_ms = s->backoff_ms == 0 ? s->interval_ms : s->backoff_ms * 2;
		if (s->backoff_ms > s->retry_max_ms)
			s->backoff_ms = s->retry_max_ms;
		s->next_try_ms = now + s->backoff_ms;
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
		stats_errf(err, errlen, "stats: cannot start the writer thread: %s", strerror(rc));
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
		log_warn("stats: %lld message count(s) not written to redis %s", left, s->server);
	stats_disconnect(s);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->io_lock);
	explicit_bzero(s->password, sizeof s->password);
	free(s);
}
