/* Tests for lib/rblindex.c: the responder's index — longest prefix, exclusions,
 * expiry falling back to the less specific item, wildcards, empty non-terminals,
 * replace/delete through rebuilds, and a randomised check against brute force. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "rblindex.h"

static struct listing_entry mk(const char *key, uint32_t code, const char *reason, int64_t exp)
{
	struct listing_entry e;
	char err[256];

	memset(&e, 0, sizeof e);
	ck_assert_msg(listing_parse_key(key, &e, err, sizeof err) == 0, "%s: %s", key, err);
	e.code = code;
	e.expires = exp;
	snprintf(e.reason, sizeof e.reason, "%s", reason);
	return e;
}

static void add(rblindex_builder *b, const char *key, uint32_t code, const char *reason,
		int64_t exp)
{
	struct listing_entry e = mk(key, code, reason, exp);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
}

static rblindex *build(rblindex_builder *b)
{
	char err[128];
	rblindex *ix = rblindex_build(b, 0, err, sizeof err);
	ck_assert_msg(ix != NULL, "%s", err);
	return ix;
}

static uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return a << 24 | b << 16 | c << 8 | d;
}

static uint32_t code4(const rblindex *ix, uint32_t ip, int64_t now)
{
	struct rblindex_hit h;
	int r = rblindex_lookup_v4(ix, ip, now, &h);
	return r == RBLINDEX_LISTED ? h.code : r == RBLINDEX_EXCLUDED ? 1 : 0;
}

START_TEST(test_longest_ipv4_prefix_decides)
{
	rblindex_builder *b = rblindex_builder_new();
	add(b, "10.0.0.0/8", 0x7f000002, "eight", 0);
	add(b, "10.1.0.0/16", 0x7f000003, "sixteen", 0);
	add(b, "10.1.2.0/24", 0x7f000004, "twentyfour", 0);
	add(b, "10.1.2.3", 0x7f000005, "host", 0);
	add(b, "11.0.0.0/8", 0x7f000006, "next", 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(code4(ix, v4(10, 1, 2, 3), 0), 0x7f000005);
	ck_assert_uint_eq(code4(ix, v4(10, 1, 2, 4), 0), 0x7f000004);
	ck_assert_uint_eq(code4(ix, v4(10, 1, 3, 0), 0), 0x7f000003);
	ck_assert_uint_eq(code4(ix, v4(10, 2, 0, 0), 0), 0x7f000002);
	ck_assert_uint_eq(code4(ix, v4(10, 255, 255, 255), 0), 0x7f000002);
	ck_assert_uint_eq(code4(ix, v4(11, 0, 0, 0), 0), 0x7f000006);
	ck_assert_uint_eq(code4(ix, v4(9, 255, 255, 255), 0), 0);
	ck_assert_uint_eq(code4(ix, v4(12, 0, 0, 0), 0), 0);
	struct rblindex_hit h;
	ck_assert_int_eq(rblindex_lookup_v4(ix, v4(10, 1, 2, 9), 0, &h), RBLINDEX_LISTED);
	ck_assert_int_eq((int)h.reason_len, 10);
	ck_assert_int_eq(memcmp(h.reason, "twentyfour", 10), 0);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_whole_space_and_top_address)
{
	rblindex_builder *b = rblindex_builder_new();
	add(b, "0.0.0.0/0", 0x7f000002, "", 0);
	add(b, "255.255.255.0/24", 0x7f000003, "", 0);
	add(b, "255.255.255.255", 0x7f000004, "", 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(code4(ix, 0, 0), 0x7f000002);
	ck_assert_uint_eq(code4(ix, v4(255, 255, 255, 254), 0), 0x7f000003);
	ck_assert_uint_eq(code4(ix, v4(255, 255, 255, 255), 0), 0x7f000004);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_exclusion_carves_out)
{
	rblindex_builder *b = rblindex_builder_new();
	struct listing_entry e = mk("!192.0.2.99", 0x7f000002, "", 0);
	add(b, "192.0.2.0/24", 0x7f000003, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	e = mk("!192.0.2.128/25", 0x7f000002, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	add(b, "192.0.2.200", 0x7f000009, "", 0); /* more specific than the exclusion */
	rblindex *ix = build(b);
	ck_assert_int_eq(rblindex_lookup_v4(ix, v4(192, 0, 2, 99), 0, NULL), RBLINDEX_EXCLUDED);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 98), 0), 0x7f000003);
	ck_assert_int_eq(rblindex_lookup_v4(ix, v4(192, 0, 2, 130), 0, NULL), RBLINDEX_EXCLUDED);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 200), 0), 0x7f000009);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_expired_item_falls_back)
{
	rblindex_builder *b = rblindex_builder_new();
	add(b, "192.0.2.0/24", 0x7f000003, "", 0);
	add(b, "192.0.2.7", 0x7f000005, "", 1000);
	struct listing_entry e = mk("!192.0.2.8", 0x7f000002, "", 1000);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	add(b, "192.0.2.16/28", 0x7f000006, "", 1000);
	rblindex *ix = build(b);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 7), 999), 0x7f000005);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 7), 1000), 0x7f000003);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 8), 999), 1);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 8), 1001), 0x7f000003);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 17), 999), 0x7f000006);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 17), 1000), 0x7f000003);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_build_drops_expired)
{
	char err[64];
	rblindex_builder *b = rblindex_builder_new();
	add(b, "192.0.2.7", 0x7f000005, "", 50);
	add(b, "192.0.2.8", 0x7f000005, "", 0);
	rblindex *ix = rblindex_build(b, 100, err, sizeof err);
	ck_assert_uint_eq(rblindex_count(ix), 1);
	rblindex_free(ix);
}
END_TEST

