/* cli/postfix: running postsuper and postqueue for the operator (cli/postfix.h).
 * Commands are exec'd directly (posix_spawnp, no shell), queue ids are letters
 * and digits only, and postqueue -j's JSON lines are read with jansson (lines
 * longer than POSTFIX_LINE_MAX skipped), keeping the few fields chanrac lists. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "postfix.h"
#include "util.h"

extern char **environ;

/* A postqueue -j line longer than this is skipped (a message with thousands of
 * recipients). */
#define POSTFIX_LINE_MAX (1024 * 1024)
/* JSON nesting postqueue never exceeds by much (object, recipients array, object). */
#define POSTFIX_JSON_DEPTH 16

int postfix_valid_qid(const char *q)
{
	size_t n = 0;

	for (; q[n]; n++)
		if (!((q[n] >= '0' && q[n] <= '9') || (q[n] >= 'A' && q[n] <= 'Z') ||
		      (q[n] >= 'a' && q[n] <= 'z')))
			return 0;
	return n >= 1 && n <= POSTFIX_QID_MAX;
}

/* Runs av (no shell; MAIL_CONFIG in the environment is honoured), stdout to
 * out_fd when >= 0: 0 when it exited 0. */
static int postfix_spawn(const char *what, char **av, int out_fd, pid_t *pid_out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0) {
		cli_err("%s: cannot run %s: out of memory", what, av[0]);
		return -1;
	}
	if (out_fd >= 0 && (posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO) != 0 ||
			    posix_spawn_file_actions_addclose(&fa, out_fd) != 0)) {
		posix_spawn_file_actions_destroy(&fa);
		cli_err("%s: cannot run %s: out of memory", what, av[0]);
		return -1;
	}
	rc = posix_spawnp(&pid, av[0], &fa, NULL, av, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		cli_err("%s: cannot run %s: %s", what, av[0], strerror(rc));
		return -1;
	}
	*pid_out = pid;
	return 0;
}

static int postfix_wait(const char *what, const char *prog, pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			cli_err("%s: waiting for %s: %s", what, prog, strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			cli_err("%s: %s failed (exit status %d)", what, prog, WEXITSTATUS(status));
		else
			cli_err("%s: %s failed (status %d)", what, prog, status);
		return -1;
	}
	return 0;
}

static int postfix_run(const char *what, char **av)
{
	pid_t pid;

	if (postfix_spawn(what, av, -1, &pid) != 0)
		return -1;
	return postfix_wait(what, av[0], pid);
}

/* av = PROG [-c DIR] then room for the rest; returns the index to continue at. */
static size_t postfix_argv_start(char **av, const char *prog, const char *config_dir)
{
	size_t k = 0;

	av[k++] = (char *)prog;
	if (config_dir != NULL && config_dir[0] != '\0') {
		av[k++] = "-c";
		av[k++] = (char *)config_dir;
	}
	return k;
}

