/* Tests for lib/arf.c: the RFC 5965 examples (tests/corpus/arf), RFC 6430
 * not-spam, text/rfc822-headers and base64 originals, malformed reports,
 * CRLF line ends, mbox splitting, and an outgoing report parsed back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arf.h"

static char err[512];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct arf_report *parse_file(const char *path)
{
	size_t len;
	char *buf = slurp(path, &len);
	struct arf_report *r = NULL;

	ck_assert_int_eq(arf_is_report(buf, len), 1);
	ck_assert_msg(arf_parse(buf, len, &r, err, sizeof err) == 0, "%s: %s", path, err);
	free(buf);
	return r;
}

static const char *ip_text(const struct arf_report *r)
{
	static char out[ADDR_TEXT_MAX];
	if (!r->has_source_ip)
		return "NONE";
	addr_format(&r->source_ip, out, sizeof out);
	return out;
}

START_TEST(test_rfc5965_simple_example)
{
	struct arf_report *r = parse_file("tests/corpus/arf/rfc5965-b1-simple.eml");

	ck_assert_str_eq(r->feedback_type, "abuse");
	ck_assert_str_eq(r->user_agent, "SomeGenerator/1.0");
	ck_assert_str_eq(r->version, "1");
	ck_assert_str_eq(ip_text(r), "NONE");
	ck_assert_uint_eq(r->n_reported_domain, 0);
	ck_assert_int_eq(r->headers_only, 0);
	ck_assert_ptr_nonnull(r->original);
	ck_assert_msg(strncmp(r->original, "Received: from mailserver.example.net", 37) == 0,
		      "original starts with \"%.40s\"", r->original);
	/* the part ends before the close delimiter's line end */
	ck_assert_msg(r->original_len > 14 &&
			      memcmp(r->original + r->original_len - 14, "Spam Spam Spam", 14) == 0,
		      "original ends with \"%.20s\"", r->original + r->original_len - 20);
	ck_assert_int_eq(arf_is_not_spam(r), 0);
	arf_free(r);
}
END_TEST

START_TEST(test_rfc5965_full_example)
{
	struct arf_report *r = parse_file("tests/corpus/arf/rfc5965-b2-full.eml");

	ck_assert_str_eq(r->feedback_type, "abuse");
	ck_assert_str_eq(r->original_mail_from, "somespammer@example.net");
	ck_assert_str_eq(r->original_rcpt_to, "user@example.com");
	ck_assert_str_eq(r->arrival_date, "Thu, 8 Mar 2005 14:00:00 EDT");
	ck_assert_str_eq(r->reporting_mta, "dns; mail.example.com");
	ck_assert_str_eq(ip_text(r), "192.0.2.1");
	ck_assert_uint_eq(r->n_reported_domain, 1);
	ck_assert_str_eq(r->reported_domain[0], "example.net");
	ck_assert_uint_eq(r->n_reported_uri, 2);
	ck_assert_str_eq(r->reported_uri[0], "http://example.net/earn_money.html");
	ck_assert_str_eq(r->reported_uri[1], "mailto:user@example.com");
	ck_assert_msg(strncmp(r->original, "From: <somespammer@example.net>", 31) == 0,
		      "original starts with \"%.40s\"", r->original);
	arf_free(r);
}
END_TEST

START_TEST(test_rfc6430_not_spam_headers_only)
{
	struct arf_report *r = parse_file("tests/corpus/arf/rfc6430-not-spam.eml");

	ck_assert_str_eq(r->feedback_type, "not-spam");
	ck_assert_int_eq(arf_is_not_spam(r), 1);
	ck_assert_int_eq(r->headers_only, 1);
	ck_assert_str_eq(ip_text(r), "198.51.100.40");
	ck_assert_ptr_nonnull(strstr(r->original, "Message-ID: <monthly-2026-12@partner.example>"));
	arf_free(r);
}
END_TEST

START_TEST(test_base64_original_and_bracketed_ipv6_source)
{
	struct arf_report *r = parse_file("tests/corpus/arf/base64-original.eml");

	ck_assert_str_eq(ip_text(r), "2001:db8:77::5");
	ck_assert_msg(strncmp(r->original, "Received: from ipv6.spam.example", 32) == 0,
		      "decoded original starts with \"%.40s\"", r->original);
	ck_assert_ptr_nonnull(strstr(r->original, "https://www.promo.example.org/deal"));
	arf_free(r);
}
END_TEST

START_TEST(test_crlf_and_quoted_parameters)
{
	const char *m =
		"Subject: x\r\nMIME-Version: 1.0\r\n"
		"Content-Type: Multipart/Report; boundary=\"b;1\"; REPORT-TYPE=\"Feedback-Report\"\r\n"
		"\r\n--b;1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
		"--b;1\r\nContent-Type: message/feedback-report\r\n\r\n"
		"Feedback-Type: Fraud\r\nSource-IP: 192.0.2.44\r\nReported-Domain: Bad.Example\r\n\r\n"
		"--b;1\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@bad.example\r\n\r\nbody\r\n"
		"--b;1--\r\n";
	struct arf_report *r = NULL;

	ck_assert_int_eq(arf_is_report(m, strlen(m)), 1);
	ck_assert_int_eq(arf_parse(m, strlen(m), &r, err, sizeof err), 0);
	ck_assert_str_eq(r->feedback_type, "fraud");
	ck_assert_str_eq(ip_text(r), "192.0.2.44");
	ck_assert_str_eq(r->reported_domain[0], "bad.example");
	ck_assert_uint_eq(r->original_len, strlen("From: a@bad.example\r\n\r\nbody"));
	arf_free(r);
}
END_TEST

