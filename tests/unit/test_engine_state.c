/* Tests for lib/engine_state.c through engine_check against a private
 * redis-server: R7 refuses one recipient and not the others (and the message when
 * it is the only one), R5 from the (max+1)-th advertising message per recipient,
 * engine_forget undoing R5's record of a message not delivered, R5's legacy
 * same-content limit,
 * TEMPLATE on a reworded copy, the outbound hold and its release, dry runs that
 * record nothing, a dead Redis (rules skipped, degraded, no reject), and the
 * verdict's advertising facts for the statistics (advertiser, failed rules,
 * outbound template id). */
#include <check.h>

#include "engine.h"
#include "fingerprint.h"
#include "kv.h"
#include "msg.h"
#include "optout.h"
#include "outbound.h"
#include "engine_helper.h"
#include "redis_helper.h"
#include "template.h"
#include "util.h"

static const char AD[] =
	"From: Shop <news@mail.shop.example.vn>\n"
	"To: a@example.vn\n"
	"Subject: [QC] Khuyen mai mua thu\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Chương trình khuyến mãi mùa thu: mọi máy tính xách tay giảm giá tới 30%, miễn phí\n"
	"vận chuyển toàn quốc và trả góp không lãi suất. Xem tại https://shop.example.vn/km\n"
	"\n"
	"Công ty TNHH Điện máy Xanh, 12 Lê Lợi, Quận 1, TP. Hồ Chí Minh\n"
	"Điện thoại 028 3822 1234, email cskh@shop.example.vn\n"
	"Để từ chối nhận quảng cáo: https://shop.example.vn/huy, huy@shop.example.vn, 028 3822 9999.\n";

/* Another advertisement of the same advertiser: other text, same footer. */
static const char AD2[] =
	"From: Shop <news@mail.shop.example.vn>\n"
	"To: a@example.vn\n"
	"Subject: [QC] Tet sale\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Đón Tết sớm cùng Điện máy Xanh: tủ lạnh, máy giặt và điều hoà giảm tới 40%, tặng\n"
	"kèm bộ nồi inox cho mọi đơn hàng từ 5 triệu đồng. Đặt hàng tại https://shop.example.vn/tet\n"
	"\n"
	"Công ty TNHH Điện máy Xanh, 12 Lê Lợi, Quận 1, TP. Hồ Chí Minh\n"
	"Điện thoại 028 3822 1234, email cskh@shop.example.vn\n"
	"Để từ chối nhận quảng cáo: https://shop.example.vn/huy, huy@shop.example.vn, 028 3822 9999.\n";

static const char PLAIN[] =
	"From: Minh <minh@friends.example.vn>\n"
	"To: a@example.vn\n"
	"Subject: lunch\n"
	"\n"
	"Hi, lunch on Thursday at the usual place? I booked a table for noon, see you there.\n";

static void text_id(const char *eml, unsigned min_words, char out[FINGERPRINT_ID_LEN + 1]);

static cr_engine *engine_of(const char *extra)
{
	return th_engine("[optout]\ngrace = 0s\n", extra);
}

static cr_kv *kv_of(void)
{
	char err[256];
	cr_conf *c = th_conf(NULL);
	cr_kv *kv = kv_open(c, 500, err, sizeof err);
	ck_assert_ptr_nonnull(kv);
	conf_free(c);
	return kv;
}

/* Checks text as a message to rcpts (sasl_user set: outbound). */
static struct engine_verdict *run(cr_engine *e, const char *text, const char *const *rcpts,
				  size_t n, const char *sasl_user, int dry_run)
{
	return th_check(e, text, "news@mail.shop.example.vn", rcpts, n, sasl_user, dry_run);
}

static void optout(cr_kv *kv, const char *rcpt, const char *adv, int64_t at)
{
	struct optout o = { 0 };
	char err[256];
	util_strlcpy(o.rcpt, rcpt, sizeof o.rcpt);
	util_strlcpy(o.advertiser, adv, sizeof o.advertiser);
	util_strlcpy(o.channel, "web", sizeof o.channel);
	o.at = o.added = at;
	ck_assert_int_eq(optout_add(kv, &o, err, sizeof err), OPTOUT_OK);
}

