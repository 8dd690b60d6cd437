/* addr: parsing and printing IPv4/IPv6 addresses and CIDR prefixes, kept as 16
 * bytes with IPv4 in its mapped form (RFC 4291 2.5.5.2), and the RFC 5782 reversed
 * query labels (octets for IPv4, 32 nibbles for IPv6) in both directions. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Longest address text we look at: a full IPv6 with an embedded IPv4 is 45. */
#define ADDR_INPUT_MAX 45

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int addr_is_v4(const struct cr_addr *a)
{
	return memcmp(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

void addr_from_v4(struct cr_addr *a, uint32_t v4)
{
	memcpy(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix);
	a->b[12] = (uint8_t)(v4 >> 24);
	a->b[13] = (uint8_t)(v4 >> 16);
	a->b[14] = (uint8_t)(v4 >> 8);
	a->b[15] = (uint8_t)v4;
}

uint32_t addr_to_v4(const struct cr_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 |
	       (uint32_t)a->b[15];
}

/* Strict dotted quad: four decimal octets 0..255, no leading zeros (which some
 * resolvers read as octal), nothing else.  s need not be NUL-terminated. */
static int parse_v4(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned octet = 0, digits = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits > 0 && octet == 0)
				return -1; /* leading zero */
			octet = octet * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || octet > 255)
				return -1;
			i++;
		}
		if (digits == 0)
			return -1;
		v = v << 8 | octet;
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

int addr_parse(const char *s, struct cr_addr *out, char *err, size_t errlen)
{
	size_t len;
	uint32_t v4;

	if (s == NULL || *s == '\0') {
		util_errf(err, errlen, "empty address");
		return -1;
	}
	len = strlen(s);
	if (len <= 15 && parse_v4(s, len, &v4) == 0) {
		addr_from_v4(out, v4);
		return 0;
	}
	/* inet_pton rejects zone indexes, spaces and octal-looking embedded IPv4. */
	if (len <= ADDR_INPUT_MAX && strchr(s, ':') != NULL &&
	    inet_pton(AF_INET6, s, out->b) == 1)
		return 0;
	util_errf(err, errlen, "%.64s%s: not an IPv4 or IPv6 address", s, len > 64 ? "..." : "");
	return -1;
}

int addr_format(const struct cr_addr *a, char *buf, size_t len)
{
	char tmp[ADDR_TEXT_MAX];
	int n = 0;

	if (addr_is_v4(a)) {
		n = snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", a->b[12], a->b[13], a->b[14],
			     a->b[15]);
	} else {
		/* RFC 5952 4.2: compress the longest run of two or more zero groups,
		 * the first one on a tie; lower-case hex without leading zeros. */
		unsigned g[8];
		int best = -1, bestlen = 1;

		for (int i = 0; i < 8; i++)
			g[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
		for (int i = 0; i < 8;) {
			int j = i;
			while (j < 8 && g[j] == 0)
				j++;
			if (j - i > bestlen) {
				best = i;
				bestlen = j - i;
			}
			i = j > i ? j : i + 1;
		}
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				n += snprintf(tmp + n, sizeof tmp - (size_t)n, "::");
				i += bestlen - 1;
				continue;
			}
			if (i > 0 && i != best + bestlen)
				tmp[n++] = ':';
			n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%x", g[i]);
		}
		tmp[n] = '\0';
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

void addr_mask(struct cr_addr *a, unsigned len)
{
	if (len >= 128)
		return;
	a->b[len / 8] &= (uint8_t)(0xff00u >> (len % 8));
	for (unsigned i = len / 8 + 1; i < 16; i++)
		a->b[i] = 0;
}

