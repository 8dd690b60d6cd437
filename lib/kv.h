/* kv: a small thread-safe pool of hiredis connections to [redis] for the
 * per-message state of the check engine (spam templates, advertising frequency
 * counters, opt-outs, outbound counters and holds) and the CLI commands that
 * manage it.  Unlike lib/store.c (one connection, blacklist scripts), a cr_kv is
 * shared by all milter threads: each call borrows an idle connection or opens
 * one, and gives it back.  Every call is bounded by the pool's timeout; after a
 * failed connect or command the pool refuses calls for a short back-off (1 s) so
 * that a dead or hung Redis costs a message nothing (callers mark the verdict
 * degraded).
 * Key schema: doc/redis-keys.md. */
#ifndef CHANRAC_KV_H
#define CHANRAC_KV_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "conf.h"

typedef struct cr_kv cr_kv;

/* Longest key prefix ([redis] key_prefix) and key built on it. */
#define KV_PREFIX_MAX 64
#define KV_KEY_MAX 768

/* Reads [redis] (host/port or socket, user + password_file, db, key_prefix).
 * timeout_ms > 0 bounds connect and each command (the engine passes
 * [engine] store_timeout); 0 takes [redis] connect_timeout / command_timeout.
 * Does not connect.  NULL with err naming the key on a bad value. */
cr_kv *kv_open(const cr_conf *conf, int64_t timeout_ms, char *err, size_t errlen);
void kv_close(cr_kv *kv);

/* [redis] key_prefix. */
const char *kv_prefix(const cr_kv *kv);
/* "127.0.0.1:6379" or "unix:/path", for messages. */
const char *kv_server(const cr_kv *kv);

/* Sends n commands pipelined on one connection (argvs[i] has argcs[i] words,
 * binary-safe when lens[i] is not NULL) and stores the n replies in replies[]
 * (the caller frees each with freeReplyObject).  A reply of type ERROR is
 * returned like any other.  0, or -1 with err ("redis SERVER: timed out") and
 * every replies[i] NULL when the connection failed. */
int kv_pipeline(cr_kv *kv, size_t n, const int *argcs, const char *const *const *argvs,
		const size_t *const *lens, redisReply **replies, char *err, size_t errlen);

/* One command; NULL with err on a connection failure or an ERROR reply. */
redisReply *kv_command(cr_kv *kv, char *err, size_t errlen, int argc, const char **argv);

/* Lower-cases an email address, domain or user name into out for use in a key:
 * ASCII letters lowered; control characters, spaces and braces (which would
 * change a key's Cluster hash tag) refused.
 * 0, or -1 (empty, too long, or a refused byte). */
int kv_key_part(const char *in, char *out, size_t outlen);

#endif
