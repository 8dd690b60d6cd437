/* fuzz_snapshot: the snapshot decoder of lib/store.c (store_snapshot's custom
 * hiredis reply functions, lib/store_int.h).  The input is raw RESP as Redis
 * would answer MULTI, EXISTS, XINFO STREAM, HGETALL x2, EXEC; it goes through a
 * hiredis reader with the snapshot's functions attached exactly as
 * store_snapshot attaches them, for two lists ("spam-ip", "allow").
 * Pass 1 feeds it whole and frees the reader while attached (the I/O-error
 * path); pass 2 feeds it in small pieces, reading after each as hiredis does
 * off a socket, has fn ask to stop halfway and detaches before freeing.  Every
 * entry fn sees must be well-formed, pass 2 must see exactly the first half of
 * pass 1's entries, EXEC's array must give a valid position, and for input
 * made of whole replies, entries and other replies must be what hiredis's own
 * reader gives (the reference below). */
#include <hiredis/hiredis.h>

#include "fuzz.h"
#include "listing.h"
#include "store_int.h"

#define NLISTS 2
#define REPLIES_MAX 64
/* A fixed "now" (2026-06-01): expired entries are those at or before it. */
#define NOW ((int64_t)1780272000)

static const char *const lists[NLISTS + 1] = { "spam-ip", "allow", NULL };

struct seen {
	long n, stop_at;   /* stop_at 0: never ask to stop */
	int stopped;
	uint64_t hash;     /* of every (list, key, value) seen, in order */
	uint64_t *history; /* history[i]: hash after entry i + 1 (or NULL) */
};

/* An entry takes more than 8 bytes of RESP: inputs are at most 65536. */
#define ENTRIES_MAX 8192
static uint64_t history[ENTRIES_MAX];

static int bounded(const char *s, size_t size, size_t max)
{
	const char *z = memchr(s, '\0', size);
	return z != NULL && (size_t)(z - s) <= max;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int on_entry(void *ud, const char *list, const struct listing_entry *e)
{
	struct seen *s = ud;
	char key[LISTING_KEY_MAX], val[LISTING_VALUE_MAX];
	struct listing_entry again;

	FUZZ_ASSERT(!s->stopped); /* nothing after fn asked to stop */
	FUZZ_ASSERT(list == lists[0] || list == lists[1]);
	FUZZ_ASSERT(e->kind == LISTING_ADDR || e->kind == LISTING_DOMAIN ||
		    e->kind == LISTING_WILDCARD);
	FUZZ_ASSERT(bounded(e->name, sizeof e->name, DNAME_MAX));
	FUZZ_ASSERT(bounded(e->source, sizeof e->source, LISTING_SOURCE_MAX));
	FUZZ_ASSERT(bounded(e->reason, sizeof e->reason, LISTING_REASON_MAX));
	FUZZ_ASSERT(strchr(e->reason, '\t') == NULL && strchr(e->source, '\t') == NULL);
	if (e->kind == LISTING_ADDR)
		FUZZ_ASSERT(e->prefix.len <= 128);
	else
		FUZZ_ASSERT(e->name[0] != '\0');
	FUZZ_ASSERT((e->code >> 24) == 127 && e->code != 0x7f000001u);
	FUZZ_ASSERT(e->expires == 0 || e->expires > NOW); /* expired: skipped */
	/* What fn gets is what the store would write back. */
	FUZZ_ASSERT(listing_format_key(e, key, sizeof key) > 0);
	memset(&again, 0, sizeof again);
	FUZZ_ASSERT(listing_parse_key(key, &again, NULL, 0) == 0);
	FUZZ_ASSERT(again.kind == e->kind && again.exclude == e->exclude);
	FUZZ_ASSERT(listing_encode_value(e, val, sizeof val) > 0);
	s->hash = mix(s->hash, list, strlen(list) + 1);
	s->hash = mix(s->hash, key, strlen(key) + 1);
	s->hash = mix(s->hash, val, strlen(val) + 1);
	if (s->history != NULL && s->n < ENTRIES_MAX)
		s->history[s->n] = s->hash;
	if (++s->n == s->stop_at) {
		s->stopped = 1;
		return 1;
	}
	return 0;
}

/* A hash of a reply as the snapshot builds it: an HGETALL reply (EXEC
 * element 2 .. NLISTS + 1) counts as an empty array, the rest in full.  Every
 * element is there: none is NULL. */
static uint64_t shape(uint64_t h, const redisReply *r, int exec)
{
	FUZZ_ASSERT(r != NULL);
	h = mix(h, &r->type, sizeof r->type);
	switch (r->type) {
	case REDIS_REPLY_INTEGER:
		return mix(h, &r->integer, sizeof r->integer);
	case REDIS_REPLY_ARRAY:
		h = mix(h, &r->elements, sizeof r->elements);
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *c = r->element[i];
			FUZZ_ASSERT(c != NULL);
			if (exec && i >= 2 && i < NLISTS + 2 && c->type == REDIS_REPLY_ARRAY)
				h = mix(h, "hash", 4);
			else
				h = shape(h, c, 0);
		}
		return h;
	case REDIS_REPLY_NIL:
		return h;
	default:
		h = mix(h, &r->len, sizeof r->len);
		return mix(h, r->str, r->len);
	}
}

