/*
 * Typed configuration keys (ABI 2): a value judged by its key's declared
 * type, a plugin's declarations checked at load time, and a key described
 * for --list-plugins. The core's own keys go through the same code, so
 * there is one validator and one wording of every error.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Bounds on what a plugin may declare: a list without its END entry
 * must not be walked forever. */
#define MAX_KEYS 256
#define MAX_WORDS 64
#define MAX_NAME 64

static const char *const type_names[] = {
	"string", "uint", "bool", "duration", "enum", "path", "secret",
};

static const char *type_name(uint32_t t)
{
	return t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

/* Append to buf[len] at *used; never writes past the end. */
__attribute__((format(printf, 4, 5))) static void
add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	if (*used >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	*used = n < 0 ? len : *used + (size_t)n;
}

/* Decimal digits only (no sign, no blank), without overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
#define NUNITS (sizeof units / sizeof units[0])

/* "30" (seconds), "30s", "500ms", "5m", "2h" → milliseconds. */
static int parse_duration(const char *s, uint64_t *ms)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v, mul = 1000;
	if (parse_u64(s, n, &v) != 0)
		return -1;
	if (s[n]) {
		mul = 0;
		for (size_t i = 0; i < NUNITS; i++)
			if (strcasecmp(s + n, units[i].suffix) == 0)
				mul = units[i].ms;
		if (!mul)
			return -1;
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*ms = v * mul;
	return 0;
}

/* The largest unit that divides exactly: 90000 → "90s", 300000 → "5m". */
static void format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t u = 0;
	for (size_t i = NUNITS; i-- > 0;)
		if (ms % units[i].ms == 0) {
			u = i;
			break;
		}
	if (ms == 0)
		u = 1;
	snprintf(buf, len, "%" PRIu64 "%s", ms / units[u].ms, units[u].suffix);
}

/* "a, b or c" (sep ", ", last " or "), or "a|b|c". */
static void word_list(const char *const *v, const char *sep,
		      const char *last_sep, char *buf, size_t len)
{
	size_t n = 0, used = 0;
	while (v && v[n] && n < MAX_WORDS)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		add(buf, len, &used, "%s%s",
		    i == 0 ? "" : i + 1 == n ? last_sep : sep, v[i]);
}

