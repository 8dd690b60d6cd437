/* chanrac stats --from DATE --to DATE: the per-day counters the milter and the
 * CLI record (lib/stats.h), summed over the days: messages by action, reports,
 * listings, wrongly blocked mail, advertising, opt-out requests (P7). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "stats.h"
#include "util.h"

/* A day "YYYY-MM-DD" (or any time util_parse_time takes). */
static int parse_day(const char *opt, const char *v, int64_t *out)
{
	if (v == NULL || util_parse_time(v, out) < 0) {
		cli_err("%s %s: not a day (2026-11-22)", opt, v ? v : "");
		return -1;
	}
	return 0;
}

static void print_values_json(const char *key, const struct stats_values *v)
{
	json_write_key(stdout, key);
	fputc('{', stdout);
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			fputc(',', stdout);
		json_write_key(stdout, v->v[i].name);
		printf("%lld", v->v[i].n);
	}
	fputc('}', stdout);
}

/* chanrac stats record optout|released: events handled outside chanrac that the
 * periodic reports count — an opt-out request taken by phone and could not be
 * processed, a quarantined message released (wrongly blocked). */
static int stats_record(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, 'C' },
		{ "stage", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const channels[] = STATS_OPTOUT_CHANNELS;
	static const char *const stages[] = STATS_OPTOUT_STAGES;
	const char *channel = NULL, *stage = NULL, *reason = NULL, *what;
	int64_t at = util_now(), count = 1;
	char err[512];
	int ch, okc = 0, oks = 0;
	cr_stats *s;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C': channel = optarg; break;
		case 's': stage = optarg; break;
		case 'r': reason = optarg; break;
		case 'a':
			if (util_parse_time(optarg, &at) < 0) {
				cli_err("--at %s: not a time", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 'n':
			if (util_parse_i64(optarg, 1, 1000000, &count) < 0) {
				cli_err("--count %s: not a number 1..1000000", optarg);
				return CLI_BADINPUT;
			}
			break;
		case 'j': case 'c': break;
		case ':':
			cli_err("stats record: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("stats record: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (argc - optind != 1) {
		cli_err("stats record: optout or released?");
		return CLI_BADINPUT;
	}
	what = argv[optind];
	if (strcmp(what, "optout") == 0) {
		for (size_t i = 0; i < 3; i++)
			okc |= channel != NULL && strcmp(channel, channels[i]) == 0;
		for (size_t i = 0; i < 4; i++)
			oks |= stage != NULL && strcmp(stage, stages[i]) == 0;
		if (!okc || !oks) {
			cli_err("stats record optout: --channel web|email|phone and --stage "
				"received|confirmed|processed|failed are required");
			return CLI_BADINPUT;
		}
		if (strcmp(stage, "failed") == 0 && (reason == NULL || reason[0] == '\0')) {
			cli_err("stats record optout --stage failed: --reason is required");
			return CLI_BADINPUT;
		}
	} else if (strcmp(what, "released") == 0) {
		if (channel || stage || reason) {
			cli_err("stats record released: only --count and --at");
			return CLI_BADINPUT;
		}
	} else {
		cli_err("stats record %s: optout or released", what);
		return CLI_BADINPUT;
	}
	s = stats_new(cli->conf, err, sizeof err);
	if (s == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	for (int64_t i = 0; i < count; i++) {
		if (what[0] == 'o')
			stats_optout(s, at, channel, stage, reason);
		else
			stats_add(s, at, STATS_WRONG_RELEASED, 1);
	}
	if (stats_flush(s) < 0) {
		cli_err("stats record: Redis unavailable (nothing recorded)");
		stats_free(s);
		return CLI_UNAVAIL;
	}
	stats_free(s);
	return CLI_OK;
}

int cli_cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const labels[] = { STATS_LABEL_OPTOUT_REASON, STATS_LABEL_ADV_SENT,
					      STATS_LABEL_NONCOMPLIANT };
	const char *from_s = NULL, *to_s = NULL;
	int64_t from, to;
	struct stats_values fields, adv, lab[3];
	char err[512], f1[11], f2[11];
	int ch, rc = CLI_OK;
	cr_stats *s;

	if (argc >= 2 && strcmp(argv[1], "record") == 0)
		return stats_record(cli, argc - 1, argv + 1);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': from_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'j': case 'c': break;
		case ':':
			cli_err("stats: option %s needs a value", argv[optind - 1]);
			return CLI_BADINPUT;
		default:
			cli_err("stats: unknown option '%s'", argv[optind - 1]);
			return CLI_BADINPUT;
		}
	}
	if (optind != argc) {
		cli_err("stats: unexpected argument '%s'", argv[optind]);
		return CLI_BADINPUT;
	}
	if (from_s == NULL || to_s == NULL) {
		cli_err("stats: --from DATE and --to DATE are required (e.g. --from 2026-11-01 "
			"--to 2026-11-30)");
		return CLI_BADINPUT;
	}
	if (parse_day("--from", from_s, &from) < 0 || parse_day("--to", to_s, &to) < 0)
		return CLI_BADINPUT;
	from -= ((from % 86400) + 86400) % 86400;
	to -= ((to % 86400) + 86400) % 86400;
	if (to < from) {
		cli_err("stats: --to %s is before --from %s", to_s, from_s);
		return CLI_BADINPUT;
	}
	if ((to - from) / 86400 > 3660) {
		cli_err("stats: at most 10 years at a time");
		return CLI_BADINPUT;
	}
	s = stats_new(cli->conf, err, sizeof err);
	if (s == NULL) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	memset(lab, 0, sizeof lab);
	memset(&adv, 0, sizeof adv);
	if (stats_read_fields(s, from, to, &fields, err, sizeof err) < 0 ||
	    stats_read_distinct(s, from, to, STATS_SET_ADVERTISER, &adv, err, sizeof err) < 0) {
		cli_err("stats: %s", err);
		stats_values_free(&fields);
		stats_free(s);
		return CLI_UNAVAIL;
	}
	for (size_t i = 0; i < 3; i++)
		if (stats_read_labels(s, from, to, labels[i], &lab[i], err, sizeof err) < 0) {
			cli_err("stats: %s", err);
			rc = CLI_UNAVAIL;
			goto out;
		}
	{
		char t1[32], t2[32];
		util_format_time(from, t1, sizeof t1);
		util_format_time(to, t2, sizeof t2);
		util_strlcpy(f1, t1, sizeof f1);
		util_strlcpy(f2, t2, sizeof f2);
	}
	if (cli->json) {
		fputs("{\"from\":", stdout);
		json_write_str(stdout, f1);
		fputs(",\"to\":", stdout);
		json_write_str(stdout, f2);
		printf(",\"days\":%lld,", (long long)((to - from) / 86400 + 1));
		print_values_json("counters", &fields);
		printf(",\"distinct\":{\"advertiser\":%zu},", adv.n);
		json_write_key(stdout, "labels");
		fputc('{', stdout);
		for (size_t i = 0; i < 3; i++) {
			if (i)
				fputc(',', stdout);
			print_values_json(labels[i], &lab[i]);
		}
		fputs("}}\n", stdout);
	} else {
		printf("statistics %s .. %s (%lld days, UTC)\n", f1, f2,
		       (long long)((to - from) / 86400 + 1));
		for (size_t i = 0; i < fields.n; i++)
			printf("  %-28s %lld\n", fields.v[i].name, fields.v[i].n);
		printf("  %-28s %zu\n", "distinct advertisers", adv.n);
		for (size_t i = 0; i < 3; i++)
			for (size_t j = 0; j < lab[i].n; j++)
				printf("  %s[%s] %lld\n", labels[i], lab[i].v[j].name, lab[i].v[j].n);
	}
out:
	stats_values_free(&fields);
	stats_values_free(&adv);
	for (size_t i = 0; i < 3; i++)
		stats_values_free(&lab[i]);
	stats_free(s);
	return rc;
}
