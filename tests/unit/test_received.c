/* Tests for lib/received.c: the client address of the common MTAs' Received
 * formats, and the walk down the chain to the originating IP with forged
 * fields below the trusted boundary. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "received.h"

static const char *hop_ip(const char *value)
{
	static char out[ADDR_TEXT_MAX];
	struct received_hop h;

	if (received_parse(value, &h) < 0)
		return "NONE";
	ck_assert_int_eq(h.has_ip, 1);
	addr_format(&h.ip, out, sizeof out);
	return out;
}

START_TEST(test_postfix_format)
{
	struct received_hop h;
	const char *v = "from mail.example.net (mail.example.net [192.0.2.1]) by mx.isp.vn "
			"(Postfix) with ESMTPS id 4AB0 for <u@isp.vn>; Tue, 1 Dec 2026 10:00:01 +0700";

	ck_assert_int_eq(received_parse(v, &h), 0);
	ck_assert_str_eq(hop_ip(v), "192.0.2.1");
	ck_assert_str_eq(h.helo, "mail.example.net");
	ck_assert_str_eq(h.rdns, "mail.example.net");
	ck_assert_str_eq(h.by, "mx.isp.vn");
	ck_assert_str_eq(h.date, "Tue, 1 Dec 2026 10:00:01 +0700");
}
END_TEST

START_TEST(test_postfix_unknown_rdns_and_forged_helo_literal)
{
	struct received_hop h;
	/* the HELO is a literal the client chose; the real address is in the comment */
	const char *v = "from [10.0.0.1] (unknown [203.0.113.77]) by mx.isp.vn (Postfix)";

	ck_assert_str_eq(hop_ip(v), "203.0.113.77");
	ck_assert_int_eq(received_parse(v, &h), 0);
	ck_assert_str_eq(h.rdns, "unknown");
	ck_assert_str_eq(h.helo, "[10.0.0.1]");
}
END_TEST

START_TEST(test_exim_sendmail_qmail_exchange_formats)
{
	/* Exim with rDNS, port and helo= */
	ck_assert_str_eq(hop_ip("from host.example ([198.51.100.3]:41234 helo=fake.example) "
				"by mx.example with esmtps (Exim 4.96)"), "198.51.100.3");
	/* Exim without rDNS */
	ck_assert_str_eq(hop_ip("from [198.51.100.4] (helo=fake.example) by mx with smtp"),
			 "198.51.100.4");
	/* Sendmail */
	ck_assert_str_eq(hop_ip("from helo.example (rdns.example [192.0.2.9]) by mx.example "
				"(8.17.1/8.17.1) with ESMTP id 1B2"), "192.0.2.9");
	/* qmail */
	ck_assert_str_eq(hop_ip("from unknown (HELO fake.example) (192.0.2.10) by mx.example "
				"with SMTP; 1 Dec 2026"), "192.0.2.10");
	/* Exchange */
	ck_assert_str_eq(hop_ip("from EXCH01.corp.example (10.1.2.3) by EXCH02.corp.example "
				"(10.1.2.4) with Microsoft SMTP Server"), "10.1.2.3");
	/* IPv6 with the IPv6: tag */
	ck_assert_str_eq(hop_ip("from v6.example (v6.example [IPv6:2001:db8::25]) by mx"),
			 "2001:db8::25");
	/* folded and tab-indented, as unfolding leaves it */
	ck_assert_str_eq(hop_ip("from mailserver.example.net\t(mailserver.example.net "
				"[192.0.2.1])\tby example.com with ESMTP id M63d4137594e46;\t"
				"Thu, 08 Mar 2005 14:00:00 -0400"), "192.0.2.1");
}
END_TEST

START_TEST(test_no_client_address)
{
	struct received_hop h;

	ck_assert_str_eq(hop_ip("by submit.isp.vn (Postfix, from userid 1000) id 5AA9; "
				"Tue, 1 Dec 2026"), "NONE");
	ck_assert_str_eq(hop_ip("from localhost by mx with LMTP"), "NONE");
	ck_assert_str_eq(hop_ip(""), "NONE");
	ck_assert_int_eq(received_parse(NULL, &h), -1);
	/* a bracket that is not an address, a bad address */
	ck_assert_str_eq(hop_ip("from x ([not-an-ip]) by y"), "NONE");
	ck_assert_str_eq(hop_ip("from x (x [192.0.2.300]) by y"), "NONE");
	/* an address after "by" is the receiver's, not the client's */
	ck_assert_str_eq(hop_ip("from x by mx.example (192.0.2.50)"), "NONE");
}
END_TEST

static void trusted_set(struct cr_prefix *t, size_t *n)
{
	const char *const nets[] = { "127.0.0.0/8", "::1", "10.20.0.0/16", "198.51.100.25" };
	*n = 0;
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(addr_parse_prefix(nets[i], &t[(*n)++], NULL, 0), 0);
}