static uint32_t code6(const rblindex *ix, const char *a)
{
	struct listing_entry e = mk(a, 0, "", 0);
	struct rblindex_hit h;
	int r = rblindex_lookup_v6(ix, e.prefix.addr.b, 0, &h);
	return r == RBLINDEX_LISTED ? h.code : r == RBLINDEX_EXCLUDED ? 1 : 0;
}

START_TEST(test_ipv6_prefixes)
{
	rblindex_builder *b = rblindex_builder_new();
	add(b, "2001:db8::/32", 0x7f000002, "", 0);
	add(b, "2001:db8:1::/48", 0x7f000003, "", 0);
	add(b, "2001:db8:1:2::/64", 0x7f000004, "", 0);
	add(b, "2001:db8:1:2::1", 0x7f000005, "", 0);
	add(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0x7f000006, "", 0);
	struct listing_entry e = mk("!2001:db8:9::/48", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(code6(ix, "2001:db8:1:2::1"), 0x7f000005);
	ck_assert_uint_eq(code6(ix, "2001:db8:1:2::2"), 0x7f000004);
	ck_assert_uint_eq(code6(ix, "2001:db8:1:3::"), 0x7f000003);
	ck_assert_uint_eq(code6(ix, "2001:db8:2::"), 0x7f000002);
	ck_assert_uint_eq(code6(ix, "2001:db8:9::5"), 1);
	ck_assert_uint_eq(code6(ix, "2001:db9::"), 0);
	ck_assert_uint_eq(code6(ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0x7f000006);
	ck_assert_uint_eq(code6(ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 0);
	rblindex_free(ix);
}
END_TEST

static uint32_t coden(const rblindex *ix, const char *name, const char **matched)
{
	struct rblindex_hit h;
	int r = rblindex_lookup_name(ix, name, strlen(name), 0, &h);
	if (r == RBLINDEX_LISTED && matched)
		*matched = h.name;
	return r == RBLINDEX_LISTED ? h.code : r == RBLINDEX_EXCLUDED ? 1 : 0;
}

START_TEST(test_names_exact_wildcard_exclusion)
{
	rblindex_builder *b = rblindex_builder_new();
	const char *m = NULL;
	add(b, "example.vn", 0x7f000002, "", 0);
	add(b, "*.example.vn", 0x7f000003, "", 0);
	add(b, "*.deep.example.vn", 0x7f000004, "", 0);
	add(b, "a.b.c.other.vn", 0x7f000005, "", 0);
	struct listing_entry e = mk("!*.ok.example.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	e = mk("!fine.example.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(coden(ix, "example.vn", NULL), 0x7f000002);
	ck_assert_uint_eq(coden(ix, "www.example.vn", &m), 0x7f000003);
	ck_assert_str_eq(m, "example.vn");
	ck_assert_uint_eq(coden(ix, "x.deep.example.vn", &m), 0x7f000004);
	ck_assert_str_eq(m, "deep.example.vn");
	ck_assert_uint_eq(coden(ix, "deep.example.vn", NULL), 0x7f000003);
	ck_assert_uint_eq(coden(ix, "x.ok.example.vn", NULL), 1);
	ck_assert_uint_eq(coden(ix, "ok.example.vn", NULL), 0x7f000003);
	ck_assert_uint_eq(coden(ix, "fine.example.vn", NULL), 1);
	ck_assert_uint_eq(coden(ix, "www.fine.example.vn", NULL), 0x7f000003);
	ck_assert_uint_eq(coden(ix, "example.com", NULL), 0);
	ck_assert_uint_eq(coden(ix, "vn", NULL), 0);
	ck_assert_int_eq(rblindex_name_has_children(ix, "vn", 2), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "other.vn", 8), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "c.other.vn", 10), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "a.b.c.other.vn", 14), 0);
	ck_assert_int_eq(rblindex_name_has_children(ix, "deep.example.vn", 15), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "com", 3), 0);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_later_add_replaces_and_del_removes)
{
	rblindex_builder *b = rblindex_builder_new();
	add(b, "192.0.2.7", 0x7f000002, "first", 0);
	add(b, "192.0.2.7", 0x7f000004, "second", 0);
	add(b, "192.0.2.0/24", 0x7f000003, "", 0);
	add(b, "spam.vn", 0x7f000002, "", 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 7), 0), 0x7f000004);
	/* Rebuild from the index with changes, as the live follower does. */
	b = rblindex_builder_new();
	ck_assert_int_eq(rblindex_builder_add_index(b, ix), 0);
	struct listing_entry e = mk("192.0.2.7", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &e), 0);
	e = mk("spam.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &e), 0);
	add(b, "2001:db8::/32", 0x7f000005, "v6", 0);
	rblindex *ix2 = build(b);
	ck_assert_uint_eq(code4(ix2, v4(192, 0, 2, 7), 0), 0x7f000003);
	ck_assert_uint_eq(coden(ix2, "spam.vn", NULL), 0);
	ck_assert_uint_eq(code6(ix2, "2001:db8::1"), 0x7f000005);
	ck_assert_uint_eq(rblindex_count(ix2), 2);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 7), 0), 0x7f000004); /* old one untouched */
	rblindex_free(ix);
	rblindex_free(ix2);
}
END_TEST

