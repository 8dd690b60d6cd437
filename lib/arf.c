/* arf: RFC 5965 feedback reports in and out (arf.h).  A small MIME splitter of
 * its own: the message parser (msg.c) renders text parts but does not hand out
 * the raw bytes of a message/rfc822 part, which is what a report carries. */
#include "arf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

/* A header section longer than this is not a report's (bounds the unfolding). */
#define ARF_HEADER_VALUE_MAX 8192
#define ARF_MAX_PARTS 16

/* Next header field of the section at *p (< e): name and unfolded value, both
 * NUL-terminated and truncated to their buffers.  Returns 1 for a field, 0 at
 * the end of the section (*p then points after the blank line, or at e). */
static int hdr_next(const char **p, const char *e, char *name, size_t nlen, char *val,
		    size_t vlen)
{
	const char *s = *p, *colon, *eol;
	size_t vn = 0;

	for (;;) {
		if (s >= e) {
			*p = e;
			return 0;
		}
		eol = memchr(s, '\n', (size_t)(e - s));
		if (eol == NULL)
			eol = e;
		if (eol == s || (eol == s + 1 && *s == '\r')) {
			*p = eol < e ? eol + 1 : e;
			return 0;
		}
		/* a continuation line without a field before it: skip it */
		if (*s == ' ' || *s == '\t') {
			s = eol < e ? eol + 1 : e;
			continue;
		}
		colon = memchr(s, ':', (size_t)(eol - s));
		if (colon == NULL) {
			/* not a header line: the section ends here (no blank line) */
			*p = s;
			return 0;
		}
		break;
	}
	{
		size_t n = (size_t)(colon - s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n >= nlen)
			n = nlen - 1;
		memcpy(name, s, n);
		name[n] = '\0';
	}
	/* value: rest of this line plus continuation lines */
	{
		const char *v = colon + 1;
		for (;;) {
			const char *le = eol;
			if (le > v && le[-1] == '\r')
				le--;
			while (v < le && vn + 1 < vlen) {
				char ch = *v++;
				val[vn++] = (ch == '\t') ? ' ' : ch;
			}
			s = eol < e ? eol + 1 : e;
			if (s < e && (*s == ' ' || *s == '\t')) {
				eol = memchr(s, '\n', (size_t)(e - s));
				if (eol == NULL)
					eol = e;
				v = s;
				continue;
			}
			break;
		}
	}
	val[vn] = '\0';
	/* trim */
	{
		char *b = val;
		size_t n;
		while (*b == ' ')
			b++;
		n = strlen(b);
		memmove(val, b, n + 1);
		while (n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\r'))
			val[--n] = '\0';
	}
	*p = s;
	return 1;
}

/* The media type of a Content-Type value, lower-cased, into out. */
static void ct_type(const char *v, char *out, size_t len)
{
	size_t n = 0;

	while (*v == ' ')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '(' && n + 1 < len)
		out[n++] = (char)tolower((unsigned char)*v++);
	out[n] = '\0';
}

/* Parameter name of a Content-Type value (quoted or token), or -1. */
static int ct_param(const char *v, const char *name, char *out, size_t len)
{
	size_t k = strlen(name);
	const char *p = strchr(v, ';');

	while (p != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, name, k) == 0) {
			const char *q = p + k;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				size_t n = 0;
				q++;
				while (*q == ' ')
					q++;
				if (*q == '"') {
					q++;
					while (*q && *q != '"' && n + 1 < len) {
						if (*q == '\\' && q[1])
							q++;
						out[n++] = *q++;
					}
				} else {
					while (*q && *q != ';' && *q != ' ' && n + 1 < len)
						out[n++] = *q++;
				}
				out[n] = '\0';
				return n > 0 ? 0 : -1;
			}
		}
		/* skip to the next ';' outside quotes */
		{
			int inq = 0;
			for (; *p; p++) {
				if (*p == '"')
					inq = !inq;
				else if (*p == ';' && !inq)
					break;
			}
			p = *p ? p : NULL;
		}
	}
	return -1;
}

