/* Tests for lib/engine*.c: the check engine against DNSBL zones and SPF records served
 * by tests/tools/fakedns (listed, unlisted, error codes, answers outside 127/8, failed
 * self-tests, a dead zone), thresholds, the allow zones, headers and reply text. */
#include <check.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "msg.h"
#include "util.h"

#include "fakedns_helper.h"

static const char *const rules[] = {
	/* bl.test: a healthy ip zone */
	"7.2.0.192.bl.test A rr 7.2.0.192.bl.test. 60 IN A 127.0.0.2",
	"8.2.0.192.bl.test A rr 8.2.0.192.bl.test. 60 IN A 127.0.0.3",
	"9.2.0.192.bl.test A rr 9.2.0.192.bl.test. 60 IN A 127.0.0.2",
	"2.0.0.127.bl.test A rr 2.0.0.127.bl.test. 60 IN A 127.0.0.2",
	/* TXT reasons: two records, one with CR, LF, a percent sign and a non-ASCII
	 * byte; 192.0.2.8's TXT never answers */
	"7.2.0.192.bl.test TXT rr 7.2.0.192.bl.test. 60 IN TXT \"Listed: https://bl.test/q?ip=192.0.2.7 100% sure\\013\\010X-Injected: yes\\200\"",
	"7.2.0.192.bl.test TXT rr 7.2.0.192.bl.test. 60 IN TXT \"  second   record \"",
	"8.2.0.192.bl.test TXT drop",
	/* err.test: Spamhaus-style error answer for the client */
	"7.2.0.192.err.test A rr 7.2.0.192.err.test. 60 IN A 127.255.255.254",
	"2.0.0.127.err.test A rr 2.0.0.127.err.test. 60 IN A 127.0.0.2",
	/* out.test: an answer outside 127/8 (NXDOMAIN redirection) */
	"7.2.0.192.out.test A rr 7.2.0.192.out.test. 60 IN A 10.0.0.1",
	"2.0.0.127.out.test A rr 2.0.0.127.out.test. 60 IN A 127.0.0.2",
	/* bad.test: lists 127.0.0.1, so it fails its self-test */
	"7.2.0.192.bad.test A rr 7.2.0.192.bad.test. 60 IN A 127.0.0.2",
	"2.0.0.127.bad.test A rr 2.0.0.127.bad.test. 60 IN A 127.0.0.2",
	"1.0.0.127.bad.test A rr 1.0.0.127.bad.test. 60 IN A 127.0.0.2",
	/* nt.test: no test point 127.0.0.2 */
	"7.2.0.192.nt.test A rr 7.2.0.192.nt.test. 60 IN A 127.0.0.2",
	/* dead.test: never answers */
	"7.2.0.192.dead.test A drop",
	"2.0.0.127.dead.test A drop",
	"1.0.0.127.dead.test A drop",
	/* dbl.test: a domain zone */
	"spam.com.vn.dbl.test A rr spam.com.vn.dbl.test. 60 IN A 127.0.1.2",
	"other.vn.dbl.test A rr other.vn.dbl.test. 60 IN A 127.0.1.3",
	"test.dbl.test A rr test.dbl.test. 60 IN A 127.0.0.2",
	/* allow.test / allowdom.test: allow zones */
	"9.2.0.192.allow.test A rr 9.2.0.192.allow.test. 60 IN A 127.0.0.2",
	"2.0.0.127.allow.test A rr 2.0.0.127.allow.test. 60 IN A 127.0.0.2",
	"partner.test.allowdom.test A rr partner.test.allowdom.test. 60 IN A 127.0.0.2",
	"test.allowdom.test A rr test.allowdom.test. 60 IN A 127.0.0.2",
	/* SPF */
	"pass.test TXT rr pass.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
	"fail.test TXT rr fail.test. 60 IN TXT \"v=spf1 ip4:198.51.100.1 -all\"",
	"partner.test TXT rr partner.test. 60 IN TXT \"v=spf1 ip4:192.0.2.9 -all\"",
	"mta.pass.test TXT rr mta.pass.test. 60 IN TXT \"v=spf1 -all\"",
	"exp.test TXT rr exp.test. 60 IN TXT \"v=spf1 -all exp=why.exp.test\"",
	/* an explanation with CR, LF and a percent sign (%% in SPF macro text) */
	"why.exp.test TXT rr why.exp.test. 60 IN TXT \"100%%-bad\\013\\010X-Injected:-yes\"",
	NULL,
};

static struct fakedns fake;
static char err[512];

static void setup(void)
{
	log_open("test_engine", 0, LOG_LEVEL_ERR);
	fakedns_start(&fake, 0, rules);
}

static void teardown(void)
{
	fakedns_stop(&fake);
}

/* An engine asking fakedns; engine_keys go into [engine], sections follow.  R10
 * (its own _dmarc lookups and score, tests/unit/test_engine_r10.c) is off so the
 * scores and headers here are the other rules' alone. */
static cr_engine *mk_engine(const char *engine_keys, const char *sections)
{
	char text[4096];
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof(text),
		 "[engine]\ndns_servers = 127.0.0.1:%d\n%sauthserv_id = mx.test\n%s\n"
		 "[r10]\nenabled = no\n%s\n",
		 fake.port,
		 engine_keys != NULL && strstr(engine_keys, "deadline") ? "" : "deadline = 2s\n",
		 engine_keys ? engine_keys : "", sections ? sections : "");
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	e = engine_new(c, err, sizeof(err));
	conf_free(c);
	return e;
}

