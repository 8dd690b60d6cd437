/* Tests for lib/listing.c: entry keys (addresses, CIDRs, names, wildcards,
 * exclusions), the encoded value, return codes in 127.0.0.0/8, text cleaning on
 * UTF-8 boundaries and list-name validation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"

static char err[512];

/* parse then format a key; "ERR" on a parse error. */
static const char *key_roundtrip(const char *in)
{
	static char out[LISTING_KEY_MAX];
	struct listing_entry e;

	if (listing_parse_key(in, &e, err, sizeof err) < 0)
		return "ERR";
	ck_assert_int_eq(listing_format_key(&e, out, sizeof out), (int)strlen(out));
	return out;
}

START_TEST(test_valid_list_names)
{
	char name[70];

	ck_assert_int_eq(listing_valid_list_name("spam-ip"), 1);
	ck_assert_int_eq(listing_valid_list_name("a"), 1);
	ck_assert_int_eq(listing_valid_list_name("dbl_2"), 1);
	ck_assert_int_eq(listing_valid_list_name(""), 0);
	ck_assert_int_eq(listing_valid_list_name(NULL), 0);
	ck_assert_int_eq(listing_valid_list_name("1spam"), 0);
	ck_assert_int_eq(listing_valid_list_name("-spam"), 0);
	ck_assert_int_eq(listing_valid_list_name("Spam"), 0);
	ck_assert_int_eq(listing_valid_list_name("spam ip"), 0);
	ck_assert_int_eq(listing_valid_list_name("spam:ip"), 0);
	ck_assert_int_eq(listing_valid_list_name("spam.ip"), 0);
	memset(name, 'a', 63);
	name[63] = '\0';
	ck_assert_int_eq(listing_valid_list_name(name), 1);
	name[63] = 'a';
	name[64] = '\0';
	ck_assert_int_eq(listing_valid_list_name(name), 0);
}
END_TEST

