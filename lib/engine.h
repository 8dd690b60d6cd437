/* engine: the check engine.  Scores one message — connection facts, envelope,
 * headers and body (a parsed cr_msg) — against the configured DNSBL zones (ours,
 * served by chanrac-rbld, and external ones), domain zones (HELO, MAIL FROM,
 * From: and body-URL registered domains), SPF, and (later) the advertising
 * rules, and returns a verdict: total score, every rule hit with its score and
 * reason, the headers to add and an action.  chanrac-milter and `chanrac scan`
 * call exactly this, so both give the same verdict for the same input.
 *
 * A cr_engine is built once from the configuration and is immutable and shared
 * by all milter threads (its DNS cache is internally locked; zone health is
 * kept under zone_lock, see engine.c).  Each check runs on the calling thread
 * and never waits past its deadline. */
#ifndef CHANRAC_ENGINE_H
#define CHANRAC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "msg.h"

typedef struct cr_engine cr_engine;

/* What the MTA told us about the message.  Every pointer may be NULL. */
struct engine_input {
	struct cr_addr client;   /* valid when have_client */
	int have_client;
	const char *client_ptr;  /* verified reverse name, e.g. Postfix {client_name} */
	const char *helo;
	const char *mail_from;   /* envelope sender without <>; "" = null sender */
	const char *const *rcpts; /* envelope recipients without <> */
	size_t nrcpts;
	const char *sasl_user;   /* {auth_authen}: set on authenticated submission */
	const char *queue_id;    /* for log lines */
	int dry_run;             /* read per-message state (counters, holds) but record
				    nothing: `chanrac scan` */
};

enum engine_action {
	ENGINE_ACCEPT = 0,   /* deliver; the X-Chanrac headers are still added */
	ENGINE_TAG,          /* deliver with X-Chanrac-Spam: yes (score >= tag_score) */
	ENGINE_QUARANTINE,   /* hold (Postfix hold queue); never discard */
	ENGINE_TEMPFAIL,     /* 451 4.7.1: try again later (fail mode, limits) */
	ENGINE_REJECT,       /* 550 5.7.1 with the verdict's reply text */
};

#define ENGINE_RULE_MAX 32
#define ENGINE_REASON_MAX 256
#define ENGINE_MAX_HITS 64
#define ENGINE_HEADER_MAX 2048
#define ENGINE_REPLY_MAX 400
#define ENGINE_MAX_RCPTS 1000 /* per-recipient results kept (Postfix's own limit) */
#define ENGINE_ADVERTISER_MAX 253 /* a domain name (DNAME_MAX) */
#define ENGINE_TEMPLATE_ID_MAX 16 /* FINGERPRINT_ID_LEN */
#define ENGINE_FREQ_MEMBER_MAX 96 /* FREQUENCY_MEMBER_MAX */
/* Regulation rules one advertising message can fail (engine_advert_failed). */
#define ENGINE_ADV_FAILED_MAX 5

/* One rule that fired.  rule: a stable id from doc/rules.md (RBL_OWN, SPF_FAIL,
 * URIBL, ... or a REGULATIONS.md id such as R1). */
struct engine_hit {
	char rule[ENGINE_RULE_MAX];
	double score;
	char reason[ENGINE_REASON_MAX];
};

/* Why the verdict may be incomplete. */
enum engine_degraded {
	ENGINE_DEG_DNS_TIMEOUT = 1u << 0,  /* some lookups had no answer in time */
	ENGINE_DEG_DNS_FAILED = 1u << 1,   /* no DNS server answered at all */
	ENGINE_DEG_ZONE_UNUSABLE = 1u << 2,/* a zone failed its self-test or gave error codes */
	ENGINE_DEG_STORE = 1u << 3,        /* Redis was unavailable for per-message state */
	ENGINE_DEG_PARSE_CAP = 1u << 4,    /* the message hit a parser limit */
};

struct engine_verdict {
	double score;
	enum engine_action action;
	int allowed;             /* the allow list matched: accepted, no other check ran */
	unsigned degraded;       /* ENGINE_DEG_* */
	size_t nhits;
	struct engine_hit hits[ENGINE_MAX_HITS];
	/* Header values to add, without the field name; "" = do not add. */
	char hdr_score[64];                    /* X-Chanrac-Score: "7.5 / 10.0" */
	char hdr_report[ENGINE_HEADER_MAX];    /* X-Chanrac-Report: "RBL_OWN=10 (...), ..." */
	char hdr_auth_results[ENGINE_HEADER_MAX]; /* Authentication-Results (RFC 8601) */
	/* For ENGINE_REJECT/TEMPFAIL: reply text, already sanitised (printable
	 * ASCII, no CR/LF, '%' doubled for libmilter, bounded). */
	char reply[ENGINE_REPLY_MAX];
	int64_t elapsed_ms;
	/* Per recipient (engine_input.rcpts order, the first ENGINE_MAX_RCPTS):
	 * rules that concern one recipient (R5, R7) add their weight to that
	 * recipient's score only; what all recipients share is in score.  A recipient
	 * whose R7 hit has [optout] action = reject, or whose own score reaches
	 * reject_score, is rejected alone (action ENGINE_REJECT; the milter removes
	 * it with smfi_delrcpt); when every recipient is, the message is rejected.
	 * Other actions apply to the whole message. */
	size_t nrcpts;
	struct engine_rcpt_verdict {
		double score;              /* added by per-recipient rules */
		enum engine_action action; /* ENGINE_REJECT or ENGINE_ACCEPT (= the message's) */
		char rule[ENGINE_RULE_MAX]; /* the rule that rejects it, "" if none */
	} rcpt[ENGINE_MAX_RCPTS];
	int hold;                /* outbound (P4): the submitting user is held; the
				    message is quarantined */
	/* Advertising (REGULATIONS.md "Which mail is advertising"), for the
	 * statistics of the periodic reports (P7).  Inbound: ADV_LABEL or
	 * ADV_NO_LABEL fired.  Outbound: the same detection, which adds no hit
	 * there.  0 when [advert] enabled = no or the allow list matched. */
	int advertising;
	/* Its advertiser: the organisational domain (Public Suffix List) of the
	 * From, else of a passing DKIM d=; "" if unknown. */
	char advertiser[ENGINE_ADVERTISER_MAX + 1];
	/* Advertising: the fingerprint id (lib/fingerprint.h) of its visible
	 * text, the same id `chanrac template` and spam reports use (outbound: the
	 * statistics' template; inbound: R5's same content); "" when the text has
	 * fewer than 3 distinct words (no fingerprint) or it is not advertising. */
	char template_id[ENGINE_TEMPLATE_ID_MAX + 1];
	/* R5's record of this message, for engine_forget: the member added to the
	 * counters of advertiser and each of the first freq_nrcpts recipients; ""
	 * when nothing was recorded (not advertising, dry_run, Redis failed). */
	char freq_member[ENGINE_FREQ_MEMBER_MAX];
	size_t freq_nrcpts;
};

