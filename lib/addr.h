/* addr: IPv4/IPv6 addresses and CIDR prefixes, and RFC 5782 reversed query names.
 *
 * Every address is kept as 16 bytes in network order; an IPv4 address is stored as
 * its IPv4-mapped IPv6 form ::ffff:a.b.c.d (RFC 4291 2.5.5.2), so one 128-bit
 * trie or comparison serves both families and ::ffff:7f00:2 *is* 127.0.0.2.
 * Prefix lengths are kept in the 128-bit space: an IPv4 /24 has len 96+24=120. */
#ifndef CHANRAC_ADDR_H
#define CHANRAC_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct cr_addr {
	uint8_t b[16];
};

struct cr_prefix {
	struct cr_addr addr; /* host bits are always zero */
	uint8_t len;         /* 0..128, in the 128-bit space */
};

/* Longest text addr_format / addr_format_prefix can write, with NUL. */
#define ADDR_TEXT_MAX 48
/* Longest reversed name (32 nibbles and dots), with NUL. */
#define ADDR_REVERSE_MAX 64

/* 1 if a is IPv4 (IPv4-mapped), else 0. */
int addr_is_v4(const struct cr_addr *a);
/* Builds the mapped form of a host-order IPv4 address; returns it as host order. */
void addr_from_v4(struct cr_addr *a, uint32_t v4);
uint32_t addr_to_v4(const struct cr_addr *a);

/* Parses a dotted-quad IPv4 or an IPv6 address (including ::ffff:a.b.c.d, which
 * becomes IPv4).  Strict: no leading/trailing space, no zone index, no octal.
 * 0 on success, -1 on bad input (err names it). */
int addr_parse(const char *s, struct cr_addr *out, char *err, size_t errlen);

/* Writes "192.0.2.7" for IPv4, RFC 5952 text for IPv6. Returns length or -1. */
int addr_format(const struct cr_addr *a, char *buf, size_t len);

/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a host prefix).
 * Rejects a prefix with host bits set, naming the network it should be:
 * "192.0.2.1/24: host bits set (network is 192.0.2.0/24)".  An IPv4 length is
 * 0..32, an IPv6 one 0..128. 0 on success, -1 on bad input. */
int addr_parse_prefix(const char *s, struct cr_prefix *out, char *err, size_t errlen);

/* Writes "192.0.2.0/24" or "2001:db8::/32"; a host prefix (/32 or /128) is
 * written as the bare address.  Returns length or -1. */
int addr_format_prefix(const struct cr_prefix *p, char *buf, size_t len);

/* Family-relative prefix length: 24 for an IPv4 /24 (len 120), len for IPv6. */
unsigned addr_prefix_family_len(const struct cr_prefix *p);

/* Zeroes every bit of a after the first len (0..128) bits. */
void addr_mask(struct cr_addr *a, unsigned len);
/* 1 if p contains a, else 0. */
int addr_prefix_contains(const struct cr_prefix *p, const struct cr_addr *a);
/* memcmp-style ordering of addresses. */
int addr_cmp(const struct cr_addr *a, const struct cr_addr *b);

/* RFC 5782 section 2.1/2.4 query label sequence without the zone:
 * "7.2.0.192" for 192.0.2.7, 32 dot-separated nibbles for IPv6.
 * Returns length or -1. */
int addr_reverse_name(const struct cr_addr *a, char *buf, size_t len);

/* Inverse of addr_reverse_name on the labels before a zone, case-insensitive:
 * exactly 4 decimal labels (each 0..255, no leading zeros) -> IPv4; exactly 32
 * single hex-digit labels -> IPv6.  name need not be NUL-terminated.
 * 0 on success, -1 if it is neither. */
int addr_parse_reverse_name(const char *name, size_t len, struct cr_addr *out);

#endif
