/* msg: the message parser of the check engine — headers (unfolded, RFC 2047 decoded,
 * UTF-8 NFC), addresses, the MIME tree, the visible text, and the URLs and email
 * addresses of the body; fed streamed by the milter or whole by `chanrac scan`. */
#ifndef CHANRAC_MSG_H
#define CHANRAC_MSG_H

#include <stddef.h>

/* Hostile input never fails a message: past a limit the parser stops, keeps what it
 * has and sets a flag; undecodable text is kept raw (headers) or as U+FFFD (bodies)
 * and flagged.  A cr_msg is used by one thread at a time; the module keeps no
 * shared mutable state.  VIQR is not decoded (glibc iconv has no VIQR). */
typedef struct cr_msg cr_msg;

/* Defaults for struct msg_limits; a field left 0 takes its default. */
#define MSG_DEFAULT_MAX_DEPTH 10            /* MIME nesting below the message */
#define MSG_DEFAULT_MAX_PARTS 100           /* MIME entities walked, any depth */
#define MSG_DEFAULT_MAX_SCAN_BYTES (1u << 20) /* body input kept and parsed */
#define MSG_DEFAULT_MAX_HEADER_BYTES (256u << 10) /* all header fields together */
#define MSG_DEFAULT_MAX_URLS 200            /* distinct URLs kept */
#define MSG_DEFAULT_MAX_ADDRESSES 200       /* distinct body email addresses kept */

/* Hard ceilings: larger values are clamped (the MIME walk recurses once per level). */
#define MSG_HARD_MAX_DEPTH 64
#define MSG_HARD_MAX_COUNT 100000           /* parts, URLs, addresses */

struct msg_limits {
	unsigned max_depth;      /* entities deeper than this are not walked (top = 0) */
	unsigned max_parts;      /* body parts and inner messages; the top entity is free */
	size_t max_scan_bytes;   /* body bytes buffered and parsed; the rest is dropped */
	size_t max_header_bytes; /* sum of name + value + 4 over kept header fields */
	unsigned max_urls;
	unsigned max_addresses;
};

/* Fills every field with its default. */
void msg_limits_default(struct msg_limits *lim);

/* Flags: which limit was hit and what was wrong with the input. */
enum msg_flag {
	MSG_F_HEADER_CAP = 1u << 0,  /* header fields dropped past max_header_bytes */
	MSG_F_SCAN_CAP = 1u << 1,    /* body bytes dropped past max_scan_bytes */
	MSG_F_DEPTH_CAP = 1u << 2,   /* an entity deeper than max_depth was not walked */
	MSG_F_PARTS_CAP = 1u << 3,   /* parts past max_parts were not walked */
	MSG_F_URL_CAP = 1u << 4,     /* distinct URLs past max_urls were dropped */
	MSG_F_ADDR_CAP = 1u << 5,    /* distinct addresses past max_addresses dropped */
	MSG_F_BAD_ENCODING = 1u << 6, /* malformed RFC 2047 word, base64 or QP */
	MSG_F_BAD_CHARSET = 1u << 7, /* unknown charset or bytes invalid in theirs */
	MSG_F_BAD_MIME = 1u << 8,    /* missing boundary, missing close delimiter */
	MSG_F_BAD_HEADER = 1u << 9,  /* a header field with an unusable name */
	MSG_F_HTML_ONLY = 1u << 10,  /* visible text came (partly) from HTML with no
	                                text/plain alternative */
};

/* Short lower-case name of one flag bit ("scan_cap"), or "?" if unknown. */
const char *msg_flag_name(unsigned flag);

/* Charset conversions use glibc iconv, which unloads an idle charset module soon
 * after its last iconv_close; a program parsing many messages would then load and
 * unload modules per message (about 8x the cost of the parse).  A long-running
 * program (the milter) creates one pin at start and frees it at exit: it holds one
 * descriptor of each common mail charset and never converts with them, so sharing
 * it between threads is safe.  Optional; NULL on failure. */
typedef struct cr_charset_pin cr_charset_pin;
cr_charset_pin *msg_charset_pin_new(void);
void msg_charset_pin_free(cr_charset_pin *pin);

/* ---- building a message ---- */

/* lim NULL means all defaults.  NULL on out-of-memory. */
cr_msg *msg_new(const struct msg_limits *lim);
void msg_free(cr_msg *m);

/* One header field as received: name without the colon, value possibly folded
 * (CRLF or LF followed by WSP).  Fields past max_header_bytes are dropped and
 * MSG_F_HEADER_CAP set; a field with an empty or invalid name is dropped with
 * MSG_F_BAD_HEADER.  0 on success (including dropped fields), -1 on
 * out-of-memory or when called after the body began. */
int msg_header(cr_msg *m, const char *name, const char *value);
/* Same with explicit lengths; NUL bytes in the value are dropped. */
int msg_header_n(cr_msg *m, const char *name, size_t namelen, const char *value,
		 size_t valuelen);

/* A chunk of the body (line ends CRLF or LF), callable many times.  Bytes past
 * max_scan_bytes are dropped and MSG_F_SCAN_CAP set.  0, or -1 on out-of-memory
 * or after msg_end. */
int msg_body(cr_msg *m, const void *buf, size_t len);

/* Parses the MIME tree, the text, URLs and addresses.  Call once, after the last
 * msg_body; a second call does nothing.  0, or -1 on out-of-memory. */
int msg_end(cr_msg *m);

/* A whole RFC 5322 message: LF or CRLF line ends, an optional mbox "From " first
 * line.  A line that is neither a header field nor a continuation ends the header
 * section (as Postfix cleanup does).  Calls msg_header_n/msg_body/msg_end.
 * NULL with err set on out-of-memory (or an unreadable file). */