/* Builds an engine from the configuration: thresholds and weights from [engine],
 * zones from the [dnsbl NAME] sections, DNS servers and cache sizes.
 * NULL with err naming the key on a bad value. */
cr_engine *engine_new(const cr_conf *conf, char *err, size_t errlen);
void engine_free(cr_engine *e);

/* Message parser limits from the configuration ([engine] max_scan_bytes, ...). */
void engine_msg_limits(const cr_engine *e, struct msg_limits *lim);

/* The per-message time budget in ms ([engine] deadline). */
int64_t engine_budget_ms(const cr_engine *e);

/* Runs every check on a finished message (msg_end called; msg may be NULL for a
 * connection-only check) and fills *v.  All DNS lookups go out at once and share
 * the absolute deadline deadline_ms (util_mono_ms() time); what has not answered
 * by then is treated as not listed and flagged in v->degraded.  Never fails:
 * on internal errors it returns a verdict with the degraded flags set. */
void engine_check(cr_engine *e, const struct engine_input *in, const cr_msg *msg,
		  int64_t deadline_ms, struct engine_verdict *v);

/* Fail mode ([engine] fail_mode = accept|tempfail): the action to take when
 * v->degraded says DNS or the store failed; callers apply it. */
enum engine_action engine_fail_action(const cr_engine *e);

/* "accept", "tag", "quarantine", "tempfail", "reject". */
const char *engine_action_name(enum engine_action a);
/* The verdict's (first) hit of rule, or NULL. */
const struct engine_hit *engine_verdict_hit(const struct engine_verdict *v, const char *rule);

/* Added by the engine's implementation (h6); the declarations above are unchanged. */

/* The configured thresholds ([engine] tag_score, quarantine_score, reject_score;
 * 0 = that action is off).  Any pointer may be NULL. */
void engine_thresholds(const cr_engine *e, double *tag, double *quarantine, double *reject);

/* Short name of one ENGINE_DEG_* bit: "dns_timeout", "dns_failed",
 * "zone_unusable", "store", "parse_cap"; "?" if unknown. */
const char *engine_degraded_name(unsigned flag);

/* SMTP reply text as v->reply holds it: bytes outside printable ASCII (CR, LF,
 * controls, UTF-8) become spaces, runs of spaces collapse, '%' is doubled
 * (smfi_setreply formats it), cut to len-1 bytes without splitting a "%%".
 * Returns the length written. */
size_t engine_reply_sanitise(const char *in, char *out, size_t len);

/* The REGULATIONS.md rules an advertising message failed, read from its hits
 * into out, each once, in this order: "R1" (ADV_NO_LABEL: no label; R1b: the
 * label is not first), "R3", "R4", "R5", "R7" (R5/R7 for any recipient).  R1a (a
 * tolerated label) and R4h (List-Unsubscribe, not a D91 duty) are not failures
 * and are not listed.  Returns how many; 0 when v is not advertising. */
size_t engine_advert_failed(const struct engine_verdict *v,
			    const char *out[ENGINE_ADV_FAILED_MAX]);

/* Undoes what engine_check recorded for recipients the message will not reach
 * (R5: a message rejected, deferred or removed for a recipient must not count
 * against later ones; doc/rules.md).  in and v as engine_check had them; gone:
 * one flag per recipient (v->nrcpts, engine_input order), non-zero = not
 * delivered to it, or NULL = delivered to none (the final action is reject or
 * tempfail).  Called once the caller has decided: one Redis round trip bounded
 * by [engine] store_timeout, nothing when nothing was recorded; a failure is
 * logged and changes nothing else. */
void engine_forget(cr_engine *e, const struct engine_input *in, const struct engine_verdict *v,
		   const unsigned char *gone);

/* Writes "RULE=score RULE=score ..." (the log line's rule list) into buf. */
void engine_rules_line(const struct engine_verdict *v, char *buf, size_t len);

#endif
