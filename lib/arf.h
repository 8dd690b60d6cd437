/* arf: Abuse Reporting Format (RFC 5965) feedback reports, in and out — the
 * machine-readable fields of a report, the reported message it carries (whole,
 * or its header only), RFC 6430 "not-spam" reports — and the splitting of an
 * mbox into messages.  Parsing never trusts a length; bounds are below. */
#ifndef CHANRAC_ARF_H
#define CHANRAC_ARF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "dname.h"

#define ARF_FIELD_MAX 255
#define ARF_MAX_DOMAINS 16
#define ARF_MAX_URIS 16
#define ARF_URI_MAX 1024

/* A parsed message/feedback-report part (RFC 5965 3.1-3.3). */
struct arf_report {
	char feedback_type[ARF_FIELD_MAX + 1]; /* lower-case: abuse, fraud, not-spam, ... */
	char user_agent[ARF_FIELD_MAX + 1];
	char version[ARF_FIELD_MAX + 1];
	char original_mail_from[ARF_FIELD_MAX + 1];
	char original_rcpt_to[ARF_FIELD_MAX + 1];
	char arrival_date[ARF_FIELD_MAX + 1];
	char reporting_mta[ARF_FIELD_MAX + 1];
	char original_envelope_id[ARF_FIELD_MAX + 1];
	int has_source_ip;
	struct cr_addr source_ip;              /* Source-IP, when it parses */
	char reported_domain[ARF_MAX_DOMAINS][DNAME_MAX + 1]; /* normalised */
	size_t n_reported_domain;
	char reported_uri[ARF_MAX_URIS][ARF_URI_MAX + 1];
	size_t n_reported_uri;
	int headers_only;   /* the original came as text/rfc822-headers */
	const char *original; /* the reported message (decoded), inside the buffer
				 arf_parse allocated; NULL when the report has none */
	size_t original_len;
	char *owned;          /* storage behind original; freed by arf_free */
};

/* 1 if the RFC 5322 message in buf is a feedback report: its top-level
 * Content-Type is multipart/report with report-type=feedback-report. */
int arf_is_report(const char *buf, size_t len);

/* Parses a feedback report.  The message/feedback-report part is required and
 * must carry Feedback-Type; the third part (message/rfc822 or
 * text/rfc822-headers, 7bit/8bit/binary/base64/quoted-printable) is optional.
 * 0 with *out set (free with arf_free), -1 with err naming what is wrong. */
int arf_parse(const char *buf, size_t len, struct arf_report **out, char *err, size_t errlen);
void arf_free(struct arf_report *r);

/* 1 for an RFC 6430 not-spam report, else 0. */
int arf_is_not_spam(const struct arf_report *r);

/* Splits an mbox (or a single message) into messages: calls fn for each with
 * its bytes (the "From " separator line removed, ">From " unescaped in place
 * is NOT done: mboxrd quoting is left as is).  A buffer that does not start
 * with "From " is one message.  fn returns non-zero to stop.  Returns the number
 * of messages passed. */
typedef int (*arf_message_fn)(void *ud, const char *msg, size_t len, size_t index);
size_t arf_split_mbox(const char *buf, size_t len, arf_message_fn fn, void *ud);

/* What an outgoing report says about the message. */
struct arf_out {
	const char *feedback_type;  /* "abuse" or "not-spam" */
	const char *from;           /* our report address, e.g. abuse@example.vn */
	const char *to;             /* recipient, may be NULL */
	const char *user_agent;     /* "chanrac/1" */
	const char *reporting_mta;  /* our host name, may be NULL */
	const char *source_ip;      /* text, may be NULL */
	const char *original_mail_from; /* may be NULL */
	const char *arrival_date;   /* RFC 5322 date text, may be NULL */
	const char *const *reported_domains; size_t n_reported_domains;
	const char *const *reported_uris; size_t n_reported_uris;
	int64_t now;
};

/* Writes a complete RFC 5965 report (multipart/report with a human-readable
 * part, the message/feedback-report part and the original as message/rfc822)
 * with CRLF line ends.  0, or -1 on a write error. */
int arf_write(FILE *f, const struct arf_out *o, const char *original, size_t len);

#endif
