/* Tests for lib/store.c against a private redis-server (tests/unit/redis_helper.h:
 * started by the unchecked fixture on a free loopback port, never the system
 * Redis): entries, queries, imports, snapshot + change stream, gaps, ACL auth,
 * expiry. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "listing.h"
#include "redis_helper.h"
#include "store.h"
#include "util.h"

/* ------------------------------------------------------------ the server */

static redisContext *raw_connect(void)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", th_redis_port, tv);
	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Runs one command on a fresh raw connection; the caller frees the reply. */
static redisReply *raw(const char *fmt, ...)
{
	redisContext *c = raw_connect();
	redisReply *r;
	va_list ap;

	ck_assert_ptr_nonnull(c);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	ck_assert_ptr_nonnull(r);
	return r;
}

static long long raw_int(const char *cmd, const char *key)
{
	redisReply *r = raw("%s %s", cmd, key);
	long long v;
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static void flush_all(void)
{
	freeReplyObject(raw("FLUSHALL"));
	freeReplyObject(raw("ACL DELUSER chanrac-test chanrac-ro"));
}

/* ------------------------------------------------------------ helpers */

static cr_conf *conf_for(const char *extra)
{
	char text[1024], err[512];
	cr_conf *c;

	snprintf(text, sizeof text, "[redis]\nhost = 127.0.0.1\nport = %d\n%s", th_redis_port,
		 extra ? extra : "");
	c = conf_load_string(text, "test.conf", err, sizeof err);
	ck_assert_msg(c != NULL, "conf: %s", err);
	return c;
}

static cr_store *open_with(const char *extra)
{
	cr_conf *c = conf_for(extra);
	char err[512];
	int st = 99;
	cr_store *s = store_open(c, &st, err, sizeof err);
	ck_assert_msg(s != NULL, "store_open: %s", err);
	ck_assert_int_eq(st, STORE_OK);
	conf_free(c);
	return s;
}

static cr_store *open_store(void)
{
	return open_with(NULL);
}

static struct listing_entry ent(const char *key, int code, const char *reason)
{
	struct listing_entry e;
	char err[256];
	ck_assert_msg(listing_parse_key(key, &e, err, sizeof err) == 0, "%s: %s", key, err);
	e.code = 0x7f000000u | (uint32_t)code;
	util_strlcpy(e.reason, reason, sizeof e.reason);
	util_strlcpy(e.source, "test", sizeof e.source);
	return e;
}

static void add(cr_store *s, const char *list, const char *key, int code)
{
	struct listing_entry e = ent(key, code, key);
	int st = store_entry_add(s, list, &e, 1);
	ck_assert_msg(st == STORE_OK, "add %s %s: %d %s", list, key, st, store_error(s));
}

static void add_expiring(cr_store *s, const char *list, const char *key, int code,
			 int64_t expires)
{
	struct listing_entry e = ent(key, code, key);
	e.expires = expires;
	ck_assert_int_eq(store_entry_add(s, list, &e, 1), STORE_OK);
}

static void fmt_key(const struct listing_entry *e, char *buf, size_t len)
{
	ck_assert_int_gt(listing_format_key(e, buf, len), 0);
}

/* Queries key and expects exactly one match in list, with the given key text,
 * code and via. */
static void expect_one(cr_store *s, const char *query, const char *list, const char *key,
		       int code, int via)
{
	struct listing_entry q = ent(query, 2, "");
	struct store_match m[8];
	char k[LISTING_KEY_MAX];
	int n = store_query(s, &q, m, 8);

	ck_assert_msg(n == 1, "query %s: %d matches (%s)", query, n, n < 0 ? store_error(s) : "");
	ck_assert_str_eq(m[0].list, list);
	fmt_key(&m[0].entry, k, sizeof k);
	ck_assert_str_eq(k, key);
	ck_assert_uint_eq(m[0].entry.code, 0x7f000000u | (uint32_t)code);
	ck_assert_int_eq(m[0].via, via);
}

static void expect_none(cr_store *s, const char *query)
{
	struct listing_entry q = ent(query, 2, "");
	struct store_match m[8];
	ck_assert_int_eq(store_query(s, &q, m, 8), 0);
}

static long long count(cr_store *s, const char *list)
{
	long long n = -1;
	ck_assert_int_eq(store_list_count(s, list, &n), STORE_OK);
	return n;
}

static int has(cr_store *s, const char *list, const char *key)
{
	struct listing_entry k = ent(key, 2, ""), out;
	int st = store_entry_get(s, list, &k, &out);
	ck_assert(st == STORE_OK || st == STORE_NOTFOUND);
	return st == STORE_OK;
}

static long long staging_keys(void)
{
	redisReply *r = raw("KEYS cr:{bl}:import:*");
	long long n;
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	n = (long long)r->elements;
	freeReplyObject(r);
	return n;
}

/* Records changes as "op list key" lines. */
struct changes {
	char text[4096];
	int n;
};

static int record_change(void *ud, const struct store_change *ch)
{
	struct changes *c = ud;
	static const char *const ops[] = { "add", "del", "load" };
	char k[LISTING_KEY_MAX] = "";
	size_t len = strlen(c->text);

	if (ch->op != STORE_CHANGE_LOAD)
		fmt_key(&ch->entry, k, sizeof k);
	snprintf(c->text + len, sizeof c->text - len, "%s %s %s%s%s;", ops[ch->op], ch->list, k,
		 ch->op == STORE_CHANGE_ADD ? "=" : "",
		 ch->op == STORE_CHANGE_ADD ? ch->entry.reason : "");
	c->n++;
	return 0;
}

struct collected {
	char text[4096];
	int n;
};

static int record_entry(void *ud, const char *list, const struct listing_entry *e)
{
	struct collected *c = ud;
	char k[LISTING_KEY_MAX];
	size_t len = strlen(c->text);
	fmt_key(e, k, sizeof k);
	snprintf(c->text + len, sizeof c->text - len, "%s %s;", list, k);
	c->n++;
	return 0;
}

/* ------------------------------------------------------------ open, errors */

START_TEST(test_open_wrong_port_unavailable_with_message)
{
	char text[256], err[512], want[128];
	int st = 0, port = th_free_port();
	cr_conf *c;
	cr_store *s;

	snprintf(text, sizeof text, "[redis]\nhost = 127.0.0.1\nport = %d\n", port);
	c = conf_load_string(text, "t.conf", err, sizeof err);
	ck_assert_ptr_nonnull(c);
	s = store_open(c, &st, err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(st, STORE_EUNAVAIL);
	snprintf(want, sizeof want, "redis 127.0.0.1:%d: Connection refused", port);
	ck_assert_str_eq(err, want);
	conf_free(c);
}
END_TEST

START_TEST(test_open_bad_list_name_einval)
{
	cr_conf *c = conf_for("[lists]\nnames = spam-ip Bad!name\n");
	char err[512];
	int st = 0;
	ck_assert_ptr_null(store_open(c, &st, err, sizeof err));
	ck_assert_int_eq(st, STORE_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"Bad!name\" is not a valid list name"));
	conf_free(c);
}
END_TEST

START_TEST(test_unknown_list_einval)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("192.0.2.1", 2, ""), out;
	const char *lists[] = { "nope", NULL };
	long long n;
	char pos[STORE_POS_MAX];
	struct collected col = { "", 0 };

	ck_assert_int_eq(store_list_known(s, "spam-ip"), 1);
	ck_assert_int_eq(store_list_known(s, "nope"), 0);
	ck_assert_int_eq(store_entry_add(s, "nope", &e, 0), STORE_EINVAL);
	ck_assert_str_eq(store_error(s), "list \"nope\": not configured in [lists] names");
	ck_assert_int_eq(store_entry_del(s, "nope", &e), STORE_EINVAL);
	ck_assert_int_eq(store_entry_get(s, "nope", &e, &out), STORE_EINVAL);
	ck_assert_int_eq(store_list_count(s, "nope", &n), STORE_EINVAL);
	ck_assert_ptr_null(store_import_begin(s, "nope", 0));
	ck_assert_int_eq(store_snapshot(s, lists, record_entry, &col, pos), STORE_EINVAL);
	store_close(s);
}
END_TEST

