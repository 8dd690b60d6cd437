/* msg: the message parser of the check engine — header unfolding and RFC 2047
 * decoding to UTF-8 NFC, RFC 5322 addresses, the MIME walk (RFC 2045/2046/2231)
 * with caps, text and HTML rendering, and URL / email extraction.  See msg.h. */
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uninorm.h>
#include <unistr.h>

#include "dname.h"
#include "util.h"
#include "utext.h"

/* Bounds on single items inside a message (the message-wide ones are in msg.h). */
#define CHARSET_MAX 40        /* a charset label longer than this is unknown */
#define BOUNDARY_MAX 200      /* RFC 2046 says 70; tolerate more, not unbounded */
#define PART_FIELD_MAX 16384  /* a MIME header field of a body part, unfolded */
#define PARAM_MAX 64          /* parameters looked at per field */
#define PARAM_SECTIONS 32     /* RFC 2231 continuations kept per parameter */
#define URL_KEEP_MAX 2048     /* bytes of a URL's text kept */
#define ATTR_VALUE_MAX 8192   /* bytes of an HTML attribute value looked at */
#define EMAIL_LOCAL_MAX 64    /* RFC 5321 4.5.3.1.1 */
#define EMAIL_DOMAIN_MAX 255

/* ------------------------------------------------------------------------ */
/* growable byte buffer, always NUL-terminated once anything was added */

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static int sb_reserve(struct sbuf *b, size_t extra)
{
	size_t need, nc;
	char *np;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	nc = b->cap ? b->cap : 64;
	while (nc < need)
		nc *= 2;
	np = realloc(b->p, nc);
	if (np == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = nc;
	return 0;
}

static void sb_add(struct sbuf *b, const void *s, size_t n)
{
	if (sb_reserve(b, n) < 0)
		return;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static void sb_add_cp(struct sbuf *b, uint32_t cp)
{
	uint8_t u[6];
	int n = u8_uctomb(u, cp, sizeof u);

	if (n <= 0)
		n = u8_uctomb(u, 0xFFFD, sizeof u);
	sb_add(b, u, (size_t)n);
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Hands the bytes over as a C string ("" for an empty buffer); NULL on OOM. */
static char *sb_steal(struct sbuf *b)
{
	char *s;

	if (b->oom) {
		sb_free(b);
		return NULL;
	}
	if (b->p == NULL)
		return strdup("");
	s = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

/* ------------------------------------------------------------------------ */
/* ASCII helpers (locale-independent) */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int d = to_lower((unsigned char)*a) - to_lower((unsigned char)*b);

		if (d != 0 || *a == '\0')
			return d;
	}
}

/* Equal ignoring ASCII case: s[0..n) and the C string lit. */
static int span_ieq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lit[i] == '\0' || to_lower((unsigned char)s[i]) != to_lower((unsigned char)lit[i]))
			return 0;
	return lit[n] == '\0';
}

/* s[i..n) starts with lit, ASCII case-insensitive. */
static int starts_ci(const char *s, size_t n, size_t i, const char *lit)
{
	size_t k;

	for (k = 0; lit[k] != '\0'; k++)
		if (i + k >= n || to_lower((unsigned char)s[i + k]) != (unsigned char)lit[k])
			return 0;
	return 1;
}

static void lower_inplace(char *s)
{
	for (; *s; s++)
		*s = (char)to_lower((unsigned char)*s);
}

/* ------------------------------------------------------------------------ */
/* UTF-8 hygiene and NFC */

/* Appends s[0..n) keeping valid UTF-8 and turning each invalid byte into U+FFFD.
 * Returns 1 if something was replaced. */
static int add_utf8_sanitised(struct sbuf *out, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	int bad = 0;

	while (p < end) {
		const uint8_t *q = u8_check(p, (size_t)(end - p));

		if (q == NULL) {
			sb_add(out, p, (size_t)(end - p));
			break;
		}
		sb_add(out, p, (size_t)(q - p));
		sb_add_cp(out, 0xFFFD);
		bad = 1;
		p = q + 1;
	}
	return bad;
}

/* Replaces the buffer's contents by their NFC form (input is valid UTF-8). */
static void nfc_inplace(struct sbuf *b)
{
	size_t rl = 0;
	uint8_t *r;
	char *np;

	if (b->oom || b->p == NULL)
		return;
	if (utext_is_nfc(b->p, b->len))
		return; /* ASCII and precomposed Latin (Vietnamese) are NFC already */
	r = u8_normalize(UNINORM_NFC, (const uint8_t *)b->p, b->len, NULL, &rl);
	if (r == NULL) {
		if (errno == ENOMEM)
			b->oom = 1;
		return;
	}
	np = realloc(r, rl + 1);
	if (np == NULL) {
		free(r);
		b->oom = 1;
		return;
	}
	np[rl] = '\0';
	free(b->p);
	b->p = np;
	b->len = rl;
	b->cap = rl + 1;
}

/* ------------------------------------------------------------------------ */
/* charsets: MIME labels -> iconv, conversion to UTF-8 */

enum cs_kind { CS_UTF8, CS_ASCII, CS_ICONV, CS_UNKNOWN };

/* MIME labels glibc iconv does not know under that name.  ISO-8859-1 is read as
 * windows-1252, as every mail client and WHATWG do: mail labelled Latin-1 uses
 * 0x80-0x9F for quotes and dashes, never for C1 controls. */
static const struct {
	const char *label, *iconv;
} charset_alias[] = {
	{"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"},
	{"iso_8859-1", "WINDOWS-1252"}, {"latin1", "WINDOWS-1252"},
	{"l1", "WINDOWS-1252"}, {"x-viet-tcvn", "TCVN5712-1"},
	{"x-viet-tcvn5712", "TCVN5712-1"}, {"tcvn-5712", "TCVN5712-1"},
	{"tcvn5712", "TCVN5712-1"}, {"tcvn", "TCVN5712-1"},
	{"x-viet-viscii", "VISCII"}, {"viscii1.1-1", "VISCII"}, {"csviscii", "VISCII"},
	{"iso-8859-8-i", "ISO-8859-8"}, {"ks_c_5601-1987", "CP949"}, {"gb2312", "GBK"},
	{"x-sjis", "SHIFT_JIS"}, {"x-mac-roman", "MACINTOSH"},
};

/* Resolves a charset label (any case, maybe quoted, maybe with an RFC 2231
 * "*language" suffix) into an iconv name in buf. */
static enum cs_kind charset_resolve(const char *label, size_t n, char *buf, size_t buflen)
{
	char lc[CHARSET_MAX + 1];
	size_t i, k = 0;

	while (n > 0 && (is_space((unsigned char)*label) || *label == '"')) {
		label++;
		n--;
	}
	while (n > 0 && (is_space((unsigned char)label[n - 1]) || label[n - 1] == '"'))
		n--;
	for (i = 0; i < n && label[i] != '*'; i++) {
		unsigned char c = (unsigned char)label[i];

		if (!(is_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' ||
		      c == '(' || c == ')'))
			return CS_UNKNOWN;
		if (k >= CHARSET_MAX)
			return CS_UNKNOWN;
		lc[k++] = (char)to_lower(c);
	}
	lc[k] = '\0';
	if (k == 0 || strcmp(lc, "us-ascii") == 0 || strcmp(lc, "ascii") == 0 ||
	    strcmp(lc, "ansi_x3.4-1968") == 0 || strcmp(lc, "iso646-us") == 0)
		return CS_ASCII;
	if (strcmp(lc, "utf-8") == 0 || strcmp(lc, "utf8") == 0)
		return CS_UTF8;
	for (i = 0; i < sizeof charset_alias / sizeof charset_alias[0]; i++) {
		if (strcmp(lc, charset_alias[i].label) == 0) {
			util_strlcpy(buf, charset_alias[i].iconv, buflen);
			return CS_ICONV;
		}
	}
	for (i = 0; i <= k && i + 1 < buflen; i++)
		buf[i] = (lc[i] >= 'a' && lc[i] <= 'z') ? (char)(lc[i] - 'a' + 'A') : lc[i];
	buf[buflen - 1] = '\0';
	return CS_ICONV;
}

enum { CONV_OK = 0, CONV_UNKNOWN = -1, CONV_INVALID = -2 };

/* Converts with iconv, appending UTF-8.  strict: stop at the first invalid
 * sequence and leave out as it was.  Otherwise each invalid sequence becomes
 * U+FFFD and CONV_INVALID is returned with the rest converted. */
static int iconv_append(const char *name, const char *in, size_t len, struct sbuf *out,
			int strict)
{
	iconv_t cd = iconv_open("UTF-8", name);
	size_t start = out->len;
	char *ip = (char *)(uintptr_t)in;
	size_t il = len;
	int bad = 0, fail = 0, flushing = 0;

	if (cd == (iconv_t)-1)
		return CONV_UNKNOWN;
	for (;;) {
		char *op;
		size_t ol, r;

		if (sb_reserve(out, (flushing ? 0 : il) * 2 + 64) < 0) {
			fail = 1;
			break;
		}
		op = out->p + out->len;
		ol = out->cap - out->len - 1;
		r = flushing ? iconv(cd, NULL, NULL, &op, &ol) : iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->p);
		out->p[out->len] = '\0';
		if (r != (size_t)-1) {
			if (flushing)
				break;
			flushing = 1; /* stateful decoders (CP1258, TCVN) hold a last char */
			continue;
		}
		if (errno == E2BIG) {
			if (sb_reserve(out, out->cap) < 0) {
				fail = 1;
				break;
			}
			continue;
		}
		if (strict) {
			fail = 1;
			break;
		}
		if (flushing) {
			bad = 1;
			break;
		}
		bad = 1;
		sb_add_cp(out, 0xFFFD);
		if (errno == EILSEQ && il > 0) {
			ip++;
			il--;
		} else {
			il = 0; /* EINVAL: incomplete sequence at the end */
		}
	}
	iconv_close(cd);
	if (fail) {
		if (out->p != NULL) {
			out->len = start;
			out->p[start] = '\0';
		}
		return CONV_INVALID;
	}
	return bad ? CONV_INVALID : CONV_OK;
}

/* Converts len bytes labelled charset into UTF-8 appended to out.  An unknown
 * charset returns CONV_UNKNOWN with nothing appended (the caller keeps the raw
 * text).  No label or US-ASCII: UTF-8 when the bytes are, windows-1252 when not. */
static int conv_to_utf8(const char *charset, size_t cslen, const char *in, size_t len,
			struct sbuf *out, int strict)
{
	char name[CHARSET_MAX + 8];
	enum cs_kind kind = charset_resolve(charset, cslen, name, sizeof name);

	switch (kind) {
	case CS_UNKNOWN:
		return CONV_UNKNOWN;
	case CS_UTF8:
		if (u8_check((const uint8_t *)in, len) == NULL) {
			sb_add(out, in, len);
			return CONV_OK;
		}
		if (strict)
			return CONV_INVALID;
		add_utf8_sanitised(out, in, len);
		return CONV_INVALID;
	case CS_ASCII:
		if (u8_check((const uint8_t *)in, len) == NULL) {
			size_t i;

			sb_add(out, in, len);
			for (i = 0; i < len; i++)
				if ((unsigned char)in[i] >= 0x80)
					return CONV_INVALID; /* 8-bit data mislabelled */
			return CONV_OK;
		}
		if (strict)
			return CONV_INVALID;
		iconv_append("WINDOWS-1252", in, len, out, 0);
		return CONV_INVALID;
	case CS_ICONV:
		break;
	}
	return iconv_append(name, in, len, out, strict);
}

static const char *const pinned_charsets[] = {
	"WINDOWS-1258", "VISCII", "TCVN5712-1", "WINDOWS-1252", "ISO-8859-15", "ISO-8859-2",
	"WINDOWS-1251", "KOI8-R", "GBK", "BIG5", "SHIFT_JIS", "EUC-JP", "ISO-2022-JP", "CP949",
	"UTF-16", "UTF-7",
};
#define PIN_COUNT (sizeof pinned_charsets / sizeof pinned_charsets[0])

struct cr_charset_pin {
	iconv_t cd[PIN_COUNT];
};

cr_charset_pin *msg_charset_pin_new(void)
{
	cr_charset_pin *pin = malloc(sizeof *pin);
	size_t i;

	if (pin == NULL)
		return NULL;
	for (i = 0; i < PIN_COUNT; i++)
		pin->cd[i] = iconv_open("UTF-8", pinned_charsets[i]);
	return pin;
}

