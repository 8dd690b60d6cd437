/* fuzz_dns: one DNS query packet through the responder — lib/rblpkt.c's parser and
 * rbl/zone.c's rbld_answer over in-memory zones (an IP zone, a domain zone, an
 * "any" zone with many sources, an allow list), over UDP and TCP limits, and the
 * rate-limit slip answer.  Invariants: no answer is longer than its limit, every
 * answer echoes the query id with QR set and parses with ldns, and its records
 * are owned by a zone apex (SOA, NS) or by the question's name (A, TXT). */
#include <ldns/ldns.h>

#include "dataset.h"
#include "fuzz.h"
#include "rbld.h"
#include "rblindex.h"

static const char conf_text[] =
	"[lists]\n"
	"names = spam allow\n"
	"[rbld]\n"
	"allow_list = allow\n"
	"[zone bl.test]\n"
	"type = ip\n"
	"lists = spam\n"
	"files = ip4set:/fuzz/ip4set ip6trie:/fuzz/ip6trie\n"
	"ns = ns1.bl.test ns2.bl.test\n"
	"hostmaster = abuse.bl.test\n"
	"[zone dbl.test]\n"
	"type = domain\n"
	"lists = spam\n"
	"files = dnset:/fuzz/dnset\n"
	"[zone any.test]\n"
	"files = plain:/fuzz/big1 plain:/fuzz/big2 plain:/fuzz/big3 plain:/fuzz/big4 "
	"dnset:/fuzz/dnset ip4trie:/fuzz/ip4trie\n";

#define LONG "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* The entries of each source, by the path in conf_text (or "list:" + name). */
static const struct {
	const char *name;
	const char *text;
} sources[] = {
	{ "list:spam",
	  "ip4 192.0.2.7 127.0.0.2 spam from $\n"
	  "cidr4 198.51.100.0/24 3 range $ here\n"
	  "ip4 !198.51.100.9 2\n"
	  "ip6 2001:db8::1 4 v6 host $\n"
	  "cidr6 2001:db8:5::/48 5 v6 range\n"
	  "domain example.vn 10 spam domain $\n"
	  "domain *.wild.vn 11 wild $ and $\n"
	  "domain !ok.wild.vn 2\n"
	  "domain a.b.c.deep.vn 12 deep\n" },
	{ "list:allow", "ip4 192.0.2.8 2 allowed\ndomain good.vn 2 ok\nip6 2001:db8::8 2 ok\n" },
	{ "/fuzz/ip4set",
	  ":127.0.0.5:range $\n192.0.2.0/24\n192.0.2.9 :6:host $\n!192.0.2.10\n"
	  "10.0.0.1-10.0.0.5 :7:\n" },
	{ "/fuzz/ip6trie", "2001:db8::/32 :5:v6 range $\n2001:db8:1::1 :6:v6 host $\n"
			   "!2001:db8:2::/48\n" },
	{ "/fuzz/dnset",
	  ":127.0.1.2:Domain $\nexample.com :10:spam domain $\n*.w.vn :11:wild\n"
	  "!ok.w.vn\n.dot.vn :12:both\nshop.example.com.vn\n" },
	{ "/fuzz/big1", "ip4 10.0.0.1 21 reason 1 " LONG LONG " $\n" },
	{ "/fuzz/big2", "ip4 10.0.0.1 22 reason 2 " LONG LONG " $\ndomain test 3 t\n" },
	{ "/fuzz/big3", "ip4 10.0.0.1 23 reason 3 " LONG LONG "\n" },
	{ "/fuzz/big4", "cidr4 10.0.0.0/8 24 $$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$$\n" },
	{ "/fuzz/ip4trie", "10.0.0.0/16 :25:trie $\n127.0.0.2 :26:test point too\n" },
};

static struct rbld R;
static struct rbld_data *D;
static cr_conf *C;

static int add_entry(void *ud, const struct listing_entry *e, unsigned line)
{
	(void)line;
	return rblindex_builder_add(ud, e) < 0;
}

