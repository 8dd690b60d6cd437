/* cli: helpers the command groups share beyond cli/main.c — the per-message
 * state store, a subcommand's options and the choice of a subcommand — so that
 * every group words its errors the same way. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kv.h"
#include "stats.h"

cr_kv *cli_kv_open(struct cli *cli, int *exit_code)
{
	char err[512];
	cr_kv *kv = kv_open(cli->conf, 0, err, sizeof err);

	if (kv == NULL) {
		cli_err("%s", err);
		*exit_code = CLI_BADINPUT;
	}
	return kv;
}

void cli_count(struct cli *cli, int64_t when, const char *field, long long n)
{
	char err[256];
	cr_stats *stats;

	if (n == 0)
		return;
	stats = stats_new(cli->conf, err, sizeof err);
	stats_add(stats, when, field, n);
	stats_free(stats);
}

/* getopt_long values of the options in a cli_opt table: above every char */
#define CLI_OPT_VAL 256

int cli_parse_opts(int argc, char **argv, const char *group, const struct cli_opt *opts,
		   char ***operands)
{
	struct option longopts[CLI_OPTS_MAX + 3];
	size_t n = 0;
	int ch;

	for (; opts[n].name != NULL; n++) {
		if (n == CLI_OPTS_MAX) {
			cli_err("%s %s: more than %d options", group, argv[0], CLI_OPTS_MAX);
			return -1;
		}
		longopts[n] = (struct option){ opts[n].name,
					       opts[n].value ? required_argument : no_argument, NULL,
					       CLI_OPT_VAL + (int)n };
	}
	/* main has read these already */
	longopts[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	longopts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		if (ch >= CLI_OPT_VAL) {
			const struct cli_opt *o = &opts[ch - CLI_OPT_VAL];
			if (o->value != NULL)
				*o->value = optarg;
			else
				*o->flag = 1;
		} else if (ch == ':') {
			cli_err("%s %s: option %s needs a value", group, argv[0], argv[optind - 1]);
			return -1;
		} else if (ch != 'j' && ch != 'c') {
			cli_err("%s %s: unknown option '%s'", group, argv[0], argv[optind - 1]);
			return -1;
		}
	}
	*operands = argv + optind;
	return argc - optind;
}

int cli_run_sub(struct cli *cli, int argc, char **argv, const struct cli_sub *subs)
{
	char bar[256] = "", comma[256] = "";

	for (size_t i = 0; argc >= 2 && subs[i].name != NULL; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	for (size_t i = 0; subs[i].name != NULL; i++) {
		size_t b = strlen(bar), c = strlen(comma);
		snprintf(bar + b, sizeof bar - b, "%s%s", i ? "|" : "", subs[i].name);
		snprintf(comma + c, sizeof comma - c, "%s%s", i ? ", " : "", subs[i].name);
	}
	if (argc < 2)
		cli_err("usage: chanrac %s %s ...", argv[0], bar);
	else
		cli_err("%s: unknown subcommand '%s' (%s)", argv[0], argv[1], comma);
	return CLI_BADINPUT;
}
