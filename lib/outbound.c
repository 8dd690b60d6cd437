/* outbound: hourly counters and holds of submission users in Redis (see
 * outbound.h).  Counting and reading the hold is one script per message;
 * holding and releasing are one script each. */
#include "outbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Counters live two hours: the current one is complete until it ends. */
#define OUTBOUND_TTL "7200"

/* KEYS user hour, ip hour, hold; ARGV nrcpts, record, user, has_ip. */
static const char outbound_lua_count[] =
	"if ARGV[2] == '1' then\n"
	"  redis.call('HINCRBY', KEYS[1], 'msgs', 1)\n"
	"  redis.call('HINCRBY', KEYS[1], 'rcpts', ARGV[1])\n"
	"  redis.call('EXPIRE', KEYS[1], " OUTBOUND_TTL ")\n"
	"  if ARGV[4] == '1' then\n"
	"    redis.call('HINCRBY', KEYS[2], 'msgs', 1)\n"
	"    redis.call('HINCRBY', KEYS[2], 'rcpts', ARGV[1])\n"
	"    redis.call('EXPIRE', KEYS[2], " OUTBOUND_TTL ")\n"
	"  end\n"
	"end\n"
	"local u = redis.call('HMGET', KEYS[1], 'msgs', 'rcpts')\n"
	"local i = {false, false}\n"
	"if ARGV[4] == '1' then i = redis.call('HMGET', KEYS[2], 'msgs', 'rcpts') end\n"
	"local h = redis.call('HGET', KEYS[3], ARGV[3])\n"
	"return {u[1] or '0', u[2] or '0', i[1] or '0', i[2] or '0', h or ''}\n";

/* KEYS hold, held list, hold IPs; ARGV user, "SINCE\tREASON", "TIME QID" or "",
 * IP or "". */
static const char outbound_lua_hold[] =
	"local new = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])\n"
	"if new == 1 and ARGV[4] ~= '' then\n"
	"  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])\n"
	"elseif new == 1 then\n"
	"  redis.call('HDEL', KEYS[3], ARGV[1])\n"
	"end\n"
	"if ARGV[3] ~= '' then\n"
	"  redis.call('LPUSH', KEYS[2], ARGV[3])\n"
	"  redis.call('LTRIM', KEYS[2], 0, " "999" ")\n"
	"end\n"
	"return new\n";

/* KEYS hold, held list, user hour, hold IPs[, IP hour]; ARGV user.  false if
 * not held, else the held messages. */
static const char outbound_lua_release[] =
	"if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return false end\n"
	"local l = redis.call('LRANGE', KEYS[2], 0, -1)\n"
	"redis.call('DEL', KEYS[2], KEYS[3])\n"
	"redis.call('HDEL', KEYS[4], ARGV[1])\n"
	"if KEYS[5] then redis.call('DEL', KEYS[5]) end\n"
	"return l\n";

static int outbound_keys(cr_kv *kv, const char *user, const char *ip, int64_t now,
			 char *ukey, char *ikey, char *hold, char *held, char *err, size_t errlen)
{
	char u[OUTBOUND_USER_MAX + 1], i[64] = "-";
	long long hour = (long long)(now / 3600);

	if (kv_key_part(user, u, sizeof u) != 0) {
		util_errf(err, errlen, "user '%s': empty, too long, or contains spaces or braces",
			  user);
		return -1;
	}
	if (ip != NULL && kv_key_part(ip, i, sizeof i) != 0)
		util_strlcpy(i, "-", sizeof i);
	snprintf(ukey, KV_KEY_MAX, "%s:ob:u:%s:%lld", kv_prefix(kv), u, hour);
	snprintf(ikey, KV_KEY_MAX, "%s:ob:ip:%s:%lld", kv_prefix(kv), i, hour);
	snprintf(hold, KV_KEY_MAX, "%s:ob:hold", kv_prefix(kv));
	snprintf(held, KV_KEY_MAX, "%s:ob:held:%s", kv_prefix(kv), u);
	return 0;
}

/* The hash of the IP each held user was held from (release resets its counters). */
static void outbound_holdip_key(cr_kv *kv, char *key)
{
	snprintf(key, KV_KEY_MAX, "%s:ob:holdip", kv_prefix(kv));
}

static long long outbound_ll(const redisReply *r)
{
	char buf[32];
	int64_t v = 0;
	size_t n;

	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	n = r->len < sizeof buf - 1 ? r->len : sizeof buf - 1;
	memcpy(buf, r->str, n);
	buf[n] = '\0';
	if (util_parse_i64(buf, INT64_MIN, INT64_MAX, &v) != 0)
		v = 0;
	return v;
}

