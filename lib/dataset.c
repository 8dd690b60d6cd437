/* dataset: reading and writing list files — the rbldnsd dataset formats (ip4set,
 * ip4trie, ip6trie, dnset) so lists can move between chanrac and rbldnsd, and
 * chanrac's own plain "KIND VALUE CODE REASON" format.  Built for bulk loads:
 * one buffered pass, no allocation per line.
 *
 * What the rbldnsd readers accept (after rbldnsd(8), "DATASET TYPES AND FORMATS"):
 *   - blank lines; lines starting with '#' or ';' (comments); lines starting
 *     with '$' ($SOA, $NS, $TTL, $DATASET, $TIMESTAMP, $MAXRANGE4, $n, $=) are
 *     directives for the server and are skipped;
 *   - ":A:TXT" or ":A" on a line of its own: the default value for the entries
 *     after it (":A" keeps the default TXT); in ip6trie a line starting "::" is
 *     an entry (an address), as in rbldnsd;
 *   - an entry, optionally preceded by "!" (an exclusion, whose value is
 *     ignored), then optionally whitespace and a value:
 *         ":A:TXT"   code and text;   ":A"   code, default text;
 *         "TXT"      default code, this text;  "# ..." or "; ..."  a comment.
 *     A is "127.0.0.N" or "N" (meaning 127.0.0.N) and cannot be empty.
 *     Leading space of TXT and trailing space of the line are dropped.
 *   - ip4set entries: "a.b.c.d", the short forms "a.b.c" (/24), "a.b" (/16),
 *     "a" (/8); "a.b.c.d/n" and short "a.b/n"; ranges "A-B" where B is a full or
 *     short address completed with 255s, or one octet replacing the last octet
 *     given in A ("1.2.3.4-10" = 1.2.3.4-1.2.3.10, "127.16-31" =
 *     127.16.0.0-127.31.255.255); a range becomes its covering CIDRs.
 *   - ip4trie entries: the ip4set forms except ranges.
 *   - ip6trie entries: an IPv6 address or "addr/n"; trailing zero groups may be
 *     left out without "::" ("2001:db8:1/48"), and then a missing length is 16
 *     per group given ("2001:db8:1:2" = 2001:db8:1:2::/64).  IPv4-mapped
 *     addresses (::ffff:7f00:2) are IPv4 entries, as everywhere in chanrac.
 *   - dnset entries: "name", "*.name" (subdomains only), ".name" (the name and
 *     its subdomains: two entries).  Names are normalised as dname_normalise
 *     does (IDN allowed); an all-numeric name is refused because its key
 *     would read back as an address.
 * Entries must be separated from their value by whitespace; a TXT is at most 255
 * bytes of UTF-8 (rbldnsd would truncate; we refuse). */
#include "dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "util.h"

#define LINE_MAX_BYTES 4096
#define READ_BUF (64 * 1024)

int dataset_format_parse(const char *name)
{
	static const char *const names[] = { "plain", "ip4set", "ip4trie", "ip6trie", "dnset" };

	for (size_t i = 0; name != NULL && i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *dataset_format_name(enum dataset_format f)
{
	switch (f) {
	case DATASET_PLAIN: return "plain";
	case DATASET_IP4SET: return "ip4set";
	case DATASET_IP4TRIE: return "ip4trie";
	case DATASET_IP6TRIE: return "ip6trie";
	case DATASET_DNSET: return "dnset";
	}
	return "unknown";
}

/* ---- buffered line reader ---------------------------------------------- */

struct line_reader {
	FILE *f;
	size_t start, end;
	bool eof;
	char buf[READ_BUF];
};

/* 1 and a NUL-terminated line (without its newline), 0 at end of file,
 * -1 line too long, -2 read error. */
static int read_line(struct line_reader *r, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);

		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			*nl = '\0';
			r->start = (size_t)(nl - r->buf) + 1;
			return *len > LINE_MAX_BYTES ? -1 : 1;
		}
		if (r->end - r->start > LINE_MAX_BYTES)
			return -1;
		if (r->eof) {
			if (r->end == r->start)
				return 0;
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->buf[r->end] = '\0'; /* room kept by the fread below */
			r->start = r->end;
			return 1;
		}
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		size_t n = fread(r->buf + r->end, 1, sizeof r->buf - r->end - 1, r->f);
		if (n == 0) {
			if (ferror(r->f))
				return -2;
			r->eof = true;
		}
		r->end += n;
	}
}

