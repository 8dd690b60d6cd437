/* fuzz_store: the Redis change-stream decoder of lib/store.c (store_change_decode).
 * The input is raw RESP as Redis would send it; hiredis's own reader turns it
 * into replies, which are decoded as an XREAD answer ([[stream, [entry...]]]),
 * as an XRANGE answer ([entry...]) and as a single entry. */
#include <hiredis/hiredis.h>

#include "fuzz.h"
#include "store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void decode(const redisReply *ent)
{
	struct store_change ch;
	int rc = store_change_decode(ent, &ch);

	FUZZ_ASSERT(rc == 0 || rc == -1 || rc == -2);
	FUZZ_ASSERT(memchr(ch.pos, '\0', sizeof ch.pos) != NULL);
	FUZZ_ASSERT(memchr(ch.list, '\0', sizeof ch.list) != NULL);
	if (rc == 0) {
		FUZZ_ASSERT(ch.op == STORE_CHANGE_ADD || ch.op == STORE_CHANGE_DEL ||
			    ch.op == STORE_CHANGE_LOAD);
		FUZZ_ASSERT(strlen(ch.entry.reason) <= LISTING_REASON_MAX);
	}
}

static void entries(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < r->elements; i++)
		decode(r->element[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	void *reply = NULL;
	int replies = 0;

	if (size > 65536 || !fuzz_resp_arrays_small(data, size))
		return 0;
	rd = redisReaderCreate();
	FUZZ_ASSERT(rd != NULL);
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		goto out;
	while (replies < 16 && redisReaderGetReply(rd, &reply) == REDIS_OK && reply != NULL) {
		const redisReply *r = reply;
		replies++;
		decode(r);
		entries(r);
		/* XREAD: [[stream, [entries]], ...] */
		if (r->type == REDIS_REPLY_ARRAY)
			for (size_t i = 0; i < r->elements; i++) {
				const redisReply *s = r->element[i];
				if (s->type == REDIS_REPLY_ARRAY && s->elements == 2)
					entries(s->element[1]);
			}
		freeReplyObject(reply);
		reply = NULL;
	}
out:
	redisReaderFree(rd);
	return 0;
}
