/* chanrac audit: who changed the shared blacklist, when, why and under which
 * reference (P3 delisting trail, P11 authority requests).  Reads the audit
 * stream every list change writes (lib/store.h, store_audit_read). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "postfix.h"
#include "util.h"

struct audit_ctx {
	struct cli *cli;
	const char *list;
	char key[LISTING_KEY_MAX];
	long n, limit;
};

static int audit_one(void *ud, const struct store_audit *a)
{
	struct audit_ctx *c = ud;
	char t[32];

	if (c->list != NULL && strcmp(a->list, c->list) != 0)
		return 0;
	if (c->key[0] && strcmp(a->key, c->key) != 0)
		return 0;
	if (c->cli->json) {
		fputs(c->n ? ",\n{\"id\":" : "{\"id\":", stdout);
		json_write_str(stdout, a->id);
		printf(",\"time\":%lld,\"op\":", (long long)a->when);
		json_write_str(stdout, a->op);
		fputs(",\"list\":", stdout);
		json_write_str(stdout, a->list);
		fputs(",\"key\":", stdout);
		json_write_str(stdout, a->key);
		fputs(",\"who\":", stdout);
		json_write_str(stdout, a->who);
		fputs(",\"why\":", stdout);
		json_write_str(stdout, a->why);
		fputs(",\"ref\":", stdout);
		json_write_str(stdout, a->ref);
		fputs(",\"value\":", stdout);
		json_write_str(stdout, a->val);
		fputc('}', stdout);
	} else {
		util_format_time(a->when, t, sizeof t);
		printf("%s\t%s\t%s\t%s\twho=%s\tref=%s\t%s\n", t, a->op, a->list,
		       a->key[0] ? a->key : "-", a->who, a->ref[0] ? a->ref : "-", a->why);
	}
	c->n++;
	return c->limit > 0 && c->n >= c->limit;
}

int cli_cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "list", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_ctx c = { .cli = cli };
	int64_t from = 0, to = 0, limit = 0;
	int ch, rc = CLI_OK, quarantine;
	char err[256];
	const char *key = NULL;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:l:", longopts, NULL)) != -1) {
		switch (ch) {
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
			/* a bare date means the whole day */
			if (strlen(optarg) == 10)
				to += 86399;
			break;
		case 'l': c.list = optarg; break;
		case 'k': key = optarg; break;
		case 'n':
			if (util_parse_i64(optarg, 1, 100000000, &limit) < 0) {
				cli_err("--limit %s: not a number 1..100000000", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 'j': case 'c': break;
		case ':':
			cli_err("audit: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("audit: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (optind != argc) {
		cli_err("audit: unexpected argument '%s'", argv[optind]);
		return CLI_BADINPUT;
	}
	quarantine = c.list != NULL && strcmp(c.list, QUARANTINE_AUDIT_LIST) == 0;
	if (c.list != NULL && !quarantine && !cli_check_list(cli, c.list))
		return CLI_BADINPUT;
	if (key != NULL && quarantine) {
		/* chanrac quarantine's entries: the key is a Postfix queue id */
		if (!postfix_valid_qid(key)) {
			cli_err("--key %s: not a Postfix queue id", key);
			return CLI_BADINPUT;
		}
		util_strlcpy(c.key, key, sizeof c.key);
	} else if (key != NULL) {
		struct listing_entry e;
		if (listing_parse_key(key, &e, err, sizeof err) < 0) {
			cli_err("--key %s", err);
			return CLI_BADINPUT;
		}
		listing_format_key(&e, c.key, sizeof c.key);
	}
	if (from && to && to < from) {
		cli_err("audit: --to is before --from");
		return CLI_BADINPUT;
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	if (cli->json)
		fputc('[', stdout);
	c.limit = (long)limit;
	int n = store_audit_read(s, from, to, 0, audit_one, &c);
	if (cli->json)
		fputs("]\n", stdout);
	if (n < 0) {
		cli_err("audit: %s", store_error(s));
		rc = cli_exit_for(n);
	}
	store_close(s);
	return rc;
}
