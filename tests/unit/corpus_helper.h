/* corpus_helper: the advertising corpus (tests/corpus/advert) for unit tests —
 * a message read from it (optionally with one string replaced by another of the
 * same length), and fakedns rules serving its throw-away DKIM test key
 * (keys/test.pub.b64).  Header-only; tests run from the repository root. */
#ifndef CHANRAC_TEST_CORPUS_HELPER_H
#define CHANRAC_TEST_CORPUS_HELPER_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define CORPUS "tests/corpus/advert/"

/* The whole file, NUL-terminated (at most 1 MiB). */
static inline char *corpus_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* CORPUS/NAME.eml parsed, with from replaced by to when from is not NULL. */
static inline cr_msg *corpus_msg(const char *name, const char *from, const char *to)
{
	char path[256], e[200];
	size_t len;
	char *buf;
	cr_msg *m;

	snprintf(path, sizeof(path), CORPUS "%s.eml", name);
	buf = corpus_slurp(path, &len);
	if (from != NULL) {
		char *p = strstr(buf, from);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(strlen(from), strlen(to));
		memcpy(p, to, strlen(to));
	}
	m = msg_parse_buffer(buf, len, NULL, e, sizeof(e));
	ck_assert_msg(m != NULL, "%s", e);
	free(buf);
	return m;
}

/* The fakedns rule serving the corpus key as SELECTOR._domainkey.DOMAIN TXT. */
static inline void corpus_key_rule(const char *selector, const char *domain, char *out,
				   size_t outlen)
{
	char pub[400] = "";
	FILE *f = fopen(CORPUS "keys/test.pub.b64", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(pub, sizeof(pub), f));
	fclose(f);
	pub[strcspn(pub, "\n")] = '\0';
	snprintf(out, outlen, "%s._domainkey.%s TXT rr %s._domainkey.%s. 60 IN TXT "
		 "\"v=DKIM1; k=rsa; p=%s\"", selector, domain, selector, domain, pub);
}

#endif
