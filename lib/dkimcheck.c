/* dkimcheck: DKIM verification with libopendkim.  The library's own resolver is not
 * used: a key lookup callback (dkim_set_key_lookup) answers from our DNS client's
 * query set, where dkimcheck_plan queued the TXT lookups next to the message's DNSBL
 * lookups, so DKIM adds no wait of its own and honours the message's deadline. */
#include "dkimcheck.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "log.h"
#include "util.h"

struct dkimcheck {
	DKIM_LIB *lib;
};

/* Per verification: what the key lookup callback needs. */
struct lookup_ctx {
	dnsq_set *set;
};

const char *dkimcheck_result_name(enum dkimcheck_res r)
{
	switch (r) {
	case DKIMCHECK_NONE: return "none";
	case DKIMCHECK_PASS: return "pass";
	case DKIMCHECK_FAIL: return "fail";
	case DKIMCHECK_NEUTRAL: return "neutral";
	case DKIMCHECK_TEMPERROR: return "temperror";
	case DKIMCHECK_PERMERROR: return "permerror";
	}
	return "?";
}

/* selector._domainkey.domain (RFC 6376 3.6.2.1); -1 if it does not fit. */
static int key_name(const char *selector, const char *domain, char *buf, size_t len)
{
	int n;

	if (selector == NULL || domain == NULL || selector[0] == '\0' || domain[0] == '\0')
		return -1;
	n = snprintf(buf, len, "%s._domainkey.%s", selector, domain);
	return n < 0 || (size_t)n >= len || n > 253 ? -1 : 0;
}

static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct lookup_ctx *ctx = dkim_get_user_context(dkim);
	char name[300];
	dnsq_query *q;

	if (ctx == NULL || ctx->set == NULL)
		return DKIM_CBSTAT_TRYAGAIN;
	if (key_name((const char *)dkim_sig_getselector(sig), (const char *)dkim_sig_getdomain(sig),
		     name, sizeof(name)) != 0)
		return DKIM_CBSTAT_NOTFOUND;
	q = dnsq_resolve(ctx->set, name, DNSQ_TYPE_TXT);
	if (q == NULL)
		return DKIM_CBSTAT_NOTFOUND; /* a name our client refuses */
	switch (dnsq_status(q)) {
	case DNSQ_NXDOMAIN:
		return DKIM_CBSTAT_NOTFOUND;
	case DNSQ_NOERROR:
		if (dnsq_count(q) == 0)
			return DKIM_CBSTAT_NOTFOUND;
		/* RFC 6376 3.6.2.2: several records are ambiguous; the first is used */
		if (dnsq_txt(q, 0, (char *)buf, buflen) < 0)
			return DKIM_CBSTAT_ERROR;
		return DKIM_CBSTAT_CONTINUE;
	default:
		return DKIM_CBSTAT_TRYAGAIN;
	}
}

dkimcheck *dkimcheck_new(char *err, size_t errlen)
{
	dkimcheck *d = calloc(1, sizeof(*d));
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_BADSIGHANDLES;

	if (d == NULL) {
		util_errf(err, errlen, "dkim: out of memory");
		return NULL;
	}
	d->lib = dkim_init(NULL, NULL);
	if (d->lib == NULL) {
		util_errf(err, errlen, "dkim: libopendkim initialisation failed");
		free(d);
		return NULL;
	}
	if (dkim_options(d->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) !=
		    DKIM_STAT_OK ||
	    dkim_set_key_lookup(d->lib, key_lookup) != DKIM_STAT_OK) {
		util_errf(err, errlen, "dkim: libopendkim refused its options");
		dkim_close(d->lib);
		free(d);
		return NULL;
	}
	return d;
}

void dkimcheck_free(dkimcheck *d)
{
	if (d == NULL)
		return;
	dkim_close(d->lib);
	free(d);
}

/* The value of tag t in a DKIM-Signature value (raw), white space removed. */
static void sig_tag(const char *v, const char *t, char *out, size_t len)
{
	size_t tl = strlen(t), used = 0;

	out[0] = '\0';
	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *eq = strchr(p, '='), *semi = strchr(p, ';');
		if (eq == NULL)
			return;
		if (semi != NULL && semi < eq) {
			p = semi + 1;
			continue;
		}
		const char *name_end = eq;
		while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
			name_end--;
		const char *end = semi ? semi : eq + strlen(eq);
		if ((size_t)(name_end - p) == tl && strncmp(p, t, tl) == 0) {
			for (const char *c = eq + 1; c < end && used + 1 < len; c++)
				if (*c != ' ' && *c != '\t')
					out[used++] = *c;
			out[used] = '\0';
			return;
		}
		p = end;
	}
}

/* 1 when the key of the signature in field f could not be fetched for now
 * (timeout, SERVFAIL, refused): libopendkim ends a whole verification at the
 * first such key, so that signature is judged temperror here and kept from it. */
