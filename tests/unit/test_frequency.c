/* Tests for lib/frequency.c against a private redis-server: counts per advertiser
 * and recipient, the rolling window (old arrivals trimmed), read-only counting,
 * the key's expiry, forgetting one message's record, the legacy per-content
 * counter. */
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

	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 2, t, day, 1, "q1", n, NULL, NULL,
					 err, sizeof err), 0);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(n[1], 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 1, t + 1000, day, 1, "q2", n, NULL,
					 NULL, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 1);
	/* read only */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 2, t + 2000, day, 0, "q3", n, NULL,
					 NULL, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_int_eq(n[1], 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	/* another advertiser is counted apart */
	ck_assert_int_eq(frequency_count(kv, "other.vn", NULL, r, 1, t + 3000, day, 0, "q4", n,
					 NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 0);
	/* a day after the first, only the second is in the window */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 1, t + day * 1000 + 500, day, 0,
					 "q5", n, NULL, NULL, err, sizeof err), 0);
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

	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 1, 1700000000000LL, 3600, 1, "q",
					 n, NULL, NULL, err, sizeof err), 0);
	ttl = th_int("PTTL %s", "cr:freq:shop.vn:a@example.vn");
	ck_assert(ttl > 3590000 && ttl <= 3600000);
	ck_assert_int_eq(frequency_count(kv, "bad advertiser", NULL, r, 1, 1, 3600, 1, "q", n, NULL,
					 NULL, err, sizeof err), -1);
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

	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 2, t, day, 1, "q1", n, NULL, m1,
					 err, sizeof err), 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 2, t + 1000, day, 1, "q2", n, NULL,
					 m2, err, sizeof err), 0);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 1, t + 2000, day, 1, "q3", n, NULL,
					 m3, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_ptr_nonnull(strstr(m2, ":q2:"));
	ck_assert_str_ne(m1, m2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 3);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 2);
	/* q2 undone for both recipients: only its two entries go */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", NULL, r, 2, m2, err, sizeof err), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 1);
	/* ZRANK: -1 = not there */
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m1), 0);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m2), -1);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:a@example.vn %s", m3), 1);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:b@example.vn %s", m1), 0);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn:b@example.vn %s", m2), -1);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", NULL, r, 2, t + 3000, day, 0, "q4", n, NULL,
					 m2, err, sizeof err), 0);
	ck_assert_int_eq(n[0], 2);
	ck_assert_int_eq(n[1], 1);
	ck_assert_str_eq(m2, ""); /* nothing recorded */
	/* q1 undone for the second recipient only */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", NULL, r + 1, 1, m1, err, sizeof err), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:b@example.vn"), 0);
	/* again, or another advertiser: nothing to remove */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", NULL, r + 1, 1, m1, err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "other.vn", NULL, r, 2, m3, err, sizeof err), 0);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:shop.vn:a@example.vn"), 2);
	/* an empty member or no recipient is a no-op; a bad advertiser an error */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", NULL, r, 2, "", err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", NULL, r, 0, m3, err, sizeof err), 0);
	ck_assert_int_eq(frequency_forget(kv, "bad advertiser", NULL, r, 1, m3, err, sizeof err),
					 -1); ck_assert_int_eq(th_int("ZCARD %s",
					 "cr:freq:shop.vn:a@example.vn"), 2);
	kv_close(kv);
}
END_TEST

/* One message from adv with content to a@example.vn at t (window a day): the
 * counts before it are want_n (per advertiser) and want_same (per content). */
static void expect_one(cr_kv *kv, const char *adv, const char *content, int64_t t, int record,
		       long long want_n, long long want_same, char *member)
{
	const char *r[1] = { "a@example.vn" };
	long long n[1] = { -1 }, same[1] = { -1 };
	char err[256];

	ck_assert_int_eq(frequency_count(kv, adv, content, r, 1, t, 86400, record, "q", n, same,
					 member, err, sizeof err), 0);
	ck_assert_int_eq(n[0], want_n);
	ck_assert_int_eq(same[0], want_same);
}

/* The legacy counter (same content): per advertiser, content and recipient,
 * beside the advertiser's own counter; either may be left out; forget removes
 * the message from both. */
