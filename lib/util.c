/* util: error buffers, bounded copies, clocks and the small parsers (integers,
 * durations, times) that config, CLI and store share. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

size_t util_strlcpy(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);

	if (dstlen > 0) {
		size_t c = n < dstlen - 1 ? n : dstlen - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int64_t util_now(void)
{
	return (int64_t)time(NULL);
}

int64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int util_parse_duration_ms(const char *s, int64_t *out_ms)
{
	char *end;
	long long v;
	int64_t mult;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mult = 86400 * 1000;
	else
		return -1;
	if (v > INT64_MAX / mult)
		return -1;
	*out_ms = v * mult;
	return 0;
}

void util_format_age(int64_t seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds >= 86400)
		snprintf(buf, len, "%lldd%lldh", (long long)(seconds / 86400),
			 (long long)(seconds % 86400 / 3600));
	else if (seconds >= 3600)
		snprintf(buf, len, "%lldh%lldm", (long long)(seconds / 3600),
			 (long long)(seconds % 3600 / 60));
	else if (seconds >= 60)
		snprintf(buf, len, "%lldm%llds", (long long)(seconds / 60), (long long)(seconds % 60));
	else
		snprintf(buf, len, "%llds", (long long)seconds);
}

void util_format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		util_strlcpy(buf, "?", len);
}

int util_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%dT%H:%MZ",    "%Y-%m-%dT%H:%M",    "%Y-%m-%d %H:%M",
		"%Y-%m-%d",
	};

	if (s == NULL)
		return -1;
	if (s[0] == '@')
		return util_parse_i64(s + 1, 0, INT64_MAX / 2, out);
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			time_t t = timegm(&tm);
			if (t == (time_t)-1)
				return -1;
			*out = (int64_t)t;
			return 0;
		}
	}
	return -1;
}

char *util_memdup_str(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
