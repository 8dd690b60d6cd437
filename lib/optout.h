/* optout: recorded advertising opt-outs (REGULATIONS.md R7, D91 Art. 11, 13(4),
 * 20).  A recipient refuses the advertising of one advertiser (its organisational
 * domain) or of everyone ("*"), at a time, through a channel (web, email, phone);
 * the request may later be confirmed.  Written by `chanrac optout`, read by the
 * check engine for every advertising message.  Key schema: doc/redis-keys.md
 * ("Opt-outs"). */
#ifndef CHANRAC_OPTOUT_H
#define CHANRAC_OPTOUT_H

#include <stddef.h>
#include <stdint.h>

#include "dname.h"
#include "kv.h"
#include "msg.h"

#define OPTOUT_ALL "*"
#define OPTOUT_SOURCE_MAX 64

enum optout_status {
	OPTOUT_OK = 0,
	OPTOUT_NOTFOUND = -1,
	OPTOUT_EXISTS = -2,
	OPTOUT_EUNAVAIL = -3,
};

struct optout {
	long long id;                     /* assigned by optout_add, 1.. */
	char rcpt[MSG_ADDR_MAX + 1];      /* lower-case */
	char advertiser[DNAME_MAX + 1];   /* organisational domain, or "*" = all */
	char channel[8];                  /* web, email, phone */
	int64_t at;                       /* when the request was made */
	int64_t added;                    /* when it was recorded */
	int64_t confirmed;                /* when the confirmation was sent, 0 = not yet */
	char source[OPTOUT_SOURCE_MAX + 1];
};

/* 1 if channel is web, email or phone. */
int optout_valid_channel(const char *channel);

/* Records o (rcpt and advertiser as optout_normalise gives them); sets o->id.
 * OPTOUT_EXISTS when this recipient already opted out of this advertiser
 * (o->id = the existing request, nothing written). */
int optout_add(cr_kv *kv, struct optout *o, char *err, size_t errlen);
int optout_confirm(cr_kv *kv, long long id, int64_t when, char *err, size_t errlen);
int optout_del(cr_kv *kv, long long id, char *err, size_t errlen);
int optout_get(cr_kv *kv, long long id, struct optout *o, char *err, size_t errlen);
/* Every request (rcpt NULL) or those of one recipient, by time.  fn returns
 * non-zero to stop.  The number visited or a negative status. */
typedef int (*optout_fn)(void *ud, const struct optout *o);
int optout_list(cr_kv *kv, const char *rcpt, optout_fn fn, void *ud, char *err, size_t errlen);

/* Normalises a recipient (lower-case, "<>" removed, must hold one '@' with a
 * domain) and an advertiser domain (dname_normalise then dname_registered, or
 * "*" for all).  0, or -1 with err naming the input. */
int optout_normalise_rcpt(const char *in, char *out, size_t outlen, char *err, size_t errlen);
int optout_normalise_advertiser(const char *in, char *out, size_t outlen, char *err,
				size_t errlen);

/* What applies to one recipient of a message from advertiser. */
struct optout_hit {
	long long id; /* 0 = no opt-out recorded */
	int64_t at;
	int all;      /* the request refused all advertising */
};
/* Looks up every recipient in one pipeline; out[i] is the earlier of the
 * advertiser's and the "all" request (the "all" one when both are as old;
 * advertiser "*" looks up the "all" requests only).  0 or OPTOUT_EUNAVAIL. */
int optout_check(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		 struct optout_hit *out, char *err, size_t errlen);
/* The same, and a recipient whose local part holds delim ('+': "an+shop@x.vn")
 * is also looked up without the extension ("an@x.vn"); delim '\0' = off. */
int optout_check_delim(cr_kv *kv, const char *advertiser, const char *const *rcpts, size_t n,
		       char delim, struct optout_hit *out, char *err, size_t errlen);

#endif
