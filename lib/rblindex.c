/* rblindex: compact immutable index of one list for chanrac-rbld (see rblindex.h).
 * Layout is chosen for a single-core lookup rate well above rbldnsd's and for less
 * memory: 8 bytes per IPv4 host, one interval search for every other prefix. */
#include "rblindex.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

__extension__ typedef unsigned __int128 u128;

/* An entry's value word: index into the value table, VAL_EXCL for an exclusion
 * key ("!..."), VAL_TOMB for a deletion of that key.  An item and its exclusion
 * are separate keys (as in Redis) and may both exist: the exclusion then wins,
 * as in store_query, and deleting one leaves the other. */
#define VAL_EXCL 0x80000000u
#define VAL_TOMB 0x40000000u
#define VAL_NONE 0xFFFFFFFFu /* name record: no such item */
#define IS_TOMB(v) (((v) & VAL_TOMB) != 0)
#define VAL_IDX_MASK 0x0FFFFFFFu
#define NODE_NONE UINT32_MAX
#define SLOT_EMPTY UINT32_MAX
#define BUCKET_MIN_HOSTS 1024

enum { KIND_EXACT = 0, KIND_WILD = 1, KIND_ENT = 2 };

struct value {
	uint32_t code;
	uint32_t reason_off;
	uint32_t reason_len;
	int64_t expires;
};

struct host {
	uint32_t ip;
	uint32_t val;
};

struct bprefix {
	u128 net; /* IPv4 in the low 32 bits */
	uint32_t val;
	uint32_t seq;
	uint8_t len; /* family-relative */
};

struct bname {
	uint32_t off; /* in the builder arena: the name bytes */
	uint32_t seq;
	uint32_t val;
	uint16_t len;
	uint8_t kind;
};

struct rblindex_builder {
	struct host *hosts;
	size_t nhosts, caphosts;
	struct bprefix *p4, *p6;
	size_t np4, capp4, np6, capp6;
	struct bname *names;
	size_t nnames, capnames;
	char *arena;
	size_t alen, acap;
	struct value *values;
	size_t nvalues, capvalues;
	char *reasons;
	size_t rlen, rcap;
	uint32_t *vhash; /* value index + 1, 0 = empty */
	size_t vhcap;
	uint32_t seq;
	size_t count;
	int64_t last_vi; /* most entries share their neighbour's value: checked first */
};

struct node4 {
	uint32_t net;
	uint32_t val;
	uint32_t parent;
	uint8_t len;
};

/* An interval carries its owner's value so the common lookup never touches the
 * node table (one cache miss less); the node is for exclusions and expiry. */
struct iv4 {
	uint32_t start;
	uint32_t val;
	uint32_t node;
};

/* First host and first interval whose top 16 bits are >= the bucket's: one
 * cache line answers both "where to search" questions. */
struct v4bucket {
	uint32_t host;
	uint32_t iv;
};

struct node6 {
	u128 net;
	uint32_t val;
	uint32_t parent;
	uint8_t len;
};

/* 8 bytes per slot; the record at off in the arena is the item's value word,
 * the exclusion's value word (VAL_NONE if absent), the kind, the length, then
 * the name. */
struct slot {
	uint32_t hash;
	uint32_t off;
};
#define REC_VAL 0
#define REC_XVAL 4
#define REC_KIND 8
#define REC_LEN 9
#define REC_NAME 10

struct rblindex {
	struct host *hosts; /* sorted by ip */
	size_t nhosts;
	uint32_t *bucket; /* 65537 entries or NULL */
	struct node4 *n4;
	size_t nn4;
	struct iv4 *iv4;  /* disjoint intervals by start */
	size_t niv4;
	struct v4bucket *v4bucket; /* 65537 entries, or NULL for small indexes */
	struct node6 *n6;
	size_t nn6;
	u128 *iv6_start;
	uint32_t *iv6_node;
	size_t niv6;
	struct slot *slots;
	size_t slot_mask; /* slots = mask + 1, or 0 slots when NULL */
	size_t nnames, nslots_used;
	char *arena;
	size_t alen, acap;
	struct value *values;
	size_t nvalues;
	char *reasons;
	size_t rlen;
	size_t bytes;
};

static int grow(void *pp, size_t *cap, size_t need, size_t elsz)
{
	void **p = pp;
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap * elsz);
	if (n == NULL)
		return -1;
	*p = n;
	*cap = ncap;
	return 0;
}

static uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_bytes(const char *s, size_t len, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return fmix32(h);
}

static uint32_t hash_name(const char *s, size_t len, unsigned kind)
{
	return hash_bytes(s, len, kind * 0x9e3779b9u);
}

rblindex_builder *rblindex_builder_new(void)
{
	return calloc(1, sizeof(rblindex_builder));
}

void rblindex_builder_free(rblindex_builder *b)
{
	if (b == NULL)
		return;
	free(b->hosts);
	free(b->p4);
	free(b->p6);
	free(b->names);
	free(b->arena);
	free(b->values);
	free(b->reasons);
	free(b->vhash);
	free(b);
}

size_t rblindex_builder_count(const rblindex_builder *b)
{
	return b->count;
}

