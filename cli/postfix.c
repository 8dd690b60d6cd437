/* cli/postfix: running postsuper and postqueue for the operator (cli/postfix.h).
 * Commands are exec'd directly (posix_spawnp, no shell), queue ids are letters
 * and digits only, and postqueue -j's JSON lines are read with a small bounded
 * parser that takes the few fields chanrac lists. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- postqueue -j: one JSON object per message (postqueue(1), Postfix >= 3.1) */

struct jp {
	const char *p, *end;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int jp_hex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A string at j->p (the opening quote), decoded into out (truncated to cap - 1
 * bytes, NUL-terminated; out NULL = skip). */
static int jp_string(struct jp *j, char *out, size_t cap)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char buf[4];
		size_t bl = 1;
		unsigned c = (unsigned char)*j->p++;

		if (c == '\\') {
			if (j->p >= j->end)
				return -1;
			c = (unsigned char)*j->p++;
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': case '/': break;
			case 'u':
				if (jp_hex4(j, &c) != 0)
					return -1;
				if (c >= 0xD800 && c <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' &&
				    j->p[1] == 'u') {
					unsigned lo;
					j->p += 2;
					if (jp_hex4(j, &lo) != 0)
						return -1;
					c = lo >= 0xDC00 && lo <= 0xDFFF
						    ? 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00)
						    : 0xFFFD;
				} else if (c >= 0xD800 && c <= 0xDFFF) {
					c = 0xFFFD;
				}
				break;
			default:
				return -1;
			}
			if (c < 0x80) {
				buf[0] = (char)c;
			} else if (c < 0x800) {
				buf[0] = (char)(0xC0 | (c >> 6));
				buf[1] = (char)(0x80 | (c & 0x3F));
				bl = 2;
			} else if (c < 0x10000) {
				buf[0] = (char)(0xE0 | (c >> 12));
				buf[1] = (char)(0x80 | ((c >> 6) & 0x3F));
				buf[2] = (char)(0x80 | (c & 0x3F));
				bl = 3;
			} else {
				buf[0] = (char)(0xF0 | (c >> 18));
				buf[1] = (char)(0x80 | ((c >> 12) & 0x3F));
				buf[2] = (char)(0x80 | ((c >> 6) & 0x3F));
				buf[3] = (char)(0x80 | (c & 0x3F));
				bl = 4;
			}
		} else {
			buf[0] = (char)c;
		}
		if (out != NULL && n + bl < cap) {
			memcpy(out + n, buf, bl);
			n += bl;
		}
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	if (out != NULL && cap > 0)
		out[n] = '\0';
	return 0;
}

static int jp_value(struct jp *j, int depth);

/* { "key": value, ... } or [ value, ... ]: each member passed to member() when
 * given (an object: with its key), else skipped. */
typedef int (*jp_member_fn)(struct jp *j, void *ud, const char *key, int depth);

static int jp_container(struct jp *j, int depth, jp_member_fn member, void *ud)
{
	char open, close, key[64];

	if (depth > POSTFIX_JSON_DEPTH || j->p >= j->end)
		return -1;
	open = *j->p;
	if (open != '{' && open != '[')
		return -1;
	close = open == '{' ? '}' : ']';
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		key[0] = '\0';
		jp_ws(j);
		if (open == '{') {
			if (jp_string(j, key, sizeof key) != 0)
				return -1;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -1;
			j->p++;
			jp_ws(j);
		}
		if (member != NULL ? member(j, ud, key, depth + 1) != 0 : jp_value(j, depth + 1) != 0)
			return -1;
		jp_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return -1;
		j->p++;
	}
}

static int jp_number(struct jp *j, int64_t *out)
{
	const char *s = j->p;
	int64_t v = 0;
	int neg = 0, digits = 0;

	if (j->p < j->end && *j->p == '-') {
		neg = 1;
		j->p++;
	}
	for (; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++, digits++)
		if (v < INT64_MAX / 10)
			v = v * 10 + (*j->p - '0');
	/* a fraction or exponent is skipped: postqueue's numbers are integers */
	while (j->p < j->end && *j->p != '\0' &&
	       (strchr(".eE+-", *j->p) != NULL || (*j->p >= '0' && *j->p <= '9')))
		j->p++;
	if (digits == 0) {
		j->p = s;
		return -1;
	}
	if (out != NULL)
		*out = neg ? -v : v;
	return 0;
}

static int jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int jp_value(struct jp *j, int depth)
{
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"': return jp_string(j, NULL, 0);
	case '{': case '[': return jp_container(j, depth, NULL, NULL);
	case 't': return jp_literal(j, "true");
	case 'f': return jp_literal(j, "false");
	case 'n': return jp_literal(j, "null");
	default: return jp_number(j, NULL);
	}
}

/* a recipient object: {"address": ..., "delay_reason": ...} */
static int jp_rcpt_member(struct jp *j, void *ud, const char *key, int depth)
{
	struct postfix_msg *m = ud;

	if (strcmp(key, "address") == 0 && m->nrcpt < POSTFIX_RCPT_KEEP && j->p < j->end &&
	    *j->p == '"')
		return jp_string(j, m->rcpt[m->nrcpt], sizeof m->rcpt[m->nrcpt]);
	return jp_value(j, depth);
}

/* an element of "recipients" */
static int jp_rcpt(struct jp *j, void *ud, const char *key, int depth)
{
	struct postfix_msg *m = ud;
	int rc;

	(void)key;
	if (j->p >= j->end || *j->p != '{')
		return jp_value(j, depth);
	if (m->nrcpt < POSTFIX_RCPT_KEEP)
		m->rcpt[m->nrcpt][0] = '\0';
	rc = jp_container(j, depth, jp_rcpt_member, m);
	m->nrcpt++;
	return rc;
}

static int jp_msg_member(struct jp *j, void *ud, const char *key, int depth)
{
	struct postfix_msg *m = ud;
	int str = j->p < j->end && *j->p == '"';

	if (str && strcmp(key, "queue_id") == 0)
		return jp_string(j, m->queue_id, sizeof m->queue_id);
	if (str && strcmp(key, "queue_name") == 0)
		return jp_string(j, m->queue_name, sizeof m->queue_name);
	if (str && strcmp(key, "sender") == 0)
		return jp_string(j, m->sender, sizeof m->sender);
	if (strcmp(key, "arrival_time") == 0 && j->p < j->end && *j->p != '"' && *j->p != '{' &&
	    *j->p != '[')
		return jp_number(j, &m->arrival);
	if (strcmp(key, "recipients") == 0 && j->p < j->end && *j->p == '[')
		return jp_container(j, depth, jp_rcpt, m);
	return jp_value(j, depth);
}

int postfix_msg_parse(const char *line, size_t len, struct postfix_msg *m)
{
	struct jp j = { line, line + len };

	memset(m, 0, sizeof *m);
	jp_ws(&j);
	if (j.p >= j.end || *j.p != '{' || jp_container(&j, 0, jp_msg_member, m) != 0)
		return -1;
	jp_ws(&j);
	if (j.p != j.end || m->queue_id[0] == '\0')
		return -1;
	return 0;
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