START_TEST(test_lists_from_config)
{
	cr_store *s = open_with("[lists]\nnames = a-list b_list\n");
	const char *const *l = store_lists(s);
	ck_assert_str_eq(l[0], "a-list");
	ck_assert_str_eq(l[1], "b_list");
	ck_assert_ptr_null(l[2]);
	store_close(s);
}
END_TEST

START_TEST(test_reconnects_after_connection_killed)
{
	cr_store *s = open_store();
	add(s, "spam-ip", "192.0.2.1", 2);
	freeReplyObject(raw("CLIENT KILL TYPE normal"));
	/* the first call notices the dead connection ... */
	struct listing_entry e = ent("192.0.2.2", 2, "");
	int st = store_entry_add(s, "spam-ip", &e, 1);
	if (st != STORE_OK) {
		ck_assert_int_eq(st, STORE_EUNAVAIL);
		ck_assert_ptr_nonnull(strstr(store_error(s), "redis 127.0.0.1:"));
		/* ... and the next one reconnects */
		ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 1), STORE_OK);
	}
	ck_assert_int_eq(count(s, "spam-ip"), 2);
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ entries */

START_TEST(test_add_get_del_roundtrip)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("192.0.2.0/24", 3, "spam source"), out;
	int64_t before = util_now();

	ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 0), STORE_OK);
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &e, &out), STORE_OK);
	ck_assert_int_eq(out.kind, LISTING_ADDR);
	ck_assert(!out.exclude);
	ck_assert_uint_eq(out.prefix.len, 120);
	ck_assert_uint_eq(out.code, 0x7f000003u);
	ck_assert_str_eq(out.reason, "spam source");
	ck_assert_str_eq(out.source, "test");
	ck_assert_int_ge(out.added, before);
	ck_assert_int_le(out.added, util_now());
	ck_assert_int_eq(out.expires, 0);
	ck_assert_int_eq(count(s, "spam-ip"), 1);
	ck_assert_int_eq(count(s, "spam-domain"), 0);

	ck_assert_int_eq(store_entry_del(s, "spam-ip", &e), STORE_OK);
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &e, &out), STORE_NOTFOUND);
	ck_assert_str_eq(store_error(s), "spam-ip: 192.0.2.0/24 is not listed");
	ck_assert_int_eq(count(s, "spam-ip"), 0);
	store_close(s);
}
END_TEST

START_TEST(test_add_keeps_given_added_time)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("example.vn", 2, ""), out;
	e.added = 1700000000;
	ck_assert_int_eq(store_entry_add(s, "spam-domain", &e, 0), STORE_OK);
	ck_assert_int_eq(store_entry_get(s, "spam-domain", &e, &out), STORE_OK);
	ck_assert_int_eq(out.added, 1700000000);
	ck_assert_int_eq(out.kind, LISTING_DOMAIN);
	ck_assert_str_eq(out.name, "example.vn");
	store_close(s);
}
END_TEST

START_TEST(test_add_existing_without_replace_eexist)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("*.example.vn", 2, "first"), out;

	ck_assert_int_eq(store_entry_add(s, "spam-domain", &e, 0), STORE_OK);
	util_strlcpy(e.reason, "second", sizeof e.reason);
	ck_assert_int_eq(store_entry_add(s, "spam-domain", &e, 0), STORE_EEXIST);
	ck_assert_str_eq(store_error(s), "spam-domain: *.example.vn is already listed");
	ck_assert_int_eq(store_entry_get(s, "spam-domain", &e, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "first");
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 1);

	ck_assert_int_eq(store_entry_add(s, "spam-domain", &e, 1), STORE_OK);
	ck_assert_int_eq(store_entry_get(s, "spam-domain", &e, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "second");
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 2);
	store_close(s);
}
END_TEST

START_TEST(test_add_over_expired_entry_is_not_eexist)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("192.0.2.9", 2, "old");
	e.expires = util_now() - 5;
	ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 0), STORE_OK);
	e.expires = 0;
	ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 0), STORE_OK);
	/* the renewed entry left the expiry index */
	ck_assert_int_eq(raw_int("ZCARD", "cr:{bl}:exp"), 0);
	store_close(s);
}
END_TEST

START_TEST(test_del_missing_notfound_writes_nothing)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("2001:db8::/32", 2, "");
	ck_assert_int_eq(store_entry_del(s, "spam-ip", &e), STORE_NOTFOUND);
	ck_assert_str_eq(store_error(s), "spam-ip: 2001:db8::/32 is not listed");
	ck_assert_int_eq(raw_int("EXISTS", "cr:{bl}:changes"), 0);
	store_close(s);
}
END_TEST

START_TEST(test_stream_entry_format)
{
	cr_store *s = open_store();
	struct listing_entry e = ent("!192.0.2.0/25", 4, "carved");
	redisReply *r, *f;

	e.added = 1700000000;
	ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 0), STORE_OK);
	ck_assert_int_eq(store_entry_del(s, "spam-ip", &e), STORE_OK);
	r = raw("XRANGE cr:{bl}:changes - +");
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(r->elements, 2);
	f = r->element[0]->element[1];
	ck_assert_uint_eq(f->elements, 10);
	ck_assert_str_eq(f->element[0]->str, "op");
	ck_assert_str_eq(f->element[1]->str, "add");
	ck_assert_str_eq(f->element[2]->str, "list");
	ck_assert_str_eq(f->element[3]->str, "spam-ip");
	ck_assert_str_eq(f->element[4]->str, "key");
	ck_assert_str_eq(f->element[5]->str, "!192.0.2.0/25");
	ck_assert_str_eq(f->element[6]->str, "val");
	ck_assert_str_eq(f->element[7]->str, "v1\t127.0.0.4\t1700000000\t0\ttest\tcarved");
	ck_assert_str_eq(f->element[8]->str, "prev");
	ck_assert_str_eq(f->element[9]->str, "0-0"); /* first entry ever */
	f = r->element[1]->element[1];
	ck_assert_uint_eq(f->elements, 10);
	ck_assert_str_eq(f->element[1]->str, "del");
	ck_assert_str_eq(f->element[5]->str, "!192.0.2.0/25");
	ck_assert_str_eq(f->element[7]->str, "");
	ck_assert_str_eq(f->element[8]->str, "prev");
	ck_assert_str_eq(f->element[9]->str, r->element[0]->element[0]->str);
	freeReplyObject(r);
	store_close(s);
}
END_TEST

