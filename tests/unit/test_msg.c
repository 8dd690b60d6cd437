/* Tests for lib/msg.c: header unfolding and RFC 2047 decoding, addresses, the MIME
 * walk and its caps, transfer encodings, charsets, HTML rendering, URL and email
 * extraction, whole-file parsing, and hostile input. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unistr.h>

#include "msg.h"
#include "util.h"

/* "Khuyến mãi Việt" in NFC */
#define VN_NFC "Khuy\xe1\xba\xbfn m\xc3\xa3i Vi\xe1\xbb\x87t"

static cr_msg *parse(const char *s)
{
	char err[256] = "";
	cr_msg *m = msg_parse_buffer(s, strlen(s), NULL, err, sizeof err);

	ck_assert_msg(m != NULL, "parse failed: %s", err);
	return m;
}

static cr_msg *parse_lim(const char *s, const struct msg_limits *lim)
{
	char err[256] = "";
	cr_msg *m = msg_parse_buffer(s, strlen(s), lim, err, sizeof err);

	ck_assert_msg(m != NULL, "parse failed: %s", err);
	return m;
}

/* Decodes one Subject value given as received. */
static char *subject_of(const char *raw, unsigned *flags)
{
	cr_msg *m = msg_new(NULL);
	char *v;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(msg_header(m, "Subject", raw), 0);
	v = strdup(msg_subject(m));
	if (flags)
		*flags = msg_flags(m);
	msg_free(m);
	return v;
}

#define ASSERT_SUBJECT(raw, want)                        \
	do {                                             \
		char *got_ = subject_of(raw, NULL);      \
		ck_assert_str_eq(got_, want);            \
		free(got_);                              \
	} while (0)

/* ---- headers ---- */

START_TEST(test_header_unfolds_crlf_and_lf)
{
	cr_msg *m = msg_new(NULL);
	const struct msg_header_field *f;

	ck_assert_int_eq(msg_header(m, "Subject", " a\r\n b\n\tc  "), 0);
	f = msg_header_find(m, "subject", 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->name, "Subject");
	ck_assert_str_eq(f->raw, "a b\tc");
	ck_assert_str_eq(f->value, "a b c"); /* tab is a control: a space */
	/* folding kept for DKIM "simple": every line break CRLF, nothing trimmed */
	ck_assert_str_eq(f->folded, " a\r\n b\r\n\tc  ");
	ck_assert_uint_eq(msg_flags(m), 0);
	/* a bare CR is a line break too; NULs are dropped */
	ck_assert_int_eq(msg_header_n(m, "X-T", 3, "x\ry\0z", 5), 0);
	ck_assert_str_eq(msg_header_find(m, "X-T", 0)->folded, "x\r\nyz");
	msg_free(m);
}
END_TEST

START_TEST(test_header_lookup_case_insensitive_all_occurrences)
{
	cr_msg *m = msg_new(NULL);

	msg_header(m, "From", "A <a@x.vn>");
	msg_header(m, "To", "b@y.vn");
	msg_header(m, "FROM", "B <b@z.vn>");
	ck_assert_uint_eq(msg_header_total(m), 3);
	ck_assert_uint_eq(msg_header_count(m, "from"), 2);
	ck_assert_uint_eq(msg_header_count(m, "Reply-To"), 0);
	ck_assert_str_eq(msg_header_value(m, "From", 1), "B <b@z.vn>");
	ck_assert_ptr_null(msg_header_value(m, "From", 2));
	ck_assert_str_eq(msg_header_at(m, 1)->name, "To");
	ck_assert_ptr_null(msg_header_at(m, 3));
	/* the first From gives the sender */
	ck_assert_str_eq(msg_from(m)->addr, "a@x.vn");
	ck_assert_str_eq(msg_from_domain(m), "x.vn");
	msg_free(m);
}
END_TEST

START_TEST(test_ew_b_utf8)
{
	ASSERT_SUBJECT("=?UTF-8?B?S2h1eeG6v24gbcOjaSBWaeG7h3Q=?=", VN_NFC);
}
END_TEST

START_TEST(test_ew_q_utf8_underscore_is_space)
{
	ASSERT_SUBJECT("=?utf-8?q?Khuy=E1=BA=BFn_m=C3=A3i_Vi=E1=BB=87t?=", VN_NFC);
}
END_TEST

START_TEST(test_ew_adjacent_words_joined_without_blank)
{
	ASSERT_SUBJECT("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab");
	ASSERT_SUBJECT("=?utf-8?Q?a?=\r\n =?utf-8?B?Yg==?=", "ab");
	ASSERT_SUBJECT("=?utf-8?Q?a?= x =?utf-8?Q?b?=", "a x b");
	ASSERT_SUBJECT("pre =?utf-8?Q?a?= post", "pre a post");
	/* different charsets are joined too */
	ASSERT_SUBJECT("=?iso-8859-1?Q?Caf=E9?= =?utf-8?Q?_ok?=", "Caf\xc3\xa9 ok");
}
END_TEST

START_TEST(test_ew_character_split_over_two_words)
{
	ASSERT_SUBJECT("=?utf-8?Q?Khuy=E1=BA?= =?utf-8?Q?=BFn?=", "Khuy\xe1\xba\xbfn");
}
END_TEST

START_TEST(test_ew_windows_1258)
{
	ASSERT_SUBJECT("=?windows-1258?Q?Khuy=EA=ECn_ma=DEi_Vi=EA=F2t?=", VN_NFC);
}
END_TEST

START_TEST(test_ew_viscii)
{
	ASSERT_SUBJECT("=?VISCII?Q?Khuy=AAn_m=E3i_Vi=AEt?=", VN_NFC);
}
END_TEST

START_TEST(test_ew_tcvn_labels)
{
	ASSERT_SUBJECT("=?TCVN5712-1?Q?Khuy=D5n_m=B7i_Vi=D6t?=", VN_NFC);
	ASSERT_SUBJECT("=?x-viet-tcvn?Q?Khuy=D5n_m=B7i_Vi=D6t?=", VN_NFC);
}
END_TEST

START_TEST(test_ew_iso_8859_1_and_15)
{
	ASSERT_SUBJECT("=?ISO-8859-1?Q?Caf=E9?=", "Caf\xc3\xa9");
	/* 0xA4 is the euro sign in -15, the currency sign in -1 */
	ASSERT_SUBJECT("=?iso-8859-15?Q?5=A4?=", "5\xe2\x82\xac");
	/* Latin-1 labels read as windows-1252: 0x96 is an en dash */
	ASSERT_SUBJECT("=?iso-8859-1?Q?a=96b?=", "a\xe2\x80\x93" "b");
}
END_TEST

START_TEST(test_ew_unknown_charset_kept_raw_and_flagged)
{
	unsigned flags;
	char *v = subject_of("Hi =?x-klingon?Q?abc?= there", &flags);

	ck_assert_str_eq(v, "Hi =?x-klingon?Q?abc?= there");
	ck_assert(flags & MSG_F_BAD_CHARSET);
	free(v);
	/* glibc iconv has no VIQR: treated as unknown */
	v = subject_of("=?VIQR?Q?Vie^.t?=", &flags);
	ck_assert_str_eq(v, "=?VIQR?Q?Vie^.t?=");
	ck_assert(flags & MSG_F_BAD_CHARSET);
	free(v);
}
END_TEST

