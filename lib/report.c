/* report: spam reports from analysis to listing (report.h).  The report and
 * its votes are written by one script in the {rp} slot; listings go through
 * lib/store.c (slot {bl}) with an audit entry naming the report, so the two
 * never need one transaction: a listing that fails leaves the report pending
 * and the next report (or `chanrac reports accept`) tries again. */
#include "report.h"

#include <ctype.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arf.h"
#include "log.h"
#include "msg.h"
#include "received.h"
#include "template.h"
#include "util.h"

#define REPORT_KEY_MAX (64 + DNAME_MAX + 64)
#define REPORT_MAX_RECEIVED 64

/* ---------------------------------------------------------------- config */

int report_conf_load(const cr_conf *conf, struct report_conf *rc, char *err, size_t errlen)
{
	const char *const *l;
	char e2[256];

	memset(rc, 0, sizeof *rc);
	for (l = conf_list(conf, "report", "trusted_relays"); l && *l; l++) {
		if (rc->ntrusted == REPORT_MAX_TRUSTED) {
			util_errf(err, errlen, "[report] trusted_relays: more than %d entries",
				  REPORT_MAX_TRUSTED);
			return -1;
		}
		if (addr_parse_prefix(*l, &rc->trusted[rc->ntrusted], e2, sizeof e2) < 0) {
			util_errf(err, errlen, "[report] trusted_relays: %s", e2);
			return -1;
		}
		rc->ntrusted++;
	}
	rc->auto_list = conf_bool(conf, "report", "auto_list");
	rc->ip_threshold = conf_int(conf, "report", "ip_threshold");
	rc->domain_threshold = conf_int(conf, "report", "domain_threshold");
	rc->fingerprint_threshold = conf_int(conf, "report", "fingerprint_threshold");
	{
		static const char *const keys[] = { "ip_list", "domain_list", "allow_list" };
		char *dst[] = { rc->ip_list, rc->domain_list, rc->allow_list };
		for (size_t i = 0; i < 3; i++) {
			const char *v = conf_str(conf, "report", keys[i]);
			const char *const *names = conf_list(conf, "lists", "names");
			int known = 0;
			for (; names && *names; names++)
				known |= strcmp(*names, v) == 0;
			if (!known && !(i == 2 && v[0] == '\0')) {
				util_errf(err, errlen, "[report] %s: \"%s\" is not a list of [lists] names",
					  keys[i], v);
				return -1;
			}
			util_strlcpy(dst[i], v, LISTING_LIST_MAX + 1);
		}
	}
	if (listing_parse_code(conf_str(conf, "report", "ip_code"), &rc->ip_code, e2,
			       sizeof e2) < 0) {
		util_errf(err, errlen, "[report] ip_code: %s", e2);
		return -1;
	}
	if (listing_parse_code(conf_str(conf, "report", "domain_code"), &rc->domain_code, e2,
			       sizeof e2) < 0) {
		util_errf(err, errlen, "[report] domain_code: %s", e2);
		return -1;
	}
	rc->list_expires = conf_ms(conf, "report", "list_expires") / 1000;
	rc->keep = conf_ms(conf, "report", "keep") / 1000;
	rc->window = conf_ms(conf, "report", "window") / 1000;
	rc->count_from = 0;
	rc->count_urls = 0;
	for (l = conf_list(conf, "report", "domain_sources"); l && *l; l++) {
		if (strcmp(*l, "from") == 0)
			rc->count_from = 1;
		else if (strcmp(*l, "urls") == 0)
			rc->count_urls = 1;
		else {
			util_errf(err, errlen, "[report] domain_sources: \"%s\" (from, urls)", *l);
			return -1;
		}
	}
	rc->max_url_domains = conf_int(conf, "report", "max_url_domains");
	rc->header_bytes = conf_int(conf, "report", "header_bytes");
	/* The engine's threshold, so that every fingerprint a report stores as a
	 * template can also match ([templates] min_words). */
	rc->fingerprint_min_words = conf_int(conf, "templates", "min_words");
	return 0;
}

/* ---------------------------------------------------------------- analysis */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

static void cut_copy(char *dst, size_t dlen, const char *src)
{
	util_strlcpy(dst, src ? src : "", dlen);
	listing_clean_text(dst, dlen - 1);
}

/* Adds the registered domain of name (any spelling) to f->domains once. */
static void add_domain(struct report_facts *f, const char *name, const char *origin)
{
	char norm[DNAME_MAX + 1], reg[DNAME_MAX + 1];

	if (name == NULL || name[0] == '\0' || f->ndomains == REPORT_MAX_DOMAINS)
		return;
	if (name[0] == '[' || strspn(name, "0123456789.") == strlen(name))
		return; /* an address literal is no domain */
	if (dname_normalise(name, norm, sizeof norm, NULL, 0) < 0)
		return;
	if (dname_registered(norm, reg, sizeof reg) != 0)
		return; /* a public suffix itself, or no registered domain */
	if (strchr(reg, '.') == NULL)
		return;
	for (size_t i = 0; i < f->ndomains; i++)
		if (strcmp(f->domains[i], reg) == 0)
			return;
	util_strlcpy(f->domains[f->ndomains], reg, DNAME_MAX + 1);
	util_strlcpy(f->domain_origin[f->ndomains], origin, sizeof f->domain_origin[0]);
	f->ndomains++;
}

