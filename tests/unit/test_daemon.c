/* Tests for lib/daemon.c: the pid file, dropping root (in a forked child, as
 * the tests run as root in CI; skipped checks say so when not root) and the
 * refusals, and detaching into a new session. */
#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static char err[512];

START_TEST(test_write_pid)
{
	char dir[] = "/tmp/chanrac-daemon-XXXXXX", path[128];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/x.pid", dir);
	ck_assert_int_eq(daemon_write_pid(path, err, sizeof err), 0);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	long pid = 0;
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	ck_assert_int_eq(pid, (long)getpid());
	unlink(path);
	ck_assert_int_eq(daemon_write_pid("", err, sizeof err), 0);
	ck_assert_int_eq(daemon_write_pid(NULL, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/no/such/dir/x.pid", dir);
	ck_assert_int_eq(daemon_write_pid(path, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	rmdir(dir);
}
END_TEST

/* Runs daemon_drop_root in a child; returns its exit status: 0 dropped to
 * uid, 1 refused (message in err of the child, written to fd), 2 still root. */
static int drop_in_child(const char *user, char *msg, size_t msglen)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		close(pfd[0]);
		char e[512] = "";
		int rc = daemon_drop_root("test", user, e, sizeof e);
		if (write(pfd[1], e, strlen(e)) < 0)
			_exit(3);
		if (rc < 0)
			_exit(1);
		_exit(geteuid() == 0 || getuid() == 0 ? 2 : 0);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], msg, msglen - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	int st;
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_drop_root)
{
	char msg[512];
	if (geteuid() != 0) {
		/* Not root: nothing to drop, whatever the user. */
		ck_assert_int_eq(daemon_drop_root("test", "", err, sizeof err), 0);
		return;
	}
	ck_assert_ptr_nonnull(getpwnam("nobody"));
	ck_assert_int_eq(drop_in_child("nobody", msg, sizeof msg), 0);
	ck_assert_int_eq(drop_in_child("", msg, sizeof msg), 1);
	ck_assert_ptr_nonnull(strstr(msg, "[test] user is empty: refusing to run as root"));
	ck_assert_int_eq(drop_in_child(NULL, msg, sizeof msg), 1);
	ck_assert_int_eq(drop_in_child("no-such-user-chanrac", msg, sizeof msg), 1);
	ck_assert_ptr_nonnull(strstr(msg, "no user \"no-such-user-chanrac\"; refusing"));
}
END_TEST

/* daemon_check_user refuses what daemon_drop_root would, and changes nothing */
START_TEST(test_check_user)
{
	uid_t uid = geteuid();

	if (uid != 0) {
		ck_assert_int_eq(daemon_check_user("test", "", err, sizeof err), 0);
		return;
	}
	ck_assert_int_eq(daemon_check_user("test", "nobody", err, sizeof err), 0);
	ck_assert_int_eq(daemon_check_user("test", "", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "[test] user is empty: refusing to run as root"));
	ck_assert_int_eq(daemon_check_user("test", NULL, err, sizeof err), -1);
	ck_assert_int_eq(daemon_check_user("test", "no-such-user-chanrac", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no user \"no-such-user-chanrac\"; refusing"));
	ck_assert_int_eq(geteuid(), 0);
	ck_assert_int_eq(getuid(), 0);
}
END_TEST

START_TEST(test_detach)
{
	char path[] = "/tmp/chanrac-detach-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		char e[256];
		int d = daemon_detach(e, sizeof e);
		if (d == 1)
			_exit(0); /* the parent of the detach */
		if (d < 0)
			_exit(1);
		/* the background child: its own session, stdout on /dev/null */
		FILE *f = fopen(path, "w");
		if (f != NULL) {
			fprintf(f, "%d %d\n", getsid(0) == getpid(), isatty(1) ? 1 : 0);
			fclose(f);
		}
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int own_session = -1, tty = -1;
	for (int i = 0; i < 250 && own_session < 0; i++) { /* 5 s */
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			if (fscanf(f, "%d %d", &own_session, &tty) != 2)
				own_session = -1;
			fclose(f);
		}
		if (own_session < 0) {
			struct timespec ts = { 0, 20000000L };
			nanosleep(&ts, NULL);
		}
	}
	unlink(path);
	ck_assert_int_eq(own_session, 1);
	ck_assert_int_eq(tty, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_write_pid);
	tcase_add_test(tc, test_drop_root);
	tcase_add_test(tc, test_check_user);
	tcase_add_test(tc, test_detach);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
