/* advert: Subject label (R1/R1a/R1b), advertising signals, advertiser block (R3),
 * opt-out section (R4) and List-Unsubscribe (R4h) over a parsed message.  Body
 * checks work on a folded copy of the text (lower case, no diacritics) so that
 * Vietnamese written with or without tone marks, NFD or NFC, matches one keyword
 * list.  See advert.h. */
#include "advert.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicase.h>
#include <uninorm.h>
#include <unictype.h>
#include <unistr.h>

#include "util.h"

/* ---- small helpers ------------------------------------------------------------- */

static int is_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Letters of other scripts count as word characters for boundaries. */
static int word_byte(unsigned char c)
{
	return is_ascii_alnum(c) || c >= 0x80;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The first occurrence of needle in s[0..n) standing as a word (its alphanumeric
 * ends are not glued to other word characters), or NULL. */
static const char *find_word(const char *s, size_t n, const char *needle)
{
	size_t nl = strlen(needle);
	const char *p = s, *last;

	if (nl == 0 || nl > n)
		return NULL;
	/* memchr + memcmp: the haystacks are short lines, where memmem's set-up
	 * cost dominates */
	last = s + n - nl;
	while (p <= last) {
		const char *hit = memchr(p, needle[0], (size_t)(last - p) + 1);
		if (hit == NULL)
			return NULL;
		if (memcmp(hit + 1, needle + 1, nl - 1) == 0) {
			int left_ok = hit == s || !word_byte((unsigned char)needle[0]) ||
				      !word_byte((unsigned char)hit[-1]);
			int right_ok = hit + nl == s + n || !word_byte((unsigned char)needle[nl - 1]) ||
				       !word_byte((unsigned char)hit[nl]);
			if (left_ok && right_ok)
				return hit;
		}
		p = hit + 1;
	}
	return NULL;
}

static int has_any(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (find_word(s, n, *words) != NULL)
			return 1;
	return 0;
}

static void add_item(char *buf, size_t len, const char *item)
{
	size_t used = strlen(buf);

	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

/* ---- folding ------------------------------------------------------------------- */

/* Per code point, no whole-text normalisation: ASCII (most of any mail) is copied
 * lower-cased; another code point is reduced to the first character of its
 * canonical decomposition, repeatedly (ệ -> ê -> e), which drops the diacritics
 * whether the text came precomposed (NFC) or decomposed (NFD: the marks alone are
 * skipped).  FOLD_SKIP: the code point is dropped. */
#define FOLD_SKIP ((ucs4_t)0xFFFFFFFFu)

static ucs4_t fold_cp(ucs4_t uc)
{
	for (int k = 0; k < 4; k++) {
		ucs4_t dec[UC_DECOMPOSITION_MAX_LENGTH];
		if (uc_canonical_decomposition(uc, dec) <= 0)
			break;
		uc = dec[0];
	}
	if (uc >= 0x300 && uc <= 0x36F)
		return FOLD_SKIP; /* combining diacritics: ă â ê ô ơ ư and the five tones */
	if (uc == 0x110 || uc == 0x111)
		return 'd';
	if (uc >= 0xFF01 && uc <= 0xFF5E)
		return uc_tolower(uc - 0xFEE0); /* full-width ASCII */
	if (uc == 0xA0 || uc == 0x3000)
		return ' ';
	return uc_tolower(uc);
}

/* fold_cp of the Latin letters and combining marks Vietnamese text is made of,
 * computed once: the decomposition lookups cost more than the rest of the
 * advertising rules together (bench/postfix_bench.sh PERF_CFG=chanrac). */
#define FOLD_LOW_END 0x370u
#define FOLD_HIGH_FIRST 0x1E00u
#define FOLD_HIGH_END 0x1F00u
static ucs4_t g_fold_low[FOLD_LOW_END - 0x80];
static ucs4_t g_fold_high[FOLD_HIGH_END - FOLD_HIGH_FIRST];
static pthread_once_t g_fold_once = PTHREAD_ONCE_INIT;

static void fold_init(void)
{
	for (ucs4_t c = 0x80; c < FOLD_LOW_END; c++)
		g_fold_low[c - 0x80] = fold_cp(c);
	for (ucs4_t c = FOLD_HIGH_FIRST; c < FOLD_HIGH_END; c++)
		g_fold_high[c - FOLD_HIGH_FIRST] = fold_cp(c);
}

char *advert_fold(const char *s, size_t len, size_t *outlen)
{
	size_t used = 0;
	char *out;

	if (outlen != NULL)
		*outlen = 0;
	out = malloc(len + 1); /* folding never grows: see the mappings below */
	if (out == NULL)
		return NULL;
	pthread_once(&g_fold_once, fold_init);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		ucs4_t uc;
		int n;

		if (c < 0x80) {
			out[used++] = c == '\t' || c == '\r' ? ' ' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
			i++;
			continue;
		}
		n = u8_mbtouc(&uc, (const uint8_t *)s + i, len - i);
		if (n <= 0)
			n = 1;
		if (uc >= 0x80 && uc < FOLD_LOW_END)
			uc = g_fold_low[uc - 0x80];
		else if (uc >= FOLD_HIGH_FIRST && uc < FOLD_HIGH_END)
			uc = g_fold_high[uc - FOLD_HIGH_FIRST];
		else
			uc = fold_cp(uc);
		if (uc == FOLD_SKIP) {
			i += (size_t)n;
			continue;
		}
		/* the result must not be longer than the input character */
		uint8_t tmp[6];
		int w = u8_uctomb(tmp, uc, sizeof(tmp));
		if (w <= 0 || w > n) {
			memcpy(out + used, s + i, (size_t)n);
			used += (size_t)n;
		} else {
			memcpy(out + used, tmp, (size_t)w);
			used += (size_t)w;
		}
		i += (size_t)n;
	}
	out[used] = '\0';
	if (outlen != NULL)
		*outlen = used;
	return out;
}

/* ---- R1: the label ------------------------------------------------------------- */

struct label_scan {
	size_t end;          /* offset after the closing bracket */
	int canonical;
	char why[120];
};

static ucs4_t cp_at(const char *s, size_t n, size_t i, int *len)
{
	ucs4_t uc = 0xFFFD;
	int l = u8_mbtouc(&uc, (const uint8_t *)s + i, n - i);

	*len = l > 0 ? l : 1;
	return uc;
}

static ucs4_t closer_of(ucs4_t open)
{
	switch (open) {
	case '[': return ']';
	case '(': return ')';
	case '{': return '}';
	case '<': return '>';
	case 0xFF3B: return 0xFF3D; /* ［ ］ */
	case 0x3010: return 0x3011; /* 【 】 */
	}
	return 0;
}

static int square_open(ucs4_t open)
{
	return open == '[' || open == 0xFF3B || open == 0x3010;
}

/* A label whose opening bracket is at s[i]: fills sc and returns 1, else 0. */
static int label_at(const char *s, size_t n, size_t i, struct label_scan *sc)
{
	char inner[48], letters[48];
	size_t k = 0, nl = 0, j, after;
	int l, fullwidth = 0, spaces = 0, lower = 0;
	ucs4_t open = cp_at(s, n, i, &l), close = closer_of(open);

	if (close == 0)
		return 0;
	j = i + (size_t)l;
	for (;;) {
		ucs4_t uc;
		if (j >= n)
			return 0;
		uc = cp_at(s, n, j, &l);
		j += (size_t)l;
		if (uc == close)
			break;
		if (uc >= 0xFF01 && uc <= 0xFF5E) {
			uc -= 0xFEE0;
			fullwidth = 1;
		}
		if (uc == ' ' || uc == '\t' || uc == 0xA0 || uc == 0x3000) {
			spaces = 1;
			uc = ' ';
		}
		if (uc >= 0x80 || k + 1 >= sizeof(inner))
			return 0;
		inner[k++] = (char)uc;
	}
	inner[k] = '\0';
	after = j;
	/* trim, then the letters of the label word */
	char *p = inner, *e = inner + k;
	while (*p == ' ')
		p++;
	while (e > p && e[-1] == ' ')
		e--;
	*e = '\0';
	for (j = 0; p[j] && nl + 1 < sizeof(letters); j++) {
		unsigned char c = (unsigned char)p[j];
		if (c == ' ')
			continue;
		letters[nl++] = (char)c;
	}
	letters[nl] = '\0';
	sc->why[0] = '\0';
	sc->end = 0;
	if (strcasecmp(letters, "QC") == 0 || strcasecmp(letters, "AD") == 0 ||
	    strcasecmp(letters, "ADV") == 0) {
		lower = strcmp(letters, "QC") != 0 && strcmp(letters, "AD") != 0 &&
			strcmp(letters, "ADV") != 0;
		if (strcasecmp(letters, "ADV") == 0)
			add_item(sc->why, sizeof(sc->why), "ADV instead of QC/AD");
	} else {
		/* legacy "[QC-1234]": label word, one separator, a code */
		size_t w = 0;
		while (p[w] && ((p[w] >= 'a' && p[w] <= 'z') || (p[w] >= 'A' && p[w] <= 'Z')))
			w++;
		if (!((w == 2 && (strncasecmp(p, "QC", 2) == 0 || strncasecmp(p, "AD", 2) == 0)) ||
		      (w == 3 && strncasecmp(p, "ADV", 3) == 0)))
			return 0;
		if (p[w] == '\0' || strchr(" -_:/.", p[w]) == NULL)
			return 0;
		const char *code = p + w + 1;
		while (*code == ' ')
			code++;
		if (*code == '\0')
			return 0;
		for (const char *c = code; *c; c++)
			if (!is_ascii_alnum((unsigned char)*c) && strchr("._/-", *c) == NULL)
				return 0;
		lower = strncmp(p, "QC", 2) != 0 && strncmp(p, "AD", 2) != 0;
		add_item(sc->why, sizeof(sc->why), "legacy management-code form");
		spaces = 0; /* the separator space is part of that form */
		for (const char *c = inner; c < p; c++)
			spaces = 1;
	}
	if (lower)
		add_item(sc->why, sizeof(sc->why), "not upper case");
	if (open != '[')
		add_item(sc->why, sizeof(sc->why),
			 open == '(' ? "brackets ( )" : open == '{' ? "brackets { }"
			 : open == '<' ? "brackets < >" : open == 0xFF3B ? "full-width brackets"
			 : "lenticular brackets");
	if (spaces)
		add_item(sc->why, sizeof(sc->why), "spaces inside the brackets");
	if (fullwidth)
		add_item(sc->why, sizeof(sc->why), "full-width letters");
	sc->canonical = sc->why[0] == '\0';
	sc->end = after;
	return 1;
}

static void copy_label(struct advert_label *out, const char *s, size_t a, size_t b)
{
	size_t n = b - a;

	if (n >= sizeof(out->text))
		n = sizeof(out->text) - 1;
	memcpy(out->text, s + a, n);
	out->text[n] = '\0';
}

/* "Re:", "Fwd[2]:", "TL :" at s[i]: returns the length (0 if none); *reply says
 * whether it is a reply prefix. */
static size_t prefix_at(const char *s, size_t n, size_t i, int *reply)
{
	static const struct {
		const char *w;
		int reply;
	} pre[] = { { "fwd", 0 }, { "fw", 0 }, { "re", 1 }, { "tl", 1 }, { "ct", 0 },
		    { "aw", 1 },  { "sv", 1 }, { "vs", 1 } };

	for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
		size_t wl = strlen(pre[k].w), j = i + wl;
		if (j > n || strncasecmp(s + i, pre[k].w, wl) != 0)
			continue;
		if (j < n && (s[j] == '[' || s[j] == '(')) {
			size_t m = j + 1;
			while (m < n && is_digit((unsigned char)s[m]))
				m++;
			if (m < n && m > j + 1 && (s[m] == ']' || s[m] == ')'))
				j = m + 1;
		}
		while (j < n && s[j] == ' ')
			j++;
		if (j < n && (s[j] == ':' || (unsigned char)s[j] == 0xEF)) {
			if (s[j] == ':') {
				j++;
			} else if (j + 2 < n && (unsigned char)s[j + 1] == 0xBC &&
				   (unsigned char)s[j + 2] == 0x9A) {
				j += 3; /* full-width colon */
			} else {
				continue;
			}
			*reply = pre[k].reply;
			return j - i;
		}
	}
	return 0;
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
		} else if ((unsigned char)s[i] == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			i += 2;
		} else if ((unsigned char)s[i] == 0xE3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			   (unsigned char)s[i + 2] == 0x80) {
			i += 3; /* ideographic space */
		} else {
			break;
		}
	}
	return i;
}

