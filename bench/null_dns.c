/* null_dns: the cheapest UDP DNS responder, as a reference for bench/rbld_bench.sh.
 * It receives queries in batches of 64 (recvmmsg), turns each into its own
 * answer in place (QR set, RCODE NXDOMAIN, no records: no lookup, no copy) and
 * sends the batch back (sendmmsg) — chanrac-rbld's network loop without the
 * lookup and the answer building.  Its rate is what any server using the
 * kernel's UDP sockets can reach on this machine: the ceiling of the qps ratio
 * against rbldnsd.  Built by the benchmark itself:
 *   cc -O2 -o null_dns bench/null_dns.c
 *   usage: null_dns PORT   (listens on 127.0.0.1; stops on SIGTERM) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define MAXQ 512

int main(int argc, char **argv)
{
	static unsigned char buf[BATCH][MAXQ];
	static struct mmsghdr msg[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_in peer[BATCH];
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd, sz = 8 << 20, port;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: null_dns PORT\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		perror("null_dns: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz); /* as chanrac-rbld does */
	for (;;) {
		int got, sent = 0;

		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = MAXQ;
			memset(&msg[i].msg_hdr, 0, sizeof msg[i].msg_hdr);
			msg[i].msg_hdr.msg_name = &peer[i];
			msg[i].msg_hdr.msg_namelen = sizeof peer[i];
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("null_dns: recvmmsg");
			return 1;
		}
		for (int i = 0; i < got; i++) {
			unsigned char *q = buf[i];
			unsigned len = msg[i].msg_len < 12 ? 12 : msg[i].msg_len;

			q[2] = (unsigned char)((q[2] & 0x79) | 0x84); /* QR, AA; opcode and RD kept */
			q[3] = 0x03;                                  /* NXDOMAIN */
			iov[i].iov_len = len;
		}
		while (sent < got) {
			int s = sendmmsg(fd, msg + sent, (unsigned)(got - sent), 0);
			if (s < 0) {
				if (errno == EINTR)
					continue;
				sent++; /* skip the datagram that failed */
				continue;
			}
			sent += s;
		}
	}
}
