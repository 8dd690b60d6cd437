/* Tests for lib/spfcheck.c: libspf2 over our DNS layer, against TXT (and A, MX)
 * records served by tests/tools/fakedns on 127.0.0.1, under a message deadline. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dnsq.h"
#include "spfcheck.h"
#include "util.h"

#include "fakedns_helper.h"

static const char *const spf_rules[] = {
	"pass.test TXT rr pass.test. 60 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
	"fail.test TXT rr fail.test. 60 IN TXT \"v=spf1 ip4:192.0.2.99 -all\"",
	"soft.test TXT rr soft.test. 60 IN TXT \"v=spf1 ip4:192.0.2.99 ~all\"",
	"neutral.test TXT rr neutral.test. 60 IN TXT \"v=spf1 ?all\"",
	"nospf.test TXT rr nospf.test. 60 IN TXT \"hello world\"",
	"broken.test TXT rr broken.test. 60 IN TXT \"v=spf1 ip4:192.0.2.300 -all\"",
	/* a record split in two strings, mechanisms that need A and MX lookups */
	"amx.test TXT rr amx.test. 60 IN TXT \"v=spf1 a:host.amx.test \" \"mx -all\"",
	"host.amx.test A rr host.amx.test. 60 IN A 192.0.2.20",
	"amx.test MX rr amx.test. 60 IN MX 10 mx.amx.test.",
	"mx.amx.test A rr mx.amx.test. 60 IN A 192.0.2.30",
	"inc.test TXT rr inc.test. 60 IN TXT \"v=spf1 include:pass.test -all\"",
	"exp.test TXT rr exp.test. 60 IN TXT \"v=spf1 -all exp=why.exp.test\"",
	/* libspf2 1.2.10 mangles spaces and later macros in explanations, so one word */
	"why.exp.test TXT rr why.exp.test. 60 IN TXT \"%{i}-is-refused\"",
	"slow.test TXT drop",
	"sf.test TXT servfail",
	"helo.test TXT rr helo.test. 60 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
	"amech.test TXT rr amech.test. 60 IN TXT \"v=spf1 a:slow.amech.test -all\"",
	"slow.amech.test A drop",
	"incnx.test TXT rr incnx.test. 60 IN TXT \"v=spf1 include:nx.incnx.test -all\"",
	"v6.test TXT rr v6.test. 60 IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"",
	NULL,
};

struct spfenv {
	struct fakedns fake;
	dnsq_ctx *ctx;
};

static void spfenv_start(struct spfenv *e)
{
	char server[64], err[200];
	const char *servers[2] = { server, NULL };

	fakedns_start(&e->fake, 0, spf_rules);
	fakedns_server(&e->fake, server, sizeof(server));
	e->ctx = dnsq_ctx_new(NULL, servers, err, sizeof(err));
	ck_assert_msg(e->ctx != NULL, "%s", err);
}

static void spfenv_stop(struct spfenv *e)
{
	dnsq_ctx_free(e->ctx);
	fakedns_stop(&e->fake);
}

/* MAIL FROM check only; returns the result. */
static enum spfcheck_result mfrom(struct spfenv *e, const char *ip, const char *sender,
				  int64_t budget_ms, struct spfcheck_outcome *o)
{
	struct cr_addr client;
	char err[200] = "";

	ck_assert_int_eq(addr_parse(ip, &client, NULL, 0), 0);
	ck_assert_msg(spfcheck_run(e->ctx, &client, "mta.client.test", sender,
				   util_mono_ms() + budget_ms, o, NULL, err, sizeof(err)) == 0,
		      "%s", err);
	return o->result;
}

