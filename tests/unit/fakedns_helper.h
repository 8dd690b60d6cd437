/* fakedns_helper: starts tests/tools/fakedns from a unit test (fork/exec, reads the
 * port it bound, asks it for query counts over its stdin) and stops it by PID.
 * Shared by test_dnsq.c and test_spfcheck.c. */
#ifndef CHANRAC_TEST_FAKEDNS_HELPER_H
#define CHANRAC_TEST_FAKEDNS_HELPER_H

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct fakedns {
	pid_t pid;
	int port;
	int to;   /* its stdin */
	int from; /* its stdout */
};

/* The tool sits beside the test binaries: $BUILD/tests/tools/fakedns. */
static inline void fakedns_path(char *buf, size_t len)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	snprintf(buf, len, "%s/tools/fakedns", self);
}

/* Reads one line (without the newline) within timeout_ms; 0 or -1. */
static inline int fakedns_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t used = 0;

	while (used + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		n = read(fd, buf + used, 1);
		if (n <= 0)
			return -1;
		if (buf[used] == '\n') {
			buf[used] = '\0';
			return 0;
		}
		used++;
	}
	return -1;
}

/* rules: NULL-terminated; v6: also listen on [::1]. */
static inline void fakedns_start(struct fakedns *f, int v6, const char *const *rules)
{
	char path[PATH_MAX], line[32];
	const char *argv[80];
	int in[2], out[2], n = 0, i;

	fakedns_path(path, sizeof(path));
	ck_assert_msg(access(path, X_OK) == 0, "%s missing: make BUILD=... %s", path, path);
	argv[n++] = path;
	if (v6)
		argv[n++] = "-6";
	for (i = 0; rules[i] != NULL && n < 78; i++)
		argv[n++] = rules[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->to = in[1];
	f->from = out[0];
	/* it prints its port once every socket is bound: that is "ready" */
	ck_assert_msg(fakedns_read_line(f->from, line, sizeof(line), 5000) == 0,
		      "fakedns did not start");
	f->port = atoi(line);
	ck_assert_int_gt(f->port, 0);
}

/* Queries the server has received for name (UDP and TCP). */
static inline unsigned fakedns_count(struct fakedns *f, const char *name)
{
	char cmd[300], line[32];
	int n = snprintf(cmd, sizeof(cmd), "count %s\n", name);

	ck_assert_int_eq(write(f->to, cmd, (size_t)n), n);
	ck_assert_int_eq(fakedns_read_line(f->from, line, sizeof(line), 5000), 0);
	return (unsigned)strtoul(line, NULL, 10);
}

static inline void fakedns_stop(struct fakedns *f)
{
	int status;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	close(f->to);
	close(f->from);
	f->pid = 0;
}

/* "127.0.0.1:PORT" */
static inline void fakedns_server(const struct fakedns *f, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.0.1:%d", f->port);
}

#endif
