/* zone: chanrac-rbld's zones (from the [zone NAME] sections) and the answer to one
 * query — RFC 5782 names, one A/TXT per matching source, test points, the allow
 * list, NXDOMAIN/NODATA with the SOA, apex SOA/NS, REFUSED outside every zone. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rbld.h"
#include "util.h"

#define TXT_MAX 255

static int add_source(struct rbld *r, const struct rbld_source *s)
{
	size_t i;
	struct rbld_source *n;

	for (i = 0; i < r->nsrc; i++) {
		const struct rbld_source *o = &r->src[i];
		if (o->redis == s->redis &&
		    (s->redis ? strcmp(o->list, s->list) == 0
			      : o->fmt == s->fmt && strcmp(o->path, s->path) == 0))
			return (int)i;
	}
	n = realloc(r->src, (r->nsrc + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	r->src = n;
	r->src[r->nsrc] = *s;
	return (int)r->nsrc++;
}

static int list_configured(const cr_conf *c, const char *list)
{
	const char *const *names = conf_list(c, "lists", "names");

	for (; names && *names; names++)
		if (strcmp(*names, list) == 0)
			return 1;
	return 0;
}

/* An SOA's MNAME and RNAME under the zone name end in a pointer to the apex in
 * the question: every negative answer carries the SOA, and uncompressed it would
 * make an answer to a short query over 3 times its size. */
static void soa_compression(struct rbld_zone *z)
{
	uint8_t zw[RBLPKT_WIRE_NAME_MAX];
	int zl = rblpkt_name_to_wire(z->name, zw, sizeof zw), i;
	size_t base = 0, o, k;

	for (i = 0; i < 2; i++) {
		const uint8_t *w = z->soa_names + base;
		size_t len = z->soa_len[i];

		z->soa_pre[i] = -1;
		for (o = 0; zl > 0 && o < len && w[o] != 0; o += (size_t)w[o] + 1) {
			if (len - o != (size_t)zl)
				continue;
			for (k = 0; k < (size_t)zl; k++)
				if (tolower(w[o + k]) != tolower(zw[k]))
					break;
			if (k == (size_t)zl)
				z->soa_pre[i] = (int)o;
			break;
		}
		base += len;
	}
}

static int zone_names(struct rbld_zone *z, const cr_conf *c, const char *sec, char *err,
		      size_t errlen)
{
	const char *const *ns = conf_list(c, sec, "ns");
	const char *hm = conf_str(c, sec, "hostmaster");
	char hbuf[RBLPKT_WIRE_NAME_MAX + 16];
	int l;

	z->nns = 0;
	for (; ns && *ns; ns++) {
		if (z->nns == RBLD_ZONE_NS_MAX) {
			util_errf(err, errlen, "[%s] ns: more than %d names", sec, RBLD_ZONE_NS_MAX);
			return -1;
		}
		l = rblpkt_name_to_wire(*ns, z->ns[z->nns], RBLPKT_WIRE_NAME_MAX);
		if (l < 0) {
			util_errf(err, errlen, "[%s] ns: bad name \"%s\"", sec, *ns);
			return -1;
		}
		z->ns_len[z->nns++] = (size_t)l;
	}
	if (z->nns == 0) {
		l = rblpkt_name_to_wire("localhost", z->ns[0], RBLPKT_WIRE_NAME_MAX);
		z->ns_len[0] = (size_t)l;
		z->nns = 1;
	}
	memcpy(z->soa_names, z->ns[0], z->ns_len[0]);
	z->soa_names_len = z->ns_len[0];
	if (hm == NULL || *hm == '\0') {
		snprintf(hbuf, sizeof hbuf, "hostmaster.%s", z->name);
		hm = hbuf;
	}
	l = rblpkt_name_to_wire(hm, z->soa_names + z->soa_names_len, RBLPKT_WIRE_NAME_MAX);
	if (l < 0) {
		util_errf(err, errlen, "[%s] hostmaster: bad name \"%s\"", sec, hm);
		return -1;
	}
	z->soa_len[0] = z->ns_len[0];
	z->soa_len[1] = (size_t)l;
	z->soa_names_len += (size_t)l;
	soa_compression(z);
	return 0;
}