static cr_engine *mk_engine_ok(const char *engine_keys, const char *sections)
{
	cr_engine *e = mk_engine(engine_keys, sections);

	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

/* engine_new's error for a config, "" if it built. */
static const char *engine_error(const char *engine_keys, const char *sections)
{
	char text[4096];
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof(text), "[engine]\n%s%s\n%s\n",
		 engine_keys != NULL && strstr(engine_keys, "dns_servers") ? ""
									   : "dns_servers = 127.0.0.1:1\n",
		 engine_keys ? engine_keys : "", sections ? sections : "");
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	err[0] = '\0';
	e = engine_new(c, err, sizeof(err));
	conf_free(c);
	engine_free(e);
	return e != NULL ? "" : err;
}

static cr_msg *mk_msg(const char *text)
{
	cr_msg *m = msg_parse_buffer(text, strlen(text), NULL, err, sizeof(err));

	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

static void input_init(struct engine_input *in, const char *ip, const char *helo,
		       const char *mail_from)
{
	memset(in, 0, sizeof(*in));
	if (ip != NULL) {
		ck_assert_int_eq(addr_parse(ip, &in->client, NULL, 0), 0);
		in->have_client = 1;
	}
	in->helo = helo;
	in->mail_from = mail_from;
	in->queue_id = "TESTQ";
}

static void run(cr_engine *e, const struct engine_input *in, const cr_msg *msg,
		int64_t budget_ms, struct engine_verdict *v)
{
	engine_check(e, in, msg, util_mono_ms() + budget_ms, v);
}

/* Runs a connection-only check of one client IP. */
static void run_ip(cr_engine *e, const char *ip, struct engine_verdict *v)
{
	struct engine_input in;

	input_init(&in, ip, NULL, NULL);
	run(e, &in, NULL, 2000, v);
}

#define BL "[dnsbl bl.test]\nweight = 1\ncodes = 127.0.0.2=10 127.0.0.3=4\n"

START_TEST(test_ip_zone_listing_scores_its_code)
{
	cr_engine *e = mk_engine_ok(NULL, BL);
	struct engine_verdict v;
	const struct engine_hit *h;

	run_ip(e, "192.0.2.7", &v);
	h = engine_verdict_hit(&v, "RBL_BL");
	ck_assert_ptr_nonnull(h);
	ck_assert_double_eq(h->score, 10);
	ck_assert_str_eq(h->reason, "192.0.2.7 listed in bl.test (127.0.0.2)");
	ck_assert_double_eq(v.score, 10);
	ck_assert_uint_eq(v.degraded, 0);
	run_ip(e, "192.0.2.8", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "RBL_BL")->score, 4);
	engine_free(e);
}
END_TEST

START_TEST(test_unlisted_ip_has_no_hit)
{
	cr_engine *e = mk_engine_ok(NULL, BL);
	struct engine_verdict v;

	run_ip(e, "192.0.2.1", &v);
	ck_assert_uint_eq(v.nhits, 0);
	ck_assert_double_eq(v.score, 0);
	ck_assert_int_eq(v.action, ENGINE_ACCEPT);
	ck_assert_uint_eq(v.degraded, 0);
	ck_assert_str_eq(v.hdr_score, "0 / 12");
	engine_free(e);
}
END_TEST

START_TEST(test_unmapped_code_scores_zone_weight_and_rule_is_configurable)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl bl.test]\nrule = RBL_OWN\nweight = 2.5\n"
					  "codes = 127.0.0.3=4\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "RBL_OWN"));
	ck_assert_double_eq(engine_verdict_hit(&v, "RBL_OWN")->score, 2.5);
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_BL"));
	engine_free(e);
}
END_TEST

START_TEST(test_error_code_answer_makes_zone_unusable)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl err.test]\nweight = 10\n");
	struct engine_verdict v;
	const struct engine_hit *h;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_ERR"));
	h = engine_verdict_hit(&v, "ZONE_UNUSABLE");
	ck_assert_ptr_nonnull(h);
	ck_assert_double_eq(h->score, 0);
	ck_assert_str_eq(h->reason, "err.test answered 127.255.255.254 (error code) for 192.0.2.7");
	ck_assert_double_eq(v.score, 0);
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_ZONE_UNUSABLE);
	ck_assert_int_eq(v.action, ENGINE_ACCEPT);
	engine_free(e);
}
END_TEST

START_TEST(test_answer_outside_127_is_not_a_listing)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl out.test]\nweight = 10\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_OUT"));
	ck_assert_str_eq(engine_verdict_hit(&v, "ZONE_UNUSABLE")->reason,
			 "out.test answered 10.0.0.1 (outside 127/8) for 192.0.2.7");
	ck_assert_double_eq(v.score, 0);
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_ZONE_UNUSABLE);
	engine_free(e);
}
END_TEST

START_TEST(test_zone_listing_127_0_0_1_fails_self_test)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl bad.test]\nweight = 10\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_BAD"));
	ck_assert_str_eq(engine_verdict_hit(&v, "ZONE_UNUSABLE")->reason,
			 "bad.test failed its RFC 5782 self-test: 127.0.0.1 is listed");
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_ZONE_UNUSABLE);
	engine_free(e);
	/* the same zone without the self-test: the listing counts */
	e = mk_engine_ok(NULL, "[dnsbl bad.test]\nweight = 10\nselftest = no\n");
	run_ip(e, "192.0.2.7", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "RBL_BAD")->score, 10);
	ck_assert_uint_eq(v.degraded, 0);
	ck_assert_uint_eq(fakedns_count(&fake, "1.0.0.127.bad.test"), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_zone_without_test_point_fails_self_test)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl nt.test]\nweight = 10\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_NT"));
	ck_assert_str_eq(engine_verdict_hit(&v, "ZONE_UNUSABLE")->reason,
			 "nt.test failed its RFC 5782 self-test: 127.0.0.2 is not listed");
	engine_free(e);
}
END_TEST