START_TEST(test_key_prefix_and_db_respected)
{
	cr_store *s = open_with("key_prefix = other\ndb = 3\n");
	redisReply *r;
	add(s, "spam-ip", "192.0.2.1", 2);
	r = raw("SELECT 3");
	freeReplyObject(r);
	r = raw("EXISTS cr:{bl}:list:spam-ip");
	ck_assert_int_eq(r->integer, 0); /* db 0 is untouched */
	freeReplyObject(r);
	{
		redisContext *c = raw_connect();
		ck_assert_ptr_nonnull(c);
		freeReplyObject(redisCommand(c, "SELECT 3"));
		r = redisCommand(c, "HLEN other:{bl}:list:spam-ip");
		ck_assert_int_eq(r->integer, 1);
		freeReplyObject(r);
		freeReplyObject(redisCommand(c, "FLUSHDB"));
		redisFree(c);
	}
	store_close(s);
}
END_TEST

START_TEST(test_list_scan_visits_every_entry)
{
	cr_store *s = open_store();
	struct collected col = { "", 0 };
	char key[32];
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof key, "10.0.%d.0/24", i);
		add(s, "spam-ip", key, 2);
	}
	ck_assert_int_eq(store_list_scan(s, "spam-ip", record_entry, &col), STORE_OK);
	ck_assert_int_eq(col.n, 50);
	ck_assert_ptr_nonnull(strstr(col.text, "spam-ip 10.0.49.0/24;"));
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ queries */

START_TEST(test_query_longest_prefix_v4)
{
	cr_store *s = open_store();
	add(s, "spam-ip", "10.0.0.0/8", 2);
	add(s, "spam-ip", "10.1.0.0/16", 3);
	add(s, "spam-ip", "10.1.2.3", 4);
	expect_one(s, "10.1.2.3", "spam-ip", "10.1.2.3", 4, STORE_VIA_EXACT);
	expect_one(s, "10.1.2.4", "spam-ip", "10.1.0.0/16", 3, STORE_VIA_PREFIX);
	expect_one(s, "10.2.0.1", "spam-ip", "10.0.0.0/8", 2, STORE_VIA_PREFIX);
	expect_one(s, "10.1.0.0/16", "spam-ip", "10.1.0.0/16", 3, STORE_VIA_EXACT);
	/* a CIDR query reports what covers the whole range */
	expect_one(s, "10.1.2.0/24", "spam-ip", "10.1.0.0/16", 3, STORE_VIA_PREFIX);
	expect_one(s, "10.0.0.0/9", "spam-ip", "10.0.0.0/8", 2, STORE_VIA_PREFIX);
	expect_none(s, "11.0.0.1");
	expect_none(s, "10.0.0.0/7");
	store_close(s);
}
END_TEST

START_TEST(test_query_longest_prefix_v6)
{
	cr_store *s = open_store();
	add(s, "spam-ip", "2001:db8::/32", 2);
	add(s, "spam-ip", "2001:db8:1::/48", 3);
	expect_one(s, "2001:db8:1::5", "spam-ip", "2001:db8:1::/48", 3, STORE_VIA_PREFIX);
	expect_one(s, "2001:db8:2::1", "spam-ip", "2001:db8::/32", 2, STORE_VIA_PREFIX);
	expect_one(s, "2001:db8:1::/64", "spam-ip", "2001:db8:1::/48", 3, STORE_VIA_PREFIX);
	expect_none(s, "2001:db9::1");
	/* IPv4 queries never meet IPv6 prefixes */
	add(s, "spam-ip", "::/0", 5);
	expect_none(s, "192.0.2.1");
	store_close(s);
}
END_TEST

START_TEST(test_query_exclusion_inside_range)
{
	cr_store *s = open_store();
	add(s, "spam-ip", "192.0.2.0/24", 2);
	add(s, "spam-ip", "!192.0.2.128/25", 2);
	add(s, "spam-ip", "192.0.2.200", 5);
	expect_one(s, "192.0.2.5", "spam-ip", "192.0.2.0/24", 2, STORE_VIA_PREFIX);
	expect_one(s, "192.0.2.130", "spam-ip", "!192.0.2.128/25", 2, STORE_VIA_EXCLUSION);
	/* a listing inside the exclusion is more specific again */
	expect_one(s, "192.0.2.200", "spam-ip", "192.0.2.200", 5, STORE_VIA_EXACT);
	{
		struct listing_entry q = ent("192.0.2.130", 2, "");
		struct store_match m[2];
		ck_assert_int_eq(store_query(s, &q, m, 2), 1);
		ck_assert(m[0].entry.exclude);
	}
	/* at equal length the exclusion wins */
	add(s, "spam-ip", "!192.0.2.0/24", 2);
	expect_one(s, "192.0.2.5", "spam-ip", "!192.0.2.0/24", 2, STORE_VIA_EXCLUSION);
	store_close(s);
}
END_TEST

START_TEST(test_query_wildcard_vs_exact)
{
	cr_store *s = open_store();
	add(s, "spam-domain", "*.example.vn", 2);
	add(s, "spam-domain", "mail.example.vn", 3);
	add(s, "spam-domain", "!*.ok.example.vn", 2);
	add(s, "spam-domain", "*.vn", 6);
	expect_one(s, "mail.example.vn", "spam-domain", "mail.example.vn", 3, STORE_VIA_EXACT);
	expect_one(s, "www.example.vn", "spam-domain", "*.example.vn", 2, STORE_VIA_WILDCARD);
	expect_one(s, "a.b.example.vn", "spam-domain", "*.example.vn", 2, STORE_VIA_WILDCARD);
	expect_one(s, "x.mail.example.vn", "spam-domain", "*.example.vn", 2, STORE_VIA_WILDCARD);
	/* a wildcard does not cover its own name: *.vn decides */
	expect_one(s, "example.vn", "spam-domain", "*.vn", 6, STORE_VIA_WILDCARD);
	expect_one(s, "x.ok.example.vn", "spam-domain", "!*.ok.example.vn", 2,
		   STORE_VIA_EXCLUSION);
	expect_one(s, "ok.example.vn", "spam-domain", "*.example.vn", 2, STORE_VIA_WILDCARD);
	expect_none(s, "example.com");
	expect_none(s, "vn");
	store_close(s);
}
END_TEST

START_TEST(test_query_reports_one_match_per_list)
{
	cr_store *s = open_store();
	struct listing_entry q = ent("shop.example.vn", 2, "");
	struct store_match m[8];
	char k[LISTING_KEY_MAX];

	add(s, "spam-domain", "*.example.vn", 2);
	add(s, "spam-domain", "shop.example.vn", 3);
	add(s, "allow", "shop.example.vn", 2);
	ck_assert_int_eq(store_query(s, &q, m, 8), 2);
	ck_assert_str_eq(m[0].list, "spam-domain");
	fmt_key(&m[0].entry, k, sizeof k);
	ck_assert_str_eq(k, "shop.example.vn");
	ck_assert_str_eq(m[1].list, "allow");
	/* max bounds what is written */
	ck_assert_int_eq(store_query(s, &q, m, 1), 1);
	ck_assert_str_eq(m[0].list, "spam-domain");
	store_close(s);
}
END_TEST