void msg_charset_pin_free(cr_charset_pin *pin)
{
	size_t i;

	if (pin == NULL)
		return;
	for (i = 0; i < PIN_COUNT; i++)
		if (pin->cd[i] != (iconv_t)-1)
			iconv_close(pin->cd[i]);
	free(pin);
}

/* ------------------------------------------------------------------------ */
/* base64 and quoted-printable */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Writes the whole bytes of a partial base64 quantum (nb sextets in acc) at
 * padding or at the end; 1 if it is malformed (a lone sextet). */
static int b64_tail(uint32_t acc, int nb, struct sbuf *out)
{
	char o[2];

	if (nb == 2) {
		o[0] = (char)(acc >> 4);
		sb_add(out, o, 1);
	} else if (nb == 3) {
		o[0] = (char)(acc >> 10);
		o[1] = (char)(acc >> 2);
		sb_add(out, o, 2);
	}
	return nb == 1;
}

/* Lenient body base64 (RFC 2045 6.8): line breaks and characters outside the
 * alphabet are skipped, '=' ends a quantum, a truncated tail keeps its whole
 * bytes.  Returns 1 if anything was malformed. */
static int b64_decode(const char *in, size_t n, struct sbuf *out, int strict)
{
	uint32_t acc = 0;
	int nb = 0, bad = 0, padded = 0;
	size_t i;
	char o[3];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = b64_val(c);

		if (v >= 0) {
			if (padded && strict)
				bad = 1;
			acc = (acc << 6) | (uint32_t)v;
			if (++nb == 4) {
				o[0] = (char)(acc >> 16);
				o[1] = (char)(acc >> 8);
				o[2] = (char)acc;
				sb_add(out, o, 3);
				acc = 0;
				nb = 0;
			}
		} else if (c == '=') {
			padded = 1;
			bad |= b64_tail(acc, nb, out);
			acc = 0;
			nb = 0;
		} else if (!is_space(c)) {
			bad = 1;
		} else if (strict) {
			bad = 1;
		}
	}
	bad |= b64_tail(acc, nb, out);
	return bad;
}

/* Quoted-printable body (RFC 2045 6.7): "=XX", soft line breaks "=" at a line
 * end, trailing blanks removed; a stray "=" is kept literally.  Line ends become
 * LF.  Returns 1 if anything was malformed. */
static int qp_decode(const char *in, size_t n, struct sbuf *out)
{
	size_t i = 0;
	int bad = 0;

	while (i < n) {
		const char *nl = memchr(in + i, '\n', n - i);
		size_t le = nl ? (size_t)(nl - in) : n, ce = le, k, run;
		int soft = 0;

		if (ce > i && in[ce - 1] == '\r')
			ce--;
		while (ce > i && is_wsp((unsigned char)in[ce - 1]))
			ce--;
		if (ce > i && in[ce - 1] == '=') {
			soft = 1;
			ce--;
		}
		for (k = i; k < ce;) {
			const char *eq = memchr(in + k, '=', ce - k);

			run = eq ? (size_t)(eq - (in + k)) : ce - k;
			sb_add(out, in + k, run);
			k += run;
			if (k >= ce)
				break;
			if (k + 2 < ce && hex_val((unsigned char)in[k + 1]) >= 0 &&
			    hex_val((unsigned char)in[k + 2]) >= 0) {
				sb_addc(out, (char)(hex_val((unsigned char)in[k + 1]) * 16 +
						    hex_val((unsigned char)in[k + 2])));
				k += 3;
			} else {
				sb_addc(out, '=');
				bad = 1;
				k++;
			}
		}
		if (nl != NULL && !soft)
			sb_addc(out, '\n');
		i = nl ? le + 1 : n;
	}
	return bad;
}

/* ------------------------------------------------------------------------ */
/* RFC 2047 encoded words in header values */

struct ew {
	const char *cs;
	size_t cslen;
	char enc;
	const char *text;
	size_t textlen;
	size_t end; /* offset after "?=" */
};

/* Parses "=?charset?e?text?=" at s[i].  [*nf_lo, *nf_hi) remembers a span known
 * to hold no "?=" before a blank, keeping repeated failures linear. */
static int ew_parse(const char *s, size_t n, size_t i, struct ew *w, size_t *nf_lo,
		    size_t *nf_hi)
{
	size_t j = i + 2, cs = j, t, k;

	while (j < n && s[j] != '?' && j - cs <= CHARSET_MAX + 20) {
		unsigned char c = (unsigned char)s[j];

		if (c <= ' ' || c == 0x7f || c == '=')
			return -1;
		j++;
	}
	if (j >= n || s[j] != '?' || j == cs)
		return -1;
	w->cs = s + cs;
	w->cslen = j - cs;
	if (j + 2 >= n || s[j + 2] != '?')
		return -1;
	w->enc = (char)to_lower((unsigned char)s[j + 1]);
	if (w->enc != 'b' && w->enc != 'q')
		return -1;
	t = j + 3;
	if (t >= *nf_lo && t < *nf_hi)
		return -1;
	for (k = t; k + 1 < n; k++) {
		if (s[k] == '?' && s[k + 1] == '=') {
			w->text = s + t;
			w->textlen = k - t;
			w->end = k + 2;
			return 0;
		}
		if (is_space((unsigned char)s[k]))
			break;
	}
	*nf_lo = t;
	*nf_hi = (k + 1 < n) ? k : n;
	return -1;
}

/* Decodes the text of an encoded word into raw bytes; 1 if malformed. */
static int ew_decode(const struct ew *w, struct sbuf *out)
{
	size_t i;

	if (w->enc == 'b')
		return b64_decode(w->text, w->textlen, out, 1);
	for (i = 0; i < w->textlen; i++) {
		unsigned char c = (unsigned char)w->text[i];

		if (c == '_') {
			sb_addc(out, ' ');
		} else if (c == '=') {
			if (i + 2 >= w->textlen || hex_val((unsigned char)w->text[i + 1]) < 0 ||
			    hex_val((unsigned char)w->text[i + 2]) < 0)
				return 1;
			sb_addc(out, (char)(hex_val((unsigned char)w->text[i + 1]) * 16 +
					    hex_val((unsigned char)w->text[i + 2])));
			i += 2;
		} else {
			sb_addc(out, (char)c);
		}
	}
	return 0;
}

struct ew_pending {
	struct sbuf bytes;
	const char *cs;
	size_t cslen;
	size_t raw_a, raw_b;
	int active;
};

static void add_literal(struct sbuf *out, const char *s, size_t n, unsigned *flags)
{
	if (add_utf8_sanitised(out, s, n))
		*flags |= MSG_F_BAD_CHARSET;
}

static void ew_flush(struct ew_pending *pd, const char *s, struct sbuf *out, unsigned *flags)
{
	int r;

	if (!pd->active)
		return;
	r = conv_to_utf8(pd->cs, pd->cslen, pd->bytes.p ? pd->bytes.p : "", pd->bytes.len, out,
			 1);
	if (r != CONV_OK) {
		/* RFC 2047 6.3: show an undecodable word as it was. */
		*flags |= MSG_F_BAD_CHARSET;
		if (r == CONV_INVALID && pd->bytes.oom)
			out->oom = 1;
		add_literal(out, s + pd->raw_a, pd->raw_b - pd->raw_a, flags);
	}
	pd->active = 0;
	pd->bytes.len = 0;
	pd->bytes.oom = 0;
}