START_TEST(test_unusable_zone_does_not_spoil_other_zones)
{
	cr_engine *e = mk_engine_ok(NULL, BL "[dnsbl err.test]\nweight = 10\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "RBL_BL")->score, 10);
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "ZONE_UNUSABLE"));
	ck_assert_ptr_null(engine_verdict_hit(&v, "RBL_ERR"));
	ck_assert_double_eq(v.score, 10);
	engine_free(e);
}
END_TEST

START_TEST(test_dead_zone_verdict_within_deadline_by_fail_mode)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl dead.test]\nweight = 10\n");
	struct engine_verdict v;
	struct engine_input in;
	int64_t t0 = util_mono_ms();

	input_init(&in, "192.0.2.7", NULL, NULL);
	run(e, &in, NULL, 400, &v);
	ck_assert_int_ge(util_mono_ms() - t0, 350);
	ck_assert_int_le(util_mono_ms() - t0, 1000); /* deadline + slack for a loaded machine */
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_DNS_FAILED | ENGINE_DEG_DNS_TIMEOUT);
	ck_assert_int_eq(v.action, ENGINE_ACCEPT);
	ck_assert_str_eq(v.reply, "");
	engine_free(e);

	e = mk_engine_ok("fail_mode = tempfail", "[dnsbl dead.test]\nweight = 10\n");
	ck_assert_int_eq(engine_fail_action(e), ENGINE_TEMPFAIL);
	run(e, &in, NULL, 300, &v);
	ck_assert_int_eq(v.action, ENGINE_TEMPFAIL);
	ck_assert_str_eq(v.reply, "Temporary failure checking the message; try again later");
	engine_free(e);
}
END_TEST

START_TEST(test_partial_timeout_still_scores)
{
	cr_engine *e = mk_engine_ok(NULL, BL "[dnsbl dead.test]\nweight = 10\n");
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.7", NULL, NULL);
	run(e, &in, NULL, 300, &v);
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_DNS_TIMEOUT);
	ck_assert_double_eq(v.score, 10);
	ck_assert_int_eq(v.action, ENGINE_QUARANTINE);
	engine_free(e);
}
END_TEST

#define DBL "[dnsbl dbl.test]\ntype = domain\nweight = 6\n"

