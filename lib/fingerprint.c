/* fingerprint: MinHash signatures of normalised message text (see fingerprint.h).
 * Pipeline: Unicode lower-case (utext: libunistring's full mapping) -> drop the salutation -> split into
 * words at white space and punctuation, replacing tracking tokens -> hash each
 * word -> 3-word shingles -> 64 minima of independent mixes. */
#include "fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "utext.h"

/* Words looked at: the first this many (a 1 MiB body has ~150,000), in at most
 * the first FP_MAX_BYTES of text (about 20 ms of work on one core). */
#define FP_MAX_WORDS 20000
#define FP_MAX_BYTES (128u << 10)
/* A salutation is cut at the first ',', '!' or ':' within this many bytes, or
 * dropped as a whole line when the line is no longer than this. */
#define FP_SALUTATION_SPAN 100
/* Non-empty lines at the top in which a salutation is looked for. */
#define FP_SALUTATION_LINES 3

static uint64_t fp_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t fp_fnv(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FP_FNV_BASIS 0xcbf29ce484222325ULL

static uint64_t fp_rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* Lower-case, already NFC, greetings as they start a line. */
static const char *const fp_salutations[] = {
	"dear ", "hi ", "hi,", "hello ", "hello,", "hey ", "greetings", "good morning",
	"good afternoon", "good evening",
	"kính gửi", "kính chào", "kính thưa", "xin chào", "chào ", "thân gửi", "thân chào",
	"thân mến", "gửi ", "thưa ", "quý khách", "kinh gui", "xin chao", "chao ",
	NULL,
};

static int fp_is_space(const unsigned char *p, size_t left, size_t *adv)
{
	*adv = 1;
	if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0) { /* U+00A0 */
		*adv = 2;
		return 1;
	}
	return 0;
}

/* A separator inside a word: ASCII punctuation, Latin-1 punctuation
 * (U+00A1..U+00BF: « » · ...), General Punctuation (U+2000..U+206F: dashes,
 * quotes, ellipsis). */
static int fp_is_punct(const unsigned char *p, size_t left, size_t *adv)
{
	*adv = 1;
	if (*p < 0x80)
		return !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9'));
	if (left >= 2 && p[0] == 0xc2 && p[1] >= 0xa1 && p[1] <= 0xbf) {
		*adv = 2;
		return 1;
	}
	if (left >= 3 && p[0] == 0xe2 && (p[1] == 0x80 || p[1] == 0x81)) {
		*adv = 3;
		return 1;
	}
	return 0;
}

/* Where the text proper starts: after a salutation in the first lines. */
static size_t fp_skip_salutation(const char *s, size_t n)
{
	size_t pos = 0;

	for (int line = 0; line < FP_SALUTATION_LINES && pos < n;) {
		size_t start = pos, end, lead;
		while (pos < n && s[pos] != '\n')
			pos++;
		end = pos;
		if (pos < n)
			pos++;
		for (lead = start; lead < end && (s[lead] == ' ' || s[lead] == '\t' || s[lead] == '\r');
		     lead++)
			;
		if (lead == end)
			continue; /* blank line */
		line++;
		for (const char *const *g = fp_salutations; *g; g++) {
			size_t gl = strlen(*g);
			if (end - lead < gl || memcmp(s + lead, *g, gl) != 0)
				continue;
			for (size_t i = lead; i < end && i - lead < FP_SALUTATION_SPAN; i++)
				if (s[i] == ',' || s[i] == '!' || s[i] == ':')
					return i + 1;
			if (end - lead <= FP_SALUTATION_SPAN)
				return pos;
			return start;
		}
	}
	return 0;
}

typedef void (*fp_emit_fn)(void *ud, const char *w, size_t n, int placeholder);

/* Host of a URL word (after "scheme://" or at "www."), without "www.", a port,
 * user info, path, query or fragment. */
static void fp_url_host(const char *w, size_t n, const char **h, size_t *hl)
{
	const char *p = w, *end = w + n, *q;

	q = memmem(w, n, "://", 3);
	if (q != NULL)
		p = q + 3;
	for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
		if (*q == '@')
			p = q + 1;
	end = q;
	for (q = p; q < end && *q != ':'; q++)
		;
	end = q;
	if (end - p > 4 && memcmp(p, "www.", 4) == 0)
		p += 4;
	while (end > p && (end[-1] == '.' || end[-1] == ',' || end[-1] == ')' || end[-1] == '>'))
		end--;
	*h = p;
	*hl = (size_t)(end - p);
}

/* 1 if the word holds "://" (cheaper than memmem for the short words of text). */
static int fp_has_scheme(const char *w, size_t n)
{
	const char *p = n >= 3 ? memchr(w, ':', n - 2) : NULL;

	while (p != NULL) {
		if (p[1] == '/' && p[2] == '/')
			return 1;
		p++;
		p = (size_t)(p - w) + 2 < n ? memchr(p, ':', n - 2 - (size_t)(p - w)) : NULL;
	}
	return 0;
}

/* One white-space separated word: a URL, an email address, or words split at
 * punctuation with numbers and ids replaced by "#". */
