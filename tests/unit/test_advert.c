/* Tests for lib/advert.c (Subject label R1/R1a/R1b, folding, advertising signals,
 * advertiser block R3, opt-out section R4, List-Unsubscribe R4h), lib/dkimcheck.c
 * (libopendkim with keys served by tests/tools/fakedns) and the advertising rules
 * of the engine (lib/engine_advert.c).  Run from the repository root: the signed
 * messages and the test key come from tests/corpus/advert. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "advert.h"
#include "conf.h"
#include "dkimcheck.h"
#include "dnsq.h"
#include "engine.h"
#include "log.h"
#include "msg.h"
#include "util.h"

#include "corpus_helper.h"
#include "fakedns_helper.h"


/* ---- R1 / R1a / R1b ------------------------------------------------------------ */

static struct advert_label lab(const char *subject, int is_reply)
{
	struct advert_label l;

	advert_subject_label(subject, is_reply, &l);
	return l;
}

START_TEST(test_label_canonical_forms)
{
	struct advert_label l = lab("[QC] Khuyến mãi", 0);

	ck_assert_int_eq(l.kind, ADVERT_LABEL_CANONICAL);
	ck_assert_str_eq(l.text, "[QC]");
	ck_assert_str_eq(l.why, "");
	ck_assert_int_eq(lab("[AD] Sale", 0).kind, ADVERT_LABEL_CANONICAL);
	/* leading white space (and NBSP) is stripped first */
	ck_assert_int_eq(lab("   \t[QC]Sale", 0).kind, ADVERT_LABEL_CANONICAL);
	ck_assert_int_eq(lab("\xc2\xa0[QC] x", 0).kind, ADVERT_LABEL_CANONICAL);
	/* a code bracket after a canonical label leaves it canonical */
	ck_assert_int_eq(lab("[QC][12345] x", 0).kind, ADVERT_LABEL_CANONICAL);
}
END_TEST

