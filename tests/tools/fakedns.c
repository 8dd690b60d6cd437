/* fakedns: a tiny scripted authoritative DNS server for tests of lib/dnsq and SPF.
 * Listens on UDP+TCP 127.0.0.1 (and [::1] with -6) on one free port it prints on
 * stdout, answers per rules given as arguments, and reports query counts on stdin.
 *
 *   fakedns [-6] RULE...      RULE = "NAME TYPE ACTION [ARGS]"; TYPE is A, TXT... or *
 *   ACTION: rr <RR text>       answer record, e.g. "x.test A rr x.test. 60 IN A 127.0.0.2"
 *           soa TTL MIN        SOA in the authority section of negative answers
 *           nxdomain | servfail | refused      that rcode
 *           drop               never answer (UDP); close (TCP)
 *           delay MS           answer UDP after MS milliseconds
 *           spoof-id | spoof-question | spoof-port   first a forged NXDOMAIN with a wrong
 *                              ID / wrong question / from another port, then the answer
 *           forge-a IP         with spoof-*: the forged reply is a listing (NOERROR, one
 *                              A record IP) instead of an NXDOMAIN
 *           tc                 UDP answers are empty with TC=1; TCP gets the full answer
 *           upcase             the question is echoed in upper case
 *   A NAME without any rule is NXDOMAIN; a known NAME without rules for TYPE is NODATA.
 *   stdin: "count NAME" -> number of queries for NAME; "total" -> all queries. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define MAX_RULES 256
#define MAX_NAMES 512
#define MAX_PENDING 256

enum action {
	ACT_RR, ACT_SOA, ACT_NXDOMAIN, ACT_SERVFAIL, ACT_REFUSED, ACT_DROP, ACT_DELAY,
	ACT_SPOOF_ID, ACT_SPOOF_QUESTION, ACT_SPOOF_PORT, ACT_TC, ACT_UPCASE, ACT_FORGE_A,
};

struct rule {
	char name[256];
	int type; /* 0 = any */
	enum action act;
	ldns_rr *rr;
	int ms;
	char arg[64]; /* forge-a: the address */
};

struct counter {
	char name[256];
	unsigned n;
};

struct pending {
	long long due_ms;
	int fd;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint8_t *wire;
	size_t len;
};

static struct rule rules[MAX_RULES];
static size_t nrules;
static struct counter counters[MAX_NAMES];
static size_t ncounters;
static unsigned total_queries;
static struct pending pend[MAX_PENDING];
static size_t npend;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lower_name(const char *in, char *out, size_t len)
{
	size_t i, n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
}

static int parse_rule(const char *text)
{
	struct rule *r;
	char name[256], type[32], act[32];
	int off = 0;
	const char *rest;

	if (nrules >= MAX_RULES || sscanf(text, "%255s %31s %31s %n", name, type, act, &off) < 3)
		return -1;
	rest = text + off;
	r = &rules[nrules];
	memset(r, 0, sizeof(*r));
	lower_name(name, r->name, sizeof(r->name));
	if (strcmp(type, "*") == 0)
		r->type = 0;
	else if ((r->type = (int)ldns_get_rr_type_by_name(type)) == 0)
		return -1;
	if (strcmp(act, "rr") == 0) {
		r->act = ACT_RR;
		if (ldns_rr_new_frm_str(&r->rr, rest, 300, NULL, NULL) != LDNS_STATUS_OK)
			return -1;
	} else if (strcmp(act, "soa") == 0) {
		char buf[600];
		int ttl, min;
		r->act = ACT_SOA;
		if (sscanf(rest, "%d %d", &ttl, &min) != 2)
			return -1;
		snprintf(buf, sizeof(buf), "%s. %d IN SOA ns.%s. host.%s. 1 3600 600 86400 %d",
			 r->name, ttl, r->name, r->name, min);
		if (ldns_rr_new_frm_str(&r->rr, buf, 300, NULL, NULL) != LDNS_STATUS_OK)
			return -1;
	} else if (strcmp(act, "nxdomain") == 0) {
		r->act = ACT_NXDOMAIN;
	} else if (strcmp(act, "servfail") == 0) {
		r->act = ACT_SERVFAIL;
	} else if (strcmp(act, "refused") == 0) {
		r->act = ACT_REFUSED;
	} else if (strcmp(act, "drop") == 0) {
		r->act = ACT_DROP;
	} else if (strcmp(act, "delay") == 0) {
		r->act = ACT_DELAY;
		r->ms = atoi(rest);
	} else if (strcmp(act, "spoof-id") == 0) {
		r->act = ACT_SPOOF_ID;
	} else if (strcmp(act, "spoof-question") == 0) {
		r->act = ACT_SPOOF_QUESTION;
	} else if (strcmp(act, "spoof-port") == 0) {
		r->act = ACT_SPOOF_PORT;
	} else if (strcmp(act, "tc") == 0) {
		r->act = ACT_TC;
	} else if (strcmp(act, "upcase") == 0) {
		r->act = ACT_UPCASE;
	} else if (strcmp(act, "forge-a") == 0) {
		struct in_addr ia;
		r->act = ACT_FORGE_A;
		snprintf(r->arg, sizeof(r->arg), "%s", rest);
		if (inet_pton(AF_INET, r->arg, &ia) != 1)
			return -1;
	} else {
		return -1;
	}
	nrules++;
	return 0;
}