void advert_subject_label(const char *subject, int is_reply, struct advert_label *out)
{
	struct label_scan sc;
	size_t n, i, start;
	int any_prefix = 0, all_reply = 1;
	char first_prefix[16] = "";

	memset(out, 0, sizeof(*out));
	if (subject == NULL)
		return;
	n = strlen(subject);
	i = skip_space(subject, n, 0);
	for (int rounds = 0; rounds < 10; rounds++) {
		int reply = 0;
		size_t pl = prefix_at(subject, n, i, &reply);
		if (pl == 0)
			break;
		if (!any_prefix)
			snprintf(first_prefix, sizeof(first_prefix), "%.*s", (int)(pl < 12 ? pl : 12),
				 subject + i);
		any_prefix = 1;
		all_reply &= reply;
		i = skip_space(subject, n, i + pl);
	}
	start = i;
	if (label_at(subject, n, start, &sc)) {
		copy_label(out, subject, start, sc.end);
		if (!any_prefix || (is_reply && all_reply)) {
			out->quoted_reply = any_prefix;
			out->kind = sc.canonical ? ADVERT_LABEL_CANONICAL : ADVERT_LABEL_TOLERATED;
			util_strlcpy(out->why, sc.why, sizeof(out->why));
		} else {
			out->kind = ADVERT_LABEL_NOT_FIRST;
			snprintf(out->why, sizeof(out->why), "after '%s' in mail that is not a reply",
				 first_prefix);
		}
		return;
	}
	/* a square-bracketed label later in the Subject */
	for (i = start; i < n;) {
		int l;
		ucs4_t uc = cp_at(subject, n, i, &l);
		if (square_open(uc) && label_at(subject, n, i, &sc)) {
			size_t b = i;
			copy_label(out, subject, i, sc.end);
			out->kind = ADVERT_LABEL_NOT_FIRST;
			while (b > 0 && (subject[b - 1] == ' ' || subject[b - 1] == '\t'))
				b--;
			/* keep the quoted text short and whole characters only */
			size_t a = 0;
			if (b > 40) {
				a = b - 40;
				while (a < b && ((unsigned char)subject[a] & 0xC0) == 0x80)
					a++;
			}
			snprintf(out->why, sizeof(out->why), "after '%s%.*s'", a ? "..." : "",
				 (int)(b - a), subject + a);
			return;
		}
		i += (size_t)l;
	}
}

