/* optout: opt-out requests in Redis (see optout.h).  Records, the per-recipient
 * index and the time index share the hash tag {oo}; add and del are one Lua
 * script each so the three never disagree. */
#include "optout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* add: KEYS seq, rcpt index, all; ARGV rcpt, advertiser, channel, at, added,
 * source, record key prefix.  {1, id} or {0, existing id}. */
static const char optout_lua_add[] =
	"local cur = redis.call('HGET', KEYS[2], ARGV[2])\n"
	"if cur then return {0, tonumber(string.match(cur, '^(%d+)'))} end\n"
	"local id = redis.call('INCR', KEYS[1])\n"
	"redis.call('HSET', ARGV[7] .. id, 'rcpt', ARGV[1], 'advertiser', ARGV[2],\n"
	"  'channel', ARGV[3], 'at', ARGV[4], 'added', ARGV[5], 'confirmed', '0',\n"
	"  'source', ARGV[6])\n"
	"redis.call('HSET', KEYS[2], ARGV[2], id .. ' ' .. ARGV[4])\n"
	"redis.call('ZADD', KEYS[3], ARGV[4], id)\n"
	"return {1, id}\n";

/* del: KEYS all; ARGV id, record key prefix, rcpt index prefix. */
static const char optout_lua_del[] =
	"local rec = ARGV[2] .. ARGV[1]\n"
	"local v = redis.call('HMGET', rec, 'rcpt', 'advertiser')\n"
	"if not v[1] then return 0 end\n"
	"local idx = ARGV[3] .. v[1]\n"
	"local cur = redis.call('HGET', idx, v[2])\n"
	"if cur and string.match(cur, '^(%d+)') == ARGV[1] then redis.call('HDEL', idx, v[2]) end\n"
	"redis.call('DEL', rec)\n"
	"redis.call('ZREM', KEYS[1], ARGV[1])\n"
	"return 1\n";

/* confirm: KEYS record; ARGV when. */
static const char optout_lua_confirm[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'confirmed', ARGV[1])\n"
	"return 1\n";

int optout_valid_channel(const char *c)
{
	return c != NULL && (strcmp(c, "web") == 0 || strcmp(c, "email") == 0 ||
			     strcmp(c, "phone") == 0);
}

static void optout_key(const cr_kv *kv, char *buf, size_t len, const char *what,
		       const char *arg)
{
	snprintf(buf, len, "%s:{oo}:%s%s", kv_prefix(kv), what, arg);
}

int optout_normalise_rcpt(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char tmp[MSG_ADDR_MAX + 1], dom[DNAME_MAX + 1], derr[200];
	const char *at;
	size_t n;

	while (*in == ' ' || *in == '<')
		in++;
	if (util_strlcpy(tmp, in, sizeof tmp) >= sizeof tmp) {
		util_errf(err, errlen, "recipient '%s': longer than %d characters", in, MSG_ADDR_MAX);
		return -1;
	}
	n = strlen(tmp);
	while (n > 0 && (tmp[n - 1] == '>' || tmp[n - 1] == ' '))
		tmp[--n] = '\0';
	at = strrchr(tmp, '@');
	if (at == NULL || at == tmp || at[1] == '\0') {
		util_errf(err, errlen, "recipient '%s': not an email address (local@domain)", in);
		return -1;
	}
	if (dname_normalise(at + 1, dom, sizeof dom, derr, sizeof derr) != 0) {
		util_errf(err, errlen, "recipient '%s': %s", in, derr);
		return -1;
	}
	tmp[at - tmp] = '\0';
	if ((size_t)snprintf(out, outlen, "%s@%s", tmp, dom) >= outlen ||
	    kv_key_part(out, out, outlen) != 0) {
		util_errf(err, errlen, "recipient '%s': too long or contains spaces or braces", in);
		return -1;
	}
	return 0;
}

int optout_normalise_advertiser(const char *in, char *out, size_t outlen, char *err,
				size_t errlen)
{
	char dom[DNAME_MAX + 1], derr[200];

	if (strcmp(in, OPTOUT_ALL) == 0) {
		util_strlcpy(out, OPTOUT_ALL, outlen);
		return 0;
	}
	if (dname_normalise(in, dom, sizeof dom, derr, sizeof derr) != 0) {
		util_errf(err, errlen, "advertiser '%s': %s", in, derr);
		return -1;
	}
	if (strchr(dom, '.') == NULL) {
		util_errf(err, errlen, "advertiser '%s': not a registered domain", in);
		return -1;
	}
	if (dname_registered(dom, out, outlen) < 0) {
		util_errf(err, errlen, "advertiser '%s': too long", in);
		return -1;
	}
	return 0;
}

