/* rblpkt: the responder's hand-written DNS wire code — strict parsing of one query
 * (RFC 1035 4.1, EDNS0 per RFC 6891) and building of authoritative answers into a
 * caller buffer with truncation (TC) when they do not fit.  No allocation; every
 * length read from the packet is checked against the packet's end.  ldns is the
 * oracle for this code in tests/unit/test_rblpkt.c. */
#ifndef CHANRAC_RBLPKT_H
#define CHANRAC_RBLPKT_H

#include <stddef.h>
#include <stdint.h>

#define RBLPKT_HEADER 12
#define RBLPKT_UDP_MIN 512      /* RFC 1035 4.2.1 */
#define RBLPKT_UDP_MAX 1232     /* DNS flag day 2020 EDNS buffer size */
#define RBLPKT_TCP_MAX 65535
#define RBLPKT_WIRE_NAME_MAX 255 /* RFC 1035 3.1 */

enum {
	RBLPKT_T_A = 1, RBLPKT_T_NS = 2, RBLPKT_T_SOA = 6, RBLPKT_T_TXT = 16,
	RBLPKT_T_AAAA = 28, RBLPKT_T_OPT = 41, RBLPKT_T_IXFR = 251, RBLPKT_T_AXFR = 252,
	RBLPKT_T_ANY = 255,
	RBLPKT_C_IN = 1, RBLPKT_C_ANY = 255,
};

enum {
	RBLPKT_NOERROR = 0, RBLPKT_FORMERR = 1, RBLPKT_SERVFAIL = 2, RBLPKT_NXDOMAIN = 3,
	RBLPKT_NOTIMP = 4, RBLPKT_REFUSED = 5, RBLPKT_BADVERS = 16,
};

/* What rblpkt_parse says to do with a packet. */
enum rblpkt_verdict {
	RBLPKT_ANSWER = 0,   /* a well-formed standard query: answer it */
	RBLPKT_DROP,         /* not worth an answer (too short, a response) */
	RBLPKT_REPLY_ERROR,  /* answer with q->rcode (FORMERR, NOTIMP, BADVERS) */
};

struct rblpkt_query {
	uint16_t id;
	uint16_t flags;      /* the query's flags word */
	uint16_t qtype, qclass;
	int has_question;    /* question parsed (echoed in any answer) */
	size_t question_len; /* wire bytes of qname + qtype + qclass */
	size_t qname_len;    /* wire bytes of qname, with the final 0 */
	char name[RBLPKT_WIRE_NAME_MAX + 1]; /* lower case, dotted, no final dot */
	size_t name_len;     /* 0 for the root */
	int name_plain;      /* 1 if no label holds '.', space or a control byte */
	int edns;            /* OPT present */
	uint16_t edns_udp;   /* requestor's payload size */
	uint8_t edns_version;
	int rcode;           /* for RBLPKT_REPLY_ERROR */
};

/* Parses the query in p[0..len).  Never reads past len. */
enum rblpkt_verdict rblpkt_parse(const uint8_t *p, size_t len, struct rblpkt_query *q);

/* Largest answer allowed for q over UDP: 512 without EDNS, else the requestor's
 * size within 512..1232. */
size_t rblpkt_udp_limit(const struct rblpkt_query *q);

/* Wire offset of the name suffix starting at text offset off of q->name (off must
 * be 0 or follow a '.', or equal name_len for the root): the target of a
 * compression pointer to that suffix of the question. */
uint16_t rblpkt_name_offset(const struct rblpkt_query *q, size_t off);

enum { RBLPKT_SEC_ANSWER = 0, RBLPKT_SEC_AUTHORITY, RBLPKT_SEC_ADDITIONAL };

struct rblpkt_resp {
	uint8_t *buf;
	size_t limit;  /* most bytes the answer may take */
	size_t len;
	size_t base;   /* header + question */
	uint16_t count[3];
	int section;
	int truncated;
	int opt;       /* room reserved for, and finish adds, an OPT record */
};

/* Starts an answer to q in buf (at least limit bytes): header with id, RD copied,
 * QR, AA (if aa), rcode; the question echoed byte for byte from query. */
void rblpkt_resp_begin(struct rblpkt_resp *r, uint8_t *buf, size_t limit, const uint8_t *query,
		       const struct rblpkt_query *q, int rcode, int aa);
/* Adds one record owned by the name at wire offset name_off (a compression
 * pointer) in section sec (sections must come in order).  0, or -1 when it does
 * not fit: the answer is then marked truncated and further adds are ignored. */
int rblpkt_add_rr(struct rblpkt_resp *r, int sec, uint16_t name_off, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, size_t rdlen);
int rblpkt_add_a(struct rblpkt_resp *r, int sec, uint16_t name_off, uint32_t ttl, uint32_t a);
/* TXT of text (split into 255-byte character-strings; at most 1024 bytes). */
int rblpkt_add_txt(struct rblpkt_resp *r, int sec, uint16_t name_off, uint32_t ttl,
		   const char *text, size_t len);
/* Finishes the answer and returns its length: sets the counts, TC=1 with an
 * empty answer if something did not fit, and the OPT record (RFC 6891 6.1.1,
 * with ext_rcode's upper bits) if the query had one. */
size_t rblpkt_resp_finish(struct rblpkt_resp *r, int ext_rcode);

/* Converts "ns1.example.vn" to wire format in out (RBLPKT_WIRE_NAME_MAX bytes).
 * Returns the wire length or -1 if the name is invalid. */
int rblpkt_name_to_wire(const char *text, uint8_t *out, size_t outlen);

#endif