static int key_unavailable(const struct msg_header_field *f, dnsq_set *set)
{
	char s[64], d[256], name[300];
	dnsq_query *q;

	sig_tag(f->raw, "s", s, sizeof(s));
	sig_tag(f->raw, "d", d, sizeof(d));
	if (key_name(s, d, name, sizeof(name)) != 0)
		return 0;
	q = dnsq_resolve(set, name, DNSQ_TYPE_TXT);
	if (q == NULL)
		return 0;
	return dnsq_status(q) != DNSQ_NOERROR && dnsq_status(q) != DNSQ_NXDOMAIN;
}

/* 1 when some signature signs DKIM-Signature fields themselves: then none may
 * be left out of what libopendkim sees. */
static int signs_signatures(const cr_msg *m)
{
	char h[1024];

	for (size_t i = 0; i < DKIMCHECK_MAX_SIGS; i++) {
		const struct msg_header_field *f = msg_header_find(m, "DKIM-Signature", i);
		if (f == NULL)
			break;
		sig_tag(f->raw, "h", h, sizeof(h));
		for (char *p = h; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strstr(h, "dkim-signature") != NULL)
			return 1;
	}
	return 0;
}

size_t dkimcheck_plan(const cr_msg *m, dnsq_set *set)
{
	size_t n = 0;

	if (m == NULL || set == NULL)
		return 0;
	for (size_t i = 0; i < DKIMCHECK_MAX_SIGS; i++) {
		const struct msg_header_field *f = msg_header_find(m, "DKIM-Signature", i);
		char s[64], d[256], name[300];
		if (f == NULL)
			break;
		sig_tag(f->raw, "s", s, sizeof(s));
		sig_tag(f->raw, "d", d, sizeof(d));
		if (key_name(s, d, name, sizeof(name)) == 0 && dnsq_add(set, name, DNSQ_TYPE_TXT))
			n++;
	}
	return n;
}

/* Whether the signature's h= names the field.  Not dkim_sig_hdrsigned: it matches
 * prefixes, so "List-Unsubscribe" in h= would cover "List-Unsubscribe-Post". */
static int covers(DKIM_SIGINFO *sig, const char *name)
{
	const u_char *h = dkim_sig_gettagvalue(sig, 0, (u_char *)"h");
	size_t nl = strlen(name);

	if (h == NULL)
		return 0;
	for (const char *p = (const char *)h; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ':')
			p++;
		const char *e = p;
		while (*e && *e != ':')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r' || t[-1] == '\n'))
			t--;
		if ((size_t)(t - p) == nl && strncasecmp(p, name, nl) == 0)
			return 1;
		p = e;
	}
	return 0;
}

static void judge(DKIM_SIGINFO *sig, int body_cut, struct dkimcheck_sig *out)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *s = (const char *)dkim_sig_getselector(sig);
	const char *es;

	util_strlcpy(out->domain, d ? d : "", sizeof(out->domain));
	util_strlcpy(out->selector, s ? s : "", sizeof(out->selector));
	out->covers_unsub = covers(sig, "List-Unsubscribe");
	out->covers_unsub_post = covers(sig, "List-Unsubscribe-Post");
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
		out->result = DKIMCHECK_PASS;
		return;
	}
	es = dkim_sig_geterrorstr(err);
	snprintf(out->why, sizeof(out->why), "%s", es ? es : "signature did not verify");
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		out->result = DKIMCHECK_TEMPERROR;
		break;
	case DKIM_SIGERROR_BADSIG:
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		out->result = DKIMCHECK_FAIL;
		if (bh == DKIM_SIGBH_MISMATCH) {
			util_strlcpy(out->why, "body hash did not verify", sizeof(out->why));
			if (body_cut) {
				out->result = DKIMCHECK_NEUTRAL;
				util_strlcpy(out->why, "body longer than the scan limit",
					     sizeof(out->why));
			}
		}
		break;
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
		out->result = DKIMCHECK_FAIL;
		break;
	default:
		out->result = DKIMCHECK_PERMERROR;
		break;
	}
}

static int any_unavailable(const unsigned char *unavailable)
{
	for (size_t i = 0; i < DKIMCHECK_MAX_SIGS; i++)
		if (unavailable[i])
			return 1;
	return 0;
}

/* Puts the signatures whose key was unavailable (temperror) among those
 * libopendkim judged, in the order of the fields. */
static void merge_unavailable(const cr_msg *m, const unsigned char *unavailable,
			      struct dkimcheck_result *out)
{
	struct dkimcheck_sig judged[DKIMCHECK_MAX_SIGS];
	size_t nj = out->nsigs, next = 0;

	if (!any_unavailable(unavailable))
		return;
	memcpy(judged, out->sigs, nj * sizeof(judged[0]));
	out->nsigs = 0;
	for (size_t i = 0; i < DKIMCHECK_MAX_SIGS; i++) {
		const struct msg_header_field *f = msg_header_find(m, "DKIM-Signature", i);
		struct dkimcheck_sig *s;
		if (f == NULL)
			break;
		if (!unavailable[i]) {
			if (next < nj)
				out->sigs[out->nsigs++] = judged[next++];
			continue;
		}
		s = &out->sigs[out->nsigs++];
		memset(s, 0, sizeof(*s));
		s->result = DKIMCHECK_TEMPERROR;
		util_strlcpy(s->why, "key lookup failed", sizeof(s->why));
		sig_tag(f->raw, "d", s->domain, sizeof(s->domain));
		sig_tag(f->raw, "s", s->selector, sizeof(s->selector));
	}
	while (next < nj && out->nsigs < DKIMCHECK_MAX_SIGS)
		out->sigs[out->nsigs++] = judged[next++];
}