/* A bound of an UINT (a number) or DURATION ("90s"). */
static void bound_text(const struct dnsfollow_key *k, uint64_t v, char *buf,
		       size_t len)
{
	if (k->type == DNSFOLLOW_T_DURATION)
		format_duration(v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* The bounds of an UINT or DURATION, as words: " from 1 to 20". */
static void bounds(const struct dnsfollow_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	bound_text(k, k->min, lo, sizeof lo);
	bound_text(k, k->max, hi, sizeof hi);
	if (k->max)
		snprintf(buf, len, " from %s to %s", lo, hi);
	else if (k->min)
		snprintf(buf, len, " of at least %s", lo);
	else
		buf[0] = '\0';
}

/* What a value of `k` must be, after "KEY must be ". */
static void must_be(const struct dnsfollow_key *k, char *buf, size_t len)
{
	char b[96];
	switch (k->type) {
	case DNSFOLLOW_T_UINT:
		bounds(k, b, sizeof b);
		snprintf(buf, len, "a whole number%s", b);
		break;
	case DNSFOLLOW_T_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case DNSFOLLOW_T_DURATION:
		bounds(k, b, sizeof b);
		snprintf(buf, len, "a duration%s (such as 30s, 500ms, 5m or 2h; a bare number is seconds)",
			 b);
		break;
	case DNSFOLLOW_T_ENUM:
		word_list(k->values, ", ", " or ", buf, len);
		break;
	default:
		snprintf(buf, len, "text");
	}
}

static int in_bounds(const struct dnsfollow_key *k, uint64_t v)
{
	return v >= k->min && (k->max == 0 || v <= k->max);
}

/* Number and canonical text of a UINT, BOOL, DURATION or ENUM value;
 * -1 when it is none of them. */
static int parse_typed(const struct dnsfollow_key *k, const char *text,
		       uint64_t *num, char *canon, size_t len)
{
	int b;
	switch (k->type) {
	case DNSFOLLOW_T_UINT:
		if (parse_u64(text, strlen(text), num) != 0 || !in_bounds(k, *num))
			return -1;
		snprintf(canon, len, "%" PRIu64, *num);
		return 0;
	case DNSFOLLOW_T_BOOL:
		if ((b = df_parse_bool(text)) < 0)
			return -1;
		*num = (uint64_t)b;
		snprintf(canon, len, "%s", b ? "yes" : "no");
		return 0;
	case DNSFOLLOW_T_DURATION:
		if (parse_duration(text, num) != 0 || !in_bounds(k, *num))
			return -1;
		format_duration(*num, canon, len);
		return 0;
	case DNSFOLLOW_T_ENUM:
		for (size_t i = 0; k->values && k->values[i] && i < MAX_WORDS; i++)
			if (strcasecmp(text, k->values[i]) == 0) {
				*num = i;
				snprintf(canon, len, "%s", k->values[i]);
				return 0;
			}
		return -1;
	default:
		return -1;
	}
}

int df_key_parse(const struct dnsfollow_key *k, const char *name,
		 const char *text, uint64_t *num, char **canon, char *msg,
		 size_t len)
{
	char c[64], what[512];
	*num = 0;
	*canon = NULL;
	switch (k->type) {
	case DNSFOLLOW_T_SECRET:
		/* A secret goes into headers and signatures: a line break
		 * from a two-line KEY_file would end a header early. */
		for (const char *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				snprintf(msg, len, "%s holds a control character (a line break?); a secret is one line",
					 name);
				return -1;
			}
		*canon = df_strdup(text);
		return 0;
	case DNSFOLLOW_T_STRING:
	case DNSFOLLOW_T_PATH:
		*canon = df_strdup(text);
		return 0;
	default:
		break;
	}
	if (parse_typed(k, text, num, c, sizeof c) == 0) {
		*canon = df_strdup(c);
		return 0;
	}
	*num = 0;
	must_be(k, what, sizeof what);
	/* Enough of the value to recognise it; the line number does the rest. */
	snprintf(msg, len, "%s must be %s, not '%.120s%s'", name, what, text,
		 strlen(text) > 120 ? "..." : "");
	return -1;
}

/* 1..MAX_NAME of [a-z0-9_.-], optionally ending in ".*": the INI reader
 * lower-cases keys, so a capital could never match. */
static int valid_key_name(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && strcmp(s + n - 2, ".*") == 0)
		n -= 2;
	if (n == 0 || n > MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static int check_words(const struct dnsfollow_key *k, char *err, size_t len)
{
	size_t n = 0;
	if (!k->values || !k->values[0]) {
		snprintf(err, len, "enum key '%s' lists no values", k->name);
		return -1;
	}
	for (; k->values[n]; n++)
		if (n >= MAX_WORDS || !*k->values[n]) {
			snprintf(err, len, "enum key '%s': %s", k->name,
				 n >= MAX_WORDS ? "more than 64 values (NULL missing?)"
						: "an empty value");
			return -1;
		}
	return 0;
}

static int check_default(const struct dnsfollow_key *k, const char *what,
			 char *err, size_t len)
{
	char msg[512], *canon;
	uint64_t num;
	if (!k->def)
		return 0;
	if (k->type == DNSFOLLOW_T_SECRET) {
		snprintf(err, len, "%s '%s' is a secret with a default (a default is public)",
			 what, k->name);
		return -1;
	}
	if ((k->type == DNSFOLLOW_T_PATH || (k->flags & DNSFOLLOW_KEY_REQUIRED)) &&
	    !*k->def) {
		snprintf(err, len, "%s '%s' has an empty default", what, k->name);
		return -1;
	}
	if (df_key_parse(k, k->name, k->def, &num, &canon, msg, sizeof msg) != 0) {
		snprintf(err, len, "%s '%s' has a bad default: %s", what, k->name, msg);
		return -1;
	}
	free(canon);
	return 0;
}

static int check_key(const struct dnsfollow_key *k, const char *what,
		     char *err, size_t len)
{
	const uint32_t known = DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_MULTI;
	if (!valid_key_name(k->name)) {
		snprintf(err, len, "%s '%.80s' is not a valid key name (lower-case letters, digits, '_', '-', '.')",
			 what, k->name);
		return -1;
	}
	if (k->type > DNSFOLLOW_T_SECRET) {
		snprintf(err, len, "%s '%s' has unknown type %u", what, k->name,
			 k->type);
		return -1;
	}
	if (k->flags & ~known) {
		snprintf(err, len, "%s '%s' has unknown flags 0x%x (in ABI 2 path and secret are types)",
			 what, k->name, k->flags & ~known);
		return -1;
	}
	if (k->type == DNSFOLLOW_T_ENUM && check_words(k, err, len) != 0)
		return -1;
	if (k->max && k->min > k->max) {
		snprintf(err, len, "%s '%s' has min %" PRIu64 " above max %" PRIu64,
			 what, k->name, k->min, k->max);
		return -1;
	}
	return check_default(k, what, err, len);
}

int df_keys_check(const struct dnsfollow_key *keys, const char *what,
		  char *err, size_t len)
{
	for (size_t i = 0; keys && keys[i].name; i++) {
		if (i >= MAX_KEYS) {
			snprintf(err, len, "more than %d %ss (is DNSFOLLOW_KEY_END missing?)",
				 MAX_KEYS, what);
			return -1;
		}
		if (check_key(&keys[i], what, err, len) != 0)
			return -1;
	}
	return 0;
}

void df_key_describe(const struct dnsfollow_key *k, char *buf, size_t len)
{
	size_t used = 0;
	char b[160];
	add(buf, len, &used, "%s", type_name(k->type));
	if (k->type == DNSFOLLOW_T_ENUM) {
		word_list(k->values, "|", "|", b, sizeof b);
		add(buf, len, &used, " %s", b);
	} else if ((k->type == DNSFOLLOW_T_UINT || k->type == DNSFOLLOW_T_DURATION) &&
		   (k->min || k->max)) {
		char lo[32], hi[32] = "";
		bound_text(k, k->min, lo, sizeof lo);
		if (k->max)
			bound_text(k, k->max, hi, sizeof hi);
		add(buf, len, &used, " %s..%s", lo, hi);
	}
	if (k->def)
		add(buf, len, &used, " = %s", *k->def ? k->def : "\"\"");
	if (k->flags & DNSFOLLOW_KEY_REQUIRED)
		add(buf, len, &used, ", required");
	if (k->flags & DNSFOLLOW_KEY_MULTI)
		add(buf, len, &used, ", repeatable");
}