static void count(const char *name)
{
	size_t i;

	total_queries++;
	for (i = 0; i < ncounters; i++)
		if (strcmp(counters[i].name, name) == 0) {
			counters[i].n++;
			return;
		}
	if (ncounters < MAX_NAMES) {
		snprintf(counters[ncounters].name, sizeof(counters[0].name), "%s", name);
		counters[ncounters++].n = 1;
	}
}

/* What the rules say for one question. */
struct plan {
	int known, drop, delay_ms, tc, upcase, spoof; /* spoof: ACT_SPOOF_* or 0 */
	const char *forge_a; /* the forged reply lists this address (or NULL) */
	ldns_pkt_rcode rcode;
};

static ldns_pkt *build_reply(const ldns_pkt *query, int udp, struct plan *pl)
{
	ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	char *owner = ldns_rdf2str(ldns_rr_owner(qrr));
	char name[256];
	int qtype = ldns_rr_get_type(qrr);
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q2;
	size_t i;

	lower_name(owner, name, sizeof(name));
	free(owner);
	count(name);
	memset(pl, 0, sizeof(*pl));
	pl->rcode = LDNS_RCODE_NOERROR;
	for (i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		if (strcmp(r->name, name) != 0)
			continue;
		pl->known = 1;
		if (r->type != 0 && r->type != qtype)
			continue;
		switch (r->act) {
		case ACT_RR:
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_clone(r->rr));
			break;
		case ACT_NXDOMAIN:
			pl->rcode = LDNS_RCODE_NXDOMAIN;
			break;
		case ACT_SERVFAIL:
			pl->rcode = LDNS_RCODE_SERVFAIL;
			break;
		case ACT_REFUSED:
			pl->rcode = LDNS_RCODE_REFUSED;
			break;
		case ACT_DROP:
			pl->drop = 1;
			break;
		case ACT_DELAY:
			pl->delay_ms = r->ms;
			break;
		case ACT_SPOOF_ID:
		case ACT_SPOOF_QUESTION:
		case ACT_SPOOF_PORT:
			pl->spoof = (int)r->act;
			break;
		case ACT_TC:
			pl->tc = 1;
			break;
		case ACT_UPCASE:
			pl->upcase = 1;
			break;
		case ACT_FORGE_A:
			pl->forge_a = r->arg;
			break;
		case ACT_SOA:
			break;
		}
	}
	if (!pl->known)
		pl->rcode = LDNS_RCODE_NXDOMAIN;
	if (ldns_pkt_ancount(p) == 0)
		for (i = 0; i < nrules; i++)
			if (rules[i].act == ACT_SOA && strcmp(rules[i].name, name) == 0)
				ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ldns_rr_clone(rules[i].rr));
	q2 = ldns_rr_clone(qrr);
	if (pl->upcase) {
		ldns_rdf *o = ldns_rr_owner(q2);
		uint8_t *d = ldns_rdf_data(o);
		for (i = 0; i < ldns_rdf_size(o); i++)
			d[i] = (uint8_t)toupper(d[i]);
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q2);
	ldns_pkt_set_id(p, ldns_pkt_id(query));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, ldns_pkt_rd(query));
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(p, (uint8_t)pl->rcode);
	if (udp && pl->tc) {
		ldns_rr_list_deep_free(ldns_pkt_answer(p));
		ldns_pkt_set_answer(p, ldns_rr_list_new());
		ldns_pkt_set_ancount(p, 0);
		ldns_pkt_set_tc(p, true);
	}
	return p;
}