static void setup(void)
{
	th_flush();
}

START_TEST(test_r7_refuses_one_recipient_only)
{
	cr_engine *e = engine_of(NULL);
	cr_kv *kv = kv_of();
	const char *rcpts[3] = { "a@example.vn", "b@example.vn", "c@example.vn" };
	struct engine_verdict *v;

	optout(kv, "b@example.vn", "example.vn", util_now() - 10);
	v = run(e, AD, rcpts, 3, NULL, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "ADV_LABEL"));
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R7"));
	ck_assert_ptr_nonnull(strstr(engine_verdict_hit(v, "R7")->reason,
				     "b@example.vn opted out of advertising from example.vn at "));
	ck_assert_int_eq(v->nrcpts, 3);
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_ACCEPT);
	ck_assert_int_eq(v->rcpt[1].action, ENGINE_REJECT);
	ck_assert_str_eq(v->rcpt[1].rule, "R7");
	ck_assert(v->rcpt[1].score == 10);
	ck_assert_int_eq(v->rcpt[2].action, ENGINE_ACCEPT);
	ck_assert_int_ne(v->action, ENGINE_REJECT);
	ck_assert(v->score < 10); /* R7's weight is b's alone */
	free(v);
	/* alone, the message is refused */
	v = run(e, AD, rcpts + 1, 1, NULL, 0);
	ck_assert_int_eq(v->action, ENGINE_REJECT);
	ck_assert_ptr_nonnull(strstr(v->reply, "R7 b@example.vn opted out"));
	free(v);
	/* personal mail is not advertising: no R7 */
	v = run(e, PLAIN, rcpts + 1, 1, NULL, 0);
	ck_assert_ptr_null(engine_verdict_hit(v, "R7"));
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_ACCEPT);
	free(v);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_r7_all_and_time_and_action_score)
{
	cr_engine *e = engine_of("[optout]\naction = score\nweight = 1\n");
	cr_kv *kv = kv_of();
	const char *rcpts[2] = { "a@example.vn", "b@example.vn" };
	struct engine_verdict *v;

	optout(kv, "a@example.vn", "*", util_now() - 10);
	optout(kv, "b@example.vn", "*", util_now() + 3600); /* later than the message */
	v = run(e, AD, rcpts, 2, NULL, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R7"));
	ck_assert_ptr_nonnull(strstr(engine_verdict_hit(v, "R7")->reason, "a@example.vn opted out of all advertising"));
	/* action = score: not refused by rule, and weight 1 is not enough */
	ck_assert_str_eq(v->rcpt[0].rule, "");
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_ACCEPT);
	ck_assert(v->rcpt[0].score == 1);
	ck_assert(v->rcpt[1].score == 0);
	free(v);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_r7_unknown_advertiser_only_all)
{
	cr_engine *e = engine_of(NULL);
	cr_kv *kv = kv_of();
	const char *rcpts[2] = { "a@example.vn", "b@example.vn" };
	struct engine_verdict *v;
	/* no address in From: advertising by its label, advertiser unknown */
	static const char NOFROM[] =
		"From: Shop\nSubject: [QC] Khuyen mai\n\n"
		"Giam gia 30% tat ca may tinh xach tay, mien phi van chuyen toan quoc.\n";

	optout(kv, "a@example.vn", "*", util_now() - 10);
	optout(kv, "b@example.vn", "example.vn", util_now() - 10);
	v = run(e, NOFROM, rcpts, 2, NULL, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "ADV_LABEL"));
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R7"));
	ck_assert_ptr_nonnull(strstr(engine_verdict_hit(v, "R7")->reason, "a@example.vn opted out of all advertising"));
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_REJECT);
	ck_assert_int_eq(v->rcpt[1].action, ENGINE_ACCEPT);
	free(v);
	/* and nothing is counted for R5 */
	redisReply *k = th_raw("KEYS cr:freq:*");
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->elements, 0);
	freeReplyObject(k);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_r7_recipient_extension)
{
	cr_engine *e = engine_of(NULL);
	cr_kv *kv = kv_of();
	const char *rcpts[2] = { "b+news@example.vn", "c@example.vn" };
	struct engine_verdict *v;

	optout(kv, "b@example.vn", "example.vn", util_now() - 10);
	v = run(e, AD, rcpts, 2, NULL, 0);
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_REJECT);
	ck_assert_int_eq(v->rcpt[1].action, ENGINE_ACCEPT);
	free(v);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_r5_from_the_fourth)
{
	cr_engine *e = engine_of(NULL);
	const char *a[1] = { "a@example.vn" }, *b[1] = { "b@example.vn" };
	char id[FINGERPRINT_ID_LEN + 1], key[128];
	struct engine_verdict *v;

	for (int i = 1; i <= 3; i++) {
		v = run(e, AD, a, 1, NULL, 0);
		ck_assert_msg(engine_verdict_hit(v, "R5") == NULL, "message %d", i);
		free(v);
	}
	/* a dry run (chanrac scan) sees the 4th but records nothing */
	v = run(e, AD, a, 1, NULL, 1);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R5"));
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:a@example.vn"), 3);
	v = run(e, AD, a, 1, NULL, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R5"));
	ck_assert_str_eq(engine_verdict_hit(v, "R5")->reason,
			 "a@example.vn: advertising email 4 from example.vn within 86400s (at most 3)");
	ck_assert(v->rcpt[0].score == 5);
	free(v);
	v = run(e, AD, b, 1, NULL, 0);
	ck_assert_ptr_null(engine_verdict_hit(v, "R5"));
	free(v);
	/* same_content_max = 0 (default): no content counter */
	text_id(AD, 0, id);
	snprintf(key, sizeof key, "cr:freq:example.vn#%s:a@example.vn", id);
	ck_assert_int_eq(th_int("EXISTS %s", key), 0);
	engine_free(e);
}
END_TEST

START_TEST(test_forget_undoes_the_r5_record)
{
	cr_engine *e = engine_of(NULL);
	const char *ab[2] = { "a@example.vn", "b@example.vn" };
	struct engine_input in = { .rcpts = ab, .nrcpts = 2, .queue_id = "TESTQ" };
	const unsigned char gone_b[2] = { 0, 1 };
	struct engine_verdict *v;

	/* removed for b only: a keeps the record */
	v = run(e, AD, ab, 2, NULL, 0);
	ck_assert_str_ne(v->freq_member, "");
	ck_assert_int_eq(v->freq_nrcpts, 2);
	engine_forget(e, &in, v, gone_b);
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:a@example.vn"), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:b@example.vn"), 0);
	/* rejected or deferred (gone NULL): no record left for anyone */
	v = run(e, AD, ab, 2, NULL, 0);
	engine_forget(e, &in, v, NULL);
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:a@example.vn"), 1);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:b@example.vn"), 0);
	/* a dry run records nothing, so there is nothing to forget */
	v = run(e, AD, ab, 2, NULL, 1);
	ck_assert_str_eq(v->freq_member, "");
	ck_assert_int_eq(v->freq_nrcpts, 0);
	free(v);
	/* plain mail is not counted */
	v = run(e, PLAIN, ab, 2, NULL, 0);
	ck_assert_str_eq(v->freq_member, "");
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", "cr:freq:example.vn:a@example.vn"), 1);
	engine_free(e);
}
END_TEST

