/* engine_r10: rule R10 of REGULATIONS.md (sender not hidden or forged) on inbound
 * mail — the From field present exactly once (RFC 5322 3.6) and DMARC (RFC 7489):
 * the From domain aligned with a passing SPF MAIL FROM or DKIM d= identity, else
 * scored by the domain's published policy — and the dmarc= part of
 * Authentication-Results (RFC 7489 11.2, RFC 8601). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "log.h"
#include "util.h"

enum r10_policy { R10_P_NONE = 0, R10_P_QUARANTINE, R10_P_REJECT };

static const char *const policy_names[] = { "none", "quarantine", "reject" };

int engine_r10_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	char derr[200];

	e->r10.enabled = conf_bool(conf, "r10", "enabled");
	if (engine_conf_weight(conf, "r10", "from_count", &e->r10.w_from_count, err, errlen) != 0 ||
	    engine_conf_weight(conf, "r10", "dmarc_reject", &e->r10.w_reject, err, errlen) != 0 ||
	    engine_conf_weight(conf, "r10", "dmarc_quarantine", &e->r10.w_quarantine, err,
			       errlen) != 0 ||
	    engine_conf_weight(conf, "r10", "unaligned", &e->r10.w_unaligned, err, errlen) != 0)
		return -1;
	/* DMARC needs the DKIM results of all mail, whatever [advert] dkim says; the
	 * handle is shared with the advertising rules (engine_advert_free frees it). */
	if (e->r10.enabled && e->dkim == NULL) {
		e->dkim = dkimcheck_new(derr, sizeof(derr));
		if (e->dkim == NULL) {
			util_errf(err, errlen, "%s: [r10] enabled: DKIM: %s", conf_source(conf), derr);
			return -1;
		}
	}
	return 0;
}

/* The From domain and its policy lookups: _dmarc.<From domain> and, for a From
 * below its organisational domain, _dmarc.<organisational domain> (RFC 7489
 * 6.6.3's fallback), both queued now so the fallback costs no second round. */
void engine_r10_plan(struct engine_run *r)
{
	struct engine_r10_run *x = &r->r10;
	const char *from;
	char qname[DNAME_MAX + 16];

	memset(x, 0, sizeof(*x));
	if (!r->e->r10.enabled || r->msg == NULL || r->set == NULL ||
	    msg_header_count(r->msg, "From") != 1)
		return;
	from = msg_from_domain(r->msg);
	if (from == NULL || dname_normalise(from, x->from, sizeof(x->from), NULL, 0) != 0 ||
	    strchr(x->from, '.') == NULL) {
		x->from[0] = '\0';
		return;
	}
	if (dname_registered(x->from, x->org, sizeof(x->org)) != 0)
		util_strlcpy(x->org, x->from, sizeof(x->org));
	snprintf(qname, sizeof(qname), "_dmarc.%s", x->from);
	x->q_from = dnsq_add(r->set, qname, DNSQ_TYPE_TXT);
	if (x->q_from == NULL) {
		x->from[0] = '\0'; /* a name too long for _dmarc., or a full set: no DMARC */
		return;
	}
	if (strcmp(x->org, x->from) != 0) {
		snprintf(qname, sizeof(qname), "_dmarc.%s", x->org);
		x->q_org = dnsq_add(r->set, qname, DNSQ_TYPE_TXT);
	}
	x->planned = 1 + (x->q_org != NULL);
}

struct r10_policy_rec {
	enum r10_policy p, sp;
	int have_sp;
	int strict_spf, strict_dkim; /* aspf=s, adkim=s */
};

/* Parses one TXT record: -1 if it is not a DMARC record (its first tag is not
 * v=DMARC1, RFC 7489 6.3), 0 if it is one without a valid p= (6.6.3 step 6: no
 * DMARC processing), 1 with a policy. */
