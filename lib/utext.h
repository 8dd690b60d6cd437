/* utext: fast paths for the Unicode work done on every message's text.
 *
 * Profiling chanrac-milter under Postfix (bench/postfix_bench.sh with PERF_CFG)
 * showed libunistring's NFC normalisation and full lower-casing taking a fifth of
 * the milter's CPU on Vietnamese mail.  Nearly all mail text is ASCII plus the
 * Latin letters Vietnamese uses, for which both operations are simple: such text
 * is already NFC, and its full lower-case mapping is the per-character one.
 * These functions handle that case and hand anything else to libunistring, so
 * their results are always the same as libunistring's (tests/unit/test_utext.c
 * checks every code point of the fast set, and every pair for NFC). */
#ifndef CHANRAC_UTEXT_H
#define CHANRAC_UTEXT_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the valid UTF-8 text certainly is in NFC already (every code point is
 * in the fast set: ASCII, U+00A0-U+024F, U+1E00-U+1EFF, U+2010-U+205E,
 * U+20A0-U+20BF), 0 when it must be normalised to know. */
int utext_is_nfc(const char *s, size_t len);

/* Full lower-case mapping of valid UTF-8 text, as u8_tolower(s, len, NULL, NULL,
 * NULL, &outlen) returns it: a malloc'ed string (not NUL-terminated) or NULL with
 * errno set. */
uint8_t *utext_tolower(const char *s, size_t len, size_t *outlen);

/* The fast set, for tests: 1 when the code point is in it. */
int utext_in_fast_set(uint32_t cp);

#endif
