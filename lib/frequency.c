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

int frequency_count(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		    int64_t now_ms, int64_t window_s, int record, const char *tag,
		    long long *counts, char *err, size_t errlen)
{
	char (*keys)[KV_KEY_MAX] = NULL, now[24], win[24], member[128], adv[300];
	const char **argvs = NULL;
	const char *const **av = NULL;
	int *argcs = NULL;
	redisReply **replies = NULL;
	int rc = -1;

	if (n == 0)
		return 0;
	if (kv_key_part(advertiser, adv, sizeof adv) != 0) {
		util_errf(err, errlen, "frequency: advertiser '%s' cannot be a key", advertiser);
		return -1;
	}
	keys = calloc(n, sizeof *keys);
	argvs = calloc(n * 8, sizeof *argvs);
	av = calloc(n, sizeof *av);
	argcs = calloc(n, sizeof *argcs);
	replies = calloc(n, sizeof *replies);
	if (keys == NULL || argvs == NULL || av == NULL || argcs == NULL || replies == NULL) {
		util_errf(err, errlen, "frequency: out of memory");
		goto out;
	}
	snprintf(now, sizeof now, "%lld", (long long)now_ms);
	snprintf(win, sizeof win, "%lld", (long long)window_s * 1000);
	/* unique within the window: time, tag and a random part */
	snprintf(member, sizeof member, "%lld:%.60s:%08x", (long long)now_ms, tag ? tag : "-",
		 (unsigned)random());
	for (size_t i = 0; i < n; i++) {
		char r[400];
		if (kv_key_part(rcpts[i], r, sizeof r) != 0)
			util_strlcpy(r, "-", sizeof r);
		snprintf(keys[i], sizeof keys[i], "%s:freq:%s:%s", kv_prefix(kv), adv, r);
		argvs[i * 8] = "EVAL";
		argvs[i * 8 + 1] = frequency_lua;
		argvs[i * 8 + 2] = "1";
		argvs[i * 8 + 3] = keys[i];
		argvs[i * 8 + 4] = now;
		argvs[i * 8 + 5] = win;
		argvs[i * 8 + 6] = record ? "1" : "0";
		argvs[i * 8 + 7] = member;
		argcs[i] = 8;
		av[i] = argvs + i * 8;
	}
	if (kv_pipeline(kv, n, argcs, av, NULL, replies, err, errlen) != 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (replies[i]->type != REDIS_REPLY_INTEGER) {
			if (replies[i]->type == REDIS_REPLY_ERROR)
				util_errf(err, errlen, "redis %s: frequency: %.*s", kv_server(kv),
					  (int)replies[i]->len, replies[i]->str);
			else
				util_errf(err, errlen, "redis %s: frequency: unexpected reply",
					  kv_server(kv));
			rc = -1;
			counts[i] = 0;
			continue;
		}
		counts[i] = replies[i]->integer;
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
	return rc;
}
