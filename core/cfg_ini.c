/*
 * Reading the configuration's INI text. The file is read whole (regular
 * files only, bounded, no NUL byte) and fed to the system libinih one line
 * at a time by our own reader, which:
 *  - counts lines (libinih's handler gets none) and skips a UTF-8 BOM;
 *  - reports every malformed line itself (libinih returns only the first)
 *    and hands libinih an empty line instead;
 *  - replaces each section header by a short alias "[#N]" (N = index in
 *    cfg->sections): Debian's libinih keeps section names in a 50-byte
 *    buffer, and record names may be 253 characters long;
 *  - hands libinih only "KEY=" for a line too long for its line buffer
 *    and keeps the value aside, so a line has no length limit but the
 *    file's.
 */
#include "cfg_int.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "util.h"

/* Largest configuration file: far above any real one (a thousand
 * records are ~100 kB), small enough to read whole. */
#define MAX_CONFIG (16u << 20)
/* libinih's line buffer; longer lines take the aliased path above. */
#define INI_LINE 8192

struct parse_state {
	struct df_config *cfg;
	const char *pos, *end; /* unread part of the text */
	int line;
	char *scratch; /* the current line, NUL-terminated */
	size_t scratch_cap;
	char *long_value; /* value of the current line when kept aside */
	/* Section headers hashed to index + 1 (open addressing), so huge
	 * configs parse in linear time. */
	size_t *slots;
	size_t nslots;
};

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static ssize_t find_section(struct parse_state *ps, const char *header)
{
	if (!ps->nslots)
		return -1;
	for (size_t i = hash_str(header) & (ps->nslots - 1);; i = (i + 1) & (ps->nslots - 1)) {
		size_t v = ps->slots[i];
		if (!v)
			return -1;
		if (strcmp(ps->cfg->sections[v - 1].header, header) == 0)
			return (ssize_t)(v - 1);
	}
}

static void index_section(struct parse_state *ps, size_t idx)
{
	if ((idx + 1) * 2 > ps->nslots) {
		size_t n = ps->nslots ? ps->nslots * 2 : 64;
		free(ps->slots);
		ps->slots = df_xcalloc(n, sizeof *ps->slots);
		ps->nslots = n;
		for (size_t i = 0; i < idx; i++)
			index_section(ps, i);
	}
	size_t i = hash_str(ps->cfg->sections[idx].header) & (ps->nslots - 1);
	while (ps->slots[i])
		i = (i + 1) & (ps->nslots - 1);
	ps->slots[i] = idx + 1;
}

int df_cfg_valid_token(const char *s, size_t max)
{
	if (!*s || strlen(s) > max)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' ||
		      *s == '.'))
			return 0;
	return 1;
}

static enum df_sect_kind classify_record(struct df_config *cfg,
					 const struct df_section *s,
					 const char *name)
{
	char *n = NULL;
	enum df_sect_kind k = S_BAD;
	if (df_name_normalise(name, &n) != 0)
		df_cfg_error(cfg, s->line, "[%s]: '%s' is not a valid DNS name",
			     s->header, name);
	else if (strlen(n) + sizeof "_dnsfollow." > 254)
		df_cfg_error(cfg, s->line,
			     "[%s]: name too long to carry its _dnsfollow ownership record",
			     s->header);
	else
		k = S_RECORD;
	free(n);
	return k;
}

static void classify(struct df_config *cfg, struct df_section *s)
{
	char *h = df_strdup(s->header);
	char *word = h;
	char *rest = word + strcspn(word, " \t");
	if (*rest)
		*rest++ = '\0';
	rest = df_trim(rest);
	s->kind = S_BAD;
	if (strcmp(word, "dnsfollow") == 0 && !*rest) {
		s->kind = S_CORE;
	} else if (strcmp(word, "backend") == 0 || strcmp(word, "provider") == 0) {
		if (!df_cfg_valid_token(rest, 64))
			df_cfg_error(cfg, s->line,
				     "[%s] needs an instance name of letters, digits, '_', '-' or '.'",
				     s->header);
		else
			s->kind = word[0] == 'b' ? S_BACKEND : S_PROVIDER;
	} else if (strcmp(word, "record") == 0) {
		s->kind = classify_record(cfg, s, rest);
	} else {
		df_cfg_error(cfg, s->line,
			     "unknown section [%s]; expected [dnsfollow], [backend NAME], [provider NAME] or [record NAME]",
			     s->header);
	}
	s->name = df_strdup(rest);
	free(h);
}