START_TEST(test_label_tolerated_forms)
{
	static const struct {
		const char *subject, *why;
	} cases[] = {
		{ "[qc] x", "not upper case" },
		{ "[Ad] x", "not upper case" },
		{ "[ADV] x", "ADV instead of QC/AD" },
		{ "(QC) x", "brackets ( )" },
		{ "{QC} x", "brackets { }" },
		{ "<AD> x", "brackets < >" },
		{ "\xef\xbc\xbbQC\xef\xbc\xbd x", "full-width brackets" },
		{ "\xe3\x80\x90QC\xe3\x80\x91 x", "lenticular brackets" },
		{ "[ QC ] x", "spaces inside the brackets" },
		{ "[Q C] x", "spaces inside the brackets" },
		{ "[QC-0123456] x", "legacy management-code form" },
		{ "[QC 2012/VNCERT] x", "legacy management-code form" },
		{ "[\xef\xbc\xb1\xef\xbc\xa3] x", "full-width letters" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct advert_label l = lab(cases[i].subject, 0);
		ck_assert_msg(l.kind == ADVERT_LABEL_TOLERATED, "%s: kind %d", cases[i].subject,
			      l.kind);
		ck_assert_msg(strstr(l.why, cases[i].why) != NULL, "%s: why '%s'", cases[i].subject,
			      l.why);
	}
	/* several defects are all named */
	struct advert_label l = lab("( adv ) x", 0);
	ck_assert_int_eq(l.kind, ADVERT_LABEL_TOLERATED);
	ck_assert_ptr_nonnull(strstr(l.why, "ADV"));
	ck_assert_ptr_nonnull(strstr(l.why, "not upper case"));
	ck_assert_ptr_nonnull(strstr(l.why, "brackets ( )"));
	ck_assert_ptr_nonnull(strstr(l.why, "spaces"));
}
END_TEST

START_TEST(test_label_lookalikes_are_no_label)
{
	static const char *const none[] = {
		NULL, "", "   ", "QC: Sale", "[QCX] x", "[Q] x", "[QC-] x", "[QC-ab#c] x", "[QC x",
		"[QCQC] x", "[ADVERT] x", "Sale (QC)", "Kế hoạch (AD) tuần sau", "[dev-list] Re: build",
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_msg(lab(none[i], 0).kind == ADVERT_LABEL_NONE, "'%s'",
			      none[i] ? none[i] : "(null)");
}
END_TEST

START_TEST(test_label_not_first)
{
	struct advert_label l = lab("Khuyến mãi lớn [QC]", 0);

	ck_assert_int_eq(l.kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_str_eq(l.text, "[QC]");
	ck_assert_str_eq(l.why, "after 'Khuyến mãi lớn'");
	/* lenticular and full-width square brackets count after text too */
	ck_assert_int_eq(lab("Sale \xe3\x80\x90QC\xe3\x80\x91", 0).kind, ADVERT_LABEL_NOT_FIRST);
	/* long text before it is cut on a character boundary, with "..." */
	l = lab("Ưu đãi đặc biệt dành riêng cho khách hàng thân thiết [AD]", 0);
	ck_assert_int_eq(l.kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_int_eq(strncmp(l.why, "after '...", 10), 0);
	ck_assert_ptr_null(u8_check((const uint8_t *)l.why, strlen(l.why)));
}
END_TEST

START_TEST(test_label_after_reply_prefixes)
{
	struct advert_label l = lab("Re: [QC] Sale", 0);

	ck_assert_int_eq(l.kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_str_eq(l.why, "after 'Re:' in mail that is not a reply");
	ck_assert_int_eq(lab("Fwd: [AD] x", 0).kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_int_eq(lab("TL: (qc) x", 0).kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_int_eq(lab("RE[2]: [QC] x", 0).kind, ADVERT_LABEL_NOT_FIRST);
	/* in a genuine reply the label after Re:/TL: counts as first, quoted */
	l = lab("Re: [QC] Sale", 1);
	ck_assert_int_eq(l.kind, ADVERT_LABEL_CANONICAL);
	ck_assert_int_eq(l.quoted_reply, 1);
	ck_assert_int_eq(lab("TL: RE: [qc] x", 1).kind, ADVERT_LABEL_TOLERATED);
	/* but a forward is not a reply, even in a thread */
	ck_assert_int_eq(lab("Fwd: [QC] x", 1).kind, ADVERT_LABEL_NOT_FIRST);
	ck_assert_int_eq(lab("Re: Fwd: [QC] x", 1).kind, ADVERT_LABEL_NOT_FIRST);
	/* a label before the prefix is simply first */
	l = lab("[QC] Re: x", 0);
	ck_assert_int_eq(l.kind, ADVERT_LABEL_CANONICAL);
	ck_assert_int_eq(l.quoted_reply, 0);
}
END_TEST

/* ---- folding ------------------------------------------------------------------- */

static void fold_is(const char *in, const char *want)
{
	size_t n;
	char *f = advert_fold(in, strlen(in), &n);

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f, want);
	ck_assert_uint_eq(n, strlen(want));
	free(f);
}

START_TEST(test_fold_vietnamese_and_widths)
{
	fold_is("HỦY ĐĂNG KÝ", "huy dang ky");
	fold_is("huỷ đăng ký", "huy dang ky");
	/* NFD input: u + combining hook above + y */
	fold_is("hu\xcc\x89y", "huy");
	fold_is("Từ chối\nnhận", "tu choi\nnhan");
	fold_is("\xef\xbc\xa1\xef\xbd\x82", "ab");
	fold_is("a\xc2\xa0" "b\tc", "a b c");
	fold_is("", "");
}
END_TEST

/* ---- signals ------------------------------------------------------------------- */

static cr_msg *parse(const char *text)
{
	char e[200];
	cr_msg *m = msg_parse_buffer(text, strlen(text), NULL, e, sizeof(e));

	ck_assert_msg(m != NULL, "%s", e);
	return m;
}

static struct advert_signals signals_of(const char *text)
{
	struct advert_signals s;
	cr_msg *m = parse(text);
	size_t tl;
	const char *t = msg_text(m, &tl);
	char *f = advert_fold(t, tl, NULL);

	advert_signals(m, f, &s);
	free(f);
	msg_free(m);
	return s;
}

START_TEST(test_signals_personal_mail_is_not_advertising)
{
	struct advert_signals s = signals_of(
		"From: a@example.vn\nSubject: Mua giúp em cái áo\n\n"
		"Anh mua giúp em cái áo giá 450.000đ nhé. Số chị bán: 0912 345 678.\n");

	ck_assert_int_eq(s.bulk, 0);
	ck_assert_int_eq(s.marketing, 1); /* the price only */
	ck_assert_int_eq(advert_is_advertising(&s, 4), 0);
}
END_TEST

START_TEST(test_signals_mailing_list_is_not_advertising)
{
	struct advert_signals s = signals_of(
		"From: a@example.org\nSubject: build failure\nList-Id: <dev.example.org>\n"
		"List-Unsubscribe: <https://lists.example.org/dev>\nPrecedence: list\n\n"
		"The build fails.\n--\nTo unsubscribe: https://lists.example.org/dev\n");

	ck_assert_int_eq(s.bulk, 1);
	ck_assert_int_eq(s.marketing, 1);
	ck_assert_int_eq(advert_is_advertising(&s, 4), 0);
}
END_TEST

START_TEST(test_signals_marketing_and_bulk)
{
	struct advert_signals s = signals_of(
		"From: a@shop.vn\nSubject: Giảm giá 50%\nList-Unsubscribe: <https://shop.vn/u>\n"
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click\nPrecedence: bulk\n"
		"Feedback-ID: 1:2:3\nX-Mailer: Mailchimp Mailer\n\n"
		"Khuyến mãi lớn, mua ngay, giá chỉ 99.000đ: https://t.shop.vn/c?utm_source=x\n"
		"Hủy đăng ký tại đây.\n");

	ck_assert_int_eq(s.bulk, 5);
	/* opt-out wording 1, terms (capped) 3, prices 1, tracking 1 */
	ck_assert_int_eq(s.marketing, 6);
	ck_assert_ptr_nonnull(strstr(s.why, "esp-headers"));
	ck_assert_ptr_nonnull(strstr(s.why, "tracking-links=1"));
	ck_assert_int_eq(advert_is_advertising(&s, 4), 1);
	ck_assert_int_eq(advert_is_advertising(&s, 12), 0);
	/* bulk alone never makes advertising: 2 marketing points are needed */
	struct advert_signals b = { .bulk = 10, .marketing = 1 };
	ck_assert_int_eq(advert_is_advertising(&b, 4), 0);
}
END_TEST

START_TEST(test_signals_word_boundaries)
{
	/* "wholesale" and "salesman" are not "sale"; "dealer" is not "deal" */
	struct advert_signals s = signals_of(
		"From: a@b.vn\nSubject: hi\n\nThe wholesale salesman met a dealer.\n");

	ck_assert_int_eq(s.marketing, 0);
}
END_TEST

/* ---- R3 / R4 ---------------------------------------------------------------------- */

static struct advert_layout layout_of_html(const char *text, int html)
{
	char buf[8192];
	struct advert_layout l;
	cr_msg *m;
	size_t tl;
	const char *t;
	char *f;

	snprintf(buf, sizeof(buf), "From: a@shop.vn\nSubject: [QC] x\nContent-Type: text/%s; "
		 "charset=utf-8\n\n%s", html ? "html" : "plain", text);
	m = parse(buf);
	t = msg_text(m, &tl);
	f = advert_fold(t, tl, NULL);
	advert_layout(f, strlen(f), m, &l);
	free(f);
	msg_free(m);
	return l;
}

static struct advert_layout layout_of(const char *text)
{
	return layout_of_html(text, 0);
}

#define BLOCK "Công ty TNHH ABC\nĐịa chỉ: 12 Nguyễn Trãi, Quận 1, TP. HCM\n" \
	      "Điện thoại: 028 3822 1234\nEmail: lienhe@abc.vn\n"
#define OPTOUT "Quý khách có quyền từ chối nhận mọi quảng cáo của chúng tôi:\n" \
	       "web https://abc.vn/huy, email huy@abc.vn, điện thoại 1800 1234\n"

START_TEST(test_layout_complete)
{
	struct advert_layout l = layout_of("Khuyến mãi.\n\n" BLOCK "\n" OPTOUT);
	char miss[100];

	ck_assert_int_eq(l.optout_found, 1);
	ck_assert_int_eq(l.optout_at_end, 1);
	ck_assert_int_eq(l.statement && l.web && l.email && l.phone, 1);
	ck_assert_int_eq(l.name && l.block_phone && l.block_email && l.address, 1);
	advert_block_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "");
	advert_optout_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "");
}
END_TEST

START_TEST(test_layout_block_elements_missing_or_misplaced)
{
	char miss[100];
	struct advert_layout l = layout_of("Khuyến mãi.\nCông ty ABC\nEmail: a@abc.vn\n" OPTOUT);

	advert_block_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "phone, postal address");
	/* "địa chỉ email" is not a postal address */
	l = layout_of("Công ty ABC\nĐịa chỉ email: a@abc.vn\nĐT 0912345678\n" OPTOUT);
	ck_assert_int_eq(l.address, 0);
	/* the block at the top, far from the opt-out section: found, but not there */
	char text[4096] = BLOCK;
	for (int i = 0; i < 12; i++)
		strcat(text, "Một dòng nội dung quảng cáo khác.\n");
	strcat(text, OPTOUT);
	l = layout_of(text);
	ck_assert_int_eq(l.any_name && l.any_phone && l.any_email && l.any_address, 1);
	ck_assert_int_eq(l.name || l.block_phone || l.block_email || l.address, 0);
}
END_TEST

START_TEST(test_layout_phone_numbers)
{
	static const struct {
		const char *text;
		int phone;
	} cases[] = {
		{ "Gọi 0912 345 678", 1 },      { "Gọi 0912.345.678", 1 },
		{ "Tel +84 28 3822 1234", 1 },   { "Hotline 1800 1234", 1 },
		{ "Hotline 19001234", 1 },       { "Gọi (028) 3822-1234", 1 },
		{ "Ngày 2026-12-02", 0 },        { "Giá 1.990.000đ", 0 },
		{ "Mã 12345", 0 },               { "https://abc.vn/p/0912345678", 0 },
		{ "Giá 1.900.000.000đ", 0 },     { "Số 0912abc", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[300];
		snprintf(text, sizeof(text), "Quý khách có quyền từ chối mọi quảng cáo: %s\n",
			 cases[i].text);
		struct advert_layout l = layout_of(text);
		ck_assert_msg(l.phone == cases[i].phone, "'%s': phone %d", cases[i].text, l.phone);
	}
}
END_TEST

START_TEST(test_layout_optout_defects)
{
	char miss[120];
	/* no right-to-refuse statement: "hủy đăng ký" without quyền/tất cả/all */
	struct advert_layout l = layout_of(BLOCK "Để hủy đăng ký: https://abc.vn/h, huy@abc.vn, "
					   "0912 345 678\n");
	ck_assert_int_eq(l.optout_found, 1);
	advert_optout_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "right-to-refuse statement");
	/* "sản phẩm mới" (new) is not "mọi" (all), though both fold to "moi" */
	l = layout_of(BLOCK "Hủy đăng ký nhận tin sản phẩm mới: https://abc.vn/h, huy@abc.vn, "
		      "0912 345 678\n");
	ck_assert_int_eq(l.statement, 0);
	l = layout_of(BLOCK "Quý khách có thể từ chối mọi quảng cáo: https://abc.vn/h, huy@abc.vn, "
		      "0912 345 678\n");
	ck_assert_int_eq(l.statement, 1);
	/* English wording counts the same */
	l = layout_of(BLOCK "You have the right to opt out of all our mail: "
		      "https://abc.vn/u, u@abc.vn, +84 28 3822 1234\n");
	advert_optout_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "");
	/* the section followed by many lines is not at the end */
	char text[4096] = BLOCK OPTOUT;
	for (int i = 0; i < ADVERT_SECTION_MAX_LINES + 1; i++)
		strcat(text, "Sản phẩm mới.\n");
	l = layout_of(text);
	ck_assert_int_eq(l.optout_found, 1);
	ck_assert_int_eq(l.optout_at_end, 0);
	/* wording only far up the body: no section at the end */
	char text2[8192] = OPTOUT;
	for (int i = 0; i < ADVERT_TAIL_LINES + 1; i++)
		strcat(text2, "Sản phẩm mới.\n");
	l = layout_of(text2);
	ck_assert_int_eq(l.optout_found, 0);
	ck_assert_int_eq(l.optout_elsewhere, 1);
	/* nothing at all */
	l = layout_of("Khuyến mãi lớn.\n");
	ck_assert_int_eq(l.optout_found || l.optout_elsewhere, 0);
	advert_block_missing(&l, miss, sizeof(miss));
	ck_assert_str_eq(miss, "name, phone, email, postal address");
}
END_TEST

START_TEST(test_layout_html_links_are_channels)
{
	/* the web and email channels are hrefs, not rendered text */
	struct advert_layout l = layout_of_html(
		"<p>Công ty TNHH ABC<br>Địa chỉ: 12 Lê Lợi, Quận 1, TP. HCM<br>ĐT 028 3822 1234<br>"
		"Email: a@abc.vn</p><p>Quý khách có quyền từ chối mọi quảng cáo: "
		"<a href=\"https://abc.vn/huy-dang-ky\">bấm vào đây</a>, "
		"<a href=\"mailto:huy@abc.vn\">gửi email</a>, gọi 1800 1234.</p>", 1);
	ck_assert_int_eq(l.web, 1);
	ck_assert_int_eq(l.email, 1);
	ck_assert_int_eq(l.phone, 1);
	ck_assert_int_eq(l.name && l.block_phone && l.block_email && l.address, 1);
	/* an href to an ordinary page is not an opt-out channel */
	l = layout_of_html("<p>Quý khách có quyền từ chối mọi quảng cáo: "
			   "<a href=\"https://abc.vn/products\">bấm vào đây</a>.</p>", 1);
	ck_assert_int_eq(l.web, 0);
	ck_assert_int_eq(l.email, 0);
}
END_TEST

/* ---- R4h ------------------------------------------------------------------------- */

static struct advert_unsub unsub(const char *lu, size_t nlu, const char *post, size_t npost)
{
	struct advert_unsub u;

	advert_unsub_check(lu, nlu, post, npost, &u);
	return u;
}

START_TEST(test_unsub_list_unsubscribe)
{
	struct advert_unsub u = unsub(NULL, 0, NULL, 0);

	ck_assert_int_eq(u.present, 0);
	ck_assert_str_eq(u.why, "no List-Unsubscribe");
	u = unsub("<https://a.vn/u?x=1>, <mailto:u@a.vn?subject=unsub>", 1, NULL, 0);
	ck_assert_int_eq(u.https, 1);
	ck_assert_int_eq(u.mailto, 1);
	ck_assert_str_eq(u.why, "");
	u = unsub("<mailto:u@a.vn> (comment)", 1, NULL, 0);
	ck_assert_str_eq(u.why, "");
	u = unsub("https://a.vn/u", 1, NULL, 0);
	ck_assert_int_eq(u.malformed, 1);
	ck_assert_ptr_nonnull(strstr(u.why, "malformed"));
	u = unsub("<http://a.vn/u>", 1, NULL, 0);
	ck_assert_str_eq(u.why, "List-Unsubscribe has only http:, no mailto: or https: URI");
	u = unsub("<mailto:unsubscribe>", 1, NULL, 0);
	ck_assert_int_eq(u.malformed, 1);
	u = unsub("<https://>", 1, NULL, 0);
	ck_assert_int_eq(u.malformed, 1);
	u = unsub("<ftp://a.vn/u>", 1, NULL, 0);
	ck_assert_int_eq(u.malformed, 1);
	u = unsub("<https://a.vn/u", 1, NULL, 0);
	ck_assert_int_eq(u.malformed, 1);
	u = unsub("<https://a.vn/u>", 2, NULL, 0);
	ck_assert_str_eq(u.why, "several List-Unsubscribe fields");
}
END_TEST

START_TEST(test_unsub_one_click)
{
	struct advert_unsub u = unsub("<https://a.vn/u>", 1, "List-Unsubscribe=One-Click", 1);

	ck_assert_int_eq(u.post_valid, 1);
	ck_assert_str_eq(u.why, "");
	u = unsub("<https://a.vn/u>", 1, "List-Unsubscribe=Yes", 1);
	ck_assert_int_eq(u.post_valid, 0);
	ck_assert_ptr_nonnull(strstr(u.why, "RFC 8058"));
	u = unsub("<https://a.vn/u>", 1, "List-Unsubscribe=One-Click", 2);
	ck_assert_int_eq(u.post_valid, 0);
	u = unsub("<mailto:u@a.vn>", 1, "List-Unsubscribe=One-Click", 1);
	ck_assert_int_eq(u.post_valid, 0);
	ck_assert_str_eq(u.why, "one-click without an https: URI (RFC 8058)");
	u = unsub(NULL, 0, "List-Unsubscribe=One-Click", 1);
	ck_assert_str_eq(u.why, "List-Unsubscribe-Post without List-Unsubscribe");
}
END_TEST

/* ---- DKIM and the engine --------------------------------------------------------- */

static struct fakedns fake;
static char key_shop[600], key_green[600];
static const char *dns_rules[5];
static char err[512];

static void dkim_setup(void)
{
	log_open("test_advert", 0, LOG_LEVEL_ERR);
	corpus_key_rule("sel", "shop-abc.vn", key_shop, sizeof(key_shop));
	corpus_key_rule("news", "greentravel.vn", key_green, sizeof(key_green));
	dns_rules[0] = key_shop;
	dns_rules[1] = key_green;
	dns_rules[2] = "sel._domainkey.drop.test TXT drop";
	dns_rules[3] = NULL;
	fakedns_start(&fake, 0, dns_rules);
}

static void dkim_teardown(void)
{
	fakedns_stop(&fake);
}

static void verify(const cr_msg *m, int64_t budget_ms, struct dkimcheck_result *out)
{
	char servers[64];
	const char *list[2] = { servers, NULL };
	dnsq_ctx *ctx;
	dnsq_set *set;
	dkimcheck *d = dkimcheck_new(err, sizeof(err));

	ck_assert_msg(d != NULL, "%s", err);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", fake.port);
	ctx = dnsq_ctx_new(NULL, list, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	set = dnsq_set_new(ctx, util_mono_ms() + budget_ms);
	dkimcheck_plan(m, set);
	dnsq_run(set);
	dkimcheck_verify(d, m, set, "test", out);
	dnsq_set_free(set);
	dnsq_ctx_free(ctx);
	dkimcheck_free(d);
}

START_TEST(test_dkim_pass_and_coverage)
{
	struct dkimcheck_result r;
	cr_msg *m = corpus_msg("vi-oneclick-dkim", NULL, NULL);

	verify(m, 2000, &r);
	ck_assert_uint_eq(r.nsigs, 1);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_PASS);
	ck_assert_str_eq(r.sigs[0].domain, "shop-abc.vn");
	ck_assert_str_eq(r.sigs[0].selector, "sel");
	ck_assert_int_eq(r.sigs[0].covers_unsub, 1);
	ck_assert_int_eq(r.sigs[0].covers_unsub_post, 1);
	msg_free(m);
	/* h= names List-Unsubscribe only: it does not cover List-Unsubscribe-Post */
	m = corpus_msg("vi-oneclick-not-covered", NULL, NULL);
	verify(m, 2000, &r);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_PASS);
	ck_assert_int_eq(r.sigs[0].covers_unsub, 1);
	ck_assert_int_eq(r.sigs[0].covers_unsub_post, 0);
	msg_free(m);
	/* and the other way round */
	m = corpus_msg("en-oneclick-post-not-covered", NULL, NULL);
	verify(m, 2000, &r);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_PASS);
	ck_assert_int_eq(r.sigs[0].covers_unsub, 0);
	ck_assert_int_eq(r.sigs[0].covers_unsub_post, 1);
	msg_free(m);
}
END_TEST

