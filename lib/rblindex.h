/* rblindex: the responder's immutable in-memory index of one list — IPv4 hosts in a
 * sorted uint32 array with a 16-bit bucket table, IPv4/IPv6 prefixes flattened into
 * disjoint intervals (one binary search gives the longest matching prefix), names in
 * an open-addressing hash over one string arena, values deduplicated in one table.
 *
 * Matching follows listing.h: the most specific item decides, an exclusion carves
 * out, an expired item counts as absent (the next less specific one decides).
 * An index is built once from a builder and never changes, so any number of
 * readers may use it without locks; changes are applied by building a new index
 * (rblindex_builder_add_index + adds/dels) and swapping pointers. */
#ifndef CHANRAC_RBLINDEX_H
#define CHANRAC_RBLINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"

typedef struct rblindex rblindex;
typedef struct rblindex_builder rblindex_builder;

/* NULL on out of memory. */
rblindex_builder *rblindex_builder_new(void);
void rblindex_builder_free(rblindex_builder *b);

/* Adds a copy of e; a later add or del of the same key (kind, exclude aside,
 * prefix or name) replaces an earlier one.  0, or -1 on out of memory. */
int rblindex_builder_add(rblindex_builder *b, const struct listing_entry *e);
/* Removes the entry with e's key (exclusion or not) added before.  0 or -1. */
int rblindex_builder_del(rblindex_builder *b, const struct listing_entry *e);
/* Adds every entry of ix, as if each were passed to rblindex_builder_add. */
int rblindex_builder_add_index(rblindex_builder *b, const rblindex *ix);
/* Entries (including replaced ones and deletions) added so far. */
size_t rblindex_builder_count(const rblindex_builder *b);

/* Builds the index, dropping entries expired at now (0 = keep all), and frees b
 * in every case.  NULL on out of memory with err set. */
rblindex *rblindex_build(rblindex_builder *b, int64_t now, char *err, size_t errlen);
/* An index with no entries; NULL on out of memory. */
rblindex *rblindex_empty(void);
void rblindex_free(rblindex *ix);

enum rblindex_result {
	RBLINDEX_NONE = 0,     /* nothing matches */
	RBLINDEX_LISTED = 1,   /* the deciding item lists it: hit is filled */
	RBLINDEX_EXCLUDED = 2, /* the deciding item is an exclusion */
};

struct rblindex_hit {
	uint32_t code;      /* host order, 127.0.0.N */
	uint32_t reason_len;
	const char *reason; /* not NUL-terminated; valid while the index lives */
	int64_t expires;    /* 0 = never */
	const char *name;   /* name lookups: the deciding entry's name (the query
			       name, or the suffix under the matching wildcard) */
	uint32_t name_len;
};

/* Lookups; now is unix seconds (entries with 0 < expires <= now are absent).
 * Return an enum rblindex_result; hit may be NULL. */
int rblindex_lookup_v4(const rblindex *ix, uint32_t ip, int64_t now, struct rblindex_hit *hit);
int rblindex_lookup_v6(const rblindex *ix, const uint8_t ip[16], int64_t now,
		       struct rblindex_hit *hit);
/* name: normalised (lower case, no trailing dot), len bytes. */
int rblindex_lookup_name(const rblindex *ix, const char *name, size_t len, int64_t now,
			 struct rblindex_hit *hit);
/* 1 if some entry lies strictly below name (name is then an existing node, an
 * empty non-terminal if not listed itself), else 0. */
int rblindex_name_has_children(const rblindex *ix, const char *name, size_t len);

struct rblindex_stats {
	size_t v4_hosts;     /* IPv4 /32 entries */
	size_t v4_prefixes;  /* other IPv4 prefixes */
	size_t v6_prefixes;  /* IPv6 prefixes of any length */
	size_t names;        /* exact and wildcard names */
	size_t values;       /* distinct (code, reason, expiry) values */
	size_t bytes;        /* memory held */
};
void rblindex_stats(const rblindex *ix, struct rblindex_stats *st);
size_t rblindex_count(const rblindex *ix);

/* Calls fn for every entry (reconstructed: kind, exclude, prefix/name, code,
 * expires, reason; added and source are not kept).  fn returns non-zero to stop;
 * that value is returned, else 0. */
typedef int (*rblindex_entry_fn)(void *ud, const struct listing_entry *e);
int rblindex_foreach(const rblindex *ix, rblindex_entry_fn fn, void *ud);

#endif