START_TEST(test_query_ignores_expired)
{
	cr_store *s = open_store();
	int64_t now = util_now();
	add(s, "spam-ip", "198.51.100.0/22", 2);
	add_expiring(s, "spam-ip", "198.51.100.0/24", 3, now - 1);
	add_expiring(s, "spam-ip", "198.51.100.7", 4, now + 3600);
	expect_one(s, "198.51.100.5", "spam-ip", "198.51.100.0/22", 2, STORE_VIA_PREFIX);
	expect_one(s, "198.51.100.7", "spam-ip", "198.51.100.7", 4, STORE_VIA_EXACT);
	add_expiring(s, "spam-domain", "old.example.vn", 3, now - 100);
	expect_none(s, "old.example.vn");
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ import */

static void import_keys(store_import *im, const char *const *keys)
{
	for (; *keys; keys++) {
		struct listing_entry e = ent(*keys, 2, "imported");
		ck_assert_int_eq(store_import_add(im, &e), STORE_OK);
	}
}

START_TEST(test_import_merge)
{
	cr_store *s = open_store();
	const char *keys[] = { "192.0.2.2", "192.0.2.3", NULL };
	struct listing_entry out, k = ent("192.0.2.2", 2, "");
	store_import *im;
	long long n = -1;
	redisReply *r;

	add(s, "spam-ip", "192.0.2.1", 2);
	add(s, "spam-ip", "192.0.2.2", 2);
	im = store_import_begin(s, "spam-ip", 0);
	ck_assert_ptr_nonnull(im);
	import_keys(im, keys);
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(count(s, "spam-ip"), 3);
	ck_assert(has(s, "spam-ip", "192.0.2.1"));
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &k, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "imported");
	ck_assert_int_eq(staging_keys(), 0);
	/* one "load" entry on the stream for the whole import */
	r = raw("XREVRANGE cr:{bl}:changes + - COUNT 2");
	ck_assert_uint_eq(r->element[0]->element[1]->elements, 12);
	ck_assert_str_eq(r->element[0]->element[1]->element[1]->str, "load");
	ck_assert_str_eq(r->element[0]->element[1]->element[3]->str, "spam-ip");
	ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, "");
	ck_assert_str_eq(r->element[0]->element[1]->element[7]->str, "merge");
	ck_assert_str_eq(r->element[0]->element[1]->element[8]->str, "count");
	ck_assert_str_eq(r->element[0]->element[1]->element[9]->str, "3");
	ck_assert_str_eq(r->element[0]->element[1]->element[10]->str, "prev");
	ck_assert_str_eq(r->element[0]->element[1]->element[11]->str,
			 r->element[1]->element[0]->str);
	freeReplyObject(r);
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 3);
	ck_assert_int_eq(raw_int("TTL", "cr:{bl}:list:spam-ip"), -1);
	store_close(s);
}
END_TEST

START_TEST(test_import_merge_larger_than_list)
{
	cr_store *s = open_store();
	const char *keys[] = { "192.0.2.2", "192.0.2.3", "192.0.2.4", NULL };
	struct listing_entry out, k = ent("192.0.2.2", 2, "");
	store_import *im;
	long long n = -1;

	add(s, "spam-ip", "192.0.2.1", 2); /* reason "192.0.2.1" */
	add(s, "spam-ip", "192.0.2.2", 2); /* reason "192.0.2.2", to be overwritten */
	im = store_import_begin(s, "spam-ip", 0);
	ck_assert_ptr_nonnull(im);
	import_keys(im, keys);
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &k, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "imported");
	k = ent("192.0.2.1", 2, "");
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &k, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "192.0.2.1");
	ck_assert_int_eq(raw_int("TTL", "cr:{bl}:list:spam-ip"), -1);
	ck_assert_int_eq(staging_keys(), 0);
	store_close(s);
}
END_TEST

START_TEST(test_import_merge_updates_expiry_index)
{
	cr_store *s = open_store();
	int64_t t = util_now() + 1000;
	struct listing_entry a = ent("192.0.2.1", 2, ""), c = ent("192.0.2.3", 2, "");
	store_import *im;
	redisReply *r;

	add_expiring(s, "spam-ip", "192.0.2.1", 2, t);     /* re-imported without expiry */
	add_expiring(s, "spam-ip", "192.0.2.2", 2, t);     /* not in the import: kept */
	add_expiring(s, "spam-domain", "example.vn", 2, t); /* another list: kept */
	im = store_import_begin(s, "spam-ip", 0);
	ck_assert_ptr_nonnull(im);
	ck_assert_int_eq(store_import_add(im, &a), STORE_OK);
	c.expires = t + 1;
	ck_assert_int_eq(store_import_add(im, &c), STORE_OK);
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_OK);
	r = raw("ZRANGE cr:{bl}:exp 0 -1");
	ck_assert_uint_eq(r->elements, 3);
	ck_assert_str_eq(r->element[0]->str, "spam-domain\nexample.vn");
	ck_assert_str_eq(r->element[1]->str, "spam-ip\n192.0.2.2");
	ck_assert_str_eq(r->element[2]->str, "spam-ip\n192.0.2.3");
	freeReplyObject(r);
	ck_assert_int_eq(count(s, "spam-ip"), 3);
	store_close(s);
}
END_TEST

START_TEST(test_import_replace)
{
	cr_store *s = open_store();
	const char *keys[] = { "10.0.0.0/8", "2001:db8::/32", NULL };
	store_import *im;
	long long n = -1;

	add(s, "spam-ip", "192.0.2.1", 2);
	add_expiring(s, "spam-ip", "192.0.2.2", 2, util_now() + 100);
	add_expiring(s, "spam-domain", "example.vn", 2, util_now() + 100);
	im = store_import_begin(s, "spam-ip", 1);
	ck_assert_ptr_nonnull(im);
	import_keys(im, keys);
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(count(s, "spam-ip"), 2);
	ck_assert(!has(s, "spam-ip", "192.0.2.1"));
	ck_assert(has(s, "spam-ip", "2001:db8::/32"));
	/* the replaced list's expiry members went, the other list's stayed */
	ck_assert_int_eq(raw_int("ZCARD", "cr:{bl}:exp"), 1);
	/* the staging key's TTL did not follow it onto the list */
	ck_assert_int_eq(raw_int("TTL", "cr:{bl}:list:spam-ip"), -1);
	ck_assert_int_eq(staging_keys(), 0);
	store_close(s);
}
END_TEST

START_TEST(test_import_replace_with_nothing_empties_list)
{
	cr_store *s = open_store();
	store_import *im;
	long long n = -1;
	add(s, "spam-ip", "192.0.2.1", 2);
	im = store_import_begin(s, "spam-ip", 1);
	ck_assert_ptr_nonnull(im);
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(count(s, "spam-ip"), 0);
	store_close(s);
}
END_TEST

