/* store_int.h: the snapshot decoder of lib/store.c, shared with its fuzz target
 * (tests/fuzz/fuzz_snapshot.c) and nothing else — not part of the store's
 * contract.  store_snapshot decodes its reply with exactly these functions. */
#ifndef CHANRAC_STORE_INT_H
#define CHANRAC_STORE_INT_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A snapshot is EXISTS changes, XINFO STREAM changes, then one HGETALL per
 * list, inside MULTI/EXEC.  While a store_snap is attached to a redisReader,
 * each field/value pair of the HGETALL replies in EXEC's array is decoded as
 * the reader parses it and passed to fn (entries that do not decode or have
 * expired by now are skipped; fn returns non-zero to get no more); those
 * arrays come back with no elements.  Every other reply is built as usual and
 * freed with freeReplyObject. */
struct store_snap {
	const char *const *names; /* names[i]: the list of EXEC element 2 + i */
	size_t nnames;
	store_entry_fn fn;
	void *ud;
	int64_t now;
	int stop;                     /* fn asked for no more */
	int key_ok;                   /* the last field read is in key */
	char key[LISTING_KEY_MAX + 1];
	redisReader *reader;          /* attached to, with what it had before */
	redisReplyObjectFunctions *saved_fn;
	void *saved_priv;
};

/* Attaches ss to rd (its reply functions and privdata are saved). */
void store_snap_attach(struct store_snap *ss, redisReader *rd, const char *const *names,
		       size_t nnames, store_entry_fn fn, void *ud, int64_t now);
/* Gives the reader back its own functions and privdata.  Call only while the
 * reader exists (not after redisFree of its context). */
void store_snap_detach(struct store_snap *ss);

/* Checks EXEC's array of a snapshot of nnames lists (an array of nnames + 2
 * replies: store_transaction checks that) and writes the stream position it
 * corresponds to, "0-0" when there is no stream.  0, or -1 with *bad the index
 * of the reply that is not what the snapshot asked for. */
int store_snap_position(const redisReply *exec, size_t nnames, char pos_out[STORE_POS_MAX],
			size_t *bad);

#endif