static int all_wsp(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_space((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Same charset label, ignoring case and an RFC 2231 language suffix. */
static int cs_same(const char *a, size_t an, const char *b, size_t bn)
{
	const char *sa = memchr(a, '*', an), *sb = memchr(b, '*', bn);
	size_t i;

	if (sa)
		an = (size_t)(sa - a);
	if (sb)
		bn = (size_t)(sb - b);
	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Decodes the encoded words of an unfolded header value into UTF-8 (not yet
 * NFC).  Adjacent words are joined without the blanks between them (RFC 2047
 * 6.2); words of one charset are converted together so a character split over
 * two words survives. */
static void decode_words(const char *s, size_t n, struct sbuf *out, unsigned *flags)
{
	struct ew_pending pd = {{NULL, 0, 0, 0}, NULL, 0, 0, 0, 0};
	struct sbuf dec = {NULL, 0, 0, 0};
	size_t i = 0, lit = 0, nf_lo = 1, nf_hi = 0;

	while (i + 1 < n) {
		struct ew w;
		const char *q = memchr(s + i, '=', n - i - 1);

		if (q == NULL)
			break;
		i = (size_t)(q - s);
		if (s[i + 1] != '?' || ew_parse(s, n, i, &w, &nf_lo, &nf_hi) < 0) {
			i++;
			continue;
		}
		if (!(pd.active && all_wsp(s + lit, i - lit))) {
			ew_flush(&pd, s, out, flags);
			add_literal(out, s + lit, i - lit, flags);
		}
		dec.len = 0;
		if (ew_decode(&w, &dec)) {
			ew_flush(&pd, s, out, flags);
			*flags |= MSG_F_BAD_ENCODING;
			add_literal(out, s + i, w.end - i, flags);
		} else if (pd.active && cs_same(pd.cs, pd.cslen, w.cs, w.cslen)) {
			sb_add(&pd.bytes, dec.p, dec.len);
			pd.raw_b = w.end;
		} else {
			ew_flush(&pd, s, out, flags);
			sb_add(&pd.bytes, dec.p, dec.len);
			pd.cs = w.cs;
			pd.cslen = w.cslen;
			pd.raw_a = i;
			pd.raw_b = w.end;
			pd.active = 1;
		}
		if (dec.oom)
			out->oom = 1;
		i = lit = w.end;
	}
	if (!(pd.active && all_wsp(s + lit, n - lit))) {
		ew_flush(&pd, s, out, flags);
		add_literal(out, s + lit, n - lit, flags);
	} else {
		ew_flush(&pd, s, out, flags);
	}
	sb_free(&dec);
	sb_free(&pd.bytes);
}

/* Full header value decoding: words, controls to spaces, trim, NFC. */
static char *decode_header_text(const char *s, size_t n, unsigned *flags)
{
	struct sbuf out = {NULL, 0, 0, 0};
	size_t i, a = 0, b;

	decode_words(s, n, &out, flags);
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.p[i];

		if (c < 0x20 || c == 0x7f)
			out.p[i] = ' ';
	}
	nfc_inplace(&out);
	if (out.oom) {
		sb_free(&out);
		return NULL;
	}
	if (out.p == NULL)
		return strdup("");
	b = out.len;
	while (a < b && is_space((unsigned char)out.p[a]))
		a++;
	while (b > a && is_space((unsigned char)out.p[b - 1]))
		b--;
	memmove(out.p, out.p + a, b - a);
	out.p[b - a] = '\0';
	return sb_steal(&out);
}

/* ------------------------------------------------------------------------ */
/* the message object */

struct hdr_rec {
	struct msg_header_field pub;
	char *name, *raw, *folded, *value;
};

struct part_rec {
	struct msg_part pub;
	char ctype[64];
	char charset[CHARSET_MAX + 8];
	char *filename;
	char *text;
};

struct url_rec {
	struct msg_url pub;
	char *url, *host;
};

/* Open-addressing set of strings owned elsewhere; sized for its cap. */
struct strset {
	const char **slot;
	size_t mask;
};

enum msg_state { ST_HEADERS, ST_BODY, ST_ENDED };

struct cr_msg {
	struct msg_limits lim;
	unsigned flags;
	enum msg_state state;
	int oom;

	struct hdr_rec *hdrs;
	size_t nhdrs, hdrcap, hdr_bytes;
	int have_from;
	struct msg_mailbox from;

	struct sbuf body;

	struct part_rec *parts;
	size_t nparts, partcap;
	unsigned walked; /* entities walked below the top one (max_parts) */
	struct sbuf text;
	char *text_final;
	size_t text_len;

	struct url_rec *urls;
	size_t nurls, urlcap;
	struct strset urlset;
	char **emails;
	size_t nemails, emailcap;
	struct strset emailset;
};

static const char *const flag_names[] = {
	"header_cap", "scan_cap", "depth_cap", "parts_cap", "url_cap", "addr_cap",
	"bad_encoding", "bad_charset", "bad_mime", "bad_header", "html_only",
};

const char *msg_flag_name(unsigned flag)
{
	unsigned i;

	for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		if (flag == 1u << i)
			return flag_names[i];
	return "?";
}

void msg_limits_default(struct msg_limits *lim)
{
	lim->max_depth = MSG_DEFAULT_MAX_DEPTH;
	lim->max_parts = MSG_DEFAULT_MAX_PARTS;
	lim->max_scan_bytes = MSG_DEFAULT_MAX_SCAN_BYTES;
	lim->max_header_bytes = MSG_DEFAULT_MAX_HEADER_BYTES;
	lim->max_urls = MSG_DEFAULT_MAX_URLS;
	lim->max_addresses = MSG_DEFAULT_MAX_ADDRESSES;
}

static unsigned clamp_count(unsigned v, unsigned def, unsigned hard)
{
	if (v == 0)
		return def;
	return v > hard ? hard : v;
}

cr_msg *msg_new(const struct msg_limits *lim)
{
	cr_msg *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	msg_limits_default(&m->lim);
	if (lim != NULL) {
		m->lim.max_depth = clamp_count(lim->max_depth, MSG_DEFAULT_MAX_DEPTH,
					       MSG_HARD_MAX_DEPTH);
		m->lim.max_parts = clamp_count(lim->max_parts, MSG_DEFAULT_MAX_PARTS,
					       MSG_HARD_MAX_COUNT);
		m->lim.max_urls = clamp_count(lim->max_urls, MSG_DEFAULT_MAX_URLS,
					      MSG_HARD_MAX_COUNT);
		m->lim.max_addresses = clamp_count(lim->max_addresses, MSG_DEFAULT_MAX_ADDRESSES,
						   MSG_HARD_MAX_COUNT);
		if (lim->max_scan_bytes != 0)
			m->lim.max_scan_bytes = lim->max_scan_bytes;
		if (lim->max_header_bytes != 0)
			m->lim.max_header_bytes = lim->max_header_bytes;
	}
	return m;
}

void msg_free(cr_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].raw);
		free(m->hdrs[i].folded);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	sb_free(&m->body);
	for (i = 0; i < m->nparts; i++) {
		free(m->parts[i].filename);
		free(m->parts[i].text);
	}
	free(m->parts);
	sb_free(&m->text);
	free(m->text_final);
	for (i = 0; i < m->nurls; i++) {
		free(m->urls[i].url);
		free(m->urls[i].host);
	}
	free(m->urls);
	free(m->urlset.slot);
	for (i = 0; i < m->nemails; i++)
		free(m->emails[i]);
	free(m->emails);
	free(m->emailset.slot);
	free(m);
}

unsigned msg_flags(const cr_msg *m)
{
	return m->flags;
}

/* Grows an array of elem-sized items to hold one more; -1 on OOM. */
static int grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void **arr = arrp;
	size_t nc;
	void *np;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 8;
	if (nc > SIZE_MAX / elem)
		return -1;
	np = realloc(*arr, nc * elem);
	if (np == NULL)
		return -1;
	*arr = np;
	*cap = nc;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* RFC 5322 addresses */

struct addr_acc {
	char buf[MSG_ADDR_MAX + 1];
	size_t len;
	int overflow;
};

static void acc_add(struct addr_acc *a, char c)
{
	if (a->len >= MSG_ADDR_MAX) {
		a->overflow = 1;
		return;
	}
	a->buf[a->len++] = c;
	a->buf[a->len] = '\0';
}

/* Checks a candidate addr-spec and stores it lower-casing the domain. */
static int mailbox_store(const char *spec, size_t n, struct msg_mailbox *mb)
{
	size_t at = SIZE_MAX, i, dl;
	int inq = 0;

	while (n > 0 && is_space((unsigned char)*spec)) {
		spec++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)spec[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		if (spec[i] == '\\' && inq)
			i++;
		else if (spec[i] == '"')
			inq = !inq;
		else if (spec[i] == '@' && !inq)
			at = i;
	}
	if (at == SIZE_MAX || at == 0 || at + 1 >= n || n > MSG_ADDR_MAX)
		return -1;
	dl = n - at - 1;
	while (dl > 1 && spec[at + dl] == '.')
		dl--;
	if (dl > MSG_DOMAIN_MAX)
		return -1;
	for (i = 0; i < dl; i++) {
		unsigned char c = (unsigned char)spec[at + 1 + i];

		if (is_space(c) || c == '<' || c == '>' || c == '"' || c == '@' || c == ',' ||
		    c == ';' || c < 0x20)
			return -1;
	}
	memcpy(mb->addr, spec, at + 1);
	for (i = 0; i < dl; i++)
		mb->domain[i] = (char)to_lower((unsigned char)spec[at + 1 + i]);
	mb->domain[dl] = '\0';
	memcpy(mb->addr + at + 1, mb->domain, dl + 1);
	return 0;
}

/* An element without angle brackets: blanks around '@' and '.' are obsolete
 * CFWS (RFC 5322 4.4); otherwise the last word holding '@' is the address. */
static int bare_store(struct addr_acc *a, struct msg_mailbox *mb)
{
	char tmp[MSG_ADDR_MAX + 1];
	size_t i, k = 0, start = 0, j;
	int inq = 0;

	for (i = 0; i < a->len; i++) {
		char c = a->buf[i];

		if (c == '"')
			inq = !inq;
		if (!inq && c == ' ') {
			size_t nx = i + 1;

			while (nx < a->len && a->buf[nx] == ' ')
				nx++;
			if (k > 0 && nx < a->len && tmp[k - 1] != '@' && tmp[k - 1] != '.' &&
			    a->buf[nx] != '@' && a->buf[nx] != '.')
				tmp[k++] = ' ';
			i = nx - 1;
			continue;
		}
		tmp[k++] = c;
	}
	tmp[k] = '\0';
	/* pick the blank-separated word with the '@' */
	inq = 0;
	for (j = 0; j <= k; j++) {
		if (j < k && tmp[j] == '"')
			inq = !inq;
		if (j == k || (tmp[j] == ' ' && !inq)) {
			if (memchr(tmp + start, '@', j - start) != NULL &&
			    mailbox_store(tmp + start, j - start, mb) == 0)
				return 0;
			start = j + 1;
		}
	}
	return -1;
}

size_t msg_parse_addresses(const char *v, struct msg_mailbox *out, size_t max)
{
	struct addr_acc cur, ang;
	size_t n = 0, i = 0, len;
	int in_angle = 0, have_angle = 0, last_space = 0;

	if (v == NULL || out == NULL)
		return 0;
	len = strlen(v);
	cur.len = ang.len = 0;
	cur.overflow = ang.overflow = 0;
	cur.buf[0] = ang.buf[0] = '\0';
	for (i = 0; i <= len && n < max; i++) {
		unsigned char c = i < len ? (unsigned char)v[i] : ',';

		if (c == '(') { /* comment, nested, with quoted-pairs */
			int depth = 1;

			for (i++; i < len && depth > 0; i++) {
				if (v[i] == '\\')
					i++;
				else if (v[i] == '(')
					depth++;
				else if (v[i] == ')')
					depth--;
			}
			i--;
			last_space = 1;
			continue;
		}
		if (c == '"') {
			struct addr_acc *a = in_angle ? &ang : &cur;

			if (last_space && a->len > 0)
				acc_add(a, ' ');
			last_space = 0;
			acc_add(a, '"');
			for (i++; i < len && v[i] != '"'; i++) {
				if (v[i] == '\\' && i + 1 < len)
					acc_add(a, v[i++]);
				acc_add(a, v[i]);
			}
			acc_add(a, '"');
			if (i >= len)
				i = len - 1; /* unterminated: the next round ends the element */
			continue;
		}
		if (c == '<' && !in_angle) {
			in_angle = 1;
			ang.len = 0;
			ang.overflow = 0;
			last_space = 0;
			continue;
		}
		if (c == '>' && in_angle) {
			in_angle = 0;
			have_angle = 1;
			continue;
		}
		if (c == ':' && in_angle) { /* obsolete route "@a,@b:x@y" */
			ang.len = 0;
			continue;
		}
		if (c == ':' && !in_angle) { /* group: the display name ends here */
			cur.len = 0;
			cur.overflow = 0;
			last_space = 0;
			continue;
		}
		if ((c == ',' || c == ';') && (!in_angle || i == len)) {
			int ok = -1;

			if (have_angle || in_angle) {
				if (!ang.overflow)
					ok = mailbox_store(ang.buf, ang.len, &out[n]);
			} else if (!cur.overflow && cur.len > 0) {
				ok = bare_store(&cur, &out[n]);
			}
			if (ok == 0)
				n++;
			cur.len = ang.len = 0;
			cur.overflow = ang.overflow = 0;
			in_angle = have_angle = last_space = 0;
			continue;
		}
		if (in_angle && c == ',')
			continue; /* inside a route */
		if (is_space(c)) {
			last_space = 1;
			continue;
		}
		if (c < 0x20)
			continue;
		{
			struct addr_acc *a = in_angle ? &ang : &cur;

			if (last_space && a->len > 0 && !in_angle)
				acc_add(a, ' ');
			last_space = 0;
			acc_add(a, (char)c);
		}
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* headers */

static int valid_field_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == ':')
			return 0;
	}
	return 1;
}

/* A header value with its folding kept: CRLF, bare LF and bare CR all become
 * CRLF (an MTA hands folded values to a milter with bare LFs), NULs dropped. */
static char *fold_crlf(const char *v, size_t n)
{
	char *out = malloc(2 * n + 1);
	size_t k = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			if (v[i] == '\r' && i + 1 < n && v[i + 1] == '\n')
				i++;
			out[k++] = '\r';
			out[k++] = '\n';
		} else if (v[i] != '\0') {
			out[k++] = v[i];
		}
	}
	out[k] = '\0';
	return out;
}

int msg_header_n(cr_msg *m, const char *name, size_t namelen, const char *value,
		 size_t valuelen)
{
	struct hdr_rec *h;
	char *raw;
	size_t i, k = 0, a, cost;
	unsigned flags = 0;

	if (m->state != ST_HEADERS)
		return -1;
	if (value == NULL)
		valuelen = 0;
	if (name == NULL)
		namelen = 0;
	while (namelen > 0 && is_wsp((unsigned char)name[namelen - 1]))
		namelen--;
	if (!valid_field_name(name, namelen)) {
		m->flags |= MSG_F_BAD_HEADER;
		return 0;
	}
	cost = namelen + 4;
	if (valuelen > m->lim.max_header_bytes || cost > m->lim.max_header_bytes - valuelen ||
	    cost + valuelen > m->lim.max_header_bytes - m->hdr_bytes) {
		m->flags |= MSG_F_HEADER_CAP;
		return 0;
	}
	if (grow(&m->hdrs, &m->hdrcap, m->nhdrs, sizeof *m->hdrs) < 0)
		return -1;
	/* RFC 5322 2.2.3: unfolding removes the CRLFs; NULs cannot be kept in C strings. */
	raw = malloc(valuelen + 1);
	if (raw == NULL)
		return -1;
	for (i = 0; i < valuelen; i++) {
		char c = value[i];

		if (c == '\r' || c == '\n' || c == '\0')
			continue;
		raw[k++] = c;
	}
	while (k > 0 && is_wsp((unsigned char)raw[k - 1]))
		k--;
	for (a = 0; a < k && is_wsp((unsigned char)raw[a]); a++)
		;
	memmove(raw, raw + a, k - a);
	k -= a;
	raw[k] = '\0';

	h = &m->hdrs[m->nhdrs];
	h->raw = raw;
	h->name = util_memdup_str(name, namelen);
	h->folded = fold_crlf(value, valuelen);
	h->value = decode_header_text(raw, k, &flags);
	if (h->name == NULL || h->folded == NULL || h->value == NULL) {
		free(h->raw);
		free(h->name);
		free(h->folded);
		free(h->value);
		return -1;
	}
	h->pub.name = h->name;
	h->pub.raw = h->raw;
	h->pub.folded = h->folded;
	h->pub.value = h->value;
	h->pub.flags = flags;
	m->flags |= flags;
	m->nhdrs++;
	m->hdr_bytes += cost + valuelen;
	if (!m->have_from && ascii_casecmp(h->name, "From") == 0) {
		m->have_from = 1;
		if (msg_parse_addresses(raw, &m->from, 1) == 0)
			m->have_from = 2; /* a From without a usable address */
	}
	return 0;
}