/* "x" and "!x" are separate keys, as in Redis: both may exist, the exclusion
 * wins, and deleting one leaves the other. */
START_TEST(test_item_and_its_exclusion_are_separate_keys)
{
	rblindex_builder *b = rblindex_builder_new();
	struct listing_entry x;
	add(b, "192.0.2.7", 0x7f000002, "", 0);
	add(b, "192.0.2.0/24", 0x7f000003, "", 0);
	add(b, "2001:db8::/32", 0x7f000004, "", 0);
	add(b, "spam.vn", 0x7f000005, "", 0);
	x = mk("!192.0.2.7", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &x), 0);
	x = mk("!192.0.2.0/24", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &x), 0);
	x = mk("!2001:db8::/32", 0, "", 2000);
	ck_assert_int_eq(rblindex_builder_add(b, &x), 0);
	x = mk("!spam.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_add(b, &x), 0);
	rblindex *ix = build(b);
	ck_assert_uint_eq(rblindex_count(ix), 8);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 7), 0), 1);
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 8), 0), 1);
	ck_assert_uint_eq(code6(ix, "2001:db8::1"), 1);
	ck_assert_uint_eq(coden(ix, "spam.vn", NULL), 1);
	/* the IPv6 exclusion expires: its item decides again */
	struct rblindex_hit h;
	struct listing_entry a6 = mk("2001:db8::1", 0, "", 0);
	ck_assert_int_eq(rblindex_lookup_v6(ix, a6.prefix.addr.b, 3000, &h), RBLINDEX_LISTED);
	ck_assert_uint_eq(h.code, 0x7f000004);
	/* Deleting the exclusions brings the items back; deleting an item keeps
	 * its exclusion. */
	b = rblindex_builder_new();
	ck_assert_int_eq(rblindex_builder_add_index(b, ix), 0);
	x = mk("!192.0.2.7", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &x), 0);
	x = mk("!spam.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &x), 0);
	x = mk("192.0.2.0/24", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &x), 0);
	rblindex *ix2 = build(b);
	ck_assert_uint_eq(rblindex_count(ix2), 5);
	ck_assert_uint_eq(code4(ix2, v4(192, 0, 2, 7), 0), 0x7f000002);
	ck_assert_uint_eq(coden(ix2, "spam.vn", NULL), 0x7f000005);
	ck_assert_uint_eq(code4(ix2, v4(192, 0, 2, 8), 0), 1);
	rblindex_free(ix);
	rblindex_free(ix2);
}
END_TEST

