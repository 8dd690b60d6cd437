/* fuzz_dataset: lib/dataset.c — one list file in each of the five formats (plain,
 * ip4set, ip4trie, ip6trie, dnset) through dataset_parse_stream; every entry it
 * gives is written back (dataset_write_entry) and re-read, and must come back
 * the same key. */
#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

struct ctx {
	enum dataset_format fmt;
	size_t n;
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
	struct ctx c = { (enum dataset_format)(data[0] % 5), 0 };
	f = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "r");
	if (f == NULL)
		return 0;
	err[0] = '\0';
	if (dataset_parse_stream(f, "fuzz", c.fmt, entry, &c, err, sizeof err) < 0)
		FUZZ_ASSERT(err[0] != '\0');
	fclose(f);
	return 0;
}
