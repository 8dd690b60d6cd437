/* frequency: advertising emails per advertiser per recipient in a rolling window
 * (REGULATIONS.md R5, D91 Art. 13(5): at most 3 in 24 h by default), and for the
 * legacy limit (1 with the same content) per advertiser, content and recipient,
 * counted in Redis as one sorted set of arrival times per counter and recipient,
 * trimmed to the window and expiring with it.  Key schema: doc/redis-keys.md
 * ("Advertising frequency"). */
#ifndef CHANRAC_FREQUENCY_H
#define CHANRAC_FREQUENCY_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

/* A message's member in the sorted sets ("TIME:TAG:RANDOM"), with its NUL. */
#define FREQUENCY_MEMBER_MAX 96

/* For each recipient, in one pipeline: drops entries older than window_s before
 * now_ms, returns how many advertising emails from advertiser reached rcpts[i] in
 * the window before this one, and (record != 0) records this one (member tag,
 * e.g. the queue id, keeps simultaneous messages apart).  Two counters, each
 * counted and recorded atomically (one script per counter and recipient):
 *   counts != NULL: all of advertiser's mail, into counts[i];
 *   content != NULL: advertiser's mail with this content (a fingerprint id,
 *     lib/fingerprint.h; no ':' or '#'), into same[i] (same must be non-NULL).
 * A counter not asked for is neither read nor recorded.
 * member (may be NULL; FREQUENCY_MEMBER_MAX bytes) gets the member recorded (the
 * same in both counters), for frequency_forget, or "" when record = 0.  0, or -1
 * with err when Redis failed (counts unset, member ""; some recipients may have
 * been recorded). */
int frequency_count(cr_kv *kv, const char *advertiser, const char *content,
		    const char *const *rcpts, size_t n, int64_t now_ms, int64_t window_s,
		    int record, const char *tag, long long *counts, long long *same,
		    char *member, char *err, size_t errlen);

/* The same rolling-window count for counters named by the caller (full key
 * names, e.g. R8's P:r8:USER:RCPT): for each key, in one pipeline and one atomic
 * script each, the entries within window_s before now_ms go into counts[i] and
 * (record != 0) this one is recorded (member from tag).  0, or -1 with err. */
int frequency_window(cr_kv *kv, const char *const *keys, size_t n, int64_t now_ms,
		     int64_t window_s, int record, const char *tag, long long *counts, char *err,
		     size_t errlen);
/* Undoes frequency_count's record of one message (member as it returned) for
 * rcpts: a message that was not delivered (rejected, deferred, recipient
 * removed) must not count against later ones.  Only that member goes, from the
 * advertiser's counters and, when content is not NULL, from those of advertiser
 * and content, in one pipeline of ZREM.  Returns how many entries were
 * removed, or -1 with err. */
long long frequency_forget(cr_kv *kv, const char *advertiser, const char *content,
			   const char *const *rcpts, size_t n, const char *member, char *err,
			   size_t errlen);

#endif
