/* rbl_diff: differential test of two DNSBL servers (chanrac-rbld against rbldnsd).
 * Sends every query of a dnsperf-style file ("NAME TYPE" per line) to both over
 * UDP, parses both answers with ldns, and compares RCODE, the set of A records and
 * the set of TXT texts.  Prints counts and the first mismatches; exit 1 if any.
 * Usage: rbl_diff ADDR PORT_A PORT_B QUERYFILE [MAX] */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SET_MAX 64
#define TEXT_MAX 1100

struct answer {
	int rcode;
	size_t na, nt;
	char a[SET_MAX][32];
	char t[SET_MAX][TEXT_MAX];
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int ask(int fd, const struct sockaddr_in *to, const uint8_t *q, size_t qlen, uint16_t id,
	       uint8_t *buf, size_t buflen)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (sendto(fd, q, qlen, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
			return -1;
		while (poll(&p, 1, 1000) > 0) {
			ssize_t n = recv(fd, buf, buflen, 0);
			if (n >= 12 && (uint16_t)(buf[0] << 8 | buf[1]) == id)
				return (int)n;
		}
	}
	return -1;
}

static int decode(const uint8_t *w, size_t len, struct answer *out)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *an;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ldns_wire2pkt(&p, w, len) != LDNS_STATUS_OK)
		return -1;
	out->rcode = ldns_pkt_get_rcode(p);
	an = ldns_pkt_answer(p);
	for (i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		size_t k;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && out->na < SET_MAX) {
			char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			snprintf(out->a[out->na++], 32, "%s", s);
			free(s);
		} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT && out->nt < SET_MAX) {
			/* Concatenate the character-strings: splitting is not meaning. */
			char *t = out->t[out->nt++];
			size_t o = 0;
			for (k = 0; k < ldns_rr_rd_count(rr); k++) {
				const ldns_rdf *f = ldns_rr_rdf(rr, k);
				const uint8_t *d = ldns_rdf_data(f);
				size_t l = ldns_rdf_size(f) > 0 ? d[0] : 0;
				if (l + 1 > ldns_rdf_size(f))
					l = ldns_rdf_size(f) - 1;
				if (o + l >= TEXT_MAX)
					l = TEXT_MAX - 1 - o;
				memcpy(t + o, d + 1, l);
				o += l;
			}
			t[o] = '\0';
		}
	}
	qsort(out->a, out->na, sizeof(out->a[0]), cmp_str);
	qsort(out->t, out->nt, sizeof(out->t[0]), cmp_str);
	ldns_pkt_free(p);
	return 0;
}

static void show(const char *who, const struct answer *a)
{
	size_t i;

	printf("#     %s: rcode %d", who, a->rcode);
	for (i = 0; i < a->na; i++)
		printf(" A %s", a->a[i]);
	for (i = 0; i < a->nt; i++)
		printf(" TXT \"%s\"", a->t[i]);
	printf("\n");
}

static int same(const struct answer *x, const struct answer *y)
{
	size_t i;

	if (x->rcode != y->rcode || x->na != y->na || x->nt != y->nt)
		return 0;
	for (i = 0; i < x->na; i++)
		if (strcmp(x->a[i], y->a[i]) != 0)
			return 0;
	for (i = 0; i < x->nt; i++)
		if (strcmp(x->t[i], y->t[i]) != 0)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa, sb;
	FILE *f;
	char line[1024];
	long max, n = 0, diff = 0, listed = 0, nx = 0, fail = 0;
	int fd;
	static struct answer x, y;

	if (argc < 5) {
		fprintf(stderr, "usage: rbl_diff ADDR PORT_A PORT_B QUERYFILE [MAX]\n");
		return 2;
	}
	max = argc > 5 ? atol(argv[5]) : -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "rbl_diff: bad address %s\n", argv[1]);
		return 2;
	}
	sb = sa;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	sb.sin_port = htons((uint16_t)atoi(argv[3]));
	f = fopen(argv[4], "r");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (f == NULL || fd < 0) {
		fprintf(stderr, "rbl_diff: %s: %s\n", argv[4], strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof line, f) != NULL && (max < 0 || n < max)) {
		char name[512], type[16];
		ldns_pkt *q = NULL;
		uint8_t *wire = NULL, ra[4096], rb[4096];
		size_t wlen;
		int la, lb;
		uint16_t id = (uint16_t)(n * 7919 + 1);

		if (sscanf(line, "%511s %15s", name, type) != 2)
			continue;
		if (ldns_pkt_query_new_frm_str(&q, name, ldns_get_rr_type_by_name(type),
					       LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK) {
			fprintf(stderr, "rbl_diff: cannot build a query for %s\n", name);
			return 2;
		}
		ldns_pkt_set_id(q, id);
		if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
			return 2;
		ldns_pkt_free(q);
		la = ask(fd, &sa, wire, wlen, id, ra, sizeof ra);
		lb = ask(fd, &sb, wire, wlen, id, rb, sizeof rb);
		free(wire);
		n++;
		if (la < 0 || lb < 0 || decode(ra, (size_t)la, &x) < 0 || decode(rb, (size_t)lb, &y) < 0) {
			if (++fail <= 10)
				printf("# no answer or unparsable answer for %s %s (A %d, B %d)\n", name,
				       type, la, lb);
			continue;
		}
		if (x.na > 0 || x.nt > 0)
			listed++;
		if (x.rcode == LDNS_RCODE_NXDOMAIN)
			nx++;
		if (!same(&x, &y)) {
			if (++diff <= 10) {
				printf("# differ: %s %s\n", name, type);
				show("A", &x);
				show("B", &y);
			}
		}
	}
	printf("# %ld queries: %ld with records, %ld NXDOMAIN; %ld differ, %ld unanswered\n", n,
	       listed, nx, diff, fail);
	close(fd);
	fclose(f);
	return diff == 0 && fail == 0 && n > 0 ? 0 : 1;
}
