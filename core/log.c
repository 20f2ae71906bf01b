#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = DNSFOLLOW_LOG_INFO;
static int log_json; /* log_format = json: one JSON object per line */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
/* Each secret is stored twice in one allocation: as given, then reversed
 * (so a cut-off end is found by the same forward scan as a start). */
static char **secrets;
static size_t nsecrets;

static const char *reversed(const char *secret)
{
	return secret + strlen(secret) + 1;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void df_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}
int df_log_level(void) { return __atomic_load_n(&log_level, __ATOMIC_RELAXED); }

void df_log_set_json(int on) { __atomic_store_n(&log_json, on != 0, __ATOMIC_RELAXED); }

int df_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int df_log_add_secret(const char *secret)
{
	if (!secret || !*secret)
		return 0;
	if (strlen(secret) < DF_MIN_SECRET)
		return -1;
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0) {
			pthread_mutex_unlock(&log_mu);
			return 0;
		}
	char **n = realloc(secrets, (nsecrets + 1) * sizeof *n);
	size_t sl = strlen(secret);
	char *copy = malloc(2 * sl + 2);
	if (copy) {
		memcpy(copy, secret, sl + 1);
		for (size_t i = 0; i < sl; i++)
			copy[sl + 1 + i] = secret[sl - 1 - i];
		copy[2 * sl + 1] = '\0';
	}
	if (n && copy) {
		secrets = n;
		secrets[nsecrets++] = copy;
	} else {
		if (n)
			secrets = n;
		free(copy);
	}
	pthread_mutex_unlock(&log_mu);
	return 0;
}

void df_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
	pthread_mutex_unlock(&log_mu);
}

/* A cut secret is masked at the edges of a text from DF_MIN_SECRET
 * characters on, where a cut is the likely cause. Inside a text (a plugin
 * cut it within its own message: "said: %.480s; credentials ...") only
 * when it holds half the secret and DF_MID_PARTIAL characters or more:
 * shorter starts are often ordinary words ("consumer" of
 * "consumerKey...") and masking them would mangle messages. */
#define DF_MID_PARTIAL 8

static int partial_hit(size_t len, size_t secret_len, int at_edge)
{
	if (at_edge)
		return len >= DF_MIN_SECRET;
	return len >= DF_MID_PARTIAL && 2 * len >= secret_len;
}

/* One pass over buf, in place, linear in its length: "***" replaces each
 * whole `s`, and with `partial` each start of `s` that partial_hit()
 * accepts (the end of the text is an edge). Every match is longer than
 * "***", so writing never overtakes reading. */
static void mask_pass(char *buf, const char *s, int partial)
{
	size_t sl = strlen(s), w = 0;
	for (size_t r = 0; buf[r];) {
		size_t n = 0;
		while (n < sl && buf[r + n] == s[n])
			n++;
		if (n == sl ||
		    (partial && n && partial_hit(n, sl, buf[r + n] == '\0'))) {
			memcpy(buf + w, "***", 3);
			w += 3;
			r += n;
		} else {
			buf[w++] = buf[r++];
		}
	}
	buf[w] = '\0';
}

static void reverse(char *buf)
{
	for (size_t i = 0, j = strlen(buf); i + 1 < j; i++, j--) {
		char c = buf[i];
		buf[i] = buf[j - 1];
		buf[j - 1] = c;
	}
}

/* Caller holds log_mu. Whole secrets first, so that a partial match never
 * splits a whole one; then cut starts; then cut ends, as starts of the
 * reversed secret in the reversed text (its start is then the edge). */
static void redact_locked(char *buf)
{
	if (nsecrets == 0)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		mask_pass(buf, secrets[i], 0);
	for (size_t i = 0; i < nsecrets; i++)
		mask_pass(buf, secrets[i], 1);
	reverse(buf);
	for (size_t i = 0; i < nsecrets; i++)
		mask_pass(buf, reversed(secrets[i]), 1);
	reverse(buf);
}

void df_redact(char *buf, size_t cap)
{
	pthread_mutex_lock(&log_mu);
	(void)cap;
	redact_locked(buf);
	pthread_mutex_unlock(&log_mu);
}

/* Length of the valid UTF-8 character at s (1 to 4) and its code point,
 * or 0 when the bytes there are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included). */