/* ---- detection ----------------------------------------------------------------- */

static const char *const optout_words[] = {
	"tu choi", "huy dang ky", "huy nhan", "ngung nhan", "ngung dang ky", "khong muon nhan",
	"unsubscribe", "opt out", "opt-out", "optout", "refuse", "stop receiving", NULL,
};

/* optout_words by language, for [advert] optout_languages = both (legacy rule) */
static const char *const optout_vi[] = {
	"tu choi", "huy dang ky", "huy nhan", "ngung nhan", "ngung dang ky", "khong muon nhan", NULL,
};
static const char *const optout_en[] = {
	"unsubscribe", "opt out", "opt-out", "optout", "refuse", "stop receiving", NULL,
};

static const char *const marketing_terms[] = {
	"khuyen mai", "giam gia", "uu dai", "mua ngay", "dat hang ngay", "dat mua",
	"mien phi van chuyen", "freeship", "ma giam gia", "voucher", "flash sale", "chi con",
	"gia chi", "gia soc", "qua tang", "dang ky ngay", "lien he ngay", "so luong co han",
	"hotline", "ban chay", "xa hang", "sale", "discount", "buy now", "shop now",
	"order now", "limited time", "special offer", "free shipping", "coupon", "promo code",
	"best price", "deal", "deals", "offer ends", "save up to", "new arrivals", "bestseller",
	"best seller", "clearance", NULL,
};