START_TEST(test_ew_bad_encoding_kept_raw_and_flagged)
{
	unsigned flags;
	char *v = subject_of("x =?utf-8?B?@@@@?= y", &flags);

	ck_assert_str_eq(v, "x =?utf-8?B?@@@@?= y");
	ck_assert(flags & MSG_F_BAD_ENCODING);
	free(v);
	v = subject_of("=?utf-8?Q?a=ZZ?=", &flags);
	ck_assert_str_eq(v, "=?utf-8?Q?a=ZZ?=");
	ck_assert(flags & MSG_F_BAD_ENCODING);
	free(v);
	/* bytes invalid in the declared charset */
	v = subject_of("=?utf-8?Q?a=FF?=", &flags);
	ck_assert_str_eq(v, "=?utf-8?Q?a=FF?=");
	ck_assert(flags & MSG_F_BAD_CHARSET);
	free(v);
}
END_TEST

START_TEST(test_ew_unterminated_and_malformed_left_alone)
{
	ASSERT_SUBJECT("=?utf-8?Q?abc", "=?utf-8?Q?abc");
	ASSERT_SUBJECT("=?utf-8?X?abc?=", "=?utf-8?X?abc?=");
	ASSERT_SUBJECT("=??Q?abc?=", "=??Q?abc?=");
	ASSERT_SUBJECT("=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=");
	ASSERT_SUBJECT("a=?=?utf-8?Q?b?=", "a=?b");
}
END_TEST

START_TEST(test_ew_language_suffix_rfc2231)
{
	ASSERT_SUBJECT("=?utf-8*vi?Q?Vi=E1=BB=87t?=", "Vi\xe1\xbb\x87t");
}
END_TEST

START_TEST(test_subject_nfd_equals_nfc)
{
	/* "[QC] Khuyến mãi" typed in NFD, raw 8-bit and encoded */
	ASSERT_SUBJECT("[QC] Khuye\xcc\x82\xcc\x81n ma\xcc\x83i", "[QC] Khuy\xe1\xba\xbfn m\xc3\xa3i");
	ASSERT_SUBJECT("=?utf-8?B?W1FDXSBLaHV5ZcyCzIFuIG1hzINp?=",
		       "[QC] Khuy\xe1\xba\xbfn m\xc3\xa3i");
}
END_TEST

START_TEST(test_header_invalid_8bit_replaced_and_flagged)
{
	unsigned flags;
	char *v = subject_of("Caf\xe9!", &flags);

	ck_assert_str_eq(v, "Caf\xef\xbf\xbd!");
	ck_assert(flags & MSG_F_BAD_CHARSET);
	free(v);
}
END_TEST

START_TEST(test_header_decoded_controls_become_spaces)
{
	ASSERT_SUBJECT("=?utf-8?Q?a=0D=0Ab=00c?=", "a  b c");
}
END_TEST

START_TEST(test_header_cap_drops_and_flags)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_header_bytes = 40;
	m = msg_new(&lim);
	ck_assert_int_eq(msg_header(m, "Subject", "0123456789"), 0); /* 7+4+10 = 21 */
	ck_assert_uint_eq(msg_flags(m) & MSG_F_HEADER_CAP, 0);
	ck_assert_int_eq(msg_header(m, "X-Long", "012345678901234567890123456789"), 0);
	ck_assert(msg_flags(m) & MSG_F_HEADER_CAP);
	ck_assert_int_eq(msg_header(m, "To", "a@b.c"), 0); /* 2+4+5 = 11 still fits */
	ck_assert_uint_eq(msg_header_total(m), 2);
	ck_assert_uint_eq(msg_header_count(m, "X-Long"), 0);
	msg_free(m);
}
END_TEST

START_TEST(test_header_bad_name_dropped_and_flagged)
{
	cr_msg *m = msg_new(NULL);

	ck_assert_int_eq(msg_header(m, "", "x"), 0);
	ck_assert_int_eq(msg_header(m, "Bad Name", "x"), 0);
	ck_assert_int_eq(msg_header(m, "Bad:Name", "x"), 0);
	ck_assert_uint_eq(msg_header_total(m), 0);
	ck_assert(msg_flags(m) & MSG_F_BAD_HEADER);
	msg_free(m);
}
END_TEST

START_TEST(test_header_after_body_is_an_error)
{
	cr_msg *m = msg_new(NULL);

	ck_assert_int_eq(msg_body(m, "x", 1), 0);
	ck_assert_int_eq(msg_header(m, "Subject", "late"), -1);
	ck_assert_int_eq(msg_end(m), 0);
	ck_assert_int_eq(msg_end(m), 0);
	ck_assert_int_eq(msg_body(m, "y", 1), -1);
	ck_assert_str_eq(msg_text(m, NULL), "x");
	msg_free(m);
}
END_TEST

START_TEST(test_header_nul_bytes_dropped)
{
	cr_msg *m = msg_new(NULL);

	ck_assert_int_eq(msg_header_n(m, "Subject", 7, "a\0b", 3), 0);
	ck_assert_str_eq(msg_subject(m), "ab");
	msg_free(m);
}
END_TEST

START_TEST(test_charset_pin_keeps_conversions_working)
{
	cr_charset_pin *pin = msg_charset_pin_new();

	ck_assert_ptr_nonnull(pin);
	ASSERT_SUBJECT("=?windows-1258?Q?Khuy=EA=ECn_ma=DEi_Vi=EA=F2t?=", VN_NFC);
	msg_charset_pin_free(pin);
	msg_charset_pin_free(NULL);
	ASSERT_SUBJECT("=?VISCII?Q?Khuy=AAn_m=E3i_Vi=AEt?=", VN_NFC);
}
END_TEST

/* ---- addresses ---- */

START_TEST(test_addr_display_names_and_angle)
{
	struct msg_mailbox mb[4];
	size_t n = msg_parse_addresses(
		"\"Doe, John\" <John@Example.COM.>, =?utf-8?B?VGVzdA==?= <t@x.vn>", mb, 4);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(mb[0].addr, "John@example.com");
	ck_assert_str_eq(mb[0].domain, "example.com");
	ck_assert_str_eq(mb[1].addr, "t@x.vn");
}
END_TEST

START_TEST(test_addr_groups_and_comments)
{
	struct msg_mailbox mb[4];
	size_t n = msg_parse_addresses("team: a@x.vn (Alice, <no@no.vn>), Bob <b@y.vn>;, c@z.vn",
				       mb, 4);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(mb[0].addr, "a@x.vn");
	ck_assert_str_eq(mb[1].addr, "b@y.vn");
	ck_assert_str_eq(mb[2].addr, "c@z.vn");
	ck_assert_uint_eq(msg_parse_addresses("undisclosed-recipients:;", mb, 4), 0);
}
END_TEST

START_TEST(test_addr_obsolete_forms_and_junk)
{
	struct msg_mailbox mb[4];
	size_t n = msg_parse_addresses(
		"MAILER-DAEMON, <@relay.vn:route@R.vn>, x @ y.vn (comment), \"john doe\"@Example.org",
		mb, 4);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(mb[0].addr, "route@r.vn");
	ck_assert_str_eq(mb[1].addr, "x@y.vn");
	ck_assert_str_eq(mb[2].addr, "\"john doe\"@example.org");
	ck_assert_uint_eq(msg_parse_addresses("a@b.vn, c@d.vn, e@f.vn", mb, 1), 1);
	ck_assert_uint_eq(msg_parse_addresses("<unterminated@x.vn", mb, 4), 1);
	ck_assert_str_eq(mb[0].addr, "unterminated@x.vn");
	ck_assert_uint_eq(msg_parse_addresses("\"unterminated <a@b.vn>", mb, 4), 0);
}
END_TEST