cr_msg *msg_parse_buffer(const void *buf, size_t len, const struct msg_limits *lim,
			 char *err, size_t errlen);
/* Reads at most max_header_bytes + max_scan_bytes + 64 KiB of the file; a longer
 * file sets MSG_F_SCAN_CAP. */
cr_msg *msg_parse_file(const char *path, const struct msg_limits *lim, char *err,
		       size_t errlen);

/* ---- results ---- */

unsigned msg_flags(const cr_msg *m);

/* Header fields, in arrival order.  raw: unfolded value (CR/LF removed, leading
 * and trailing WSP trimmed), bytes as received.  folded: the value as received,
 * folding kept (each line break as CRLF, NULs dropped, nothing trimmed: what
 * followed the colon, though an MTA may have dropped the leading space), for
 * DKIM's "simple" canonicalisation.  value: RFC 2047 decoded, UTF-8, NFC,
 * control characters turned into spaces.  flags: MSG_F_BAD_* of this field. */
struct msg_header_field {
	const char *name;
	const char *raw;
	const char *folded;
	const char *value;
	unsigned flags;
};
size_t msg_header_total(const cr_msg *m);
const struct msg_header_field *msg_header_at(const cr_msg *m, size_t i);
/* Occurrences of a header name (ASCII case-insensitive). */
size_t msg_header_count(const cr_msg *m, const char *name);
/* The idx-th occurrence (0 = first) of a name, or NULL. */
const struct msg_header_field *msg_header_find(const cr_msg *m, const char *name,
					       size_t idx);
/* Decoded value of the idx-th occurrence, or NULL. */
const char *msg_header_value(const cr_msg *m, const char *name, size_t idx);
/* Decoded Subject (first occurrence) or NULL. */
const char *msg_subject(const cr_msg *m);

/* An addr-spec: local part as written (quotes kept, comments and folding
 * removed), domain lower-cased without a trailing dot.  Longer ones are skipped. */
#define MSG_ADDR_MAX 320
#define MSG_DOMAIN_MAX 255
struct msg_mailbox {
	char addr[MSG_ADDR_MAX + 1];     /* local@domain */
	char domain[MSG_DOMAIN_MAX + 1]; /* domain part, "" when there is none */
};

/* Extracts the addr-specs of an RFC 5322 address-list (From, To, Cc, Reply-To,
 * Sender, Return-Path...): "Name <a@b>", bare a@b, groups "g: a@b, c@d;",
 * comments, quoted display names.  Entries without "@" are skipped.  Stores up
 * to max and returns how many were stored. */
size_t msg_parse_addresses(const char *value, struct msg_mailbox *out, size_t max);
/* The same over every occurrence of a header name, in order. */
size_t msg_header_addresses(const cr_msg *m, const char *name, struct msg_mailbox *out,
			    size_t max);
/* First mailbox of the first From field, or NULL (no From, or no address). */
const struct msg_mailbox *msg_from(const cr_msg *m);
/* Its domain, or NULL. */
const char *msg_from_domain(const cr_msg *m);

/* ---- after msg_end ---- */

/* One MIME entity; index 0 is the message itself.  Parts come in document order
 * (pre-order), so the subtree of a part is a contiguous range after it. */
struct msg_part {
	const char *content_type; /* "text/plain", lower-case; the default if absent */
	const char *charset;      /* lower-case charset parameter, "" when none */
	const char *filename;     /* decoded filename/name parameter, or NULL */
	unsigned depth;           /* 0 for the message, +1 per multipart/message level */
	int parent;               /* index of the parent, -1 for the message */
	int is_text;              /* text/plain or text/html that was decoded */
	int is_html;
	int is_attachment;        /* Content-Disposition: attachment */
	int visible;              /* part of msg_text() */
	const char *text;         /* decoded UTF-8 NFC text (HTML rendered), or NULL */
	size_t text_len;
	size_t body_bytes;        /* encoded body size of this entity */
	unsigned flags;           /* MSG_F_BAD_* met in this entity */
};
size_t msg_part_count(const cr_msg *m);
const struct msg_part *msg_part_at(const cr_msg *m, size_t i);

/* The visible text: the visible parts' text joined by newlines (multipart/
 * alternative prefers text/plain; HTML is rendered: tags, comments, script, style
 * and title dropped, entities decoded, block tags as newlines, whitespace
 * collapsed).  Never NULL after msg_end (""); len may be NULL. */
const char *msg_text(const cr_msg *m, size_t *len);

/* URLs (http, https, ftp, bare "www.") in text parts and HTML href/src/action/
 * background attributes, distinct by their text, in the order found (part by
 * part; within an HTML part its attributes come before its rendered text).  host: the
 * host lower-cased without a trailing dot, %XX decoded, converted to an A-label
 * by dname_normalise when that succeeds (otherwise kept as found).  An IPv6
 * literal keeps its brackets. */
struct msg_url {
	const char *url;  /* as written (trailing punctuation removed), <= 2048 bytes */
	const char *host;
	int in_html;      /* found in an HTML attribute */
};
size_t msg_url_count(const cr_msg *m);
const struct msg_url *msg_url_at(const cr_msg *m, size_t i);

/* Email addresses found in the body text and in mailto: links, lower-cased,
 * distinct, in document order. */
size_t msg_email_count(const cr_msg *m);
const char *msg_email_at(const cr_msg *m, size_t i);

/* The body bytes kept (at most max_scan_bytes), as received. */
const char *msg_body_raw(const cr_msg *m, size_t *len);

#endif
