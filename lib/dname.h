/* dname: domain names as chanrac keeps them — lower-case A-labels without a
 * trailing dot, within RFC 1035 limits — and their registered domain (PSL). */
#ifndef CHANRAC_DNAME_H
#define CHANRAC_DNAME_H

#include <stddef.h>

/* RFC 1035 2.3.4: 255 octets on the wire = 253 characters of text. */
#define DNAME_MAX 253
#define DNAME_LABEL_MAX 63

/* Normalises a domain name into out (at least DNAME_MAX+1 bytes):
 * trims one trailing dot, converts U-labels to A-labels (libidn2, IDNA 2008 with
 * TR46 transitional-off mapping, so "Việt.vn" -> "xn--vit-..."), lower-cases, and
 * checks: non-empty labels of 1..63 octets, total <= 253, characters
 * [a-z0-9-_], no label starting or ending with '-'.  A single-label name is
 * allowed (RFC 5782 "test" and "invalid" points).
 * 0 on success, -1 on bad input with err naming the input and the reason. */
int dname_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* The registered (organisational) domain of a normalised name by the Public
 * Suffix List (libpsl, built-in list), e.g. "mail.shop.example.com.vn" ->
 * "example.com.vn".  If name is itself a public suffix or has none, copies name
 * unchanged and returns 1; returns 0 when a registered domain was found;
 * -1 if it does not fit in outlen. */
int dname_registered(const char *name, char *out, size_t outlen);

/* 1 if name equals parent or is below it (both normalised), else 0. */
int dname_is_within(const char *name, const char *parent);

/* Pointer to the parent of a normalised name ("b.c" for "a.b.c"), or NULL for
 * a single label. */
const char *dname_parent(const char *name);

#endif