START_TEST(test_url_host_cut_to_registered_domain)
{
	cr_engine *e = mk_engine_ok(NULL, DBL);
	cr_msg *m = mk_msg("From: a@ham.test\nSubject: x\n\nsee http://a.b.spam.com.vn/x now\n");
	struct engine_verdict v;
	struct engine_input in;
	const struct engine_hit *h;

	input_init(&in, NULL, NULL, NULL);
	run(e, &in, m, 2000, &v);
	h = engine_verdict_hit(&v, "DBL_DBL");
	ck_assert_ptr_nonnull(h);
	ck_assert_double_eq(h->score, 6);
	ck_assert_str_eq(h->reason, "spam.com.vn (url) listed in dbl.test (127.0.1.2)");
	ck_assert_uint_eq(fakedns_count(&fake, "spam.com.vn.dbl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "a.b.spam.com.vn.dbl.test"), 0);
	ck_assert_uint_eq(fakedns_count(&fake, "ham.test.dbl.test"), 1);
	/* the self-test of a domain zone is TEST / INVALID */
	ck_assert_uint_eq(fakedns_count(&fake, "test.dbl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "invalid.dbl.test"), 1);
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_domain_identities_one_hit_per_domain)
{
	cr_engine *e = mk_engine_ok(NULL, DBL);
	cr_msg *m = mk_msg("From: y@news.spam.com.vn\nSubject: x\n\nhi\n");
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, NULL, "mx1.spam.com.vn", "x@bounce.spam.com.vn");
	run(e, &in, m, 2000, &v);
	ck_assert_uint_eq(v.nhits, 1);
	ck_assert_str_eq(v.hits[0].reason,
			 "spam.com.vn (helo,mail_from,from) listed in dbl.test (127.0.1.2)");
	ck_assert_double_eq(v.score, 6);
	engine_free(e);

	/* check = from: only the From: domain is looked up */
	e = mk_engine_ok(NULL, DBL "check = from\n");
	input_init(&in, NULL, "mx1.other.vn", "x@other.vn");
	run(e, &in, m, 2000, &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "DBL_DBL")->reason,
			 "spam.com.vn (from) listed in dbl.test (127.0.1.2)");
	ck_assert_uint_eq(fakedns_count(&fake, "other.vn.dbl.test"), 0);
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_max_url_domains_caps_lookups)
{
	cr_engine *e = mk_engine_ok("max_url_domains = 2", DBL);
	cr_msg *m = mk_msg("Subject: x\n\nhttp://one.vn/ http://www.one.vn/a http://two.vn/ "
			   "http://other.vn/\n");
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, NULL, NULL, NULL);
	run(e, &in, m, 2000, &v);
	ck_assert_uint_eq(fakedns_count(&fake, "one.vn.dbl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "two.vn.dbl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "other.vn.dbl.test"), 0);
	ck_assert_ptr_null(engine_verdict_hit(&v, "DBL_DBL"));
	msg_free(m);
	engine_free(e);
}
END_TEST

/* The action for a client listed with weight w, given thresholds. */
static enum engine_action action_for_weight(const char *thresholds, const char *w)
{
	char sec[200];
	struct engine_verdict v;
	cr_engine *e;

	snprintf(sec, sizeof(sec), "[dnsbl bl.test]\nweight = %s\n", w);
	e = mk_engine_ok(thresholds, sec);
	run_ip(e, "192.0.2.7", &v);
	engine_free(e);
	return v.action;
}

START_TEST(test_thresholds_choose_action)
{
	const char *t = "tag_score = 5\nquarantine_score = 8\nreject_score = 12";

	ck_assert_int_eq(action_for_weight(t, "4.99"), ENGINE_ACCEPT);
	ck_assert_int_eq(action_for_weight(t, "5"), ENGINE_TAG);
	ck_assert_int_eq(action_for_weight(t, "8"), ENGINE_QUARANTINE);
	ck_assert_int_eq(action_for_weight(t, "11.9"), ENGINE_QUARANTINE);
	ck_assert_int_eq(action_for_weight(t, "12"), ENGINE_REJECT);
	/* 0 disables an action */
	ck_assert_int_eq(action_for_weight("reject_score = 0\nquarantine_score = 0", "50"),
			 ENGINE_TAG);
	ck_assert_int_eq(action_for_weight("tag_score = 0\nquarantine_score = 0\nreject_score = 0",
					   "50"),
			 ENGINE_ACCEPT);
}
END_TEST

START_TEST(test_bad_thresholds_and_weights_are_errors)
{
	ck_assert_str_eq(engine_error("tag_score = 9\nquarantine_score = 8", NULL),
			 "t.conf: [engine] quarantine_score: 8 is below tag_score 9");
	ck_assert_str_eq(engine_error("reject_score = -1", NULL),
			 "t.conf: [engine] reject_score: must be 0 (off) or positive");
	ck_assert_str_eq(engine_error("spf_fail = lots", NULL),
			 "t.conf: [engine] spf_fail: 'lots' is not a number in -1000..1000");
	ck_assert_str_eq(engine_error("fail_mode = reject", NULL),
			 "t.conf: [engine] fail_mode: 'reject' is neither accept nor tempfail");
	ck_assert_str_eq(engine_error("authserv_id = mx test", NULL),
			 "t.conf: [engine] authserv_id: 'mx test' must be printable ASCII without "
			 "spaces or ()<>@,;:\\\"/[]?=");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ntype = cidr\n"),
			 "t.conf: [dnsbl bl.test] type: 'cidr' is neither ip nor domain");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ncodes = 10.0.0.2=5\n"),
			 "t.conf: [dnsbl bl.test] codes: '10.0.0.2' is not an address in 127/8");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ncodes = 127.0.0.2\n"),
			 "t.conf: [dnsbl bl.test] codes: '127.0.0.2' is not ADDRESS=WEIGHT");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ncodes = 127.0.0.2=x\n"),
			 "t.conf: [dnsbl bl.test] codes: weight 'x' of 127.0.0.2 is not a number "
			 "in -1000..1000");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\nrule = rbl own\n"),
			 "t.conf: [dnsbl bl.test] rule: 'rbl own' must be 1..24 of A-Z 0-9 _");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ntype = domain\ncheck = body\n"),
			 "t.conf: [dnsbl bl.test] check: unknown identity 'body' (helo, mail_from, "
			 "from, urls)");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl..test]\n"),
			 "t.conf: [dnsbl bl..test]: 'bl..test' is not a DNS zone");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\nweight = 1e9\n"),
			 "t.conf: [dnsbl bl.test] weight: '1e9' is not a number in -1000..1000");
	ck_assert_str_eq(engine_error("dns_servers = nowhere:53", NULL),
			 "t.conf: [engine] dns_servers: dns server \"nowhere:53\": bad IPv4 address");
	ck_assert_str_eq(engine_error(NULL, NULL), "");
}
END_TEST

#define ALLOW "[dnsbl allow.test]\nallow = yes\n"

START_TEST(test_allow_ip_zone_short_circuits_to_accept)
{
	cr_engine *e = mk_engine_ok(NULL, BL ALLOW);
	struct engine_verdict v;

	run_ip(e, "192.0.2.9", &v);
	ck_assert_int_eq(v.allowed, 1);
	ck_assert_int_eq(v.action, ENGINE_ACCEPT);
	ck_assert_uint_eq(v.nhits, 1);
	ck_assert_str_eq(v.hits[0].rule, "ALLOW");
	ck_assert_str_eq(v.hits[0].reason, "192.0.2.9 listed in allow zone allow.test");
	ck_assert_double_eq(v.score, 0);
	/* a client on the block list but not the allow list still scores */
	run_ip(e, "192.0.2.7", &v);
	ck_assert_int_eq(v.allowed, 0);
	ck_assert_double_eq(v.score, 10);
	engine_free(e);
}
END_TEST

START_TEST(test_allow_domain_zone_needs_spf_pass)
{
	cr_engine *e = mk_engine_ok(NULL, "[dnsbl allowdom.test]\ntype = domain\nallow = yes\n"
					  "[dnsbl bl.test]\nweight = 10\n");
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.9", NULL, "news@partner.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_int_eq(v.allowed, 1);
	ck_assert_str_eq(v.hits[0].reason,
			 "mail from partner.test (SPF pass) listed in allow zone allowdom.test");
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=pass smtp.mailfrom=partner.test");
	/* a forged sender from another client: SPF fails, the allow entry does not apply */
	input_init(&in, "192.0.2.7", NULL, "news@partner.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_int_eq(v.allowed, 0);
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "SPF_FAIL"));
	ck_assert_double_eq(v.score, 13);
	engine_free(e);
}
END_TEST