START_TEST(test_addr_too_long_skipped)
{
	struct msg_mailbox mb[2];
	char big[1200];

	memset(big, 'a', 1000);
	strcpy(big + 1000, "@x.vn, ok@y.vn");
	ck_assert_uint_eq(msg_parse_addresses(big, mb, 2), 1);
	ck_assert_str_eq(mb[0].addr, "ok@y.vn");
}
END_TEST

START_TEST(test_header_addresses_over_occurrences)
{
	cr_msg *m = msg_new(NULL);
	struct msg_mailbox mb[8];

	msg_header(m, "To", "a@x.vn, B <b@y.vn>");
	msg_header(m, "Cc", "c@z.vn");
	msg_header(m, "to", "d@w.vn");
	ck_assert_uint_eq(msg_header_addresses(m, "To", mb, 8), 3);
	ck_assert_str_eq(mb[2].addr, "d@w.vn");
	ck_assert_uint_eq(msg_header_addresses(m, "To", mb, 2), 2);
	msg_free(m);
}
END_TEST

START_TEST(test_from_without_address)
{
	cr_msg *m = msg_new(NULL);

	msg_header(m, "From", "nobody");
	msg_header(m, "From", "a@x.vn");
	ck_assert_ptr_null(msg_from(m)); /* the first From counts */
	ck_assert_ptr_null(msg_from_domain(m));
	msg_free(m);
}
END_TEST

/* ---- transfer encodings and charsets ---- */

START_TEST(test_qp_soft_breaks_and_hex)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=utf-8\r\n"
			  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			  "caf=C3=a9 soft=\r\nbreak\r\nline2  \r\nlast=3D");

	ck_assert_str_eq(msg_text(m, NULL), "caf\xc3\xa9 softbreak\nline2\nlast=");
	ck_assert_uint_eq(msg_flags(m) & MSG_F_BAD_ENCODING, 0);
	msg_free(m);
}
END_TEST

START_TEST(test_qp_bad_escape_kept_and_flagged)
{
	cr_msg *m = parse("Content-Transfer-Encoding: quoted-printable\n\na=ZZb =4\n");

	ck_assert_str_eq(msg_text(m, NULL), "a=ZZb =4\n");
	ck_assert(msg_flags(m) & MSG_F_BAD_ENCODING);
	msg_free(m);
}
END_TEST

START_TEST(test_base64_with_line_breaks)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=\"UTF-8\"\r\n"
			  "Content-Transfer-Encoding: BASE64\r\n\r\n"
			  "S2h1eeG6v24g\r\nbcOjaSBWaeG7\r\nh3Q=\r\n");

	ck_assert_str_eq(msg_text(m, NULL), VN_NFC);
	ck_assert_uint_eq(msg_flags(m), 0);
	msg_free(m);
}
END_TEST

START_TEST(test_base64_garbage_skipped_and_flagged)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=utf-8\n"
			  "Content-Transfer-Encoding: base64\n\nY2F*mw6k\n");

	ck_assert_str_eq(msg_text(m, NULL), "caf\xc3\xa9");
	ck_assert(msg_flags(m) & MSG_F_BAD_ENCODING);
	msg_free(m);
}
END_TEST

START_TEST(test_base64_truncated_keeps_whole_bytes)
{
	cr_msg *m = parse("Content-Transfer-Encoding: base64\n\nY2Fmw");

	ck_assert_str_eq(msg_text(m, NULL), "caf");
	ck_assert(msg_flags(m) & MSG_F_BAD_ENCODING);
	msg_free(m);
	m = parse("Content-Transfer-Encoding: base64\n\nY2E"); /* 3 chars: 2 bytes */
	ck_assert_str_eq(msg_text(m, NULL), "ca");
	msg_free(m);
	m = parse("Content-Transfer-Encoding: base64\n\nYQ==\n"); /* padded: 1 byte */
	ck_assert_str_eq(msg_text(m, NULL), "a");
	ck_assert_uint_eq(msg_flags(m), 0);
	msg_free(m);
}
END_TEST

START_TEST(test_body_windows_1258_to_nfc)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=windows-1258\n"
			  "Content-Transfer-Encoding: quoted-printable\n\n"
			  "Khuy=EA=ECn ma=DEi Vi=EA=F2t");
	const struct msg_part *p = msg_part_at(m, 0);

	ck_assert_str_eq(msg_text(m, NULL), VN_NFC);
	ck_assert_str_eq(p->charset, "windows-1258");
	ck_assert_str_eq(p->content_type, "text/plain");
	ck_assert_uint_eq(msg_flags(m), 0);
	msg_free(m);
}
END_TEST

START_TEST(test_body_viscii_8bit)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=viscii\n\n"
			  "Khuy\xaan m\xe3i Vi\xae" "t");

	ck_assert_str_eq(msg_text(m, NULL), VN_NFC);
	msg_free(m);
}
END_TEST

START_TEST(test_body_unknown_charset_flagged_text_kept)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=x-unknown\n\nabc \xc3\xa9 \xff");

	ck_assert_str_eq(msg_text(m, NULL), "abc \xc3\xa9 \xef\xbf\xbd");
	ck_assert(msg_flags(m) & MSG_F_BAD_CHARSET);
	msg_free(m);
}
END_TEST

START_TEST(test_body_unlabelled_8bit_utf8_or_cp1252)
{
	cr_msg *m = parse("Subject: x\n\nVi\xe1\xbb\x87t\n");

	ck_assert_str_eq(msg_text(m, NULL), "Vi\xe1\xbb\x87t\n");
	msg_free(m);
	m = parse("Subject: x\n\nCaf\xe9\n");
	ck_assert_str_eq(msg_text(m, NULL), "Caf\xc3\xa9\n");
	ck_assert(msg_flags(m) & MSG_F_BAD_CHARSET);
	msg_free(m);
}
END_TEST

START_TEST(test_body_nul_and_crlf_cleaned)
{
	const char raw[] = "Subject: x\r\n\r\na\0b\r\nc\rd";
	cr_msg *m = msg_parse_buffer(raw, sizeof raw - 1, NULL, NULL, 0);
	size_t len;

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(msg_text(m, &len), "ab\nc\nd");
	ck_assert_uint_eq(len, 6);
	msg_free(m);
}
END_TEST

/* ---- MIME structure ---- */

static const char nested_msg[] =
	"From: Shop <news@Shop.VN>\n"
	"Subject: t\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"L1\"\n"
	"\n"
	"preamble http://preamble.example/\n"
	"--L1\n"
	"Content-Type: multipart/alternative;\n"
	"\tboundary=L2\n"
	"\n"
	"--L2\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"plain text\n"
	"--L2\n"
	"Content-Type: multipart/related; boundary=\"L3\"\n"
	"\n"
	"--L3\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<p>html <b>text</b></p>\n"
	"--L3\n"
	"Content-Type: image/png\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"iVBORw0KGgo=\n"
	"--L3--\n"
	"--L2--\n"
	"--L1\n"
	"Content-Type: text/plain; name=\"a.txt\"\n"
	"Content-Disposition: attachment; filename=\"a.txt\"\n"
	"\n"
	"attached\n"
	"--L1--\n"
	"epilogue\n";