static int fp_word(const char *w, size_t n, fp_emit_fn emit, void *ud, int *last_hash)
{
	char buf[300];
	const char *at;
	int count = 0;

	if (fp_has_scheme(w, n) || (n > 4 && memcmp(w, "www.", 4) == 0)) {
		const char *h;
		size_t hl;
		fp_url_host(w, n, &h, &hl);
		if (hl > sizeof buf - 3)
			hl = sizeof buf - 3;
		memcpy(buf, "u:", 2);
		memcpy(buf + 2, h, hl);
		emit(ud, buf, hl + 2, 1);
		*last_hash = 0;
		return 1;
	}
	at = memchr(w, '@', n);
	if (at != NULL && at > w && memchr(at, '.', (size_t)(w + n - at)) != NULL) {
		const char *d = at + 1, *end = w + n;
		size_t dl;
		while (end > d && (end[-1] == '.' || end[-1] == ',' || end[-1] == ')' ||
				   end[-1] == '>' || end[-1] == ';'))
			end--;
		dl = (size_t)(end - d);
		if (dl > sizeof buf - 3)
			dl = sizeof buf - 3;
		memcpy(buf, "e:", 2);
		memcpy(buf + 2, d, dl);
		emit(ud, buf, dl + 2, 1);
		*last_hash = 0;
		return 1;
	}
	for (size_t i = 0; i < n;) {
		size_t adv, start = i, digits = 0;
		while (i < n && !fp_is_punct((const unsigned char *)w + i, n - i, &adv)) {
			if (w[i] >= '0' && w[i] <= '9')
				digits++;
			i++;
		}
		if (i > start) {
			if (digits > 0) {
				/* numbers, prices, dates, order and tracking ids:
				 * one placeholder for a run of them */
				if (!*last_hash) {
					emit(ud, "#", 1, 1);
					count++;
				}
				*last_hash = 1;
			} else {
				emit(ud, w + start, i - start, 0);
				*last_hash = 0;
				count++;
			}
		}
		while (i < n && fp_is_punct((const unsigned char *)w + i, n - i, &adv))
			i += adv;
	}
	return count;
}

/* Lower-cases text and walks its words; returns the number emitted, -1 on
 * out-of-memory. */
static int fp_walk(const char *text, size_t len, fp_emit_fn emit, void *ud)
{
	size_t low_len = 0, pos;
	uint8_t *low;
	int words = 0, last_hash = 0;

	if (text == NULL || len == 0)
		return 0;
	if (len > FP_MAX_BYTES) {
		len = FP_MAX_BYTES;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--; /* cut at a character boundary */
	}
	/* The text is NFC already (msg_text); lower-casing it without normalising
	 * again is twice as fast, and every text goes through the same steps. */
	low = utext_tolower(text, len, &low_len);
	if (low == NULL)
		return -1;
	pos = fp_skip_salutation((const char *)low, low_len);
	while (pos < low_len && words < FP_MAX_WORDS) {
		size_t adv, start;
		while (pos < low_len && fp_is_space(low + pos, low_len - pos, &adv))
			pos += adv;
		start = pos;
		while (pos < low_len && !fp_is_space(low + pos, low_len - pos, &adv))
			pos++;
		if (pos > start)
			words += fp_word((const char *)low + start, pos - start, emit, ud, &last_hash);
	}
	free(low);
	return words;
}

/* ---- fingerprint ---- */

struct fp_collect {
	uint64_t *h;       /* word hashes */
	uint64_t *content; /* hashes of non-placeholder words, for the distinct count */
	size_t n, ncontent, cap;
	int oom;
};

static void fp_collect_word(void *ud, const char *w, size_t n, int placeholder)
{
	struct fp_collect *c = ud;

	if (c->oom)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		uint64_t *h = realloc(c->h, cap * sizeof *h);
		uint64_t *k = h ? realloc(c->content, cap * sizeof *k) : NULL;
		if (h == NULL || k == NULL) {
			if (h != NULL)
				c->h = h;
			c->oom = 1;
			return;
		}
		c->h = h;
		c->content = k;
		c->cap = cap;
	}
	c->h[c->n] = fp_fnv(w, n, FP_FNV_BASIS);
	if (!placeholder)
		c->content[c->ncontent++] = c->h[c->n];
	c->n++;
}

/* Distinct values of h[0..n) with an open-addressing set (0 stands for empty,
 * so a hash of 0 is counted apart).  0, or -1 on out-of-memory. */
static int fp_count_distinct(const uint64_t *h, size_t n, unsigned *out)
{
	size_t cap = 64, mask;
	uint64_t *set;
	unsigned count = 0;
	int zero = 0;

	while (cap < 2 * n)
		cap *= 2;
	set = calloc(cap, sizeof *set);
	if (set == NULL)
		return -1;
	mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (h[i] == 0) {
			zero = 1;
			continue;
		}
		for (k = (size_t)(h[i] ^ h[i] >> 29) & mask; set[k] != 0 && set[k] != h[i];
		     k = (k + 1) & mask)
			;
		if (set[k] == 0) {
			set[k] = h[i];
			count++;
		}
	}
	free(set);
	*out = count + (unsigned)zero;
	return 0;
}

