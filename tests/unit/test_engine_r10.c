/* Tests for lib/engine_r10.c: rule R10 (the From field once, DMARC alignment and
 * policy) and the dmarc= part of Authentication-Results, with SPF, DKIM keys and
 * _dmarc records served by tests/tools/fakedns.  Run from the repository root: the
 * DKIM-signed message and its key come from tests/corpus/advert. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "msg.h"
#include "util.h"

#include "corpus_helper.h"
#include "fakedns_helper.h"


static char key_shop[600];
static const char *rules[] = {
	NULL, /* key_shop */
	/* SPF: the client 192.0.2.7 may send for these */
	"other.test TXT rr other.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	"bounce.aligned.test TXT rr bounce.aligned.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	"bounce.strict.test TXT rr bounce.strict.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	"strict.test TXT rr strict.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	/* DMARC policies */
	"_dmarc.aligned.test TXT rr _dmarc.aligned.test. 60 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.reject.test TXT rr _dmarc.reject.test. 60 IN TXT \"v=DMARC1; p=reject; rua=mailto:d@reject.test\"",
	"_dmarc.quar.test TXT rr _dmarc.quar.test. 60 IN TXT \"v=DMARC1 ; p = quarantine\"",
	"_dmarc.none.test TXT rr _dmarc.none.test. 60 IN TXT \"v=DMARC1; p=none\"",
	/* an SPF record beside it is not a DMARC record */
	"_dmarc.none.test TXT rr _dmarc.none.test. 60 IN TXT \"v=spf1 -all\"",
	"_dmarc.fb.test TXT rr _dmarc.fb.test. 60 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.sp.test TXT rr _dmarc.sp.test. 60 IN TXT \"v=DMARC1; p=reject; sp=none\"",
	"_dmarc.strict.test TXT rr _dmarc.strict.test. 60 IN TXT \"v=DMARC1; p=reject; aspf=s\"",
	"_dmarc.slow.test TXT drop",
	/* no policy: two DMARC records, or one without a valid p= */
	"_dmarc.many.test TXT rr _dmarc.many.test. 60 IN TXT \"v=DMARC1; p=reject\"",
	"_dmarc.many.test TXT rr _dmarc.many.test. 60 IN TXT \"v=DMARC1; p=quarantine\"",
	"_dmarc.nop.test TXT rr _dmarc.nop.test. 60 IN TXT \"v=DMARC1; p=block; rua=mailto:d@nop.test\"",
	"_dmarc.shop-abc.vn TXT rr _dmarc.shop-abc.vn. 60 IN TXT \"v=DMARC1; p=reject\"",
	"sel._domainkey.drop.test TXT drop",
	/* an allow zone listing the client */
	"7.2.0.192.allow.test A rr 7.2.0.192.allow.test. 60 IN A 127.0.0.2",
	NULL,
};

static struct fakedns fake;
static char err[512];

static void setup(void)
{
	log_open("test_engine_r10", 0, LOG_LEVEL_ERR);
	corpus_key_rule("sel", "shop-abc.vn", key_shop, sizeof(key_shop));
	rules[0] = key_shop;
	fakedns_start(&fake, 0, rules);
}

static void teardown(void)
{
	fakedns_stop(&fake);
}

/* An engine asking fakedns; sections (e.g. "[r10]\n...") follow [engine]. */
static cr_engine *mk_engine(const char *sections)
{
	char text[2048];
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof(text),
		 "[redis]\nport = 1\n[engine]\ndns_servers = 127.0.0.1:%d\ndeadline = 2s\n"
		 "authserv_id = mx.test\n[templates]\nenabled = no\n%s\n",
		 fake.port, sections ? sections : "");
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	e = engine_new(c, err, sizeof(err));
	conf_free(c);
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