static const char *const esp_prefixes[] = {
	"x-mailgun-", "x-ses-", "x-mc-", "x-campaign", "x-sg-", "x-mailjet-", "x-csa-complaints",
	"x-mailin-", "x-sib-", "x-msfbl", "x-marketing", "x-mailchimp", "x-emarsys", "x-rpcampaign",
	NULL,
};

static const char *const esp_mailers[] = {
	"mailchimp", "sendgrid", "sendinblue", "brevo", "mailjet", "mailgun", "amazon ses",
	"getresponse", "klaviyo", "mautic", "phplist", "acumbamail", "emarsys", "campaign", NULL,
};

/* "199.000d", "1,5 trieu", "$20", "20 usd", "50%" */
static int find_price(const char *s, size_t n, int *percent)
{
	int price = 0;

	*percent = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '$' && i + 1 < n && is_digit((unsigned char)s[i + 1])) {
			price = 1;
			continue;
		}
		if (!is_digit((unsigned char)s[i]) || (i > 0 && word_byte((unsigned char)s[i - 1])))
			continue;
		size_t j = i;
		while (j < n && (is_digit((unsigned char)s[j]) ||
				 ((s[j] == '.' || s[j] == ',') && j + 1 < n &&
				  is_digit((unsigned char)s[j + 1]))))
			j++;
		if (j < n && s[j] == '%') {
			*percent = 1;
		} else {
			size_t k = j;
			while (k < n && s[k] == ' ')
				k++;
			static const char *const units[] = { "d", "vnd", "dong", "usd", "k", "trieu",
							     "\xe2\x82\xab", NULL };
			for (const char *const *u = units; *u; u++) {
				size_t ul = strlen(*u);
				if (k + ul <= n && memcmp(s + k, *u, ul) == 0 &&
				    (k + ul == n || !word_byte((unsigned char)s[k + ul]) ||
				     (*u)[0] == '\xe2')) {
					price = 1;
					break;
				}
			}
		}
		i = j;
	}
	return price;
}

static int tracking_url(const char *url)
{
	static const char *const marks[] = { "utm_", "mc_cid=", "mc_eid=", "/click", "/track",
					     "/trk/", "/wf/click", "/ls/click", "/open.", "/pixel",
					     NULL };
	static const char *const hosts[] = { "click.", "clicks.", "links.", "link.", "track.",
					     "tracking.", "t.", "trk.", "email.", "em.", NULL };
	const char *h = strstr(url, "://");

	for (const char *const *m = marks; *m; m++)
		if (strcasestr(url, *m) != NULL)
			return 1;
	if (h != NULL) {
		h += 3;
		for (const char *const *m = hosts; *m; m++)
			if (strncasecmp(h, *m, strlen(*m)) == 0)
				return 1;
	}
	return 0;
}