static int zone_setup(struct rbld *r, struct rbld_zone *z, const char *arg, const char *sec,
		      char *err, size_t errlen)
{
	const cr_conf *c = r->conf;
	const char *type = conf_str(c, sec, "type");
	const char *const *w;
	uint8_t wire[RBLPKT_WIRE_NAME_MAX];
	size_t i;

	memset(z, 0, sizeof(*z));
	for (i = 0; arg[i] && i < RBLPKT_WIRE_NAME_MAX; i++)
		z->name[i] = (arg[i] >= 'A' && arg[i] <= 'Z') ? (char)(arg[i] + 32) : arg[i];
	if (i > 0 && z->name[i - 1] == '.')
		i--;
	z->name[i] = '\0';
	z->name_len = i;
	if (i == 0 || rblpkt_name_to_wire(z->name, wire, sizeof wire) < 0) {
		util_errf(err, errlen, "[%s]: bad zone name", sec);
		return -1;
	}
	if (strcmp(type, "any") == 0)
		z->type = RBLD_ZONE_ANY;
	else if (strcmp(type, "ip") == 0)
		z->type = RBLD_ZONE_IP;
	else if (strcmp(type, "domain") == 0)
		z->type = RBLD_ZONE_DOMAIN;
	else {
		util_errf(err, errlen, "[%s] type: \"%s\" is not any, ip or domain", sec, type);
		return -1;
	}
	for (w = conf_list(c, sec, "lists"); w && *w; w++) {
		struct rbld_source s;
		int k;

		memset(&s, 0, sizeof s);
		s.redis = 1;
		if (!list_configured(c, *w)) {
			util_errf(err, errlen, "[%s] lists: \"%s\" is not in [lists] names", sec, *w);
			return -1;
		}
		util_strlcpy(s.list, *w, sizeof s.list);
		if (z->nsrc == RBLD_ZONE_SOURCES_MAX || (k = add_source(r, &s)) < 0) {
			util_errf(err, errlen, "[%s]: too many lists and files", sec);
			return -1;
		}
		z->src[z->nsrc++] = (uint32_t)k;
	}
	for (w = conf_list(c, sec, "files"); w && *w; w++) {
		struct rbld_source s;
		const char *colon = strchr(*w, ':');
		char fmt[16];
		int f, k;

		memset(&s, 0, sizeof s);
		if (colon == NULL || colon == *w || (size_t)(colon - *w) >= sizeof fmt ||
		    colon[1] == '\0') {
			util_errf(err, errlen, "[%s] files: \"%s\" is not FORMAT:PATH", sec, *w);
			return -1;
		}
		memcpy(fmt, *w, (size_t)(colon - *w));
		fmt[colon - *w] = '\0';
		f = dataset_format_parse(fmt);
		if (f < 0) {
			util_errf(err, errlen, "[%s] files: unknown format \"%s\" (ip4set, ip4trie, "
				  "ip6trie, dnset, plain)", sec, fmt);
			return -1;
		}
		s.fmt = (enum dataset_format)f;
		if (util_strlcpy(s.path, colon + 1, sizeof s.path) >= sizeof s.path) {
			util_errf(err, errlen, "[%s] files: path too long", sec);
			return -1;
		}
		if (z->nsrc == RBLD_ZONE_SOURCES_MAX || (k = add_source(r, &s)) < 0) {
			util_errf(err, errlen, "[%s]: too many lists and files", sec);
			return -1;
		}
		z->src[z->nsrc++] = (uint32_t)k;
	}
	z->ttl = (uint32_t)(conf_ms(c, sec, "ttl") / 1000);
	z->neg_ttl = (uint32_t)(conf_ms(c, sec, "neg_ttl") / 1000);
	z->refresh = (uint32_t)(conf_ms(c, sec, "refresh") / 1000);
	z->retry = (uint32_t)(conf_ms(c, sec, "retry") / 1000);
	z->expire = (uint32_t)(conf_ms(c, sec, "expire") / 1000);
	return zone_names(z, c, sec, err, errlen);
}