/* v has an R5 hit whose reason is fmt with the template id (if fmt names it). */
static void expect_r5(const struct engine_verdict *v, const char *fmt, const char *id)
{
	char why[ENGINE_REASON_MAX];

	snprintf(why, sizeof why, fmt, id);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R5"));
	ck_assert_str_eq(engine_verdict_hit(v, "R5")->reason, why);
}

/* R5's legacy limit, same_content_max = 1 with max = 0: the same text twice to
 * one recipient hits R5 at the 2nd, another text of the same advertiser does
 * not; the inbound template id is the text's fingerprint id; engine_forget and
 * dry runs leave the content counter as delivered mail made it. */
START_TEST(test_r5_same_content)
{
	cr_engine *e = engine_of("[frequency]\nmax = 0\nsame_content_max = 1\n");
	const char *a[1] = { "a@example.vn" };
	struct engine_input in = { .rcpts = a, .nrcpts = 1, .queue_id = "TESTQ" };
	char id[FINGERPRINT_ID_LEN + 1], id2[FINGERPRINT_ID_LEN + 1], key[128];
	struct engine_verdict *v;
	static const char SAME2[] = "a@example.vn: advertising email 2 with the same content "
				    "(template %s) from example.vn within 86400s (at most 1)";

	text_id(AD, 0, id);
	text_id(AD2, 0, id2);
	ck_assert_str_ne(id, id2);
	snprintf(key, sizeof key, "cr:freq:example.vn#%s:a@example.vn", id);
	v = run(e, AD, a, 1, NULL, 0);
	ck_assert_str_eq(v->template_id, id);
	ck_assert_ptr_null(engine_verdict_hit(v, "R5"));
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", key), 1);
	/* max = 0: the per-advertiser counter is off */
	ck_assert_int_eq(th_int("EXISTS %s", "cr:freq:example.vn:a@example.vn"), 0);
	v = run(e, AD2, a, 1, NULL, 0);
	ck_assert_str_eq(v->template_id, id2);
	ck_assert_ptr_null(engine_verdict_hit(v, "R5"));
	free(v);
	v = run(e, AD, a, 1, NULL, 0);
	expect_r5(v, SAME2, id);
	ck_assert(v->rcpt[0].score == 5);
	ck_assert_int_eq(th_int("ZCARD %s", key), 2);
	/* not delivered: forgotten, so the next copy is again the 2nd */
	engine_forget(e, &in, v, NULL);
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", key), 1);
	v = run(e, AD, a, 1, NULL, 1);
	expect_r5(v, SAME2, id);
	free(v);
	ck_assert_int_eq(th_int("ZCARD %s", key), 1);
	/* personal mail: no template id, nothing counted */
	v = run(e, PLAIN, a, 1, NULL, 0);
	ck_assert_str_eq(v->template_id, "");
	ck_assert_str_eq(v->freq_member, "");
	free(v);
	engine_free(e);

	/* both limits: each reason says which fired */
	e = engine_of("[frequency]\nmax = 2\nsame_content_max = 1\n");
	a[0] = "b@example.vn";
	v = run(e, AD, a, 1, NULL, 0);
	ck_assert_ptr_null(engine_verdict_hit(v, "R5"));
	free(v);
	v = run(e, AD, a, 1, NULL, 0);
	expect_r5(v, "b@example.vn: advertising email 2 with the same content (template %s) from "
		     "example.vn within 86400s (at most 1)", id);
	free(v);
	v = run(e, AD2, a, 1, NULL, 0);
	expect_r5(v, "b@example.vn: advertising email 3 from example.vn within 86400s (at most 2)",
		  id);
	free(v);
	v = run(e, AD, a, 1, NULL, 0);
	expect_r5(v, "b@example.vn: advertising email 4 from example.vn within 86400s (at most 2); "
		     "3 with the same content (template %s) (at most 1)", id);
	ck_assert(v->rcpt[0].score == 5); /* one hit, one weight */
	free(v);
	engine_free(e);
}
END_TEST

