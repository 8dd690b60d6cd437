/* regreport: the periods and the arithmetic of the periodic regulatory reports
 * (P7, REGULATIONS.md "Periodic reports"): the D91 annual report covers
 * 15 Dec of the previous year – 14 Dec; the legacy semi-annual reports
 * (Circular 09/2011) cover 15 Nov – 14 May (H1, due before 15 May) and
 * 15 May – 14 Nov (H2, due before 15 November).  Every count is shown with its
 * signed % change against the previous period. */
#ifndef CHANRAC_REGREPORT_H
#define CHANRAC_REGREPORT_H

#include <stddef.h>
#include <stdint.h>

enum regreport_kind { REGREPORT_ANNUAL, REGREPORT_SEMIANNUAL };

struct regreport_period {
	int64_t from, to;   /* unix times of the first and the last day (00:00 UTC) */
	char first[11];     /* "YYYY-MM-DD" */
	char last[11];
	char name[16];      /* "2026" or "2026-H1" */
	char due[11];       /* the report is due before this day */
};

/* The period named by spec and the one before it.  spec: annual "2026" (the
 * year the period ends in); semi-annual "2026-H1" / "2026-H2"; either kind also
 * takes a day "YYYY-MM-DD", meaning the period that contains it.  0, or -1 with
 * err naming spec. */
int regreport_period(enum regreport_kind kind, const char *spec, struct regreport_period *cur,
		     struct regreport_period *prev, char *err, size_t errlen);

/* The signed change of cur against prev, one decimal: "+25.0%", "-12.5%",
 * "0.0%"; "n/a" when prev is 0 and cur is not (no base); "0.0%" when both are
 * 0.  Rounded half away from zero.  Returns buf. */
const char *regreport_change(long long cur, long long prev, char *buf, size_t len);

#endif