struct result {
	struct seen seen;
	int execs;              /* EXEC-shaped replies read */
	uint64_t shapes;        /* shape() of every reply */
	int rc;                 /* store_snap_position of the last one */
	size_t bad;
	char pos[STORE_POS_MAX];
};

/* A reply as store_transaction gets it: the EXEC array is checked the way
 * store_snapshot checks it; anything else is only walked and freed. */
static void check_reply(redisReply *r, struct result *res)
{
	const redisReply *g;

	res->shapes = shape(res->shapes, r, 1);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != NLISTS + 2)
		return;
	res->execs++;
	memset(res->pos, 'x', sizeof res->pos);
	res->bad = (size_t)-1;
	res->rc = store_snap_position(r, NLISTS, res->pos, &res->bad);
	if (res->rc < 0) {
		FUZZ_ASSERT(res->rc == -1 && res->bad < NLISTS + 2);
		return;
	}
	FUZZ_ASSERT(res->rc == 0 && res->bad == (size_t)-1);
	FUZZ_ASSERT(memchr(res->pos, '\0', sizeof res->pos) != NULL);
	for (size_t i = 2; i < NLISTS + 2; i++) /* streamed: no elements kept */
		FUZZ_ASSERT(r->element[i]->type == REDIS_REPLY_ARRAY &&
			    r->element[i]->elements == 0 && r->element[i]->element == NULL);
	if (strcmp(res->pos, "0-0") == 0 && r->element[0]->integer == 0)
		return;
	/* The position is XINFO's last-generated-id, whole. */
	g = NULL;
	for (size_t i = 0; r->element[1]->type == REDIS_REPLY_ARRAY &&
			   i + 1 < r->element[1]->elements; i += 2) {
		const redisReply *f = r->element[1]->element[i];
		if ((f->type == REDIS_REPLY_STRING || f->type == REDIS_REPLY_STATUS) &&
		    strcmp(f->str, "last-generated-id") == 0) {
			g = r->element[1]->element[i + 1];
			break;
		}
	}
	FUZZ_ASSERT(g != NULL && g->type == REDIS_REPLY_STRING);
	FUZZ_ASSERT(strcmp(res->pos, g->str) == 0);
}

/* Reads every reply the reader holds (at most REPLIES_MAX in all); 0 when the
 * reader has failed. */
static int drain(redisReader *rd, struct result *res, int *replies)
{
	void *reply = NULL;

	while (*replies < REPLIES_MAX) {
		if (redisReaderGetReply(rd, &reply) != REDIS_OK) {
			FUZZ_ASSERT(reply == NULL);
			return 0;
		}
		if (reply == NULL)
			return 1;
		(*replies)++;
		check_reply(reply, res);
		freeReplyObject(reply);
		reply = NULL;
	}
	return 1;
}