START_TEST(test_import_expiry_indexed_last_copy_wins)
{
	cr_store *s = open_store();
	int64_t later = util_now() + 1000;
	struct listing_entry a = ent("192.0.2.1", 2, ""), b = ent("192.0.2.2", 2, "");
	store_import *im = store_import_begin(s, "spam-ip", 0);
	redisReply *r;

	ck_assert_ptr_nonnull(im);
	a.expires = later;
	b.expires = later;
	ck_assert_int_eq(store_import_add(im, &a), STORE_OK);
	ck_assert_int_eq(store_import_add(im, &b), STORE_OK);
	a.expires = 0; /* a second copy of a without expiry: it must not expire */
	ck_assert_int_eq(store_import_add(im, &a), STORE_OK);
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_OK);
	r = raw("ZRANGE cr:{bl}:exp 0 -1 WITHSCORES");
	ck_assert_uint_eq(r->elements, 2);
	ck_assert_str_eq(r->element[0]->str, "spam-ip\n192.0.2.2");
	ck_assert_int_eq(atoll(r->element[1]->str), later);
	freeReplyObject(r);
	store_close(s);
}
END_TEST

START_TEST(test_import_invisible_before_commit)
{
	cr_store *s = open_store(), *reader = open_store();
	store_import *im;
	char key[32];
	long long n = -1;

	add(s, "spam-ip", "192.0.2.1", 2);
	im = store_import_begin(s, "spam-ip", 1);
	ck_assert_ptr_nonnull(im);
	for (int i = 0; i < 2500; i++) { /* more than two batches */
		struct listing_entry e;
		snprintf(key, sizeof key, "10.%d.%d.0/24", i / 256, i % 256);
		e = ent(key, 2, "");
		ck_assert_int_eq(store_import_add(im, &e), STORE_OK);
	}
	ck_assert_int_eq(count(reader, "spam-ip"), 1);
	ck_assert(has(reader, "spam-ip", "192.0.2.1"));
	ck_assert_int_eq(raw_int("EXISTS", "cr:{bl}:changes"), 1); /* only the add */
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 1);
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 2500);
	ck_assert_int_eq(count(reader, "spam-ip"), 2500);
	store_close(reader);
	store_close(s);
}
END_TEST

START_TEST(test_import_abort_leaves_list_untouched)
{
	cr_store *s = open_store();
	const char *keys[] = { "10.0.0.0/8", "10.1.0.0/16", NULL };
	store_import *im;

	add(s, "spam-ip", "192.0.2.1", 2);
	im = store_import_begin(s, "spam-ip", 1);
	ck_assert_ptr_nonnull(im);
	import_keys(im, keys);
	store_import_abort(im);
	ck_assert_int_eq(count(s, "spam-ip"), 1);
	ck_assert(has(s, "spam-ip", "192.0.2.1"));
	ck_assert_int_eq(staging_keys(), 0);
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 1);
	store_close(s);
}
END_TEST

START_TEST(test_import_connection_lost_fails_list_unchanged)
{
	cr_store *s = open_store();
	store_import *im;
	char key[32];
	int st = STORE_OK;

	add(s, "spam-ip", "192.0.2.1", 2);
	im = store_import_begin(s, "spam-ip", 1);
	ck_assert_ptr_nonnull(im);
	for (int i = 0; i < 3000; i++) {
		struct listing_entry e;
		if (i == 1500) /* the server drops us mid-import */
			freeReplyObject(raw("CLIENT KILL TYPE normal"));
		snprintf(key, sizeof key, "10.%d.%d.0/24", i / 256, i % 256);
		e = ent(key, 2, "");
		st = store_import_add(im, &e);
		if (st != STORE_OK)
			break;
	}
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(store_error(s), "redis 127.0.0.1:"));
	ck_assert_int_eq(count(s, "spam-ip"), 1);
	ck_assert(has(s, "spam-ip", "192.0.2.1"));
	ck_assert_int_eq(staging_keys(), 0);
	store_close(s);
}
END_TEST

START_TEST(test_import_server_gone_fails)
{
	cr_store *s = open_store();
	store_import *im = store_import_begin(s, "spam-ip", 0);
	struct listing_entry e = ent("10.0.0.0/8", 2, "");

	ck_assert_ptr_nonnull(im);
	ck_assert_int_eq(store_import_add(im, &e), STORE_OK);
	/* The test runs in a forked child: stop the server by command.  Its
	 * case's fixture reaps it. */
	{
		redisContext *c = raw_connect();
		ck_assert_ptr_nonnull(c);
		redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");
		if (r)
			freeReplyObject(r);
		redisFree(c);
	}
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(store_error(s), "redis 127.0.0.1:"));
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ snapshot, changes */

START_TEST(test_snapshot_then_changes_exactly_once)
{
	cr_store *s = open_store(), *w = open_store();
	struct collected col = { "", 0 };
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX];
	struct listing_entry y = ent("192.0.2.2", 2, "");
	const char *imported[] = { "10.0.0.0/8", NULL };
	store_import *im;

	add(w, "spam-ip", "192.0.2.1", 2);
	add(w, "spam-ip", "192.0.2.2", 2);
	add(w, "spam-domain", "example.vn", 2);
	add_expiring(w, "spam-domain", "gone.example.vn", 2, util_now() - 1);
	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &col, pos), STORE_OK);
	ck_assert_int_eq(col.n, 3); /* the expired one is skipped */
	ck_assert_ptr_nonnull(strstr(col.text, "spam-ip 192.0.2.1;"));
	ck_assert_ptr_nonnull(strstr(col.text, "spam-ip 192.0.2.2;"));
	ck_assert_ptr_nonnull(strstr(col.text, "spam-domain example.vn;"));
	ck_assert_str_ne(pos, "0-0");

	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 0);
	add(w, "spam-ip", "192.0.2.3", 2);
	ck_assert_int_eq(store_entry_del(w, "spam-ip", &y), STORE_OK);
	add(w, "spam-domain", "*.example.vn", 2);
	im = store_import_begin(w, "spam-ip", 0);
	ck_assert_ptr_nonnull(im);
	import_keys(im, imported);
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_OK);

	/* read two at a time: positions carry over between calls */
	while (store_changes_read(s, pos, 0, 2, record_change, &ch) > 0)
		;
	ck_assert_int_eq(ch.n, 4);
	ck_assert_str_eq(ch.text, "add spam-ip 192.0.2.3=192.0.2.3;"
				  "del spam-ip 192.0.2.2;"
				  "add spam-domain *.example.vn=*.example.vn;"
				  "load spam-ip ;");
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 0);
	ck_assert_int_eq(ch.n, 4);
	store_close(w);
	store_close(s);
}
END_TEST

START_TEST(test_snapshot_of_empty_store_is_position_zero)
{
	cr_store *s = open_store();
	struct collected col = { "", 0 };
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX];

	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &col, pos), STORE_OK);
	ck_assert_str_eq(pos, "0-0");
	ck_assert_int_eq(col.n, 0);
	add(s, "allow", "192.0.2.1", 2);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 10, record_change, &ch), 1);
	ck_assert_str_eq(ch.text, "add allow 192.0.2.1=192.0.2.1;");
	store_close(s);
}
END_TEST

