/* engine_dnsbl: the DNSBL part of the engine — [dnsbl NAME] zones, the lookups of a
 * message (client IP; registered domains of HELO, MAIL FROM, From: and body URLs,
 * cut by the Public Suffix List like SURBL/URIBL), the RFC 5782 section 5
 * self-test, zone health (error codes, answers outside 127/8) and scoring. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

/* ---- configuration ------------------------------------------------------------- */

static void default_rule(const char *prefix, const char *zone, char *out, size_t len)
{
	size_t used = util_strlcpy(out, prefix, len);

	for (const char *p = zone; *p && *p != '.' && used + 1 < len; p++)
		out[used++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	out[used] = '\0';
}

static int valid_rule(const char *rule)
{
	size_t n = strlen(rule);

	if (n == 0 || n > 24)
		return 0;
	for (const char *p = rule; *p; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return 0;
	return 1;
}

static int parse_codes(struct engine_zone *z, const cr_conf *conf, const char *sec, char *err,
		       size_t errlen)
{
	const char *const *words = conf_list(conf, sec, "codes");

	for (; words != NULL && *words != NULL; words++) {
		const char *eq = strchr(*words, '=');
		char ip[64];
		struct cr_addr a;
		uint32_t v4;

		if (eq == NULL || (size_t)(eq - *words) >= sizeof(ip)) {
			util_errf(err, errlen, "%s: [%s] codes: '%s' is not ADDRESS=WEIGHT",
				  conf_source(conf), sec, *words);
			return -1;
		}
		memcpy(ip, *words, (size_t)(eq - *words));
		ip[eq - *words] = '\0';
		if (addr_parse(ip, &a, NULL, 0) != 0 || !addr_is_v4(&a) ||
		    ((v4 = addr_to_v4(&a)) >> 24) != 127) {
			util_errf(err, errlen, "%s: [%s] codes: '%s' is not an address in 127/8",
				  conf_source(conf), sec, ip);
			return -1;
		}
		if (z->ncodes >= ENGINE_MAX_CODES) {
			util_errf(err, errlen, "%s: [%s] codes: more than %d codes",
				  conf_source(conf), sec, ENGINE_MAX_CODES);
			return -1;
		}
		if (engine_parse_weight(eq + 1, &z->codes[z->ncodes].weight) != 0) {
			util_errf(err, errlen, "%s: [%s] codes: weight '%s' of %s is not a number "
				  "in -1000..1000", conf_source(conf), sec, eq + 1, ip);
			return -1;
		}
		z->codes[z->ncodes++].code = v4;
	}
	return 0;
}

static int parse_check(struct engine_zone *z, const cr_conf *conf, const char *sec, char *err,
		       size_t errlen)
{
	static const struct {
		const char *name;
		unsigned bit;
	} ids[] = {
		{ "helo", ENGINE_ID_HELO },
		{ "mail_from", ENGINE_ID_MAIL_FROM },
		{ "from", ENGINE_ID_FROM },
		{ "urls", ENGINE_ID_URL },
	};
	const char *const *words = conf_list(conf, sec, "check");

	z->check = 0;
	for (; words != NULL && *words != NULL; words++) {
		size_t i;
		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			if (strcmp(*words, ids[i].name) == 0)
				break;
		if (i == sizeof(ids) / sizeof(ids[0])) {
			util_errf(err, errlen, "%s: [%s] check: unknown identity '%s' (helo, "
				  "mail_from, from, urls)", conf_source(conf), sec, *words);
			return -1;
		}
		z->check |= ids[i].bit;
	}
	/* an allow zone vouches for a sender: only the SPF-verified MAIL FROM domain */
	if (z->allow)
		z->check = ENGINE_ID_MAIL_FROM;
	return 0;
}

int engine_zones_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	size_t n = conf_named_count(conf, "dnsbl");

	if (n > ENGINE_MAX_ZONES) {
		util_errf(err, errlen, "%s: %zu [dnsbl] sections, at most %d", conf_source(conf),
			  n, ENGINE_MAX_ZONES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct engine_zone *z = &e->zones[i];
		const char *sec = conf_named_section(conf, "dnsbl", i);
		const char *arg = conf_named_arg(conf, "dnsbl", i);
		const char *type = conf_str(conf, sec, "type");
		const char *rule = conf_str(conf, sec, "rule");
		const char *url = conf_str(conf, sec, "delist_url");
		char derr[200];

		if (dname_normalise(arg, z->name, sizeof(z->name), derr, sizeof(derr)) != 0 ||
		    strchr(z->name, '.') == NULL) {
			util_errf(err, errlen, "%s: [%s]: '%s' is not a DNS zone", conf_source(conf),
				  sec, arg);
			return -1;
		}
		if (strcmp(type, "ip") == 0) {
			z->is_domain = 0;
		} else if (strcmp(type, "domain") == 0) {
			z->is_domain = 1;
		} else {
			util_errf(err, errlen, "%s: [%s] type: '%s' is neither ip nor domain",
				  conf_source(conf), sec, type);
			return -1;
		}
		if (rule[0] == '\0')
			default_rule(z->is_domain ? "DBL_" : "RBL_", z->name, z->rule,
				     sizeof(z->rule));
		else
			util_strlcpy(z->rule, rule, sizeof(z->rule));
		if (!valid_rule(z->rule)) {
			util_errf(err, errlen, "%s: [%s] rule: '%s' must be 1..24 of A-Z 0-9 _",
				  conf_source(conf), sec, z->rule);
			return -1;
		}
		if (engine_conf_weight(conf, sec, "weight", &z->weight, err, errlen) != 0)
			return -1;
		z->allow = conf_bool(conf, sec, "allow");
		z->selftest = conf_bool(conf, sec, "selftest");
		if (parse_codes(z, conf, sec, err, errlen) != 0 ||
		    parse_check(z, conf, sec, err, errlen) != 0)
			return -1;
		if (strlen(url) >= sizeof(z->delist_url)) {
			util_errf(err, errlen, "%s: [%s] delist_url: longer than %zu characters",
				  conf_source(conf), sec, sizeof(z->delist_url) - 1);
			return -1;
		}
		for (const char *p = url; *p; p++) {
			if ((unsigned char)*p <= ' ' || (unsigned char)*p > 0x7e) {
				util_errf(err, errlen, "%s: [%s] delist_url: '%s' has a space or a "
					  "non-ASCII character", conf_source(conf), sec, url);
				return -1;
			}
		}
		util_strlcpy(z->delist_url, url, sizeof(z->delist_url));
		z->txt = conf_bool(conf, sec, "txt");
		for (size_t j = 0; j < i; j++) {
			if (strcmp(e->zones[j].name, z->name) == 0) {
				util_errf(err, errlen, "%s: [%s]: zone %s configured twice",
					  conf_source(conf), sec, z->name);
				return -1;
			}
		}
		e->nzones++;
	}
	return 0;
}

/* A zone with its own dns_servers gets its own context over the engine's cache
 * (keyed by name and type, and DNSBL names are the zone's own). */
int engine_zones_dns(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < e->nzones; i++) {
		const char *sec = conf_named_section(conf, "dnsbl", i);
		const char *const *servers = conf_list(conf, sec, "dns_servers");
		char derr[256];

		if (servers == NULL || servers[0] == NULL)
			continue;
		e->zones[i].dns = dnsq_ctx_new(e->cache, servers, derr, sizeof(derr));
		if (e->zones[i].dns == NULL) {
			util_errf(err, errlen, "%s: [%s] dns_servers: %s", conf_source(conf), sec,
				  derr);
			return -1;
		}
	}
	return 0;
}

void engine_zones_free(cr_engine *e)
{
	for (size_t i = 0; i < ENGINE_MAX_ZONES; i++) {
		dnsq_ctx_free(e->zones[i].dns);
		e->zones[i].dns = NULL;
	}
}

const struct engine_zone *engine_zone_of_rule(const cr_engine *e, const char *rule)
{
	for (size_t i = 0; i < e->nzones; i++)
		if (strcmp(e->zones[i].rule, rule) == 0)
			return &e->zones[i];
	return NULL;
}

/* ---- planning the lookups -------------------------------------------------------- */

/* The registered domain of a host name, or -1 (not a name, an address literal, a
 * single label, or itself a public suffix). */
static int registered_of(const char *host, char *out, size_t len)
{
	char norm[DNAME_MAX + 1];
	struct cr_addr a;

	if (host == NULL || host[0] == '\0' || host[0] == '[' || strchr(host, ':') != NULL)
		return -1;
	if (addr_parse(host, &a, NULL, 0) == 0)
		return -1;
	if (dname_normalise(host, norm, sizeof(norm), NULL, 0) != 0 || strchr(norm, '.') == NULL)
		return -1;
	if (dname_registered(norm, out, len) != 0)
		return -1;
	return 0;
}

static struct engine_domain *domain_add(struct engine_run *r, const char *name, unsigned ident)
{
	for (size_t i = 0; i < r->ndomains; i++) {
		if (strcmp(r->domains[i].name, name) == 0) {
			r->domains[i].idents |= ident;
			return &r->domains[i];
		}
	}
	if (r->ndomains >= sizeof(r->domains) / sizeof(r->domains[0]))
		return NULL;
	util_strlcpy(r->domains[r->ndomains].name, name, DNAME_MAX + 1);
	r->domains[r->ndomains].idents = ident;
	return &r->domains[r->ndomains++];
}

static void collect_domains(struct engine_run *r)
{
	const struct engine_input *in = r->in;
	char reg[DNAME_MAX + 1];
	const char *at;
	unsigned urls = 0;

	if (registered_of(in->helo, reg, sizeof(reg)) == 0)
		domain_add(r, reg, ENGINE_ID_HELO);
	if (in->mail_from != NULL && (at = strrchr(in->mail_from, '@')) != NULL &&
	    registered_of(at + 1, reg, sizeof(reg)) == 0) {
		domain_add(r, reg, ENGINE_ID_MAIL_FROM);
		util_strlcpy(r->mail_from_domain, reg, sizeof(r->mail_from_domain));
	}
	if (r->msg == NULL)
		return;
	if (registered_of(msg_from_domain(r->msg), reg, sizeof(reg)) == 0)
		domain_add(r, reg, ENGINE_ID_FROM);
	for (size_t i = 0; i < msg_url_count(r->msg) && urls < r->e->max_url_domains; i++) {
		const struct msg_url *u = msg_url_at(r->msg, i);
		size_t before = r->ndomains;
		if (u == NULL || registered_of(u->host, reg, sizeof(reg)) != 0)
			continue;
		if (domain_add(r, reg, ENGINE_ID_URL) != NULL && r->ndomains > before)
			urls++;
	}
}

/* The A lookup of an address or a domain in a zone, through the zone's servers. */
static dnsq_query *zone_add(struct engine_run *r, const struct engine_zone *z,
			    const struct cr_addr *ip, const char *domain)
{
	char name[DNAME_MAX + 1];
	int n = ip != NULL ? dnsq_dnsbl_ip_name(ip, z->name, name, sizeof(name))
			   : dnsq_dnsbl_domain_name(domain, z->name, name, sizeof(name));

	if (n < 0)
		return NULL;
	return dnsq_add_via(r->set, z->dns, name, DNSQ_TYPE_A);
}

static void lookup_add(struct engine_run *r, dnsq_query *q, size_t zone, unsigned idents,
		       const char *key)
{
	struct engine_lookup *l;

	if (q == NULL || r->nlookups >= DNSQ_SET_MAX_QUERIES) {
		r->lookup_overflow = 1;
		return;
	}
	l = &r->lookups[r->nlookups++];
	l->q = q;
	l->zone = zone;
	l->idents = idents;
	util_strlcpy(l->key, key, sizeof(l->key));
}

void engine_dnsbl_plan(struct engine_run *r)
{
	const cr_engine *e = r->e;
	int need_domains = 0;

	for (size_t z = 0; z < e->nzones; z++)
		need_domains |= e->zones[z].is_domain;
	if (need_domains)
		collect_domains(r);

	for (size_t zi = 0; zi < e->nzones; zi++) {
		const struct engine_zone *z = &e->zones[zi];
		struct engine_zone_run *zr = &r->zrun[zi];
		size_t before = r->nlookups;

		if (!z->is_domain) {
			char ip[ADDR_TEXT_MAX];
			if (!r->in->have_client)
				continue;
			addr_format(&r->in->client, ip, sizeof(ip));
			lookup_add(r, zone_add(r, z, &r->in->client, NULL), zi, 0, ip);
		} else {
			for (size_t d = 0; d < r->ndomains; d++) {
				unsigned ids = r->domains[d].idents & z->check;
				if (ids == 0)
					continue;
				lookup_add(r, zone_add(r, z, NULL, r->domains[d].name), zi, ids,
					   r->domains[d].name);
			}
		}
		if (!z->selftest || r->nlookups == before)
			continue;
		/* RFC 5782 section 5: the test points, in the same set (and cache) */
		if (!z->is_domain) {
			struct cr_addr t;
			addr_from_v4(&t, 0x7f000002u);
			zr->test_listed = zone_add(r, z, &t, NULL);
			addr_from_v4(&t, 0x7f000001u);
			zr->test_unlisted = zone_add(r, z, &t, NULL);
		} else {
			zr->test_listed = zone_add(r, z, NULL, "test");
			zr->test_unlisted = zone_add(r, z, NULL, "invalid");
		}
		if (zr->test_listed == NULL || zr->test_unlisted == NULL)
			r->lookup_overflow = 1;
	}
}

/* ---- answers --------------------------------------------------------------------- */

enum answer {
	ANS_NONE,      /* no usable answer: timeout, SERVFAIL, other rcodes */
	ANS_UNLISTED,  /* NXDOMAIN, or no A record */
	ANS_LISTED,    /* A records, all valid RFC 5782 codes */
	ANS_BAD,       /* an error code (127.255.255.x) or an answer outside 127/8 */
};

static enum answer classify(const dnsq_query *q, uint32_t *bad)
{
	size_t n;
	uint32_t a;

	if (q == NULL)
		return ANS_NONE;
	switch (dnsq_status(q)) {
	case DNSQ_NXDOMAIN:
		return ANS_UNLISTED;
	case DNSQ_NOERROR:
		break;
	default:
		return ANS_NONE;
	}
	n = dnsq_count(q);
	if (n == 0)
		return ANS_UNLISTED;
	for (size_t i = 0; i < n; i++) {
		if (dnsq_a(q, i, &a) != 0)
			continue;
		/* Spamhaus-style error answers (127.255.255.x) and anything outside 127/8
		 * (a resolver's NXDOMAIN redirection, a zone that went away) */
		if ((a >> 24) != 127 || (a & 0xffffff00u) == 0x7fffff00u) {
			*bad = a;
			return ANS_BAD;
		}
	}
	return ANS_LISTED;
}

static void ipv4_text(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void mark_unusable(struct engine_run *r, size_t zi, const char *why)
{
	struct engine_zone_run *zr = &r->zrun[zi];
	struct engine_zone *z = &r->e->zones[zi];
	int64_t now = util_mono_ms();
	int warn = 0;

	if (zr->unusable)
		return;
	zr->unusable = 1;
	util_strlcpy(zr->why, why, sizeof(zr->why));
	engine_reason_clean(zr->why);
	r->v->degraded |= ENGINE_DEG_ZONE_UNUSABLE;
	pthread_mutex_lock(&r->e->zone_lock);
	if (z->last_warn_ms == 0 || now - z->last_warn_ms >= ENGINE_WARN_INTERVAL_MS) {
		z->last_warn_ms = now;
		warn = 1;
	}
	pthread_mutex_unlock(&r->e->zone_lock);
	if (warn)
		log_warn("%s: engine: zone %s is unusable, its answers are ignored: %s "
			 "(logged at most once a minute)",
			 r->in->queue_id ? r->in->queue_id : "-", z->name, zr->why);
}

/* Why an answer makes a zone unusable: "answered 127.255.255.254 (error code) for
 * 192.0.2.7 in bl.test". */
static void bad_answer(struct engine_run *r, size_t zi, uint32_t bad, const char *key)
{
	char text[20], why[160];

	ipv4_text(bad, text, sizeof(text));
	snprintf(why, sizeof(why), "%s answered %s (%s) for %s", r->e->zones[zi].name, text,
		 (bad >> 24) != 127 ? "outside 127/8" : "error code", key);
	mark_unusable(r, zi, why);
}

void engine_dnsbl_health(struct engine_run *r)
{
	const cr_engine *e = r->e;
	char why[160];
	uint32_t bad = 0;

	for (size_t zi = 0; zi < e->nzones; zi++) {
		const struct engine_zone *z = &e->zones[zi];
		struct engine_zone_run *zr = &r->zrun[zi];
		const char *pos = z->is_domain ? "TEST" : "127.0.0.2";
		const char *neg = z->is_domain ? "INVALID" : "127.0.0.1";
		enum answer a;

		/* a test point that timed out proves nothing either way */
		if (zr->test_listed != NULL) {
			a = classify(zr->test_listed, &bad);
			if (a == ANS_UNLISTED) {
				snprintf(why, sizeof(why), "%s failed its RFC 5782 self-test: %s is "
					 "not listed", z->name, pos);
				mark_unusable(r, zi, why);
			} else if (a == ANS_BAD) {
				bad_answer(r, zi, bad, pos);
			}
		}
		if (zr->test_unlisted != NULL) {
			a = classify(zr->test_unlisted, &bad);
			if (a == ANS_LISTED) {
				snprintf(why, sizeof(why), "%s failed its RFC 5782 self-test: %s is "
					 "listed", z->name, neg);
				mark_unusable(r, zi, why);
			} else if (a == ANS_BAD) {
				bad_answer(r, zi, bad, neg);
			}
		}
		for (size_t i = 0; i < r->nlookups; i++)
			if (r->lookups[i].zone == zi && classify(r->lookups[i].q, &bad) == ANS_BAD)
				bad_answer(r, zi, bad, r->lookups[i].key);
	}
}

/* Only names a usable zone lists get their TXT asked (RFC 5782 2.1: the TXT says
 * why), through the zone's servers; an unanswered TXT changes nothing. */
void engine_dnsbl_txt(struct engine_run *r)
{
	const cr_engine *e = r->e;
	size_t asked = 0;
	uint32_t bad;

	for (size_t i = 0; i < r->nlookups; i++) {
		struct engine_lookup *l = &r->lookups[i];
		const struct engine_zone *z = &e->zones[l->zone];
		if (!z->txt || z->allow || r->zrun[l->zone].unusable ||
		    classify(l->q, &bad) != ANS_LISTED)
			continue;
		l->txt = dnsq_add_via(r->set, z->dns, dnsq_qname(l->q), DNSQ_TYPE_TXT);
		asked += l->txt != NULL;
	}
	if (asked > 0 && dnsq_run(r->set) < 0)
		log_warn("%s: engine: DNS (TXT): %s", r->in->queue_id ? r->in->queue_id : "-",
			 dnsq_set_error(r->set));
}

/* ": TEXT" from a listing's TXT records for its reason, "" if none: printable ASCII,
 * controls (CR, LF) as spaces, runs of spaces as one, records joined by "; ", at
 * most ENGINE_TXT_MAX bytes.  engine_reply_sanitise escapes % for the reply. */
#define ENGINE_TXT_MAX 160
static void txt_reason(const dnsq_query *q, char *out, size_t len)
{
	char rec[1024];
	size_t used = 0;

	out[0] = '\0';
	if (q == NULL || dnsq_status(q) != DNSQ_NOERROR)
		return;
	if (len > ENGINE_TXT_MAX + 1)
		len = ENGINE_TXT_MAX + 1;
	for (size_t i = 0; i < dnsq_count(q) && used + 3 < len; i++) {
		size_t start = used;
		int space = 1; /* drops leading spaces */
		if (dnsq_txt(q, i, rec, sizeof(rec)) < 0)
			continue;
		memcpy(out + used, used ? "; " : ": ", 2);
		used += 2;
		for (const char *p = rec; *p && used + 1 < len; p++) {
			unsigned char c = (unsigned char)*p;
			c = c < 0x20 || c == 0x7f ? ' ' : c > 0x7e ? '?' : c;
			if (c == ' ' && space)
				continue;
			space = c == ' ';
			out[used++] = (char)c;
		}
		while (used > start + 2 && out[used - 1] == ' ')
			used--;
		if (used == start + 2) /* nothing printable */
			used = start;
		out[used] = '\0';
	}
}

/* Identity names of a domain lookup: "helo,mail_from". */
static void ident_names(unsigned ids, char *buf, size_t len)
{
	static const char *const names[] = { "helo", "mail_from", "from", "url" };
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (ids & (1u << i))
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 names[i]);
}

/* The listing's score: the highest weight among its A records; codes[] first. */
static double listing_score(const struct engine_zone *z, const dnsq_query *q, char *codes,
			    size_t len)
{
	double best = 0;
	int have = 0;
	size_t used = 0;
	uint32_t a;

	codes[0] = '\0';
	for (size_t i = 0; i < dnsq_count(q); i++) {
		double w = z->weight;
		char t[20];
		if (dnsq_a(q, i, &a) != 0)
			continue;
		for (size_t c = 0; c < z->ncodes; c++)
			if (z->codes[c].code == a)
				w = z->codes[c].weight;
		if (!have || w > best)
			best = w;
		have = 1;
		ipv4_text(a, t, sizeof(t));
		if (i < 4 && used + strlen(t) + 2 < len)
			used += (size_t)snprintf(codes + used, len - used, "%s%s", used ? " " : "", t);
	}
	return best;
}

int engine_dnsbl_allow(struct engine_run *r)
{
	const cr_engine *e = r->e;
	uint32_t bad;

	for (size_t i = 0; i < r->nlookups; i++) {
		const struct engine_lookup *l = &r->lookups[i];
		const struct engine_zone *z = &e->zones[l->zone];
		if (!z->allow || r->zrun[l->zone].unusable || classify(l->q, &bad) != ANS_LISTED)
			continue;
		if (!z->is_domain) {
			engine_add_hit(r, "ALLOW", 0, "%s listed in allow zone %s", l->key, z->name);
			return 1;
		}
		/* a domain is vouched for only when SPF passed for the MAIL FROM */
		if ((l->idents & ENGINE_ID_MAIL_FROM) && r->spf_mail_from_checked &&
		    r->spf_mail_from.result == SPFCHECK_PASS) {
			engine_add_hit(r, "ALLOW", 0, "mail from %s (SPF pass) listed in allow zone %s",
				       l->key, z->name);
			return 1;
		}
	}
	return 0;
}

void engine_dnsbl_score(struct engine_run *r)
{
	const cr_engine *e = r->e;
	char codes[80], ids[48], txt[ENGINE_TXT_MAX + 1];
	uint32_t bad;

	for (size_t zi = 0; zi < e->nzones; zi++) {
		const struct engine_zone *z = &e->zones[zi];
		if (r->zrun[zi].unusable && !z->allow)
			engine_add_hit(r, "ZONE_UNUSABLE", 0, "%s", r->zrun[zi].why);
	}
	for (size_t i = 0; i < r->nlookups; i++) {
		const struct engine_lookup *l = &r->lookups[i];
		const struct engine_zone *z = &e->zones[l->zone];
		double score;
		if (z->allow || r->zrun[l->zone].unusable || classify(l->q, &bad) != ANS_LISTED)
			continue;
		score = listing_score(z, l->q, codes, sizeof(codes));
		txt_reason(l->txt, txt, sizeof(txt));
		if (!z->is_domain) {
			engine_add_hit(r, z->rule, score, "%s listed in %s (%s)%s", l->key, z->name,
				       codes, txt);
		} else {
			ident_names(l->idents, ids, sizeof(ids));
			engine_add_hit(r, z->rule, score, "%s (%s) listed in %s (%s)%s", l->key, ids,
				       z->name, codes, txt);
		}
	}
}
