/* listing: the blacklist's data model.  An entry of a named list is an address
 * or CIDR range, an exact domain, or a wildcard "*.example.vn" (subdomains of
 * example.vn, not example.vn itself, as in rbldnsd's dnset); an exclusion ("!")
 * carves its address or name out of what the list would otherwise match.
 *
 * An entry has a text key (the Redis hash field, see doc/redis-keys.md) and a
 * value (code, times, source, reason).  Matching rule, the same everywhere
 * (CLI query, responder): the most specific matching item of a list decides —
 * longest prefix for addresses, exact name before the nearest wildcard for
 * domains — and if that item is an exclusion, the list does not match. */
#ifndef CHANRAC_LISTING_H
#define CHANRAC_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dname.h"

/* Text limits: a TXT character-string is at most 255 octets (RFC 1035 3.3). */
#define LISTING_REASON_MAX 255
#define LISTING_SOURCE_MAX 127
#define LISTING_LIST_MAX 63
/* Longest key text: "!*." + name, or "!" + prefix; with NUL. */
#define LISTING_KEY_MAX (DNAME_MAX + 4)
/* Longest encoded value, with NUL. */
#define LISTING_VALUE_MAX (LISTING_REASON_MAX + LISTING_SOURCE_MAX + 96)

/* Default return code 127.0.0.2 (RFC 5782 2.3). */
#define LISTING_CODE_DEFAULT 0x7f000002u

enum listing_kind {
	LISTING_ADDR,     /* an address or CIDR prefix, IPv4 or IPv6 */
	LISTING_DOMAIN,   /* exactly this name */
	LISTING_WILDCARD, /* every name strictly below this name */
};

struct listing_entry {
	enum listing_kind kind;
	bool exclude;            /* "!" entry: carves out, never answers */
	struct cr_prefix prefix; /* LISTING_ADDR */
	char name[DNAME_MAX + 1];/* LISTING_DOMAIN/WILDCARD, normalised, no "*." */
	uint32_t code;           /* A record value, host order, 127.0.0.0/8 */
	int64_t added;           /* unix seconds */
	int64_t expires;         /* unix seconds; 0 = never */
	char source[LISTING_SOURCE_MAX + 1]; /* who listed it */
	char reason[LISTING_REASON_MAX + 1]; /* TXT text; "$" = queried item */
};

/* 1 if name is a valid list name: 1..63 of [a-z0-9_-], starting with a letter. */
int listing_valid_list_name(const char *name);

/* Parses an entry key typed by a user or read from a file: "192.0.2.0/24",
 * "2001:db8::/32", "192.0.2.7", "example.vn", "*.example.vn", IDN names, with
 * an optional leading "!" for an exclusion.  Sets kind, exclude, prefix/name;
 * leaves the other fields zeroed with code = LISTING_CODE_DEFAULT.
 * 0 on success, -1 on bad input (err names it and says why). */
int listing_parse_key(const char *text, struct listing_entry *e, char *err, size_t errlen);

/* Writes the canonical key (the Redis field): "192.0.2.0/24", "192.0.2.7",
 * "2001:db8::/32", "example.vn", "*.example.vn", each with "!" if excluded.
 * Returns length or -1 if it does not fit. */
int listing_format_key(const struct listing_entry *e, char *buf, size_t len);

/* Value encoding: "v1\t<code>\t<added>\t<expires>\t<source>\t<reason>" with the
 * code as a dotted quad.  Returns length or -1. */
int listing_encode_value(const struct listing_entry *e, char *buf, size_t len);
/* Decodes a value into e's code/added/expires/source/reason; 0 or -1. */
int listing_decode_value(const char *val, size_t len, struct listing_entry *e);

/* Parses a return code: "127.0.0.N" or a bare "N" (1..255, meaning 127.0.0.N).
 * Must lie in 127.0.0.0/8 and not be 127.0.0.1 (RFC 5782 says never listed).
 * 0 or -1 with err. */
int listing_parse_code(const char *s, uint32_t *out, char *err, size_t errlen);
void listing_format_code(uint32_t code, char *buf, size_t len); /* dotted quad */

/* Cleans reason/source text in place: control characters (CR, LF, TAB, ...)
 * become spaces; truncates to the field's limit on a UTF-8 boundary. */
void listing_clean_text(char *s, size_t max);

/* 1 if the entry has an expiry at or before now. */
int listing_expired(const struct listing_entry *e, int64_t now);

#endif
