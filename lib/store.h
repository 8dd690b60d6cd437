/* store: the shared blacklist in Redis (hiredis).  Key schema: doc/redis-keys.md.
 *
 * Every change is one atomic Lua script that writes the list hash, the expiry
 * index and one entry on the change stream, so a follower that loads a snapshot
 * and then reads the stream from the snapshot's position sees every change
 * exactly once.  A file import is staged in a temporary key and committed by one
 * script: readers see the list exactly as before or exactly as after.
 *
 * A cr_store is one connection; it is not thread-safe (one per thread). */
#ifndef CHANRAC_STORE_H
#define CHANRAC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "listing.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOTFOUND = -1, /* no such entry */
	STORE_EINVAL = -2,   /* bad argument: unknown list, bad key */
	STORE_EUNAVAIL = -3, /* Redis unreachable, timed out, refused auth or command */
	STORE_EGAP = -4,     /* change stream no longer holds the requested position */
	STORE_EEXIST = -5,   /* entry already present (add without replace) */
};

/* Stream position: a Redis stream id "ms-seq"; "0-0" = before everything. */
#define STORE_POS_MAX 48

typedef struct cr_store cr_store;

/* Connects per [redis] (host/port or socket, user + password_file, db,
 * timeouts, key_prefix) and checks the lists named in [lists].
 * NULL on failure with err saying what and where ("redis 127.0.0.1:6390:
 * Connection refused"); *status_out (may be NULL) gets STORE_EUNAVAIL or
 * STORE_EINVAL. */
cr_store *store_open(const cr_conf *conf, int *status_out, char *err, size_t errlen);
void store_close(cr_store *s);
/* Last error text of this connection. */
const char *store_error(const cr_store *s);

/* 1 if name is a list configured in [lists] names. */
int store_list_known(const cr_store *s, const char *list);
/* NULL-terminated configured list names. */
const char *const *store_lists(const cr_store *s);

/* Adds or replaces one entry (replace=0: STORE_EEXIST if the key is there).
 * Fills e->added with now if zero.  One atomic write + one stream entry. */
int store_entry_add(cr_store *s, const char *list, const struct listing_entry *e, int replace);
/* Deletes one entry by key; STORE_NOTFOUND if absent (nothing written). */
int store_entry_del(cr_store *s, const char *list, const struct listing_entry *key);
/* Reads one entry by exact key into *out; STORE_NOTFOUND if absent. */
int store_entry_get(cr_store *s, const char *list, const struct listing_entry *key,
		    struct listing_entry *out);

/* Calls fn for every entry of list (HSCAN, not a snapshot).  fn returns non-zero
 * to stop.  Entries that fail to decode are skipped and logged. */
typedef int (*store_entry_fn)(void *ud, const char *list, const struct listing_entry *e);
int store_list_scan(cr_store *s, const char *list, store_entry_fn fn, void *ud);
/* Number of entries of a list. */
int store_list_count(cr_store *s, const char *list, long long *count);

/* What matched a query in one list. */
struct store_match {
	char list[LISTING_LIST_MAX + 1];
	struct listing_entry entry; /* the deciding item; entry.exclude = carved out */
	int via;                    /* STORE_VIA_* */
};
enum { STORE_VIA_EXACT = 0, STORE_VIA_PREFIX, STORE_VIA_WILDCARD, STORE_VIA_EXCLUSION };

/* Looks up an address, prefix or domain in every configured list (one pipeline
 * of HMGETs of every covering key): at most one match per list, the most
 * specific item.  Expired entries are ignored.  Returns the number of matches
 * written (<= max; exclusions included with entry.exclude set) or a negative
 * status. */
int store_query(cr_store *s, const struct listing_entry *what, struct store_match *out,
		size_t max);

/* Import: stages entries and commits them atomically.
 * replace=1: the list becomes exactly the imported set; 0: merged over it.
 * Entries are pipelined in batches; nothing is visible until store_import_commit. */
typedef struct store_import store_import;
store_import *store_import_begin(cr_store *s, const char *list, int replace);
int store_import_add(store_import *im, const struct listing_entry *e);
/* Commits (one script: merge/replace + expiry index + one "load" stream entry)
 * and frees im.  Returns STORE_OK or an error, in which case nothing changed. */