/* Add the section headed `header` (trimmed); its index, or -1 when it
 * repeats an earlier one (reported). */
static ssize_t note_section(struct parse_state *ps, char *header)
{
	struct df_config *cfg = ps->cfg;
	/* One name may have several [record] sections, one per provider
	 * (split horizon): the binding judges (name, provider) pairs. */
	int record = strncmp(header, "record", 6) == 0 &&
		     (header[6] == ' ' || header[6] == '\t');
	ssize_t dup = record ? -1 : find_section(ps, header);
	if (dup >= 0) {
		df_cfg_error(cfg, ps->line, "section [%s] already given at line %d",
			     header, cfg->sections[dup].line);
		return -1;
	}
	cfg->sections = df_grow(cfg->sections, cfg->nsections, sizeof *cfg->sections);
	struct df_section *s = &cfg->sections[cfg->nsections++];
	memset(s, 0, sizeof *s);
	s->header = df_strdup(header);
	s->line = ps->line;
	index_section(ps, cfg->nsections - 1);
	classify(cfg, s);
	return (ssize_t)(cfg->nsections - 1);
}

/* libinih's own scan: the first of `chars`, or an inline comment (a
 * prefix character after white space), or the end. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;
	const char *pfx = ini_allow_inline_comments ? ini_inline_comment_prefixes : "";
	while (*s && !strchr(chars, *s) && !(was_space && strchr(pfx, *s))) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Keep the value of a line too long for libinih's buffer, cut and
 * trimmed as libinih would; `eq` is its '=' or ':'. */
static void keep_long_value(struct parse_state *ps, char *eq)
{
	char *v = eq + 1;
	*find_chars_or_comment(v, "") = '\0';
	free(ps->long_value);
	ps->long_value = df_strdup(df_trim(v));
}

/* What libinih gets for one key line `t` (left-trimmed, `n` bytes). */
static void feed_key(struct parse_state *ps, char *t, char *buf, size_t size)
{
	char *eq = find_chars_or_comment(t, "=:");
	if (*eq != '=' && *eq != ':') {
		df_cfg_error(ps->cfg, ps->line,
			     "syntax error (expected 'key = value' or '[section]')");
		return;
	}
	if (eq == t) {
		/* An empty key would pass for one whose file was unreadable. */
		df_cfg_error(ps->cfg, ps->line, "no key name before '%c'", *eq);
		return;
	}
	if (strlen(t) + 2 <= size) {
		snprintf(buf, size, "%s\n", t);
		return;
	}
	*eq = '\0';
	if ((size_t)(eq - t) + 3 > size) {
		df_cfg_error(ps->cfg, ps->line, "key name longer than %zu characters",
			     size - 3);
		return;
	}
	keep_long_value(ps, eq);
	snprintf(buf, size, "%s=\n", t);
}

/* What libinih gets for one section line `t` (starting with '['). */
static void feed_section(struct parse_state *ps, char *t, char *buf, size_t size)
{
	char *end = find_chars_or_comment(t + 1, "]");
	ssize_t idx = -1;
	if (*end != ']') {
		df_cfg_error(ps->cfg, ps->line, "section header without ']'");
	} else {
		char *rest = end + 1;
		while (isspace((unsigned char)*rest))
			rest++;
		*end = '\0';
		if (*rest && !strchr(";#", *rest))
			/* "[record x] junk": a typo would otherwise be lost. */
			df_cfg_error(ps->cfg, ps->line, "text after the section header ']': '%s'",
				     rest);
		else
			idx = note_section(ps, df_trim(t + 1));
	}
	/* "[#]" names no section: the keys under a refused header are
	 * dropped rather than added to the section before it. */
	if (idx >= 0)
		snprintf(buf, size, "[#%zd]\n", idx);
	else
		snprintf(buf, size, "[#]\n");
}

/* Copy the next line into ps->scratch; 0 at the end of the text. */
static int next_line(struct parse_state *ps)
{
	if (ps->pos >= ps->end)
		return 0;
	const char *nl = memchr(ps->pos, '\n', (size_t)(ps->end - ps->pos));
	size_t n = nl ? (size_t)(nl - ps->pos) : (size_t)(ps->end - ps->pos);
	const char *text = ps->pos;
	ps->pos += n + (nl != NULL);
	ps->line++;
	/* A UTF-8 byte order mark, as some editors write. */
	if (ps->line == 1 && n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		n -= 3;
	}
	/* A lone CR inside a line: old Mac line ends would make the whole
	 * file one line, silently. (CRLF leaves a CR only at the end.) */
	const char *cr = memchr(text, '\r', n);
	if (cr && cr + 1 < text + n) {
		df_cfg_error(ps->cfg, ps->line,
			     "a carriage return (CR) inside a line: save the file with LF or CRLF line ends");
		n = 0;
	}
	if (n + 1 > ps->scratch_cap) {
		ps->scratch_cap = n + 1;
		ps->scratch = df_xrealloc(ps->scratch, ps->scratch_cap, 1);
	}
	memcpy(ps->scratch, text, n);
	ps->scratch[n] = '\0';
	return 1;
}

