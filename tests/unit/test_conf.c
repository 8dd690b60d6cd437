/* Tests for lib/conf.c: typed values, defaults, named sections, and errors that
 * name FILE:LINE, the section and the key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char err[512];

START_TEST(test_defaults_without_file)
{
	cr_conf *c = conf_defaults();
	ck_assert_str_eq(conf_str(c, "redis", "host"), "127.0.0.1");
	ck_assert_int_eq(conf_int(c, "redis", "port"), 6379);
	ck_assert_int_eq(conf_ms(c, "redis", "connect_timeout"), 2000);
	ck_assert_int_eq(conf_bool(c, "log", "syslog"), 1);
	const char *const *names = conf_list(c, "lists", "names");
	ck_assert_str_eq(names[0], "spam-ip");
	ck_assert_str_eq(names[3], "allow");
	ck_assert_ptr_null(names[4]);
	ck_assert_int_eq(conf_is_set(c, "redis", "port"), 0);
	ck_assert_str_eq(conf_source(c), "(defaults)");
	conf_free(c);
}
END_TEST

START_TEST(test_typed_values_from_text)
{
	cr_conf *c = conf_load_string("[redis]\nport = 6390\ncommand_timeout = 250ms\n"
				      "[log]\nsyslog = no\n[lists]\nnames = a, b c\n",
				      "t.conf", err, sizeof err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conf_int(c, "redis", "port"), 6390);
	ck_assert_int_eq(conf_ms(c, "redis", "command_timeout"), 250);
	ck_assert_int_eq(conf_bool(c, "log", "syslog"), 0);
	ck_assert_int_eq(conf_is_set(c, "redis", "port"), 1);
	const char *const *names = conf_list(c, "lists", "names");
	ck_assert_str_eq(names[0], "a");
	ck_assert_str_eq(names[1], "b");
	ck_assert_str_eq(names[2], "c");
	ck_assert_ptr_null(names[3]);
	conf_free(c);
}
END_TEST

START_TEST(test_unknown_key_names_file_line_key)
{
	cr_conf *c = conf_load_string("[redis]\nhost = x\n\nprot = 1\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:4: [redis] prot: unknown key");
}
END_TEST

START_TEST(test_unknown_section)
{
	cr_conf *c = conf_load_string("# comment\n[nosuch]\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:2: [nosuch]: unknown section");
}
END_TEST

START_TEST(test_bad_integer_out_of_range)
{
	cr_conf *c = conf_load_string("[redis]\nport = 70000\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:2: [redis] port: '70000' is not an integer in 1..65535");
}
END_TEST

START_TEST(test_bad_duration)
{
	cr_conf *c = conf_load_string("[redis]\nconnect_timeout = soon\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:2: [redis] connect_timeout: 'soon' is not a duration"));
}
END_TEST

START_TEST(test_bad_bool)
{
	cr_conf *c = conf_load_string("[log]\nsyslog = maybe\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:2: [log] syslog: 'maybe' is not yes or no");
}
END_TEST

START_TEST(test_key_set_twice)
{
	cr_conf *c = conf_load_string("[redis]\nport = 1\nport = 2\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:3: [redis] port: set twice (first at line 2)");
}
END_TEST

START_TEST(test_syntax_error_line)
{
	cr_conf *c = conf_load_string("[redis]\nport 1\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:2: syntax error"));
}
END_TEST

START_TEST(test_key_outside_section)
{
	cr_conf *c = conf_load_string("port = 1\n", "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "t.conf:1: port: key outside any [section]");
}
END_TEST

/* A line longer than libinih's buffer is an error naming the line, not a
 * split line whose tail reads as an unknown key; from a file and from text. */
START_TEST(test_long_line_named)
{
	char text[2048], path[] = "/tmp/chanrac-conf-long-XXXXXX";
	int n = snprintf(text, sizeof text, "[log]\nlevel = info\n[redis]\nhost = ");
	memset(text + n, 'a', 1500);
	strcpy(text + n + 1500, "\nport = 1\n");

	cr_conf *c = conf_load_string(text, "t.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:4: line longer than"));

	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = conf_load(path, err, sizeof err);
	unlink(path);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, ":4: line longer than"));
}
END_TEST

START_TEST(test_unreadable_file_named)
{
	cr_conf *c = conf_load("/nonexistent/chanrac.conf", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/chanrac.conf: No such file or directory");
}
END_TEST

/* Every declared key is documented in conf/chanrac.conf as "key =" or ";key =". */
START_TEST(test_every_key_documented_in_sample)
{
	FILE *f = fopen("conf/chanrac.conf", "r");
	ck_assert_ptr_nonnull(f);
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	for (const struct conf_key *k = conf_keys; k->section; k++) {
		char pat[128];
		snprintf(pat, sizeof pat, "\n;%s =", k->name);
		char pat2[128];
		snprintf(pat2, sizeof pat2, "\n%s =", k->name);
		ck_assert_msg(strstr(text, pat) || strstr(text, pat2),
			      "[%s] %s is not documented in conf/chanrac.conf", k->section, k->name);
	}
}
END_TEST

/* The sample file loads as it is. */
START_TEST(test_sample_file_loads)
{
	cr_conf *c = conf_load("conf/chanrac.conf", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	conf_free(c);
}
END_TEST

/* Every default parses as its own type and lies within its bounds. */
START_TEST(test_every_default_valid)
{
	for (const struct conf_key *k = conf_keys; k->section; k++) {
		char text[512];
		const char *sec = k->section;
		char named[128];
		size_t sl = strlen(sec);
		if (sl > 2 && strcmp(sec + sl - 2, " *") == 0) {
			snprintf(named, sizeof named, "%.*s x", (int)(sl - 2), sec);
			sec = named;
		}
		snprintf(text, sizeof text, "[%s]\n%s = %s\n", sec, k->name, k->def ? k->def : "");
		cr_conf *c = conf_load_string(text, "d.conf", err, sizeof err);
		ck_assert_msg(c != NULL, "default of [%s] %s: %s", k->section, k->name, err);
		conf_free(c);
	}
}
END_TEST

Suite *conf_suite(void);
Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults_without_file);
	tcase_add_test(tc, test_typed_values_from_text);
	tcase_add_test(tc, test_unknown_key_names_file_line_key);
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_bad_integer_out_of_range);
	tcase_add_test(tc, test_bad_duration);
	tcase_add_test(tc, test_bad_bool);
	tcase_add_test(tc, test_key_set_twice);
	tcase_add_test(tc, test_syntax_error_line);
	tcase_add_test(tc, test_key_outside_section);
	tcase_add_test(tc, test_long_line_named);
	tcase_add_test(tc, test_unreadable_file_named);
	tcase_add_test(tc, test_every_key_documented_in_sample);
	tcase_add_test(tc, test_sample_file_loads);
	tcase_add_test(tc, test_every_default_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
