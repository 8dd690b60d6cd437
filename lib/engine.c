/* engine: builds the check engine from [engine] and [dnsbl NAME], runs the checks of
 * one message (all DNS lookups at once under the message's deadline, SPF on a second
 * thread), and turns the hits into the verdict: score, action, headers, reply. */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

/* ---- configuration ------------------------------------------------------------- */

/* Weights and thresholds: a finite decimal within +-1000. */
int engine_parse_weight(const char *text, double *out)
{
	char *end;
	double d;

	if (text == NULL || text[0] == '\0')
		return -1;
	errno = 0;
	d = strtod(text, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno != 0 || *end != '\0' || end == text || !isfinite(d) || d < -1000 || d > 1000)
		return -1;
	*out = d;
	return 0;
}

int engine_conf_weight(const cr_conf *conf, const char *section, const char *key, double *out,
		       char *err, size_t errlen)
{
	const char *text = conf_str(conf, section, key);

	if (engine_parse_weight(text, out) != 0) {
		util_errf(err, errlen, "%s: [%s] %s: '%s' is not a number in -1000..1000",
			  conf_source(conf), section, key, text);
		return -1;
	}
	return 0;
}

static int load_thresholds(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	static const char *const keys[3] = { "tag_score", "quarantine_score", "reject_score" };
	double *dst[3] = { &e->tag_score, &e->quarantine_score, &e->reject_score };
	double prev = 0;
	const char *prev_key = NULL;

	for (int i = 0; i < 3; i++) {
		if (engine_conf_weight(conf, "engine", keys[i], dst[i], err, errlen) != 0)
			return -1;
		if (*dst[i] < 0) {
			util_errf(err, errlen, "%s: [engine] %s: must be 0 (off) or positive",
				  conf_source(conf), keys[i]);
			return -1;
		}
		if (*dst[i] == 0)
			continue;
		if (prev_key != NULL && *dst[i] < prev) {
			util_errf(err, errlen, "%s: [engine] %s: %g is below %s %g",
				  conf_source(conf), keys[i], *dst[i], prev_key, prev);
			return -1;
		}
		prev = *dst[i];
		prev_key = keys[i];
	}
	return 0;
}

static int load_spf_weights(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		int idx;
	} map[] = {
		{ "spf_none", ENGINE_W_SPF_NONE },         { "spf_neutral", ENGINE_W_SPF_NEUTRAL },
		{ "spf_pass", ENGINE_W_SPF_PASS },         { "spf_fail", ENGINE_W_SPF_FAIL },
		{ "spf_softfail", ENGINE_W_SPF_SOFTFAIL }, { "spf_temperror", ENGINE_W_SPF_TEMPERROR },
		{ "spf_permerror", ENGINE_W_SPF_PERMERROR },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (engine_conf_weight(conf, "engine", map[i].key, &e->spf_weight[map[i].idx], err,
				errlen) != 0)
			return -1;
	if (engine_conf_weight(conf, "engine", "helo_spf_fail", &e->helo_spf_fail, err, errlen) != 0 ||
	    engine_conf_weight(conf, "engine", "helo_spf_softfail", &e->helo_spf_softfail, err, errlen) != 0)
		return -1;
	return 0;
}

/* RFC 8601 2.5: authserv-id is a value (token or quoted-string); we accept a
 * token of printable ASCII without specials so it needs no quoting. */
static int load_authserv_id(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	const char *id = conf_str(conf, "engine", "authserv_id");
	char host[256];

	if (id[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			util_strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		id = host;
	}
	if (strlen(id) >= sizeof(e->authserv_id)) {
		util_errf(err, errlen, "%s: [engine] authserv_id: longer than %zu characters",
			  conf_source(conf), sizeof(e->authserv_id) - 1);
		return -1;
	}
	for (const char *p = id; *p; p++) {
		if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?=", *p) != NULL) {
			util_errf(err, errlen,
				  "%s: [engine] authserv_id: '%s' must be printable ASCII without "
				  "spaces or ()<>@,;:\\\"/[]?=",
				  conf_source(conf), id);
			return -1;
		}
	}
	util_strlcpy(e->authserv_id, id, sizeof(e->authserv_id));
	return 0;
}