int msg_header(cr_msg *m, const char *name, const char *value)
{
	if (name == NULL)
		name = "";
	return msg_header_n(m, name, strlen(name), value, value ? strlen(value) : 0);
}

size_t msg_header_total(const cr_msg *m)
{
	return m->nhdrs;
}

const struct msg_header_field *msg_header_at(const cr_msg *m, size_t i)
{
	return i < m->nhdrs ? &m->hdrs[i].pub : NULL;
}

size_t msg_header_count(const cr_msg *m, const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < m->nhdrs; i++)
		if (ascii_casecmp(m->hdrs[i].name, name) == 0)
			c++;
	return c;
}

const struct msg_header_field *msg_header_find(const cr_msg *m, const char *name, size_t idx)
{
	size_t i;

	for (i = 0; i < m->nhdrs; i++)
		if (ascii_casecmp(m->hdrs[i].name, name) == 0 && idx-- == 0)
			return &m->hdrs[i].pub;
	return NULL;
}

const char *msg_header_value(const cr_msg *m, const char *name, size_t idx)
{
	const struct msg_header_field *f = msg_header_find(m, name, idx);

	return f ? f->value : NULL;
}

const char *msg_subject(const cr_msg *m)
{
	return msg_header_value(m, "Subject", 0);
}

size_t msg_header_addresses(const cr_msg *m, const char *name, struct msg_mailbox *out,
			    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < m->nhdrs && n < max; i++)
		if (ascii_casecmp(m->hdrs[i].name, name) == 0)
			n += msg_parse_addresses(m->hdrs[i].raw, out + n, max - n);
	return n;
}

const struct msg_mailbox *msg_from(const cr_msg *m)
{
	return m->have_from == 1 ? &m->from : NULL;
}

const char *msg_from_domain(const cr_msg *m)
{
	return m->have_from == 1 ? m->from.domain : NULL;
}

int msg_body(cr_msg *m, const void *buf, size_t len)
{
	size_t room;

	if (m->state == ST_ENDED)
		return -1;
	m->state = ST_BODY;
	room = m->lim.max_scan_bytes - m->body.len;
	if (len > room) {
		m->flags |= MSG_F_SCAN_CAP;
		len = room;
	}
	if (len == 0)
		return 0;
	sb_add(&m->body, buf, len);
	return m->body.oom ? -1 : 0;
}

const char *msg_body_raw(const cr_msg *m, size_t *len)
{
	if (len)
		*len = m->body.len;
	return m->body.p ? m->body.p : "";
}

/* ------------------------------------------------------------------------ */
/* header sections inside the body (parts, message/rfc822) and of whole files */

typedef void (*field_fn)(void *ctx, const char *name, size_t nl, const char *val, size_t vl);

/* Walks the header section at the start of s[0..n) and calls fn per field with
 * the value still folded.  Ends at an empty line (consumed) or at a line that
 * is not a field (kept for the body).  Returns the offset of the body. */
static size_t split_headers(const char *s, size_t n, field_fn fn, void *ctx)
{
	size_t pos = 0, fa = 0, fnl = 0, va = 0, fe = 0;
	int have = 0;

	while (pos < n) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t le = nl ? (size_t)(nl - s) : n, next = nl ? le + 1 : n, ce = le, k, j;

		if (ce > pos && s[ce - 1] == '\r')
			ce--;
		if (ce == pos) {
			if (have)
				fn(ctx, s + fa, fnl, s + va, fe - va);
			return next;
		}
		if (is_wsp((unsigned char)s[pos]) && have) {
			fe = ce;
			pos = next;
			continue;
		}
		for (k = pos; k < ce; k++) {
			unsigned char c = (unsigned char)s[k];

			if (c <= ' ' || c >= 0x7f || c == ':')
				break;
		}
		for (j = k; j < ce && is_wsp((unsigned char)s[j]); j++)
			;
		if (k == pos || j >= ce || s[j] != ':') {
			if (have)
				fn(ctx, s + fa, fnl, s + va, fe - va);
			return pos;
		}
		if (have)
			fn(ctx, s + fa, fnl, s + va, fe - va);
		have = 1;
		fa = pos;
		fnl = k - pos;
		va = j + 1;
		fe = ce;
		pos = next;
	}
	if (have)
		fn(ctx, s + fa, fnl, s + va, fe - va);
	return n;
}

/* ------------------------------------------------------------------------ */
/* MIME entity headers: Content-Type (RFC 2045 5.1, RFC 2231), CTE, disposition */

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP };

struct ent {
	char ctype[64];
	char charset[CHARSET_MAX + 8];
	char boundary[BOUNDARY_MAX + 1];
	size_t blen;
	char *filename;
	enum cte cte;
	int attachment;
	int seen_ct, seen_cte, seen_cd, from_cd_name;
	unsigned flags;
};

static void ent_init(struct ent *e, int digest_child)
{
	memset(e, 0, sizeof *e);
	/* RFC 2046 5.1.5: parts of multipart/digest default to message/rfc822. */
	util_strlcpy(e->ctype, digest_child ? "message/rfc822" : "text/plain", sizeof e->ctype);
}

static size_t skip_cfws(const char *s, size_t n, size_t i)
{
	while (i < n) {
		if (is_space((unsigned char)s[i])) {
			i++;
		} else if (s[i] == '(') {
			int depth = 1;

			for (i++; i < n && depth > 0; i++) {
				if (s[i] == '\\')
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')')
					depth--;
			}
		} else {
			break;
		}
	}
	return i < n ? i : n;
}

static int is_tspecial(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static size_t token_end(const char *s, size_t n, size_t i)
{
	while (i < n && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f &&
	       !is_tspecial((unsigned char)s[i]))
		i++;
	return i;
}

struct params {
	size_t n;
	struct {
		char name[64];
		size_t off, len;
	} p[PARAM_MAX];
	struct sbuf buf; /* values, unquoted */
};

/* Parses "; a=b; c="d"" from s[i..n). */
static void params_parse(const char *s, size_t n, size_t i, struct params *ps)
{
	ps->n = 0;
	while (i < n && ps->n < PARAM_MAX) {
		size_t a, ae, k;

		/* find the next ';' outside quotes */
		while (i < n && s[i] != ';') {
			if (s[i] == '"') {
				for (i++; i < n && s[i] != '"'; i++)
					if (s[i] == '\\')
						i++;
			}
			i++;
		}
		if (i >= n)
			break;
		i = skip_cfws(s, n, i + 1);
		a = i;
		while (i < n && s[i] != '=' && s[i] != ';' && !is_space((unsigned char)s[i]))
			i++;
		ae = i;
		i = skip_cfws(s, n, i);
		if (i >= n || s[i] != '=' || ae == a || ae - a >= sizeof ps->p[0].name)
			continue;
		i = skip_cfws(s, n, i + 1);
		for (k = 0; k < ae - a; k++)
			ps->p[ps->n].name[k] = (char)to_lower((unsigned char)s[a + k]);
		ps->p[ps->n].name[k] = '\0';
		ps->p[ps->n].off = ps->buf.len;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				sb_addc(&ps->buf, s[i]);
			}
			if (i < n)
				i++;
		} else {
			size_t b = i;

			/* lenient: tokens with tspecials like '=' are common in boundaries */
			while (i < n && s[i] != ';' && !is_space((unsigned char)s[i]))
				i++;
			sb_add(&ps->buf, s + b, i - b);
		}
		ps->p[ps->n].len = ps->buf.len - ps->p[ps->n].off;
		ps->n++;
	}
}

static void pct_decode(const char *s, size_t n, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_val((unsigned char)s[i + 1]) >= 0 &&
		    hex_val((unsigned char)s[i + 2]) >= 0) {
			sb_addc(out, (char)(hex_val((unsigned char)s[i + 1]) * 16 +
					    hex_val((unsigned char)s[i + 2])));
			i += 2;
		} else {
			sb_addc(out, s[i]);
		}
	}
}

/* Looks up a parameter, joining RFC 2231 continuations (name*0, name*1*...) and
 * decoding extended values (charset'lang'%XX) into UTF-8.  Plain values are
 * returned as they are.  1 if found. */
static int params_get(const struct params *ps, const char *want, struct sbuf *out,
		      unsigned *flags)
{
	const char *vals = ps->buf.p ? ps->buf.p : "";
	size_t wl = strlen(want), i;
	long sec[PARAM_SECTIONS];
	int sec_ext[PARAM_SECTIONS];
	long plain = -1, ext = -1;
	struct sbuf bytes = {NULL, 0, 0, 0};
	char cs[CHARSET_MAX + 1] = "";
	int extended_seen = 0;

	for (i = 0; i < PARAM_SECTIONS; i++)
		sec[i] = -1;
	for (i = 0; i < ps->n; i++) {
		const char *nm = ps->p[i].name, *rest;

		if (strncmp(nm, want, wl) != 0)
			continue;
		rest = nm + wl;
		if (*rest == '\0') {
			if (plain < 0)
				plain = (long)i;
		} else if (strcmp(rest, "*") == 0) {
			if (ext < 0)
				ext = (long)i;
		} else if (rest[0] == '*' && is_digit((unsigned char)rest[1])) {
			unsigned num = 0;
			const char *d = rest + 1;

			if (d[0] == '0' && is_digit((unsigned char)d[1]))
				continue;
			while (is_digit((unsigned char)*d) && num < PARAM_SECTIONS)
				num = num * 10 + (unsigned)(*d++ - '0');
			if (num >= PARAM_SECTIONS || (d[0] != '\0' && strcmp(d, "*") != 0))
				continue;
			if (sec[num] < 0) {
				sec[num] = (long)i;
				sec_ext[num] = d[0] == '*';
			}
		}
	}
	if (sec[0] >= 0 || ext >= 0) {
		size_t k, count = sec[0] >= 0 ? PARAM_SECTIONS : 1;

		for (k = 0; k < count; k++) {
			long idx = sec[0] >= 0 ? sec[k] : ext;
			int isext = sec[0] >= 0 ? sec_ext[k] : 1;
			const char *v;
			size_t vl;

			if (idx < 0)
				break;
			v = vals + ps->p[idx].off;
			vl = ps->p[idx].len;
			if (isext && k == 0) {
				/* RFC 2231 4: charset'language'value */
				const char *q1 = memchr(v, '\'', vl), *q2;

				if (q1 != NULL) {
					q2 = memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v));
					if (q2 != NULL) {
						size_t cl = (size_t)(q1 - v);

						if (cl <= CHARSET_MAX) {
							memcpy(cs, v, cl);
							cs[cl] = '\0';
						}
						vl -= (size_t)(q2 + 1 - v);
						v = q2 + 1;
					}
				}
			}
			if (isext) {
				extended_seen = 1;
				pct_decode(v, vl, &bytes);
			} else {
				sb_add(&bytes, v, vl);
			}
		}
		if (extended_seen && cs[0] != '\0') {
			int r = conv_to_utf8(cs, strlen(cs), bytes.p ? bytes.p : "", bytes.len, out, 0);

			if (r == CONV_UNKNOWN) {
				*flags |= MSG_F_BAD_CHARSET;
				add_utf8_sanitised(out, bytes.p ? bytes.p : "", bytes.len);
			} else if (r != CONV_OK) {
				*flags |= MSG_F_BAD_CHARSET;
			}
		} else {
			if (add_utf8_sanitised(out, bytes.p ? bytes.p : "", bytes.len))
				*flags |= MSG_F_BAD_CHARSET;
		}
		sb_free(&bytes);
		return 1;
	}
	if (plain >= 0) {
		sb_add(out, vals + ps->p[plain].off, ps->p[plain].len);
		return 1;
	}
	return 0;
}

/* A filename / name parameter: RFC 2231 or RFC 2047 words in quotes (common
 * although RFC 2047 5 forbids it), decoded to UTF-8 NFC. */
static void ent_set_filename(struct ent *e, const struct params *ps, const char *want)
{
	struct sbuf v = {NULL, 0, 0, 0};

	if (params_get(ps, want, &v, &e->flags) && v.len > 0) {
		char *d = decode_header_text(v.p, v.len, &e->flags);

		if (d != NULL) {
			free(e->filename);
			e->filename = d;
		}
	}
	sb_free(&v);
}

