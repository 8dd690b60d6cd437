/* advert: the content side of the advertising rules of REGULATIONS.md — is a message
 * advertising (Subject label R1, or bulk/marketing signals), is its label canonical
 * (R1a) and first (R1b), does the body end with an advertiser block (R3) and an
 * opt-out section (R4), and is its List-Unsubscribe usable (R4h).  Pure functions
 * over a parsed cr_msg and its text; the engine turns the results into hits
 * (lib/engine_advert.c).  No state, thread-safe. */
#ifndef CHANRAC_ADVERT_H
#define CHANRAC_ADVERT_H

#include <stddef.h>

#include "msg.h"

/* ---- R1 / R1a / R1b: the Subject label ------------------------------------------ */

enum advert_label_kind {
	ADVERT_LABEL_NONE = 0,  /* no label anywhere */
	ADVERT_LABEL_CANONICAL, /* "[QC]" or "[AD]" first (R1 passes) */
	ADVERT_LABEL_TOLERATED, /* a tolerated form first (R1a) */
	ADVERT_LABEL_NOT_FIRST, /* a label after other text (R1b) */
};

struct advert_label {
	enum advert_label_kind kind;
	int quoted_reply;   /* the label follows Re:/TL: in a genuine reply (In-Reply-To
			       or References): not the sender's own claim */
	char text[80];      /* the label as written (UTF-8) */
	char why[160];      /* TOLERATED / NOT_FIRST: what is non-canonical / before it */
};

/* Finds the advertising label of a decoded, NFC Subject (NULL = none).  Leading
 * white space is skipped.  Canonical: "[QC]" / "[AD]".  Tolerated (R1a): any case,
 * "ADV", the brackets ( ) { } < > ［ ］ 【 】, white space inside the brackets,
 * full-width letters, and the legacy management-code form "[QC-1234]" /
 * "[QC 1234]" (QC, AD or ADV, then one of " -_:/." and a code of letters, digits
 * and "._/-").  Not first (R1b): a label in square brackets ([ ] ［ ］ 【 】) after
 * other text, or any label after reply/forward prefixes (Re:, Fw:, Fwd:, TL:, CT:,
 * AW:, SV:, VS:) when the message is not a reply; in a reply (is_reply: it has
 * In-Reply-To or References) a label after "Re:"-type prefixes counts as first
 * and quoted_reply is set. */
void advert_subject_label(const char *subject, int is_reply, struct advert_label *out);

/* ---- text folding ---------------------------------------------------------------- */

/* A matching copy of UTF-8 text: lower case, Vietnamese (and other) diacritics
 * removed, đ/Đ -> d, full-width ASCII -> ASCII, NBSP -> space, line breaks kept,
 * so "HỦY ĐĂNG KÝ", "huỷ đăng ký" and "huy dang ky" all read "huy dang ky".
 * malloc'd (caller frees), NULL on out-of-memory; *outlen may be NULL. */
char *advert_fold(const char *s, size_t len, size_t *outlen);

/* ---- advertising detection -------------------------------------------------------- */

struct advert_signals {
	int bulk;       /* header evidence: List-Unsubscribe(-Post), Precedence: bulk,
			   Feedback-ID, ESP headers */
	int marketing;  /* body evidence: opt-out wording, marketing terms, prices,
			   discounts, tracking links, many links */
	char why[240];  /* "list-unsubscribe precedence-bulk terms=3 price ..." */
};

/* Counts the signals of a parsed message; folded = advert_fold(msg_text). */
void advert_signals(const cr_msg *m, const char *folded, struct advert_signals *out);

/* 1 when the signals make unlabelled mail advertising: at least 2 marketing points
 * and bulk + marketing >= threshold. */
int advert_is_advertising(const struct advert_signals *s, int threshold);

/* ---- R3 / R4: advertiser block and opt-out section ----------------------------- */

struct advert_layout {
	/* R4 */
	int optout_found;    /* opt-out wording in the last ADVERT_TAIL_LINES lines */
	int optout_elsewhere; /* opt-out wording only earlier in the body */
	int optout_at_end;   /* at most ADVERT_SECTION_MAX_LINES lines follow it */
	int statement;       /* the right to refuse (quyền / tất cả / all / right...) */
	int vi_wording, en_wording; /* opt-out wording in Vietnamese / English in it */
	int web, email, phone; /* the three channels inside the section */
	/* R3: in the ADVERT_BLOCK_LINES non-empty lines before the section (or, with no
	 * section, the last ones of the body) */
	int name, block_phone, block_email, address;
	/* the same elements anywhere in the body, to tell "missing" from "misplaced" */
	int any_name, any_phone, any_email, any_address;
};

#define ADVERT_TAIL_LINES 25
#define ADVERT_SECTION_MAX_LINES 12
#define ADVERT_BLOCK_LINES 10

/* Finds the opt-out section and the advertiser block in the folded visible text.
 * m (may be NULL) supplies HTML links, whose targets are not in the rendered text:
 * an href URL that names an opt-out page (unsub, opt-out, huy-dang-ky, tu-choi,
 * preferences) or a social network counts as the web channel, and a mailto:
 * address absent from the text as the email channel, when the section mentions
 * them ("link", "tại đây", "here", "email"...). */
void advert_layout(const char *folded, size_t len, const cr_msg *m,
		   struct advert_layout *out);

/* "name, phone" — the R3 elements missing from the block; "" if none. */
void advert_block_missing(const struct advert_layout *l, char *buf, size_t len);
/* "statement, web, email, phone" — what the R4 section lacks; "" if none. */
void advert_optout_missing(const struct advert_layout *l, char *buf, size_t len);

/* ---- R4h: List-Unsubscribe (RFC 2369) and one-click (RFC 8058) ------------------- */

struct advert_unsub {
	int present;         /* List-Unsubscribe fields */
	int malformed;       /* an entry not in <...>, or an unusable URI */
	int mailto, https, http; /* usable URIs of each kind */
	int post_present;    /* List-Unsubscribe-Post fields */
	int post_valid;      /* exactly "List-Unsubscribe=One-Click", with an https URI */
	char why[200];       /* what is wrong, "" if nothing */
};

/* Checks the raw values of the List-Unsubscribe and List-Unsubscribe-Post fields
 * (lu / post: the first occurrence, NULL if absent; nlu / npost: how many). */
void advert_unsub_check(const char *lu, size_t nlu, const char *post, size_t npost,
			struct advert_unsub *out);

#endif
