/* chanrac list add|del|show|import|export|expire: manage the shared blacklist.
 * Every argument is checked before the store is touched, so bad input changes
 * nothing; an import is staged and committed in one step (store.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dataset.h"
#include "json.h"
#include "report.h"
#include "stats.h"
#include "util.h"

struct list_opts {
	const char *list;
	const char *code;
	const char *reason;
	const char *expires; /* duration from now */
	const char *until;   /* absolute time */
	const char *format;
	const char *output;
	const char *source;
	const char *ref;  /* audit reference (ticket, report id) */
	int replace;
	int npos;
	char **pos;
};

/* Parses the options of a list subcommand (argv[0] = subcommand name). */
static int list_parse_opts(int argc, char **argv, struct list_opts *o)
{
	static const struct option longopts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "code", required_argument, NULL, 'C' },
		{ "reason", required_argument, NULL, 'r' },
		{ "expires", required_argument, NULL, 'e' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, 's' },
		{ "ref", required_argument, NULL, 'F' },
		{ "replace", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof *o);
	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:o:c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->list = optarg; break;
		case 'C': o->code = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'e': o->expires = optarg; break;
		case 'u': o->until = optarg; break;
		case 'f': o->format = optarg; break;
		case 'o': o->output = optarg; break;
		case 's': o->source = optarg; break;
		case 'F': o->ref = optarg; break;
		case 'R': o->replace = 1; break;
		case 'j': case 'c': break; /* handled globally */
		case ':':
			cli_err("%s: option %s needs a value", argv[0], argv[optind - 1]);
			return -1;
		default:
			cli_err("%s: unknown option '%s'", argv[0], argv[optind - 1]);
			return -1;
		}
	}
	o->npos = argc - optind;
	o->pos = argv + optind;
	return 0;
}

/* Fills the value fields shared by add and import from the options. */
static int list_fill_value(struct cli *cli, const struct list_opts *o, struct listing_entry *tmpl)
{
	char err[256];

	memset(tmpl, 0, sizeof *tmpl);
	tmpl->code = LISTING_CODE_DEFAULT;
	if (o->code && listing_parse_code(o->code, &tmpl->code, err, sizeof err) != 0) {
		cli_err("--code %s: %s", o->code, err);
		return -1;
	}
	if (o->reason) {
		util_strlcpy(tmpl->reason, o->reason, sizeof tmpl->reason);
		listing_clean_text(tmpl->reason, LISTING_REASON_MAX);
	}
	util_strlcpy(tmpl->source, o->source ? o->source : cli->source, sizeof tmpl->source);
	listing_clean_text(tmpl->source, LISTING_SOURCE_MAX);
	tmpl->added = util_now();
	if (o->expires && o->until) {
		cli_err("--expires and --until cannot be combined");
		return -1;
	}
	if (o->expires) {
		int64_t ms;
		if (util_parse_duration_ms(o->expires, &ms) != 0 || ms < 1000) {
			cli_err("--expires %s: not a duration of at least 1s (e.g. 12h, 7d)", o->expires);
			return -1;
		}
		tmpl->expires = tmpl->added + ms / 1000;
	}
	if (o->until) {
		if (util_parse_time(o->until, &tmpl->expires) != 0) {
			cli_err("--until %s: not a time (e.g. 2026-12-31T00:00:00Z)", o->until);
			return -1;
		}
		if (tmpl->expires <= tmpl->added) {
			cli_err("--until %s: is in the past", o->until);
			return -1;
		}
	}
	return 0;
}

static void list_print_entry(FILE *f, const char *list, const struct listing_entry *e, int64_t now)
{
	char key[LISTING_KEY_MAX], code[16], age[32], exp[64] = "";

	listing_format_key(e, key, sizeof key);
	listing_format_code(e->code, code, sizeof code);
	util_format_age(now - e->added, age, sizeof age);
	if (e->expires) {
		char t[32];
		util_format_time(e->expires, t, sizeof t);
		snprintf(exp, sizeof exp, " expires=%s%s", t, e->expires <= now ? "(expired)" : "");
	}
	fprintf(f, "%s\t%s\t%s\tage=%s source=%s%s\t%s\n", list, key, e->exclude ? "-" : code,
		age, e->source, exp, e->reason);
}