START_TEST(test_nested_multipart_three_levels)
{
	cr_msg *m = parse(nested_msg);
	static const char *const types[] = {"multipart/mixed", "multipart/alternative",
		"text/plain", "multipart/related", "text/html", "image/png", "text/plain"};
	static const unsigned depths[] = {0, 1, 2, 2, 3, 3, 1};
	static const int parents[] = {-1, 0, 1, 1, 3, 3, 0};
	size_t i;

	ck_assert_uint_eq(msg_part_count(m), 7);
	for (i = 0; i < 7; i++) {
		const struct msg_part *p = msg_part_at(m, i);

		ck_assert_str_eq(p->content_type, types[i]);
		ck_assert_uint_eq(p->depth, depths[i]);
		ck_assert_int_eq(p->parent, parents[i]);
	}
	ck_assert_str_eq(msg_part_at(m, 2)->text, "plain text");
	ck_assert_int_eq(msg_part_at(m, 2)->visible, 1);
	ck_assert_str_eq(msg_part_at(m, 4)->text, "html text");
	ck_assert_int_eq(msg_part_at(m, 4)->is_html, 1);
	ck_assert_int_eq(msg_part_at(m, 4)->visible, 0); /* the alternative shows plain */
	ck_assert_ptr_null(msg_part_at(m, 5)->text);
	ck_assert_uint_eq(msg_part_at(m, 5)->body_bytes, 12); /* without the LF before --L3-- */
	ck_assert_int_eq(msg_part_at(m, 6)->is_attachment, 1);
	ck_assert_int_eq(msg_part_at(m, 6)->visible, 0);
	ck_assert_str_eq(msg_part_at(m, 6)->filename, "a.txt");
	ck_assert_str_eq(msg_part_at(m, 6)->text, "attached");
	ck_assert_ptr_null(msg_part_at(m, 7));
	ck_assert_str_eq(msg_text(m, NULL), "plain text");
	ck_assert_uint_eq(msg_flags(m), 0);
	/* the preamble is not text */
	ck_assert_uint_eq(msg_url_count(m), 0);
	ck_assert_str_eq(msg_from_domain(m), "shop.vn");
	msg_free(m);
}
END_TEST

START_TEST(test_depth_cap_stops_and_flags)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_depth = 2;
	m = parse_lim(nested_msg, &lim);
	/* the related part (depth 2) is kept but its children (depth 3) are not walked */
	ck_assert_uint_eq(msg_part_count(m), 5);
	ck_assert_str_eq(msg_part_at(m, 3)->content_type, "multipart/related");
	ck_assert_str_eq(msg_part_at(m, 4)->content_type, "text/plain");
	ck_assert_uint_eq(msg_part_at(m, 4)->depth, 1);
	ck_assert(msg_flags(m) & MSG_F_DEPTH_CAP);
	ck_assert_str_eq(msg_text(m, NULL), "plain text");
	msg_free(m);
	m = parse(nested_msg);
	ck_assert_uint_eq(msg_flags(m) & MSG_F_DEPTH_CAP, 0);
	msg_free(m);
}
END_TEST

START_TEST(test_parts_cap_stops_and_flags)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_parts = 2;
	m = parse_lim(nested_msg, &lim);
	ck_assert_uint_eq(msg_part_count(m), 3); /* top + alternative + text/plain */
	ck_assert(msg_flags(m) & MSG_F_PARTS_CAP);
	ck_assert_str_eq(msg_text(m, NULL), "plain text");
	msg_free(m);
	lim.max_parts = 6; /* exactly enough */
	m = parse_lim(nested_msg, &lim);
	ck_assert_uint_eq(msg_part_count(m), 7);
	ck_assert_uint_eq(msg_flags(m) & MSG_F_PARTS_CAP, 0);
	msg_free(m);
}
END_TEST

START_TEST(test_message_rfc822_walked_as_nested)
{
	cr_msg *m = parse("Content-Type: multipart/mixed; boundary=b\n\n"
			  "--b\nContent-Type: text/plain\n\nouter\n"
			  "--b\nContent-Type: message/rfc822\n\n"
			  "Subject: inner\n"
			  "Content-Type: text/html; charset=utf-8\n"
			  "Content-Transfer-Encoding: quoted-printable\n\n"
			  "<p>inner caf=C3=A9</p>\n"
			  "--b--\n");

	ck_assert_uint_eq(msg_part_count(m), 4);
	ck_assert_str_eq(msg_part_at(m, 2)->content_type, "message/rfc822");
	ck_assert_str_eq(msg_part_at(m, 3)->content_type, "text/html");
	ck_assert_uint_eq(msg_part_at(m, 3)->depth, 2);
	ck_assert_int_eq(msg_part_at(m, 3)->parent, 2);
	ck_assert_str_eq(msg_text(m, NULL), "outer\ninner caf\xc3\xa9");
	ck_assert(msg_flags(m) & MSG_F_HTML_ONLY);
	ck_assert_uint_eq(msg_header_count(m, "Subject"), 0); /* inner headers stay inner */
	msg_free(m);
}
END_TEST

START_TEST(test_message_rfc822_counts_against_depth)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_depth = 1;
	m = parse_lim("Content-Type: message/rfc822\n\n"
		      "Content-Type: message/rfc822\n\n"
		      "Subject: innermost\n\nhidden\n", &lim);
	ck_assert_uint_eq(msg_part_count(m), 2);
	ck_assert(msg_flags(m) & MSG_F_DEPTH_CAP);
	ck_assert_str_eq(msg_text(m, NULL), "");
	msg_free(m);
}
END_TEST

START_TEST(test_multipart_missing_close_delimiter)
{
	cr_msg *m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			  "--b\r\nContent-Type: text/plain\r\n\r\nhello");

	ck_assert(msg_flags(m) & MSG_F_BAD_MIME);
	ck_assert_uint_eq(msg_part_count(m), 2);
	ck_assert_str_eq(msg_text(m, NULL), "hello");
	msg_free(m);
}
END_TEST

START_TEST(test_multipart_without_boundary_read_as_text)
{
	cr_msg *m = parse("Content-Type: multipart/mixed; boundary=zz\n\njust text\n--zzz\n");

	ck_assert(msg_flags(m) & MSG_F_BAD_MIME);
	ck_assert_str_eq(msg_text(m, NULL), "just text\n--zzz\n");
	msg_free(m);
	m = parse("Content-Type: multipart/mixed\n\nno boundary param\n");
	ck_assert(msg_flags(m) & MSG_F_BAD_MIME);
	ck_assert_str_eq(msg_text(m, NULL), "no boundary param\n");
	msg_free(m);
}
END_TEST

START_TEST(test_boundary_prefix_is_not_a_delimiter)
{
	cr_msg *m = parse("Content-Type: multipart/mixed; boundary=ab\n\n"
			  "--ab\n\nfirst\n--abc\nstill first\n--ab  \n\nsecond\n--ab--\n");

	ck_assert_uint_eq(msg_part_count(m), 3);
	ck_assert_str_eq(msg_part_at(m, 1)->text, "first\n--abc\nstill first");
	ck_assert_str_eq(msg_part_at(m, 2)->text, "second");
	msg_free(m);
}
END_TEST