START_TEST(test_spf_results_in_authentication_results)
{
	cr_engine *e = mk_engine_ok(NULL, NULL);
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.10", "mta.pass.test", "alice@pass.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_str_eq(v.hdr_auth_results,
			 "mx.test; spf=pass smtp.mailfrom=pass.test;\n\tspf=fail smtp.helo=mta.pass.test");
	ck_assert_double_eq(engine_verdict_hit(&v, "SPF_PASS")->score, -0.5);
	ck_assert_str_eq(engine_verdict_hit(&v, "SPF_PASS")->reason,
			 "SPF pass for mail from pass.test, client 192.0.2.10");
	ck_assert_double_eq(engine_verdict_hit(&v, "HELO_SPF_FAIL")->score, 1);
	ck_assert_double_eq(v.score, 0.5);

	input_init(&in, "192.0.2.10", "[192.0.2.10]", "bob@fail.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=fail smtp.mailfrom=fail.test");
	ck_assert_double_eq(engine_verdict_hit(&v, "SPF_FAIL")->score, 3);

	input_init(&in, "192.0.2.10", NULL, "carol@nowhere.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=none smtp.mailfrom=nowhere.test");
	ck_assert_double_eq(engine_verdict_hit(&v, "SPF_NONE")->score, 0.5);

	/* no client address: nothing checked */
	input_init(&in, NULL, NULL, "carol@pass.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; none");
	ck_assert_uint_eq(v.nhits, 0);
	engine_free(e);
}
END_TEST

/* SPF runs on pooled workers: many messages checked at once each get their own
 * result, and the workers are reused rather than one created per message. */
struct spf_burst {
	cr_engine *e;
	int id, wrong;
};

static void *spf_burst_thread(void *arg)
{
	struct spf_burst *b = arg;
	static const char *const from[3] = {"a@pass.test", "b@fail.test", "c@nowhere.test"};
	static const char *const want[3] = {"mx.test; spf=pass smtp.mailfrom=pass.test",
					    "mx.test; spf=fail smtp.mailfrom=fail.test",
					    "mx.test; spf=none smtp.mailfrom=nowhere.test"};

	for (int i = 0; i < 30; i++) {
		struct engine_input in;
		struct engine_verdict v;
		int k = (b->id + i) % 3;

		input_init(&in, "192.0.2.10", "[192.0.2.10]", from[k]);
		engine_check(b->e, &in, NULL, util_mono_ms() + 5000, &v);
		if (strcmp(v.hdr_auth_results, want[k]) != 0)
			b->wrong++;
	}
	return NULL;
}