static int list_add(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	struct listing_entry tmpl;
	char err[512];
	int rc = CLI_OK;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos == 0) {
		cli_err("list add: which entry? (e.g. chanrac list add 192.0.2.0/24 --list spam-ip)");
		return CLI_BADINPUT;
	}
	if (!cli_check_list(cli, o.list) || list_fill_value(cli, &o, &tmpl) != 0)
		return CLI_BADINPUT;
	struct listing_entry *es = calloc((size_t)o.npos, sizeof *es);
	if (es == NULL)
		return CLI_UNAVAIL;
	for (int i = 0; i < o.npos; i++) {
		if (listing_parse_key(o.pos[i], &es[i], err, sizeof err) != 0) {
			cli_err("%s", err);
			free(es);
			return CLI_BADINPUT;
		}
		struct listing_entry k = es[i];
		es[i] = tmpl;
		es[i].kind = k.kind;
		es[i].exclude = k.exclude;
		es[i].prefix = k.prefix;
		memcpy(es[i].name, k.name, sizeof es[i].name);
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL) {
		free(es);
		return rc;
	}
	cr_stats *stats = stats_new(cli->conf, err, sizeof err);
	store_set_audit(s, cli->source, o.reason, o.ref);
	if (cli->json)
		fputc('[', stdout);
	for (int i = 0; i < o.npos; i++) {
		char key[LISTING_KEY_MAX];
		listing_format_key(&es[i], key, sizeof key);
		int st = store_entry_add(s, o.list, &es[i], 1);
		if (st == STORE_OK)
			stats_add(stats, util_now(), STATS_LIST_ADDED, 1);
		if (st != STORE_OK) {
			cli_err("list add %s --list %s: %s", key, o.list, store_error(s));
			rc = cli_exit_for(st);
			break;
		}
		if (cli->json) {
			if (i)
				fputc(',', stdout);
			fputs("{\"list\":", stdout);
			json_write_str(stdout, o.list);
			fputs(",\"entry\":", stdout);
			cli_entry_json(stdout, &es[i]);
			fputc('}', stdout);
		} else {
			printf("added %s to %s\n", key, o.list);
		}
	}
	if (cli->json)
		fputs("]\n", stdout);
	stats_free(stats);
	store_close(s);
	free(es);
	return rc;
}

static int list_del(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	char err[512];
	int rc = CLI_OK;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos == 0) {
		cli_err("list del: which entry? (e.g. chanrac list del 192.0.2.0/24 --list spam-ip)");
		return CLI_BADINPUT;
	}
	if (!cli_check_list(cli, o.list))
		return CLI_BADINPUT;
	struct listing_entry *es = calloc((size_t)o.npos, sizeof *es);
	if (es == NULL)
		return CLI_UNAVAIL;
	for (int i = 0; i < o.npos; i++) {
		if (listing_parse_key(o.pos[i], &es[i], err, sizeof err) != 0) {
			cli_err("%s", err);
			free(es);
			return CLI_BADINPUT;
		}
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL) {
		free(es);
		return rc;
	}
	/* every delisting is audited (who, why, reference), counted, and
	 * remembered so that spam reports do not list the item again by
	 * themselves (lib/report.h, report_hold) */
	cr_stats *stats = stats_new(cli->conf, err, sizeof err);
	store_set_audit(s, cli->source, o.reason, o.ref);
	for (int i = 0; i < o.npos; i++) {
		char key[LISTING_KEY_MAX];
		listing_format_key(&es[i], key, sizeof key);
		int st = store_entry_del(s, o.list, &es[i]);
		if (st == STORE_OK) {
			stats_add(stats, util_now(), STATS_LIST_REMOVED, 1);
			if (!es[i].exclude && (strcmp(o.list, conf_str(cli->conf, "report", "ip_list")) == 0 ||
					       strcmp(o.list, conf_str(cli->conf, "report", "domain_list")) == 0))
				report_hold(s, key, cli->source, o.reason, util_now());
		}
		if (st == STORE_NOTFOUND) {
			cli_err("%s is not on %s", key, o.list);
			rc = CLI_NOTFOUND;
		} else if (st != STORE_OK) {
			cli_err("list del %s --list %s: %s", key, o.list, store_error(s));
			rc = cli_exit_for(st);
			break;
		} else if (!cli->json) {
			printf("deleted %s from %s\n", key, o.list);
		}
	}
	stats_free(stats);
	store_close(s);
	free(es);
	return rc;
}

struct show_ctx {
	struct cli *cli;
	int64_t now;
	long long n;
};

static int show_one(void *ud, const char *list, const struct listing_entry *e)
{
	struct show_ctx *c = ud;

	if (c->cli->json) {
		fputs(c->n ? ",\n{\"list\":" : "{\"list\":", stdout);
		json_write_str(stdout, list);
		fputs(",\"entry\":", stdout);
		cli_entry_json(stdout, e);
		fputc('}', stdout);
	} else {
		list_print_entry(stdout, list, e, c->now);
	}
	c->n++;
	return 0;
}

