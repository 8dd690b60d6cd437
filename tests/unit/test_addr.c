/* Tests for lib/addr.c: strict parsing, RFC 5952 output, IPv4-mapped storage,
 * CIDR prefixes and their host-bit errors, RFC 5782 reversed names both ways. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static char err[256];

/* Formats parse(in) and returns it in a static buffer ("ERR" on failure). */
static const char *roundtrip(const char *in)
{
	static char out[ADDR_TEXT_MAX];
	struct cr_addr a;

	if (addr_parse(in, &a, err, sizeof err) < 0)
		return "ERR";
	ck_assert_int_eq(addr_format(&a, out, sizeof out), (int)strlen(out));
	return out;
}

static const char *prefix_roundtrip(const char *in)
{
	static char out[ADDR_TEXT_MAX];
	struct cr_prefix p;

	if (addr_parse_prefix(in, &p, err, sizeof err) < 0)
		return "ERR";
	ck_assert_int_eq(addr_format_prefix(&p, out, sizeof out), (int)strlen(out));
	return out;
}

START_TEST(test_parse_ipv4_mapped_storage)
{
	struct cr_addr a;
	static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7 };

	ck_assert_int_eq(addr_parse("192.0.2.7", &a, err, sizeof err), 0);
	ck_assert_mem_eq(a.b, want, 16);
	ck_assert_int_eq(addr_is_v4(&a), 1);
	ck_assert_uint_eq(addr_to_v4(&a), 0xc0000207u);
	ck_assert_str_eq(roundtrip("0.0.0.0"), "0.0.0.0");
	ck_assert_str_eq(roundtrip("255.255.255.255"), "255.255.255.255");
}
END_TEST

START_TEST(test_from_v4_and_back)
{
	struct cr_addr a;
	char buf[ADDR_TEXT_MAX];

	addr_from_v4(&a, 0x7f000002u);
	ck_assert_int_eq(addr_is_v4(&a), 1);
	ck_assert_uint_eq(addr_to_v4(&a), 0x7f000002u);
	ck_assert_int_eq(addr_format(&a, buf, sizeof buf), 9);
	ck_assert_str_eq(buf, "127.0.0.2");
}
END_TEST

START_TEST(test_mapped_ipv6_text_is_ipv4)
{
	struct cr_addr a, b;

	ck_assert_int_eq(addr_parse("::ffff:7f00:2", &a, err, sizeof err), 0);
	ck_assert_int_eq(addr_parse("127.0.0.2", &b, err, sizeof err), 0);
	ck_assert_int_eq(addr_cmp(&a, &b), 0);
	ck_assert_int_eq(addr_is_v4(&a), 1);
	ck_assert_str_eq(roundtrip("::ffff:192.0.2.1"), "192.0.2.1");
	ck_assert_str_eq(roundtrip("::FFFF:C000:0201"), "192.0.2.1");
}
END_TEST

START_TEST(test_ipv4_strictness)
{
	static const char *const bad[] = {
		"1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3.4 ",
		" 1.2.3.4", "1..3.4", "1.2.3.", ".1.2.3", "1.2.3.-4", "0x1.2.3.4", "1.2.3.1000",
		"", "a.b.c.d", "1.2.3.4/32",
	};
	struct cr_addr a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(addr_parse(bad[i], &a, err, sizeof err) == -1, "accepted \"%s\"",
			      bad[i]);
	ck_assert_int_eq(addr_parse("1.2.3.256", &a, err, sizeof err), -1);
	ck_assert_str_eq(err, "1.2.3.256: not an IPv4 or IPv6 address");
	ck_assert_int_eq(addr_parse("", &a, err, sizeof err), -1);
	ck_assert_str_eq(err, "empty address");
	ck_assert_int_eq(addr_parse(NULL, &a, err, sizeof err), -1);
}
END_TEST

START_TEST(test_ipv6_strictness)
{
	static const char *const bad[] = {
		"fe80::1%eth0", "2001:db8::g", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "12345::",
		"2001:db8::1 ", ":1", "1::2::3", "::ffff:01.2.3.4",
		"2001:0db8:0000:0000:0000:0000:0000:0000:1",
	};
	struct cr_addr a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(addr_parse(bad[i], &a, err, sizeof err) == -1, "accepted \"%s\"",
			      bad[i]);
	ck_assert_int_eq(addr_parse("fe80::1%eth0", &a, err, sizeof err), -1);
	ck_assert_str_eq(err, "fe80::1%eth0: not an IPv4 or IPv6 address");
}
END_TEST

