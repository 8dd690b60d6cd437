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
	{ "cli", "postfix_config", CONF_STR, NULL, 0, 0 },
	/* end [cli] */

	/* [rbld]: chanrac-rbld */
	{ "rbld", "listen", CONF_LIST, "127.0.0.1:53 [::1]:53", 0, 0 },
	{ "rbld", "user", CONF_STR, "chanrac", 0, 0 },
	{ "rbld", "pid_file", CONF_STR, NULL, 0, 0 },
	{ "rbld", "daemon", CONF_BOOL, "no", 0, 0 },
	{ "rbld", "tcp_max_connections", CONF_INT, "128", 1, 10000 },
	{ "rbld", "tcp_idle_timeout", CONF_DURATION, "10s", MS(100), SEC(600) },
	{ "rbld", "acl_allow", CONF_LIST, NULL, 0, 0 },
	{ "rbld", "acl_deny", CONF_LIST, NULL, 0, 0 },
	{ "rbld", "rate_limit", CONF_INT, "0", 0, 10000000 },
	{ "rbld", "rate_limit_slip", CONF_INT, "2", 0, 100 },
	{ "rbld", "status_socket", CONF_STR, NULL, 0, 0 },
	{ "rbld", "stats_interval", CONF_DURATION, "60s", SEC(1), SEC(86400) },
	{ "rbld", "metrics_listen", CONF_STR, "127.0.0.1:9720", 0, 0 },
	{ "rbld", "allow_list", CONF_STR, "allow", 0, 0 },
	{ "rbld", "merge_interval", CONF_DURATION, "200ms", MS(10), SEC(10) },
	{ "rbld", "redis_retry_max", CONF_DURATION, "30s", MS(100), SEC(3600) },
	{ "rbld", "snapshot_dir", CONF_STR, NULL, 0, 0 },
	/* end [rbld] */

	/* [zone NAME]: one DNSBL zone served by chanrac-rbld */
	{ "zone *", "lists", CONF_LIST, NULL, 0, 0 },
	{ "zone *", "files", CONF_LIST, NULL, 0, 0 },
	{ "zone *", "type", CONF_STR, "any", 0, 0 },
	{ "zone *", "ttl", CONF_DURATION, "35m", SEC(0), SEC(604800) },
	{ "zone *", "neg_ttl", CONF_DURATION, "5m", SEC(0), SEC(86400) },
	{ "zone *", "ns", CONF_LIST, NULL, 0, 0 },
	{ "zone *", "hostmaster", CONF_STR, NULL, 0, 0 },
	{ "zone *", "refresh", CONF_DURATION, "1h", SEC(1), SEC(2419200) },
	{ "zone *", "retry", CONF_DURATION, "10m", SEC(1), SEC(2419200) },
	{ "zone *", "expire", CONF_DURATION, "7d", SEC(1), SEC(31536000) },
	/* end [zone *] */

	/* [engine]: the check engine (chanrac-milter and chanrac scan).  Weights and
	 * thresholds are decimals kept as text and checked by engine_new. */
	{ "engine", "deadline", CONF_DURATION, "5s", MS(50), SEC(120) },
	{ "engine", "dns_servers", CONF_LIST, NULL, 0, 0 },
	{ "engine", "dns_cache_size", CONF_INT, "20000", 1, 10000000 },
	{ "engine", "dns_cache_max_ttl", CONF_DURATION, "1h", SEC(1), SEC(86400) },
	{ "engine", "dns_cache_max_neg_ttl", CONF_DURATION, "5m", SEC(1), SEC(86400) },
	{ "engine", "tag_score", CONF_STR, "5", 0, 0 },
	{ "engine", "quarantine_score", CONF_STR, "8", 0, 0 },
	{ "engine", "reject_score", CONF_STR, "12", 0, 0 },
	{ "engine", "fail_mode", CONF_STR, "accept", 0, 0 },
	{ "engine", "authserv_id", CONF_STR, NULL, 0, 0 },
	{ "engine", "reject_text", CONF_STR,
	  "Rejected as spam: %{rule} %{reason}%{delist}", 0, 0 },
	{ "engine", "max_url_domains", CONF_INT, "20", 0, 200 },
	{ "engine", "max_scan_bytes", CONF_INT, "1048576", 1024, 1073741824 },
	{ "engine", "max_header_bytes", CONF_INT, "262144", 1024, 67108864 },
	{ "engine", "max_depth", CONF_INT, "10", 1, 64 },
	{ "engine", "max_parts", CONF_INT, "100", 1, 100000 },
	{ "engine", "max_urls", CONF_INT, "200", 1, 100000 },
	{ "engine", "max_addresses", CONF_INT, "200", 1, 100000 },
	{ "engine", "spf_pass", CONF_STR, "-0.5", 0, 0 },
	{ "engine", "spf_fail", CONF_STR, "3", 0, 0 },
	{ "engine", "spf_softfail", CONF_STR, "1", 0, 0 },
	{ "engine", "spf_neutral", CONF_STR, "0", 0, 0 },
	{ "engine", "spf_none", CONF_STR, "0.5", 0, 0 },
	{ "engine", "spf_permerror", CONF_STR, "1", 0, 0 },
	{ "engine", "spf_temperror", CONF_STR, "0", 0, 0 },
	{ "engine", "helo_spf_fail", CONF_STR, "1", 0, 0 },
	{ "engine", "helo_spf_softfail", CONF_STR, "0.5", 0, 0 },
	{ "engine", "store_timeout", CONF_DURATION, "300ms", MS(10), SEC(10) },
	/* end [engine] */

	/* [advert]: the advertising content rules (doc/rules.md): weights are decimals
	 * kept as text and checked by engine_new */
	{ "advert", "enabled", CONF_BOOL, "yes", 0, 0 },
	{ "advert", "dkim", CONF_BOOL, "yes", 0, 0 },
	{ "advert", "detect_threshold", CONF_INT, "4", 2, 100 },
	{ "advert", "optout_languages", CONF_STR, "any", 0, 0 },
	{ "advert", "adv_label", CONF_STR, "0", 0, 0 },
	{ "advert", "adv_no_label", CONF_STR, "3", 0, 0 },
	{ "advert", "r1a", CONF_STR, "0.5", 0, 0 },
	{ "advert", "r1b", CONF_STR, "2", 0, 0 },
	{ "advert", "r3", CONF_STR, "1.5", 0, 0 },
	{ "advert", "r4", CONF_STR, "2", 0, 0 },
	{ "advert", "r4h", CONF_STR, "1", 0, 0 },
	/* end [advert] */

	/* [r10]: R10, the From field and DMARC (engine_r10.c); weights checked by engine_new */
	{ "r10", "enabled", CONF_BOOL, "yes", 0, 0 },
	{ "r10", "from_count", CONF_STR, "3", 0, 0 },
	{ "r10", "dmarc_reject", CONF_STR, "5", 0, 0 },
	{ "r10", "dmarc_quarantine", CONF_STR, "3", 0, 0 },
	{ "r10", "unaligned", CONF_STR, "0.5", 0, 0 },
	/* end [r10] */

	/* [templates]: known spam templates (TEMPLATE, engine_state.c) */
	{ "templates", "enabled", CONF_BOOL, "yes", 0, 0 },
	{ "templates", "weight", CONF_STR, "10", 0, 0 },
	{ "templates", "similarity", CONF_STR, "0.6", 0, 0 },
	{ "templates", "min_words", CONF_INT, "10", 3, 1000 },
	/* end [templates] */

	/* [frequency]: R5, advertising emails per advertiser per recipient */
	{ "frequency", "max", CONF_INT, "3", 0, 1000000 },
	{ "frequency", "same_content_max", CONF_INT, "0", 0, 1000000 },
	{ "frequency", "window", CONF_DURATION, "24h", SEC(60), SEC(31 * 86400) },
	{ "frequency", "weight", CONF_STR, "5", 0, 0 },
	/* end [frequency] */

	/* [optout]: R7, recorded opt-outs */
	{ "optout", "weight", CONF_STR, "10", 0, 0 },
	{ "optout", "action", CONF_STR, "reject", 0, 0 },
	{ "optout", "grace", CONF_DURATION, "60s", SEC(0), SEC(86400) },
	{ "optout", "recipient_delimiter", CONF_STR, "+", 0, 0 },
	/* end [optout] */

	/* [outbound]: P4, the watch over authenticated submissions */
	{ "outbound", "enabled", CONF_BOOL, "yes", 0, 0 },
	{ "outbound", "user_messages_per_hour", CONF_INT, "200", 0, 100000000 },
	{ "outbound", "user_recipients_per_hour", CONF_INT, "1000", 0, 100000000 },
	{ "outbound", "ip_messages_per_hour", CONF_INT, "500", 0, 100000000 },
	{ "outbound", "ip_recipients_per_hour", CONF_INT, "2000", 0, 100000000 },
	{ "outbound", "hold_score", CONF_STR, "8", 0, 0 },
	/* end [outbound] */

	/* [r8]: R8, opt-out confirmations on outbound mail (engine_r8.c); the weight is
	 * checked by engine_new */
	{ "r8", "enabled", CONF_BOOL, "yes", 0, 0 },
	{ "r8", "weight", CONF_STR, "3", 0, 0 },
	{ "r8", "once_window", CONF_DURATION, "30d", SEC(60), SEC(366 * 86400) },
	{ "r8", "max_delay", CONF_DURATION, "1h", SEC(0), SEC(31 * 86400) },
	/* end [r8] */

	/* [dnsbl NAME]: one DNSBL zone the engine queries (NAME = the DNS zone) */
	{ "dnsbl *", "type", CONF_STR, "ip", 0, 0 },
	{ "dnsbl *", "rule", CONF_STR, NULL, 0, 0 },
	{ "dnsbl *", "weight", CONF_STR, "5", 0, 0 },
	{ "dnsbl *", "codes", CONF_LIST, NULL, 0, 0 },
	{ "dnsbl *", "allow", CONF_BOOL, "no", 0, 0 },
	{ "dnsbl *", "selftest", CONF_BOOL, "yes", 0, 0 },
	{ "dnsbl *", "check", CONF_LIST, "helo mail_from from urls", 0, 0 },
	{ "dnsbl *", "delist_url", CONF_STR, NULL, 0, 0 },
	{ "dnsbl *", "txt", CONF_BOOL, "no", 0, 0 },
	{ "dnsbl *", "dns_servers", CONF_LIST, NULL, 0, 0 },
	/* end [dnsbl *] */

	/* [milter]: chanrac-milter */
	{ "milter", "socket", CONF_STR, "inet:8891@127.0.0.1", 0, 0 },
	{ "milter", "socket_mode", CONF_STR, "0660", 0, 0 },
	{ "milter", "user", CONF_STR, "chanrac", 0, 0 },
	{ "milter", "pid_file", CONF_STR, NULL, 0, 0 },
	{ "milter", "daemon", CONF_BOOL, "no", 0, 0 },
	{ "milter", "timeout", CONF_DURATION, "60s", SEC(1), SEC(3600) },
	{ "milter", "backlog", CONF_INT, "128", 1, 65535 },
	{ "milter", "max_sessions", CONF_INT, "500", 1, 100000 },
	{ "milter", "stats", CONF_BOOL, "yes", 0, 0 },
	{ "milter", "stats_interval", CONF_DURATION, "1s", MS(100), SEC(3600) },
	{ "milter", "stats_timeout", CONF_DURATION, "200ms", MS(10), SEC(10) },
	{ "milter", "stats_retry_max", CONF_DURATION, "30s", SEC(1), SEC(3600) },
	{ "milter", "metrics_listen", CONF_STR, "127.0.0.1:9721", 0, 0 },
	/* end [milter] */

	/* [report]: spam reports and automatic listing (chanrac report) */
	{ "report", "trusted_relays", CONF_LIST, "127.0.0.0/8 ::1", 0, 0 },
	{ "report", "auto_list", CONF_BOOL, "yes", 0, 0 },
	{ "report", "ip_threshold", CONF_INT, "3", 1, 1000000 },
	{ "report", "domain_threshold", CONF_INT, "5", 1, 1000000 },
	{ "report", "fingerprint_threshold", CONF_INT, "3", 1, 1000000 },
	{ "report", "ip_list", CONF_STR, "spam-ip", 0, 0 },
	{ "report", "domain_list", CONF_STR, "spam-domain", 0, 0 },
	{ "report", "allow_list", CONF_STR, "allow", 0, 0 },
	{ "report", "ip_code", CONF_STR, "127.0.0.2", 0, 0 },
	{ "report", "domain_code", CONF_STR, "127.0.0.2", 0, 0 },
	{ "report", "list_expires", CONF_DURATION, "7d", SEC(0), SEC(315360000) },
	{ "report", "keep", CONF_DURATION, "180d", SEC(86400), SEC(315360000) },
	{ "report", "window", CONF_DURATION, "30d", SEC(60), SEC(315360000) },
	{ "report", "domain_sources", CONF_LIST, "from urls", 0, 0 },
	{ "report", "max_url_domains", CONF_INT, "10", 0, 16 },
	{ "report", "header_bytes", CONF_INT, "32768", 1024, 1048576 },
	{ "report", "arf_from", CONF_STR, "abuse@localhost", 0, 0 },
	{ "report", "reporting_mta", CONF_STR, NULL, 0, 0 },
	/* end [report] */

	{ NULL, NULL, CONF_STR, NULL, 0, 0 },
};