/* The header section of a message: up to the first empty line. */
static size_t header_len(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 1;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 1;
	}
	return len;
}

static const char *trusted_or_special(const struct report_conf *rc, const struct cr_addr *a)
{
	for (size_t i = 0; i < rc->ntrusted; i++)
		if (addr_prefix_contains(&rc->trusted[i], a))
			return "one of our trusted relays";
	return received_special_addr(a);
}

int report_analyse(const struct report_conf *rc, const char *buf, size_t len,
		   int force_not_spam, struct report_facts *f, char *err, size_t errlen)
{
	struct arf_report *arf = NULL;
	const char *orig = buf;
	size_t olen = len;
	cr_msg *m = NULL;
	char perr[256];
	uint64_t h;

	memset(f, 0, sizeof *f);
	f->ip_via = "none";
	if (arf_is_report(buf, len)) {
		if (arf_parse(buf, len, &arf, perr, sizeof perr) < 0) {
			util_errf(err, errlen, "%s", perr);
			return -1;
		}
		f->is_arf = 1;
		cut_copy(f->arf_type, sizeof f->arf_type, arf->feedback_type);
		cut_copy(f->arf_agent, sizeof f->arf_agent, arf->user_agent);
		cut_copy(f->arrival, sizeof f->arrival, arf->arrival_date);
		cut_copy(f->mail_from, sizeof f->mail_from, arf->original_mail_from);
		f->not_spam = arf_is_not_spam(arf);
		orig = arf->original;
		olen = arf->original_len;
	}
	f->not_spam |= force_not_spam;
	if (orig != NULL && olen > 0) {
		m = msg_parse_buffer(orig, olen, NULL, perr, sizeof perr);
		if (m == NULL) {
			util_errf(err, errlen, "%s", perr);
			arf_free(arf);
			return -1;
		}
		f->original = malloc(olen + 1);
		if (f->original != NULL) {
			memcpy(f->original, orig, olen);
			f->original[olen] = '\0';
			f->original_len = olen;
		}
		{
			size_t hl = header_len(orig, olen);
			if ((long long)hl > rc->header_bytes)
				hl = (size_t)rc->header_bytes;
			f->headers = malloc(hl + 1);
			if (f->headers != NULL) {
				memcpy(f->headers, orig, hl);
				f->headers[hl] = '\0';
			}
		}
	}
	/* the originating IP: Source-IP of a feedback report, else the Received walk */
	if (arf != NULL && arf->has_source_ip) {
		f->has_ip = 1;
		f->ip = arf->source_ip;
		f->ip_via = "arf source-ip";
	} else if (m != NULL) {
		const char *vals[REPORT_MAX_RECEIVED];
		size_t n = 0;
		struct received_origin o;
		for (; n < REPORT_MAX_RECEIVED; n++) {
			const struct msg_header_field *hf = msg_header_find(m, "Received", n);
			if (hf == NULL)
				break;
			vals[n] = hf->raw;
		}
		if (received_origin(vals, n, rc->trusted, rc->ntrusted, &o)) {
			f->has_ip = 1;
			f->ip = o.ip;
			f->ip_via = "received";
			f->trusted_hops = o.trusted;
			cut_copy(f->hop, sizeof f->hop, vals[o.hop]);
		}
	}
	if (f->has_ip) {
		addr_format(&f->ip, f->ip_text, sizeof f->ip_text);
		f->ip_unlistable = trusted_or_special(rc, &f->ip);
	}
	/* domains: the From domain, the feedback report's, then the URLs' */
	if (m != NULL) {
		const char *fd = msg_from_domain(m);
		char norm[DNAME_MAX + 1];
		if (fd != NULL && dname_normalise(fd, norm, sizeof norm, NULL, 0) == 0 &&
		    dname_registered(norm, f->from_domain, sizeof f->from_domain) != 0)
			f->from_domain[0] = '\0';
		if (rc->count_from && f->from_domain[0])
			add_domain(f, f->from_domain, "from");
		cut_copy(f->message_id, sizeof f->message_id, msg_header_value(m, "Message-ID", 0));
		cut_copy(f->subject, sizeof f->subject, msg_subject(m));
		cut_copy(f->date, sizeof f->date, msg_header_value(m, "Date", 0));
	}
	if (arf != NULL)
		for (size_t i = 0; i < arf->n_reported_domain; i++)
			add_domain(f, arf->reported_domain[i], "arf");
	if (m != NULL && rc->count_urls) {
		long long urls = 0;
		for (size_t i = 0; i < msg_url_count(m) && urls < rc->max_url_domains; i++) {
			size_t before = f->ndomains;
			add_domain(f, msg_url_at(m, i)->host, "url");
			urls += f->ndomains > before;
		}
	}
	/* the body fingerprint (lib/fingerprint.h) */
	if (m != NULL && !(arf != NULL && arf->headers_only)) {
		size_t tl = 0;
		const char *text = msg_text(m, &tl);
		if (text != NULL &&
		    fingerprint_text(text, tl, (unsigned)rc->fingerprint_min_words, &f->fp) == 0)
			fingerprint_id(&f->fp, f->fingerprint);
	}
	/* identity: the Message-ID when there is one, else the bytes */
	h = FNV_INIT;
	if (f->message_id[0])
		h = fnv1a(h, f->message_id, strlen(f->message_id));
	else if (orig != NULL)
		h = fnv1a(h, orig, olen);
	else
		h = fnv1a(h, buf, len);
	snprintf(f->identity, sizeof f->identity, "%016" PRIx64, h);
	msg_free(m);
	arf_free(arf);
	return 0;
}