static cr_msg *mk_msg(const char *text)
{
	cr_msg *m = msg_parse_buffer(text, strlen(text), NULL, err, sizeof(err));

	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

/* Checks msg from client 192.0.2.7 with envelope sender mail_from (NULL: none,
 * so no SPF result). */
static void check(cr_engine *e, const cr_msg *m, const char *mail_from, const char *sasl_user,
		  int64_t budget_ms, struct engine_verdict *v)
{
	struct engine_input in;

	memset(&in, 0, sizeof(in));
	if (mail_from != NULL) {
		ck_assert_int_eq(addr_parse("192.0.2.7", &in.client, NULL, 0), 0);
		in.have_client = 1;
		in.mail_from = mail_from;
	}
	in.sasl_user = sasl_user;
	in.queue_id = "R10Q";
	engine_check(e, &in, m, util_mono_ms() + budget_ms, v);
}

/* Checks "From: <from>" (a simple message) sent with MAIL FROM mail_from. */
static void check_from(cr_engine *e, const char *from, const char *mail_from,
		       struct engine_verdict *v)
{
	char text[512];
	cr_msg *m;

	snprintf(text, sizeof(text), "From: %s\nTo: b@example.vn\nSubject: hello\n\nhi\n", from);
	m = mk_msg(text);
	check(e, m, mail_from, NULL, 2000, v);
	msg_free(m);
}

/* R10 scored score for From domain from, sent with MAIL FROM b@other.test (SPF
 * pass, unaligned); policy: the end of the reason; ar: in Authentication-Results. */
static void expect_unaligned(const struct engine_verdict *v, double score, const char *from,
			     const char *policy, const char *ar)
{
	char want[ENGINE_REASON_MAX];

	snprintf(want, sizeof(want),
		 "From domain %s not aligned with a passing SPF or DKIM identity (SPF pass for "
		 "other.test, no DKIM signature); %s", from, policy);
	ck_assert_ptr_nonnull(engine_verdict_hit(v, "R10"));
	ck_assert_double_eq(engine_verdict_hit(v, "R10")->score, score);
	ck_assert_str_eq(engine_verdict_hit(v, "R10")->reason, want);
	ck_assert_msg(strstr(v->hdr_auth_results, ar) != NULL, "%s", v->hdr_auth_results);
}

START_TEST(test_r10_no_from_field)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);
	cr_msg *m = mk_msg("To: b@example.vn\nSubject: hello\n\nhi\n");

	check(e, m, "a@other.test", NULL, 2000, &v);
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "R10"));
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 3);
	ck_assert_str_eq(engine_verdict_hit(&v, "R10")->reason, "no From field");
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=pass smtp.mailfrom=other.test");
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_two_from_fields)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("[r10]\nfrom_count = 4.5\n");
	cr_msg *m = mk_msg("From: a@reject.test\nFrom: b@other.test\nSubject: x\n\nhi\n");

	check(e, m, "a@other.test", NULL, 2000, &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 4.5);
	ck_assert_str_eq(engine_verdict_hit(&v, "R10")->reason, "2 From fields");
	/* no DMARC for a message without a single From: nothing looked up */
	ck_assert_ptr_null(strstr(v.hdr_auth_results, "dmarc="));
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.reject.test"), 0);
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_aligned_by_spf)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);

	/* relaxed alignment: the MAIL FROM is below the From's organisational domain */
	check_from(e, "News <news@aligned.test>", "b@bounce.aligned.test", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_str_eq(v.hdr_auth_results,
			 "mx.test; spf=pass smtp.mailfrom=bounce.aligned.test;\n"
			 "\tdmarc=pass (p=reject) header.from=aligned.test");
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.aligned.test"), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_aligned_by_dkim)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("[advert]\nenabled = no\n");
	cr_msg *m = corpus_msg("vi-oneclick-dkim", NULL, NULL);

	/* no SPF result at all: DKIM d=shop-abc.vn passes and aligns */
	check(e, m, NULL, NULL, 2000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_str_eq(v.hdr_auth_results,
			 "mx.test; dkim=pass header.d=shop-abc.vn header.s=sel;\n"
			 "\tdmarc=pass (p=reject) header.from=shop-abc.vn");
	engine_free(e);
	/* [advert] dkim = no: DKIM is still verified for R10 */
	e = mk_engine("[advert]\nenabled = no\ndkim = no\n");
	check(e, m, NULL, NULL, 2000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_ptr_nonnull(strstr(v.hdr_auth_results, "dmarc=pass (p=reject)"));
	engine_free(e);
	msg_free(m);
}
END_TEST

START_TEST(test_r10_dkim_temperror_is_not_scored)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("[advert]\nenabled = no\n");
	/* the key of d=drop.test never answers; the From is shop-abc.vn (p=reject) */
	cr_msg *m = corpus_msg("vi-oneclick-dkim", "d=shop-abc.vn", "d=drop.test  ");

	check(e, m, NULL, NULL, 1000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_ptr_nonnull(strstr(v.hdr_auth_results,
				     "dmarc=temperror (p=reject) header.from=shop-abc.vn"));
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_unaligned_by_policy)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);

	check_from(e, "a@reject.test", "b@other.test", &v);
	expect_unaligned(&v, 5, "reject.test", "DMARC policy reject at _dmarc.reject.test",
			 "dmarc=fail (p=reject) header.from=reject.test");
	ck_assert_str_eq(v.hdr_auth_results,
			 "mx.test; spf=pass smtp.mailfrom=other.test;\n"
			 "\tdmarc=fail (p=reject) header.from=reject.test");
	ck_assert_double_eq(v.score, 5 - 0.5); /* with SPF_PASS */

	check_from(e, "a@quar.test", "b@other.test", &v);
	expect_unaligned(&v, 3, "quar.test", "DMARC policy quarantine at _dmarc.quar.test",
			 "dmarc=fail (p=quarantine) header.from=quar.test");

	check_from(e, "a@none.test", "b@other.test", &v);
	expect_unaligned(&v, 0.5, "none.test", "DMARC policy none at _dmarc.none.test",
			 "dmarc=fail (p=none) header.from=none.test");

	/* no record: _dmarc.norec.test is NXDOMAIN, norec.test is its own org domain */
	check_from(e, "a@norec.test", "b@other.test", &v);
	expect_unaligned(&v, 0.5, "norec.test", "no DMARC policy",
			 "dmarc=none header.from=norec.test");
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.norec.test"), 1);
	ck_assert_uint_eq(v.degraded & ENGINE_DEG_DNS_TIMEOUT, 0);
	check_from(e, "a@many.test", "b@other.test", &v);
	expect_unaligned(&v, 0.5, "many.test", "no DMARC policy (several DMARC records)",
			 "dmarc=none header.from=many.test");
	check_from(e, "a@nop.test", "b@other.test", &v);
	expect_unaligned(&v, 0.5, "nop.test", "no DMARC policy (a DMARC record without a valid p=)",
			 "dmarc=none header.from=nop.test");
	engine_free(e);
}
END_TEST

