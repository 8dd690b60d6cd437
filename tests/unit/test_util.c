/* Tests for lib/util.c: bounded copies, integer/duration/time parsing, ages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* util_memdup_str copies exactly n bytes of a buffer with no NUL in it. */
START_TEST(test_memdup_str)
{
	const char buf[4] = { 'a', 'b', 'c', 'd' }; /* no terminating NUL */
	char *d = util_memdup_str(buf, 3);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d, "abc");
	free(d);
	d = util_memdup_str(buf, 0);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d, "");
	free(d);
}
END_TEST

START_TEST(test_strlcpy_truncates_and_terminates)
{
	char b[4];
	ck_assert_int_eq(util_strlcpy(b, "abcdef", sizeof b), 6);
	ck_assert_str_eq(b, "abc");
	ck_assert_int_eq(util_strlcpy(b, "ab", sizeof b), 2);
	ck_assert_str_eq(b, "ab");
}
END_TEST

START_TEST(test_parse_i64_bounds_and_garbage)
{
	int64_t v;
	ck_assert_int_eq(util_parse_i64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(util_parse_i64("101", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_i64("-1", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_i64("4x", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_i64("", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_i64(" 4", 0, 100, &v), -1);
	ck_assert_int_eq(util_parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
}
END_TEST

START_TEST(test_parse_duration_units)
{
	int64_t ms;
	ck_assert_int_eq(util_parse_duration_ms("250ms", &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(util_parse_duration_ms("5s", &ms), 0);
	ck_assert_int_eq(ms, 5000);
	ck_assert_int_eq(util_parse_duration_ms("7", &ms), 0);
	ck_assert_int_eq(ms, 7000);
	ck_assert_int_eq(util_parse_duration_ms("2m", &ms), 0);
	ck_assert_int_eq(ms, 120000);
	ck_assert_int_eq(util_parse_duration_ms("1h", &ms), 0);
	ck_assert_int_eq(ms, 3600000);
	ck_assert_int_eq(util_parse_duration_ms("7d", &ms), 0);
	ck_assert_int_eq(ms, 604800000);
	ck_assert_int_eq(util_parse_duration_ms("5x", &ms), -1);
	ck_assert_int_eq(util_parse_duration_ms("-5s", &ms), -1);
	ck_assert_int_eq(util_parse_duration_ms("", &ms), -1);
	ck_assert_int_eq(util_parse_duration_ms("s", &ms), -1);
}
END_TEST

START_TEST(test_format_age)
{
	char b[32];
	util_format_age(42, b, sizeof b);
	ck_assert_str_eq(b, "42s");
	util_format_age(312, b, sizeof b);
	ck_assert_str_eq(b, "5m12s");
	util_format_age(3 * 86400 + 4 * 3600 + 5, b, sizeof b);
	ck_assert_str_eq(b, "3d4h");
	util_format_age(-5, b, sizeof b);
	ck_assert_str_eq(b, "0s");
}
END_TEST

START_TEST(test_time_round_trip)
{
	int64_t t;
	char b[32];
	ck_assert_int_eq(util_parse_time("2026-11-22T21:47:03Z", &t), 0);
	ck_assert_int_eq(t, 1795384023);
	util_format_time(t, b, sizeof b);
	ck_assert_str_eq(b, "2026-11-22T21:47:03Z");
	ck_assert_int_eq(util_parse_time("2026-11-22", &t), 0);
	ck_assert_int_eq(t, 1795305600);
	ck_assert_int_eq(util_parse_time("@1000", &t), 0);
	ck_assert_int_eq(t, 1000);
	ck_assert_int_eq(util_parse_time("yesterday", &t), -1);
	ck_assert_int_eq(util_parse_time("2026-13-01", &t), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_strlcpy_truncates_and_terminates);
	tcase_add_test(tc, test_memdup_str);
	tcase_add_test(tc, test_parse_i64_bounds_and_garbage);
	tcase_add_test(tc, test_parse_duration_units);
	tcase_add_test(tc, test_format_age);
	tcase_add_test(tc, test_time_round_trip);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
