/* Tests for lib/report.c without Redis: [report] settings and their errors, and
 * what report_analyse finds in a message or a feedback report — the originating
 * IP past the trusted relays, why it may never be listed, the registered
 * domains of From, the ARF and the links, the fingerprint, the identity that
 * makes a second report of the same message a duplicate, the evidence kept. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "report.h"

static char err[512];

static struct report_conf rc_from(const char *extra)
{
	char text[2048];
	struct report_conf rc;
	cr_conf *c;

	snprintf(text, sizeof text,
		 "[report]\ntrusted_relays = 127.0.0.0/8 ::1 10.20.0.0/16 198.51.100.25\n%s", extra);
	c = conf_load_string(text, "test.conf", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_msg(report_conf_load(c, &rc, err, sizeof err) == 0, "%s", err);
	conf_free(c);
	return rc;
}

static int rc_error(const char *text)
{
	struct report_conf rc;
	cr_conf *c = conf_load_string(text, "test.conf", err, sizeof err);
	int r;

	ck_assert_msg(c != NULL, "%s", err);
	r = report_conf_load(c, &rc, err, sizeof err);
	conf_free(c);
	return r;
}

static void analyse(const struct report_conf *rc, const char *msg, int not_spam,
		    struct report_facts *f)
{
	ck_assert_msg(report_analyse(rc, msg, strlen(msg), not_spam, f, err, sizeof err) == 0,
		      "%s", err);
}

static const char spam[] =
	"Received: from mx1 (mx1 [10.20.0.5]) by mailbox with LMTP id A; Tue, 1 Dec 2026\n"
	"Received: from bulk (unknown [203.0.113.77]) by mx1 with ESMTP id B; Tue, 1 Dec 2026\n"
	"Received: from [10.20.0.9] (relay [10.20.0.9]) by relay with SMTP; forged\n"
	"From: \"Shop\" <deals@mail.spam-shop.vn>\n"
	"Subject: sale\n"
	"Message-ID: <campaign-42@spam-shop.vn>\n"
	"Date: Tue, 1 Dec 2026 09:57:00 +0700\n"
	"\n"
	"Big sale on phones, laptops and watches today only, see http://www.spam-shop.vn/a\n"
	"and https://track.click-here.com.vn/r/1 and http://203.0.113.9/x and\n"
	"http://[2001:db8::1]/y and https://www.spam-shop.vn/b again before it ends.\n";

START_TEST(test_conf_defaults_and_errors)
{
	struct report_conf rc = rc_from("");

	ck_assert_uint_eq(rc.ntrusted, 4);
	ck_assert_int_eq(rc.auto_list, 1);
	ck_assert_int_eq(rc.ip_threshold, 3);
	ck_assert_int_eq(rc.domain_threshold, 5);
	ck_assert_str_eq(rc.ip_list, "spam-ip");
	ck_assert_str_eq(rc.allow_list, "allow");
	ck_assert_uint_eq(rc.ip_code, 0x7f000002u);
	ck_assert_int_eq(rc.list_expires, 7 * 86400);
	ck_assert_int_eq(rc.keep, 180 * 86400);
	ck_assert_int_eq(rc.count_from, 1);
	ck_assert_int_eq(rc.count_urls, 1);

	ck_assert_int_eq(rc_error("[report]\ntrusted_relays = 10.0.0.1/8\n"), -1);
	ck_assert_str_eq(err, "[report] trusted_relays: 10.0.0.1/8: host bits set (network is 10.0.0.0/8)");
	ck_assert_int_eq(rc_error("[report]\nip_list = nosuch\n"), -1);
	ck_assert_str_eq(err, "[report] ip_list: \"nosuch\" is not a list of [lists] names");
	ck_assert_int_eq(rc_error("[report]\nip_code = 127.0.0.1\n"), -1);
	ck_assert_int_eq(rc_error("[report]\ndomain_sources = from body\n"), -1);
	ck_assert_str_eq(err, "[report] domain_sources: \"body\" (from, urls)");
	ck_assert_int_eq(rc_error("[report]\nallow_list =\n"), 0);
}
END_TEST

START_TEST(test_plain_message)
{
	struct report_conf rc = rc_from("");
	struct report_facts f;

	analyse(&rc, spam, 0, &f);
	ck_assert_int_eq(f.has_ip, 1);
	ck_assert_str_eq(f.ip_text, "203.0.113.77");
	ck_assert_str_eq(f.ip_via, "received");
	ck_assert_uint_eq(f.trusted_hops, 1);
	ck_assert_ptr_null(f.ip_unlistable);
	ck_assert_msg(strncmp(f.hop, "from bulk (unknown [203.0.113.77])", 34) == 0, "%s", f.hop);
	ck_assert_str_eq(f.from_domain, "spam-shop.vn");
	/* From first, then the links' registered domains once each; address
	 * literals are no domains */
	ck_assert_uint_eq(f.ndomains, 2);
	ck_assert_str_eq(f.domains[0], "spam-shop.vn");
	ck_assert_str_eq(f.domain_origin[0], "from");
	ck_assert_str_eq(f.domains[1], "click-here.com.vn");
	ck_assert_str_eq(f.domain_origin[1], "url");
	ck_assert_uint_eq(strlen(f.fingerprint), 16);
	ck_assert_str_eq(f.message_id, "<campaign-42@spam-shop.vn>");
	ck_assert_str_eq(f.subject, "sale");
	ck_assert_int_eq(f.not_spam, 0);
	ck_assert_int_eq(f.is_arf, 0);
	ck_assert_ptr_nonnull(strstr(f.headers, "Message-ID: <campaign-42@spam-shop.vn>"));
	ck_assert_ptr_null(strstr(f.headers, "Big sale"));
	ck_assert_uint_eq(f.original_len, strlen(spam));
	report_facts_free(&f);
}
END_TEST

