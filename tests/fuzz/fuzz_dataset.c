/* fuzz_dataset: lib/dataset.c — one list file in each of the five formats (plain,
 * ip4set, ip4trie, ip6trie, dnset) through dataset_parse_stream; every entry it
 * gives is written back (dataset_write_entry) and re-read, and must come back
 * the same key.  The entries then make a responder index (lib/rblindex.c), in
 * which each one's own address or name is looked up. */
#include "dataset.h"
#include "fuzz.h"
#include "rblindex.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

#define MAX_KEEP 256

struct ctx {
	enum dataset_format fmt;
	size_t n;
	rblindex_builder *b;
	struct listing_entry keep[MAX_KEEP];
	size_t nkeep;
};

static int same(void *ud, const struct listing_entry *e, unsigned line)
{
	const struct listing_entry *want = ud;

	(void)line;
	FUZZ_ASSERT(e->kind == want->kind && e->exclude == want->exclude);
	if (e->kind == LISTING_ADDR)
		FUZZ_ASSERT(memcmp(&e->prefix, &want->prefix, sizeof e->prefix) == 0);
	else
		FUZZ_ASSERT(strcmp(e->name, want->name) == 0);
	return 0;
}

static int entry(void *ud, const struct listing_entry *e, unsigned line)
{
	struct ctx *c = ud;
	char buf[2048], err[512];
	FILE *f;
	size_t len;
	int rc;

	FUZZ_ASSERT(line > 0);
	FUZZ_ASSERT(strlen(e->reason) <= LISTING_REASON_MAX);
	c->n++;
	FUZZ_ASSERT(rblindex_builder_add(c->b, e) == 0);
	if (c->nkeep < MAX_KEEP)
		c->keep[c->nkeep++] = *e;
	f = fmemopen(buf, sizeof buf, "w");
	FUZZ_ASSERT(f != NULL);
	rc = dataset_write_entry(f, c->fmt, e);
	len = (size_t)ftell(f);
	fclose(f);
	FUZZ_ASSERT(rc == 0 || rc == 1);
	if (rc != 0 || len == 0 || len >= sizeof buf)
		return 0;
	/* The line written must read back as the same key (one entry, or the two a
	 * dnset ".name" gives, each checked by "same" against the first). */
	f = fmemopen(buf, len, "r");
	FUZZ_ASSERT(f != NULL);
	rc = dataset_parse_stream(f, "rewritten", c->fmt, same, (void *)e, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "entry written as \"%.*s\" does not read back: %s\n", (int)len,
			buf, err);
		abort();
	}
	fclose(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	FILE *f;

	if (size < 2 || size > 65536)
		return 0;
	/* The first byte picks the format. */
	static struct ctx c;
	rblindex *ix;

	c.fmt = (enum dataset_format)(data[0] % 5);
	c.n = c.nkeep = 0;
	c.b = rblindex_builder_new();
	FUZZ_ASSERT(c.b != NULL);
	f = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "r");
	FUZZ_ASSERT(f != NULL);
	err[0] = '\0';
	if (dataset_parse_stream(f, "fuzz", c.fmt, entry, &c, err, sizeof err) < 0)
		FUZZ_ASSERT(err[0] != '\0');
	fclose(f);
	ix = rblindex_build(c.b, 0, err, sizeof err);
	FUZZ_ASSERT(ix != NULL);
	FUZZ_ASSERT(rblindex_count(ix) <= c.n);
	for (size_t i = 0; i < c.nkeep; i++) {
		const struct listing_entry *e = &c.keep[i];
		struct rblindex_hit hit;
		int r;

		if (e->kind == LISTING_ADDR && addr_is_v4(&e->prefix.addr) && e->prefix.len >= 96)
			r = rblindex_lookup_v4(ix, addr_to_v4(&e->prefix.addr), 0, &hit);
		else if (e->kind == LISTING_ADDR)
			r = rblindex_lookup_v6(ix, e->prefix.addr.b, 0, &hit);
		else
			r = rblindex_lookup_name(ix, e->name, strlen(e->name), 0, &hit);
		FUZZ_ASSERT(r == RBLINDEX_NONE || r == RBLINDEX_LISTED || r == RBLINDEX_EXCLUDED);
		/* An exact entry's own key is decided by that key (or a later one
		 * of the same key): never "nothing matches". */
		if (e->kind != LISTING_WILDCARD)
			FUZZ_ASSERT(r != RBLINDEX_NONE);
		(void)rblindex_name_has_children(ix, e->name, strlen(e->name));
	}
	rblindex_free(ix);
	return 0;
}