START_TEST(test_snapshot_selected_lists_only)
{
	cr_store *s = open_store();
	struct collected col = { "", 0 };
	const char *lists[] = { "allow", NULL };
	char pos[STORE_POS_MAX];

	add(s, "spam-ip", "192.0.2.1", 2);
	add(s, "allow", "192.0.2.9", 2);
	ck_assert_int_eq(store_snapshot(s, lists, record_entry, &col, pos), STORE_OK);
	ck_assert_str_eq(col.text, "allow 192.0.2.9;");
	store_close(s);
}
END_TEST

/* The snapshot's entries are decoded while the reply is read (lib/store.c,
 * snap_functions): a big list, a value that does not decode, an expired entry,
 * a caller that stops early; the connection must stay usable afterwards. */
struct counted {
	long n, stop_at;
	int bad_seen;
	char last_list[LISTING_LIST_MAX + 1];
};

static int count_entry(void *ud, const char *list, const struct listing_entry *e)
{
	struct counted *c = ud;
	if (strcmp(e->reason, "imported") != 0 && strcmp(e->reason, "192.0.2.1") != 0)
		c->bad_seen = 1;
	snprintf(c->last_list, sizeof c->last_list, "%s", list);
	return ++c->n == c->stop_at;
}

START_TEST(test_snapshot_streams_big_list)
{
	cr_store *s = open_store();
	store_import *im = store_import_begin(s, "spam-ip", 1);
	struct counted c = { 0, 0, 0, "" };
	struct listing_entry out, k = ent("10.0.0.7", 2, "");
	char pos[STORE_POS_MAX], pos2[STORE_POS_MAX];
	long long n = 0;
	redisReply *r;

	ck_assert_ptr_nonnull(im);
	for (int i = 0; i < 20000; i++) {
		char key[32];
		struct listing_entry e;
		snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		e = ent(key, 2, "imported");
		ck_assert_int_eq(store_import_add(im, &e), STORE_OK);
	}
	ck_assert_int_eq(store_import_commit(im, &n), STORE_OK);
	ck_assert_int_eq(n, 20000);
	add_expiring(s, "spam-ip", "192.0.2.200", 2, util_now() - 10);
	add(s, "allow", "192.0.2.1", 2);
	r = raw("HSET cr:{bl}:list:spam-ip 192.0.2.99 %s", "not a value");
	freeReplyObject(r);

	ck_assert_int_eq(store_snapshot(s, NULL, count_entry, &c, pos), STORE_OK);
	ck_assert_int_eq(c.n, 20001); /* not the expired one, not the bad value */
	ck_assert_int_eq(c.bad_seen, 0);
	ck_assert_str_eq(c.last_list, "allow");

	/* A caller that stops early: the rest of the reply is read and dropped. */
	memset(&c, 0, sizeof c);
	c.stop_at = 100;
	ck_assert_int_eq(store_snapshot(s, NULL, count_entry, &c, pos2), STORE_OK);
	ck_assert_int_eq(c.n, 100);
	ck_assert_str_eq(pos2, pos);
	/* ...and the connection answers the next command with its own reply,
	 * built as usual. */
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &k, &out), STORE_OK);
	ck_assert_str_eq(out.reason, "imported");
	add(s, "spam-ip", "192.0.2.5", 2);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(store_snapshot(s, NULL, count_entry, &c, pos2), STORE_OK);
	ck_assert_int_eq(c.n, 20002);
	ck_assert_str_ne(pos2, pos);
	store_close(s);
}
END_TEST

START_TEST(test_changes_skip_unconfigured_lists)
{
	cr_store *w = open_with("[lists]\nnames = spam-ip other\n");
	cr_store *s = open_with("[lists]\nnames = spam-ip\n");
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX] = "0-0";

	add(w, "other", "192.0.2.1", 2);
	add(w, "spam-ip", "192.0.2.2", 2);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 10, record_change, &ch), 1);
	ck_assert_str_eq(ch.text, "add spam-ip 192.0.2.2=192.0.2.2;");
	ck_assert_int_eq(store_changes_read(s, pos, 0, 10, record_change, &ch), 0);
	store_close(w);
	store_close(s);
}
END_TEST

START_TEST(test_changes_block_times_out_empty)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX];
	int64_t t0;

	add(s, "spam-ip", "192.0.2.1", 2);
	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &(struct collected){ "", 0 }, pos),
			 STORE_OK);
	t0 = util_mono_ms();
	ck_assert_int_eq(store_changes_read(s, pos, 200, 10, record_change, &ch), 0);
	ck_assert_int_ge(util_mono_ms() - t0, 190);
	ck_assert_int_eq(ch.n, 0);
	store_close(s);
}
END_TEST

START_TEST(test_changes_block_wakes_on_change)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX] = "0-0";
	int64_t t0 = util_mono_ms();
	pid_t child = fork();

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		redisContext *c;
		th_sleep_ms(150);
		c = raw_connect();
		if (c != NULL)
			freeReplyObject(redisCommand(c, "XADD cr:{bl}:changes * op del list "
							"spam-ip key 192.0.2.1 val %s", ""));
		_exit(0);
	}
	ck_assert_int_eq(store_changes_read(s, pos, 5000, 10, record_change, &ch), 1);
	ck_assert_int_lt(util_mono_ms() - t0, 4000);
	ck_assert_str_eq(ch.text, "del spam-ip 192.0.2.1;");
	waitpid(child, NULL, 0);
	store_close(s);
}
END_TEST

START_TEST(test_changes_bad_position_einval)
{
	cr_store *s = open_store();
	char pos[STORE_POS_MAX] = "yesterday";
	struct changes ch = { "", 0 };
	ck_assert_int_eq(store_changes_read(s, pos, 0, 10, record_change, &ch), STORE_EINVAL);
	strcpy(pos, "0-0");
	ck_assert_int_eq(store_changes_read(s, pos, 0, 0, record_change, &ch), STORE_EINVAL);
	store_close(s);
}
END_TEST

/* Ids of the stream's entries, oldest first. */
static int stream_ids(char ids[][STORE_POS_MAX], int max)
{
	redisReply *r = raw("XRANGE cr:{bl}:changes - +");
	int n = 0;
	for (size_t i = 0; i < r->elements && n < max; i++)
		util_strlcpy(ids[n++], r->element[i]->element[0]->str, STORE_POS_MAX);
	freeReplyObject(r);
	return n;
}

START_TEST(test_changes_gap_after_xtrim)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char ids[10][STORE_POS_MAX], pos[STORE_POS_MAX], key[32];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "192.0.2.%d", i);
		add(s, "spam-ip", key, 2);
	}
	ck_assert_int_eq(stream_ids(ids, 10), 10);
	/* trim entries 0..4: a follower at entry 4 misses nothing */
	freeReplyObject(raw("XTRIM cr:{bl}:changes MINID %s", ids[5]));
	ck_assert_int_eq(raw_int("XLEN", "cr:{bl}:changes"), 5);
	util_strlcpy(pos, ids[4], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 5);
	ck_assert_str_eq(pos, ids[9]);
	/* a follower at entry 3 missed entry 4 */
	util_strlcpy(pos, ids[3], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	ck_assert_str_eq(pos, ids[3]);
	ck_assert_ptr_nonnull(strstr(store_error(s), "trimmed"));
	/* "0-0" (nothing seen) after a trim is a gap too */
	strcpy(pos, "0-0");
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	/* trimmed to nothing: the snapshot position still follows cleanly */
	freeReplyObject(raw("XTRIM cr:{bl}:changes MAXLEN 0"));
	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &(struct collected){ "", 0 }, pos),
			 STORE_OK);
	ck_assert_str_eq(pos, ids[9]);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 0);
	add(s, "spam-ip", "192.0.2.77", 2);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 1);
	store_close(s);
}
END_TEST

