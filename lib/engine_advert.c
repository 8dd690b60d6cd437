/* engine_advert: the advertising content rules of the engine — ADV_LABEL / ADV_NO_LABEL
 * (is the message advertising), R1a / R1b (its Subject label), R3 (advertiser block),
 * R4 (opt-out section), R4h (List-Unsubscribe and RFC 8058 one-click, with DKIM
 * from lib/dkimcheck.c) — and the dkim= part of Authentication-Results; on
 * outbound mail only whether it is advertising and its template id (for the
 * statistics, P7).  The message-level logic is in lib/advert.c; this file maps
 * it to hits and weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "dname.h"
#include "engine_int.h"
#include "fingerprint.h"
#include "log.h"
#include "util.h"

int engine_advert_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
	} weights[] = {
		{ "adv_label", offsetof(struct engine_advert_conf, w_label) },
		{ "adv_no_label", offsetof(struct engine_advert_conf, w_no_label) },
		{ "r1a", offsetof(struct engine_advert_conf, w_r1a) },
		{ "r1b", offsetof(struct engine_advert_conf, w_r1b) },
		{ "r3", offsetof(struct engine_advert_conf, w_r3) },
		{ "r4", offsetof(struct engine_advert_conf, w_r4) },
		{ "r4h", offsetof(struct engine_advert_conf, w_r4h) },
	};
	char derr[200];
	const char *text;

	e->adv.enabled = conf_bool(conf, "advert", "enabled");
	e->adv.dkim = conf_bool(conf, "advert", "dkim");
	e->adv.detect_threshold = (int)conf_int(conf, "advert", "detect_threshold");
	text = conf_str(conf, "advert", "optout_languages");
	if (strcmp(text, "any") == 0) {
		e->adv.optout_both = 0;
	} else if (strcmp(text, "both") == 0) {
		e->adv.optout_both = 1;
	} else {
		util_errf(err, errlen, "%s: [advert] optout_languages: '%s' is neither any nor both",
			  conf_source(conf), text);
		return -1;
	}
	for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++)
		if (engine_conf_weight(conf, "advert", weights[i].key,
				       (double *)((char *)&e->adv + weights[i].off), err, errlen) != 0)
			return -1;
	if (e->adv.dkim) {
		e->dkim = dkimcheck_new(derr, sizeof(derr));
		if (e->dkim == NULL) {
			util_errf(err, errlen, "%s: [advert] dkim: %s", conf_source(conf), derr);
			return -1;
		}
	}
	return 0;
}

void engine_advert_free(cr_engine *e)
{
	dkimcheck_free(e->dkim);
	e->dkim = NULL;
}

void engine_dkim_plan(struct engine_run *r)
{
	if (r->e->dkim != NULL && r->msg != NULL && r->set != NULL)
		r->dkim_planned = dkimcheck_plan(r->msg, r->set);
}

void engine_dkim_verify(struct engine_run *r)
{
	char item[512];

	if (r->e->dkim == NULL || r->msg == NULL)
		return;
	dkimcheck_verify(r->e->dkim, r->msg, r->set, r->in->queue_id, &r->dkim);
	if (r->dkim.error[0] != '\0')
		log_warn("%s: dkim: %s", r->in->queue_id ? r->in->queue_id : "-", r->dkim.error);
	if (r->dkim.nsigs == 0)
		return;
	for (size_t i = 0; i < r->dkim.nsigs; i++) {
		const struct dkimcheck_sig *s = &r->dkim.sigs[i];
		int n = snprintf(item, sizeof(item), "dkim=%s", dkimcheck_result_name(s->result));
		if (s->why[0] != '\0' && n > 0 && (size_t)n < sizeof(item))
			n += snprintf(item + n, sizeof(item) - (size_t)n, " (%s)", s->why);
		if (s->domain[0] != '\0' && n > 0 && (size_t)n < sizeof(item))
			n += snprintf(item + n, sizeof(item) - (size_t)n, " header.d=%s", s->domain);
		if (s->selector[0] != '\0' && n > 0 && (size_t)n < sizeof(item))
			snprintf(item + n, sizeof(item) - (size_t)n, " header.s=%s", s->selector);
		engine_reason_clean(item);
		engine_auth_results_add(r, item);
	}
}

/* The advertiser: organisational domain of the From, else of a passing DKIM d=. */
static void find_advertiser(struct engine_run *r)
{
	const char *from = msg_from_domain(r->msg);

	r->adv_advertiser[0] = '\0';
	if (from != NULL && from[0] != '\0' &&
	    dname_registered(from, r->adv_advertiser, sizeof(r->adv_advertiser)) == 0)
		return;
	r->adv_advertiser[0] = '\0';
	for (size_t i = 0; i < r->dkim.nsigs; i++)
		if (r->dkim.sigs[i].result == DKIMCHECK_PASS &&
		    dname_registered(r->dkim.sigs[i].domain, r->adv_advertiser,
				     sizeof(r->adv_advertiser)) == 0)
			return;
	r->adv_advertiser[0] = '\0';
}

