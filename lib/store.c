/* store: the shared blacklist in Redis over hiredis' synchronous API — list
 * hashes, the expiry index and the change stream, written only by the Lua
 * scripts below so that every change is atomic and on the stream exactly once.
 * Key schema and stream format: doc/redis-keys.md. */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

#include "log.h"
#include "redisconf.h"
#include "util.h"

/* Longest key name we build: prefix + ":{bl}:import:" + 16 hex + ":exp". */
#define STORE_PREFIX_MAX REDISCONF_PREFIX_MAX
#define STORE_KEYNAME_MAX (STORE_PREFIX_MAX + LISTING_LIST_MAX + 48)
#define STORE_ERR_MAX 512
/* Import: fields per HSET and commands in flight before we wait for replies. */
#define STORE_IMPORT_BATCH 1000
#define STORE_IMPORT_INFLIGHT 64
/* A staging key outlives a crashed importer by at most this long (seconds). */
#define STORE_IMPORT_TTL "3600"
/* A commit of a large import runs one script over every staged field, and a
 * snapshot returns whole lists in one reply: allow them this long (ms) at
 * least, whatever command_timeout says. */
#define STORE_COMMIT_TIMEOUT_MS 120000
/* Expired entries removed per script call. */
#define STORE_EXPIRE_BATCH 500
/* Covering keys of one query: 129 IPv6 prefix lengths or 127 labels, x2 ("!"). */
#define STORE_QUERY_KEYS 260

enum store_script_id { SCRIPT_ADD, SCRIPT_DEL, SCRIPT_COMMIT, SCRIPT_EXPIRE, SCRIPT_COUNT };

/* Every change-stream entry carries "prev", the stream's last generated id
 * before it, so a follower can tell whether anything between its position and
 * the next entry it reads is gone (store_gap).  Within one script the id just
 * written is the next prev. */
#define STORE_LUA_XADD \
	"local xadd_last\n" \
	"local function xadd(key, maxlen, ...)\n" \
	"  local prev = xadd_last\n" \
	"  if not prev then\n" \
	"    prev = '0-0'\n" \
	"    if redis.call('EXISTS', key) == 1 then\n" \
	"      local info = redis.call('XINFO', 'STREAM', key)\n" \
	"      for i = 1, #info, 2 do\n" \
	"        if info[i] == 'last-generated-id' then prev = info[i + 1] end\n" \
	"      end\n" \
	"    end\n" \
	"  end\n" \
	"  local a = {...}\n" \
	"  a[#a + 1] = 'prev'\n" \
	"  a[#a + 1] = prev\n" \
	"  xadd_last = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', unpack(a))\n" \
	"  return xadd_last\n" \
	"end\n"

/* Every list change also appends one entry to the audit stream (who, why,
 * reference; doc/redis-keys.md), in the same script, so the audit log and the
 * lists never disagree. */
#define STORE_LUA_AUDIT(key, maxlen, op, list, field, val, who, why, ref) \
	"redis.call('XADD', " key ", 'MAXLEN', '~', " maxlen ", '*', 'op', " op ",\n" \
	"  'list', " list ", 'key', " field ", 'val', " val " or '', 'who', " who ",\n" \
	"  'why', " why ", 'ref', " ref ")\n"

/* Every write to a list goes through one of these.  The expiry member of an
 * entry is "<list>\n<key>", so one zset indexes every list. */
static const char *const store_script_src[SCRIPT_COUNT] = {
	/* add: KEYS list, exp, changes, audit; ARGV key, value, expires, replace,
	 * list, maxlen, now, who, why, ref.  An existing entry counts only while
	 * it is unexpired. */
	[SCRIPT_ADD] = STORE_LUA_XADD
		"local m = ARGV[5] .. '\\n' .. ARGV[1]\n"
		"if ARGV[4] == '0' and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then\n"
		"  local sc = redis.call('ZSCORE', KEYS[2], m)\n"
		"  if not sc or tonumber(sc) > tonumber(ARGV[7]) then return false end\n"
		"end\n"
		"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
		"if tonumber(ARGV[3]) > 0 then redis.call('ZADD', KEYS[2], ARGV[3], m)\n"
		"else redis.call('ZREM', KEYS[2], m) end\n"
		"local id = xadd(KEYS[3], ARGV[6], 'op', 'add', 'list', ARGV[5], 'key', ARGV[1],\n"
		"  'val', ARGV[2])\n"
		STORE_LUA_AUDIT("KEYS[4]", "ARGV[6]", "'add'", "ARGV[5]", "ARGV[1]", "ARGV[2]",
				"ARGV[8]", "ARGV[9]", "ARGV[10]")
		"return id\n",
	/* del: KEYS list, exp, changes, audit; ARGV key, list, maxlen, who, why,
	 * ref.  The audit entry keeps the value that was deleted. */
	[SCRIPT_DEL] = STORE_LUA_XADD
		"local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
		"if not old then return false end\n"
		"redis.call('HDEL', KEYS[1], ARGV[1])\n"
		"redis.call('ZREM', KEYS[2], ARGV[2] .. '\\n' .. ARGV[1])\n"
		"local id = xadd(KEYS[3], ARGV[3], 'op', 'del', 'list', ARGV[2], 'key', ARGV[1],\n"
		"  'val', '')\n"
		STORE_LUA_AUDIT("KEYS[4]", "ARGV[3]", "'del'", "ARGV[2]", "ARGV[1]", "old",
				"ARGV[4]", "ARGV[5]", "ARGV[6]")
		"return id\n",
	/* commit: KEYS staging hash, staging expiry zset, list, exp, changes, audit;
	 * ARGV list, replace (0/1), maxlen, who, why, ref.  Works in chunks of 1000 so that
	 * unpack() stays far below Lua's stack limit. */
	[SCRIPT_COMMIT] = STORE_LUA_XADD
		"local function chunked(cmd, key, arr, step)\n"
		"  for i = 1, #arr, step do\n"
		"    redis.call(cmd, key, unpack(arr, i, math.min(i + step - 1, #arr)))\n"
		"  end\n"
		"end\n"
		"local pfx = ARGV[1] .. '\\n'\n"
		/* this list's expiry members that the import overrides: all of them
		 * on replace, those of re-imported keys on merge.  Scanning the
		 * expiry index is far cheaper than touching it once per staged key. */
		"local old, cur = {}, '0'\n"
		"repeat\n"
		"  local r = redis.call('ZSCAN', KEYS[4], cur, 'MATCH', pfx .. '*', 'COUNT', 1000)\n"
		"  cur = r[1]\n"
		"  for i = 1, #r[2], 2 do\n"
		"    local m = r[2][i]\n"
		"    if ARGV[2] == '1' or\n"
		"       redis.call('HEXISTS', KEYS[1], string.sub(m, #pfx + 1)) == 1 then\n"
		"      old[#old + 1] = m\n"
		"    end\n"
		"  end\n"
		"until cur == '0'\n"
		"chunked('ZREM', KEYS[4], old, 1000)\n"
		"if ARGV[2] == '1' or redis.call('EXISTS', KEYS[3]) == 0 then\n"
		"  if redis.call('EXISTS', KEYS[1]) == 1 then\n"
		"    redis.call('RENAME', KEYS[1], KEYS[3])\n"
		"    redis.call('PERSIST', KEYS[3])\n"
		"  else\n"
		"    redis.call('DEL', KEYS[3])\n"
		"  end\n"
		/* merge: copy the smaller hash into the larger; staged values win */
		"elseif redis.call('HLEN', KEYS[1]) <= redis.call('HLEN', KEYS[3]) then\n"
		"  local cur2 = '0'\n"
		"  repeat\n"
		"    local r = redis.call('HSCAN', KEYS[1], cur2, 'COUNT', 1000)\n"
		"    cur2 = r[1]\n"
		"    chunked('HSET', KEYS[3], r[2], 2000)\n"
		"  until cur2 == '0'\n"
		"  redis.call('DEL', KEYS[1])\n"
		"else\n"
		"  local cur2 = '0'\n"
		"  repeat\n"
		"    local r = redis.call('HSCAN', KEYS[3], cur2, 'COUNT', 1000)\n"
		"    cur2 = r[1]\n"
		"    local kv, keep = r[2], {}\n"
		"    for i = 1, #kv, 2 do\n"
		"      if redis.call('HEXISTS', KEYS[1], kv[i]) == 0 then\n"
		"        keep[#keep + 1] = kv[i]; keep[#keep + 1] = kv[i + 1]\n"
		"      end\n"
		"    end\n"
		"    chunked('HSET', KEYS[1], keep, 2000)\n"
		"  until cur2 == '0'\n"
		"  redis.call('RENAME', KEYS[1], KEYS[3])\n"
		"  redis.call('PERSIST', KEYS[3])\n"
		"end\n"
		"local n = redis.call('ZCARD', KEYS[2])\n"
		"for i = 0, n - 1, 1000 do\n"
		"  local r = redis.call('ZRANGE', KEYS[2], i, i + 999, 'WITHSCORES')\n"
		"  local a = {}\n"
		"  for j = 1, #r, 2 do a[#a + 1] = r[j + 1]; a[#a + 1] = pfx .. r[j] end\n"
		"  chunked('ZADD', KEYS[4], a, 2000)\n"
		"end\n"
		"redis.call('DEL', KEYS[2])\n"
		"local count = redis.call('HLEN', KEYS[3])\n"
		"xadd(KEYS[5], ARGV[3], 'op', 'load', 'list', ARGV[1], 'key', '',\n"
		"  'val', ARGV[2] == '1' and 'replace' or 'merge', 'count', tostring(count))\n"
		STORE_LUA_AUDIT("KEYS[6]", "ARGV[3]", "'load'", "ARGV[1]", "''",
				"(ARGV[2] == '1' and 'replace ' or 'merge ') .. tostring(count)",
				"ARGV[4]", "ARGV[5]", "ARGV[6]")
		"return count\n",
	/* expire: KEYS exp, changes, audit, then the list hash of each member;
	 * ARGV now, maxlen, then list and key of each member.  Re-checks the
	 * score: the entry may have been renewed since it was read. */
	[SCRIPT_EXPIRE] = STORE_LUA_XADD
		"local now, n = tonumber(ARGV[1]), 0\n"
		"for i = 1, #KEYS - 3 do\n"
		"  local list, f = ARGV[1 + 2 * i], ARGV[2 + 2 * i]\n"
		"  local m = list .. '\\n' .. f\n"
		"  local sc = redis.call('ZSCORE', KEYS[1], m)\n"
		"  if sc and tonumber(sc) <= now then\n"
		"    redis.call('ZREM', KEYS[1], m)\n"
		"    local old = redis.call('HGET', KEYS[3 + i], f)\n"
		"    if redis.call('HDEL', KEYS[3 + i], f) == 1 then\n"
		"      xadd(KEYS[2], ARGV[2], 'op', 'del', 'list', list, 'key', f, 'val', '')\n"
		STORE_LUA_AUDIT("KEYS[3]", "ARGV[2]", "'expire'", "list", "f", "old",
				"'expiry'", "'expired'", "''")
		"      n = n + 1\n"
		"    end\n"
		"  end\n"
		"end\n"
		"return n\n",
};