START_TEST(test_alternative_prefers_plain_html_only_flagged)
{
	cr_msg *m = parse("Content-Type: multipart/alternative; boundary=x\n\n"
			  "--x\nContent-Type: text/html\n\n<b>rich</b>\n"
			  "--x\nContent-Type: text/plain\n\nplain\n--x--\n");

	ck_assert_str_eq(msg_text(m, NULL), "plain");
	ck_assert_uint_eq(msg_flags(m) & MSG_F_HTML_ONLY, 0);
	msg_free(m);
	m = parse("Content-Type: multipart/alternative; boundary=x\n\n"
		  "--x\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
		  "--x\nContent-Type: text/html\n\n<b>rich</b> only\n--x--\n");
	ck_assert_str_eq(msg_text(m, NULL), "rich only");
	ck_assert(msg_flags(m) & MSG_F_HTML_ONLY);
	msg_free(m);
	m = parse("Content-Type: text/html\n\n<p>top&nbsp;level</p>");
	ck_assert_str_eq(msg_text(m, NULL), "top level");
	ck_assert(msg_flags(m) & MSG_F_HTML_ONLY);
	msg_free(m);
}
END_TEST

START_TEST(test_digest_parts_default_to_rfc822)
{
	cr_msg *m = parse("Content-Type: multipart/digest; boundary=d\n\n"
			  "--d\n\nSubject: one\n\nfirst\n--d--\n");

	ck_assert_uint_eq(msg_part_count(m), 3);
	ck_assert_str_eq(msg_part_at(m, 1)->content_type, "message/rfc822");
	ck_assert_str_eq(msg_text(m, NULL), "first");
	msg_free(m);
}
END_TEST

START_TEST(test_filename_rfc2231_and_encoded_word)
{
	cr_msg *m = parse("Content-Type: multipart/mixed; boundary=b\n\n"
			  "--b\nContent-Type: application/pdf;\n"
			  " name*0*=utf-8''B%C3%A1o%20gi;\n name*1*=%C3%A1.pdf\n\n%PDF\n"
			  "--b\nContent-Type: application/pdf; name=\"x.pdf\"\n"
			  "Content-Disposition: attachment;\n"
			  "  filename=\"=?utf-8?Q?H=C3=B3a_=C4=91=C6=A1n.pdf?=\"\n\n%PDF\n"
			  "--b\nContent-Type: text/plain; charset*=us-ascii'en'utf-8; name=\"a;b.txt\"\n\nx\n"
			  "--b--\n");

	ck_assert_uint_eq(msg_part_count(m), 4);
	ck_assert_str_eq(msg_part_at(m, 1)->filename, "B\xc3\xa1o gi\xc3\xa1.pdf");
	ck_assert_str_eq(msg_part_at(m, 2)->filename, "H\xc3\xb3" "a \xc4\x91\xc6\xa1n.pdf");
	ck_assert_int_eq(msg_part_at(m, 2)->is_attachment, 1);
	ck_assert_str_eq(msg_part_at(m, 3)->charset, "utf-8");
	ck_assert_str_eq(msg_part_at(m, 3)->filename, "a;b.txt");
	msg_free(m);
}
END_TEST

START_TEST(test_content_type_comments_and_case)
{
	cr_msg *m = parse("Content-Type: (c) Text/HTML (x) ; (y) CharSet = \"UTF-8\" (z)\n\n"
			  "<i>ok</i>");

	ck_assert_str_eq(msg_part_at(m, 0)->content_type, "text/html");
	ck_assert_str_eq(msg_part_at(m, 0)->charset, "utf-8");
	ck_assert_str_eq(msg_text(m, NULL), "ok");
	msg_free(m);
	m = parse("Content-Type: garbage\n\nplain anyway");
	ck_assert_str_eq(msg_part_at(m, 0)->content_type, "text/plain");
	ck_assert(msg_flags(m) & MSG_F_BAD_MIME);
	ck_assert_str_eq(msg_text(m, NULL), "plain anyway");
	msg_free(m);
}
END_TEST

/* ---- HTML ---- */

static char *html_text(const char *html)
{
	cr_msg *m;
	char *buf, *t;

	buf = malloc(strlen(html) + 64);
	sprintf(buf, "Content-Type: text/html; charset=utf-8\n\n%s", html);
	m = parse(buf);
	t = strdup(msg_text(m, NULL));
	msg_free(m);
	free(buf);
	return t;
}

#define ASSERT_HTML(html, want)                          \
	do {                                             \
		char *got_ = html_text(html);            \
		ck_assert_str_eq(got_, want);            \
		free(got_);                              \
	} while (0)