int store_import_commit(store_import *im, long long *entries_out);
/* Discards the staged data and frees im. */
void store_import_abort(store_import *im);

/* A change read from the stream. */
enum store_change_op { STORE_CHANGE_ADD, STORE_CHANGE_DEL, STORE_CHANGE_LOAD };
struct store_change {
	enum store_change_op op;
	char pos[STORE_POS_MAX];   /* this change's stream id */
	char list[LISTING_LIST_MAX + 1];
	struct listing_entry entry; /* ADD: full entry; DEL: key only; LOAD: unused —
				       the whole list must be reloaded */
};
typedef int (*store_change_fn)(void *ud, const struct store_change *ch);
/* Decodes one change-stream entry as XREAD/XRANGE return it, [id, [field,
 * value, ...]] with fields op (add, del, load), list, key and val (add only).
 * 0 with ch filled; -1 when the entry is well-formed but not a change we can
 * use (missing or unknown op, bad key or value: it is skipped); -2 when ent is
 * not an entry at all (not [string, ...]).  Never reads past ent's elements. */
struct redisReply;
int store_change_decode(const struct redisReply *ent, struct store_change *ch);

/* Full consistent snapshot of the given lists (NULL = all configured) and the
 * stream position it corresponds to (one MULTI/EXEC).  Expired entries are
 * skipped. */
int store_snapshot(cr_store *s, const char *const *lists, store_entry_fn fn, void *ud,
		   char pos_out[STORE_POS_MAX]);
/* Reads changes after pos, waiting up to block_ms (0 = don't wait) for the first,
 * at most max_count of them; updates pos.  STORE_EGAP if pos is older than the
 * oldest change still held (the follower must snapshot again). Returns the
 * number of changes passed to fn or a negative status. */
int store_changes_read(cr_store *s, char pos[STORE_POS_MAX], int block_ms, int max_count,
		       store_change_fn fn, void *ud);

/* Removes expired entries (each with a "del" stream entry); returns how many. */
int store_expire(cr_store *s, int64_t now, long long *removed);

/* ---- audit log: P:{bl}:audit, one entry per list change, written by the same
 * script as the change (doc/redis-keys.md). */
#define STORE_AUDIT_WHO_MAX 127
#define STORE_AUDIT_WHY_MAX 255
#define STORE_AUDIT_REF_MAX 127

/* Who makes the following changes on this connection, why, and under which
 * reference (a ticket, a report id); NULL or "" leaves a field empty.  Unset
 * who/why default to the entry's source/reason (add) or "unknown" (del). */
void store_set_audit(cr_store *s, const char *who, const char *why, const char *ref);

struct store_audit {
	char id[STORE_POS_MAX];     /* stream id: its first part is the time in ms */
	int64_t when;               /* unix seconds */
	char op[16];                /* add, del, load, expire */
	char list[LISTING_LIST_MAX + 1];
	char key[LISTING_KEY_MAX];
	char val[LISTING_VALUE_MAX]; /* add: new value; del/expire: the value removed */
	char who[STORE_AUDIT_WHO_MAX + 1];
	char why[STORE_AUDIT_WHY_MAX + 1];
	char ref[STORE_AUDIT_REF_MAX + 1];
};
typedef int (*store_audit_fn)(void *ud, const struct store_audit *a);
/* Audit entries with times in [from, to] (unix seconds; 0 = open end), oldest
 * first, at most count (0 = all).  Returns how many were passed or a negative
 * status. */
int store_audit_read(cr_store *s, int64_t from, int64_t to, long count, store_audit_fn fn,
		     void *ud);

/* ---- plain commands for modules that keep their own keys beside the lists
 * (reports: lib/report.c).  The reply is checked like every other (an error
 * reply or I/O error gives NULL and store_error); the caller frees it. */
struct redisReply;
struct redisReply *store_command(cr_store *s, const char *what, int argc, const char **argv,
				 const size_t *lens);
/* EVAL of a script (binary-safe arguments). */
struct redisReply *store_eval(cr_store *s, const char *what, const char *script, int nkeys,
			      const char **keys, int nargs, const char **args,
			      const size_t *arglens);
/* [redis] key_prefix. */
const char *store_prefix(const cr_store *s);

#endif
