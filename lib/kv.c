/* kv: pooled hiredis connections for per-message state (see kv.h).  Idle
 * connections wait on a stack under lock; a call pops one (or connects), uses
 * it without the lock, and pushes it back unless it failed. */
#include "kv.h"
#include "redisconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Idle connections kept; more may be open at once, the rest are closed. */
#define KV_POOL_IDLE 32
/* After a failed connect or command no new call is tried for this long (ms). */
#define KV_BACKOFF_MS 1000

struct cr_kv {
	/* configuration, immutable after kv_open */
	struct redis_conf rc;
	int64_t connect_ms, command_ms;

	pthread_mutex_t lock; /* guards idle, nidle, down_until_ms */
	redisContext *idle[KV_POOL_IDLE];
	size_t nidle;
	int64_t down_until_ms;
};

cr_kv *kv_open(const cr_conf *conf, int64_t timeout_ms, char *err, size_t errlen)
{
	cr_kv *kv = calloc(1, sizeof *kv);

	if (kv == NULL) {
		util_errf(err, errlen, "kv: out of memory");
		return NULL;
	}
	pthread_mutex_init(&kv->lock, NULL);
	if (redis_conf_load(conf, &kv->rc, err, errlen) < 0)
		goto fail;
	if (timeout_ms > 0) {
		kv->connect_ms = kv->command_ms = timeout_ms;
	} else {
		kv->connect_ms = conf_ms(conf, "redis", "connect_timeout");
		kv->command_ms = conf_ms(conf, "redis", "command_timeout");
	}
	return kv;
fail:
	kv_close(kv);
	return NULL;
}

void kv_close(cr_kv *kv)
{
	if (kv == NULL)
		return;
	for (size_t i = 0; i < kv->nidle; i++)
		redisFree(kv->idle[i]);
	explicit_bzero(kv->rc.password, sizeof kv->rc.password);
	pthread_mutex_destroy(&kv->lock);
	free(kv);
}

const char *kv_prefix(const cr_kv *kv)
{
	return kv->rc.prefix;
}

const char *kv_server(const cr_kv *kv)
{
	return kv->rc.server;
}

static void kv_io_error(const cr_kv *kv, redisContext *c, const char *what, char *err,
			size_t errlen)
{
	util_errf(err, errlen, "redis %s: %s: %s", kv->rc.server, what, redis_conf_why(c));
}

/* A connection: an idle one (*pooled = 1) or a new one. */
static redisContext *kv_get(cr_kv *kv, int *pooled, char *err, size_t errlen)
{
	redisContext *c = NULL;
	int64_t now = util_mono_ms();

	*pooled = 0;
	pthread_mutex_lock(&kv->lock);
	if (now < kv->down_until_ms) {
		/* a connect or a command failed just now: fail fast for a while */
		pthread_mutex_unlock(&kv->lock);
		util_errf(err, errlen, "redis %s: unavailable (retrying shortly)", kv->rc.server);
		return NULL;
	}
	if (kv->nidle > 0) {
		c = kv->idle[--kv->nidle];
		*pooled = 1;
	}
	pthread_mutex_unlock(&kv->lock);
	if (c != NULL)
		return c;
	c = redis_conf_connect(&kv->rc, kv->connect_ms, kv->command_ms, err, errlen);
	if (c == NULL) {
		pthread_mutex_lock(&kv->lock);
		kv->down_until_ms = util_mono_ms() + KV_BACKOFF_MS;
		pthread_mutex_unlock(&kv->lock);
	}
	return c;
}

static void kv_put(cr_kv *kv, redisContext *c, int broken)
{
	if (c == NULL)
		return;
	if (!broken && c->err == 0) {
		pthread_mutex_lock(&kv->lock);
		if (kv->nidle < KV_POOL_IDLE) {
			kv->idle[kv->nidle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&kv->lock);
	}
	if (c != NULL)
		redisFree(c);
}

int kv_pipeline(cr_kv *kv, size_t n, const int *argcs, const char *const *const *argvs,
		const size_t *const *lens, redisReply **replies, char *err, size_t errlen)
{
	redisContext *c;
	size_t got = 0;
	int retried = 0, pooled;

	for (size_t i = 0; i < n; i++)
		replies[i] = NULL;
again:
	c = kv_get(kv, &pooled, err, errlen);
	if (c == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(c, argcs[i], (const char **)argvs[i],
					   lens != NULL ? lens[i] : NULL) != REDIS_OK)
			goto io;
	for (got = 0; got < n; got++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK || r == NULL)
			goto io;
		replies[got] = r;
	}
	kv_put(kv, c, 0);
	return 0;
io:
	/* an idle connection the server closed meanwhile (timeout, restart): the
	 * first reply failed, so retry once on a new connection */
	if (!retried && pooled && got == 0 &&
	    (c->err == REDIS_ERR_EOF || c->err == REDIS_ERR_IO)) {
		redisFree(c);
		retried = 1;
		goto again;
	}
	kv_io_error(kv, c, argvs[0][0], err, errlen);
	/* a server that stopped answering (timeout) costs the next messages
	 * nothing until the back-off ends */
	pthread_mutex_lock(&kv->lock);
	kv->down_until_ms = util_mono_ms() + KV_BACKOFF_MS;
	pthread_mutex_unlock(&kv->lock);
	for (size_t i = 0; i < got; i++) {
		freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	kv_put(kv, c, 1);
	return -1;
}

redisReply *kv_command(cr_kv *kv, char *err, size_t errlen, int argc, const char **argv)
{
	redisReply *r;
	const char *const *av = argv;

	if (kv_pipeline(kv, 1, &argc, &av, NULL, &r, err, errlen) != 0)
		return NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		util_errf(err, errlen, "redis %s: %s: %.*s", kv->rc.server, argv[0], (int)r->len, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int kv_key_part(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (in == NULL || in[0] == '\0')
		return -1;
	for (; in[n]; n++) {
		unsigned char ch = (unsigned char)in[n];
		if (n + 1 >= outlen || ch <= ' ' || ch == 0x7f || ch == '{' || ch == '}')
			return -1;
		out[n] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	out[n] = '\0';
	return 0;
}