int rbld_zones_setup(struct rbld *r, char *err, size_t errlen)
{
	size_t n = conf_named_count(r->conf, "zone"), i, j;
	int uses_redis = 0;
	const char *allow;

	r->allow_src = -1;
	if (n == 0) {
		util_errf(err, errlen, "%s: no [zone NAME] section: nothing to serve",
			  conf_source(r->conf));
		return -1;
	}
	r->zones = calloc(n, sizeof(struct rbld_zone));
	if (r->zones == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (zone_setup(r, &r->zones[i], conf_named_arg(r->conf, "zone", i),
			       conf_named_section(r->conf, "zone", i), err, errlen) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(r->zones[j].name, r->zones[i].name) == 0) {
				util_errf(err, errlen, "[%s]: zone given twice",
					  conf_named_section(r->conf, "zone", i));
				return -1;
			}
		r->nzones = i + 1;
	}
	for (i = 0; i < r->nsrc; i++)
		uses_redis |= r->src[i].redis;
	/* The allow list overrides every zone; it comes from Redis, so only when
	 * Redis is in use at all. */
	allow = conf_str(r->conf, "rbld", "allow_list");
	if (uses_redis && allow && *allow && list_configured(r->conf, allow)) {
		struct rbld_source s;

		memset(&s, 0, sizeof s);
		s.redis = 1;
		util_strlcpy(s.list, allow, sizeof s.list);
		r->allow_src = add_source(r, &s);
		if (r->allow_src < 0)
			return -1;
	}
	return 0;
}

void rbld_zones_free(struct rbld *r)
{
	free(r->zones);
	free(r->src);
	r->zones = NULL;
	r->src = NULL;
}

/* ---- answering ---- */

enum { NAME_NONE = 0, NAME_PARTIAL, NAME_V4, NAME_V6 };

/* Classifies the labels before the zone: a full reversed IPv4 (4 decimal labels,
 * RFC 5782 2.1) or IPv6 (32 nibbles, 2.4), a valid beginning of one (an empty
 * non-terminal), or neither. */
static int parse_reverse(const char *s, size_t len, uint32_t *v4, uint8_t v6[16])
{
	size_t i = 0, count = 0;
	int dec_ok = 1, hex_ok = 1;
	uint32_t oct[4] = { 0, 0, 0, 0 };

	memset(v6, 0, 16);
	while (i < len) {
		size_t st = i, ll;
		unsigned val = 0;
		char c;

		while (i < len && s[i] != '.')
			i++;
		ll = i - st;
		if (ll == 0)
			return NAME_NONE;
		if (dec_ok) {
			size_t k;
			if (ll > 3 || (ll > 1 && s[st] == '0') || count >= 4)
				dec_ok = 0;
			for (k = 0; dec_ok && k < ll; k++) {
				if (s[st + k] < '0' || s[st + k] > '9')
					dec_ok = 0;
				else
					val = val * 10 + (unsigned)(s[st + k] - '0');
			}
			if (dec_ok && val > 255)
				dec_ok = 0;
			if (dec_ok)
				oct[count] = val;
		}
		if (hex_ok) {
			c = s[st];
			if (ll != 1 || count >= 32)
				hex_ok = 0;
			else if (c >= '0' && c <= '9')
				val = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				val = (unsigned)(c - 'a' + 10);
			else
				hex_ok = 0;
			if (hex_ok)
				v6[15 - count / 2] |= (uint8_t)(val << ((count & 1) ? 4 : 0));
		}
		if (!dec_ok && !hex_ok)
			return NAME_NONE;
		count++;
		i++; /* the dot */
	}
	if (dec_ok && count == 4) {
		*v4 = oct[3] << 24 | oct[2] << 16 | oct[1] << 8 | oct[0];
		return NAME_V4;
	}
	if (hex_ok && count == 32)
		return NAME_V6;
	return NAME_PARTIAL;
}

static int is_v4_mapped6(const uint8_t *b)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(b, pfx, 12) == 0;
}

struct hits {
	size_t n;
	uint32_t code[RBLD_ZONE_SOURCES_MAX + 1];
	const char *reason[RBLD_ZONE_SOURCES_MAX + 1];
	uint32_t rlen[RBLD_ZONE_SOURCES_MAX + 1];
	const char *subj[RBLD_ZONE_SOURCES_MAX + 1]; /* what "$" stands for, or NULL */
	uint32_t slen[RBLD_ZONE_SOURCES_MAX + 1];
};

