/* chanrac template add|del|list: the shared set of known spam templates
 * (lib/template.h).  A template is the fingerprint of a stored message's visible
 * text; the engine's TEMPLATE rule fires on messages similar to one.  Every
 * argument is checked before Redis is touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fingerprint.h"
#include "json.h"
#include "kv.h"
#include "msg.h"
#include "template.h"
#include "util.h"

struct tpl_opts {
	const char *reason;
	const char *source;
	int npos;
	char **pos;
};

static int tpl_parse(int argc, char **argv, struct tpl_opts *o)
{
	const struct cli_opt opts[] = {
		{ "reason", &o->reason, NULL },
		{ "source", &o->source, NULL },
		{ NULL, NULL, NULL },
	};

	memset(o, 0, sizeof *o);
	o->npos = cli_parse_opts(argc, argv, "template", opts, &o->pos);
	return o->npos < 0 ? -1 : 0;
}

static void tpl_json(FILE *f, const struct template_info *t)
{
	fputc('{', f);
	json_write_key(f, "id");
	json_write_str(f, t->id);
	fputc(',', f);
	json_write_key(f, "reason");
	json_write_str(f, t->reason);
	fputc(',', f);
	json_write_key(f, "source");
	json_write_str(f, t->source);
	fputc(',', f);
	json_write_key(f, "subject");
	json_write_str(f, t->subject);
	fprintf(f, ",\"added\":%lld,\"words\":%u}", (long long)t->added, t->words);
}

static int tpl_add(struct cli *cli, int argc, char **argv)
{
	struct tpl_opts o;
	struct template_info info = { 0 };
	struct fingerprint fp;
	struct msg_limits lim;
	unsigned min_words = (unsigned)conf_int(cli->conf, "templates", "min_words");
	char err[512];
	const char *text, *subject;
	size_t len;
	cr_msg *m;
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (tpl_parse(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos != 1) {
		cli_err("usage: chanrac template add FILE.eml --reason TEXT [--source NAME]");
		return CLI_BADINPUT;
	}
	if (o.reason == NULL || o.reason[0] == '\0') {
		cli_err("template add %s: --reason TEXT is required (why this is spam)", o.pos[0]);
		return CLI_BADINPUT;
	}
	msg_limits_default(&lim);
	m = msg_parse_file(o.pos[0], &lim, err, sizeof err);
	if (m == NULL) {
		cli_err("template add: %s: %s", o.pos[0], err);
		return CLI_BADINPUT;
	}
	text = msg_text(m, &len);
	st = fingerprint_text(text, len, min_words, &fp);
	if (st != 0) {
		if (st > 0)
			cli_err("template add: %s: the text has %u distinct words, fewer than "
				"[templates] min_words %u: too short to fingerprint",
				o.pos[0], fp.distinct, min_words);
		else
			cli_err("template add: %s: out of memory", o.pos[0]);
		msg_free(m);
		return st > 0 ? CLI_BADINPUT : CLI_UNAVAIL;
	}
	util_strlcpy(info.reason, o.reason, sizeof info.reason);
	util_strlcpy(info.source, o.source ? o.source : cli->source, sizeof info.source);
	subject = msg_subject(m);
	util_strlcpy(info.subject, subject ? subject : "", sizeof info.subject);
	info.added = util_now();
	info.words = fp.words;
	msg_free(m);
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	st = template_add(kv, &fp, &info, err, sizeof err);
	if (st == TEMPLATE_EUNAVAIL) {
		cli_err("template add: %s", err);
		rc = CLI_UNAVAIL;
	} else if (cli->json) {
		fputs("{\"added\":", stdout);
		fputs(st == TEMPLATE_OK ? "true" : "false", stdout);
		fputs(",\"template\":", stdout);
		tpl_json(stdout, &info);
		fputs("}\n", stdout);
	} else if (st == TEMPLATE_EXISTS) {
		printf("template %s already present (nothing changed)\n", info.id);
	} else {
		printf("added template %s (%u words): %s\n", info.id, info.words, info.reason);
	}
	kv_close(kv);
	return rc;
}

static int tpl_del(struct cli *cli, int argc, char **argv)
{
	struct tpl_opts o;
	char err[512];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (tpl_parse(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos < 1) {
		cli_err("usage: chanrac template del ID...");
		return CLI_BADINPUT;
	}
	for (int i = 0; i < o.npos; i++)
		if (!template_valid_id(o.pos[i])) {
			cli_err("template del: '%s' is not a template id (16 hex digits, see "
				"chanrac template list)", o.pos[i]);
			return CLI_BADINPUT;
		}
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	for (int i = 0; i < o.npos; i++) {
		st = template_del(kv, o.pos[i], err, sizeof err);
		if (st == TEMPLATE_EUNAVAIL) {
			cli_err("template del: %s", err);
			rc = CLI_UNAVAIL;
			break;
		}
		if (st == TEMPLATE_NOTFOUND) {
			cli_err("template del: no template %s", o.pos[i]);
			rc = CLI_NOTFOUND;
			continue;
		}
		printf("deleted template %s\n", o.pos[i]);
	}
	kv_close(kv);
	return rc;
}

struct tpl_list_ctx {
	int json;
	int n;
	int64_t now;
};

static int tpl_list_one(void *ud, const struct template_info *t)
{
	struct tpl_list_ctx *c = ud;
	char when[32];

	if (c->json) {
		if (c->n)
			fputc(',', stdout);
		tpl_json(stdout, t);
	} else {
		util_format_time(t->added, when, sizeof when);
		printf("%s\t%s\t%u words\tsource=%s\t%s\tsubject=%s\n", t->id, when, t->words,
		       t->source, t->reason, t->subject);
	}
	c->n++;
	return 0;
}

static int tpl_list(struct cli *cli, int argc, char **argv)
{
	struct tpl_opts o;
	struct tpl_list_ctx ctx = { cli->json, 0, util_now() };
	char err[512];
	cr_kv *kv;
	int rc = CLI_OK, st;

	if (tpl_parse(argc, argv, &o) != 0)
		return CLI_BADINPUT;
	if (o.npos != 0) {
		cli_err("usage: chanrac template list [--json]");
		return CLI_BADINPUT;
	}
	kv = cli_kv_open(cli, &rc);
	if (kv == NULL)
		return rc;
	if (cli->json)
		fputc('[', stdout);
	st = template_list(kv, tpl_list_one, &ctx, err, sizeof err);
	if (cli->json)
		fputs("]\n", stdout);
	if (st < 0) {
		cli_err("template list: %s", err);
		rc = CLI_UNAVAIL;
	}
	kv_close(kv);
	return rc;
}

int cli_cmd_template(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "add", tpl_add },
		{ "del", tpl_del },
		{ "list", tpl_list },
		{ NULL, NULL },
	};

	return cli_run_sub(cli, argc, argv, subs);
}