static uint32_t value_hash(uint32_t code, int64_t expires, const char *r, size_t rl)
{
	return hash_bytes(r, rl, code ^ (uint32_t)expires ^ (uint32_t)(expires >> 32));
}

static int vhash_rehash(rblindex_builder *b, size_t ncap)
{
	uint32_t *nh = calloc(ncap, sizeof(uint32_t));
	size_t i;

	if (nh == NULL)
		return -1;
	for (i = 0; i < b->nvalues; i++) {
		const struct value *v = &b->values[i];
		size_t j = value_hash(v->code, v->expires, b->reasons + v->reason_off,
				      v->reason_len) & (ncap - 1);
		while (nh[j] != 0)
			j = (j + 1) & (ncap - 1);
		nh[j] = (uint32_t)i + 1;
	}
	free(b->vhash);
	b->vhash = nh;
	b->vhcap = ncap;
	return 0;
}

/* Index of the (deduplicated) value, or -1 on out of memory. */
static int64_t value_add(rblindex_builder *b, uint32_t code, int64_t expires, const char *r,
			 size_t rl)
{
	uint32_t h;
	size_t j;
	struct value *v;

	if (rl > LISTING_REASON_MAX)
		rl = LISTING_REASON_MAX;
	if (b->nvalues > 0) {
		v = &b->values[b->last_vi];
		if (v->code == code && v->expires == expires && v->reason_len == rl &&
		    memcmp(b->reasons + v->reason_off, r, rl) == 0)
			return b->last_vi;
	}
	if (b->nvalues >= VAL_IDX_MASK)
		return -1;
	if ((b->nvalues + 1) * 2 > b->vhcap && vhash_rehash(b, b->vhcap ? b->vhcap * 2 : 64) < 0)
		return -1;
	h = value_hash(code, expires, r, rl);
	for (j = h & (b->vhcap - 1); b->vhash[j] != 0; j = (j + 1) & (b->vhcap - 1)) {
		v = &b->values[b->vhash[j] - 1];
		if (v->code == code && v->expires == expires && v->reason_len == rl &&
		    memcmp(b->reasons + v->reason_off, r, rl) == 0)
			return b->last_vi = b->vhash[j] - 1;
	}
	if (grow(&b->values, &b->capvalues, b->nvalues + 1, sizeof(struct value)) < 0 ||
	    grow(&b->reasons, &b->rcap, b->rlen + rl + 1, 1) < 0)
		return -1;
	v = &b->values[b->nvalues];
	v->code = code;
	v->expires = expires;
	v->reason_off = (uint32_t)b->rlen;
	v->reason_len = (uint32_t)rl;
	memcpy(b->reasons + b->rlen, r, rl);
	b->rlen += rl;
	b->vhash[j] = (uint32_t)b->nvalues + 1;
	b->last_vi = (int64_t)b->nvalues;
	return (int64_t)b->nvalues++;
}

static int is_v4_mapped(const struct cr_prefix *p)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return p->len >= 96 && memcmp(p->addr.b, pfx, 12) == 0;
}

static u128 bytes_to_u128(const uint8_t *b)
{
	u128 x = 0;
	int i;

	for (i = 0; i < 16; i++)
		x = (x << 8) | b[i];
	return x;
}

static void u128_to_bytes(u128 x, uint8_t *b)
{
	int i;

	for (i = 15; i >= 0; i--) {
		b[i] = (uint8_t)x;
		x >>= 8;
	}
}

static u128 host_mask(unsigned bits, unsigned len)
{
	unsigned h = bits - len;

	if (h >= 128)
		return ~(u128)0;
	return ((u128)1 << h) - 1;
}

static int push_prefix(struct bprefix **arr, size_t *n, size_t *cap, u128 net, unsigned len,
		       uint32_t val, uint32_t seq)
{
	if (grow(arr, cap, *n + 1, sizeof(struct bprefix)) < 0)
		return -1;
	(*arr)[*n].net = net;
	(*arr)[*n].len = (uint8_t)len;
	(*arr)[*n].val = val;
	(*arr)[*n].seq = seq;
	(*n)++;
	return 0;
}

static int push_host(rblindex_builder *b, uint32_t ip, uint32_t val)
{
	if (grow(&b->hosts, &b->caphosts, b->nhosts + 1, sizeof(struct host)) < 0)
		return -1;
	b->hosts[b->nhosts].ip = ip;
	b->hosts[b->nhosts].val = val;
	b->nhosts++;
	return 0;
}

static int push_name(rblindex_builder *b, const char *name, size_t len, unsigned kind,
		     uint32_t val)
{
	if (len == 0 || len > DNAME_MAX)
		return -1;
	if (grow(&b->names, &b->capnames, b->nnames + 1, sizeof(struct bname)) < 0 ||
	    grow(&b->arena, &b->acap, b->alen + len, 1) < 0)
		return -1;
	memcpy(b->arena + b->alen, name, len);
	b->names[b->nnames].off = (uint32_t)b->alen;
	b->names[b->nnames].len = (uint16_t)len;
	b->names[b->nnames].kind = (uint8_t)kind;
	b->names[b->nnames].val = val;
	b->names[b->nnames].seq = b->seq++;
	b->nnames++;
	b->alen += len;
	return 0;
}