static void ent_content_type(struct ent *e, const char *s, size_t n)
{
	struct params ps;
	struct sbuf v = {NULL, 0, 0, 0};
	size_t i = skip_cfws(s, n, 0), t, st, k = 0;

	t = token_end(s, n, i);
	st = skip_cfws(s, n, t);
	if (t > i && st < n && s[st] == '/') {
		size_t sa = skip_cfws(s, n, st + 1), se = token_end(s, n, sa);

		if (se > sa && (t - i) + 1 + (se - sa) < sizeof e->ctype) {
			for (; i < t; i++)
				e->ctype[k++] = (char)to_lower((unsigned char)s[i]);
			e->ctype[k++] = '/';
			for (; sa < se; sa++)
				e->ctype[k++] = (char)to_lower((unsigned char)s[sa]);
			e->ctype[k] = '\0';
		}
		i = se;
	} else {
		e->flags |= MSG_F_BAD_MIME; /* RFC 2045 5.2: treat as text/plain */
	}
	memset(&ps, 0, sizeof ps);
	params_parse(s, n, i, &ps);
	if (params_get(&ps, "charset", &v, &e->flags) && v.p != NULL) {
		size_t a = 0, b = v.len;

		while (a < b && (is_space((unsigned char)v.p[a]) || v.p[a] == '\''))
			a++;
		while (b > a && is_space((unsigned char)v.p[b - 1]))
			b--;
		if (b - a < sizeof e->charset) {
			memcpy(e->charset, v.p + a, b - a);
			e->charset[b - a] = '\0';
			lower_inplace(e->charset);
		} else {
			util_strlcpy(e->charset, "x-unknown-too-long", sizeof e->charset);
		}
	}
	v.len = 0;
	if (params_get(&ps, "boundary", &v, &e->flags)) {
		if (v.len >= 1 && v.len <= BOUNDARY_MAX) {
			memcpy(e->boundary, v.p, v.len);
			e->boundary[v.len] = '\0';
			e->blen = v.len;
		} else {
			e->flags |= MSG_F_BAD_MIME;
		}
	}
	if (!e->from_cd_name)
		ent_set_filename(e, &ps, "name");
	sb_free(&v);
	sb_free(&ps.buf);
}

static void ent_disposition(struct ent *e, const char *s, size_t n)
{
	struct params ps;
	size_t i = skip_cfws(s, n, 0), t = token_end(s, n, i);

	if (span_ieq(s + i, t - i, "attachment"))
		e->attachment = 1;
	memset(&ps, 0, sizeof ps);
	params_parse(s, n, t, &ps);
	{
		char *before = e->filename;

		e->filename = NULL;
		ent_set_filename(e, &ps, "filename");
		if (e->filename != NULL) {
			free(before);
			e->from_cd_name = 1;
		} else {
			e->filename = before;
		}
	}
	sb_free(&ps.buf);
}

static void ent_cte(struct ent *e, const char *s, size_t n)
{
	size_t i = skip_cfws(s, n, 0), t = token_end(s, n, i);

	if (span_ieq(s + i, t - i, "base64"))
		e->cte = CTE_BASE64;
	else if (span_ieq(s + i, t - i, "quoted-printable"))
		e->cte = CTE_QP;
	else if (span_ieq(s + i, t - i, "7bit") || span_ieq(s + i, t - i, "8bit") ||
		 span_ieq(s + i, t - i, "binary") || t == i)
		e->cte = CTE_IDENTITY;
	else {
		e->cte = CTE_IDENTITY; /* x-uuencode etc.: scanned as they are */
		e->flags |= MSG_F_BAD_ENCODING;
	}
}

/* One unfolded field; only the first of each kind counts. */
static void ent_field(struct ent *e, const char *name, size_t nl, const char *v, size_t vl)
{
	if (span_ieq(name, nl, "content-type")) {
		if (!e->seen_ct++)
			ent_content_type(e, v, vl);
	} else if (span_ieq(name, nl, "content-transfer-encoding")) {
		if (!e->seen_cte++)
			ent_cte(e, v, vl);
	} else if (span_ieq(name, nl, "content-disposition")) {
		if (!e->seen_cd++)
			ent_disposition(e, v, vl);
	}
}

/* split_headers callback for MIME part headers: unfolds the fields we need. */
static void part_field(void *ctx, const char *name, size_t nl, const char *val, size_t vl)
{
	struct ent *e = ctx;
	char buf[PART_FIELD_MAX];
	size_t i, k = 0;

	if (!span_ieq(name, nl, "content-type") &&
	    !span_ieq(name, nl, "content-transfer-encoding") &&
	    !span_ieq(name, nl, "content-disposition"))
		return;
	for (i = 0; i < vl && k < sizeof buf; i++)
		if (val[i] != '\r' && val[i] != '\n' && val[i] != '\0')
			buf[k++] = val[i];
	ent_field(e, name, nl, buf, k);
}

/* ------------------------------------------------------------------------ */
/* URL and email collection */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* 1 if s is in the set, else adds it (the set never fills: sized 2x cap). */
static int strset_check_add(struct strset *set, size_t cap, const char *s, int *oom)
{
	size_t i;

	if (set->slot == NULL) {
		size_t sz = 16;

		while (sz < cap * 2 + 2)
			sz *= 2;
		set->slot = calloc(sz, sizeof *set->slot);
		if (set->slot == NULL) {
			*oom = 1;
			return 1;
		}
		set->mask = sz - 1;
	}
	for (i = (size_t)str_hash(s) & set->mask; set->slot[i] != NULL; i = (i + 1) & set->mask)
		if (strcmp(set->slot[i], s) == 0)
			return 1;
	set->slot[i] = s;
	return 0;
}

static int strset_has(const struct strset *set, const char *s)
{
	size_t i;

	if (set->slot == NULL)
		return 0;
	for (i = (size_t)str_hash(s) & set->mask; set->slot[i] != NULL; i = (i + 1) & set->mask)
		if (strcmp(set->slot[i], s) == 0)
			return 1;
	return 0;
}

/* Percent-decodes, lower-cases, strips trailing dots; A-label when possible. */
static char *host_normalise(const char *h, size_t n)
{
	struct sbuf t = {NULL, 0, 0, 0};
	char out[DNAME_MAX + 1];
	size_t i;

	if (n > 0 && h[0] == '[') {
		sb_add(&t, h, n);
		if (t.p)
			lower_inplace(t.p);
		return sb_steal(&t);
	}
	pct_decode(h, n, &t);
	if (t.p == NULL || t.oom) {
		sb_free(&t);
		return NULL;
	}
	for (i = 0; i < t.len; i++)
		t.p[i] = (char)to_lower((unsigned char)t.p[i]);
	while (t.len > 0 && t.p[t.len - 1] == '.')
		t.p[--t.len] = '\0';
	if (t.len == 0 || memchr(t.p, '\0', t.len) != NULL) {
		sb_free(&t);
		return NULL;
	}
	if (dname_normalise(t.p, out, sizeof out, NULL, 0) == 0) {
		sb_free(&t);
		return strdup(out);
	}
	/* not a DNS name we can convert: keep it as found (valid UTF-8 only) */
	if (u8_check((const uint8_t *)t.p, t.len) != NULL) {
		sb_free(&t);
		return NULL;
	}
	return sb_steal(&t);
}

static void add_url(cr_msg *m, const char *u, size_t ulen, const char *h, size_t hlen,
		    int in_html)
{
	struct url_rec *r;
	char *url, *host;

	if (ulen > URL_KEEP_MAX) {
		ulen = URL_KEEP_MAX;
		while (ulen > 0 && ((unsigned char)u[ulen] & 0xC0) == 0x80)
			ulen--;
	}
	url = malloc(ulen + 1);
	if (url == NULL) {
		m->oom = 1;
		return;
	}
	memcpy(url, u, ulen);
	url[ulen] = '\0';
	if (strset_has(&m->urlset, url)) {
		free(url);
		return;
	}
	if (m->nurls >= m->lim.max_urls) {
		m->flags |= MSG_F_URL_CAP;
		free(url);
		return;
	}
	host = host_normalise(h, hlen);
	if (host == NULL || grow(&m->urls, &m->urlcap, m->nurls, sizeof *m->urls) < 0) {
		free(url);
		free(host);
		return;
	}
	strset_check_add(&m->urlset, m->lim.max_urls, url, &m->oom);
	r = &m->urls[m->nurls++];
	r->url = url;
	r->host = host;
	r->pub.url = url;
	r->pub.host = host;
	r->pub.in_html = in_html;
}

static void add_email(cr_msg *m, const char *e, size_t n)
{
	char *s;

	if (n == 0 || n > MSG_ADDR_MAX)
		return;
	s = util_memdup_str(e, n);
	if (s == NULL) {
		m->oom = 1;
		return;
	}
	lower_inplace(s);
	if (strset_has(&m->emailset, s)) {
		free(s);
		return;
	}
	if (m->nemails >= m->lim.max_addresses) {
		m->flags |= MSG_F_ADDR_CAP;
		free(s);
		return;
	}
	if (grow(&m->emails, &m->emailcap, m->nemails, sizeof *m->emails) < 0) {
		free(s);
		m->oom = 1;
		return;
	}
	strset_check_add(&m->emailset, m->lim.max_addresses, s, &m->oom);
	m->emails[m->nemails++] = s;
}

/* Bytes that may appear in a URL as written in text. */
static int url_byte(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '"' && c != '<' && c != '>' && c != '`';
}

static int host_byte(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '%' || c >= 0x80;
}

/* Takes a URL starting at s[i] whose authority starts at s[a].  www: a bare
 * "www." host.  Returns the offset after it, or i + 1 when it is no URL. */
static size_t url_take(cr_msg *m, const char *s, size_t n, size_t i, size_t a, int www,
		       int in_html)
{
	size_t e = a, ae, h, he, k, open = 0, close = 0;

	while (e < n && url_byte((unsigned char)s[e])) {
		/* U+00A0 and U+3000 end a URL in text */
		if ((unsigned char)s[e] == 0xC2 && e + 1 < n && (unsigned char)s[e + 1] == 0xA0)
			break;
		if ((unsigned char)s[e] == 0xE3 && e + 2 < n && (unsigned char)s[e + 1] == 0x80 &&
		    (unsigned char)s[e + 2] == 0x80)
			break;
		if (s[e] == '(')
			open++;
		else if (s[e] == ')')
			close++;
		e++;
	}
	while (e > a) {
		char c = s[e - 1];

		if (strchr(".,;:!?'*", c) != NULL) {
			e--;
		} else if (c == ')' && close > open) {
			close--;
			e--;
		} else if (c == ']' || c == '}') {
			e--;
		} else {
			break;
		}
	}
	if (e == a)
		return i + 1;
	for (ae = a; ae < e && s[ae] != '/' && s[ae] != '?' && s[ae] != '#' && s[ae] != '\\'; ae++)
		;
	h = a;
	for (k = a; k < ae; k++)
		if (s[k] == '@')
			h = k + 1;
	if (h < ae && s[h] == '[') {
		const char *rb = memchr(s + h, ']', ae - h);

		if (rb == NULL)
			return e;
		he = (size_t)(rb - s) + 1;
	} else {
		for (he = h; he < ae && s[he] != ':'; he++)
			if (!host_byte((unsigned char)s[he]))
				return e;
	}
	if (he == h)
		return e;
	if (www) {
		/* "www.x.y": a second dot and no userinfo */
		const char *dot = (h == a && he - h > 4) ? memchr(s + h + 4, '.', he - h - 4) : NULL;

		if (dot == NULL || dot + 1 >= s + he)
			return e;
	}
	add_url(m, s + i, e - i, s + h, he - h, in_html);
	return e;
}

static int local_byte(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static int domain_ok(const char *d, size_t n)
{
	size_t i, label = 0, last = 0;
	int alpha_tld = 1;

	if (n == 0 || memchr(d, '.', n) == NULL)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (i == label || d[label] == '-' || d[i - 1] == '-')
				return 0;
			last = label;
			label = i + 1;
		}
	}
	for (i = last; i < n; i++)
		if (!is_alpha((unsigned char)d[i]))
			alpha_tld = 0;
	return alpha_tld && n - last >= 2;
}