START_TEST(test_same_content)
{
	cr_kv *kv = kv_of();
	const char *r[2] = { "a@example.vn", "b@example.vn" };
	const char *c1 = "0123456789abcdef", *c2 = "fedcba9876543210";
	const char *ka = "cr:freq:shop.vn:a@example.vn";
	const char *k1a = "cr:freq:shop.vn#0123456789abcdef:a@example.vn";
	const char *k1b = "cr:freq:shop.vn#0123456789abcdef:b@example.vn";
	const char *k2a = "cr:freq:shop.vn#fedcba9876543210:a@example.vn";
	long long n[2], same[2], ttl;
	char err[256], m2[FREQUENCY_MEMBER_MAX], m5[FREQUENCY_MEMBER_MAX];
	int64_t t = 1700000000000LL, day = 86400;

	/* content 1 to a and b, then to a again */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", c1, r, 2, t, day, 1, "q1", n, same, NULL,
					 err, sizeof err), 0);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(same[0], 0);
	ck_assert_int_eq(same[1], 0);
	expect_one(kv, "shop.vn", c1, t + 1000, 1, 1, 1, m2);
	/* other content from the same advertiser: counted for the advertiser only */
	expect_one(kv, "shop.vn", c2, t + 2000, 1, 2, 0, NULL);
	/* the same content from another advertiser is not counted with shop.vn's */
	expect_one(kv, "other.vn", c1, t + 3000, 0, 0, 0, NULL);
	/* the content counter alone (counts NULL): the advertiser's is left as it is */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", c1, r, 2, t + 4000, day, 1, "q5", NULL,
					 same, m5, err, sizeof err), 0);
	ck_assert_int_eq(same[0], 2);
	ck_assert_int_eq(same[1], 1);
	ck_assert_int_eq(th_int("ZCARD %s", ka), 3);
	ck_assert_int_eq(th_int("ZCARD %s", k1a), 3);
	ck_assert_int_eq(th_int("ZCARD %s", k1b), 2);
	ck_assert_int_eq(th_int("ZCARD %s", k2a), 1);
	ttl = th_int("PTTL %s", k1a);
	ck_assert(ttl > 86390000 && ttl <= 86400000);
	/* forget q2 for a: gone from both of a's counters */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", c1, r, 1, m2, err, sizeof err), 2);
	ck_assert_int_eq(th_int("ZCARD %s", ka), 2);
	ck_assert_int_eq(th_int("ZCARD %s", k1a), 2);
	ck_assert_int_eq(th_int("ZRANK cr:freq:shop.vn#0123456789abcdef:a@example.vn %s", m2), -1);
	/* q5 was in the content counters only */
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", c1, r, 2, m5, err, sizeof err), 2);
	ck_assert_int_eq(th_int("ZCARD %s", k1a), 1);
	ck_assert_int_eq(th_int("ZCARD %s", k1b), 1);
	ck_assert_int_eq(th_int("ZCARD %s", ka), 2);
	/* a window later: the content counter is empty, the advertiser has q3 */
	expect_one(kv, "shop.vn", c1, t + day * 1000 + 1, 0, 1, 0, NULL);
	ck_assert_int_eq(th_int("ZCARD %s", k1a), 0);
	/* contents or advertisers that could pass for another counter are refused */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", "a:b", r, 1, t, day, 1, "q", n, same, NULL,
					 err, sizeof err), -1);
	ck_assert_int_eq(frequency_count(kv, "shop.vn", "a#b", r, 1, t, day, 1, "q", n, same, NULL,
					 err, sizeof err), -1);
	ck_assert_int_eq(frequency_count(kv, "shop.vn#0123456789abcdef", NULL, r, 1, t, day, 1, "q",
					 n, NULL, NULL, err, sizeof err), -1);
	ck_assert_int_eq(frequency_forget(kv, "shop.vn", "a:b", r, 1, "m", err, sizeof err), -1);
	/* a content counter needs somewhere to put its counts */
	ck_assert_int_eq(frequency_count(kv, "shop.vn", c1, r, 1, t, day, 1, "q", n, NULL, NULL,
					 err, sizeof err), -1);
	/* none of the refused calls recorded anything */
	ck_assert_int_eq(th_int("EXISTS %s", k1a), 0);
	kv_close(kv);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_counts_and_window,
		test_key_expires_with_the_window,
		test_forget_removes_only_this_message,
		test_same_content,
	};

	return th_redis_main("frequency", setup, tests, sizeof tests / sizeof tests[0]);
}
