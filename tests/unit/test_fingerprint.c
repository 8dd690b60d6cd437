/* Tests for lib/fingerprint.c: normalisation (case, white space, tracking tokens,
 * salutations), MinHash similarity of copies and of unrelated texts, no
 * fingerprint for empty or near-empty bodies, encoding round trip. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

#define MIN_WORDS 10
#define THRESHOLD 0.6

static const char *const BODY =
	"Dear Nguyen Van An,\n"
	"\n"
	"Our autumn sale starts today: every laptop and phone in the store is discounted,\n"
	"delivery is free across Vietnam and you can pay in twelve monthly instalments\n"
	"without interest. Visit https://shop.example.vn/sale?uid=8842913&utm_source=mail\n"
	"before the end of the week, the offer ends on Sunday night and stock is limited.\n"
	"Bring a friend and both of you receive a voucher for the next purchase.\n"
	"\n"
	"Example Shop Ltd, 12 Le Loi street, District 1, Ho Chi Minh City\n"
	"Phone 028 3822 1234, email support@example.vn\n"
	"To stop receiving these emails click https://shop.example.vn/unsub?id=ab12cd34ef56\n";

static struct fingerprint fp_of(const char *text)
{
	struct fingerprint fp;
	ck_assert_int_eq(fingerprint_text(text, strlen(text), MIN_WORDS, &fp), 0);
	return fp;
}

static double sim(const char *a, const char *b)
{
	struct fingerprint x = fp_of(a), y = fp_of(b);
	return fingerprint_similarity(&x, &y);
}

START_TEST(test_normalise_case_space_and_tokens)
{
	const char *in = "  HELLO World!!  Giá chỉ 1.990.000đ   tại\t"
			 "HTTPS://WWW.Shop.Example.vn/x?id=42  "
			 "hoặc Mail@Example.VN; mã 9f8e7d6c5b4a";
	char out[512];
	int n = fingerprint_normalise(in, strlen(in), out, sizeof out);
	/* "HELLO World!!" is a salutation line start ("hello "): cut at '!' */
	ck_assert_str_eq(out, "giá chỉ # tại u:shop.example.vn hoặc e:example.vn mã #");
	ck_assert_int_eq(n, 9);
}
END_TEST

START_TEST(test_vietnamese_uppercase_folds)
{
	char a[128], b[128];
	fingerprint_normalise("ĐẶT HÀNG NGAY HÔM NAY", strlen("ĐẶT HÀNG NGAY HÔM NAY"), a, sizeof a);
	fingerprint_normalise("đặt hàng ngay hôm nay", strlen("đặt hàng ngay hôm nay"), b, sizeof b);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "đặt hàng ngay hôm nay");
}
END_TEST

START_TEST(test_same_text_is_identical)
{
	ck_assert(sim(BODY, BODY) == 1.0);
}
END_TEST

START_TEST(test_whitespace_and_case_changes_match_exactly)
{
	char *t = strdup(BODY);
	/* reflow: every newline a space, every space doubled, upper case */
	size_t n = strlen(t);
	char *u = malloc(n * 2 + 1), *p = u;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i] == '\n' ? ' ' : t[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		*p++ = ch;
		if (ch == ' ' && i % 3 == 0)
			*p++ = '\t';
	}
	*p = '\0';
	/* the salutation line merged into the text is still cut at its comma */
	ck_assert(sim(BODY, u) == 1.0);
	free(t);
	free(u);
}
END_TEST

START_TEST(test_tracking_tokens_do_not_matter)
{
	const char *b =
		"Dear Nguyen Van An,\n"
		"\n"
		"Our autumn sale starts today: every laptop and phone in the store is discounted,\n"
		"delivery is free across Vietnam and you can pay in twelve monthly instalments\n"
		"without interest. Visit https://shop.example.vn/sale/other/path?uid=1&c=zz77\n"
		"before the end of the week, the offer ends on Sunday night and stock is limited.\n"
		"Bring a friend and both of you receive a voucher for the next purchase.\n"
		"\n"
		"Example Shop Ltd, 99 Le Loi street, District 3, Ho Chi Minh City\n"
		"Phone 0901 555 777, email help@example.vn\n"
		"To stop receiving these emails click https://shop.example.vn/u/7f3a9b2c1d0e\n";
	ck_assert(sim(BODY, b) == 1.0);
}
END_TEST