static void run(const uint8_t *data, size_t size, size_t piece, long stop_at,
		uint64_t *hist, struct result *res)
{
	redisReader *rd = redisReaderCreate();
	struct store_snap ss;
	redisReplyObjectFunctions *fn;
	int replies = 0, ok = 1;

	FUZZ_ASSERT(rd != NULL);
	fn = rd->fn;
	memset(res, 0, sizeof *res);
	res->seen.stop_at = stop_at;
	res->seen.history = hist;
	store_snap_attach(&ss, rd, lists, NLISTS, on_entry, &res->seen, NOW);
	for (size_t off = 0; ok && off < size && replies < REPLIES_MAX; off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		if (redisReaderFeed(rd, (const char *)data + off, n) != REDIS_OK)
			break;
		ok = drain(rd, res, &replies);
	}
	if (stop_at == 0) {
		redisReaderFree(rd); /* still attached, as after an I/O error */
		return;
	}
	store_snap_detach(&ss);
	FUZZ_ASSERT(rd->fn == fn && rd->privdata == NULL);
	redisReaderFree(rd);
}

/* The reference: the same input read into ordinary reply objects by hiredis's
 * own functions, every field/value pair of EXEC elements 2 .. NLISTS + 1
 * decoded as store_decode does.  Only for input that is whole replies and
 * nothing else (streaming also decodes the pairs of a reply cut short).
 * 1 with *ref filled, 0 when not comparable. */
static int reference(const uint8_t *data, size_t size, struct seen *ref, uint64_t *shapes)
{
	redisReader *rd = redisReaderCreate();
	void *reply = NULL;
	int replies = 0, whole;

	FUZZ_ASSERT(rd != NULL);
	memset(ref, 0, sizeof *ref);
	*shapes = 0;
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		goto out;
	while (replies < REPLIES_MAX && redisReaderGetReply(rd, &reply) == REDIS_OK &&
	       reply != NULL) {
		const redisReply *r = reply;
		replies++;
		*shapes = shape(*shapes, r, 1);
		for (size_t i = 2; r->type == REDIS_REPLY_ARRAY && i < NLISTS + 2 &&
				   i < r->elements; i++) {
			const redisReply *kv = r->element[i];
			for (size_t j = 0; kv->type == REDIS_REPLY_ARRAY && j + 1 < kv->elements;
			     j += 2) {
				const redisReply *f = kv->element[j], *v = kv->element[j + 1];
				struct listing_entry e;
				memset(&e, 0, sizeof e);
				if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
				    f->len > LISTING_KEY_MAX || strlen(f->str) != f->len ||
				    listing_parse_key(f->str, &e, NULL, 0) < 0 ||
				    listing_decode_value(v->str, v->len, &e) < 0 ||
				    listing_expired(&e, NOW))
					continue;
				on_entry(ref, lists[i - 2], &e);
			}
		}
		freeReplyObject(reply);
		reply = NULL;
	}
out:
	/* nothing left half read: hiredis 0.14 leaves ridx 0 with no type read
	 * after looking for the next reply in an empty buffer */
	whole = rd->err == 0 && (rd->ridx == -1 || (rd->ridx == 0 && rd->rstack[0].type < 0)) &&
		rd->pos == rd->len && replies < REPLIES_MAX;
	redisReaderFree(rd);
	return whole;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, halves;
	struct seen ref;
	uint64_t shapes;

	if (size > 65536)
		return 0;
	run(data, size, size > 0 ? size : 1, 0, history, &whole);
	/* Streaming gives exactly what decoding whole replies would. */
	if (fuzz_resp_arrays_small(data, size) && reference(data, size, &ref, &shapes)) {
		FUZZ_ASSERT(ref.n == whole.seen.n);
		FUZZ_ASSERT(ref.hash == whole.seen.hash);
		FUZZ_ASSERT(shapes == whole.shapes); /* and the same other replies */
	}
	if (whole.seen.n == 0 && whole.execs == 0)
		return 0;
	run(data, size, 1 + size % 61, whole.seen.n > 0 ? (whole.seen.n + 1) / 2 : -1, NULL,
	    &halves);
	FUZZ_ASSERT(halves.seen.n == (whole.seen.n + 1) / 2);
	FUZZ_ASSERT(halves.execs == whole.execs && halves.rc == whole.rc);
	if (whole.execs > 0 && whole.rc == 0)
		FUZZ_ASSERT(strcmp(halves.pos, whole.pos) == 0);
	/* ...and the same ones, in the same order */
	if (halves.seen.n > 0 && halves.seen.n <= ENTRIES_MAX)
		FUZZ_ASSERT(halves.seen.hash == history[halves.seen.n - 1]);
	return 0;
}
