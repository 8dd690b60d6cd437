/* stats_feed: calls the counting API of lib/stats.h the way the milter's rules
 * will (stats_advert_in, stats_advert_out, stats_optout, stats_add), then
 * flushes, so tests/integration/compliance_report.sh can check that what the
 * API writes is what the reports read.
 * Usage: stats_feed CONF WHEN EVENT ARGS...
 *   advert-in ADVERTISER [RULE...] | advert-out CUSTOMER TEMPLATE |
 *   optout CHANNEL STAGE [REASON] | add FIELD N
 * WHEN: unix seconds.  Exit 0 when written, 1 when Redis failed, 2 on bad use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "stats.h"
#include "util.h"

int main(int argc, char **argv)
{
	char err[512];
	cr_conf *conf;
	cr_stats *s;
	int64_t when;
	int rc;

	if (argc < 4 || util_parse_i64(argv[2], 0, INT64_MAX, &when) < 0) {
		fprintf(stderr, "usage: stats_feed CONF WHEN EVENT ARGS...\n");
		return 2;
	}
	conf = conf_load(argv[1], err, sizeof err);
	if (conf == NULL) {
		fprintf(stderr, "stats_feed: %s\n", err);
		return 2;
	}
	s = stats_new(conf, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "stats_feed: %s\n", err);
		conf_free(conf);
		return 2;
	}
	if (strcmp(argv[3], "advert-in") == 0 && argc >= 5) {
		stats_advert_in(s, when, argv[4], (const char *const *)argv + 5, (size_t)(argc - 5));
	} else if (strcmp(argv[3], "advert-out") == 0 && argc == 6) {
		stats_advert_out(s, when, argv[4], argv[5]);
	} else if (strcmp(argv[3], "optout") == 0 && (argc == 6 || argc == 7)) {
		stats_optout(s, when, argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	} else if (strcmp(argv[3], "add") == 0 && argc == 6) {
		stats_add(s, when, argv[4], atoll(argv[5]));
	} else {
		fprintf(stderr, "stats_feed: bad event \"%s\" or arguments\n", argv[3]);
		stats_free(s);
		conf_free(conf);
		return 2;
	}
	rc = stats_flush(s) == 0 ? 0 : 1;
	stats_free(s);
	conf_free(conf);
	return rc;
}