static int threads_now(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

START_TEST(test_spf_on_pooled_workers)
{
	cr_engine *e = mk_engine_ok(NULL, NULL);
	struct spf_burst b[8];
	pthread_t t[8];
	int before = threads_now(), after_one, after_many;
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.10", NULL, "alice@pass.test");
	for (int i = 0; i < 20; i++) { /* one message at a time: one worker, kept and reused */
		run(e, &in, NULL, 2000, &v);
		ck_assert_str_eq(v.hdr_auth_results, "mx.test; spf=pass smtp.mailfrom=pass.test");
		after_one = threads_now();
		ck_assert_int_eq(after_one, before + 1); /* (tests run forked: no workers before) */
	}
	for (int i = 0; i < 8; i++) {
		b[i] = (struct spf_burst){ .e = e, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, spf_burst_thread, &b[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(b[i].wrong, 0);
	}
	/* never more workers than messages checked at once (a joined thread may
	 * still be counted for a moment while the kernel reaps it: up to 1 s) */
	for (int i = 0; i < 100 && (after_many = threads_now()) > before + 8; i++)
		usleep(10000);
	ck_assert_int_le(after_many, before + 8);
	engine_free(e);
}
END_TEST

START_TEST(test_reply_text_is_sanitised)
{
	cr_engine *e = mk_engine_ok("reject_score = 3\nquarantine_score = 0\ntag_score = 0", NULL);
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.10", NULL, "eve@exp.test");
	run(e, &in, NULL, 2000, &v);
	ck_assert_int_eq(v.action, ENGINE_REJECT);
	ck_assert_str_eq(v.reply, "Rejected as spam: SPF_FAIL SPF fail for mail from exp.test, "
				  "client 192.0.2.10: 100%%-bad??X-Injected:-yes");
	ck_assert_ptr_null(strpbrk(v.reply, "\r\n"));
	engine_free(e);
}
END_TEST

START_TEST(test_reply_sanitise_bounds_and_percent)
{
	char out[16];

	ck_assert_uint_eq(engine_reply_sanitise("a\r\nb%c\x01 \xc3\xa9", out, sizeof(out)), 6);
	ck_assert_str_eq(out, "a b%%c");
	/* "%%" is never split at the end */
	ck_assert_uint_eq(engine_reply_sanitise("abcd%x", out, 6), 4);
	ck_assert_str_eq(out, "abcd");
	ck_assert_uint_eq(engine_reply_sanitise("0123456789abcdefghij", out, sizeof(out)), 15);
	ck_assert_str_eq(out, "0123456789abcde");
}
END_TEST

START_TEST(test_reject_text_names_zone_and_delist_url)
{
	cr_engine *e = mk_engine_ok(NULL, BL "delist_url = https://bl.test/remove?q=a%20b\n");
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	ck_assert_int_eq(v.action, ENGINE_QUARANTINE);
	ck_assert_str_eq(v.reply, "");
	engine_free(e);
	e = mk_engine_ok("reject_score = 10\nreject_text = %{zone} says %{rule}: %{reason} "
			 "(score %{score})%{delist}",
			 BL "delist_url = https://bl.test/remove?q=a%20b\n");
	run_ip(e, "192.0.2.7", &v);
	ck_assert_int_eq(v.action, ENGINE_REJECT);
	ck_assert_str_eq(v.reply, "bl.test says RBL_BL: 192.0.2.7 listed in bl.test (127.0.0.2) "
				  "(score 10); to be delisted see https://bl.test/remove?q=a%%20b");
	engine_free(e);
}
END_TEST

START_TEST(test_score_and_report_headers)
{
	cr_engine *e = mk_engine_ok(NULL, BL DBL "[dnsbl err.test]\n");
	cr_msg *m = mk_msg("From: y@spam.com.vn\nSubject: x\n\nhttp://other.vn/\n");
	struct engine_verdict v;
	struct engine_input in;
	char line[256];

	input_init(&in, "192.0.2.7", NULL, NULL);
	run(e, &in, m, 2000, &v);
	ck_assert_str_eq(v.hdr_score, "22 / 12");
	ck_assert_str_eq(v.hdr_report,
			 "ZONE_UNUSABLE=0 (err.test answered 127.255.255.254 (error\n"
			 "\tcode) for 192.0.2.7),\n"
			 "\tRBL_BL=10 (192.0.2.7 listed in bl.test (127.0.0.2)),\n"
			 "\tDBL_DBL=6 (spam.com.vn (from) listed in dbl.test (127.0.1.2)),\n"
			 "\tDBL_DBL=6 (other.vn (url) listed in dbl.test (127.0.1.3))");
	engine_rules_line(&v, line, sizeof(line));
	ck_assert_str_eq(line, "ZONE_UNUSABLE=0 RBL_BL=10 DBL_DBL=6 DBL_DBL=6");
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_report_header_is_folded_ascii_and_bounded)
{
	static char rr[72][128];
	const char *many[74];
	struct fakedns big;
	char text[1024], body[8192], server[64];
	size_t used = 0, n = 0;
	cr_conf *c;
	cr_engine *e;
	cr_msg *m;
	struct engine_verdict v;
	struct engine_input in;
	const char *p, *line;

	/* 70 listed URL domains: more report text than ENGINE_HEADER_MAX holds */
	used += (size_t)snprintf(body + used, sizeof(body) - used, "Subject: x\n\n");
	for (int i = 0; i < 70; i++) {
		snprintf(rr[n], sizeof(rr[n]), "d%d.vn.many.test A rr d%d.vn.many.test. 60 IN A "
			 "127.0.1.2", i, i);
		many[n] = rr[n];
		n++;
		used += (size_t)snprintf(body + used, sizeof(body) - used, "http://www.d%d.vn/\n", i);
	}
	many[n++] = "test.many.test A rr test.many.test. 60 IN A 127.0.0.2";
	many[n] = NULL;
	fakedns_start(&big, 0, many);
	fakedns_server(&big, server, sizeof(server));
	snprintf(text, sizeof(text), "[engine]\ndns_servers = %s\nmax_url_domains = 200\n"
		 "[r10]\nenabled = no\n" /* no From: R10 would add 3 */
		 "[dnsbl many.test]\ntype = domain\nweight = 0.5\n", server);
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	e = engine_new(c, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	conf_free(c);
	m = mk_msg(body);
	input_init(&in, NULL, NULL, NULL);
	run(e, &in, m, 3000, &v);
	ck_assert_uint_eq(v.nhits, 64);
	ck_assert_double_eq(v.score, 35);
	ck_assert_int_eq(v.action, ENGINE_REJECT);
	ck_assert_uint_lt(strlen(v.hdr_report), ENGINE_HEADER_MAX);
	ck_assert_uint_gt(strlen(v.hdr_report), ENGINE_HEADER_MAX - 100);
	ck_assert_msg(strcmp(v.hdr_report + strlen(v.hdr_report) - 5, ", ...") == 0 ||
			      strcmp(v.hdr_report + strlen(v.hdr_report) - 5, ",\n\t...") == 0,
		      "%s", v.hdr_report);
	for (p = line = v.hdr_report; *p; p++) {
		if (*p == '\n') {
			ck_assert_int_le(p - line, 78);
			ck_assert_int_eq(p[1], '\t');
			line = p + 1;
			continue;
		}
		ck_assert_int_ge((unsigned char)*p, *p == '\t' ? 9 : 0x20);
		ck_assert_int_le((unsigned char)*p, 0x7e);
	}
	ck_assert_int_le(p - line, 78);
	msg_free(m);
	engine_free(e);
	fakedns_stop(&big);
}
END_TEST

START_TEST(test_parse_limit_is_reported)
{
	cr_engine *e = mk_engine_ok("max_scan_bytes = 1024", NULL);
	char body[4096];
	struct msg_limits lim;
	cr_msg *m;
	struct engine_verdict v;
	struct engine_input in;

	engine_msg_limits(e, &lim);
	ck_assert_uint_eq(lim.max_scan_bytes, 1024);
	ck_assert_uint_eq(lim.max_parts, 100);
	memset(body, 'a', sizeof(body));
	memcpy(body, "Subject: x\n\n", 12);
	body[sizeof(body) - 1] = '\0';
	m = msg_parse_buffer(body, strlen(body), &lim, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	input_init(&in, NULL, NULL, NULL);
	run(e, &in, m, 2000, &v);
	ck_assert_uint_eq(v.nhits, 1);
	ck_assert_str_eq(v.hits[0].rule, "PARSE_LIMIT");
	ck_assert_str_eq(v.hits[0].reason, "parser limit hit: scan_cap; the rest was not scanned");
	ck_assert_uint_eq(v.degraded, ENGINE_DEG_PARSE_CAP);
	msg_free(m);
	engine_free(e);
}
END_TEST

START_TEST(test_authenticated_submission_skips_inbound_checks)
{
	cr_engine *e = mk_engine_ok(NULL, BL);
	struct engine_verdict v;
	struct engine_input in;

	input_init(&in, "192.0.2.7", "laptop", "me@pass.test");
	in.sasl_user = "me";
	run(e, &in, NULL, 2000, &v);
	ck_assert_uint_eq(v.nhits, 0);
	ck_assert_int_eq(v.action, ENGINE_ACCEPT);
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; none");
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 0);
	engine_free(e);
}
END_TEST

START_TEST(test_cache_shared_between_messages)
{
	cr_engine *e = mk_engine_ok(NULL, BL);
	struct engine_verdict v;

	run_ip(e, "192.0.2.7", &v);
	run_ip(e, "192.0.2.7", &v);
	ck_assert_double_eq(v.score, 10);
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "2.0.0.127.bl.test"), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_names_and_budget)
{
	cr_engine *e = mk_engine_ok("deadline = 750ms", NULL);
	double t, q, r;

	ck_assert_int_eq(engine_budget_ms(e), 750);
	engine_thresholds(e, &t, &q, &r);
	ck_assert_double_eq(t, 5);
	ck_assert_double_eq(q, 8);
	ck_assert_double_eq(r, 12);
	ck_assert_int_eq(engine_fail_action(e), ENGINE_ACCEPT);
	ck_assert_str_eq(engine_action_name(ENGINE_ACCEPT), "accept");
	ck_assert_str_eq(engine_action_name(ENGINE_TAG), "tag");
	ck_assert_str_eq(engine_action_name(ENGINE_QUARANTINE), "quarantine");
	ck_assert_str_eq(engine_action_name(ENGINE_TEMPFAIL), "tempfail");
	ck_assert_str_eq(engine_action_name(ENGINE_REJECT), "reject");
	ck_assert_str_eq(engine_degraded_name(ENGINE_DEG_ZONE_UNUSABLE), "zone_unusable");
	ck_assert_str_eq(engine_degraded_name(3), "?");
	engine_free(e);
}
END_TEST

/* [dnsbl] dns_servers: each zone asks its own servers, and only those */
START_TEST(test_zone_dns_servers_override_engine_list)
{
	static const char *const rules2[] = {
		"7.2.0.192.two.test A rr 7.2.0.192.two.test. 60 IN A 127.0.0.2",
		"2.0.0.127.two.test A rr 2.0.0.127.two.test. 60 IN A 127.0.0.2",
		NULL,
	};
	struct fakedns fake2;
	char sections[512];
	cr_engine *e;
	struct engine_verdict v;

	fakedns_start(&fake2, 0, rules2);
	snprintf(sections, sizeof(sections),
		 BL "[dnsbl two.test]\nweight = 3\ndns_servers = 127.0.0.1:%d\n", fake2.port);
	e = mk_engine_ok(NULL, sections);
	run_ip(e, "192.0.2.7", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "RBL_BL")->reason, "192.0.2.7 listed in bl.test (127.0.0.2)");
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "RBL_TWO"));
	ck_assert_str_eq(engine_verdict_hit(&v, "RBL_TWO")->reason,
			 "192.0.2.7 listed in two.test (127.0.0.2)");
	ck_assert_double_eq(v.score, 13);
	ck_assert_uint_eq(v.degraded, 0);
	/* the engine-wide server saw only bl.test, the zone's own only two.test */
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "2.0.0.127.bl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.two.test"), 0);
	ck_assert_uint_eq(fakedns_count(&fake, "2.0.0.127.two.test"), 0);
	ck_assert_uint_eq(fakedns_count(&fake, "1.0.0.127.two.test"), 0);
	ck_assert_uint_eq(fakedns_count(&fake2, "7.2.0.192.two.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake2, "2.0.0.127.two.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake2, "1.0.0.127.two.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake2, "7.2.0.192.bl.test"), 0);
	/* the shared cache answers both zones the second time */
	run_ip(e, "192.0.2.7", &v);
	ck_assert_double_eq(v.score, 13);
	ck_assert_uint_eq(fakedns_count(&fake2, "7.2.0.192.two.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 1);
	engine_free(e);
	fakedns_stop(&fake2);
}
END_TEST

START_TEST(test_zone_dns_servers_errors_name_section_and_key)
{
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ndns_servers = 127.0.0.1:99999\n"),
			 "t.conf: [dnsbl bl.test] dns_servers: dns server \"127.0.0.1:99999\": "
			 "port must be 1..65535");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\n[dnsbl two.test]\n"
					    "dns_servers = 127.0.0.1 nowhere\n"),
			 "t.conf: [dnsbl two.test] dns_servers: dns server \"nowhere\": bad IPv4 "
			 "address");
	ck_assert_str_eq(engine_error(NULL, "[dnsbl bl.test]\ndns_servers = 127.0.0.1:5353 "
					    "[::1]:5353\n"), "");
}
END_TEST