/* An email address around the '@' at s[i]; returns where scanning goes on. */
static size_t email_take(cr_msg *m, const char *s, size_t n, size_t i)
{
	size_t k = i, e = i + 1;

	while (k > 0 && i - k < EMAIL_LOCAL_MAX && local_byte((unsigned char)s[k - 1]))
		k--;
	if (k > 0 && local_byte((unsigned char)s[k - 1]))
		return i + 1;
	while (k < i && s[k] == '.')
		k++;
	if (k == i)
		return i + 1;
	while (e < n && e - i - 1 < EMAIL_DOMAIN_MAX &&
	       (is_alnum((unsigned char)s[e]) || s[e] == '.' || s[e] == '-'))
		e++;
	if (e < n && e - i - 1 >= EMAIL_DOMAIN_MAX)
		return e;
	while (e > i + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (domain_ok(s + i + 1, e - i - 1) && s[i - 1] != '.')
		add_email(m, s + k, e - k);
	return e > i + 1 ? e : i + 1;
}

/* Bytes after which a scheme or "www." does not start a new word. */
static int word_byte(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == '@' || c == '/';
}

/* Finds URLs and email addresses in UTF-8 text. */
static void scan_links(cr_msg *m, const char *s, size_t n, int in_html)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i], lc = to_lower(c);

		if (c == '@') {
			i = email_take(m, s, n, i);
			continue;
		}
		if ((lc == 'h' || lc == 'f' || lc == 'w') &&
		    (i == 0 || !word_byte((unsigned char)s[i - 1]))) {
			size_t sl = 0;
			int www = 0;

			if (starts_ci(s, n, i, "http://"))
				sl = 7;
			else if (starts_ci(s, n, i, "https://"))
				sl = 8;
			else if (starts_ci(s, n, i, "ftp://"))
				sl = 6;
			else if (starts_ci(s, n, i, "www."))
				www = 1;
			if (sl > 0 || www) {
				i = url_take(m, s, n, i, i + sl, www, in_html);
				continue;
			}
		}
		i++;
	}
}

/* mailto:a@b,c@d?subject=... (RFC 6068) */
static void mailto_take(cr_msg *m, const char *v, size_t n)
{
	struct sbuf t = {NULL, 0, 0, 0};
	struct msg_mailbox mb[8];
	const char *q = memchr(v, '?', n);
	size_t k, cnt;

	pct_decode(v, q ? (size_t)(q - v) : n, &t);
	if (t.p != NULL && !t.oom && memchr(t.p, '\0', t.len) == NULL) {
		cnt = msg_parse_addresses(t.p, mb, sizeof mb / sizeof mb[0]);
		for (k = 0; k < cnt; k++) {
			const char *at = strrchr(mb[k].addr, '@');

			if (at != NULL && domain_ok(mb[k].domain, strlen(mb[k].domain)))
				add_email(m, mb[k].addr, strlen(mb[k].addr));
		}
	}
	sb_free(&t);
}

/* ------------------------------------------------------------------------ */
/* HTML to text */

/* HTML 4.01 entities (lat1, symbol, special), &apos; and the HTML5 names of the
 * Vietnamese letters outside Latin-1; sorted by strcmp for bsearch. */
static const struct entity {
	const char *name;
	uint32_t cp;
} entities[] = {
	{"AElig", 0xC6}, {"Aacute", 0xC1}, {"Abreve", 0x102}, {"Acirc", 0xC2},
	{"Agrave", 0xC0}, {"Alpha", 0x391}, {"Aring", 0xC5}, {"Atilde", 0xC3}, {"Auml", 0xC4},
	{"Beta", 0x392}, {"Ccedil", 0xC7}, {"Chi", 0x3A7}, {"Dagger", 0x2021},
	{"Delta", 0x394}, {"Dstrok", 0x110}, {"ETH", 0xD0}, {"Eacute", 0xC9}, {"Ecirc", 0xCA},
	{"Egrave", 0xC8}, {"Epsilon", 0x395}, {"Eta", 0x397}, {"Euml", 0xCB}, {"Gamma", 0x393},
	{"Iacute", 0xCD}, {"Icirc", 0xCE}, {"Igrave", 0xCC}, {"Iota", 0x399}, {"Itilde", 0x128},
	{"Iuml", 0xCF}, {"Kappa", 0x39A}, {"Lambda", 0x39B}, {"Mu", 0x39C}, {"Ntilde", 0xD1},
	{"Nu", 0x39D}, {"OElig", 0x152}, {"Oacute", 0xD3}, {"Ocirc", 0xD4}, {"Ograve", 0xD2},
	{"Omega", 0x3A9}, {"Omicron", 0x39F}, {"Oslash", 0xD8}, {"Otilde", 0xD5},
	{"Ouml", 0xD6}, {"Phi", 0x3A6}, {"Pi", 0x3A0}, {"Prime", 0x2033}, {"Psi", 0x3A8},
	{"Rho", 0x3A1}, {"Scaron", 0x160}, {"Sigma", 0x3A3}, {"THORN", 0xDE}, {"Tau", 0x3A4},
	{"Theta", 0x398}, {"Uacute", 0xDA}, {"Ucirc", 0xDB}, {"Ugrave", 0xD9},
	{"Upsilon", 0x3A5}, {"Utilde", 0x168}, {"Uuml", 0xDC}, {"Xi", 0x39E}, {"Yacute", 0xDD},
	{"Yuml", 0x178}, {"Zeta", 0x396}, {"aacute", 0xE1}, {"abreve", 0x103}, {"acirc", 0xE2},
	{"acute", 0xB4}, {"aelig", 0xE6}, {"agrave", 0xE0}, {"alefsym", 0x2135},
	{"alpha", 0x3B1}, {"amp", 0x26}, {"and", 0x2227}, {"ang", 0x2220}, {"apos", 0x27},
	{"aring", 0xE5}, {"asymp", 0x2248}, {"atilde", 0xE3}, {"auml", 0xE4},
	{"bdquo", 0x201E}, {"beta", 0x3B2}, {"brvbar", 0xA6}, {"bull", 0x2022},
	{"cap", 0x2229}, {"ccedil", 0xE7}, {"cedil", 0xB8}, {"cent", 0xA2}, {"chi", 0x3C7},
	{"circ", 0x2C6}, {"clubs", 0x2663}, {"cong", 0x2245}, {"copy", 0xA9}, {"crarr", 0x21B5},
	{"cup", 0x222A}, {"curren", 0xA4}, {"dArr", 0x21D3}, {"dagger", 0x2020},
	{"darr", 0x2193}, {"deg", 0xB0}, {"delta", 0x3B4}, {"diams", 0x2666}, {"divide", 0xF7},
	{"dstrok", 0x111}, {"eacute", 0xE9}, {"ecirc", 0xEA}, {"egrave", 0xE8},
	{"empty", 0x2205}, {"emsp", 0x2003}, {"ensp", 0x2002}, {"epsilon", 0x3B5},
	{"equiv", 0x2261}, {"eta", 0x3B7}, {"eth", 0xF0}, {"euml", 0xEB}, {"euro", 0x20AC},
	{"exist", 0x2203}, {"fnof", 0x192}, {"forall", 0x2200}, {"frac12", 0xBD},
	{"frac14", 0xBC}, {"frac34", 0xBE}, {"frasl", 0x2044}, {"gamma", 0x3B3}, {"ge", 0x2265},
	{"gt", 0x3E}, {"hArr", 0x21D4}, {"harr", 0x2194}, {"hearts", 0x2665},
	{"hellip", 0x2026}, {"iacute", 0xED}, {"icirc", 0xEE}, {"iexcl", 0xA1},
	{"igrave", 0xEC}, {"image", 0x2111}, {"infin", 0x221E}, {"int", 0x222B},
	{"iota", 0x3B9}, {"iquest", 0xBF}, {"isin", 0x2208}, {"itilde", 0x129}, {"iuml", 0xEF},
	{"kappa", 0x3BA}, {"lArr", 0x21D0}, {"lambda", 0x3BB}, {"lang", 0x2329},
	{"laquo", 0xAB}, {"larr", 0x2190}, {"lceil", 0x2308}, {"ldquo", 0x201C}, {"le", 0x2264},
	{"lfloor", 0x230A}, {"lowast", 0x2217}, {"loz", 0x25CA}, {"lrm", 0x200E},
	{"lsaquo", 0x2039}, {"lsquo", 0x2018}, {"lt", 0x3C}, {"macr", 0xAF}, {"mdash", 0x2014},
	{"micro", 0xB5}, {"middot", 0xB7}, {"minus", 0x2212}, {"mu", 0x3BC}, {"nabla", 0x2207},
	{"nbsp", 0xA0}, {"ndash", 0x2013}, {"ne", 0x2260}, {"ni", 0x220B}, {"not", 0xAC},
	{"notin", 0x2209}, {"nsub", 0x2284}, {"ntilde", 0xF1}, {"nu", 0x3BD}, {"oacute", 0xF3},
	{"ocirc", 0xF4}, {"oelig", 0x153}, {"ograve", 0xF2}, {"oline", 0x203E},
	{"omega", 0x3C9}, {"omicron", 0x3BF}, {"oplus", 0x2295}, {"or", 0x2228},
	{"ordf", 0xAA}, {"ordm", 0xBA}, {"oslash", 0xF8}, {"otilde", 0xF5}, {"otimes", 0x2297},
	{"ouml", 0xF6}, {"para", 0xB6}, {"part", 0x2202}, {"permil", 0x2030}, {"perp", 0x22A5},
	{"phi", 0x3C6}, {"pi", 0x3C0}, {"piv", 0x3D6}, {"plusmn", 0xB1}, {"pound", 0xA3},
	{"prime", 0x2032}, {"prod", 0x220F}, {"prop", 0x221D}, {"psi", 0x3C8}, {"quot", 0x22},
	{"rArr", 0x21D2}, {"radic", 0x221A}, {"rang", 0x232A}, {"raquo", 0xBB},
	{"rarr", 0x2192}, {"rceil", 0x2309}, {"rdquo", 0x201D}, {"real", 0x211C},
	{"reg", 0xAE}, {"rfloor", 0x230B}, {"rho", 0x3C1}, {"rlm", 0x200F}, {"rsaquo", 0x203A},
	{"rsquo", 0x2019}, {"sbquo", 0x201A}, {"scaron", 0x161}, {"sdot", 0x22C5},
	{"sect", 0xA7}, {"shy", 0xAD}, {"sigma", 0x3C3}, {"sigmaf", 0x3C2}, {"sim", 0x223C},
	{"spades", 0x2660}, {"sub", 0x2282}, {"sube", 0x2286}, {"sum", 0x2211}, {"sup", 0x2283},
	{"sup1", 0xB9}, {"sup2", 0xB2}, {"sup3", 0xB3}, {"supe", 0x2287}, {"szlig", 0xDF},
	{"tau", 0x3C4}, {"there4", 0x2234}, {"theta", 0x3B8}, {"thetasym", 0x3D1},
	{"thinsp", 0x2009}, {"thorn", 0xFE}, {"tilde", 0x2DC}, {"times", 0xD7},
	{"trade", 0x2122}, {"uArr", 0x21D1}, {"uacute", 0xFA}, {"uarr", 0x2191},
	{"ucirc", 0xFB}, {"ugrave", 0xF9}, {"uml", 0xA8}, {"upsih", 0x3D2}, {"upsilon", 0x3C5},
	{"utilde", 0x169}, {"uuml", 0xFC}, {"weierp", 0x2118}, {"xi", 0x3BE}, {"yacute", 0xFD},
	{"yen", 0xA5}, {"yuml", 0xFF}, {"zeta", 0x3B6}, {"zwj", 0x200D}, {"zwnj", 0x200C},
};

static int entity_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct entity *)elem)->name);
}

struct render {
	cr_msg *m;
	struct sbuf *out;
	int pend_space, pend_nl;
	iconv_t c1;
	int c1_state; /* 0 not opened, 1 open, -1 failed */
};

/* &#128;..&#159; mean windows-1252 characters (HTML5 13.2.5.80). */
static uint32_t c1_map(struct render *r, uint32_t v)
{
	char in = (char)v, outb[8], *ip = &in, *op = outb;
	size_t il = 1, ol = sizeof outb;
	ucs4_t uc;

	if (r->c1_state == 0) {
		r->c1 = iconv_open("UTF-8", "WINDOWS-1252");
		r->c1_state = r->c1 == (iconv_t)-1 ? -1 : 1;
	}
	if (r->c1_state < 0 || iconv(r->c1, &ip, &il, &op, &ol) == (size_t)-1) {
		if (r->c1_state > 0)
			iconv(r->c1, NULL, NULL, NULL, NULL);
		return 0xFFFD;
	}
	if (u8_mbtouc(&uc, (const uint8_t *)outb, (size_t)(op - outb)) <= 0)
		return 0xFFFD;
	return uc;
}