START_TEST(test_parse_key_addresses)
{
	struct listing_entry e;

	ck_assert_int_eq(listing_parse_key("192.0.2.0/24", &e, err, sizeof err), 0);
	ck_assert_int_eq(e.kind, LISTING_ADDR);
	ck_assert(!e.exclude);
	ck_assert_uint_eq(e.prefix.len, 120);
	ck_assert_uint_eq(e.code, LISTING_CODE_DEFAULT);
	ck_assert_int_eq(e.added, 0);
	ck_assert_int_eq(e.expires, 0);
	ck_assert_str_eq(e.reason, "");
	ck_assert_str_eq(e.source, "");
	ck_assert_str_eq(e.name, "");
	ck_assert_str_eq(key_roundtrip("192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(key_roundtrip("192.0.2.7/32"), "192.0.2.7");
	ck_assert_str_eq(key_roundtrip("2001:DB8::/32"), "2001:db8::/32");
	ck_assert_str_eq(key_roundtrip("2001:db8::1"), "2001:db8::1");
	ck_assert_str_eq(key_roundtrip("::ffff:7f00:2"), "127.0.0.2");
}
END_TEST

START_TEST(test_parse_key_exclusions)
{
	struct listing_entry e;

	ck_assert_int_eq(listing_parse_key("!192.0.2.7", &e, err, sizeof err), 0);
	ck_assert(e.exclude);
	ck_assert_int_eq(e.kind, LISTING_ADDR);
	ck_assert_str_eq(key_roundtrip("!192.0.2.0/25"), "!192.0.2.0/25");
	ck_assert_str_eq(key_roundtrip("!2001:db8::/48"), "!2001:db8::/48");
	ck_assert_str_eq(key_roundtrip("!Example.VN"), "!example.vn");
	ck_assert_str_eq(key_roundtrip("!*.example.vn"), "!*.example.vn");
	ck_assert_str_eq(key_roundtrip("!"), "ERR");
	ck_assert_str_eq(err, "\"!\": exclusion of nothing");
	ck_assert_str_eq(key_roundtrip("!!1.2.3.4"), "ERR");
}
END_TEST

START_TEST(test_parse_key_domains_and_wildcards)
{
	struct listing_entry e;

	ck_assert_int_eq(listing_parse_key("Shop.Example.VN.", &e, err, sizeof err), 0);
	ck_assert_int_eq(e.kind, LISTING_DOMAIN);
	ck_assert_str_eq(e.name, "shop.example.vn");
	ck_assert_int_eq(listing_parse_key("*.example.vn", &e, err, sizeof err), 0);
	ck_assert_int_eq(e.kind, LISTING_WILDCARD);
	ck_assert_str_eq(e.name, "example.vn");
	ck_assert_str_eq(key_roundtrip("*.Việt-Nam.vn"), "*.xn--vit-nam-zv4c.vn");
	ck_assert_str_eq(key_roundtrip("bücher.com.vn"), "xn--bcher-kva.com.vn");
	ck_assert_str_eq(key_roundtrip("test"), "test");
}
END_TEST

START_TEST(test_parse_key_errors)
{
	struct listing_entry e;

	ck_assert_int_eq(listing_parse_key("", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "empty entry");
	ck_assert_int_eq(listing_parse_key(NULL, &e, err, sizeof err), -1);
	ck_assert_int_eq(listing_parse_key("192.0.2.1/24", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "192.0.2.1/24: host bits set (network is 192.0.2.0/24)");
	/* all-numeric text is an address, so a bad one is a bad address */
	ck_assert_int_eq(listing_parse_key("192.0.2.300", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "192.0.2.300: not an IPv4 or IPv6 address");
	ck_assert_int_eq(listing_parse_key("1.2.3", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "1.2.3: not an IPv4 or IPv6 address");
	ck_assert_int_eq(listing_parse_key("*", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "*: a wildcard is \"*.\" followed by a name");
	ck_assert_int_eq(listing_parse_key("*.", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "*.: a wildcard is \"*.\" followed by a name");
	ck_assert_int_eq(listing_parse_key("*example.vn", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "*example.vn: a wildcard is \"*.\" followed by a name");
	ck_assert_int_eq(listing_parse_key("a.*.vn", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "a.*.vn: character '*' not allowed in a domain name");
	ck_assert_int_eq(listing_parse_key("a..vn", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, "a..vn: empty label");
	ck_assert_int_eq(listing_parse_key(" example.vn", &e, err, sizeof err), -1);
	ck_assert_str_eq(err, " example.vn: character 0x20 not allowed in a domain name");
}
END_TEST

START_TEST(test_format_key_bounds)
{
	struct listing_entry e;
	char buf[LISTING_KEY_MAX];
	char key[300];

	/* the longest key: "!*." and a 253-character name */
	snprintf(key, sizeof key, "!*.%.63s.%.63s.%.63s.%.61s",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ck_assert_uint_eq(strlen(key), 256);
	ck_assert_int_eq(listing_parse_key(key, &e, err, sizeof err), 0);
	ck_assert_int_eq(listing_format_key(&e, buf, sizeof buf), 256);
	ck_assert_uint_eq(sizeof buf, 257);
	ck_assert_str_eq(buf, key);
	ck_assert_int_eq(listing_format_key(&e, buf, 256), -1);
}
END_TEST

START_TEST(test_parse_code_forms)
{
	uint32_t c;
	char buf[16];

	ck_assert_int_eq(listing_parse_code("127.0.0.2", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c, 0x7f000002u);
	ck_assert_int_eq(listing_parse_code("2", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c, 0x7f000002u);
	ck_assert_int_eq(listing_parse_code("255", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c, 0x7f0000ffu);
	ck_assert_int_eq(listing_parse_code("127.0.1.2", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c, 0x7f000102u);
	ck_assert_int_eq(listing_parse_code("127.255.255.255", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c, 0x7fffffffu);
	listing_format_code(0x7f000102u, buf, sizeof buf);
	ck_assert_str_eq(buf, "127.0.1.2");
}
END_TEST

START_TEST(test_parse_code_rejects)
{
	uint32_t c = 99;

	ck_assert_int_eq(listing_parse_code("127.0.0.1", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "127.0.0.1: return code 127.0.0.1 is reserved (RFC 5782 2.3: "
			      "it would mean every query is listed)");
	ck_assert_int_eq(listing_parse_code("1", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "1: return code 127.0.0.1 is reserved (RFC 5782 2.3: "
			      "it would mean every query is listed)");
	ck_assert_int_eq(listing_parse_code("0", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "0: return code N must be 2..255");
	ck_assert_int_eq(listing_parse_code("256", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "256: return code N must be 2..255");
	ck_assert_int_eq(listing_parse_code("1000", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "1000: return code must be 127.0.0.N or N");
	ck_assert_int_eq(listing_parse_code("02", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "02: return code must be 127.0.0.N or N");
	ck_assert_int_eq(listing_parse_code("-2", &c, err, sizeof err), -1);
	ck_assert_int_eq(listing_parse_code("10.0.0.2", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "10.0.0.2: return code must lie in 127.0.0.0/8 (RFC 5782 2.3)");
	ck_assert_int_eq(listing_parse_code("128.0.0.2", &c, err, sizeof err), -1);
	ck_assert_int_eq(listing_parse_code("127.0.0.256", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "127.0.0.256: return code must be 127.0.0.N or N");
	ck_assert_int_eq(listing_parse_code("::ffff:127.0.0.2", &c, err, sizeof err), -1);
	ck_assert_int_eq(listing_parse_code("", &c, err, sizeof err), -1);
	ck_assert_str_eq(err, "empty return code");
	ck_assert_uint_eq(c, 99); /* untouched on error */
}
END_TEST

START_TEST(test_value_roundtrip)
{
	struct listing_entry e, d;
	char buf[LISTING_VALUE_MAX];

	memset(&e, 0, sizeof e);
	e.code = 0x7f000003u;
	e.added = 1763847600;
	e.expires = 1766439600;
	strcpy(e.source, "abuse@isp.vn");
	strcpy(e.reason, "Quảng cáo không có nhãn [QC]");
	int n = listing_encode_value(&e, buf, sizeof buf);
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_str_eq(buf, "v1\t127.0.0.3\t1763847600\t1766439600\tabuse@isp.vn\t"
			      "Quảng cáo không có nhãn [QC]");
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(listing_decode_value(buf, strlen(buf), &d), 0);
	ck_assert_uint_eq(d.code, e.code);
	ck_assert_int_eq(d.added, e.added);
	ck_assert_int_eq(d.expires, e.expires);
	ck_assert_str_eq(d.source, e.source);
	ck_assert_str_eq(d.reason, e.reason);
}
END_TEST

START_TEST(test_value_empty_text_fields)
{
	struct listing_entry e, d;
	char buf[LISTING_VALUE_MAX];

	memset(&e, 0, sizeof e);
	e.code = LISTING_CODE_DEFAULT;
	ck_assert_int_eq(listing_encode_value(&e, buf, sizeof buf), 18);
	ck_assert_str_eq(buf, "v1\t127.0.0.2\t0\t0\t\t");
	strcpy(d.reason, "old");
	strcpy(d.source, "old");
	ck_assert_int_eq(listing_decode_value(buf, strlen(buf), &d), 0);
	ck_assert_str_eq(d.reason, "");
	ck_assert_str_eq(d.source, "");
	ck_assert_int_eq(d.expires, 0);
}
END_TEST

START_TEST(test_value_control_chars_never_break_fields)
{
	struct listing_entry e, d;
	char buf[LISTING_VALUE_MAX];

	memset(&e, 0, sizeof e);
	e.code = LISTING_CODE_DEFAULT;
	strcpy(e.source, "cli\tuser");
	strcpy(e.reason, "line1\nline2\tend");
	ck_assert_int_gt(listing_encode_value(&e, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "v1\t127.0.0.2\t0\t0\tcli user\tline1 line2 end");
	ck_assert_int_eq(listing_decode_value(buf, strlen(buf), &d), 0);
	ck_assert_str_eq(d.source, "cli user");
	ck_assert_str_eq(d.reason, "line1 line2 end");
}
END_TEST

START_TEST(test_value_max_fits)
{
	struct listing_entry e, d;
	char buf[LISTING_VALUE_MAX];

	memset(&e, 0, sizeof e);
	e.code = 0x7fffffffu;
	e.added = INT64_MAX;
	e.expires = INT64_MAX;
	memset(e.source, 's', LISTING_SOURCE_MAX);
	memset(e.reason, 'r', LISTING_REASON_MAX);
	int n = listing_encode_value(&e, buf, sizeof buf);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, LISTING_VALUE_MAX);
	ck_assert_int_eq(listing_decode_value(buf, (size_t)n, &d), 0);
	ck_assert_int_eq(d.added, INT64_MAX);
	ck_assert_uint_eq(strlen(d.reason), LISTING_REASON_MAX);
	ck_assert_uint_eq(strlen(d.source), LISTING_SOURCE_MAX);
	ck_assert_int_eq(listing_encode_value(&e, buf, (size_t)n), -1);
	ck_assert_int_eq(listing_encode_value(&e, buf, 10), -1);
}
END_TEST

START_TEST(test_value_decode_rejects)
{
	struct listing_entry d;
	static const char *const bad[] = {
		"",
		"v2\t127.0.0.2\t0\t0\t\t",
		"v1\t127.0.0.1\t0\t0\t\t",
		"v1\t2\t0\t0\t\t",
		"v1\t10.0.0.2\t0\t0\t\t",
		"v1\t127.0.0.2\t-1\t0\t\t",
		"v1\t127.0.0.2\t0\tx\t\t",
		"v1\t127.0.0.2\t\t0\t\t",
		"v1\t127.0.0.2\t0\t0\t",
		"v1\t127.0.0.2\t0\t0",
		"v1\t127.0.0.2\t0\t0\tsrc\treason\textra",
		"v1\t127.0.0.2\t99999999999999999999\t0\t\t",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(listing_decode_value(bad[i], strlen(bad[i]), &d) == -1,
			      "accepted \"%s\"", bad[i]);
	/* an embedded NUL is corruption */
	ck_assert_int_eq(listing_decode_value("v1\t127.0.0.2\t0\t0\ts\0x\tr", 22, &d), -1);
	/* over-long source and reason */
	char big[600];
	int n = snprintf(big, sizeof big, "v1\t127.0.0.2\t0\t0\t%0128d\tr", 0);
	ck_assert_int_eq(listing_decode_value(big, (size_t)n, &d), -1);
	n = snprintf(big, sizeof big, "v1\t127.0.0.2\t0\t0\ts\t%0256d", 0);
	ck_assert_int_eq(listing_decode_value(big, (size_t)n, &d), -1);
	n = snprintf(big, sizeof big, "v1\t127.0.0.2\t0\t0\ts\t%0255d", 0);
	ck_assert_int_eq(listing_decode_value(big, (size_t)n, &d), 0);
}
END_TEST

START_TEST(test_decode_uses_length_not_nul)
{
	struct listing_entry d;
	const char *v = "v1\t127.0.0.4\t5\t6\tsrc\treasonTRAILING";

	ck_assert_int_eq(listing_decode_value(v, strlen(v) - 8, &d), 0);
	ck_assert_str_eq(d.reason, "reason");
	ck_assert_uint_eq(d.code, 0x7f000004u);
}
END_TEST

START_TEST(test_clean_text_controls)
{
	char s[64] = "a\tb\r\nc\x7f" "d\x01";

	listing_clean_text(s, 255);
	ck_assert_str_eq(s, "a b  c d ");
}
END_TEST

START_TEST(test_clean_text_truncates_on_utf8_boundary)
{
	char s[64];

	/* "Việt" is V i ệ(3 bytes) t: cutting at 4 would split ệ */
	strcpy(s, "Việt Nam");
	listing_clean_text(s, 4);
	ck_assert_str_eq(s, "Vi");
	strcpy(s, "Việt Nam");
	listing_clean_text(s, 5);
	ck_assert_str_eq(s, "Việ");
	strcpy(s, "Việt Nam");
	listing_clean_text(s, 3);
	ck_assert_str_eq(s, "Vi");
	strcpy(s, "abc");
	listing_clean_text(s, 3);
	ck_assert_str_eq(s, "abc");
	listing_clean_text(s, 2);
	ck_assert_str_eq(s, "ab");
	strcpy(s, "ệ");
	listing_clean_text(s, 2);
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(test_expired)
{
	struct listing_entry e;

	memset(&e, 0, sizeof e);
	ck_assert_int_eq(listing_expired(&e, 2000000000), 0); /* 0 = never */
	e.expires = 1000;
	ck_assert_int_eq(listing_expired(&e, 999), 0);
	ck_assert_int_eq(listing_expired(&e, 1000), 1);
	ck_assert_int_eq(listing_expired(&e, 1001), 1);
}
END_TEST

Suite *listing_suite(void);
Suite *listing_suite(void)
{
	Suite *s = suite_create("listing");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid_list_names);
	tcase_add_test(tc, test_parse_key_addresses);
	tcase_add_test(tc, test_parse_key_exclusions);
	tcase_add_test(tc, test_parse_key_domains_and_wildcards);
	tcase_add_test(tc, test_parse_key_errors);
	tcase_add_test(tc, test_format_key_bounds);
	tcase_add_test(tc, test_parse_code_forms);
	tcase_add_test(tc, test_parse_code_rejects);
	tcase_add_test(tc, test_value_roundtrip);
	tcase_add_test(tc, test_value_empty_text_fields);
	tcase_add_test(tc, test_value_control_chars_never_break_fields);
	tcase_add_test(tc, test_value_max_fits);
	tcase_add_test(tc, test_value_decode_rejects);
	tcase_add_test(tc, test_decode_uses_length_not_nul);
	tcase_add_test(tc, test_clean_text_controls);
	tcase_add_test(tc, test_clean_text_truncates_on_utf8_boundary);
	tcase_add_test(tc, test_expired);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(listing_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