START_TEST(test_dkim_failures)
{
	struct dkimcheck_result r;
	cr_msg *m = corpus_msg("vi-oneclick-dkim-broken", NULL, NULL);

	verify(m, 2000, &r);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_FAIL);
	ck_assert_str_eq(r.sigs[0].why, "body hash did not verify");
	msg_free(m);
	/* a signed header changed */
	m = corpus_msg("vi-dkim-no-oneclick", "To: khach.hang@", "To: khach.hanh@");
	verify(m, 2000, &r);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_FAIL);
	msg_free(m);
	/* no key in DNS */
	m = corpus_msg("vi-oneclick-unknown-key", NULL, NULL);
	verify(m, 2000, &r);
	ck_assert_int_eq(r.sigs[0].result, DKIMCHECK_PERMERROR);
	msg_free(m);
	/* the key server never answers: temperror within the deadline */
	m = corpus_msg("vi-dkim-no-oneclick", "d=shop-abc.vn", "d=drop.test  ");
	int64_t t0 = util_mono_ms();
	verify(m, 300, &r);
	ck_assert_int_lt(util_mono_ms() - t0, 2000);
	ck_assert_msg(r.sigs[0].result == DKIMCHECK_TEMPERROR, "%d %s", r.sigs[0].result, r.sigs[0].why);
	msg_free(m);
	/* no signature: nothing judged */
	m = corpus_msg("vi-personal", NULL, NULL);
	verify(m, 2000, &r);
	ck_assert_uint_eq(r.nsigs, 0);
	msg_free(m);
}
END_TEST

