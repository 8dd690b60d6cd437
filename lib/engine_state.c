/* engine_state: the engine's rules over per-message state in Redis — spam
 * templates (TEMPLATE), advertising frequency per advertiser and recipient (R5),
 * recorded opt-outs (R7), and the outbound watch of authenticated submissions
 * (P4: OUT_LIMIT, OUT_SCORE, OUT_HELD) — and the per-recipient part of the
 * verdict.  Redis is reached through a pooled cr_kv bounded by
 * [engine] store_timeout; when it fails these rules are skipped, the verdict is
 * marked ENGINE_DEG_STORE, and nothing is rejected for want of them. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "fingerprint.h"
#include "frequency.h"
#include "kv.h"
#include "log.h"
#include "optout.h"
#include "outbound.h"
#include "template.h"
#include "util.h"

/* A store failure is logged at most this often (ms). */
#define STATE_WARN_INTERVAL_MS 60000

struct engine_state {
	cr_kv *kv;
	/* [templates] */
	int tpl_enabled;
	double tpl_weight, tpl_similarity;
	unsigned tpl_min_words;
	/* [frequency] R5 */
	long long freq_max;      /* per advertiser; 0 = off */
	long long freq_same_max; /* per advertiser and content (legacy); 0 = off */
	int64_t freq_window_s;
	double freq_weight;
	/* [optout] R7 */
	double optout_weight;
	int optout_reject;
	int64_t optout_grace_s;
	char optout_delim; /* '\0' = recipients are looked up as given only */
	/* [outbound] P4 */
	int ob_enabled;
	long long ob_user_msgs, ob_user_rcpts, ob_ip_msgs, ob_ip_rcpts;
	double ob_hold_score;

	pthread_mutex_t lock; /* guards last_warn_ms */
	int64_t last_warn_ms;
};

int engine_state_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	struct engine_state *st = calloc(1, sizeof *st);
	const char *action;
	char kerr[300];

	if (st == NULL) {
		util_errf(err, errlen, "engine: out of memory");
		return -1;
	}
	pthread_mutex_init(&st->lock, NULL);
	e->state = st;
	st->tpl_enabled = conf_bool(conf, "templates", "enabled");
	st->tpl_min_words = (unsigned)conf_int(conf, "templates", "min_words");
	if (engine_conf_weight(conf, "templates", "weight", &st->tpl_weight, err, errlen) != 0 ||
	    engine_conf_weight(conf, "templates", "similarity", &st->tpl_similarity, err,
			       errlen) != 0)
		return -1;
	if (st->tpl_similarity <= 0 || st->tpl_similarity > 1) {
		util_errf(err, errlen, "%s: [templates] similarity: must be above 0 and at most 1",
			  conf_source(conf));
		return -1;
	}
	st->freq_max = conf_int(conf, "frequency", "max");
	st->freq_same_max = conf_int(conf, "frequency", "same_content_max");
	st->freq_window_s = conf_ms(conf, "frequency", "window") / 1000;
	if (engine_conf_weight(conf, "frequency", "weight", &st->freq_weight, err, errlen) != 0 ||
	    engine_conf_weight(conf, "optout", "weight", &st->optout_weight, err, errlen) != 0)
		return -1;
	action = conf_str(conf, "optout", "action");
	if (strcmp(action, "reject") == 0) {
		st->optout_reject = 1;
	} else if (strcmp(action, "score") != 0) {
		util_errf(err, errlen, "%s: [optout] action: '%s' is neither reject nor score",
			  conf_source(conf), action);
		return -1;
	}
	st->optout_grace_s = conf_ms(conf, "optout", "grace") / 1000;
	action = conf_str(conf, "optout", "recipient_delimiter");
	if (strlen(action) > 1 || (action[0] != '\0' && (action[0] <= ' ' || action[0] > '~' ||
							  action[0] == '@'))) {
		util_errf(err, errlen,
			  "%s: [optout] recipient_delimiter: '%s' is not one printable character "
			  "other than @", conf_source(conf), action);
		return -1;
	}
	st->optout_delim = action[0];
	st->ob_enabled = conf_bool(conf, "outbound", "enabled");
	st->ob_user_msgs = conf_int(conf, "outbound", "user_messages_per_hour");
	st->ob_user_rcpts = conf_int(conf, "outbound", "user_recipients_per_hour");
	st->ob_ip_msgs = conf_int(conf, "outbound", "ip_messages_per_hour");
	st->ob_ip_rcpts = conf_int(conf, "outbound", "ip_recipients_per_hour");
	if (engine_conf_weight(conf, "outbound", "hold_score", &st->ob_hold_score, err, errlen) != 0)
		return -1;
	st->kv = kv_open(conf, conf_ms(conf, "engine", "store_timeout"), kerr, sizeof kerr);
	if (st->kv == NULL) {
		util_errf(err, errlen, "%s: %s", conf_source(conf), kerr);
		return -1;
	}
	return 0;
}