/* "SINCE\tREASON" -> h. */
static void outbound_parse_hold(const char *s, size_t len, struct outbound_hold *h)
{
	char buf[OUTBOUND_REASON_MAX + 32];
	char *tab;
	int64_t since = 0;

	memset(h, 0, sizeof *h);
	if (len == 0)
		return;
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	tab = strchr(buf, '\t');
	if (tab != NULL) {
		*tab = '\0';
		util_strlcpy(h->reason, tab + 1, sizeof h->reason);
	}
	if (util_parse_i64(buf, 0, INT64_MAX, &since) != 0)
		since = 0;
	h->held = 1;
	h->since = since;
}

int outbound_count(cr_kv *kv, const char *user, const char *ip, size_t nrcpts, int64_t now,
		   int record, struct outbound_counts *c, struct outbound_hold *h, char *err,
		   size_t errlen)
{
	char ukey[KV_KEY_MAX], ikey[KV_KEY_MAX], hold[KV_KEY_MAX], held[KV_KEY_MAX], n[24];
	char u[OUTBOUND_USER_MAX + 1];
	const char *argv[] = { "EVAL", outbound_lua_count, "3", ukey, ikey, hold, n,
			       record ? "1" : "0", u, ip != NULL ? "1" : "0" };
	redisReply *r;

	memset(c, 0, sizeof *c);
	memset(h, 0, sizeof *h);
	if (outbound_keys(kv, user, ip, now, ukey, ikey, hold, held, err, errlen) != 0)
		return OUTBOUND_NOTFOUND;
	kv_key_part(user, u, sizeof u);
	snprintf(n, sizeof n, "%zu", nrcpts);
	r = kv_command(kv, err, errlen, (int)(sizeof argv / sizeof argv[0]), argv);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
		util_errf(err, errlen, "redis %s: outbound: unexpected reply", kv_server(kv));
		freeReplyObject(r);
		return OUTBOUND_EUNAVAIL;
	}
	c->user_msgs = outbound_ll(r->element[0]);
	c->user_rcpts = outbound_ll(r->element[1]);
	c->ip_msgs = outbound_ll(r->element[2]);
	c->ip_rcpts = outbound_ll(r->element[3]);
	if (r->element[4]->type == REDIS_REPLY_STRING)
		outbound_parse_hold(r->element[4]->str, r->element[4]->len, h);
	freeReplyObject(r);
	return OUTBOUND_OK;
}