START_TEST(test_reasons_deduplicated)
{
	rblindex_builder *b = rblindex_builder_new();
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
		add(b, key, 0x7f000002, i % 2 ? "odd" : "even", 0);
	}
	rblindex *ix = build(b);
	struct rblindex_stats st;
	rblindex_stats(ix, &st);
	ck_assert_uint_eq(st.v4_hosts, 5000);
	ck_assert_uint_eq(st.values, 2);
	ck_assert_uint_eq(code4(ix, v4(10, 0, 19, 135), 0), 0x7f000002);
	rblindex_free(ix);
}
END_TEST

/* Random nested IPv4 prefixes, hosts and exclusions against a brute-force scan of
 * "the longest matching prefix decides". */
START_TEST(test_random_against_brute_force)
{
	enum { N = 3000, Q = 20000 };
	static uint32_t net[N], code[N];
	static int len[N], excl[N];
	rblindex_builder *b = rblindex_builder_new();
	unsigned seed = 12345;
	int i, q;

	for (i = 0; i < N; i++) {
		char key[40], a[20];
		uint32_t x = (uint32_t)rand_r(&seed) << 1 ^ (uint32_t)rand_r(&seed);
		x = (x & 0x0003ffffu) | 0x0a000000u; /* crowd 10.0.0.0/14 so prefixes nest */
		len[i] = 14 + rand_r(&seed) % 19;
		net[i] = len[i] == 32 ? x : x & ~(0xffffffffu >> len[i]);
		excl[i] = rand_r(&seed) % 7 == 0;
		code[i] = 0x7f000002u + (uint32_t)(rand_r(&seed) % 50);
		snprintf(a, sizeof a, "%u.%u.%u.%u", net[i] >> 24, (net[i] >> 16) & 255,
			 (net[i] >> 8) & 255, net[i] & 255);
		snprintf(key, sizeof key, "%s%s/%d", excl[i] ? "!" : "", a, len[i]);
		struct listing_entry e = mk(key, code[i], "", 0);
		ck_assert_int_eq(rblindex_builder_add(b, &e), 0);
	}
	rblindex *ix = build(b);
	for (q = 0; q < Q; q++) {
		uint32_t ip = 0x0a000000u | (((uint32_t)rand_r(&seed) << 1 ^ (uint32_t)rand_r(&seed)) &
					     0x0003ffffu);
		int bestlen = -1, last_item = -1, last_excl = -1;
		uint32_t want, got;

		for (i = 0; i < N; i++) {
			uint32_t mask = len[i] == 0 ? 0 : 0xffffffffu << (32 - len[i]);
			if ((ip & mask) == net[i] && len[i] > bestlen)
				bestlen = len[i];
		}
		/* At the longest matching length, "x" and "!x" are separate keys (a later
		 * add of a key replaces it) and the exclusion wins. */
		for (i = 0; i < N; i++) {
			uint32_t mask = len[i] == 0 ? 0 : 0xffffffffu << (32 - len[i]);
			if ((ip & mask) == net[i] && len[i] == bestlen) {
				if (excl[i])
					last_excl = i;
				else
					last_item = i;
			}
		}
		want = bestlen < 0 ? 0 : last_excl >= 0 ? 1 : code[last_item];
		got = code4(ix, ip, 0);
		ck_assert_msg(got == want, "ip %08x: got %08x want %08x", ip, got, want);
	}
	rblindex_free(ix);
}
END_TEST