void report_facts_free(struct report_facts *f)
{
	free(f->headers);
	free(f->original);
	f->headers = NULL;
	f->original = NULL;
}

/* ---------------------------------------------------------------- storing */

/* KEYS report, index, then per item: reporters set, ids set.
 * ARGV id, now, reporter, keep, window, vote (1/0), oldest, nfields, pairs.
 * Returns {new, status, count per item}. */
static const char report_submit_lua[] =
	"local out\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  out = {0, redis.call('HGET', KEYS[1], 'status') or ''}\n"
	"  for i = 3, #KEYS, 2 do out[#out + 1] = redis.call('SCARD', KEYS[i]) end\n"
	"  return out\n"
	"end\n"
	"local n = tonumber(ARGV[8])\n"
	"local fv = {}\n"
	"for i = 1, 2 * n do fv[i] = ARGV[8 + i] end\n"
	"redis.call('HSET', KEYS[1], unpack(fv))\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
	"redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[7])\n"
	"out = {1, redis.call('HGET', KEYS[1], 'status')}\n"
	"for i = 3, #KEYS, 2 do\n"
	"  if ARGV[6] == '1' then\n"
	"    redis.call('SADD', KEYS[i], ARGV[3])\n"
	"    redis.call('EXPIRE', KEYS[i], ARGV[5])\n"
	"    redis.call('SADD', KEYS[i + 1], ARGV[1])\n"
	"    redis.call('EXPIRE', KEYS[i + 1], ARGV[5])\n"
	"  end\n"
	"  out[#out + 1] = redis.call('SCARD', KEYS[i])\n"
	"end\n"
	"return out\n";

/* KEYS report keys; ARGV status, listed text, now.  Pending ones become
 * status; returns how many changed. */
static const char report_resolve_lua[] =
	"local n = 0\n"
	"for i = 1, #KEYS do\n"
	"  if redis.call('HGET', KEYS[i], 'status') == 'pending' then\n"
	"    redis.call('HSET', KEYS[i], 'status', ARGV[1], 'decided_at', ARGV[3])\n"
	"    if ARGV[2] ~= '' then redis.call('HSET', KEYS[i], 'listed', ARGV[2]) end\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n";

static void rkey(const cr_store *s, char *buf, size_t len, const char *a, const char *b,
		 const char *c)
{
	int n = snprintf(buf, len, "%s:{rp}:%s%s%s%s%s", store_prefix(s), a, b ? ":" : "",
			 b ? b : "", c ? ":" : "", c ? c : "");
	if (n < 0 || (size_t)n >= len)
		log_warn("report: key %s:{rp}:%s... cut to %zu bytes", store_prefix(s), a, len);
}

struct field_list {
	const char *name[40];
	const char *value[40];
	size_t n;
};

static void fl_add(struct field_list *fl, const char *name, const char *value)
{
	if (fl->n < 40 && value != NULL) {
		fl->name[fl->n] = name;
		fl->value[fl->n] = value;
		fl->n++;
	}
}

/* Marks the pending reports of an item's id set as listed; returns how many. */
static long long resolve_ids(cr_store *s, const char *ids_key, const char *listed, int64_t now)
{
	const char *argv[2] = { "SMEMBERS", ids_key };
	redisReply *r = store_command(s, "SMEMBERS", 2, argv, NULL);
	long long n = 0;

	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		char (*keys)[REPORT_KEY_MAX] = calloc(r->elements, sizeof *keys);
		const char **kp = calloc(r->elements, sizeof *kp);
		char nowt[24];
		const char *args[3] = { "listed", listed, nowt };
		size_t k = 0;
		snprintf(nowt, sizeof nowt, "%" PRId64, now);
		if (keys != NULL && kp != NULL) {
			for (size_t i = 0; i < r->elements; i++) {
				if (r->element[i]->type != REDIS_REPLY_STRING)
					continue;
				rkey(s, keys[k], sizeof keys[k], "r", r->element[i]->str, NULL);
				kp[k] = keys[k];
				k++;
			}
			redisReply *x = store_eval(s, "resolve", report_resolve_lua, (int)k, kp, 3,
						   args, NULL);
			if (x != NULL && x->type == REDIS_REPLY_INTEGER)
				n = x->integer;
			if (x != NULL)
				freeReplyObject(x);
		}
		free(keys);
		free(kp);
	}
	freeReplyObject(r);
	return n;
}

/* Is the item on hold (delisted by an operator)?  Returns 1 and the text. */
static int on_hold(cr_store *s, const char *holdkey, char *why, size_t len)
{
	char key[REPORT_KEY_MAX];
	const char *argv[3] = { "HGET", key, holdkey };
	redisReply *r;
	int held = 0;

	rkey(s, key, sizeof key, "hold", NULL, NULL);
	r = store_command(s, "HGET", 3, argv, NULL);
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		held = 1;
		util_strlcpy(why, r->str, len);
	}
	if (r != NULL)
		freeReplyObject(r);
	return held;
}