START_TEST(test_origin_skips_trusted_and_ignores_forged_below)
{
	struct cr_prefix t[4];
	size_t nt;
	struct received_origin o;
	char ip[ADDR_TEXT_MAX];
	const char *chain[] = {
		"from mx1.isp (mx1.isp [10.20.0.5]) by mailbox.isp (Postfix) with LMTP",
		"by mx1.isp (Postfix, from userid 0)",
		"from bulk.spam (unknown [203.0.113.77]) by mx1.isp (Postfix) with ESMTP",
		/* forged by the sender: claims our relay and loopback handed it on */
		"from [10.20.0.9] (relay.isp [10.20.0.9]) by relay.isp with SMTP",
		"from localhost (localhost [127.0.0.1]) by relay.isp",
		"from friend (friend [192.0.2.200]) by relay.isp",
	};

	trusted_set(t, &nt);
	ck_assert_int_eq(received_origin(chain, 6, t, nt, &o), 1);
	addr_format(&o.ip, ip, sizeof ip);
	ck_assert_str_eq(ip, "203.0.113.77");
	ck_assert_uint_eq(o.hop, 2);
	ck_assert_uint_eq(o.trusted, 1);
	ck_assert_str_eq(o.detail.by, "mx1.isp");
	/* without trusted relays the first client counts */
	ck_assert_int_eq(received_origin(chain, 6, NULL, 0, &o), 1);
	addr_format(&o.ip, ip, sizeof ip);
	ck_assert_str_eq(ip, "10.20.0.5");
	ck_assert_uint_eq(o.hop, 0);
}
END_TEST

START_TEST(test_origin_all_trusted_or_empty)
{
	struct cr_prefix t[4];
	size_t nt;
	struct received_origin o;
	const char *chain[] = {
		"from mx1 (mx1 [10.20.0.5]) by mailbox",
		"from submit (submit [10.20.1.7]) by mx1",
		"from relay (relay [198.51.100.25]) by submit",
	};

	trusted_set(t, &nt);
	ck_assert_int_eq(received_origin(chain, 3, t, nt, &o), 0);
	ck_assert_int_eq(o.found, 0);
	ck_assert_uint_eq(o.trusted, 3);
	ck_assert_int_eq(received_origin(chain, 0, t, nt, &o), 0);
}
END_TEST

START_TEST(test_origin_ipv6_and_public_own_relay)
{
	struct cr_prefix t[4];
	size_t nt;
	struct received_origin o;
	char ip[ADDR_TEXT_MAX];
	const char *chain[] = {
		"from relay (relay [198.51.100.25]) by mailbox",
		"from lo (localhost [IPv6:::1]) by relay",
		"from v6 (v6 [IPv6:2001:db8:77::5]) by relay",
	};

	trusted_set(t, &nt);
	ck_assert_int_eq(received_origin(chain, 3, t, nt, &o), 1);
	addr_format(&o.ip, ip, sizeof ip);
	ck_assert_str_eq(ip, "2001:db8:77::5");
	ck_assert_uint_eq(o.trusted, 2);
}
END_TEST

static const char *special(const char *text)
{
	struct cr_addr a;
	const char *why;

	ck_assert_int_eq(addr_parse(text, &a, NULL, 0), 0);
	why = received_special_addr(&a);
	return why ? why : "public";
}

START_TEST(test_special_addresses)
{
	ck_assert_str_eq(special("10.1.2.3"), "private");
	ck_assert_str_eq(special("172.16.0.1"), "private");
	ck_assert_str_eq(special("172.31.255.255"), "private");
	ck_assert_str_eq(special("172.32.0.1"), "public");
	ck_assert_str_eq(special("192.168.1.50"), "private");
	ck_assert_str_eq(special("127.0.0.1"), "loopback");
	ck_assert_str_eq(special("169.254.1.1"), "link-local");
	ck_assert_str_eq(special("100.64.0.1"), "shared address space");
	ck_assert_str_eq(special("100.128.0.1"), "public");
	ck_assert_str_eq(special("0.1.2.3"), "this network");
	ck_assert_str_eq(special("224.0.0.1"), "multicast");
	ck_assert_str_eq(special("255.255.255.255"), "reserved");
	ck_assert_str_eq(special("198.18.0.1"), "benchmarking");
	/* documentation ranges stand for the public Internet in examples */
	ck_assert_str_eq(special("192.0.2.1"), "public");
	ck_assert_str_eq(special("203.0.113.77"), "public");
	ck_assert_str_eq(special("2001:db8::1"), "public");
	ck_assert_str_eq(special("::1"), "loopback");
	ck_assert_str_eq(special("fd00::1"), "private (unique local)");
	ck_assert_str_eq(special("fe80::1"), "link-local");
	ck_assert_str_eq(special("ff02::1"), "multicast");
	ck_assert_str_eq(special("4000::1"), "reserved");
	ck_assert_str_eq(special("::ffff:10.0.0.1"), "private");
}
END_TEST

static Suite *received_suite(void)
{
	Suite *s = suite_create("received");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_postfix_format);
	tcase_add_test(tc, test_postfix_unknown_rdns_and_forged_helo_literal);
	tcase_add_test(tc, test_exim_sendmail_qmail_exchange_formats);
	tcase_add_test(tc, test_no_client_address);
	tcase_add_test(tc, test_origin_skips_trusted_and_ignores_forged_below);
	tcase_add_test(tc, test_origin_all_trusted_or_empty);
	tcase_add_test(tc, test_origin_ipv6_and_public_own_relay);
	tcase_add_test(tc, test_special_addresses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(received_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
