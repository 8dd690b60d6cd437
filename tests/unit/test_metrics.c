/* Tests for lib/metrics.c: the Prometheus text format, label escaping, and the
 * endpoint over a real loopback socket (200, 404, 405, a silent client timed
 * out without blocking the next scrape, stop). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

static int scrapes;

static void fill(void *arg, struct metrics_buf *b)
{
	(void)arg;
	scrapes++;
	metrics_add(b, "chanrac_test_total", "counter", "Things counted.", "zone=\"bl.test\"", 42);
	metrics_add(b, "chanrac_test_total", "counter", NULL, "zone=\"other\"", 7);
	metrics_add(b, "chanrac_up", "gauge", "Up.", NULL, 1);
}

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* Sends req and reads the whole answer (the server closes). */
static char *request(int port, const char *req)
{
	static char buf[65536];
	int fd = connect_port(port);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	size_t got = 0;
	ssize_t n;
	while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return buf;
}

START_TEST(test_format)
{
	struct metrics_buf b = { 0 };
	metrics_add(&b, "a_total", "counter", "Help text.", "x=\"1\"", 3);
	metrics_add(&b, "a_total", "counter", NULL, "x=\"2\"", 0.5);
	metrics_add(&b, "b", "gauge", NULL, "", 12345678901.0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "# HELP a_total Help text.\n# TYPE a_total counter\n"
				 "a_total{x=\"1\"} 3\na_total{x=\"2\"} 0.5\nb 12345678901\n");
	free(b.data);
}
END_TEST

START_TEST(test_label_escape)
{
	char out[32];
	ck_assert_str_eq(metrics_label_escape("a\"b\\c\nd", out, sizeof out), "a\\\"b\\\\c\\nd");
	ck_assert_str_eq(metrics_label_escape("abcdefgh", out, 5), "abc");
}
END_TEST

START_TEST(test_endpoint)
{
	char err[256];
	scrapes = 0;
	cr_metrics *m = metrics_start("127.0.0.1:0", fill, NULL, err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	int port = metrics_port(m);
	ck_assert_int_gt(port, 0);

	char *r = request(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n# HELP chanrac_test_total Things counted.\n"));
	ck_assert_ptr_nonnull(strstr(r, "chanrac_test_total{zone=\"bl.test\"} 42\n"));
	ck_assert_ptr_nonnull(strstr(r, "chanrac_up 1\n"));
	ck_assert_int_eq(scrapes, 1);

	r = request(port, "GET /nothing HTTP/1.0\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.0 404", 12) == 0, "%s", r);
	r = request(port, "POST /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.0 405", 12) == 0, "%s", r);
	ck_assert_int_eq(scrapes, 1);

	/* A client that connects and says nothing is dropped after the I/O
	 * budget; the scrape behind it is then answered. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int silent = connect_port(port);
	r = request(port, "GET /metrics HTTP/1.0\r\n\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", r);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 5.0, "scrape behind a silent client took %.1fs", secs);
	close(silent);

	metrics_stop(m);
	/* The port is closed once stopped. */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
}
END_TEST

START_TEST(test_bad_listen)
{
	char err[256];
	ck_assert_ptr_null(metrics_start("nohost", fill, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "\"nohost\""));
	ck_assert_ptr_null(metrics_start("127.0.0.1:99999", fill, NULL, err, sizeof err));
	cr_metrics *m = metrics_start("127.0.0.1:0", fill, NULL, err, sizeof err);
	ck_assert_ptr_nonnull(m);
	char taken[64];
	snprintf(taken, sizeof taken, "127.0.0.1:%d", metrics_port(m));
	ck_assert_ptr_null(metrics_start(taken, fill, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "Address already in use"));
	metrics_stop(m);
	metrics_stop(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_label_escape);
	tcase_add_test(tc, test_endpoint);
	tcase_add_test(tc, test_bad_listen);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