/* Two signatures, the first one's key server never answering: the second is
 * still verified (pass), the first alone is temperror. */
START_TEST(test_dkim_one_key_timeout_spares_the_others)
{
	struct dkimcheck_result r;
	size_t la, lb;
	char pa[256], pb[256];
	char *a, *b, *sig_end, *text;
	cr_msg *m;

	snprintf(pa, sizeof(pa), CORPUS "%s.eml", "vi-dkim-no-oneclick");
	snprintf(pb, sizeof(pb), CORPUS "%s.eml", "vi-oneclick-dkim");
	a = corpus_slurp(pa, &la);
	b = corpus_slurp(pb, &lb);
	/* a's DKIM-Signature field (its first field, folded), with d= made unreachable */
	sig_end = strstr(a, "\nFrom:");
	ck_assert_ptr_nonnull(sig_end);
	memcpy(strstr(a, "d=shop-abc.vn"), "d=drop.test  ", 13);
	text = malloc((size_t)(sig_end - a) + 1 + lb + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, a, (size_t)(sig_end - a) + 1);
	memcpy(text + (sig_end - a) + 1, b, lb + 1);
	m = parse(text);
	verify(m, 500, &r);
	ck_assert_uint_eq(r.nsigs, 2);
	ck_assert_str_eq(r.sigs[0].domain, "drop.test");
	ck_assert_msg(r.sigs[0].result == DKIMCHECK_TEMPERROR, "%d %s", r.sigs[0].result,
		      r.sigs[0].why);
	ck_assert_str_eq(r.sigs[1].domain, "shop-abc.vn");
	ck_assert_msg(r.sigs[1].result == DKIMCHECK_PASS, "%d %s", r.sigs[1].result, r.sigs[1].why);
	msg_free(m);
	free(text);
	free(a);
	free(b);
}
END_TEST