static char *reader(char *buf, int size, void *stream)
{
	struct parse_state *ps = stream;
	if (!next_line(ps))
		return NULL;
	free(ps->long_value);
	ps->long_value = NULL;
	buf[0] = '\0';
	/* Our shortest line, "[#]\n" or an alias, needs this much. */
	if (size < 32)
		return buf;
	char *t = ps->scratch;
	while (isspace((unsigned char)*t))
		t++;
	if (!*t || strchr(";#", *t))
		return buf; /* blank or comment */
	if (*t == '[')
		feed_section(ps, t, buf, (size_t)size);
	else
		feed_key(ps, t, buf, (size_t)size);
	return buf;
}

static struct df_section *section_of(struct parse_state *ps, const char *alias)
{
	char *end;
	if (alias[0] != '#' || !isdigit((unsigned char)alias[1]))
		return NULL;
	errno = 0;
	unsigned long i = strtoul(alias + 1, &end, 10);
	if (errno || *end || i >= ps->cfg->nsections)
		return NULL;
	return &ps->cfg->sections[i];
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse_state *ps = user;
	if (!*section) {
		df_cfg_error(ps->cfg, ps->line, "'%s' is outside any section", key);
		return 1;
	}
	struct df_section *s = section_of(ps, section);
	if (!s || s->kind == S_BAD)
		return 1;
	s->items = df_xrealloc(s->items, s->nitems + 1, sizeof *s->items);
	struct df_item *it = &s->items[s->nitems++];
	memset(it, 0, sizeof *it);
	it->key = df_lower(df_strdup(key));
	it->value = df_strdup(ps->long_value ? ps->long_value : value);
	it->line = ps->line;
	return 1;
}

/* libinih's settings are process-wide; these are the ones our reader
 * relies on. */
static void configure_inih(void)
{
	ini_use_stack = 0;
	ini_max_line = INI_LINE;
	ini_initial_alloc = INI_LINE;
	ini_allow_realloc = 0;
	/* Indented lines are keys, not continuations: less surprising. */
	ini_allow_multiline = 0;
	ini_stop_on_first_error = 0;
}

/* A read error of the file itself: keep the established
 * "FILE:0: message" form; a NUL byte names its own line. */
static void file_error(struct df_config *cfg, int rc, const char *err)
{
	size_t pl = strlen(cfg->path);
	if (strncmp(err, cfg->path, pl) != 0 || err[pl] != ':') {
		df_cfg_error(cfg, 0, "%s", err);
	} else if (err[pl + 1] != ' ') {
		df_cfg_error_raw(cfg, err); /* "FILE:LINE: ..." */
	} else if (rc == -EISDIR || strstr(err, "give a regular file")) {
		const char *what = err + pl + 2;
		if (strncmp(what, "is ", 3) == 0)
			what += 3;
		df_cfg_error(cfg, 0, "not a regular file (%.*s)",
			     (int)strcspn(what, ";"), what);
	} else {
		df_cfg_error(cfg, 0, "%s", err + pl + 2);
	}
}

void df_cfg_read_ini(struct df_config *cfg)
{
	char *text, err[1024];
	size_t len;
	int rc = df_read_file(cfg->path, MAX_CONFIG, DNSFOLLOW_READ_TEXT, &text,
			      &len, err, sizeof err, NULL);
	if (rc != 0) {
		file_error(cfg, rc, err);
		return;
	}
	struct stat st;
	cfg->file_mode = stat(cfg->path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
	configure_inih();
	struct parse_state ps = {.cfg = cfg, .pos = text, .end = text + len};
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (rc > 0) /* our reader and handler refuse nothing: not expected */
		df_cfg_error(cfg, rc, "syntax error (expected 'key = value' or '[section]')");
	else if (rc < 0)
		df_cfg_error(cfg, 0, "cannot parse (out of memory)");
	free(ps.slots);
	free(ps.scratch);
	free(ps.long_value);
	free(text);
}
