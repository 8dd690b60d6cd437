/* Tests for lib/log.c: level names, the level filter and the stderr line format. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Runs fn with stderr sent to a temp file and returns what it wrote. */
static const char *capture(void (*fn)(void))
{
	static char buf[4096];
	char path[] = "/tmp/chanrac-logtest.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static void emit_all(void)
{
	log_err("e %d", 1);
	log_warn("w %s", "x");
	log_info("i");
	log_debug("d");
}

START_TEST(test_level_names)
{
	ck_assert_int_eq(log_level_parse("err"), LOG_LEVEL_ERR);
	ck_assert_int_eq(log_level_parse("error"), LOG_LEVEL_ERR);
	ck_assert_int_eq(log_level_parse("warn"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("warning"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("info"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_parse("loud"), -1);
}
END_TEST

START_TEST(test_stderr_lines_at_info)
{
	log_open("tprog", 0, LOG_LEVEL_INFO);
	ck_assert_str_eq(capture(emit_all),
			 "tprog: error: e 1\ntprog: warning: w x\ntprog: info: i\n");
}
END_TEST

START_TEST(test_filter_drops_below_level)
{
	log_open("tprog", 0, LOG_LEVEL_ERR);
	ck_assert_str_eq(capture(emit_all), "tprog: error: e 1\n");
	log_set_level(LOG_LEVEL_DEBUG);
	ck_assert_str_eq(capture(emit_all),
			 "tprog: error: e 1\ntprog: warning: w x\ntprog: info: i\ntprog: debug: d\n");
}
END_TEST

static void emit_long(void)
{
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_err("%s", big);
}

START_TEST(test_long_line_is_bounded)
{
	log_open("t", 0, LOG_LEVEL_INFO);
	const char *out = capture(emit_long);
	/* "t: error: " + at most 2047 bytes of text + "\n" */
	ck_assert_uint_eq(strlen(out), strlen("t: error: ") + 2047 + 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_level_names);
	tcase_add_test(tc, test_stderr_lines_at_info);
	tcase_add_test(tc, test_filter_drops_below_level);
	tcase_add_test(tc, test_long_line_is_bounded);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