cr_kv *engine_state_kv(const cr_engine *e)
{
	return e->state != NULL ? e->state->kv : NULL;
}

char engine_optout_delim(const cr_engine *e)
{
	return e->state != NULL ? e->state->optout_delim : '\0';
}

void engine_state_free(cr_engine *e)
{
	struct engine_state *st = e->state;

	if (st == NULL)
		return;
	kv_close(st->kv);
	pthread_mutex_destroy(&st->lock);
	free(st);
	e->state = NULL;
}

const char *engine_qid(const struct engine_run *r)
{
	return r->in != NULL && r->in->queue_id != NULL ? r->in->queue_id : "-";
}

/* 1 if a store failure may be logged now (at most once a minute). */
static int warn_due(struct engine_state *st)
{
	int64_t now = util_mono_ms();
	int say;

	pthread_mutex_lock(&st->lock);
	say = st->last_warn_ms == 0 || now - st->last_warn_ms >= STATE_WARN_INTERVAL_MS;
	if (say)
		st->last_warn_ms = now;
	pthread_mutex_unlock(&st->lock);
	return say;
}

void engine_store_failed(struct engine_run *r, const char *what, const char *err)
{
	r->v->degraded |= ENGINE_DEG_STORE;
	if (warn_due(r->e->state))
		log_warn("%s: %s skipped: %s", engine_qid(r), what, err);
}

/* A hit that concerns one recipient: itemised like any other, its weight goes to
 * that recipient's score only (engine_rcpt_settle). */
static void rcpt_hit(struct engine_run *r, size_t i, const char *rule, double weight,
		     int reject, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void rcpt_hit(struct engine_run *r, size_t i, const char *rule, double weight,
		     int reject, const char *fmt, ...)
{
	struct engine_verdict *v = r->v;
	va_list ap;

	v->rcpt[i].score += weight;
	if (reject && v->rcpt[i].rule[0] == '\0')
		util_strlcpy(v->rcpt[i].rule, rule, sizeof v->rcpt[i].rule);
	if (v->nhits >= ENGINE_MAX_HITS)
		return;
	struct engine_hit *h = &v->hits[v->nhits++];
	util_strlcpy(h->rule, rule, sizeof h->rule);
	h->score = weight;
	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof h->reason, fmt, ap);
	va_end(ap);
	engine_reason_clean(h->reason);
}

/* ---- TEMPLATE ---------------------------------------------------------------- */

/* r->fp, the fingerprint of the visible text, made once per message for TEMPLATE,
 * R5's same-content counter and the template id: of any text that can be
 * fingerprinted ([templates] min_words is TEMPLATE's own floor).  1 if there is
 * one (not for fewer than 3 distinct words, or out of memory). */
int engine_text_fingerprint(struct engine_run *r)
{
	const char *text;
	size_t len = 0;

	if (!r->fp_ok && r->msg != NULL) {
		text = msg_text(r->msg, &len);
		r->fp_ok = text != NULL && fingerprint_text(text, len, 0, &r->fp) == 0;
	}
	return r->fp_ok;
}

void engine_template_score(struct engine_run *r)
{
	struct engine_state *st = r->e->state;
	struct template_info t;
	double sim;
	char err[300];
	int rc;

	if (!st->tpl_enabled || r->msg == NULL)
		return;
	if (!engine_text_fingerprint(r) || r->fp.distinct < st->tpl_min_words)
		return; /* too short to say anything (or out of memory) */
	rc = template_match(st->kv, &r->fp, st->tpl_similarity, &t, &sim, err, sizeof err);
	if (rc < 0) {
		engine_store_failed(r, "spam templates", err);
		return;
	}
	if (rc == 1)
		engine_add_hit(r, "TEMPLATE", st->tpl_weight,
			       "matches spam template %s (%.0f%% similar): %s", t.id, sim * 100,
			       t.reason[0] ? t.reason : "no reason given");
}