void advert_signals(const cr_msg *m, const char *folded, struct advert_signals *out)
{
	char item[48];
	size_t fl = folded ? strlen(folded) : 0, nurls, ntrack = 0, terms = 0;
	int percent = 0;
	const char *v;
	char *subj = NULL;

	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return;
	if (msg_header_count(m, "List-Unsubscribe") > 0) {
		out->bulk++;
		add_item(out->why, sizeof(out->why), "list-unsubscribe");
	}
	if (msg_header_count(m, "List-Unsubscribe-Post") > 0) {
		out->bulk++;
		add_item(out->why, sizeof(out->why), "one-click");
	}
	v = msg_header_value(m, "Precedence", 0);
	if (v != NULL && strcasestr(v, "bulk") != NULL) {
		out->bulk++;
		add_item(out->why, sizeof(out->why), "precedence-bulk");
	}
	if (msg_header_count(m, "Feedback-ID") > 0) {
		out->bulk++;
		add_item(out->why, sizeof(out->why), "feedback-id");
	}
	int esp = 0;
	for (size_t i = 0; i < msg_header_total(m) && !esp; i++) {
		const struct msg_header_field *f = msg_header_at(m, i);
		for (const char *const *p = esp_prefixes; *p && !esp; p++)
			esp = strncasecmp(f->name, *p, strlen(*p)) == 0;
		if (!esp && strcasecmp(f->name, "X-Mailer") == 0)
			for (const char *const *p = esp_mailers; *p && !esp; p++)
				esp = strcasestr(f->value, *p) != NULL;
	}
	if (esp) {
		out->bulk++;
		add_item(out->why, sizeof(out->why), "esp-headers");
	}

	/* the body, and the Subject for the marketing terms */
	if (msg_subject(m) != NULL)
		subj = advert_fold(msg_subject(m), strlen(msg_subject(m)), NULL);
	if (folded != NULL && has_any(folded, fl, optout_words)) {
		out->marketing++;
		add_item(out->why, sizeof(out->why), "opt-out-wording");
	}
	for (const char *const *t = marketing_terms; *t; t++)
		if ((folded && find_word(folded, fl, *t)) || (subj && find_word(subj, strlen(subj), *t)))
			terms++;
	int price = (folded && find_price(folded, fl, &percent));
	int sp = 0;
	if (subj != NULL) {
		price |= find_price(subj, strlen(subj), &sp);
		percent |= sp;
	}
	terms += (size_t)percent;
	if (terms > 0) {
		out->marketing += terms > 3 ? 3 : (int)terms;
		snprintf(item, sizeof(item), "marketing-terms=%zu", terms);
		add_item(out->why, sizeof(out->why), item);
	}
	if (price) {
		out->marketing++;
		add_item(out->why, sizeof(out->why), "prices");
	}
	nurls = msg_url_count(m);
	for (size_t i = 0; i < nurls; i++)
		ntrack += (size_t)tracking_url(msg_url_at(m, i)->url);
	if (ntrack > 0) {
		out->marketing++;
		snprintf(item, sizeof(item), "tracking-links=%zu", ntrack);
		add_item(out->why, sizeof(out->why), item);
	}
	if (nurls >= 8) {
		out->marketing++;
		snprintf(item, sizeof(item), "urls=%zu", nurls);
		add_item(out->why, sizeof(out->why), item);
	}
	free(subj);
}

int advert_is_advertising(const struct advert_signals *s, int threshold)
{
	return s->marketing >= 2 && s->bulk + s->marketing >= threshold;
}

/* ---- R3 / R4 --------------------------------------------------------------------- */

struct line {
	const char *p;
	size_t n;
};

/* Lines of the end of the body looked at (the "elsewhere" of R3 reasons too). */
#define MAX_LINES 1000

static int has_url(const char *s, size_t n)
{
	static const char *const social[] = { "facebook.com/", "fb.com/", "zalo.me/", "m.me/",
					      "instagram.com/", "twitter.com/", "x.com/",
					      "linkedin.com/", "youtube.com/", "tiktok.com/", NULL };
	if (memmem(s, n, "http://", 7) || memmem(s, n, "https://", 8) || find_word(s, n, "www"))
		return 1;
	for (const char *const *p = social; *p; p++)
		if (memmem(s, n, *p, strlen(*p)))
			return 1;
	return 0;
}

static int local_byte(unsigned char c)
{
	return is_ascii_alnum(c) || strchr("._%+-'", c) != NULL;
}

/* An addr-spec "x@y.z" written in the text. */
static int has_email(const char *s, size_t n)
{
	for (size_t i = 1; i + 3 < n; i++) {
		if (s[i] != '@' || !local_byte((unsigned char)s[i - 1]))
			continue;
		size_t j = i + 1, dots = 0, last_dot = 0;
		while (j < n && (is_ascii_alnum((unsigned char)s[j]) || s[j] == '-' || s[j] == '.')) {
			if (s[j] == '.') {
				dots++;
				last_dot = j;
			}
			j++;
		}
		if (dots > 0 && last_dot > i + 1 && last_dot + 2 < j + 1 &&
		    j - last_dot >= 3)
			return 1;
	}
	return 0;
}

/* A phone number: "+84 ...", "0..." with 9-11 digits, or 1800/1900 numbers, with
 * single spaces, dots, dashes or parentheses between digit groups. */
static int has_phone(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '+' || is_digit(c) || c == '('))
			continue;
		if (i > 0 && (word_byte((unsigned char)s[i - 1]) || strchr("/=@.&?#_-", s[i - 1])))
			continue;
		char digits[24];
		size_t nd = 0, j = i;
		int plus = c == '+';
		if (plus)
			j++;
		while (j < n && nd < sizeof(digits) - 1) {
			if (is_digit((unsigned char)s[j])) {
				digits[nd++] = s[j++];
			} else if ((s[j] == ' ' || s[j] == '.' || s[j] == '-' || s[j] == '(' ||
				    s[j] == ')') &&
				   j + 1 < n && (is_digit((unsigned char)s[j + 1]) || s[j + 1] == '(' ||
						 (s[j] == ')' && s[j + 1] == ' '))) {
				j++;
			} else {
				break;
			}
		}
		digits[nd] = '\0';
		if (j < n && word_byte((unsigned char)s[j]) && !is_digit((unsigned char)s[j])) {
			i = j;
			continue; /* "0912abc" is no number */
		}
		if (plus && nd >= 8 && nd <= 15)
			return 1;
		if (!plus && digits[0] == '0' && nd >= 9 && nd <= 11)
			return 1;
		if (!plus && (strncmp(digits, "1800", 4) == 0 || strncmp(digits, "1900", 4) == 0) &&
		    nd >= 8 && nd <= 10 && is_digit((unsigned char)s[i + 3]))
			return 1;
		if (j > i)
			i = j - 1;
	}
	return 0;
}

