/* Tests for lib/rblpkt.c with ldns as the oracle: queries built by ldns parse to
 * the same fields, answers built here parse in ldns to the records put in, and
 * malformed or mutated packets are refused without reading past their end. */
#include <check.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "rblpkt.h"

static size_t ldns_query(const char *name, ldns_rr_type t, int edns, uint16_t udp,
			 uint8_t *out, size_t outlen)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;
	size_t len = 0;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&p, name, t, LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 4242);
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, udp);
		ldns_pkt_set_edns_do(p, true);
	}
	ck_assert_int_eq(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	ck_assert_uint_le(len, outlen);
	memcpy(out, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

START_TEST(test_parse_query_from_ldns)
{
	uint8_t b[512];
	struct rblpkt_query q;
	size_t n = ldns_query("7.2.0.192.BL.Example.", LDNS_RR_TYPE_TXT, 1, 4096, b, sizeof b);

	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_ANSWER);
	ck_assert_uint_eq(q.id, 4242);
	ck_assert_uint_eq(q.qtype, RBLPKT_T_TXT);
	ck_assert_uint_eq(q.qclass, RBLPKT_C_IN);
	ck_assert_str_eq(q.name, "7.2.0.192.bl.example");
	ck_assert_uint_eq(q.name_len, 20);
	ck_assert_int_eq(q.name_plain, 1);
	ck_assert_int_eq(q.edns, 1);
	ck_assert_uint_eq(q.edns_udp, 4096);
	ck_assert_uint_eq(rblpkt_udp_limit(&q), RBLPKT_UDP_MAX);
	n = ldns_query("x.", LDNS_RR_TYPE_A, 0, 0, b, sizeof b);
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_ANSWER);
	ck_assert_int_eq(q.edns, 0);
	ck_assert_uint_eq(rblpkt_udp_limit(&q), RBLPKT_UDP_MIN);
}
END_TEST