static int load_limits(cr_engine *e, const cr_conf *conf)
{
	msg_limits_default(&e->limits);
	e->limits.max_scan_bytes = (size_t)conf_int(conf, "engine", "max_scan_bytes");
	e->limits.max_header_bytes = (size_t)conf_int(conf, "engine", "max_header_bytes");
	e->limits.max_depth = (unsigned)conf_int(conf, "engine", "max_depth");
	e->limits.max_parts = (unsigned)conf_int(conf, "engine", "max_parts");
	e->limits.max_urls = (unsigned)conf_int(conf, "engine", "max_urls");
	e->limits.max_addresses = (unsigned)conf_int(conf, "engine", "max_addresses");
	return 0;
}

cr_engine *engine_new(const cr_conf *conf, char *err, size_t errlen)
{
	cr_engine *e;
	const char *mode, *text;
	char derr[256];

	if (conf == NULL) {
		util_errf(err, errlen, "engine: no configuration");
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		util_errf(err, errlen, "engine: out of memory");
		return NULL;
	}
	pthread_mutex_init(&e->zone_lock, NULL);
	e->budget_ms = conf_ms(conf, "engine", "deadline");
	e->max_url_domains = (unsigned)conf_int(conf, "engine", "max_url_domains");
	mode = conf_str(conf, "engine", "fail_mode");
	if (strcmp(mode, "accept") == 0) {
		e->fail_action = ENGINE_ACCEPT;
	} else if (strcmp(mode, "tempfail") == 0) {
		e->fail_action = ENGINE_TEMPFAIL;
	} else {
		util_errf(err, errlen, "%s: [engine] fail_mode: '%s' is neither accept nor tempfail",
			  conf_source(conf), mode);
		goto fail;
	}
	text = conf_str(conf, "engine", "reject_text");
	if (strlen(text) >= sizeof(e->reject_text)) {
		util_errf(err, errlen, "%s: [engine] reject_text: longer than %zu characters",
			  conf_source(conf), sizeof(e->reject_text) - 1);
		goto fail;
	}
	util_strlcpy(e->reject_text, text, sizeof(e->reject_text));
	if (load_thresholds(e, conf, err, errlen) != 0 || load_spf_weights(e, conf, err, errlen) != 0 ||
	    load_authserv_id(e, conf, err, errlen) != 0 || load_limits(e, conf) != 0 ||
	    engine_zones_load(e, conf, err, errlen) != 0 ||
	    engine_advert_load(e, conf, err, errlen) != 0 ||
	    engine_r10_load(e, conf, err, errlen) != 0 || /* after advert: shares its DKIM */
	    engine_state_load(e, conf, err, errlen) != 0 ||
	    engine_r8_load(e, conf, err, errlen) != 0)
		goto fail;

	e->cache = dnsq_cache_new((size_t)conf_int(conf, "engine", "dns_cache_size"),
				  (uint32_t)(conf_ms(conf, "engine", "dns_cache_max_ttl") / 1000),
				  (uint32_t)(conf_ms(conf, "engine", "dns_cache_max_neg_ttl") / 1000),
				  derr, sizeof(derr));
	if (e->cache == NULL) {
		util_errf(err, errlen, "%s: [engine] dns_cache_size: %s", conf_source(conf), derr);
		goto fail;
	}
	e->dns = dnsq_ctx_new(e->cache, conf_list(conf, "engine", "dns_servers"), derr,
			      sizeof(derr));
	if (e->dns == NULL) {
		util_errf(err, errlen, "%s: [engine] dns_servers: %s", conf_source(conf), derr);
		goto fail;
	}
	if (engine_zones_dns(e, conf, err, errlen) != 0)
		goto fail;
	return e;
fail:
	engine_free(e);
	return NULL;
}

