/* outbound: the watch over the provider's own outbound mail (REGULATIONS.md P4,
 * P9).  Authenticated submissions are counted per SASL user and per client IP
 * per clock hour (messages and recipients); once a configured limit or a spam
 * score is exceeded the user is *held*: every message of that user goes to the
 * MTA's hold queue until an operator releases the user (`chanrac outbound
 * release USER`).  Key schema: doc/redis-keys.md ("Outbound"). */
#ifndef CHANRAC_OUTBOUND_H
#define CHANRAC_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

#define OUTBOUND_REASON_MAX 200
#define OUTBOUND_USER_MAX 256
/* Held messages remembered per user (their queue ids, for postsuper -H). */
#define OUTBOUND_HELD_MAX 1000

enum outbound_status {
	OUTBOUND_OK = 0,
	OUTBOUND_NOTFOUND = -1,
	OUTBOUND_EXISTS = -2,
	OUTBOUND_EUNAVAIL = -3,
};

struct outbound_counts {
	long long user_msgs, user_rcpts; /* this hour, this message included if recorded */
	long long ip_msgs, ip_rcpts;
};

struct outbound_hold {
	int held;
	int64_t since;
	char reason[OUTBOUND_REASON_MAX + 1];
};

/* Counts one message with nrcpts recipients for user and ip (ip may be NULL) in
 * the hour of now (record = 0: only reads), and reads the user's hold. */
int outbound_count(cr_kv *kv, const char *user, const char *ip, size_t nrcpts, int64_t now,
		   int record, struct outbound_counts *c, struct outbound_hold *h, char *err,
		   size_t errlen);
/* Holds user from now with reason (OUTBOUND_EXISTS if already held: the first
 * reason stays) and, when queue_id is set, remembers that held message.  ip (may
 * be NULL): the client the user was held from, whose counters release resets. */
int outbound_hold_user(cr_kv *kv, const char *user, const char *ip, int64_t now,
		       const char *reason, const char *queue_id, char *err, size_t errlen);
/* Appends one held message of user to the list `status` shows. */
int outbound_note_held(cr_kv *kv, const char *user, int64_t now, const char *queue_id,
		       char *err, size_t errlen);

/* One held message: "TIME QUEUEID". */
typedef int (*outbound_held_fn)(void *ud, int64_t when, const char *queue_id);
/* The user's hold and this hour's counts, and (fn not NULL) its held messages. */
int outbound_status(cr_kv *kv, const char *user, int64_t now, struct outbound_counts *c,
		    struct outbound_hold *h, outbound_held_fn fn, void *ud, char *err,
		    size_t errlen);
/* Every held user. fn gets the user and its hold. Number visited or a status. */
typedef int (*outbound_user_fn)(void *ud, const char *user, const struct outbound_hold *h);
int outbound_list(cr_kv *kv, outbound_user_fn fn, void *ud, char *err, size_t errlen);
/* Releases user: the hold goes, this hour's counts of the user and of the IP it
 * was held from (outbound_hold_user) restart at 0, and fn (may be NULL) gets
 * each message held meanwhile (to release from the MTA's hold queue).
 * OUTBOUND_NOTFOUND if the user was not held. */
int outbound_release(cr_kv *kv, const char *user, int64_t now, outbound_held_fn fn, void *ud,
		     char *err, size_t errlen);

#endif
