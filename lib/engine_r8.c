/* engine_r8: rule R8 of REGULATIONS.md (D91 Art. 20(3)-(4)) on outbound mail
 * (authenticated submissions): an opt-out confirmation is sent once, at once,
 * states when the request was received and when sending stops, and carries no
 * advertising.  What counts as a confirmation, a date or time and "at once" is
 * documented in doc/rules.md ("R8"); the once-counter is P:r8:CUSTOMER:RCPT
 * (doc/redis-keys.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "dname.h"
#include "engine_int.h"
#include "frequency.h"
#include "kv.h"
#include "log.h"
#include "optout.h"
#include "util.h"

/* The Subject and this many non-empty lines at the top of the visible text are
 * where a confirmation says what it is. */
#define R8_HEAD_LINES 5
/* ... found in at most this much of the text (then cut at a line end) */
#define R8_HEAD_BYTES 4096
/* Distinct dates and times remembered; two of a kind are enough. */
#define R8_TIMES_MAX 4

struct engine_r8 {
	int enabled;
	double weight;
	int64_t once_window_s;
	int64_t max_delay_s;  /* 0 = (d) off */
	cr_kv *kv;            /* engine_state's pool */
};

int engine_r8_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen)
{
	struct engine_r8 *c = calloc(1, sizeof *c);

	if (c == NULL) {
		util_errf(err, errlen, "engine: out of memory");
		return -1;
	}
	e->r8 = c;
	c->enabled = conf_bool(conf, "r8", "enabled");
	c->once_window_s = conf_ms(conf, "r8", "once_window") / 1000;
	c->max_delay_s = conf_ms(conf, "r8", "max_delay") / 1000;
	c->kv = engine_state_kv(e); /* engine_state_load runs first */
	return engine_conf_weight(conf, "r8", "weight", &c->weight, err, errlen);
}

void engine_r8_free(cr_engine *e)
{
	free(e->r8);
	e->r8 = NULL;
}

/* ---- is it a confirmation? ------------------------------------------------------ */

/* On folded text (advert_fold: lower case, no diacritics, đ -> d). */
static const char *const r8_en_phrases[] = {
	"unsubscribe confirmation", "unsubscription confirmation", "confirmation of unsubscri",
	"unsubscribe confirmed", "you have been unsubscribed", "you've been unsubscribed",
	"successfully unsubscribed", "opt-out confirmation", "opt-out confirmed",
	"opt out confirmation", "opt out confirmed", "confirmation of your opt-out", NULL,
};
/* "xac nhan" (xác nhận) with one of these on the same line */
static const char *const r8_vi_objects[] = { "huy dang ky", "tu choi nhan", NULL };
/* a request to confirm is not a confirmation */
static const char *const r8_asking[] = { "vui long xac nhan", "hay xac nhan", "please confirm",
					 NULL };

static int has_any_in(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (memmem(s, n, *words, strlen(*words)) != NULL)
			return 1;
	return 0;
}

/* "xac nhan" followed, later on the line, by one of r8_vi_objects ("Để hủy đăng
 * ký, xác nhận tại..." is a newsletter's footer, not a confirmation). */
static int vi_confirms(const char *s, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i++)
		if (memcmp(s + i, "xac nhan", 8) == 0)
			return has_any_in(s + i + 8, n - i - 8, r8_vi_objects);
	return 0;
}

static int line_confirms(const char *s, size_t n)
{
	if (has_any_in(s, n, r8_asking))
		return 0;
	return has_any_in(s, n, r8_en_phrases) || vi_confirms(s, n);
}