START_TEST(test_template_matches_reworded_copy)
{
	cr_engine *e = engine_of(NULL);
	cr_kv *kv = kv_of();
	const char *rc[1] = { "a@example.vn" };
	struct template_info t = { 0 };
	struct fingerprint fp;
	struct engine_verdict *v;
	char err[256];
	const char *text =
		"Congratulations! Your email address was selected in our international lucky "
		"draw and you have won a cash prize of 850,000 USD. To claim the prize send your "
		"full name, bank account number and a copy of your passport to our agent.";
	const char *copy =
		"From: x@lucky.example\nSubject: prize\n\nDear Ms Hoa,\n"
		"CONGRATULATIONS!  Your email address was selected in our international lucky "
		"draw and you have won a cash prize of 1,200,000 USD.  To claim the prize please "
		"send your full name, bank account number and a copy of your passport to our agent.\n";

	ck_assert_int_eq(fingerprint_text(text, strlen(text), 10, &fp), 0);
	util_strlcpy(t.reason, "lottery scam", sizeof t.reason);
	ck_assert_int_eq(template_add(kv, &fp, &t, err, sizeof err), TEMPLATE_OK);
	v = run(e, copy, rc, 1, NULL, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "TEMPLATE"));
	ck_assert_ptr_nonnull(strstr(engine_verdict_hit(v, "TEMPLATE")->reason, "lottery scam"));
	ck_assert(engine_verdict_hit(v, "TEMPLATE")->score == 10);
	free(v);
	v = run(e, PLAIN, rc, 1, NULL, 0);
	ck_assert_ptr_null(engine_verdict_hit(v, "TEMPLATE"));
	free(v);
	ck_assert_int_eq(template_del(kv, t.id, err, sizeof err), TEMPLATE_OK);
	v = run(e, copy, rc, 1, NULL, 0);
	ck_assert_ptr_null(engine_verdict_hit(v, "TEMPLATE"));
	free(v);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_outbound_hold_and_release)
{
	cr_engine *e = engine_of("[outbound]\nuser_messages_per_hour = 2\nhold_score = 0\n");
	cr_kv *kv = kv_of();
	const char *rc[1] = { "x@example.org" };
	struct engine_verdict *v;
	char err[256];

	for (int i = 1; i <= 2; i++) {
		v = run(e, PLAIN, rc, 1, "u1", 0);
		ck_assert_int_eq(v->hold, 0);
		ck_assert_int_ne(v->action, ENGINE_QUARANTINE);
		free(v);
	}
	v = run(e, PLAIN, rc, 1, "u1", 0);
	ck_assert_int_eq(v->hold, 1);
	ck_assert_int_eq(v->action, ENGINE_QUARANTINE);
	ck_assert_str_eq(engine_verdict_hit(v, "OUT_LIMIT")->reason,
			 "3 messages this hour from user u1 (limit 2); user held");
	free(v);
	v = run(e, PLAIN, rc, 1, "u2", 0);
	ck_assert_int_eq(v->hold, 0);
	free(v);
	v = run(e, PLAIN, rc, 1, "u1", 1); /* dry run: still held, nothing noted */
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "OUT_HELD"));
	free(v);
	ck_assert_int_eq(th_int("LLEN %s", "cr:ob:held:u1"), 1);
	ck_assert_int_eq(outbound_release(kv, "u1", util_now(), NULL, NULL, err, sizeof err),
			 OUTBOUND_OK);
	v = run(e, PLAIN, rc, 1, "u1", 0);
	ck_assert_int_eq(v->hold, 0);
	ck_assert_int_ne(v->action, ENGINE_QUARANTINE);
	free(v);
	ck_assert_int_eq(outbound_release(kv, "u1", util_now(), NULL, NULL, err, sizeof err),
			 OUTBOUND_NOTFOUND);
	kv_close(kv);
	engine_free(e);
}
END_TEST

