/* Tests for lib/outbound.c against a private redis-server: hourly counts per user
 * and IP, holds (the first reason stays), the held list, status, list and
 * release (of the user's counters and the IP it was held from). */
#include <check.h>

#include "kv.h"
#include "outbound.h"
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

struct seen {
	char text[256];
	int n;
};

static int held_one(void *ud, int64_t when, const char *qid)
{
	struct seen *s = ud;
	size_t u = strlen(s->text);
	snprintf(s->text + u, sizeof s->text - u, "%lld %s;", (long long)when, qid);
	s->n++;
	return 0;
}

static int user_one(void *ud, const char *user, const struct outbound_hold *h)
{
	struct seen *s = ud;
	size_t u = strlen(s->text);
	snprintf(s->text + u, sizeof s->text - u, "%s %lld %s;", user, (long long)h->since,
		 h->reason);
	s->n++;
	return 0;
}

START_TEST(test_counts_per_hour_user_and_ip)
{
	cr_kv *kv = kv_of();
	struct outbound_counts c;
	struct outbound_hold h;
	char err[256];
	int64_t t = 3600 * 500000LL + 10;

	ck_assert_int_eq(outbound_count(kv, "U1", "192.0.2.1", 3, t, 1, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_count(kv, "u1", "192.0.2.2", 2, t + 60, 1, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(c.user_msgs, 2);
	ck_assert_int_eq(c.user_rcpts, 5);
	ck_assert_int_eq(c.ip_msgs, 1);
	ck_assert_int_eq(c.ip_rcpts, 2);
	ck_assert_int_eq(h.held, 0);
	/* read only */
	ck_assert_int_eq(outbound_count(kv, "u1", NULL, 9, t + 61, 0, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(c.user_msgs, 2);
	ck_assert_int_eq(c.ip_msgs, 0);
	/* the next hour starts at 0 */
	ck_assert_int_eq(outbound_count(kv, "u1", NULL, 1, t + 3600, 1, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(c.user_msgs, 1);
	ck_assert_int_eq(outbound_count(kv, "bad user", NULL, 1, t, 1, &c, &h, err, sizeof err),
			 OUTBOUND_NOTFOUND);
	kv_close(kv);
}
END_TEST

START_TEST(test_hold_status_list_release)
{
	cr_kv *kv = kv_of();
	struct outbound_counts c;
	struct outbound_hold h;
	struct seen s = { "", 0 };
	char err[256];

	ck_assert_int_eq(outbound_count(kv, "u1", NULL, 1, 7200, 1, &c, &h, err, sizeof err), 0);
	ck_assert_int_eq(outbound_hold_user(kv, "u1", NULL, 7300, "too many", "QA", err,
					    sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_hold_user(kv, "u1", NULL, 7400, "again", "QB", err, sizeof err),
			 OUTBOUND_EXISTS);
	ck_assert_int_eq(outbound_note_held(kv, "u1", 7500, "QC", err, sizeof err), OUTBOUND_OK);
	ck_assert_int_eq(outbound_status(kv, "u1", 7500, &c, &h, held_one, &s, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(h.held, 1);
	ck_assert_int_eq(h.since, 7300);
	ck_assert_str_eq(h.reason, "too many");
	ck_assert_int_eq(c.user_msgs, 1);
	ck_assert_str_eq(s.text, "7500 QC;7400 QB;7300 QA;");
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(outbound_list(kv, user_one, &s, err, sizeof err), 1);
	ck_assert_str_eq(s.text, "u1 7300 too many;");
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(outbound_release(kv, "u1", 7600, held_one, &s, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(outbound_count(kv, "u1", NULL, 1, 7600, 0, &c, &h, err, sizeof err), 0);
	ck_assert_int_eq(h.held, 0);
	ck_assert_int_eq(c.user_msgs, 0); /* this hour restarts */
	ck_assert_int_eq(outbound_release(kv, "u1", 7600, NULL, NULL, err, sizeof err),
			 OUTBOUND_NOTFOUND);
	kv_close(kv);
}
END_TEST

START_TEST(test_release_resets_the_ip_held_from)
{
	cr_kv *kv = kv_of();
	struct outbound_counts c;
	struct outbound_hold h;
	char err[256];
	int64_t t = 3600 * 500000LL + 10;

	/* u1 over the IP's limit from 192.0.2.1; u2 shares that IP, u1 also used .2 */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(outbound_count(kv, "u1", "192.0.2.1", 2, t, 1, &c, &h, err,
						sizeof err), OUTBOUND_OK);
	ck_assert_int_eq(outbound_count(kv, "u2", "192.0.2.1", 1, t, 1, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_count(kv, "u1", "192.0.2.2", 1, t, 1, &c, &h, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_hold_user(kv, "u1", "192.0.2.1", t, "4 messages from 192.0.2.1",
					    "QA", err, sizeof err), OUTBOUND_OK);
	/* a later hold attempt from elsewhere changes neither reason nor IP */
	ck_assert_int_eq(outbound_hold_user(kv, "u1", "192.0.2.2", t + 1, "again", "QB", err,
					    sizeof err), OUTBOUND_EXISTS);
	ck_assert_int_eq(outbound_release(kv, "u1", t + 60, NULL, NULL, err, sizeof err),
			 OUTBOUND_OK);
	/* the next message from the same user and IP starts from 0 */
	ck_assert_int_eq(outbound_count(kv, "u1", "192.0.2.1", 1, t + 61, 1, &c, &h, err,
					sizeof err), OUTBOUND_OK);
	ck_assert_int_eq(h.held, 0);
	ck_assert_int_eq(c.user_msgs, 1);
	ck_assert_int_eq(c.user_rcpts, 1);
	ck_assert_int_eq(c.ip_msgs, 1);
	ck_assert_int_eq(c.ip_rcpts, 1);
	/* the other IP's counters stay */
	ck_assert_int_eq(outbound_count(kv, "u3", "192.0.2.2", 1, t + 62, 0, &c, &h, err,
					sizeof err), OUTBOUND_OK);
	ck_assert_int_eq(c.ip_msgs, 1);
	/* the hold's IP went with the hold: a hold without an IP resets only the user */
	ck_assert_int_eq(th_int("HEXISTS cr:ob:holdip %s", "u1"), 0);
	ck_assert_int_eq(outbound_hold_user(kv, "u1", NULL, t + 70, "score", NULL, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_release(kv, "u1", t + 80, NULL, NULL, err, sizeof err),
			 OUTBOUND_OK);
	ck_assert_int_eq(outbound_count(kv, "u1", "192.0.2.1", 1, t + 81, 0, &c, &h, err,
					sizeof err), OUTBOUND_OK);
	ck_assert_int_eq(c.user_msgs, 0);
	ck_assert_int_eq(c.ip_msgs, 1);
	kv_close(kv);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_counts_per_hour_user_and_ip,
		test_hold_status_list_release,
		test_release_resets_the_ip_held_from,
	};

	return th_redis_main("outbound", setup, tests, sizeof tests / sizeof tests[0]);
}
