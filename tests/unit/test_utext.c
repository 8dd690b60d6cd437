/* Tests for lib/utext.c: its fast paths give exactly what libunistring gives —
 * every code point of the fast set is NFC and composes with no neighbour (all
 * pairs), utext_tolower agrees with u8_tolower on every code point and on mixed
 * random texts, and text outside the fast set or not UTF-8 takes the slow path. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "utext.h"

/* the fast set and ASCII, as code points */
static uint32_t g_set[2048];
static size_t g_n;

static void collect(void)
{
	g_n = 0;
	for (uint32_t cp = 1; cp < 0x2100 && g_n < sizeof g_set / sizeof g_set[0]; cp++)
		if (utext_in_fast_set(cp))
			g_set[g_n++] = cp;
}

static size_t enc(uint32_t cp, uint8_t *out)
{
	int n = u8_uctomb(out, cp, 6);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static int is_nfc_by_libunistring(const uint8_t *s, size_t n)
{
	size_t rl = 0;
	uint8_t *r = u8_normalize(UNINORM_NFC, s, n, NULL, &rl);
	int same;

	ck_assert_ptr_nonnull(r);
	same = rl == n && memcmp(r, s, n) == 0;
	free(r);
	return same;
}

START_TEST(test_fast_set_is_nfc_one_by_one)
{
	collect();
	ck_assert_uint_gt(g_n, 900);
	for (size_t i = 0; i < g_n; i++) {
		uint8_t b[8];
		size_t n = enc(g_set[i], b);
		ck_assert_msg(is_nfc_by_libunistring(b, n), "U+%04X is not NFC", (unsigned)g_set[i]);
		ck_assert_msg(uc_combining_class(g_set[i]) == 0, "U+%04X combines",
			      (unsigned)g_set[i]);
		ck_assert_int_eq(utext_is_nfc((const char *)b, n), 1);
	}
}
END_TEST

START_TEST(test_fast_set_pairs_never_compose)
{
	collect();
	for (size_t i = 0; i < g_n; i++) {
		for (size_t j = 0; j < g_n; j++) {
			uint8_t b[16];
			size_t n = enc(g_set[i], b);
			n += enc(g_set[j], b + n);
			if (!is_nfc_by_libunistring(b, n))
				ck_abort_msg("U+%04X U+%04X is not NFC", (unsigned)g_set[i],
					     (unsigned)g_set[j]);
		}
	}
}
END_TEST

START_TEST(test_other_text_is_not_claimed_nfc)
{
	/* a combining mark, a decomposed letter, a singleton (Ohm), CJK, emoji */
	static const char *const slow[] = {"e\xcc\x81", "\xcc\x81", "\xe2\x84\xa6",
					   "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "Vi\xe1\xbb\x87t \xe2\x84\xa6"};
	/* not UTF-8: cut sequence, overlong, lone continuation byte */
	static const char *const bad[] = {"\xc3", "\xe0\x83\xa9", "\x80", "\xe1\xbb"};

	for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++)
		ck_assert_int_eq(utext_is_nfc(slow[i], strlen(slow[i])), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(utext_is_nfc(bad[i], strlen(bad[i])), 0);
	{
		const char *vn = "Vi\xe1\xbb\x87t Nam \xe2\x82\xab"; /* Việt Nam ₫ */
		ck_assert_int_eq(utext_is_nfc(vn, strlen(vn)), 1);
	}
	ck_assert_int_eq(utext_is_nfc("", 0), 1);
}
END_TEST

static void same_lower(const uint8_t *s, size_t n)
{
	size_t a = 0, b = 0;
	uint8_t *x = utext_tolower((const char *)s, n, &a);
	uint8_t *y = u8_tolower(s, n, NULL, NULL, NULL, &b);

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	ck_assert_uint_eq(a, b);
	ck_assert_msg(memcmp(x, y, a) == 0, "lower case differs for a %zu-byte text", n);
	free(x);
	free(y);
}

START_TEST(test_tolower_every_code_point)
{
	collect();
	for (size_t i = 0; i < g_n; i++) {
		uint8_t b[8];
		size_t n = enc(g_set[i], b);
		same_lower(b, n);
	}
	same_lower((const uint8_t *)"", 0);
}
END_TEST

START_TEST(test_tolower_random_texts)
{
	/* slow-path characters mixed in: dotted I, capital sigma (final form depends on
	 * context), a combining mark, CJK, an emoji, Kelvin, a C1 control */
	static const uint32_t other[] = {0x130, 0x3A3, 0x301, 0x4E2D, 0x1F600, 0x212A, 0x85};
	uint32_t seed = 12345;

	collect();
	for (int t = 0; t < 20000; t++) {
		uint8_t b[400];
		size_t n = 0;
		int len = 1 + t % 60;
		for (int k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t r = seed >> 8, cp;
			if (t % 3 == 0 && r % 17 == 0)
				cp = other[r % (sizeof other / sizeof other[0])];
			else if (r % 4 == 0)
				cp = 'A' + r % 58;
			else
				cp = g_set[r % g_n];
			n += enc(cp, b + n);
		}
		same_lower(b, n);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utext");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fast_set_is_nfc_one_by_one);
	tcase_add_test(tc, test_fast_set_pairs_never_compose);
	tcase_add_test(tc, test_other_text_is_not_claimed_nfc);
	tcase_add_test(tc, test_tolower_every_code_point);
	tcase_add_test(tc, test_tolower_random_texts);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