START_TEST(test_malformed_reports)
{
	struct arf_report *r = (struct arf_report *)1;
	const char *plain = "From: a@b.example\nSubject: hi\n\nbody\n";
	const char *nobnd = "Content-Type: multipart/report; report-type=feedback-report\n\nx\n";
	const char *nofb = "Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n"
			   "--B\nContent-Type: text/plain\n\nhello\n--B--\n";
	const char *notype = "Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n"
			     "--B\nContent-Type: message/feedback-report\n\nVersion: 1\n--B--\n";
	const char *other = "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
			    "--B\n\n--B--\n";

	ck_assert_int_eq(arf_is_report(plain, strlen(plain)), 0);
	ck_assert_int_eq(arf_parse(plain, strlen(plain), &r, err, sizeof err), -1);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, "not a feedback report: Content-Type is \"(none)\"");
	ck_assert_int_eq(arf_parse(nobnd, strlen(nobnd), &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "multipart/report without a boundary parameter");
	ck_assert_int_eq(arf_parse(nofb, strlen(nofb), &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "feedback report without a message/feedback-report part");
	ck_assert_int_eq(arf_parse(notype, strlen(notype), &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "feedback report without a Feedback-Type field");
	ck_assert_int_eq(arf_is_report(other, strlen(other)), 0);
	/* truncated anywhere: never crashes, never reads past the end */
	size_t len;
	char *full = slurp("tests/corpus/arf/rfc5965-b2-full.eml", &len);
	for (size_t cut = 0; cut < len; cut += 7) {
		char *part = malloc(cut + 1);
		memcpy(part, full, cut);
		if (arf_parse(part, cut, &r, err, sizeof err) == 0)
			arf_free(r);
		free(part);
	}
	free(full);
}
END_TEST

struct collected {
	size_t n;
	char first[64][40];
	size_t len[64];
};

static int collect(void *ud, const char *m, size_t len, size_t index)
{
	struct collected *c = ud;
	ck_assert_uint_eq(index, c->n);
	snprintf(c->first[c->n], sizeof c->first[0], "%.*s", (int)(len < 30 ? len : 30), m);
	c->len[c->n] = len;
	c->n++;
	return 0;
}

START_TEST(test_mbox_split)
{
	const char *mbox = "From a@b Tue Dec  1 10:00:00 2026\nSubject: one\n\nbody one\n"
			   "From is not a separator inside a paragraph\n\n"
			   "From c@d Tue Dec  1 10:01:00 2026\nSubject: two\n\nbody two\n";
	const char *single = "Subject: only\n\nbody\n";
	struct collected c;

	memset(&c, 0, sizeof c);
	ck_assert_uint_eq(arf_split_mbox(mbox, strlen(mbox), collect, &c), 2);
	ck_assert_str_eq(c.first[0], "Subject: one\n\nbody one\nFrom is");
	ck_assert_str_eq(c.first[1], "Subject: two\n\nbody two\n");
	memset(&c, 0, sizeof c);
	ck_assert_uint_eq(arf_split_mbox(single, strlen(single), collect, &c), 1);
	ck_assert_uint_eq(c.len[0], strlen(single));
	memset(&c, 0, sizeof c);
	ck_assert_uint_eq(arf_split_mbox("", 0, collect, &c), 0);
}
END_TEST

START_TEST(test_write_then_parse_back)
{
	const char *orig = "Received: from x (x [203.0.113.9]) by mx\nFrom: s@spam.example\n"
			   "Subject: buy\n\nbody line\n";
	const char *doms[] = { "spam.example", "click.example" };
	struct arf_out o;
	struct arf_report *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&o, 0, sizeof o);
	o.feedback_type = "abuse";
	o.from = "abuse@isp.example.vn";
	o.user_agent = "chanrac/1";
	o.reporting_mta = "mx.isp.example.vn";
	o.source_ip = "203.0.113.9";
	o.original_mail_from = "s@spam.example";
	o.reported_domains = doms;
	o.n_reported_domains = 2;
	o.now = 1796100000;
	ck_assert_int_eq(arf_write(f, &o, orig, strlen(orig)), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "Content-Type: multipart/report; report-type=feedback-report;"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nFeedback-Type: abuse\r\nUser-Agent: chanrac/1\r\n"
					  "Version: 1\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Reporting-MTA: dns; mx.isp.example.vn\r\n"));
	ck_assert_int_eq(arf_parse(buf, len, &r, err, sizeof err), 0);
	ck_assert_str_eq(r->feedback_type, "abuse");
	ck_assert_str_eq(ip_text(r), "203.0.113.9");
	ck_assert_str_eq(r->original_mail_from, "s@spam.example");
	ck_assert_uint_eq(r->n_reported_domain, 2);
	ck_assert_str_eq(r->reported_domain[1], "click.example");
	ck_assert_ptr_nonnull(strstr(r->original, "Subject: buy\r\n\r\nbody line"));
	arf_free(r);
	free(buf);
}
END_TEST

static Suite *arf_suite(void)
{
	Suite *s = suite_create("arf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_rfc5965_simple_example);
	tcase_add_test(tc, test_rfc5965_full_example);
	tcase_add_test(tc, test_rfc6430_not_spam_headers_only);
	tcase_add_test(tc, test_base64_original_and_bracketed_ipv6_source);
	tcase_add_test(tc, test_crlf_and_quoted_parameters);
	tcase_add_test(tc, test_malformed_reports);
	tcase_add_test(tc, test_mbox_split);
	tcase_add_test(tc, test_write_then_parse_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(arf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