static size_t utf8_char(const unsigned char *s, unsigned long *cp)
{
	size_t n;
	unsigned long min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2, min = 0x80, *cp = s[0] & 0x1Fu;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3, min = 0x800, *cp = s[0] & 0x0Fu;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4, min = 0x10000, *cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3Fu);
	}
	if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

/* Code points a terminal acts on or that reorder the text around them:
 * C1 controls (U+009B is a CSI), line separators, bidi overrides. */
static int invisible_control(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The visible form of the character at *s into out (12 bytes of room):
 * its length; *s moves past it. */
static size_t render(const unsigned char **s, char *out)
{
	unsigned long cp;
	size_t n = utf8_char(*s, &cp);
	if (n == 0)
		return (size_t)sprintf(out, "\\x%02X", *(*s)++);
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		(*s)++;
		*out = ' ';
		return 1;
	}
	if (cp < 0x20 || cp == 0x7F)
		return (size_t)sprintf(out, "\\x%02x", *(*s)++);
	*s += n;
	if (invisible_control(cp))
		return (size_t)sprintf(out, "\\u%04lx", cp);
	memcpy(out, *s - n, n);
	return n;
}

/* df_sanitize() in at most `max` bytes (0: no limit), cut after a whole
 * character with "..." when longer. */
static char *sanitize(const char *text, size_t max)
{
	static const char more[] = "...";
	/* At worst 4 bytes out per byte in ("\x1b"; "\u202e" is 6 for 3). */
	size_t cap = strlen(text) * 4 + 1, len = 0, mark = 0;
	if (max && max < 2 * sizeof more)
		max = 2 * sizeof more;
	if (max && cap > max)
		cap = max;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)text; *s;) {
		char one[12];
		size_t k = render(&s, one);
		if (len + k + 1 > cap) {
			memcpy(out + mark, more, sizeof more);
			return out;
		}
		memcpy(out + len, one, k);
		len += k;
		if (len + sizeof more <= cap)
			mark = len; /* "..." still fits after this character */
	}
	out[len] = '\0';
	return out;
}

char *df_sanitize(const char *text) { return sanitize(text, 0); }

char *df_vformat_clean(size_t max, const char *fmt, va_list ap)
{
	char *raw = NULL;
	if (vasprintf(&raw, fmt, ap) < 0)
		return NULL;
	df_redact(raw, strlen(raw) + 1);
	char *clean = sanitize(raw, max);
	free(raw);
	return clean;
}

char *df_format_clean(size_t max, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = df_vformat_clean(max, fmt, ap);
	va_end(ap);
	return s;
}

void df_copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (cap == 0)
		return;
	if (n < cap) {
		memcpy(dst, src, n + 1);
		return;
	}
	static const char more[] = "...";
	n = cap > sizeof more ? cap - sizeof more : 0;
	/* Never cut a UTF-8 character or a "\xNN" escape in two. */
	while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
		n--;
	for (size_t k = 1; k <= 5 && k <= n; k++) {
		char e = src[n - k + 1];
		if (src[n - k] == '\\' && ((e == 'x' && k <= 3) || e == 'u')) {
			n -= k;
			break;
		}
	}
	memcpy(dst, src, n);
	snprintf(dst + n, cap - n, "%s", more);
}

void df_vlog(int level, const char *who, const char *fmt, va_list ap)
{
	if (level > df_log_level())
		return;
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	/* Mask and clean the whole message, then cut: cutting first could
	 * leave the start of a secret that no longer matches. */
	char *msg = df_vformat_clean(DF_LOG_LINE_MAX, fmt, ap);

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	const char *text = msg ? msg : "(out of memory formatting a log line)";
	char *json = NULL;
	if (__atomic_load_n(&log_json, __ATOMIC_RELAXED)) {
		char t[40];
		snprintf(t, sizeof t, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
		/* The text is masked and cleaned already; jansson escapes it. */
		json_t *o = json_pack("{s:s, s:s, s:s?, s:s}", "time", t, "level",
				      level_names[level], "who", who, "msg", text);
		json = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	pthread_mutex_lock(&log_mu);
	if (json)
		fprintf(stderr, "%s\n", json);
	else
		fprintf(stderr, "%s.%03ldZ %-5s %s%s%s\n", stamp, ts.tv_nsec / 1000000,
			level_names[level], who ? who : "", who ? ": " : "", text);
	pthread_mutex_unlock(&log_mu);
	free(json);
	free(msg);
}

void df_log(int level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	df_vlog(level, who, fmt, ap);
	va_end(ap);
}
