/* Tests for lib/json.c: escaping per RFC 8259 and replacement of invalid UTF-8. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *render(const char *s)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	ck_assert_ptr_nonnull(f);
	json_write_str(f, s);
	fclose(f);
	return buf;
}

START_TEST(test_plain_and_specials)
{
	ck_assert_str_eq(render("abc"), "\"abc\"");
	ck_assert_str_eq(render("a\"b\\c"), "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(render("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
	ck_assert_str_eq(render("\x01"), "\"\\u0001\"");
	ck_assert_str_eq(render(NULL), "\"\"");
}
END_TEST

START_TEST(test_utf8_kept)
{
	ck_assert_str_eq(render("Việt Nam"), "\"Việt Nam\"");
	ck_assert_str_eq(render("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(test_invalid_utf8_replaced)
{
	ck_assert_str_eq(render("a\xff" "b"), "\"a\\ufffdb\"");
	ck_assert_str_eq(render("\xc3"), "\"\\ufffd\"");          /* truncated */
	ck_assert_str_eq(render("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	ck_assert_str_eq(render("\xc0\xaf"), "\"\\ufffd\\ufffd\"");   /* overlong */
}
END_TEST

START_TEST(test_key)
{
	static char buf[64];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	json_write_key(f, "k\"");
	fclose(f);
	ck_assert_str_eq(buf, "\"k\\\"\":");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_plain_and_specials);
	tcase_add_test(tc, test_utf8_kept);
	tcase_add_test(tc, test_invalid_utf8_replaced);
	tcase_add_test(tc, test_key);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
