/* dname: normalising domain names to lower-case A-labels (libidn2, IDNA 2008 with
 * UTS #46 non-transitional mapping) within the RFC 1035 limits, and finding a
 * name's registered domain with libpsl's built-in Public Suffix List. */
#include "dname.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "util.h"

/* Input we are willing to look at: a U-label name may be longer in UTF-8 than
 * its A-label form, but never by more than 4 bytes per character. */
#define DNAME_INPUT_MAX (4 * DNAME_MAX + 8)

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lower-cases an ASCII name in place and checks it against the rules in
 * dname.h.  orig is the user's text, named in the error. */
static int check_ascii(char *name, const char *orig, char *err, size_t errlen)
{
	size_t len = strlen(name), label_start = 0;

	if (len == 0) {
		util_errf(err, errlen, "\"%.80s\": empty domain name", orig);
		return -1;
	}
	if (len > DNAME_MAX) {
		util_errf(err, errlen, "%.80s...: name is %zu characters long (at most %d)", orig,
			  len, DNAME_MAX);
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			size_t ll = i - label_start;

			if (ll == 0) {
				util_errf(err, errlen, "%.260s: empty label", orig);
				return -1;
			}
			if (ll > DNAME_LABEL_MAX) {
				util_errf(err, errlen, "%.260s: label \"%.*s...\" is %zu characters "
					  "long (at most %d)", orig, 20, name + label_start, ll,
					  DNAME_LABEL_MAX);
				return -1;
			}
			if (name[label_start] == '-' || name[i - 1] == '-') {
				util_errf(err, errlen, "%.260s: label \"%.*s\" %s with '-'", orig,
					  (int)ll, name + label_start,
					  name[label_start] == '-' ? "starts" : "ends");
				return -1;
			}
			label_start = i + 1;
			continue;
		}
		if (c >= 'A' && c <= 'Z') {
			name[i] = (char)(c - 'A' + 'a');
			continue;
		}
		if (!is_name_char(c)) {
			if (c >= 0x21 && c < 0x7f)
				util_errf(err, errlen, "%.260s: character '%c' not allowed in a "
					  "domain name", orig, c);
			else
				util_errf(err, errlen, "%.260s: character 0x%02x not allowed in a "
					  "domain name", orig, c);
			return -1;
		}
	}
	return 0;
}

int dname_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char work[DNAME_INPUT_MAX + 1];
	size_t len;
	bool ascii = true;

	if (in == NULL || *in == '\0') {
		util_errf(err, errlen, "empty domain name");
		return -1;
	}
	len = strnlen(in, DNAME_INPUT_MAX + 1);
	if (len > DNAME_INPUT_MAX) {
		util_errf(err, errlen, "%.80s...: name too long", in);
		return -1;
	}
	memcpy(work, in, len + 1);
	/* One trailing dot makes a name absolute; it is not part of our form. */
	if (len > 1 && work[len - 1] == '.')
		work[--len] = '\0';
	else if (len == 1 && work[0] == '.') {
		util_errf(err, errlen, "\".\": the root is not a domain name here");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)work[i] >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (!ascii) {
		char *converted = NULL;
		const uint8_t *bad = u8_check((const uint8_t *)work, len);
		int rc;

		if (bad != NULL) {
			util_errf(err, errlen, "%.80s: not valid UTF-8 (bad byte 0x%02x at offset "
				  "%zu)", in, *bad, (size_t)(bad - (const uint8_t *)work));
			return -1;
		}
		/* Reject empty labels ourselves: UTS #46 would quietly accept "a..b". */
		for (size_t i = 0; i < len; i++) {
			if (work[i] == '.' && (i == 0 || work[i - 1] == '.' || i + 1 == len)) {
				util_errf(err, errlen, "%.260s: empty label", in);
				return -1;
			}
		}
		rc = idn2_to_ascii_8z(work, &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			int rc2 = idn2_to_ascii_8z(work, &converted,
						   IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
			if (rc2 != IDN2_OK) {
				util_errf(err, errlen, "%.260s: not a valid internationalised domain "
					  "name (%s)", in, idn2_strerror(rc));
				return -1;
			}
		}
		if (strlen(converted) > DNAME_MAX) {
			util_errf(err, errlen, "%.80s...: name is %zu characters long as A-labels "
				  "(at most %d)", in, strlen(converted), DNAME_MAX);
			idn2_free(converted);
			return -1;
		}
		memcpy(work, converted, strlen(converted) + 1);
		idn2_free(converted);
	}
	if (check_ascii(work, in, err, errlen) < 0)
		return -1;
	len = strlen(work);
	if (len + 1 > outlen) {
		util_errf(err, errlen, "%.80s: no room for the normalised name", in);
		return -1;
	}
	memcpy(out, work, len + 1);
	return 0;
}

int dname_registered(const char *name, char *out, size_t outlen)
{
	const psl_ctx_t *psl = psl_builtin();
	const char *reg = psl != NULL ? psl_registrable_domain(psl, name) : NULL;
	int rc = 0;

	if (reg == NULL) {
		reg = name;
		rc = 1;
	}
	if (strlen(reg) + 1 > outlen)
		return -1;
	memcpy(out, reg, strlen(reg) + 1);
	return rc;
}

int dname_is_within(const char *name, const char *parent)
{
	size_t nl = strlen(name), pl = strlen(parent);

	if (pl == 0)
		return 1; /* everything is below the root */
	if (nl == pl)
		return strcmp(name, parent) == 0;
	return nl > pl && name[nl - pl - 1] == '.' && strcmp(name + nl - pl, parent) == 0;
}

const char *dname_parent(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL && dot[1] != '\0' ? dot + 1 : NULL;
}