START_TEST(test_r10_weights_are_configurable)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("[r10]\ndmarc_reject = 7\ndmarc_quarantine = 2.5\nunaligned = 0\n");

	check_from(e, "a@reject.test", "b@other.test", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 7);
	check_from(e, "a@quar.test", "b@other.test", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 2.5);
	check_from(e, "a@norec.test", "b@other.test", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 0);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_org_domain_fallback)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);

	/* no _dmarc.news.fb.test: the organisational domain's record applies */
	check_from(e, "a@news.fb.test", "b@other.test", &v);
	expect_unaligned(&v, 5, "news.fb.test", "DMARC policy reject at _dmarc.fb.test",
			 "dmarc=fail (p=reject) header.from=news.fb.test");
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.news.fb.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.fb.test"), 1);
	/* there, sp= is the subdomains' policy */
	check_from(e, "a@mail.sp.test", "b@other.test", &v);
	expect_unaligned(&v, 0.5, "mail.sp.test", "DMARC policy none at _dmarc.sp.test",
			 "dmarc=fail (p=none) header.from=mail.sp.test");
	/* but not for the organisational domain itself */
	check_from(e, "a@sp.test", "b@other.test", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 5);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_strict_spf_alignment)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);

	/* aspf=s: bounce.strict.test passes SPF but is not strict.test */
	check_from(e, "a@strict.test", "b@bounce.strict.test", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R10")->score, 5);
	check_from(e, "a@strict.test", "b@strict.test", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_ptr_nonnull(strstr(v.hdr_auth_results, "dmarc=pass (p=reject) header.from=strict.test"));
	engine_free(e);
}
END_TEST

START_TEST(test_r10_policy_timeout_is_degraded_not_scored)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);
	char text[128];
	cr_msg *m;

	snprintf(text, sizeof(text), "From: a@slow.test\nSubject: x\n\nhi\n");
	m = mk_msg(text);
	check(e, m, "b@other.test", NULL, 500, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_uint_eq(v.degraded & ENGINE_DEG_DNS_TIMEOUT, ENGINE_DEG_DNS_TIMEOUT);
	ck_assert_uint_eq(v.degraded & ENGINE_DEG_DNS_FAILED, 0);
	ck_assert_str_eq(v.hdr_auth_results,
			 "mx.test; spf=pass smtp.mailfrom=other.test;\n"
			 "\tdmarc=temperror (policy lookup failed) header.from=slow.test");
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_lone_none_is_replaced)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);
	cr_msg *m = mk_msg("From: a@reject.test\nSubject: x\n\nhi\n");

	/* no SPF, no DKIM: "none" gives way to the dmarc= result */
	check(e, m, NULL, NULL, 2000, &v);
	ck_assert_str_eq(v.hdr_auth_results, "mx.test;\n\tdmarc=fail (p=reject) header.from=reject.test");
	ck_assert_str_eq(engine_verdict_hit(&v, "R10")->reason,
			 "From domain reject.test not aligned with a passing SPF or DKIM identity "
			 "(no SPF result, no DKIM signature); DMARC policy reject at "
			 "_dmarc.reject.test");
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_not_for_submission_or_when_off)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);
	cr_msg *m = mk_msg("From: a@reject.test\nSubject: x\n\nhi\n");
	cr_msg *nofrom = mk_msg("Subject: x\n\nhi\n");

	/* authenticated submission: no lookup, no hit */
	check(e, m, "a@reject.test", "an", 2000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	check(e, nofrom, "a@reject.test", "an", 2000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; none");
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.reject.test"), 0);
	engine_free(e);
	/* [r10] enabled = no */
	e = mk_engine("[r10]\nenabled = no\n");
	check(e, m, "b@other.test", NULL, 2000, &v);
	check(e, nofrom, "b@other.test", NULL, 2000, &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=pass smtp.mailfrom=other.test");
	ck_assert_uint_eq(fakedns_count(&fake, "_dmarc.reject.test"), 0);
	engine_free(e);
	msg_free(m);
	msg_free(nofrom);
}
END_TEST

START_TEST(test_r10_not_for_allow_listed_mail)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("[dnsbl allow.test]\nallow = yes\nselftest = no\n");
	cr_msg *m = mk_msg("From: a@reject.test\nSubject: x\n\nhi\n");

	check(e, m, "b@other.test", NULL, 2000, &v);
	ck_assert_int_eq(v.allowed, 1);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R10"));
	ck_assert_ptr_null(strstr(v.hdr_auth_results, "dmarc="));
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_r10_bad_weight)
{
	char text[256];
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof(text), "[engine]\ndns_servers = 127.0.0.1:1\n[r10]\ndmarc_reject = hard\n");
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	e = engine_new(c, err, sizeof(err));
	conf_free(c);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "t.conf: [r10] dmarc_reject: 'hard' is not a number in -1000..1000");
}
END_TEST

static Suite *r10_suite(void)
{
	Suite *s = suite_create("engine_r10");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_r10_no_from_field);
	tcase_add_test(tc, test_r10_two_from_fields);
	tcase_add_test(tc, test_r10_aligned_by_spf);
	tcase_add_test(tc, test_r10_aligned_by_dkim);
	tcase_add_test(tc, test_r10_dkim_temperror_is_not_scored);
	tcase_add_test(tc, test_r10_unaligned_by_policy);
	tcase_add_test(tc, test_r10_weights_are_configurable);
	tcase_add_test(tc, test_r10_org_domain_fallback);
	tcase_add_test(tc, test_r10_strict_spf_alignment);
	tcase_add_test(tc, test_r10_policy_timeout_is_degraded_not_scored);
	tcase_add_test(tc, test_r10_lone_none_is_replaced);
	tcase_add_test(tc, test_r10_not_for_submission_or_when_off);
	tcase_add_test(tc, test_r10_not_for_allow_listed_mail);
	tcase_add_test(tc, test_r10_bad_weight);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(r10_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