START_TEST(test_format_rfc5952)
{
	/* RFC 5952 4.1 no leading zeros, 4.2.1 longest run, 4.2.2 no single-group
	 * "::", 4.2.3 first of equal runs, 4.3 lower case. */
	ck_assert_str_eq(roundtrip("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
	ck_assert_str_eq(roundtrip("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
	ck_assert_str_eq(roundtrip("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	ck_assert_str_eq(roundtrip("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
	ck_assert_str_eq(roundtrip("::"), "::");
	ck_assert_str_eq(roundtrip("::1"), "::1");
	ck_assert_str_eq(roundtrip("1::"), "1::");
	ck_assert_str_eq(roundtrip("1:0:0:0:0:0:0:0"), "1::");
	ck_assert_str_eq(roundtrip("0:0:0:0:0:0:0:1"), "::1");
	ck_assert_str_eq(roundtrip("2001:DB8:ABCD:12::FFFF"), "2001:db8:abcd:12::ffff");
	ck_assert_str_eq(roundtrip("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
	/* IPv4-compatible (not mapped) stays IPv6 and is written in hex */
	ck_assert_str_eq(roundtrip("::1.2.3.4"), "::102:304");
	ck_assert_str_eq(roundtrip("::fffe:1.2.3.4"), "::fffe:102:304");
}
END_TEST

START_TEST(test_format_buffer_bounds)
{
	struct cr_addr a;
	char buf[ADDR_TEXT_MAX];

	ck_assert_int_eq(addr_parse("192.0.2.7", &a, err, sizeof err), 0);
	ck_assert_int_eq(addr_format(&a, buf, 10), 9);
	ck_assert_int_eq(addr_format(&a, buf, 9), -1);
	ck_assert_int_eq(addr_parse("1111:2222:3333:4444:5555:6666:7777:8888", &a, err,
				    sizeof err), 0);
	ck_assert_int_eq(addr_format(&a, buf, sizeof buf), 39);
	ck_assert_int_eq(addr_format(&a, buf, 39), -1);
}
END_TEST

START_TEST(test_prefix_parse_and_format)
{
	struct cr_prefix p;

	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/24", &p, err, sizeof err), 0);
	ck_assert_uint_eq(p.len, 120);
	ck_assert_uint_eq(addr_prefix_family_len(&p), 24);
	ck_assert_str_eq(prefix_roundtrip("192.0.2.0/24"), "192.0.2.0/24");
	ck_assert_str_eq(prefix_roundtrip("192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(prefix_roundtrip("192.0.2.7/32"), "192.0.2.7");
	ck_assert_str_eq(prefix_roundtrip("0.0.0.0/0"), "0.0.0.0/0");
	ck_assert_str_eq(prefix_roundtrip("2001:DB8::/32"), "2001:db8::/32");
	ck_assert_str_eq(prefix_roundtrip("2001:db8::1/128"), "2001:db8::1");
	ck_assert_str_eq(prefix_roundtrip("::/0"), "::/0");
	/* a mapped prefix written in IPv6 counts all 128 bits */
	ck_assert_str_eq(prefix_roundtrip("::ffff:192.0.2.0/120"), "192.0.2.0/24");
	ck_assert_int_eq(addr_parse_prefix("2001:db8::/32", &p, err, sizeof err), 0);
	ck_assert_uint_eq(p.len, 32);
	ck_assert_uint_eq(addr_prefix_family_len(&p), 32);
	ck_assert_int_eq(addr_parse_prefix("10.0.0.1", &p, err, sizeof err), 0);
	ck_assert_uint_eq(p.len, 128);
	ck_assert_uint_eq(addr_prefix_family_len(&p), 32);
}
END_TEST

START_TEST(test_prefix_host_bits_name_network)
{
	struct cr_prefix p;

	ck_assert_int_eq(addr_parse_prefix("192.0.2.1/24", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "192.0.2.1/24: host bits set (network is 192.0.2.0/24)");
	ck_assert_int_eq(addr_parse_prefix("2001:db8::1/32", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "2001:db8::1/32: host bits set (network is 2001:db8::/32)");
	ck_assert_int_eq(addr_parse_prefix("10.1.0.0/8", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "10.1.0.0/8: host bits set (network is 10.0.0.0/8)");
	ck_assert_int_eq(addr_parse_prefix("192.0.2.129/25", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "192.0.2.129/25: host bits set (network is 192.0.2.128/25)");
}
END_TEST

START_TEST(test_prefix_length_bounds)
{
	struct cr_prefix p;

	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/33", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "192.0.2.0/33: bad prefix length (must be 0..32)");
	ck_assert_int_eq(addr_parse_prefix("2001:db8::/129", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "2001:db8::/129: bad prefix length (must be 0..128)");
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/", &p, err, sizeof err), -1);
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/024", &p, err, sizeof err), -1);
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/-1", &p, err, sizeof err), -1);
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/2 4", &p, err, sizeof err), -1);
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/24/24", &p, err, sizeof err), -1);
	ck_assert_int_eq(addr_parse_prefix("192.0.2.0/32", &p, err, sizeof err), 0);
	ck_assert_int_eq(addr_parse_prefix("2001:db8::/128", &p, err, sizeof err), 0);
	ck_assert_int_eq(addr_parse_prefix("example.vn/24", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "example.vn/24: not an IPv4 or IPv6 prefix");
	ck_assert_int_eq(addr_parse_prefix("", &p, err, sizeof err), -1);
	ck_assert_str_eq(err, "empty address");
}
END_TEST

START_TEST(test_mask_and_contains)
{
	struct cr_prefix p;
	struct cr_addr a;

	ck_assert_int_eq(addr_parse_prefix("192.0.2.128/25", &p, err, sizeof err), 0);
	ck_assert_int_eq(addr_parse("192.0.2.200", &a, err, sizeof err), 0);
	ck_assert_int_eq(addr_prefix_contains(&p, &a), 1);
	ck_assert_int_eq(addr_parse("192.0.2.127", &a, err, sizeof err), 0);
	ck_assert_int_eq(addr_prefix_contains(&p, &a), 0);
	ck_assert_int_eq(addr_parse("2001:db8::1", &a, err, sizeof err), 0);
	ck_assert_int_eq(addr_prefix_contains(&p, &a), 0);
	/* ::/0 contains IPv4 too: one 128-bit space */
	ck_assert_int_eq(addr_parse_prefix("::/0", &p, err, sizeof err), 0);
	ck_assert_int_eq(addr_prefix_contains(&p, &a), 1);
	ck_assert_int_eq(addr_parse("192.0.2.255", &a, err, sizeof err), 0);
	addr_mask(&a, 96 + 20);
	char buf[ADDR_TEXT_MAX];
	addr_format(&a, buf, sizeof buf);
	ck_assert_str_eq(buf, "192.0.0.0");
	addr_mask(&a, 0);
	addr_format(&a, buf, sizeof buf);
	ck_assert_str_eq(buf, "::");
}
END_TEST

START_TEST(test_cmp_orders_addresses)
{
	struct cr_addr a, b;

	addr_parse("192.0.2.1", &a, err, sizeof err);
	addr_parse("192.0.2.2", &b, err, sizeof err);
	ck_assert_int_lt(addr_cmp(&a, &b), 0);
	ck_assert_int_gt(addr_cmp(&b, &a), 0);
	ck_assert_int_eq(addr_cmp(&a, &a), 0);
}
END_TEST

START_TEST(test_reverse_ipv4_octets)
{
	struct cr_addr a;
	char buf[ADDR_REVERSE_MAX];

	addr_parse("192.0.2.7", &a, err, sizeof err);
	ck_assert_int_eq(addr_reverse_name(&a, buf, sizeof buf), 9);
	ck_assert_str_eq(buf, "7.2.0.192");
	ck_assert_int_eq(addr_reverse_name(&a, buf, 9), -1);
}
END_TEST

START_TEST(test_reverse_ipv6_nibbles)
{
	struct cr_addr a;
	char buf[ADDR_REVERSE_MAX];

	/* RFC 5782 2.4 example */
	addr_parse("2001:db8:1:2:3:4:567:89ab", &a, err, sizeof err);
	ck_assert_int_eq(addr_reverse_name(&a, buf, sizeof buf), 63);
	ck_assert_str_eq(buf, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2");
	ck_assert_int_eq(addr_reverse_name(&a, buf, 63), -1);
}
END_TEST

START_TEST(test_parse_reverse_ipv4)
{
	struct cr_addr a;
	const char *q = "7.2.0.192.bl.example";

	ck_assert_int_eq(addr_parse_reverse_name(q, 9, &a), 0);
	ck_assert_uint_eq(addr_to_v4(&a), 0xc0000207u);
	ck_assert_int_eq(addr_parse_reverse_name("2.0.0.127", 9, &a), 0);
	ck_assert_uint_eq(addr_to_v4(&a), 0x7f000002u);
	ck_assert_int_eq(addr_parse_reverse_name("255.255.255.255", 15, &a), 0);
	ck_assert_uint_eq(addr_to_v4(&a), 0xffffffffu);
	ck_assert_int_eq(addr_parse_reverse_name("0.0.0.0", 7, &a), 0);
	ck_assert_int_eq(addr_is_v4(&a), 1);
}
END_TEST

START_TEST(test_parse_reverse_rejects)
{
	struct cr_addr a;
	static const char *const bad[] = {
		"2.0.0", "1.2.0.0.127", "2.0.0.256", "02.0.0.127", "2.0..127", "2.0.0.127.",
		".2.0.0.127", "a.0.0.127", "2.0.0.1x", "",
		/* 31 nibbles, 33 nibbles, a two-digit label, a non-hex digit */
		"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0",
		"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.0",
		"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.02",
		"g.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2",
		"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0..2",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(addr_parse_reverse_name(bad[i], strlen(bad[i]), &a) == -1,
			      "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_parse_reverse_ipv6_case_insensitive)
{
	struct cr_addr a, want;
	const char *q = "B.A.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.B.D.0.1.0.0.2.bl.test";

	ck_assert_int_eq(addr_parse_reverse_name(q, 63, &a), 0);
	addr_parse("2001:db8:1:2:3:4:567:89ab", &want, err, sizeof err);
	ck_assert_int_eq(addr_cmp(&a, &want), 0);
}
END_TEST

START_TEST(test_reverse_roundtrip_mapped_test_point)
{
	/* RFC 5782 5: the IPv6 test point ::FFFF:7F00:2 is 127.0.0.2 here. */
	struct cr_addr a;
	const char *q = "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
	char buf[ADDR_REVERSE_MAX];

	ck_assert_int_eq(addr_parse_reverse_name(q, strlen(q), &a), 0);
	ck_assert_int_eq(addr_is_v4(&a), 1);
	ck_assert_uint_eq(addr_to_v4(&a), 0x7f000002u);
	addr_parse("2001:db8::ff", &a, err, sizeof err);
	addr_reverse_name(&a, buf, sizeof buf);
	struct cr_addr back;
	ck_assert_int_eq(addr_parse_reverse_name(buf, strlen(buf), &back), 0);
	ck_assert_int_eq(addr_cmp(&a, &back), 0);
}
END_TEST

Suite *addr_suite(void);
Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_ipv4_mapped_storage);
	tcase_add_test(tc, test_from_v4_and_back);
	tcase_add_test(tc, test_mapped_ipv6_text_is_ipv4);
	tcase_add_test(tc, test_ipv4_strictness);
	tcase_add_test(tc, test_ipv6_strictness);
	tcase_add_test(tc, test_format_rfc5952);
	tcase_add_test(tc, test_format_buffer_bounds);
	tcase_add_test(tc, test_prefix_parse_and_format);
	tcase_add_test(tc, test_prefix_host_bits_name_network);
	tcase_add_test(tc, test_prefix_length_bounds);
	tcase_add_test(tc, test_mask_and_contains);
	tcase_add_test(tc, test_cmp_orders_addresses);
	tcase_add_test(tc, test_reverse_ipv4_octets);
	tcase_add_test(tc, test_reverse_ipv6_nibbles);
	tcase_add_test(tc, test_parse_reverse_ipv4);
	tcase_add_test(tc, test_parse_reverse_rejects);
	tcase_add_test(tc, test_parse_reverse_ipv6_case_insensitive);
	tcase_add_test(tc, test_reverse_roundtrip_mapped_test_point);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
