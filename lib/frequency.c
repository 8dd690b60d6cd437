/* frequency: rolling-window counters of advertising mail per advertiser and
 * recipient (see frequency.h).  One script per recipient, each on one key, all
 * pipelined on one connection. */
#include "frequency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* KEYS counter; ARGV now_ms, window_ms, record, member.  The count before this
 * message. */
static const char frequency_lua[] =
	"local now = tonumber(ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))\n"
	"local n = redis.call('ZCARD', KEYS[1])\n"
	"if ARGV[3] == '1' then\n"
	"  redis.call('ZADD', KEYS[1], now, ARGV[4])\n"
	"  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"end\n"
	"return n\n";

/* The counter of advertiser and one recipient (a recipient that cannot be a key
 * part shares "-"). */
static void frequency_key(cr_kv *kv, const char *adv, const char *rcpt, char *key)
{
	char r[400];

	if (kv_key_part(rcpt, r, sizeof r) != 0)
		util_strlcpy(r, "-", sizeof r);
	snprintf(key, KV_KEY_MAX, "%s:freq:%s:%s", kv_prefix(kv), adv, r);
}

/* Runs one command per recipient, all in one pipeline: head, that recipient's
 * counter of advertiser, tail.  Each reply must be an integer: out[i] (out may be
 * NULL).  The sum of the replies, or -1 with err. */
static long long frequency_pipeline(cr_kv *kv, const char *advertiser,
				    const char *const *rcpts, size_t n, const char *const *head,
				    size_t nhead, const char *const *tail, size_t ntail,
				    long long *out, char *err, size_t errlen)
{
	char (*keys)[KV_KEY_MAX] = NULL, adv[300];
	size_t argc = nhead + 1 + ntail;
	const char **argvs = NULL;
	const char *const **av = NULL;
	int *argcs = NULL;
	redisReply **replies = NULL;
	long long sum = -1;

	if (kv_key_part(advertiser, adv, sizeof adv) != 0) {
		util_errf(err, errlen, "frequency: advertiser '%s' cannot be a key", advertiser);
		return -1;
	}
	keys = calloc(n, sizeof *keys);
	argvs = calloc(n * argc, sizeof *argvs);
	av = calloc(n, sizeof *av);
	argcs = calloc(n, sizeof *argcs);
	replies = calloc(n, sizeof *replies);
	if (keys == NULL || argvs == NULL || av == NULL || argcs == NULL || replies == NULL) {
		util_errf(err, errlen, "frequency: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char **a = argvs + i * argc;
		frequency_key(kv, adv, rcpts[i], keys[i]);
		memcpy(a, head, nhead * sizeof *a);
		a[nhead] = keys[i];
		memcpy(a + nhead + 1, tail, ntail * sizeof *a);
		argcs[i] = (int)argc;
		av[i] = a;
	}
	if (kv_pipeline(kv, n, argcs, av, NULL, replies, err, errlen) != 0)
		goto out;
	sum = 0;
	for (size_t i = 0; i < n; i++) {
		long long v = 0;
		if (replies[i]->type == REDIS_REPLY_INTEGER) {
			v = replies[i]->integer;
		} else {
			if (replies[i]->type == REDIS_REPLY_ERROR)
				util_errf(err, errlen, "redis %s: frequency: %.*s", kv_server(kv),
					  (int)replies[i]->len, replies[i]->str);
			else
				util_errf(err, errlen, "redis %s: frequency: unexpected reply",
					  kv_server(kv));
			sum = -1;
		}
		if (out != NULL)
			out[i] = v;
		if (sum >= 0)
			sum += v;
	}
out:
	if (replies != NULL)
		for (size_t i = 0; i < n; i++)
			if (replies[i] != NULL)
				freeReplyObject(replies[i]);
	free(keys);
	free(argvs);
	free(av);
	free(argcs);
	free(replies);
	return sum;
}

int frequency_count(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		    int64_t now_ms, int64_t window_s, int record, const char *tag,
		    long long *counts, char *member_out, char *err, size_t errlen)
{
	char now[24], win[24], member[FREQUENCY_MEMBER_MAX];
	const char *const head[] = { "EVAL", frequency_lua, "1" };
	const char *const tail[] = { now, win, record ? "1" : "0", member };

	if (member_out != NULL)
		member_out[0] = '\0';
	if (n == 0)
		return 0;
	snprintf(now, sizeof now, "%lld", (long long)now_ms);
	snprintf(win, sizeof win, "%lld", (long long)window_s * 1000);
	/* unique within the window: time, tag and a random part */
	snprintf(member, sizeof member, "%lld:%.60s:%08x", (long long)now_ms, tag ? tag : "-",
		 (unsigned)random());
	if (frequency_pipeline(kv, advertiser, rcpts, n, head, 3, tail, 4, counts, err, errlen) < 0)
		return -1;
	if (record && member_out != NULL)
		util_strlcpy(member_out, member, FREQUENCY_MEMBER_MAX);
	return 0;
}

long long frequency_forget(cr_kv *kv, const char *advertiser, const char *const *rcpts,
			   size_t n, const char *member, char *err, size_t errlen)
{
	const char *const head[] = { "ZREM" };
	const char *const tail[] = { member };

	if (n == 0 || member == NULL || member[0] == '\0')
		return 0;
	return frequency_pipeline(kv, advertiser, rcpts, n, head, 1, tail, 1, NULL, err, errlen);
}