START_TEST(test_domain_sources_and_caps)
{
	struct report_conf rc = rc_from("domain_sources = urls\nheader_bytes = 1024\n");
	struct report_facts f;

	analyse(&rc, spam, 0, &f);
	ck_assert_uint_eq(f.ndomains, 2);
	ck_assert_str_eq(f.domains[0], "spam-shop.vn");
	ck_assert_str_eq(f.domain_origin[0], "url");
	ck_assert_str_eq(f.from_domain, "spam-shop.vn"); /* still recorded as evidence */
	report_facts_free(&f);
	{
		/* the evidence is cut at header_bytes */
		size_t n = 3000;
		char *big = malloc(n + 64);
		size_t k = 0;
		while (k < n) {
			memcpy(big + k, "X-Pad: padding padding padding padding\n", 39);
			k += 39;
		}
		strcpy(big + k, "\nbody\n");
		analyse(&rc, big, 0, &f);
		ck_assert_uint_eq(strlen(f.headers), 1024);
		report_facts_free(&f);
		free(big);
	}
	rc = rc_from("domain_sources = from\n");
	analyse(&rc, spam, 0, &f);
	ck_assert_uint_eq(f.ndomains, 1);
	report_facts_free(&f);
	rc = rc_from("max_url_domains = 0\ndomain_sources = urls\n");
	analyse(&rc, spam, 0, &f);
	ck_assert_uint_eq(f.ndomains, 0);
	report_facts_free(&f);
	/* a short body gets no fingerprint */
	rc = rc_from("[templates]\nmin_words = 1000\n");
	analyse(&rc, spam, 0, &f);
	ck_assert_str_eq(f.fingerprint, "");
	report_facts_free(&f);
}
END_TEST