void engine_free(cr_engine *e)
{
	if (e == NULL)
		return;
	engine_advert_free(e);
	engine_state_free(e);
	engine_r8_free(e);
	engine_zones_free(e);
	dnsq_ctx_free(e->dns);
	dnsq_cache_free(e->cache);
	pthread_mutex_destroy(&e->zone_lock);
	free(e);
}

void engine_msg_limits(const cr_engine *e, struct msg_limits *lim)
{
	*lim = e->limits;
}

int64_t engine_budget_ms(const cr_engine *e)
{
	return e->budget_ms;
}

enum engine_action engine_fail_action(const cr_engine *e)
{
	return e->fail_action;
}

void engine_thresholds(const cr_engine *e, double *tag, double *quarantine, double *reject)
{
	if (tag != NULL)
		*tag = e->tag_score;
	if (quarantine != NULL)
		*quarantine = e->quarantine_score;
	if (reject != NULL)
		*reject = e->reject_score;
}

const struct engine_hit *engine_verdict_hit(const struct engine_verdict *v, const char *rule)
{
	for (size_t i = 0; i < v->nhits; i++)
		if (strcmp(v->hits[i].rule, rule) == 0)
			return &v->hits[i];
	return NULL;
}

const char *engine_action_name(enum engine_action a)
{
	switch (a) {
	case ENGINE_ACCEPT: return "accept";
	case ENGINE_TAG: return "tag";
	case ENGINE_QUARANTINE: return "quarantine";
	case ENGINE_TEMPFAIL: return "tempfail";
	case ENGINE_REJECT: return "reject";
	}
	return "?";
}

const char *engine_degraded_name(unsigned flag)
{
	switch (flag) {
	case ENGINE_DEG_DNS_TIMEOUT: return "dns_timeout";
	case ENGINE_DEG_DNS_FAILED: return "dns_failed";
	case ENGINE_DEG_ZONE_UNUSABLE: return "zone_unusable";
	case ENGINE_DEG_STORE: return "store";
	case ENGINE_DEG_PARSE_CAP: return "parse_cap";
	}
	return "?";
}

/* ---- hits ---------------------------------------------------------------------- */

/* Reasons go into headers and SMTP replies: printable ASCII only, by construction. */
void engine_reason_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

void engine_add_hit(struct engine_run *r, const char *rule, double score, const char *fmt, ...)
{
	struct engine_verdict *v = r->v;
	struct engine_hit *h;
	va_list ap;

	/* The score always counts; past ENGINE_MAX_HITS the hit is not itemised. */
	v->score += score;
	if (v->nhits >= ENGINE_MAX_HITS)
		return;
	h = &v->hits[v->nhits++];
	util_strlcpy(h->rule, rule, sizeof(h->rule));
	h->score = score;
	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
	va_end(ap);
	engine_reason_clean(h->reason);
}

/* ---- verdict text ---------------------------------------------------------------- */

/* "%.2f" without trailing zeros: 10, 1.5, -0.25. */
static void format_score(double s, char *buf, size_t len)
{
	char *p;

	if (fabs(s) < 0.005)
		s = 0;
	snprintf(buf, len, "%.2f", s);
	p = strchr(buf, '.');
	if (p == NULL)
		return;
	for (char *q = buf + strlen(buf) - 1; q > p && *q == '0'; q--)
		*q = '\0';
	if (p[1] == '\0')
		*p = '\0';
}