/* Lists one item (an address or a domain) if nothing forbids it.  Sets
 * it->action; returns 1 when listed now, 2 when it was listed already, 0 when
 * not listed, negative on a store error. */
static int list_item(cr_store *s, cr_stats *stats, const struct report_conf *rc,
		     struct report_item *it, const char *report_id, const char *why_text,
		     const char *who, int ignore_hold, int64_t now)
{
	struct listing_entry e, key;
	struct store_match m[32];
	const char *list = strcmp(it->kind, "ip") == 0 ? rc->ip_list : rc->domain_list;
	char err[256], holdkey[DNAME_MAX + 16], held[256];
	int n, st;

	if (listing_parse_key(it->item, &key, err, sizeof err) < 0) {
		snprintf(it->action, sizeof it->action, "not listable: %.80s", err);
		return 0;
	}
	n = store_query(s, &key, m, 32);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (rc->allow_list[0] && strcmp(m[i].list, rc->allow_list) == 0 &&
		    !m[i].entry.exclude) {
			snprintf(it->action, sizeof it->action, "not listed: on the %s list",
				 rc->allow_list);
			return 0;
		}
	}
	for (int i = 0; i < n; i++)
		if (strcmp(m[i].list, list) == 0 && !m[i].entry.exclude) {
			snprintf(it->action, sizeof it->action, "already listed on %s", list);
			return 2;
		}
	snprintf(holdkey, sizeof holdkey, "%s:%s", it->kind, it->item);
	if (!ignore_hold && on_hold(s, holdkey, held, sizeof held)) {
		snprintf(it->action, sizeof it->action, "not listed: delisted by an operator (%.50s)",
			 held);
		return 0;
	}
	e = key;
	e.code = strcmp(it->kind, "ip") == 0 ? rc->ip_code : rc->domain_code;
	e.added = now;
	e.expires = rc->list_expires > 0 ? now + rc->list_expires : 0;
	snprintf(e.source, sizeof e.source, "report:%s", report_id);
	util_strlcpy(e.reason, why_text, sizeof e.reason);
	listing_clean_text(e.reason, LISTING_REASON_MAX);
	store_set_audit(s, who, why_text, report_id);
	st = store_entry_add(s, list, &e, 0);
	if (st == STORE_EEXIST) {
		snprintf(it->action, sizeof it->action, "already listed on %s", list);
		return 2;
	}
	if (st != STORE_OK)
		return st;
	snprintf(it->action, sizeof it->action, "listed on %s", list);
	it->listed = 1;
	stats_add(stats, now, STATS_LIST_ADDED, 1);
	return 1;
}

int report_submit(cr_store *s, cr_stats *stats, cr_kv *kv, const struct report_conf *rc,
		  const struct report_facts *f, const char *reporter, int64_t now,
		  struct report_outcome *out)
{
	char kr[REPORT_KEY_MAX], ki[REPORT_KEY_MAX];
	char vk[2 + REPORT_MAX_DOMAINS][2][REPORT_KEY_MAX];
	const char *keys[2 + 2 * (2 + REPORT_MAX_DOMAINS)];
	const char *args[8 + 80];
	char nowt[24], keep[24], window[24], oldest[24], nf[8], hops[16], domains[2048] = "";
	struct field_list fl = { .n = 0 };
	uint64_t h;
	redisReply *r;
	size_t nk = 0;
	int st = STORE_OK;
	int vote = !f->not_spam;

