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
/** log_format = json: each line one JSON object {time, level, who, msg},
 *  masked like the text form. */
void df_log_set_json(int on);
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

/** Mask in place, by "***", every registered secret in `buf`
 *  (NUL-terminated; the text only shrinks, `cap` is unused): whole ones,
 *  and cut ones a truncation left behind: the start of a secret at the
 *  end of the text or its end at the start of the text (DF_MIN_SECRET
 *  characters or more), and such a part anywhere when it holds at least
 *  half the secret and 8 characters. So mask before cutting a text,
 *  never after. */
void df_redact(char *buf, size_t cap);

/** A malloc'd copy of `text` safe for a log line: newlines and tabs become
 *  spaces; other control characters and DEL become "\x1b"-style escapes,
 *  bytes that are not valid UTF-8 "\xNN", C1 controls, line separators
 *  and bidi overrides "\u202e". NULL when out of memory. */
char *df_sanitize(const char *text);

/** `fmt` formatted in full, masked (df_redact), then sanitized
 *  (df_sanitize) and cut to at most `max` bytes with the NUL (0: no
 *  limit; a cut text ends with "..."): a malloc'd string to free(), NULL
 *  when out of memory. Use it wherever a message is built from what a
 *  peer, a file or a plugin sent, instead of vsnprintf into a fixed
 *  buffer, which cuts before masking. */
char *df_vformat_clean(size_t max, const char *fmt, va_list ap);
char *df_format_clean(size_t max, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Copy `src` to dst[cap]; when it does not fit, cut it on a character
 *  (and escape) boundary and end it with "...". */
void df_copy_cut(char *dst, size_t cap, const char *src);

/** Longest message of a log line, in bytes (after cleaning). */
#define DF_LOG_LINE_MAX 2048

/** One log line on stderr: the message is formatted in full, masked,
 *  sanitized, then cut to DF_LOG_LINE_MAX. */
void df_vlog(int level, const char *who, const char *fmt, va_list ap);
void df_log(int level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define df_error(...) df_log(DNSFOLLOW_LOG_ERROR, NULL, __VA_ARGS__)
#define df_warn(...) df_log(DNSFOLLOW_LOG_WARN, NULL, __VA_ARGS__)
#define df_info(...) df_log(DNSFOLLOW_LOG_INFO, NULL, __VA_ARGS__)
#define df_debug(...) df_log(DNSFOLLOW_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
