/* chanrac: the operator's command.  Parses the global options, loads the
 * configuration and hands argv to one command group (list, query, ...).
 * Exit statuses: 0 ok, 1 not found, 2 bad input, 3 store unavailable, 5 scan
 * found spam (quarantine, tempfail or reject). */
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "postfix.h"
#include "util.h"

static void usage(FILE *f)
{
	fputs("usage: chanrac [-c FILE] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  list add KEY... --list NAME [--code N] [--reason TEXT]\n"
	      "           [--expires DURATION | --until TIME] [--source WHO]\n"
	      "  list del KEY... --list NAME [--reason TEXT] [--ref TICKET]\n"
	      "  list show [--list NAME] [--json]\n"
	      "  list import FILE|- --list NAME [--format FMT] [--replace] [--expires DURATION]\n"
	      "  list export --list NAME [--format FMT] [-o FILE]\n"
	      "  list expire\n"
	      "  query ADDRESS|CIDR|DOMAIN [--json]\n"
	      "  scan FILE.eml [--ip A] [--ptr NAME] [--helo H] [--from S] [--rcpt R]... [--json]\n"
	      "  template add FILE.eml --reason TEXT [--source NAME] | template del ID... | template list\n"
	      "  optout add RCPT (--advertiser DOMAIN | --all) --channel web|email|phone [--at TIME]\n"
	      "  optout confirm ID [--at TIME] | optout list [RCPT] | optout del ID\n"
	      "  outbound status [USER] | outbound release USER [--postsuper]\n"
	      "  quarantine list [--postfix-config DIR] [--json]\n"
	      "  quarantine release|delete QUEUEID... [--postfix-config DIR] [--reason T] [--ref T]\n"
	      "  stats rbl [--zone NAME] [--socket PATH] [--json]\n"
	      "  stats --from DATE --to DATE [--json]\n"
	      "  stats record optout --channel C --stage S [--reason T] [--at TIME] [--count N]\n"
	      "  stats record released [--at TIME] [--count N]\n"
	      "  report FILE|- [--reporter ID] [--not-spam] [--arf OUT] [--json]\n"
	      "  reports list [--status S] [--from T] [--to T] [--limit N] | show|accept|reject ID [--reason T]\n"
	      "  block ADDRESS|CIDR|DOMAIN... --ref TICKET --reason TEXT [--list NAME] [--code N]\n"
	      "        [--expires DURATION]\n"
	      "  audit [--from T] [--to T] [--list NAME] [--key KEY] [--limit N] [--json]\n"
	      "  compliance-report --kind annual|semiannual --period P [--form 1|3]\n"
	      "        [--format md|csv|json|html] [-o FILE] [--input FILE] [--provider T]\n"
	      "        [--revenue T] [--growth T] [--recommendations T] [--mailboxes N]\n"
	      "        [--mailboxes-prev N]\n"
	      "\n"
	      "KEY: 192.0.2.7, 192.0.2.0/24, 2001:db8::/32, example.vn, *.example.vn;\n"
	      "     a leading ! makes an exclusion.  FMT: plain, ip4set, ip4trie, ip6trie, dnset.\n"
	      "exit status: 0 ok, 1 not found, 2 bad input, 3 store unavailable,\n"
	      "             5 scan: the message would be quarantined, tempfailed or rejected.\n"
	      "See chanrac(1).\n",
	      f);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	char line[2048];

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "chanrac: %s\n", line);
}

int cli_exit_for(int st)
{
	switch (st) {
	case STORE_OK: return CLI_OK;
	case STORE_NOTFOUND: return CLI_NOTFOUND;
	case STORE_EINVAL: return CLI_BADINPUT;
	default: return CLI_UNAVAIL;
	}
}

cr_store *cli_store_open(struct cli *cli, int *exit_code)
{
	char err[512];
	int st = STORE_EUNAVAIL;
	cr_store *s = store_open(cli->conf, &st, err, sizeof err);

	if (s == NULL) {
		cli_err("%s", err);
		*exit_code = st == STORE_EINVAL ? CLI_BADINPUT : CLI_UNAVAIL;
	}
	return s;
}

