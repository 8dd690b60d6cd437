/* metrics: a Prometheus text-format endpoint ("GET /metrics" over HTTP/1.0)
 * served by one background thread, for chanrac-milter and chanrac-rbld.
 *
 * The daemon supplies a callback that appends its counters to a buffer with
 * metrics_add(); the thread calls it once per scrape.  The endpoint is meant
 * for loopback (the default listen address); it answers one request per
 * connection, reads at most METRICS_REQ_MAX bytes within METRICS_IO_MS, and
 * serves one client at a time, so a slow or hostile client costs at most that
 * long and never touches mail or DNS traffic. */
#ifndef CHANRAC_METRICS_H
#define CHANRAC_METRICS_H

#include <stddef.h>

#define METRICS_REQ_MAX 4096
#define METRICS_IO_MS 1000

typedef struct cr_metrics cr_metrics;

/* A growing text buffer for one scrape. */
struct metrics_buf {
	char *data;
	size_t len, cap;
	int oom; /* an append failed: the scrape answers 500 */
};

/* Appends one sample: "# HELP"/"# TYPE" lines when help != NULL (once per
 * metric family: pass help only for its first sample), then
 * NAME{LABELS} VALUE.  labels may be NULL or "" (no braces); label values
 * must already be escaped (metrics_label_escape). type: "counter"/"gauge". */
void metrics_add(struct metrics_buf *b, const char *name, const char *type, const char *help,
		 const char *labels, double value);

/* Escapes a label value (backslash, double quote, newline) into out.  Returns
 * out; a value too long for len is cut. */
char *metrics_label_escape(const char *in, char *out, size_t len);

typedef void (*metrics_fill_fn)(void *arg, struct metrics_buf *b);

/* Starts the endpoint on listen ("ADDR:PORT" or "[ADDR]:PORT", TCP).  Returns
 * NULL with err if the address is bad or cannot be bound; the caller decides
 * whether that is fatal (the daemons log it and carry on without metrics). */
cr_metrics *metrics_start(const char *listen, metrics_fill_fn fill, void *arg, char *err,
			  size_t errlen);

/* The port actually bound (for "ADDR:0" in tests). */
int metrics_port(const cr_metrics *m);

/* Stops the thread and closes the socket.  NULL is allowed. */
void metrics_stop(cr_metrics *m);

#endif