static uint64_t fp_seed(unsigned i)
{
	return fp_mix(0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
}

int fingerprint_text(const char *text, size_t len, unsigned min_words, struct fingerprint *fp)
{
	struct fp_collect c = { 0 };
	uint64_t mul[FINGERPRINT_HASHES], add[FINGERPRINT_HASHES];
	unsigned distinct = 0;
	int rc;

	memset(fp, 0, sizeof *fp);
	if (fp_walk(text, len, fp_collect_word, &c) < 0 || c.oom) {
		free(c.h);
		free(c.content);
		return -1;
	}
	if (fp_count_distinct(c.content, c.ncontent, &distinct) != 0) {
		free(c.h);
		free(c.content);
		return -1;
	}
	fp->words = (unsigned)c.n;
	fp->distinct = distinct;
	if (distinct < min_words || distinct < FINGERPRINT_SHINGLE || c.n < FINGERPRINT_SHINGLE) {
		rc = 1;
		goto out;
	}
	/* The j-th hash function of a (well mixed) shingle hash s is the bijection
	 * a_j * s + b_j mod 2^64 (a_j odd): one multiply-add per function, which
	 * the compiler vectorises, instead of a full mix. */
	for (unsigned j = 0; j < FINGERPRINT_HASHES; j++) {
		mul[j] = fp_seed(j) | 1;
		add[j] = fp_seed(j + FINGERPRINT_HASHES);
		fp->h[j] = UINT64_MAX;
	}
	for (size_t i = 0; i + FINGERPRINT_SHINGLE <= c.n; i++) {
		uint64_t s = fp_mix(c.h[i] ^ fp_rotl(fp_mix(c.h[i + 1]), 21) ^
				    fp_rotl(fp_mix(c.h[i + 2] + 0x51ed27), 42));
		for (unsigned j = 0; j < FINGERPRINT_HASHES; j++) {
			uint64_t v = s * mul[j] + add[j];
			fp->h[j] = v < fp->h[j] ? v : fp->h[j];
		}
	}
	rc = 0;
out:
	free(c.h);
	free(c.content);
	return rc;
}

/* ---- normalised text ---- */

struct fp_text {
	char *out;
	size_t len, used;
};

static void fp_text_word(void *ud, const char *w, size_t n, int placeholder)
{
	struct fp_text *t = ud;

	(void)placeholder;
	if (t->len == 0)
		return;
	if (t->used > 0 && t->used + 1 < t->len)
		t->out[t->used++] = ' ';
	if (n > t->len - 1 - t->used)
		n = t->len - 1 - t->used;
	memcpy(t->out + t->used, w, n);
	t->used += n;
	t->out[t->used] = '\0';
}

int fingerprint_normalise(const char *text, size_t len, char *out, size_t outlen)
{
	struct fp_text t = { out, outlen, 0 };

	if (outlen > 0)
		out[0] = '\0';
	return fp_walk(text, len, fp_text_word, &t);
}

/* ---- comparing and encoding ---- */

double fingerprint_similarity(const struct fingerprint *a, const struct fingerprint *b)
{
	unsigned same = 0;

	for (unsigned j = 0; j < FINGERPRINT_HASHES; j++)
		same += a->h[j] == b->h[j];
	return (double)same / FINGERPRINT_HASHES;
}

void fingerprint_band(const struct fingerprint *fp, unsigned band, char out[17])
{
	uint64_t x = 0x6a09e667f3bcc908ULL ^ band;

	for (unsigned r = 0; r < FINGERPRINT_ROWS; r++)
		x = fp_mix(x ^ fp->h[band * FINGERPRINT_ROWS + r]);
	snprintf(out, 17, "%016llx", (unsigned long long)x);
}

void fingerprint_encode(const struct fingerprint *fp, char *out)
{
	for (unsigned j = 0; j < FINGERPRINT_HASHES; j++)
		snprintf(out + j * 16, 17, "%016llx", (unsigned long long)fp->h[j]);
}

int fingerprint_decode(const char *s, size_t len, struct fingerprint *fp)
{
	if (len != FINGERPRINT_TEXT_LEN)
		return -1;
	memset(fp, 0, sizeof *fp);
	for (unsigned j = 0; j < FINGERPRINT_HASHES; j++) {
		uint64_t v = 0;
		for (unsigned k = 0; k < 16; k++) {
			char ch = s[j * 16 + k];
			unsigned d;
			if (ch >= '0' && ch <= '9')
				d = (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				d = (unsigned)(ch - 'a' + 10);
			else
				return -1;
			v = v << 4 | d;
		}
		fp->h[j] = v;
	}
	return 0;
}

void fingerprint_id(const struct fingerprint *fp, char out[FINGERPRINT_ID_LEN + 1])
{
	uint64_t x = FP_FNV_BASIS;

	for (unsigned j = 0; j < FINGERPRINT_HASHES; j++)
		x = fp_mix(x ^ fp->h[j]);
	snprintf(out, FINGERPRINT_ID_LEN + 1, "%016llx", (unsigned long long)x);
}
