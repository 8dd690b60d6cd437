/* scan: "chanrac scan FILE.eml" runs the check engine chanrac-milter uses on a stored
 * message, with the connection facts given as options, and prints every rule that
 * fired with its score and reason, the total and the action (text or --json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "json.h"
#include "msg.h"
#include "util.h"

#define SCAN_MAX_RCPTS 100

struct scan_opts {
	const char *file;
	const char *ip, *helo, *from, *ptr;
	const char *rcpts[SCAN_MAX_RCPTS];
	size_t nrcpts;
	int from_given;
};

static void scan_usage(void)
{
	cli_err("usage: chanrac scan FILE.eml [--ip ADDRESS] [--ptr NAME] [--helo NAME] "
		"[--from SENDER] [--rcpt RCPT]... [--json]");
}

static int parse_args(struct scan_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (strcmp(a, "--json") == 0)
			continue;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++; /* handled by main */
			continue;
		}
		if (strcmp(a, "--ip") == 0)
			dst = &o->ip;
		else if (strcmp(a, "--helo") == 0)
			dst = &o->helo;
		else if (strcmp(a, "--from") == 0)
			dst = &o->from;
		else if (strcmp(a, "--ptr") == 0)
			dst = &o->ptr;
		if (dst != NULL || strcmp(a, "--rcpt") == 0) {
			if (i + 1 >= argc) {
				cli_err("scan: %s needs a value", a);
				return -1;
			}
			if (dst != NULL) {
				*dst = argv[++i];
				if (dst == &o->from)
					o->from_given = 1;
			} else if (o->nrcpts >= SCAN_MAX_RCPTS) {
				cli_err("scan: at most %d --rcpt", SCAN_MAX_RCPTS);
				return -1;
			} else {
				o->rcpts[o->nrcpts++] = argv[++i];
			}
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			cli_err("scan: unknown option '%s'", a);
			scan_usage();
			return -1;
		}
		if (o->file != NULL) {
			cli_err("scan: one FILE only ('%s' and '%s')", o->file, a);
			return -1;
		}
		o->file = a;
	}
	if (o->file == NULL) {
		scan_usage();
		return -1;
	}
	return 0;
}

/* "<a@b>" or "a@b" -> "a@b" in buf. */
static const char *strip_angles(const char *s, char *buf, size_t len)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '<')
		s++;
	util_strlcpy(buf, s, len);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '>' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

