/* conf_keys: every configuration key chanrac knows, with type, default and
 * bounds.  conf/chanrac.conf documents each of them; tests/unit/test_conf.c
 * checks that every key here appears there.  Keep one block per section. */
#include "conf.h"

#define MS(x) ((int64_t)(x))
#define SEC(x) ((int64_t)(x) * 1000)

const struct conf_key conf_keys[] = {
	/* [log]: all programs */
	{ "log", "level", CONF_STR, "info", 0, 0 },
	{ "log", "syslog", CONF_BOOL, "yes", 0, 0 },

	/* [redis]: the shared store, all programs */
	{ "redis", "host", CONF_STR, "127.0.0.1", 0, 0 },
	{ "redis", "port", CONF_INT, "6379", 1, 65535 },
	{ "redis", "socket", CONF_STR, NULL, 0, 0 },
	{ "redis", "user", CONF_STR, NULL, 0, 0 },
	{ "redis", "password_file", CONF_STR, NULL, 0, 0 },
	{ "redis", "db", CONF_INT, "0", 0, 15 },
	{ "redis", "connect_timeout", CONF_DURATION, "2s", MS(10), SEC(60) },
	{ "redis", "command_timeout", CONF_DURATION, "5s", MS(10), SEC(600) },
	{ "redis", "key_prefix", CONF_STR, "cr", 0, 0 },
	{ "redis", "stream_maxlen", CONF_INT, "1000000", 1000, 100000000 },
	/* end [redis] */

	/* [lists]: the named lists of the shared blacklist */
	{ "lists", "names", CONF_LIST, "spam-ip spam-domain revoked-domain allow", 0, 0 },
	/* end [lists] */

	/* [cli]: the chanrac command */
	{ "cli", "source", CONF_STR, NULL, 0, 0 },
	{ "cli", "import_batch", CONF_INT, "1000", 1, 100000 },
	/* end [cli] */

	/* [rbld]: chanrac-rbld */
	/* end [rbld] */

	/* [zone NAME]: one DNSBL zone served by chanrac-rbld */
	/* end [zone *] */

	/* [milter]: chanrac-milter */
	/* end [milter] */

	{ NULL, NULL, CONF_STR, NULL, 0, 0 },
};
