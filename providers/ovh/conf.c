/*
 * python-ovh's ovh.conf, read the way its configparser reads it, or
 * refused with one line FILE:LINE: reason where configparser would refuse
 * it or where inih alone would read something else:
 *
 *   - a section or a key given twice in one file is an error (configparser
 *     is strict by default), not the last value silently winning;
 *   - section names of any length (Debian's libinih keeps 50 bytes of
 *     them, so a longer name would hand its keys to a cut-off section);
 *   - a key before the first [section] is refused (configparser's
 *     MissingSectionHeaderError; inih would file it under "");
 *   - a value continued on an indented line is refused: inih would keep
 *     the last line only, configparser joins them with a newline, and
 *     neither makes a working key or secret;
 *   - the file comes through host->read_file(): regular files only (a FIFO
 *     does not hang us), bounded, no NUL byte, a warning when others can
 *     read it.
 *
 * inih still does the INI syntax; a reader of our own feeds it the lines
 * and tells the handler which line and which full section it is on.
 */
#include "ovh.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#define CONF_MAX (64u * 1024u) /* a real ovh.conf is a few hundred bytes */

/* Feeds inih one line at a time and remembers where it is. */
struct feed {
	struct ovh_conf *c;
	const char *p, *end;
	int line;
	const char *raw; /* the current line as in the file */
	char *section;   /* the current section, whole */
	char *last_key;  /* the last key of that section, for continuations */
	int err_line;    /* first error: its line and text */
	char err[256];
};

__attribute__((format(printf, 3, 4)))
static void fail(struct feed *f, int line, const char *fmt, ...)
{
	if (f->err_line)
		return;
	f->err_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof f->err, fmt, ap);
	va_end(ap);
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Line numbers of the sections seen so far live in c->sline. */
static void section_header(struct feed *f, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	if (!close)
		return; /* inih reports it */
	char *name = strndup(s + 1, (size_t)(close - s - 1));
	if (!name) {
		f->c->oom = 1;
		return;
	}
	for (size_t i = 0; i < f->c->nsec; i++)
		if (strcmp(f->c->secs[i], name) == 0)
			fail(f, f->line, "section [%s] given twice (first on line "
			     "%d)", name, f->c->sline[i]);
	char **v = realloc(f->c->secs, (f->c->nsec + 1) * sizeof *v);
	int *l = realloc(f->c->sline, (f->c->nsec + 1) * sizeof *l);
	if (v)
		f->c->secs = v;
	if (l)
		f->c->sline = l;
	if (!v || !l || !(v[f->c->nsec] = strdup(name))) {
		f->c->oom = 1;
		free(name);
		return;
	}
	l[f->c->nsec++] = f->line;
	free(f->section);
	f->section = name;
	free(f->last_key);
	f->last_key = NULL;
}

/* inih's reader: the next line into str (at most num - 1 bytes). */
static char *next_line(char *str, int num, void *stream)
{
	struct feed *f = stream;
	if (f->p >= f->end)
		return NULL;
	const char *nl = memchr(f->p, '\n', (size_t)(f->end - f->p));
	size_t len = nl ? (size_t)(nl - f->p) + 1 : (size_t)(f->end - f->p);
	f->raw = f->p;
	f->line++;
	f->p += len;
	if (f->line == 1 && len >= 3 && memcmp(f->raw, "\xef\xbb\xbf", 3) == 0) {
		f->raw += 3; /* a UTF-8 BOM: not part of the first line */
		len -= 3;
	}
	if (num < 2 || len > (size_t)num - 1) {
		fail(f, f->line, "line longer than %d bytes", num - 2);
		len = 0; /* an empty line: nothing for inih to misread */
	}
	memcpy(str, f->raw, len);
	str[len] = '\0';
	const char *s = str;
	while (is_blank(*s))
		s++;
	if (*s == '[')
		section_header(f, s, len - (size_t)(s - str));
	return str;
}

static int conf_add(void *user, const char *section, const char *name,
		    const char *value)
{
	struct feed *f = user;
	struct ovh_conf *c = f->c;
	(void)section; /* possibly cut: f->section is the whole name */
	if (!f->section) { /* configparser: MissingSectionHeaderError */
		fail(f, f->line, "key \"%s\" comes before any [section]; "
		     "python-ovh refuses it: put it under [default] or "
		     "[ENDPOINT]", name);
		return 1;
	}
	const char *sec = f->section;
	if (is_blank(f->raw[0]) && f->last_key) {
		fail(f, f->line, "the value of \"%s\" goes on over an indented "
		     "line; write it on one line", f->last_key);
		return 1;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0 && strcasecmp(c->key[i], name) == 0)
			fail(f, f->line, "key \"%s\" given twice in its section "
			     "(first on line %d)", name, c->line[i]);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **s = realloc(c->sec, cap * sizeof *s);
		if (s)
			c->sec = s;
		char **k = realloc(c->key, cap * sizeof *k);
		if (k)
			c->key = k;
		char **v = realloc(c->val, cap * sizeof *v);
		if (v)
			c->val = v;
		int *l = realloc(c->line, cap * sizeof *l);
		if (l)
			c->line = l;
		if (!s || !k || !v || !l) {
			c->oom = 1;
			return 0;
		}
		c->cap = cap;
	}
	c->sec[c->n] = strdup(sec);
	c->key[c->n] = strdup(name);
	c->val[c->n] = strdup(value ? value : "");
	c->line[c->n] = f->line;
	c->n++;
	free(f->last_key);
	f->last_key = strdup(name);
	if (!c->sec[c->n - 1] || !c->key[c->n - 1] || !c->val[c->n - 1] ||
	    !f->last_key)
		c->oom = 1;
	return 1;
}