/* Files the key of e with val (VAL_TOMB for a deletion). */
static int add_keyed(rblindex_builder *b, const struct listing_entry *e, uint32_t val)
{
	b->count++;
	if (e->kind == LISTING_ADDR) {
		const struct cr_prefix *p = &e->prefix;
		u128 net;

		if (p->len > 128)
			return -1;
		net = bytes_to_u128(p->addr.b);
		if (is_v4_mapped(p)) {
			unsigned len = p->len - 96u;
			uint32_t v4 = (uint32_t)net;

			if (len == 32)
				return push_host(b, v4, val);
			v4 &= len ? ~(uint32_t)0 << (32 - len) : 0;
			return push_prefix(&b->p4, &b->np4, &b->capp4, v4, len, val, b->seq++);
		}
		net &= ~host_mask(128, p->len);
		return push_prefix(&b->p6, &b->np6, &b->capp6, net, p->len, val, b->seq++);
	}
	return push_name(b, e->name, strnlen(e->name, sizeof(e->name)),
			 e->kind == LISTING_WILDCARD ? KIND_WILD : KIND_EXACT, val);
}

int rblindex_builder_add(rblindex_builder *b, const struct listing_entry *e)
{
	int64_t vi = value_add(b, e->code, e->expires, e->reason,
			       strnlen(e->reason, sizeof(e->reason)));

	if (vi < 0)
		return -1;
	return add_keyed(b, e, (uint32_t)vi | (e->exclude ? VAL_EXCL : 0));
}

int rblindex_builder_del(rblindex_builder *b, const struct listing_entry *e)
{
	return add_keyed(b, e, VAL_TOMB | (e->exclude ? VAL_EXCL : 0));
}

static int value_expired(const struct value *v, int64_t now)
{
	return v->expires != 0 && now != 0 && v->expires <= now;
}

/* ---- building ---- */

static int cmp_prefix(const void *pa, const void *pb)
{
	const struct bprefix *a = pa, *b = pb;

	if (a->net != b->net)
		return a->net < b->net ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	/* The item before its exclusion: flatten then nests the exclusion inside,
	 * so it decides first and the item is its parent. */
	if ((a->val & VAL_EXCL) != (b->val & VAL_EXCL))
		return (a->val & VAL_EXCL) ? 1 : -1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts, keeps the last of each key, drops deletions and expired entries. */
static size_t prefix_dedup(struct bprefix *p, size_t n, const struct value *values, int64_t now)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(p, n, sizeof(*p), cmp_prefix);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && p[i + 1].net == p[i].net && p[i + 1].len == p[i].len &&
		    (p[i + 1].val & VAL_EXCL) == (p[i].val & VAL_EXCL))
			continue;
		if (IS_TOMB(p[i].val) || value_expired(&values[p[i].val & VAL_IDX_MASK], now))
			continue;
		p[o++] = p[i];
	}
	return o;
}

struct ivout {
	u128 *start;
	uint32_t *node;
	size_t n;
};

static void iv_emit(struct ivout *o, u128 start, uint32_t node)
{
	if (o->n > 0 && o->start[o->n - 1] == start) {
		o->node[o->n - 1] = node;
		return;
	}
	if (o->n > 0 && o->node[o->n - 1] == node)
		return; /* same owner continues: no new interval */
	o->start[o->n] = start;
	o->node[o->n] = node;
	o->n++;
}

/* Flattens sorted, nested-or-disjoint prefixes into disjoint intervals; fills
 * parent[i] with the nearest enclosing prefix.  o arrays hold 2n+1 entries. */
static void flatten(const struct bprefix *p, size_t n, unsigned bits, uint32_t *parent,
		    struct ivout *o)
{
	uint32_t stack[130];
	size_t depth = 0, i;
	u128 maxv = host_mask(bits, 0);

	o->n = 0;
	for (i = 0; i <= n; i++) {
		u128 s = i < n ? p[i].net : 0;

		while (depth > 0) {
			const struct bprefix *t = &p[stack[depth - 1]];
			u128 end = t->net | host_mask(bits, t->len);

			if (i < n && end >= s)
				break;
			depth--;
			if (end != maxv)
				iv_emit(o, end + 1, depth ? stack[depth - 1] : NODE_NONE);
		}
		if (i == n)
			break;
		parent[i] = depth ? stack[depth - 1] : NODE_NONE;
		iv_emit(o, s, (uint32_t)i);
		if (depth < 130)
			stack[depth++] = (uint32_t)i;
	}
}

/* Stable LSD radix sort of hosts by ip (two 16-bit passes), so the last add of
 * an address stays last. */
