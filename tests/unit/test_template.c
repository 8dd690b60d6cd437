/* Tests for lib/template.c against a private redis-server: add (once per
 * fingerprint), get, list, match above/below the threshold, del (band sets
 * emptied), ids. */
#include <check.h>

#include "fingerprint.h"
#include "kv.h"
#include "redis_helper.h"
#include "template.h"
#include "util.h"

static const char *const A =
	"Congratulations! Your email address was selected in our international lucky draw and "
	"you have won a cash prize. To claim it send your full name, bank account number and a "
	"copy of your passport to our claims agent before Friday.";
static const char *const B =
	"The quarterly report is attached. Revenue grew in the northern region while the south "
	"stayed flat; please review the figures before the board meeting next week.";

static cr_kv *kv_of(void)
{
	char err[256];
	cr_conf *c = th_conf(NULL);
	cr_kv *kv = kv_open(c, 500, err, sizeof err);
	ck_assert_ptr_nonnull(kv);
	conf_free(c);
	return kv;
}

static struct fingerprint fp_of(const char *t)
{
	struct fingerprint fp;
	ck_assert_int_eq(fingerprint_text(t, strlen(t), 10, &fp), 0);
	return fp;
}

static void setup(void)
{
	th_flush();
}

static int count_one(void *ud, const struct template_info *t)
{
	(void)t;
	(*(int *)ud)++;
	return 0;
}

START_TEST(test_add_get_list_del)
{
	cr_kv *kv = kv_of();
	struct fingerprint fa = fp_of(A), fb = fp_of(B);
	struct template_info t = { 0 }, u = { 0 }, got;
	char err[256], id[FINGERPRINT_ID_LEN + 1];
	int n = 0;

	util_strlcpy(t.reason, "lottery\nscam", sizeof t.reason);
	util_strlcpy(t.source, "unit", sizeof t.source);
	util_strlcpy(t.subject, "You won", sizeof t.subject);
	t.added = 1000;
	t.words = 42;
	ck_assert_int_eq(template_add(kv, &fa, &t, err, sizeof err), TEMPLATE_OK);
	fingerprint_id(&fa, id);
	ck_assert_str_eq(t.id, id);
	ck_assert(template_valid_id(t.id));
	ck_assert_int_eq(template_add(kv, &fa, &t, err, sizeof err), TEMPLATE_EXISTS);
	u.added = 2000;
	ck_assert_int_eq(template_add(kv, &fb, &u, err, sizeof err), TEMPLATE_OK);
	ck_assert_int_eq(template_get(kv, t.id, &got, err, sizeof err), TEMPLATE_OK);
	ck_assert_str_eq(got.reason, "lottery scam");
	ck_assert_str_eq(got.source, "unit");
	ck_assert_str_eq(got.subject, "You won");
	ck_assert_int_eq(got.added, 1000);
	ck_assert_int_eq(got.words, 42);
	ck_assert_int_eq(template_list(kv, count_one, &n, err, sizeof err), 2);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(template_del(kv, t.id, err, sizeof err), TEMPLATE_OK);
	ck_assert_int_eq(template_del(kv, t.id, err, sizeof err), TEMPLATE_NOTFOUND);
	ck_assert_int_eq(template_get(kv, t.id, &got, err, sizeof err), TEMPLATE_NOTFOUND);
	/* only B's 32 band sets are left */
	redisReply *r = th_raw("KEYS cr:{tp}:b:*");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->elements, FINGERPRINT_BANDS);
	freeReplyObject(r);
	kv_close(kv);
}
END_TEST

START_TEST(test_match_threshold)
{
	cr_kv *kv = kv_of();
	struct fingerprint fa = fp_of(A), fb = fp_of(B);
	struct template_info t = { 0 }, best;
	char err[256];
	double sim;
	const char *copy =
		"CONGRATULATIONS! Your email address was selected in our international lucky draw "
		"and you have won a big cash prize. To claim it send your full name, bank account "
		"number and a copy of your passport to our claims agent before Monday.";
	struct fingerprint fc = fp_of(copy);

	util_strlcpy(t.reason, "scam", sizeof t.reason);
	ck_assert_int_eq(template_add(kv, &fa, &t, err, sizeof err), TEMPLATE_OK);
	ck_assert_int_eq(template_match(kv, &fc, 0.6, &best, &sim, err, sizeof err), 1);
	ck_assert_str_eq(best.id, t.id);
	ck_assert_str_eq(best.reason, "scam");
	ck_assert(sim >= 0.6 && sim < 1.0);
	ck_assert_int_eq(template_match(kv, &fc, 0.99, &best, &sim, err, sizeof err), 0);
	ck_assert_int_eq(template_match(kv, &fb, 0.1, &best, &sim, err, sizeof err), 0);
	ck_assert_int_eq(template_match(kv, &fa, 1.0, &best, &sim, err, sizeof err), 1);
	ck_assert(sim == 1.0);
	kv_close(kv);
}
END_TEST

START_TEST(test_ids)
{
	ck_assert(template_valid_id("0123456789abcdef"));
	ck_assert(!template_valid_id("0123456789ABCDEF"));
	ck_assert(!template_valid_id("0123456789abcde"));
	ck_assert(!template_valid_id("0123456789abcdef0"));
	ck_assert(!template_valid_id(""));
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		test_add_get_list_del,
		test_match_threshold,
		test_ids,
	};

	return th_redis_main("template", setup, tests, sizeof tests / sizeof tests[0]);
}
