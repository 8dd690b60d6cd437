/* Tests for lib/engine_r8.c through engine_check on outbound mail (sasl_user
 * set) against a private redis-server: R8 on opt-out confirmations that carry
 * advertising, state no times, are not the first to a recipient, or come late
 * after a recorded opt-out; good Vietnamese and English confirmations and
 * ordinary mail untouched (and nothing written for the latter); the date and
 * time forms that count; the weight counting toward the outbound hold. */
#include <check.h>

#include "engine.h"
#include "kv.h"
#include "msg.h"
#include "optout.h"
#include "engine_helper.h"
#include "redis_helper.h"
#include "util.h"

#define HEAD(subject)                                                                    \
	"From: Shop <cskh@shop.example.vn>\n"                                            \
	"To: b@example.vn\n"                                                             \
	"Subject: " subject "\n"                                                         \
	"MIME-Version: 1.0\n"                                                            \
	"Content-Type: text/plain; charset=utf-8\n"                                      \
	"\n"

static const char VI_GOOD[] =
	HEAD("Xác nhận hủy đăng ký nhận thư")
	"Kính gửi quý khách,\n"
	"Chúng tôi đã nhận yêu cầu từ chối nhận thư quảng cáo của quý khách lúc 08:00 ngày 30/11/2026.\n"
	"Việc gửi thư đến địa chỉ này chấm dứt từ 08:05 ngày 30/11/2026.\n"
	"Trân trọng,\nCông ty TNHH Shop\n";

static const char EN_GOOD[] =
	HEAD("Unsubscribe confirmation")
	"Hello,\n"
	"We received your request on November 30, 2026 and no further messages will be\n"
	"sent to this address from December 1, 2026.\n"
	"Shop Co., Ltd\n";

static const char VI_LABEL[] =
	HEAD("[QC] Xác nhận huỷ đăng ký")
	"Chúng tôi đã nhận yêu cầu lúc 08:00 ngày 30/11/2026 và ngừng gửi từ 08:05.\n";

static const char VI_NO_TIMES[] =
	HEAD("Xác nhận hủy đăng ký")
	"Quý khách đã hủy đăng ký thành công. Chúng tôi sẽ không gửi thư nữa.\n";

static const char PLAIN[] =
	"From: Minh <minh@friends.example.vn>\n"
	"To: b@example.vn\n"
	"Subject: lunch\n"
	"\n"
	"Hi, lunch on Thursday at 12:30 on 4/12/2026? I booked a table, see you there.\n";

static cr_engine *engine_of(const char *extra)
{
	return th_engine("[advert]\ndkim = no\n", extra);
}

/* Checks text as an outbound message of user to rcpt. */
static struct engine_verdict *run(cr_engine *e, const char *text, const char *rcpt,
				  const char *user, int dry_run)
{
	const char *rcpts[1] = { rcpt };

	return th_check(e, text, "cskh@shop.example.vn", rcpts, 1, user, dry_run);
}

/* The R8 reason, "" when R8 did not fire. */
static const char *r8_of(cr_engine *e, const char *text, const char *rcpt, const char *user)
{
	static char reason[ENGINE_REASON_MAX];
	struct engine_verdict *v = run(e, text, rcpt, user, 0);
	const struct engine_hit *h = engine_verdict_hit(v, "R8");

	util_strlcpy(reason, h ? h->reason : "", sizeof reason);
	if (h != NULL)
		ck_assert(h->score == 3);
	free(v);
	return reason;
}

static long long r8_keys(void)
{
	redisReply *r = th_raw("KEYS cr:r8:*");
	long long n = r != NULL && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;

	if (r)
		freeReplyObject(r);
	return n;
}

static void setup(void)
{
	th_flush();
}