START_TEST(test_personalised_salutation_does_not_matter)
{
	const char *vi_a = "Kính gửi anh Trần Minh Quân,\n"
			   "Chương trình khuyến mãi lớn nhất năm đã bắt đầu với hàng nghìn sản phẩm "
			   "điện tử giảm giá sâu, miễn phí vận chuyển toàn quốc và quà tặng hấp dẫn "
			   "cho mọi đơn hàng trong tuần này.\n";
	const char *vi_b = "Kính gửi chị Lê Thị Hồng Nhung,\n"
			   "Chương trình khuyến mãi lớn nhất năm đã bắt đầu với hàng nghìn sản phẩm "
			   "điện tử giảm giá sâu, miễn phí vận chuyển toàn quốc và quà tặng hấp dẫn "
			   "cho mọi đơn hàng trong tuần này.\n";
	const char *en = "Hello Mr Smith!\n" "Our autumn sale starts today: every laptop and phone "
			 "in the store is discounted and delivery is free.\n";
	const char *en2 = "Hi Alexandra Jones-Whitfield, our autumn sale starts today: every "
			  "laptop and phone in the store is discounted and delivery is free.\n";
	ck_assert(sim(vi_a, vi_b) == 1.0);
	ck_assert(sim(en, en2) == 1.0);
}
END_TEST

START_TEST(test_reordered_footer_still_matches)
{
	const char *b =
		"Dear Nguyen Van An,\n"
		"\n"
		"Our autumn sale starts today: every laptop and phone in the store is discounted,\n"
		"delivery is free across Vietnam and you can pay in twelve monthly instalments\n"
		"without interest. Visit https://shop.example.vn/sale?uid=8842913&utm_source=mail\n"
		"before the end of the week, the offer ends on Sunday night and stock is limited.\n"
		"Bring a friend and both of you receive a voucher for the next purchase.\n"
		"\n"
		"To stop receiving these emails click https://shop.example.vn/unsub?id=ab12cd34ef56\n"
		"Phone 028 3822 1234, email support@example.vn\n"
		"Example Shop Ltd, 12 Le Loi street, District 1, Ho Chi Minh City\n";
	double s = sim(BODY, b);
	ck_assert_msg(s >= THRESHOLD && s < 1.0, "similarity %.3f", s);
}
END_TEST

START_TEST(test_reworded_copy_matches)
{
	const char *b =
		"Dear customer,\n"
		"Our big autumn sale starts today: every laptop and phone in the shop is discounted,\n"
		"delivery is free across Vietnam and you can pay in twelve monthly instalments\n"
		"without interest. Visit https://shop.example.vn/sale?uid=1\n"
		"before the end of the week, the offer ends on Sunday night and stock is limited.\n"
		"Bring a friend and both of you receive a voucher for the next purchase.\n"
		"Example Shop Ltd, 12 Le Loi street, District 1, Ho Chi Minh City\n"
		"Phone 028 3822 1234, email support@example.vn\n"
		"To stop receiving these emails click https://shop.example.vn/unsub?id=1\n";
	double s = sim(BODY, b);
	ck_assert_msg(s >= THRESHOLD, "similarity %.3f", s);
}
END_TEST

START_TEST(test_unrelated_texts_do_not_match)
{
	const char *other[] = {
		"Hi Minh, are we still meeting for lunch on Thursday? I booked a table at the "
		"noodle place near the office for twelve thirty, let me know if that works.",
		"The quarterly report is attached. Revenue grew in the northern region while the "
		"south stayed flat; please review the figures before the board meeting next week.",
		"Chào em, tối nay anh về muộn vì phải họp với khách hàng, em cứ ăn cơm trước nhé, "
		"nhớ đóng cửa sổ vì trời có thể mưa to.",
		/* same topic, different text */
		"Big discounts on laptops and phones this week only! Free shipping nationwide, zero "
		"interest instalments, vouchers for friends. Hurry, limited stock at our store.",
	};
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		double s = sim(BODY, other[i]);
		ck_assert_msg(s < 0.2, "text %zu similarity %.3f", i, s);
	}
}
END_TEST