struct cr_store {
	redisContext *c; /* NULL while disconnected; reconnected on next use */
	struct redis_conf rc;
	int64_t connect_ms, command_ms;
	long long maxlen;
	char maxlen_text[24];
	char **lists; /* NULL-terminated, owned */
	char key_exp[STORE_KEYNAME_MAX];
	char key_changes[STORE_KEYNAME_MAX];
	char key_audit[STORE_KEYNAME_MAX];
	char audit_who[STORE_AUDIT_WHO_MAX + 1]; /* store_set_audit; "" = the entry's source */
	char audit_why[STORE_AUDIT_WHY_MAX + 1];
	char audit_ref[STORE_AUDIT_REF_MAX + 1];
	char sha[SCRIPT_COUNT][41]; /* "" until SCRIPT LOAD answered */
	int script_load_denied;     /* SCRIPT LOAD refused: always EVAL */
	char err[STORE_ERR_MAX];
};


static void store_set_err(cr_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void store_set_err(cr_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- connection */

static struct timeval store_tv(int64_t ms)
{
	struct timeval tv;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static void store_disconnect(cr_store *s)
{
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
}

/* A reply that is an error becomes s->err ("redis SERVER: WHAT: text") and NULL. */
static redisReply *store_check_reply(cr_store *s, redisReply *r, const char *what)
{
	if (r == NULL) {
		store_set_err(s, "redis %s: %s: %s", s->rc.server, what, redis_conf_why(s->c));
		store_disconnect(s); /* the context is unusable after an I/O error */
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		store_set_err(s, "redis %s: %s: %.*s", s->rc.server, what, (int)r->len, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *store_argv(cr_store *s, const char *what, int argc, const char **argv,
			      const size_t *lens)
{
	redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
	return store_check_reply(s, r, what);
}

static int store_connect(cr_store *s)
{
	const char *argv[1] = { "PING" };
	redisReply *r;

	store_disconnect(s);
	s->c = redis_conf_connect(&s->rc, s->connect_ms, s->command_ms, s->err, sizeof s->err);
	if (s->c == NULL)
		return STORE_EUNAVAIL;
	/* A server that wants AUTH we did not give says so here, not later. */
	r = store_argv(s, "PING", 1, argv, NULL);
	if (r == NULL) {
		store_disconnect(s);
		return STORE_EUNAVAIL;
	}
	freeReplyObject(r);
	return STORE_OK;
}

/* Connected, reconnecting once if a previous error dropped the connection. */
static int store_ready(cr_store *s)
{
	if (s->c != NULL && s->c->err == 0)
		return STORE_OK;
	return store_connect(s);
}

static void store_free(cr_store *s)
{
	if (s == NULL)
		return;
	store_disconnect(s);
	if (s->lists != NULL) {
		for (char **l = s->lists; *l; l++)
			free(*l);
		free(s->lists);
	}
	explicit_bzero(s->rc.password, sizeof s->rc.password);
	free(s);
}

cr_store *store_open(const cr_conf *conf, int *status_out, char *err, size_t errlen)
{
	cr_store *s = calloc(1, sizeof *s);
	const char *const *names;
	size_t n = 0;
	int st;

	if (status_out)
		*status_out = STORE_EINVAL;
	if (s == NULL) {
		util_errf(err, errlen, "store: out of memory");
		return NULL;
	}
	if (redis_conf_load(conf, &s->rc, err, errlen) < 0)
		goto fail;
	s->connect_ms = conf_ms(conf, "redis", "connect_timeout");
	s->command_ms = conf_ms(conf, "redis", "command_timeout");
	if (s->connect_ms <= 0)
		s->connect_ms = 2000;
	if (s->command_ms <= 0)
		s->command_ms = 5000;
	s->maxlen = conf_int(conf, "redis", "stream_maxlen");
	if (s->maxlen < 1)
		s->maxlen = 1000000;
	snprintf(s->maxlen_text, sizeof s->maxlen_text, "%lld", s->maxlen);
	snprintf(s->key_exp, sizeof s->key_exp, "%s:{bl}:exp", s->rc.prefix);
	snprintf(s->key_changes, sizeof s->key_changes, "%s:{bl}:changes", s->rc.prefix);
	snprintf(s->key_audit, sizeof s->key_audit, "%s:{bl}:audit", s->rc.prefix);

	names = conf_list(conf, "lists", "names");
	while (names != NULL && names[n] != NULL)
		n++;
	s->lists = calloc(n + 1, sizeof *s->lists);
	if (s->lists == NULL) {
		util_errf(err, errlen, "store: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (!listing_valid_list_name(names[i])) {
			util_errf(err, errlen,
				  "[lists] names: \"%s\" is not a valid list name (1..63 of "
				  "a-z 0-9 _ -, starting with a letter)", names[i]);
			goto fail;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0) {
				util_errf(err, errlen, "[lists] names: \"%s\" given twice", names[i]);
				goto fail;
			}
		s->lists[i] = strdup(names[i]);
		if (s->lists[i] == NULL) {
			util_errf(err, errlen, "store: out of memory");
			goto fail;
		}
	}

	st = store_connect(s);
	if (st != STORE_OK) {
		util_errf(err, errlen, "%s", s->err);
		if (status_out)
			*status_out = st;
		store_free(s);
		return NULL;
	}
	if (status_out)
		*status_out = STORE_OK;
	return s;
fail:
	store_free(s);
	return NULL;
}

void store_close(cr_store *s)
{
	store_free(s);
}

const char *store_error(const cr_store *s)
{
	return s != NULL ? s->err : "store: no connection";
}

int store_list_known(const cr_store *s, const char *list)
{
	if (s == NULL || list == NULL)
		return 0;
	for (char **l = s->lists; *l; l++)
		if (strcmp(*l, list) == 0)
			return 1;
	return 0;
}

const char *const *store_lists(const cr_store *s)
{
	return (const char *const *)s->lists;
}

/* ---------------------------------------------------------------- helpers */

static int store_check_list(cr_store *s, const char *list)
{
	if (!store_list_known(s, list)) {
		store_set_err(s, "list \"%s\": not configured in [lists] names", list ? list : "");
		return STORE_EINVAL;
	}
	return STORE_OK;
}

static void store_list_key(const cr_store *s, const char *list, char *buf, size_t len)
{
	snprintf(buf, len, "%s:{bl}:list:%s", s->rc.prefix, list);
}

static int store_entry_key(cr_store *s, const struct listing_entry *e, char *buf, size_t len)
{
	if (listing_format_key(e, buf, len) < 0) {
		store_set_err(s, "entry key does not fit in %zu bytes", len);
		return STORE_EINVAL;
	}
	return STORE_OK;
}

/* Runs a script: EVALSHA, loading it first; EVAL when the server forgot it
 * (NOSCRIPT after a restart or SCRIPT FLUSH) or refuses SCRIPT LOAD. */
static redisReply *store_script(cr_store *s, enum store_script_id id, const char *what,
				int nkeys, const char **keys, int nargs, const char **args,
				const size_t *arglens)
{
	int argc = 3 + nkeys + nargs;
	const char **argv = malloc((size_t)argc * sizeof *argv);
	size_t *lens = malloc((size_t)argc * sizeof *lens);
	char nk[16];
	redisReply *r = NULL;

	if (argv == NULL || lens == NULL) {
		store_set_err(s, "store: out of memory");
		goto out;
	}
	if (!s->sha[id][0] && !s->script_load_denied) {
		const char *la[3] = { "SCRIPT", "LOAD", store_script_src[id] };
		redisReply *lr = redisCommandArgv(s->c, 3, la, NULL);
		if (lr == NULL) {
			store_check_reply(s, NULL, what);
			goto out;
		}
		if (lr->type == REDIS_REPLY_STRING && lr->len == 40)
			memcpy(s->sha[id], lr->str, 41);
		else
			s->script_load_denied = 1;
		freeReplyObject(lr);
	}
	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[1] = s->sha[id];
	argv[2] = nk;
	lens[1] = strlen(s->sha[id]);
	lens[2] = strlen(nk);
	for (int i = 0; i < nkeys; i++) {
		argv[3 + i] = keys[i];
		lens[3 + i] = strlen(keys[i]);
	}
	for (int i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = arglens ? arglens[i] : strlen(args[i]);
	}
	if (s->sha[id][0]) {
		argv[0] = "EVALSHA";
		lens[0] = 7;
		r = redisCommandArgv(s->c, argc, argv, lens);
		if (r == NULL || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0) {
			free(argv);
			free(lens);
			return store_check_reply(s, r, what);
		}
		freeReplyObject(r); /* the EVAL below caches it again under the same SHA1 */
	}
	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = store_script_src[id];
	lens[1] = strlen(store_script_src[id]);
	r = redisCommandArgv(s->c, argc, argv, lens);
	free(argv);
	free(lens);
	return store_check_reply(s, r, what);
out:
	free(argv);
	free(lens);
	return NULL;
}

static int store_unexpected(cr_store *s, const char *what, const redisReply *r)
{
	store_set_err(s, "redis %s: %s: unexpected reply type %d", s->rc.server, what,
		      r ? r->type : -1);
	return STORE_EUNAVAIL;
}

/* Fills e's key part from a stored field and its value part from val. */
static int store_decode(const char *list, const char *field, const char *val, size_t vlen,
			struct listing_entry *e)
{
	char err[256];

	if (listing_parse_key(field, e, err, sizeof err) < 0) {
		log_warn("store: list %s: skipping bad key \"%s\": %s", list, field, err);
		return -1;
	}
	if (val != NULL && listing_decode_value(val, vlen, e) < 0) {
		log_warn("store: list %s: skipping \"%s\": bad value \"%.*s\"", list, field,
			 (int)(vlen > 200 ? 200 : vlen), val);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- single entries */

int store_entry_add(cr_store *s, const char *list, const struct listing_entry *e, int replace)
{
	char key_list[STORE_KEYNAME_MAX], field[LISTING_KEY_MAX], val[LISTING_VALUE_MAX];
	char exp[24], now[24];
	struct listing_entry copy;
	const char *keys[4], *args[10];
	redisReply *r;
	int st;

	if ((st = store_check_list(s, list)) != STORE_OK)
		return st;
	copy = *e;
	if (copy.added == 0)
		copy.added = util_now();
	if ((st = store_entry_key(s, &copy, field, sizeof field)) != STORE_OK)
		return st;
	if (listing_encode_value(&copy, val, sizeof val) < 0) {
		store_set_err(s, "entry %s: value does not fit in %d bytes", field,
			      LISTING_VALUE_MAX);
		return STORE_EINVAL;
	}
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	store_list_key(s, list, key_list, sizeof key_list);
	snprintf(exp, sizeof exp, "%" PRId64, copy.expires > 0 ? copy.expires : (int64_t)0);
	snprintf(now, sizeof now, "%" PRId64, util_now());
	keys[0] = key_list;
	keys[1] = s->key_exp;
	keys[2] = s->key_changes;
	args[0] = field;
	args[1] = val;
	args[2] = exp;
	args[3] = replace ? "1" : "0";
	args[4] = list;
	args[5] = s->maxlen_text;
	args[6] = now;
	keys[3] = s->key_audit;
	args[7] = s->audit_who[0] ? s->audit_who : copy.source;
	args[8] = s->audit_why[0] ? s->audit_why : copy.reason;
	args[9] = s->audit_ref;
	r = store_script(s, SCRIPT_ADD, "add", 4, keys, 10, args, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		store_set_err(s, "%s: %s is already listed", list, field);
		return STORE_EEXIST;
	}
	if (r->type != REDIS_REPLY_STRING) {
		st = store_unexpected(s, "add", r);
		freeReplyObject(r);
		return st;
	}
	freeReplyObject(r);
	return STORE_OK;
}

int store_entry_del(cr_store *s, const char *list, const struct listing_entry *key)
{
	char key_list[STORE_KEYNAME_MAX], field[LISTING_KEY_MAX];
	const char *keys[4], *args[6];
	redisReply *r;
	int st;

	if ((st = store_check_list(s, list)) != STORE_OK)
		return st;
	if ((st = store_entry_key(s, key, field, sizeof field)) != STORE_OK)
		return st;
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	store_list_key(s, list, key_list, sizeof key_list);
	keys[0] = key_list;
	keys[1] = s->key_exp;
	keys[2] = s->key_changes;
	keys[3] = s->key_audit;
	args[0] = field;
	args[1] = list;
	args[2] = s->maxlen_text;
	args[3] = s->audit_who[0] ? s->audit_who : "unknown";
	args[4] = s->audit_why;
	args[5] = s->audit_ref;
	r = store_script(s, SCRIPT_DEL, "del", 4, keys, 6, args, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		store_set_err(s, "%s: %s is not listed", list, field);
		return STORE_NOTFOUND;
	}
	st = r->type == REDIS_REPLY_STRING ? STORE_OK : store_unexpected(s, "del", r);
	freeReplyObject(r);
	return st;
}

int store_entry_get(cr_store *s, const char *list, const struct listing_entry *key,
		    struct listing_entry *out)
{
	char key_list[STORE_KEYNAME_MAX], field[LISTING_KEY_MAX];
	const char *argv[3];
	redisReply *r;
	int st;

	if ((st = store_check_list(s, list)) != STORE_OK)
		return st;
	if ((st = store_entry_key(s, key, field, sizeof field)) != STORE_OK)
		return st;
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	store_list_key(s, list, key_list, sizeof key_list);
	argv[0] = "HGET";
	argv[1] = key_list;
	argv[2] = field;
	r = store_argv(s, "HGET", 3, argv, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		store_set_err(s, "%s: %s is not listed", list, field);
		return STORE_NOTFOUND;
	}
	if (r->type != REDIS_REPLY_STRING) {
		st = store_unexpected(s, "HGET", r);
		freeReplyObject(r);
		return st;
	}
	memset(out, 0, sizeof *out);
	if (store_decode(list, field, r->str, r->len, out) < 0) {
		store_set_err(s, "%s: %s: stored value does not decode", list, field);
		freeReplyObject(r);
		return STORE_EUNAVAIL;
	}
	freeReplyObject(r);
	return STORE_OK;
}

int store_list_scan(cr_store *s, const char *list, store_entry_fn fn, void *ud)
{
	char key_list[STORE_KEYNAME_MAX], cursor[32] = "0";
	int st;

	if ((st = store_check_list(s, list)) != STORE_OK)
		return st;
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	store_list_key(s, list, key_list, sizeof key_list);
	do {
		const char *argv[5] = { "HSCAN", key_list, cursor, "COUNT", "1000" };
		redisReply *r = store_argv(s, "HSCAN", 5, argv, NULL);
		redisReply *kv;

		if (r == NULL)
			return STORE_EUNAVAIL;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			st = store_unexpected(s, "HSCAN", r);
			freeReplyObject(r);
			return st;
		}
		util_strlcpy(cursor, r->element[0]->str, sizeof cursor);
		kv = r->element[1];
		for (size_t i = 0; i + 1 < kv->elements; i += 2) {
			struct listing_entry e;
			if (kv->element[i]->type != REDIS_REPLY_STRING ||
			    kv->element[i + 1]->type != REDIS_REPLY_STRING)
				continue;
			memset(&e, 0, sizeof e);
			if (store_decode(list, kv->element[i]->str, kv->element[i + 1]->str,
					 kv->element[i + 1]->len, &e) < 0)
				continue;
			if (fn(ud, list, &e) != 0) {
				freeReplyObject(r);
				return STORE_OK;
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return STORE_OK;
}

int store_list_count(cr_store *s, const char *list, long long *count)
{
	char key_list[STORE_KEYNAME_MAX];
	const char *argv[2];
	redisReply *r;
	int st;

	if ((st = store_check_list(s, list)) != STORE_OK)
		return st;
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	store_list_key(s, list, key_list, sizeof key_list);
	argv[0] = "HLEN";
	argv[1] = key_list;
	r = store_argv(s, "HLEN", 2, argv, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type != REDIS_REPLY_INTEGER) {
		st = store_unexpected(s, "HLEN", r);
		freeReplyObject(r);
		return st;
	}
	*count = r->integer;
	freeReplyObject(r);
	return STORE_OK;
}

/* ---------------------------------------------------------------- query */

/* One covering key of a query, most specific first. */
struct store_cand {
	char key[LISTING_KEY_MAX];
	enum listing_kind kind;
	bool exclude;
	uint8_t len;      /* LISTING_ADDR: prefix length (128-bit space) */
	const char *name; /* domains: points into the query's name */
	int via;          /* STORE_VIA_* if this candidate decides */
};

/* Every key that covers `what`, most specific first; at equal specificity the
 * exclusion comes first, so "!k" beats "k" (as in rbldnsd). */
static int store_query_keys(cr_store *s, const struct listing_entry *what,
			    struct store_cand *c, size_t *nout)
{
	size_t n = 0;

	if (what->kind == LISTING_ADDR) {
		unsigned lo = (addr_is_v4(&what->prefix.addr) && what->prefix.len >= 96) ? 96 : 0;
		for (int l = what->prefix.len; l >= (int)lo; l--) {
			for (int ex = 1; ex >= 0; ex--) {
				struct listing_entry k;
				memset(&k, 0, sizeof k);
				k.kind = LISTING_ADDR;
				k.exclude = ex;
				k.prefix.addr = what->prefix.addr;
				addr_mask(&k.prefix.addr, (unsigned)l);
				k.prefix.len = (uint8_t)l;
				if (listing_format_key(&k, c[n].key, sizeof c[n].key) < 0)
					goto toolong;
				c[n].kind = LISTING_ADDR;
				c[n].exclude = ex;
				c[n].len = (uint8_t)l;
				c[n].name = NULL;
				c[n].via = l == what->prefix.len ? STORE_VIA_EXACT : STORE_VIA_PREFIX;
				n++;
			}
		}
	} else {
		const char *name = what->name;
		enum listing_kind kind = what->kind;
		int via = STORE_VIA_EXACT;
		while (name != NULL && n + 2 <= STORE_QUERY_KEYS) {
			for (int ex = 1; ex >= 0; ex--) {
				struct listing_entry k;
				memset(&k, 0, sizeof k);
				k.kind = kind;
				k.exclude = ex;
				util_strlcpy(k.name, name, sizeof k.name);
				if (listing_format_key(&k, c[n].key, sizeof c[n].key) < 0)
					goto toolong;
				c[n].kind = kind;
				c[n].exclude = ex;
				c[n].len = 0;
				c[n].name = name;
				c[n].via = via;
				n++;
			}
			/* above the queried name only wildcards can cover it */
			kind = LISTING_WILDCARD;
			via = STORE_VIA_WILDCARD;
			name = dname_parent(name);
		}
	}
	*nout = n;
	return STORE_OK;
toolong:
	store_set_err(s, "query: key does not fit");
	return STORE_EINVAL;
}

int store_query(cr_store *s, const struct listing_entry *what, struct store_match *out,
		size_t max)
{
	struct store_cand *cand = NULL;
	const char **argv = NULL;
	size_t ncand = 0, nout = 0, nlists = 0;
	int64_t now = util_now();
	int st, sent = 0;

	if (what->kind == LISTING_ADDR && what->prefix.len > 128) {
		store_set_err(s, "query: prefix length %u out of range", what->prefix.len);
		return STORE_EINVAL;
	}
	if (what->kind != LISTING_ADDR && what->name[0] == '\0') {
		store_set_err(s, "query: empty domain name");
		return STORE_EINVAL;
	}
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	cand = calloc(STORE_QUERY_KEYS, sizeof *cand);
	argv = calloc(STORE_QUERY_KEYS + 2, sizeof *argv);
	if (cand == NULL || argv == NULL) {
		store_set_err(s, "store: out of memory");
		st = STORE_EUNAVAIL;
		goto out;
	}
	if ((st = store_query_keys(s, what, cand, &ncand)) != STORE_OK)
		goto out;
	for (char **l = s->lists; *l; l++)
		nlists++;

	/* One HMGET per list, all in one pipeline. */
	{
		char key_list[STORE_KEYNAME_MAX];
		argv[0] = "HMGET";
		argv[1] = key_list;
		for (size_t i = 0; i < ncand; i++)
			argv[2 + i] = cand[i].key;
		for (size_t li = 0; li < nlists; li++) {
			store_list_key(s, s->lists[li], key_list, sizeof key_list);
			if (redisAppendCommandArgv(s->c, (int)ncand + 2, argv, NULL) != REDIS_OK) {
				store_set_err(s, "redis %s: HMGET: cannot queue command", s->rc.server);
				st = STORE_EUNAVAIL;
				goto out;
			}
			sent++;
		}
	}
	st = STORE_OK;
	for (size_t li = 0; li < nlists; li++) {
		redisReply *r = NULL;
		if (redisGetReply(s->c, (void **)&r) != REDIS_OK)
			r = NULL;
		sent--;
		r = store_check_reply(s, r, "HMGET");
		if (r == NULL) {
			st = STORE_EUNAVAIL;
			if (s->c == NULL)
				break;
			continue; /* read the other replies to keep the pipeline in step */
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != ncand) {
			st = store_unexpected(s, "HMGET", r);
			freeReplyObject(r);
			continue;
		}
		for (size_t i = 0; i < ncand && st == STORE_OK; i++) {
			redisReply *v = r->element[i];
			struct listing_entry e;
			struct store_match *m;
			if (v->type != REDIS_REPLY_STRING)
				continue;
			memset(&e, 0, sizeof e);
			e.kind = cand[i].kind;
			e.exclude = cand[i].exclude;
			if (e.kind == LISTING_ADDR) {
				e.prefix.addr = what->prefix.addr;
				addr_mask(&e.prefix.addr, cand[i].len);
				e.prefix.len = cand[i].len;
			} else {
				util_strlcpy(e.name, cand[i].name, sizeof e.name);
			}
			if (listing_decode_value(v->str, v->len, &e) < 0) {
				log_warn("store: list %s: skipping \"%s\": bad value", s->lists[li],
					 cand[i].key);
				continue;
			}
			if (listing_expired(&e, now))
				continue;
			if (nout < max) {
				m = &out[nout++];
				memset(m, 0, sizeof *m);
				util_strlcpy(m->list, s->lists[li], sizeof m->list);
				m->entry = e;
				m->via = e.exclude ? STORE_VIA_EXCLUSION : cand[i].via;
			}
			break; /* the most specific live item decides */
		}
		freeReplyObject(r);
	}
	if (st != STORE_OK)
		goto out;
	st = (int)nout;
out:
	if (sent > 0 && s->c != NULL) /* a queueing failure left replies unread */
		store_disconnect(s);
	free(cand);
	free(argv);
	return st;
}

/* ---------------------------------------------------------------- import */

/* Staged expiries live in their own zset; the value of a key imported twice is
 * the last one, so a later copy without expiry must remove the earlier copy's
 * staged expiry.  To spot that without remembering every key we keep the
 * 64-bit hashes of keys staged with an expiry: a hit costs one flush and a
 * ZREM (a false hit only a harmless ZREM). */
struct store_hashset {
	uint64_t *slot; /* 0 = empty */
	size_t cap, used;
};

static uint64_t store_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

static int store_hashset_has(const struct store_hashset *hs, uint64_t h)
{
	if (hs->cap == 0)
		return 0;
	for (size_t i = h & (hs->cap - 1);; i = (i + 1) & (hs->cap - 1)) {
		if (hs->slot[i] == h)
			return 1;
		if (hs->slot[i] == 0)
			return 0;
	}
}

static int store_hashset_add(struct store_hashset *hs, uint64_t h)
{
	if ((hs->used + 1) * 2 > hs->cap) {
		size_t ncap = hs->cap ? hs->cap * 2 : 1024;
		uint64_t *ns = calloc(ncap, sizeof *ns);
		if (ns == NULL)
			return -1;
		for (size_t i = 0; i < hs->cap; i++) {
			size_t j;
			if (hs->slot[i] == 0)
				continue;
			for (j = hs->slot[i] & (ncap - 1); ns[j] != 0; j = (j + 1) & (ncap - 1))
				;
			ns[j] = hs->slot[i];
		}
		free(hs->slot);
		hs->slot = ns;
		hs->cap = ncap;
	}
	for (size_t i = h & (hs->cap - 1);; i = (i + 1) & (hs->cap - 1)) {
		if (hs->slot[i] == h)
			return 0;
		if (hs->slot[i] == 0) {
			hs->slot[i] = h;
			hs->used++;
			return 0;
		}
	}
}

struct store_import {
	cr_store *s;
	char list[LISTING_LIST_MAX + 1];
	char key_list[STORE_KEYNAME_MAX];
	char key_stage[STORE_KEYNAME_MAX];
	char key_stage_exp[STORE_KEYNAME_MAX];
	int replace;
	int64_t now;
	int status;  /* first error; sticky */
	int pending; /* replies not yet read */
	struct store_hashset expiring;
	/* the batch being built: HSET stage f v ... and ZADD stage_exp s f ... */
	size_t nfields, nexp;
	const char **hargv, **zargv;
	size_t *hlen, *zlen;
	char *arena; /* keys and values of the batch */
	size_t arena_used, arena_size;
	char (*scores)[24];
};

static void store_import_free(store_import *im)
{
	if (im == NULL)
		return;
	free(im->hargv);
	free(im->zargv);
	free(im->hlen);
	free(im->zlen);
	free(im->arena);
	free(im->scores);
	free(im->expiring.slot);
	free(im);
}

store_import *store_import_begin(cr_store *s, const char *list, int replace)
{
	store_import *im;
	uint8_t rnd[8];
	char hex[17];
	size_t nargs = 2 + 2 * (size_t)STORE_IMPORT_BATCH;

	if (store_check_list(s, list) != STORE_OK)
		return NULL;
	if (store_ready(s) != STORE_OK)
		return NULL;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		store_set_err(s, "import: getrandom: %s", strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	im = calloc(1, sizeof *im);
	if (im == NULL)
		goto oom;
	im->s = s;
	im->replace = replace ? 1 : 0;
	im->now = util_now();
	util_strlcpy(im->list, list, sizeof im->list);
	store_list_key(s, list, im->key_list, sizeof im->key_list);
	snprintf(im->key_stage, sizeof im->key_stage, "%s:{bl}:import:%s", s->rc.prefix, hex);
	snprintf(im->key_stage_exp, sizeof im->key_stage_exp, "%s:{bl}:import:%s:exp", s->rc.prefix,
		 hex);
	im->arena_size = (size_t)STORE_IMPORT_BATCH * (LISTING_KEY_MAX + LISTING_VALUE_MAX);
	im->arena = malloc(im->arena_size);
	im->hargv = malloc(nargs * sizeof *im->hargv);
	im->hlen = malloc(nargs * sizeof *im->hlen);
	im->zargv = malloc(nargs * sizeof *im->zargv);
	im->zlen = malloc(nargs * sizeof *im->zlen);
	im->scores = malloc(STORE_IMPORT_BATCH * sizeof *im->scores);
	if (!im->arena || !im->hargv || !im->hlen || !im->zargv || !im->zlen || !im->scores)
		goto oom;
	return im;
oom:
	store_import_free(im);
	store_set_err(s, "import: out of memory");
	return NULL;
}

static int store_import_append(store_import *im, int argc, const char **argv, const size_t *len)
{
	cr_store *s = im->s;
	if (s->c == NULL || redisAppendCommandArgv(s->c, argc, argv, len) != REDIS_OK) {
		store_set_err(s, "redis %s: import: cannot queue command", s->rc.server);
		store_disconnect(s);
		im->pending = 0;
		return STORE_EUNAVAIL;
	}
	im->pending++;
	return STORE_OK;
}

/* Reads replies until at most `keep` are outstanding; reads past an error
 * reply so the connection stays in step, and returns (and keeps in s->err)
 * the first error. */
static int store_import_drain(store_import *im, int keep)
{
	cr_store *s = im->s;
	char first[STORE_ERR_MAX] = "";
	int st = STORE_OK;

	while (im->pending > keep) {
		redisReply *r = NULL;
		if (s->c == NULL || redisGetReply(s->c, (void **)&r) != REDIS_OK)
			r = NULL;
		im->pending--;
		r = store_check_reply(s, r, "import");
		if (r != NULL) {
			freeReplyObject(r);
			continue;
		}
		if (st == STORE_OK)
			util_strlcpy(first, s->err, sizeof first);
		st = STORE_EUNAVAIL;
		if (s->c == NULL) {
			im->pending = 0;
			break;
		}
	}
	if (st != STORE_OK)
		util_strlcpy(s->err, first, sizeof s->err);
	return st;
}

/* Queues "CMD KEY" followed by the npairs pairs in argv[2..] and len[2..],
 * then the staging key's EXPIRE. */
static int store_import_send(store_import *im, const char *cmd, const char *key, size_t npairs,
			     const char **argv, size_t *len)
{
	const char *ex[3] = { "EXPIRE", key, STORE_IMPORT_TTL };
	int st;

	argv[0] = cmd;
	argv[1] = key;
	len[0] = strlen(cmd);
	len[1] = strlen(key);
	if ((st = store_import_append(im, 2 + 2 * (int)npairs, argv, len)))
		return st;
	return store_import_append(im, 3, ex, NULL);
}

static int store_import_flush(store_import *im)
{
	int st;

	if (im->nfields > 0 &&
	    (st = store_import_send(im, "HSET", im->key_stage, im->nfields, im->hargv, im->hlen)))
		return st;
	if (im->nexp > 0 &&
	    (st = store_import_send(im, "ZADD", im->key_stage_exp, im->nexp, im->zargv, im->zlen)))
		return st;
	im->nfields = 0;
	im->nexp = 0;
	im->arena_used = 0;
	return store_import_drain(im, STORE_IMPORT_INFLIGHT);
}

int store_import_add(store_import *im, const struct listing_entry *e)
{
	cr_store *s = im->s;
	struct listing_entry copy;
	char *field, *val;
	int kl, vl;
	uint64_t h;

	if (im->status != STORE_OK)
		return im->status;
	copy = *e;
	if (copy.added == 0)
		copy.added = im->now;
	field = im->arena + im->arena_used;
	kl = listing_format_key(&copy, field, LISTING_KEY_MAX);
	if (kl < 0) {
		store_set_err(s, "import: entry key does not fit");
		return STORE_EINVAL; /* the caller's bad entry; the import can go on */
	}
	val = field + kl + 1;
	vl = listing_encode_value(&copy, val, LISTING_VALUE_MAX);
	if (vl < 0) {
		store_set_err(s, "import: %s: value does not fit", field);
		return STORE_EINVAL;
	}
	im->arena_used += (size_t)kl + 1 + (size_t)vl + 1;
	im->hargv[2 + 2 * im->nfields] = field;
	im->hlen[2 + 2 * im->nfields] = (size_t)kl;
	im->hargv[3 + 2 * im->nfields] = val;
	im->hlen[3 + 2 * im->nfields] = (size_t)vl;
	im->nfields++;
	h = store_hash(field, (size_t)kl);
	if (copy.expires > 0) {
		int sl = snprintf(im->scores[im->nexp], sizeof im->scores[0], "%" PRId64,
				  copy.expires);
		im->zargv[2 + 2 * im->nexp] = im->scores[im->nexp];
		im->zlen[2 + 2 * im->nexp] = (size_t)sl;
		im->zargv[3 + 2 * im->nexp] = field;
		im->zlen[3 + 2 * im->nexp] = (size_t)kl;
		im->nexp++;
		if (store_hashset_add(&im->expiring, h) < 0) {
			store_set_err(s, "import: out of memory");
			return (im->status = STORE_EUNAVAIL);
		}
	} else if (store_hashset_has(&im->expiring, h)) {
		/* this later copy has no expiry: send what came before, then drop
		 * the earlier copy's staged expiry */
		const char *zr[3] = { "ZREM", im->key_stage_exp, field };
		size_t zl[3] = { 4, strlen(im->key_stage_exp), (size_t)kl };
		char keep[LISTING_KEY_MAX];
		memcpy(keep, field, (size_t)kl + 1);
		zr[2] = keep;
		if ((im->status = store_import_flush(im)) != STORE_OK)
			return im->status;
		return (im->status = store_import_append(im, 3, zr, zl));
	}
	if (im->nfields >= STORE_IMPORT_BATCH)
		im->status = store_import_flush(im);
	return im->status;
}

/* Best effort: a failed or abandoned import leaves no staging keys behind
 * (they would expire after STORE_IMPORT_TTL anyway). */
static void store_import_cleanup(store_import *im)
{
	cr_store *s = im->s;
	char saved[STORE_ERR_MAX];
	const char *argv[3] = { "DEL", im->key_stage, im->key_stage_exp };
	redisReply *r;

	util_strlcpy(saved, s->err, sizeof saved);
	if (s->c != NULL && im->pending > 0)
		store_import_drain(im, 0);
	if (store_ready(s) == STORE_OK) {
		r = store_argv(s, "DEL", 3, argv, NULL);
		if (r != NULL)
			freeReplyObject(r);
	}
	util_strlcpy(s->err, saved, sizeof s->err);
}

int store_import_commit(store_import *im, long long *entries_out)
{
	cr_store *s = im->s;
	const char *keys[6], *args[6];
	redisReply *r;
	int st = im->status;

	if (st == STORE_OK)
		st = store_import_flush(im);
	if (st == STORE_OK)
		st = store_import_drain(im, 0);
	if (st == STORE_OK && s->c == NULL) {
		store_set_err(s, "redis %s: import: connection lost", s->rc.server);
		st = STORE_EUNAVAIL;
	}
	if (st != STORE_OK) {
		store_import_cleanup(im);
		store_import_free(im);
		return st;
	}
	keys[0] = im->key_stage;
	keys[1] = im->key_stage_exp;
	keys[2] = im->key_list;
	keys[3] = s->key_exp;
	keys[4] = s->key_changes;
	args[0] = im->list;
	args[1] = im->replace ? "1" : "0";
	args[2] = s->maxlen_text;
	keys[5] = s->key_audit;
	args[3] = s->audit_who[0] ? s->audit_who : "unknown";
	args[4] = s->audit_why[0] ? s->audit_why : "import";
	args[5] = s->audit_ref;
	if (s->command_ms < STORE_COMMIT_TIMEOUT_MS)
		redisSetTimeout(s->c, store_tv(STORE_COMMIT_TIMEOUT_MS));
	r = store_script(s, SCRIPT_COMMIT, "import commit", 6, keys, 6, args, NULL);
	if (s->c != NULL)
		redisSetTimeout(s->c, store_tv(s->command_ms));
	if (r == NULL) {
		st = STORE_EUNAVAIL;
	} else if (r->type != REDIS_REPLY_INTEGER) {
		st = store_unexpected(s, "import commit", r);
	} else {
		if (entries_out)
			*entries_out = r->integer;
		st = STORE_OK;
	}
	if (r != NULL)
		freeReplyObject(r);
	if (st != STORE_OK)
		store_import_cleanup(im);
	store_import_free(im);
	return st;
}

void store_import_abort(store_import *im)
{
	if (im == NULL)
		return;
	store_import_cleanup(im);
	store_import_free(im);
}

/* ---------------------------------------------------------------- stream */

struct store_id {
	uint64_t ms, seq;
};

static int store_parse_id(const char *s, struct store_id *id)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	id->ms = strtoull(s, &end, 10);
	if (errno || *end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	id->seq = strtoull(end + 1, &end, 10);
	if (errno || *end != '\0')
		return -1;
	return 0;
}

static int store_id_cmp(const struct store_id *a, const struct store_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* Value of field name in a flat name/value array reply (XINFO STREAM). */
static const redisReply *store_field(const redisReply *r, const char *name)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if ((r->element[i]->type == REDIS_REPLY_STRING ||
		     r->element[i]->type == REDIS_REPLY_STATUS) &&
		    strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1];
	return NULL;
}

static int store_id_field(const redisReply *info, const char *name, struct store_id *id)
{
	const redisReply *v = store_field(info, name);
	if (v == NULL || (v->type != REDIS_REPLY_STRING && v->type != REDIS_REPLY_STATUS))
		return -1;
	return store_parse_id(v->str, id);
}

/* Sends argv[0..n) wrapped in MULTI/EXEC and returns EXEC's array, or NULL. */
static redisReply *store_transaction(cr_store *s, const char *what, int n, int *argcs,
				     const char ***argvs)
{
	const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
	redisReply *result = NULL;
	int queued = 0, ok = 1;

	if (redisAppendCommandArgv(s->c, 1, multi, NULL) != REDIS_OK)
		goto broken;
	queued++;
	for (int i = 0; i < n; i++) {
		if (redisAppendCommandArgv(s->c, argcs[i], argvs[i], NULL) != REDIS_OK)
			goto broken;
		queued++;
	}
	if (redisAppendCommandArgv(s->c, 1, exec, NULL) != REDIS_OK)
		goto broken;
	queued++;
	for (int i = 0; i < queued; i++) {
		redisReply *r = NULL;
		if (redisGetReply(s->c, (void **)&r) != REDIS_OK) {
			store_check_reply(s, NULL, what);
			if (result)
				freeReplyObject(result);
			return NULL;
		}
		if (i + 1 < queued) {
			/* MULTI's +OK and each +QUEUED; an -ERR/-NOPERM here aborts EXEC */
			if (ok && store_check_reply(s, r, what) == NULL)
				ok = 0;
			else
				freeReplyObject(r);
			continue;
		}
		result = r;
	}
	if (!ok) {
		freeReplyObject(result);
		return NULL;
	}
	result = store_check_reply(s, result, what);
	if (result != NULL && result->type != REDIS_REPLY_ARRAY) {
		store_unexpected(s, what, result);
		freeReplyObject(result);
		return NULL;
	}
	if (result != NULL && result->elements != (size_t)n) {
		store_set_err(s, "redis %s: %s: EXEC answered %zu replies for %d commands",
			      s->rc.server, what, result->elements, n);
		freeReplyObject(result);
		return NULL;
	}
	return result;
broken:
	store_set_err(s, "redis %s: %s: cannot queue command", s->rc.server, what);
	store_disconnect(s);
	return NULL;
}

/* The snapshot's reply holds whole lists (1.3M fields for the benchmark data).
 * Built as hiredis reply objects it costs two allocations per field and a few
 * hundred MiB; instead these reader functions decode each field/value pair of
 * the HGETALL replies as hiredis parses it off the socket and pass it straight
 * to the caller's fn, so decoding overlaps with Redis sending.  Everything else
 * in the reply (MULTI's +OK, +QUEUED, EXEC's array, EXISTS, XINFO) is built as
 * ordinary redisReply objects, freed with freeReplyObject.  The HGETALL arrays
 * come back as arrays with no elements (lib/store_int.h). */

/* Returned for every streamed field and value: nothing to keep or free. */
static redisReply snap_consumed;

/* 1 if task is an HGETALL reply: EXEC's element 2 + i for one of the lists. */
static int snap_hash(const redisReadTask *task)
{
	const struct store_snap *st = task->privdata;

	return st != NULL && task->parent != NULL && task->parent->parent == NULL &&
	       task->idx >= 2 && (size_t)(task->idx - 2) < st->nnames;
}

/* 1 if task is a field or value of an HGETALL reply inside the EXEC array. */
static int snap_streamed(const redisReadTask *task)
{
	return task->parent != NULL && snap_hash(task->parent);
}

/* Puts r in its parent's element table, growing it as elements arrive: an
 * array's header is only a promise, and "*2000000000" must not cost 16 GB
 * before a byte of it has come.  A reply with no place there (inside something
 * skipped) is freed at once: hiredis keeps no pointer to it. */
static void *snap_attach(const redisReadTask *task, redisReply *r)
{
	redisReply *p;
	size_t idx = (size_t)task->idx;

	if (r == NULL || task->parent == NULL)
		return r;
	p = task->parent->obj;
	if (p != NULL && p != &snap_consumed && p->element != NULL && idx >= p->elements &&
	    task->parent->elements > 0 && idx < (size_t)task->parent->elements) {
		size_t want = p->elements * 2, have = (size_t)task->parent->elements;
		redisReply **grown;
		if (want > have)
			want = have;
		grown = realloc(p->element, want * sizeof *grown);
		if (grown == NULL) {
			freeReplyObject(r);
			return NULL; /* hiredis: out of memory */
		}
		memset(grown + p->elements, 0, (want - p->elements) * sizeof *grown);
		p->element = grown;
		p->elements = want;
	}
	if (p == NULL || p == &snap_consumed || p->element == NULL || idx >= p->elements) {
		freeReplyObject(r);
		return &snap_consumed;
	}
	p->element[idx] = r;
	return r;
}

/* One element of an HGETALL reply: a field (even idx) or its value; str is
 * NULL for an element that is no string (nil, integer, array). */
static void snap_pair(struct store_snap *st, const redisReadTask *task, const char *str,
		      size_t len)
{
	struct listing_entry e;
	const char *list;

	if (st->stop)
		return;
	if (task->idx % 2 == 0) { /* a field: no string, no key for the next value */
		st->key_ok = str != NULL && task->type == REDIS_REPLY_STRING &&
			     len < sizeof st->key && memchr(str, '\0', len) == NULL;
		if (st->key_ok) {
			memcpy(st->key, str, len);
			st->key[len] = '\0';
		}
		return;
	}
	if (!st->key_ok || str == NULL || task->type != REDIS_REPLY_STRING)
		return;
	list = st->names[task->parent->idx - 2];
	memset(&e, 0, sizeof e);
	if (store_decode(list, st->key, str, len, &e) < 0 || listing_expired(&e, st->now))
		return;
	if (st->fn(st->ud, list, &e) != 0)
		st->stop = 1;
}

static void *snap_create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r;

	if (snap_streamed(task)) {
		snap_pair(task->privdata, task, str, len);
		return &snap_consumed;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->str = malloc(len + 1)) == NULL) {
		free(r);
		return NULL;
	}
	r->type = task->type;
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return snap_attach(task, r);
}

static void *snap_create_array(const redisReadTask *task, int elements)
{
	redisReply *r;

	if (snap_streamed(task)) { /* nested deeper than a hash reply: not ours, skip */
		snap_pair(task->privdata, task, NULL, 0);
		return &snap_consumed;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->type = REDIS_REPLY_ARRAY;
	if (elements > 0 && !snap_hash(task)) { /* grown by snap_attach */
		r->elements = (size_t)(elements < 16 ? elements : 16);
		r->element = calloc(r->elements, sizeof(redisReply *));
		if (r->element == NULL) {
			free(r);
			return NULL;
		}
	}
	return snap_attach(task, r);
}

static void *snap_create_integer(const redisReadTask *task, long long value)
{
	redisReply *r;

	if (snap_streamed(task)) {
		snap_pair(task->privdata, task, NULL, 0);
		return &snap_consumed;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->type = REDIS_REPLY_INTEGER;
	r->integer = value;
	return snap_attach(task, r);
}

static void *snap_create_nil(const redisReadTask *task)
{
	redisReply *r;

	if (snap_streamed(task)) {
		snap_pair(task->privdata, task, NULL, 0);
		return &snap_consumed;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->type = REDIS_REPLY_NIL;
	return snap_attach(task, r);
}

static void snap_free_object(void *o)
{
	if (o != &snap_consumed)
		freeReplyObject(o);
}

static redisReplyObjectFunctions snap_functions = {
	snap_create_string, snap_create_array, snap_create_integer, snap_create_nil,
	snap_free_object,
};

void store_snap_attach(struct store_snap *ss, redisReader *rd, const char *const *names,
		       size_t nnames, store_entry_fn fn, void *ud, int64_t now)
{
	memset(ss, 0, sizeof *ss);
	ss->names = names;
	ss->nnames = nnames;
	ss->fn = fn;
	ss->ud = ud;
	ss->now = now;
	ss->reader = rd;
	ss->saved_fn = rd->fn;
	ss->saved_priv = rd->privdata;
	rd->fn = &snap_functions;
	rd->privdata = ss;
}

void store_snap_detach(struct store_snap *ss)
{
	ss->reader->fn = ss->saved_fn;
	ss->reader->privdata = ss->saved_priv;
	ss->reader = NULL;
}

int store_snap_position(const redisReply *exec, size_t nnames, char pos_out[STORE_POS_MAX],
			size_t *bad)
{
	/* The position is the stream's last generated id, not its last entry:
	 * after a trim to nothing the stream is empty but its history is not. */
	if (exec->element[0]->type != REDIS_REPLY_INTEGER) {
		*bad = 0;
		return -1;
	}
	if (exec->element[0]->integer == 0) {
		util_strlcpy(pos_out, "0-0", STORE_POS_MAX);
	} else {
		const redisReply *g = store_field(exec->element[1], "last-generated-id");
		struct store_id id;
		if (g == NULL || g->type != REDIS_REPLY_STRING || g->len >= STORE_POS_MAX ||
		    store_parse_id(g->str, &id) < 0) {
			*bad = 1;
			return -1;
		}
		util_strlcpy(pos_out, g->str, STORE_POS_MAX);
	}
	/* The entries have been passed to fn already; the arrays are empty. */
	for (size_t i = 0; i < nnames; i++) {
		const redisReply *kv = exec->element[2 + i];
		if (kv == NULL || kv->type != REDIS_REPLY_ARRAY) {
			*bad = 2 + i;
			return -1;
		}
	}
	return 0;
}

int store_snapshot(cr_store *s, const char *const *lists, store_entry_fn fn, void *ud,
		   char pos_out[STORE_POS_MAX])
{
	const char *const *names = lists ? lists : (const char *const *)s->lists;
	size_t n = 0;
	int *argcs = NULL, st;
	const char ***argvs = NULL;
	char (*keys)[STORE_KEYNAME_MAX] = NULL;
	const char *exists[2] = { "EXISTS", s->key_changes };
	const char *xinfo[3] = { "XINFO", "STREAM", s->key_changes };
	redisReply *res = NULL;
	int64_t now = util_now();
	struct store_snap ss;
	size_t bad;

	while (names[n] != NULL) {
		if ((st = store_check_list(s, names[n])) != STORE_OK)
			return st;
		n++;
	}
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	argcs = calloc(n + 2, sizeof *argcs);
	argvs = calloc(n + 2, sizeof *argvs);
	keys = calloc(n + 1, sizeof *keys);
	if (argcs == NULL || argvs == NULL || keys == NULL) {
		store_set_err(s, "store: out of memory");
		st = STORE_EUNAVAIL;
		goto out;
	}
	argcs[0] = 2;
	argvs[0] = exists;
	argcs[1] = 3;
	argvs[1] = xinfo;
	for (size_t i = 0; i < n; i++) {
		store_list_key(s, names[i], keys[i], sizeof keys[i]);
		argcs[2 + i] = 2;
		argvs[2 + i] = calloc(2, sizeof(char *));
		if (argvs[2 + i] == NULL) {
			store_set_err(s, "store: out of memory");
			st = STORE_EUNAVAIL;
			goto out;
		}
		argvs[2 + i][0] = "HGETALL";
		argvs[2 + i][1] = keys[i];
	}
	/* Redis runs MULTI..EXEC with nothing in between: the lists and the
	 * stream position are from the same instant. */
	/* whole lists come back in one reply: allow it the commit's time */
	if (s->command_ms < STORE_COMMIT_TIMEOUT_MS)
		redisSetTimeout(s->c, store_tv(STORE_COMMIT_TIMEOUT_MS));
	/* The lists' entries go to fn while the reply is read (snap_functions). */
	store_snap_attach(&ss, s->c->reader, names, n, fn, ud, now);
	res = store_transaction(s, "snapshot", (int)n + 2, argcs, argvs);
	if (s->c != NULL) { /* else freed with the reader by store_disconnect */
		store_snap_detach(&ss);
		redisSetTimeout(s->c, store_tv(s->command_ms));
	}
	if (res == NULL) {
		st = STORE_EUNAVAIL;
		goto out;
	}
	if (store_snap_position(res, n, pos_out, &bad) < 0) {
		static const char *const what[3] = { "snapshot EXISTS", "snapshot XINFO",
						     "snapshot HGETALL" };
		st = store_unexpected(s, what[bad < 2 ? bad : 2], res->element[bad]);
		goto out;
	}
	st = STORE_OK;
out:
	if (argvs != NULL)
		for (size_t i = 0; i < n; i++)
			free(argvs[2 + i]);
	free(argcs);
	free(argvs);
	free(keys);
	if (res != NULL)
		freeReplyObject(res);
	return st;
}

/* String value of field name in a stream entry [id, [f, v, ...]], or NULL. */
static const char *store_entry_field(const redisReply *ent, const char *name)
{
	const redisReply *fv;
	if (ent == NULL || ent->type != REDIS_REPLY_ARRAY || ent->elements != 2)
		return NULL;
	fv = ent->element[1];
	if (fv->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fv->elements; i += 2)
		if (fv->element[i]->type == REDIS_REPLY_STRING &&
		    fv->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(fv->element[i]->str, name) == 0)
			return fv->element[i + 1]->str;
	return NULL;
}

/* Gap rule (doc/redis-keys.md, "Following the change stream").  pos is the
 * last change the follower has applied (or a snapshot's position, or "0-0" =
 * nothing).  Entries leave the stream by trimming from the head (XADD MAXLEN
 * ~, XTRIM) or by a hand-made XDEL.  Every entry we write carries prev = the
 * stream's last generated id before it, so for the first entry E after pos:
 *     E.prev == pos  (or < pos)  nothing in between ever existed: no gap;
 *     E.prev >  pos              the entry E.prev existed and is gone: gap.
 * When nothing follows pos, pos < last-generated-id means the entries up to
 * it were all removed: gap (trimmed to nothing).  Also a gap: pos after
 * last-generated-id, or pos != 0-0 while the stream does not exist — the
 * stream was reset (failover to a stale replica, restore, FLUSHDB).
 * An entry without prev (written by something else) gets the conservative
 * rule: a gap if pos is older than the first entry held, unless Redis 7 says
 * nothing was ever removed (entries-added == length).
 * Redis 7.0's max-deleted-entry-id cannot be used: trimming does not move it. */
static int store_gap(cr_store *s, const char *pos, const redisReply *exists,
		     const redisReply *info, const redisReply *first_read)
{
	struct store_id p, last, prev, first;
	const char *pv;
	const redisReply *len, *added;

	if (store_parse_id(pos, &p) < 0)
		return STORE_EINVAL;
	if (exists->type != REDIS_REPLY_INTEGER)
		return store_unexpected(s, "EXISTS", exists);
	if (exists->integer == 0) {
		if (p.ms == 0 && p.seq == 0)
			return STORE_OK;
		store_set_err(s, "redis %s: change stream %s is gone; position %s is void",
			      s->rc.server, s->key_changes, pos);
		return STORE_EGAP;
	}
	if (info->type != REDIS_REPLY_ARRAY || store_id_field(info, "last-generated-id", &last) < 0)
		return store_unexpected(s, "XINFO", info);
	if (store_id_cmp(&p, &last) > 0) {
		store_set_err(s, "redis %s: position %s is after the stream's last id: stream reset",
			      s->rc.server, pos);
		return STORE_EGAP;
	}
	if (first_read == NULL) {
		if (store_id_cmp(&p, &last) < 0) {
			store_set_err(s, "redis %s: changes after %s were trimmed from the stream",
				      s->rc.server, pos);
			return STORE_EGAP;
		}
		return STORE_OK;
	}
	pv = store_entry_field(first_read, "prev");
	if (pv != NULL && store_parse_id(pv, &prev) == 0) {
		if (store_id_cmp(&prev, &p) > 0) {
			store_set_err(s, "redis %s: changes after %s were trimmed from the stream "
				      "(next held change follows %s)", s->rc.server, pos, pv);
			return STORE_EGAP;
		}
		return STORE_OK;
	}
	len = store_field(info, "length");
	added = store_field(info, "entries-added");
	if (len != NULL && added != NULL && len->type == REDIS_REPLY_INTEGER &&
	    added->type == REDIS_REPLY_INTEGER && added->integer == len->integer)
		return STORE_OK;
	if (first_read->element[0]->type == REDIS_REPLY_STRING &&
	    store_parse_id(first_read->element[0]->str, &first) == 0 &&
	    store_id_cmp(&p, &first) < 0) {
		store_set_err(s, "redis %s: position %s: cannot tell whether changes before %s "
			      "were trimmed", s->rc.server, pos, first_read->element[0]->str);
		return STORE_EGAP;
	}
	return STORE_OK;
}

/* Decodes one stream entry [id, [f, v, ...]] (store.h). */
int store_change_decode(const redisReply *ent, struct store_change *ch)
{
	const redisReply *fv;
	const char *op = NULL, *list = NULL, *key = NULL, *val = NULL;
	size_t vlen = 0;
	char err[256];

	memset(ch, 0, sizeof *ch);
	if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
	    ent->element[0]->type != REDIS_REPLY_STRING)
		return -2;
	util_strlcpy(ch->pos, ent->element[0]->str, sizeof ch->pos);
	fv = ent->element[1];
	if (fv->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i + 1 < fv->elements; i += 2) {
		const redisReply *f = fv->element[i], *v = fv->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(f->str, "op") == 0)
			op = v->str;
		else if (strcmp(f->str, "list") == 0)
			list = v->str;
		else if (strcmp(f->str, "key") == 0)
			key = v->str;
		else if (strcmp(f->str, "val") == 0) {
			val = v->str;
			vlen = v->len;
		}
	}
	if (op == NULL || list == NULL || util_strlcpy(ch->list, list, sizeof ch->list) >=
						  sizeof ch->list) {
		log_warn("store: change %s: missing op or list", ch->pos);
		return -1;
	}
	if (strcmp(op, "load") == 0) {
		ch->op = STORE_CHANGE_LOAD;
		return 0;
	}
	if (strcmp(op, "add") == 0)
		ch->op = STORE_CHANGE_ADD;
	else if (strcmp(op, "del") == 0)
		ch->op = STORE_CHANGE_DEL;
	else {
		log_warn("store: change %s: unknown op \"%s\"", ch->pos, op);
		return -1;
	}
	if (key == NULL || listing_parse_key(key, &ch->entry, err, sizeof err) < 0) {
		log_warn("store: change %s: bad key: %s", ch->pos, key ? err : "missing");
		return -1;
	}
	if (ch->op == STORE_CHANGE_ADD &&
	    (val == NULL || listing_decode_value(val, vlen, &ch->entry) < 0)) {
		log_warn("store: change %s: %s: bad value", ch->pos, key);
		return -1;
	}
	return 0;
}

/* One atomic look: is pos still followable, and the next max_count changes. */
static int store_changes_once(cr_store *s, char pos[STORE_POS_MAX], int max_count,
			      store_change_fn fn, void *ud)
{
	char count[16];
	const char *exists[2] = { "EXISTS", s->key_changes };
	const char *xinfo[3] = { "XINFO", "STREAM", s->key_changes };
	const char *xread[6] = { "XREAD", "COUNT", count, "STREAMS", s->key_changes, pos };
	int argcs[3] = { 2, 3, 6 };
	const char **argvs[3] = { exists, xinfo, xread };
	redisReply *res, *xr, *entries;
	int st, passed = 0;

	snprintf(count, sizeof count, "%d", max_count);
	res = store_transaction(s, "changes", 3, argcs, argvs);
	if (res == NULL)
		return STORE_EUNAVAIL;
	xr = res->element[2];
	if (xr->type == REDIS_REPLY_NIL) {
		entries = NULL;
	} else if (xr->type != REDIS_REPLY_ARRAY || xr->elements != 1 ||
		   xr->element[0]->type != REDIS_REPLY_ARRAY || xr->element[0]->elements != 2 ||
		   xr->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		st = store_unexpected(s, "XREAD", xr);
		goto out;
	} else {
		entries = xr->element[0]->element[1];
		if (entries->elements > 0 &&
		    (entries->element[0]->type != REDIS_REPLY_ARRAY ||
		     entries->element[0]->elements != 2 ||
		     entries->element[0]->element[0]->type != REDIS_REPLY_STRING)) {
			st = store_unexpected(s, "XREAD entry", entries->element[0]);
			goto out;
		}
	}
	st = store_gap(s, pos, res->element[0], res->element[1],
		       entries && entries->elements > 0 ? entries->element[0] : NULL);
	if (st != STORE_OK || entries == NULL)
		goto out;
	for (size_t i = 0; i < entries->elements; i++) {
		struct store_change ch;
		int d = store_change_decode(entries->element[i], &ch);
		if (d == -2) {
			st = store_unexpected(s, "XREAD entry", entries->element[i]);
			goto out;
		}
		util_strlcpy(pos, ch.pos, STORE_POS_MAX);
		if (d < 0 || !store_list_known(s, ch.list))
			continue; /* not a list we follow: skip it but move past it */
		passed++;
		if (fn(ud, &ch) != 0)
			break;
	}
out:
	freeReplyObject(res);
	return st == STORE_OK ? passed : st;
}

int store_changes_read(cr_store *s, char pos[STORE_POS_MAX], int block_ms, int max_count,
		       store_change_fn fn, void *ud)
{
	struct store_id id;
	int st;

	if (store_parse_id(pos, &id) < 0) {
		store_set_err(s, "stream position \"%.*s\": not an id like 1700000000000-0",
			      STORE_POS_MAX - 1, pos);
		return STORE_EINVAL;
	}
	if (max_count < 1 || block_ms < 0) {
		store_set_err(s, "changes: max_count must be >= 1 and block_ms >= 0");
		return STORE_EINVAL;
	}
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	st = store_changes_once(s, pos, max_count, fn, ud);
	if (st != 0 || block_ms == 0)
		return st;
	/* Nothing yet: wait for a change, then read it with the gap check above
	 * (a blocking XREAD cannot run inside MULTI, and a read outside it could
	 * race with a trim). */
	{
		char ms[16];
		const char *argv[8] = { "XREAD", "BLOCK", ms, "COUNT", "1", "STREAMS",
					s->key_changes, pos };
		redisReply *r;
		int nil;

		snprintf(ms, sizeof ms, "%d", block_ms);
		redisSetTimeout(s->c, store_tv(s->command_ms + block_ms));
		r = store_argv(s, "XREAD BLOCK", 8, argv, NULL);
		if (s->c != NULL)
			redisSetTimeout(s->c, store_tv(s->command_ms));
		if (r == NULL)
			return STORE_EUNAVAIL;
		nil = r->type == REDIS_REPLY_NIL;
		freeReplyObject(r);
		if (nil)
			return 0;
	}
	return store_changes_once(s, pos, max_count, fn, ud);
}

/* ---------------------------------------------------------------- expiry */

int store_expire(cr_store *s, int64_t now, long long *removed)
{
	char nowtext[24];
	long long total = 0;
	int st;

	if (removed)
		*removed = 0;
	if ((st = store_ready(s)) != STORE_OK)
		return st;
	snprintf(nowtext, sizeof nowtext, "%" PRId64, now);
	for (;;) {
		char lim[16];
		const char *argv[7] = { "ZRANGEBYSCORE", s->key_exp, "-inf", nowtext,
					"LIMIT", "0", lim };
		redisReply *r;
		const char **keys = NULL, **args = NULL;
		size_t *arglens = NULL;
		char (*lkeys)[STORE_KEYNAME_MAX] = NULL;
		size_t n = 0, junk = 0;

		snprintf(lim, sizeof lim, "%d", STORE_EXPIRE_BATCH);
		r = store_argv(s, "ZRANGEBYSCORE", 7, argv, NULL);
		if (r == NULL)
			return STORE_EUNAVAIL;
		if (r->type != REDIS_REPLY_ARRAY) {
			st = store_unexpected(s, "ZRANGEBYSCORE", r);
			freeReplyObject(r);
			return st;
		}
		if (r->elements == 0) {
			freeReplyObject(r);
			break;
		}
		keys = calloc(3 + r->elements, sizeof *keys);
		args = calloc(2 + 2 * r->elements, sizeof *args);
		arglens = calloc(2 + 2 * r->elements, sizeof *arglens);
		lkeys = calloc(r->elements, sizeof *lkeys);
		if (!keys || !args || !arglens || !lkeys) {
			store_set_err(s, "store: out of memory");
			st = STORE_EUNAVAIL;
			goto batch_out;
		}
		keys[0] = s->key_exp;
		keys[1] = s->key_changes;
		keys[2] = s->key_audit;
		args[0] = nowtext;
		args[1] = s->maxlen_text;
		arglens[0] = strlen(nowtext);
		arglens[1] = strlen(s->maxlen_text);
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *m = r->element[i];
			const char *nl;
			char list[LISTING_LIST_MAX + 1];
			if (m->type != REDIS_REPLY_STRING)
				continue;
			nl = memchr(m->str, '\n', m->len);
			if (nl == NULL || (size_t)(nl - m->str) > LISTING_LIST_MAX) {
				/* not written by us: drop it so it cannot stall the sweep */
				const char *zr[3] = { "ZREM", s->key_exp, m->str };
				size_t zl[3] = { 4, strlen(s->key_exp), m->len };
				redisReply *z = store_argv(s, "ZREM", 3, zr, zl);
				if (z == NULL) {
					st = STORE_EUNAVAIL;
					goto batch_out;
				}
				freeReplyObject(z);
				log_warn("store: dropped malformed expiry member \"%.*s\"",
					 (int)(m->len > 100 ? 100 : m->len), m->str);
				junk++;
				continue;
			}
			memcpy(list, m->str, (size_t)(nl - m->str));
			list[nl - m->str] = '\0';
			store_list_key(s, list, lkeys[n], sizeof lkeys[n]);
			keys[3 + n] = lkeys[n];
			args[2 + 2 * n] = m->str;
			arglens[2 + 2 * n] = (size_t)(nl - m->str);
			args[3 + 2 * n] = nl + 1;
			arglens[3 + 2 * n] = m->len - (size_t)(nl - m->str) - 1;
			n++;
		}
		if (n > 0) {
			redisReply *sr = store_script(s, SCRIPT_EXPIRE, "expire", 3 + (int)n, keys,
						      2 + 2 * (int)n, args, arglens);
			if (sr == NULL) {
				st = STORE_EUNAVAIL;
				goto batch_out;
			}
			if (sr->type != REDIS_REPLY_INTEGER) {
				st = store_unexpected(s, "expire", sr);
				freeReplyObject(sr);
				goto batch_out;
			}
			total += sr->integer;
			freeReplyObject(sr);
		}
		st = STORE_OK;
	batch_out:
		free(keys);
		free(args);
		free(arglens);
		free(lkeys);
		{
			size_t got = r->elements;
			freeReplyObject(r);
			if (removed)
				*removed = total;
			if (st != STORE_OK)
				return st;
			/* a short batch was the last one */
			if (got < STORE_EXPIRE_BATCH || (n == 0 && junk == 0))
				break;
		}
	}
	return STORE_OK;
}

/* ---------------------------------------------------------------- audit */

void store_set_audit(cr_store *s, const char *who, const char *why, const char *ref)
{
	util_strlcpy(s->audit_who, who ? who : "", sizeof s->audit_who);
	util_strlcpy(s->audit_why, why ? why : "", sizeof s->audit_why);
	util_strlcpy(s->audit_ref, ref ? ref : "", sizeof s->audit_ref);
	listing_clean_text(s->audit_who, STORE_AUDIT_WHO_MAX);
	listing_clean_text(s->audit_why, STORE_AUDIT_WHY_MAX);
	listing_clean_text(s->audit_ref, STORE_AUDIT_REF_MAX);
}

int store_audit_read(cr_store *s, int64_t from, int64_t to, long count, store_audit_fn fn,
		     void *ud)
{
	char start[STORE_POS_MAX], end[STORE_POS_MAX], cnt[24];
	int st, passed = 0;
	long left = count;

	if ((st = store_ready(s)) != STORE_OK)
		return st;
	if (from > 0)
		snprintf(start, sizeof start, "%" PRId64 "-0", from * 1000);
	else
		util_strlcpy(start, "-", sizeof start);
	if (to > 0)
		snprintf(end, sizeof end, "%" PRId64 "-18446744073709551615", to * 1000 + 999);
	else
		util_strlcpy(end, "+", sizeof end);
	for (;;) {
		const char *argv[6] = { "XRANGE", s->key_audit, start, end, "COUNT", cnt };
		redisReply *r;
		long batch = 1000;

		if (count > 0 && left < batch)
			batch = left;
		if (count > 0 && batch <= 0)
			break;
		snprintf(cnt, sizeof cnt, "%ld", batch);
		r = store_argv(s, "XRANGE", 6, argv, NULL);
		if (r == NULL)
			return STORE_EUNAVAIL;
		if (r->type != REDIS_REPLY_ARRAY) {
			st = store_unexpected(s, "XRANGE", r);
			freeReplyObject(r);
			return st;
		}
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *ent = r->element[i];
			struct store_audit a;
			const char *v;
			memset(&a, 0, sizeof a);
			if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
			    ent->element[0]->type != REDIS_REPLY_STRING)
				continue;
			util_strlcpy(a.id, ent->element[0]->str, sizeof a.id);
			a.when = strtoll(a.id, NULL, 10) / 1000;
			if ((v = store_entry_field(ent, "op")) != NULL)
				util_strlcpy(a.op, v, sizeof a.op);
			if ((v = store_entry_field(ent, "list")) != NULL)
				util_strlcpy(a.list, v, sizeof a.list);
			if ((v = store_entry_field(ent, "key")) != NULL)
				util_strlcpy(a.key, v, sizeof a.key);
			if ((v = store_entry_field(ent, "val")) != NULL)
				util_strlcpy(a.val, v, sizeof a.val);
			if ((v = store_entry_field(ent, "who")) != NULL)
				util_strlcpy(a.who, v, sizeof a.who);
			if ((v = store_entry_field(ent, "why")) != NULL)
				util_strlcpy(a.why, v, sizeof a.why);
			if ((v = store_entry_field(ent, "ref")) != NULL)
				util_strlcpy(a.ref, v, sizeof a.ref);
			passed++;
			left--;
			if (fn(ud, &a) != 0) {
				freeReplyObject(r);
				return passed;
			}
		}
		if ((long)r->elements < batch) {
			freeReplyObject(r);
			break;
		}
		/* continue after the last id read: "(" makes the start exclusive */
		snprintf(start, sizeof start, "(%s",
			 r->element[r->elements - 1]->element[0]->str);
		freeReplyObject(r);
	}
	return passed;
}

/* ---------------------------------------------------------------- plain commands */

struct redisReply *store_command(cr_store *s, const char *what, int argc, const char **argv,
				 const size_t *lens)
{
	if (store_ready(s) != STORE_OK)
		return NULL;
	return store_argv(s, what, argc, argv, lens);
}

struct redisReply *store_eval(cr_store *s, const char *what, const char *script, int nkeys,
			      const char **keys, int nargs, const char **args,
			      const size_t *arglens)
{
	int argc = 3 + nkeys + nargs;
	const char **argv;
	size_t *lens;
	char nk[16];
	redisReply *r;

	if (store_ready(s) != STORE_OK)
		return NULL;
	argv = calloc((size_t)argc, sizeof *argv);
	lens = calloc((size_t)argc, sizeof *lens);
	if (argv == NULL || lens == NULL) {
		free(argv);
		free(lens);
		store_set_err(s, "store: out of memory");
		return NULL;
	}
	snprintf(nk, sizeof nk, "%d", nkeys);
	argv[0] = "EVAL";
	argv[1] = script;
	argv[2] = nk;
	lens[0] = 4;
	lens[1] = strlen(script);
	lens[2] = strlen(nk);
	for (int i = 0; i < nkeys; i++) {
		argv[3 + i] = keys[i];
		lens[3 + i] = strlen(keys[i]);
	}
	for (int i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = arglens ? arglens[i] : strlen(args[i]);
	}
	r = store_argv(s, what, argc, argv, lens);
	free(argv);
	free(lens);
	return r;
}

const char *store_prefix(const cr_store *s)
{
	return s->rc.prefix;
}
