/* metrics: Prometheus text-format endpoint on one background thread. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct cr_metrics {
	int fd;
	int stop_pipe[2];
	int port;
	pthread_t thread;
	metrics_fill_fn fill;
	void *arg;
};

static void buf_append(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void buf_append(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (int tries = 0; tries < 2; tries++) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap : 4096;
		while (ncap - b->len <= (size_t)n)
			ncap *= 2;
		char *nd = realloc(b->data, ncap);
		if (nd == NULL) {
			b->oom = 1;
			return;
		}
		b->data = nd;
		b->cap = ncap;
	}
	b->oom = 1;
}

void metrics_add(struct metrics_buf *b, const char *name, const char *type, const char *help,
		 const char *labels, double value)
{
	if (help != NULL)
		buf_append(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	if (labels != NULL && *labels)
		buf_append(b, "%s{%s} %.17g\n", name, labels, value);
	else
		buf_append(b, "%s %.17g\n", name, value);
}

char *metrics_label_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	if (len == 0)
		return out;
	for (; *in && o + 2 < len; in++) {
		char c = *in;
		if (c == '\\' || c == '"' || c == '\n') {
			out[o++] = '\\';
			c = c == '\n' ? 'n' : c;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	int64_t p;

	memset(ss, 0, sizeof *ss);
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (e == NULL || e[1] != ':' || (size_t)(e - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		port = e + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (util_parse_i64(port, 0, 65535, &p) != 0)
		return -1;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*sl = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*sl = sizeof *a6;
		return 0;
	}
	return -1;
}

/* Writes all of buf within the I/O budget; 0 or -1. */
static int write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		int64_t left = deadline - util_mono_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void respond(int fd, const char *status, const char *ctype, const char *body, size_t len,
		    int64_t deadline)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, ctype, len);
	if (write_all(fd, head, (size_t)n, deadline) == 0 && len)
		write_all(fd, body, len, deadline);
}

/* Serves one connection: reads the request line (and headers up to the blank
 * line, or what arrives within the budget), answers, closes. */
static void serve(struct cr_metrics *m, int fd)
{
	char req[METRICS_REQ_MAX + 1];
	size_t got = 0;
	int64_t deadline = util_mono_ms() + METRICS_IO_MS;

	while (got < METRICS_REQ_MAX) {
		int64_t left = deadline - util_mono_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = recv(fd, req + got, METRICS_REQ_MAX - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET ", 4) != 0 && strncmp(req, "HEAD ", 5) != 0) {
		static const char msg[] = "only GET /metrics\n";
		respond(fd, got ? "405 Method Not Allowed" : "400 Bad Request", "text/plain",
			msg, sizeof msg - 1, deadline);
		return;
	}
	const char *path = req + (req[0] == 'G' ? 4 : 5);
	size_t plen = strcspn(path, " ?\r\n");
	if (!(plen == 8 && strncmp(path, "/metrics", 8) == 0) && !(plen == 1 && *path == '/')) {
		static const char msg[] = "not found: try /metrics\n";
		respond(fd, "404 Not Found", "text/plain", msg, sizeof msg - 1, deadline);
		return;
	}
	struct metrics_buf b = { 0 };
	m->fill(m->arg, &b);
	if (b.oom) {
		static const char msg[] = "out of memory\n";
		respond(fd, "500 Internal Server Error", "text/plain", msg, sizeof msg - 1,
			deadline);
	} else {
		respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
			req[0] == 'H' ? NULL : b.data, req[0] == 'H' ? 0 : b.len, deadline);
	}
	free(b.data);
}

static void *metrics_thread(void *arg)
{
	struct cr_metrics *m = arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = m->fd, .events = POLLIN },
				       { .fd = m->stop_pipe[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("metrics: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(m, c);
		close(c);
	}
}

cr_metrics *metrics_start(const char *listen_addr, metrics_fill_fn fill, void *arg, char *err,
			  size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const int one = 1;

	if (parse_listen(listen_addr, &ss, &sl) != 0) {
		util_errf(err, errlen, "metrics listen \"%s\": not ADDR:PORT or [ADDR]:PORT",
			  listen_addr);
		return NULL;
	}
	struct cr_metrics *m = calloc(1, sizeof *m);
	if (m == NULL) {
		util_errf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->fill = fill;
	m->arg = arg;
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(m->fd, (struct sockaddr *)&ss, sl) < 0 || listen(m->fd, 16) < 0) {
		util_errf(err, errlen, "metrics listen %s: %s", listen_addr, strerror(errno));
		if (m->fd >= 0)
			close(m->fd);
		free(m);
		return NULL;
	}
	struct sockaddr_storage bound;
	socklen_t bl = sizeof bound;
	if (getsockname(m->fd, (struct sockaddr *)&bound, &bl) == 0)
		m->port = ntohs(bound.ss_family == AF_INET
					? ((struct sockaddr_in *)&bound)->sin_port
					: ((struct sockaddr_in6 *)&bound)->sin6_port);
	if (pipe2(m->stop_pipe, O_CLOEXEC) < 0) {
		util_errf(err, errlen, "metrics: pipe: %s", strerror(errno));
		close(m->fd);
		free(m);
		return NULL;
	}
	int rc = pthread_create(&m->thread, NULL, metrics_thread, m);
	if (rc != 0) {
		util_errf(err, errlen, "metrics: thread: %s", strerror(rc));
		close(m->fd);
		close(m->stop_pipe[0]);
		close(m->stop_pipe[1]);
		free(m);
		return NULL;
	}
	return m;
}

int metrics_port(const cr_metrics *m)
{
	return m ? m->port : 0;
}

void metrics_stop(cr_metrics *m)
{
	if (m == NULL)
		return;
	ssize_t n;
	do
		n = write(m->stop_pipe[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(m->thread, NULL);
	close(m->fd);
	close(m->stop_pipe[0]);
	close(m->stop_pipe[1]);
	free(m);
}