START_TEST(test_html_entities_named_and_numeric)
{
	ASSERT_HTML("Gi&aacute; &#273;&#x1EB9;p &amp; r&#7867;",
		    "Gi\xc3\xa1 \xc4\x91\xe1\xba\xb9p & r\xe1\xba\xbb");
	ASSERT_HTML("&lt;b&gt; &quot;q&quot; &#39;s&apos; a&nbsp;b",
		    "<b> \"q\" 's' a b");
	ASSERT_HTML("&Agrave;&Ecirc;&Otilde;&Yacute;&acirc;&ocirc;&igrave;&ugrave;&egrave;"
		    "&atilde;&eacute;&iacute;&oacute;&uacute;&yacute;&ograve;&otilde;",
		    "\xc3\x80\xc3\x8a\xc3\x95\xc3\x9d\xc3\xa2\xc3\xb4\xc3\xac\xc3\xb9\xc3\xa8"
		    "\xc3\xa3\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba\xc3\xbd\xc3\xb2\xc3\xb5");
	ASSERT_HTML("&abreve;&Dstrok;&euro;&hellip;", "\xc4\x83\xc4\x90\xe2\x82\xac\xe2\x80\xa6");
	/* &#150; is windows-1252's en dash (HTML5); invalid references become U+FFFD */
	ASSERT_HTML("a&#150;b &#0; &#xD800; &#x110000;",
		    "a\xe2\x80\x93" "b \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
	/* unknown names and bare ampersands stay */
	ASSERT_HTML("AT&T &foo; &amp &#; &", "AT&T &foo; & &#; &");
}
END_TEST

START_TEST(test_html_script_style_comments_dropped)
{
	ASSERT_HTML("<html><head><title>T</title><style>p{color:red}</style></head><body>"
		    "<script type=\"text/javascript\">var a='<p>x</p>';</script>"
		    "<!-- hidden <p>no</p> -->Visible<!-- a -- b --> text<!DOCTYPE x><?php x ?>"
		    "</body></html>",
		    "Visible text");
	ASSERT_HTML("a<SCRIPT>never</sCrIpT >b", "ab");
	ASSERT_HTML("a<!-- unterminated comment", "a");
	ASSERT_HTML("a<script>unterminated", "a");
}
END_TEST

START_TEST(test_html_block_tags_and_whitespace)
{
	ASSERT_HTML("<div>Line1</div><div>Line2<br>Line3</div>\n\n  spaced    words "
		    "<li>item</li><table><tr><td>a</td><td>b</td></tr></table>",
		    "Line1\nLine2\nLine3\nspaced words\nitem\na b");
	ASSERT_HTML("<h1>T</h1><p>x<b>y</b>z</p><h6>w</h6>", "T\nxyz\nw");
	ASSERT_HTML("1 < 2 and 3 > 2", "1 < 2 and 3 > 2");
	ASSERT_HTML("a<img src=x alt='>' title=\"a>b\">b", "ab");
	ASSERT_HTML("a<b unterminated='x", "a");
}
END_TEST

/* ---- URLs and emails ---- */

START_TEST(test_url_extraction_from_text)
{
	cr_msg *m = parse("Subject: x\n\n"
			  "Visit http://Example.COM./path?x=1, or https://user@Evil.example.net:8080/p.\n"
			  "Also www.Shop.vn! And (http://paren.vn/a_(b)) and http://Example.COM./path?x=1\n"
			  "ftp://files.example.org/f www.x wwww.no.vn xhttp://no.vn http://\n");
	static const char *const urls[] = {"http://Example.COM./path?x=1",
		"https://user@Evil.example.net:8080/p", "www.Shop.vn", "http://paren.vn/a_(b)",
		"ftp://files.example.org/f"};
	static const char *const hosts[] = {"example.com", "evil.example.net", "www.shop.vn",
		"paren.vn", "files.example.org"};
	size_t i;

	ck_assert_uint_eq(msg_url_count(m), 5);
	for (i = 0; i < 5; i++) {
		ck_assert_str_eq(msg_url_at(m, i)->url, urls[i]);
		ck_assert_str_eq(msg_url_at(m, i)->host, hosts[i]);
		ck_assert_int_eq(msg_url_at(m, i)->in_html, 0);
	}
	ck_assert_ptr_null(msg_url_at(m, 5));
	msg_free(m);
}
END_TEST

START_TEST(test_url_host_normalisation)
{
	cr_msg *m = parse("Content-Type: text/plain; charset=utf-8\n\n"
			  "http://Khuy\xe1\xba\xbfn-m\xc3\xa3i.VN/ http://%77ww.Example.com/ "
			  "http://[2001:DB8::1]:80/ http://192.0.2.1/x\n");

	ck_assert_uint_eq(msg_url_count(m), 4);
	ck_assert_str_eq(msg_url_at(m, 0)->host, "xn--khuyn-mi-xza0557e.vn");
	ck_assert_str_eq(msg_url_at(m, 1)->host, "www.example.com");
	ck_assert_str_eq(msg_url_at(m, 2)->host, "[2001:db8::1]");
	ck_assert_str_eq(msg_url_at(m, 3)->host, "192.0.2.1");
	msg_free(m);
}
END_TEST

START_TEST(test_url_and_mailto_from_html_attributes)
{
	cr_msg *m = parse("Content-Type: text/html\n\n"
			  "<a href=\"http://a.example.com/x?a=1&amp;b=2\">link</a>"
			  "<img src='//cdn.example.net/i.png'>"
			  "<a HREF=mailto:Opt-Out@Shop.VN?subject=huy>x</a>"
			  "<a href=\"javascript:void(0)\">j</a><a href=\"/relative\">r</a>"
			  "<form action=\" https://f.example.org/post \"></form>"
			  "<p>see www.text.example.vn</p>");

	ck_assert_uint_eq(msg_url_count(m), 4);
	ck_assert_str_eq(msg_url_at(m, 0)->url, "http://a.example.com/x?a=1&b=2");
	ck_assert_str_eq(msg_url_at(m, 0)->host, "a.example.com");
	ck_assert_int_eq(msg_url_at(m, 0)->in_html, 1);
	ck_assert_str_eq(msg_url_at(m, 1)->url, "//cdn.example.net/i.png");
	ck_assert_str_eq(msg_url_at(m, 1)->host, "cdn.example.net");
	ck_assert_str_eq(msg_url_at(m, 2)->url, "https://f.example.org/post");
	ck_assert_str_eq(msg_url_at(m, 3)->url, "www.text.example.vn");
	ck_assert_int_eq(msg_url_at(m, 3)->in_html, 0);
	ck_assert_uint_eq(msg_email_count(m), 1);
	ck_assert_str_eq(msg_email_at(m, 0), "opt-out@shop.vn");
	ck_assert_str_eq(msg_text(m, NULL), "linkxjr\nsee www.text.example.vn");
	msg_free(m);
}
END_TEST

START_TEST(test_email_extraction_from_text)
{
	cr_msg *m = parse("Subject: x\n\n"
			  "Lien he: Sales@Shop.VN, hoac support@shop.vn. sales@shop.vn again.\n"
			  "Khong: a@b, @x.com, x@y..z, user@localhost, a.@b.vn, n@1.2\n");

	ck_assert_uint_eq(msg_email_count(m), 2);
	ck_assert_str_eq(msg_email_at(m, 0), "sales@shop.vn");
	ck_assert_str_eq(msg_email_at(m, 1), "support@shop.vn");
	ck_assert_ptr_null(msg_email_at(m, 2));
	msg_free(m);
}
END_TEST

START_TEST(test_url_cap_and_dedup)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_urls = 2;
	m = parse_lim("Subject: x\n\nhttp://a.vn http://a.vn http://b.vn http://a.vn\n", &lim);
	ck_assert_uint_eq(msg_url_count(m), 2);
	ck_assert_uint_eq(msg_flags(m) & MSG_F_URL_CAP, 0); /* duplicates are not new */
	msg_free(m);
	m = parse_lim("Subject: x\n\nhttp://a.vn http://b.vn http://c.vn\n", &lim);
	ck_assert_uint_eq(msg_url_count(m), 2);
	ck_assert(msg_flags(m) & MSG_F_URL_CAP);
	ck_assert_str_eq(msg_url_at(m, 1)->host, "b.vn");
	msg_free(m);
}
END_TEST

START_TEST(test_address_cap)
{
	struct msg_limits lim = {0};
	cr_msg *m;

	lim.max_addresses = 1;
	m = parse_lim("Subject: x\n\na@x.vn A@X.VN b@y.vn\n", &lim);
	ck_assert_uint_eq(msg_email_count(m), 1);
	ck_assert_str_eq(msg_email_at(m, 0), "a@x.vn");
	ck_assert(msg_flags(m) & MSG_F_ADDR_CAP);
	msg_free(m);
}
END_TEST

START_TEST(test_scan_cap_truncates_body)
{
	struct msg_limits lim = {0};
	cr_msg *m;
	size_t len;

	lim.max_scan_bytes = 10;
	m = msg_new(&lim);
	ck_assert_int_eq(msg_header(m, "Subject", "x"), 0);
	ck_assert_int_eq(msg_body(m, "01234", 5), 0);
	ck_assert_uint_eq(msg_flags(m) & MSG_F_SCAN_CAP, 0);
	ck_assert_int_eq(msg_body(m, "56789", 5), 0);
	ck_assert_uint_eq(msg_flags(m) & MSG_F_SCAN_CAP, 0);
	ck_assert_int_eq(msg_body(m, "ABCDEF", 6), 0);
	ck_assert(msg_flags(m) & MSG_F_SCAN_CAP);
	ck_assert_int_eq(msg_end(m), 0);
	ck_assert_str_eq(msg_body_raw(m, &len), "0123456789");
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(msg_text(m, NULL), "0123456789");
	msg_free(m);
}
END_TEST

START_TEST(test_limits_defaults_and_clamp)
{
	struct msg_limits lim;

	msg_limits_default(&lim);
	ck_assert_uint_eq(lim.max_depth, 10);
	ck_assert_uint_eq(lim.max_parts, 100);
	ck_assert_uint_eq(lim.max_scan_bytes, 1u << 20);
	ck_assert_uint_eq(lim.max_header_bytes, 256u << 10);
	ck_assert_uint_eq(lim.max_urls, 200);
	ck_assert_uint_eq(lim.max_addresses, 200);
	ck_assert_str_eq(msg_flag_name(MSG_F_SCAN_CAP), "scan_cap");
	ck_assert_str_eq(msg_flag_name(MSG_F_HTML_ONLY), "html_only");
	ck_assert_str_eq(msg_flag_name(3), "?");
}
END_TEST