static const char *const name_words[] = {
	"cong ty", "cty", "company", "co.,", "co.", "ltd", "ltd.", "jsc", "inc", "inc.", "corp",
	"corporation", "llc", "tnhh", "co phan", "cua hang", "doanh nghiep", "nha quang cao",
	"advertiser", "tap doan", "chi nhanh", "ho kinh doanh", NULL,
};

/* A company form word anywhere, or a "Tên:" / "Name:" line. */
static int has_name(const char *s, size_t n)
{
	if (has_any(s, n, name_words) || find_word(s, n, "don vi quang cao"))
		return 1;
	for (const char *t = s; t < s + n;) {
		const char *e = memchr(t, '\n', (size_t)(s + n - t));
		const char *le = e ? e : s + n;
		while (t < le && *t == ' ')
			t++;
		if ((le - t > 4 && (strncmp(t, "ten:", 4) == 0 || strncmp(t, "ten ", 4) == 0)) ||
		    (le - t > 5 && strncmp(t, "name:", 5) == 0))
			return 1;
		t = e ? e + 1 : s + n;
	}
	return 0;
}

/* "địa chỉ" / "address" / "trụ sở" that is not "địa chỉ email", "email address"... */
static int has_address_word(const char *s, size_t n)
{
	static const char *const kw[] = { "dia chi", "address", "tru so", NULL };

	for (const char *const *k = kw; *k; k++) {
		const char *p = s;
		while ((p = find_word(p, (size_t)(s + n - p), *k)) != NULL) {
			const char *after = p + strlen(*k);
			size_t rest = (size_t)(s + n - after);
			int not_postal = (rest >= 4 && (strncmp(after, " email", rest < 6 ? rest : 6) == 0 ||
							strncmp(after, " e-mail", rest < 7 ? rest : 7) == 0 ||
							strncmp(after, " thu", 4) == 0 ||
							strncmp(after, " web", 4) == 0 ||
							strncmp(after, " ip", 3) == 0)) ||
					 (p - s >= 6 && strncmp(p - 6, "email ", 6) == 0) ||
					 (p - s >= 4 && strncmp(p - 4, "web ", 4) == 0) ||
					 (p - s >= 7 && strncmp(p - 7, "e-mail ", 7) == 0);
			if (!not_postal)
				return 1;
			p = after;
		}
	}
	return 0;
}

/* One line with a number and two street/ward/district/city words. */
static int address_line(const char *s, size_t n)
{
	static const char *const markers[] = {
		"duong", "pho", "phuong", "quan", "huyen", "tinh", "thanh pho", "tp.", "tp",
		"street", "st.", "road", "rd.", "avenue", "ward", "district", "city", "province",
		"viet nam", "vietnam", "ha noi", "ho chi minh", "hcm", "da nang", "floor",
		"building", "toa nha", NULL,
	};
	int found = 0;

	int digit = 0;
	for (size_t i = 0; i < n && !digit; i++)
		digit = is_digit((unsigned char)s[i]);
	if (!digit)
		return 0;
	for (const char *const *k = markers; *k && found < 2; k++)
		found += find_word(s, n, *k) != NULL;
	return found >= 2;
}

static int has_address(const char *s, size_t n)
{
	if (has_address_word(s, n))
		return 1;
	for (const char *t = s; t < s + n;) {
		const char *e = memchr(t, '\n', (size_t)(s + n - t));
		size_t ln = (size_t)((e ? e : s + n) - t);
		if (address_line(t, ln))
			return 1;
		t = e ? e + 1 : s + n;
	}
	return 0;
}

static int statement_in(const char *s, size_t n)
{
	static const char *const verbs[] = { "tu choi", "huy dang ky", "ngung nhan",
					     "khong muon nhan", "unsubscribe", "opt out", "opt-out",
					     "refuse", "stop receiving", NULL };
	/* folded "mọi" is also "mới" (new): only in phrases */
	static const char *const scope[] = { "quyen", "tat ca", "toan bo", "moi quang cao",
					     "moi thu", "moi thong tin", "moi san pham", "moi email",
					     "moi tin", "bat ky", "right", "all", "any", "entitled",
					     NULL };
	return has_any(s, n, verbs) && has_any(s, n, scope);
}

static int is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->p[i] != ' ')
			return 0;
	return 1;
}