	memset(out, 0, sizeof *out);
	h = fnv1a(FNV_INIT, reporter, strlen(reporter) + 1);
	h = fnv1a(h, f->identity, strlen(f->identity));
	snprintf(out->id, sizeof out->id, "%016" PRIx64, h);
	rkey(s, kr, sizeof kr, "r", out->id, NULL);
	rkey(s, ki, sizeof ki, "index", NULL, NULL);
	keys[nk++] = kr;
	keys[nk++] = ki;
	/* the items voted on */
	if (f->has_ip) {
		struct report_item *it = &out->items[out->nitems];
		util_strlcpy(it->kind, "ip", sizeof it->kind);
		util_strlcpy(it->item, f->ip_text, sizeof it->item);
		it->threshold = rc->ip_threshold;
		out->nitems++;
	}
	for (size_t i = 0; i < f->ndomains; i++) {
		struct report_item *it = &out->items[out->nitems];
		util_strlcpy(it->kind, "domain", sizeof it->kind);
		util_strlcpy(it->item, f->domains[i], sizeof it->item);
		it->threshold = rc->domain_threshold;
		out->nitems++;
		if (i)
			strncat(domains, " ", sizeof domains - strlen(domains) - 1);
		strncat(domains, f->domains[i], sizeof domains - strlen(domains) - 1);
	}
	if (f->fingerprint[0]) {
		struct report_item *it = &out->items[out->nitems];
		util_strlcpy(it->kind, "fingerprint", sizeof it->kind);
		util_strlcpy(it->item, f->fingerprint, sizeof it->item);
		it->threshold = rc->fingerprint_threshold;
		out->nitems++;
	}
	for (size_t i = 0; i < out->nitems; i++) {
		const char *kind = out->items[i].kind[0] == 'i' ? "ip"
				   : out->items[i].kind[0] == 'd' ? "dom" : "fp";
		char sub[DNAME_MAX + 8];
		snprintf(sub, sizeof sub, "%s:%s", kind, out->items[i].item);
		rkey(s, vk[i][0], sizeof vk[i][0], "v", sub, NULL);
		rkey(s, vk[i][1], sizeof vk[i][1], "ids", sub, NULL);
		keys[nk++] = vk[i][0];
		keys[nk++] = vk[i][1];
	}
	util_strlcpy(out->status, f->not_spam ? "notspam" : "pending", sizeof out->status);
	snprintf(nowt, sizeof nowt, "%" PRId64, now);
	snprintf(hops, sizeof hops, "%zu", f->trusted_hops);
	fl_add(&fl, "id", out->id);
	fl_add(&fl, "time", nowt);
	fl_add(&fl, "reporter", reporter);
	fl_add(&fl, "kind", f->not_spam ? "not-spam" : "spam");
	fl_add(&fl, "status", out->status);
	fl_add(&fl, "source", f->is_arf ? "arf" : "message");
	if (f->is_arf) {
		fl_add(&fl, "arf_type", f->arf_type);
		fl_add(&fl, "arf_agent", f->arf_agent);
	}
	fl_add(&fl, "ip", f->has_ip ? f->ip_text : "");
	fl_add(&fl, "ip_via", f->ip_via);
	fl_add(&fl, "ip_note", f->ip_unlistable ? f->ip_unlistable : "");
	fl_add(&fl, "trusted_hops", hops);
	fl_add(&fl, "hop", f->hop);
	fl_add(&fl, "from_domain", f->from_domain);
	fl_add(&fl, "domains", domains);
	fl_add(&fl, "fingerprint", f->fingerprint);
	fl_add(&fl, "message_id", f->message_id);
	fl_add(&fl, "subject", f->subject);
	fl_add(&fl, "date", f->date);
	fl_add(&fl, "arrival", f->arrival);
	fl_add(&fl, "mail_from", f->mail_from);
	fl_add(&fl, "identity", f->identity);
	fl_add(&fl, "headers", f->headers ? f->headers : "");
	snprintf(keep, sizeof keep, "%" PRId64, rc->keep > 0 ? rc->keep : (int64_t)1);
	snprintf(window, sizeof window, "%" PRId64, rc->window > 0 ? rc->window : (int64_t)1);
	snprintf(oldest, sizeof oldest, "%" PRId64, now - rc->keep);
	snprintf(nf, sizeof nf, "%zu", fl.n);
	args[0] = out->id;
	args[1] = nowt;
	args[2] = reporter;
	args[3] = keep;
	args[4] = window;
	args[5] = vote ? "1" : "0";
	args[6] = oldest;
	args[7] = nf;
	for (size_t i = 0; i < fl.n; i++) {
		args[8 + 2 * i] = fl.name[i];
		args[9 + 2 * i] = fl.value[i];
	}
	r = store_eval(s, "report", report_submit_lua, (int)nk, keys, 8 + 2 * (int)fl.n, args,
		       NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 + out->nitems ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return STORE_EUNAVAIL;
	}
	out->duplicate = r->element[0]->integer == 0;
	if (r->element[1]->type == REDIS_REPLY_STRING)
		util_strlcpy(out->status, r->element[1]->str, sizeof out->status);
	for (size_t i = 0; i < out->nitems; i++)
		out->items[i].reporters = r->element[2 + i]->type == REDIS_REPLY_INTEGER
						  ? r->element[2 + i]->integer : 0;
	freeReplyObject(r);
	if (out->duplicate) {
		stats_add(stats, now, STATS_REPORT_DUPLICATE, 1);
		for (size_t i = 0; i < out->nitems; i++)
			snprintf(out->items[i].action, sizeof out->items[i].action,
				 "duplicate report: not counted again");
		return STORE_OK;
	}
	if (f->not_spam) {
		stats_add(stats, now, STATS_WRONG_NOTSPAM, 1);
		for (size_t i = 0; i < out->nitems; i++)
			snprintf(out->items[i].action, sizeof out->items[i].action,
				 "not-spam report: no vote");
		return STORE_OK;
	}
	stats_add(stats, now, STATS_REPORT_RECEIVED, 1);
	/* decide each item */
	{
		int listed_any = 0;
		char listed[1024] = "";
		for (size_t i = 0; i < out->nitems; i++) {
			struct report_item *it = &out->items[i];
			char why[LISTING_REASON_MAX + 1];
			int lr;
			if (it->reporters < it->threshold || !rc->auto_list) {
				snprintf(it->action, sizeof it->action, "%s",
					 rc->auto_list ? "below threshold" : "auto-listing off: pending review");
				continue;
			}
			if (strcmp(it->kind, "fingerprint") == 0) {
				char fk[REPORT_KEY_MAX];
				const char *argv[3] = { "SADD", fk, it->item };
				rkey(s, fk, sizeof fk, "fp", "listed", NULL);
				redisReply *x = store_command(s, "SADD", 3, argv, NULL);
				if (x == NULL)
					return STORE_EUNAVAIL;
				snprintf(it->action, sizeof it->action, "%s",
					 x->type == REDIS_REPLY_INTEGER && x->integer == 1
						 ? "known spam fingerprint" : "already a known spam fingerprint");
				it->listed = x->type == REDIS_REPLY_INTEGER && x->integer == 1;
				freeReplyObject(x);
				if (it->listed && kv != NULL) {
					/* the milter's TEMPLATE rule matches it from now on */
					struct template_info ti;
					char terr[256];
					int ts;
					memset(&ti, 0, sizeof ti);
					snprintf(ti.reason, sizeof ti.reason,
						 "reported as spam by %lld users", it->reporters);
					snprintf(ti.source, sizeof ti.source, "report:%s", out->id);
					util_strlcpy(ti.subject, f->subject, sizeof ti.subject);
					ti.added = now;
					ts = template_add(kv, &f->fp, &ti, terr, sizeof terr);
					if (ts == TEMPLATE_OK || ts == TEMPLATE_EXISTS)
						snprintf(it->action, sizeof it->action, "%s",
							 ts == TEMPLATE_OK ? "added to the spam templates"
									   : "already a spam template");
					else
						log_warn("report %s: template %s not added: %s", out->id,
							 it->item, terr);
				}
				continue;
			}
			if (strcmp(it->kind, "ip") == 0 && f->ip_unlistable) {
				snprintf(it->action, sizeof it->action, "never listed: %s",
					 f->ip_unlistable);
				continue;
			}
			snprintf(why, sizeof why, "reported as spam by %lld users", it->reporters);
			lr = list_item(s, stats, rc, it, out->id, why, "report", 0, now);
			if (lr < 0)
				return lr;
			if (lr == 1) {
				long long nres = resolve_ids(s, vk[i][1], it->item, now);
				stats_add(stats, now, STATS_REPORT_PROCESSED, nres);
				listed_any = 1;
				if (listed[0])
					strncat(listed, " ", sizeof listed - strlen(listed) - 1);
				strncat(listed, it->item, sizeof listed - strlen(listed) - 1);
			}
			if (lr == 2)
				listed_any = 1;
		}
		if (listed_any) {
			/* this report itself (it may already be resolved above) */
			const char *kp[1] = { kr };
			const char *a[3] = { "listed", listed, nowt };
			redisReply *x = store_eval(s, "resolve", report_resolve_lua, 1, kp, 3, a, NULL);
			if (x != NULL && x->type == REDIS_REPLY_INTEGER && x->integer > 0)
				stats_add(stats, now, STATS_REPORT_PROCESSED, x->integer);
			if (x != NULL)
				freeReplyObject(x);
			util_strlcpy(out->status, "listed", sizeof out->status);
		}
	}
	return st;
}

