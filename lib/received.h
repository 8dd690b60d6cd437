/* received: the Received trace fields (RFC 5321 4.4) of a message — which host
 * handed it to which — and the originating IP: the first hop, walking down from
 * the most recent, whose client is not one of our own trusted relays.  Hops
 * below that one were written by the sender or by hosts we cannot vouch for and
 * are never trusted, so forged Received fields there change nothing. */
#ifndef CHANRAC_RECEIVED_H
#define CHANRAC_RECEIVED_H

#include <stddef.h>

#include "addr.h"
#include "dname.h"

#define RECEIVED_TEXT_MAX 255

/* One parsed Received field. */
struct received_hop {
	int has_ip;                         /* the from clause named the client's address */
	struct cr_addr ip;                  /* the connecting client */
	char helo[RECEIVED_TEXT_MAX + 1];   /* the name after "from" (HELO/EHLO), as written */
	char rdns[RECEIVED_TEXT_MAX + 1];   /* the name the receiver looked up, "" if none */
	char by[RECEIVED_TEXT_MAX + 1];     /* the receiving host, "" if none */
	char date[RECEIVED_TEXT_MAX + 1];   /* the text after the last ';', trimmed */
};

/* Parses one unfolded Received value.  The client address is taken, in this
 * order of preference, from a "[address]" inside the parenthesised comment of
 * the from clause (Postfix, Sendmail, Exim: "from helo (rdns [192.0.2.1])",
 * "([192.0.2.1]:1234 helo=x)"), from a bare "[address]" in the from clause
 * (Exim without rDNS), or from a parenthesised bare address (qmail, Exchange:
 * "from helo (192.0.2.1)").  "IPv6:" prefixes and ":port" suffixes are removed.
 * A HELO of the form "[address]" is never used when a comment names another.
 * Always fills out; returns 0 when an address was found, -1 when not. */
int received_parse(const char *value, struct received_hop *out);

/* Result of the walk. */
struct received_origin {
	int found;          /* an address outside the trusted relays was found */
	struct cr_addr ip;  /* that address (the originating IP) */
	size_t hop;         /* index of its Received field (0 = most recent) */
	size_t trusted;     /* trusted hops passed above it */
	struct received_hop detail; /* the parsed field */
};

/* Walks the Received values, most recent first (header order).  Fields without a
 * client address are passed over; a field whose client lies in one of trusted[]
 * is passed over; the first other client is the origin.  Fields below it are not
 * read at all.  When every client is trusted, found = 0.  Returns found. */
int received_origin(const char *const *values, size_t n, const struct cr_prefix *trusted,
		    size_t ntrusted, struct received_origin *out);

/* Why an address must never be listed automatically: "loopback", "private",
 * "link-local", "shared address space", "reserved", "multicast"... or NULL for
 * a unicast address that may be routed publicly (RFC 6890 special-purpose
 * registries, RFC 1918, RFC 4193, RFC 6598).  The documentation ranges
 * (RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849) are NOT
 * flagged: examples and tests use them as the public Internet. */
const char *received_special_addr(const struct cr_addr *a);

#endif
