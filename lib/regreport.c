/* regreport: report periods and % changes (regreport.h).  Dates are UTC days,
 * the same days as the statistics keys (lib/stats.h). */
#include "regreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int64_t day_of(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm);
}

static void day_text(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* index: annual = year; semi-annual = year * 2 + (H2 ? 1 : 0). */
static void fill(enum regreport_kind kind, long idx, struct regreport_period *p)
{
	memset(p, 0, sizeof *p);
	if (kind == REGREPORT_ANNUAL) {
		int y = (int)idx;
		p->from = day_of(y - 1, 12, 15);
		p->to = day_of(y, 12, 14);
		snprintf(p->name, sizeof p->name, "%d", y);
		day_text(day_of(y, 12, 31), p->due);
	} else {
		int y = (int)(idx / 2), h2 = (int)(idx % 2);
		if (h2) {
			p->from = day_of(y, 5, 15);
			p->to = day_of(y, 11, 14);
			day_text(day_of(y, 11, 15), p->due);
		} else {
			p->from = day_of(y - 1, 11, 15);
			p->to = day_of(y, 5, 14);
			day_text(day_of(y, 5, 15), p->due);
		}
		snprintf(p->name, sizeof p->name, "%d-H%d", y, h2 + 1);
	}
	day_text(p->from, p->first);
	day_text(p->to, p->last);
}

static int parse_year(const char *s, size_t n, int *y)
{
	int v = 0;

	if (n != 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1971 || v > 9998)
		return -1;
	*y = v;
	return 0;
}

int regreport_period(enum regreport_kind kind, const char *spec, struct regreport_period *cur,
		     struct regreport_period *prev, char *err, size_t errlen)
{
	size_t n = spec ? strlen(spec) : 0;
	long idx;
	int y;

	if (n == 10 && spec[4] == '-' && spec[7] == '-') {
		int64_t t;
		char back[11];
		int m, d;
		if (util_parse_time(spec, &t) < 0 || parse_year(spec, 4, &y) < 0)
			goto bad;
		day_text(t, back);
		if (strcmp(back, spec) != 0)
			goto bad; /* 2026-02-30 */
		m = atoi(spec + 5);
		d = atoi(spec + 8);
		if (kind == REGREPORT_ANNUAL)
			idx = (m == 12 && d >= 15) ? y + 1 : y;
		else if (m > 11 || (m == 11 && d >= 15))
			idx = (long)(y + 1) * 2;     /* H1 of next year */
		else if (m > 5 || (m == 5 && d >= 15))
			idx = (long)y * 2 + 1;       /* H2 */
		else
			idx = (long)y * 2;           /* H1 */
	} else if (kind == REGREPORT_ANNUAL) {
		if (parse_year(spec, n, &y) < 0)
			goto bad;
		idx = y;
	} else {
		if (n != 7 || spec[4] != '-' || spec[5] != 'H' || (spec[6] != '1' && spec[6] != '2') ||
		    parse_year(spec, 4, &y) < 0)
			goto bad;
		idx = (long)y * 2 + (spec[6] == '2');
	}
	fill(kind, idx, cur);
	if (prev != NULL)
		fill(kind, idx - 1, prev);
	return 0;
bad:
	util_errf(err, errlen, "--period %s: %s", spec ? spec : "",
		  kind == REGREPORT_ANNUAL ? "a year (2026) or a day (2026-12-14)"
					   : "YYYY-H1, YYYY-H2 or a day (2026-05-14)");
	return -1;
}

const char *regreport_change(long long cur, long long prev, char *buf, size_t len)
{
	long long num, tenths;
	int neg;

	if (prev == 0) {
		snprintf(buf, len, "%s", cur == 0 ? "0.0%" : "n/a");
		return buf;
	}
	/* integer arithmetic: tenths of a percent, rounded half away from zero */
	num = (cur - prev) * 1000;
	neg = (num < 0) != (prev < 0);
	if (num < 0)
		num = -num;
	tenths = (num + (prev < 0 ? -prev : prev) / 2) / (prev < 0 ? -prev : prev);
	if (tenths == 0)
		snprintf(buf, len, "0.0%%");
	else
		snprintf(buf, len, "%s%lld.%lld%%", neg ? "-" : "+", tenths / 10, tenths % 10);
	return buf;
}
