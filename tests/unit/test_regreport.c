/* Tests for lib/regreport.c: the report periods at their edges (annual
 * 15 Dec - 14 Dec; semi-annual 15 Nov - 14 May and 15 May - 14 Nov), the
 * previous period, bad period names, and the signed % change. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regreport.h"

static char err[256];

static const char *span(enum regreport_kind k, const char *spec, int prev)
{
	static char out[64];
	struct regreport_period c, p;

	if (regreport_period(k, spec, &c, &p, err, sizeof err) < 0)
		return "ERR";
	const struct regreport_period *x = prev ? &p : &c;
	ck_assert_int_eq(x->to - x->from >= 0, 1);
	snprintf(out, sizeof out, "%s %s..%s due %s", x->name, x->first, x->last, x->due);
	return out;
}

START_TEST(test_annual_periods)
{
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026", 0), "2026 2025-12-15..2026-12-14 due 2026-12-31");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026", 1), "2025 2024-12-15..2025-12-14 due 2025-12-31");
	/* a day names the period containing it: the edges */
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026-12-14", 0), "2026 2025-12-15..2026-12-14 due 2026-12-31");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026-12-15", 0), "2027 2026-12-15..2027-12-14 due 2027-12-31");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2025-12-15", 0), "2026 2025-12-15..2026-12-14 due 2026-12-31");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026-01-01", 0), "2026 2025-12-15..2026-12-14 due 2026-12-31");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2025-12-14", 0), "2025 2024-12-15..2025-12-14 due 2025-12-31");
}
END_TEST

START_TEST(test_semiannual_periods)
{
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-H1", 0), "2026-H1 2025-11-15..2026-05-14 due 2026-05-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-H2", 0), "2026-H2 2026-05-15..2026-11-14 due 2026-11-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-H1", 1), "2025-H2 2025-05-15..2025-11-14 due 2025-11-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-H2", 1), "2026-H1 2025-11-15..2026-05-14 due 2026-05-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-05-14", 0), "2026-H1 2025-11-15..2026-05-14 due 2026-05-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-05-15", 0), "2026-H2 2026-05-15..2026-11-14 due 2026-11-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-11-14", 0), "2026-H2 2026-05-15..2026-11-14 due 2026-11-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-11-15", 0), "2027-H1 2026-11-15..2027-05-14 due 2027-05-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-12-31", 0), "2027-H1 2026-11-15..2027-05-14 due 2027-05-15");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2027-01-01", 0), "2027-H1 2026-11-15..2027-05-14 due 2027-05-15");
	/* leap day inside H1 */
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2028-02-29", 0), "2028-H1 2027-11-15..2028-05-14 due 2028-05-15");
}
END_TEST

START_TEST(test_period_days_are_utc_midnights)
{
	struct regreport_period c, p;

	ck_assert_int_eq(regreport_period(REGREPORT_ANNUAL, "2026", &c, &p, err, sizeof err), 0);
	ck_assert_int_eq(c.from, 1765756800); /* 2025-12-15T00:00:00Z */
	ck_assert_int_eq(c.to, 1797206400);   /* 2026-12-14T00:00:00Z */
	ck_assert_int_eq(p.to + 86400, c.from);
	ck_assert_int_eq(regreport_period(REGREPORT_SEMIANNUAL, "2026-H2", &c, &p, err, sizeof err), 0);
	ck_assert_int_eq(p.to + 86400, c.from);
}
END_TEST

START_TEST(test_bad_periods)
{
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "26", 0), "ERR");
	ck_assert_str_eq(err, "--period 26: a year (2026) or a day (2026-12-14)");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "2026-H1", 0), "ERR");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026", 0), "ERR");
	ck_assert_str_eq(err, "--period 2026: YYYY-H1, YYYY-H2 or a day (2026-05-14)");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-H3", 0), "ERR");
	ck_assert_str_eq(span(REGREPORT_SEMIANNUAL, "2026-02-30", 0), "ERR");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "", 0), "ERR");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, NULL, 0), "ERR");
	ck_assert_str_eq(span(REGREPORT_ANNUAL, "20x6", 0), "ERR");
}
END_TEST

static const char *chg(long long c, long long p)
{
	static char b[32];
	return regreport_change(c, p, b, sizeof b);
}

START_TEST(test_change)
{
	ck_assert_str_eq(chg(50, 40), "+25.0%");
	ck_assert_str_eq(chg(30, 40), "-25.0%");
	ck_assert_str_eq(chg(40, 40), "0.0%");
	ck_assert_str_eq(chg(0, 0), "0.0%");
	ck_assert_str_eq(chg(7, 0), "n/a");
	ck_assert_str_eq(chg(0, 7), "-100.0%");
	ck_assert_str_eq(chg(2, 3), "-33.3%");
	ck_assert_str_eq(chg(3, 2), "+50.0%");
	ck_assert_str_eq(chg(1, 3), "-66.7%");   /* -66.67 rounds away from zero */
	ck_assert_str_eq(chg(1001, 1000), "+0.1%");
	ck_assert_str_eq(chg(10005, 10000), "+0.1%"); /* +0.05 rounds up */
	ck_assert_str_eq(chg(10004, 10000), "0.0%");  /* +0.04 rounds to zero: no sign */
	ck_assert_str_eq(chg(9996, 10000), "0.0%");
	ck_assert_str_eq(chg(300, 100), "+200.0%");
}
END_TEST

static Suite *regreport_suite(void)
{
	Suite *s = suite_create("regreport");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_annual_periods);
	tcase_add_test(tc, test_semiannual_periods);
	tcase_add_test(tc, test_period_days_are_utc_midnights);
	tcase_add_test(tc, test_bad_periods);
	tcase_add_test(tc, test_change);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regreport_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
