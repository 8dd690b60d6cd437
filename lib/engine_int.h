/* engine_int: what the engine's files (engine.c, engine_dnsbl.c, engine_spf.c)
 * share — the engine built from the configuration and the per-message run state.
 * Not part of the contract: only lib/engine*.c include it. */
#ifndef CHANRAC_ENGINE_INT_H
#define CHANRAC_ENGINE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "advert.h"
#include "dname.h"
#include "dnsq.h"
#include "dkimcheck.h"
#include "engine.h"
#include "fingerprint.h"
#include "kv.h"
#include "spfcheck.h"

/* At most this many [dnsbl] zones, and score mappings per zone: with the self-test
 * queries and max_url_domains this keeps a message within DNSQ_SET_MAX_QUERIES. */
#define ENGINE_MAX_ZONES 16
#define ENGINE_MAX_CODES 32
#define ENGINE_URL_DOMAINS_MAX 200
/* A zone's warning is logged at most once per this many ms. */
#define ENGINE_WARN_INTERVAL_MS 60000

/* Identities a domain zone can check ([dnsbl] check). */
enum engine_ident {
	ENGINE_ID_HELO = 1u << 0,
	ENGINE_ID_MAIL_FROM = 1u << 1,
	ENGINE_ID_FROM = 1u << 2,
	ENGINE_ID_URL = 1u << 3,
};

struct engine_code {
	uint32_t code; /* host order, 127.x.y.z */
	double weight;
};

struct engine_zone {
	char name[DNAME_MAX + 1]; /* the DNS zone, normalised */
	int is_domain;
	char rule[ENGINE_RULE_MAX];
	double weight;
	struct engine_code codes[ENGINE_MAX_CODES];
	size_t ncodes;
	int allow;
	int selftest;
	unsigned check; /* ENGINE_ID_* (domain zones) */
	char delist_url[256];
	int txt;              /* ask the TXT of a listed name for the hit's reason */
	dnsq_ctx *dns;        /* the zone's own dns_servers (owned), NULL = cr_engine.dns */
	int64_t last_warn_ms; /* guarded by cr_engine.zone_lock */
};

enum engine_spf_weight {
	ENGINE_W_SPF_NONE = 0, ENGINE_W_SPF_NEUTRAL, ENGINE_W_SPF_PASS, ENGINE_W_SPF_FAIL,
	ENGINE_W_SPF_SOFTFAIL, ENGINE_W_SPF_TEMPERROR, ENGINE_W_SPF_PERMERROR,
	ENGINE_W_SPF_COUNT, /* indexed like enum spfcheck_result */
};

/* [advert]: the advertising content rules (engine_advert.c). */
struct engine_advert_conf {
	int enabled;          /* run the advertising rules at all */
	int dkim;             /* verify DKIM signatures */
	int detect_threshold; /* bulk + marketing points for ADV_NO_LABEL */
	int optout_both;      /* R4 wants Vietnamese and English wording (legacy) */
	double w_label, w_no_label, w_r1a, w_r1b, w_r3, w_r4, w_r4h;
};

/* [r10]: rule R10, the From field and DMARC (engine_r10.c). */
struct engine_r10_conf {
	int enabled;
	double w_from_count, w_reject, w_quarantine, w_unaligned;
};

/* R10 per message: the From domain, its organisational domain and their
 * _dmarc TXT lookups (q_org NULL when the From is its organisational domain). */
struct engine_r10_run {
	char from[DNAME_MAX + 1]; /* "" = no DMARC check */
	char org[DNAME_MAX + 1];
	dnsq_query *q_from, *q_org;
	size_t planned;
};

struct cr_engine {
	dnsq_cache *cache;
	dnsq_ctx *dns;
	int64_t budget_ms;
	double tag_score, quarantine_score, reject_score; /* 0 = disabled */
	enum engine_action fail_action;
	char authserv_id[128];
	char reject_text[512];
	unsigned max_url_domains;
	struct msg_limits limits;
	double spf_weight[ENGINE_W_SPF_COUNT];
	double helo_spf_fail, helo_spf_softfail;
	struct engine_zone zones[ENGINE_MAX_ZONES];
	size_t nzones;
	pthread_mutex_t zone_lock; /* guards zones[].last_warn_ms */
	struct engine_advert_conf adv;
	dkimcheck *dkim;           /* NULL when [advert] dkim = no */
	struct engine_state *state; /* Redis-backed rules (engine_state.c) */
	struct engine_r8 *r8;       /* R8 on outbound mail (engine_r8.c) */
	struct engine_r10_conf r10;
};