/* An entity at s[i] == '&': returns the bytes it takes (0 if none) and *cp. */
static size_t html_entity(struct render *r, const char *s, size_t n, size_t i, uint32_t *cp)
{
	size_t j = i + 1;

	if (j < n && s[j] == '#') {
		int hex = 0, digits = 0;
		uint32_t v = 0;

		j++;
		if (j < n && (s[j] == 'x' || s[j] == 'X')) {
			hex = 1;
			j++;
		}
		while (j < n) {
			int d = hex ? hex_val((unsigned char)s[j]) :
				      (is_digit((unsigned char)s[j]) ? s[j] - '0' : -1);

			if (d < 0)
				break;
			if (v <= 0x10FFFF)
				v = v * (hex ? 16u : 10u) + (uint32_t)d;
			digits++;
			j++;
		}
		if (digits == 0)
			return 0;
		if (j < n && s[j] == ';')
			j++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		else if (v >= 0x80 && v <= 0x9F)
			v = c1_map(r, v);
		*cp = v;
		return j - i;
	} else {
		char name[16];
		size_t k = 0;
		const struct entity *e;

		while (j < n && is_alnum((unsigned char)s[j]) && k < sizeof name - 1)
			name[k++] = s[j++];
		if (k == 0 || (j < n && is_alnum((unsigned char)s[j])))
			return 0;
		name[k] = '\0';
		e = bsearch(name, entities, sizeof entities / sizeof entities[0], sizeof entities[0],
			    entity_cmp);
		if (e == NULL)
			return 0;
		if (j < n && s[j] == ';')
			j++;
		*cp = e->cp;
		return j - i;
	}
}

static void emit_pending(struct render *r)
{
	if (r->out->len > 0) {
		char last = r->out->p[r->out->len - 1];

		if (r->pend_nl && last != '\n')
			sb_addc(r->out, '\n');
		else if (r->pend_space && last != '\n' && last != ' ')
			sb_addc(r->out, ' ');
	}
	r->pend_nl = r->pend_space = 0;
}

static void emit_bytes(struct render *r, const char *s, size_t n)
{
	emit_pending(r);
	sb_add(r->out, s, n);
}

static void emit_cp(struct render *r, uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || cp == 0xA0 || cp == ' ') {
		r->pend_space = 1; /* &nbsp; and controls are blanks for scanning */
		return;
	}
	emit_pending(r);
	sb_add_cp(r->out, cp);
}

static int tag_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static const char *const block_tags[] = {
	"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
	"blockquote", "hr", "pre", "dl", "dt", "dd", "center", "section", "article", "header",
	"footer", "form", "address", "nav", "aside", "main", "figure", "figcaption", "fieldset",
	"legend", "caption", "thead", "tbody", "tfoot", "body", "html", NULL,
};

static const char *const url_attrs[] = {"href", "src", "action", "background", NULL};

/* An href/src value: entity-decoded, trimmed, then a web URL or mailto:. */
static void attr_url(struct render *r, const char *v, size_t n)
{
	struct sbuf t = {NULL, 0, 0, 0};
	size_t i = 0, a, b;

	if (n > ATTR_VALUE_MAX)
		n = ATTR_VALUE_MAX;
	while (i < n) {
		uint32_t cp;
		size_t used = v[i] == '&' ? html_entity(r, v, n, i, &cp) : 0;

		if (used > 0) {
			sb_add_cp(&t, cp);
			i += used;
		} else {
			sb_addc(&t, v[i++]);
		}
	}
	if (t.p == NULL || t.oom) {
		sb_free(&t);
		return;
	}
	for (a = 0; a < t.len && is_space((unsigned char)t.p[a]); a++)
		;
	for (b = t.len; b > a && is_space((unsigned char)t.p[b - 1]); b--)
		;
	if (starts_ci(t.p, b, a, "mailto:"))
		mailto_take(r->m, t.p + a + 7, b - a - 7);
	else if (starts_ci(t.p, b, a, "http://"))
		url_take(r->m, t.p, b, a, a + 7, 0, 1);
	else if (starts_ci(t.p, b, a, "https://"))
		url_take(r->m, t.p, b, a, a + 8, 0, 1);
	else if (starts_ci(t.p, b, a, "ftp://"))
		url_take(r->m, t.p, b, a, a + 6, 0, 1);
	else if (starts_ci(t.p, b, a, "//"))
		url_take(r->m, t.p, b, a, a + 2, 0, 1);
	else if (starts_ci(t.p, b, a, "www."))
		url_take(r->m, t.p, b, a, a, 1, 1);
	sb_free(&t);
}

/* Finds "</name" (any case) from s[j]; returns its offset or n. */
static size_t find_close_tag(const char *s, size_t n, size_t j, const char *name)
{
	size_t nl = strlen(name);

	while (j < n) {
		const char *lt = memchr(s + j, '<', n - j);

		if (lt == NULL)
			return n;
		j = (size_t)(lt - s);
		if (j + 1 < n && s[j + 1] == '/' && starts_ci(s, n, j + 2, name) &&
		    (j + 2 + nl >= n || !is_alnum((unsigned char)s[j + 2 + nl])))
			return j;
		j++;
	}
	return n;
}

/* A tag at s[i] == '<' followed by a letter or '/'.  Returns the offset after it. */
static size_t html_tag(struct render *r, const char *s, size_t n, size_t i)
{
	char tname[16];
	size_t j = i + 1, k = 0;
	int closing = 0;

	if (s[j] == '/') {
		closing = 1;
		j++;
	}
	while (j < n && (is_alnum((unsigned char)s[j]) || s[j] == '-' || s[j] == ':')) {
		if (k < sizeof tname - 1)
			tname[k++] = (char)to_lower((unsigned char)s[j]);
		else
			k = sizeof tname; /* too long to be one we know */
		j++;
	}
	if (k >= sizeof tname)
		k = 0;
	tname[k] = '\0';
	while (j < n) {
		char aname[16];
		size_t a, al;

		if (s[j] == '>') {
			j++;
			goto done;
		}
		if (is_space((unsigned char)s[j]) || s[j] == '/') {
			j++;
			continue;
		}
		a = j;
		while (j < n && !is_space((unsigned char)s[j]) && s[j] != '=' && s[j] != '>')
			j++;
		al = j - a;
		for (k = 0; k < al && k < sizeof aname - 1; k++)
			aname[k] = (char)to_lower((unsigned char)s[a + k]);
		aname[k] = '\0';
		while (j < n && is_space((unsigned char)s[j]))
			j++;
		if (j < n && s[j] == '=') {
			size_t va, vb;

			j++;
			while (j < n && is_space((unsigned char)s[j]))
				j++;
			if (j < n && (s[j] == '"' || s[j] == '\'')) {
				const char *q = memchr(s + j + 1, s[j], n - j - 1);

				if (q == NULL)
					return n; /* EOF inside a tag: the rest is no text */
				va = j + 1;
				vb = (size_t)(q - s);
				j = vb + 1;
			} else {
				va = j;
				while (j < n && !is_space((unsigned char)s[j]) && s[j] != '>')
					j++;
				vb = j;
			}
			if (!closing && al < sizeof aname && tag_in(aname, url_attrs))
				attr_url(r, s + va, vb - va);
		}
	}
	return n;
done:
	if (tname[0] == '\0')
		return j;
	if (tag_in(tname, block_tags))
		r->pend_nl = 1;
	else if (strcmp(tname, "td") == 0 || strcmp(tname, "th") == 0)
		r->pend_space = 1;
	if (!closing && (strcmp(tname, "script") == 0 || strcmp(tname, "style") == 0 ||
			 strcmp(tname, "title") == 0))
		return find_close_tag(s, n, j, tname);
	return j;
}

/* Renders UTF-8 HTML into text (see msg_text in msg.h) and collects the URLs
 * of its attributes. */
static void html_render(cr_msg *m, const char *s, size_t n, struct sbuf *out)
{
	struct render r;
	size_t i = 0;

	memset(&r, 0, sizeof r);
	r.m = m;
	r.out = out;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<') {
			if (starts_ci(s, n, i, "<!--")) {
				const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);

				i = e ? (size_t)(e - s) + 3 : n;
			} else if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?' ||
						 (s[i + 1] == '/' && (i + 2 >= n ||
								      !is_alpha((unsigned char)s[i + 2]))))) {
				const char *e = memchr(s + i + 1, '>', n - i - 1);

				i = e ? (size_t)(e - s) + 1 : n;
			} else if (i + 1 < n && (is_alpha((unsigned char)s[i + 1]) || s[i + 1] == '/')) {
				i = html_tag(&r, s, n, i);
			} else {
				emit_bytes(&r, "<", 1);
				i++;
			}
		} else if (c == '&') {
			uint32_t cp;
			size_t used = html_entity(&r, s, n, i, &cp);

			if (used > 0) {
				emit_cp(&r, cp);
				i += used;
			} else {
				emit_bytes(&r, "&", 1);
				i++;
			}
		} else if (is_space(c)) {
			r.pend_space = 1;
			i++;
		} else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			r.pend_space = 1;
			i += 2;
		} else {
			size_t e = i + 1;

			while (e < n && s[e] != '<' && s[e] != '&' && !is_space((unsigned char)s[e]) &&
			       (unsigned char)s[e] != 0xC2)
				e++;
			emit_bytes(&r, s + i, e - i);
			i = e;
		}
	}
	if (r.c1_state > 0)
		iconv_close(r.c1);
}

/* ------------------------------------------------------------------------ */
/* the MIME walk */

static int part_add(cr_msg *m, const struct ent *e, unsigned depth, int parent, size_t blen)
{
	struct part_rec *p;

	if (grow(&m->parts, &m->partcap, m->nparts, sizeof *m->parts) < 0) {
		m->oom = 1;
		return -1;
	}
	p = &m->parts[m->nparts];
	memset(p, 0, sizeof *p);
	util_strlcpy(p->ctype, e->ctype, sizeof p->ctype);
	util_strlcpy(p->charset, e->charset, sizeof p->charset);
	if (e->filename != NULL && (p->filename = strdup(e->filename)) == NULL)
		m->oom = 1;
	p->pub.depth = depth;
	p->pub.parent = parent;
	p->pub.is_attachment = e->attachment;
	p->pub.body_bytes = blen;
	p->pub.flags = e->flags;
	m->flags |= e->flags;
	return (int)m->nparts++;
}

/* Drops NULs, turns CRLF and lone CR into LF. */
static void text_cleanup(struct sbuf *b)
{
	size_t i, k = 0;

	for (i = 0; i < b->len; i++) {
		char c = b->p[i];

		if (c == '\0')
			continue;
		if (c == '\r') {
			if (i + 1 < b->len && b->p[i + 1] == '\n')
				continue;
			c = '\n';
		}
		b->p[k++] = c;
	}
	b->len = k;
	if (b->p)
		b->p[k] = '\0';
}

static void transfer_decode(const struct ent *e, const char *body, size_t len,
			    struct sbuf *out, unsigned *flags)
{
	int bad = 0;

	if (e->cte == CTE_BASE64)
		bad = b64_decode(body, len, out, 0);
	else if (e->cte == CTE_QP)
		bad = qp_decode(body, len, out);
	else
		sb_add(out, body, len);
	if (bad)
		*flags |= MSG_F_BAD_ENCODING;
}

/* A text/plain or text/html entity: transfer decoding, charset, HTML, NFC. */
static void handle_text(cr_msg *m, int idx, const struct ent *e, const char *body,
			size_t len, int html)
{
	struct sbuf dec = {NULL, 0, 0, 0}, u = {NULL, 0, 0, 0}, h = {NULL, 0, 0, 0}, *t;
	unsigned flags = 0;
	struct part_rec *p;
	int r;

	transfer_decode(e, body, len, &dec, &flags);
	r = conv_to_utf8(e->charset, strlen(e->charset), dec.p ? dec.p : "", dec.len, &u, 0);
	if (r == CONV_UNKNOWN) {
		/* keep what is UTF-8, mark the rest: guessing a charset would garble both */
		flags |= MSG_F_BAD_CHARSET;
		add_utf8_sanitised(&u, dec.p ? dec.p : "", dec.len);
	} else if (r != CONV_OK) {
		flags |= MSG_F_BAD_CHARSET;
	}
	sb_free(&dec);
	text_cleanup(&u);
	t = &u;
	if (html) {
		html_render(m, u.p ? u.p : "", u.len, &h);
		h.oom |= u.oom;
		sb_free(&u);
		t = &h;
	}
	nfc_inplace(t);
	if (t->oom)
		m->oom = 1;
	p = &m->parts[idx];
	p->text = sb_steal(t);
	if (p->text == NULL) {
		m->oom = 1;
		return;
	}
	p->pub.text_len = strlen(p->text);
	p->pub.is_text = 1;
	p->pub.is_html = html;
	p->pub.visible = !p->pub.is_attachment;
	p->pub.flags |= flags;
	m->flags |= flags;
	scan_links(m, p->text, p->pub.text_len, 0);
}