/* ---- R7 and R5 ------------------------------------------------------------------ */

/* R5 for recipient i when a limit is reached: count (per advertiser) and same
 * (per advertiser and content) are the messages before this one in the window.
 * One hit whichever fired; its reason says which. */
static void r5_hit(struct engine_run *r, size_t i, const char *content, long long count,
		   long long same)
{
	struct engine_state *st = r->e->state;
	const char *rcpt = r->in->rcpts[i], *adv = r->adv_advertiser;
	int by_adv = st->freq_max > 0 && count >= st->freq_max;
	int by_content = content != NULL && same >= st->freq_same_max;
	long long win = (long long)st->freq_window_s;

	if (by_adv && by_content)
		rcpt_hit(r, i, "R5", st->freq_weight, 0,
			 "%s: advertising email %lld from %s within %llds (at most %lld); "
			 "%lld with the same content (template %s) (at most %lld)", rcpt,
			 count + 1, adv, win, st->freq_max, same + 1, content, st->freq_same_max);
	else if (by_adv)
		rcpt_hit(r, i, "R5", st->freq_weight, 0,
			 "%s: advertising email %lld from %s within %llds (at most %lld)", rcpt,
			 count + 1, adv, win, st->freq_max);
	else if (by_content)
		rcpt_hit(r, i, "R5", st->freq_weight, 0,
			 "%s: advertising email %lld with the same content (template %s) from %s "
			 "within %llds (at most %lld)", rcpt, same + 1, content, adv, win,
			 st->freq_same_max);
}

/* The content R5 counts by (the template id), or NULL when same_content_max is
 * off or the text has no fingerprint. */
static const char *r5_content(const struct engine_state *st, const struct engine_verdict *v)
{
	return st->freq_same_max > 0 && v->template_id[0] != '\0' ? v->template_id : NULL;
}

void engine_optout_frequency_score(struct engine_run *r)
{
	struct engine_state *st = r->e->state;
	const struct engine_input *in = r->in;
	size_t n = in->nrcpts < ENGINE_MAX_RCPTS ? in->nrcpts : ENGINE_MAX_RCPTS;
	struct optout_hit *hits = NULL;
	long long *counts = NULL, *same = NULL;
	int64_t now = util_now();
	char err[300], when[32];
	const char *adv = r->adv_advertiser, *content;

	if (!r->adv_is)
		return;
	/* inbound advertising gets its template id too (chanrac scan shows it; R5
	 * counts the same content by it) */
	if (engine_text_fingerprint(r))
		fingerprint_id(&r->fp, r->v->template_id);
	/* without a known advertiser only "all advertising" opt-outs can apply,
	 * and nothing is counted */
	if (n == 0 || in->rcpts == NULL)
		return;
	hits = calloc(n, sizeof *hits);
	counts = calloc(n, sizeof *counts);
	same = calloc(n, sizeof *same);
	if (hits == NULL || counts == NULL || same == NULL) {
		engine_store_failed(r, "opt-outs (R7) and frequency (R5)", "out of memory");
		goto out;
	}
	/* R7: D91 Art. 13(4) — no advertising after the recipient refused it */
	if (optout_check_delim(st->kv, adv[0] ? adv : OPTOUT_ALL, in->rcpts, n, st->optout_delim,
			       hits, err, sizeof err) != 0) {
		engine_store_failed(r, "opt-outs (R7)", err);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (hits[i].id == 0 || now < hits[i].at + st->optout_grace_s)
				continue;
			util_format_time(hits[i].at, when, sizeof when);
			rcpt_hit(r, i, "R7", st->optout_weight, st->optout_reject,
				 "%s opted out of %s%s at %s (request %lld)", in->rcpts[i],
				 hits[i].all ? "all advertising" : "advertising from ",
				 hits[i].all ? "" : adv, when, hits[i].id);
		}
	}
	/* R5: D91 Art. 13(5) — at most freq_max per advertiser and recipient a day;
	 * legacy: at most freq_same_max of them with the same content */
	content = r5_content(st, r->v);
	if ((st->freq_max > 0 || content != NULL) && adv[0] != '\0') {
		if (frequency_count(st->kv, adv, content, in->rcpts, n, util_now() * 1000,
				    st->freq_window_s, !in->dry_run, engine_qid(r),
				    st->freq_max > 0 ? counts : NULL, same, r->v->freq_member, err,
				    sizeof err) != 0) {
			engine_store_failed(r, "advertising frequency (R5)", err);
		} else {
			r->v->freq_nrcpts = r->v->freq_member[0] != '\0' ? n : 0;
			for (size_t i = 0; i < n; i++)
				r5_hit(r, i, content, counts[i], same[i]);
		}
	}
