/* log: syslog (LOG_MAIL) or stderr, with a level filter.  The level is read
 * without a lock: a torn read of an int is impossible on our targets and a
 * stale level for one line is harmless. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static char log_ident[64] = "chanrac";
static int log_syslog;
static enum log_level log_max = LOG_LEVEL_INFO;

void log_open(const char *ident, int use_syslog, enum log_level level)
{
	snprintf(log_ident, sizeof log_ident, "%s", ident);
	if (log_syslog)
		closelog();
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

int log_level_parse(const char *name)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	if (strcmp(name, "error") == 0)
		return LOG_LEVEL_ERR;
	if (strcmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	return -1;
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char line[2048];

	if (level > log_max)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_syslog) {
		syslog(prio[level], "%s", line);
	} else {
		/* One fprintf per line so lines from threads do not interleave. */
		fprintf(stderr, "%s: %s: %s\n", log_ident, tag[level], line);
	}
}

#define LOG_FN(name, level)                      \
	void name(const char *fmt, ...)          \
	{                                        \
		va_list ap;                      \
		va_start(ap, fmt);               \
		log_emit(level, fmt, ap);        \
		va_end(ap);                      \
	}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
