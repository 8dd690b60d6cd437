/* chanrac quarantine list|release|delete: the mail chanrac-milter quarantined
 * (smfi_quarantine: Postfix's hold queue).  release moves messages out of the
 * hold queue (postsuper -H), counts them as wrongly blocked (stats
 * wrong.released, for the periodic report) and audits each one; delete removes
 * them (postsuper -d), audited, not counted.  Postfix's commands: cli/postfix.c. */
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "postfix.h"
#include "stats.h"
#include "util.h"

struct q_opts {
	const char *config_dir; /* --postfix-config, else [cli] postfix_config */
	const char *reason, *ref;
	char **ids;             /* the QUEUEID arguments, duplicates dropped */
	size_t nids;
};

static int q_parse(struct cli *cli, const char *what, int ids_wanted, int argc, char **argv,
		   struct q_opts *o)
{
	static const struct option longopts[] = {
		{ "postfix-config", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "ref", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, bad = 0;

	memset(o, 0, sizeof *o);
	o->config_dir = conf_str(cli->conf, "cli", "postfix_config");
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': o->config_dir = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'R': o->ref = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("quarantine %s: option %s needs a value", what, argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("quarantine %s: unknown option '%s'", what, argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (!ids_wanted) {
		if (optind != argc || o->reason || o->ref) {
			cli_err("usage: chanrac quarantine list [--postfix-config DIR] [--json]");
			return CLI_BADINPUT;
		}
		return CLI_OK;
	}
	if (optind >= argc) {
		cli_err("usage: chanrac quarantine %s QUEUEID... [--postfix-config DIR] "
			"[--reason TEXT] [--ref TICKET]", what);
		return CLI_BADINPUT;
	}
	if (argc - optind > POSTFIX_IDS_MAX) {
		cli_err("quarantine %s: at most %d queue ids at a time", what, POSTFIX_IDS_MAX);
		return CLI_BADINPUT;
	}
	/* every id is checked before anything runs: one bad id, nothing done */
	for (int i = optind; i < argc; i++)
		if (!postfix_valid_qid(argv[i])) {
			cli_err("quarantine %s: '%s' is not a Postfix queue id (1 to %d letters "
				"and digits); nothing done", what, argv[i], POSTFIX_QID_MAX);
			bad = 1;
		}
	if (bad)
		return CLI_BADINPUT;
	if ((o->ids = calloc((size_t)(argc - optind), sizeof *o->ids)) == NULL) {
		cli_err("quarantine %s: out of memory", what);
		return CLI_UNAVAIL;
	}
	for (int i = optind; i < argc; i++) {
		size_t k = 0;
		while (k < o->nids && strcmp(o->ids[k], argv[i]) != 0)
			k++;
		if (k == o->nids)
			o->ids[o->nids++] = argv[i];
	}
	return CLI_OK;
}

/* ---- list */

struct q_list_ctx {
	int json;
	long n;
};

static int q_list_one(void *ud, const struct postfix_msg *m)
{
	struct q_list_ctx *c = ud;
	char t[32];

	if (c->json) {
		fputs(c->n ? ",\n{" : "{", stdout);
		json_write_key(stdout, "queue_id");
		json_write_str(stdout, m->queue_id);
		printf(",\"arrival_time\":%lld,", (long long)m->arrival);
		json_write_key(stdout, "sender");
		json_write_str(stdout, m->sender);
		fputc(',', stdout);
		json_write_key(stdout, "recipients");
		fputc('[', stdout);
		for (size_t i = 0; i < m->nrcpt && i < POSTFIX_RCPT_KEEP; i++) {
			if (i)
				fputc(',', stdout);
			json_write_str(stdout, m->rcpt[i]);
		}
		printf("],\"recipient_count\":%zu}", m->nrcpt);
	} else {
		if (c->n == 0)
			printf("%-20s %-20s %-30s %s\n", "QUEUE ID", "ARRIVAL (UTC)", "SENDER",
			       "RECIPIENTS");
		util_format_time(m->arrival, t, sizeof t);
		printf("%-20s %-20s %-30s ", m->queue_id, t, m->sender[0] ? m->sender : "<>");
		for (size_t i = 0; i < m->nrcpt && i < POSTFIX_RCPT_KEEP; i++)
			printf("%s%s", i ? "," : "", m->rcpt[i]);
		if (m->nrcpt > POSTFIX_RCPT_KEEP)
			printf(" (+%zu more)", m->nrcpt - POSTFIX_RCPT_KEEP);
		putchar('\n');
	}
	c->n++;
	return 0;
}

static int q_list(struct cli *cli, int argc, char **argv)
{
	struct q_list_ctx c = { cli->json, 0 };
	struct q_opts o;
	int rc = q_parse(cli, "list", 0, argc, argv, &o);

	if (rc != CLI_OK)
		return rc;
	if (c.json)
		fputc('[', stdout);
	rc = postfix_queue_read("quarantine list", o.config_dir, "hold", q_list_one, &c);
	if (c.json)
		fputs("]\n", stdout);
	else if (rc == 0 && c.n == 0)
		printf("no message held\n");
	return rc == 0 ? CLI_OK : CLI_UNAVAIL;
}

/* ---- release, delete */

/* What the hold queue says of each requested id. */
struct q_held {
	int held;
	char val[POSTFIX_ADDR_MAX * 2 + 48]; /* "from=<S> to=<R>[ +N]" for the audit */
};

struct q_find_ctx {
	const struct q_opts *o;
	struct q_held *h;
};

static int q_find_one(void *ud, const struct postfix_msg *m)
{
	struct q_find_ctx *c = ud;

	for (size_t i = 0; i < c->o->nids; i++) {
		if (strcmp(c->o->ids[i], m->queue_id) != 0)
			continue;
		c->h[i].held = 1;
		if (m->nrcpt > 1)
			snprintf(c->h[i].val, sizeof c->h[i].val, "from=<%s> to=<%s> +%zu", m->sender,
				 m->rcpt[0], m->nrcpt - 1);
		else
			snprintf(c->h[i].val, sizeof c->h[i].val, "from=<%s> to=<%s>", m->sender,
				 m->nrcpt ? m->rcpt[0] : "");
	}
	return 0;
}

/* Marks which of o->ids are in the hold queue now; 0 or -1 (printed). */
static int q_find_held(const char *what, const struct q_opts *o, struct q_held *h)
{
	struct q_find_ctx c = { o, h };

	for (size_t i = 0; i < o->nids; i++)
		h[i].held = 0;
	return postfix_queue_read(what, o->config_dir, "hold", q_find_one, &c);
}

/* One audit entry, the same stream and fields as list changes (lib/store.c,
 * doc/redis-keys.md): op release|delete, list "quarantine", key the queue id,
 * val sender and recipient. */
static int q_audit(struct cli *cli, cr_store *s, const struct q_opts *o, const char *op,
		   const char *qid, const char *val, const char *why)
{
	char key[256], maxlen[24];
	const char *av[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", "op", op,
			     "list", QUARANTINE_AUDIT_LIST, "key", qid, "val", val,
			     "who", cli->source, "why", why, "ref", o->ref ? o->ref : "" };
	struct redisReply *r;

	snprintf(key, sizeof key, "%s:{bl}:audit", store_prefix(s));
	snprintf(maxlen, sizeof maxlen, "%lld",
		 (long long)conf_int(cli->conf, "redis", "stream_maxlen"));
	r = store_command(s, "XADD", (int)(sizeof av / sizeof av[0]), av, NULL);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

static int q_act(struct cli *cli, int argc, char **argv, int release)
{
	const char *what = release ? "release" : "delete";
	char label[32], why[STORE_AUDIT_WHY_MAX + 1];
	struct q_held *h = NULL;
	struct q_opts o;
	cr_stats *stats = NULL;
	cr_store *s = NULL;
	size_t done = 0, missing = 0;
	int rc, ps, recorded = 1;
	char err[512];

	snprintf(label, sizeof label, "quarantine %s", what);
	rc = q_parse(cli, what, 1, argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	if (o.ref != NULL && strlen(o.ref) > STORE_AUDIT_REF_MAX) {
		cli_err("%s: --ref is longer than %d bytes", label, STORE_AUDIT_REF_MAX);
		rc = CLI_BADINPUT;
		goto out;
	}
	snprintf(why, sizeof why, "%s", o.reason ? o.reason
				      : release ? "released from quarantine (wrongly blocked)"
						: "deleted from quarantine");
	if ((h = calloc(o.nids, sizeof *h)) == NULL) {
		cli_err("%s: out of memory", label);
		rc = CLI_UNAVAIL;
		goto out;
	}
	/* the store first: no release that cannot be audited */
	if ((s = cli_store_open(cli, &rc)) == NULL)
		goto out;
	if (release && (stats = stats_new(cli->conf, err, sizeof err)) == NULL) {
		cli_err("%s", err);
		rc = CLI_BADINPUT;
		goto out;
	}
	if (q_find_held(label, &o, h) != 0) {
		cli_err("%s: cannot read the hold queue (postqueue -j); nothing done", label);
		rc = CLI_UNAVAIL;
		goto out;
	}
	for (size_t i = 0; i < o.nids; i++)
		if (!h[i].held) {
			cli_err("%s: %s is not in the hold queue", label, o.ids[i]);
			missing++;
		}
	if (missing) {
		cli_err("%s: nothing done", label);
		rc = CLI_NOTFOUND;
		goto out;
	}
	ps = release ? postfix_release(label, o.config_dir, o.ids, o.nids)
		     : postfix_delete(label, o.config_dir, o.ids, o.nids);
	/* count what left the hold queue, whatever postsuper said */
	{
		struct q_held *after = calloc(o.nids, sizeof *after);
		if (after != NULL && q_find_held(label, &o, after) == 0) {
			for (size_t i = 0; i < o.nids; i++)
				h[i].held = after[i].held;
		} else {
			for (size_t i = 0; i < o.nids; i++)
				h[i].held = ps != 0;
		}
		free(after);
	}
	for (size_t i = 0; i < o.nids; i++) {
		if (h[i].held)
			continue;
		done++;
		if (q_audit(cli, s, &o, what, o.ids[i], h[i].val, why) != 0)
			recorded = 0;
		printf("%s %s\n", release ? "released" : "deleted", o.ids[i]);
	}
	if (release && done > 0) {
		stats_add(stats, util_now(), STATS_WRONG_RELEASED, (long long)done);
		if (stats_flush(stats) < 0)
			recorded = 0;
	}
	if (ps != 0 || done < o.nids) {
		cli_err("%s: postsuper failed: %zu of %zu message(s) %s", label, done, o.nids,
			release ? "released" : "deleted");
		rc = CLI_UNAVAIL;
	}
	if (!recorded) {
		cli_err("%s: %zu message(s) %s, but Redis did not take the %s: %s", label, done,
			release ? "released" : "deleted",
			release ? "audit entry or the wrong.released count (record it with chanrac "
				  "stats record released)"
				: "audit entry",
			store_error(s));
		rc = CLI_UNAVAIL;
	}
out:
	if (stats != NULL)
		stats_free(stats);
	if (s != NULL)
		store_close(s);
	free(h);
	free(o.ids);
	return rc;
}

static int q_release(struct cli *cli, int argc, char **argv)
{
	return q_act(cli, argc, argv, 1);
}

static int q_delete(struct cli *cli, int argc, char **argv)
{
	return q_act(cli, argc, argv, 0);
}

int cli_cmd_quarantine(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", q_list },
		{ "release", q_release },
		{ "delete", q_delete },
		{ NULL, NULL },
	};

	return cli_run_sub(cli, argc, argv, subs);
}
