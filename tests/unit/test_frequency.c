/* Tests for lib/frequency.c against a private redis-server: counts per advertiser
 * and recipient, the rolling window (old arrivals trimmed), read-only counting,
 * the key's expiry, forgetting one message's record. */
#include <check.h>

#include "frequency.h"
#include "kv.h"
#include "redis_helper.h"

static cr_kv *kv_of(void)
{
	char err[256];
	cr_conf *c = th_conf(NULL);
	cr_kv *kv = kv_open(c, 500, err, sizeof err);
	ck_assert_ptr_nonnull(kv);
	conf_free(c);
	return kv;
}

static void setup(void)
{
	th_flush();
}

START_TEST(test_counts_and_window)
{
	cr_kv *kv = kv_of();
	const char *r[2] = { "A@example.vn", "b@example.vn" };
	long long n[2];
	char err[256];
	int64_t t = 1700000000000LL, day = 86400;

	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 2, t, day, 1, "q1", n, NULL, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(n[1], 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 1, t + 1000, day, 1, "q2", n, NULL, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 1);
	/* read only */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 2, t + 2000, day, 0, "q3", n, NULL, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_int_eq(n[1], 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	/* another advertiser is counted apart */
	ck_assert_int_eq(frequency_count(kv, "other.vn", r, 1, t + 3000, day, 0, "q4", n, NULL, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 0);
	/* a day after the first, only the second is in the window */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 1, t + day * 1000 + 500, day, 0, "q5", n,
					 NULL, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 1);
	kv_close(kv);
}
END_TEST

START_TEST(test_key_expires_with_the_window)
{
	cr_kv *kv = kv_of();
	const char *r[1] = { "a@example.vn" };
	long long n[1];
	char err[256];
	long long ttl;

	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 1, 1700000000000LL, 3600, 1, "q", n, NULL, err,
					 sizeof err), 0);
	ttl = th_int("PTTL %s", "cr:freq:shop.vn:a@example.vn");
	ck_assert(ttl > 3590000 && ttl <= 3600000);
	ck_assert_int_eq(frequency_count(kv, "bad advertiser", r, 1, 1, 3600, 1, "q", n, NULL, err,
					 sizeof err), -1);
	kv_close(kv);
}
END_TEST

START_TEST(test_forget_removes_only_this_message)
{
	cr_kv *kv = kv_of();
	const char *r[2] = { "a@example.vn", "B@example.vn" };
	long long n[2];
	char err[256], m1[FREQUENCY_MEMBER_MAX], m2[FREQUENCY_MEMBER_MAX], m3[FREQUENCY_MEMBER_MAX];
	int64_t t = 1700000000000LL, day = 86400;

	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 2, t, day, 1, "q1", n, m1, err,
					 sizeof err), 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 2, t + 1000, day, 1, "q2", n, m2, err,
					 sizeof err), 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 1, t + 2000, day, 1, "q3", n, m3, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_ptr_nonnull(strstr(m2, ":q2:"));
	ck_assert_str_ne(m1, m2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 3);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 2);
	/* q2 undone for both recipients: only its two entries go */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", r, 2, m2, err, sizeof err), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 1);
	/* ZRANK: -1 = not there */
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m1), 0);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m2), -1);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m3), 1);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:b@example.vn %s", m1), 0);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:b@example.vn %s", m2), -1);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", r, 2, t + 3000, day, 0, "q4", n, m2, err,
					 sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_int_eq(n[1], 1);
	ck_assert_str_eq(m2, ""); /* nothing recorded */
	/* q1 undone for the second recipient only */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", r + 1, 1, m1, err, sizeof err), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 0);
	/* again, or another advertiser: nothing to remove */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", r + 1, 1, m1, err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "other.vn", r, 2, m3, err, sizeof err), 0);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	/* an empty member or no recipient is a no-op; a bad advertiser an error */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", r, 2, "", err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", r, 0, m3, err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "bad advertiser", r, 1, m3, err, sizeof err), -1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	kv_close(kv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frequency");
	TCase *tc = tcase_create("core");
	int failed;

	th_redis_start();
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_counts_and_window);
	tcase_add_test(tc, test_key_expires_with_the_window);
	tcase_add_test(tc, test_forget_removes_only_this_message);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	th_redis_stop();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