/* "Subject", "text" (one of its first R8_HEAD_LINES non-empty lines) or NULL. */
static const char *confirmation_in(const char *fsubj, const char *ftext, size_t ftl)
{
	size_t lines = 0;

	if (fsubj != NULL && line_confirms(fsubj, strlen(fsubj)))
		return "Subject";
	for (size_t i = 0; i < ftl && lines < R8_HEAD_LINES;) {
		const char *nl = memchr(ftext + i, '\n', ftl - i);
		size_t end = nl ? (size_t)(nl - ftext) : ftl, k = i;
		while (k < end && isspace((unsigned char)ftext[k]))
			k++;
		if (k < end) {
			if (line_confirms(ftext + i, end - i))
				return "text";
			lines++;
		}
		i = end + 1;
	}
	return NULL;
}

/* ---- does it say when? ----------------------------------------------------------- */

struct r8_times {
	unsigned dates[R8_TIMES_MAX], times[R8_TIMES_MAX]; /* month*100+day, hour*100+minute */
	size_t nd, nt;
	int at_once; /* "stop immediately" wording */
};

static void add_distinct(unsigned *set, size_t *n, unsigned v)
{
	for (size_t i = 0; i < *n; i++)
		if (set[i] == v)
			return;
	if (*n < R8_TIMES_MAX)
		set[(*n)++] = v;
}

/* Digits at s[*i], at most max of them: the value, or -1 (*i unchanged). */
static long digits(const char *s, size_t n, size_t *i, size_t min, size_t max)
{
	size_t k = *i;
	long v = 0;

	while (k < n && k - *i < max && isdigit((unsigned char)s[k]))
		v = v * 10 + (s[k++] - '0');
	if (k - *i < min || (k < n && isdigit((unsigned char)s[k])))
		return -1;
	*i = k;
	return v;
}

static void add_date(struct r8_times *t, long month, long day)
{
	if (month >= 1 && month <= 12 && day >= 1 && day <= 31)
		add_distinct(t->dates, &t->nd, (unsigned)(month * 100 + day));
}

static const struct {
	const char *name;
	int month;
} r8_months[] = {
	{ "january", 1 }, { "jan", 1 },	 { "february", 2 }, { "feb", 2 },  { "march", 3 },
	{ "mar", 3 },	  { "april", 4 }, { "apr", 4 },	     { "may", 5 },  { "june", 6 },
	{ "jun", 6 },	  { "july", 7 },  { "jul", 7 },	     { "august", 8 }, { "aug", 8 },
	{ "september", 9 }, { "sept", 9 }, { "sep", 9 },    { "october", 10 }, { "oct", 10 },
	{ "november", 11 }, { "nov", 11 }, { "december", 12 }, { "dec", 12 },
};

/* An English month name or abbreviation at s[*i] ending a word: 1..12, *i past
 * it (and a '.'); 0 if none. */
static int month_at(const char *s, size_t n, size_t *i)
{
	for (size_t m = 0; m < sizeof r8_months / sizeof r8_months[0]; m++) {
		size_t l = strlen(r8_months[m].name), e = *i + l;
		if (e > n || memcmp(s + *i, r8_months[m].name, l) != 0 ||
		    (e < n && isalpha((unsigned char)s[e])))
			continue;
		*i = e + (e < n && s[e] == '.');
		return r8_months[m].month;
	}
	return 0;
}

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* A date, time or "ngay N thang M" starting at s[i] (the start of a word or
 * number); returns where scanning goes on. */
