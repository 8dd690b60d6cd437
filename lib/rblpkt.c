/* rblpkt: DNS query parsing and answer building for chanrac-rbld (see rblpkt.h).
 * Strict by design: one question, no compression in it, no extended label types,
 * at most one OPT; everything else is FORMERR, NOTIMP or dropped. */
#include "rblpkt.h"

#include <string.h>

#define FLAG_QR 0x8000u
#define FLAG_AA 0x0400u
#define FLAG_TC 0x0200u
#define FLAG_RD 0x0100u
#define FLAG_CD 0x0010u
#define OPCODE(f) (((f) >> 11) & 0xfu)
#define MAX_ADDITIONAL 8

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Skips a possibly compressed name in an additional record; -1 if malformed.
 * Only the length of the name in place matters, so pointers are not followed. */
static long skip_name(const uint8_t *p, size_t len, size_t off)
{
	size_t total = 0;

	while (off < len) {
		uint8_t l = p[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? (long)(off + 2) : -1;
		if (l & 0xc0)
			return -1;
		if (l == 0)
			return (long)(off + 1);
		total += l + 1u;
		if (total > RBLPKT_WIRE_NAME_MAX)
			return -1;
		off += l + 1u;
	}
	return -1;
}

static enum rblpkt_verdict error(struct rblpkt_query *q, int rcode)
{
	q->rcode = rcode;
	return RBLPKT_REPLY_ERROR;
}

enum rblpkt_verdict rblpkt_parse(const uint8_t *p, size_t len, struct rblpkt_query *q)
{
	size_t off = RBLPKT_HEADER, t = 0;
	uint16_t qd, an, ns, ar, i;
	int opts = 0;

	q->has_question = 0;
	q->edns = 0;
	q->edns_udp = 0;
	q->edns_version = 0;
	q->rcode = 0;
	q->name_len = 0;
	q->name[0] = '\0';
	q->name_plain = 1;
	if (len < RBLPKT_HEADER)
		return RBLPKT_DROP;
	q->id = get16(p);
	q->flags = get16(p + 2);
	if (q->flags & FLAG_QR)
		return RBLPKT_DROP; /* never answer an answer: no reflection loops */
	if (OPCODE(q->flags) != 0)
		return error(q, RBLPKT_NOTIMP);
	qd = get16(p + 4);
	an = get16(p + 6);
	ns = get16(p + 8);
	ar = get16(p + 10);
	if (qd != 1 || an != 0 || ns != 0 || ar > MAX_ADDITIONAL)
		return error(q, RBLPKT_FORMERR);
	/* The question name: plain labels only (RFC 1035 4.1.4 allows a pointer, but no
	 * real query compresses its only name, and refusing it rules out loops). */
	for (;;) {
		uint8_t l;
		size_t k;

		if (off >= len)
			return error(q, RBLPKT_FORMERR);
		l = p[off];
		if (l & 0xc0)
			return error(q, RBLPKT_FORMERR);
		if (l == 0) {
			off++;
			break;
		}
		if (off + 1 + l > len || off + 1 + l - RBLPKT_HEADER >= RBLPKT_WIRE_NAME_MAX)
			return error(q, RBLPKT_FORMERR);
		if (t > 0)
			q->name[t++] = '.';
		for (k = 0; k < l; k++) {
			uint8_t c = p[off + 1 + k];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + 32);
			else if (c == '.' || c <= ' ' || c >= 0x7f)
				q->name_plain = 0;
			q->name[t++] = (char)c;
		}
		off += 1u + l;
	}
	q->name[t] = '\0';
	q->name_len = t;
	q->qname_len = off - RBLPKT_HEADER;
	if (off + 4 > len)
		return error(q, RBLPKT_FORMERR);
	q->qtype = get16(p + off);
	q->qclass = get16(p + off + 2);
	off += 4;
	q->question_len = off - RBLPKT_HEADER;
	q->has_question = 1;
	for (i = 0; i < ar; i++) {
		long e = skip_name(p, len, off);
		uint16_t type, rdlen;

		if (e < 0 || (size_t)e + 10 > len)
			return error(q, RBLPKT_FORMERR);
		type = get16(p + e);
		rdlen = get16(p + e + 8);
		if ((size_t)e + 10 + rdlen > len)
			return error(q, RBLPKT_FORMERR);
		if (type == RBLPKT_T_OPT) {
			/* RFC 6891 6.1.1: owner is the root, one OPT at most. */
			if (p[off] != 0 || (size_t)e != off + 1 || ++opts > 1)
				return error(q, RBLPKT_FORMERR);
			q->edns = 1;
			q->edns_udp = get16(p + e + 2);
			q->edns_version = p[e + 5];
		}
		off = (size_t)e + 10 + rdlen;
	}
	if (q->edns && q->edns_version != 0)
		return error(q, RBLPKT_BADVERS);
	return RBLPKT_ANSWER;
}

size_t rblpkt_udp_limit(const struct rblpkt_query *q)
{
	if (!q->edns || q->edns_udp <= RBLPKT_UDP_MIN)
		return RBLPKT_UDP_MIN;
	return q->edns_udp < RBLPKT_UDP_MAX ? q->edns_udp : RBLPKT_UDP_MAX;
}