static void walk_entity(cr_msg *m, struct ent *e, const char *body, size_t len,
			unsigned depth, int parent);

/* Parses the header section of a child entity and walks it. */
static void walk_child(cr_msg *m, const char *s, size_t n, unsigned depth, int parent,
		       int digest)
{
	struct ent ce;
	size_t off;

	ent_init(&ce, digest);
	off = split_headers(s, n, part_field, &ce);
	walk_entity(m, &ce, s + off, n - off, depth, parent);
	free(ce.filename);
}

/* RFC 2046 5.1.2: of an alternative, show one.  Prefer the first child with
 * text/plain; failing that the last child with any text (the richest). */
static void choose_alternative(cr_msg *m, int idx)
{
	size_t end = m->nparts, c, k, chosen = SIZE_MAX, last_vis = SIZE_MAX;

	for (c = (size_t)idx + 1; c < end; c++) {
		int plain = 0, vis = 0;

		if (m->parts[c].pub.parent != idx)
			continue;
		for (k = c; k < end && (k == c || m->parts[k].pub.depth > m->parts[c].pub.depth); k++) {
			if (m->parts[k].pub.visible) {
				vis = 1;
				if (!m->parts[k].pub.is_html)
					plain = 1;
			}
		}
		if (plain && chosen == SIZE_MAX)
			chosen = c;
		if (vis)
			last_vis = c;
	}
	if (chosen == SIZE_MAX)
		chosen = last_vis;
	for (c = (size_t)idx + 1; c < end; c++) {
		if (m->parts[c].pub.parent != idx || c == chosen)
			continue;
		for (k = c; k < end && (k == c || m->parts[k].pub.depth > m->parts[c].pub.depth); k++)
			m->parts[k].pub.visible = 0;
	}
}

/* A body with a delimiter line "--boundary" or "--boundary--" (RFC 2046 5.1.1),
 * followed by nothing but blanks. */
static int delimiter_line(const char *s, size_t ls, size_t ce, const struct ent *e, int *close)
{
	size_t k;

	if (ce - ls < 2 + e->blen || s[ls] != '-' || s[ls + 1] != '-' ||
	    memcmp(s + ls + 2, e->boundary, e->blen) != 0)
		return 0;
	k = ls + 2 + e->blen;
	*close = 0;
	if (k + 2 <= ce && s[k] == '-' && s[k + 1] == '-') {
		*close = 1;
		k += 2;
	}
	for (; k < ce; k++)
		if (!is_wsp((unsigned char)s[k]))
			return 0;
	return 1;
}

static void walk_multipart(cr_msg *m, int idx, struct ent *e, const char *body, size_t len,
			   unsigned depth)
{
	size_t pos = 0, part_start = SIZE_MAX;
	int found = 0, closed = 0, stop = 0;
	int digest = strcmp(e->ctype, "multipart/digest") == 0;

	if (e->blen == 0) {
		m->flags |= MSG_F_BAD_MIME;
		m->parts[idx].pub.flags |= MSG_F_BAD_MIME;
		handle_text(m, idx, e, body, len, 0); /* don't let broken MIME hide text */
		return;
	}
	if (depth + 1 > m->lim.max_depth) {
		m->flags |= MSG_F_DEPTH_CAP;
		return;
	}
	while (pos < len && !stop) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - body) : len, next = nl ? le + 1 : len, ce = le;
		int close = 0;

		if (ce > pos && body[ce - 1] == '\r')
			ce--;
		if (delimiter_line(body, pos, ce, e, &close)) {
			found = 1;
			if (part_start != SIZE_MAX) {
				/* the line break before a delimiter belongs to it */
				size_t pe = pos;

				if (pe > part_start && body[pe - 1] == '\n')
					pe--;
				if (pe > part_start && body[pe - 1] == '\r')
					pe--;
				if (m->walked >= m->lim.max_parts) {
					m->flags |= MSG_F_PARTS_CAP;
					stop = 1;
					break;
				}
				m->walked++;
				walk_child(m, body + part_start, pe - part_start, depth + 1, idx, digest);
			}
			if (close) {
				closed = 1;
				break;
			}
			part_start = next;
		}
		pos = next;
	}
	if (!found) {
		m->flags |= MSG_F_BAD_MIME;
		m->parts[idx].pub.flags |= MSG_F_BAD_MIME;
		handle_text(m, idx, e, body, len, 0);
		return;
	}
	if (!closed && !stop) {
		m->flags |= MSG_F_BAD_MIME;
		m->parts[idx].pub.flags |= MSG_F_BAD_MIME;
		if (part_start != SIZE_MAX && part_start < len) {
			if (m->walked >= m->lim.max_parts) {
				m->flags |= MSG_F_PARTS_CAP;
			} else {
				m->walked++;
				walk_child(m, body + part_start, len - part_start, depth + 1, idx, digest);
			}
		}
	}
	if (strcmp(e->ctype, "multipart/alternative") == 0)
		choose_alternative(m, idx);
}

/* message/rfc822 (RFC 2046 5.2.1): the inner message is walked as a child. */
static void walk_message(cr_msg *m, int idx, struct ent *e, const char *body, size_t len,
			 unsigned depth)
{
	struct sbuf dec = {NULL, 0, 0, 0};
	const char *s = body;
	size_t n = len;

	if (depth + 1 > m->lim.max_depth) {
		m->flags |= MSG_F_DEPTH_CAP;
		return;
	}
	if (m->walked >= m->lim.max_parts) {
		m->flags |= MSG_F_PARTS_CAP;
		return;
	}
	m->walked++;
	if (e->cte != CTE_IDENTITY) { /* not allowed by RFC 2046, but seen */
		unsigned flags = 0;

		transfer_decode(e, body, len, &dec, &flags);
		m->flags |= flags;
		if (dec.oom) {
			m->oom = 1;
			sb_free(&dec);
			return;
		}
		s = dec.p ? dec.p : "";
		n = dec.len;
	}
	walk_child(m, s, n, depth + 1, idx, 0);
	sb_free(&dec);
}

static void walk_entity(cr_msg *m, struct ent *e, const char *body, size_t len,
			unsigned depth, int parent)
{
	int idx = part_add(m, e, depth, parent, len);

	if (idx < 0)
		return;
	if (strncmp(e->ctype, "multipart/", 10) == 0)
		walk_multipart(m, idx, e, body, len, depth);
	else if (strcmp(e->ctype, "message/rfc822") == 0 || strcmp(e->ctype, "message/global") == 0)
		walk_message(m, idx, e, body, len, depth);
	else if (strcmp(e->ctype, "text/plain") == 0)
		handle_text(m, idx, e, body, len, 0);
	else if (strcmp(e->ctype, "text/html") == 0)
		handle_text(m, idx, e, body, len, 1);
}

/* ------------------------------------------------------------------------ */
/* end of message, whole-message parsing */

int msg_end(cr_msg *m)
{
	struct ent e;
	size_t i;
	int html_vis = 0;

	if (m->state == ST_ENDED)
		return m->oom ? -1 : 0;
	m->state = ST_ENDED;
	ent_init(&e, 0);
	for (i = 0; i < m->nhdrs; i++)
		ent_field(&e, m->hdrs[i].name, strlen(m->hdrs[i].name), m->hdrs[i].raw,
			  strlen(m->hdrs[i].raw));
	walk_entity(m, &e, m->body.p ? m->body.p : "", m->body.len, 0, -1);
	free(e.filename);

	for (i = 0; i < m->nparts; i++) {
		struct part_rec *p = &m->parts[i];

		p->pub.content_type = p->ctype;
		p->pub.charset = p->charset;
		p->pub.filename = p->filename;
		p->pub.text = p->text;
		if (p->pub.visible && p->text != NULL) {
			if (m->text.len > 0 && m->text.p[m->text.len - 1] != '\n')
				sb_addc(&m->text, '\n');
			sb_add(&m->text, p->text, p->pub.text_len);
			if (p->pub.is_html)
				html_vis = 1;
		}
	}
	if (html_vis)
		m->flags |= MSG_F_HTML_ONLY;
	if (m->text.oom)
		m->oom = 1;
	m->text_len = m->text.len;
	m->text_final = sb_steal(&m->text);
	if (m->text_final == NULL)
		m->oom = 1;
	return m->oom ? -1 : 0;
}

const char *msg_text(const cr_msg *m, size_t *len)
{
	if (len)
		*len = m->text_final ? m->text_len : 0;
	return m->text_final ? m->text_final : "";
}

size_t msg_part_count(const cr_msg *m)
{
	return m->state == ST_ENDED ? m->nparts : 0;
}

const struct msg_part *msg_part_at(const cr_msg *m, size_t i)
{
	return (m->state == ST_ENDED && i < m->nparts) ? &m->parts[i].pub : NULL;
}

size_t msg_url_count(const cr_msg *m)
{
	return m->nurls;
}

const struct msg_url *msg_url_at(const cr_msg *m, size_t i)
{
	return i < m->nurls ? &m->urls[i].pub : NULL;
}

size_t msg_email_count(const cr_msg *m)
{
	return m->nemails;
}

const char *msg_email_at(const cr_msg *m, size_t i)
{
	return i < m->nemails ? m->emails[i] : NULL;
}

struct feed_ctx {
	cr_msg *m;
	int fail;
};

static void feed_field(void *ctx, const char *name, size_t nl, const char *val, size_t vl)
{
	struct feed_ctx *f = ctx;

	if (msg_header_n(f->m, name, nl, val, vl) < 0)
		f->fail = 1;
}

/* Headers and body of a whole message into m (without msg_end). */
static int feed_buffer(cr_msg *m, const char *s, size_t n)
{
	struct feed_ctx f = {m, 0};
	size_t off = 0;

	/* mbox "From sender date" separator line */
	if (n >= 5 && memcmp(s, "From ", 5) == 0) {
		const char *nl = memchr(s, '\n', n);

		off = nl ? (size_t)(nl - s) + 1 : n;
	}
	off += split_headers(s + off, n - off, feed_field, &f);
	if (f.fail)
		return -1;
	return msg_body(m, s + off, n - off);
}

cr_msg *msg_parse_buffer(const void *buf, size_t len, const struct msg_limits *lim,
			 char *err, size_t errlen)
{
	cr_msg *m = msg_new(lim);

	if (m == NULL || feed_buffer(m, buf, len) < 0 || msg_end(m) < 0) {
		util_errf(err, errlen, "message parser: out of memory");
		msg_free(m);
		return NULL;
	}
	return m;
}

cr_msg *msg_parse_file(const char *path, const struct msg_limits *lim, char *err,
		       size_t errlen)
{
	cr_msg *m = msg_new(lim);
	struct sbuf buf = {NULL, 0, 0, 0};
	size_t cap;
	int fd;

	if (m == NULL) {
		util_errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	cap = m->lim.max_header_bytes + m->lim.max_scan_bytes + 65536;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		msg_free(m);
		return NULL;
	}
	/* one byte past the cap tells a longer file */
	while (buf.len < cap + 1) {
		size_t want = cap + 1 - buf.len;
		ssize_t r;

		if (want > 65536)
			want = 65536;
		if (sb_reserve(&buf, want) < 0) {
			util_errf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		r = read(fd, buf.p + buf.len, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			util_errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		buf.len += (size_t)r;
	}
	close(fd);
	fd = -1;
	if (buf.len > cap) {
		buf.len = cap;
		m->flags |= MSG_F_SCAN_CAP;
	}
	if (feed_buffer(m, buf.p ? buf.p : "", buf.len) < 0 || msg_end(m) < 0) {
		util_errf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	sb_free(&buf);
	return m;
fail:
	if (fd >= 0)
		close(fd);
	sb_free(&buf);
	msg_free(m);
	return NULL;
}