out:
	free(hits);
	free(counts);
	free(same);
}

_Static_assert(ENGINE_FREQ_MEMBER_MAX >= FREQUENCY_MEMBER_MAX,
	       "engine_verdict.freq_member holds a frequency member");

void engine_forget(cr_engine *e, const struct engine_input *in, const struct engine_verdict *v,
		   const unsigned char *gone)
{
	struct engine_state *st;
	const char **rcpts;
	const char *qid;
	size_t nr, n = 0;
	long long removed;
	char err[300];

	if (e == NULL || e->state == NULL || in == NULL || in->rcpts == NULL || v == NULL ||
	    v->freq_member[0] == '\0')
		return;
	st = e->state;
	qid = in->queue_id != NULL ? in->queue_id : "-";
	nr = v->freq_nrcpts < in->nrcpts ? v->freq_nrcpts : in->nrcpts;
	rcpts = calloc(nr > 0 ? nr : 1, sizeof *rcpts);
	if (rcpts == NULL) {
		log_warn("%s: R5: out of memory; frequency records of the message kept", qid);
		return;
	}
	for (size_t i = 0; i < nr; i++)
		if (gone == NULL || (i < v->nrcpts && gone[i]))
			rcpts[n++] = in->rcpts[i];
	if (n > 0) {
		removed = frequency_forget(st->kv, v->advertiser, r5_content(st, v), rcpts, n,
					   v->freq_member, err, sizeof err);
		if (removed < 0) {
			if (warn_due(st))
				log_warn("%s: R5: frequency records of the undelivered message "
					 "kept: %s", qid, err);
		} else {
			log_debug("%s: R5: not delivered to %zu recipient(s); %lld frequency "
				  "record(s) for %s forgotten", qid, n, removed, v->advertiser);
		}
	}
	free(rcpts);
}

/* ---- outbound (P4) --------------------------------------------------------------- */

void engine_outbound_score(struct engine_run *r)
{
	struct engine_state *st = r->e->state;
	const struct engine_input *in = r->in;
	struct outbound_counts c;
	struct outbound_hold h;
	char ip[ADDR_TEXT_MAX], err[300], why[OUTBOUND_REASON_MAX + 1] = "", since[32];
	const char *rule = NULL;
	int64_t now = util_now();
	int rc;

	if (!st->ob_enabled || in->sasl_user == NULL || in->sasl_user[0] == '\0')
		return;
	if (in->have_client)
		addr_format(&in->client, ip, sizeof ip);
	rc = outbound_count(st->kv, in->sasl_user, in->have_client ? ip : NULL, in->nrcpts, now,
			    !in->dry_run, &c, &h, err, sizeof err);
	if (rc == OUTBOUND_NOTFOUND) {
		log_warn("%s: outbound: %s; not counted", engine_qid(r), err);
		return;
	}
	if (rc != OUTBOUND_OK) {
		engine_store_failed(r, "outbound limits", err);
		return;
	}
	if (h.held) {
		util_format_time(h.since, since, sizeof since);
		engine_add_hit(r, "OUT_HELD", 0, "user %s held since %s: %s", in->sasl_user, since,
			       h.reason);
		r->v->hold = 1;
		if (!in->dry_run && in->queue_id != NULL &&
		    outbound_note_held(st->kv, in->sasl_user, now, in->queue_id, err, sizeof err) != 0)
			engine_store_failed(r, "outbound hold list", err);
		return;
	}
	if (st->ob_user_msgs > 0 && c.user_msgs > st->ob_user_msgs)
		snprintf(why, sizeof why, "%lld messages this hour from user %s (limit %lld)",
			 c.user_msgs, in->sasl_user, st->ob_user_msgs);
	else if (st->ob_user_rcpts > 0 && c.user_rcpts > st->ob_user_rcpts)
		snprintf(why, sizeof why, "%lld recipients this hour from user %s (limit %lld)",
			 c.user_rcpts, in->sasl_user, st->ob_user_rcpts);
	else if (in->have_client && st->ob_ip_msgs > 0 && c.ip_msgs > st->ob_ip_msgs)
		snprintf(why, sizeof why, "%lld messages this hour from %s (limit %lld)", c.ip_msgs,
			 ip, st->ob_ip_msgs);
	else if (in->have_client && st->ob_ip_rcpts > 0 && c.ip_rcpts > st->ob_ip_rcpts)
		snprintf(why, sizeof why, "%lld recipients this hour from %s (limit %lld)",
			 c.ip_rcpts, ip, st->ob_ip_rcpts);
	if (why[0] != '\0') {
		rule = "OUT_LIMIT";
	} else if (st->ob_hold_score > 0 && r->v->score >= st->ob_hold_score) {
		snprintf(why, sizeof why, "spam score %.1f of a message from user %s (hold_score %g)",
			 r->v->score, in->sasl_user, st->ob_hold_score);
		rule = "OUT_SCORE";
	} else {
		return;
	}
	engine_add_hit(r, rule, 0, "%s; user held", why);
	r->v->hold = 1;
	if (in->dry_run)
		return;
	rc = outbound_hold_user(st->kv, in->sasl_user, in->have_client ? ip : NULL, now, why,
				in->queue_id, err, sizeof err);
	if (rc == OUTBOUND_EUNAVAIL)
		engine_store_failed(r, "outbound hold", err);
	else
		log_warn("%s: outbound: user %s held: %s (release: chanrac outbound release %s)",
			 engine_qid(r), in->sasl_user, why, in->sasl_user);
}