/* ---------------------------------------------------------------- review */

int report_get(cr_store *s, const char *id, struct report_fields *out)
{
	char k[REPORT_KEY_MAX];
	const char *argv[2] = { "HGETALL", k };
	redisReply *r;

	memset(out, 0, sizeof *out);
	if (strlen(id) != REPORT_ID_LEN || strspn(id, "0123456789abcdef") != REPORT_ID_LEN)
		return STORE_EINVAL;
	rkey(s, k, sizeof k, "r", id, NULL);
	r = store_command(s, "HGETALL", 2, argv, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		return STORE_NOTFOUND;
	}
	out->name = calloc(r->elements / 2 + 1, sizeof *out->name);
	out->value = calloc(r->elements / 2 + 1, sizeof *out->value);
	if (out->name == NULL || out->value == NULL) {
		freeReplyObject(r);
		report_fields_free(out);
		return STORE_EUNAVAIL;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		out->name[out->n] = strdup(r->element[i]->str);
		out->value[out->n] = strdup(r->element[i + 1]->str);
		if (out->name[out->n] && out->value[out->n])
			out->n++;
	}
	freeReplyObject(r);
	return STORE_OK;
}

const char *report_field(const struct report_fields *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

void report_fields_free(struct report_fields *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->name[i]);
		free(r->value[i]);
	}
	free(r->name);
	free(r->value);
	memset(r, 0, sizeof *r);
}

int report_list(cr_store *s, int64_t from, int64_t to, long max, report_id_fn fn, void *ud)
{
	char k[REPORT_KEY_MAX], lo[24], hi[24], cnt[24];
	const char *argv[8] = { "ZREVRANGEBYSCORE", k, hi, lo, "WITHSCORES", "LIMIT", "0", cnt };
	redisReply *r;
	int n = 0;

	rkey(s, k, sizeof k, "index", NULL, NULL);
	if (from > 0)
		snprintf(lo, sizeof lo, "%" PRId64, from);
	else
		util_strlcpy(lo, "-inf", sizeof lo);
	if (to > 0)
		snprintf(hi, sizeof hi, "%" PRId64, to);
	else
		util_strlcpy(hi, "+inf", sizeof hi);
	snprintf(cnt, sizeof cnt, "%ld", max > 0 ? max : -1L);
	r = store_command(s, "ZREVRANGEBYSCORE", 8, argv, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i + 1 < r->elements; i += 2) {
			n++;
			if (fn(ud, r->element[i]->str, strtoll(r->element[i + 1]->str, NULL, 10)))
				break;
		}
	freeReplyObject(r);
	return n;
}