static int parse_record(const char *txt, struct r10_policy_rec *out)
{
	char buf[1024], *save = NULL, *tag;
	int first = 1, have_p = 0;

	memset(out, 0, sizeof(*out));
	util_strlcpy(buf, txt, sizeof(buf));
	for (tag = strtok_r(buf, ";", &save); tag != NULL; tag = strtok_r(NULL, ";", &save)) {
		char *eq, *name, *val, *end;

		while (*tag == ' ' || *tag == '\t')
			tag++;
		if (*tag == '\0')
			continue;
		eq = strchr(tag, '=');
		if (eq == NULL) {
			if (first)
				return -1;
			continue; /* not a tag: ignored */
		}
		name = tag;
		for (end = eq; end > name && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		for (end = val + strlen(val); end > val && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		if (first) {
			if (strcmp(name, "v") != 0 || strcmp(val, "DMARC1") != 0)
				return -1;
			first = 0;
			continue;
		}
		if (strcasecmp(name, "p") == 0 || strcasecmp(name, "sp") == 0) {
			enum r10_policy pol;
			if (strcasecmp(val, "none") == 0)
				pol = R10_P_NONE;
			else if (strcasecmp(val, "quarantine") == 0)
				pol = R10_P_QUARANTINE;
			else if (strcasecmp(val, "reject") == 0)
				pol = R10_P_REJECT;
			else
				continue; /* an unknown value: the tag is ignored */
			if (strcasecmp(name, "p") == 0) {
				out->p = pol;
				have_p = 1;
			} else {
				out->sp = pol;
				out->have_sp = 1;
			}
		} else if (strcasecmp(name, "aspf") == 0) {
			out->strict_spf = strcasecmp(val, "s") == 0;
		} else if (strcasecmp(name, "adkim") == 0) {
			out->strict_dkim = strcasecmp(val, "s") == 0;
		}
	}
	return have_p;
}

/* FOUND: one record with a policy; ABSENT: no DMARC record (try the
 * organisational domain); MANY: several records, INVALID: one without a valid
 * p= (no DMARC processing, RFC 7489 6.6.3); DNSFAIL: no answer. */
enum r10_lookup { R10_FOUND, R10_ABSENT, R10_MANY, R10_INVALID, R10_DNSFAIL };

static enum r10_lookup read_policy(const dnsq_query *q, struct r10_policy_rec *out)
{
	enum dnsq_status st = dnsq_status(q);
	size_t found = 0;
	int rc = -1;
	char txt[1024];

	if (st == DNSQ_NXDOMAIN)
		return R10_ABSENT;
	if (st != DNSQ_NOERROR)
		return R10_DNSFAIL;
	for (size_t i = 0; i < dnsq_count(q); i++) {
		struct r10_policy_rec rec;
		int k;
		if (dnsq_txt(q, i, txt, sizeof(txt)) < 0 || (k = parse_record(txt, &rec)) < 0)
			continue;
		if (++found == 1) {
			rc = k;
			*out = rec;
		}
	}
	if (found == 0)
		return R10_ABSENT;
	if (found > 1)
		return R10_MANY;
	return rc == 1 ? R10_FOUND : R10_INVALID;
}

/* Relaxed alignment: the same organisational domain; strict: the same name. */
static int aligned(const char *ident, const char *from, const char *from_org, int strict)
{
	char norm[DNAME_MAX + 1], org[DNAME_MAX + 1];

	if (ident == NULL || ident[0] == '\0' ||
	    dname_normalise(ident, norm, sizeof(norm), NULL, 0) != 0)
		return 0;
	if (strict)
		return strcmp(norm, from) == 0;
	if (dname_registered(norm, org, sizeof(org)) != 0)
		util_strlcpy(org, norm, sizeof(org));
	return strcmp(org, from_org) == 0;
}

/* What the SPF and DKIM identities said, for the reason: "SPF fail for x.vn,
 * DKIM pass d=esp.vn". */
static void describe_identities(const struct engine_run *r, char *buf, size_t len)
{
	const struct dkimcheck_sig *shown = NULL;
	int n;

	if (r->spf_ran && r->spf_mail_from_checked && r->spf_mail_from_domain[0] != '\0')
		n = snprintf(buf, len, "SPF %s for %s", spfcheck_result_name(r->spf_mail_from.result),
			     r->spf_mail_from_domain);
	else
		n = snprintf(buf, len, "no SPF result");
	if (n < 0 || (size_t)n >= len)
		return;
	for (size_t i = 0; i < r->dkim.nsigs && shown == NULL; i++)
		if (r->dkim.sigs[i].result == DKIMCHECK_PASS)
			shown = &r->dkim.sigs[i];
	if (shown == NULL && r->dkim.nsigs > 0)
		shown = &r->dkim.sigs[0];
	if (shown != NULL)
		snprintf(buf + n, len - (size_t)n, ", DKIM %s d=%s",
			 dkimcheck_result_name(shown->result), shown->domain);
	else
		snprintf(buf + n, len - (size_t)n, ", no DKIM signature");
}

static void score_dmarc(struct engine_run *r)
{
	const struct engine_r10_run *x = &r->r10;
	const struct engine_r10_conf *c = &r->e->r10;
	struct r10_policy_rec rec;
	enum r10_lookup found;
	enum r10_policy pol;
	const char *where = x->from;
	int spf_ok, dkim_ok = 0, temp = 0;
	char item[DNAME_MAX + 80], ids[DNAME_MAX * 2 + 80];
	double w;

	if (x->from[0] == '\0' || x->q_from == NULL)
		return;
	found = read_policy(x->q_from, &rec);
	if (found == R10_ABSENT && x->q_org != NULL) {
		where = x->org;
		found = read_policy(x->q_org, &rec);
	}
	if (found == R10_DNSFAIL) {
		/* no policy known: nothing scored, like any lookup lost */
		r->v->degraded |= ENGINE_DEG_DNS_TIMEOUT;
		snprintf(item, sizeof(item), "dmarc=temperror (policy lookup failed) header.from=%s",
			 x->from);
		engine_auth_results_add(r, item);
		return;
	}
	if (found != R10_FOUND)
		memset(&rec, 0, sizeof(rec));
	/* RFC 7489 6.3: sp= applies to subdomains when the policy came from the
	 * organisational domain */
	pol = where == x->org && rec.have_sp ? rec.sp : rec.p;

	spf_ok = r->spf_ran && r->spf_mail_from_checked &&
		 r->spf_mail_from.result == SPFCHECK_PASS &&
		 aligned(r->spf_mail_from_domain, x->from, x->org, rec.strict_spf);
	temp = r->spf_ran && r->spf_mail_from_checked &&
	       r->spf_mail_from.result == SPFCHECK_TEMPERROR;
	for (size_t i = 0; i < r->dkim.nsigs; i++) {
		const struct dkimcheck_sig *s = &r->dkim.sigs[i];
		if (s->result == DKIMCHECK_PASS &&
		    aligned(s->domain, x->from, x->org, rec.strict_dkim))
			dkim_ok = 1;
		temp |= s->result == DKIMCHECK_TEMPERROR;
	}
	if (spf_ok || dkim_ok) {
		if (found == R10_FOUND)
			snprintf(item, sizeof(item), "dmarc=pass (p=%s) header.from=%s",
				 policy_names[pol], x->from);
		else
			snprintf(item, sizeof(item), "dmarc=none header.from=%s", x->from);
		engine_auth_results_add(r, item);
		return;
	}
	describe_identities(r, ids, sizeof(ids));
	if (found != R10_FOUND) {
		snprintf(item, sizeof(item), "dmarc=none header.from=%s", x->from);
		engine_auth_results_add(r, item);
		engine_add_hit(r, "R10", c->w_unaligned,
			       "From domain %s not aligned with a passing SPF or DKIM identity (%s); "
			       "no DMARC policy%s",
			       x->from, ids,
			       found == R10_MANY      ? " (several DMARC records)"
			       : found == R10_INVALID ? " (a DMARC record without a valid p=)"
						      : "");
		return;
	}
	if (temp) {
		/* RFC 7489 6.6.2: an identity lost to DNS may have aligned */
		snprintf(item, sizeof(item), "dmarc=temperror (p=%s) header.from=%s",
			 policy_names[pol], x->from);
		engine_auth_results_add(r, item);
		return;
	}
	snprintf(item, sizeof(item), "dmarc=fail (p=%s) header.from=%s", policy_names[pol],
		 x->from);
	engine_auth_results_add(r, item);
	w = pol == R10_P_REJECT ? c->w_reject : pol == R10_P_QUARANTINE ? c->w_quarantine
									 : c->w_unaligned;
	engine_add_hit(r, "R10", w,
		       "From domain %s not aligned with a passing SPF or DKIM identity (%s); "
		       "DMARC policy %s at _dmarc.%s",
		       x->from, ids, policy_names[pol], where);
}

void engine_r10_score(struct engine_run *r)
{
	size_t n;

	if (!r->e->r10.enabled || r->msg == NULL)
		return;
	/* RFC 5322 3.6: exactly one From; without it DMARC has no domain to judge */
	n = msg_header_count(r->msg, "From");
	if (n == 0) {
		engine_add_hit(r, "R10", r->e->r10.w_from_count, "no From field");
		return;
	}
	if (n > 1) {
		engine_add_hit(r, "R10", r->e->r10.w_from_count, "%zu From fields", n);
		return;
	}
	score_dmarc(r);
}