/* ---- per-recipient verdict ------------------------------------------------------- */

static size_t rcpt_count(const struct engine_run *r)
{
	size_t n = r->in != NULL ? r->in->nrcpts : 0;

	return n < ENGINE_MAX_RCPTS ? n : ENGINE_MAX_RCPTS;
}

/* The smallest per-recipient score among recipients not rejected by rule. */
static double rcpt_common(const struct engine_run *r)
{
	const struct engine_verdict *v = r->v;
	double min = 0;
	int any = 0;

	for (size_t i = 0; i < v->nrcpts; i++) {
		if (v->rcpt[i].rule[0] != '\0')
			continue;
		if (!any || v->rcpt[i].score < min)
			min = v->rcpt[i].score;
		any = 1;
	}
	return any ? min : 0;
}

void engine_rcpt_settle(struct engine_run *r)
{
	r->v->nrcpts = rcpt_count(r);
	r->v->score += rcpt_common(r);
}

enum engine_action engine_rcpt_action(struct engine_run *r, enum engine_action a)
{
	struct engine_verdict *v = r->v;
	double base = v->score - rcpt_common(r), reject;
	size_t rejected = 0;

	engine_thresholds(r->e, NULL, NULL, &reject);
	if (v->hold && (a == ENGINE_ACCEPT || a == ENGINE_TAG))
		a = ENGINE_QUARANTINE;
	if (a == ENGINE_REJECT || a == ENGINE_TEMPFAIL) {
		for (size_t i = 0; i < v->nrcpts; i++)
			v->rcpt[i].action = ENGINE_ACCEPT;
		return a;
	}
	for (size_t i = 0; i < v->nrcpts; i++) {
		int by_score = reject > 0 && v->rcpt[i].score > 0 &&
			       base + v->rcpt[i].score >= reject &&
			       !(v->degraded & ENGINE_DEG_DNS_FAILED);
		if (v->rcpt[i].rule[0] != '\0' || by_score) {
			v->rcpt[i].action = ENGINE_REJECT;
			if (v->rcpt[i].rule[0] == '\0')
				util_strlcpy(v->rcpt[i].rule, "SCORE", sizeof v->rcpt[i].rule);
			rejected++;
		} else {
			v->rcpt[i].action = ENGINE_ACCEPT;
		}
	}
	/* every recipient refused: the message itself is (550) */
	if (rejected > 0 && rejected == v->nrcpts && rejected == r->in->nrcpts)
		return ENGINE_REJECT;
	return a;
}