/* Parses the length after '/': decimal, no sign, no leading zeros. */
static int parse_prefix_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int addr_parse_prefix(const char *s, struct cr_prefix *out, char *err, size_t errlen)
{
	char host[ADDR_INPUT_MAX + 1];
	const char *slash;
	struct cr_addr net;
	unsigned plen, max;
	int is_v4_text;

	if (s == NULL || *s == '\0') {
		util_errf(err, errlen, "empty address");
		return -1;
	}
	slash = strchr(s, '/');
	if (slash == NULL) {
		if (addr_parse(s, &out->addr, err, errlen) < 0)
			return -1;
		out->len = 128;
		return 0;
	}
	if ((size_t)(slash - s) > ADDR_INPUT_MAX) {
		util_errf(err, errlen, "%.64s...: not an IPv4 or IPv6 prefix", s);
		return -1;
	}
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (addr_parse(host, &net, NULL, 0) < 0) {
		util_errf(err, errlen, "%.80s: not an IPv4 or IPv6 prefix", s);
		return -1;
	}
	/* An IPv4 length counts IPv4 bits; written with a colon it counts all 128. */
	is_v4_text = strchr(host, ':') == NULL;
	max = is_v4_text ? 32 : 128;
	if (parse_prefix_len(slash + 1, max, &plen) < 0) {
		util_errf(err, errlen, "%.80s: bad prefix length (must be 0..%u)", s, max);
		return -1;
	}
	if (is_v4_text)
		plen += 96;
	out->addr = net;
	out->len = (uint8_t)plen;
	addr_mask(&out->addr, plen);
	if (addr_cmp(&out->addr, &net) != 0) {
		char netbuf[ADDR_TEXT_MAX + 4];
		addr_format_prefix(out, netbuf, sizeof netbuf);
		util_errf(err, errlen, "%s: host bits set (network is %s)", s, netbuf);
		return -1;
	}
	return 0;
}

unsigned addr_prefix_family_len(const struct cr_prefix *p)
{
	if (p->len >= 96 && addr_is_v4(&p->addr))
		return p->len - 96u;
	return p->len;
}

int addr_format_prefix(const struct cr_prefix *p, char *buf, size_t len)
{
	char tmp[ADDR_TEXT_MAX + 8];
	int n;

	if (p->len > 128)
		return -1;
	n = addr_format(&p->addr, tmp, sizeof tmp);
	if (n < 0)
		return -1;
	if (p->len < 128)
		n += snprintf(tmp + n, sizeof tmp - (size_t)n, "/%u", addr_prefix_family_len(p));
	if ((size_t)n >= len)
		return -1;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

int addr_prefix_contains(const struct cr_prefix *p, const struct cr_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->len > 128)
		return 0;
	if (memcmp(p->addr.b, a->b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((p->addr.b[full] ^ a->b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int addr_cmp(const struct cr_addr *a, const struct cr_addr *b)
{
	return memcmp(a->b, b->b, sizeof a->b);
}

int addr_reverse_name(const struct cr_addr *a, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[ADDR_REVERSE_MAX];
	int n = 0;

	if (addr_is_v4(a)) {
		n = snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", a->b[15], a->b[14], a->b[13],
			     a->b[12]);
	} else {
		for (int i = 15; i >= 0; i--) {
			tmp[n++] = hex[a->b[i] & 0xf];
			tmp[n++] = '.';
			tmp[n++] = hex[a->b[i] >> 4];
			if (i > 0)
				tmp[n++] = '.';
		}
		tmp[n] = '\0';
	}
	if ((size_t)n >= len)
		return -1;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int addr_parse_reverse_name(const char *name, size_t len, struct cr_addr *out)
{
	/* RFC 5782 2.4: 32 nibble labels, least significant first. */
	if (len == 63) {
		struct cr_addr a = { { 0 } };

		for (int i = 0; i < 32; i++) {
			int v = hex_value(name[2 * i]);

			int nib = 31 - i; /* label i is nibble 31-i of the address */

			if (v < 0 || (i < 31 && name[2 * i + 1] != '.'))
				return -1;
			if (nib % 2 == 0)
				a.b[nib / 2] = (uint8_t)((a.b[nib / 2] & 0x0f) | v << 4);
			else
				a.b[nib / 2] = (uint8_t)v; /* low nibble comes first */
		}
		*out = a;
		return 0;
	}
	/* RFC 5782 2.1: four decimal octets in reverse order. */
	if (len >= 7 && len <= 15) {
		uint32_t v4;
		char fwd[16];
		const char *label[4];
		size_t label_len[4];
		size_t start = 0, n = 0;
		int k = 0;

		for (size_t i = 0; i <= len; i++) {
			if (i == len || name[i] == '.') {
				if (k >= 4)
					return -1;
				label[k] = name + start;
				label_len[k++] = i - start;
				start = i + 1;
			}
		}
		if (k != 4)
			return -1;
		for (int i = 3; i >= 0; i--) {
			memcpy(fwd + n, label[i], label_len[i]);
			n += label_len[i];
			if (i > 0)
				fwd[n++] = '.';
		}
		if (parse_v4(fwd, n, &v4) < 0)
			return -1;
		addr_from_v4(out, v4);
		return 0;
	}
	return -1;
}