int optout_add(cr_kv *kv, struct optout *o, char *err, size_t errlen)
{
	char seq[KV_KEY_MAX], idx[KV_KEY_MAX], all[KV_KEY_MAX], rec[KV_KEY_MAX];
	char at[24], added[24];
	const char *argv[] = { "EVAL", optout_lua_add, "3", seq, idx, all, o->rcpt,
			       o->advertiser, o->channel, at, added, o->source, rec };
	redisReply *r;
	int rc = OPTOUT_EUNAVAIL;

	for (char *p = o->source; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	optout_key(kv, seq, sizeof seq, "seq", "");
	optout_key(kv, idx, sizeof idx, "rcpt:", o->rcpt);
	optout_key(kv, all, sizeof all, "all", "");
	optout_key(kv, rec, sizeof rec, "rec:", "");
	snprintf(at, sizeof at, "%lld", (long long)o->at);
	snprintf(added, sizeof added, "%lld", (long long)o->added);
	r = kv_command(kv, err, errlen, (int)(sizeof argv / sizeof argv[0]), argv);
	if (r == NULL)
		return OPTOUT_EUNAVAIL;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		o->id = r->element[1]->integer;
		rc = r->element[0]->integer == 1 ? OPTOUT_OK : OPTOUT_EXISTS;
	} else {
		util_errf(err, errlen, "redis %s: optout add: unexpected reply", kv_server(kv));
	}
	freeReplyObject(r);
	return rc;
}

int optout_confirm(cr_kv *kv, long long id, int64_t when, char *err, size_t errlen)
{
	char rec[KV_KEY_MAX], sid[24], w[24];
	const char *argv[] = { "EVAL", optout_lua_confirm, "1", rec, w };
	redisReply *r;
	int rc;

	snprintf(sid, sizeof sid, "%lld", id);
	snprintf(w, sizeof w, "%lld", (long long)when);
	optout_key(kv, rec, sizeof rec, "rec:", sid);
	r = kv_command(kv, err, errlen, 5, argv);
	if (r == NULL)
		return OPTOUT_EUNAVAIL;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? OPTOUT_OK : OPTOUT_NOTFOUND;
	freeReplyObject(r);
	return rc;
}

int optout_del(cr_kv *kv, long long id, char *err, size_t errlen)
{
	char all[KV_KEY_MAX], rec[KV_KEY_MAX], idx[KV_KEY_MAX], sid[24];
	const char *argv[] = { "EVAL", optout_lua_del, "1", all, sid, rec, idx };
	redisReply *r;
	int rc;

	snprintf(sid, sizeof sid, "%lld", id);
	optout_key(kv, all, sizeof all, "all", "");
	optout_key(kv, rec, sizeof rec, "rec:", "");
	optout_key(kv, idx, sizeof idx, "rcpt:", "");
	r = kv_command(kv, err, errlen, 7, argv);
	if (r == NULL)
		return OPTOUT_EUNAVAIL;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? OPTOUT_OK : OPTOUT_NOTFOUND;
	freeReplyObject(r);
	return rc;
}

static void optout_copy(char *dst, size_t len, const redisReply *r)
{
	dst[0] = '\0';
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		size_t n = r->len < len - 1 ? r->len : len - 1;
		memcpy(dst, r->str, n);
		dst[n] = '\0';
		for (char *p = dst; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	}
}

static int64_t optout_int(const redisReply *r)
{
	char buf[32];
	int64_t v = 0;

	optout_copy(buf, sizeof buf, r);
	if (util_parse_i64(buf, INT64_MIN, INT64_MAX, &v) != 0)
		v = 0;
	return v;
}

int optout_get(cr_kv *kv, long long id, struct optout *o, char *err, size_t errlen)
{
	char rec[KV_KEY_MAX], sid[24];
	const char *argv[] = { "HMGET", rec, "rcpt", "advertiser", "channel", "at", "added",
			       "confirmed", "source" };
	redisReply *r;

	memset(o, 0, sizeof *o);
	snprintf(sid, sizeof sid, "%lld", id);
	optout_key(kv, rec, sizeof rec, "rec:", sid);
	r = kv_command(kv, err, errlen, 9, argv);
	if (r == NULL)
		return OPTOUT_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return OPTOUT_NOTFOUND;
	}
	o->id = id;
	optout_copy(o->rcpt, sizeof o->rcpt, r->element[0]);
	optout_copy(o->advertiser, sizeof o->advertiser, r->element[1]);
	optout_copy(o->channel, sizeof o->channel, r->element[2]);
	o->at = optout_int(r->element[3]);
	o->added = optout_int(r->element[4]);
	o->confirmed = optout_int(r->element[5]);
	optout_copy(o->source, sizeof o->source, r->element[6]);
	freeReplyObject(r);
	return OPTOUT_OK;
}

