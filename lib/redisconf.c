/* redisconf: the [redis] keys, read once for every Redis client. */
#include "redisconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