/* Top-level Content-Type of a message (the first one), or "" */
static void msg_content_type(const char *buf, size_t len, char *out, size_t olen,
			     const char **body)
{
	const char *p = buf, *e = buf + len;
	char name[64], *val = malloc(ARF_HEADER_VALUE_MAX);

	out[0] = '\0';
	if (val == NULL) {
		*body = e;
		return;
	}
	/* an mbox "From " line before the header */
	if (len > 5 && memcmp(buf, "From ", 5) == 0) {
		const char *nl = memchr(buf, '\n', len);
		p = nl ? nl + 1 : e;
	}
	while (hdr_next(&p, e, name, sizeof name, val, ARF_HEADER_VALUE_MAX))
		if (out[0] == '\0' && strcasecmp(name, "Content-Type") == 0)
			util_strlcpy(out, val, olen);
	*body = p;
	free(val);
}

int arf_is_report(const char *buf, size_t len)
{
	char ct[ARF_HEADER_VALUE_MAX], type[64], rt[64];
	const char *body;

	msg_content_type(buf, len, ct, sizeof ct, &body);
	ct_type(ct, type, sizeof type);
	if (strcmp(type, "multipart/report") != 0)
		return 0;
	if (ct_param(ct, "report-type", rt, sizeof rt) < 0)
		return 0;
	return strcasecmp(rt, "feedback-report") == 0;
}

