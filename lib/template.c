/* template: spam templates in Redis (see template.h).  Every write is one Lua
 * script over keys of one hash tag ({tp}), so the record, the listing index and
 * the band sets change together. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* add: KEYS rec, all, band1..bandN; ARGV id, sig, reason, source, added,
 * subject, words.  The band keys are stored in the record so del finds them. */
static const char template_lua_add[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"local bands = {}\n"
	"for i = 3, #KEYS do\n"
	"  redis.call('SADD', KEYS[i], ARGV[1])\n"
	"  bands[#bands + 1] = KEYS[i]\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'sig', ARGV[2], 'reason', ARGV[3], 'source', ARGV[4],\n"
	"  'added', ARGV[5], 'subject', ARGV[6], 'words', ARGV[7],\n"
	"  'bands', table.concat(bands, ' '))\n"
	"redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
	"return 1\n";

/* del: KEYS rec, all; ARGV id. */
static const char template_lua_del[] =
	"local b = redis.call('HGET', KEYS[1], 'bands')\n"
	"if not b then return 0 end\n"
	"for k in string.gmatch(b, '%S+') do redis.call('SREM', k, ARGV[1]) end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"return 1\n";

/* match: KEYS band1..bandN; ARGV record key prefix ("P:{tp}:t:"), max.
 * Returns id, sig, reason, source, added, subject, words per candidate. */
static const char template_lua_match[] =
	"local ids = redis.call('SUNION', unpack(KEYS))\n"
	"local out = {}\n"
	"for i = 1, math.min(#ids, tonumber(ARGV[2])) do\n"
	"  local v = redis.call('HMGET', ARGV[1] .. ids[i], 'sig', 'reason', 'source', 'added',\n"
	"    'subject', 'words')\n"
	"  if v[1] then\n"
	"    out[#out + 1] = ids[i]\n"
	"    for j = 1, 6 do out[#out + 1] = v[j] or '' end\n"
	"  end\n"
	"end\n"
	"return out\n";

int template_valid_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == FINGERPRINT_ID_LEN;
}

static void template_key(const cr_kv *kv, char *buf, size_t len, const char *what,
			 const char *id)
{
	snprintf(buf, len, "%s:{tp}:%s%s", kv_prefix(kv), what, id);
}

static void template_band_key(const cr_kv *kv, const struct fingerprint *fp, unsigned b,
			      char *buf, size_t len)
{
	char band[17];

	fingerprint_band(fp, b, band);
	snprintf(buf, len, "%s:{tp}:b:%02u:%s", kv_prefix(kv), b, band);
}

/* Printable ASCII or UTF-8, no control characters (they would end up in headers
 * and log lines). */
static void template_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

int template_add(cr_kv *kv, const struct fingerprint *fp, struct template_info *info, char *err,
		 size_t errlen)
{
	char keys[2 + FINGERPRINT_BANDS][KV_KEY_MAX];
	char sig[FINGERPRINT_TEXT_LEN + 1], added[24], words[16], nkeys[8];
	const char *argv[3 + 2 + FINGERPRINT_BANDS + 7];
	int argc = 0;
	redisReply *r;
	int rc;

	fingerprint_id(fp, info->id);
	fingerprint_encode(fp, sig);
	template_clean(info->reason);
	template_clean(info->source);
	template_clean(info->subject);
	template_key(kv, keys[0], sizeof keys[0], "t:", info->id);
	template_key(kv, keys[1], sizeof keys[1], "all", "");
	for (unsigned b = 0; b < FINGERPRINT_BANDS; b++)
		template_band_key(kv, fp, b, keys[2 + b], sizeof keys[2 + b]);
	snprintf(added, sizeof added, "%lld", (long long)info->added);
	snprintf(words, sizeof words, "%u", info->words);
	snprintf(nkeys, sizeof nkeys, "%d", 2 + FINGERPRINT_BANDS);
	argv[argc++] = "EVAL";
	argv[argc++] = template_lua_add;
	argv[argc++] = nkeys;
	for (unsigned k = 0; k < 2 + FINGERPRINT_BANDS; k++)
		argv[argc++] = keys[k];
	argv[argc++] = info->id;
	argv[argc++] = sig;
	argv[argc++] = info->reason;
	argv[argc++] = info->source;
	argv[argc++] = added;
	argv[argc++] = info->subject;
	argv[argc++] = words;
	r = kv_command(kv, err, errlen, argc, argv);
	if (r == NULL)
		return TEMPLATE_EUNAVAIL;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? TEMPLATE_OK : TEMPLATE_EXISTS;
	freeReplyObject(r);
	return rc;
}

int template_del(cr_kv *kv, const char *id, char *err, size_t errlen)
{
	char rec[KV_KEY_MAX], all[KV_KEY_MAX];
	const char *argv[6];
	redisReply *r;
	int rc;

	template_key(kv, rec, sizeof rec, "t:", id);
	template_key(kv, all, sizeof all, "all", "");
	argv[0] = "EVAL";
	argv[1] = template_lua_del;
	argv[2] = "2";
	argv[3] = rec;
	argv[4] = all;
	argv[5] = id;
	r = kv_command(kv, err, errlen, 6, argv);
	if (r == NULL)
		return TEMPLATE_EUNAVAIL;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? TEMPLATE_OK : TEMPLATE_NOTFOUND;
	freeReplyObject(r);
	return rc;
}