static void score_layout(struct engine_run *r, const char *folded, size_t fl)
{
	const struct engine_advert_conf *c = &r->e->adv;
	struct advert_layout l;
	char missing[160];

	advert_layout(folded, fl, r->msg, &l);
	advert_block_missing(&l, missing, sizeof(missing));
	if (missing[0] != '\0') {
		int elsewhere = (!l.name && l.any_name) || (!l.block_phone && l.any_phone) ||
				(!l.block_email && l.any_email) || (!l.address && l.any_address);
		engine_add_hit(r, "R3", c->w_r3, "advertiser block %s %s%s",
			       l.optout_found ? "before the opt-out section lacks" : "at the end lacks",
			       missing, elsewhere ? " (some found elsewhere in the body)" : "");
	}
	advert_optout_missing(&l, missing, sizeof(missing));
	/* legacy D90 rule: the opt-out text in both Vietnamese and English */
	if (c->optout_both && l.optout_found && !(l.vi_wording && l.en_wording)) {
		size_t u = strlen(missing);
		snprintf(missing + u, sizeof(missing) - u, "%s%s wording", u ? ", " : "",
			 l.vi_wording ? "English" : "Vietnamese");
	}
	if (!l.optout_found)
		engine_add_hit(r, "R4", c->w_r4, "%s",
			       l.optout_elsewhere
				       ? "opt-out wording only earlier in the body, no opt-out section at the end"
				       : "no opt-out section (right to refuse, web, email, phone) at the end of the body");
	else if (!l.optout_at_end)
		engine_add_hit(r, "R4", c->w_r4, "opt-out section is not at the end of the body%s%s",
			       missing[0] ? "; it lacks " : "", missing);
	else if (missing[0] != '\0')
		engine_add_hit(r, "R4", c->w_r4, "opt-out section lacks %s", missing);
}

static void score_unsub(struct engine_run *r)
{
	const struct engine_advert_conf *c = &r->e->adv;
	const struct msg_header_field *lu = msg_header_find(r->msg, "List-Unsubscribe", 0);
	const struct msg_header_field *post = msg_header_find(r->msg, "List-Unsubscribe-Post", 0);
	struct advert_unsub u;

	advert_unsub_check(lu ? lu->raw : NULL, msg_header_count(r->msg, "List-Unsubscribe"),
			   post ? post->raw : NULL, msg_header_count(r->msg, "List-Unsubscribe-Post"),
			   &u);
	if (u.why[0] != '\0') {
		engine_add_hit(r, "R4h", c->w_r4h, "%s", u.why);
		return;
	}
	if (u.post_valid) {
		/* RFC 8058 section 4: the signature must cover both fields */
		int covered = 0, passing = 0;
		for (size_t i = 0; i < r->dkim.nsigs; i++) {
			const struct dkimcheck_sig *s = &r->dkim.sigs[i];
			if (s->result != DKIMCHECK_PASS)
				continue;
			passing = 1;
			covered |= s->covers_unsub && s->covers_unsub_post;
		}
		if (!covered)
			engine_add_hit(r, "R4h", c->w_r4h,
				       "one-click List-Unsubscribe-Post %s (RFC 8058 4)",
				       r->e->dkim == NULL ? "not checked: DKIM verification is off"
				       : passing ? "not covered by the h= of a passing DKIM signature"
						 : "without a passing DKIM signature");
	}
}

/* Whether a message is advertising (REGULATIONS.md "Which mail is advertising"). */
struct advert_detection {
	struct advert_label label;
	struct advert_signals sig;
	int by_label;   /* by its Subject label (takes precedence: ADV_LABEL) */
	int by_signals; /* by its bulk/marketing signals */
	char *folded;   /* advert_fold of the visible text; the caller frees it */
	size_t fl;
};

/* Fills d and sets r->adv_is, r->adv_advertiser and the verdict's advertising
 * and advertiser.  0, or -1 (nothing set, nothing to free) when the rules are
 * off, there is no message, or memory ran out. */
