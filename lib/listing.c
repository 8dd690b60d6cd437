/* listing: entry keys (addresses, prefixes, names, wildcards, "!" exclusions),
 * the encoded value kept beside each key in Redis, return codes in 127.0.0.0/8
 * (RFC 5782 2.3) and the cleaning of free text that ends up in TXT records. */
#include "listing.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int listing_valid_list_name(const char *name)
{
	size_t i;

	if (name == NULL || !(name[0] >= 'a' && name[0] <= 'z'))
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= LISTING_LIST_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Text that can only be an address or prefix: it has a colon or a slash, or it
 * is nothing but digits and dots (an all-numeric name is no valid host name,
 * RFC 3696 2, so "192.0.2.300" is a bad address, not a domain). */
static int looks_like_address(const char *s)
{
	if (strchr(s, ':') != NULL || strchr(s, '/') != NULL)
		return 1;
	for (; *s != '\0'; s++) {
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return 0;
	}
	return 1;
}

static void entry_reset(struct listing_entry *e)
{
	memset(e, 0, sizeof *e);
	e->code = LISTING_CODE_DEFAULT;
}

int listing_parse_key(const char *text, struct listing_entry *e, char *err, size_t errlen)
{
	const char *s = text;

	entry_reset(e);
	if (s == NULL || *s == '\0') {
		util_errf(err, errlen, "empty entry");
		return -1;
	}
	if (*s == '!') {
		e->exclude = true;
		s++;
	}
	if (*s == '\0') {
		util_errf(err, errlen, "\"%s\": exclusion of nothing", text);
		return -1;
	}
	if (looks_like_address(s)) {
		e->kind = LISTING_ADDR;
		if (addr_parse_prefix(s, &e->prefix, err, errlen) < 0)
			return -1;
		return 0;
	}
	e->kind = LISTING_DOMAIN;
	if (s[0] == '*') {
		if (s[1] != '.' || s[2] == '\0') {
			util_errf(err, errlen, "%.260s: a wildcard is \"*.\" followed by a name",
				  text);
			return -1;
		}
		e->kind = LISTING_WILDCARD;
		s += 2;
	}
	return dname_normalise(s, e->name, sizeof e->name, err, errlen);
}

int listing_format_key(const struct listing_entry *e, char *buf, size_t len)
{
	char tmp[LISTING_KEY_MAX + 8];
	int n;
	const char *bang = e->exclude ? "!" : "";

	switch (e->kind) {
	case LISTING_ADDR: {
		char p[ADDR_TEXT_MAX + 8];
		if (addr_format_prefix(&e->prefix, p, sizeof p) < 0)
			return -1;
		n = snprintf(tmp, sizeof tmp, "%s%s", bang, p);
		break;
	}
	case LISTING_DOMAIN:
		n = snprintf(tmp, sizeof tmp, "%s%s", bang, e->name);
		break;
	case LISTING_WILDCARD:
		n = snprintf(tmp, sizeof tmp, "%s*.%s", bang, e->name);
		break;
	default:
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof tmp || (size_t)n >= len)
		return -1;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

static int code_ok(uint32_t code)
{
	return (code >> 24) == 127 && code != 0x7f000001u;
}

int listing_parse_code(const char *s, uint32_t *out, char *err, size_t errlen)
{
	struct cr_addr a;
	uint32_t code;

	if (s == NULL || *s == '\0') {
		util_errf(err, errlen, "empty return code");
		return -1;
	}
	if (strchr(s, '.') == NULL) {
		unsigned v = 0;
		size_t i;

		/* Bare N means 127.0.0.N, as in rbldnsd's ":2:" values. */
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] < '0' || s[i] > '9' || i >= 3 || (i == 1 && s[0] == '0')) {
				util_errf(err, errlen, "%.64s: return code must be 127.0.0.N or N",
					  s);
				return -1;
			}
			v = v * 10 + (unsigned)(s[i] - '0');
		}
		if (v < 1 || v > 255) {
			util_errf(err, errlen, "%s: return code N must be 2..255", s);
			return -1;
		}
		code = 0x7f000000u | v;
	} else {
		if (strchr(s, ':') != NULL || addr_parse(s, &a, NULL, 0) < 0 || !addr_is_v4(&a)) {
			util_errf(err, errlen, "%.64s: return code must be 127.0.0.N or N", s);
			return -1;
		}
		code = addr_to_v4(&a);
	}
	if (code == 0x7f000001u) {
		util_errf(err, errlen, "%s: return code 127.0.0.1 is reserved (RFC 5782 "
			  "2.3: it would mean every query is listed)", s);
		return -1;
	}
	if (!code_ok(code)) {
		util_errf(err, errlen, "%s: return code must lie in 127.0.0.0/8 (RFC 5782 2.3)",
			  s);
		return -1;
	}
	*out = code;
	return 0;
}