static cr_engine *mk_engine(const char *advert_keys)
{
	char text[1024];
	cr_conf *c;
	cr_engine *e;

	snprintf(text, sizeof(text),
		 "[redis]\nport = 1\n[engine]\ndns_servers = 127.0.0.1:%d\ndeadline = 2s\n"
		 "authserv_id = mx.test\n[advert]\n%s\n", fake.port, advert_keys ? advert_keys : "");
	c = conf_load_string(text, "t.conf", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	e = engine_new(c, err, sizeof(err));
	conf_free(c);
	return e;
}

static void check_msg(cr_engine *e, const char *name, struct engine_verdict *v)
{
	struct engine_input in = { 0 };
	cr_msg *m = corpus_msg(name, NULL, NULL);

	in.queue_id = name;
	engine_check(e, &in, m, util_mono_ms() + 2000, v);
	msg_free(m);
}

START_TEST(test_engine_rules_and_weights)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("r1b = 2.5\nr3 = 1.25\nr4 = 3\nr4h = 0.75\n");

	ck_assert_msg(e != NULL, "%s", err);
	check_msg(e, "vi-nothing-compliant", &v);
	ck_assert_ptr_nonnull(engine_verdict_hit(&v, "ADV_LABEL"));
	ck_assert_double_eq(engine_verdict_hit(&v, "ADV_LABEL")->score, 0);
	ck_assert_double_eq(engine_verdict_hit(&v, "R1b")->score, 2.5);
	ck_assert_double_eq(engine_verdict_hit(&v, "R3")->score, 1.25);
	ck_assert_double_eq(engine_verdict_hit(&v, "R4")->score, 3);
	ck_assert_double_eq(engine_verdict_hit(&v, "R4h")->score, 0.75);
	ck_assert_str_eq(engine_verdict_hit(&v, "R4h")->reason, "no List-Unsubscribe");
	check_msg(e, "label-adv", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "R1a")->score, 0.5);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R1b"));
	check_msg(e, "vi-unlabelled-bulk", &v);
	ck_assert_double_eq(engine_verdict_hit(&v, "ADV_NO_LABEL")->score, 3);
	ck_assert_ptr_null(engine_verdict_hit(&v, "ADV_LABEL"));
	check_msg(e, "vi-personal", &v);
	ck_assert_uint_eq(v.nhits == 0 || (engine_verdict_hit(&v, "ADV_LABEL") == NULL &&
					   engine_verdict_hit(&v, "ADV_NO_LABEL") == NULL && engine_verdict_hit(&v, "R3") == NULL &&
					   engine_verdict_hit(&v, "R4") == NULL && engine_verdict_hit(&v, "R4h") == NULL), 1);
	engine_free(e);
}
END_TEST