static int detect(struct engine_run *r, struct advert_detection *d)
{
	const struct engine_advert_conf *c = &r->e->adv;
	const char *text;
	size_t tl = 0;
	int is_reply;

	r->adv_is = 0;
	if (!c->enabled || r->msg == NULL)
		return -1;
	is_reply = msg_header_count(r->msg, "In-Reply-To") > 0 ||
		   msg_header_count(r->msg, "References") > 0;
	advert_subject_label(msg_subject(r->msg), is_reply, &d->label);
	text = msg_text(r->msg, &tl);
	d->folded = advert_fold(text ? text : "", tl, &d->fl);
	if (d->folded == NULL) {
		log_warn("%s: advert: out of memory", r->in->queue_id ? r->in->queue_id : "-");
		return -1;
	}
	advert_signals(r->msg, d->folded, &d->sig);
	d->by_signals = advert_is_advertising(&d->sig, c->detect_threshold);
	/* a label quoted in a genuine reply is not the sender's own claim */
	d->by_label = d->label.kind != ADVERT_LABEL_NONE &&
		      (!d->label.quoted_reply || d->by_signals);
	find_advertiser(r);
	r->adv_is = d->by_label || d->by_signals;
	r->v->advertising = r->adv_is;
	if (r->adv_is)
		util_strlcpy(r->v->advertiser, r->adv_advertiser, sizeof(r->v->advertiser));
	return 0;
}

void engine_advert_score(struct engine_run *r)
{
	const struct engine_advert_conf *c = &r->e->adv;
	struct advert_detection d;

	if (detect(r, &d) != 0)
		return;
	if (d.by_label) {
		engine_add_hit(r, "ADV_LABEL", c->w_label, "advertising: Subject label %s%s",
			       d.label.text, d.label.quoted_reply ? " quoted in a reply" : "");
		if (d.label.kind == ADVERT_LABEL_TOLERATED)
			engine_add_hit(r, "R1a", c->w_r1a, "non-canonical label %s: %s",
				       d.label.text, d.label.why);
		else if (d.label.kind == ADVERT_LABEL_NOT_FIRST)
			engine_add_hit(r, "R1b", c->w_r1b, "label %s is not first: %s",
				       d.label.text, d.label.why);
	} else if (d.by_signals) {
		engine_add_hit(r, "ADV_NO_LABEL", c->w_no_label,
			       "advertising without a [QC]/[AD] Subject label: %s", d.sig.why);
	}
	if (r->adv_is) {
		score_layout(r, d.folded, d.fl);
		score_unsub(r);
	}
	free(d.folded);
}

_Static_assert(ENGINE_TEMPLATE_ID_MAX == FINGERPRINT_ID_LEN, "template id is a fingerprint id");
_Static_assert(ENGINE_ADVERTISER_MAX == DNAME_MAX, "the advertiser is a domain name");

void engine_advert_outbound(struct engine_run *r)
{
	struct advert_detection d;

	if (detect(r, &d) != 0)
		return;
	r->adv_folded = d.folded;
	r->adv_fl = d.fl;
	r->adv_label = d.label;
	r->adv_sig = d.sig;
	if (!r->adv_is)
		return;
	/* The Mẫu số 1 report counts a customer's distinct advertising messages by
	 * this id.  [templates] min_words only keeps short texts from matching a spam
	 * template; here any text that can be fingerprinted gets its id. */
	if (engine_text_fingerprint(r))
		fingerprint_id(&r->fp, r->v->template_id);
}

size_t engine_advert_failed(const struct engine_verdict *v,
			    const char *out[ENGINE_ADV_FAILED_MAX])
{
	/* REGULATIONS.md id, and the hits that fail it */
	static const struct {
		const char *id;
		const char *hits[2];
	} rules[ENGINE_ADV_FAILED_MAX] = {
		{ "R1", { "ADV_NO_LABEL", "R1b" } },
		{ "R3", { "R3", NULL } },
		{ "R4", { "R4", NULL } },
		{ "R5", { "R5", NULL } },
		{ "R7", { "R7", NULL } },
	};
	size_t n = 0;

	if (v == NULL || !v->advertising)
		return 0;
	for (size_t k = 0; k < ENGINE_ADV_FAILED_MAX; k++) {
		int failed = 0;
		for (size_t j = 0; j < 2 && !failed; j++)
			failed = rules[k].hits[j] != NULL && engine_verdict_hit(v, rules[k].hits[j]);
		if (failed)
			out[n++] = rules[k].id;
	}
	return n;
}