/* HTML link targets are not in the rendered text (see advert.h). */
static void html_channels(const cr_msg *m, const char *sec, size_t sn, const char *folded,
			  size_t fl, struct advert_layout *out)
{
	static const char *const link_words[] = { "tai day", "o day", "here", "click", "nhan vao",
						  "bam vao", "nhap vao", "link", "lien ket", "website",
						  "web", "trang", "facebook", "zalo", "page", NULL };
	static const char *const page_marks[] = { "unsub", "opt-out", "optout", "opt_out",
						  "huy-dang-ky", "huydangky", "huy_dang_ky",
						  "tu-choi", "tuchoi", "preferences", "remove",
						  "facebook.com", "fb.com", "zalo.me", "instagram.com",
						  "twitter.com", "linkedin.com", NULL };
	static const char *const mail_words[] = { "email", "e-mail", "thu", "mail", NULL };

	if (m == NULL)
		return;
	if (!out->web && has_any(sec, sn, link_words)) {
		for (size_t i = 0; i < msg_url_count(m) && !out->web; i++) {
			const struct msg_url *u = msg_url_at(m, i);
			if (!u->in_html)
				continue;
			for (const char *const *p = page_marks; *p && !out->web; p++)
				out->web = strcasestr(u->url, *p) != NULL;
		}
	}
	if (!out->email && has_any(sec, sn, mail_words)) {
		for (size_t i = 0; i < msg_email_count(m) && !out->email; i++) {
			const char *e = msg_email_at(m, i);
			out->email = memmem(folded, fl, e, strlen(e)) == NULL;
		}
	}
}

/* The block elements in the text from lines[a] to lines[b - 1] (one range: most
 * checks cost per call, not per byte). */
static void scan_block(const struct line *lines, size_t a, size_t b, int *name, int *phone,
		       int *email, int *addr)
{
	const char *s;
	size_t n;

	if (a >= b)
		return;
	s = lines[a].p;
	n = (size_t)(lines[b - 1].p + lines[b - 1].n - s);
	*name |= has_name(s, n);
	*phone |= has_phone(s, n);
	*email |= has_email(s, n);
	*addr |= has_address(s, n);
}

void advert_layout(const char *folded, size_t len, const cr_msg *m, struct advert_layout *out)
{
	struct line *lines;
	size_t nl = 0, k, s, tail, first, last, sec_end;
	int found_k = 0;

	memset(out, 0, sizeof(*out));
	if (folded == NULL)
		return;
	lines = malloc(sizeof(*lines) * MAX_LINES);
	if (lines == NULL)
		return;
	/* the last MAX_LINES non-empty lines, collected from the end */
	for (const char *end = folded + len; end > folded && nl < MAX_LINES;) {
		const char *nlp = memrchr(folded, '\n', (size_t)(end - folded));
		const char *p = nlp ? nlp + 1 : folded;
		struct line l = { p, (size_t)(end - p) };
		if (!is_blank(&l))
			lines[nl++] = l;
		end = nlp ? nlp : folded;
	}
	for (size_t a = 0, b = nl; a + 1 < b; a++, b--) {
		struct line t = lines[a];
		lines[a] = lines[b - 1];
		lines[b - 1] = t;
	}
	tail = nl > ADVERT_TAIL_LINES ? nl - ADVERT_TAIL_LINES : 0;
	/* the last line with opt-out wording (one pass per word over the whole
	 * range, then the line holding the last hit), then earlier ones close to it */
	if (nl > 0) {
		const char *a = lines[0].p, *end = lines[nl - 1].p + lines[nl - 1].n, *lastp = NULL;
		for (const char *const *w = optout_words; *w; w++)
			for (const char *p = a; (p = find_word(p, (size_t)(end - p), *w)) != NULL; p++)
				if (lastp == NULL || p > lastp)
					lastp = p;
		if (lastp != NULL) {
			size_t lo = 0, hi = nl; /* the last line starting at or before lastp */
			while (hi - lo > 1) {
				size_t mid = (lo + hi) / 2;
				if (lines[mid].p <= lastp)
					lo = mid;
				else
					hi = mid;
			}
			k = lo + 1;
			found_k = 1;
		}
	}
	if (found_k && k - 1 < tail) {
		out->optout_elsewhere = 1;
		found_k = 0;
	}
	if (found_k) {
		last = k - 1;
		first = last;
		for (size_t j = last; j > tail && last - (j - 1) <= ADVERT_SECTION_MAX_LINES; j--)
			if (has_any(lines[j - 1].p, lines[j - 1].n, optout_words))
				first = j - 1;
		s = first;
		out->optout_found = 1;
		out->optout_at_end = nl - 1 - last < ADVERT_SECTION_MAX_LINES;
		sec_end = out->optout_at_end ? nl : last + 1 + 4;
		if (sec_end > nl)
			sec_end = nl;
		/* the section as one string: a sentence may be wrapped over lines */
		size_t a = (size_t)(lines[s].p - folded);
		size_t b = (size_t)(lines[sec_end - 1].p + lines[sec_end - 1].n - folded);
		const char *sec = folded + a;
		size_t sn = b - a;
		out->statement = statement_in(sec, sn);
		out->vi_wording = has_any(sec, sn, optout_vi);
		out->en_wording = has_any(sec, sn, optout_en);
		out->web = has_url(sec, sn);
		out->email = has_email(sec, sn);
		out->phone = has_phone(sec, sn);
		html_channels(m, sec, sn, folded, len, out);
	} else {
		s = nl;
	}
	scan_block(lines, s > ADVERT_BLOCK_LINES ? s - ADVERT_BLOCK_LINES : 0, s, &out->name,
		   &out->block_phone, &out->block_email, &out->address);
	/* the rest of the body only matters for the reason of an incomplete block */
	out->any_name = out->name;
	out->any_phone = out->block_phone;
	out->any_email = out->block_email;
	out->any_address = out->address;
	if (!(out->name && out->block_phone && out->block_email && out->address))
	{
		/* whole-range checks only: the per-line address markers are for the block */
		const char *a = nl ? lines[0].p : folded;
		size_t n = nl ? (size_t)(lines[nl - 1].p + lines[nl - 1].n - a) : 0;
		out->any_name |= has_name(a, n);
		out->any_phone |= has_phone(a, n);
		out->any_email |= has_email(a, n);
		out->any_address |= has_address_word(a, n);
	}
	free(lines);
}

