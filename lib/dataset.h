/* dataset: reading and writing list files — rbldnsd dataset files (ip4set,
 * ip4trie, ip6trie, dnset; ":code:text" defaults and values, "!" exclusions,
 * "#"/";" comments, "$" directives skipped) and chanrac's plain format, one
 * entry per line:
 *     KIND VALUE CODE [REASON...]
 * KIND is ip4, cidr4, ip6, cidr6, domain (VALUE may be "*.name"); VALUE may start
 * with "!" for an exclusion; CODE is 127.0.0.N or N; the rest of the line is the
 * reason.  This is the format ../shared/bench/gen_dnsbl_data.py writes. */
#ifndef CHANRAC_DATASET_H
#define CHANRAC_DATASET_H

#include <stdio.h>

#include "listing.h"

enum dataset_format {
	DATASET_PLAIN = 0,
	DATASET_IP4SET,
	DATASET_IP4TRIE,
	DATASET_IP6TRIE,
	DATASET_DNSET,
};

/* "plain", "ip4set", "ip4trie", "ip6trie", "dnset" -> format; -1 if unknown. */
int dataset_format_parse(const char *name);
const char *dataset_format_name(enum dataset_format f);

/* Called once per entry.  A single file line may give several entries (an ip4set
 * range a.b.c.d-e.f.g.h becomes its covering CIDRs; a dnset ".name" becomes
 * "name" and "*.name").  Return 0 to go on, non-zero to stop (that value is
 * returned by dataset_parse_*). e is only valid during the call. */
typedef int (*dataset_entry_fn)(void *ud, const struct listing_entry *e,
				unsigned line);

/* Parses a whole file (path "-" = stdin).  Fills code/reason from the line or
 * the file's ":code:text" default (RFC 5782 127.0.0.2 and an empty reason if
 * none); added/expires/source are left zero/empty for the caller.
 * Returns 0 on success; -1 on the first bad line or I/O error with err set to
 * "FILE:LINE: message" (nothing further is passed to fn); fn's non-zero result
 * otherwise.  Lines longer than 4096 bytes are errors. */
int dataset_parse_file(const char *path, enum dataset_format fmt, dataset_entry_fn fn,
		       void *ud, char *err, size_t errlen);
/* Same on an already-open stream; name is used in messages. */
int dataset_parse_stream(FILE *f, const char *name, enum dataset_format fmt,
			 dataset_entry_fn fn, void *ud, char *err, size_t errlen);

/* Writes one entry as a line of the format.  rbldnsd formats write
 * "KEY :CODE:REASON"; entries a format cannot hold (an IPv6 prefix in ip4set, a
 * domain in ip6trie) return 1 and write nothing.  0 written, -1 I/O error. */
int dataset_write_entry(FILE *f, enum dataset_format fmt, const struct listing_entry *e);

#endif