uint16_t rblpkt_name_offset(const struct rblpkt_query *q, size_t off)
{
	/* Text "a.b" and wire "\1a\1b\0" line up: the dot before a label sits where
	 * that label's length byte is.  The root is the final zero byte. */
	if (off >= q->name_len)
		return (uint16_t)(RBLPKT_HEADER + q->qname_len - 1);
	return (uint16_t)(RBLPKT_HEADER + off);
}

void rblpkt_resp_begin(struct rblpkt_resp *r, uint8_t *buf, size_t limit, const uint8_t *query,
		       const struct rblpkt_query *q, int rcode, int aa)
{
	uint16_t flags = FLAG_QR | (q->flags & (FLAG_RD | FLAG_CD | 0x7800u));

	if (aa)
		flags |= FLAG_AA;
	flags |= (uint16_t)(rcode & 0xf);
	r->buf = buf;
	r->limit = limit;
	r->opt = q->edns;
	r->truncated = 0;
	r->section = RBLPKT_SEC_ANSWER;
	memset(r->count, 0, sizeof(r->count));
	put16(buf, q->id);
	put16(buf + 2, flags);
	put16(buf + 4, q->has_question ? 1 : 0);
	memset(buf + 6, 0, 6);
	r->len = RBLPKT_HEADER;
	if (q->has_question) {
		memcpy(buf + RBLPKT_HEADER, query + RBLPKT_HEADER, q->question_len);
		r->len += q->question_len;
	}
	r->base = r->len;
}

int rblpkt_add_rr(struct rblpkt_resp *r, int sec, uint16_t name_off, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	size_t need = 12 + rdlen + (r->opt ? 11 : 0);
	uint8_t *w;

	if (r->truncated || sec < r->section || rdlen > 65535)
		return -1;
	if (r->len + need > r->limit) {
		r->truncated = 1;
		return -1;
	}
	r->section = sec;
	w = r->buf + r->len;
	put16(w, (uint16_t)(0xc000u | name_off));
	put16(w + 2, type);
	put16(w + 4, RBLPKT_C_IN);
	put32(w + 6, ttl);
	put16(w + 10, (uint16_t)rdlen);
	memcpy(w + 12, rdata, rdlen);
	r->len += 12 + rdlen;
	r->count[sec]++;
	return 0;
}

int rblpkt_add_a(struct rblpkt_resp *r, int sec, uint16_t name_off, uint32_t ttl, uint32_t a)
{
	uint8_t rd[4];

	put32(rd, a);
	return rblpkt_add_rr(r, sec, name_off, RBLPKT_T_A, ttl, rd, 4);
}

int rblpkt_add_txt(struct rblpkt_resp *r, int sec, uint16_t name_off, uint32_t ttl,
		   const char *text, size_t len)
{
	uint8_t rd[1024 + 8];
	size_t o = 0, i = 0;

	if (len > 1024)
		len = 1024;
	do {
		size_t n = len - i > 255 ? 255 : len - i;

		rd[o++] = (uint8_t)n;
		memcpy(rd + o, text + i, n);
		o += n;
		i += n;
	} while (i < len);
	return rblpkt_add_rr(r, sec, name_off, RBLPKT_T_TXT, ttl, rd, o);
}

size_t rblpkt_resp_finish(struct rblpkt_resp *r, int ext_rcode)
{
	if (r->truncated) {
		r->len = r->base;
		memset(r->count, 0, sizeof(r->count));
		r->buf[2] |= FLAG_TC >> 8;
	}
	put16(r->buf + 6, r->count[0]);
	put16(r->buf + 8, r->count[1]);
	if (r->opt) {
		uint8_t *w = r->buf + r->len;

		/* Room for these 11 bytes was kept by every add. */
		w[0] = 0;
		put16(w + 1, RBLPKT_T_OPT);
		put16(w + 3, RBLPKT_UDP_MAX);
		put32(w + 5, (uint32_t)((ext_rcode >> 4) & 0xff) << 24);
		put16(w + 9, 0);
		r->len += 11;
		r->count[2]++;
	}
	put16(r->buf + 10, r->count[2]);
	return r->len;
}

int rblpkt_name_to_wire(const char *text, uint8_t *out, size_t outlen)
{
	size_t o = 0;
	const char *s = text;

	if (strcmp(text, ".") == 0 || *text == '\0') {
		if (outlen < 1)
			return -1;
		out[0] = 0;
		return 1;
	}
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);

		if (l == 0 && d != NULL && d[1] == '\0' && s != text)
			break; /* trailing dot */
		if (l == 0 || l > 63 || o + 1 + l + 1 > outlen || o + 1 + l + 1 > RBLPKT_WIRE_NAME_MAX)
			return -1;
		out[o++] = (uint8_t)l;
		memcpy(out + o, s, l);
		o += l;
		if (d == NULL)
			break;
		s = d + 1;
	}
	out[o++] = 0;
	return (int)o;
}