START_TEST(test_outbound_hold_on_score)
{
	cr_engine *e = engine_of("[outbound]\nhold_score = 8\n");
	cr_kv *kv = kv_of();
	const char *rc[1] = { "x@example.org" };
	struct template_info t = { 0 };
	struct fingerprint fp;
	struct engine_verdict *v;
	const char *body = strstr(PLAIN, "\n\n") + 2;
	char err[256];

	ck_assert_int_eq(fingerprint_text(body, strlen(body), 10, &fp), 0);
	util_strlcpy(t.reason, "test", sizeof t.reason);
	ck_assert_int_eq(template_add(kv, &fp, &t, err, sizeof err), TEMPLATE_OK);
	v = run(e, PLAIN, rc, 1, "u3", 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "TEMPLATE"));
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "OUT_SCORE"));
	ck_assert_int_eq(v->hold, 1);
	free(v);
	kv_close(kv);
	engine_free(e);
}
END_TEST

/* engine_advert_failed of v as one string: "R1 R3 R4". */
static const char *failed_of(const struct engine_verdict *v)
{
	static char buf[64];
	const char *failed[ENGINE_ADV_FAILED_MAX];
	size_t n = engine_advert_failed(v, failed), used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "",
					 failed[i]);
	return buf;
}

/* The verdict's advertising facts the milter counts (P7): advertising, the
 * advertiser, the regulation rules failed (R1 for no label, R3, R4, R7; never
 * R4h), and personal mail not advertising. */
