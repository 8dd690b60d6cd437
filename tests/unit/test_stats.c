/* Tests for lib/stats.c against a private redis-server (tests/unit/redis_helper.h):
 * day keys, counts written in one transaction and added (never replaced),
 * unknown names counted as "other", labelled and distinct counters read back
 * over a range of days, counts kept in memory while Redis is down and written
 * exactly once when it is back, the writer thread, and configuration errors
 * that name the key. */
#include <check.h>

#include "redis_helper.h"

#include "conf.h"
#include "stats.h"

static char err[256];
static const int64_t DAY1 = 1795305600; /* 2026-11-22 00:00:00 UTC */

static cr_conf *conf_or_die(const char *extra)
{
	cr_conf *c = th_conf(extra);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* HGET of a counter on the current server; -1 if absent. */
static long long counter(const char *key, const char *field)
{
	redisReply *r = th_raw("HGET %s %s", key, field);
	ck_assert_ptr_nonnull(r);
	long long n = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	freeReplyObject(r);
	return n;
}

static void setup(void)
{
	th_flush();
}

START_TEST(test_day_key)
{
	char buf[64];
	ck_assert_int_gt(stats_day_key("cr", DAY1 + 86399, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "cr:{st}:day:2026-11-22");
	ck_assert_int_gt(stats_day_key("cr", DAY1 + 86400, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "cr:{st}:day:2026-11-23");
	ck_assert_int_eq(stats_day_key("cr", 0, buf, 8), -1);
}
END_TEST

START_TEST(test_counts_written)
{
	cr_conf *c = conf_or_die(NULL);
	cr_stats *s = stats_new(c, err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	stats_count(s, DAY1 + 10, "accept");
	stats_count(s, DAY1 + 20, "accept");
	stats_count(s, DAY1 + 30, "reject");
	stats_count(s, DAY1 + 40, "Not A Name!");
	stats_count(s, DAY1 + 86400 + 5, "tag");
	ck_assert_int_eq(stats_pending(s), 5);
	ck_assert_int_eq(stats_flush(s), 0);
	ck_assert_int_eq(stats_pending(s), 0);

	const char *k1 = "cr:{st}:day:2026-11-22", *k2 = "cr:{st}:day:2026-11-23";
	ck_assert_int_eq(counter(k1, "msg.accept"), 2);
	ck_assert_int_eq(counter(k1, "msg.reject"), 1);
	ck_assert_int_eq(counter(k1, "msg.other"), 1);
	ck_assert_int_eq(counter(k1, "msg.total"), 4);
	ck_assert_int_eq(counter(k2, "msg.tag"), 1);
	ck_assert_int_eq(counter(k2, "msg.total"), 1);
	ck_assert_int_gt(th_int("TTL %s", k1), 0);

	/* A second flush adds to, never replaces, what is there. */
	stats_count(s, DAY1 + 50, "accept");
	ck_assert_int_eq(stats_flush(s), 0);
	ck_assert_int_eq(counter(k1, "msg.accept"), 3);
	ck_assert_int_eq(counter(k1, "msg.total"), 5);
	stats_free(s);
	conf_free(c);
}
END_TEST

START_TEST(test_fields_labels_sets_read_back)
{
	cr_conf *c = conf_or_die(NULL);
	cr_stats *s = stats_new(c, err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	stats_add(s, DAY1, STATS_REPORT_RECEIVED, 2);
	stats_add(s, DAY1 + 86400, STATS_REPORT_RECEIVED, 3);
	stats_add(s, DAY1 + 2 * 86400, STATS_REPORT_RECEIVED, 100); /* outside the range */
	stats_add_label(s, DAY1, STATS_LABEL_NONCOMPLIANT, "R4", 1);
	stats_add_label(s, DAY1 + 86400, STATS_LABEL_NONCOMPLIANT, "R4", 2);
	stats_add_label(s, DAY1 + 86400, STATS_LABEL_NONCOMPLIANT, "R1b", 1);
	stats_add_distinct(s, DAY1, STATS_SET_ADVERTISER, "shop.vn");
	stats_add_distinct(s, DAY1 + 86400, STATS_SET_ADVERTISER, "shop.vn");
	stats_add_distinct(s, DAY1 + 86400, STATS_SET_ADVERTISER, "deal.com.vn");
	ck_assert_int_eq(stats_flush(s), 0);

	struct stats_values v = { 0 };
	ck_assert_int_eq(stats_read_fields(s, DAY1, DAY1 + 86400, &v, err, sizeof err), 0);
	ck_assert_int_eq(stats_value(&v, STATS_REPORT_RECEIVED), 5);
	ck_assert_int_eq(stats_value(&v, "no.such.field"), 0);
	stats_values_free(&v);
	ck_assert_int_eq(stats_read_labels(s, DAY1, DAY1 + 86400, STATS_LABEL_NONCOMPLIANT, &v,
					   err, sizeof err), 0);
	ck_assert_int_eq(stats_value(&v, "R4"), 3);
	ck_assert_int_eq(stats_value(&v, "R1b"), 1);
	stats_values_free(&v);
	ck_assert_int_eq(stats_read_distinct(s, DAY1, DAY1 + 86400, STATS_SET_ADVERTISER, &v,
					     err, sizeof err), 0);
	ck_assert_uint_eq(v.n, 2); /* shop.vn once, over both days */
	stats_values_free(&v);
	stats_free(s);
	conf_free(c);
}
END_TEST

/* Redis on a port where nothing listens yet: counts stay in memory; once a
 * server is there, they are written exactly once.  (The test runs in a forked
 * child, so the second server and the globals it sets are the child's own.) */
START_TEST(test_redis_down_then_back)
{
	int port = th_free_port();
	char extra[64];
	snprintf(extra, sizeof extra, "key_prefix = t1\n");
	th_redis_port = port;
	cr_conf *c = conf_or_die(extra);
	cr_stats *s = stats_new(c, err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	stats_count(s, DAY1, "accept");
	stats_count(s, DAY1, "quarantine");
	ck_assert_int_eq(stats_flush(s), -1);
	ck_assert_int_eq(stats_pending(s), 2);
	stats_count(s, DAY1, "accept");
	ck_assert_int_eq(stats_flush(s), -1);
	ck_assert_int_eq(stats_pending(s), 3);

	th_redis_start_port(port);
	ck_assert_int_eq(stats_flush(s), 0);
	ck_assert_int_eq(stats_pending(s), 0);
	ck_assert_int_eq(counter("t1:{st}:day:2026-11-22", "msg.accept"), 2);
	ck_assert_int_eq(counter("t1:{st}:day:2026-11-22", "msg.quarantine"), 1);
	ck_assert_int_eq(counter("t1:{st}:day:2026-11-22", "msg.total"), 3);
	ck_assert_int_eq(stats_flush(s), 0); /* nothing left: written once */
	ck_assert_int_eq(counter("t1:{st}:day:2026-11-22", "msg.total"), 3);
	stats_free(s);
	conf_free(c);
	th_redis_stop();
}
END_TEST

START_TEST(test_writer_thread)
{
	cr_conf *c = conf_or_die("key_prefix = t2\n[milter]\nstats_interval = 100ms\n");
	cr_stats *s = stats_new(c, err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_msg(stats_start(s, err, sizeof err) == 0, "%s", err);
	stats_count(s, DAY1, "reject");
	long long n = -1;
	for (int i = 0; i < 100 && n != 1; i++) { /* 5 s */
		th_sleep_ms(50);
		n = counter("t2:{st}:day:2026-11-22", "msg.reject");
	}
	ck_assert_int_eq(n, 1);
	stats_count(s, DAY1, "reject");
	stats_free(s); /* the final flush writes what is pending */
	ck_assert_int_eq(counter("t2:{st}:day:2026-11-22", "msg.reject"), 2);
	conf_free(c);
}
END_TEST

START_TEST(test_config_errors)
{
	cr_conf *c = conf_or_die("key_prefix = a{b}\n");
	ck_assert_ptr_null(stats_new(c, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "[redis] key_prefix \"a{b}\""));
	conf_free(c);
	c = conf_or_die("user = milter\n");
	ck_assert_ptr_null(stats_new(c, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "without password_file"));
	conf_free(c);
	c = conf_or_die("password_file = /nonexistent/pw\n");
	ck_assert_ptr_null(stats_new(c, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pw"));
	conf_free(c);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_day_key,
		test_counts_written,
		test_fields_labels_sets_read_back,
		test_redis_down_then_back,
		test_writer_thread,
		test_config_errors,
	};

	return th_redis_main("stats", setup, tests, sizeof tests / sizeof tests[0]);
}