/* [dnsbl] txt: the listed name's TXT, made printable, in the reason, the report
 * header and the reject text */
START_TEST(test_txt_reason_in_hit_header_and_reply)
{
	cr_engine *e = mk_engine_ok("reject_score = 10\nreject_text = %{reason}",
				    BL "txt = yes\n");
	struct engine_verdict v;
	const char *want = "192.0.2.7 listed in bl.test (127.0.0.2): Listed: "
			   "https://bl.test/q?ip=192.0.2.7 100% sure X-Injected: yes?; second record";

	run_ip(e, "192.0.2.7", &v);
	ck_assert_int_eq(v.action, ENGINE_REJECT);
	ck_assert_str_eq(engine_verdict_hit(&v, "RBL_BL")->reason, want);
	ck_assert_double_eq(v.score, 10);
	ck_assert_uint_eq(v.degraded, 0);
	ck_assert_str_eq(v.reply, "192.0.2.7 listed in bl.test (127.0.0.2): Listed: "
				  "https://bl.test/q?ip=192.0.2.7 100%% sure X-Injected: yes?; second "
				  "record");
	ck_assert_ptr_null(strpbrk(v.reply, "\r\n"));
	ck_assert_str_eq(v.hdr_report,
			 "RBL_BL=10 (192.0.2.7 listed in bl.test (127.0.0.2): Listed:\n"
			 "\thttps://bl.test/q?ip=192.0.2.7 100% sure X-Injected: yes?; second\n"
			 "\trecord)");
	/* one A and one TXT query for the listed name */
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 2);
	/* cached: the same reason, nothing asked */
	run_ip(e, "192.0.2.7", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "RBL_BL")->reason, want);
	ck_assert_uint_eq(fakedns_count(&fake, "7.2.0.192.bl.test"), 2);
	engine_free(e);
}
END_TEST