void dkimcheck_verify(dkimcheck *d, const cr_msg *m, dnsq_set *set, const char *id,
		      struct dkimcheck_result *out)
{
	unsigned char unavailable[DKIMCHECK_MAX_SIGS] = { 0 };
	struct lookup_ctx ctx = { set };
	DKIM_STAT st;
	DKIM *dkim;
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	const char *body;
	size_t blen;
	char *line = NULL;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (d == NULL || m == NULL || msg_header_count(m, "DKIM-Signature") == 0)
		return;
	if (id == NULL || id[0] == '\0')
		id = "-";
	dkim = dkim_verify(d->lib, (const u_char *)id, NULL, &st);
	if (dkim == NULL) {
		snprintf(out->error, sizeof(out->error), "dkim_verify: %s", dkim_getresultstr(st));
		return;
	}
	dkim_set_user_context(dkim, &ctx);
	if (!signs_signatures(m)) {
		for (size_t i = 0; i < DKIMCHECK_MAX_SIGS; i++) {
			const struct msg_header_field *f = msg_header_find(m, "DKIM-Signature", i);
			if (f == NULL)
				break;
			unavailable[i] = (unsigned char)key_unavailable(f, set);
		}
	}
	for (size_t i = 0, nsig = 0; i < msg_header_total(m); i++) {
		const struct msg_header_field *f = msg_header_at(m, i);
		if (strcasecmp(f->name, "DKIM-Signature") == 0 && nsig++ < DKIMCHECK_MAX_SIGS &&
		    unavailable[nsig - 1])
			continue; /* judged below, without libopendkim */
		size_t need = strlen(f->name) + strlen(f->folded) + 3;
		if (need > cap) {
			char *nl = realloc(line, need);
			if (nl == NULL)
				goto oom;
			line = nl;
			cap = need;
		}
		/* the field as received, folding kept, so that "simple" header
		 * canonicalisation (RFC 6376 3.4.1) verifies too; an MTA that dropped
		 * the space after the colon (Postfix, Sendmail) dropped one space,
		 * which is put back */
		snprintf(line, cap, "%s:%s%s", f->name,
			 f->folded[0] == ' ' || f->folded[0] == '\t' ? "" : " ", f->folded);
		st = dkim_header(dkim, (u_char *)line, strlen(line));
		if (st != DKIM_STAT_OK)
			break;
	}
	st = dkim_eoh(dkim);
	if (st == DKIM_STAT_OK) {
		body = msg_body_raw(m, &blen);
		if (blen > 0)
			dkim_body(dkim, (u_char *)body, blen);
		st = dkim_eom(dkim, NULL);
	}
	if (dkim_getsiglist(dkim, &sigs, &nsigs) == DKIM_STAT_OK && sigs != NULL) {
		int cut = (msg_flags(m) & MSG_F_SCAN_CAP) != 0;
		for (int i = 0; i < nsigs && out->nsigs < DKIMCHECK_MAX_SIGS; i++)
			judge(sigs[i], cut, &out->sigs[out->nsigs++]);
		merge_unavailable(m, unavailable, out);
	} else if (any_unavailable(unavailable)) {
		merge_unavailable(m, unavailable, out);
	} else if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG) {
		snprintf(out->error, sizeof(out->error), "%s", dkim_getresultstr(st));
	}
	/* a signature the library could not even parse leaves no handle: permerror */
	/* a key lookup that must be retried (DKIM_CBSTAT_TRYAGAIN) ends the
	 * verification without signature handles: temperror; a signature the
	 * library could not even parse leaves none either: permerror */
	if (out->nsigs == 0 && st != DKIM_STAT_NOSIG) {
		const struct msg_header_field *f = msg_header_find(m, "DKIM-Signature", 0);
		struct dkimcheck_sig *s = &out->sigs[out->nsigs++];
		memset(s, 0, sizeof(*s));
		s->result = st == DKIM_STAT_CBTRYAGAIN || st == DKIM_STAT_KEYFAIL
				    ? DKIMCHECK_TEMPERROR : DKIMCHECK_PERMERROR;
		snprintf(s->why, sizeof(s->why), "%s",
			 s->result == DKIMCHECK_TEMPERROR ? "key lookup failed" : dkim_getresultstr(st));
		if (f != NULL) {
			sig_tag(f->raw, "d", s->domain, sizeof(s->domain));
			sig_tag(f->raw, "s", s->selector, sizeof(s->selector));
		}
	}
	free(line);
	dkim_free(dkim);
	return;
oom:
	free(line);
	dkim_free(dkim);
	snprintf(out->error, sizeof(out->error), "out of memory");
	log_warn("%s: dkim: out of memory", id);
}
