/* Tests for lib/dname.c: normalisation to lower-case A-labels (Vietnamese and
 * other IDNs), the RFC 1035 limits and charset, registered domains by the PSL
 * (.vn, .com.vn), is_within and parent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"

static char err[512];
static char out[DNAME_MAX + 1];

static const char *norm(const char *in)
{
	if (dname_normalise(in, out, sizeof out, err, sizeof err) < 0)
		return "ERR";
	return out;
}

/* A string of n copies of c. */
static const char *rep(char c, size_t n)
{
	static char buf[4][400];
	static int slot;
	char *b = buf[slot++ % 4];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

START_TEST(test_ascii_lower_cased_trailing_dot_trimmed)
{
	ck_assert_str_eq(norm("Example.COM"), "example.com");
	ck_assert_str_eq(norm("Example.COM."), "example.com");
	ck_assert_str_eq(norm("mail.shop.example.com.vn"), "mail.shop.example.com.vn");
	ck_assert_str_eq(norm("a_b.vn"), "a_b.vn");
	ck_assert_str_eq(norm("_dmarc.example.vn"), "_dmarc.example.vn");
	ck_assert_str_eq(norm("1-2.vn"), "1-2.vn");
}
END_TEST

START_TEST(test_single_label_allowed)
{
	ck_assert_str_eq(norm("test"), "test");
	ck_assert_str_eq(norm("INVALID."), "invalid");
}
END_TEST

START_TEST(test_vietnamese_idn_to_alabels)
{
	ck_assert_str_eq(norm("Việt-Nam.vn"), "xn--vit-nam-zv4c.vn");
	ck_assert_str_eq(norm("thư.việtnam.vn"), "xn--th-e0a.xn--vitnam-jk8b.vn");
	ck_assert_str_eq(norm("đăngký.vn"), "xn--ngk-noa0a7f.vn");
	ck_assert_str_eq(norm("bücher.example"), "xn--bcher-kva.example");
	ck_assert_str_eq(norm("BÜCHER.Example."), "xn--bcher-kva.example");
	/* an A-label given as such is kept */
	ck_assert_str_eq(norm("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
}
END_TEST

START_TEST(test_nontransitional_mapping)
{
	/* IDNA 2008 / TR46 non-transitional: ß stays ß (not "ss"); full-width
	 * letters and the ideographic full stop are mapped. */
	ck_assert_str_eq(norm("faß.de"), "xn--fa-hia.de");
	ck_assert_str_eq(norm("ＥＸＡＭＰＬＥ.vn"), "example.vn");
	ck_assert_str_eq(norm("ü。vn"), "xn--tda.vn");
}
END_TEST

START_TEST(test_transitional_fallback)
{
	/* A ZERO WIDTH JOINER fails the non-transitional CONTEXTJ rule; transitional
	 * processing removes it. */
	ck_assert_str_eq(norm("a\xe2\x80\x8d" "bü.vn"), "xn--ab-yka.vn");
}
END_TEST

START_TEST(test_empty_labels_rejected)
{
	ck_assert_str_eq(norm("a..b"), "ERR");
	ck_assert_str_eq(err, "a..b: empty label");
	ck_assert_str_eq(norm(".a.b"), "ERR");
	ck_assert_str_eq(err, ".a.b: empty label");
	ck_assert_str_eq(norm("a.vn.."), "ERR");
	ck_assert_str_eq(err, "a.vn..: empty label");
	ck_assert_str_eq(norm("bü..vn"), "ERR");
	ck_assert_str_eq(err, "bü..vn: empty label");
	ck_assert_str_eq(norm("."), "ERR");
	ck_assert_str_eq(err, "\".\": the root is not a domain name here");
	ck_assert_str_eq(norm(""), "ERR");
	ck_assert_str_eq(err, "empty domain name");
	ck_assert_int_eq(dname_normalise(NULL, out, sizeof out, err, sizeof err), -1);
}
END_TEST

START_TEST(test_hyphen_rules)
{
	ck_assert_str_eq(norm("-a.vn"), "ERR");
	ck_assert_str_eq(err, "-a.vn: label \"-a\" starts with '-'");
	ck_assert_str_eq(norm("a-.vn"), "ERR");
	ck_assert_str_eq(err, "a-.vn: label \"a-\" ends with '-'");
	ck_assert_str_eq(norm("shop.-x-.vn"), "ERR");
	ck_assert_str_eq(err, "shop.-x-.vn: label \"-x-\" starts with '-'");
	ck_assert_str_eq(norm("-bü.vn"), "ERR");
	ck_assert_str_eq(err, "-bü.vn: not a valid internationalised domain name (string "
			      "start/ends with forbidden hyphen)");
}
END_TEST

START_TEST(test_charset)
{
	ck_assert_str_eq(norm("a b.vn"), "ERR");
	ck_assert_str_eq(err, "a b.vn: character 0x20 not allowed in a domain name");
	ck_assert_str_eq(norm("a*.vn"), "ERR");
	ck_assert_str_eq(err, "a*.vn: character '*' not allowed in a domain name");
	ck_assert_str_eq(norm("*.vn"), "ERR");
	ck_assert_str_eq(norm("a/b.vn"), "ERR");
	ck_assert_str_eq(norm("user@example.vn"), "ERR");
	ck_assert_str_eq(err, "user@example.vn: character '@' not allowed in a domain name");
	ck_assert_str_eq(norm("a\tb.vn"), "ERR");
	ck_assert_str_eq(err, "a\tb.vn: character 0x09 not allowed in a domain name");
}
END_TEST

START_TEST(test_invalid_utf8_named)
{
	ck_assert_str_eq(norm("b\xfc" "ch.vn"), "ERR");
	ck_assert_str_eq(err, "b\xfc" "ch.vn: not valid UTF-8 (bad byte 0xfc at offset 1)");
	ck_assert_str_eq(norm("vi\xe1\xbb.vn"), "ERR"); /* truncated sequence */
	ck_assert_str_eq(err, "vi\xe1\xbb.vn: not valid UTF-8 (bad byte 0xe1 at offset 2)");
}
END_TEST

START_TEST(test_label_length_limit)
{
	char name[300];

	snprintf(name, sizeof name, "%s.vn", rep('a', 63));
	ck_assert_str_eq(norm(name), name);
	snprintf(name, sizeof name, "%s.vn", rep('a', 64));
	ck_assert_str_eq(norm(name), "ERR");
	char want[400];
	snprintf(want, sizeof want, "%s: label \"%s...\" is 64 characters long (at most 63)",
		 name, rep('a', 20));
	ck_assert_str_eq(err, want);
	/* a U-label whose A-label form is too long */
	snprintf(name, sizeof name, "ü%s.vn", rep('a', 60));
	ck_assert_str_eq(norm(name), "ERR");
}
END_TEST

START_TEST(test_name_length_limit)
{
	char name[400];

	/* 63+1+63+1+63+1+61 = 253: the longest name */
	snprintf(name, sizeof name, "%s.%s.%s.%s", rep('a', 63), rep('b', 63), rep('c', 63),
		 rep('d', 61));
	ck_assert_uint_eq(strlen(name), 253);
	ck_assert_str_eq(norm(name), name);
	/* a trailing dot does not count */
	char dotted[sizeof name + 1];
	snprintf(dotted, sizeof dotted, "%s.", name);
	ck_assert_str_eq(norm(dotted), name);
	snprintf(name, sizeof name, "%s.%s.%s.%s", rep('a', 63), rep('b', 63), rep('c', 63),
		 rep('d', 62));
	ck_assert_str_eq(norm(name), "ERR");
	char want[200];
	snprintf(want, sizeof want, "%.80s...: name is 254 characters long (at most 253)", name);
	ck_assert_str_eq(err, want);
	/* far too long input is refused before any work */
	ck_assert_str_eq(norm(rep('a', 399)), "ERR");
}
END_TEST

START_TEST(test_output_buffer_bound)
{
	char small[8];

	ck_assert_int_eq(dname_normalise("example.vn", small, sizeof small, err, sizeof err), -1);
	ck_assert_str_eq(err, "example.vn: no room for the normalised name");
	ck_assert_int_eq(dname_normalise("abc.vn", small, sizeof small, err, sizeof err), 0);
	ck_assert_str_eq(small, "abc.vn");
}
END_TEST

START_TEST(test_registered_domain_com_vn)
{
	char reg[DNAME_MAX + 1];

	ck_assert_int_eq(dname_registered("mail.shop.example.com.vn", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "example.com.vn");
	ck_assert_int_eq(dname_registered("example.com.vn", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "example.com.vn");
	ck_assert_int_eq(dname_registered("www.example.vn", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "example.vn");
	ck_assert_int_eq(dname_registered("a.b.example.com", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "example.com");
	/* IDN registered domains, in A-label form */
	ck_assert_int_eq(dname_registered("shop.xn--bcher-kva.com.vn", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "xn--bcher-kva.com.vn");
	ck_assert_int_eq(dname_registered("www.xn--vit-nam-zv4c.vn", reg, sizeof reg), 0);
	ck_assert_str_eq(reg, "xn--vit-nam-zv4c.vn");
}
END_TEST

START_TEST(test_registered_domain_public_suffix_itself)
{
	char reg[DNAME_MAX + 1];

	ck_assert_int_eq(dname_registered("com.vn", reg, sizeof reg), 1);
	ck_assert_str_eq(reg, "com.vn");
	ck_assert_int_eq(dname_registered("vn", reg, sizeof reg), 1);
	ck_assert_str_eq(reg, "vn");
	ck_assert_int_eq(dname_registered("test", reg, sizeof reg), 1);
	ck_assert_str_eq(reg, "test");
}
END_TEST

START_TEST(test_registered_domain_buffer_bound)
{
	char reg[20];

	ck_assert_int_eq(dname_registered("www.example.com.vn", reg, 14), -1);
	ck_assert_int_eq(dname_registered("www.example.com.vn", reg, 15), 0);
	ck_assert_str_eq(reg, "example.com.vn");
}
END_TEST

START_TEST(test_is_within)
{
	ck_assert_int_eq(dname_is_within("example.vn", "example.vn"), 1);
	ck_assert_int_eq(dname_is_within("a.b.example.vn", "example.vn"), 1);
	ck_assert_int_eq(dname_is_within("badexample.vn", "example.vn"), 0);
	ck_assert_int_eq(dname_is_within("example.vn", "a.example.vn"), 0);
	ck_assert_int_eq(dname_is_within("example.com.vn", "vn"), 1);
	ck_assert_int_eq(dname_is_within("example.com", "vn"), 0);
	ck_assert_int_eq(dname_is_within("example.vn", ""), 1);
}
END_TEST

START_TEST(test_parent)
{
	ck_assert_str_eq(dname_parent("a.b.c"), "b.c");
	ck_assert_str_eq(dname_parent("b.c"), "c");
	ck_assert_ptr_null(dname_parent("c"));
}
END_TEST

Suite *dname_suite(void);
Suite *dname_suite(void)
{
	Suite *s = suite_create("dname");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ascii_lower_cased_trailing_dot_trimmed);
	tcase_add_test(tc, test_single_label_allowed);
	tcase_add_test(tc, test_vietnamese_idn_to_alabels);
	tcase_add_test(tc, test_nontransitional_mapping);
	tcase_add_test(tc, test_transitional_fallback);
	tcase_add_test(tc, test_empty_labels_rejected);
	tcase_add_test(tc, test_hyphen_rules);
	tcase_add_test(tc, test_charset);
	tcase_add_test(tc, test_invalid_utf8_named);
	tcase_add_test(tc, test_label_length_limit);
	tcase_add_test(tc, test_name_length_limit);
	tcase_add_test(tc, test_output_buffer_bound);
	tcase_add_test(tc, test_registered_domain_com_vn);
	tcase_add_test(tc, test_registered_domain_public_suffix_itself);
	tcase_add_test(tc, test_registered_domain_buffer_bound);
	tcase_add_test(tc, test_is_within);
	tcase_add_test(tc, test_parent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dname_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