static void hits_add(struct hits *h, uint32_t code, const char *reason, uint32_t rlen)
{
	h->code[h->n] = code;
	h->reason[h->n] = reason;
	h->rlen[h->n] = rlen;
	h->subj[h->n] = NULL;
	h->n++;
}

static void hits_add_name(struct hits *h, const struct rblindex_hit *hit)
{
	hits_add(h, hit->code, hit->reason, hit->reason_len);
	h->subj[h->n - 1] = hit->name;
	h->slen[h->n - 1] = hit->name_len;
}

static const char TEST_POINT_TEXT[] = "RFC 5782 test point";

/* 1 if the question's wire name (in pkt) ends with z's labels.  Needed when a
 * label holds a '.': then the text's dots are not all label boundaries, and
 * "\5x.any\4test" reads "x.any.test" without being in zone any.test (found by
 * tests/fuzz/fuzz_dns: the SOA's compression pointer went into the middle of a
 * label).  A text offset at a label boundary is that label's wire offset. */
static int wire_suffix_is(const struct rblpkt_query *q, const uint8_t *pkt,
			  const struct rbld_zone *z)
{
	uint8_t w[RBLPKT_WIRE_NAME_MAX];
	int l = rblpkt_name_to_wire(z->name, w, sizeof w);
	size_t off = q->name_len - z->name_len, i;
	const uint8_t *s = pkt + RBLPKT_HEADER + off;

	if (l < 0 || off + (size_t)l != q->qname_len)
		return 0;
	for (i = 0; i < (size_t)l; i++) {
		uint8_t c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != w[i])
			return 0;
	}
	return 1;
}

static struct rbld_zone *find_zone(struct rbld *r, const struct rblpkt_query *q,
				   const uint8_t *pkt)
{
	struct rbld_zone *best = NULL;
	size_t i;

	for (i = 0; i < r->nzones; i++) {
		struct rbld_zone *z = &r->zones[i];

		if (q->name_len < z->name_len || (best && best->name_len >= z->name_len))
			continue;
		if (q->name_len > z->name_len && q->name[q->name_len - z->name_len - 1] != '.')
			continue;
		if (memcmp(q->name + q->name_len - z->name_len, z->name, z->name_len) == 0 &&
		    (q->name_plain || wire_suffix_is(q, pkt, z)))
			best = z;
	}
	return best;
}

static void add_soa(struct rblpkt_resp *resp, int sec, uint16_t apex, const struct rbld_zone *z,
		    uint32_t ttl, uint32_t serial)
{
	uint8_t rd[2 * RBLPKT_WIRE_NAME_MAX + 20];
	size_t o = 0, base = 0;
	uint32_t v[5] = { serial, z->refresh, z->retry, z->expire, z->neg_ttl };
	int i;

	for (i = 0; i < 2; i++) {
		if (z->soa_pre[i] >= 0 && apex < 0x4000) {
			memcpy(rd + o, z->soa_names + base, (size_t)z->soa_pre[i]);
			o += (size_t)z->soa_pre[i];
			rd[o++] = (uint8_t)(0xc0 | apex >> 8);
			rd[o++] = (uint8_t)apex;
		} else {
			memcpy(rd + o, z->soa_names + base, z->soa_len[i]);
			o += z->soa_len[i];
		}
		base += z->soa_len[i];
	}
	for (i = 0; i < 5; i++) {
		rd[o++] = (uint8_t)(v[i] >> 24);
		rd[o++] = (uint8_t)(v[i] >> 16);
		rd[o++] = (uint8_t)(v[i] >> 8);
		rd[o++] = (uint8_t)v[i];
	}
	rblpkt_add_rr(resp, sec, apex, RBLPKT_T_SOA, ttl, rd, o);
}

/* Expands rbldnsd's "$" (the listed address or name) and "$$" (a dollar sign)
 * into out; returns length. */