/* ---- parser state ------------------------------------------------------- */

struct parser {
	const char *name;
	enum dataset_format fmt;
	dataset_entry_fn fn;
	void *ud;
	char *err;
	size_t errlen;
	unsigned line;
	uint32_t def_code;
	char def_reason[LISTING_REASON_MAX + 1];
	struct listing_entry e;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	util_errf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static char *skip_space(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* Splits off the first whitespace-delimited word of s; returns the rest. */
static char *cut_word(char *s)
{
	while (*s != '\0' && !is_space(*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	return skip_space(s);
}

/* Validates a TXT/reason and stores it, tabs turned into spaces. */
static int set_reason(struct parser *p, char *dst, const char *txt)
{
	size_t n = strlen(txt);

	if (n > LISTING_REASON_MAX)
		return fail(p, "text is %zu bytes long (a TXT string holds at most %d)", n,
			    LISTING_REASON_MAX);
	if (u8_check((const uint8_t *)txt, n) != NULL)
		return fail(p, "text \"%.60s\" is not valid UTF-8", txt);
	memcpy(dst, txt, n + 1);
	listing_clean_text(dst, LISTING_REASON_MAX);
	return 0;
}

/* Parses an rbldnsd value (see the top of this file) into code and reason. */
static int parse_value(struct parser *p, char *v, uint32_t *code, char *reason)
{
	char cerr[160];

	if (*v != ':') {
		*code = p->def_code;
		return set_reason(p, reason, v);
	}
	char *a = v + 1, *after = a;
	while (*after != '\0' && *after != ':' && !is_space(*after))
		after++;
	char sep = *after;
	*after = '\0';
	if (*a == '\0')
		return fail(p, "missing return code after ':' (want :A:TXT)");
	if (listing_parse_code(a, code, cerr, sizeof cerr) < 0)
		return fail(p, "%s", cerr);
	if (sep == '\0') {
		memcpy(reason, p->def_reason, strlen(p->def_reason) + 1);
		return 0;
	}
	char *rest = after + 1;
	if (sep != ':') {
		rest = skip_space(rest);
		if (*rest == '\0') {
			memcpy(reason, p->def_reason, strlen(p->def_reason) + 1);
			return 0;
		}
		if (*rest != ':') {
			*after = sep;
			return fail(p, "unrecognised value \"%.60s\" (want :A:TXT)", v);
		}
		rest++;
	}
	return set_reason(p, reason, skip_space(rest));
}

static int emit(struct parser *p)
{
	return p->fn(p->ud, &p->e, p->line);
}

/* Resets the entry for a line: kind and key are filled in by the caller. */
static void entry_begin(struct parser *p, bool exclude)
{
	struct listing_entry *e = &p->e;

	e->exclude = exclude;
	e->name[0] = '\0';
	memset(&e->prefix, 0, sizeof e->prefix);
	e->code = LISTING_CODE_DEFAULT;
	e->added = 0;
	e->expires = 0;
	e->source[0] = '\0';
	e->reason[0] = '\0';
}

/* ---- IPv4 -------------------------------------------------------------- */

/* One to four dotted decimal octets, left-aligned in *v; count in *n. */
static int parse_octets(const char *s, const char *end, uint32_t *v, unsigned *n)
{
	uint32_t acc = 0;
	unsigned count = 0;

	for (;;) {
		unsigned octet = 0, digits = 0;

		while (s < end && *s >= '0' && *s <= '9') {
			if (digits > 0 && octet == 0)
				return -1;
			octet = octet * 10 + (unsigned)(*s - '0');
			if (++digits > 3 || octet > 255)
				return -1;
			s++;
		}
		if (digits == 0 || count == 4)
			return -1;
		acc |= (uint32_t)octet << (24 - 8 * count);
		count++;
		if (s == end)
			break;
		if (*s != '.')
			return -1;
		s++;
	}
	*v = acc;
	*n = count;
	return 0;
}

static uint32_t mask_v4(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static void v4_text(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

static int emit_v4(struct parser *p, uint32_t net, unsigned len)
{
	addr_from_v4(&p->e.prefix.addr, net);
	p->e.prefix.len = (uint8_t)(96 + len);
	return emit(p);
}

/* An ip4set/ip4trie key: emits one entry, or a range's covering CIDRs. */
static int parse_ip4_key(struct parser *p, const char *key)
{
	const char *end = key + strlen(key);
	const char *slash = strchr(key, '/'), *dash = strchr(key, '-');
	uint32_t a, b;
	unsigned na, nb;
	char t1[16], t2[16];

	p->e.kind = LISTING_ADDR;
	if (slash != NULL) {
		unsigned len = 0;
		const char *q = slash + 1;

		if (parse_octets(key, slash, &a, &na) < 0 || dash != NULL)
			return fail(p, "\"%s\": not an IPv4 prefix", key);
		if (*q == '\0' || (q[0] == '0' && q[1] != '\0') || end - q > 2)
			return fail(p, "\"%s\": bad prefix length (must be 0..32)", key);
		for (; q < end; q++) {
			if (*q < '0' || *q > '9')
				return fail(p, "\"%s\": bad prefix length (must be 0..32)", key);
			len = len * 10 + (unsigned)(*q - '0');
		}
		if (len > 32)
			return fail(p, "\"%s\": bad prefix length (must be 0..32)", key);
		if ((a & ~mask_v4(len)) != 0) {
			v4_text(a & mask_v4(len), t1, sizeof t1);
			return fail(p, "%s: host bits set (network is %s/%u)", key, t1, len);
		}
		return emit_v4(p, a, len);
	}
	if (dash == NULL) {
		if (parse_octets(key, end, &a, &na) < 0)
			return fail(p, "\"%s\": not an IPv4 address or prefix", key);
		return emit_v4(p, a, 8 * na);
	}
	if (p->fmt != DATASET_IP4SET)
		return fail(p, "\"%s\": ranges are not allowed in %s (ip4set only)", key,
			    dataset_format_name(p->fmt));
	if (parse_octets(key, dash, &a, &na) < 0 || parse_octets(dash + 1, end, &b, &nb) < 0)
		return fail(p, "\"%s\": not an IPv4 range", key);
	if (nb == 1 && na > 1) {
		/* a one-octet end replaces the last octet given in the start */
		unsigned shift = 24 - 8 * (na - 1);
		b = (a & ~(0xffu << shift)) | (b >> 24) << shift;
		nb = na;
	}
	b |= ~mask_v4(8 * nb);
	if (a > b) {
		v4_text(a, t1, sizeof t1);
		v4_text(b, t2, sizeof t2);
		return fail(p, "\"%s\": range start %s is after its end %s", key, t1, t2);
	}
	/* Covering CIDRs, largest aligned block first. */
	uint64_t cur = a, last = b;
	while (cur <= last) {
		unsigned size_bits = 0;
		while (size_bits < 32 && (cur & ((1ull << (size_bits + 1)) - 1)) == 0 &&
		       cur + (1ull << (size_bits + 1)) - 1 <= last)
			size_bits++;
		int rc = emit_v4(p, (uint32_t)cur, 32 - size_bits);
		if (rc != 0)
			return rc;
		cur += 1ull << size_bits;
	}
	return 0;
}

/* ---- IPv6 -------------------------------------------------------------- */

/* Groups without "::": "2001:db8:1" = 2001:db8:1::, default length 16/group. */
static int parse_short_v6(const char *s, struct cr_addr *a, unsigned *groups)
{
	unsigned g = 0;

	memset(a, 0, sizeof *a);
	for (;;) {
		unsigned v = 0, digits = 0;
		int h;

		while (*s != '\0' && *s != ':') {
			char c = *s;
			if (c >= '0' && c <= '9')
				h = c - '0';
			else if (c >= 'a' && c <= 'f')
				h = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				h = c - 'A' + 10;
			else
				return -1;
			v = v << 4 | (unsigned)h;
			if (++digits > 4)
				return -1;
			s++;
		}
		if (digits == 0 || g == 8)
			return -1;
		a->b[2 * g] = (uint8_t)(v >> 8);
		a->b[2 * g + 1] = (uint8_t)v;
		g++;
		if (*s == '\0')
			break;
		s++;
	}
	*groups = g;
	return 0;
}

static int parse_ip6_key(struct parser *p, char *key)
{
	char *slash = strchr(key, '/');
	struct cr_addr a, net;
	unsigned len, groups = 8;
	char aerr[160];

	if (slash != NULL)
		*slash = '\0';
	if (strstr(key, "::") != NULL || strchr(key, '.') != NULL) {
		if (addr_parse(key, &a, aerr, sizeof aerr) < 0 || strchr(key, ':') == NULL)
			goto bad;
	} else if (parse_short_v6(key, &a, &groups) < 0) {
		goto bad;
	}
	len = groups == 8 ? 128 : 16 * groups;
	if (slash != NULL) {
		const char *q = slash + 1;

		len = 0;
		if (*q == '\0' || (q[0] == '0' && q[1] != '\0') || strlen(q) > 3)
			goto badlen;
		for (; *q != '\0'; q++) {
			if (*q < '0' || *q > '9')
				goto badlen;
			len = len * 10 + (unsigned)(*q - '0');
		}
		if (len > 128)
			goto badlen;
		*slash = '/';
	}
	net = a;
	addr_mask(&net, len);
	if (addr_cmp(&net, &a) != 0) {
		struct cr_prefix np = { net, (uint8_t)len };
		char t[ADDR_TEXT_MAX + 8];
		addr_format_prefix(&np, t, sizeof t);
		return fail(p, "%s: host bits set (network is %s)", key, t);
	}
	p->e.kind = LISTING_ADDR;
	p->e.prefix.addr = net;
	p->e.prefix.len = (uint8_t)len;
	return emit(p);
bad:
	if (slash != NULL)
		*slash = '/';
	return fail(p, "\"%s\": not an IPv6 address or prefix", key);
badlen:
	*slash = '/';
	return fail(p, "\"%s\": bad prefix length (must be 0..128)", key);
}

/* A name that is nothing but digits and dots would read back as an address key
 * (listing_parse_key), so it cannot be a domain entry. */
static int check_not_numeric(struct parser *p, const char *name)
{
	if (name[strspn(name, "0123456789.")] == '\0')
		return fail(p, "\"%s\": an all-numeric name looks like an address, not a "
			    "domain", name);
	return 0;
}

/* ---- names ------------------------------------------------------------- */

static int parse_dn_key(struct parser *p, const char *key)
{
	char nerr[400];
	bool plain = true, wild = false;

	if (key[0] == '.') {
		wild = true;
		key++;
	} else if (key[0] == '*' && key[1] == '.') {
		wild = true;
		plain = false;
		key += 2;
	}
	if (dname_normalise(key, p->e.name, sizeof p->e.name, nerr, sizeof nerr) < 0)
		return fail(p, "%s", nerr);
	if (check_not_numeric(p, p->e.name) < 0)
		return -1;
	if (plain) {
		p->e.kind = LISTING_DOMAIN;
		int rc = emit(p);
		if (rc != 0 || !wild)
			return rc;
	}
	p->e.kind = LISTING_WILDCARD;
	return emit(p);
}

/* ---- one line ---------------------------------------------------------- */

static int parse_rbldnsd_line(struct parser *p, char *s)
{
	bool exclude = false;
	char *key, *rest;
	int rc;

	if (*s == '$')
		return 0; /* server directives: $SOA, $NS, $TTL, $DATASET, ... */
	/* In ip6trie "::1" is an entry: a default never starts with "::". */
	if (*s == ':' && !(p->fmt == DATASET_IP6TRIE && s[1] == ':')) {
		char reason[LISTING_REASON_MAX + 1];
		uint32_t code;

		rc = parse_value(p, s, &code, reason);
		if (rc != 0)
			return rc;
		p->def_code = code;
		memcpy(p->def_reason, reason, sizeof reason);
		return 0;
	}
	if (*s == '!') {
		exclude = true;
		s = skip_space(s + 1);
		if (*s == '\0')
			return fail(p, "\"!\" without an entry");
	}
	key = s;
	rest = cut_word(s);
	entry_begin(p, exclude);
	if (exclude || *rest == '\0' || *rest == '#' || *rest == ';') {
		/* rbldnsd ignores an exclusion's value */
		if (!exclude) {
			p->e.code = p->def_code;
			memcpy(p->e.reason, p->def_reason, strlen(p->def_reason) + 1);
		}
	} else {
		rc = parse_value(p, rest, &p->e.code, p->e.reason);
		if (rc != 0)
			return rc;
	}
	switch (p->fmt) {
	case DATASET_IP4SET:
	case DATASET_IP4TRIE:
		return parse_ip4_key(p, key);
	case DATASET_IP6TRIE:
		return parse_ip6_key(p, key);
	case DATASET_DNSET:
		return parse_dn_key(p, key);
	default:
		return fail(p, "internal: bad format");
	}
}

static int parse_plain_line(struct parser *p, char *s)
{
	char *kind = s, *value, *code, *reason;
	char aerr[400];
	bool v4, host;

	value = cut_word(kind);
	code = cut_word(value);
	reason = cut_word(code);
	v4 = strcmp(kind, "ip4") == 0 || strcmp(kind, "cidr4") == 0;
	host = strcmp(kind, "ip4") == 0 || strcmp(kind, "ip6") == 0;
	if (!v4 && strcmp(kind, "ip6") != 0 && strcmp(kind, "cidr6") != 0 &&
	    strcmp(kind, "domain") != 0)
		return fail(p, "unknown kind \"%.30s\" (want ip4, cidr4, ip6, cidr6 or domain)",
			    kind);
	if (*value == '\0' || *code == '\0')
		return fail(p, "\"%.60s\": expected KIND VALUE CODE [REASON]", kind);
	entry_begin(p, false);
	if (*value == '!') {
		p->e.exclude = true;
		value++;
	}
	if (listing_parse_code(code, &p->e.code, aerr, sizeof aerr) < 0)
		return fail(p, "%s", aerr);
	if (set_reason(p, p->e.reason, reason) < 0)
		return -1;
	if (strcmp(kind, "domain") == 0) {
		bool wild = value[0] == '*' && value[1] == '.';

		if (dname_normalise(wild ? value + 2 : value, p->e.name, sizeof p->e.name, aerr,
				    sizeof aerr) < 0)
			return fail(p, "%s", aerr);
		if (check_not_numeric(p, p->e.name) < 0)
			return -1;
		p->e.kind = wild ? LISTING_WILDCARD : LISTING_DOMAIN;
		return emit(p);
	}
	if (v4 != (strchr(value, ':') == NULL))
		return fail(p, "\"%.60s\": not an %s %s", value, v4 ? "IPv4" : "IPv6",
			    host ? "address" : "prefix");
	if (host && strchr(value, '/') != NULL)
		return fail(p, "\"%.60s\": %s takes an address; use %s for a prefix", value, kind,
			    v4 ? "cidr4" : "cidr6");
	if (addr_parse_prefix(value, &p->e.prefix, aerr, sizeof aerr) < 0)
		return fail(p, "%s", aerr);
	p->e.kind = LISTING_ADDR;
	return emit(p);
}

int dataset_parse_stream(FILE *f, const char *name, enum dataset_format fmt,
			 dataset_entry_fn fn, void *ud, char *err, size_t errlen)
{
	struct line_reader *r;
	struct parser *p;
	char *line;
	size_t len;
	int rc = 0;

	if ((int)fmt < (int)DATASET_PLAIN || (int)fmt > (int)DATASET_DNSET) {
		util_errf(err, errlen, "%s: unknown dataset format %d", name, (int)fmt);
		return -1;
	}
	r = malloc(sizeof *r);
	p = malloc(sizeof *p);
	if (r == NULL || p == NULL) {
		free(r);
		free(p);
		util_errf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	r->f = f;
	r->start = r->end = 0;
	r->eof = false;
	memset(p, 0, sizeof *p);
	p->name = name;
	p->fmt = fmt;
	p->fn = fn;
	p->ud = ud;
	p->err = err;
	p->errlen = errlen;
	p->def_code = LISTING_CODE_DEFAULT;

	for (;;) {
		int got = read_line(r, &line, &len);

		if (got == 0)
			break;
		p->line++;
		if (got == -1) {
			rc = fail(p, "line longer than %d bytes", LINE_MAX_BYTES);
			break;
		}
		if (got == -2) {
			util_errf(err, errlen, "%s: read error: %s", name, strerror(errno));
			rc = -1;
			break;
		}
		if (memchr(line, '\0', len) != NULL) {
			rc = fail(p, "NUL byte in line");
			break;
		}
		while (len > 0 && (is_space(line[len - 1]) || line[len - 1] == '\r'))
			line[--len] = '\0';
		line = skip_space(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		rc = fmt == DATASET_PLAIN ? parse_plain_line(p, line) : parse_rbldnsd_line(p, line);
		if (rc != 0)
			break;
	}
	free(r);
	free(p);
	return rc;
}

int dataset_parse_file(const char *path, enum dataset_format fmt, dataset_entry_fn fn,
		       void *ud, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return dataset_parse_stream(stdin, "stdin", fmt, fn, ud, err, errlen);
	f = fopen(path, "r");
	if (f == NULL) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = dataset_parse_stream(f, path, fmt, fn, ud, err, errlen);
	fclose(f);
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

/* The reason as it goes on a line: control characters as spaces. */
static void line_text(const char *in, char *out)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < LISTING_REASON_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[i] = '\0';
}

int dataset_write_entry(FILE *f, enum dataset_format fmt, const struct listing_entry *e)
{
	char key[LISTING_KEY_MAX + 8], code[16], reason[LISTING_REASON_MAX + 1];
	bool is_addr = e->kind == LISTING_ADDR;
	bool v4 = is_addr && e->prefix.len >= 96 && addr_is_v4(&e->prefix.addr);
	int n;

	switch (fmt) {
	case DATASET_IP4SET:
	case DATASET_IP4TRIE:
		if (!v4)
			return 1;
		break;
	case DATASET_IP6TRIE:
		if (!is_addr || v4)
			return 1;
		break;
	case DATASET_DNSET:
		if (is_addr)
			return 1;
		break;
	case DATASET_PLAIN:
		break;
	default:
		return -1;
	}
	if (listing_format_key(e, key, sizeof key) < 0)
		return -1;
	listing_format_code(e->code, code, sizeof code);
	line_text(e->reason, reason);
	if (fmt == DATASET_PLAIN) {
		const char *kind = "domain";
		if (is_addr)
			kind = v4 ? (e->prefix.len == 128 ? "ip4" : "cidr4")
				  : (e->prefix.len == 128 ? "ip6" : "cidr6");
		n = fprintf(f, "%s %s %s%s%s\n", kind, key, code, reason[0] ? " " : "", reason);
	} else if (e->exclude) {
		n = fprintf(f, "%s\n", key);
	} else {
		n = fprintf(f, "%s :%s:%s\n", key, code, reason);
	}
	return n < 0 ? -1 : 0;
}