START_TEST(test_spf_pass)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "alice@pass.test", 1000, &o), SPFCHECK_PASS);
	ck_assert_str_eq(o.explanation, "");
	ck_assert_msg(strncmp(o.received_spf, "pass ", 5) == 0, "%s", o.received_spf);
	ck_assert_ptr_nonnull(strstr(o.received_spf, "client-ip=192.0.2.10"));
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_fail_with_default_explanation)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "bob@fail.test", 1000, &o), SPFCHECK_FAIL);
	ck_assert_msg(o.explanation[0] != '\0', "no explanation");
	ck_assert_msg(strncmp(o.received_spf, "fail ", 5) == 0, "%s", o.received_spf);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_fail_with_domain_explanation)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "bob@exp.test", 1000, &o), SPFCHECK_FAIL);
	ck_assert_str_eq(o.explanation, "192.0.2.10-is-refused");
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_softfail_and_neutral)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "c@soft.test", 1000, &o), SPFCHECK_SOFTFAIL);
	ck_assert_str_eq(spfcheck_result_name(o.result), "softfail");
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "c@neutral.test", 1000, &o), SPFCHECK_NEUTRAL);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_none)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	/* a TXT record that is not SPF, and a domain that does not exist */
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "d@nospf.test", 1000, &o), SPFCHECK_NONE);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "d@nowhere.test", 1000, &o), SPFCHECK_NONE);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_permerror_on_bad_record)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "e@broken.test", 1000, &o), SPFCHECK_PERMERROR);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_temperror_on_timeout_within_deadline)
{
	struct spfenv e;
	struct spfcheck_outcome o;
	int64_t start = util_mono_ms(), elapsed;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "f@slow.test", 500, &o), SPFCHECK_TEMPERROR);
	elapsed = util_mono_ms() - start;
	ck_assert_int_ge(elapsed, 500);
	ck_assert_int_le(elapsed, 500 + 200);
	/* Debian's libspf2 asks TXT only (no type 99): two UDP tries */
	ck_assert_int_eq(fakedns_count(&e.fake, "slow.test"), 2);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_temperror_when_mechanism_lookup_times_out)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "f@amech.test", 400, &o), SPFCHECK_TEMPERROR);
	ck_assert_int_eq(fakedns_count(&e.fake, "slow.amech.test"), 2);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_include_of_missing_domain_is_permerror)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	/* RFC 7208 5.2: include of a domain without a record is permerror */
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "f@incnx.test", 1000, &o), SPFCHECK_PERMERROR);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_both_identities_share_one_deadline)
{
	struct spfenv e;
	struct spfcheck_outcome m, h;
	struct cr_addr client;
	char err[200] = "";
	int64_t start, elapsed;

	spfenv_start(&e);
	ck_assert_int_eq(addr_parse("192.0.2.10", &client, NULL, 0), 0);
	start = util_mono_ms();
	ck_assert_int_eq(spfcheck_run(e.ctx, &client, "helo.test", "k@slow.test", start + 400,
				      &m, &h, err, sizeof(err)), 0);
	elapsed = util_mono_ms() - start;
	ck_assert_int_eq(m.result, SPFCHECK_TEMPERROR);
	/* the MAIL FROM lookups used up the time: HELO's lookup is not even sent */
	ck_assert_int_eq(h.result, SPFCHECK_TEMPERROR);
	ck_assert_int_eq(fakedns_count(&e.fake, "helo.test"), 0);
	ck_assert_int_ge(elapsed, 400);
	ck_assert_int_le(elapsed, 400 + 200);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_temperror_on_servfail)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "g@sf.test", 1000, &o), SPFCHECK_TEMPERROR);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_a_and_mx_mechanisms_use_our_lookups)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.20", "h@amx.test", 1000, &o), SPFCHECK_PASS);
	ck_assert_int_eq(mfrom(&e, "192.0.2.30", "h@amx.test", 1000, &o), SPFCHECK_PASS);
	ck_assert_int_eq(mfrom(&e, "192.0.2.40", "h@amx.test", 1000, &o), SPFCHECK_FAIL);
	ck_assert_int_ge(fakedns_count(&e.fake, "host.amx.test"), 1);
	ck_assert_int_ge(fakedns_count(&e.fake, "mx.amx.test"), 1);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_include)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "192.0.2.10", "i@inc.test", 1000, &o), SPFCHECK_PASS);
	ck_assert_int_eq(mfrom(&e, "192.0.2.11", "i@inc.test", 1000, &o), SPFCHECK_FAIL);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_ipv6_client)
{
	struct spfenv e;
	struct spfcheck_outcome o;

	spfenv_start(&e);
	ck_assert_int_eq(mfrom(&e, "2001:db8::7", "j@v6.test", 1000, &o), SPFCHECK_PASS);
	ck_assert_int_eq(mfrom(&e, "2001:db9::7", "j@v6.test", 1000, &o), SPFCHECK_FAIL);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_helo_identity_and_null_sender)
{
	struct spfenv e;
	struct spfcheck_outcome m, h;
	struct cr_addr client;
	char err[200] = "";

	spfenv_start(&e);
	ck_assert_int_eq(addr_parse("192.0.2.10", &client, NULL, 0), 0);
	ck_assert_int_eq(spfcheck_run(e.ctx, &client, "helo.test", "k@fail.test",
				      util_mono_ms() + 1000, &m, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(m.result, SPFCHECK_FAIL);
	ck_assert_int_eq(h.result, SPFCHECK_PASS);
	/* null sender: MAIL FROM is checked as postmaster@helo (RFC 7208 2.4) */
	ck_assert_int_eq(spfcheck_run(e.ctx, &client, "helo.test", "", util_mono_ms() + 1000,
				      &m, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(m.result, SPFCHECK_PASS);
	/* an address literal HELO has no SPF */
	ck_assert_int_eq(spfcheck_run(e.ctx, &client, "[192.0.2.10]", "k@pass.test",
				      util_mono_ms() + 1000, &m, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(m.result, SPFCHECK_PASS);
	ck_assert_int_eq(h.result, SPFCHECK_NONE);
	spfenv_stop(&e);
}
END_TEST

START_TEST(test_spf_result_names)
{
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_NONE), "none");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_NEUTRAL), "neutral");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_PASS), "pass");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_FAIL), "fail");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_SOFTFAIL), "softfail");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_TEMPERROR), "temperror");
	ck_assert_str_eq(spfcheck_result_name(SPFCHECK_PERMERROR), "permerror");
}
END_TEST

static Suite *spfcheck_suite(void)
{
	Suite *s = suite_create("spfcheck");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_spf_pass);
	tcase_add_test(tc, test_spf_fail_with_default_explanation);
	tcase_add_test(tc, test_spf_fail_with_domain_explanation);
	tcase_add_test(tc, test_spf_softfail_and_neutral);
	tcase_add_test(tc, test_spf_none);
	tcase_add_test(tc, test_spf_permerror_on_bad_record);
	tcase_add_test(tc, test_spf_temperror_on_timeout_within_deadline);
	tcase_add_test(tc, test_spf_temperror_on_servfail);
	tcase_add_test(tc, test_spf_temperror_when_mechanism_lookup_times_out);
	tcase_add_test(tc, test_spf_include_of_missing_domain_is_permerror);
	tcase_add_test(tc, test_spf_both_identities_share_one_deadline);
	tcase_add_test(tc, test_spf_a_and_mx_mechanisms_use_our_lookups);
	tcase_add_test(tc, test_spf_include);
	tcase_add_test(tc, test_spf_ipv6_client);
	tcase_add_test(tc, test_spf_helo_identity_and_null_sender);
	tcase_add_test(tc, test_spf_result_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(spfcheck_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