START_TEST(test_answer_parses_in_ldns)
{
	uint8_t b[512], out[RBLPKT_UDP_MAX];
	struct rblpkt_query q;
	struct rblpkt_resp r;
	size_t n = ldns_query("7.2.0.192.bl.example.", LDNS_RR_TYPE_A, 1, 1232, b, sizeof b);
	ldns_pkt *p = NULL;
	uint8_t soa[64];
	int l;

	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_ANSWER);
	rblpkt_resp_begin(&r, out, rblpkt_udp_limit(&q), b, &q, RBLPKT_NOERROR, 1);
	ck_assert_int_eq(rblpkt_add_a(&r, RBLPKT_SEC_ANSWER, RBLPKT_HEADER, 600, 0x7f000002), 0);
	ck_assert_int_eq(rblpkt_add_a(&r, RBLPKT_SEC_ANSWER, RBLPKT_HEADER, 600, 0x7f000009), 0);
	ck_assert_int_eq(rblpkt_add_txt(&r, RBLPKT_SEC_ANSWER, RBLPKT_HEADER, 600, "why $", 5), 0);
	/* An NS owned by the zone: pointer to the "bl.example" suffix (text offset 10). */
	l = rblpkt_name_to_wire("ns1.bl.example", soa, sizeof soa);
	ck_assert_int_eq(l, 16);
	ck_assert_int_eq(rblpkt_add_rr(&r, RBLPKT_SEC_AUTHORITY, rblpkt_name_offset(&q, 10),
				       RBLPKT_T_NS, 300, soa, (size_t)l), 0);
	n = rblpkt_resp_finish(&r, 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(p), 4242);
	ck_assert(ldns_pkt_qr(p));
	ck_assert(ldns_pkt_aa(p));
	ck_assert(ldns_pkt_rd(p));
	ck_assert(!ldns_pkt_ra(p));
	ck_assert(!ldns_pkt_tc(p));
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 3);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), 1232);
	ck_assert(!ldns_pkt_edns_do(p));
	char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 1));
	ck_assert_str_eq(s, "7.2.0.192.bl.example.\t600\tIN\tA\t127.0.0.9\n");
	free(s);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 2));
	ck_assert_str_eq(s, "7.2.0.192.bl.example.\t600\tIN\tTXT\t\"why $\"\n");
	free(s);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_authority(p), 0));
	ck_assert_str_eq(s, "bl.example.\t300\tIN\tNS\tns1.bl.example.\n");
	free(s);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_long_txt_split_into_strings)
{
	uint8_t b[512], out[RBLPKT_TCP_MAX];
	struct rblpkt_query q;
	struct rblpkt_resp r;
	char text[600];
	ldns_pkt *p = NULL;
	size_t n = ldns_query("a.bl.", LDNS_RR_TYPE_TXT, 0, 0, b, sizeof b);

	memset(text, 'x', sizeof text);
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_ANSWER);
	rblpkt_resp_begin(&r, out, RBLPKT_TCP_MAX, b, &q, RBLPKT_NOERROR, 1);
	ck_assert_int_eq(rblpkt_add_txt(&r, 0, RBLPKT_HEADER, 60, text, 600), 0);
	n = rblpkt_resp_finish(&r, 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	ck_assert_uint_eq(ldns_rr_rd_count(rr), 3); /* 255 + 255 + 90 */
	ck_assert_uint_eq(ldns_rdf_size(ldns_rr_rdf(rr, 2)), 91);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_truncation_sets_tc_and_keeps_opt)
{
	uint8_t b[512], out[RBLPKT_UDP_MAX];
	struct rblpkt_query q;
	struct rblpkt_resp r;
	char text[250];
	ldns_pkt *p = NULL;
	int i, fails = 0;
	size_t n = ldns_query("a.bl.", LDNS_RR_TYPE_TXT, 1, 512, b, sizeof b);

	memset(text, 'y', sizeof text);
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_ANSWER);
	rblpkt_resp_begin(&r, out, rblpkt_udp_limit(&q), b, &q, RBLPKT_NOERROR, 1);
	for (i = 0; i < 4; i++)
		fails += rblpkt_add_txt(&r, 0, RBLPKT_HEADER, 60, text, sizeof text) < 0;
	ck_assert_int_eq(fails, 3); /* one fits in 512 with the OPT, then it stops */
	n = rblpkt_resp_finish(&r, 0);
	ck_assert_uint_le(n, 512);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_tc(p));
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_badvers_extended_rcode)
{
	uint8_t b[512], out[512];
	struct rblpkt_query q;
	struct rblpkt_resp r;
	ldns_pkt *p = NULL;
	size_t n = ldns_query("a.bl.", LDNS_RR_TYPE_A, 1, 1232, b, sizeof b);

	b[n - 11 + 6] = 1; /* OPT TTL byte 2: version 1 */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_REPLY_ERROR);
	ck_assert_int_eq(q.rcode, RBLPKT_BADVERS);
	rblpkt_resp_begin(&r, out, sizeof out, b, &q, q.rcode, 0);
	n = rblpkt_resp_finish(&r, q.rcode);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), 0);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 1); /* 1 << 4 | 0 = 16 */
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_malformed_queries)
{
	uint8_t b[600];
	struct rblpkt_query q;
	size_t n = ldns_query("a.bl.", LDNS_RR_TYPE_A, 0, 0, b, sizeof b);

	ck_assert_int_eq(rblpkt_parse(b, 11, &q), RBLPKT_DROP);
	b[2] |= 0x80; /* QR */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_DROP);
	b[2] &= 0x7f;
	b[2] |= 0x10; /* opcode 2 */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_REPLY_ERROR);
	ck_assert_int_eq(q.rcode, RBLPKT_NOTIMP);
	b[2] &= (uint8_t)~0x78;
	b[5] = 2; /* QDCOUNT 2 */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_REPLY_ERROR);
	ck_assert_int_eq(q.rcode, RBLPKT_FORMERR);
	b[5] = 1;
	ck_assert_int_eq(rblpkt_parse(b, n - 1, &q), RBLPKT_REPLY_ERROR); /* no qclass */
	b[12] = 0xc0; /* pointer in the question */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_REPLY_ERROR);
	ck_assert_int_eq(q.rcode, RBLPKT_FORMERR);
	b[12] = 0x40; /* extended label type */
	ck_assert_int_eq(rblpkt_parse(b, n, &q), RBLPKT_REPLY_ERROR);
	/* A 256-octet name: labels of 63, 63, 63 and 62 octets. */
	memset(b + 12, 'a', 300);
	for (int i = 0; i < 3; i++)
		b[12 + i * 64] = 63;
	b[12 + 192] = 62;
	b[12 + 255] = 0;
	b[12 + 256] = 0;
	ck_assert_int_eq(rblpkt_parse(b, 12 + 256 + 4, &q), RBLPKT_REPLY_ERROR);
	ck_assert_int_eq(q.rcode, RBLPKT_FORMERR);
	b[12 + 192] = 61; /* 255 octets: the limit itself is fine */
	b[12 + 254] = 0;
	b[12 + 255] = 0;
	b[12 + 256] = 1;
	b[12 + 257] = 0;
	b[12 + 258] = 1;
	ck_assert_int_eq(rblpkt_parse(b, 12 + 255 + 4, &q), RBLPKT_ANSWER);
	ck_assert_uint_eq(q.name_len, 253);
}
END_TEST