START_TEST(test_verdict_advertising_advertiser_and_failed_rules)
{
	static const struct {
		const char *text, *rcpt, *advertiser, *failed;
	} cases[] = {
		/* its opt-out section lacks the right-to-refuse statement; R4h not counted */
		{ AD, "a@example.vn", "example.vn", "R4" },
		{ "From: Sale <sale@www.other-shop.com.vn>\nSubject: Giam gia mua thu\n"
		  "List-Unsubscribe: <https://other-shop.com.vn/u>\nPrecedence: bulk\n\n"
		  "Khuyen mai lon: giam gia 50% moi san pham, mua ngay gia chi 199.000d.\n"
		  "Xem tai https://other-shop.com.vn/km?utm_source=mail\n",
		  "a@example.vn", "other-shop.com.vn", "R1 R3 R4" },
		{ AD, "b@example.vn", "example.vn", "R4 R7" }, /* b opted out: rejected */
		{ PLAIN, "a@example.vn", NULL, "" },
	};
	cr_engine *e = engine_of(NULL);
	cr_kv *kv = kv_of();
	struct engine_verdict *v;

	optout(kv, "b@example.vn", "example.vn", util_now() - 10);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = run(e, cases[i].text, &cases[i].rcpt, 1, NULL, 0);
		ck_assert_int_eq(v->advertising, cases[i].advertiser != NULL);
		ck_assert_str_eq(v->advertiser, cases[i].advertiser ? cases[i].advertiser : "");
		ck_assert_str_eq(failed_of(v), cases[i].failed);
		free(v);
	}
	kv_close(kv);
	engine_free(e);
}
END_TEST

/* engine_advert_failed reads the hits: each rule once, R1b counts as R1, R1a,
 * R4h and TEMPLATE are not regulation failures; nothing for non-advertising. */
START_TEST(test_advert_failed_from_hits)
{
	static const char *const rules[] = { "R7", "R1a", "R4h", "R5", "R1b", "R5", "TEMPLATE",
					     "R4" };
	struct engine_verdict *v = calloc(1, sizeof *v);

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		util_strlcpy(v->hits[v->nhits++].rule, rules[i], sizeof v->hits[0].rule);
	ck_assert_str_eq(failed_of(v), ""); /* not advertising */
	v->advertising = 1;
	ck_assert_str_eq(failed_of(v), "R1 R4 R5 R7");
	free(v);
}
END_TEST

/* The fingerprint id of a message's visible text at min_words; "" without one. */
static void text_id(const char *eml, unsigned min_words, char out[FINGERPRINT_ID_LEN + 1])
{
	struct fingerprint fp;
	const char *text;
	char err[256];
	size_t len;
	cr_msg *m = msg_parse_buffer(eml, strlen(eml), NULL, err, sizeof err);

	ck_assert_ptr_nonnull(m);
	text = msg_text(m, &len);
	out[0] = '\0';
	if (fingerprint_text(text, len, min_words, &fp) == 0)
		fingerprint_id(&fp, out);
	msg_free(m);
}

/* Outbound: advertising is detected without adding a hit, and its template id
 * is the fingerprint id of its text, also for a text under [templates]
 * min_words; personal mail is not advertising and has no template id. */
