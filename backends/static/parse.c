/*
 * The placements file parser. Written by hand rather than with inih: the
 * format is small (sections; `addresses`, `hostname`, `names` and
 * `record.KEY` keys; comments; indented continuation lines as inih reads
 * them), and inih's fixed buffers cut
 * long section names and split long lines, which shifted line numbers
 * and lost keys. Every mistake is one line, "FILE:LINE: message", and a
 * file is right as a whole or not at all: duplicate sections or keys are
 * refused instead of merged.
 */
#include "static.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CONT_NONE, CONT_ADDRS, CONT_NAMES };

struct ps {
	struct sb_table *t;
	const char *file;
	int line;
	long cur;  /* index of the current section, -1 before the first */
	int cont;  /* what an indented line continues: CONT_* */
	sb_name_fn norm;
};

static int fail(struct ps *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ps *p, int rc, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->t->err, sizeof p->t->err, "%s:%d: %s", p->file, p->line, msg);
	return rc;
}

/* A bounded copy of file text for a message: control bytes (escape
 * sequences) must not reach a terminal or a log. */
static const char *shown(const char *s, char *buf, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 4 < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	snprintf(buf + i, n - i, "%s", s[i] ? "..." : "");
	return buf;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Inline comments, as inih reads them: ';' or '#' after a blank. */
static void cut_comment(char *s)
{
	for (char *c = s; *c; c++)
		if ((*c == ';' || *c == '#') && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			return;
		}
}

static int push_section(struct ps *p, const char *name)
{
	struct sb_table *t = p->t;
	if (t->nsec == t->capsec) {
		size_t cap = t->capsec ? t->capsec * 2 : 16;
		struct sb_section *v = realloc(t->sec, cap * sizeof *v);
		if (!v)
			return fail(p, -ENOMEM, "out of memory");
		t->sec = v;
		t->capsec = cap;
	}
	struct sb_section *s = &t->sec[t->nsec];
	*s = (struct sb_section){.name = strdup(name), .line = p->line,
				 .first = t->naddrs};
	if (!s->name)
		return fail(p, -ENOMEM, "out of memory");
	p->cur = (long)t->nsec++;
	return 0;
}

static int push_addr(struct ps *p, const char *a)
{
	struct sb_table *t = p->t;
	if (t->naddrs == t->capaddrs) {
		size_t cap = t->capaddrs ? t->capaddrs * 2 : 16;
		char **v = realloc(t->addrs, cap * sizeof *v);
		if (!v)
			return fail(p, -ENOMEM, "out of memory");
		t->addrs = v;
		t->capaddrs = cap;
	}
	if (!(t->addrs[t->naddrs] = strdup(a)))
		return fail(p, -ENOMEM, "out of memory");
	t->naddrs++;
	t->sec[p->cur].count++;
	return 0;
}

/* Check every address of a list and keep it. */
static int add_list(struct ps *p, char *value)
{
	char *save = NULL, b1[80], b2[80];
	const char *name = p->t->sec[p->cur].name;
	for (char *a = strtok_r(value, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
		unsigned char bin[16];
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
			return fail(p, -EINVAL, "[%s]: '%s' is not an IP address",
				    shown(name, b1, sizeof b1), shown(a, b2, sizeof b2));
		if (p->t->sec[p->cur].count == SB_MAX_ADDRS)
			return fail(p, -EINVAL, "[%s]: more than %d addresses",
				    shown(name, b1, sizeof b1), SB_MAX_ADDRS);
		int rc = push_addr(p, a);
		if (rc)
			return rc;
	}
	return 0;
}

/* Room for one more item of `size` bytes in *v (n used of *cap). */
static int grow(struct ps *p, void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 4;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return fail(p, -ENOMEM, "out of memory");
	*v = nv;
	*cap = c;
	return 0;
}

/* Names of a `names =` list, kept as written: the core checks them as it
 * checks a Swarm label's (the static file stands in for labels). */
static int add_names(struct ps *p, char *value)
{
	char *save = NULL, b1[80], b2[80];
	struct sb_section *sec = &p->t->sec[p->cur];
	for (char *a = strtok_r(value, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
		for (size_t i = 0; i < sec->nnames; i++)
			if (strcasecmp(sec->names[i], a) == 0)
				return fail(p, -EINVAL, "[%s]: name '%s' listed twice",
					    shown(sec->name, b1, sizeof b1), shown(a, b2, sizeof b2));
		if (sec->nnames == SB_MAX_NAMES)
			return fail(p, -EINVAL, "[%s]: more than %d names",
				    shown(sec->name, b1, sizeof b1), SB_MAX_NAMES);
		int rc = grow(p, (void **)&sec->names, &sec->capnames, sec->nnames,
			      sizeof *sec->names);
		if (rc)
			return rc;
		if (!(sec->names[sec->nnames] = strdup(a)))
			return fail(p, -ENOMEM, "out of memory");
		sec->nnames++;
	}
	return 0;
}

static int set_names(struct ps *p, struct sb_section *sec, char *value)
{
	char b[80];
	if (sec->names_line)
		return fail(p, -EINVAL, "[%s]: duplicate key 'names' (first at line %d)",
			    shown(sec->name, b, sizeof b), sec->names_line);
	sec->names_line = p->line;
	p->cont = CONT_NAMES;
	return add_names(p, value);
}

/* `record.KEY = VALUE`: only the KEY's syntax is checked here; which keys
 * and values are right is the core's to say, for labels and files alike. */
static int set_rkey(struct ps *p, struct sb_section *sec, const char *key,
		    const char *value)
{
	char b1[80], b2[80];
	const char *k = key + strlen("record.");
	size_t n = strlen(k);
	p->cont = CONT_NONE;
	if (n == 0 || n > SB_MAX_RKEY ||
	    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return fail(p, -EINVAL,
			    "[%s]: bad key '%s' (record.KEY: KEY is 1-%d of a-z 0-9 _ . -)",
			    shown(sec->name, b1, sizeof b1), shown(key, b2, sizeof b2),
			    SB_MAX_RKEY);
	for (size_t i = 0; i < sec->nrkeys; i++)
		if (strcmp(sec->rkeys[i].key, k) == 0)
			return fail(p, -EINVAL, "[%s]: duplicate key 'record.%s' (first at line %d)",
				    shown(sec->name, b1, sizeof b1), k, sec->rkeys[i].line);
	if (sec->nrkeys == SB_MAX_RKEYS)
		return fail(p, -EINVAL, "[%s]: more than %d record.KEY lines",
			    shown(sec->name, b1, sizeof b1), SB_MAX_RKEYS);
	int rc = grow(p, (void **)&sec->rkeys, &sec->caprkeys, sec->nrkeys, sizeof *sec->rkeys);
	if (rc)
		return rc;
	struct sb_rkey *r = &sec->rkeys[sec->nrkeys];
	*r = (struct sb_rkey){.key = strdup(k), .value = strdup(value), .line = p->line};
	sec->nrkeys++; /* counted even half made: sb_clear() frees it */
	if (!r->key || !r->value)
		return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int on_header(struct ps *p, char *s)
{
	char *close = strchr(s, ']');
	if (!close)
		return fail(p, -EINVAL, "section header without ']'");
	*close = '\0';
	if (*trim(close + 1))
		return fail(p, -EINVAL, "text after ']' of a section header");
	char *name = trim(s + 1);
	if (!*name)
		return fail(p, -EINVAL, "empty section name []");
	if (strlen(name) > SB_MAX_NAME)
		return fail(p, -EINVAL, "section name longer than %d bytes", SB_MAX_NAME);
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(p, -EINVAL, "control character in a section name");
	p->cont = CONT_NONE;
	return push_section(p, name);
}

/* `hostname = NAME`: the node's DNS name, the target of CNAME records. */
static int set_hostname(struct ps *p, struct sb_section *sec, const char *value)
{
	char b1[80], b2[80], norm[256];
	if (sec->host_line)
		return fail(p, -EINVAL, "[%s]: duplicate key 'hostname' (first at line %d)",
			    shown(sec->name, b1, sizeof b1), sec->host_line);
	sec->host_line = p->line;
	p->cont = CONT_NONE;
	/* The root ("" or ".") is a valid name but no host's. */
	if (p->norm(value, norm, sizeof norm) != 0 || !norm[0])
		return fail(p, -EINVAL, "[%s]: hostname '%s' is not a DNS name",
			    shown(sec->name, b1, sizeof b1), shown(value, b2, sizeof b2));
	if (!(sec->hostname = strdup(norm)))
		return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int on_key(struct ps *p, char *s)
{
	char b1[80], b2[80];
	char *sep = s + strcspn(s, "=:");
	if (!*sep)
		return fail(p, -EINVAL,
			    "syntax error: expected [SERVICE] or KEY = VALUE");
	*sep = '\0';
	char *key = trim(s), *value = trim(sep + 1);
	if (p->cur < 0)
		return fail(p, -EINVAL, "'%s' before any [SERVICE] section",
			    shown(key, b1, sizeof b1));
	struct sb_section *sec = &p->t->sec[p->cur];
	if (strcmp(key, "hostname") == 0)
		return set_hostname(p, sec, value);
	if (strcmp(key, "names") == 0)
		return set_names(p, sec, value);
	if (strncmp(key, "record.", strlen("record.")) == 0)
		return set_rkey(p, sec, key, value);
	if (strcmp(key, "addresses") != 0)
		return fail(p, -EINVAL,
			    "[%s]: unknown key '%s' (allowed: addresses, hostname, names, record.KEY)",
			    shown(sec->name, b1, sizeof b1), shown(key, b2, sizeof b2));
	if (sec->key_line)
		return fail(p, -EINVAL, "[%s]: duplicate key 'addresses' (first at line %d)",
			    shown(sec->name, b1, sizeof b1), sec->key_line);
	sec->key_line = p->line;
	p->cont = CONT_ADDRS;
	return add_list(p, value);
}

static int on_line(struct ps *p, char *line)
{
	char *s = line;
	while (*s == ' ' || *s == '\t')
		s++;
	int indented = s > line;
	if (*s == ';' || *s == '#')
		return 0;
	cut_comment(s);
	s = trim(s);
	if (!*s)
		return 0; /* a blank line does not end a continuation (inih) */
	if (*s == '[')
		return on_header(p, s);
	if (indented && p->cont)
		return p->cont == CONT_NAMES ? add_names(p, s) : add_list(p, s);
	return on_key(p, s);
}

static int by_name(const void *a, const void *b)
{
	const struct sb_section *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sort the sections; refuse duplicates and sections with neither
 * addresses nor hostname, reporting the earliest offending line. */
static int finish(struct ps *p)
{
	struct sb_table *t = p->t;
	char b[80];
	if (t->nsec)
		qsort(t->sec, t->nsec, sizeof *t->sec, by_name);
	const struct sb_section *dup = NULL, *first = NULL, *bare = NULL;
	for (size_t i = 0, run = 0; i < t->nsec; i++) {
		if (i && strcmp(t->sec[i - 1].name, t->sec[i].name) == 0) {
			if (i == run + 1 && (!dup || t->sec[i].line < dup->line)) {
				dup = &t->sec[i];
				first = &t->sec[run];
			}
		} else {
			run = i;
		}
		if (!t->sec[i].key_line && !t->sec[i].host_line &&
		    (!bare || t->sec[i].line < bare->line))
			bare = &t->sec[i];
	}
	if (dup) {
		p->line = dup->line;
		return fail(p, -EINVAL, "duplicate section [%s] (first at line %d)",
			    shown(dup->name, b, sizeof b), first->line);
	}
	if (bare) {
		p->line = bare->line;
		return fail(p, -EINVAL,
			    "[%s] has no addresses or hostname line (write 'addresses =' for a "
			    "service that runs nowhere)",
			    shown(bare->name, b, sizeof b));
	}
	return 0;
}

int sb_parse(struct sb_table *t, const char *file, const char *data, size_t len,
	     sb_name_fn norm)
{
	struct ps p = {.t = t, .file = file, .cur = -1, .norm = norm};
	/* No line is longer than the file, nor than the limit. */
	char *buf = malloc((len < SB_MAX_LINE ? len : SB_MAX_LINE) + 1);
	if (!buf)
		return fail(&p, -ENOMEM, "out of memory");
	const char *s = data, *end = data + len;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a UTF-8 byte order mark, as some editors write */
	int rc = 0;
	while (rc == 0 && s < end) {
		p.line++;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		if (n > SB_MAX_LINE)
			rc = fail(&p, -EINVAL, "line longer than %d bytes", SB_MAX_LINE);
		else if (memchr(s, '\0', n))
			rc = fail(&p, -EINVAL, "contains a NUL byte; not a text file");
		else {
			memcpy(buf, s, n);
			buf[n] = '\0';
			rc = on_line(&p, buf);
		}
		s = nl ? nl + 1 : end;
	}
	free(buf);
	return rc ? rc : finish(&p);
}

const struct sb_section *sb_find(const struct sb_table *t, const char *service)
{
	size_t lo = 0, hi = t->nsec;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->sec[mid].name, service) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nsec && strcmp(t->sec[lo].name, service) == 0 ? &t->sec[lo] : NULL;
}

void sb_clear(struct sb_table *t)
{
	for (size_t i = 0; i < t->nsec; i++) {
		free(t->sec[i].name);
		free(t->sec[i].hostname);
		for (size_t j = 0; j < t->sec[i].nnames; j++)
			free(t->sec[i].names[j]);
		free(t->sec[i].names);
		for (size_t j = 0; j < t->sec[i].nrkeys; j++) {
			free(t->sec[i].rkeys[j].key);
			free(t->sec[i].rkeys[j].value);
		}
		free(t->sec[i].rkeys);
	}
	for (size_t i = 0; i < t->naddrs; i++)
		free(t->addrs[i]);
	free(t->sec);
	free(t->addrs);
	memset(t, 0, sizeof *t);
}
