/* template: the shared set of known spam templates in Redis — one MinHash
 * fingerprint (lib/fingerprint.h) per template with its reason, source and time,
 * indexed by its LSH bands so a message finds its candidates in one round trip.
 * Written by `chanrac template add|del` (and later spam reports), read by the
 * check engine.  Key schema: doc/redis-keys.md ("Spam templates"). */
#ifndef CHANRAC_TEMPLATE_H
#define CHANRAC_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "kv.h"

#define TEMPLATE_REASON_MAX 200
#define TEMPLATE_SOURCE_MAX 64
#define TEMPLATE_SUBJECT_MAX 200
/* Candidates compared per message at most (a message sharing bands with more
 * templates than this compares the first ones only). */
#define TEMPLATE_CANDIDATES_MAX 64

enum template_status {
	TEMPLATE_OK = 0,
	TEMPLATE_NOTFOUND = -1,
	TEMPLATE_EXISTS = -2,
	TEMPLATE_EUNAVAIL = -3,
};

struct template_info {
	char id[FINGERPRINT_ID_LEN + 1];
	char reason[TEMPLATE_REASON_MAX + 1];
	char source[TEMPLATE_SOURCE_MAX + 1];
	char subject[TEMPLATE_SUBJECT_MAX + 1];
	int64_t added;
	unsigned words;
};

/* Adds a template (id from fingerprint_id, written to info->id).  TEMPLATE_EXISTS
 * if that fingerprint is already there (nothing written). */
int template_add(cr_kv *kv, const struct fingerprint *fp, struct template_info *info, char *err,
		 size_t errlen);
/* Deletes one template and its band entries; TEMPLATE_NOTFOUND if absent. */
int template_del(cr_kv *kv, const char *id, char *err, size_t errlen);
/* Reads one template. */
int template_get(cr_kv *kv, const char *id, struct template_info *info, char *err,
		 size_t errlen);
/* Calls fn for every template, oldest first; fn returns non-zero to stop.
 * Returns the number visited or a negative status. */
typedef int (*template_fn)(void *ud, const struct template_info *info);
int template_list(cr_kv *kv, template_fn fn, void *ud, char *err, size_t errlen);

/* The most similar stored template that shares a band with fp: 1 with *best and
 * *similarity set, 0 when none reaches threshold, or a negative status. */
int template_match(cr_kv *kv, const struct fingerprint *fp, double threshold,
		   struct template_info *best, double *similarity, char *err, size_t errlen);

/* 1 if s is 16 lower-case hex digits. */
int template_valid_id(const char *s);

#endif
