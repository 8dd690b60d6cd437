/* util: small helpers every module uses — error-buffer formatting, bounded string
 * copies, the wall clock.  Nothing here allocates. */
#ifndef CHANRAC_UTIL_H
#define CHANRAC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Formats into a caller-provided error buffer (may be NULL or zero-sized). */
void util_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies at most dstlen-1 bytes and always NUL-terminates (dstlen > 0).
 * Returns strlen(src), so a result >= dstlen means it was truncated. */
size_t util_strlcpy(char *dst, const char *src, size_t dstlen);
/* A NUL-terminated copy of the n bytes at s, which need not be NUL-terminated
 * (strndup may look for the NUL past n); NULL if out of memory. */
char *util_memdup_str(const char *s, size_t n);

/* Wall-clock seconds and monotonic milliseconds. */
int64_t util_now(void);
int64_t util_mono_ms(void);

/* Parses a whole decimal string into [min,max]; 0 on success, -1 otherwise. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a duration: "250ms", "5s", "10m", "2h", "7d", or bare seconds.
 * Returns milliseconds in *out_ms; 0 on success, -1 on bad input. */
int util_parse_duration_ms(const char *s, int64_t *out_ms);

/* Formats an age in seconds as "3d4h", "5m12s", "42s" into buf. */
void util_format_age(int64_t seconds, char *buf, size_t len);

/* Formats a unix time as ISO 8601 UTC ("2026-11-22T21:47:03Z"). */
void util_format_time(int64_t t, char *buf, size_t len);

/* Parses ISO 8601 UTC ("2026-11-22T21:47:03Z", "2026-11-22 21:47", "2026-11-22")
 * or "@UNIX"; 0 on success, -1 on bad input. */
int util_parse_time(const char *s, int64_t *out);

#endif
