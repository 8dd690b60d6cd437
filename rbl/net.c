/* net: chanrac-rbld's network loop — UDP in batches (recvmmsg/sendmmsg), TCP with
 * a connection cap and idle timeout, the client ACL, response-rate limiting per
 * /24 and /56, the status socket, and one log line per zone per stats interval.
 * One thread; it never blocks on anything but poll. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "rbld.h"
#include "util.h"

#define BATCH 64
#define RECV_MAX 4096        /* longest query taken; longer ones are dropped */
#define LISTEN_MAX 32
#define RRL_SLOTS 65536
#define STATUS_MAX 65536
#define POLL_MS 250
#define TCP_OUT_MAX 65536    /* answers buffered per TCP connection before reading stops */

struct listener {
	int fd;
	int tcp;
};

struct tcpconn {
	int fd;
	int64_t last_ms;
	uint8_t in[2 + RECV_MAX];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff;
};

struct rrl_slot {
	uint64_t key;
	uint32_t sec;
	uint32_t count;
};

struct rbld_net {
	struct rbld *r;
	struct listener ls[LISTEN_MAX];
	size_t nls;
	int status_fd;
	char status_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct tcpconn **conns;
	size_t nconns, maxconns;
	int64_t idle_ms;
	struct cr_prefix *acl_allow, *acl_deny;
	size_t nallow, ndeny;
	struct rrl_slot *rrl;
	uint32_t rate, slip, slipcount;
	struct pollfd *pfd;
	int64_t stats_ms, last_stats_ms;
	int64_t last_pub_ms;
	struct rbld_counters *last; /* per zone at the last log line */
	/* UDP batch buffers */
	struct mmsghdr in_msg[BATCH], out_msg[BATCH];
	struct iovec in_iov[BATCH], out_iov[BATCH];
	struct sockaddr_storage peer[BATCH];
	uint8_t inbuf[BATCH][RECV_MAX];
	uint8_t outbuf[BATCH][RBLPKT_UDP_MAX];
	uint8_t tcpbuf[RBLPKT_TCP_MAX];
};

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[128];
	const char *port;
	long p;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		port = rb + 2;
	} else {
		const char *c = strrchr(s, ':');
		if (c == NULL || (size_t)(c - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(c - s));
		host[c - s] = '\0';
		port = c + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return -1;
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*sl = sizeof(*a);
	}
	return 0;
}