/* Records the decision on the report at key kr: status, who, when (nowt), why
 * and, when field is not NULL, field = value (what was listed or delisted). */
static int report_decision(cr_store *s, const char *kr, const char *status, const char *who,
			   const char *nowt, const char *why, const char *field, const char *value)
{
	const char *argv[12] = { "HSET", kr, "status", status, "decided_by", who ? who : "",
				 "decided_at", nowt, "decision", why ? why : "", field, value };
	redisReply *r = store_command(s, "HSET", field != NULL ? 12 : 10, argv, NULL);

	if (r == NULL)
		return STORE_EUNAVAIL;
	freeReplyObject(r);
	return STORE_OK;
}

int report_decide(cr_store *s, cr_stats *stats, const struct report_conf *rc, const char *id,
		  int accept, const char *who, const char *why, struct report_outcome *out)
{
	struct report_fields rf;
	struct report_outcome tmp;
	char kr[REPORT_KEY_MAX], nowt[24];
	const char *status, *v;
	int64_t now = util_now();
	int st;

	if (out == NULL)
		out = &tmp;
	memset(out, 0, sizeof *out);
	util_strlcpy(out->id, id, sizeof out->id);
	st = report_get(s, id, &rf);
	if (st != STORE_OK)
		return st;
	status = report_field(&rf, "status");
	if (status == NULL || (strcmp(status, "pending") != 0 && strcmp(status, "notspam") != 0)) {
		util_strlcpy(out->status, status ? status : "", sizeof out->status);
		report_fields_free(&rf);
		return STORE_EEXIST;
	}
	snprintf(nowt, sizeof nowt, "%" PRId64, now);
	rkey(s, kr, sizeof kr, "r", id, NULL);
	if (accept && strcmp(status, "notspam") == 0) {
		/* a confirmed not-spam report (P3: mail wrongly blocked): its IP and
		 * domains leave the spam lists, audited, and are held from being
		 * listed again by reports */
		char removed[1024] = "", reason[LISTING_REASON_MAX + 1], buf[2048];
		const char *items[1 + REPORT_MAX_DOMAINS];
		size_t ni = 0;
		char *save = NULL;
		snprintf(reason, sizeof reason, "%s", why && why[0] ? why : "not-spam report accepted");
		if ((v = report_field(&rf, "ip")) != NULL && v[0])
			items[ni++] = v;
		util_strlcpy(buf, (v = report_field(&rf, "domains")) != NULL ? v : "", sizeof buf);
		for (char *d = strtok_r(buf, " ", &save); d && ni < 1 + REPORT_MAX_DOMAINS;
		     d = strtok_r(NULL, " ", &save))
			items[ni++] = d;
		store_set_audit(s, who, reason, id);
		for (size_t i = 0; i < ni; i++) {
			struct report_item *it = &out->items[out->nitems++];
			struct listing_entry key;
			const char *list;
			char ktext[LISTING_KEY_MAX];
			util_strlcpy(it->item, items[i], sizeof it->item);
			if (listing_parse_key(items[i], &key, NULL, 0) < 0) {
				snprintf(it->action, sizeof it->action, "not a list key");
				continue;
			}
			util_strlcpy(it->kind, key.kind == LISTING_ADDR ? "ip" : "domain", sizeof it->kind);
			list = key.kind == LISTING_ADDR ? rc->ip_list : rc->domain_list;
			st = store_entry_del(s, list, &key);
			if (st == STORE_NOTFOUND) {
				snprintf(it->action, sizeof it->action, "not on %s", list);
			} else if (st != STORE_OK) {
				goto done;
			} else {
				snprintf(it->action, sizeof it->action, "delisted from %s", list);
				it->listed = 1;
				stats_add(stats, now, STATS_LIST_REMOVED, 1);
				if (removed[0])
					strncat(removed, " ", sizeof removed - strlen(removed) - 1);
				strncat(removed, items[i], sizeof removed - strlen(removed) - 1);
			}
			listing_format_key(&key, ktext, sizeof ktext);
			st = report_hold(s, ktext, who, reason, now);
			if (st != STORE_OK)
				goto done;
		}
		st = report_decision(s, kr, "accepted", who, nowt, reason, "delisted", removed);
		if (st != STORE_OK)
			goto done;
		util_strlcpy(out->status, "accepted", sizeof out->status);
		st = STORE_OK;
		goto done;
	}
	if (accept) {
		char listed[1024] = "", reason[LISTING_REASON_MAX + 1];
		snprintf(reason, sizeof reason, "%s", why && why[0] ? why : "spam report accepted");
		if ((v = report_field(&rf, "ip")) != NULL && v[0]) {
			struct report_item *it = &out->items[out->nitems++];
			const char *note = report_field(&rf, "ip_note");
			util_strlcpy(it->kind, "ip", sizeof it->kind);
			util_strlcpy(it->item, v, sizeof it->item);
			if (note != NULL && note[0]) {
				snprintf(it->action, sizeof it->action, "never listed: %s", note);
			} else {
				st = list_item(s, stats, rc, it, id, reason, who, 1, now);
				if (st < 0)
					goto done;
			}
		}
		if ((v = report_field(&rf, "domains")) != NULL && v[0]) {
			char buf[2048], *save = NULL;
			util_strlcpy(buf, v, sizeof buf);
			for (char *d = strtok_r(buf, " ", &save); d && out->nitems < 2 + REPORT_MAX_DOMAINS;
			     d = strtok_r(NULL, " ", &save)) {
				struct report_item *it = &out->items[out->nitems++];
				util_strlcpy(it->kind, "domain", sizeof it->kind);
				util_strlcpy(it->item, d, sizeof it->item);
				st = list_item(s, stats, rc, it, id, reason, who, 1, now);
				if (st < 0)
					goto done;
			}
		}
		for (size_t i = 0; i < out->nitems; i++)
			if (out->items[i].listed) {
				/* an accepted listing lifts an operator's earlier hold */
				char hk[REPORT_KEY_MAX], hf[DNAME_MAX + 16];
				const char *argv[3] = { "HDEL", hk, hf };
				redisReply *r;
				rkey(s, hk, sizeof hk, "hold", NULL, NULL);
				snprintf(hf, sizeof hf, "%s:%s", out->items[i].kind, out->items[i].item);
				r = store_command(s, "HDEL", 3, argv, NULL);
				if (r != NULL)
					freeReplyObject(r);
				if (listed[0])
					strncat(listed, " ", sizeof listed - strlen(listed) - 1);
				strncat(listed, out->items[i].item, sizeof listed - strlen(listed) - 1);
			}
		st = report_decision(s, kr, "accepted", who, nowt, reason, "listed", listed);
		if (st != STORE_OK)
			goto done;
		util_strlcpy(out->status, "accepted", sizeof out->status);
	} else {
		/* withdraw the reporter's votes */
		const char *reporter = report_field(&rf, "reporter");
		const char *items[2 + REPORT_MAX_DOMAINS][2];
		char buf[2048], subs[2 + REPORT_MAX_DOMAINS][DNAME_MAX + 8], *save = NULL;
		size_t ni = 0;
		if ((v = report_field(&rf, "ip")) != NULL && v[0]) {
			items[ni][0] = "ip";
			items[ni++][1] = v;
		}
		if ((v = report_field(&rf, "domains")) != NULL) {
			util_strlcpy(buf, v, sizeof buf);
			for (char *d = strtok_r(buf, " ", &save); d && ni < 1 + REPORT_MAX_DOMAINS;
			     d = strtok_r(NULL, " ", &save)) {
				items[ni][0] = "dom";
				items[ni++][1] = d;
			}
		}
		if ((v = report_field(&rf, "fingerprint")) != NULL && v[0]) {
			items[ni][0] = "fp";
			items[ni++][1] = v;
		}
		for (size_t i = 0; i < ni && reporter != NULL; i++) {
			char vk[REPORT_KEY_MAX], ik[REPORT_KEY_MAX];
			snprintf(subs[i], sizeof subs[i], "%s:%s", items[i][0], items[i][1]);
			rkey(s, vk, sizeof vk, "v", subs[i], NULL);
			rkey(s, ik, sizeof ik, "ids", subs[i], NULL);
			const char *a1[3] = { "SREM", vk, reporter };
			const char *a2[3] = { "SREM", ik, id };
			redisReply *r = store_command(s, "SREM", 3, a1, NULL);
			if (r != NULL)
				freeReplyObject(r);
			r = store_command(s, "SREM", 3, a2, NULL);
			if (r != NULL)
				freeReplyObject(r);
		}
		st = report_decision(s, kr, "rejected", who, nowt, why, NULL, NULL);
		if (st != STORE_OK)
			goto done;
		util_strlcpy(out->status, "rejected", sizeof out->status);
	}
	if (strcmp(status, "pending") == 0)
		stats_add(stats, now, STATS_REPORT_PROCESSED, 1);
	st = STORE_OK;
done:
	report_fields_free(&rf);
	return st;
}

int report_hold(cr_store *s, const char *key, const char *who, const char *why, int64_t now)
{
	struct listing_entry e;
	char k[REPORT_KEY_MAX], field[DNAME_MAX + 16], val[512], ktext[LISTING_KEY_MAX];
	const char *argv[4] = { "HSET", k, field, val };
	redisReply *r;

	if (listing_parse_key(key, &e, NULL, 0) < 0 || e.exclude)
		return STORE_EINVAL;
	listing_format_key(&e, ktext, sizeof ktext);
	snprintf(field, sizeof field, "%s:%s", e.kind == LISTING_ADDR ? "ip" : "domain", ktext);
	{
		char t[32];
		util_format_time(now, t, sizeof t);
		snprintf(val, sizeof val, "%s by %s: %s", t, who ? who : "", why ? why : "");
	}
	rkey(s, k, sizeof k, "hold", NULL, NULL);
	r = store_command(s, "HSET", 4, argv, NULL);
	if (r == NULL)
		return STORE_EUNAVAIL;
	freeReplyObject(r);
	return STORE_OK;
}
