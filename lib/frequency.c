/* frequency: rolling-window counters of advertising mail per advertiser (and
 * per advertiser and content) and recipient (see frequency.h).  One script per
 * counter and recipient, each on one key, all pipelined on one connection. */
#include "frequency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A counter's key part: the advertiser (< 300 bytes), '#', the content. */
#define FREQUENCY_SCOPE_MAX 340

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

/* The counter of scope (the advertiser's key part, or "ADVERTISER#CONTENT") and
 * one recipient (a recipient that cannot be a key part shares "-"). */
static void frequency_key(cr_kv *kv, const char *scope, const char *rcpt, char *key)
{
	char r[400];

	if (kv_key_part(rcpt, r, sizeof r) != 0)
		util_strlcpy(r, "-", sizeof r);
	snprintf(key, KV_KEY_MAX, "%s:freq:%s:%s", kv_prefix(kv), scope, r);
}

/* The key parts of the counters asked for: scopes[0] the advertiser's (when
 * per_adv), then advertiser#content (when content is not NULL).  '#' never
 * appears in a domain name and ':' ends the part, so no scope can pass for
 * another.  How many, or -1 with err. */
static int frequency_scopes(const char *advertiser, const char *content, int per_adv,
			    char scopes[2][FREQUENCY_SCOPE_MAX], char *err, size_t errlen)
{
	char adv[300];
	int ns = 0;

	if (kv_key_part(advertiser, adv, sizeof adv) != 0 || strpbrk(adv, ":#") != NULL) {
		util_errf(err, errlen, "frequency: advertiser '%s' cannot be a key", advertiser);
		return -1;
	}
	if (per_adv)
		util_strlcpy(scopes[ns++], adv, sizeof scopes[0]);
	if (content != NULL) {
		char c[40];
		if (kv_key_part(content, c, sizeof c) != 0 || strpbrk(c, ":#") != NULL) {
			util_errf(err, errlen, "frequency: content '%s' cannot be a key", content);
			return -1;
		}
		snprintf(scopes[ns++], sizeof scopes[0], "%s#%s", adv, c);
	}
	return ns;
}

/* Runs "HEAD... KEY TAIL..." for each of the nc keys, all in one pipeline: the
 * sum of the integer replies (each in out[c] when out is not NULL), or -1 with
 * err. */
static long long keys_pipeline(cr_kv *kv, const char *const *keys, size_t nc,
			       const char *const *head, size_t nhead, const char *const *tail,
			       size_t ntail, long long *out, char *err, size_t errlen)
{
	size_t argc = nhead + 1 + ntail;
	const char **argvs = NULL;
	const char *const **av = NULL;
	int *argcs = NULL;
	redisReply **replies = NULL;
	long long sum = -1;

	if (nc == 0)
		return 0;
	argvs = calloc(nc * argc, sizeof *argvs);
	av = calloc(nc, sizeof *av);
	argcs = calloc(nc, sizeof *argcs);
	replies = calloc(nc, sizeof *replies);
	if (argvs == NULL || av == NULL || argcs == NULL || replies == NULL) {
		util_errf(err, errlen, "frequency: out of memory");
		goto out;
	}
	for (size_t c = 0; c < nc; c++) {
		const char **a = argvs + c * argc;
		memcpy(a, head, nhead * sizeof *a);
		a[nhead] = keys[c];
		memcpy(a + nhead + 1, tail, ntail * sizeof *a);
		argcs[c] = (int)argc;
		av[c] = a;
	}
	if (kv_pipeline(kv, nc, argcs, av, NULL, replies, err, errlen) != 0)
		goto out;
	sum = 0;
	for (size_t c = 0; c < nc; c++) {
		long long v = 0;
		if (replies[c]->type == REDIS_REPLY_INTEGER) {
			v = replies[c]->integer;
		} else {
			if (replies[c]->type == REDIS_REPLY_ERROR)
				util_errf(err, errlen, "redis %s: frequency: %.*s", kv_server(kv),
					  (int)replies[c]->len, replies[c]->str);
			else
				util_errf(err, errlen, "redis %s: frequency: unexpected reply",
					  kv_server(kv));
			sum = -1;
		}
		if (out != NULL)
			out[c] = v;
		if (sum >= 0)
			sum += v;
	}
out:
	if (replies != NULL)
		for (size_t c = 0; c < nc; c++)
			if (replies[c] != NULL)
				freeReplyObject(replies[c]);
	free(argvs);
	free(av);
	free(argcs);
	free(replies);
	return sum;
}

/* The counter keys of each scope and recipient, scope-major: one malloc'd
 * block (the pointers, then the keys they point to), or NULL. */
