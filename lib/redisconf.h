/* redisconf: the [redis] keys every Redis client of chanrac reads the same way
 * (lib/kv.c, lib/stats.c, lib/store.c): where the server is, who we are to it
 * (ACL user and password file), the database and the key prefix; and the one
 * way they connect with them (connect, AUTH, SELECT). */
#ifndef CHANRAC_REDISCONF_H
#define CHANRAC_REDISCONF_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define REDISCONF_PREFIX_MAX 64

struct redis_conf {
	char server[300]; /* "host:port", "[v6]:port" or "unix:path", for messages */
	char host[256];
	int port;
	char socket[256]; /* "" = TCP */
	char user[128];   /* "" = the default user */
	char password[512]; /* "" = no AUTH; wipe with explicit_bzero when done */
	int db;
	char prefix[REDISCONF_PREFIX_MAX + 1];
};

/* Fills rc from [redis]; 0, or -1 with err naming the key (or the password
 * file).  The password is read from password_file here, once. */
int redis_conf_load(const cr_conf *conf, struct redis_conf *rc, char *err, size_t errlen);

/* A new connection to rc's server, ready for commands: connected within
 * connect_ms, every command then bounded by command_ms, AUTH sent when a
 * password is set, SELECT when db is not 0.  NULL on failure with err
 * "redis SERVER: WHY" (SERVER is rc->server; WHY is hiredis' text, or
 * "AUTH: ..." / "SELECT: ..." with the server's error or redis_conf_why).
 * The caller frees it with redisFree. */
redisContext *redis_conf_connect(const struct redis_conf *rc, int64_t connect_ms,
				 int64_t command_ms, char *err, size_t errlen);

/* Why a command on c got no reply, for messages: "timed out" (the command
 * timeout expired), "connection closed by server", hiredis' text, or
 * "no reply". */
const char *redis_conf_why(const redisContext *c);

#endif
