/* received: parsing of Received trace fields and the walk down the chain to the
 * originating IP (received.h).  The formats of the common MTAs differ only in
 * where the client address sits in the from clause; see received_parse. */
#include "received.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Copies [b, e) trimmed into out (RECEIVED_TEXT_MAX + 1 bytes). */
static void copy_trim(const char *b, const char *e, char *out)
{
	size_t n;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - b);
	if (n > RECEIVED_TEXT_MAX)
		n = RECEIVED_TEXT_MAX;
	memcpy(out, b, n);
	out[n] = '\0';
}

/* Position of keyword kw as a whole word (case-insensitive) in [b, e), or NULL. */
static const char *find_word(const char *b, const char *e, const char *kw)
{
	size_t k = strlen(kw);

	for (const char *p = b; p + k <= e; p++) {
		if (strncasecmp(p, kw, k) != 0)
			continue;
		if (p > b && !isspace((unsigned char)p[-1]) && p[-1] != ')' && p[-1] != ']')
			continue;
		if (p + k < e && !isspace((unsigned char)p[k]) && p[k] != '(')
			continue;
		return p;
	}
	return NULL;
}

/* Parses an address written as "192.0.2.1", "IPv6:2001:db8::1",
 * "192.0.2.1:1234" or "2001:db8::1" from [b, e).  0 or -1. */
static int parse_ip_text(const char *b, const char *e, struct cr_addr *out)
{
	char buf[ADDR_TEXT_MAX + 16];
	size_t n;
	char *colon;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - b) >= 5 && strncasecmp(b, "IPv6:", 5) == 0)
		b += 5;
	n = (size_t)(e - b);
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	if (addr_parse(buf, out, NULL, 0) == 0)
		return 0;
	/* "192.0.2.1:1234": an IPv4 address with a port (one colon only) */
	colon = strchr(buf, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		if (addr_parse(buf, out, NULL, 0) == 0)
			return 0;
	}
	return -1;
}

/* First "[address]" in [b, e) (with an optional ":port" after "]"); sets
 * *at to the '[' found.  0 or -1. */
static int find_bracket_ip(const char *b, const char *e, struct cr_addr *out, const char **at)
{
	for (const char *p = b; p < e; p++) {
		const char *q;
		if (*p != '[')
			continue;
		q = memchr(p + 1, ']', (size_t)(e - p - 1));
		if (q == NULL)
			return -1;
		if (parse_ip_text(p + 1, q, out) == 0) {
			if (at)
				*at = p;
			return 0;
		}
		p = q;
	}
	return -1;
}

int received_parse(const char *value, struct received_hop *out)
{
	const char *v = value, *end, *semi, *from, *by, *fe, *cb, *ce;

	memset(out, 0, sizeof *out);
	if (v == NULL)
		return -1;
	end = v + strlen(v);
	semi = strrchr(v, ';');
	if (semi != NULL) {
		copy_trim(semi + 1, end, out->date);
		end = semi;
	}
	from = find_word(v, end, "from");
	by = find_word(from ? from + 4 : v, end, "by");
	if (by != NULL) {
		const char *p = by + 2, *q;
		while (p < end && isspace((unsigned char)*p))
			p++;
		q = p;
		while (q < end && !isspace((unsigned char)*q) && *q != '(' && *q != ';')
			q++;
		copy_trim(p, q, out->by);
	}
	if (from == NULL)
		return -1;
	fe = by != NULL ? by : end;
	/* the HELO name: the word after "from" */
	{
		const char *p = from + 4, *q;
		while (p < fe && isspace((unsigned char)*p))
			p++;
		q = p;
		while (q < fe && !isspace((unsigned char)*q) && *q != '(')
			q++;
		copy_trim(p, q, out->helo);
	}
	/* the comment: from the first '(' after the HELO to its matching ')' */
	cb = memchr(from, '(', (size_t)(fe - from));
	ce = NULL;
	if (cb != NULL) {
		int depth = 0;
		for (const char *p = cb; p < fe; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				ce = p;
				break;
			}
		}
		if (ce == NULL)
			ce = fe;
	}
	if (cb != NULL) {
		const char *at = NULL;
		if (find_bracket_ip(cb + 1, ce, &out->ip, &at) == 0) {
			/* "rdns [ip]": the word before the bracket, unless it is "helo=" */
			const char *q = at, *p;
			while (q > cb + 1 && isspace((unsigned char)q[-1]))
				q--;
			p = q;
			while (p > cb + 1 && !isspace((unsigned char)p[-1]) && p[-1] != '(')
				p--;
			if (q > p && memchr(p, '=', (size_t)(q - p)) == NULL)
				copy_trim(p, q, out->rdns);
			out->has_ip = 1;
			return 0;
		}
	}
	if (find_bracket_ip(from + 4, fe, &out->ip, NULL) == 0) {
		out->has_ip = 1;
		return 0;
	}
	/* "(192.0.2.1)" or "(HELO x) (192.0.2.1)": a comment that is an address */
	for (const char *p = from + 4; p < fe; p++) {
		const char *q;
		if (*p != '(')
			continue;
		q = memchr(p, ')', (size_t)(fe - p));
		if (q == NULL)
			break;
		if (parse_ip_text(p + 1, q, &out->ip) == 0) {
			out->has_ip = 1;
			return 0;
		}
		p = q;
	}
	return -1;
}

static int is_trusted(const struct cr_addr *a, const struct cr_prefix *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr_prefix_contains(&t[i], a))
			return 1;
	return 0;
}

int received_origin(const char *const *values, size_t n, const struct cr_prefix *trusted,
		    size_t ntrusted, struct received_origin *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		struct received_hop h;
		if (received_parse(values[i], &h) < 0)
			continue;
		if (is_trusted(&h.ip, trusted, ntrusted)) {
			out->trusted++;
			continue;
		}
		out->found = 1;
		out->ip = h.ip;
		out->hop = i;
		out->detail = h;
		break;
	}
	return out->found;
}

struct special_range {
	const char *text;
	const char *why;
};

/* RFC 6890 and its updates; the documentation ranges are deliberately absent. */
static const struct special_range special_ranges[] = {
	{ "0.0.0.0/8", "this network" },
	{ "10.0.0.0/8", "private" },
	{ "100.64.0.0/10", "shared address space" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local" },
	{ "172.16.0.0/12", "private" },
	{ "192.0.0.0/24", "IETF protocol assignments" },
	{ "192.88.99.0/24", "6to4 relay anycast" },
	{ "192.168.0.0/16", "private" },
	{ "198.18.0.0/15", "benchmarking" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved" },
	{ "::/128", "unspecified" },
	{ "::1/128", "loopback" },
	{ "64:ff9b:1::/48", "local-use IPv4/IPv6 translation" },
	{ "100::/64", "discard-only" },
	{ "2001::/23", "IETF protocol assignments" },
	{ "fc00::/7", "private (unique local)" },
	{ "fe80::/10", "link-local" },
	{ "ff00::/8", "multicast" },
};

const char *received_special_addr(const struct cr_addr *a)
{
	for (size_t i = 0; i < sizeof special_ranges / sizeof special_ranges[0]; i++) {
		struct cr_prefix p;
		if (addr_parse_prefix(special_ranges[i].text, &p, NULL, 0) == 0 &&
		    addr_prefix_contains(&p, a))
			return special_ranges[i].why;
	}
	/* IPv6 space outside 2000::/3 is not allocated for global unicast */
	if (!addr_is_v4(a) && (a->b[0] & 0xe0) != 0x20)
		return "reserved";
	return NULL;
}
