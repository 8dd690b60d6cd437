/* utext: fast paths for NFC and lower-casing of mail text (see utext.h). */
#include "utext.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unistr.h>

/* The fast set: ranges of code points that are their own NFC form, have
 * combining class 0 and never compose with a neighbour (checked pair by pair in
 * tests/unit/test_utext.c). */
#define LOW_FIRST 0xA0u   /* Latin-1 Supplement, Latin Extended-A and -B */
#define LOW_END 0x250u
#define HIGH_FIRST 0x1E00u /* Latin Extended Additional (Vietnamese), punctuation, currency */
#define HIGH_END 0x20C0u

int utext_in_fast_set(uint32_t cp)
{
	return cp < 0x80 || (cp >= LOW_FIRST && cp < LOW_END) ||
	       (cp >= 0x1E00 && cp < 0x1F00) || (cp >= 0x2010 && cp < 0x205F) ||
	       (cp >= 0x20A0 && cp < 0x20C0);
}

/* Decodes one code point of the fast set at s[0..left); returns its length, or 0
 * when the bytes are not one (another character, or not UTF-8). */
static size_t fast_cp(const unsigned char *s, size_t left, uint32_t *cp)
{
	unsigned char c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		if (left < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
		return *cp >= LOW_FIRST && *cp < LOW_END ? 2 : 0;
	}
	if (c == 0xE1 || c == 0xE2) {
		if (left < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return utext_in_fast_set(*cp) ? 3 : 0;
	}
	return 0;
}

int utext_is_nfc(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = fast_cp(p + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Lower case of each code point of the fast set, as libunistring's full mapping
 * gives it for that character alone; 0 where that is not one code point (U+0130
 * lower-cases to two), so such text takes libunistring's path. */
static uint32_t g_lower_low[LOW_END - LOW_FIRST];
static uint32_t g_lower_high[HIGH_END - HIGH_FIRST];
static pthread_once_t g_lower_once = PTHREAD_ONCE_INIT;

static uint32_t lower_of(uint32_t cp)
{
	uint8_t in[6], *r;
	size_t rl = 0;
	uint32_t out = 0;
	int n = u8_uctomb(in, cp, sizeof in);

	if (n <= 0)
		return 0;
	r = u8_tolower(in, (size_t)n, NULL, NULL, NULL, &rl);
	if (r == NULL)
		return 0;
	if (rl > 0) {
		ucs4_t uc;
		int m = u8_mbtouc(&uc, r, rl);
		if (m > 0 && (size_t)m == rl && uc != 0xFFFD)
			out = uc;
	}
	free(r);
	return out;
}

static void lower_init(void)
{
	for (uint32_t cp = LOW_FIRST; cp < LOW_END; cp++)
		g_lower_low[cp - LOW_FIRST] = lower_of(cp);
	for (uint32_t cp = HIGH_FIRST; cp < HIGH_END; cp++)
		g_lower_high[cp - HIGH_FIRST] = utext_in_fast_set(cp) ? lower_of(cp) : 0;
}

static uint8_t *slow_tolower(const char *s, size_t len, size_t *outlen)
{
	return u8_tolower((const uint8_t *)s, len, NULL, NULL, NULL, outlen);
}

uint8_t *utext_tolower(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	uint8_t *out;
	size_t i = 0, used = 0, cap;

	/* A lower-case letter of the fast set is at most one byte longer than its
	 * capital (U+023A -> U+2C65): 3 bytes out for 2 in at worst. */
	if (len > (SIZE_MAX - 1) / 2)
		return slow_tolower(s, len, outlen);
	pthread_once(&g_lower_once, lower_init);
	cap = len + len / 2 + 1;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	while (i < len) {
		uint32_t cp, lo;
		size_t n;
		int w;

		if (p[i] < 0x80) {
			out[used++] = (uint8_t)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
			i++;
			continue;
		}
		n = fast_cp(p + i, len - i, &cp);
		lo = n == 0 ? 0 : cp < LOW_END ? g_lower_low[cp - LOW_FIRST] : g_lower_high[cp - HIGH_FIRST];
		if (lo == 0) {
			free(out);
			return slow_tolower(s, len, outlen);
		}
		w = u8_uctomb(out + used, lo, (int)(cap - used < 4 ? cap - used : 4));
		if (w <= 0) {
			free(out);
			return slow_tolower(s, len, outlen);
		}
		used += (size_t)w;
		i += n;
	}
	*outlen = used;
	return out;
}