static size_t expand_txt(const char *reason, size_t rlen, const char *subj, size_t slen,
			 char *out)
{
	size_t i, o = 0;

	for (i = 0; i < rlen && o < TXT_MAX; i++) {
		if (reason[i] == '$' && i + 1 < rlen && reason[i + 1] == '$') {
			out[o++] = '$';
			i++;
		} else if (reason[i] == '$') {
			size_t n = slen < TXT_MAX - o ? slen : TXT_MAX - o;
			memcpy(out + o, subj, n);
			o += n;
		} else {
			out[o++] = reason[i];
		}
	}
	return o;
}

static size_t finish(struct rblpkt_resp *resp, struct rbld_counters *zc, struct rbld_counters *t,
		     int tcp)
{
	if (resp->truncated && !tcp) {
		if (zc)
			zc->truncated++;
		t->truncated++;
	}
	return rblpkt_resp_finish(resp, 0);
}

size_t rbld_answer(struct rbld *r, const struct rbld_data *d, int64_t now, const uint8_t *pkt,
		   size_t len, uint8_t *out, size_t limit, int tcp)
{
	struct rblpkt_query q;
	struct rblpkt_resp resp;
	struct rbld_zone *z;
	struct rbld_counters *zc;
	enum rblpkt_verdict v = rblpkt_parse(pkt, len, &q);
	size_t olen, plen, i, j;
	uint16_t apex, owner = RBLPKT_HEADER;
	struct hits h;
	int kind = NAME_NONE, exists = 0;
	uint32_t v4 = 0;
	uint8_t v6[16];
	char subj[RBLPKT_WIRE_NAME_MAX + 1];
	size_t slen = 0;

	r->total.queries++;
	if (tcp)
		r->total.tcp++;
	if (v == RBLPKT_DROP)
		return 0;
	if (!tcp) {
		size_t ul = rblpkt_udp_limit(&q);
		if (ul < limit)
			limit = ul;
	}
	if (v == RBLPKT_REPLY_ERROR) {
		r->total.formerr++;
		rblpkt_resp_begin(&resp, out, limit, pkt, &q, q.rcode, 0);
		return rblpkt_resp_finish(&resp, q.rcode);
	}
	/* Zone transfers are never offered, to anyone: REFUSED, like a name
	 * outside every zone (the lists are not published in bulk). */
	z = (q.qclass == RBLPKT_C_IN || q.qclass == RBLPKT_C_ANY) &&
			    q.qtype != RBLPKT_T_AXFR && q.qtype != RBLPKT_T_IXFR
		    ? find_zone(r, &q, pkt)
		    : NULL;
	if (z == NULL) {
		r->total.refused++;
		rblpkt_resp_begin(&resp, out, limit, pkt, &q, RBLPKT_REFUSED, 0);
		return rblpkt_resp_finish(&resp, 0);
	}
	zc = &z->stats;
	zc->queries++;
	if (tcp)
		zc->tcp++;
	plen = q.name_len > z->name_len ? q.name_len - z->name_len - 1 : 0;
	apex = rblpkt_name_offset(&q, q.name_len - z->name_len);
	if (q.name_len == z->name_len) {
		/* The apex: SOA and NS; ANY gets the SOA alone (RFC 8482). */
		rblpkt_resp_begin(&resp, out, limit, pkt, &q, RBLPKT_NOERROR, 1);
		if (q.qtype == RBLPKT_T_SOA || q.qtype == RBLPKT_T_ANY) {
			add_soa(&resp, RBLPKT_SEC_ANSWER, apex, z, z->ttl, d->serial);
		} else if (q.qtype == RBLPKT_T_NS) {
			for (i = 0; i < z->nns; i++)
				rblpkt_add_rr(&resp, RBLPKT_SEC_ANSWER, apex, RBLPKT_T_NS, z->ttl,
					      z->ns[i], z->ns_len[i]);
		} else {
			zc->nodata++;
			r->total.nodata++;
			add_soa(&resp, RBLPKT_SEC_AUTHORITY, apex, z, z->neg_ttl, d->serial);
		}
		return finish(&resp, zc, &r->total, tcp);
	}
	h.n = 0;
	if (q.name_plain && z->type != RBLD_ZONE_DOMAIN)
		kind = parse_reverse(q.name, plen, &v4, v6);
	if (kind == NAME_V6 && is_v4_mapped6(v6)) {
		/* ::ffff:a.b.c.d is a.b.c.d (addr.h), so ::FFFF:7F00:2 is a test point. */
		v4 = (uint32_t)v6[12] << 24 | (uint32_t)v6[13] << 16 | (uint32_t)v6[14] << 8 | v6[15];
		kind = NAME_V4;
		inet_ntop(AF_INET6, v6, subj, sizeof subj);
		slen = strlen(subj);
	}
	if (kind == NAME_V4) {
		exists = 1;
		if (slen == 0 && q.qtype == RBLPKT_T_TXT)
			slen = (size_t)snprintf(subj, sizeof subj, "%u.%u.%u.%u", v4 >> 24,
						(v4 >> 16) & 255, (v4 >> 8) & 255, v4 & 255);
		if (v4 == 0x7f000001u) {
			exists = 0; /* RFC 5782 5: never listed */
		} else if (r->allow_src < 0 ||
			   rblindex_lookup_v4(d->ix[r->allow_src], v4, now, NULL) != RBLINDEX_LISTED ||
			   v4 == 0x7f000002u) {
			for (i = 0; i < z->nsrc; i++) {
				struct rblindex_hit hit;
				if (rblindex_lookup_v4(d->ix[z->src[i]], v4, now, &hit) == RBLINDEX_LISTED)
					hits_add(&h, hit.code, hit.reason, hit.reason_len);
			}
			if (h.n == 0 && v4 == 0x7f000002u)
				hits_add(&h, LISTING_CODE_DEFAULT, TEST_POINT_TEXT,
					 sizeof TEST_POINT_TEXT - 1);
		}
		exists = h.n > 0;
	} else if (kind == NAME_V6) {
		if (q.qtype == RBLPKT_T_TXT) {
			inet_ntop(AF_INET6, v6, subj, sizeof subj);
			slen = strlen(subj);
		}
		if (r->allow_src < 0 ||
		    rblindex_lookup_v6(d->ix[r->allow_src], v6, now, NULL) != RBLINDEX_LISTED) {
			for (i = 0; i < z->nsrc; i++) {
				struct rblindex_hit hit;
				if (rblindex_lookup_v6(d->ix[z->src[i]], v6, now, &hit) == RBLINDEX_LISTED)
					hits_add(&h, hit.code, hit.reason, hit.reason_len);
			}
		}
		exists = h.n > 0;
	} else if (kind == NAME_PARTIAL) {
		exists = 1; /* a reversed-address prefix: an empty non-terminal */
	} else if (q.name_plain && z->type != RBLD_ZONE_IP) {
		memcpy(subj, q.name, plen);
		subj[plen] = '\0';
		slen = plen;
		if (plen == 4 && memcmp(q.name, "test", 4) == 0) {
			hits_add(&h, LISTING_CODE_DEFAULT, TEST_POINT_TEXT, sizeof TEST_POINT_TEXT - 1);
			for (i = 0; i < z->nsrc; i++) {
				struct rblindex_hit hit;
				if (rblindex_lookup_name(d->ix[z->src[i]], q.name, plen, now, &hit) ==
				    RBLINDEX_LISTED) {
					if (h.n == 1 && h.reason[0] == TEST_POINT_TEXT)
						h.n = 0;
					hits_add_name(&h, &hit);
				}
			}
		} else if (!(plen == 7 && memcmp(q.name, "invalid", 7) == 0) &&
			   (r->allow_src < 0 ||
			    rblindex_lookup_name(d->ix[r->allow_src], q.name, plen, now, NULL) !=
				    RBLINDEX_LISTED)) {
			for (i = 0; i < z->nsrc; i++) {
				struct rblindex_hit hit;
				if (rblindex_lookup_name(d->ix[z->src[i]], q.name, plen, now, &hit) ==
				    RBLINDEX_LISTED)
					hits_add_name(&h, &hit);
			}
		}
		exists = h.n > 0;
		for (i = 0; !exists && i < z->nsrc; i++)
			exists = rblindex_name_has_children(d->ix[z->src[i]], q.name, plen);
	}
	if (!exists) {
		zc->nxdomain++;
		r->total.nxdomain++;
		rblpkt_resp_begin(&resp, out, limit, pkt, &q, RBLPKT_NXDOMAIN, 1);
		add_soa(&resp, RBLPKT_SEC_AUTHORITY, apex, z, z->neg_ttl, d->serial);
		return finish(&resp, zc, &r->total, tcp);
	}
	rblpkt_resp_begin(&resp, out, limit, pkt, &q, RBLPKT_NOERROR, 1);
	if (h.n > 0) {
		zc->listed++;
		r->total.listed++;
	}
	if (q.qtype == RBLPKT_T_A || q.qtype == RBLPKT_T_ANY) {
		for (i = 0; i < h.n; i++) {
			for (j = 0; j < i && h.code[j] != h.code[i]; j++)
				;
			if (j == i) /* RFC 2181 5: no duplicate records in an RRset */
				rblpkt_add_a(&resp, RBLPKT_SEC_ANSWER, owner, z->ttl, h.code[i]);
		}
	} else if (q.qtype == RBLPKT_T_TXT) {
		char txt[RBLD_ZONE_SOURCES_MAX + 1][TXT_MAX];
		size_t tl[RBLD_ZONE_SOURCES_MAX + 1];

		for (i = 0; i < h.n; i++) {
			tl[i] = h.subj[i] ? expand_txt(h.reason[i], h.rlen[i], h.subj[i], h.slen[i], txt[i])
					  : expand_txt(h.reason[i], h.rlen[i], subj, slen, txt[i]);
			for (j = 0; j < i && !(tl[j] == tl[i] && memcmp(txt[j], txt[i], tl[i]) == 0);
			     j++)
				;
			if (j == i && tl[i] > 0)
				rblpkt_add_txt(&resp, RBLPKT_SEC_ANSWER, owner, z->ttl, txt[i], tl[i]);
		}
	}
	if (resp.count[RBLPKT_SEC_ANSWER] == 0 && !resp.truncated) {
		zc->nodata++;
		r->total.nodata++;
		add_soa(&resp, RBLPKT_SEC_AUTHORITY, apex, z, z->neg_ttl, d->serial);
	}
	olen = finish(&resp, zc, &r->total, tcp);
	return olen;
}

