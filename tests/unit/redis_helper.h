/* redis_helper: a private redis-server for unit tests of the modules over Redis
 * (never the system Redis): started by an unchecked fixture on a free loopback
 * port, flushed before every test, stopped by PID.  Header-only, included by one
 * test file each. */
#ifndef CHANRAC_TEST_REDIS_HELPER_H
#define CHANRAC_TEST_REDIS_HELPER_H

#include <check.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

static pid_t th_redis_pid = -1;
static int th_redis_port;
static char th_redis_dir[64];

static int th_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void th_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A reply to one command on a fresh connection (NULL if none); caller frees. */
static redisReply *th_raw(const char *fmt, ...)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", th_redis_port, tv);
	redisReply *r = NULL;
	va_list ap;

	if (c == NULL || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return r;
}

static __attribute__((unused)) long long th_int(const char *fmt, const char *arg)
{
	redisReply *r = th_raw(fmt, arg);
	long long v = -1;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	return v;
}

/* Starts the server on port (a fresh free port when 0). */
static __attribute__((unused)) void th_redis_start_port(int p)
{
	char port[16], log[128];

	snprintf(th_redis_dir, sizeof th_redis_dir, "/tmp/chanrac-unit-XXXXXX");
	if (mkdtemp(th_redis_dir) == NULL) {
		perror("mkdtemp");
		return;
	}
	th_redis_port = p ? p : th_free_port();
	snprintf(port, sizeof port, "%d", th_redis_port);
	snprintf(log, sizeof log, "%s/redis.log", th_redis_dir);
	th_redis_pid = fork();
	if (th_redis_pid == 0) {
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", th_redis_dir, "--logfile", log,
		       "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) { /* bounded: 10 s */
		redisReply *r = th_raw("PING");
		int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
		if (r)
			freeReplyObject(r);
		if (ok)
			return;
		th_sleep_ms(20);
	}
	fprintf(stderr, "redis-server on port %d did not answer\n", th_redis_port);
}

static __attribute__((unused)) void th_redis_start(void)
{
	th_redis_start_port(0);
}

static void th_redis_stop(void)
{
	char cmd[128];

	if (th_redis_pid > 0) {
		kill(th_redis_pid, SIGTERM);
		for (int i = 0; i < 250 && waitpid(th_redis_pid, NULL, WNOHANG) == 0; i++)
			th_sleep_ms(20);
		if (kill(th_redis_pid, 0) == 0) {
			kill(th_redis_pid, SIGKILL);
			waitpid(th_redis_pid, NULL, 0);
		}
		th_redis_pid = -1;
	}
	if (th_redis_dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", th_redis_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", th_redis_dir);
	}
}

static __attribute__((unused)) void th_flush(void)
{
	redisReply *r = th_raw("FLUSHALL");
	if (r)
		freeReplyObject(r);
}

/* A configuration pointing at the private server, plus extra lines. */
static __attribute__((unused)) cr_conf *th_conf(const char *extra)
{
	char text[4096], err[256];
	cr_conf *c;

	snprintf(text, sizeof text, "[redis]\nhost = 127.0.0.1\nport = %d\n%s", th_redis_port,
		 extra ? extra : "");
	c = conf_load_string(text, "test.conf", err, sizeof err);
	if (c == NULL)
		fprintf(stderr, "conf: %s\n", err);
	return c;
}

/* main() of a suite over the private Redis: Redis started, each of the n tests
 * run after setup (30 s each), Redis stopped; EXIT_SUCCESS if none failed. */
static __attribute__((unused)) int th_redis_main(const char *name, void (*setup)(void),
						 const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	th_redis_start();
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	th_redis_stop();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