static void template_copy(char *dst, size_t len, const redisReply *r)
{
	dst[0] = '\0';
	if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) {
		size_t n = r->len < len - 1 ? r->len : len - 1;
		memcpy(dst, r->str, n);
		dst[n] = '\0';
		template_clean(dst);
	}
}

static int64_t template_int(const redisReply *r)
{
	char buf[32];
	int64_t v = 0;

	template_copy(buf, sizeof buf, r);
	if (buf[0] != '\0' && util_parse_i64(buf, INT64_MIN, INT64_MAX, &v) != 0)
		v = 0;
	return v;
}

/* Fills info from reason, source, added, subject, words replies. */
static void template_fill(struct template_info *info, redisReply *const *f)
{
	template_copy(info->reason, sizeof info->reason, f[0]);
	template_copy(info->source, sizeof info->source, f[1]);
	info->added = template_int(f[2]);
	template_copy(info->subject, sizeof info->subject, f[3]);
	info->words = (unsigned)template_int(f[4]);
}

int template_get(cr_kv *kv, const char *id, struct template_info *info, char *err,
		 size_t errlen)
{
	char rec[KV_KEY_MAX];
	const char *argv[] = { "HMGET", rec, "sig", "reason", "source", "added", "subject",
			       "words" };
	redisReply *r;

	memset(info, 0, sizeof *info);
	template_key(kv, rec, sizeof rec, "t:", id);
	r = kv_command(kv, err, errlen, 8, argv);
	if (r == NULL)
		return TEMPLATE_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return TEMPLATE_NOTFOUND;
	}
	util_strlcpy(info->id, id, sizeof info->id);
	template_fill(info, r->element + 1);
	freeReplyObject(r);
	return TEMPLATE_OK;
}

int template_list(cr_kv *kv, template_fn fn, void *ud, char *err, size_t errlen)
{
	char all[KV_KEY_MAX];
	const char *argv[] = { "ZRANGE", all, "0", "-1" };
	redisReply *r;
	int n = 0;

	template_key(kv, all, sizeof all, "all", "");
	r = kv_command(kv, err, errlen, 4, argv);
	if (r == NULL)
		return TEMPLATE_EUNAVAIL;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		struct template_info info;
		char id[FINGERPRINT_ID_LEN + 1];
		template_copy(id, sizeof id, r->element[i]);
		if (!template_valid_id(id))
			continue;
		int st = template_get(kv, id, &info, err, errlen);
		if (st == TEMPLATE_NOTFOUND)
			continue; /* deleted meanwhile */
		if (st != TEMPLATE_OK) {
			freeReplyObject(r);
			return st;
		}
		n++;
		if (fn(ud, &info) != 0)
			break;
	}
	freeReplyObject(r);
	return n;
}

int template_match(cr_kv *kv, const struct fingerprint *fp, double threshold,
		   struct template_info *best, double *similarity, char *err, size_t errlen)
{
	char keys[FINGERPRINT_BANDS][KV_KEY_MAX], prefix[KV_KEY_MAX], nkeys[8], max[8];
	const char *argv[3 + FINGERPRINT_BANDS + 2];
	int argc = 0, found = 0;
	redisReply *r;

	*similarity = 0;
	for (unsigned b = 0; b < FINGERPRINT_BANDS; b++)
		template_band_key(kv, fp, b, keys[b], sizeof keys[b]);
	template_key(kv, prefix, sizeof prefix, "t:", "");
	snprintf(nkeys, sizeof nkeys, "%d", FINGERPRINT_BANDS);
	snprintf(max, sizeof max, "%d", TEMPLATE_CANDIDATES_MAX);
	argv[argc++] = "EVAL";
	argv[argc++] = template_lua_match;
	argv[argc++] = nkeys;
	for (unsigned b = 0; b < FINGERPRINT_BANDS; b++)
		argv[argc++] = keys[b];
	argv[argc++] = prefix;
	argv[argc++] = max;
	r = kv_command(kv, err, errlen, argc, argv);
	if (r == NULL)
		return TEMPLATE_EUNAVAIL;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 7 <= r->elements; i += 7) {
		struct fingerprint cand;
		const redisReply *sig = r->element[i + 1];
		double s;
		if (sig->type != REDIS_REPLY_STRING ||
		    fingerprint_decode(sig->str, sig->len, &cand) != 0)
			continue;
		s = fingerprint_similarity(fp, &cand);
		if (s < threshold || s <= *similarity)
			continue;
		memset(best, 0, sizeof *best);
		template_copy(best->id, sizeof best->id, r->element[i]);
		template_fill(best, r->element + i + 2);
		*similarity = s;
		found = 1;
	}
	freeReplyObject(r);
	return found;
}