void engine_rules_line(const struct engine_verdict *v, char *buf, size_t len)
{
	size_t used = 0;
	char score[32];

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < v->nhits; i++) {
		int n;
		format_score(v->hits[i].score, score, sizeof(score));
		n = snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", v->hits[i].rule, score);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

/* Appends sep and item to a folded header value, folding ("\n\t": libmilter wants
 * LF without CR) at a space of the separator or of the item wherever the line would
 * pass 76 columns, so a long reason is folded too.  All or nothing: 0, or -1 (buf
 * unchanged) if it does not fit in len. */
int engine_fold_append(char *buf, size_t len, size_t *used, size_t *col, const char *sep,
		       const char *item)
{
	size_t u = *used, c = *col, seplen = strlen(sep);
	const char *w = item;
	int first = 1;

	/* the separator without its trailing space, which becomes the first gap */
	if (*used > 0 && seplen > 0) {
		size_t sl = sep[seplen - 1] == ' ' ? seplen - 1 : seplen;
		if (u + sl + 1 > len)
			goto full;
		memcpy(buf + u, sep, sl);
		u += sl;
		c += sl;
	}
	while (*w != '\0') {
		size_t wl = strcspn(w, " ");
		int gap = !(first && (*used == 0 || seplen == 0 || sep[seplen - 1] != ' '));
		/* fold before the whole item if it fits on a line of its own, else at
		 * the word that would pass the margin */
		size_t need = first && strlen(item) <= 68 ? strlen(item) : wl;
		if (u > 0 && gap && c + 1 + need > 76) {
			if (u + 2 + wl + 1 > len)
				goto full;
			memcpy(buf + u, "\n\t", 2);
			u += 2;
			c = 8;
		} else if (u > 0 && gap) {
			if (u + 1 + wl + 1 > len)
				goto full;
			buf[u++] = ' ';
			c++;
		} else if (u + wl + 1 > len) {
			goto full;
		}
		memcpy(buf + u, w, wl);
		u += wl;
		c += wl;
		w += wl;
		while (*w == ' ')
			w++;
		first = 0;
	}
	buf[u] = '\0';
	*used = u;
	*col = c;
	return 0;
full:
	buf[*used] = '\0';
	return -1;
}

/* Drops a trailing "; none" (written when SPF checked nothing) from the header. */
static void drop_none(char *buf, size_t *used, size_t *col)
{
	size_t n = strlen(buf);

	if (n >= 4 && strcmp(buf + n - 4, "none") == 0) {
		size_t k = n - 4;
		while (k > 0 && (buf[k - 1] == ' ' || buf[k - 1] == '\t' || buf[k - 1] == '\n'))
			k--;
		if (k > 0 && buf[k - 1] == ';') {
			buf[k - 1] = '\0';
			n = k - 1;
		}
	}
	*used = n;
	const char *nl = strrchr(buf, '\n');
	*col = nl ? 8 + strlen(nl + 1) - 1 : 24 + n;
}

void engine_auth_results_add(struct engine_run *r, const char *item)
{
	size_t used, col;

	drop_none(r->v->hdr_auth_results, &used, &col);
	engine_fold_append(r->v->hdr_auth_results, sizeof(r->v->hdr_auth_results), &used, &col,
			   "; ", item);
}

static void build_report(struct engine_verdict *v)
{
	size_t used = 0, col = 17; /* "X-Chanrac-Report: " */
	char item[ENGINE_RULE_MAX + ENGINE_REASON_MAX + 40], score[32];
	size_t i;

	v->hdr_report[0] = '\0';
	for (i = 0; i < v->nhits; i++) {
		format_score(v->hits[i].score, score, sizeof(score));
		snprintf(item, sizeof(item), "%s=%s (%s)", v->hits[i].rule, score,
			 v->hits[i].reason);
		if (engine_fold_append(v->hdr_report, sizeof(v->hdr_report) - 8, &used, &col, ", ",
				item) != 0)
			break;
	}
	if (i < v->nhits) /* room was kept for this */
		engine_fold_append(v->hdr_report, sizeof(v->hdr_report), &used, &col, ", ", "...");
}

static void build_score_header(const cr_engine *e, struct engine_verdict *v)
{
	char s[24], limit[24];
	double top = e->reject_score > 0       ? e->reject_score
		     : e->quarantine_score > 0 ? e->quarantine_score
					       : e->tag_score;

	format_score(v->score, s, sizeof(s));
	format_score(top, limit, sizeof(limit));
	snprintf(v->hdr_score, sizeof(v->hdr_score), "%s / %s", s, limit);
}

size_t engine_reply_sanitise(const char *in, char *out, size_t len)
{
	size_t used = 0;
	int space = 0;

	if (len == 0)
		return 0;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c > 0x7e)
			c = ' ';
		/* runs of spaces (what CR/LF and tabs became) collapse into one */
		if (c == ' ' && (space || used == 0)) {
			continue;
		}
		space = c == ' ';
		/* libmilter's smfi_setreply formats the text: a literal % is %% */
		if (c == '%') {
			if (used + 2 >= len)
				break;
			out[used++] = '%';
			out[used++] = '%';
			continue;
		}
		if (used + 1 >= len)
			break;
		out[used++] = (char)c;
	}
	while (used > 0 && out[used - 1] == ' ')
		used--;
	out[used] = '\0';
	return used;
}

