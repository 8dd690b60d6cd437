/* chanrac optout add|confirm|list|del: recorded opt-outs from advertising
 * (REGULATIONS.md R7; lib/optout.h).  The engine's R7 rule refuses advertising
 * mail from an advertiser to a recipient who opted out of it (or of all
 * advertising) before the message arrived.  Every argument is checked before
 * Redis is touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "kv.h"
#include "optout.h"
#include "stats.h"
#include "util.h"

/* An opt-out time may lie this far in the future (clock skew), no further. */
#define OPTOUT_FUTURE_MAX 300

struct oo_opts {
	const char *advertiser;
	const char *channel;
	const char *at;
	const char *source;
	int all;
	int npos;
	char **pos;
};

static int oo_parse(int argc, char **argv, struct oo_opts *o)
{
	const struct cli_opt opts[] = {
		{ "advertiser", &o->advertiser, NULL },
		{ "all", NULL, &o->all },
		{ "channel", &o->channel, NULL },
		{ "at", &o->at, NULL },
		{ "source", &o->source, NULL },
		{ NULL, NULL, NULL },
	};

	memset(o, 0, sizeof *o);
	o->npos = cli_parse_opts(argc, argv, "optout", opts, &o->pos);
	return o->npos < 0 ? -1 : 0;
}

static int oo_time(const char *what, const char *text, int64_t *out)
{
	int64_t now = util_now();

	if (text == NULL) {
		*out = now;
		return 0;
	}
	if (util_parse_time(text, out) != 0) {
		cli_err("optout %s: --at %s: not a time (e.g. 2026-11-22T21:47:03Z or @UNIX)", what,
			text);
		return -1;
	}
	if (*out > now + OPTOUT_FUTURE_MAX) {
		cli_err("optout %s: --at %s: is in the future", what, text);
		return -1;
	}
	return 0;
}

static int oo_id(const char *what, const char *text, long long *id)
{
	int64_t v;

	if (util_parse_i64(text, 1, INT64_MAX, &v) != 0) {
		cli_err("optout %s: '%s' is not a request id (a positive number, see chanrac "
			"optout list)", what, text);
		return -1;
	}
	*id = v;
	return 0;
}

static void oo_json(FILE *f, const struct optout *o)
{
	fprintf(f, "{\"id\":%lld,", o->id);
	json_write_key(f, "rcpt");
	json_write_str(f, o->rcpt);
	fputc(',', f);
	json_write_key(f, "advertiser");
	json_write_str(f, o->advertiser);
	fputc(',', f);
	json_write_key(f, "channel");
	json_write_str(f, o->channel);
	fprintf(f, ",\"at\":%lld,\"added\":%lld,\"confirmed\":%lld,", (long long)o->at,
		(long long)o->added, (long long)o->confirmed);
	json_write_key(f, "source");
	json_write_str(f, o->source);
	fputc('}', f);
}

static void oo_text(const struct optout *o)
{
	char at[32], conf[32] = "no";

	util_format_time(o->at, at, sizeof at);
	if (o->confirmed)
		util_format_time(o->confirmed, conf, sizeof conf);
	printf("%lld\t%s\t%s\t%s\tat=%s confirmed=%s source=%s\n", o->id, o->rcpt,
	       strcmp(o->advertiser, OPTOUT_ALL) == 0 ? "(all)" : o->advertiser, o->channel, at,
	       conf, o->source);
}

static int oo_add(struct cli *cli, int argc, char **argv)
{
	struct oo_opts a;
	struct optout o = { 0 };
	char err[512];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (oo_parse(argc, argv, &a) != 0)
		return CLI_BADINPUT;
	if (a.npos != 1) {
		cli_err("usage: chanrac optout add RCPT (--advertiser DOMAIN | --all) "
			"--channel web|email|phone [--at TIME]");
		return CLI_BADINPUT;
	}
	if (optout_normalise_rcpt(a.pos[0], o.rcpt, sizeof o.rcpt, err, sizeof err) != 0) {
		cli_err("optout add: %s", err);
		return CLI_BADINPUT;
	}
	if ((a.advertiser != NULL) == (a.all != 0)) {
		cli_err("optout add %s: give exactly one of --advertiser DOMAIN and --all", a.pos[0]);
		return CLI_BADINPUT;
	}
	if (a.advertiser != NULL &&
	    (strcmp(a.advertiser, OPTOUT_ALL) == 0 ||
	     optout_normalise_advertiser(a.advertiser, o.advertiser, sizeof o.advertiser, err,
					 sizeof err) != 0)) {
		if (strcmp(a.advertiser, OPTOUT_ALL) == 0)
			cli_err("optout add: --advertiser '*': use --all");
		else
			cli_err("optout add: %s", err);
		return CLI_BADINPUT;
	}
	if (a.all)
		util_strlcpy(o.advertiser, OPTOUT_ALL, sizeof o.advertiser);
	if (!optout_valid_channel(a.channel)) {
		cli_err("optout add %s: --channel %s: must be web, email or phone", a.pos[0],
			a.channel ? a.channel : "(missing)");
		return CLI_BADINPUT;
	}
	util_strlcpy(o.channel, a.channel, sizeof o.channel);
	if (oo_time("add", a.at, &o.at) != 0)
		return CLI_BADINPUT;
	o.added = util_now();
	util_strlcpy(o.source, a.source ? a.source : cli->source, sizeof o.source);
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	st = optout_add(kv, &o, err, sizeof err);
	if (st == OPTOUT_OK || st == OPTOUT_EXISTS) {
		/* P7 (Mau so 1 section 4): a request received and, being recorded
		 * (in force from its time), processed */
		cr_stats *stats = stats_new(cli->conf, err, sizeof err);
		stats_optout(stats, o.added, o.channel, "received", NULL);
		stats_optout(stats, o.added, o.channel, "processed", NULL);
		stats_free(stats);
	}
	if (st == OPTOUT_EUNAVAIL) {
		cli_err("optout add: %s", err);
		rc = CLI_UNAVAIL;
	} else if (cli->json) {
		printf("{\"added\":%s,\"request\":", st == OPTOUT_OK ? "true" : "false");
		if (st != OPTOUT_OK) /* the existing request; on failure what was asked */
			(void)optout_get(kv, o.id, &o, err, sizeof err);
		oo_json(stdout, &o);
		fputs("}\n", stdout);
	} else if (st == OPTOUT_EXISTS) {
		printf("%s already opted out of %s: request %lld (nothing changed)\n", o.rcpt,
		       a.all ? "all advertising" : o.advertiser, o.id);
	} else {
		printf("opt-out %lld: %s refuses %s%s (channel %s)\n", o.id, o.rcpt,
		       a.all ? "all advertising" : "advertising from ", a.all ? "" : o.advertiser,
		       o.channel);
	}
	kv_close(kv);
	return rc;
}