void listing_format_code(uint32_t code, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", code >> 24, (code >> 16) & 0xff, (code >> 8) & 0xff,
		 code & 0xff);
}

void listing_clean_text(char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			s[i] = ' ';
	}
	if (i > max) {
		/* Step back over UTF-8 continuation bytes so no character is split. */
		size_t cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		s[cut] = '\0';
	}
}

int listing_expired(const struct listing_entry *e, int64_t now)
{
	return e->expires != 0 && e->expires <= now;
}

/* Copies text into a value field, control characters as spaces (a tab or
 * newline would break the encoding). Returns bytes written or -1. */
static int put_text(char *buf, size_t len, size_t *pos, const char *text, size_t max)
{
	size_t n = strlen(text);

	if (n > max || *pos + n >= len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		buf[(*pos)++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	buf[*pos] = '\0';
	return 0;
}

int listing_encode_value(const struct listing_entry *e, char *buf, size_t len)
{
	char code[16];
	int n;
	size_t pos;

	listing_format_code(e->code, code, sizeof code);
	n = snprintf(buf, len, "v1\t%s\t%" PRId64 "\t%" PRId64 "\t", code, e->added, e->expires);
	if (n < 0 || (size_t)n >= len)
		return -1;
	pos = (size_t)n;
	if (put_text(buf, len, &pos, e->source, LISTING_SOURCE_MAX) < 0)
		return -1;
	if (pos + 1 >= len)
		return -1;
	buf[pos++] = '\t';
	buf[pos] = '\0';
	if (put_text(buf, len, &pos, e->reason, LISTING_REASON_MAX) < 0)
		return -1;
	return (int)pos;
}

/* Next tab-separated field of [*p, end); NULL-free, so no NUL handling needed. */
static int next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *tab;

	if (*p > end)
		return -1;
	tab = memchr(*p, '\t', (size_t)(end - *p));
	*f = *p;
	*flen = (size_t)((tab != NULL ? tab : end) - *p);
	*p = tab != NULL ? tab + 1 : end + 1;
	return 0;
}

static int field_i64(const char *f, size_t flen, int64_t *out)
{
	char tmp[24];

	if (flen == 0 || flen >= sizeof tmp)
		return -1;
	memcpy(tmp, f, flen);
	tmp[flen] = '\0';
	return util_parse_i64(tmp, 0, INT64_MAX, out);
}

int listing_decode_value(const char *val, size_t len, struct listing_entry *e)
{
	const char *p = val, *end = val + len, *f;
	size_t flen;
	char code[16];
	uint32_t c;
	int64_t added, expires;

	if (val == NULL || memchr(val, '\0', len) != NULL)
		return -1;
	if (next_field(&p, end, &f, &flen) < 0 || flen != 2 || memcmp(f, "v1", 2) != 0)
		return -1;
	if (next_field(&p, end, &f, &flen) < 0 || flen == 0 || flen >= sizeof code)
		return -1;
	memcpy(code, f, flen);
	code[flen] = '\0';
	if (listing_parse_code(code, &c, NULL, 0) < 0 || strchr(code, '.') == NULL)
		return -1;
	if (next_field(&p, end, &f, &flen) < 0 || field_i64(f, flen, &added) < 0)
		return -1;
	if (next_field(&p, end, &f, &flen) < 0 || field_i64(f, flen, &expires) < 0)
		return -1;
	if (next_field(&p, end, &f, &flen) < 0 || flen > LISTING_SOURCE_MAX)
		return -1;
	const char *source = f;
	size_t source_len = flen;
	/* The reason is the last field; a further tab is corruption. */
	if (p > end || memchr(p, '\t', (size_t)(end - p)) != NULL ||
	    (size_t)(end - p) > LISTING_REASON_MAX)
		return -1;
	e->code = c;
	e->added = added;
	e->expires = expires;
	memcpy(e->source, source, source_len);
	e->source[source_len] = '\0';
	memcpy(e->reason, p, (size_t)(end - p));
	e->reason[end - p] = '\0';
	return 0;
}