static int list_show(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	int rc = CLI_OK;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.list && !cli_check_list(cli, o.list))
		return CLI_BADINPUT;
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	struct show_ctx c = { cli, util_now(), 0 };
	if (cli->json)
		fputc('[', stdout);
	const char *const *lists = conf_list(cli->conf, "lists", "names");
	for (; *lists; lists++) {
		if (o.list && strcmp(o.list, *lists) != 0)
			continue;
		int st = store_list_scan(s, *lists, show_one, &c);
		if (st != STORE_OK) {
			cli_err("list show %s: %s", *lists, store_error(s));
			rc = cli_exit_for(st);
			break;
		}
	}
	if (cli->json)
		fputs("]\n", stdout);
	store_close(s);
	return rc;
}

struct import_ctx {
	store_import *im;
	const struct listing_entry *tmpl;
	const char *file;
	long long n;
	int tty;
	int64_t start_ms;
	int store_failed;
};

static int import_one(void *ud, const struct listing_entry *parsed, unsigned line)
{
	struct import_ctx *c = ud;
	struct listing_entry e = *parsed;

	(void)line;
	util_strlcpy(e.source, c->tmpl->source, sizeof e.source);
	e.added = c->tmpl->added;
	e.expires = c->tmpl->expires;
	if (store_import_add(c->im, &e) != STORE_OK) {
		c->store_failed = 1;
		return 1;
	}
	c->n++;
	if (c->tty && c->n % 50000 == 0) {
		int64_t ms = util_mono_ms() - c->start_ms;
		fprintf(stderr, "\rimporting %s: %lld entries (%.0f/s)", c->file, c->n,
			ms > 0 ? (double)c->n * 1000.0 / (double)ms : 0.0);
	}
	return 0;
}

static int list_format_of(const struct list_opts *o, enum dataset_format *f)
{
	int v = dataset_format_parse(o->format ? o->format : "plain");
	if (v < 0) {
		cli_err("--format %s: unknown (plain, ip4set, ip4trie, ip6trie, dnset)", o->format);
		return -1;
	}
	*f = (enum dataset_format)v;
	return 0;
}

static int list_import(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	struct listing_entry tmpl;
	enum dataset_format fmt;
	char err[1024];
	int rc = CLI_OK;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos != 1) {
		cli_err("list import: one FILE (or -) expected");
		return CLI_BADINPUT;
	}
	if (!cli_check_list(cli, o.list) || list_format_of(&o, &fmt) != 0 ||
	    list_fill_value(cli, &o, &tmpl) != 0)
		return CLI_BADINPUT;
	if (o.code || o.reason) {
		cli_err("list import: codes and reasons come from the file (its :code:text lines)");
		return CLI_BADINPUT;
	}
	const char *file = o.pos[0];
	if (strcmp(file, "-") != 0 && access(file, R_OK) != 0) {
		cli_err("%s: %s", file, strerror(errno));
		return CLI_BADINPUT;
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	struct import_ctx c = { .tmpl = &tmpl, .file = file, .tty = isatty(2),
				.start_ms = util_mono_ms() };
	store_set_audit(s, cli->source, o.reason ? o.reason : file, o.ref);
	c.im = store_import_begin(s, o.list, o.replace);
	if (c.im == NULL) {
		cli_err("list import %s: %s", file, store_error(s));
		store_close(s);
		return CLI_UNAVAIL;
	}
	int pr = dataset_parse_file(file, fmt, import_one, &c, err, sizeof err);
	if (c.tty && c.n >= 50000)
		fputc('\n', stderr);
	if (pr != 0) {
		store_import_abort(c.im);
		if (c.store_failed) {
			cli_err("list import %s: %s (nothing changed)", file, store_error(s));
			rc = CLI_UNAVAIL;
		} else {
			cli_err("%s (nothing imported)", err);
			rc = CLI_BADINPUT;
		}
		store_close(s);
		return rc;
	}
	long long total = 0;
	int st = store_import_commit(c.im, &total);
	if (st != STORE_OK) {
		cli_err("list import %s: %s (nothing changed)", file, store_error(s));
		store_close(s);
		return cli_exit_for(st);
	}
	/* entries received from another list (P8: peers' lists), counted apart
	 * from the listings of this provider (list.added) */
	cli_count(cli, util_now(), STATS_LIST_IMPORTED, c.n);
	int64_t ms = util_mono_ms() - c.start_ms;
	if (cli->json) {
		printf("{\"list\":");
		json_write_str(stdout, o.list);
		printf(",\"file\":");
		json_write_str(stdout, file);
		printf(",\"read\":%lld,\"list_entries\":%lld,\"replace\":%s,\"ms\":%lld}\n", c.n,
		       total, o.replace ? "true" : "false", (long long)ms);
	} else {
		printf("imported %lld entries from %s into %s (%s; the list now holds %lld) in %.2f s\n",
		       c.n, file, o.list, o.replace ? "replaced" : "merged", total, (double)ms / 1000.0);
	}
	store_close(s);
	return CLI_OK;
}