START_TEST(test_empty_and_near_empty_have_no_fingerprint)
{
	struct fingerprint fp;
	const char *short_ones[] = {
		"",
		"   \n\t\n ",
		"ok",
		"Dear An,\nthanks!",
		"https://x.example/a?b=1 https://y.example/c 0901234567 12345 user@example.vn",
		"buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy buy",
		"see you at nine tomorrow then",
	};
	for (size_t i = 0; i < sizeof short_ones / sizeof short_ones[0]; i++)
		ck_assert_int_eq(fingerprint_text(short_ones[i], strlen(short_ones[i]), MIN_WORDS,
						  &fp), 1);
	ck_assert_int_eq(fingerprint_text(NULL, 0, MIN_WORDS, &fp), 1);
	ck_assert_int_eq(fp.words, 0);
	/* ten distinct words are enough */
	ck_assert_int_eq(fingerprint_text("one two three four five six seven eight nine ten",
					  strlen("one two three four five six seven eight nine ten"),
					  MIN_WORDS, &fp), 0);
	ck_assert_int_eq(fp.distinct, 10);
}
END_TEST

START_TEST(test_encode_decode_and_id)
{
	struct fingerprint a = fp_of(BODY), b;
	char text[FINGERPRINT_TEXT_LEN + 1], id1[FINGERPRINT_ID_LEN + 1], id2[FINGERPRINT_ID_LEN + 1];
	char band0[17], band1[17];

	fingerprint_encode(&a, text);
	ck_assert_uint_eq(strlen(text), FINGERPRINT_TEXT_LEN);
	ck_assert_int_eq(fingerprint_decode(text, strlen(text), &b), 0);
	ck_assert(fingerprint_similarity(&a, &b) == 1.0);
	fingerprint_id(&a, id1);
	fingerprint_id(&b, id2);
	ck_assert_str_eq(id1, id2);
	ck_assert_uint_eq(strlen(id1), 16);
	fingerprint_band(&a, 0, band0);
	fingerprint_band(&a, 1, band1);
	ck_assert_str_ne(band0, band1);
	text[5] = 'X';
	ck_assert_int_eq(fingerprint_decode(text, strlen(text), &b), -1);
	ck_assert_int_eq(fingerprint_decode(text, 10, &b), -1);
}
END_TEST

START_TEST(test_copies_share_a_band)
{
	const char *b =
		"Dear customer,\n"
		"Our big autumn sale starts today: every laptop and phone in the shop is discounted,\n"
		"delivery is free across Vietnam and you can pay in twelve monthly instalments\n"
		"without interest. Visit https://shop.example.vn/sale?uid=1\n"
		"before the end of the week, the offer ends on Sunday night and stock is limited.\n"
		"Bring a friend and both of you receive a voucher for the next purchase.\n";
	struct fingerprint x = fp_of(BODY), y = fp_of(b);
	int shared = 0;
	for (unsigned i = 0; i < FINGERPRINT_BANDS; i++) {
		char p[17], q[17];
		fingerprint_band(&x, i, p);
		fingerprint_band(&y, i, q);
		shared += strcmp(p, q) == 0;
	}
	ck_assert_int_gt(shared, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fingerprint");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_normalise_case_space_and_tokens);
	tcase_add_test(tc, test_vietnamese_uppercase_folds);
	tcase_add_test(tc, test_same_text_is_identical);
	tcase_add_test(tc, test_whitespace_and_case_changes_match_exactly);
	tcase_add_test(tc, test_tracking_tokens_do_not_matter);
	tcase_add_test(tc, test_personalised_salutation_does_not_matter);
	tcase_add_test(tc, test_reordered_footer_still_matches);
	tcase_add_test(tc, test_reworded_copy_matches);
	tcase_add_test(tc, test_unrelated_texts_do_not_match);
	tcase_add_test(tc, test_empty_and_near_empty_have_no_fingerprint);
	tcase_add_test(tc, test_encode_decode_and_id);
	tcase_add_test(tc, test_copies_share_a_band);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