START_TEST(test_changes_gap_when_trimmed_to_nothing)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char ids[3][STORE_POS_MAX], pos[STORE_POS_MAX];

	add(s, "spam-ip", "192.0.2.1", 2);
	add(s, "spam-ip", "192.0.2.2", 2);
	add(s, "spam-ip", "192.0.2.3", 2);
	ck_assert_int_eq(stream_ids(ids, 3), 3);
	freeReplyObject(raw("XTRIM cr:{bl}:changes MAXLEN 0"));
	/* behind, and nothing left to read: gap now, not at the next change */
	util_strlcpy(pos, ids[1], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	util_strlcpy(pos, ids[2], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 0);
	store_close(s);
}
END_TEST

START_TEST(test_changes_gap_after_xdel_in_the_middle)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char ids[3][STORE_POS_MAX], pos[STORE_POS_MAX];

	add(s, "spam-ip", "192.0.2.1", 2);
	add(s, "spam-ip", "192.0.2.2", 2);
	add(s, "spam-ip", "192.0.2.3", 2);
	ck_assert_int_eq(stream_ids(ids, 3), 3);
	freeReplyObject(raw("XDEL cr:{bl}:changes %s", ids[1]));
	util_strlcpy(pos, ids[0], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	util_strlcpy(pos, ids[1], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 1);
	ck_assert_str_eq(ch.text, "add spam-ip 192.0.2.3=192.0.2.3;");
	store_close(s);
}
END_TEST

START_TEST(test_changes_foreign_entry_without_prev)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char ids[3][STORE_POS_MAX], pos[STORE_POS_MAX];

	/* entries from another writer carry no prev: conservative rule */
	freeReplyObject(raw("XADD cr:{bl}:changes * op del list spam-ip key 192.0.2.1 val %s", ""));
	freeReplyObject(raw("XADD cr:{bl}:changes * op del list spam-ip key 192.0.2.2 val %s", ""));
	freeReplyObject(raw("XADD cr:{bl}:changes * op del list spam-ip key 192.0.2.3 val %s", ""));
	ck_assert_int_eq(stream_ids(ids, 3), 3);
	strcpy(pos, "0-0"); /* nothing ever removed: no gap */
	ck_assert_int_eq(store_changes_read(s, pos, 0, 1, record_change, &ch), 1);
	freeReplyObject(raw("XTRIM cr:{bl}:changes MINID %s", ids[2]));
	/* pos = ids[0], first held = ids[2] with no prev: assume the worst */
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	util_strlcpy(pos, ids[2], sizeof pos);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), 0);
	store_close(s);
}
END_TEST

START_TEST(test_changes_gap_when_stream_reset)
{
	cr_store *s = open_store();
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX];

	add(s, "spam-ip", "192.0.2.1", 2);
	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &(struct collected){ "", 0 }, pos),
			 STORE_OK);
	freeReplyObject(raw("DEL cr:{bl}:changes"));
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	/* a position ahead of the stream: it went back in time */
	add(s, "spam-ip", "192.0.2.2", 2);
	strcpy(pos, "99999999999999-0");
	ck_assert_int_eq(store_changes_read(s, pos, 0, 100, record_change, &ch), STORE_EGAP);
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ auth */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_auth_acl_user)
{
	char pw[128], extra[256];
	cr_store *s;
	redisReply *r;

	r = raw("ACL SETUSER chanrac-test reset on >s3cret-pw ~cr:* +@all");
	ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	snprintf(pw, sizeof pw, "%s/pw-ok", th_redis_dir);
	write_file(pw, "  s3cret-pw \r\nsecond line ignored\n");
	snprintf(extra, sizeof extra, "user = chanrac-test\npassword_file = %s\n", pw);
	s = open_with(extra);
	add(s, "spam-ip", "192.0.2.1", 2);
	ck_assert_int_eq(count(s, "spam-ip"), 1);
	store_close(s);
}
END_TEST

START_TEST(test_auth_wrong_password_unavailable)
{
	char pw[128], extra[256], err[512], want[256];
	cr_conf *c;
	int st = 0;
	redisReply *r;

	r = raw("ACL SETUSER chanrac-test reset on >s3cret-pw ~cr:* +@all");
	freeReplyObject(r);
	snprintf(pw, sizeof pw, "%s/pw-bad", th_redis_dir);
	write_file(pw, "wrong\n");
	snprintf(extra, sizeof extra, "user = chanrac-test\npassword_file = %s\n", pw);
	c = conf_for(extra);
	ck_assert_ptr_null(store_open(c, &st, err, sizeof err));
	ck_assert_int_eq(st, STORE_EUNAVAIL);
	snprintf(want, sizeof want,
		 "redis 127.0.0.1:%d: AUTH: WRONGPASS invalid username-password pair or user "
		 "is disabled.", th_redis_port);
	ck_assert_str_eq(err, want);
	conf_free(c);
}
END_TEST

START_TEST(test_auth_unreadable_password_file_names_it)
{
	char extra[256], err[512], want[256];
	cr_conf *c;
	int st = 0;

	snprintf(extra, sizeof extra, "user = chanrac-test\npassword_file = %s/missing\n",
		 th_redis_dir);
	c = conf_for(extra);
	ck_assert_ptr_null(store_open(c, &st, err, sizeof err));
	ck_assert_int_eq(st, STORE_EINVAL);
	snprintf(want, sizeof want, "[redis] password_file %s/missing: No such file or directory",
		 th_redis_dir);
	ck_assert_str_eq(err, want);
	conf_free(c);
}
END_TEST

START_TEST(test_auth_user_without_permission_unavailable)
{
	char pw[128], extra[256];
	cr_store *s;
	struct listing_entry e = ent("192.0.2.1", 2, ""), out;
	redisReply *r;

	/* a read-only role: may read lists, may not run scripts */
	r = raw("ACL SETUSER chanrac-ro reset on >ro-pw ~cr:* +@read +ping");
	ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	snprintf(pw, sizeof pw, "%s/pw-ro", th_redis_dir);
	write_file(pw, "ro-pw\n");
	snprintf(extra, sizeof extra, "user = chanrac-ro\npassword_file = %s\n", pw);
	s = open_with(extra);
	ck_assert_int_eq(store_entry_get(s, "spam-ip", &e, &out), STORE_NOTFOUND);
	ck_assert_int_eq(store_entry_add(s, "spam-ip", &e, 0), STORE_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(store_error(s), "NOPERM"));
	ck_assert_ptr_nonnull(strstr(store_error(s), "redis 127.0.0.1:"));
	store_close(s);
}
END_TEST

START_TEST(test_user_without_password_file_einval)
{
	cr_conf *c = conf_for("user = someone\n");
	char err[256];
	int st = 0;
	ck_assert_ptr_null(store_open(c, &st, err, sizeof err));
	ck_assert_int_eq(st, STORE_EINVAL);
	ck_assert_str_eq(err, "[redis] user someone: set without password_file");
	conf_free(c);
}
END_TEST