START_TEST(test_engine_one_click_needs_dkim_coverage)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine(NULL);

	ck_assert_msg(e != NULL, "%s", err);
	check_msg(e, "vi-oneclick-dkim", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R4h"));
	ck_assert_str_eq(v.hdr_auth_results, "mx.test; dkim=pass header.d=shop-abc.vn header.s=sel;\n"
			 "\tdmarc=none header.from=shop-abc.vn"); /* R10: no _dmarc record */
	check_msg(e, "vi-oneclick-not-covered", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "R4h")->reason,
			 "one-click List-Unsubscribe-Post not covered by the h= of a passing DKIM "
			 "signature (RFC 8058 4)");
	check_msg(e, "vi-oneclick-dkim-broken", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "R4h")->reason,
			 "one-click List-Unsubscribe-Post without a passing DKIM signature (RFC 8058 4)");
	ck_assert_ptr_nonnull(strstr(v.hdr_auth_results, "dkim=fail (body hash did not verify)"));
	engine_free(e);
	/* with DKIM off (R10 off too: it verifies DKIM), one-click cannot be trusted
	 * and nothing goes into A-R */
	e = mk_engine("dkim = no\n[r10]\nenabled = no\n");
	check_msg(e, "vi-oneclick-dkim", &v);
	ck_assert_ptr_nonnull(strstr(engine_verdict_hit(&v, "R4h")->reason, "DKIM verification is off"));
	ck_assert_ptr_null(strstr(v.hdr_auth_results, "dkim="));
	engine_free(e);
}
END_TEST