void advert_block_missing(const struct advert_layout *l, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (!l->name)
		add_item(buf, len, "name");
	if (!l->block_phone)
		add_item(buf, len, "phone");
	if (!l->block_email)
		add_item(buf, len, "email");
	if (!l->address)
		add_item(buf, len, "postal address");
}

void advert_optout_missing(const struct advert_layout *l, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (!l->statement)
		add_item(buf, len, "right-to-refuse statement");
	if (!l->web)
		add_item(buf, len, "web/social link");
	if (!l->email)
		add_item(buf, len, "email address");
	if (!l->phone)
		add_item(buf, len, "phone number");
}

/* ---- R4h --------------------------------------------------------------------------- */

static int mailto_ok(const char *u, size_t n)
{
	const char *at = memchr(u, '@', n), *q;
	size_t dn;

	if (at == NULL || at == u)
		return 0;
	q = memchr(at, '?', (size_t)(u + n - at));
	dn = (size_t)((q ? q : u + n) - at - 1);
	if (dn < 3 || memchr(at + 1, '.', dn) == NULL)
		return 0;
	for (const char *c = at + 1; c < at + 1 + dn; c++)
		if (!is_ascii_alnum((unsigned char)*c) && *c != '.' && *c != '-')
			return 0;
	return 1;
}

static int host_ok(const char *u, size_t n)
{
	size_t h = 0;

	while (h < n && u[h] != '/' && u[h] != '?' && u[h] != '#')
		h++;
	if (h == 0)
		return 0;
	for (size_t i = 0; i < h; i++)
		if (!is_ascii_alnum((unsigned char)u[i]) && strchr(".-:[]", u[i]) == NULL)
			return 0;
	return memchr(u, '.', h) != NULL || memchr(u, ':', h) != NULL;
}

void advert_unsub_check(const char *lu, size_t nlu, const char *post, size_t npost,
			struct advert_unsub *out)
{
	memset(out, 0, sizeof(*out));
	out->present = nlu > 0 && lu != NULL;
	out->post_present = npost > 0 && post != NULL;
	if (!out->present) {
		util_strlcpy(out->why, "no List-Unsubscribe", sizeof(out->why));
		if (out->post_present)
			util_strlcpy(out->why, "List-Unsubscribe-Post without List-Unsubscribe",
				     sizeof(out->why));
		return;
	}
	for (const char *p = lu; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p != '<') {
			out->malformed = 1;
			break;
		}
		const char *e = strchr(p, '>');
		if (e == NULL) {
			out->malformed = 1;
			break;
		}
		const char *u = p + 1;
		size_t n = (size_t)(e - u);
		while (n > 0 && (*u == ' ')) {
			u++;
			n--;
		}
		if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
			if (mailto_ok(u + 7, n - 7))
				out->mailto++;
			else
				out->malformed = 1;
		} else if (n > 8 && strncasecmp(u, "https://", 8) == 0) {
			if (host_ok(u + 8, n - 8))
				out->https++;
			else
				out->malformed = 1;
		} else if (n > 7 && strncasecmp(u, "http://", 7) == 0) {
			if (host_ok(u + 7, n - 7))
				out->http++;
			else
				out->malformed = 1;
		} else {
			out->malformed = 1;
		}
		p = e + 1;
		/* RFC 2369: entries are separated by commas; comments may follow */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '(') {
			const char *c = strchr(p, ')');
			p = c ? c + 1 : p + strlen(p);
		}
	}
	if (nlu > 1)
		add_item(out->why, sizeof(out->why), "several List-Unsubscribe fields");
	if (out->malformed)
		add_item(out->why, sizeof(out->why), "List-Unsubscribe malformed (RFC 2369: <URI>, ...)");
	if (out->mailto == 0 && out->https == 0)
		add_item(out->why, sizeof(out->why),
			 out->http ? "List-Unsubscribe has only http:, no mailto: or https: URI"
				   : "List-Unsubscribe has no usable mailto: or https: URI");
	if (out->post_present) {
		const char *v = post;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t vl = strlen(v);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		int value_ok = vl == 26 && strncmp(v, "List-Unsubscribe=One-Click", 26) == 0;
		out->post_valid = value_ok && npost == 1 && out->https > 0;
		if (!value_ok || npost != 1)
			add_item(out->why, sizeof(out->why),
				 "List-Unsubscribe-Post is not one List-Unsubscribe=One-Click (RFC 8058)");
		else if (out->https == 0)
			add_item(out->why, sizeof(out->why), "one-click without an https: URI (RFC 8058)");
	}
}