static int sort_hosts(struct host *h, size_t n)
{
	struct host *tmp;
	size_t *cnt;
	int pass;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	cnt = malloc(65536 * sizeof(size_t));
	if (tmp == NULL || cnt == NULL) {
		free(tmp);
		free(cnt);
		return -1;
	}
	for (pass = 0; pass < 2; pass++) {
		struct host *src = pass ? tmp : h, *dst = pass ? h : tmp;
		unsigned shift = pass ? 16 : 0;
		size_t i, sum = 0;

		memset(cnt, 0, 65536 * sizeof(size_t));
		for (i = 0; i < n; i++)
			cnt[(src[i].ip >> shift) & 0xffff]++;
		for (i = 0; i < 65536; i++) {
			size_t c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i].ip >> shift) & 0xffff]++] = src[i];
	}
	free(tmp);
	free(cnt);
	return 0;
}

static int cmp_name(const void *pa, const void *pb, void *arena)
{
	const struct bname *a = pa, *b = pb;
	const char *ar = arena;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	c = memcmp(ar + a->off, ar + b->off, a->len);
	if (c != 0)
		return c;
	if ((a->val & VAL_EXCL) != (b->val & VAL_EXCL))
		return (a->val & VAL_EXCL) ? 1 : -1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static uint32_t rec_word(const rblindex *ix, const struct slot *s, size_t at)
{
	uint32_t v;

	memcpy(&v, ix->arena + s->off + at, 4);
	return v;
}

static struct slot *slot_find(const rblindex *ix, const char *name, size_t len, unsigned kind,
			      uint32_t h)
{
	size_t j;

	if (ix->slots == NULL)
		return NULL;
	for (j = h & ix->slot_mask;; j = (j + 1) & ix->slot_mask) {
		struct slot *s = &ix->slots[j];
		const char *rec;

		if (s->off == SLOT_EMPTY)
			return NULL;
		if (s->hash != h)
			continue;
		rec = ix->arena + s->off;
		if ((uint8_t)rec[REC_LEN] == len && (uint8_t)rec[REC_KIND] == kind &&
		    memcmp(rec + REC_NAME, name, len) == 0)
			return s;
	}
}

static int slots_resize(rblindex *ix, size_t nslots)
{
	struct slot *n = malloc(nslots * sizeof(struct slot));
	size_t i, j;

	if (n == NULL)
		return -1;
	memset(n, 0xff, nslots * sizeof(struct slot));
	for (i = 0; ix->slots && i <= ix->slot_mask; i++) {
		if (ix->slots[i].off == SLOT_EMPTY)
			continue;
		for (j = ix->slots[i].hash & (nslots - 1); n[j].off != SLOT_EMPTY;
		     j = (j + 1) & (nslots - 1))
			;
		n[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = n;
	ix->slot_mask = nslots - 1;
	return 0;
}

/* Adds a record with no item and no exclusion; returns its slot or NULL. */
static struct slot *slot_put(rblindex *ix, const char *name, size_t len, unsigned kind,
			     uint32_t h)
{
	uint32_t none = VAL_NONE;
	size_t j;

	if ((ix->nslots_used + 1) * 4 > (ix->slot_mask + 1) * 3 &&
	    slots_resize(ix, (ix->slot_mask + 1) * 2) < 0)
		return NULL;
	if (grow(&ix->arena, &ix->acap, ix->alen + REC_NAME + len, 1) < 0)
		return NULL;
	for (j = h & ix->slot_mask; ix->slots[j].off != SLOT_EMPTY; j = (j + 1) & ix->slot_mask)
		;
	memcpy(ix->arena + ix->alen + REC_VAL, &none, 4);
	memcpy(ix->arena + ix->alen + REC_XVAL, &none, 4);
	ix->arena[ix->alen + REC_KIND] = (char)kind;
	ix->arena[ix->alen + REC_LEN] = (char)len;
	memcpy(ix->arena + ix->alen + REC_NAME, name, len);
	ix->slots[j].hash = h;
	ix->slots[j].off = (uint32_t)ix->alen;
	ix->alen += REC_NAME + len;
	ix->nslots_used++;
	return &ix->slots[j];
}

static int build_names(rblindex *ix, rblindex_builder *b, int64_t now)
{
	size_t i, o = 0, nslots = 16, asize = 0;

	if (b->nnames == 0)
		return 0;
	qsort_r(b->names, b->nnames, sizeof(struct bname), cmp_name, b->arena);
	for (i = 0; i < b->nnames; i++) {
		const struct bname *x = &b->names[i];
		const struct bname *y = i + 1 < b->nnames ? &b->names[i + 1] : NULL;

		if (y && y->kind == x->kind && y->len == x->len &&
		    (y->val & VAL_EXCL) == (x->val & VAL_EXCL) &&
		    memcmp(b->arena + x->off, b->arena + y->off, x->len) == 0)
			continue;
		if (IS_TOMB(x->val) || value_expired(&b->values[x->val & VAL_IDX_MASK], now))
			continue;
		b->names[o++] = *x;
		asize += REC_NAME + x->len;
	}
	b->nnames = o;
	ix->nnames = o;
	if (o == 0)
		return 0;
	while (nslots * 3 < (o + 16) * 4)
		nslots *= 2;
	if (slots_resize(ix, nslots) < 0)
		return -1;
	/* Names first at their exact size, ancestors (few, mostly shared) after. */
	ix->arena = malloc(asize + 64);
	if (ix->arena == NULL)
		return -1;
	ix->acap = asize + 64;
	for (i = 0; i < o; i++) {
		const struct bname *x = &b->names[i];
		const char *nm = b->arena + x->off;
		uint32_t h = hash_name(nm, x->len, x->kind);
		struct slot *sl = slot_find(ix, nm, x->len, x->kind, h);

		if (sl == NULL && (sl = slot_put(ix, nm, x->len, x->kind, h)) == NULL)
			return -1;
		memcpy(ix->arena + sl->off + ((x->val & VAL_EXCL) ? REC_XVAL : REC_VAL), &x->val, 4);
	}
	/* Ancestors become empty-non-terminal markers (RFC 8020 needs them to exist). */
	for (i = 0; i < o; i++) {
		const struct bname *x = &b->names[i];
		const char *s = b->arena + x->off;
		size_t len = x->len;

		if (x->kind == KIND_EXACT) {
			const char *d = memchr(s, '.', len);
			if (d == NULL)
				continue;
			len -= (size_t)(d + 1 - s);
			s = d + 1;
		}
		for (;;) {
			uint32_t h = hash_name(s, len, KIND_ENT);
			const char *d;

			if (slot_find(ix, s, len, KIND_ENT, h) != NULL)
				break; /* its ancestors are marked too */
			if (slot_put(ix, s, len, KIND_ENT, h) == NULL)
				return -1;
			d = memchr(s, '.', len);
			if (d == NULL)
				break;
			len -= (size_t)(d + 1 - s);
			s = d + 1;
		}
	}
	return 0;
}

static int build_v4_prefixes(rblindex *ix, rblindex_builder *b, int64_t now)
{
	size_t n = prefix_dedup(b->p4, b->np4, b->values, now), i;
	uint32_t *parent;
	struct ivout o;

	if (n == 0)
		return 0;
	parent = malloc(n * sizeof(uint32_t));
	o.start = malloc((2 * n + 1) * sizeof(u128));
	o.node = malloc((2 * n + 1) * sizeof(uint32_t));
	ix->n4 = malloc(n * sizeof(struct node4));
	if (parent == NULL || o.start == NULL || o.node == NULL || ix->n4 == NULL)
		goto fail;
	flatten(b->p4, n, 32, parent, &o);
	ix->nn4 = n;
	for (i = 0; i < n; i++) {
		ix->n4[i].net = (uint32_t)b->p4[i].net;
		ix->n4[i].len = b->p4[i].len;
		ix->n4[i].val = b->p4[i].val;
		ix->n4[i].parent = parent[i];
	}
	ix->iv4 = malloc((o.n ? o.n : 1) * sizeof(struct iv4));
	if (ix->iv4 == NULL)
		goto fail;
	for (i = 0; i < o.n; i++) {
		ix->iv4[i].start = (uint32_t)o.start[i];
		ix->iv4[i].node = o.node[i];
		ix->iv4[i].val = o.node[i] == NODE_NONE ? 0 : ix->n4[o.node[i]].val;
	}
	ix->niv4 = o.n;
	free(parent);
	free(o.start);
	free(o.node);
	return 0;
fail:
	free(parent);
	free(o.start);
	free(o.node);
	return -1;
}

static int build_v6_prefixes(rblindex *ix, rblindex_builder *b, int64_t now)
{
	size_t n = prefix_dedup(b->p6, b->np6, b->values, now), i;
	uint32_t *parent;
	struct ivout o;

	if (n == 0)
		return 0;
	parent = malloc(n * sizeof(uint32_t));
	o.start = malloc((2 * n + 1) * sizeof(u128));
	o.node = malloc((2 * n + 1) * sizeof(uint32_t));
	ix->n6 = malloc(n * sizeof(struct node6));
	if (parent == NULL || o.start == NULL || o.node == NULL || ix->n6 == NULL)
		goto fail;
	flatten(b->p6, n, 128, parent, &o);
	ix->nn6 = n;
	for (i = 0; i < n; i++) {
		ix->n6[i].net = b->p6[i].net;
		ix->n6[i].len = b->p6[i].len;
		ix->n6[i].val = b->p6[i].val;
		ix->n6[i].parent = parent[i];
	}
	free(parent);
	ix->iv6_start = realloc(o.start, (o.n ? o.n : 1) * sizeof(u128));
	ix->iv6_node = realloc(o.node, (o.n ? o.n : 1) * sizeof(uint32_t));
	if (ix->iv6_start == NULL || ix->iv6_node == NULL) {
		free(ix->iv6_start ? ix->iv6_start : (void *)o.start);
		free(ix->iv6_node ? ix->iv6_node : (void *)o.node);
		ix->iv6_start = NULL;
		ix->iv6_node = NULL;
		return -1;
	}
	ix->niv6 = o.n;
	return 0;
fail:
	free(parent);
	free(o.start);
	free(o.node);
	return -1;
}

static int build_hosts(rblindex *ix, rblindex_builder *b, int64_t now)
{
	size_t i, o = 0;

	if (sort_hosts(b->hosts, b->nhosts) < 0)
		return -1;
	for (i = 0; i < b->nhosts;) {
		size_t j = i, k;
		struct host last[2]; /* [0] item, [1] exclusion: the last op on each key */
		int have[2] = { 0, 0 };

		while (j < b->nhosts && b->hosts[j].ip == b->hosts[i].ip)
			j++;
		for (k = i; k < j; k++) {
			int x = (b->hosts[k].val & VAL_EXCL) != 0;
			last[x] = b->hosts[k];
			have[x] = 1;
		}
		/* The exclusion first: lookups meet it before the item. */
		for (k = 2; k-- > 0;)
			if (have[k] && !IS_TOMB(last[k].val) &&
			    !value_expired(&b->values[last[k].val & VAL_IDX_MASK], now))
				b->hosts[o++] = last[k];
		i = j;
	}
	ix->nhosts = o;
	if (o == 0)
		return 0;
	/* The builder's array becomes the index: no second copy at the peak. */
	ix->hosts = realloc(b->hosts, o * sizeof(struct host));
	if (ix->hosts == NULL)
		ix->hosts = b->hosts;
	b->hosts = NULL;
	b->nhosts = b->caphosts = 0;
	return 0;
}

static int build_v4_buckets(rblindex *ix)
{
	size_t h = 0, v = 0, hb;

	if (ix->nhosts < BUCKET_MIN_HOSTS && ix->niv4 < BUCKET_MIN_HOSTS)
		return 0;
	ix->v4bucket = malloc(65537 * sizeof(struct v4bucket));
	if (ix->v4bucket == NULL)
		return -1;
	for (hb = 0; hb <= 65536; hb++) {
		while (h < ix->nhosts && (ix->hosts[h].ip >> 16) < hb)
			h++;
		while (v < ix->niv4 && (ix->iv4[v].start >> 16) < hb)
			v++;
		ix->v4bucket[hb].host = (uint32_t)h;
		ix->v4bucket[hb].iv = (uint32_t)v;
	}
	return 0;
}

rblindex *rblindex_build(rblindex_builder *b, int64_t now, char *err, size_t errlen)
{
	rblindex *ix = calloc(1, sizeof(*ix));

	if (ix == NULL || build_hosts(ix, b, now) < 0 || build_v4_prefixes(ix, b, now) < 0 ||
	    build_v4_buckets(ix) < 0 ||
	    build_v6_prefixes(ix, b, now) < 0 || build_names(ix, b, now) < 0) {
		util_errf(err, errlen, "out of memory building the index");
		rblindex_free(ix);
		rblindex_builder_free(b);
		return NULL;
	}
	/* Values and reasons move over as they are (unused ones cost little). */
	ix->values = b->values;
	ix->nvalues = b->nvalues;
	ix->reasons = b->reasons;
	ix->rlen = b->rlen;
	b->values = NULL;
	b->reasons = NULL;
	if (ix->nvalues > 0) {
		struct value *v = realloc(ix->values, ix->nvalues * sizeof(struct value));
		if (v != NULL)
			ix->values = v;
	}
	if (ix->arena != NULL && ix->alen > 0) {
		char *a = realloc(ix->arena, ix->alen);
		if (a != NULL)
			ix->arena = a;
	}
	ix->bytes = sizeof(*ix) + ix->nhosts * 8 +
		    (ix->v4bucket ? 65537 * sizeof(struct v4bucket) : 0) +
		    ix->nn4 * sizeof(struct node4) + ix->niv4 * sizeof(struct iv4) +
		    ix->nn6 * sizeof(struct node6) + ix->niv6 * (sizeof(u128) + 4) +
		    (ix->slots ? (ix->slot_mask + 1) * sizeof(struct slot) : 0) + ix->alen +
		    ix->nvalues * sizeof(struct value) + ix->rlen;
	rblindex_builder_free(b);
	return ix;
}

rblindex *rblindex_empty(void)
{
	return calloc(1, sizeof(rblindex));
}

void rblindex_free(rblindex *ix)
{
	if (ix == NULL)
		return;
	free(ix->hosts);
	free(ix->v4bucket);
	free(ix->n4);
	free(ix->iv4);
	free(ix->n6);
	free(ix->iv6_start);
	free(ix->iv6_node);
	free(ix->slots);
	free(ix->arena);
	free(ix->values);
	free(ix->reasons);
	free(ix);
}

/* ---- lookups ---- */

/* The value val decides: LISTED, EXCLUDED, or NONE if it has expired. */
static int decide(const rblindex *ix, uint32_t val, int64_t now, struct rblindex_hit *hit)
{
	const struct value *v = &ix->values[val & VAL_IDX_MASK];

	if (value_expired(v, now))
		return RBLINDEX_NONE;
	if (val & VAL_EXCL)
		return RBLINDEX_EXCLUDED;
	if (hit != NULL) {
		hit->code = v->code;
		hit->reason = ix->reasons + v->reason_off;
		hit->reason_len = v->reason_len;
		hit->expires = v->expires;
	}
	return RBLINDEX_LISTED;
}

int rblindex_lookup_v4(const rblindex *ix, uint32_t ip, int64_t now, struct rblindex_hit *hit)
{
	const struct v4bucket *bk = ix->v4bucket ? &ix->v4bucket[ip >> 16] : NULL;
	size_t lo, hi;
	uint32_t node;
	int r;

	if (ix->nhosts > 0) {
		lo = bk ? bk[0].host : 0;
		hi = bk ? bk[1].host : ix->nhosts;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (ix->hosts[mid].ip < ip)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < ix->nhosts && ix->hosts[lo].ip == ip; lo++) {
			r = decide(ix, ix->hosts[lo].val, now, hit);
			if (r != RBLINDEX_NONE)
				return r;
		}
	}
	if (ix->niv4 == 0)
		return RBLINDEX_NONE;
	/* The first start > ip lies within the bucket's intervals or just after
	 * them; the owner of ip is the interval before it. */
	lo = bk ? bk[0].iv : 0;
	hi = bk ? bk[1].iv : ix->niv4;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->iv4[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ix->iv4[lo - 1].node == NODE_NONE)
		return RBLINDEX_NONE;
	r = decide(ix, ix->iv4[lo - 1].val, now, hit);
	if (r != RBLINDEX_NONE)
		return r;
	for (node = ix->n4[ix->iv4[lo - 1].node].parent; node != NODE_NONE;
	     node = ix->n4[node].parent) {
		r = decide(ix, ix->n4[node].val, now, hit);
		if (r != RBLINDEX_NONE)
			return r;
	}
	return RBLINDEX_NONE;
}

int rblindex_lookup_v6(const rblindex *ix, const uint8_t ip[16], int64_t now,
		       struct rblindex_hit *hit)
{
	u128 x;
	size_t lo = 0, hi = ix->niv6;
	uint32_t node;

	if (ix->niv6 == 0)
		return RBLINDEX_NONE;
	x = bytes_to_u128(ip);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->iv6_start[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return RBLINDEX_NONE;
	for (node = ix->iv6_node[lo - 1]; node != NODE_NONE; node = ix->n6[node].parent) {
		int r = decide(ix, ix->n6[node].val, now, hit);
		if (r != RBLINDEX_NONE)
			return r;
	}
	return RBLINDEX_NONE;
}

/* A name record decides: its exclusion first, then its item. */
static int decide_rec(const rblindex *ix, const struct slot *s, int64_t now,
		      struct rblindex_hit *hit)
{
	uint32_t x = rec_word(ix, s, REC_XVAL), v = rec_word(ix, s, REC_VAL);
	int r;

	if (x != VAL_NONE && (r = decide(ix, x, now, hit)) != RBLINDEX_NONE)
		return r;
	if (v != VAL_NONE)
		return decide(ix, v, now, hit);
	return RBLINDEX_NONE;
}

int rblindex_lookup_name(const rblindex *ix, const char *name, size_t len, int64_t now,
			 struct rblindex_hit *hit)
{
	const struct slot *s;
	const char *d;

	if (ix->slots == NULL || len == 0)
		return RBLINDEX_NONE;
	s = slot_find(ix, name, len, KIND_EXACT, hash_name(name, len, KIND_EXACT));
	if (s != NULL) {
		int r = decide_rec(ix, s, now, hit);
		if (r != RBLINDEX_NONE) {
			if (hit != NULL) {
				hit->name = name;
				hit->name_len = (uint32_t)len;
			}
			return r;
		}
	}
	/* The nearest enclosing wildcard decides (rbldnsd dnset "*.name"). */
	while ((d = memchr(name, '.', len)) != NULL) {
		len -= (size_t)(d + 1 - name);
		name = d + 1;
		s = slot_find(ix, name, len, KIND_WILD, hash_name(name, len, KIND_WILD));
		if (s != NULL) {
			int r = decide_rec(ix, s, now, hit);
			if (r != RBLINDEX_NONE) {
				if (hit != NULL) {
					hit->name = name;
					hit->name_len = (uint32_t)len;
				}
				return r;
			}
		}
	}
	return RBLINDEX_NONE;
}

int rblindex_name_has_children(const rblindex *ix, const char *name, size_t len)
{
	if (ix->slots == NULL || len == 0)
		return 0;
	return slot_find(ix, name, len, KIND_ENT, hash_name(name, len, KIND_ENT)) != NULL;
}

/* ---- introspection ---- */

void rblindex_stats(const rblindex *ix, struct rblindex_stats *st)
{
	st->v4_hosts = ix->nhosts;
	st->v4_prefixes = ix->nn4;
	st->v6_prefixes = ix->nn6;
	st->names = ix->nnames;
	st->values = ix->nvalues;
	st->bytes = ix->bytes;
}

size_t rblindex_count(const rblindex *ix)
{
	return ix->nhosts + ix->nn4 + ix->nn6 + ix->nnames;
}

static void fill_value(const rblindex *ix, uint32_t val, struct listing_entry *e)
{
	const struct value *v = &ix->values[val & VAL_IDX_MASK];

	e->exclude = (val & VAL_EXCL) != 0;
	e->code = v->code;
	e->expires = v->expires;
	memcpy(e->reason, ix->reasons + v->reason_off, v->reason_len);
	e->reason[v->reason_len] = '\0';
}

static void set_v4(struct listing_entry *e, uint32_t ip, unsigned len)
{
	memset(&e->prefix, 0, sizeof(e->prefix));
	e->prefix.addr.b[10] = 0xff;
	e->prefix.addr.b[11] = 0xff;
	e->prefix.addr.b[12] = (uint8_t)(ip >> 24);
	e->prefix.addr.b[13] = (uint8_t)(ip >> 16);
	e->prefix.addr.b[14] = (uint8_t)(ip >> 8);
	e->prefix.addr.b[15] = (uint8_t)ip;
	e->prefix.len = (uint8_t)(96 + len);
}

int rblindex_foreach(const rblindex *ix, rblindex_entry_fn fn, void *ud)
{
	struct listing_entry e;
	size_t i;
	int r;

	memset(&e, 0, sizeof(e));
	e.kind = LISTING_ADDR;
	for (i = 0; i < ix->nhosts; i++) {
		set_v4(&e, ix->hosts[i].ip, 32);
		fill_value(ix, ix->hosts[i].val, &e);
		if ((r = fn(ud, &e)) != 0)
			return r;
	}
	for (i = 0; i < ix->nn4; i++) {
		set_v4(&e, ix->n4[i].net, ix->n4[i].len);
		fill_value(ix, ix->n4[i].val, &e);
		if ((r = fn(ud, &e)) != 0)
			return r;
	}
	for (i = 0; i < ix->nn6; i++) {
		u128_to_bytes(ix->n6[i].net, e.prefix.addr.b);
		e.prefix.len = ix->n6[i].len;
		fill_value(ix, ix->n6[i].val, &e);
		if ((r = fn(ud, &e)) != 0)
			return r;
	}
	if (ix->slots == NULL)
		return 0;
	for (i = 0; i <= ix->slot_mask; i++) {
		const struct slot *s = &ix->slots[i];
		size_t len, w;
		unsigned kind;

		if (s->off == SLOT_EMPTY)
			continue;
		kind = (uint8_t)ix->arena[s->off + REC_KIND];
		if (kind == KIND_ENT)
			continue;
		for (w = 0; w < 2; w++) {
			uint32_t v = rec_word(ix, s, w ? REC_XVAL : REC_VAL);

			if (v == VAL_NONE)
				continue;
			memset(&e, 0, sizeof(e));
			e.kind = kind == KIND_WILD ? LISTING_WILDCARD : LISTING_DOMAIN;
			len = (uint8_t)ix->arena[s->off + REC_LEN];
			memcpy(e.name, ix->arena + s->off + REC_NAME, len);
			e.name[len] = '\0';
			fill_value(ix, v, &e);
			if ((r = fn(ud, &e)) != 0)
				return r;
		}
	}
	return 0;
}

/* Re-adds ix's entries to b with b's value table. */
static int readd_fn(void *ud, const struct listing_entry *e)
{
	return rblindex_builder_add(ud, e) < 0 ? -1 : 0;
}

int rblindex_builder_add_index(rblindex_builder *b, const rblindex *ix)
{
	/* Fast path for the bulk: hosts map their values once. */
	uint32_t *map;
	size_t i;

	if (ix->nvalues == 0)
		return 0;
	map = malloc(ix->nvalues * sizeof(uint32_t));
	if (map == NULL)
		return -1;
	for (i = 0; i < ix->nvalues; i++) {
		const struct value *v = &ix->values[i];
		int64_t vi = value_add(b, v->code, v->expires, ix->reasons + v->reason_off,
				       v->reason_len);
		if (vi < 0) {
			free(map);
			return -1;
		}
		map[i] = (uint32_t)vi;
	}
	if (grow(&b->hosts, &b->caphosts, b->nhosts + ix->nhosts, sizeof(struct host)) < 0) {
		free(map);
		return -1;
	}
	for (i = 0; i < ix->nhosts; i++) {
		uint32_t v = ix->hosts[i].val;
		b->hosts[b->nhosts].ip = ix->hosts[i].ip;
		b->hosts[b->nhosts].val = map[v & VAL_IDX_MASK] | (v & VAL_EXCL);
		b->nhosts++;
	}
	b->count += ix->nhosts;
	for (i = 0; i < ix->nn4; i++) {
		uint32_t v = ix->n4[i].val;
		if (push_prefix(&b->p4, &b->np4, &b->capp4, ix->n4[i].net, ix->n4[i].len,
				map[v & VAL_IDX_MASK] | (v & VAL_EXCL), b->seq++) < 0)
			goto fail;
		b->count++;
	}
	for (i = 0; i < ix->nn6; i++) {
		uint32_t v = ix->n6[i].val;
		if (push_prefix(&b->p6, &b->np6, &b->capp6, ix->n6[i].net, ix->n6[i].len,
				map[v & VAL_IDX_MASK] | (v & VAL_EXCL), b->seq++) < 0)
			goto fail;
		b->count++;
	}
	free(map);
	if (ix->slots == NULL)
		return 0;
	/* Names go through the general path (their arena differs). */
	{
		rblindex tmp = *ix;
		tmp.nhosts = 0;
		tmp.nn4 = 0;
		tmp.nn6 = 0;
		return rblindex_foreach(&tmp, readd_fn, b) < 0 ? -1 : 0;
	}
fail:
	free(map);
	return -1;
}