void rbld_note_ratelimited(struct rbld *r, const uint8_t *pkt, size_t len)
{
	struct rblpkt_query q;
	struct rbld_zone *z;

	r->total.queries++;
	r->total.ratelimited++;
	if (rblpkt_parse(pkt, len, &q) != RBLPKT_ANSWER || (z = find_zone(r, &q, pkt)) == NULL)
		return;
	z->stats.queries++;
	z->stats.ratelimited++;
}

size_t rbld_answer_truncated(const uint8_t *pkt, size_t len, uint8_t *out, size_t limit)
{
	struct rblpkt_query q;
	struct rblpkt_resp resp;

	if (rblpkt_parse(pkt, len, &q) != RBLPKT_ANSWER)
		return 0;
	rblpkt_resp_begin(&resp, out, limit, pkt, &q, RBLPKT_NOERROR, 1);
	resp.truncated = 1;
	return rblpkt_resp_finish(&resp, 0);
}

static size_t stats_line(char *buf, size_t len, const char *name, const struct rbld_counters *c)
{
	int n = snprintf(buf, len,
			 "zone %s queries=%llu listed=%llu nxdomain=%llu nodata=%llu refused=%llu "
			 "formerr=%llu ratelimited=%llu tcp=%llu truncated=%llu\n",
			 name, (unsigned long long)c->queries, (unsigned long long)c->listed,
			 (unsigned long long)c->nxdomain, (unsigned long long)c->nodata,
			 (unsigned long long)c->refused, (unsigned long long)c->formerr,
			 (unsigned long long)c->ratelimited, (unsigned long long)c->tcp,
			 (unsigned long long)c->truncated);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

size_t rbld_stats_format(const struct rbld *r, char *buf, size_t len)
{
	size_t o = 0, i;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < r->nzones && o + 1 < len; i++)
		o += stats_line(buf + o, len - o, r->zones[i].name, &r->zones[i].stats);
	if (o + 1 < len)
		o += stats_line(buf + o, len - o, "*", &r->total);
	return o;
}