/* One DNSBL lookup of a message. */
struct engine_lookup {
	dnsq_query *q;
	size_t zone;
	unsigned idents;               /* domain zones: ENGINE_ID_* that had this domain */
	char key[DNAME_MAX + 1];       /* the address or registered domain looked up */
	dnsq_query *txt;               /* [dnsbl] txt: the TXT of a listed name, else NULL */
};

/* Per zone, per message. */
struct engine_zone_run {
	dnsq_query *test_listed;   /* 127.0.0.2 / TEST: must be listed */
	dnsq_query *test_unlisted; /* 127.0.0.1 / INVALID: must not be */
	int unusable;
	char why[160];
};

/* A distinct registered domain of the message and where it was seen. */
struct engine_domain {
	char name[DNAME_MAX + 1];
	unsigned idents;
};

/* State of one engine_check call; lives on the caller's stack. */
struct engine_run {
	cr_engine *e;
	const struct engine_input *in;
	const cr_msg *msg;
	struct engine_verdict *v;
	int64_t deadline_ms;
	dnsq_set *set;
	struct engine_lookup lookups[DNSQ_SET_MAX_QUERIES];
	size_t nlookups;
	int lookup_overflow;           /* some lookup could not be queued */
	struct engine_zone_run zrun[ENGINE_MAX_ZONES];
	struct engine_domain domains[3 + ENGINE_URL_DOMAINS_MAX];
	size_t ndomains;
	char mail_from_domain[DNAME_MAX + 1]; /* registered domain, "" if none */
	/* SPF, run on a second thread while the DNSBL lookups run on this one */
	int spf_ran;                   /* spfcheck_run was called and returned */
	int spf_mail_from_checked;     /* spf_mail_from is valid */
	int spf_helo_checked;          /* spf_helo is valid */
	struct spfcheck_outcome spf_mail_from, spf_helo;
	char spf_err[200];
	char spf_mail_from_domain[DNAME_MAX + 1]; /* the domain SPF checked (A-R) */
	char helo_name[DNAME_MAX + 1];            /* normalised HELO, "" if not a name */
	/* advertising (engine_advert.c).  engine_advert_score sets adv_is (1: the
	 * message is advertising, labelled or by its signals) and adv_advertiser (the
	 * organisational domain of the From, else of a passing DKIM d=, "" if none);
	 * checks after it in inbound_checks (R5, R7) may read them. */
	int adv_is;
	char adv_advertiser[DNAME_MAX + 1];
	/* engine_advert_outbound's detection, kept for R8 after it: the folded
	 * visible text (NULL when the advertising rules are off; engine_check frees
	 * it), the Subject label and the signals */
	char *adv_folded;
	size_t adv_fl;
	struct advert_label adv_label;
	struct advert_signals adv_sig;
	/* the fingerprint of the visible text (fp_ok: computed), made once for
	 * TEMPLATE, R5's same content and the template id of advertising */
	int fp_ok;
	struct fingerprint fp;
	size_t dkim_planned;           /* DKIM key lookups queued on set */
	struct dkimcheck_result dkim;
	struct engine_r10_run r10;     /* engine_r10.c */
};

/* engine.c */
int engine_parse_weight(const char *text, double *out);
int engine_conf_weight(const cr_conf *conf, const char *section, const char *key, double *out,
		       char *err, size_t errlen);
int engine_fold_append(char *buf, size_t len, size_t *used, size_t *col, const char *sep,
		       const char *item);
/* Appends "; item" to the verdict's Authentication-Results (after SPF's), first
 * dropping a lone "none" (DKIM and DMARC results). */