static size_t scan_at(const char *s, size_t n, size_t i, struct r8_times *t)
{
	size_t k = i;
	long a, b, c;
	int m;

	if (isdigit((unsigned char)s[i])) {
		a = digits(s, n, &k, 1, 4);
		if (a < 0)
			return i + 1;
		if (k - i <= 2 && k + 1 < n && strchr("/-.", s[k]) != NULL) {
			char sep = s[k];
			size_t k2 = k + 1;
			b = digits(s, n, &k2, 1, 2);
			if (b >= 0 && k2 < n && s[k2] == sep) {
				k2++;
				c = digits(s, n, &k2, 4, 4);
				if (c >= 0) { /* dd/mm/yyyy */
					add_date(t, b, a);
					return k2;
				}
			}
		}
		if (k - i == 4 && k < n && s[k] == '-') { /* yyyy-mm-dd */
			size_t k2 = k + 1;
			b = digits(s, n, &k2, 1, 2);
			if (b >= 0 && k2 < n && s[k2] == '-') {
				k2++;
				c = digits(s, n, &k2, 1, 2);
				if (c >= 0) {
					add_date(t, b, c);
					return k2;
				}
			}
		}
		if (k - i <= 2 && k < n && s[k] == ':') { /* hh:mm[:ss] */
			size_t k2 = k + 1;
			b = digits(s, n, &k2, 2, 2);
			if (b >= 0 && a <= 23 && b <= 59) {
				add_distinct(t->times, &t->nt, (unsigned)(a * 100 + b));
				if (k2 + 2 < n && s[k2] == ':' && isdigit((unsigned char)s[k2 + 1]))
					k2 += 3;
				return k2;
			}
		}
		if (k - i <= 2) { /* "30 November", "30th of November" */
			size_t k2 = k;
			if (k2 + 2 <= n && (memcmp(s + k2, "st", 2) == 0 || memcmp(s + k2, "nd", 2) == 0 ||
					    memcmp(s + k2, "rd", 2) == 0 || memcmp(s + k2, "th", 2) == 0))
				k2 += 2;
			k2 = skip_spaces(s, n, k2);
			if (k2 + 3 <= n && memcmp(s + k2, "of ", 3) == 0)
				k2 = skip_spaces(s, n, k2 + 3);
			if (k2 > k && (m = month_at(s, n, &k2)) != 0) {
				add_date(t, m, a);
				return k2;
			}
		}
		return k;
	}
	if (k + 5 <= n && memcmp(s + k, "ngay ", 5) == 0) { /* ngày N tháng M */
		size_t num = skip_spaces(s, n, k + 5);
		k = num;
		a = digits(s, n, &k, 1, 2);
		if (a < 0)
			return i + 1;
		k = skip_spaces(s, n, k);
		if (k + 6 > n || memcmp(s + k, "thang ", 6) != 0)
			return num; /* "ngày 30/11/2026": the number is scanned next */
		k = skip_spaces(s, n, k + 6);
		b = digits(s, n, &k, 1, 2);
		if (b >= 0)
			add_date(t, b, a);
		return k;
	}
	if ((m = month_at(s, n, &k)) != 0) { /* "November 30" */
		size_t k2 = skip_spaces(s, n, k);
		if (k2 > k && (a = digits(s, n, &k2, 1, 2)) >= 0)
			add_date(t, m, a);
		return k2 > k ? k2 : k;
	}
	return i + 1;
}

/* Wording that sending stops at once (not "dung ngay 30/11": a date follows). */
static const char *const r8_at_once[] = {
	"ngung ngay", "dung ngay", "ngay lap tuc", "tu thoi diem nay", "ke tu bay gio",
	"immediately", "with immediate effect", "from now on", "from this moment", NULL,
};

static int at_once_wording(const char *s, size_t n)
{
	for (const char *const *w = r8_at_once; *w; w++) {
		size_t wl = strlen(*w);
		for (size_t i = 0; i + wl <= n; i++) {
			if (memcmp(s + i, *w, wl) != 0 || (i > 0 && isalnum((unsigned char)s[i - 1])))
				continue;
			size_t e = skip_spaces(s, n, i + wl);
			if (e == i + wl && e < n && isalnum((unsigned char)s[e]))
				continue; /* inside a longer word */
			if (e < n && isdigit((unsigned char)s[e]))
				continue;
			return 1;
		}
	}
	return 0;
}

static void find_times(const char *s, size_t n, struct r8_times *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
		if (isalnum(ch) && !isalnum(prev) && prev != ':' && prev != '/' && prev != '.' &&
		    prev != '-') {
			size_t next = scan_at(s, n, i, t);
			i = next > i ? next : i + 1;
		} else {
			i++;
		}
	}
	t->at_once = at_once_wording(s, n);
}