static int b64v(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decodes base64 [b, e) into out (at least (e-b)*3/4+3 bytes); returns length. */
static size_t b64_decode(const char *b, const char *e, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; b < e; b++) {
		int v = b64v((unsigned char)*b);
		if (v < 0)
			continue; /* white space, line ends, '=' padding */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return n;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/* Decodes quoted-printable [b, e) into out (at least e-b bytes). */
static size_t qp_decode(const char *b, const char *e, char *out)
{
	size_t n = 0;

	while (b < e) {
		if (*b == '=' && b + 1 < e && (b[1] == '\n' || b[1] == '\r')) {
			b++;
			if (*b == '\r')
				b++;
			if (b < e && *b == '\n')
				b++;
			continue;
		}
		if (*b == '=' && b + 2 < e && hexv(b[1]) >= 0 && hexv(b[2]) >= 0) {
			out[n++] = (char)(hexv(b[1]) * 16 + hexv(b[2]));
			b += 3;
			continue;
		}
		out[n++] = *b++;
	}
	return n;
}

struct arf_part {
	const char *hb, *body, *end; /* header start, body start, end */
};

/* Splits a multipart body on its boundary: up to max parts. */
static size_t split_parts(const char *b, const char *e, const char *boundary,
			  struct arf_part *parts, size_t max)
{
	size_t bl = strlen(boundary), n = 0;
	const char *p = b, *cur = NULL;

	while (p < e) {
		const char *eol = memchr(p, '\n', (size_t)(e - p));
		const char *next = eol ? eol + 1 : e;
		if ((size_t)(e - p) >= bl + 2 && p[0] == '-' && p[1] == '-' &&
		    memcmp(p + 2, boundary, bl) == 0) {
			const char *after = p + 2 + bl;
			int close = (size_t)(e - after) >= 2 && after[0] == '-' && after[1] == '-';
			if (cur != NULL && n < max) {
				/* the line end before the delimiter belongs to it (RFC 2046 5.1.1) */
				const char *end = p;
				if (end > cur && end[-1] == '\n')
					end--;
				if (end > cur && end[-1] == '\r')
					end--;
				parts[n].hb = cur;
				parts[n].end = end;
				n++;
			}
			if (close)
				return n;
			cur = next;
		}
		p = next;
	}
	if (cur != NULL && n < max) { /* no close delimiter: take what is there */
		parts[n].hb = cur;
		parts[n].end = e;
		n++;
	}
	return n;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Strips "<...>" around an address field value, in place. */
static void strip_angle(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

static void parse_feedback(const char *b, const char *e, struct arf_report *r)
{
	char name[64], *val = malloc(ARF_HEADER_VALUE_MAX);
	const char *p = b;

	if (val == NULL)
		return;
	while (hdr_next(&p, e, name, sizeof name, val, ARF_HEADER_VALUE_MAX)) {
		if (strcasecmp(name, "Feedback-Type") == 0) {
			util_strlcpy(r->feedback_type, val, sizeof r->feedback_type);
			lower(r->feedback_type);
		} else if (strcasecmp(name, "User-Agent") == 0) {
			util_strlcpy(r->user_agent, val, sizeof r->user_agent);
		} else if (strcasecmp(name, "Version") == 0) {
			util_strlcpy(r->version, val, sizeof r->version);
		} else if (strcasecmp(name, "Original-Mail-From") == 0) {
			util_strlcpy(r->original_mail_from, val, sizeof r->original_mail_from);
			strip_angle(r->original_mail_from);
		} else if (strcasecmp(name, "Original-Rcpt-To") == 0) {
			util_strlcpy(r->original_rcpt_to, val, sizeof r->original_rcpt_to);
			strip_angle(r->original_rcpt_to);
		} else if (strcasecmp(name, "Arrival-Date") == 0 ||
			   (strcasecmp(name, "Received-Date") == 0 && !r->arrival_date[0])) {
			util_strlcpy(r->arrival_date, val, sizeof r->arrival_date);
		} else if (strcasecmp(name, "Reporting-MTA") == 0) {
			util_strlcpy(r->reporting_mta, val, sizeof r->reporting_mta);
		} else if (strcasecmp(name, "Original-Envelope-Id") == 0) {
			util_strlcpy(r->original_envelope_id, val, sizeof r->original_envelope_id);
		} else if (strcasecmp(name, "Source-IP") == 0) {
			char ipt[ADDR_TEXT_MAX + 16];
			char *s = val;
			size_t n;
			if (*s == '[')
				s++;
			n = strcspn(s, "] ");
			if (n < sizeof ipt) {
				memcpy(ipt, s, n);
				ipt[n] = '\0';
				if (strncasecmp(ipt, "IPv6:", 5) == 0)
					memmove(ipt, ipt + 5, strlen(ipt + 5) + 1);
				if (addr_parse(ipt, &r->source_ip, NULL, 0) == 0)
					r->has_source_ip = 1;
			}
		} else if (strcasecmp(name, "Reported-Domain") == 0) {
			if (r->n_reported_domain < ARF_MAX_DOMAINS &&
			    dname_normalise(val, r->reported_domain[r->n_reported_domain],
					    DNAME_MAX + 1, NULL, 0) == 0)
				r->n_reported_domain++;
		} else if (strcasecmp(name, "Reported-URI") == 0) {
			if (r->n_reported_uri < ARF_MAX_URIS) {
				util_strlcpy(r->reported_uri[r->n_reported_uri], val, ARF_URI_MAX + 1);
				r->n_reported_uri++;
			}
		}
	}
	free(val);
}

int arf_parse(const char *buf, size_t len, struct arf_report **out, char *err, size_t errlen)
{
	char *ct = malloc(ARF_HEADER_VALUE_MAX), boundary[256], type[64];
	const char *body, *e = buf + len;
	struct arf_part parts[ARF_MAX_PARTS];
	struct arf_report *r = NULL;
	size_t np;
	int have_feedback = 0;

	*out = NULL;
	if (ct == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	msg_content_type(buf, len, ct, ARF_HEADER_VALUE_MAX, &body);
	ct_type(ct, type, sizeof type);
	if (strcmp(type, "multipart/report") != 0) {
		util_errf(err, errlen, "not a feedback report: Content-Type is \"%s\"",
			  type[0] ? type : "(none)");
		goto fail;
	}
	if (ct_param(ct, "boundary", boundary, sizeof boundary) < 0) {
		util_errf(err, errlen, "multipart/report without a boundary parameter");
		goto fail;
	}
	np = split_parts(body, e, boundary, parts, ARF_MAX_PARTS);
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < np; i++) {
		char pct[512] = "", cte[64] = "", name[64], *val = ct;
		const char *p = parts[i].hb;
		while (hdr_next(&p, parts[i].end, name, sizeof name, val, ARF_HEADER_VALUE_MAX)) {
			if (strcasecmp(name, "Content-Type") == 0)
				util_strlcpy(pct, val, sizeof pct);
			else if (strcasecmp(name, "Content-Transfer-Encoding") == 0) {
				util_strlcpy(cte, val, sizeof cte);
				lower(cte);
			}
		}
		parts[i].body = p;
		ct_type(pct, type, sizeof type);
		if (strcmp(type, "message/feedback-report") == 0 && !have_feedback) {
			const char *fb = parts[i].body, *fe = parts[i].end;
			char *dec = NULL;
			if (strcmp(cte, "base64") == 0 || strcmp(cte, "quoted-printable") == 0) {
				dec = malloc((size_t)(fe - fb) + 4);
				if (dec == NULL)
					continue;
				size_t dn = cte[0] == 'b' ? b64_decode(fb, fe, dec)
							  : qp_decode(fb, fe, dec);
				fb = dec;
				fe = dec + dn;
			}
			parse_feedback(fb, fe, r);
			free(dec);
			have_feedback = 1;
		} else if ((strcmp(type, "message/rfc822") == 0 ||
			    strcmp(type, "text/rfc822-headers") == 0 ||
			    strcmp(type, "message/rfc822-headers") == 0) && r->original == NULL) {
			size_t n = (size_t)(parts[i].end - parts[i].body);
			r->owned = malloc(n + 4);
			if (r->owned == NULL) {
				util_errf(err, errlen, "out of memory");
				goto fail;
			}
			if (strcmp(cte, "base64") == 0)
				n = b64_decode(parts[i].body, parts[i].end, r->owned);
			else if (strcmp(cte, "quoted-printable") == 0)
				n = qp_decode(parts[i].body, parts[i].end, r->owned);
			else
				memcpy(r->owned, parts[i].body, n);
			r->owned[n] = '\0';
			r->original = r->owned;
			r->original_len = n;
			r->headers_only = type[0] == 't' || strstr(type, "headers") != NULL;
		}
	}
	if (!have_feedback) {
		util_errf(err, errlen, "feedback report without a message/feedback-report part");
		goto fail;
	}
	if (r->feedback_type[0] == '\0') {
		util_errf(err, errlen, "feedback report without a Feedback-Type field");
		goto fail;
	}
	free(ct);
	*out = r;
	return 0;
fail:
	free(ct);
	arf_free(r);
	return -1;
}

void arf_free(struct arf_report *r)
{
	if (r == NULL)
		return;
	free(r->owned);
	free(r);
}

int arf_is_not_spam(const struct arf_report *r)
{
	return r != NULL && strcmp(r->feedback_type, "not-spam") == 0;
}

size_t arf_split_mbox(const char *buf, size_t len, arf_message_fn fn, void *ud)
{
	const char *e = buf + len, *p = buf, *start;
	size_t n = 0;

	if (len < 5 || memcmp(buf, "From ", 5) != 0) {
		if (len > 0)
			fn(ud, buf, len, 0);
		return len > 0 ? 1 : 0;
	}
	start = NULL;
	while (p < e) {
		const char *eol = memchr(p, '\n', (size_t)(e - p));
		const char *next = eol ? eol + 1 : e;
		int sep = (size_t)(e - p) >= 5 && memcmp(p, "From ", 5) == 0 &&
			  (p == buf || (p >= buf + 2 && p[-1] == '\n' &&
					(p[-2] == '\n' || (p[-2] == '\r' && p >= buf + 3 &&
							   p[-3] == '\n'))));
		if (sep) {
			if (start != NULL) {
				const char *end = p;
				/* the blank line before a separator belongs to the mbox */
				if (end > start && end[-1] == '\n')
					end--;
				if (end > start && end[-1] == '\r')
					end--;
				if (fn(ud, start, (size_t)(end - start), n++) != 0)
					return n;
			}
			start = next;
		}
		p = next;
	}
	if (start != NULL && start < e)
		fn(ud, start, (size_t)(e - start), n++);
	return n;
}

/* Writes text with LF turned into CRLF (CRLF kept). */
static void put_crlf(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fputc('\r', f);
		fputc(s[i], f);
	}
}

/* A value for a header line: control characters become spaces. */
static void put_field(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s: ", name);
	for (; *v; v++)
		fputc((unsigned char)*v < 0x20 ? ' ' : *v, f);
	fputs("\r\n", f);
}

int arf_write(FILE *f, const struct arf_out *o, const char *original, size_t len)
{
	char date[64], boundary[64];
	time_t t = (time_t)o->now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof boundary, "chanrac-arf-%lld", (long long)o->now);
	put_field(f, "From", o->from);
	if (o->to && o->to[0])
		put_field(f, "To", o->to);
	put_field(f, "Date", date);
	put_field(f, "Subject", strcmp(o->feedback_type, "not-spam") == 0
					? "Not-spam report" : "Abuse report");
	fputs("MIME-Version: 1.0\r\n", f);
	fprintf(f, "Content-Type: multipart/report; report-type=feedback-report;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n", boundary);
	fprintf(f, "--%s\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
	fprintf(f, "This is an email %s report (RFC 5965) for a message received%s%s.\r\n\r\n",
		strcmp(o->feedback_type, "not-spam") == 0 ? "not-spam" : "abuse",
		o->source_ip && o->source_ip[0] ? " from IP " : "",
		o->source_ip && o->source_ip[0] ? o->source_ip : "");
	fprintf(f, "--%s\r\nContent-Type: message/feedback-report\r\n\r\n", boundary);
	put_field(f, "Feedback-Type", o->feedback_type);
	put_field(f, "User-Agent", o->user_agent);
	fputs("Version: 1\r\n", f);
	if (o->original_mail_from && o->original_mail_from[0]) {
		fprintf(f, "Original-Mail-From: <");
		for (const char *v = o->original_mail_from; *v; v++)
			fputc((unsigned char)*v < 0x20 ? ' ' : *v, f);
		fputs(">\r\n", f);
	}
	if (o->arrival_date && o->arrival_date[0])
		put_field(f, "Arrival-Date", o->arrival_date);
	if (o->reporting_mta && o->reporting_mta[0]) {
		char v[300];
		snprintf(v, sizeof v, "dns; %s", o->reporting_mta);
		put_field(f, "Reporting-MTA", v);
	}
	if (o->source_ip && o->source_ip[0])
		put_field(f, "Source-IP", o->source_ip);
	for (size_t i = 0; i < o->n_reported_domains; i++)
		put_field(f, "Reported-Domain", o->reported_domains[i]);
	for (size_t i = 0; i < o->n_reported_uris; i++)
		put_field(f, "Reported-URI", o->reported_uris[i]);
	fprintf(f, "\r\n--%s\r\nContent-Type: message/rfc822\r\n"
		   "Content-Disposition: inline\r\n\r\n", boundary);
	put_crlf(f, original, len);
	if (len > 0 && original[len - 1] != '\n')
		fputs("\r\n", f);
	fprintf(f, "--%s--\r\n", boundary);
	return ferror(f) ? -1 : 0;
}
