/* Tests for lib/dnsq.c: concurrent lookups under one deadline against a scripted
 * fake DNS server on 127.0.0.1 (tests/tools/fakedns), reply checks, TCP fallback,
 * the shared cache, and the DNSBL name builders. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "dnsq.h"
#include "util.h"

#include "fakedns_helper.h"

struct env {
	struct fakedns fake;
	dnsq_cache *cache;
	dnsq_ctx *ctx;
};

/* A fake server with rules, and a context (with a cache if cache_size > 0). */
static void env_start(struct env *e, const char *const *rules, size_t cache_size)
{
	char server[64], err[200] = "";
	const char *servers[2] = { server, NULL };

	memset(e, 0, sizeof(*e));
	fakedns_start(&e->fake, 0, rules);
	fakedns_server(&e->fake, server, sizeof(server));
	if (cache_size > 0) {
		e->cache = dnsq_cache_new(cache_size, 3600, 600, err, sizeof(err));
		ck_assert_msg(e->cache != NULL, "%s", err);
	}
	e->ctx = dnsq_ctx_new(e->cache, servers, err, sizeof(err));
	ck_assert_msg(e->ctx != NULL, "%s", err);
}

static void env_stop(struct env *e)
{
	dnsq_ctx_free(e->ctx);
	dnsq_cache_free(e->cache);
	fakedns_stop(&e->fake);
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

/* One A lookup in its own set; returns the status and the first address (or 0). */
static enum dnsq_status lookup_a(const dnsq_ctx *ctx, const char *name, int64_t budget_ms,
				 uint32_t *addr, int *from_cache, unsigned *sent)
{
	dnsq_set *set = dnsq_set_new(ctx, util_mono_ms() + budget_ms);
	dnsq_query *q;
	enum dnsq_status st;

	ck_assert_ptr_nonnull(set);
	q = dnsq_resolve(set, name, DNSQ_TYPE_A);
	ck_assert_ptr_nonnull(q);
	st = dnsq_status(q);
	*addr = 0;
	if (dnsq_count(q) > 0)
		ck_assert_int_eq(dnsq_a(q, 0, addr), 0);
	if (from_cache)
		*from_cache = dnsq_from_cache(q);
	if (sent)
		*sent = dnsq_set_sent(set);
	dnsq_set_free(set);
	return st;
}

START_TEST(test_ten_lookups_one_slow_one_lost)
{
	static const char *const rules[] = {
		"n0.test A rr n0.test. 60 IN A 127.0.0.1", "n1.test A rr n1.test. 60 IN A 127.0.0.2",
		"n2.test A rr n2.test. 60 IN A 127.0.0.3", "n3.test A rr n3.test. 60 IN A 127.0.0.4",
		"n4.test A rr n4.test. 60 IN A 127.0.0.5", "n5.test A rr n5.test. 60 IN A 127.0.0.6",
		"n6.test A rr n6.test. 60 IN A 127.0.0.7", "n7.test A rr n7.test. 60 IN A 127.0.0.8",
		"slow.test A rr slow.test. 60 IN A 127.0.0.9", "slow.test A delay 300",
		"lost.test A drop", NULL,
	};
	const char *names[10] = { "n0.test", "n1.test", "n2.test", "n3.test", "n4.test",
				  "n5.test", "n6.test", "n7.test", "slow.test", "lost.test" };
	struct env e;
	dnsq_query *q[10];
	dnsq_set *set;
	int64_t start, elapsed;
	uint32_t a;
	int i;

	env_start(&e, rules, 0);
	start = util_mono_ms();
	set = dnsq_set_new(e.ctx, start + 1000);
	for (i = 0; i < 10; i++) {
		q[i] = dnsq_add(set, names[i], DNSQ_TYPE_A);
		ck_assert_ptr_nonnull(q[i]);
		ck_assert_int_eq(dnsq_status(q[i]), DNSQ_PENDING);
	}
	ck_assert_int_eq(dnsq_run(set), 9);
	elapsed = util_mono_ms() - start;
	for (i = 0; i < 9; i++) {
		ck_assert_int_eq(dnsq_status(q[i]), DNSQ_NOERROR);
		ck_assert_int_eq(dnsq_count(q[i]), 1);
		ck_assert_int_eq(dnsq_a(q[i], 0, &a), 0);
		ck_assert_uint_eq(a, ip4("127.0.0.1") + (uint32_t)i);
		ck_assert_uint_eq(dnsq_ttl(q[i]), 60);
		ck_assert_int_eq(fakedns_count(&e.fake, names[i]), 1);
	}
	ck_assert_int_eq(dnsq_status(q[9]), DNSQ_TIMEOUT);
	ck_assert_int_eq(dnsq_rcode(q[9]), -1);
	ck_assert_int_eq(dnsq_count(q[9]), 0);
	/* the lost one was asked again after half the deadline */
	ck_assert_int_eq(fakedns_count(&e.fake, "lost.test"), 2);
	ck_assert_uint_eq(dnsq_set_sent(set), 11);
	/* it waited for the deadline, and not much longer */
	ck_assert_int_ge(elapsed, 1000);
	ck_assert_int_le(elapsed, 1000 + 150);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_lookups_go_out_concurrently)
{
	static const char *const rules[] = {
		"d1.test A rr d1.test. 60 IN A 127.0.0.1", "d1.test A delay 300",
		"d2.test A rr d2.test. 60 IN A 127.0.0.1", "d2.test A delay 300",
		"d3.test A rr d3.test. 60 IN A 127.0.0.1", "d3.test A delay 300",
		"d4.test A rr d4.test. 60 IN A 127.0.0.1", "d4.test A delay 300",
		"d5.test A rr d5.test. 60 IN A 127.0.0.1", "d5.test A delay 300", NULL,
	};
	struct env e;
	dnsq_set *set;
	int64_t start, elapsed;
	char name[24];
	int i;

	env_start(&e, rules, 0);
	start = util_mono_ms();
	set = dnsq_set_new(e.ctx, start + 2000);
	for (i = 1; i <= 5; i++) {
		snprintf(name, sizeof(name), "d%d.test", i);
		ck_assert_ptr_nonnull(dnsq_add(set, name, DNSQ_TYPE_A));
	}
	ck_assert_int_eq(dnsq_run(set), 5);
	elapsed = util_mono_ms() - start;
	/* one after another would take 5 x 300 ms */
	ck_assert_int_ge(elapsed, 300);
	ck_assert_int_lt(elapsed, 600);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_nxdomain)
{
	static const char *const rules[] = { "other.test A rr other.test. 60 IN A 127.0.0.1", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "missing.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_NXDOMAIN);
	ck_assert_int_eq(dnsq_rcode(q), 3);
	ck_assert_int_eq(dnsq_count(q), 0);
	ck_assert_str_eq(dnsq_status_name(dnsq_status(q)), "NXDOMAIN");
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_nodata_is_noerror_without_records)
{
	static const char *const rules[] = { "host.test A rr host.test. 60 IN A 127.0.0.1", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;
	char buf[64];

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "host.test", DNSQ_TYPE_TXT);
	ck_assert_int_eq(dnsq_status(q), DNSQ_NOERROR);
	ck_assert_int_eq(dnsq_count(q), 0);
	ck_assert_int_eq(dnsq_txt(q, 0, buf, sizeof(buf)), -1);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_servfail)
{
	static const char *const rules[] = { "broken.test A servfail", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;

	env_start(&e, rules, 16);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "broken.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_SERVFAIL);
	ck_assert_int_eq(dnsq_rcode(q), 2);
	/* one server: no point asking it again; and SERVFAIL is not cached */
	ck_assert_int_eq(fakedns_count(&e.fake, "broken.test"), 1);
	ck_assert_uint_eq(dnsq_cache_count(e.cache), 0);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_refused_is_error)
{
	static const char *const rules[] = { "closed.test A refused", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "closed.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_ERROR);
	ck_assert_int_eq(dnsq_rcode(q), 5);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

/* A forged reply arrives first (the real one 100 ms later): it must be ignored. */
static void check_spoof_ignored(const char *kind)
{
	char r1[80], r2[80];
	const char *rules[] = { "victim.test A rr victim.test. 60 IN A 127.0.0.7", r1, r2, NULL };
	struct env e;
	uint32_t a;
	int64_t start = util_mono_ms();

	snprintf(r1, sizeof(r1), "victim.test A %s", kind);
	snprintf(r2, sizeof(r2), "victim.test A delay 100");
	env_start(&e, rules, 0);
	ck_assert_int_eq(lookup_a(e.ctx, "victim.test", 2000, &a, NULL, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(a, ip4("127.0.0.7"));
	/* the real answer came to the first try: no retry was needed */
	ck_assert_int_eq(fakedns_count(&e.fake, "victim.test"), 1);
	ck_assert_int_lt(util_mono_ms() - start, 1000);
	env_stop(&e);
}

START_TEST(test_reply_with_wrong_id_ignored)
{
	check_spoof_ignored("spoof-id");
}
END_TEST

START_TEST(test_reply_with_wrong_question_ignored)
{
	check_spoof_ignored("spoof-question");
}
END_TEST

START_TEST(test_reply_from_wrong_port_ignored)
{
	check_spoof_ignored("spoof-port");
}
END_TEST

START_TEST(test_question_name_case_ignored)
{
	static const char *const rules[] = {
		"mixed.test A rr mixed.test. 60 IN A 127.0.0.5", "mixed.test A upcase", NULL,
	};
	struct env e;
	uint32_t a;

	env_start(&e, rules, 0);
	ck_assert_int_eq(lookup_a(e.ctx, "Mixed.Test.", 1000, &a, NULL, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(a, ip4("127.0.0.5"));
	env_stop(&e);
}
END_TEST

START_TEST(test_truncated_reply_retried_over_tcp)
{
	static const char *const rules[] = {
		"big.test TXT rr big.test. 60 IN TXT \"hello \" \"world\"", "big.test TXT tc", NULL,
	};
	struct env e;
	dnsq_set *set;
	dnsq_query *q;
	char buf[64];

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "big.test", DNSQ_TYPE_TXT);
	ck_assert_int_eq(dnsq_status(q), DNSQ_NOERROR);
	ck_assert_int_eq(dnsq_count(q), 1);
	ck_assert_int_eq(dnsq_txt(q, 0, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "hello world");
	/* does not fit: -1, not a cut string */
	ck_assert_int_eq(dnsq_txt(q, 0, buf, 11), -1);
	/* one UDP query, one TCP query */
	ck_assert_int_eq(fakedns_count(&e.fake, "big.test"), 2);
	ck_assert_uint_eq(dnsq_set_sent(set), 2);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_cache_hit_sends_no_packet)
{
	static const char *const rules[] = { "cached.test A rr cached.test. 60 IN A 127.0.0.3", NULL };
	struct env e;
	uint32_t a;
	int hit;
	unsigned sent;

	env_start(&e, rules, 16);
	ck_assert_int_eq(lookup_a(e.ctx, "cached.test", 1000, &a, &hit, &sent), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 0);
	ck_assert_uint_eq(sent, 1);
	ck_assert_uint_eq(dnsq_cache_count(e.cache), 1);
	ck_assert_int_eq(lookup_a(e.ctx, "CACHED.test", 1000, &a, &hit, &sent), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 1);
	ck_assert_uint_eq(sent, 0);
	ck_assert_uint_eq(a, ip4("127.0.0.3"));
	ck_assert_int_eq(fakedns_count(&e.fake, "cached.test"), 1);
	env_stop(&e);
}
END_TEST

START_TEST(test_cache_hit_reports_remaining_ttl)
{
	static const char *const rules[] = { "ttl.test A rr ttl.test. 60 IN A 127.0.0.3", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;
	uint32_t a;

	env_start(&e, rules, 16);
	ck_assert_int_eq(lookup_a(e.ctx, "ttl.test", 1000, &a, NULL, NULL), DNSQ_NOERROR);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "ttl.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_from_cache(q), 1);
	ck_assert_uint_le(dnsq_ttl(q), 60);
	ck_assert_uint_ge(dnsq_ttl(q), 59);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_negative_answer_cached_for_soa_minimum)
{
	static const char *const rules[] = {
		"gone.test * nxdomain", "gone.test * soa 300 10",
		"bare.test * nxdomain", NULL,
	};
	struct env e;
	dnsq_set *set;
	dnsq_query *q;
	uint32_t a;
	int hit;

	env_start(&e, rules, 16);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "gone.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_NXDOMAIN);
	/* RFC 2308 section 5: min(SOA TTL 300, MINIMUM 10) */
	ck_assert_uint_eq(dnsq_ttl(q), 10);
	dnsq_set_free(set);
	ck_assert_int_eq(lookup_a(e.ctx, "gone.test", 1000, &a, &hit, NULL), DNSQ_NXDOMAIN);
	ck_assert_int_eq(hit, 1);
	ck_assert_int_eq(fakedns_count(&e.fake, "gone.test"), 1);
	/* without an SOA a negative answer is not cached */
	ck_assert_int_eq(lookup_a(e.ctx, "bare.test", 1000, &a, &hit, NULL), DNSQ_NXDOMAIN);
	ck_assert_int_eq(lookup_a(e.ctx, "bare.test", 1000, &a, &hit, NULL), DNSQ_NXDOMAIN);
	ck_assert_int_eq(hit, 0);
	ck_assert_int_eq(fakedns_count(&e.fake, "bare.test"), 2);
	env_stop(&e);
}
END_TEST

START_TEST(test_cache_entry_expires_after_ttl)
{
	static const char *const rules[] = { "short.test A rr short.test. 1 IN A 127.0.0.4", NULL };
	struct env e;
	uint32_t a;
	int hit = 1;
	int64_t start, waited;

	env_start(&e, rules, 16);
	start = util_mono_ms();
	ck_assert_int_eq(lookup_a(e.ctx, "short.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(lookup_a(e.ctx, "short.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 1);
	ck_assert_int_eq(fakedns_count(&e.fake, "short.test"), 1);
	/* poll until the entry is gone and the server is asked again */
	while (hit && util_mono_ms() - start < 3000) {
		usleep(50 * 1000);
		ck_assert_int_eq(lookup_a(e.ctx, "short.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	}
	waited = util_mono_ms() - start;
	ck_assert_int_eq(hit, 0);
	ck_assert_int_ge(waited, 1000);
	ck_assert_int_lt(waited, 1500);
	ck_assert_int_eq(fakedns_count(&e.fake, "short.test"), 2);
	env_stop(&e);
}
END_TEST

START_TEST(test_cache_evicts_least_recently_used)
{
	static const char *const rules[] = {
		"a.test A rr a.test. 60 IN A 127.0.0.1", "b.test A rr b.test. 60 IN A 127.0.0.2",
		"c.test A rr c.test. 60 IN A 127.0.0.3", NULL,
	};
	struct env e;
	uint32_t a;
	int hit;

	env_start(&e, rules, 2);
	ck_assert_int_eq(lookup_a(e.ctx, "a.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(lookup_a(e.ctx, "b.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(lookup_a(e.ctx, "a.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 1); /* a is now the most recent */
	ck_assert_int_eq(lookup_a(e.ctx, "c.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(dnsq_cache_count(e.cache), 2);
	ck_assert_int_eq(lookup_a(e.ctx, "a.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 1);
	ck_assert_int_eq(lookup_a(e.ctx, "b.test", 1000, &a, &hit, NULL), DNSQ_NOERROR);
	ck_assert_int_eq(hit, 0);
	ck_assert_int_eq(fakedns_count(&e.fake, "a.test"), 1);
	ck_assert_int_eq(fakedns_count(&e.fake, "b.test"), 2);
	env_stop(&e);
}
END_TEST

struct thread_arg {
	const dnsq_ctx *ctx;
	int ok;
};

static void *thread_lookups(void *p)
{
	struct thread_arg *t = p;
	static const char *const names[] = { "t1.test", "t2.test", "t3.test", "t4.test" };
	int round, i;

	t->ok = 1;
	for (round = 0; round < 20; round++) {
		dnsq_set *set = dnsq_set_new(t->ctx, util_mono_ms() + 2000);
		dnsq_query *q[4];
		uint32_t a;
		for (i = 0; i < 4; i++)
			q[i] = dnsq_add(set, names[i], DNSQ_TYPE_A);
		if (dnsq_run(set) != 4)
			t->ok = 0;
		for (i = 0; i < 4; i++)
			if (dnsq_a(q[i], 0, &a) != 0 || a != 0x7f000001u + (uint32_t)i)
				t->ok = 0;
		dnsq_set_free(set);
	}
	return NULL;
}

START_TEST(test_cache_shared_by_threads)
{
	static const char *const rules[] = {
		"t1.test A rr t1.test. 60 IN A 127.0.0.1", "t2.test A rr t2.test. 60 IN A 127.0.0.2",
		"t3.test A rr t3.test. 60 IN A 127.0.0.3", "t4.test A rr t4.test. 60 IN A 127.0.0.4",
		NULL,
	};
	struct env e;
	pthread_t th[4];
	struct thread_arg args[4];
	int i;

	env_start(&e, rules, 16);
	for (i = 0; i < 4; i++) {
		args[i].ctx = e.ctx;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_lookups, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].ok, 1);
	}
	/* 80 lookups per name; only threads that missed the cache together asked */
	ck_assert_int_ge(fakedns_count(&e.fake, "t1.test"), 1);
	ck_assert_int_le(fakedns_count(&e.fake, "t1.test"), 4);
	ck_assert_uint_eq(dnsq_cache_count(e.cache), 4);
	env_stop(&e);
}
END_TEST

START_TEST(test_cname_chain_followed)
{
	static const char *const rules[] = {
		"alias.test A rr alias.test. 30 IN CNAME target.test.",
		"alias.test A rr target.test. 60 IN A 127.0.0.9",
		"alias.test A rr other.test. 60 IN A 127.0.0.66", NULL,
	};
	struct env e;
	dnsq_set *set;
	dnsq_query *q;
	uint32_t a;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q = dnsq_resolve(set, "alias.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_NOERROR);
	/* only the record at the end of the chain, not the stray one */
	ck_assert_int_eq(dnsq_count(q), 1);
	ck_assert_int_eq(dnsq_a(q, 0, &a), 0);
	ck_assert_uint_eq(a, ip4("127.0.0.9"));
	ck_assert_uint_eq(dnsq_ttl(q), 30);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_record_accessors)
{
	static const char *const rules[] = {
		"mail.test MX rr mail.test. 60 IN MX 10 mx1.mail.test.",
		"mail.test AAAA rr mail.test. 60 IN AAAA 2001:db8::25",
		"7.2.0.192.in-addr.arpa PTR rr 7.2.0.192.in-addr.arpa. 60 IN PTR host.mail.test.",
		NULL,
	};
	struct env e;
	dnsq_set *set;
	dnsq_query *mx, *aaaa, *ptr;
	struct cr_addr addr, want;
	char buf[64];
	uint32_t v4;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	mx = dnsq_add(set, "mail.test", DNSQ_TYPE_MX);
	aaaa = dnsq_add(set, "mail.test", DNSQ_TYPE_AAAA);
	ptr = dnsq_add(set, "7.2.0.192.in-addr.arpa", DNSQ_TYPE_PTR);
	ck_assert_int_eq(dnsq_run(set), 3);
	ck_assert_int_eq(dnsq_name(mx, 0, buf, sizeof(buf)), 13);
	ck_assert_str_eq(buf, "mx1.mail.test");
	ck_assert_int_eq(dnsq_mx_pref(mx, 0), 10);
	ck_assert_int_eq(dnsq_name(mx, 0, buf, 13), -1);
	ck_assert_int_eq(dnsq_name(mx, 1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(dnsq_addr(aaaa, 0, &addr), 0);
	ck_assert_int_eq(addr_parse("2001:db8::25", &want, NULL, 0), 0);
	ck_assert_int_eq(addr_cmp(&addr, &want), 0);
	ck_assert_int_eq(dnsq_a(aaaa, 0, &v4), -1);
	ck_assert_int_eq(dnsq_name(ptr, 0, buf, sizeof(buf)), 14);
	ck_assert_str_eq(buf, "host.mail.test");
	ck_assert_int_eq(dnsq_mx_pref(ptr, 0), -1);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_unreachable_server_fails_over_at_once)
{
	static const char *const rules[] = { "up.test A rr up.test. 60 IN A 127.0.0.8", NULL };
	struct fakedns fake;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char dead[64], live[64], err[200];
	const char *servers[3] = { dead, live, NULL };
	dnsq_ctx *ctx;
	uint32_t a;
	int64_t start;
	int fd;

	/* a port nobody listens on: bind one, note it, close it */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", ntohs(sin.sin_port));
	close(fd);
	fakedns_start(&fake, 0, rules);
	fakedns_server(&fake, live, sizeof(live));
	ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	start = util_mono_ms();
	ck_assert_int_eq(lookup_a(ctx, "up.test", 2000, &a, NULL, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(a, ip4("127.0.0.8"));
	/* ICMP port unreachable moves on at once, not after half the deadline */
	ck_assert_int_lt(util_mono_ms() - start, 500);
	dnsq_ctx_free(ctx);
	fakedns_stop(&fake);
}
END_TEST

START_TEST(test_silent_server_retried_on_next)
{
	static const char *const silent_rules[] = { "w.test A drop", NULL };
	static const char *const rules[] = { "w.test A rr w.test. 60 IN A 127.0.0.6", NULL };
	struct fakedns silent, live;
	char s1[64], s2[64], err[200];
	const char *servers[3] = { s1, s2, NULL };
	dnsq_ctx *ctx;
	uint32_t a;
	int64_t start, elapsed;

	fakedns_start(&silent, 0, silent_rules);
	fakedns_start(&live, 0, rules);
	fakedns_server(&silent, s1, sizeof(s1));
	fakedns_server(&live, s2, sizeof(s2));
	ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	start = util_mono_ms();
	ck_assert_int_eq(lookup_a(ctx, "w.test", 1000, &a, NULL, NULL), DNSQ_NOERROR);
	elapsed = util_mono_ms() - start;
	ck_assert_uint_eq(a, ip4("127.0.0.6"));
	/* the retry goes out after half the time left */
	ck_assert_int_ge(elapsed, 500);
	ck_assert_int_lt(elapsed, 800);
	ck_assert_int_eq(fakedns_count(&silent, "w.test"), 1);
	ck_assert_int_eq(fakedns_count(&live, "w.test"), 1);
	dnsq_ctx_free(ctx);
	fakedns_stop(&silent);
	fakedns_stop(&live);
}
END_TEST

START_TEST(test_servfail_asks_next_server)
{
	static const char *const bad_rules[] = { "sf.test A servfail", NULL };
	static const char *const rules[] = { "sf.test A rr sf.test. 60 IN A 127.0.0.2", NULL };
	struct fakedns bad, good;
	char s1[64], s2[64], err[200];
	const char *servers[3] = { s1, s2, NULL };
	dnsq_ctx *ctx;
	uint32_t a;

	fakedns_start(&bad, 0, bad_rules);
	fakedns_start(&good, 0, rules);
	fakedns_server(&bad, s1, sizeof(s1));
	fakedns_server(&good, s2, sizeof(s2));
	ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(lookup_a(ctx, "sf.test", 1000, &a, NULL, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(a, ip4("127.0.0.2"));
	ck_assert_int_eq(fakedns_count(&bad, "sf.test"), 1);
	ck_assert_int_eq(fakedns_count(&good, "sf.test"), 1);
	dnsq_ctx_free(ctx);
	fakedns_stop(&bad);
	fakedns_stop(&good);
}
END_TEST

START_TEST(test_second_run_sends_only_new_queries)
{
	static const char *const rules[] = {
		"p1.test A rr p1.test. 60 IN A 127.0.0.1", "p2.test A rr p2.test. 60 IN A 127.0.0.2",
		NULL,
	};
	struct env e;
	dnsq_set *set;
	dnsq_query *q1, *q2;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q1 = dnsq_add(set, "p1.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_run(set), 1);
	/* a later phase of the same message, under the same deadline */
	q2 = dnsq_add(set, "p2.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q2), DNSQ_PENDING);
	ck_assert_int_eq(dnsq_run(set), 1);
	ck_assert_int_eq(dnsq_status(q1), DNSQ_NOERROR);
	ck_assert_int_eq(dnsq_status(q2), DNSQ_NOERROR);
	ck_assert_uint_eq(dnsq_set_sent(set), 2);
	ck_assert_int_eq(fakedns_count(&e.fake, "p1.test"), 1);
	ck_assert_int_eq(fakedns_count(&e.fake, "p2.test"), 1);
	/* and asking again inside the set is answered from the set */
	ck_assert_ptr_eq(dnsq_resolve(set, "p1.test", DNSQ_TYPE_A), q1);
	ck_assert_uint_eq(dnsq_set_sent(set), 2);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_past_deadline_sends_nothing)
{
	static const char *const rules[] = { "late.test A rr late.test. 60 IN A 127.0.0.2", NULL };
	struct env e;
	dnsq_set *set;
	dnsq_query *q;

	env_start(&e, rules, 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() - 1);
	q = dnsq_resolve(set, "late.test", DNSQ_TYPE_A);
	ck_assert_int_eq(dnsq_status(q), DNSQ_TIMEOUT);
	ck_assert_uint_eq(dnsq_set_sent(set), 0);
	ck_assert_int_eq(fakedns_count(&e.fake, "late.test"), 0);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_ipv6_server)
{
	static const char *const rules[] = { "six.test A rr six.test. 60 IN A 127.0.0.6", NULL };
	struct fakedns fake;
	char server[64], err[200];
	const char *servers[2] = { server, NULL };
	dnsq_ctx *ctx;
	uint32_t a;

	fakedns_start(&fake, 1, rules);
	snprintf(server, sizeof(server), "[::1]:%d", fake.port);
	ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_int_eq(lookup_a(ctx, "six.test", 1000, &a, NULL, NULL), DNSQ_NOERROR);
	ck_assert_uint_eq(a, ip4("127.0.0.6"));
	ck_assert_int_eq(fakedns_count(&fake, "six.test"), 1);
	dnsq_ctx_free(ctx);
	fakedns_stop(&fake);
}
END_TEST

START_TEST(test_dnsbl_names)
{
	struct cr_addr ip;
	char buf[300];

	ck_assert_int_eq(addr_parse("192.0.2.7", &ip, NULL, 0), 0);
	ck_assert_int_eq(dnsq_dnsbl_ip_name(&ip, "bl.example.vn.", buf, sizeof(buf)), 23);
	ck_assert_str_eq(buf, "7.2.0.192.bl.example.vn");
	ck_assert_int_eq(dnsq_dnsbl_ip_name(&ip, "bl.example.vn", buf, 23), -1);
	ck_assert_int_eq(addr_parse("2001:db8::1", &ip, NULL, 0), 0);
	ck_assert_int_eq(dnsq_dnsbl_ip_name(&ip, "bl.test", buf, sizeof(buf)), 71);
	ck_assert_str_eq(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test");
	ck_assert_int_eq(dnsq_dnsbl_domain_name("spam.example.com.", "dbl.test", buf, sizeof(buf)),
			 25);
	ck_assert_str_eq(buf, "spam.example.com.dbl.test");
	memset(buf, 'a', 250);
	buf[250] = '\0';
	{
		char out[300];
		ck_assert_int_eq(dnsq_dnsbl_domain_name(buf, "dbl.test", out, sizeof(out)), -1);
	}
}
END_TEST

START_TEST(test_dnsbl_lookup)
{
	static const char *const rules[] = {
		"7.2.0.192.bl.test A rr 7.2.0.192.bl.test. 60 IN A 127.0.0.2",
		"spam.example.dbl.test A rr spam.example.dbl.test. 60 IN A 127.0.1.2", NULL,
	};
	struct env e;
	struct cr_addr ip;
	dnsq_set *set;
	dnsq_query *q1, *q2, *q3;
	uint32_t a;

	env_start(&e, rules, 0);
	ck_assert_int_eq(addr_parse("192.0.2.7", &ip, NULL, 0), 0);
	set = dnsq_set_new(e.ctx, util_mono_ms() + 1000);
	q1 = dnsq_add_dnsbl_ip(set, &ip, "bl.test");
	q2 = dnsq_add_dnsbl_domain(set, "spam.example", "dbl.test");
	ck_assert_int_eq(addr_parse("192.0.2.8", &ip, NULL, 0), 0);
	q3 = dnsq_add_dnsbl_ip(set, &ip, "bl.test");
	ck_assert_int_eq(dnsq_run(set), 3);
	ck_assert_int_eq(dnsq_a(q1, 0, &a), 0);
	ck_assert_uint_eq(a, ip4("127.0.0.2"));
	ck_assert_int_eq(dnsq_a(q2, 0, &a), 0);
	ck_assert_uint_eq(a, ip4("127.0.1.2"));
	ck_assert_int_eq(dnsq_status(q3), DNSQ_NXDOMAIN);
	dnsq_set_free(set);
	env_stop(&e);
}
END_TEST

START_TEST(test_add_checks_names_and_merges_duplicates)
{
	char server[] = "127.0.0.1:53", err[200], label[80], longname[300];
	const char *servers[2] = { server, NULL };
	dnsq_ctx *ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	dnsq_set *set = dnsq_set_new(ctx, util_mono_ms() + 1000);
	dnsq_query *q;
	int i;

	q = dnsq_add(set, "Example.COM.", DNSQ_TYPE_A);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(dnsq_qname(q), "example.com");
	ck_assert_uint_eq(dnsq_qtype(q), DNSQ_TYPE_A);
	ck_assert_ptr_eq(dnsq_add(set, "example.com", DNSQ_TYPE_A), q);
	ck_assert_ptr_ne(dnsq_add(set, "example.com", DNSQ_TYPE_TXT), q);
	ck_assert_ptr_null(dnsq_add(set, "", DNSQ_TYPE_A));
	ck_assert_str_eq(dnsq_set_error(set), "bad query name \"\"");
	ck_assert_ptr_null(dnsq_add(set, "a..b", DNSQ_TYPE_A));
	ck_assert_ptr_null(dnsq_add(set, "a b.test", DNSQ_TYPE_A));
	memset(label, 'x', 64);
	strcpy(label + 64, ".test");
	ck_assert_ptr_null(dnsq_add(set, label, DNSQ_TYPE_A));
	strcpy(label + 63, ".test"); /* 63 octets is the limit */
	ck_assert_ptr_nonnull(dnsq_add(set, label, DNSQ_TYPE_A));
	for (i = 0; i < 254; i += 2)
		memcpy(longname + i, "a.", 2);
	longname[253] = '\0'; /* 253 characters ending in a label: fits */
	ck_assert_ptr_nonnull(dnsq_add(set, longname, DNSQ_TYPE_A));
	longname[253] = 'b';
	longname[254] = '\0';
	ck_assert_ptr_null(dnsq_add(set, longname, DNSQ_TYPE_A));
	dnsq_set_free(set);
	dnsq_ctx_free(ctx);
}
END_TEST

START_TEST(test_ctx_parses_servers)
{
	char err[200];
	const char *good[] = { "192.0.2.1", "192.0.2.2:5353", "::1", "[2001:db8::1]:53", NULL };
	const char *bad_port[] = { "192.0.2.1:0", NULL };
	const char *bad_addr[] = { "192.0.2.300", NULL };
	const char *bad_v6[] = { "[::1", NULL };
	dnsq_ctx *ctx = dnsq_ctx_new(NULL, good, err, sizeof(err));

	ck_assert_ptr_nonnull(ctx);
	ck_assert_uint_eq(dnsq_ctx_server_count(ctx), 4);
	dnsq_ctx_free(ctx);
	ck_assert_ptr_null(dnsq_ctx_new(NULL, bad_port, err, sizeof(err)));
	ck_assert_str_eq(err, "dns server \"192.0.2.1:0\": port must be 1..65535");
	ck_assert_ptr_null(dnsq_ctx_new(NULL, bad_addr, err, sizeof(err)));
	ck_assert_str_eq(err, "dns server \"192.0.2.300\": bad IPv4 address");
	ck_assert_ptr_null(dnsq_ctx_new(NULL, bad_v6, err, sizeof(err)));
	ck_assert_str_eq(err, "dns server \"[::1\": want [IPv6]:port");
	ck_assert_ptr_null(dnsq_cache_new(0, 60, 60, err, sizeof(err)));
}
END_TEST

static int ipv6_loopback_usable(void)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0;
	close(fd);
	return ok;
}

static Suite *dnsq_suite(void)
{
	Suite *s = suite_create("dnsq");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_ten_lookups_one_slow_one_lost);
	tcase_add_test(tc, test_lookups_go_out_concurrently);
	tcase_add_test(tc, test_nxdomain);
	tcase_add_test(tc, test_nodata_is_noerror_without_records);
	tcase_add_test(tc, test_servfail);
	tcase_add_test(tc, test_refused_is_error);
	tcase_add_test(tc, test_reply_with_wrong_id_ignored);
	tcase_add_test(tc, test_reply_with_wrong_question_ignored);
	tcase_add_test(tc, test_reply_from_wrong_port_ignored);
	tcase_add_test(tc, test_question_name_case_ignored);
	tcase_add_test(tc, test_truncated_reply_retried_over_tcp);
	tcase_add_test(tc, test_cache_hit_sends_no_packet);
	tcase_add_test(tc, test_cache_hit_reports_remaining_ttl);
	tcase_add_test(tc, test_negative_answer_cached_for_soa_minimum);
	tcase_add_test(tc, test_cache_entry_expires_after_ttl);
	tcase_add_test(tc, test_cache_evicts_least_recently_used);
	tcase_add_test(tc, test_cache_shared_by_threads);
	tcase_add_test(tc, test_cname_chain_followed);
	tcase_add_test(tc, test_record_accessors);
	tcase_add_test(tc, test_unreachable_server_fails_over_at_once);
	tcase_add_test(tc, test_silent_server_retried_on_next);
	tcase_add_test(tc, test_servfail_asks_next_server);
	tcase_add_test(tc, test_second_run_sends_only_new_queries);
	tcase_add_test(tc, test_past_deadline_sends_nothing);
	if (ipv6_loopback_usable())
		tcase_add_test(tc, test_ipv6_server);
	else
		fprintf(stderr, "test_dnsq: no IPv6 loopback, test_ipv6_server not run\n");
	tcase_add_test(tc, test_dnsbl_names);
	tcase_add_test(tc, test_dnsbl_lookup);
	tcase_add_test(tc, test_add_checks_names_and_merges_duplicates);
	tcase_add_test(tc, test_ctx_parses_servers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dnsq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
