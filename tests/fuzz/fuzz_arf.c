/* fuzz_arf: lib/arf.c — RFC 5965 feedback reports (arf_is_report, arf_parse with
 * the reported message decoded, arf_is_not_spam) and the mbox splitter. */
#include "arf.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

struct split {
	const char *buf;
	size_t len, n;
};

static int one(void *ud, const char *msg, size_t len, size_t index)
{
	struct split *sp = ud;
	struct arf_report *r = NULL;
	char err[256];

	FUZZ_ASSERT(index == sp->n);
	FUZZ_ASSERT(msg >= sp->buf && msg + len <= sp->buf + sp->len);
	sp->n++;
	if (arf_parse(msg, len, &r, err, sizeof err) == 0)
		arf_free(r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct arf_report *r = NULL;
	char err[256];
	struct split sp = { buf, size, 0 };

	(void)arf_is_report(buf, size);
	if (arf_parse(buf, size, &r, err, sizeof err) == 0) {
		FUZZ_ASSERT(r != NULL && r->feedback_type[0] != '\0');
		FUZZ_ASSERT(r->n_reported_domain <= ARF_MAX_DOMAINS);
		FUZZ_ASSERT(r->n_reported_uri <= ARF_MAX_URIS);
		FUZZ_ASSERT(strlen(r->feedback_type) <= ARF_FIELD_MAX);
		if (r->original != NULL) {
			/* Touch every byte of the decoded original (ASan checks it). */
			unsigned sum = 0;
			for (size_t i = 0; i < r->original_len; i++)
				sum += (unsigned char)r->original[i];
			FUZZ_ASSERT(sum < 256u * (r->original_len + 1));
		}
		(void)arf_is_not_spam(r);
		arf_free(r);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
	}
	FUZZ_ASSERT(arf_split_mbox(buf, size, one, &sp) == sp.n);
	return 0;
}
