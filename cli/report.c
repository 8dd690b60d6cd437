/* chanrac report | reports | block: spam reports from users and peers (P2),
 * their review (P3), and immediate blocking on the authority's request (P11).
 * The work is in lib/report.c; this file reads files and argv and prints. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arf.h"
#include "cli.h"
#include "json.h"
#include "kv.h"
#include "report.h"
#include "stats.h"
#include "util.h"

/* Largest input read (a report or an mbox of them). */
#define REPORT_INPUT_MAX (64u << 20)
#define REPORT_MAX_MESSAGES 10000

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb;
			if (nc > REPORT_INPUT_MAX + 1)
				nc = REPORT_INPUT_MAX + 1;
			if (n == nc) {
				util_errf(err, errlen, "%s: larger than %u bytes", path, REPORT_INPUT_MAX);
				goto fail;
			}
			nb = realloc(buf, nc + 1);
			if (nb == NULL) {
				util_errf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = nc;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				util_errf(err, errlen, "%s: read error", path);
				goto fail;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (n == 0) {
		util_errf(err, errlen, "%s: empty", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

struct split_ctx {
	const char *msg[REPORT_MAX_MESSAGES];
	size_t len[REPORT_MAX_MESSAGES];
	size_t n;
	int too_many;
};

static int split_one(void *ud, const char *m, size_t len, size_t index)
{
	struct split_ctx *c = ud;
	(void)index;
	if (c->n == REPORT_MAX_MESSAGES) {
		c->too_many = 1;
		return 1;
	}
	c->msg[c->n] = m;
	c->len[c->n] = len;
	c->n++;
	return 0;
}

static void print_outcome_json(const struct report_facts *f, const struct report_outcome *o,
			       const char *reporter)
{
	fputs("{\"id\":", stdout);
	json_write_str(stdout, o->id);
	printf(",\"duplicate\":%s,\"status\":", o->duplicate ? "true" : "false");
	json_write_str(stdout, o->status);
	fputs(",\"kind\":", stdout);
	json_write_str(stdout, f->not_spam ? "not-spam" : "spam");
	fputs(",\"reporter\":", stdout);
	json_write_str(stdout, reporter);
	printf(",\"arf\":%s,\"ip\":", f->is_arf ? "true" : "false");
	if (f->has_ip)
		json_write_str(stdout, f->ip_text);
	else
		fputs("null", stdout);
	fputs(",\"ip_via\":", stdout);
	json_write_str(stdout, f->ip_via);
	printf(",\"trusted_hops\":%zu,\"ip_unlistable\":", f->trusted_hops);
	if (f->ip_unlistable)
		json_write_str(stdout, f->ip_unlistable);
	else
		fputs("null", stdout);
	fputs(",\"from_domain\":", stdout);
	json_write_str(stdout, f->from_domain);
	fputs(",\"domains\":[", stdout);
	for (size_t i = 0; i < f->ndomains; i++) {
		if (i)
			fputc(',', stdout);
		json_write_str(stdout, f->domains[i]);
	}
	fputs("],\"fingerprint\":", stdout);
	json_write_str(stdout, f->fingerprint);
	fputs(",\"message_id\":", stdout);
	json_write_str(stdout, f->message_id);
	fputs(",\"items\":[", stdout);
	for (size_t i = 0; i < o->nitems; i++) {
		const struct report_item *it = &o->items[i];
		fputs(i ? ",{\"kind\":" : "{\"kind\":", stdout);
		json_write_str(stdout, it->kind);
		fputs(",\"item\":", stdout);
		json_write_str(stdout, it->item);
		printf(",\"reporters\":%lld,\"threshold\":%lld,\"listed\":%s,\"action\":",
		       it->reporters, it->threshold, it->listed ? "true" : "false");
		json_write_str(stdout, it->action);
		fputc('}', stdout);
	}
	fputs("]}", stdout);
}

static void print_outcome_text(const struct report_facts *f, const struct report_outcome *o,
			       const char *reporter)
{
	printf("report %s: %s report by %s, %s\n", o->id, f->not_spam ? "not-spam" : "spam",
	       reporter, o->duplicate ? "duplicate (already counted)" : "stored");
	if (f->has_ip)
		printf("  originating ip %s (%s, %zu trusted hop%s)%s%s\n", f->ip_text, f->ip_via,
		       f->trusted_hops, f->trusted_hops == 1 ? "" : "s",
		       f->ip_unlistable ? ": never listed, " : "",
		       f->ip_unlistable ? f->ip_unlistable : "");
	else
		printf("  originating ip: none found outside the trusted relays\n");
	for (size_t i = 0; i < o->nitems; i++) {
		const struct report_item *it = &o->items[i];
		printf("  %s %s: %lld of %lld reporters: %s\n", it->kind, it->item, it->reporters,
		       it->threshold, it->action);
	}
	printf("  status: %s\n", o->status);
}

static int write_arf(struct cli *cli, const char *out, struct report_facts *fs, size_t n)
{
	char tmp[4096];
	FILE *f;
	int io = 0;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
	f = strcmp(out, "-") == 0 ? stdout : fopen(tmp, "w");
	if (f == NULL) {
		cli_err("--arf %s: %s", out, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct arf_out o;
		const char *doms[REPORT_MAX_DOMAINS];
		memset(&o, 0, sizeof o);
		for (size_t j = 0; j < fs[i].ndomains; j++)
			doms[j] = fs[i].domains[j];
		o.feedback_type = fs[i].not_spam ? "not-spam" : "abuse";
		o.from = conf_str(cli->conf, "report", "arf_from");
		o.user_agent = "chanrac/1";
		o.reporting_mta = conf_str(cli->conf, "report", "reporting_mta");
		o.source_ip = fs[i].has_ip ? fs[i].ip_text : NULL;
		o.original_mail_from = fs[i].mail_from;
		o.arrival_date = fs[i].arrival[0] ? fs[i].arrival : fs[i].date;
		o.reported_domains = doms;
		o.n_reported_domains = fs[i].ndomains;
		o.now = util_now();
		if (n > 1)
			fprintf(f, "From chanrac %s\n", "Thu Jan  1 00:00:00 1970");
		if (arf_write(f, &o, fs[i].original ? fs[i].original : "",
			      fs[i].original ? fs[i].original_len : 0) < 0)
			io = 1;
		if (n > 1)
			fputc('\n', f);
	}
	if (f != stdout) {
		if (fclose(f) != 0)
			io = 1;
		if (!io && rename(tmp, out) != 0)
			io = 1;
		if (io)
			unlink(tmp);
	}
	if (io) {
		cli_err("--arf %s: write error", out);
		return -1;
	}
	return 0;
}

int cli_cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reporter", required_argument, NULL, 'r' },
		{ "not-spam", no_argument, NULL, 'n' },
		{ "arf", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reporter = NULL, *arf_out = NULL, *file;
	struct report_conf rcf;
	struct split_ctx *sp = NULL;
	struct report_facts *facts = NULL;
	char err[1024], rep[LISTING_SOURCE_MAX + 1];
	char *buf = NULL;
	size_t len = 0, analysed = 0;
	int not_spam = 0, ch, rc = CLI_OK;
	cr_store *s = NULL;
	cr_stats *st = NULL;
	cr_kv *kv = NULL;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': reporter = optarg; break;
		case 'n': not_spam = 1; break;
		case 'a': arf_out = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("report: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("report: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (argc - optind != 1) {
		cli_err("report: one FILE (a message, an mbox or an ARF report; - for stdin)");
		return CLI_BADINPUT;
	}
	file = argv[optind];
	util_strlcpy(rep, reporter ? reporter : cli->source, sizeof rep);
	listing_clean_text(rep, LISTING_SOURCE_MAX);
	if (rep[0] == '\0' || strchr(rep, ' ') != NULL) {
		cli_err("--reporter \"%s\": one word (a user name, an address, a peer's id)", rep);
		return CLI_BADINPUT;
	}
	if (report_conf_load(cli->conf, &rcf, err, sizeof err) < 0) {
		cli_err("%s: %s", conf_source(cli->conf), err);
		return CLI_BADINPUT;
	}
	buf = read_all(file, &len, err, sizeof err);
	if (buf == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	sp = calloc(1, sizeof *sp);
	if (sp == NULL) {
		free(buf);
		return CLI_UNAVAIL;
	}
	arf_split_mbox(buf, len, split_one, sp);
	if (sp->too_many || sp->n == 0) {
		cli_err("%s: %s", file, sp->n ? "more than 10000 messages" : "no message");
		rc = CLI_BADINPUT;
		goto out;
	}
	facts = calloc(sp->n, sizeof *facts);
	if (facts == NULL) {
		rc = CLI_UNAVAIL;
		goto out;
	}
	/* everything is analysed before anything is stored: bad input changes nothing */
	for (size_t i = 0; i < sp->n; i++, analysed++) {
		if (report_analyse(&rcf, sp->msg[i], sp->len[i], not_spam, &facts[i], err,
				   sizeof err) < 0) {
			if (sp->n > 1)
				cli_err("%s: message %zu: %s (nothing stored)", file, i + 1, err);
			else
				cli_err("%s: %s (nothing stored)", file, err);
			rc = CLI_BADINPUT;
			goto out;
		}
	}
	if (arf_out != NULL && write_arf(cli, arf_out, facts, sp->n) < 0) {
		rc = CLI_BADINPUT;
		goto out;
	}
	s = cli_store_open(cli, &rc);
	if (s == NULL)
		goto out;
	st = stats_new(cli->conf, err, sizeof err);
	kv = kv_open(cli->conf, 0, err, sizeof err);
	if (cli->json)
		fputc('[', stdout);
	for (size_t i = 0; i < sp->n; i++) {
		struct report_outcome o;
		int r = report_submit(s, st, kv, &rcf, &facts[i], rep, util_now(), &o);
		if (r != STORE_OK) {
			cli_err("report %s: %s", file, store_error(s));
			rc = cli_exit_for(r);
			break;
		}
		if (cli->json) {
			if (i)
				fputs(",\n", stdout);
			print_outcome_json(&facts[i], &o, rep);
		} else {
			print_outcome_text(&facts[i], &o, rep);
		}
	}
	if (cli->json)
		fputs("]\n", stdout);
out:
	if (facts != NULL)
		for (size_t i = 0; i < analysed; i++)
			report_facts_free(&facts[i]);
	free(facts);
	kv_close(kv);
	stats_free(st);
	store_close(s);
	free(sp);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- reports */

struct reports_list_ctx {
	struct cli *cli;
	cr_store *s;
	const char *status;
	long n, limit;
	int err;
};

static int reports_list_one(void *ud, const char *id, int64_t when)
{
	struct reports_list_ctx *c = ud;
	struct report_fields rf;
	const char *stv, *ip, *dom, *who, *subj;
	char t[32];
	int st = report_get(c->s, id, &rf);

	if (st == STORE_NOTFOUND)
		return 0; /* expired meanwhile */
	if (st != STORE_OK) {
		c->err = st;
		return 1;
	}
	stv = report_field(&rf, "status");
	if (c->status != NULL && (stv == NULL || strcmp(stv, c->status) != 0)) {
		report_fields_free(&rf);
		return 0;
	}
	ip = report_field(&rf, "ip");
	dom = report_field(&rf, "domains");
	who = report_field(&rf, "reporter");
	subj = report_field(&rf, "subject");
	util_format_time(when, t, sizeof t);
	if (c->cli->json) {
		fputs(c->n ? ",\n{\"id\":" : "{\"id\":", stdout);
		json_write_str(stdout, id);
		printf(",\"time\":%lld,\"status\":", (long long)when);
		json_write_str(stdout, stv);
		fputs(",\"kind\":", stdout);
		json_write_str(stdout, report_field(&rf, "kind"));
		fputs(",\"reporter\":", stdout);
		json_write_str(stdout, who);
		fputs(",\"ip\":", stdout);
		json_write_str(stdout, ip);
		fputs(",\"domains\":", stdout);
		json_write_str(stdout, dom);
		fputs(",\"subject\":", stdout);
		json_write_str(stdout, subj);
		fputc('}', stdout);
	} else {
		printf("%s\t%s\t%s\t%s\tip=%s\tdomains=%s\t%s\n", id, t, stv ? stv : "",
		       who ? who : "", ip && ip[0] ? ip : "-", dom && dom[0] ? dom : "-",
		       subj ? subj : "");
	}
	c->n++;
	report_fields_free(&rf);
	return c->n >= c->limit;
}

static int reports_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "reason", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub, *status = NULL, *reason = NULL;
	int64_t from = 0, to = 0, limit = 1000;
	int ch, rc = CLI_OK;
	struct report_conf rcf;
	char err[512];

	if (argc < 2) {
		cli_err("reports: list, show, accept or reject?");
		return CLI_BADINPUT;
	}
	sub = argv[1];
	optind = 0;
	opterr = 0;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': status = optarg; break;
		case 'f':
			if (util_parse_time(optarg, &from) < 0) {
				cli_err("--from %s: not a time (2026-11-22 or 2026-11-22T10:00:00Z)", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 't':
			if (util_parse_time(optarg, &to) < 0) {
				cli_err("--to %s: not a time", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 'l':
			if (util_parse_i64(optarg, 1, 1000000, &limit) < 0) {
				cli_err("--limit %s: not a number 1..1000000", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 'r': reason = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("reports %s: option %s needs a value", sub, argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("reports %s: unknown option '%s'", sub, argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (status != NULL && strcmp(status, "pending") && strcmp(status, "listed") &&
	    strcmp(status, "accepted") && strcmp(status, "rejected") && strcmp(status, "notspam")) {
		cli_err("--status %s: pending, listed, accepted, rejected or notspam", status);
		return CLI_BADINPUT;
	}
	if (report_conf_load(cli->conf, &rcf, err, sizeof err) < 0) {
		cli_err("%s: %s", conf_source(cli->conf), err);
		return CLI_BADINPUT;
	}
	if (strcmp(sub, "list") == 0) {
		if (optind != argc) {
			cli_err("reports list: unexpected argument '%s'", argv[optind]);
			return CLI_BADINPUT;
		}
		cr_store *s = cli_store_open(cli, &rc);
		if (s == NULL)
			return rc;
		struct reports_list_ctx c = { cli, s, status, 0, (long)limit, 0 };
		if (cli->json)
			fputc('[', stdout);
		int n = report_list(s, from, to, status ? 0 : (long)limit, reports_list_one, &c);
		if (cli->json)
			fputs("]\n", stdout);
		if (n < 0 || c.err) {
			cli_err("reports list: %s", store_error(s));
			rc = cli_exit_for(n < 0 ? n : c.err);
		}
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "show") != 0 && strcmp(sub, "accept") != 0 && strcmp(sub, "reject") != 0) {
		cli_err("reports %s: unknown (list, show, accept, reject)", sub);
		return CLI_BADINPUT;
	}
	if (argc - optind != 1) {
		cli_err("reports %s: one report ID", sub);
		return CLI_BADINPUT;
	}
	const char *id = argv[optind];
	if (strlen(id) != REPORT_ID_LEN || strspn(id, "0123456789abcdef") != REPORT_ID_LEN) {
		cli_err("report id \"%s\": 16 lower-case hex digits expected", id);
		return CLI_BADINPUT;
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	if (strcmp(sub, "show") == 0) {
		struct report_fields rf;
		int st = report_get(s, id, &rf);
		if (st == STORE_NOTFOUND) {
			cli_err("report %s: not found", id);
			rc = CLI_NOTFOUND;
		} else if (st != STORE_OK) {
			cli_err("report %s: %s", id, store_error(s));
			rc = cli_exit_for(st);
		} else {
			/* fields in a fixed order, headers last */
			static const char *const order[] = { "id", "time", "reporter", "kind", "status",
				"source", "arf_type", "arf_agent", "ip", "ip_via", "ip_note",
				"trusted_hops", "hop", "from_domain", "domains", "fingerprint",
				"message_id", "subject", "date", "arrival", "mail_from", "identity",
				"listed", "decided_by", "decided_at", "decision", "headers" };
			if (cli->json)
				fputc('{', stdout);
			int first = 1;
			for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
				const char *v = report_field(&rf, order[i]);
				if (v == NULL)
					continue;
				if (cli->json) {
					if (!first)
						fputc(',', stdout);
					json_write_key(stdout, order[i]);
					json_write_str(stdout, v);
				} else if (strcmp(order[i], "headers") == 0) {
					printf("headers:\n%s\n", v);
				} else if (strcmp(order[i], "time") == 0 ||
					   strcmp(order[i], "decided_at") == 0) {
					char t[32];
					util_format_time(strtoll(v, NULL, 10), t, sizeof t);
					printf("%s: %s\n", order[i], t);
				} else {
					printf("%s: %s\n", order[i], v);
				}
				first = 0;
			}
			if (cli->json)
				fputs("}\n", stdout);
			report_fields_free(&rf);
		}
		store_close(s);
		return rc;
	}
	{
		char errs[256];
		cr_stats *st = stats_new(cli->conf, errs, sizeof errs);
		struct report_outcome o;
		int accept = strcmp(sub, "accept") == 0;
		int r = report_decide(s, st, &rcf, id, accept, cli->source, reason, &o);
		if (r == STORE_NOTFOUND) {
			cli_err("report %s: not found", id);
			rc = CLI_NOTFOUND;
		} else if (r == STORE_EEXIST) {
			cli_err("report %s: already decided (%s)", id, o.status);
			rc = CLI_BADINPUT;
		} else if (r != STORE_OK) {
			cli_err("reports %s %s: %s", sub, id, store_error(s));
			rc = cli_exit_for(r);
		} else if (cli->json) {
			fputs("{\"id\":", stdout);
			json_write_str(stdout, id);
			fputs(",\"status\":", stdout);
			json_write_str(stdout, o.status);
			fputs(",\"items\":[", stdout);
			for (size_t i = 0; i < o.nitems; i++) {
				fputs(i ? ",{\"item\":" : "{\"item\":", stdout);
				json_write_str(stdout, o.items[i].item);
				printf(",\"listed\":%s,\"action\":", o.items[i].listed ? "true" : "false");
				json_write_str(stdout, o.items[i].action);
				fputc('}', stdout);
			}
			fputs("]}\n", stdout);
		} else {
			printf("report %s: %s\n", id, o.status);
			for (size_t i = 0; i < o.nitems; i++)
				printf("  %s %s: %s\n", o.items[i].kind, o.items[i].item,
				       o.items[i].action);
		}
		stats_free(st);
	}
	store_close(s);
	return rc;
}

int cli_cmd_reports(struct cli *cli, int argc, char **argv)
{
	return reports_cmd(cli, argc, argv);
}

/* ---------------------------------------------------------------- block */

int cli_cmd_block(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ref", required_argument, NULL, 'R' },
		{ "reason", required_argument, NULL, 'r' },
		{ "list", required_argument, NULL, 'l' },
		{ "code", required_argument, NULL, 'C' },
		{ "expires", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ref = NULL, *reason = NULL, *list = NULL, *code = NULL, *expires = NULL;
	struct listing_entry *es = NULL;
	struct report_conf rcf;
	char err[512];
	int ch, rc = CLI_OK, n;
	int64_t now = util_now(), exp = 0;
	uint32_t codev = LISTING_CODE_DEFAULT;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:l:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'R': ref = optarg; break;
		case 'r': reason = optarg; break;
		case 'l': list = optarg; break;
		case 'C': code = optarg; break;
		case 'e': expires = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("block: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("block: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	n = argc - optind;
	if (n < 1) {
		cli_err("block: what? (an address, CIDR or domain, with --ref TICKET --reason TEXT)");
		return CLI_BADINPUT;
	}
	if (ref == NULL || ref[0] == '\0' || reason == NULL || reason[0] == '\0') {
		cli_err("block: --ref (the authority's reference) and --reason are required");
		return CLI_BADINPUT;
	}
	if (report_conf_load(cli->conf, &rcf, err, sizeof err) < 0) {
		cli_err("%s: %s", conf_source(cli->conf), err);
		return CLI_BADINPUT;
	}
	if (list != NULL && !cli_check_list(cli, list))
		return CLI_BADINPUT;
	if (code != NULL && listing_parse_code(code, &codev, err, sizeof err) < 0) {
		cli_err("--code %s: %s", code, err);
		return CLI_BADINPUT;
	}
	if (expires != NULL) {
		int64_t ms;
		if (util_parse_duration_ms(expires, &ms) != 0 || ms < 1000) {
			cli_err("--expires %s: not a duration of at least 1s", expires);
			return CLI_BADINPUT;
		}
		exp = now + ms / 1000;
	}
	es = calloc((size_t)n, sizeof *es);
	if (es == NULL)
		return CLI_UNAVAIL;
	for (int i = 0; i < n; i++) {
		if (listing_parse_key(argv[optind + i], &es[i], err, sizeof err) < 0) {
			cli_err("%s", err);
			free(es);
			return CLI_BADINPUT;
		}
		if (es[i].exclude) {
			cli_err("block %s: an exclusion cannot be blocked", argv[optind + i]);
			free(es);
			return CLI_BADINPUT;
		}
		es[i].code = codev;
		es[i].added = now;
		es[i].expires = exp;
		snprintf(es[i].source, sizeof es[i].source, "authority:%s", ref);
		listing_clean_text(es[i].source, LISTING_SOURCE_MAX);
		util_strlcpy(es[i].reason, reason, sizeof es[i].reason);
		listing_clean_text(es[i].reason, LISTING_REASON_MAX);
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL) {
		free(es);
		return rc;
	}
	cr_stats *st = stats_new(cli->conf, err, sizeof err);
	store_set_audit(s, cli->source, reason, ref);
	if (cli->json)
		fputc('[', stdout);
	for (int i = 0; i < n; i++) {
		char key[LISTING_KEY_MAX];
		const char *target = list ? list
				     : es[i].kind == LISTING_ADDR ? rcf.ip_list : rcf.domain_list;
		int allow_removed = 0, r;
		listing_format_key(&es[i], key, sizeof key);
		/* the allow list wins in the responder: an exact allow entry of the
		 * blocked item is removed (audited with the same reference) */
		if (rcf.allow_list[0] && strcmp(rcf.allow_list, target) != 0) {
			struct listing_entry k = es[i];
			r = store_entry_del(s, rcf.allow_list, &k);
			if (r == STORE_OK)
				allow_removed = 1;
			else if (r != STORE_NOTFOUND) {
				cli_err("block %s: %s", key, store_error(s));
				rc = cli_exit_for(r);
				break;
			}
		}
		r = store_entry_add(s, target, &es[i], 1);
		if (r != STORE_OK) {
			cli_err("block %s --list %s: %s", key, target, store_error(s));
			rc = cli_exit_for(r);
			break;
		}
		stats_add(st, now, STATS_LIST_ADDED, 1);
		if (allow_removed)
			stats_add(st, now, STATS_LIST_REMOVED, 1);
		if (cli->json) {
			if (i)
				fputc(',', stdout);
			fputs("{\"list\":", stdout);
			json_write_str(stdout, target);
			printf(",\"allow_entry_removed\":%s,\"ref\":", allow_removed ? "true" : "false");
			json_write_str(stdout, ref);
			fputs(",\"entry\":", stdout);
			cli_entry_json(stdout, &es[i]);
			fputc('}', stdout);
		} else {
			printf("blocked %s on %s (ref %s)%s\n", key, target, ref,
			       allow_removed ? "; its allow-list entry was removed" : "");
		}
	}
	if (cli->json)
		fputs("]\n", stdout);
	stats_free(st);
	store_close(s);
	free(es);
	return rc;
}