START_TEST(test_txt_only_for_listed_names_and_only_when_asked)
{
	cr_engine *e = mk_engine_ok(NULL, BL "txt = yes\n");
	struct engine_verdict v;

	/* unlisted: the A lookup only; the self-test points get no TXT either */
	run_ip(e, "192.0.2.1", &v);
	ck_assert_uint_eq(v.nhits, 0);
	ck_assert_uint_eq(fakedns_count(&fake, "1.2.0.192.bl.test"), 1);
	ck_assert_uint_eq(fakedns_count(&fake, "2.0.0.127.bl.test"), 1);
	engine_free(e);
	/* txt = no (the default): no TXT for a listed name, no text in the reason */
	e = mk_engine_ok(NULL, BL);
	run_ip(e, "192.0.2.9", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "RBL_BL")->reason, "192.0.2.9 listed in bl.test (127.0.0.2)");
	ck_assert_uint_eq(fakedns_count(&fake, "9.2.0.192.bl.test"), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_txt_timeout_keeps_the_listing)
{
	cr_engine *e = mk_engine_ok(NULL, BL "txt = yes\n");
	struct engine_verdict v;
	struct engine_input in;
	const struct engine_hit *h;

	input_init(&in, "192.0.2.8", NULL, NULL);
	run(e, &in, NULL, 600, &v);
	h = engine_verdict_hit(&v, "RBL_BL");
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->reason, "192.0.2.8 listed in bl.test (127.0.0.3)");
	ck_assert_double_eq(v.score, 4);
	ck_assert_uint_eq(v.degraded, 0);
	ck_assert_int_lt(v.elapsed_ms, 1000);
	ck_assert_uint_ge(fakedns_count(&fake, "8.2.0.192.bl.test"), 2);
	engine_free(e);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ip_zone_listing_scores_its_code);
	tcase_add_test(tc, test_unlisted_ip_has_no_hit);
	tcase_add_test(tc, test_unmapped_code_scores_zone_weight_and_rule_is_configurable);
	tcase_add_test(tc, test_error_code_answer_makes_zone_unusable);
	tcase_add_test(tc, test_answer_outside_127_is_not_a_listing);
	tcase_add_test(tc, test_zone_listing_127_0_0_1_fails_self_test);
	tcase_add_test(tc, test_zone_without_test_point_fails_self_test);
	tcase_add_test(tc, test_unusable_zone_does_not_spoil_other_zones);
	tcase_add_test(tc, test_dead_zone_verdict_within_deadline_by_fail_mode);
	tcase_add_test(tc, test_partial_timeout_still_scores);
	tcase_add_test(tc, test_url_host_cut_to_registered_domain);
	tcase_add_test(tc, test_domain_identities_one_hit_per_domain);
	tcase_add_test(tc, test_max_url_domains_caps_lookups);
	tcase_add_test(tc, test_thresholds_choose_action);
	tcase_add_test(tc, test_bad_thresholds_and_weights_are_errors);
	tcase_add_test(tc, test_allow_ip_zone_short_circuits_to_accept);
	tcase_add_test(tc, test_allow_domain_zone_needs_spf_pass);
	tcase_add_test(tc, test_spf_results_in_authentication_results);
	tcase_add_test(tc, test_spf_on_pooled_workers);
	tcase_add_test(tc, test_reply_text_is_sanitised);
	tcase_add_test(tc, test_reply_sanitise_bounds_and_percent);
	tcase_add_test(tc, test_reject_text_names_zone_and_delist_url);
	tcase_add_test(tc, test_score_and_report_headers);
	tcase_add_test(tc, test_report_header_is_folded_ascii_and_bounded);
	tcase_add_test(tc, test_parse_limit_is_reported);
	tcase_add_test(tc, test_authenticated_submission_skips_inbound_checks);
	tcase_add_test(tc, test_cache_shared_between_messages);
	tcase_add_test(tc, test_names_and_budget);
	tcase_add_test(tc, test_zone_dns_servers_override_engine_list);
	tcase_add_test(tc, test_zone_dns_servers_errors_name_section_and_key);
	tcase_add_test(tc, test_txt_reason_in_hit_header_and_reply);
	tcase_add_test(tc, test_txt_only_for_listed_names_and_only_when_asked);
	tcase_add_test(tc, test_txt_timeout_keeps_the_listing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