/* Expands [engine] reject_text for the hit that scored most. */
static void build_reply(const cr_engine *e, struct engine_verdict *v)
{
	const struct engine_hit *top = NULL;
	const struct engine_zone *z;
	char text[1024], score[32], delist[300];
	size_t used = 0;
	const char *p;

	for (size_t i = 0; i < v->nhits; i++)
		if (top == NULL || v->hits[i].score > top->score)
			top = &v->hits[i];
	z = top != NULL ? engine_zone_of_rule(e, top->rule) : NULL;
	format_score(v->score, score, sizeof(score));
	delist[0] = '\0';
	if (z != NULL && z->delist_url[0] != '\0')
		snprintf(delist, sizeof(delist), "; to be delisted see %s", z->delist_url);
	for (p = e->reject_text; *p && used + 1 < sizeof(text);) {
		const char *val = NULL;
		size_t skip = 0;
		if (p[0] == '%' && p[1] == '{') {
			static const char *const names[] = { "rule", "reason", "score", "zone",
							     "delist_url", "delist" };
			const char *vals[6] = {
				top ? top->rule : "", top ? top->reason : "", score,
				z ? z->name : "", z ? z->delist_url : "", delist,
			};
			for (size_t i = 0; i < 6; i++) {
				size_t nl = strlen(names[i]);
				if (strncmp(p + 2, names[i], nl) == 0 && p[2 + nl] == '}') {
					val = vals[i];
					skip = nl + 3;
					break;
				}
			}
		}
		if (val != NULL) {
			used += util_strlcpy(text + used, val, sizeof(text) - used);
			if (used >= sizeof(text))
				used = sizeof(text) - 1;
			p += skip;
		} else {
			text[used++] = *p++;
		}
	}
	text[used] = '\0';
	engine_reply_sanitise(text, v->reply, sizeof(v->reply));
}

/* ---- the checks ---------------------------------------------------------------- */

static void add_parse_limit(struct engine_run *r)
{
	static const unsigned caps = MSG_F_HEADER_CAP | MSG_F_SCAN_CAP | MSG_F_DEPTH_CAP |
				     MSG_F_PARTS_CAP | MSG_F_URL_CAP | MSG_F_ADDR_CAP;
	char names[160] = "";
	size_t used = 0;
	unsigned flags;

	if (r->msg == NULL)
		return;
	flags = msg_flags(r->msg) & caps;
	if (flags == 0)
		return;
	for (unsigned bit = 1; bit != 0 && bit <= caps; bit <<= 1)
		if (flags & bit)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 used ? " " : "", msg_flag_name(bit));
	r->v->degraded |= ENGINE_DEG_PARSE_CAP;
	engine_add_hit(r, "PARSE_LIMIT", 0, "parser limit hit: %s; the rest was not scanned",
		       names);
}