/* A forged NXDOMAIN (or, with forge_a, a listing) for the query; wrong ID or
 * wrong question if asked. */
static int forged(const ldns_pkt *query, int kind, const char *forge_a, uint8_t **wire,
		  size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(query), 0));
	int rc;

	if (kind == ACT_SPOOF_QUESTION) {
		ldns_rdf *pre = ldns_dname_new_frm_str("spoofed");
		ldns_rdf *o = ldns_rr_owner(qrr);
		ldns_dname_cat(pre, o);
		ldns_rr_set_owner(qrr, pre);
		ldns_rdf_deep_free(o);
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qrr);
	ldns_pkt_set_id(p, kind == ACT_SPOOF_ID ? (uint16_t)(ldns_pkt_id(query) ^ 0x5a5a) :
			ldns_pkt_id(query));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, forge_a ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN);
	if (forge_a) {
		char *owner = ldns_rdf2str(ldns_rr_owner(qrr)), text[400];
		ldns_rr *a = NULL;
		snprintf(text, sizeof(text), "%s 60 IN A %s", owner ? owner : ".", forge_a);
		free(owner);
		if (ldns_rr_new_frm_str(&a, text, 60, NULL, NULL) == LDNS_STATUS_OK)
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, a);
	}
	rc = ldns_pkt2wire(wire, p, len) == LDNS_STATUS_OK ? 0 : -1;
	ldns_pkt_free(p);
	return rc;
}

static void handle_udp(int fd, int spoof_fd)
{
	uint8_t buf[65536];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
	ldns_pkt *query = NULL, *reply;
	struct plan pl;
	uint8_t *wire;
	size_t len;

	if (n <= 0 || ldns_wire2pkt(&query, buf, (size_t)n) != LDNS_STATUS_OK)
		return;
	if (ldns_pkt_qdcount(query) != 1) {
		ldns_pkt_free(query);
		return;
	}
	reply = build_reply(query, 1, &pl);
	if (pl.drop)
		goto out;
	if (pl.spoof && forged(query, pl.spoof, pl.forge_a, &wire, &len) == 0) {
		sendto(pl.spoof == ACT_SPOOF_PORT ? spoof_fd : fd, wire, len, 0,
		       (struct sockaddr *)&from, fromlen);
		free(wire);
	}
	if (ldns_pkt2wire(&wire, reply, &len) != LDNS_STATUS_OK)
		goto out;
	if (pl.delay_ms > 0 && npend < MAX_PENDING) {
		struct pending *d = &pend[npend++];
		d->due_ms = now_ms() + pl.delay_ms;
		d->fd = fd;
		d->to = from;
		d->tolen = fromlen;
		d->wire = wire;
		d->len = len;
	} else {
		sendto(fd, wire, len, 0, (struct sockaddr *)&from, fromlen);
		free(wire);
	}
out:
	ldns_pkt_free(reply);
	ldns_pkt_free(query);
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One query per connection; the reply is written in two pieces so the client has to
 * put a partial read together. */
static void handle_tcp(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct timeval tv = { 2, 0 };
	uint8_t lenb[2], *body = NULL, *wire = NULL;
	size_t len, wlen;
	ldns_pkt *query = NULL, *reply = NULL;
	struct plan pl;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_full(fd, lenb, 2) != 0)
		goto out;
	len = (size_t)(lenb[0] << 8 | lenb[1]);
	body = malloc(len ? len : 1);
	if (len < 12 || read_full(fd, body, len) != 0 ||
	    ldns_wire2pkt(&query, body, len) != LDNS_STATUS_OK || ldns_pkt_qdcount(query) != 1)
		goto out;
	reply = build_reply(query, 0, &pl);
	if (pl.drop || ldns_pkt2wire(&wire, reply, &wlen) != LDNS_STATUS_OK)
		goto out;
	{
		uint8_t *framed = malloc(wlen + 2);
		framed[0] = (uint8_t)(wlen >> 8);
		framed[1] = (uint8_t)wlen;
		memcpy(framed + 2, wire, wlen);
		if (write(fd, framed, 1) == 1) {
			usleep(20000);
			if (write(fd, framed + 1, wlen + 1) < 0)
				perror("fakedns: tcp write");
		}
		free(framed);
	}
out:
	free(wire);
	free(body);
	if (reply)
		ldns_pkt_free(reply);
	if (query)
		ldns_pkt_free(query);
	close(fd);
}