/* ---- once and at once (Redis) -------------------------------------------------- */

/* Counts (and records) this confirmation for each recipient in its rolling
 * counter P:r8:USER:RCPT (lib/frequency.c frequency_window, as R5 counts); the
 * first that had one before goes into why ("" if none).  0, or -1 with err. */
static int check_once(struct engine_run *r, size_t n, char *why, size_t whylen, char *err,
		      size_t errlen)
{
	struct engine_r8 *c = r->e->r8;
	const struct engine_input *in = r->in;
	char user[256];
	char (*keys)[KV_KEY_MAX] = calloc(n, sizeof *keys);
	const char **kp = calloc(n, sizeof *kp);
	long long *before = calloc(n, sizeof *before);
	size_t *idx = calloc(n, sizeof *idx), nk = 0, later = 0;
	int rc = -1;

	why[0] = '\0';
	if (keys == NULL || kp == NULL || before == NULL || idx == NULL) {
		util_errf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
	/* a ':' would let one user's key pass for another's: not judged */
	if (kv_key_part(in->sasl_user, user, sizeof user) != 0 || strchr(user, ':') != NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char part[400];
		if (kv_key_part(in->rcpts[i], part, sizeof part) != 0)
			continue; /* not judged */
		snprintf(keys[nk], KV_KEY_MAX, "%s:r8:%s:%s", kv_prefix(c->kv), user, part);
		kp[nk] = keys[nk];
		idx[nk++] = i;
	}
	if (nk == 0)
		goto out;
	rc = frequency_window(c->kv, kp, nk, util_now() * 1000, c->once_window_s, !in->dry_run,
			      engine_qid(r), before, err, errlen);
	if (rc != 0)
		goto out;
	for (size_t k = 0; k < nk; k++)
		if (before[k] > 0 && later++ == 0)
			snprintf(why, whylen, "not the first: confirmation %lld to %s from user %s "
				 "within %llds", before[k] + 1, in->rcpts[idx[k]], in->sasl_user,
				 (long long)c->once_window_s);
	if (later > 1) {
		size_t u = strlen(why);
		snprintf(why + u, whylen - u, " (and %zu more recipients)", later - 1);
	}
out:
	free(keys);
	free(kp);
	free(before);
	free(idx);
	if (rc != 0)
		why[0] = '\0';
	return rc;
}

/* (d): a recorded opt-out (chanrac optout add) of a recipient, from the
 * advertiser or of all advertising, older than max_delay.  The first goes into
 * why ("" if none).  0, or -1 with err. */
static int check_late(struct engine_run *r, size_t n, const char *advertiser, char *why,
		      size_t whylen, char *err, size_t errlen)
{
	struct engine_r8 *c = r->e->r8;
	struct optout_hit *hits = calloc(n, sizeof *hits);
	int64_t now = util_now();
	char when[32];

	why[0] = '\0';
	if (hits == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	if (optout_check_delim(c->kv, advertiser[0] ? advertiser : OPTOUT_ALL, r->in->rcpts, n,
			       engine_optout_delim(r->e), hits, err, errlen) != 0) {
		free(hits);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (hits[i].id == 0 || now - hits[i].at <= c->max_delay_s)
			continue;
		util_format_time(hits[i].at, when, sizeof when);
		snprintf(why, whylen, "late: sent %llds after %s opted out at %s (max_delay %llds)",
			 (long long)(now - hits[i].at), r->in->rcpts[i], when,
			 (long long)c->max_delay_s);
		break;
	}
	free(hits);
	return 0;
}

/* ---- the rule ------------------------------------------------------------------ */

/* Appends "; " and part to buf (cut to fit), nothing for an empty part. */
static void add_part(char *buf, size_t len, const char *part)
{
	size_t u = strlen(buf);

	if (part[0] == '\0')
		return;
	if (u > 0 && u + 2 < len) {
		memcpy(buf + u, "; ", 2);
		u += 2;
		buf[u] = '\0';
	}
	if (u + 1 < len)
		util_strlcpy(buf + u, part, len - u);
}

void engine_r8_score(struct engine_run *r)
{
	struct engine_r8 *c = r->e->r8;
	const struct engine_input *in = r->in;
	const char *subject, *text, *where, *from, *ftext;
	char *fsubj = NULL, *own = NULL, adv[DNAME_MAX + 1] = "", err[300];
	char parts[4][ENGINE_REASON_MAX], reason[ENGINE_REASON_MAX * 2] = "";
	size_t tl = 0, ftl = 0, head, n;
	struct r8_times t;

	if (c == NULL || !c->enabled || r->msg == NULL || in->sasl_user == NULL ||
	    in->sasl_user[0] == '\0')
		return;
	memset(parts, 0, sizeof parts);
	subject = msg_subject(r->msg);
	/* the visible text as the advertising detection folded it, or folded here
	 * when the advertising rules are off */
	ftext = r->adv_folded;
	ftl = r->adv_fl;
	if (ftext == NULL) {
		text = msg_text(r->msg, &tl);
		ftext = own = advert_fold(text != NULL ? text : "", tl, &ftl);
	}
	fsubj = subject != NULL ? advert_fold(subject, strlen(subject), NULL) : NULL;
	if (ftext == NULL || (subject != NULL && fsubj == NULL))
		goto oom;
	/* what the confirmation says it is: in its first R8_HEAD_BYTES (whole lines) */
	head = ftl;
	if (ftl > R8_HEAD_BYTES) {
		const char *nl = memrchr(ftext, '\n', R8_HEAD_BYTES);
		head = nl != NULL ? (size_t)(nl - ftext) : ftl;
	}
	where = confirmation_in(fsubj, ftext, head);
	if (where == NULL)
		goto out;
	/* (a) advertising, by engine_advert_outbound's detection */
	if (r->adv_is) {
		if (r->adv_label.kind != ADVERT_LABEL_NONE)
			snprintf(parts[0], sizeof parts[0], "carries advertising (Subject label %s)",
				 r->adv_label.text);
		else
			snprintf(parts[0], sizeof parts[0], "carries advertising (%.200s)",
				 r->adv_sig.why);
	}
	/* (b) when the request was received and when sending stops */
	find_times(ftext, ftl, &t);
	if (!(t.nd >= 2 || t.nt >= 2 || (t.nd + t.nt >= 1 && t.at_once)))
		snprintf(parts[1], sizeof parts[1],
			 "does not state when the request was received and when sending stops "
			 "(%zu date(s), %zu time(s), %s stop-immediately wording)", t.nd, t.nt,
			 t.at_once ? "with" : "no");
	/* (c) once, (d) at once: over Redis */
	n = in->rcpts != NULL ? (in->nrcpts < ENGINE_MAX_RCPTS ? in->nrcpts : ENGINE_MAX_RCPTS) : 0;
	if (n > 0) {
		if (check_once(r, n, parts[2], sizeof parts[2], err, sizeof err) != 0) {
			engine_store_failed(r, "R8 (once, late)", err);
		} else if (c->max_delay_s > 0) {
			from = msg_from_domain(r->msg);
			if (from == NULL || from[0] == '\0' || dname_registered(from, adv, sizeof adv) != 0)
				adv[0] = '\0';
			if (check_late(r, n, adv, parts[3], sizeof parts[3], err, sizeof err) != 0)
				engine_store_failed(r, "R8 (once, late)", err);
		}
	}
	for (int i = 0; i < 4; i++)
		add_part(reason, sizeof reason, parts[i]);
	if (reason[0] != '\0')
		engine_add_hit(r, "R8", c->weight, "opt-out confirmation (%s): %s", where, reason);
	goto out;
oom:
	log_warn("%s: R8: out of memory", engine_qid(r));
out:
	free(fsubj);
	free(own);
}