/* Random mutations of a valid query: parse must classify each one and, for the
 * ones it accepts, report a consistent question within the packet. */
START_TEST(test_mutations_never_overrun)
{
	uint8_t orig[512], b[512];
	struct rblpkt_query q;
	unsigned seed = 99;
	size_t n = ldns_query("1.2.3.4.zen.example.", LDNS_RR_TYPE_A, 1, 1232, orig, sizeof orig);

	for (int i = 0; i < 200000; i++) {
		size_t len = n;
		int k, muts = 1 + rand_r(&seed) % 4;
		uint8_t *heap;
		enum rblpkt_verdict v;

		memcpy(b, orig, n);
		for (k = 0; k < muts; k++)
			b[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 3 == 0)
			len = (size_t)rand_r(&seed) % (n + 1);
		/* Exactly len bytes on the heap, so an overrun would be a real one. */
		heap = malloc(len ? len : 1);
		memcpy(heap, b, len);
		v = rblpkt_parse(heap, len, &q);
		if (v == RBLPKT_ANSWER) {
			ck_assert_uint_le(RBLPKT_HEADER + q.question_len, len);
			ck_assert_uint_le(q.name_len, 253);
			if (q.name_plain)
				ck_assert_uint_eq(strlen(q.name), q.name_len);
		}
		free(heap);
	}
}
END_TEST

START_TEST(test_name_to_wire)
{
	uint8_t w[300];

	ck_assert_int_eq(rblpkt_name_to_wire("a.bc.", w, sizeof w), 6);
	ck_assert_int_eq(memcmp(w, "\001a\002bc\000", 6), 0);
	ck_assert_int_eq(rblpkt_name_to_wire(".", w, sizeof w), 1);
	ck_assert_int_eq(rblpkt_name_to_wire("a..b", w, sizeof w), -1);
	char longl[80];
	memset(longl, 'x', 64);
	longl[64] = '\0';
	ck_assert_int_eq(rblpkt_name_to_wire(longl, w, sizeof w), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rblpkt");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_query_from_ldns);
	tcase_add_test(tc, test_answer_parses_in_ldns);
	tcase_add_test(tc, test_long_txt_split_into_strings);
	tcase_add_test(tc, test_truncation_sets_tc_and_keeps_opt);
	tcase_add_test(tc, test_badvers_extended_rcode);
	tcase_add_test(tc, test_malformed_queries);
	tcase_add_test(tc, test_mutations_never_overrun);
	tcase_add_test(tc, test_name_to_wire);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
