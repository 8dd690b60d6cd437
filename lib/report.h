/* report: users' spam reports (P2) turned into listings (P3, P8).  A report is a
 * raw message or an RFC 5965 feedback report; report_analyse finds what it
 * accuses — the originating IP (received.h), the sender's and the URLs'
 * registered domains, the body fingerprint (fingerprint.h) — and report_submit
 * stores it with its evidence, counts distinct reporters per item and lists an
 * item once [report] thresholds agree, never listing special-purpose address
 * space, our own trusted relays, anything the allow list covers, or an item an
 * operator delisted.  Keys (hash tag {rp}): doc/redis-keys.md. */
#ifndef CHANRAC_REPORT_H
#define CHANRAC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "dname.h"
#include "fingerprint.h"
#include "kv.h"
#include "listing.h"
#include "stats.h"
#include "store.h"

#define REPORT_MAX_TRUSTED 64
#define REPORT_MAX_DOMAINS 16
#define REPORT_ID_LEN 16
#define REPORT_TEXT_MAX 255

/* [report] settings, read once. */
struct report_conf {
	struct cr_prefix trusted[REPORT_MAX_TRUSTED];
	size_t ntrusted;
	int auto_list;
	long long ip_threshold, domain_threshold, fingerprint_threshold;
	char ip_list[LISTING_LIST_MAX + 1], domain_list[LISTING_LIST_MAX + 1];
	char allow_list[LISTING_LIST_MAX + 1];
	uint32_t ip_code, domain_code;
	int64_t list_expires;  /* seconds; 0 = never */
	int64_t keep;          /* seconds a report is kept (P6: at least 180 days) */
	int64_t window;        /* seconds a reporter's vote counts */
	int count_from, count_urls;
	long long max_url_domains, header_bytes, fingerprint_min_words;
};

/* Reads [report] and [lists]; 0, or -1 with err naming the key. */
int report_conf_load(const cr_conf *conf, struct report_conf *rc, char *err, size_t errlen);

/* What a report accuses. */
struct report_facts {
	int not_spam;                 /* --not-spam or an RFC 6430 report */
	int is_arf;
	char arf_type[64];            /* Feedback-Type */
	char arf_agent[REPORT_TEXT_MAX + 1];
	int has_ip;                   /* an originating IP was found */
	struct cr_addr ip;
	char ip_text[ADDR_TEXT_MAX];
	const char *ip_via;           /* "received", "arf source-ip", "none" */
	size_t trusted_hops;          /* our relays passed above it */
	char hop[REPORT_TEXT_MAX + 1];/* the Received field it came from (cut) */
	const char *ip_unlistable;    /* why the IP can never be listed, or NULL */
	char from_domain[DNAME_MAX + 1]; /* registered domain of From, "" if none */
	char domains[REPORT_MAX_DOMAINS][DNAME_MAX + 1]; /* registered; From first */
	char domain_origin[REPORT_MAX_DOMAINS][8];       /* "from", "url", "arf" */
	size_t ndomains;
	char fingerprint[FINGERPRINT_ID_LEN + 1]; /* "" when the body is too short */
	struct fingerprint fp;        /* its signature, when fingerprint[0] */
	char message_id[REPORT_TEXT_MAX + 1];
	char subject[REPORT_TEXT_MAX + 1];
	char date[REPORT_TEXT_MAX + 1];
	char arrival[REPORT_TEXT_MAX + 1];
	char mail_from[REPORT_TEXT_MAX + 1];
	char identity[REPORT_ID_LEN + 1]; /* hash of Message-ID, else of the bytes */
	char *headers;                /* the header section, cut to header_bytes */
	char *original;               /* the reported message's bytes (for --arf) */
	size_t original_len;
};

/* Analyses one message (raw, or an ARF report carrying one).  force_not_spam:
 * treat it as a not-spam report.  0, or -1 with err (a malformed ARF report).
 * Free with report_facts_free. */
int report_analyse(const struct report_conf *rc, const char *buf, size_t len,
		   int force_not_spam, struct report_facts *f, char *err, size_t errlen);
void report_facts_free(struct report_facts *f);

/* What happened to one accused item. */
struct report_item {
	char kind[12];       /* "ip", "domain", "fingerprint" */
	char item[DNAME_MAX + 1];
	long long reporters; /* distinct reporters now */
	long long threshold;
	char action[96];     /* "listed on spam-ip", "below threshold", "not listable: private"... */
	int listed;          /* this report listed it */
};
struct report_outcome {
	char id[REPORT_ID_LEN + 1];
	int duplicate;       /* the same reporter had reported this message already */
	char status[16];     /* pending, listed, notspam */
	struct report_item items[2 + REPORT_MAX_DOMAINS];
	size_t nitems;
};

/* Stores the report of reporter at now, counts its votes and lists what crossed
 * a threshold (each listing audited: who "report", why, ref = report id); a
 * fingerprint crossing its threshold is added to the known spam templates
 * (lib/template.h) when kv is not NULL.  stats may be NULL.  0, or a negative
 * store status with store_error(s). */
int report_submit(cr_store *s, cr_stats *stats, cr_kv *kv, const struct report_conf *rc,
		  const struct report_facts *f, const char *reporter, int64_t now,
		  struct report_outcome *out);

/* ---- review ---- */

/* Field/value pairs of a stored report (NULL-terminated names); free with
 * report_fields_free.  STORE_NOTFOUND when there is no such report. */
struct report_fields {
	size_t n;
	char **name, **value;
};
int report_get(cr_store *s, const char *id, struct report_fields *out);
const char *report_field(const struct report_fields *r, const char *name);
void report_fields_free(struct report_fields *r);

/* Report ids with times in [from, to] (0 = open), newest first, at most max. */
typedef int (*report_id_fn)(void *ud, const char *id, int64_t when);
int report_list(cr_store *s, int64_t from, int64_t to, long max, report_id_fn fn, void *ud);

/* accept: lists the report's IP and domains now (what may be listed: the same
 * exclusions as auto-listing, except the threshold and an operator's delisting);
 * reject: dismisses it and withdraws its reporter's votes.  Either way the
 * report becomes processed.  Accepting a not-spam report instead removes its IP
 * and domains from [report] ip_list / domain_list (audited, ref = the report id)
 * and holds them from being listed again by reports (item "listed" = removed).  STORE_NOTFOUND, STORE_EEXIST (already decided)
 * or another status.  out (may be NULL) says what was listed. */
int report_decide(cr_store *s, cr_stats *stats, const struct report_conf *rc, const char *id,
		  int accept, const char *who, const char *why, struct report_outcome *out);

/* Remembers that an operator delisted key (an address/prefix or domain key
 * text) so that reports do not list it again automatically. */
int report_hold(cr_store *s, const char *key, const char *who, const char *why, int64_t now);

#endif