static int oo_confirm(struct cli *cli, int argc, char **argv)
{
	struct oo_opts a;
	long long id;
	int64_t when;
	char err[512];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (oo_parse(argc, argv, &a) != 0)
		return CLI_BADINPUT;
	if (a.npos != 1) {
		cli_err("usage: chanrac optout confirm ID [--at TIME]");
		return CLI_BADINPUT;
	}
	if (oo_id("confirm", a.pos[0], &id) != 0 || oo_time("confirm", a.at, &when) != 0)
		return CLI_BADINPUT;
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	st = optout_confirm(kv, id, when, err, sizeof err);
	if (st == OPTOUT_EUNAVAIL) {
		cli_err("optout confirm: %s", err);
		rc = CLI_UNAVAIL;
	} else if (st == OPTOUT_NOTFOUND) {
		cli_err("optout confirm: no request %lld", id);
		rc = CLI_NOTFOUND;
	} else {
		struct optout o;
		if (optout_get(kv, id, &o, err, sizeof err) == OPTOUT_OK) {
			cr_stats *stats = stats_new(cli->conf, err, sizeof err);
			stats_optout(stats, util_now(), o.channel, "confirmed", NULL);
			stats_free(stats);
		}
		printf("request %lld confirmed\n", id);
	}
	kv_close(kv);
	return rc;
}

static int oo_del(struct cli *cli, int argc, char **argv)
{
	struct oo_opts a;
	long long id;
	char err[512];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (oo_parse(argc, argv, &a) != 0)
		return CLI_BADINPUT;
	if (a.npos != 1) {
		cli_err("usage: chanrac optout del ID");
		return CLI_BADINPUT;
	}
	if (oo_id("del", a.pos[0], &id) != 0)
		return CLI_BADINPUT;
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	st = optout_del(kv, id, err, sizeof err);
	if (st == OPTOUT_EUNAVAIL) {
		cli_err("optout del: %s", err);
		rc = CLI_UNAVAIL;
	} else if (st == OPTOUT_NOTFOUND) {
		cli_err("optout del: no request %lld", id);
		rc = CLI_NOTFOUND;
	} else {
		printf("deleted request %lld\n", id);
	}
	kv_close(kv);
	return rc;
}

struct oo_list_ctx {
	int json, n;
};

static int oo_list_one(void *ud, const struct optout *o)
{
	struct oo_list_ctx *c = ud;

	if (c->json) {
		if (c->n)
			fputc(',', stdout);
		oo_json(stdout, o);
	} else {
		oo_text(o);
	}
	c->n++;
	return 0;
}

static int oo_list(struct cli *cli, int argc, char **argv)
{
	struct oo_opts a;
	struct oo_list_ctx ctx = { cli->json, 0 };
	char err[512], rcpt[MSG_ADDR_MAX + 1];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (oo_parse(argc, argv, &a) != 0)
		return CLI_BADINPUT;
	if (a.npos > 1) {
		cli_err("usage: chanrac optout list [RCPT] [--json]");
		return CLI_BADINPUT;
	}
	if (a.npos == 1 &&
	    optout_normalise_rcpt(a.pos[0], rcpt, sizeof rcpt, err, sizeof err) != 0) {
		cli_err("optout list: %s", err);
		return CLI_BADINPUT;
	}
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	if (cli->json)
		fputc('[', stdout);
	st = optout_list(kv, a.npos == 1 ? rcpt : NULL, oo_list_one, &ctx, err, sizeof err);
	if (cli->json)
		fputs("]\n", stdout);
	if (st < 0) {
		cli_err("optout list: %s", err);
		rc = CLI_UNAVAIL;
	} else if (a.npos == 1 && ctx.n == 0) {
		rc = CLI_NOTFOUND;
	}
	kv_close(kv);
	return rc;
}

int cli_cmd_optout(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "add", oo_add },
		{ "confirm", oo_confirm },
		{ "list", oo_list },
		{ "del", oo_del },
		{ NULL, NULL },
	};

	return cli_run_sub(cli, argc, argv, subs);
}