/* postsuper [-c DIR] OP ID OP ID ... [QUEUE] */
static int postfix_postsuper(const char *what, const char *config_dir, const char *op,
			     char **ids, size_t n, const char *queue)
{
	char **av;
	size_t k;
	int rc;

	if (n == 0)
		return 0;
	if (n > POSTFIX_IDS_MAX) {
		cli_err("%s: at most %d queue ids at a time", what, POSTFIX_IDS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!postfix_valid_qid(ids[i])) {
			cli_err("%s: '%s' is not a queue id", what, ids[i]);
			return -1;
		}
	if ((av = calloc(2 * n + 5, sizeof *av)) == NULL) {
		cli_err("%s: out of memory", what);
		return -1;
	}
	k = postfix_argv_start(av, "postsuper", config_dir);
	for (size_t i = 0; i < n; i++) {
		av[k++] = (char *)op;
		av[k++] = ids[i];
	}
	if (queue != NULL)
		av[k++] = (char *)queue;
	av[k] = NULL;
	rc = postfix_run(what, av);
	free(av);
	return rc;
}

int postfix_release(const char *what, const char *config_dir, char **ids, size_t n)
{
	char *pq[6];
	size_t k;

	if (postfix_postsuper(what, config_dir, "-H", ids, n, NULL) != 0)
		return -1;
	k = postfix_argv_start(pq, "postqueue", config_dir);
	pq[k] = "-i";
	pq[k + 2] = NULL;
	for (size_t i = 0; i < n; i++) {
		pq[k + 1] = ids[i];
		(void)postfix_run(what, pq); /* failure printed; the message still goes later */
	}
	return 0;
}

int postfix_delete(const char *what, const char *config_dir, char **ids, size_t n)
{
	/* "hold" limits -d to the hold queue: an id that has meanwhile been
	 * released is not deleted from the deferred queue. */
	return postfix_postsuper(what, config_dir, "-d", ids, n, "hold");
}

/* ---- postqueue -j: one JSON object per message (postqueue(1), Postfix >= 3.1),
 * read with jansson */

/* A string member copied into out, truncated to cap - 1 bytes at a character
 * boundary; "" when absent or not a string. */
static void copy_member(json_t *obj, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	const char *str = json_is_string(v) ? json_string_value(v) : NULL;
	size_t n = str != NULL ? json_string_length(v) : 0;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)str[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(out, str, n);
	out[n] = '\0';
}

static int postfix_msg_parse(const char *line, size_t len, struct postfix_msg *m)
{
	json_t *root, *rcpts, *arrival;
	size_t i;

	memset(m, 0, sizeof *m);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	copy_member(root, "queue_id", m->queue_id, sizeof m->queue_id);
	copy_member(root, "queue_name", m->queue_name, sizeof m->queue_name);
	copy_member(root, "sender", m->sender, sizeof m->sender);
	arrival = json_object_get(root, "arrival_time");
	if (json_is_integer(arrival))
		m->arrival = (int64_t)json_integer_value(arrival);
	rcpts = json_object_get(root, "recipients");
	if (json_is_array(rcpts)) {
		m->nrcpt = json_array_size(rcpts);
		for (i = 0; i < m->nrcpt && i < POSTFIX_RCPT_KEEP; i++) {
			json_t *r = json_array_get(rcpts, i);
			if (json_is_object(r))
				copy_member(r, "address", m->rcpt[i], sizeof m->rcpt[i]);
		}
	}
	json_decref(root);
	return m->queue_id[0] != '\0' ? 0 : -1;
}

int postfix_queue_read(const char *what, const char *config_dir, const char *queue_name,
		       postfix_msg_fn fn, void *ud)
{
	char *av[5], *line = NULL;
	size_t k = postfix_argv_start(av, "postqueue", config_dir), cap = 0;
	struct postfix_msg *m = malloc(sizeof *m);
	int fds[2], stop = 0, rc;
	ssize_t n;
	pid_t pid;
	FILE *f;

	av[k++] = "-j";
	av[k] = NULL;
	if (m == NULL) {
		cli_err("%s: out of memory", what);
		return -1;
	}
	if (pipe(fds) != 0) {
		cli_err("%s: pipe: %s", what, strerror(errno));
		free(m);
		return -1;
	}
	rc = postfix_spawn(what, av, fds[1], &pid);
	close(fds[1]);
	if (rc != 0 || (f = fdopen(fds[0], "r")) == NULL) {
		close(fds[0]);
		free(m);
		if (rc == 0)
			(void)postfix_wait(what, av[0], pid);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (stop || n > POSTFIX_LINE_MAX)
			continue;
		if (postfix_msg_parse(line, (size_t)n, m) != 0)
			continue;
		if (queue_name == NULL || strcmp(m->queue_name, queue_name) == 0)
			stop = fn(ud, m) != 0;
	}
	free(line);
	fclose(f);
	free(m);
	return postfix_wait(what, av[0], pid);
}
