/* engine_bench: the driver of bench/engine_bench.sh.  Loads a corpus of .eml files
 * into memory, then parses and checks each one with the engine (or only parses it,
 * the reference) and prints messages/s; run under callgrind for instruction counts.
 *
 *   engine_bench -c CONF [--mode engine|parse] [--cold] [--no-spf] [--rounds N] FILE...
 *   --cold: a new engine (empty DNS cache) for every message; default: one engine,
 *   warmed by one untimed pass.  The client IP of message i is 192.0.2.(i % 250 + 1),
 *   HELO mx.sender.test, MAIL FROM the Return-Path of the message; --no-spf leaves
 *   HELO and MAIL FROM unset, so SPF (and those two identities) are not checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "msg.h"
#include "util.h"

#define MAX_FILES 100000
#define MAX_FILE_BYTES (8u << 20)

struct item {
	char *data;
	size_t len;
};

static int load(const char *path, struct item *it)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    (size_t)n > MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "engine_bench: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	it->data = malloc((size_t)n + 1);
	if (it->data == NULL || fread(it->data, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "engine_bench: cannot read %s\n", path);
		fclose(f);
		return -1;
	}
	it->len = (size_t)n;
	fclose(f);
	return 0;
}

/* One message: parse, and check unless parse_only.  Returns the action or -1. */
static int no_spf;

static int one(cr_engine *e, const struct msg_limits *lim, const struct item *it, size_t i,
	       int parse_only, struct engine_verdict *v)
{
	char err[256], rp[400];
	struct engine_input in;
	const char *r;
	cr_msg *m = msg_parse_buffer(it->data, it->len, lim, err, sizeof(err));

	if (m == NULL) {
		fprintf(stderr, "engine_bench: %s\n", err);
		return -1;
	}
	if (parse_only) {
		msg_free(m);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	addr_from_v4(&in.client, 0xc0000200u + (uint32_t)(i % 250) + 1);
	in.have_client = 1;
	in.helo = no_spf ? NULL : "mx.sender.test";
	r = no_spf ? NULL : msg_header_value(m, "Return-Path", 0);
	if (r != NULL) {
		size_t n;
		while (*r == ' ' || *r == '<')
			r++;
		util_strlcpy(rp, r, sizeof(rp));
		n = strlen(rp);
		while (n > 0 && (rp[n - 1] == '>' || rp[n - 1] == ' '))
			rp[--n] = '\0';
		in.mail_from = rp;
	}
	in.queue_id = "bench";
	engine_check(e, &in, m, util_mono_ms() + engine_budget_ms(e), v);
	msg_free(m);
	return (int)v->action;
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *mode = "engine";
	int cold = 0, rounds = 1, first = argc;
	static struct item items[MAX_FILES];
	size_t nitems = 0, actions[5] = { 0 }, hits = 0;
	struct engine_verdict *v = malloc(sizeof(*v));
	struct msg_limits lim;
	char err[512];
	cr_conf *conf;
	cr_engine *e = NULL;
	int parse_only;
	int64_t t0, t1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf_path = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--cold") == 0)
			cold = 1;
		else if (strcmp(argv[i], "--no-spf") == 0)
			no_spf = 1;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			first = i;
			break;
		}
	}
	parse_only = strcmp(mode, "parse") == 0;
	if (conf_path == NULL || first >= argc || rounds < 1 || v == NULL ||
	    (!parse_only && strcmp(mode, "engine") != 0)) {
		fprintf(stderr, "usage: engine_bench -c CONF [--mode engine|parse] [--cold] "
				"[--no-spf] [--rounds N] FILE...\n");
		return 2;
	}
	log_open("engine_bench", 0, LOG_LEVEL_ERR);
	conf = conf_load(conf_path, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "engine_bench: %s\n", err);
		return 2;
	}
	for (int i = first; i < argc && nitems < MAX_FILES; i++)
		if (load(argv[i], &items[nitems++]) != 0)
			return 2;
	e = engine_new(conf, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "engine_bench: %s\n", err);
		return 2;
	}
	engine_msg_limits(e, &lim);
	if (!cold && !parse_only) /* warm the DNS cache: one untimed pass */
		for (size_t i = 0; i < nitems; i++)
			one(e, &lim, &items[i], i, 0, v);

	t0 = util_mono_ms();
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < nitems; i++) {
			int a;
			if (cold) {
				engine_free(e);
				e = engine_new(conf, err, sizeof(err));
				if (e == NULL) {
					fprintf(stderr, "engine_bench: %s\n", err);
					return 2;
				}
			}
			a = one(e, &lim, &items[i], i, parse_only, v);
			if (a < 0)
				return 2;
			if (!parse_only) {
				actions[a]++;
				hits += v->nhits;
			}
		}
	}
	t1 = util_mono_ms();
	{
		double n = (double)nitems * rounds, secs = (double)(t1 - t0) / 1000.0;
		printf("mode=%s%s%s messages=%.0f seconds=%.3f msgs_per_s=%.0f", mode,
		       cold ? "-cold" : "", no_spf || parse_only ? "" : "+spf", n, secs, secs > 0 ? n / secs : 0.0);
		if (!parse_only)
			printf(" accept=%zu tag=%zu quarantine=%zu tempfail=%zu reject=%zu "
			       "hits_per_msg=%.2f",
			       actions[ENGINE_ACCEPT], actions[ENGINE_TAG], actions[ENGINE_QUARANTINE],
			       actions[ENGINE_TEMPFAIL], actions[ENGINE_REJECT], (double)hits / n);
		printf("\n");
	}
	engine_free(e);
	conf_free(conf);
	for (size_t i = 0; i < nitems; i++)
		free(items[i].data);
	free(v);
	return 0;
}