static int open_socket(const struct sockaddr_storage *ss, socklen_t sl, int tcp, const char *text,
		       char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(ss->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0) {
		util_errf(err, errlen, "listen %s: socket: %s", text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (!tcp) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || (tcp && listen(fd, 128) < 0)) {
		util_errf(err, errlen, "listen %s (%s): %s", text, tcp ? "tcp" : "udp",
			  strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int parse_acl(const cr_conf *c, const char *key, struct cr_prefix **out, size_t *n,
		     char *err, size_t errlen)
{
	const char *const *w = conf_list(c, "rbld", key);
	size_t k = 0, i;

	for (i = 0; w && w[i]; i++)
		;
	*n = 0;
	*out = NULL;
	if (i == 0)
		return 0;
	*out = calloc(i, sizeof(struct cr_prefix));
	if (*out == NULL) {
		util_errf(err, errlen, "[rbld] %s: out of memory", key);
		return -1;
	}
	for (; w[k]; k++) {
		char e[256];
		if (addr_parse_prefix(w[k], &(*out)[k], e, sizeof e) < 0) {
			util_errf(err, errlen, "[rbld] %s: %s", key, e);
			return -1;
		}
	}
	*n = k;
	return 0;
}

static int status_open(rbld_net *n, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof sun.sun_path) >= sizeof sun.sun_path) {
		util_errf(err, errlen, "[rbld] status_socket: path too long");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, 16) < 0) {
		util_errf(err, errlen, "[rbld] status_socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, 0660);
	n->status_fd = fd;
	util_strlcpy(n->status_path, path, sizeof n->status_path);
	return 0;
}

int rbld_net_check(const cr_conf *c, char *err, size_t errlen)
{
	const char *const *w = conf_list(c, "rbld", "listen");
	const char *st = conf_str(c, "rbld", "status_socket");
	static const char *const acls[] = { "acl_allow", "acl_deny" };
	size_t n = 0;

	for (; w && *w; w++, n++) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (parse_listen(*w, &ss, &sl) < 0) {
			util_errf(err, errlen, "[rbld] listen: \"%s\" is not ADDR:PORT or [ADDR]:PORT",
				  *w);
			return -1;
		}
	}
	if (n == 0) {
		util_errf(err, errlen, "[rbld] listen: no address");
		return -1;
	}
	if (2 * n > LISTEN_MAX) {
		util_errf(err, errlen, "[rbld] listen: %zu addresses, at most %d", n, LISTEN_MAX / 2);
		return -1;
	}
	if (st && *st && strlen(st) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		util_errf(err, errlen, "[rbld] status_socket: path too long");
		return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		struct cr_prefix *p;
		size_t np;
		int rc = parse_acl(c, acls[i], &p, &np, err, errlen);

		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

rbld_net *rbld_net_open(struct rbld *r, char *err, size_t errlen)
{
	rbld_net *n = calloc(1, sizeof(*n));
	const char *const *w = conf_list(r->conf, "rbld", "listen");
	const char *st = conf_str(r->conf, "rbld", "status_socket");
	size_t i;

	if (n == NULL) {
		util_errf(err, errlen, "out of memory");
		return NULL;
	}
	n->r = r;
	n->status_fd = -1;
	/* every address parses and they fit in n->ls: checked first */
	if (rbld_net_check(r->conf, err, errlen) < 0)
		goto fail;
	for (; w && *w; w++) {
		struct sockaddr_storage ss;
		socklen_t sl;

		(void)parse_listen(*w, &ss, &sl);
		for (int t = 0; t < 2; t++) {
			n->ls[n->nls].tcp = t;
			n->ls[n->nls].fd = open_socket(&ss, sl, t, *w, err, errlen);
			if (n->ls[n->nls].fd < 0)
				goto fail;
			n->nls++;
		}
	}
	if (st && *st && status_open(n, st, err, errlen) < 0)
		goto fail;
	if (parse_acl(r->conf, "acl_allow", &n->acl_allow, &n->nallow, err, errlen) < 0 ||
	    parse_acl(r->conf, "acl_deny", &n->acl_deny, &n->ndeny, err, errlen) < 0)
		goto fail;
	n->maxconns = (size_t)conf_int(r->conf, "rbld", "tcp_max_connections");
	n->idle_ms = conf_ms(r->conf, "rbld", "tcp_idle_timeout");
	n->rate = (uint32_t)conf_int(r->conf, "rbld", "rate_limit");
	n->slip = (uint32_t)conf_int(r->conf, "rbld", "rate_limit_slip");
	n->stats_ms = conf_ms(r->conf, "rbld", "stats_interval");
	n->conns = calloc(n->maxconns, sizeof(struct tcpconn *));
	n->pfd = calloc(n->nls + 1 + n->maxconns, sizeof(struct pollfd));
	n->last = calloc(r->nzones + 1, sizeof(struct rbld_counters));
	if (n->rate > 0)
		n->rrl = calloc(RRL_SLOTS, sizeof(struct rrl_slot));
	if (n->conns == NULL || n->pfd == NULL || n->last == NULL || (n->rate > 0 && !n->rrl)) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < BATCH; i++) {
		n->in_iov[i].iov_base = n->inbuf[i];
		n->in_iov[i].iov_len = RECV_MAX;
	}
	return n;
fail:
	rbld_net_close(n);
	return NULL;
}

static void net_free(rbld_net *n, int unlink_status)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nls; i++)
		close(n->ls[i].fd);
	for (i = 0; i < n->nconns; i++) {
		close(n->conns[i]->fd);
		free(n->conns[i]->out);
		free(n->conns[i]);
	}
	if (n->status_fd >= 0) {
		close(n->status_fd);
		if (unlink_status)
			unlink(n->status_path);
	}
	free(n->conns);
	free(n->pfd);
	free(n->last);
	free(n->rrl);
	free(n->acl_allow);
	free(n->acl_deny);
	free(n);
}

void rbld_net_close(rbld_net *n)
{
	net_free(n, 1);
}

void rbld_net_release(rbld_net *n)
{
	net_free(n, 0);
}

static void sockaddr_to_addr(const struct sockaddr_storage *ss, struct cr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->b[10] = a->b[11] = 0xff;
		memcpy(a->b + 12, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(a->b, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

/* Client ACL: deny first, then allow (empty = everyone). */
static int acl_permits(const rbld_net *n, const struct sockaddr_storage *ss)
{
	struct cr_addr a;
	size_t i;

	if (n->nallow == 0 && n->ndeny == 0)
		return 1;
	sockaddr_to_addr(ss, &a);
	for (i = 0; i < n->ndeny; i++)
		if (addr_prefix_contains(&n->acl_deny[i], &a))
			return 0;
	if (n->nallow == 0)
		return 1;
	for (i = 0; i < n->nallow; i++)
		if (addr_prefix_contains(&n->acl_allow[i], &a))
			return 1;
	return 0;
}

/* Response-rate limit per client /24 or /56: 0 answer, 1 drop, 2 slip (TC=1). */
static int rrl_check(rbld_net *n, const struct sockaddr_storage *ss, uint32_t sec)
{
	uint64_t key;
	struct rrl_slot *s;
	uint64_t h;

	if (n->rate == 0)
		return 0;
	if (ss->ss_family == AF_INET) {
		uint32_t ip = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		key = (1ull << 63) | (ip >> 8);
	} else {
		const uint8_t *b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		key = 0;
		for (int i = 0; i < 7; i++)
			key = key << 8 | b[i];
	}
	h = key * 0x9e3779b97f4a7c15ull;
	s = &n->rrl[(h >> 40) & (RRL_SLOTS - 1)];
	if (s->key != key || s->sec != sec) {
		s->key = key;
		s->sec = sec;
		s->count = 0;
	}
	if (++s->count <= n->rate)
		return 0;
	if (n->slip > 0 && ++n->slipcount % n->slip == 0)
		return 2;
	return 1;
}

static void udp_serve(rbld_net *n, int fd)
{
	struct rbld *r = n->r;
	int round;

	for (round = 0; round < 64; round++) { /* then let TCP and the rest have a turn */
		int got, i, m = 0, sent = 0;
		int64_t now;
		const struct rbld_data *d;

		for (i = 0; i < BATCH; i++) {
			memset(&n->in_msg[i].msg_hdr, 0, sizeof(struct msghdr));
			n->in_msg[i].msg_hdr.msg_name = &n->peer[i];
			n->in_msg[i].msg_hdr.msg_namelen = sizeof(n->peer[i]);
			n->in_msg[i].msg_hdr.msg_iov = &n->in_iov[i];
			n->in_msg[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, n->in_msg, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return; /* drained: back to poll */
		now = util_now();
		d = rbld_data_enter(r);
		for (i = 0; i < got; i++) {
			const struct msghdr *h = &n->in_msg[i].msg_hdr;
			size_t qlen = n->in_msg[i].msg_len, alen;
			int lim;

			if ((h->msg_flags & MSG_TRUNC) || !acl_permits(n, &n->peer[i]) ||
			    ((struct sockaddr_in *)&n->peer[i])->sin_port == 0)
				continue; /* port 0 cannot be answered: spoofed */
			lim = rrl_check(n, &n->peer[i], (uint32_t)now);
			if (lim) {
				rbld_note_ratelimited(r, n->inbuf[i], qlen);
				if (lim == 1)
					continue;
				alen = rbld_answer_truncated(n->inbuf[i], qlen, n->outbuf[m],
							     RBLPKT_UDP_MIN);
			} else {
				alen = rbld_answer(r, d, now, n->inbuf[i], qlen, n->outbuf[m],
						   RBLPKT_UDP_MAX, 0);
			}
			if (alen == 0)
				continue;
			memset(&n->out_msg[m].msg_hdr, 0, sizeof(struct msghdr));
			n->out_iov[m].iov_base = n->outbuf[m];
			n->out_iov[m].iov_len = alen;
			n->out_msg[m].msg_hdr.msg_name = &n->peer[i];
			n->out_msg[m].msg_hdr.msg_namelen = h->msg_namelen;
			n->out_msg[m].msg_hdr.msg_iov = &n->out_iov[m];
			n->out_msg[m].msg_hdr.msg_iovlen = 1;
			m++;
		}
		rbld_data_leave(r);
		while (sent < m) {
			int s = sendmmsg(fd, n->out_msg + sent, (unsigned)(m - sent), 0);
			if (s < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					struct pollfd p = { fd, POLLOUT, 0 };
					if (poll(&p, 1, 100) > 0)
						continue;
				}
				/* One bad peer address must not lose the rest of the batch. */
				sent++;
				continue;
			}
			sent += s;
		}

	}
}

static void conn_close(rbld_net *n, size_t i)
{
	struct tcpconn *c = n->conns[i];

	close(c->fd);
	free(c->out);
	free(c);
	n->conns[i] = n->conns[--n->nconns];
}

static void tcp_accept(rbld_net *n, int lfd)
{
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcpconn *c;

		if (fd < 0)
			return;
		if (n->nconns >= n->maxconns || !acl_permits(n, &ss) ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last_ms = util_mono_ms();
		n->conns[n->nconns++] = c;
	}
}

/* Answers every complete query in c->in; returns -1 to close. */
static int tcp_process(rbld_net *n, struct tcpconn *c)
{
	struct rbld *r = n->r;
	size_t off = 0;

	/* Answers wait in c->out; past TCP_OUT_MAX the rest of the input waits for
	 * the client to read, so a pipelining client cannot make us buffer much. */
	while (c->inlen - off >= 2 && c->outlen < TCP_OUT_MAX) {
		size_t ql = (size_t)c->in[off] << 8 | c->in[off + 1], alen;
		uint8_t *no;
		const struct rbld_data *d;

		if (ql > RECV_MAX || ql < RBLPKT_HEADER)
			return -1;
		if (c->inlen - off < 2 + ql)
			break;
		d = rbld_data_enter(r);
		alen = rbld_answer(r, d, util_now(), c->in + off + 2, ql, n->tcpbuf,
				   RBLPKT_TCP_MAX, 1);
		rbld_data_leave(r);
		off += 2 + ql;
		if (alen == 0)
			continue;
		no = realloc(c->out, c->outlen + 2 + alen);
		if (no == NULL)
			return -1;
		c->out = no;
		c->out[c->outlen] = (uint8_t)(alen >> 8);
		c->out[c->outlen + 1] = (uint8_t)alen;
		memcpy(c->out + c->outlen + 2, n->tcpbuf, alen);
		c->outlen += 2 + alen;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

static int tcp_flush(struct tcpconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
		c->outoff += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	return 0;
}

/* Answers and sends until the input holds no complete query or the client
 * stops reading (then POLLOUT resumes it); -1 to close. */
static int tcp_pump(rbld_net *n, struct tcpconn *c)
{
	for (int k = 0; k < 64; k++) {
		size_t before = c->inlen;

		if (tcp_process(n, c) < 0 || tcp_flush(c) < 0)
			return -1;
		if (c->outlen > 0 || c->inlen == before)
			break;
	}
	return 0;
}

/* Handles readiness of connection i; returns -1 if it must be closed. */
static int tcp_event(rbld_net *n, struct tcpconn *c, short rev)
{
	if (rev & (POLLERR | POLLNVAL))
		return -1;
	if (rev & POLLOUT) {
		if (tcp_flush(c) < 0)
			return -1;
		c->last_ms = util_mono_ms();
		/* Queries left over from a burst: answer them now the output is out. */
		if (c->outlen == 0 && c->inlen > 0 && tcp_pump(n, c) < 0)
			return -1;
	}
	if ((rev & (POLLIN | POLLHUP)) && c->outlen == 0) {
		ssize_t rd = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		if (rd == 0)
			return -1;
		if (rd < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		size_t had;

		c->inlen += (size_t)rd;
		had = c->inlen;
		if (tcp_pump(n, c) < 0)
			return -1;
		/* Only a complete query keeps the connection alive: a client that
		 * trickles bytes (slowloris) is closed after tcp_idle_timeout. */
		if (c->inlen < had)
			c->last_ms = util_mono_ms();
	}
	return 0;
}

static void status_serve(rbld_net *n)
{
	char *buf;
	/* Non-blocking: a client that does not read cannot stall the server. */
	int fd = accept4(n->status_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t o, w = 0;
	const struct rbld_data *d;

	if (fd < 0)
		return;
	buf = malloc(STATUS_MAX);
	if (buf != NULL) {

		d = rbld_data_enter(n->r);
		o = (size_t)snprintf(buf, STATUS_MAX, "data gen=%llu serial=%u redis=%s\n",
				     (unsigned long long)d->gen, d->serial,
				     atomic_load(&n->r->redis_up) ? "up" : "down");
		rbld_data_leave(n->r);
		o += rbld_stats_format(n->r, buf + o, STATUS_MAX - o);
		while (w < o) {
			ssize_t k = send(fd, buf + w, o - w, MSG_NOSIGNAL);
			if (k <= 0)
				break;
			w += (size_t)k;
		}
		free(buf);
	}
	close(fd);
}

static void log_stats(rbld_net *n, int64_t now_ms)
{
	struct rbld *r = n->r;
	double secs = (double)(now_ms - n->last_stats_ms) / 1000.0;
	size_t i;

	if (secs <= 0)
		return;
	for (i = 0; i <= r->nzones; i++) {
		const struct rbld_counters *c = i < r->nzones ? &r->zones[i].stats : &r->total;
		struct rbld_counters *l = &n->last[i];
		uint64_t q = c->queries - l->queries;

		if (q > 0)
			log_info("zone %s: %llu queries (%.0f/s): %llu listed, %llu nxdomain, %llu "
				 "nodata, %llu refused, %llu formerr, %llu rate-limited, %llu tcp",
				 i < r->nzones ? r->zones[i].name : "*", (unsigned long long)q,
				 (double)q / secs, (unsigned long long)(c->listed - l->listed),
				 (unsigned long long)(c->nxdomain - l->nxdomain),
				 (unsigned long long)(c->nodata - l->nodata),
				 (unsigned long long)(c->refused - l->refused),
				 (unsigned long long)(c->formerr - l->formerr),
				 (unsigned long long)(c->ratelimited - l->ratelimited),
				 (unsigned long long)(c->tcp - l->tcp));
		*l = *c;
	}
	n->last_stats_ms = now_ms;
}

/* Copies the counters for the metrics thread (r->pub), under its lock. */
static void publish_counters(rbld_net *n, int64_t now_ms)
{
	struct rbld *r = n->r;

	n->last_pub_ms = now_ms;
	if (r->pub == NULL)
		return;
	pthread_mutex_lock(&r->pub_lock);
	for (size_t i = 0; i < r->nzones; i++)
		r->pub[i] = r->zones[i].stats;
	r->pub[r->nzones] = r->total;
	pthread_mutex_unlock(&r->pub_lock);
}

int rbld_net_run(rbld_net *n)
{
	struct rbld *r = n->r;
	size_t i;

	n->last_stats_ms = util_mono_ms();
	while (!atomic_load(&r->stop)) {
		size_t np = 0, nconn_polled;
		int rc;
		int64_t now_ms;

		for (i = 0; i < n->nls; i++) {
			n->pfd[np].fd = n->ls[i].fd;
			n->pfd[np].events = POLLIN;
			np++;
		}
		if (n->status_fd >= 0) {
			n->pfd[np].fd = n->status_fd;
			n->pfd[np].events = POLLIN;
			np++;
		}
		nconn_polled = n->nconns;
		for (i = 0; i < nconn_polled; i++) {
			n->pfd[np].fd = n->conns[i]->fd;
			n->pfd[np].events = n->conns[i]->outlen ? POLLOUT : POLLIN;
			np++;
		}
		rc = poll(n->pfd, np, POLL_MS);
		if (rc < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			return -1;
		}
		now_ms = util_mono_ms();
		if (rc > 0) {
			size_t k = 0;

			for (i = 0; i < n->nls; i++, k++) {
				if (!(n->pfd[k].revents & POLLIN))
					continue;
				if (n->ls[i].tcp)
					tcp_accept(n, n->ls[i].fd);
				else
					udp_serve(n, n->ls[i].fd);
			}
			if (n->status_fd >= 0) {
				if (n->pfd[k].revents & POLLIN)
					status_serve(n);
				k++;
			}
			/* Connections: walk backwards so closing (swap with last) is safe;
			 * connections accepted this round sit past nconn_polled. */
			for (i = nconn_polled; i-- > 0;) {
				short rev = n->pfd[k + i].revents;
				if (rev && tcp_event(n, n->conns[i], rev) < 0)
					conn_close(n, i);
			}
		}
		for (i = n->nconns; i-- > 0;)
			if (now_ms - n->conns[i]->last_ms > n->idle_ms)
				conn_close(n, i);
		if (now_ms - n->last_stats_ms >= n->stats_ms)
			log_stats(n, now_ms);
		if (now_ms - n->last_pub_ms >= 1000)
			publish_counters(n, now_ms);
	}
	log_stats(n, util_mono_ms());
	publish_counters(n, util_mono_ms());
	return 0;
}