void ovh_conf_free(struct ovh_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->sec[i]);
		free(c->key[i]);
		free(c->val[i]);
	}
	for (size_t i = 0; i < c->nsec; i++)
		free(c->secs[i]);
	free(c->sec);
	free(c->key);
	free(c->val);
	free(c->line);
	free(c->secs);
	free(c->sline);
	memset(c, 0, sizeof *c);
}

int ovh_conf_parse(const char *path, const char *text, size_t len,
		   struct ovh_conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	struct feed f = {.c = c, .p = text, .end = text + len};
	const char *nul = memchr(text, '\0', len);
	int line = nul ? 0 : ini_parse_stream(next_line, &f, conf_add, &f);
	free(f.section);
	free(f.last_key);
	int rc = 0;
	if (c->oom) {
		snprintf(err, errlen, "out of memory reading %s", path);
		rc = -ENOMEM;
	} else if (nul) {
		int at = 1;
		for (const char *p = text; p < nul; p++)
			at += *p == '\n';
		snprintf(err, errlen, "%s:%d: contains a NUL byte; not a text "
			 "file", path, at);
		rc = -EINVAL;
	} else if (line != 0 && (!f.err_line || line < f.err_line)) {
		snprintf(err, errlen, "%s:%d: not in ovh.conf (INI) format",
			 path, line);
		rc = -EINVAL;
	} else if (f.err_line) {
		snprintf(err, errlen, "%s:%d: %s", path, f.err_line, f.err);
		rc = -EINVAL;
	}
	if (rc != 0)
		ovh_conf_free(c);
	return rc;
}

/* For a host without read_file (older cores, and the unit tests' NULL
 * host): regular files only, bounded. */
static int read_plain(const char *path, char **data, size_t *len, char *err,
		      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	int rc = fd < 0 || fstat(fd, &st) != 0 ? -errno : 0;
	if (rc != 0)
		snprintf(err, errlen, "cannot read credentials file %s: %s",
			 path, strerror(-rc));
	else if (!S_ISREG(st.st_mode) || (size_t)st.st_size > CONF_MAX)
		rc = -EINVAL;
	else if (!(*data = malloc(CONF_MAX + 1)))
		rc = -ENOMEM;
	ssize_t n = rc == 0 ? read(fd, *data, CONF_MAX) : -1;
	if (fd >= 0)
		close(fd);
	if (rc == -EINVAL)
		snprintf(err, errlen, "credentials file %s is not a regular "
			 "file of at most %u bytes", path, CONF_MAX);
	if (rc == 0 && n < 0) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read credentials file %s", path);
	}
	if (rc != 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		free(*data);
		*data = NULL;
		return rc;
	}
	(*data)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int ovh_conf_load(const struct dnsfollow_host *h, const char *path,
		  struct ovh_conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	err[0] = '\0';
	struct stat st;
	if (stat(path, &st) != 0 && errno == ENOENT)
		return -ENOENT; /* the search list's usual case: no error set */
	char *data = NULL;
	size_t len = 0;
	int rc;
	if (h && DNSFOLLOW_HOST_HAS(h, read_file))
		/* On failure the host has set the error text: err stays "". */
		rc = h->read_file(h, path, CONF_MAX,
				  DNSFOLLOW_READ_TEXT | DNSFOLLOW_READ_SECRET,
				  &data, &len);
	else
		rc = read_plain(path, &data, &len, err, errlen);
	if (rc == 0)
		rc = ovh_conf_parse(path, data, len, c, err, errlen);
	free(data);
	return rc == -ENOENT ? -EIO : rc; /* gone since stat(): not "absent" */
}

/* Last value wins inside one file (duplicates are refused anyway). Keys
 * are case-insensitive there, section names are not. */
const char *ovh_conf_get(const struct ovh_conf *c, const char *sec,
			 const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0 &&
		    strcasecmp(c->key[i], key) == 0)
			v = c->val[i];
	return v;
}

/* A section counts when it holds a key: an empty one is no reason not
 * to look elsewhere. */
int ovh_conf_has_section(const struct ovh_conf *c, const char *sec)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0)
			return 1;
	return 0;
}

/* Line of the value ovh_conf_get() returns, or with key NULL of the
 * [sec] header; 0 when there is none. */
int ovh_conf_line(const struct ovh_conf *c, const char *sec, const char *key)
{
	int line = 0;
	if (!key) {
		for (size_t i = 0; i < c->nsec; i++)
			if (strcmp(c->secs[i], sec) == 0)
				return c->sline[i];
		return 0;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0 &&
		    strcasecmp(c->key[i], key) == 0)
			line = c->line[i];
	return line;
}