static void flush_pending(void)
{
	long long now = now_ms();
	size_t i = 0;

	while (i < npend) {
		if (pend[i].due_ms <= now) {
			sendto(pend[i].fd, pend[i].wire, pend[i].len, 0, (struct sockaddr *)&pend[i].to,
			       pend[i].tolen);
			free(pend[i].wire);
			pend[i] = pend[--npend];
		} else {
			i++;
		}
	}
}

static int bind_sock(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, type, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		s->sin6_addr = in6addr_loopback;
		sl = sizeof(*s);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	int v6 = 0, i, port = -1, attempt;
	int udp4 = -1, tcp4 = -1, udp6 = -1, tcp6 = -1, spoof4, spoof6 = -1;
	char line[512];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-6") == 0) {
			v6 = 1;
			continue;
		}
		if (parse_rule(argv[i]) != 0) {
			fprintf(stderr, "fakedns: bad rule \"%s\"\n", argv[i]);
			return 2;
		}
	}
	for (attempt = 0; attempt < 50 && port < 0; attempt++) {
		udp4 = bind_sock(AF_INET, SOCK_DGRAM, 0);
		port = udp4 >= 0 ? sock_port(udp4) : -1;
		if (port <= 0)
			break;
		tcp4 = bind_sock(AF_INET, SOCK_STREAM, port);
		if (v6 && tcp4 >= 0) {
			udp6 = bind_sock(AF_INET6, SOCK_DGRAM, port);
			tcp6 = bind_sock(AF_INET6, SOCK_STREAM, port);
		}
		if (tcp4 < 0 || (v6 && (udp6 < 0 || tcp6 < 0))) {
			close(udp4);
			if (tcp4 >= 0)
				close(tcp4);
			if (udp6 >= 0)
				close(udp6);
			if (tcp6 >= 0)
				close(tcp6);
			udp6 = tcp6 = tcp4 = -1;
			port = -1;
		}
	}
	spoof4 = bind_sock(AF_INET, SOCK_DGRAM, 0);
	if (v6)
		spoof6 = bind_sock(AF_INET6, SOCK_DGRAM, 0);
	if (port <= 0 || spoof4 < 0 || (v6 && spoof6 < 0)) {
		fprintf(stderr, "fakedns: cannot bind loopback sockets\n");
		return 1;
	}
	printf("%d\n", port);
	fflush(stdout);

	for (;;) {
		struct pollfd pfd[5];
		int n = 0, timeout = -1, rc;
		size_t k;

		pfd[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = udp4, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = tcp4, .events = POLLIN };
		if (v6) {
			pfd[n++] = (struct pollfd){ .fd = udp6, .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = tcp6, .events = POLLIN };
		}
		for (k = 0; k < npend; k++) {
			long long left = pend[k].due_ms - now_ms();
			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		rc = poll(pfd, (nfds_t)n, timeout);
		if (rc < 0 && errno != EINTR)
			return 1;
		flush_pending();
		if (rc <= 0)
			continue;
		if (pfd[0].revents) {
			char name[256], lname[256];
			if (fgets(line, sizeof(line), stdin) == NULL)
				return 0; /* the test went away */
			if (sscanf(line, "count %255s", name) == 1) {
				unsigned c = 0;
				lower_name(name, lname, sizeof(lname));
				for (k = 0; k < ncounters; k++)
					if (strcmp(counters[k].name, lname) == 0)
						c = counters[k].n;
				printf("%u\n", c);
			} else if (strncmp(line, "total", 5) == 0) {
				printf("%u\n", total_queries);
			} else {
				printf("?\n");
			}
			fflush(stdout);
		}
		if (pfd[1].revents)
			handle_udp(udp4, spoof4);
		if (pfd[2].revents)
			handle_tcp(tcp4);
		if (v6 && pfd[3].revents)
			handle_udp(udp6, spoof6);
		if (v6 && pfd[4].revents)
			handle_tcp(tcp6);
	}
}