START_TEST(test_outbound_advertising_and_template_id)
{
	cr_engine *e = engine_of(NULL);
	const char *rc[1] = { "x@example.org" };
	static const char SHORT[] = "From: Shop <news@shop.example.vn>\nSubject: [QC] Giam gia\n\n"
				    "Giam gia 50% hom nay.\n";
	char want[FINGERPRINT_ID_LEN + 1];
	struct engine_verdict *v;

	text_id(AD, 10, want);
	ck_assert_int_eq(strlen(want), FINGERPRINT_ID_LEN);
	v = run(e, AD, rc, 1, "u1", 0);
	ck_assert_int_eq(v->advertising, 1);
	ck_assert_ptr_null(engine_verdict_hit(v, "ADV_LABEL"));
	ck_assert_ptr_null(engine_verdict_hit(v, "R4h"));
	ck_assert_str_eq(v->template_id, want);
	free(v);

	text_id(SHORT, 10, want);
	ck_assert_str_eq(want, ""); /* too short for the spam templates */
	text_id(SHORT, 0, want);
	ck_assert_int_eq(strlen(want), FINGERPRINT_ID_LEN);
	v = run(e, SHORT, rc, 1, "u1", 0);
	ck_assert_int_eq(v->advertising, 1);
	ck_assert_str_eq(v->template_id, want);
	free(v);

	v = run(e, PLAIN, rc, 1, "u1", 0);
	ck_assert_int_eq(v->advertising, 0);
	ck_assert_str_eq(v->template_id, "");
	free(v);
	engine_free(e);
}
END_TEST

START_TEST(test_dead_redis_degrades_never_rejects)
{
	char err[512], text[512];
	const char *rc[1] = { "b@example.vn" };
	struct engine_verdict *v;
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof text,
		 "[redis]\nhost = 127.0.0.1\nport = %d\n[engine]\ndeadline = 1s\nstore_timeout = 100ms\n",
		 th_free_port());
	c = conf_load_string(text, "t.conf", err, sizeof err);
	ck_assert_ptr_nonnull(c);
	e = engine_new(c, err, sizeof err);
	ck_assert_ptr_nonnull(e);
	v = run(e, AD, rc, 1, NULL, 0);
	ck_assert(v->degraded & ENGINE_DEG_STORE);
	ck_assert_ptr_null(engine_verdict_hit(v, "R7"));
	ck_assert_ptr_null(engine_verdict_hit(v, "R5"));
	ck_assert_int_ne(v->action, ENGINE_REJECT);
	ck_assert_int_eq(v->rcpt[0].action, ENGINE_ACCEPT);
	free(v);
	v = run(e, PLAIN, rc, 1, "u1", 0);
	ck_assert(v->degraded & ENGINE_DEG_STORE);
	ck_assert_int_eq(v->hold, 0);
	free(v);
	engine_free(e);
	conf_free(c);
}
END_TEST

START_TEST(test_bad_config_is_refused)
{
	const char *bad[] = { "[optout]\naction = drop\n", "[templates]\nsimilarity = 1.5\n",
			      "[frequency]\nweight = lots\n", "[optout]\nrecipient_delimiter = @\n" };
	const char *want[] = { "[optout] action: 'drop'", "[templates] similarity",
			       "[frequency] weight: 'lots'", "[optout] recipient_delimiter: '@'" };
	for (size_t i = 0; i < 4; i++) {
		char err[512];
		cr_conf *c = th_conf(bad[i]);
		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_null(engine_new(c, err, sizeof err));
		ck_assert_msg(strstr(err, want[i]) != NULL, "%s", err);
		conf_free(c);
	}
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_r7_refuses_one_recipient_only,
		test_r7_all_and_time_and_action_score,
		test_r7_unknown_advertiser_only_all,
		test_r7_recipient_extension,
		test_r5_from_the_fourth,
		test_forget_undoes_the_r5_record,
		test_r5_same_content,
		test_template_matches_reworded_copy,
		test_outbound_hold_and_release,
		test_outbound_hold_on_score,
		test_verdict_advertising_advertiser_and_failed_rules,
		test_advert_failed_from_hits,
		test_outbound_advertising_and_template_id,
		test_dead_redis_degrades_never_rejects,
		test_bad_config_is_refused,
	};

	return th_redis_main("engine_state", setup, tests, sizeof tests / sizeof tests[0]);
}