static void print_score(FILE *f, double s)
{
	char buf[32], *p;

	snprintf(buf, sizeof(buf), "%.2f", s);
	p = buf + strlen(buf) - 1;
	while (p > buf && *p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	fputs(buf, f);
}

static void print_degraded_json(FILE *f, unsigned deg)
{
	int first = 1;

	fputc('[', f);
	for (unsigned bit = 1; bit != 0 && bit <= deg; bit <<= 1) {
		if (!(deg & bit))
			continue;
		if (!first)
			fputc(',', f);
		json_write_str(f, engine_degraded_name(bit));
		first = 0;
	}
	fputc(']', f);
}

/* A JSON string, or null for NULL. */
static void print_str_or_null(FILE *f, const char *s)
{
	if (s != NULL)
		json_write_str(f, s);
	else
		fputs("null", f);
}

static void print_json(const struct scan_opts *o, const struct engine_input *in,
		       const cr_engine *e, const struct engine_verdict *v, const char *note)
{
	double tag, quarantine, reject;
	FILE *f = stdout;

	engine_thresholds(e, &tag, &quarantine, &reject);
	fputc('{', f);
	json_write_key(f, "file");
	json_write_str(f, o->file);
	fputc(',', f);
	json_write_key(f, "input");
	fputc('{', f);
	json_write_key(f, "ip");
	print_str_or_null(f, o->ip);
	fputc(',', f);
	json_write_key(f, "ptr");
	print_str_or_null(f, o->ptr);
	fputc(',', f);
	json_write_key(f, "helo");
	print_str_or_null(f, in->helo);
	fputc(',', f);
	json_write_key(f, "mail_from");
	print_str_or_null(f, in->mail_from);
	fputc(',', f);
	json_write_key(f, "rcpts");
	fputc('[', f);
	for (size_t i = 0; i < in->nrcpts; i++) {
		if (i)
			fputc(',', f);
		json_write_str(f, in->rcpts[i]);
	}
	fputs("]},", f);
	json_write_key(f, "rules");
	fputc('[', f);
	for (size_t i = 0; i < v->nhits; i++) {
		if (i)
			fputc(',', f);
		fputc('{', f);
		json_write_key(f, "rule");
		json_write_str(f, v->hits[i].rule);
		fputs(",\"score\":", f);
		print_score(f, v->hits[i].score);
		fputc(',', f);
		json_write_key(f, "reason");
		json_write_str(f, v->hits[i].reason);
		fputc('}', f);
	}
	fputs("],\"score\":", f);
	print_score(f, v->score);
	fputs(",\"thresholds\":{\"tag\":", f);
	print_score(f, tag);
	fputs(",\"quarantine\":", f);
	print_score(f, quarantine);
	fputs(",\"reject\":", f);
	print_score(f, reject);
	fputs("},", f);
	json_write_key(f, "action");
	json_write_str(f, engine_action_name(v->action));
	fputs(",\"recipients\":[", f);
	for (size_t i = 0; i < v->nrcpts; i++) {
		fputs(i ? ",{" : "{", f);
		json_write_key(f, "rcpt");
		json_write_str(f, in->rcpts[i]);
		fputc(',', f);
		json_write_key(f, "action");
		json_write_str(f, engine_action_name(v->rcpt[i].action));
		fputs(",\"score\":", f);
		print_score(f, v->rcpt[i].score);
		fputc(',', f);
		json_write_key(f, "rule");
		json_write_str(f, v->rcpt[i].rule);
		fputc('}', f);
	}
	fprintf(f, "],\"hold\":%s", v->hold ? "true" : "false");
	fprintf(f, ",\"allowed\":%s,\"degraded\":", v->allowed ? "true" : "false");
	print_degraded_json(f, v->degraded);
	/* the advertising facts the statistics count (doc/rules.md) */
	fprintf(f, ",\"advertising\":%s,", v->advertising ? "true" : "false");
	json_write_key(f, "advertiser");
	print_str_or_null(f, v->advertiser[0] ? v->advertiser : NULL);
	fputc(',', f);
	json_write_key(f, "template_id");
	print_str_or_null(f, v->template_id[0] ? v->template_id : NULL);
	fputc(',', f);
	json_write_key(f, "reply");
	json_write_str(f, v->reply);
	fputc(',', f);
	json_write_key(f, "headers");
	fputc('{', f);
	json_write_key(f, "X-Chanrac-Score");
	json_write_str(f, v->hdr_score);
	fputc(',', f);
	json_write_key(f, "X-Chanrac-Report");
	json_write_str(f, v->hdr_report);
	fputc(',', f);
	json_write_key(f, "Authentication-Results");
	json_write_str(f, v->hdr_auth_results);
	fputs("},", f);
	json_write_key(f, "note");
	json_write_str(f, note);
	fprintf(f, ",\"elapsed_ms\":%lld}\n", (long long)v->elapsed_ms);
}

static void print_text(const struct scan_opts *o, const struct engine_input *in,
		       const cr_engine *e, const struct engine_verdict *v, const char *note)
{
	double tag, quarantine, reject;
	FILE *f = stdout;

	engine_thresholds(e, &tag, &quarantine, &reject);
	printf("file:      %s\n", o->file);
	printf("client:    %s%s%s%s\n", o->ip ? o->ip : "(none)", o->ptr ? " (" : "",
	       o->ptr ? o->ptr : "", o->ptr ? ")" : "");
	printf("helo:      %s\n", in->helo ? in->helo : "(none)");
	printf("mail from: %s%s\n", in->mail_from ? (in->mail_from[0] ? in->mail_from : "<>")
						  : "(none)",
	       in->mail_from && !o->from_given ? " (from Return-Path)" : "");
	for (size_t i = 0; i < in->nrcpts; i++)
		printf("rcpt to:   %s\n", in->rcpts[i]);
	if (note[0] != '\0')
		printf("note:      %s\n", note);
	printf("\n");
	if (v->nhits == 0)
		printf("no rule fired\n");
	for (size_t i = 0; i < v->nhits; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "%.2f", v->hits[i].score);
		(void)n;
		printf("%-20s %8s  %s\n", v->hits[i].rule, s, v->hits[i].reason);
	}
	printf("\nscore:     ");
	print_score(f, v->score);
	printf(" (tag ");
	print_score(f, tag);
	printf(", quarantine ");
	print_score(f, quarantine);
	printf(", reject ");
	print_score(f, reject);
	printf("; 0 = off)\n");
	printf("action:    %s%s\n", engine_action_name(v->action),
	       v->allowed ? " (allow list)" : v->hold ? " (outbound: user held)" : "");
	for (size_t i = 0; i < v->nrcpts; i++)
		if (v->rcpt[i].action == ENGINE_REJECT)
			printf("rcpt:      %s rejected (%s)\n", in->rcpts[i], v->rcpt[i].rule);
	if (v->advertising)
		printf("advertising: yes (advertiser %s, template %s)\n",
		       v->advertiser[0] ? v->advertiser : "unknown",
		       v->template_id[0] ? v->template_id : "none");
	else
		printf("advertising: no\n");
	if (v->degraded) {
		printf("degraded: ");
		for (unsigned bit = 1; bit != 0 && bit <= v->degraded; bit <<= 1)
			if (v->degraded & bit)
				printf(" %s", engine_degraded_name(bit));
		printf("\n");
	}
	if (v->reply[0] != '\0')
		printf("reply:     %s\n", v->reply);
	printf("\nX-Chanrac-Score: %s\n", v->hdr_score);
	if (v->hdr_report[0] != '\0')
		printf("X-Chanrac-Report: %s\n", v->hdr_report);
	printf("Authentication-Results: %s\n", v->hdr_auth_results);
}

