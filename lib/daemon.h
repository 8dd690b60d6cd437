/* daemon: what chanrac-milter and chanrac-rbld do the same way when they
 * start — fork into the background, write a pid file, and give up root after
 * binding (refusing to go on as root). */
#ifndef CHANRAC_DAEMON_H
#define CHANRAC_DAEMON_H

#include <stddef.h>

/* Forks into the background: 0 in the child (new session, standard streams on
 * /dev/null), 1 in the parent (which should free what it holds and exit 0),
 * -1 with err. */
int daemon_detach(char *err, size_t errlen);

/* Writes getpid() to path; an empty or NULL path writes nothing.  0, or -1
 * with err naming the file. */
int daemon_write_pid(const char *path, char *err, size_t errlen);

/* When running as root: becomes user (its groups, gid, uid) and checks that
 * root cannot be regained.  An empty or unknown user, or a failed change, is
 * an error: the daemon must not go on as root.  section names the config
 * section for the message ("milter", "rbld").  Not root: nothing to do, 0. */
int daemon_drop_root(const char *section, const char *user, char *err, size_t errlen);
/* What daemon_drop_root would refuse, without changing anything (for -t):
 * when running as root, an empty or unknown user is -1 with err; else 0. */
int daemon_check_user(const char *section, const char *user, char *err, size_t errlen);

#endif