static rblindex *load(const struct rbld_source *s)
{
	char key[4200], err[512];
	rblindex_builder *b = rblindex_builder_new();
	const char *text = NULL;
	enum dataset_format fmt = s->redis ? DATASET_PLAIN : s->fmt;
	FILE *f;
	rblindex *ix;

	snprintf(key, sizeof key, "%s%s", s->redis ? "list:" : "", s->redis ? s->list : s->path);
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
		if (strcmp(sources[i].name, key) == 0)
			text = sources[i].text;
	FUZZ_ASSERT(b != NULL && text != NULL);
	f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	FUZZ_ASSERT(f != NULL);
	if (dataset_parse_stream(f, key, fmt, add_entry, b, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_dns: %s\n", err);
		abort();
	}
	fclose(f);
	ix = rblindex_build(b, 0, err, sizeof err);
	FUZZ_ASSERT(ix != NULL);
	return ix;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	C = conf_load_string(conf_text, "fuzz_dns.conf", err, sizeof err);
	if (C == NULL) {
		fprintf(stderr, "fuzz_dns: %s\n", err);
		abort();
	}
	R.conf = C;
	if (rbld_zones_setup(&R, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_dns: %s\n", err);
		abort();
	}
	FUZZ_ASSERT(R.allow_src >= 0);
	D = calloc(1, sizeof(*D) + R.nsrc * sizeof(rblindex *));
	FUZZ_ASSERT(D != NULL);
	D->gen = 1;
	D->serial = 1700000000u;
	D->nsrc = R.nsrc;
	for (size_t i = 0; i < R.nsrc; i++)
		D->ix[i] = load(&R.src[i]);
	return 0;
}

/* Every SOA and NS record is owned by a zone's apex; every A and TXT record by
 * the question's name. */
static void check_owners(const ldns_pkt *p)
{
	static const char *const zones[] = { "bl.test.", "dbl.test.", "any.test." };
	ldns_rr_list *lists[2] = { ldns_pkt_answer(p), ldns_pkt_authority(p) };
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(p), 0);

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < ldns_rr_list_rr_count(lists[l]); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(lists[l], i);
			ldns_rr_type t = ldns_rr_get_type(rr);
			int ok = 0;

			if (t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NS) {
				for (size_t z = 0; z < 3 && !ok; z++) {
					ldns_rdf *d = ldns_dname_new_frm_str(zones[z]);
					ok = ldns_dname_compare(ldns_rr_owner(rr), d) == 0;
					ldns_rdf_deep_free(d);
				}
			} else if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_TXT) {
				ok = qrr != NULL &&
				     ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(qrr)) == 0;
			}
			if (!ok) {
				char *txt = ldns_rr2str(rr);
				fprintf(stderr, "fuzz_dns: record with a wrong owner: %s", txt);
				free(txt);
				abort();
			}
		}
}

static void check_answer(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
			 size_t limit)
{
	ldns_pkt *p = NULL;

	FUZZ_ASSERT(alen <= limit);
	if (alen == 0)
		return;
	FUZZ_ASSERT(alen >= RBLPKT_HEADER && qlen >= 2);
	FUZZ_ASSERT(a[0] == q[0] && a[1] == q[1]); /* the id */
	FUZZ_ASSERT(a[2] & 0x80);                  /* QR */
	if (ldns_wire2pkt(&p, a, alen) != LDNS_STATUS_OK) {
		fprintf(stderr, "fuzz_dns: ldns cannot parse an answer of %zu bytes:", alen);
		for (size_t i = 0; i < alen; i++)
			fprintf(stderr, "%s%02x", i % 32 ? " " : "\n", a[i]);
		fprintf(stderr, "\n");
		abort();
	}
	check_owners(p);
	ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[RBLPKT_TCP_MAX];
	size_t n;

	n = rbld_answer(&R, D, 1700000000, data, size, out, sizeof out, 0);
	FUZZ_ASSERT(n <= RBLPKT_UDP_MAX);
	check_answer(data, size, out, n, sizeof out);
	n = rbld_answer(&R, D, 1700000000, data, size, out, sizeof out, 1);
	check_answer(data, size, out, n, sizeof out);
	/* A small TCP buffer forces truncation on every path.  300 bytes: the
	 * header, the longest question (259) and an OPT record (11) always fit,
	 * as rblpkt_resp_begin needs (the smallest real limit is 512). */
	n = rbld_answer(&R, D, 1700000000, data, size, out, 300, 1);
	check_answer(data, size, out, n, 300);
	n = rbld_answer_truncated(data, size, out, RBLPKT_UDP_MIN);
	check_answer(data, size, out, n, RBLPKT_UDP_MIN);
	rbld_note_ratelimited(&R, data, size);
	return 0;
}