static const char **frequency_keys(cr_kv *kv, char scopes[2][FREQUENCY_SCOPE_MAX], size_t ns,
				   const char *const *rcpts, size_t n)
{
	size_t nc = ns * n;
	const char **kp = malloc(nc * (sizeof *kp + KV_KEY_MAX));
	char *keys = (char *)(kp + nc);

	if (kp == NULL)
		return NULL;
	for (size_t c = 0; c < nc; c++) {
		frequency_key(kv, scopes[c / n], rcpts[c % n], keys + c * KV_KEY_MAX);
		kp[c] = keys + c * KV_KEY_MAX;
	}
	return kp;
}

/* A message's member: unique within the window (time, tag, a random part). */
static void frequency_member(int64_t now_ms, const char *tag, char out[FREQUENCY_MEMBER_MAX])
{
	snprintf(out, FREQUENCY_MEMBER_MAX, "%lld:%.60s:%08x", (long long)now_ms,
		 tag ? tag : "-", (unsigned)random());
}

/* frequency_lua on each of the n keys with member: their counts before it in
 * counts (NULL: not kept).  0, or -1 with err. */
static int window_eval(cr_kv *kv, const char *const *keys, size_t n, int64_t now_ms,
		       int64_t window_s, int record, const char *member, long long *counts,
		       char *err, size_t errlen)
{
	char now[24], win[24];
	const char *const head[] = { "EVAL", frequency_lua, "1" };
	const char *const tail[] = { now, win, record ? "1" : "0", member };

	snprintf(now, sizeof now, "%lld", (long long)now_ms);
	snprintf(win, sizeof win, "%lld", (long long)window_s * 1000);
	return keys_pipeline(kv, keys, n, head, 3, tail, 4, counts, err, errlen) < 0 ? -1 : 0;
}

int frequency_window(cr_kv *kv, const char *const *keys, size_t n, int64_t now_ms,
		     int64_t window_s, int record, const char *tag, long long *counts, char *err,
		     size_t errlen)
{
	char member[FREQUENCY_MEMBER_MAX];

	frequency_member(now_ms, tag, member);
	return window_eval(kv, keys, n, now_ms, window_s, record, member, counts, err, errlen);
}

int frequency_count(cr_kv *kv, const char *advertiser, const char *content,
		    const char *const *rcpts, size_t n, int64_t now_ms, int64_t window_s,
		    int record, const char *tag, long long *counts, long long *same,
		    char *member_out, char *err, size_t errlen)
{
	char member[FREQUENCY_MEMBER_MAX], scopes[2][FREQUENCY_SCOPE_MAX];
	const char **keys;
	long long *out;
	int ns, rc;

	if (member_out != NULL)
		member_out[0] = '\0';
	if (content != NULL && same == NULL) {
		util_errf(err, errlen, "frequency: a content counter without its counts");
		return -1;
	}
	ns = frequency_scopes(advertiser, content, counts != NULL, scopes, err, errlen);
	if (ns < 0)
		return -1;
	if (n == 0 || ns == 0)
		return 0;
	out = calloc((size_t)ns * n, sizeof *out);
	keys = frequency_keys(kv, scopes, (size_t)ns, rcpts, n);
	if (out == NULL || keys == NULL) {
		free(out);
		free(keys);
		util_errf(err, errlen, "frequency: out of memory");
		return -1;
	}
	frequency_member(now_ms, tag, member);
	rc = window_eval(kv, keys, (size_t)ns * n, now_ms, window_s, record, member, out, err,
			 errlen);
	free(keys);
	if (rc == 0) {
		if (counts != NULL)
			memcpy(counts, out, n * sizeof *counts);
		if (content != NULL)
			memcpy(same, out + (counts != NULL ? n : 0), n * sizeof *same);
		if (record && member_out != NULL)
			util_strlcpy(member_out, member, FREQUENCY_MEMBER_MAX);
	}
	free(out);
	return rc;
}

long long frequency_forget(cr_kv *kv, const char *advertiser, const char *content,
			   const char *const *rcpts, size_t n, const char *member, char *err,
			   size_t errlen)
{
	const char *const head[] = { "ZREM" };
	const char *const tail[] = { member };
	char scopes[2][FREQUENCY_SCOPE_MAX];
	const char **keys;
	long long removed;
	int ns;

	if (n == 0 || member == NULL || member[0] == '\0')
		return 0;
	ns = frequency_scopes(advertiser, content, 1, scopes, err, errlen);
	if (ns < 0)
		return -1;
	keys = frequency_keys(kv, scopes, (size_t)ns, rcpts, n);
	if (keys == NULL) {
		util_errf(err, errlen, "frequency: out of memory");
		return -1;
	}
	removed = keys_pipeline(kv, keys, (size_t)ns * n, head, 1, tail, 1, NULL, err, errlen);
	free(keys);
	return removed;
}
