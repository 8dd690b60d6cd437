/* redisconf: the [redis] keys every Redis client of chanrac reads the same way
 * (lib/kv.c, lib/stats.c): where the server is, who we are to it (ACL user and
 * password file), the database and the key prefix. */
#ifndef CHANRAC_REDISCONF_H
#define CHANRAC_REDISCONF_H

#include <stddef.h>

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

#endif