static int count_fn(void *ud, const struct listing_entry *e)
{
	(void)e;
	(*(int *)ud)++;
	return 0;
}

/* A list mixing many hosts and names (as the Redis lists of the benchmark do):
 * every entry, replacement, deletion and ancestor comes out right. */
START_TEST(test_big_mixed_index)
{
	rblindex_builder *b = rblindex_builder_new();
	struct listing_entry e;
	char key[64];
	rblindex *ix;
	int i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 30000; i++) {
		snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		add(b, key, 0x7f000000u | (uint32_t)(2 + i % 5), "h", 0);
		snprintf(key, sizeof key, "n%d.example%d.vn", i, i % 7);
		add(b, key, 0x7f000000u | (uint32_t)(2 + i % 3), "n", 0);
	}
	add(b, "192.0.2.0/24", 0x7f00000au, "p", 0);
	add(b, "n5.example5.vn", 0x7f000014u, "replaced", 0);
	e = mk("n6.example6.vn", 0, "", 0);
	ck_assert_int_eq(rblindex_builder_del(b, &e), 0);
	ix = build(b);
	for (i = 0; i < 30000; i++) {
		snprintf(key, sizeof key, "n%d.example%d.vn", i, i % 7);
		ck_assert_uint_eq(code4(ix, v4(10, (unsigned)(i >> 16), (unsigned)(i >> 8) & 255,
					       (unsigned)i & 255), 0),
				  0x7f000000u | (uint32_t)(2 + i % 5));
		if (i != 5 && i != 6)
			ck_assert_uint_eq(coden(ix, key, NULL), 0x7f000000u | (uint32_t)(2 + i % 3));
	}
	ck_assert_uint_eq(coden(ix, "n5.example5.vn", NULL), 0x7f000014u);
	ck_assert_uint_eq(coden(ix, "n6.example6.vn", NULL), 0);
	ck_assert_uint_eq(coden(ix, "n30000.example0.vn", NULL), 0);
	ck_assert_uint_eq(code4(ix, v4(10, 0, 117, 48), 0), 0); /* 30000 is not listed */
	ck_assert_uint_eq(code4(ix, v4(192, 0, 2, 77), 0), 0x7f00000au);
	ck_assert_int_eq(rblindex_name_has_children(ix, "example3.vn", 11), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "vn", 2), 1);
	ck_assert_int_eq(rblindex_name_has_children(ix, "example9.vn", 11), 0);
	ck_assert_uint_eq(rblindex_count(ix), 30000 + 29999 + 1);
	rblindex_free(ix);
}
END_TEST

START_TEST(test_foreach_gives_every_entry)
{
	rblindex_builder *b = rblindex_builder_new();
	int n = 0;
	add(b, "192.0.2.7", 0x7f000002, "", 0);
	add(b, "192.0.2.0/24", 0x7f000002, "", 0);
	add(b, "2001:db8::/32", 0x7f000002, "", 0);
	add(b, "a.vn", 0x7f000002, "", 0);
	add(b, "*.a.vn", 0x7f000002, "", 0);
	rblindex *ix = build(b);
	ck_assert_int_eq(rblindex_foreach(ix, count_fn, &n), 0);
	ck_assert_int_eq(n, 5);
	rblindex_free(ix);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rblindex");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_longest_ipv4_prefix_decides);
	tcase_add_test(tc, test_whole_space_and_top_address);
	tcase_add_test(tc, test_exclusion_carves_out);
	tcase_add_test(tc, test_expired_item_falls_back);
	tcase_add_test(tc, test_build_drops_expired);
	tcase_add_test(tc, test_ipv6_prefixes);
	tcase_add_test(tc, test_names_exact_wildcard_exclusion);
	tcase_add_test(tc, test_later_add_replaces_and_del_removes);
	tcase_add_test(tc, test_item_and_its_exclusion_are_separate_keys);
	tcase_add_test(tc, test_reasons_deduplicated);
	tcase_add_test(tc, test_random_against_brute_force);
	tcase_add_test(tc, test_foreach_gives_every_entry);
	tcase_add_test(tc, test_big_mixed_index);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