int optout_list(cr_kv *kv, const char *rcpt, optout_fn fn, void *ud, char *err, size_t errlen)
{
	char all[KV_KEY_MAX];
	const char *argv[] = { "ZRANGE", all, "0", "-1" };
	redisReply *r;
	int n = 0;

	optout_key(kv, all, sizeof all, "all", "");
	r = kv_command(kv, err, errlen, 4, argv);
	if (r == NULL)
		return OPTOUT_EUNAVAIL;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		struct optout o;
		int64_t id = optout_int(r->element[i]);
		int st;
		if (id <= 0)
			continue;
		st = optout_get(kv, id, &o, err, errlen);
		if (st == OPTOUT_NOTFOUND)
			continue;
		if (st != OPTOUT_OK) {
			freeReplyObject(r);
			return st;
		}
		if (rcpt != NULL && strcmp(rcpt, o.rcpt) != 0)
			continue;
		n++;
		if (fn(ud, &o) != 0)
			break;
	}
	freeReplyObject(r);
	return n;
}

/* "ID AT" -> hit; 0 when r holds no such value. */
static int optout_parse_hit(const redisReply *r, struct optout_hit *h)
{
	char buf[64];
	long long id, at;

	optout_copy(buf, sizeof buf, r);
	if (sscanf(buf, "%lld %lld", &id, &at) != 2 || id <= 0)
		return 0;
	h->id = id;
	h->at = at;
	return 1;
}

/* The earlier of two hits (the second when as old); a hit beats none. */
static void optout_earlier(struct optout_hit *into, const struct optout_hit *h)
{
	if (h->id != 0 && (into->id == 0 || h->at <= into->at))
		*into = *h;
}

int optout_check_delim(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		       char delim, struct optout_hit *out, char *err, size_t errlen)
{
	char (*keys)[KV_KEY_MAX] = NULL;
	const char **argvs = NULL;
	const char *const **av = NULL;
	int *argcs = NULL;
	size_t *owner = NULL, ncmd = 0;
	redisReply **replies = NULL;
	int rc = 0;

	memset(out, 0, n * sizeof *out);
	if (n == 0)
		return 0;
	/* up to two lookups per recipient: as given, and without its extension */
	keys = calloc(2 * n, sizeof *keys);
	argvs = calloc(2 * n * 4, sizeof *argvs);
	av = calloc(2 * n, sizeof *av);
	argcs = calloc(2 * n, sizeof *argcs);
	owner = calloc(2 * n, sizeof *owner);
	replies = calloc(2 * n, sizeof *replies);
	if (keys == NULL || argvs == NULL || av == NULL || argcs == NULL || owner == NULL ||
	    replies == NULL) {
		util_errf(err, errlen, "optout: out of memory");
		rc = OPTOUT_EUNAVAIL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char r[MSG_ADDR_MAX + 1], base[MSG_ADDR_MAX + 1];
		const char *at, *ext;
		int forms = 1;
		if (kv_key_part(rcpts[i], r, sizeof r) != 0)
			util_strlcpy(r, "-", sizeof r); /* cannot be a stored recipient */
		at = strrchr(r, '@');
		ext = delim != '\0' && at != NULL ? memchr(r, delim, (size_t)(at - r)) : NULL;
		if (ext != NULL && ext > r) {
			/* "an+shop@example.vn" is also "an@example.vn" (Postfix
			 * recipient_delimiter) */
			snprintf(base, sizeof base, "%.*s%s", (int)(ext - r), r, at);
			forms = 2;
		}
		for (int f = 0; f < forms; f++, ncmd++) {
			optout_key(kv, keys[ncmd], sizeof keys[ncmd], "rcpt:", f == 0 ? r : base);
			argvs[ncmd * 4] = "HMGET";
			argvs[ncmd * 4 + 1] = keys[ncmd];
			argvs[ncmd * 4 + 2] = advertiser;
			argvs[ncmd * 4 + 3] = OPTOUT_ALL;
			argcs[ncmd] = 4;
			av[ncmd] = argvs + ncmd * 4;
			owner[ncmd] = i;
		}
	}
	if (kv_pipeline(kv, ncmd, argcs, av, NULL, replies, err, errlen) != 0) {
		rc = OPTOUT_EUNAVAIL;
		goto out;
	}
	for (size_t k = 0; k < ncmd; k++) {
		struct optout_hit a = { 0 }, b = { 0 };
		redisReply *r = replies[k];
		if (r->type == REDIS_REPLY_ERROR) {
			util_errf(err, errlen, "redis %s: HMGET: %.*s", kv_server(kv), (int)r->len,
				  r->str);
			rc = OPTOUT_EUNAVAIL;
			continue;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
			continue;
		if (optout_parse_hit(r->element[0], &a))
			optout_earlier(&out[owner[k]], &a);
		if (optout_parse_hit(r->element[1], &b)) {
			b.all = 1;
			optout_earlier(&out[owner[k]], &b);
		}
	}
out:
	if (replies != NULL)
		for (size_t k = 0; k < ncmd; k++)
			if (replies[k] != NULL)
				freeReplyObject(replies[k]);
	free(keys);
	free(argvs);
	free(av);
	free(argcs);
	free(owner);
	free(replies);
	return rc;
}

int optout_check(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		 struct optout_hit *out, char *err, size_t errlen)
{
	return optout_check_delim(kv, advertiser, rcpts, n, '\0', out, err, errlen);
}
