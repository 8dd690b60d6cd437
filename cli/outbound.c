/* chanrac outbound status|release: the watch over authenticated submissions
 * (REGULATIONS.md P4; lib/outbound.h).  status shows the held users, or one
 * user's hold, this hour's counts and the messages held; release lifts a hold
 * and lists the held messages to release from the MTA's hold queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "kv.h"
#include "outbound.h"
#include "postfix.h"
#include "util.h"

struct ob_ctx {
	int json, n;
	/* release --postsuper: the held queue ids, for postsuper -H */
	char **ids;
	size_t nids;
};

static int ob_user_ok(const char *what, const char *user)
{
	char tmp[OUTBOUND_USER_MAX + 1];

	if (kv_key_part(user, tmp, sizeof tmp) != 0) {
		cli_err("outbound %s: user '%s': empty, longer than %d bytes, or contains spaces, "
			"control characters or braces", what, user, OUTBOUND_USER_MAX);
		return 0;
	}
	return 1;
}

static int ob_held_one(void *ud, int64_t when, const char *qid)
{
	struct ob_ctx *c = ud;
	char t[32];

	if (c->ids != NULL && c->nids < POSTFIX_IDS_MAX && postfix_valid_qid(qid) &&
	    (c->ids[c->nids] = strdup(qid)) != NULL)
		c->nids++;

	if (c->json) {
		if (c->n)
			fputc(',', stdout);
		fprintf(stdout, "{\"time\":%lld,", (long long)when);
		json_write_key(stdout, "queue_id");
		json_write_str(stdout, qid);
		fputc('}', stdout);
	} else {
		util_format_time(when, t, sizeof t);
		printf("held\t%s\t%s\n", t, qid);
	}
	c->n++;
	return 0;
}

static int ob_user_one(void *ud, const char *user, const struct outbound_hold *h)
{
	struct ob_ctx *c = ud;
	char t[32];

	if (c->json) {
		if (c->n)
			fputc(',', stdout);
		fputc('{', stdout);
		json_write_key(stdout, "user");
		json_write_str(stdout, user);
		fprintf(stdout, ",\"since\":%lld,", (long long)h->since);
		json_write_key(stdout, "reason");
		json_write_str(stdout, h->reason);
		fputc('}', stdout);
	} else {
		util_format_time(h->since, t, sizeof t);
		printf("%s\theld since %s\t%s\n", user, t, h->reason);
	}
	c->n++;
	return 0;
}

static int ob_status(struct cli *cli, int argc, char **argv)
{
	struct ob_ctx ctx = { cli->json, 0, NULL, 0 };
	struct outbound_counts c;
	struct outbound_hold h;
	const char *user = NULL;
	char err[512], t[32];
	cr_kv *kv;
	int rc = CLI_OK, st;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' || user != NULL) {
			cli_err("usage: chanrac outbound status [USER] [--json]");
			return CLI_BADINPUT;
		}
		user = argv[i];
	}
	if (user != NULL && !ob_user_ok("status", user))
		return CLI_BADINPUT;
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	if (user == NULL) {
		if (cli->json)
			fputc('[', stdout);
		st = outbound_list(kv, ob_user_one, &ctx, err, sizeof err);
		if (cli->json)
			fputs("]\n", stdout);
		else if (st == 0)
			printf("no user held\n");
		if (st < 0) {
			cli_err("outbound status: %s", err);
			rc = CLI_UNAVAIL;
		}
		kv_close(kv);
		return rc;
	}
	st = outbound_status(kv, user, util_now(), &c, &h, NULL, NULL, err, sizeof err);
	if (st != OUTBOUND_OK) {
		cli_err("outbound status %s: %s", user, err);
		kv_close(kv);
		return CLI_UNAVAIL;
	}
	if (cli->json) {
		fputc('{', stdout);
		json_write_key(stdout, "user");
		json_write_str(stdout, user);
		fprintf(stdout, ",\"held\":%s,\"since\":%lld,", h.held ? "true" : "false",
			(long long)h.since);
		json_write_key(stdout, "reason");
		json_write_str(stdout, h.reason);
		fprintf(stdout, ",\"hour\":{\"messages\":%lld,\"recipients\":%lld},\"messages\":[",
			c.user_msgs, c.user_rcpts);
	} else {
		if (h.held) {
			util_format_time(h.since, t, sizeof t);
			printf("user %s: held since %s: %s\n", user, t, h.reason);
		} else {
			printf("user %s: not held\n", user);
		}
		printf("this hour: %lld messages, %lld recipients\n", c.user_msgs, c.user_rcpts);
	}
	st = outbound_status(kv, user, util_now(), &c, &h, ob_held_one, &ctx, err, sizeof err);
	if (cli->json)
		fputs("]}\n", stdout);
	if (st != OUTBOUND_OK) {
		cli_err("outbound status %s: %s", user, err);
		rc = CLI_UNAVAIL;
	}
	kv_close(kv);
	return rc;
}

static int ob_release(struct cli *cli, int argc, char **argv)
{
	struct ob_ctx ctx = { 0, 0, NULL, 0 };
	const char *user = NULL;
	char err[512];
	int postsuper = 0;
	cr_kv *kv;
	int rc = CLI_OK, st;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		if (strcmp(argv[i], "--postsuper") == 0) {
			postsuper = 1;
			continue;
		}
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' || user != NULL) {
			cli_err("usage: chanrac outbound release USER [--postsuper]");
			return CLI_BADINPUT;
		}
		user = argv[i];
	}
	if (user == NULL) {
		cli_err("usage: chanrac outbound release USER [--postsuper]");
		return CLI_BADINPUT;
	}
	if (!ob_user_ok("release", user))
		return CLI_BADINPUT;
	if (postsuper && (ctx.ids = calloc(POSTFIX_IDS_MAX, sizeof *ctx.ids)) == NULL) {
		cli_err("outbound release: out of memory");
		return CLI_UNAVAIL;
	}
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL) {
		free(ctx.ids);
		return rc;
	}
	st = outbound_release(kv, user, util_now(), ob_held_one, &ctx, err, sizeof err);
	if (st == OUTBOUND_EUNAVAIL) {
		cli_err("outbound release %s: %s", user, err);
		rc = CLI_UNAVAIL;
	} else if (st == OUTBOUND_NOTFOUND) {
		cli_err("outbound release: user %s is not held", user);
		rc = CLI_NOTFOUND;
	} else if (!postsuper) {
		printf("released user %s; %d message(s) held meanwhile (Postfix: postsuper -H "
		       "QUEUEID for each, or use --postsuper)\n", user, ctx.n);
	} else if (ctx.nids > 0 && postfix_release("outbound release",
						       conf_str(cli->conf, "cli", "postfix_config"),
						       ctx.ids, ctx.nids) != 0) {
		cli_err("outbound release: user %s released, but the held messages are still "
			"held: run postsuper -H for them", user);
		rc = CLI_UNAVAIL;
	} else {
		printf("released user %s; %zu held message(s) released with postsuper -H\n", user,
		       ctx.nids);
	}
	for (size_t i = 0; i < ctx.nids; i++)
		free(ctx.ids[i]);
	free(ctx.ids);
	kv_close(kv);
	return rc;
}

int cli_cmd_outbound(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "status", ob_status },
		{ "release", ob_release },
		{ NULL, NULL },
	};

	return cli_run_sub(cli, argc, argv, subs);
}
