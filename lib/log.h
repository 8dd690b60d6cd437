/* log: one logging API for all three programs.  Lines go to syslog (facility
 * LOG_MAIL) or to stderr; below the configured level they are dropped early. */
#ifndef CHANRAC_LOG_H
#define CHANRAC_LOG_H

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* ident: program name; use_syslog: 0 = stderr.  Safe to call again (reconfigure). */
void log_open(const char *ident, int use_syslog, enum log_level level);
void log_set_level(enum log_level level);
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