void engine_auth_results_add(struct engine_run *r, const char *item);
void engine_add_hit(struct engine_run *r, const char *rule, double score, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void engine_reason_clean(char *s);

/* engine_dnsbl.c: parse the [dnsbl NAME] sections (engine_zones_dns, once the cache
 * exists: the zones' own dns_servers; engine_zones_free frees them); queue every
 * DNSBL lookup of the message; after the set ran, judge zone health, ask the TXT of
 * the listed names (a second run of the set, same deadline) and score (allow zones
 * first). */
int engine_zones_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
int engine_zones_dns(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
void engine_zones_free(cr_engine *e);
void engine_dnsbl_plan(struct engine_run *r);
void engine_dnsbl_health(struct engine_run *r);
void engine_dnsbl_txt(struct engine_run *r); /* after engine_dnsbl_health */
/* 1 if a usable allow zone matched (the ALLOW hit has been added). */
int engine_dnsbl_allow(struct engine_run *r);
void engine_dnsbl_score(struct engine_run *r);
const struct engine_zone *engine_zone_of_rule(const cr_engine *e, const char *rule);

/* engine_spf.c */
/* SPF of one message, run by a pooled worker thread while the caller runs the
 * DNSBL set (engine_spf.c). */
struct engine_spf_job {
	struct engine_run *r;
	struct engine_spf_job *next;
	pthread_cond_t done_cv;
	int done;
};
/* 1: queued for a worker; 0: nothing to check; -1: no worker (finish runs it). */
int engine_spf_start(struct engine_run *r, struct engine_spf_job *job);
void engine_spf_finish(struct engine_run *r, struct engine_spf_job *job, int started);
void engine_spf_score(struct engine_run *r);
void engine_spf_auth_results(struct engine_run *r);

/* engine_advert.c: [advert] settings and the libopendkim handle; DKIM key lookups
 * queued with the DNSBL ones; DKIM verification (after the DNS phase, appending to
 * Authentication-Results); the rules ADV_LABEL, ADV_NO_LABEL, R1a, R1b, R3, R4, R4h. */
int engine_advert_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
void engine_advert_free(cr_engine *e);
void engine_dkim_plan(struct engine_run *r);
void engine_dkim_verify(struct engine_run *r);
void engine_advert_score(struct engine_run *r);
/* Outbound: whether the message is advertising (no hit, no score) and, if so,
 * its template id (the fingerprint engine_template_score made, else one made
 * here); runs after engine_template_score. */
void engine_advert_outbound(struct engine_run *r);

/* engine_state.c: the rules over per-message state in Redis — TEMPLATE (known spam
 * templates), R5 (frequency per advertiser and recipient), R7 (opt-outs), and the
 * outbound watch (P4: OUT_LIMIT, OUT_SCORE, OUT_HELD).  When Redis fails they are
 * skipped and the verdict is marked ENGINE_DEG_STORE. */
int engine_state_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
void engine_state_free(cr_engine *e);
/* Shared with the other rules over Redis (R8): the connection pool, the opt-out
 * recipient delimiter ('\0' = off), the queue id for logs ("-"), and a store
 * failure — the verdict marked degraded, "QID: WHAT skipped: ERR" logged at most
 * once a minute for all of them. */
cr_kv *engine_state_kv(const cr_engine *e);
char engine_optout_delim(const cr_engine *e);
const char *engine_qid(const struct engine_run *r);
void engine_store_failed(struct engine_run *r, const char *what, const char *err);
void engine_template_score(struct engine_run *r);
/* r->fp, the fingerprint of the visible text, made once per message (TEMPLATE,
 * R5's same-content counter, the template id); 1 if there is one. */
int engine_text_fingerprint(struct engine_run *r);
void engine_optout_frequency_score(struct engine_run *r); /* after engine_advert_score */
void engine_outbound_score(struct engine_run *r);         /* last of outbound_checks */
/* engine_r8.c: R8, opt-out confirmations on outbound mail (after
 * engine_advert_outbound, which sets r->adv_is; before engine_outbound_score, so
 * its weight counts toward the hold). */
int engine_r8_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
void engine_r8_free(cr_engine *e);
void engine_r8_score(struct engine_run *r);

/* Before the action is chosen: adds the per-recipient score all recipients share. */
void engine_rcpt_settle(struct engine_run *r);
/* After: per-recipient rejects, the outbound hold; returns the message action. */
enum engine_action engine_rcpt_action(struct engine_run *r, enum engine_action a);

/* engine_r10.c: rule R10 (inbound): the From field once (RFC 5322 3.6) and DMARC
 * (RFC 7489) — [r10] settings (which also turn DKIM verification on), the
 * _dmarc policy lookups queued with the DNSBL ones, the score after SPF and DKIM,
 * and the dmarc= part of Authentication-Results. */
int engine_r10_load(cr_engine *e, const cr_conf *conf, char *err, size_t errlen);
void engine_r10_plan(struct engine_run *r);
void engine_r10_score(struct engine_run *r);

#endif