/* The inbound checks (the rules of REGULATIONS.md over the message and the
 * answers of the DNS phase: DNSBLs, SPF, R1..R7, R10) and the outbound checks of
 * authenticated submission (sasl_user set: P4, R8).  Each runs after the DNS
 * phase (its lookups were queued by its plan step) on the calling thread and
 * adds hits with engine_add_hit. */
typedef void (*engine_check_fn)(struct engine_run *r);

static const engine_check_fn inbound_checks[] = {
	engine_dnsbl_score,
	engine_spf_score,
	engine_advert_score, /* sets r->adv_is / adv_advertiser for the rules after it */
	engine_optout_frequency_score, /* R7, R5: per recipient */
	engine_template_score,
	engine_r10_score, /* From once, DMARC: after SPF and DKIM */
	add_parse_limit,
	NULL,
};

static const engine_check_fn outbound_checks[] = {
	add_parse_limit,
	engine_template_score,
	engine_advert_outbound, /* no hit: advertising and its template id, for stats */
	engine_r8_score, /* R8: after the advertising detection, before the hold */
	engine_outbound_score, /* last: holds on the score so far */
	NULL,
};

static enum engine_action action_for(const cr_engine *e, double score)
{
	if (e->reject_score > 0 && score >= e->reject_score)
		return ENGINE_REJECT;
	if (e->quarantine_score > 0 && score >= e->quarantine_score)
		return ENGINE_QUARANTINE;
	if (e->tag_score > 0 && score >= e->tag_score)
		return ENGINE_TAG;
	return ENGINE_ACCEPT;
}

/* Counts the DNSBL set's outcomes: DNS_FAILED when every lookup went unanswered
 * (timeout or no server), DNS_TIMEOUT when some did. */
static void dns_health(struct engine_run *r)
{
	size_t total = 0, unanswered = 0;

	for (size_t i = 0; i < r->nlookups; i++) {
		enum dnsq_status st = dnsq_status(r->lookups[i].q);
		total++;
		unanswered += st == DNSQ_TIMEOUT || st == DNSQ_ERROR || st == DNSQ_PENDING;
	}
	for (size_t z = 0; z < r->e->nzones; z++) {
		dnsq_query *t[2] = { r->zrun[z].test_listed, r->zrun[z].test_unlisted };
		for (int k = 0; k < 2; k++) {
			if (t[k] == NULL)
				continue;
			enum dnsq_status st = dnsq_status(t[k]);
			total++;
			unanswered += st == DNSQ_TIMEOUT || st == DNSQ_ERROR || st == DNSQ_PENDING;
		}
	}
	if (r->spf_ran) {
		/* SPF answers only count when there was no DNSBL lookup at all */
		int spf_lost = r->spf_mail_from.result == SPFCHECK_TEMPERROR &&
			       (r->helo_name[0] == '\0' ||
				r->spf_helo.result == SPFCHECK_TEMPERROR);
		if (total == 0 && spf_lost)
			r->v->degraded |= ENGINE_DEG_DNS_FAILED;
		if (spf_lost)
			r->v->degraded |= ENGINE_DEG_DNS_TIMEOUT;
	}
	if (r->lookup_overflow)
		r->v->degraded |= ENGINE_DEG_DNS_TIMEOUT;
	if (total > 0 && unanswered == total)
		r->v->degraded |= ENGINE_DEG_DNS_FAILED | ENGINE_DEG_DNS_TIMEOUT;
	else if (unanswered > 0)
		r->v->degraded |= ENGINE_DEG_DNS_TIMEOUT;
}

