/* Logging to stderr, one line per event, with level filter and redaction
 * of registered secrets. Thread-safe. */
#ifndef DF_LOG_H
#define DF_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include <dnsfollow/host.h>

/* The level is read by plugin threads too: kept atomically. */
void df_log_set_level(int level);
int df_log_level(void);
/** Parse "error|warn|info|debug"; -1 when unknown. */
int df_log_parse_level(const char *s);

/** Shortest value that can be masked: shorter ones would mask ordinary
 *  words in every line. */
#define DF_MIN_SECRET 4

/** A value that must never be printed; copied. Returns 0, or -1 (and
 *  registers nothing) when it is shorter than DF_MIN_SECRET but not
 *  empty. Empty values are ignored. */
int df_log_add_secret(const char *secret);
void df_log_clear_secrets(void);

/** Replace every registered secret in `buf` (NUL-terminated, `cap` bytes
 *  of room) by "***". */
void df_redact(char *buf, size_t cap);

void df_vlog(int level, const char *who, const char *fmt, va_list ap);
void df_log(int level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define df_error(...) df_log(DNSFOLLOW_LOG_ERROR, NULL, __VA_ARGS__)
#define df_warn(...) df_log(DNSFOLLOW_LOG_WARN, NULL, __VA_ARGS__)
#define df_info(...) df_log(DNSFOLLOW_LOG_INFO, NULL, __VA_ARGS__)
#define df_debug(...) df_log(DNSFOLLOW_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