int cli_check_list(struct cli *cli, const char *name)
{
	const char *const *names = conf_list(cli->conf, "lists", "names");

	if (name == NULL) {
		cli_err("--list NAME is required (lists: see [lists] names in %s)",
			conf_source(cli->conf));
		return 0;
	}
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return 1;
	cli_err("unknown list '%s' (configured lists: [lists] names in %s)", name,
		conf_source(cli->conf));
	return 0;
}

void cli_entry_json(FILE *f, const struct listing_entry *e)
{
	char key[LISTING_KEY_MAX], code[16];
	static const char *const kinds[] = { "address", "domain", "wildcard" };

	listing_format_key(e, key, sizeof key);
	listing_format_code(e->code, code, sizeof code);
	fputc('{', f);
	json_write_key(f, "key");
	json_write_str(f, key);
	fputc(',', f);
	json_write_key(f, "kind");
	json_write_str(f, kinds[e->kind]);
	fprintf(f, ",\"exclude\":%s,", e->exclude ? "true" : "false");
	json_write_key(f, "code");
	json_write_str(f, code);
	fputc(',', f);
	json_write_key(f, "reason");
	json_write_str(f, e->reason);
	fputc(',', f);
	json_write_key(f, "source");
	json_write_str(f, e->source);
	fprintf(f, ",\"added\":%lld,\"expires\":%lld}", (long long)e->added,
		(long long)e->expires);
}

static void cli_default_source(struct cli *cli)
{
	const char *s = conf_str(cli->conf, "cli", "source");

	if (s[0] != '\0') {
		util_strlcpy(cli->source, s, sizeof cli->source);
		return;
	}
	struct passwd *pw = getpwuid(getuid());
	snprintf(cli->source, sizeof cli->source, "cli:%s", pw ? pw->pw_name : "unknown");
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	char err[1024];
	int i;

	/* Redis gone mid-write is "store unavailable" (exit 3), not death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Global options come before the command; -c and --json are also accepted
	 * after it (each group's parser skips them). */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				cli_err("%s needs a FILE", argv[i]);
				return CLI_BADINPUT;
			}
			cli.conf_path = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			cli.json = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CLI_OK;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CLI_BADINPUT;
	}
	/* Scan the rest for -c/--json so "chanrac query X --json" works. */
	for (int j = i + 1; j < argc; j++) {
		if (strcmp(argv[j], "--json") == 0)
			cli.json = 1;
		else if ((strcmp(argv[j], "-c") == 0 || strcmp(argv[j], "--config") == 0) &&
			 j + 1 < argc)
			cli.conf_path = argv[++j];
	}

	log_open("chanrac", 0, LOG_LEVEL_WARN);
	cli.conf = conf_open(cli.conf_path, err, sizeof err);
	if (cli.conf == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	cli_default_source(&cli);

	const char *cmd = argv[i];
	int rc;
	if (strcmp(cmd, "list") == 0) {
		rc = cli_cmd_list(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "query") == 0) {
		rc = cli_cmd_query(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "scan") == 0) {
		rc = cli_cmd_scan(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "template") == 0) {
		rc = cli_cmd_template(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "optout") == 0) {
		rc = cli_cmd_optout(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "outbound") == 0) {
		rc = cli_cmd_outbound(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "quarantine") == 0) {
		rc = cli_cmd_quarantine(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "stats") == 0 && i + 1 < argc && strcmp(argv[i + 1], "rbl") == 0) {
		rc = cli_cmd_stats_rbl(&cli, argc - i - 1, argv + i + 1);
	} else if (strcmp(cmd, "stats") == 0) {
		rc = cli_cmd_stats(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "report") == 0) {
		rc = cli_cmd_report(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "reports") == 0) {
		rc = cli_cmd_reports(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "block") == 0) {
		rc = cli_cmd_block(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "audit") == 0) {
		rc = cli_cmd_audit(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "compliance-report") == 0) {
		rc = cli_cmd_compliance_report(&cli, argc - i, argv + i);
	} else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		rc = CLI_OK;
	} else {
		cli_err("unknown command '%s' (try chanrac --help)", cmd);
		rc = CLI_BADINPUT;
	}
	conf_free(cli.conf);
	return rc;
}
