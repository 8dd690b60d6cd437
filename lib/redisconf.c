/* redisconf: the [redis] keys, read once for every Redis client, and the
 * connect/AUTH/SELECT sequence they all use. */
#include "redisconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

/* First line of path, trimmed of surrounding white space, into rc->password. */
static int read_password(struct redis_conf *rc, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[sizeof rc->password + 2];
	char *p, *end;

	if (f == NULL) {
		util_errf(err, errlen, "[redis] password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		util_errf(err, errlen, "[redis] password_file %s: empty", path);
		return -1;
	}
	fclose(f);
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strlen(p);
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*p == '\0' || strlen(p) >= sizeof rc->password) {
		explicit_bzero(line, sizeof line);
		util_errf(err, errlen, "[redis] password_file %s: first line empty or too long", path);
		return -1;
	}
	util_strlcpy(rc->password, p, sizeof rc->password);
	explicit_bzero(line, sizeof line);
	return 0;
}

static int valid_prefix(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > REDISCONF_PREFIX_MAX)
		return 0;
	for (; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '{' || *p == '}')
			return 0;
	return 1;
}

int redis_conf_load(const cr_conf *conf, struct redis_conf *rc, char *err, size_t errlen)
{
	const char *v;

	memset(rc, 0, sizeof *rc);
	v = conf_str(conf, "redis", "host");
	if (util_strlcpy(rc->host, v ? v : "", sizeof rc->host) >= sizeof rc->host) {
		util_errf(err, errlen, "[redis] host: too long");
		return -1;
	}
	rc->port = (int)conf_int(conf, "redis", "port");
	v = conf_str(conf, "redis", "socket");
	if (util_strlcpy(rc->socket, v ? v : "", sizeof rc->socket) >= sizeof rc->socket) {
		util_errf(err, errlen, "[redis] socket: path too long");
		return -1;
	}
	if (!rc->socket[0] && !rc->host[0]) {
		util_errf(err, errlen, "[redis] host: empty and no socket set");
		return -1;
	}
	if (rc->socket[0])
		snprintf(rc->server, sizeof rc->server, "unix:%s", rc->socket);
	else if (strchr(rc->host, ':') != NULL)
		snprintf(rc->server, sizeof rc->server, "[%s]:%d", rc->host, rc->port);
	else
		snprintf(rc->server, sizeof rc->server, "%s:%d", rc->host, rc->port);
	v = conf_str(conf, "redis", "user");
	if (util_strlcpy(rc->user, v ? v : "", sizeof rc->user) >= sizeof rc->user) {
		util_errf(err, errlen, "[redis] user: too long");
		return -1;
	}
	v = conf_str(conf, "redis", "password_file");
	if (v != NULL && v[0]) {
		if (read_password(rc, v, err, errlen) < 0)
			return -1;
	} else if (rc->user[0]) {
		util_errf(err, errlen, "[redis] user %s: set without password_file", rc->user);
		return -1;
	}
	rc->db = (int)conf_int(conf, "redis", "db");
	v = conf_str(conf, "redis", "key_prefix");
	if (v == NULL || !valid_prefix(v)) {
		util_errf(err, errlen,
			  "[redis] key_prefix \"%s\": must be 1..%d printable characters without "
			  "spaces or braces",
			  v ? v : "", REDISCONF_PREFIX_MAX);
		return -1;
	}
	util_strlcpy(rc->prefix, v, sizeof rc->prefix);
	return 0;
}

static struct timeval redis_conf_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

const char *redis_conf_why(const redisContext *c)
{
	if (c == NULL)
		return "no reply";
	/* SO_RCVTIMEO expired: hiredis reports EAGAIN's text (or none) */
	if (c->err == REDIS_ERR_IO &&
	    (c->errstr[0] == '\0' || strcmp(c->errstr, strerror(EAGAIN)) == 0))
		return "timed out";
	if (c->err == REDIS_ERR_EOF)
		return "connection closed by server";
	return c->errstr[0] ? c->errstr : "no reply";
}

/* One set-up command (AUTH, SELECT); 0, or -1 with err. */
static int redis_conf_setup(const struct redis_conf *rc, redisContext *c, int argc,
			    const char **argv, char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL) {
		util_errf(err, errlen, "redis %s: %s: %s", rc->server, argv[0], redis_conf_why(c));
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		util_errf(err, errlen, "redis %s: %s: %.*s", rc->server, argv[0], (int)r->len,
			  r->str);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

redisContext *redis_conf_connect(const struct redis_conf *rc, int64_t connect_ms,
				 int64_t command_ms, char *err, size_t errlen)
{
	redisContext *c;

	if (rc->socket[0])
		c = redisConnectUnixWithTimeout(rc->socket, redis_conf_tv(connect_ms));
	else
		c = redisConnectWithTimeout(rc->host, rc->port, redis_conf_tv(connect_ms));
	if (c == NULL) {
		util_errf(err, errlen, "redis %s: cannot allocate a connection", rc->server);
		return NULL;
	}
	if (c->err) {
		util_errf(err, errlen, "redis %s: %s", rc->server, c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, redis_conf_tv(command_ms)) != REDIS_OK) {
		util_errf(err, errlen, "redis %s: cannot set the command timeout", rc->server);
		goto fail;
	}
	if (rc->password[0]) {
		/* with a user: the ACL user (Redis 6); without: the default user */
		const char *a3[3] = { "AUTH", rc->user, rc->password };
		const char *a2[2] = { "AUTH", rc->password };
		if (rc->user[0] ? redis_conf_setup(rc, c, 3, a3, err, errlen)
				: redis_conf_setup(rc, c, 2, a2, err, errlen))
			goto fail;
	}
	if (rc->db != 0) {
		char db[16];
		const char *a[2] = { "SELECT", db };
		snprintf(db, sizeof db, "%d", rc->db);
		if (redis_conf_setup(rc, c, 2, a, err, errlen) != 0)
			goto fail;
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}