/* ------------------------------------------------------------ expiry, scripts */

START_TEST(test_expire_sweep)
{
	cr_store *s = open_store();
	int64_t now = util_now();
	long long removed = -1;
	struct changes ch = { "", 0 };
	char pos[STORE_POS_MAX];

	add_expiring(s, "spam-ip", "192.0.2.1", 2, now - 10);
	add_expiring(s, "spam-domain", "old.example.vn", 2, now);
	add_expiring(s, "spam-ip", "192.0.2.2", 2, now + 3600);
	add(s, "spam-ip", "192.0.2.3", 2);
	ck_assert_int_eq(store_snapshot(s, NULL, record_entry, &(struct collected){ "", 0 }, pos),
			 STORE_OK);
	ck_assert_int_eq(store_expire(s, now, &removed), STORE_OK);
	ck_assert_int_eq(removed, 2);
	ck_assert_int_eq(count(s, "spam-ip"), 2);
	ck_assert_int_eq(count(s, "spam-domain"), 0);
	ck_assert_int_eq(raw_int("ZCARD", "cr:{bl}:exp"), 1);
	ck_assert_int_eq(store_changes_read(s, pos, 0, 10, record_change, &ch), 2);
	ck_assert_ptr_nonnull(strstr(ch.text, "del spam-ip 192.0.2.1;"));
	ck_assert_ptr_nonnull(strstr(ch.text, "del spam-domain old.example.vn;"));
	/* nothing left to do */
	ck_assert_int_eq(store_expire(s, now, &removed), STORE_OK);
	ck_assert_int_eq(removed, 0);
	store_close(s);
}
END_TEST

START_TEST(test_expire_many_in_batches)
{
	cr_store *s = open_store();
	int64_t now = util_now();
	long long removed = -1;
	store_import *im = store_import_begin(s, "spam-ip", 0);
	char key[32];

	ck_assert_ptr_nonnull(im);
	for (int i = 0; i < 1234; i++) {
		struct listing_entry e;
		snprintf(key, sizeof key, "10.%d.%d.1", i / 256, i % 256);
		e = ent(key, 2, "");
		e.expires = now - 1;
		ck_assert_int_eq(store_import_add(im, &e), STORE_OK);
	}
	ck_assert_int_eq(store_import_commit(im, NULL), STORE_OK);
	ck_assert_int_eq(raw_int("ZCARD", "cr:{bl}:exp"), 1234);
	ck_assert_int_eq(store_expire(s, now, &removed), STORE_OK);
	ck_assert_int_eq(removed, 1234);
	ck_assert_int_eq(count(s, "spam-ip"), 0);
	ck_assert_int_eq(raw_int("ZCARD", "cr:{bl}:exp"), 0);
	store_close(s);
}
END_TEST

START_TEST(test_scripts_survive_script_flush)
{
	cr_store *s = open_store();
	add(s, "spam-ip", "192.0.2.1", 2);
	freeReplyObject(raw("SCRIPT FLUSH"));
	add(s, "spam-ip", "192.0.2.2", 2); /* NOSCRIPT -> EVAL */
	add(s, "spam-ip", "192.0.2.3", 2);
	ck_assert_int_eq(count(s, "spam-ip"), 3);
	store_close(s);
}
END_TEST

/* ------------------------------------------------------------ suite */

static void each_setup(void)
{
	flush_all();
}

static Suite *store_suite(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("redis");

	tcase_add_unchecked_fixture(tc, th_redis_start, th_redis_stop);
	tcase_add_checked_fixture(tc, each_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_wrong_port_unavailable_with_message);
	tcase_add_test(tc, test_open_bad_list_name_einval);
	tcase_add_test(tc, test_unknown_list_einval);
	tcase_add_test(tc, test_lists_from_config);
	tcase_add_test(tc, test_reconnects_after_connection_killed);
	tcase_add_test(tc, test_add_get_del_roundtrip);
	tcase_add_test(tc, test_add_keeps_given_added_time);
	tcase_add_test(tc, test_add_existing_without_replace_eexist);
	tcase_add_test(tc, test_add_over_expired_entry_is_not_eexist);
	tcase_add_test(tc, test_del_missing_notfound_writes_nothing);
	tcase_add_test(tc, test_stream_entry_format);
	tcase_add_test(tc, test_key_prefix_and_db_respected);
	tcase_add_test(tc, test_list_scan_visits_every_entry);
	tcase_add_test(tc, test_query_longest_prefix_v4);
	tcase_add_test(tc, test_query_longest_prefix_v6);
	tcase_add_test(tc, test_query_exclusion_inside_range);
	tcase_add_test(tc, test_query_wildcard_vs_exact);
	tcase_add_test(tc, test_query_reports_one_match_per_list);
	tcase_add_test(tc, test_query_ignores_expired);
	tcase_add_test(tc, test_import_merge);
	tcase_add_test(tc, test_import_merge_larger_than_list);
	tcase_add_test(tc, test_import_merge_updates_expiry_index);
	tcase_add_test(tc, test_import_replace);
	tcase_add_test(tc, test_import_replace_with_nothing_empties_list);
	tcase_add_test(tc, test_import_expiry_indexed_last_copy_wins);
	tcase_add_test(tc, test_import_invisible_before_commit);
	tcase_add_test(tc, test_import_abort_leaves_list_untouched);
	tcase_add_test(tc, test_import_connection_lost_fails_list_unchanged);
	tcase_add_test(tc, test_snapshot_then_changes_exactly_once);
	tcase_add_test(tc, test_snapshot_of_empty_store_is_position_zero);
	tcase_add_test(tc, test_snapshot_selected_lists_only);
	tcase_add_test(tc, test_snapshot_streams_big_list);
	tcase_add_test(tc, test_changes_skip_unconfigured_lists);
	tcase_add_test(tc, test_changes_block_times_out_empty);
	tcase_add_test(tc, test_changes_block_wakes_on_change);
	tcase_add_test(tc, test_changes_bad_position_einval);
	tcase_add_test(tc, test_changes_gap_after_xtrim);
	tcase_add_test(tc, test_changes_gap_when_stream_reset);
	tcase_add_test(tc, test_changes_gap_when_trimmed_to_nothing);
	tcase_add_test(tc, test_changes_gap_after_xdel_in_the_middle);
	tcase_add_test(tc, test_changes_foreign_entry_without_prev);
	tcase_add_test(tc, test_auth_acl_user);
	tcase_add_test(tc, test_auth_wrong_password_unavailable);
	tcase_add_test(tc, test_auth_unreadable_password_file_names_it);
	tcase_add_test(tc, test_auth_user_without_permission_unavailable);
	tcase_add_test(tc, test_user_without_password_file_einval);
	tcase_add_test(tc, test_expire_sweep);
	tcase_add_test(tc, test_expire_many_in_batches);
	tcase_add_test(tc, test_scripts_survive_script_flush);
	suite_add_tcase(su, tc);

	/* Runs last, in its own case: it shuts its server down. */
	tc = tcase_create("server-death");
	tcase_add_unchecked_fixture(tc, th_redis_start, th_redis_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_import_server_gone_fails);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