START_TEST(test_depth_limit_clamped_for_deep_nesting)
{
	/* 100 nested multiparts with max_depth asked as 1000: clamped to 64, no crash */
	struct msg_limits lim = {0};
	size_t cap = 100 * 80 + 200, i;
	char *buf = malloc(cap), *p = buf;
	cr_msg *m;

	lim.max_depth = 1000;
	lim.max_parts = 1000;
	p += sprintf(p, "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 1; i <= 100; i++)
		p += sprintf(p, "--b%zu\nContent-Type: multipart/mixed; boundary=b%zu\n\n", i - 1, i);
	p += sprintf(p, "--b100\n\ndeep\n");
	m = parse_lim(buf, &lim);
	ck_assert(msg_flags(m) & MSG_F_DEPTH_CAP);
	ck_assert_uint_eq(msg_part_count(m), MSG_HARD_MAX_DEPTH + 1);
	msg_free(m);
	free(buf);
}
END_TEST

/* ---- whole messages ---- */

START_TEST(test_parse_file_lf_only_with_mbox_from_line)
{
	char path[] = "/tmp/test_msg_XXXXXX", err[256] = "";
	const char *s = "From sender@x.vn Mon Jan  1 00:00:00 2024\n"
			"From: A <a@X.vn>\n"
			"Subject: =?utf-8?Q?ch=C3=A0o?=\n"
			" folded\n"
			"\n"
			"body line\n";
	int fd = mkstemp(path);
	cr_msg *m;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (int)strlen(s));
	close(fd);
	m = msg_parse_file(path, NULL, err, sizeof err);
	unlink(path);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(msg_header_total(m), 2);
	ck_assert_uint_eq(msg_header_count(m, "From"), 1);
	ck_assert_str_eq(msg_from_domain(m), "x.vn");
	ck_assert_str_eq(msg_subject(m), "ch\xc3\xa0o folded");
	ck_assert_str_eq(msg_text(m, NULL), "body line\n");
	ck_assert_uint_eq(msg_flags(m), 0);
	msg_free(m);
	ck_assert_ptr_null(msg_parse_file("/nonexistent/x.eml", NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.eml"));
}
END_TEST

START_TEST(test_parse_file_longer_than_cap_flagged)
{
	char path[] = "/tmp/test_msg_XXXXXX";
	struct msg_limits lim = {0};
	char block[4096];
	int fd = mkstemp(path), i;
	cr_msg *m;

	memset(block, 'x', sizeof block);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "Subject: big\n\n", 14), 14);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(write(fd, block, sizeof block), (int)sizeof block);
	close(fd);
	lim.max_scan_bytes = 1000;
	lim.max_header_bytes = 1000;
	m = msg_parse_file(path, &lim, NULL, 0);
	unlink(path);
	ck_assert_ptr_nonnull(m);
	ck_assert(msg_flags(m) & MSG_F_SCAN_CAP);
	ck_assert_uint_eq(strlen(msg_text(m, NULL)), 1000);
	msg_free(m);
}
END_TEST

START_TEST(test_non_header_line_ends_headers)
{
	cr_msg *m = parse("Subject: x\r\nthis is not a header\r\nmore\r\n");

	ck_assert_uint_eq(msg_header_total(m), 1);
	ck_assert_str_eq(msg_text(m, NULL), "this is not a header\nmore\n");
	msg_free(m);
	m = parse("no headers at all\n");
	ck_assert_uint_eq(msg_header_total(m), 0);
	ck_assert_str_eq(msg_text(m, NULL), "no headers at all\n");
	msg_free(m);
	m = parse("Subject : spaced colon\n\nb");
	ck_assert_str_eq(msg_subject(m), "spaced colon");
	msg_free(m);
}
END_TEST

START_TEST(test_streaming_equals_whole_message)
{
	cr_msg *whole = parse(nested_msg), *m = msg_new(NULL);
	const char *body = strstr(nested_msg, "\n\n") + 2;
	size_t i, n = strlen(body);

	ck_assert_int_eq(msg_header(m, "From", "Shop <news@Shop.VN>"), 0);
	ck_assert_int_eq(msg_header(m, "Content-Type", "multipart/mixed;\r\n boundary=\"L1\""), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(msg_body(m, body + i, 1), 0);
	ck_assert_int_eq(msg_end(m), 0);
	ck_assert_str_eq(msg_text(m, NULL), msg_text(whole, NULL));
	ck_assert_uint_eq(msg_part_count(m), msg_part_count(whole));
	for (i = 0; i < msg_part_count(m); i++)
		ck_assert_str_eq(msg_part_at(m, i)->content_type,
				 msg_part_at(whole, i)->content_type);
	msg_free(m);
	msg_free(whole);
}
END_TEST

/* ---- hostile input ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void assert_sane(cr_msg *m)
{
	size_t len, i;
	const char *t = msg_text(m, &len);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(t), len);
	ck_assert_ptr_null(u8_check((const uint8_t *)t, len));
	for (i = 0; i < msg_header_total(m); i++) {
		const char *v = msg_header_at(m, i)->value;

		ck_assert_ptr_null(u8_check((const uint8_t *)v, strlen(v)));
	}
	for (i = 0; i < msg_url_count(m); i++)
		ck_assert_uint_gt(strlen(msg_url_at(m, i)->host), 0);
	for (i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);

		if (p->text != NULL)
			ck_assert_ptr_null(u8_check((const uint8_t *)p->text, p->text_len));
	}
}

START_TEST(test_mutated_messages_never_crash)
{
	static const char sample[] =
		"From: =?utf-8?B?VGVzdA==?= <a@b.vn>\r\n"
		"Subject: =?windows-1258?Q?Khuy=EA=ECn?= =?utf-8?Q?x?=\r\n"
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\n"
		"--C\r\nContent-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nh=C3=A9 http://x.vn/a=\r\nb\r\n"
		"--C\r\nContent-Type: text/html; charset=viscii\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"PGEgaHJlZj0iaHR0cDovL3kudm4iPmE8L2E+Jm5ic3A7JiMxNTA7PCEtLSB4IC0tPg==\r\n"
		"--C--\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n"
		"<x@y.vn> www.z.vn\r\n--B--\r\n";
	static const char junk[] = "<>&;=?-\r\n\0\x80\xff\"'@:/%#";
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	char buf[sizeof sample * 2];
	int round;

	for (round = 0; round < 3000; round++) {
		size_t len = sizeof sample - 1, k, edits = 1 + rng_next(&seed) % 8;
		cr_msg *m;

		memcpy(buf, sample, len);
		for (k = 0; k < edits; k++) {
			size_t pos = rng_next(&seed) % len;

			switch (rng_next(&seed) % 4) {
			case 0:
				buf[pos] = junk[rng_next(&seed) % (sizeof junk - 1)];
				break;
			case 1:
				buf[pos] = (char)rng_next(&seed);
				break;
			case 2:
				len = pos; /* truncate */
				break;
			default:
				if (len < sizeof buf - 1) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = junk[rng_next(&seed) % (sizeof junk - 1)];
					len++;
				}
			}
			if (len == 0)
				break;
		}
		m = msg_parse_buffer(buf, len, NULL, NULL, 0);
		ck_assert_ptr_nonnull(m);
		assert_sane(m);
		msg_free(m);
	}
}
END_TEST

