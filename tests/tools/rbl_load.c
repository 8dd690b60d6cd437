/* rbl_load: a cheap UDP DNS load generator for bench/rbld_bench.sh.  dnsperf spends
 * more CPU per query than a batching server does, so on a 2-core machine it, not
 * the server, sets the ceiling; this client sends and receives with sendmmsg /
 * recvmmsg in batches and keeps WINDOW queries outstanding, so the server pinned
 * to the other core is the bottleneck.  Queries come from a dnsperf-style file
 * ("NAME TYPE" per line), cycled.  A query unanswered after 1 s counts as lost.
 * Usage: rbl_load ADDR PORT QUERYFILE SECONDS [WINDOW] */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define IDS 65536

struct qpkt {
	uint16_t len;
	uint8_t w[300];
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Builds the wire query for "name type" (id filled in at send time). */
static int build(const char *name, const char *type, struct qpkt *q)
{
	size_t o = 12;
	const char *s = name;
	uint16_t t = strcmp(type, "TXT") == 0 ? 16 : strcmp(type, "AAAA") == 0 ? 28 : 1;

	memset(q->w, 0, 12);
	q->w[2] = 0x01; /* RD */
	q->w[5] = 1;    /* QDCOUNT */
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);

		if (l == 0)
			break;
		if (l > 63 || o + l + 6 > sizeof q->w)
			return -1;
		q->w[o++] = (uint8_t)l;
		memcpy(q->w + o, s, l);
		o += l;
		if (!d)
			break;
		s = d + 1;
	}
	q->w[o++] = 0;
	q->w[o++] = (uint8_t)(t >> 8);
	q->w[o++] = (uint8_t)t;
	q->w[o++] = 0;
	q->w[o++] = 1;
	q->len = (uint16_t)o;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to;
	struct qpkt *qs = NULL;
	size_t nq = 0, cap = 0, next = 0;
	static int64_t sent_at[IDS];  /* 0 = free */
	static uint16_t ring[IDS];    /* ids in send order */
	size_t head = 0, tail = 0, outstanding = 0;
	uint64_t sent = 0, recvd = 0, lost = 0;
	uint16_t next_id = 1;
	long window;
	double secs;
	int fd, sz = 8 << 20;
	FILE *f;
	char line[600];
	int64_t start, end, last_scan;
	static struct mmsghdr sm[BATCH], rm[BATCH];
	static struct iovec siov[BATCH], riov[BATCH];
	static uint8_t rbuf[BATCH][2048];
	static uint8_t sbuf[BATCH][300];

	if (argc < 5) {
		fprintf(stderr, "usage: rbl_load ADDR PORT QUERYFILE SECONDS [WINDOW]\n");
		return 2;
	}
	secs = atof(argv[4]);
	window = argc > 5 ? atol(argv[5]) : 2000;
	if (window < 1 || window > 30000)
		window = 2000;
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return 2;
	f = fopen(argv[3], "r");
	if (f == NULL) {
		perror(argv[3]);
		return 2;
	}
	while (fgets(line, sizeof line, f)) {
		char name[512], type[16];
		if (sscanf(line, "%511s %15s", name, type) != 2)
			continue;
		if (nq == cap) {
			cap = cap ? cap * 2 : 4096;
			qs = realloc(qs, cap * sizeof(*qs));
			if (qs == NULL)
				return 2;
		}
		if (build(name, type, &qs[nq]) == 0)
			nq++;
	}
	fclose(f);
	if (nq == 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("socket");
		return 2;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	for (int i = 0; i < BATCH; i++) {
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = sizeof rbuf[i];
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		siov[i].iov_base = sbuf[i];
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_us();
	end = start + (int64_t)(secs * 1e6);
	last_scan = start;
	for (;;) {
		int64_t t = now_us();
		int n = 0, got, i;

		if (t < end) {
			while (n < BATCH && (long)outstanding + n < window) {
				const struct qpkt *q = &qs[next++ % nq];
				while (sent_at[next_id] != 0 || next_id == 0)
					next_id++;
				memcpy(sbuf[n], q->w, q->len);
				sbuf[n][0] = (uint8_t)(next_id >> 8);
				sbuf[n][1] = (uint8_t)next_id;
				siov[n].iov_len = q->len;
				sent_at[next_id] = t;
				ring[tail++ % IDS] = next_id;
				next_id++;
				n++;
			}
			if (n > 0) {
				int s = sendmmsg(fd, sm, (unsigned)n, 0);
				if (s < 0)
					s = 0;
				for (i = s; i < n; i++) { /* not sent: release */
					uint16_t id = (uint16_t)(sbuf[i][0] << 8 | sbuf[i][1]);
					sent_at[id] = 0;
					lost++;
				}
				sent += (uint64_t)n;
				outstanding += (size_t)s;
			}
		} else if (outstanding == 0 || t > end + 1000000) {
			break;
		}
		got = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < got; i++) {
			uint16_t id;
			if (rm[i].msg_len < 12)
				continue;
			id = (uint16_t)(rbuf[i][0] << 8 | rbuf[i][1]);
			if (sent_at[id] != 0) {
				sent_at[id] = 0;
				outstanding--;
				recvd++;
			}
		}
		if (got <= 0 && (long)outstanding >= window) {
			struct pollfd p = { fd, POLLIN, 0 };
			poll(&p, 1, 10);
		}
		if (t - last_scan > 100000) { /* expire queries older than 1 s */
			last_scan = t;
			while (head != tail) {
				uint16_t id = ring[head % IDS];
				if (sent_at[id] != 0 && t - sent_at[id] < 1000000)
					break;
				if (sent_at[id] != 0) {
					sent_at[id] = 0;
					outstanding--;
					lost++;
				}
				head++;
			}
		}
	}
	lost += outstanding;
	end = now_us();
	printf("sent %llu received %llu lost %llu qps %.0f\n", (unsigned long long)sent,
	       (unsigned long long)recvd, (unsigned long long)lost,
	       (double)recvd / ((double)(end - start) / 1e6 > secs ? secs : (double)(end - start) / 1e6));
	close(fd);
	free(qs);
	return 0;
}