static void finish_verdict(struct engine_run *r)
{
	struct engine_verdict *v = r->v;
	cr_engine *e = r->e;
	char rules[512];

	if (!v->allowed)
		engine_rcpt_settle(r);
	if (v->allowed) {
		v->action = ENGINE_ACCEPT;
	} else if (v->degraded & ENGINE_DEG_DNS_FAILED) {
		/* never reject on missing data */
		v->action = e->fail_action;
	} else {
		v->action = action_for(e, v->score);
	}
	if (!v->allowed)
		v->action = engine_rcpt_action(r, v->action);
	build_score_header(e, v);
	build_report(v);
	v->reply[0] = '\0';
	if (v->action == ENGINE_REJECT)
		build_reply(e, v);
	else if (v->action == ENGINE_TEMPFAIL)
		engine_reply_sanitise("Temporary failure checking the message; try again later",
				      v->reply, sizeof(v->reply));
	engine_rules_line(v, rules, sizeof(rules));
	log_debug("%s: engine: score %.2f action %s degraded %#x rules %s",
		  r->in && r->in->queue_id ? r->in->queue_id : "-", v->score,
		  engine_action_name(v->action), v->degraded, rules);
}

void engine_check(cr_engine *e, const struct engine_input *in, const cr_msg *msg,
		  int64_t deadline_ms, struct engine_verdict *v)
{
	static const struct engine_input empty_input;
	int64_t start = util_mono_ms();
	struct engine_run *r;
	struct engine_spf_job spf_job;
	int spf_started = 0;
	const engine_check_fn *checks;

	memset(v, 0, sizeof(*v));
	if (in == NULL)
		in = &empty_input;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		struct engine_run tiny = { .e = e, .in = in, .v = v };
		log_err("%s: engine: out of memory", in->queue_id ? in->queue_id : "-");
		v->degraded |= ENGINE_DEG_DNS_FAILED;
		finish_verdict(&tiny);
		v->elapsed_ms = util_mono_ms() - start;
		return;
	}
	r->e = e;
	r->in = in;
	r->msg = msg;
	r->v = v;
	r->deadline_ms = deadline_ms;

	if (in->sasl_user != NULL && in->sasl_user[0] != '\0') {
		/* authenticated submission: the client IP is a user's, not a relay's;
		 * none of the inbound checks apply */
		for (checks = outbound_checks; *checks; checks++)
			(*checks)(r);
		snprintf(v->hdr_auth_results, sizeof(v->hdr_auth_results), "%s; none",
			 e->authserv_id);
		goto done;
	}

	r->set = dnsq_set_new(e->dns, deadline_ms);
	if (r->set == NULL) {
		log_err("%s: engine: out of memory", in->queue_id ? in->queue_id : "-");
		v->degraded |= ENGINE_DEG_DNS_FAILED;
	} else {
		engine_dnsbl_plan(r);
		engine_dkim_plan(r);
		engine_r10_plan(r);
		spf_started = engine_spf_start(r, &spf_job);
		if (r->nlookups > 0 || e->nzones > 0 || r->dkim_planned > 0 ||
		    r->r10.planned > 0) {
			if (dnsq_run(r->set) < 0)
				log_warn("%s: engine: DNS: %s", in->queue_id ? in->queue_id : "-",
					 dnsq_set_error(r->set));
		}
		/* while SPF still runs: the TXT of listed names, under the same deadline */
		engine_dnsbl_health(r);
		engine_dnsbl_txt(r);
		engine_spf_finish(r, &spf_job, spf_started);
		dns_health(r);
	}
	engine_spf_auth_results(r);
	engine_dkim_verify(r);
	if (r->set != NULL && engine_dnsbl_allow(r)) {
		v->allowed = 1;
		goto done;
	}
	for (checks = inbound_checks; *checks; checks++)
		(*checks)(r);
done:
	finish_verdict(r);
	dnsq_set_free(r->set);
	free(r->adv_folded);
	free(r);
	v->elapsed_ms = util_mono_ms() - start;
}