static int outbound_hold_script(cr_kv *kv, const char *user, const char *ip, int64_t now,
				const char *reason, const char *queue_id, int hold_too, char *err,
				size_t errlen)
{
	char ukey[KV_KEY_MAX], ikey[KV_KEY_MAX], hold[KV_KEY_MAX], held[KV_KEY_MAX];
	char holdip[KV_KEY_MAX], ipv[64] = "";
	char u[OUTBOUND_USER_MAX + 1], val[OUTBOUND_REASON_MAX + 32], item[128] = "";
	const char *argv[] = { "EVAL", outbound_lua_hold, "3", hold, held, holdip, u, val, item,
			       ipv };
	redisReply *r;
	int rc;

	if (outbound_keys(kv, user, NULL, now, ukey, ikey, hold, held, err, errlen) != 0)
		return OUTBOUND_NOTFOUND;
	kv_key_part(user, u, sizeof u);
	outbound_holdip_key(kv, holdip);
	if (ip != NULL && kv_key_part(ip, ipv, sizeof ipv) != 0)
		ipv[0] = '\0';
	snprintf(val, sizeof val, "%lld\t%.*s", (long long)now, OUTBOUND_REASON_MAX,
		 reason ? reason : "");
	for (char *p = val; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
	if (queue_id != NULL && queue_id[0])
		snprintf(item, sizeof item, "%lld %.100s", (long long)now, queue_id);
	if (!hold_too) {
		/* only the list: HSETNX on a field we then keep is not wanted */
		const char *a[] = { "LPUSH", held, item };
		const char *t[] = { "LTRIM", held, "0", "999" };
		if (item[0] == '\0')
			return OUTBOUND_OK;
		r = kv_command(kv, err, errlen, 3, a);
		if (r == NULL)
			return OUTBOUND_EUNAVAIL;
		freeReplyObject(r);
		r = kv_command(kv, err, errlen, 4, t);
		if (r == NULL)
			return OUTBOUND_EUNAVAIL;
		freeReplyObject(r);
		return OUTBOUND_OK;
	}
	r = kv_command(kv, err, errlen, (int)(sizeof argv / sizeof argv[0]), argv);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? OUTBOUND_OK : OUTBOUND_EXISTS;
	freeReplyObject(r);
	return rc;
}

int outbound_hold_user(cr_kv *kv, const char *user, const char *ip, int64_t now,
		       const char *reason, const char *queue_id, char *err, size_t errlen)
{
	return outbound_hold_script(kv, user, ip, now, reason, queue_id, 1, err, errlen);
}

int outbound_note_held(cr_kv *kv, const char *user, int64_t now, const char *queue_id,
		       char *err, size_t errlen)
{
	return outbound_hold_script(kv, user, NULL, now, NULL, queue_id, 0, err, errlen);
}

static int outbound_each_held(const redisReply *l, outbound_held_fn fn, void *ud)
{
	for (size_t i = 0; l->type == REDIS_REPLY_ARRAY && i < l->elements; i++) {
		char buf[160], *sp;
		int64_t when = 0;
		const redisReply *e = l->element[i];
		size_t n;
		if (e->type != REDIS_REPLY_STRING)
			continue;
		n = e->len < sizeof buf - 1 ? e->len : sizeof buf - 1;
		memcpy(buf, e->str, n);
		buf[n] = '\0';
		sp = strchr(buf, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		if (util_parse_i64(buf, 0, INT64_MAX, &when) != 0)
			continue;
		for (char *p = sp + 1; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		if (fn(ud, when, sp + 1) != 0)
			break;
	}
	return 0;
}

int outbound_status(cr_kv *kv, const char *user, int64_t now, struct outbound_counts *c,
		    struct outbound_hold *h, outbound_held_fn fn, void *ud, char *err,
		    size_t errlen)
{
	char ukey[KV_KEY_MAX], ikey[KV_KEY_MAX], hold[KV_KEY_MAX], held[KV_KEY_MAX];
	int rc = outbound_count(kv, user, NULL, 0, now, 0, c, h, err, errlen);

	if (rc != OUTBOUND_OK || fn == NULL)
		return rc;
	if (outbound_keys(kv, user, NULL, now, ukey, ikey, hold, held, err, errlen) != 0)
		return OUTBOUND_NOTFOUND;
	const char *argv[] = { "LRANGE", held, "0", "-1" };
	redisReply *r = kv_command(kv, err, errlen, 4, argv);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	outbound_each_held(r, fn, ud);
	freeReplyObject(r);
	return OUTBOUND_OK;
}

int outbound_list(cr_kv *kv, outbound_user_fn fn, void *ud, char *err, size_t errlen)
{
	char hold[KV_KEY_MAX];
	const char *argv[] = { "HGETALL", hold };
	redisReply *r;
	int n = 0;

	snprintf(hold, sizeof hold, "%s:ob:hold", kv_prefix(kv));
	r = kv_command(kv, err, errlen, 2, argv);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		struct outbound_hold h;
		char user[OUTBOUND_USER_MAX + 1];
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    k->len >= sizeof user)
			continue;
		memcpy(user, k->str, k->len);
		user[k->len] = '\0';
		outbound_parse_hold(v->str, v->len, &h);
		n++;
		if (fn(ud, user, &h) != 0)
			break;
	}
	freeReplyObject(r);
	return n;
}

int outbound_release(cr_kv *kv, const char *user, int64_t now, outbound_held_fn fn, void *ud,
		     char *err, size_t errlen)
{
	char ukey[KV_KEY_MAX], ikey[KV_KEY_MAX], hold[KV_KEY_MAX], held[KV_KEY_MAX];
	char holdip[KV_KEY_MAX], ip[64] = "";
	char u[OUTBOUND_USER_MAX + 1];
	const char *get[] = { "HGET", holdip, u };
	const char *argv[] = { "EVAL", outbound_lua_release, "4", hold, held, ukey, holdip, ikey,
			       u };
	redisReply *r;

	if (outbound_keys(kv, user, NULL, now, ukey, ikey, hold, held, err, errlen) != 0)
		return OUTBOUND_NOTFOUND;
	kv_key_part(user, u, sizeof u);
	outbound_holdip_key(kv, holdip);
	/* the IP the user was held from: its counters restart too, or the next
	 * message from there would be held again at once (the IP stays the same
	 * while the user is held: the hold is set once) */
	r = kv_command(kv, err, errlen, 3, get);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < sizeof ip)
		memcpy(ip, r->str, r->len);
	freeReplyObject(r);
	if (ip[0] != '\0') {
		outbound_keys(kv, user, ip, now, ukey, ikey, hold, held, err, errlen);
		argv[2] = "5";
	} else {
		argv[7] = u;
	}
	r = kv_command(kv, err, errlen, ip[0] != '\0' ? 9 : 8, argv);
	if (r == NULL)
		return OUTBOUND_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return OUTBOUND_NOTFOUND;
	}
	if (fn != NULL)
		outbound_each_held(r, fn, ud);
	freeReplyObject(r);
	return OUTBOUND_OK;
}