START_TEST(test_good_confirmations_pass)
{
	cr_engine *e = engine_of(NULL);

	ck_assert_str_eq(r8_of(e, VI_GOOD, "b@example.vn", "u1"), "");
	ck_assert_str_eq(r8_of(e, EN_GOOD, "b@example.vn", "u2"), "");
	/* both were recorded, once each */
	ck_assert_int_eq(th_int("ZCARD %s", "cr:r8:u1:b@example.vn"), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:r8:u2:b@example.vn"), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_advertising_fails)
{
	cr_engine *e = engine_of(NULL);

	ck_assert_str_eq(r8_of(e, VI_LABEL, "b@example.vn", "u1"),
			 "opt-out confirmation (Subject): carries advertising (Subject label [QC])");
	engine_free(e);
}
END_TEST

START_TEST(test_no_times_fails)
{
	cr_engine *e = engine_of(NULL);

	ck_assert_str_eq(r8_of(e, VI_NO_TIMES, "b@example.vn", "u1"),
			 "opt-out confirmation (Subject): does not state when the request was "
			 "received and when sending stops (0 date(s), 0 time(s), no "
			 "stop-immediately wording)");
	/* said in the first lines of the text rather than the Subject */
	ck_assert_str_eq(r8_of(e, HEAD("Shop newsletter") "\nYou have been unsubscribed from our "
				  "newsletter.\n", "b@example.vn", "u2"),
			 "opt-out confirmation (text): does not state when the request was "
			 "received and when sending stops (0 date(s), 0 time(s), no "
			 "stop-immediately wording)");
	engine_free(e);
}
END_TEST

START_TEST(test_second_confirmation_fails)
{
	cr_engine *e = engine_of(NULL);
	struct engine_verdict *v;

	ck_assert_str_eq(r8_of(e, VI_GOOD, "b@example.vn", "u1"), "");
	ck_assert_str_eq(r8_of(e, VI_GOOD, "b@example.vn", "u1"),
			 "opt-out confirmation (Subject): not the first: confirmation 2 to "
			 "b@example.vn from user u1 within 2592000s");
	/* another recipient, another customer: their first */
	ck_assert_str_eq(r8_of(e, VI_GOOD, "c@example.vn", "u1"), "");
	ck_assert_str_eq(r8_of(e, VI_GOOD, "b@example.vn", "u9"), "");
	/* a dry run (chanrac scan) reads but records nothing */
	v = run(e, VI_GOOD, "d@example.vn", "u1", 1);
	ck_assert_ptr_null(engine_verdict_hit(v, "R8"));
	free(v);
	ck_assert_int_eq(th_int("EXISTS %s", "cr:r8:u1:d@example.vn"), 0);
	v = run(e, VI_GOOD, "b@example.vn", "u1", 1);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R8"));
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:r8:u1:b@example.vn"), 2);
	ck_assert(th_int("PTTL %s", "cr:r8:u1:b@example.vn") > 2591000000LL);
	engine_free(e);
}
END_TEST

START_TEST(test_ordinary_mail_untouched)
{
	cr_engine *e = engine_of(NULL);
	static const char *const others[] = {
		PLAIN,
		/* a request to confirm is not a confirmation */
		HEAD("Please confirm your unsubscribe request")
		"Please confirm your unsubscribe request: https://shop.example.vn/confirm\n",
		HEAD("Vui lòng xác nhận hủy đăng ký")
		"Vui lòng xác nhận yêu cầu hủy đăng ký tại https://shop.example.vn/xn\n",
		/* opt-out wording at the foot of a newsletter */
		HEAD("Tin tức tháng 12")
		"Tin tức tháng này.\n\n\n\n\n\nĐể hủy đăng ký, xác nhận tại https://shop.example.vn/huy\n",
	};

	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(strcmp(r8_of(e, others[i], "b@example.vn", "u1"), "") == 0,
			      "case %zu", i);
	ck_assert_int_eq(r8_keys(), 0);
	engine_free(e);
}
END_TEST

/* What counts as saying when: two distinct dates, two distinct times, or one
 * of them and stop-immediately wording. */
START_TEST(test_date_and_time_forms)
{
	static const struct {
		const char *body;
		int ok;
	} cases[] = {
		{ "Nhận yêu cầu ngày 29/11/2026, ngừng gửi từ ngày 30/11/2026.\n", 1 },
		{ "Nhận yêu cầu ngày 29 tháng 11, ngừng gửi từ ngày 30 tháng 11 năm 2026.\n", 1 },
		{ "Request received 2026-11-29, sending stopped 2026-11-30.\n", 1 },
		{ "Received 29 November 2026; stopped on Nov 30th.\n", 1 },
		{ "Nhận yêu cầu lúc 08:00 ngày 30/11/2026, ngừng gửi ngay lập tức.\n", 1 },
		{ "Received at 2026-11-30T08:00:00Z; sending stops immediately.\n", 1 },
		{ "Nhận yêu cầu lúc 08:00:30 và ngừng gửi lúc 08:01.\n", 1 },
		/* one moment only */
		{ "Nhận yêu cầu lúc 08:00 ngày 30/11/2026.\n", 0 },
		{ "Received 30/11/2026 and again 30.11.2026.\n", 0 },
		/* "dừng ngày 30/11" is a date, not "at once" */
		{ "Dừng ngày 30/11/2026.\n", 0 },
		/* not dates or times */
		{ "Mã 192.168.10.2026, số 028 3822 1234, phiên bản 1.2, tỷ lệ 24:99.\n", 0 },
		{ "Stop immediately.\n", 0 },
	};
	cr_engine *e = engine_of(NULL);
	char text[1024];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char user[16];
		const char *reason;
		snprintf(text, sizeof text, "%s%s", HEAD("Unsubscribe confirmation"), cases[i].body);
		snprintf(user, sizeof user, "t%zu", i);
		reason = r8_of(e, text, "b@example.vn", user);
		ck_assert_msg(cases[i].ok ? reason[0] == '\0'
					  : strstr(reason, "does not state when") != NULL,
			      "case %zu: '%s'", i, reason);
	}
	/* the whole text counts, not only the head where a confirmation is found */
	{
		size_t u = (size_t)snprintf(text, sizeof text, "%sReceived at 08:00.\n",
					    HEAD("Unsubscribe confirmation"));
		char *big = malloc(u + 6000);
		ck_assert_ptr_nonnull(big);
		memcpy(big, text, u);
		for (int k = 0; k < 100; k++)
			u += (size_t)sprintf(big + u, "Line %02d of the account terms, nothing else.\n", k);
		strcpy(big + u, "Sending stopped at 08:05.\n");
		ck_assert_str_eq(r8_of(e, big, "b@example.vn", "long"), "");
		free(big);
	}
	engine_free(e);
}
END_TEST

START_TEST(test_late_after_recorded_optout)
{
	cr_engine *e = engine_of("[r8]\nmax_delay = 1h\n");
	char err[256], when[32], want[ENGINE_REASON_MAX], want2[ENGINE_REASON_MAX];
	struct optout o = { 0 };
	cr_conf *c = th_conf(NULL);
	cr_kv *kv = kv_open(c, 500, err, sizeof err);
	const char *reason;

	ck_assert_ptr_nonnull(kv);
	util_strlcpy(o.rcpt, "b@example.vn", sizeof o.rcpt);
	util_strlcpy(o.advertiser, "example.vn", sizeof o.advertiser);
	util_strlcpy(o.channel, "web", sizeof o.channel);
	o.at = o.added = util_now() - 7200;
	ck_assert_int_eq(optout_add(kv, &o, err, sizeof err), OPTOUT_OK);
	util_format_time(o.at, when, sizeof when);
	snprintf(want, sizeof want,
		 "opt-out confirmation (Subject): late: sent 7200s after b@example.vn opted out "
		 "at %s (max_delay 3600s)", when);
	snprintf(want2, sizeof want2,
		 "opt-out confirmation (Subject): late: sent 7201s after b@example.vn opted out "
		 "at %s (max_delay 3600s)", when);
	reason = r8_of(e, VI_GOOD, "b@example.vn", "u1");
	ck_assert_msg(strcmp(reason, want) == 0 || strcmp(reason, want2) == 0, "%s", reason);
	/* an opt-out recorded 10 minutes ago: in time */
	o.id = 0;
	util_strlcpy(o.rcpt, "c@example.vn", sizeof o.rcpt);
	o.at = o.added = util_now() - 600;
	ck_assert_int_eq(optout_add(kv, &o, err, sizeof err), OPTOUT_OK);
	ck_assert_str_eq(r8_of(e, VI_GOOD, "c@example.vn", "u1"), "");
	kv_close(kv);
	conf_free(c);
	engine_free(e);
}
END_TEST

START_TEST(test_weight_counts_toward_hold)
{
	cr_engine *e = engine_of("[outbound]\nhold_score = 3\n");
	struct engine_verdict *v = run(e, VI_NO_TIMES, "b@example.vn", "u1", 0);

	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R8"));
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "OUT_SCORE"));
	ck_assert_int_eq(v->hold, 1);
	ck_assert_int_eq(v->action, ENGINE_QUARANTINE);
	free(v);
	engine_free(e);
}
END_TEST

START_TEST(test_disabled_and_bad_config)
{
	cr_engine *e = engine_of("[r8]\nenabled = no\n");
	char err[512];
	cr_conf *c;

	ck_assert_str_eq(r8_of(e, VI_LABEL, "b@example.vn", "u1"), "");
	ck_assert_int_eq(r8_keys(), 0);
	engine_free(e);
	c = th_conf("[r8]\nweight = lots\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(engine_new(c, err, sizeof err));
	ck_assert_msg(strstr(err, "[r8] weight: 'lots'") != NULL, "%s", err);
	conf_free(c);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_good_confirmations_pass,
		test_advertising_fails,
		test_no_times_fails,
		test_second_confirmation_fails,
		test_ordinary_mail_untouched,
		test_date_and_time_forms,
		test_late_after_recorded_optout,
		test_weight_counts_toward_hold,
		test_disabled_and_bad_config,
	};

	return th_redis_main("engine_r8", setup, tests, sizeof tests / sizeof tests[0]);
}