START_TEST(test_identity_makes_duplicates)
{
	struct report_conf rc = rc_from("");
	struct report_facts a, b, c;
	char *arf, *copy;
	size_t n = strlen(spam) + 1024;

	/* the same message wrapped in a feedback report has the same identity */
	arf = malloc(n);
	snprintf(arf, n,
		 "Content-Type: multipart/report; report-type=feedback-report; boundary=Z\n\n"
		 "--Z\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n"
		 "--Z\nContent-Type: message/rfc822\n\n%s--Z--\n", spam);
	analyse(&rc, spam, 0, &a);
	analyse(&rc, arf, 0, &b);
	ck_assert_int_eq(b.is_arf, 1);
	ck_assert_str_eq(b.arf_type, "abuse");
	ck_assert_str_eq(a.identity, b.identity);
	ck_assert_str_eq(b.ip_text, "203.0.113.77");
	/* another Message-ID is another message */
	copy = strdup(spam);
	memcpy(strstr(copy, "campaign-42"), "campaign-43", 11);
	analyse(&rc, copy, 0, &c);
	ck_assert_str_ne(a.identity, c.identity);
	ck_assert_str_eq(a.fingerprint, c.fingerprint); /* same body */
	report_facts_free(&a);
	report_facts_free(&b);
	report_facts_free(&c);
	free(arf);
	free(copy);
}
END_TEST

START_TEST(test_unlistable_origins)
{
	struct report_conf rc = rc_from("");
	struct report_facts f;
	const char *priv = "Received: from mx1 (mx1 [10.20.0.5]) by mailbox\n"
			   "Received: from lan (lan [192.168.1.50]) by mx1\n"
			   "From: a@lan-spam.example\n\nOffer.\n";
	const char *own = "Content-Type: multipart/report; report-type=feedback-report; boundary=Z\n\n"
			  "--Z\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
			  "Source-IP: 198.51.100.25\n\n--Z--\n";
	const char *internal = "Received: from mx1 (mx1 [10.20.0.5]) by mailbox\n"
			       "Received: from submit (submit [10.20.1.7]) by mx1\n"
			       "From: colleague@isp.example.vn\n\nlunch\n";

	analyse(&rc, priv, 0, &f);
	ck_assert_str_eq(f.ip_text, "192.168.1.50");
	ck_assert_str_eq(f.ip_unlistable, "private");
	report_facts_free(&f);
	analyse(&rc, own, 0, &f);
	ck_assert_str_eq(f.ip_text, "198.51.100.25");
	ck_assert_str_eq(f.ip_via, "arf source-ip");
	ck_assert_str_eq(f.ip_unlistable, "one of our trusted relays");
	ck_assert_ptr_null(f.original); /* no third part */
	ck_assert_uint_eq(f.ndomains, 0);
	report_facts_free(&f);
	analyse(&rc, internal, 0, &f);
	ck_assert_int_eq(f.has_ip, 0);
	ck_assert_str_eq(f.ip_via, "none");
	report_facts_free(&f);
}
END_TEST

START_TEST(test_not_spam_and_errors)
{
	struct report_conf rc = rc_from("");
	struct report_facts f;
	const char *ns = "Content-Type: multipart/report; report-type=feedback-report; boundary=Z\n\n"
			 "--Z\nContent-Type: message/feedback-report\n\nFeedback-Type: not-spam\n"
			 "Source-IP: 198.51.100.40\n\n--Z--\n";
	const char *bad = "Content-Type: multipart/report; report-type=feedback-report; boundary=Z\n\n"
			  "--Z\nContent-Type: text/plain\n\nno machine part\n--Z--\n";

	analyse(&rc, ns, 0, &f);
	ck_assert_int_eq(f.not_spam, 1);
	report_facts_free(&f);
	analyse(&rc, spam, 1, &f);
	ck_assert_int_eq(f.not_spam, 1);
	report_facts_free(&f);
	ck_assert_int_eq(report_analyse(&rc, bad, strlen(bad), 0, &f, err, sizeof err), -1);
	ck_assert_str_eq(err, "feedback report without a message/feedback-report part");
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_conf_defaults_and_errors);
	tcase_add_test(tc, test_plain_message);
	tcase_add_test(tc, test_domain_sources_and_caps);
	tcase_add_test(tc, test_identity_makes_duplicates);
	tcase_add_test(tc, test_unlistable_origins);
	tcase_add_test(tc, test_not_spam_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