int cli_cmd_scan(struct cli *cli, int argc, char **argv)
{
	struct scan_opts o = { 0 };
	struct engine_input in = { 0 };
	struct engine_verdict *v = NULL;
	struct msg_limits lim;
	char err[1024], rp[MSG_ADDR_MAX + 8], note[200] = "";
	cr_engine *e;
	cr_msg *m;
	FILE *probe;
	int rc;

	if (parse_args(&o, argc, argv) != 0)
		return CLI_BADINPUT;
	if (o.ip != NULL && addr_parse(o.ip, &in.client, err, sizeof(err)) != 0) {
		cli_err("scan: --ip: %s", err);
		return CLI_BADINPUT;
	}
	in.have_client = o.ip != NULL;
	probe = fopen(o.file, "re");
	if (probe == NULL) {
		cli_err("scan: cannot read %s: %m", o.file);
		return CLI_BADINPUT;
	}
	fclose(probe);
	e = engine_new(cli->conf, err, sizeof(err));
	if (e == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	engine_msg_limits(e, &lim);
	m = msg_parse_file(o.file, &lim, err, sizeof(err));
	if (m == NULL) {
		cli_err("scan: %s: %s", o.file, err);
		engine_free(e);
		return CLI_BADINPUT;
	}
	in.client_ptr = o.ptr;
	in.helo = o.helo;
	in.mail_from = o.from;
	/* without --from, the MAIL FROM the message was delivered with, if it says */
	if (!o.from_given && msg_header_value(m, "Return-Path", 0) != NULL)
		in.mail_from = strip_angles(msg_header_value(m, "Return-Path", 0), rp, sizeof(rp));
	in.rcpts = o.rcpts;
	in.nrcpts = o.nrcpts;
	in.queue_id = "scan";
	in.dry_run = 1; /* a scan reads counters and holds but records nothing */
	if (!in.have_client)
		snprintf(note, sizeof(note), "no --ip: the client IP checks and SPF were skipped");

	v = malloc(sizeof(*v));
	if (v == NULL) {
		cli_err("scan: out of memory");
		msg_free(m);
		engine_free(e);
		return CLI_UNAVAIL;
	}
	engine_check(e, &in, m, util_mono_ms() + engine_budget_ms(e), v);
	if (cli->json)
		print_json(&o, &in, e, v, note);
	else
		print_text(&o, &in, e, v, note);
	rc = v->action == ENGINE_ACCEPT || v->action == ENGINE_TAG ? CLI_OK : CLI_SPAM;
	free(v);
	msg_free(m);
	engine_free(e);
	return rc;
}