struct export_ctx {
	FILE *f;
	enum dataset_format fmt;
	long long written, skipped;
	int64_t now;
	int io_error;
};

static int export_one(void *ud, const char *list, const struct listing_entry *e)
{
	struct export_ctx *c = ud;

	(void)list;
	if (listing_expired(e, c->now))
		return 0;
	int r = dataset_write_entry(c->f, c->fmt, e);
	if (r < 0) {
		c->io_error = 1;
		return 1;
	}
	if (r == 1)
		c->skipped++;
	else
		c->written++;
	return 0;
}

static int list_export(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	enum dataset_format fmt;
	char tmp[4096];
	int rc = CLI_OK;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos != 0) {
		cli_err("list export: unexpected argument '%s' (use -o FILE)", o.pos[0]);
		return CLI_BADINPUT;
	}
	if (!cli_check_list(cli, o.list) || list_format_of(&o, &fmt) != 0)
		return CLI_BADINPUT;
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	struct export_ctx c = { .f = stdout, .fmt = fmt, .now = util_now() };
	if (o.output) {
		/* Written aside and renamed, so readers never see half a file. */
		snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o.output, (long)getpid());
		c.f = fopen(tmp, "w");
		if (c.f == NULL) {
			cli_err("%s: %s", tmp, strerror(errno));
			store_close(s);
			return CLI_BADINPUT;
		}
	}
	char ts[32];
	util_format_time(c.now, ts, sizeof ts);
	fprintf(c.f, "# chanrac list %s exported %s (%s)\n", o.list, ts, dataset_format_name(fmt));
	int st = store_list_scan(s, o.list, export_one, &c);
	if (fflush(c.f) != 0)
		c.io_error = 1;
	if (o.output) {
		if (fclose(c.f) != 0)
			c.io_error = 1;
		if (st == STORE_OK && !c.io_error && rename(tmp, o.output) != 0) {
			cli_err("%s: %s", o.output, strerror(errno));
			c.io_error = 1;
		}
		if (st != STORE_OK || c.io_error)
			unlink(tmp);
	}
	if (st != STORE_OK) {
		cli_err("list export %s: %s", o.list, store_error(s));
		rc = cli_exit_for(st);
	} else if (c.io_error) {
		cli_err("list export %s: write error", o.list);
		rc = CLI_BADINPUT;
	} else {
		if (c.skipped)
			cli_err("list export %s: %lld entries skipped: the %s format cannot hold them",
				o.list, c.skipped, dataset_format_name(fmt));
		if (o.output && !cli->json)
			printf("exported %lld entries of %s to %s\n", c.written, o.list, o.output);
		/* shared entries (P8): counted for the periodic report */
		cli_count(cli, c.now, STATS_LIST_EXPORTED, c.written);
	}
	store_close(s);
	return rc;
}

static int list_expire(struct cli *cli, int argc, char **argv)
{
	struct list_opts o;
	int rc = CLI_OK;
	long long removed = 0;

	if (list_parse_opts(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	int st = store_expire(s, util_now(), &removed);
	if (removed > 0) /* expired entries leave the blacklist too (P7 "entries removed") */
		cli_count(cli, util_now(), STATS_LIST_REMOVED, removed);
	if (st != STORE_OK) {
		cli_err("list expire: %s", store_error(s));
		rc = cli_exit_for(st);
	} else if (cli->json) {
		printf("{\"removed\":%lld}\n", removed);
	} else {
		printf("removed %lld expired entries\n", removed);
	}
	store_close(s);
	return rc;
}

int cli_cmd_list(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		cli_err("list: add, del, show, import, export or expire?");
		return CLI_BADINPUT;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "add") == 0)
		return list_add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "del") == 0)
		return list_del(cli, argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return list_show(cli, argc - 1, argv + 1);
	if (strcmp(sub, "import") == 0)
		return list_import(cli, argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return list_export(cli, argc - 1, argv + 1);
	if (strcmp(sub, "expire") == 0)
		return list_expire(cli, argc - 1, argv + 1);
	cli_err("list %s: unknown (add, del, show, import, export, expire)", sub);
	return CLI_BADINPUT;
}
