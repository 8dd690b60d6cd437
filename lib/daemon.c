/* daemon: background, pid file and privilege drop shared by the two daemons. */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int daemon_detach(char *err, size_t errlen)
{
	pid_t p = fork();

	if (p < 0) {
		util_errf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (p > 0)
		return 1;
	if (setsid() < 0) {
		util_errf(err, errlen, "setsid: %s", strerror(errno));
		return -1;
	}
	if (freopen("/dev/null", "r", stdin) == NULL || freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "w", stderr) == NULL) {
		util_errf(err, errlen, "cannot redirect to /dev/null");
		return -1;
	}
	return 0;
}

int daemon_write_pid(const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (path == NULL || *path == '\0')
		return 0;
	f = fopen(path, "w");
	if (f == NULL) {
		util_errf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	int bad = fprintf(f, "%ld\n", (long)getpid()) < 0;
	if (fclose(f) != 0 || bad) {
		util_errf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The account of [section] user for a daemon started as root: NULL with err
 * when it is empty or does not exist. */
static struct passwd *root_user(const char *section, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0') {
		util_errf(err, errlen,
			  "[%s] user is empty: refusing to run as root (set it to an "
			  "unprivileged account, e.g. chanrac)",
			  section);
		return NULL;
	}
	pw = getpwnam(user);
	if (pw == NULL)
		util_errf(err, errlen, "[%s] user: no user \"%s\"; refusing to run as root", section,
			  user);
	return pw;
}

int daemon_check_user(const char *section, const char *user, char *err, size_t errlen)
{
	if (geteuid() != 0)
		return 0;
	return root_user(section, user, err, errlen) == NULL ? -1 : 0;
}

int daemon_drop_root(const char *section, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = root_user(section, user, err, errlen);
	if (pw == NULL)
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		util_errf(err, errlen, "cannot become user %s: %s; refusing to run as root", user,
			  strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		util_errf(err, errlen, "dropping root to %s did not stick", user);
		return -1;
	}
	return 0;
}
