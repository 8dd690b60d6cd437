/* chanrac query ADDRESS|CIDR|DOMAIN: which lists hold it and which entry
 * decided — longest prefix, exact name, parent wildcard or an exclusion.
 * Exit 0 if some list holds it, 1 if none does. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "util.h"

#define QUERY_MAX_MATCHES 64

static const char *query_via_name(int via)
{
	switch (via) {
	case STORE_VIA_EXACT: return "exact";
	case STORE_VIA_PREFIX: return "longest prefix";
	case STORE_VIA_WILDCARD: return "parent wildcard";
	case STORE_VIA_EXCLUSION: return "exclusion";
	}
	return "?";
}

int cli_cmd_query(struct cli *cli, int argc, char **argv)
{
	struct listing_entry what;
	struct store_match m[QUERY_MAX_MATCHES];
	char err[512];
	const char *item = NULL;
	int rc = CLI_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] == '-') {
			cli_err("query: unknown option '%s'", argv[i]);
			return CLI_BADINPUT;
		}
		if (item != NULL) {
			cli_err("query: one address, CIDR or domain at a time ('%s' is extra)", argv[i]);
			return CLI_BADINPUT;
		}
		item = argv[i];
	}
	if (item == NULL) {
		cli_err("query: what? (e.g. chanrac query 192.0.2.7)");
		return CLI_BADINPUT;
	}
	if (item[0] == '!') {
		cli_err("query %s: a query cannot be an exclusion", item);
		return CLI_BADINPUT;
	}
	if (listing_parse_key(item, &what, err, sizeof err) != 0) {
		cli_err("%s", err);
		return CLI_BADINPUT;
	}
	cr_store *s = cli_store_open(cli, &rc);
	if (s == NULL)
		return rc;
	int n = store_query(s, &what, m, QUERY_MAX_MATCHES);
	if (n < 0) {
		cli_err("query %s: %s", item, store_error(s));
		store_close(s);
		return cli_exit_for(n);
	}
	int listed = 0;
	for (int i = 0; i < n; i++)
		if (!m[i].entry.exclude)
			listed++;
	char key[LISTING_KEY_MAX];
	listing_format_key(&what, key, sizeof key);
	int64_t now = util_now();
	if (cli->json) {
		fputs("{\"query\":", stdout);
		json_write_str(stdout, key);
		printf(",\"listed\":%s,\"matches\":[", listed ? "true" : "false");
		for (int i = 0; i < n; i++) {
			fputs(i ? ",{\"list\":" : "{\"list\":", stdout);
			json_write_str(stdout, m[i].list);
			fputs(",\"via\":", stdout);
			json_write_str(stdout, query_via_name(m[i].via));
			printf(",\"age\":%lld,\"entry\":", (long long)(now - m[i].entry.added));
			cli_entry_json(stdout, &m[i].entry);
			fputc('}', stdout);
		}
		fputs("]}\n", stdout);
	} else {
		if (listed)
			printf("%s is listed on %d list%s\n", key, listed, listed == 1 ? "" : "s");
		else
			printf("%s is not listed\n", key);
		for (int i = 0; i < n; i++) {
			char mkey[LISTING_KEY_MAX], code[16], age[32];
			const struct listing_entry *e = &m[i].entry;
			listing_format_key(e, mkey, sizeof mkey);
			listing_format_code(e->code, code, sizeof code);
			util_format_age(now - e->added, age, sizeof age);
			if (e->exclude)
				printf("  %s: excluded by %s (source %s, age %s)%s%s\n", m[i].list, mkey,
				       e->source, age, e->reason[0] ? ": " : "", e->reason);
			else
				printf("  %s: %s (%s) code %s, source %s, age %s%s%s\n", m[i].list, mkey,
				       query_via_name(m[i].via), code, e->source, age,
				       e->reason[0] ? ", reason: " : "", e->reason);
		}
	}
	store_close(s);
	return listed ? CLI_OK : CLI_NOTFOUND;
}
