/* cli: what the chanrac command's groups share — the parsed global options,
 * the exit statuses, opening the config and the store with the right message. */
#ifndef CHANRAC_CLI_H
#define CHANRAC_CLI_H

#include <stdio.h>

#include "conf.h"
#include "listing.h"
#include "store.h"

/* Exit statuses (chanrac(1)). */
enum {
	CLI_OK = 0,
	CLI_NOTFOUND = 1,
	CLI_BADINPUT = 2,
	CLI_UNAVAIL = 3,
	CLI_SPAM = 5, /* chanrac scan: the message would be quarantined, tempfailed or rejected */
};

struct cli {
	const char *conf_path; /* -c FILE, or NULL for the default */
	cr_conf *conf;         /* loaded before a command runs */
	int json;              /* --json */
	char source[LISTING_SOURCE_MAX + 1]; /* who this invocation acts as */
};

/* Prints "chanrac: MESSAGE" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the store; on failure prints why and sets *exit_code (CLI_UNAVAIL or
 * CLI_BADINPUT) and returns NULL. */
cr_store *cli_store_open(struct cli *cli, int *exit_code);
/* Maps a store status to an exit status. */
int cli_exit_for(int store_status);

/* Adds n (when not 0) to the statistics counter field of the day of when (P7)
 * and sends it before returning; with Redis away the count is lost (logged). */
void cli_count(struct cli *cli, int64_t when, const char *field, long long n);

/* 1 if name is a configured list; else prints an error naming it. */
int cli_check_list(struct cli *cli, const char *name);

/* Writes an entry as a JSON object (key, kind, exclude, code, reason, source,
 * added, expires). */
void cli_entry_json(FILE *f, const struct listing_entry *e);

/* Command groups: argv[0] is the group name. Return an exit status. */
int cli_cmd_list(struct cli *cli, int argc, char **argv);
int cli_cmd_query(struct cli *cli, int argc, char **argv);
int cli_cmd_scan(struct cli *cli, int argc, char **argv);
int cli_cmd_report(struct cli *cli, int argc, char **argv);
int cli_cmd_reports(struct cli *cli, int argc, char **argv);
int cli_cmd_block(struct cli *cli, int argc, char **argv);
int cli_cmd_audit(struct cli *cli, int argc, char **argv);
int cli_cmd_stats(struct cli *cli, int argc, char **argv);
int cli_cmd_compliance_report(struct cli *cli, int argc, char **argv);
int cli_cmd_template(struct cli *cli, int argc, char **argv);
int cli_cmd_optout(struct cli *cli, int argc, char **argv);
int cli_cmd_outbound(struct cli *cli, int argc, char **argv);
/* chanrac quarantine list|release|delete (cli/quarantine.c) */
int cli_cmd_quarantine(struct cli *cli, int argc, char **argv);

/* The pooled Redis client of per-message state (lib/kv.h, [redis] timeouts);
 * NULL with *exit_code CLI_BADINPUT on a bad [redis] setting.  cli/cli.c. */
struct cr_kv *cli_kv_open(struct cli *cli, int *exit_code);

/* An option of a subcommand (cli/cli.c): "--NAME VALUE" stores VALUE in
 * *value; with value NULL, "--NAME" sets *flag to 1. */
struct cli_opt {
	const char *name;
	const char **value;
	int *flag;
};
#define CLI_OPTS_MAX 16

/* Parses the options of "chanrac GROUP SUB ..." (argv[0] is SUB): those of
 * opts (ended by a NULL name), and --json and -c/--config, which main has read.
 * Returns the number of operands left, *operands pointing at them; or -1 after
 * "GROUP SUB: option --X needs a value" or "GROUP SUB: unknown option '--X'". */
int cli_parse_opts(int argc, char **argv, const char *group, const struct cli_opt *opts,
		   char ***operands);

/* A subcommand of a command group, argv[0] its name. */
struct cli_sub {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* Runs the subcommand argv[1] of the group argv[0] from subs (ended by a NULL
 * name); none or an unknown one is "usage: chanrac GROUP a|b ..." or "GROUP:
 * unknown subcommand 'X' (a, b)" and CLI_BADINPUT. */
int cli_run_sub(struct cli *cli, int argc, char **argv, const struct cli_sub *subs);

/* chanrac stats rbl: chanrac-rbld's counters (cli/stats_rbl.c); argv[0] is "rbl". */
int cli_cmd_stats_rbl(struct cli *cli, int argc, char **argv);

#endif