START_TEST(test_engine_optout_languages_both)
{
	static struct engine_verdict v;
	cr_engine *e = mk_engine("optout_languages = both\n");

	ck_assert_msg(e != NULL, "%s", err);
	check_msg(e, "vi-compliant-b", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "R4")->reason, "opt-out section lacks English wording");
	check_msg(e, "en-compliant", &v);
	ck_assert_str_eq(engine_verdict_hit(&v, "R4")->reason, "opt-out section lacks Vietnamese wording");
	check_msg(e, "vi-en-bilingual", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R4"));
	engine_free(e);
	/* the default (D91) takes either language */
	e = mk_engine(NULL);
	check_msg(e, "vi-compliant-b", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R4"));
	check_msg(e, "en-compliant", &v);
	ck_assert_ptr_null(engine_verdict_hit(&v, "R4"));
	engine_free(e);
}
END_TEST

START_TEST(test_engine_bad_advert_config)
{
	cr_engine *e = mk_engine("r3 = heavy\n");

	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "[advert] r3"));
	e = mk_engine("adv_no_label = 5000\n");
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "adv_no_label"));
	e = mk_engine("optout_languages = vi\n");
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "[advert] optout_languages: 'vi' is neither any nor both"));
}
END_TEST

static Suite *advert_suite(void)
{
	Suite *s = suite_create("advert");
	TCase *tc = tcase_create("core");
	TCase *td = tcase_create("dkim");

	tcase_add_test(tc, test_label_canonical_forms);
	tcase_add_test(tc, test_label_tolerated_forms);
	tcase_add_test(tc, test_label_lookalikes_are_no_label);
	tcase_add_test(tc, test_label_not_first);
	tcase_add_test(tc, test_label_after_reply_prefixes);
	tcase_add_test(tc, test_fold_vietnamese_and_widths);
	tcase_add_test(tc, test_signals_personal_mail_is_not_advertising);
	tcase_add_test(tc, test_signals_mailing_list_is_not_advertising);
	tcase_add_test(tc, test_signals_marketing_and_bulk);
	tcase_add_test(tc, test_signals_word_boundaries);
	tcase_add_test(tc, test_layout_complete);
	tcase_add_test(tc, test_layout_block_elements_missing_or_misplaced);
	tcase_add_test(tc, test_layout_phone_numbers);
	tcase_add_test(tc, test_layout_optout_defects);
	tcase_add_test(tc, test_layout_html_links_are_channels);
	tcase_add_test(tc, test_unsub_list_unsubscribe);
	tcase_add_test(tc, test_unsub_one_click);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(td, dkim_setup, dkim_teardown);
	tcase_set_timeout(td, 20);
	tcase_add_test(td, test_dkim_pass_and_coverage);
	tcase_add_test(td, test_dkim_failures);
	tcase_add_test(td, test_dkim_one_key_timeout_spares_the_others);
	tcase_add_test(td, test_engine_rules_and_weights);
	tcase_add_test(td, test_engine_one_click_needs_dkim_coverage);
	tcase_add_test(td, test_engine_optout_languages_both);
	tcase_add_test(td, test_engine_bad_advert_config);
	suite_add_tcase(s, td);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(advert_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