START_TEST(test_huge_header_line_and_binary_body)
{
	size_t n = 3u << 20, i;
	char *buf = malloc(n);
	cr_msg *m;

	memcpy(buf, "X-Big: ", 7);
	memset(buf + 7, 'a', n - 7);
	m = msg_parse_buffer(buf, n, NULL, NULL, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert(msg_flags(m) & MSG_F_HEADER_CAP);
	ck_assert_uint_eq(msg_header_total(m), 0);
	msg_free(m);
	/* binary noise as a body */
	memcpy(buf, "Subject: x\n\n", 12);
	for (i = 12; i < n; i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	m = msg_parse_buffer(buf, n, NULL, NULL, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert(msg_flags(m) & MSG_F_SCAN_CAP);
	assert_sane(m);
	msg_free(m);
	free(buf);
}
END_TEST

START_TEST(test_pathological_input_is_linear)
{
	/* patterns that a naive parser rescans: unterminated encoded words, endless
	 * tag attributes, entity-like runs, '@' runs, boundary-like lines */
	size_t n = 1u << 20, i;
	char *hv = malloc(200001), *body = malloc(n + 200);
	cr_msg *m;
	int64_t t0 = util_mono_ms();

	for (i = 0; i < 200000; i++)
		hv[i] = "=?a?q?"[i % 6];
	hv[200000] = '\0';
	m = msg_new(NULL);
	ck_assert_int_eq(msg_header(m, "Subject", hv), 0);
	ck_assert_int_eq(msg_header(m, "Content-Type", "text/html"), 0);
	for (i = 0; i < n; i++)
		body[i] = "<a b=c &#1 &amp a@a.a.a.a.a www.www.www. http://a.vn/"[i % 52];
	ck_assert_int_eq(msg_body(m, body, n), 0);
	ck_assert_int_eq(msg_end(m), 0);
	assert_sane(m);
	msg_free(m);
	for (i = 0; i < n; i++)
		body[i] = "@.a"[i % 3];
	m = msg_new(NULL);
	msg_header(m, "Subject", "x");
	msg_body(m, body, n);
	ck_assert_int_eq(msg_end(m), 0);
	msg_free(m);
	ck_assert_int_lt(util_mono_ms() - t0, 5000);
	free(hv);
	free(body);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_header_unfolds_crlf_and_lf);
	tcase_add_test(tc, test_header_lookup_case_insensitive_all_occurrences);
	tcase_add_test(tc, test_ew_b_utf8);
	tcase_add_test(tc, test_ew_q_utf8_underscore_is_space);
	tcase_add_test(tc, test_ew_adjacent_words_joined_without_blank);
	tcase_add_test(tc, test_ew_character_split_over_two_words);
	tcase_add_test(tc, test_ew_windows_1258);
	tcase_add_test(tc, test_ew_viscii);
	tcase_add_test(tc, test_ew_tcvn_labels);
	tcase_add_test(tc, test_ew_iso_8859_1_and_15);
	tcase_add_test(tc, test_ew_unknown_charset_kept_raw_and_flagged);
	tcase_add_test(tc, test_ew_bad_encoding_kept_raw_and_flagged);
	tcase_add_test(tc, test_ew_unterminated_and_malformed_left_alone);
	tcase_add_test(tc, test_ew_language_suffix_rfc2231);
	tcase_add_test(tc, test_subject_nfd_equals_nfc);
	tcase_add_test(tc, test_header_invalid_8bit_replaced_and_flagged);
	tcase_add_test(tc, test_header_decoded_controls_become_spaces);
	tcase_add_test(tc, test_header_cap_drops_and_flags);
	tcase_add_test(tc, test_header_bad_name_dropped_and_flagged);
	tcase_add_test(tc, test_header_after_body_is_an_error);
	tcase_add_test(tc, test_header_nul_bytes_dropped);
	tcase_add_test(tc, test_charset_pin_keeps_conversions_working);
	tcase_add_test(tc, test_addr_display_names_and_angle);
	tcase_add_test(tc, test_addr_groups_and_comments);
	tcase_add_test(tc, test_addr_obsolete_forms_and_junk);
	tcase_add_test(tc, test_addr_too_long_skipped);
	tcase_add_test(tc, test_header_addresses_over_occurrences);
	tcase_add_test(tc, test_from_without_address);
	tcase_add_test(tc, test_qp_soft_breaks_and_hex);
	tcase_add_test(tc, test_qp_bad_escape_kept_and_flagged);
	tcase_add_test(tc, test_base64_with_line_breaks);
	tcase_add_test(tc, test_base64_garbage_skipped_and_flagged);
	tcase_add_test(tc, test_base64_truncated_keeps_whole_bytes);
	tcase_add_test(tc, test_body_windows_1258_to_nfc);
	tcase_add_test(tc, test_body_viscii_8bit);
	tcase_add_test(tc, test_body_unknown_charset_flagged_text_kept);
	tcase_add_test(tc, test_body_unlabelled_8bit_utf8_or_cp1252);
	tcase_add_test(tc, test_body_nul_and_crlf_cleaned);
	tcase_add_test(tc, test_nested_multipart_three_levels);
	tcase_add_test(tc, test_depth_cap_stops_and_flags);
	tcase_add_test(tc, test_parts_cap_stops_and_flags);
	tcase_add_test(tc, test_message_rfc822_walked_as_nested);
	tcase_add_test(tc, test_message_rfc822_counts_against_depth);
	tcase_add_test(tc, test_multipart_missing_close_delimiter);
	tcase_add_test(tc, test_multipart_without_boundary_read_as_text);
	tcase_add_test(tc, test_boundary_prefix_is_not_a_delimiter);
	tcase_add_test(tc, test_alternative_prefers_plain_html_only_flagged);
	tcase_add_test(tc, test_digest_parts_default_to_rfc822);
	tcase_add_test(tc, test_filename_rfc2231_and_encoded_word);
	tcase_add_test(tc, test_content_type_comments_and_case);
	tcase_add_test(tc, test_html_entities_named_and_numeric);
	tcase_add_test(tc, test_html_script_style_comments_dropped);
	tcase_add_test(tc, test_html_block_tags_and_whitespace);
	tcase_add_test(tc, test_url_extraction_from_text);
	tcase_add_test(tc, test_url_host_normalisation);
	tcase_add_test(tc, test_url_and_mailto_from_html_attributes);
	tcase_add_test(tc, test_email_extraction_from_text);
	tcase_add_test(tc, test_url_cap_and_dedup);
	tcase_add_test(tc, test_address_cap);
	tcase_add_test(tc, test_scan_cap_truncates_body);
	tcase_add_test(tc, test_limits_defaults_and_clamp);
	tcase_add_test(tc, test_depth_limit_clamped_for_deep_nesting);
	tcase_add_test(tc, test_parse_file_lf_only_with_mbox_from_line);
	tcase_add_test(tc, test_parse_file_longer_than_cap_flagged);
	tcase_add_test(tc, test_non_header_line_ends_headers);
	tcase_add_test(tc, test_streaming_equals_whole_message);
	tcase_add_test(tc, test_mutated_messages_never_crash);
	tcase_add_test(tc, test_huge_header_line_and_binary_body);
	tcase_add_test(tc, test_pathological_input_is_linear);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
