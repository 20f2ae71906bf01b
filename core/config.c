/*
 * Configuration: INI syntax through the system libinih, then validation
 * against the core's key tables and each plugin's declared keys. Every
 * problem becomes one "FILE:LINE: message"; parsing goes on so the user
 * sees all of them at once.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "log.h"
#include "util.h"

#define MAX_LINE 8192
#define MAX_FILE_VALUE (64u << 10)

enum sect_kind { S_CORE, S_BACKEND, S_PROVIDER, S_RECORD, S_BAD };

struct df_section {
	enum sect_kind kind;
	char *header; /* text between the brackets */
	char *name;   /* instance name / record name */
	int line;
	struct df_item *items;
	size_t nitems;
};

/* A key the core or a plugin accepts. */
struct keydef {
	const char *name;
	uint32_t flags;
};

static const struct keydef core_keys[] = {
	{"owner_id", 0},    {"interval", 0}, {"plugin_dir", DNSFOLLOW_KEY_PATH},
	{"log_level", 0},   {"debounce_ms", 0}, {"retries", 0},
	{"backoff_max", 0}, {NULL, 0},
};
static const struct keydef backend_keys[] = {
	{"type", DNSFOLLOW_KEY_REQUIRED}, {NULL, 0}};
static const struct keydef provider_keys[] = {
	{"type", DNSFOLLOW_KEY_REQUIRED}, {"zones", 0}, {NULL, 0}};
static const struct keydef record_keys[] = {
	{"provider", DNSFOLLOW_KEY_REQUIRED},
	{"backend", DNSFOLLOW_KEY_REQUIRED},
	{"service", DNSFOLLOW_KEY_REQUIRED},
	{"type", 0},
	{"ttl", 0},
	{"zone", 0},
	{"adopt", 0},
	{"on_empty", 0},
	{NULL, 0},
};

static void add_error(struct df_config *cfg, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_error(struct df_config *cfg, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	df_redact(msg, sizeof msg);
	size_t n = strlen(cfg->path) + strlen(msg) + 32;
	char *e = df_xcalloc(n, 1);
	snprintf(e, n, "%s:%d: %s", cfg->path, line, msg);
	cfg->errors = df_xrealloc(cfg->errors, cfg->nerrors + 2, sizeof(char *));
	cfg->errors[cfg->nerrors++] = e;
	cfg->errors[cfg->nerrors] = NULL;
}

/* ---- INI reading ---------------------------------------------------- */

struct parse_state {
	struct df_config *cfg;
	FILE *f;
	int line;
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

/* 1..max characters of letters, digits, '_', '-' and '.': instance
 * names and owner ids, which end up in logs and TXT markers. */
static int valid_token(const char *s, size_t max)
{
	if (!*s || strlen(s) > max)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' ||
		      *s == '.'))
			return 0;
	return 1;
}

static void classify(struct df_config *cfg, struct df_section *s)
{
	char *h = df_strdup(s->header);
	char *word = df_trim(h);
	char *rest = word + strcspn(word, " \t");
	if (*rest)
		*rest++ = '\0';
	rest = df_trim(rest);
	s->kind = S_BAD;
	if (strcmp(word, "dnsfollow") == 0 && !*rest) {
		s->kind = S_CORE;
	} else if (strcmp(word, "backend") == 0 || strcmp(word, "provider") == 0) {
		if (!valid_token(rest, 64))
			add_error(cfg, s->line,
				  "[%s] needs an instance name of letters, digits, '_', '-' or '.'",
				  s->header);
		else
			s->kind = word[0] == 'b' ? S_BACKEND : S_PROVIDER;
	} else if (strcmp(word, "record") == 0) {
		char *n = NULL;
		if (df_name_normalise(rest, &n) != 0)
			add_error(cfg, s->line, "[%s]: '%s' is not a valid DNS name",
				  s->header, rest);
		else if (strlen(n) + sizeof "_dnsfollow." > 254)
			add_error(cfg, s->line,
				  "[%s]: name too long to carry its _dnsfollow ownership record",
				  s->header);
		else
			s->kind = S_RECORD;
		free(n);
	} else {
		add_error(cfg, s->line,
			  "unknown section [%s]; expected [dnsfollow], [backend NAME], [provider NAME] or [record NAME]",
			  s->header);
	}
	s->name = df_strdup(rest);
	free(h);
}

static void note_section(struct parse_state *ps, const char *text)
{
	struct df_config *cfg = ps->cfg;
	const char *end = strchr(text, ']');
	if (!end) {
		add_error(cfg, ps->line, "section header without ']'");
		return;
	}
	char *header = strndup(text + 1, (size_t)(end - text - 1));
	if (!header)
		return;
	df_trim(header);
	ssize_t dup = find_section(ps, header);
	if (dup >= 0) {
		add_error(cfg, ps->line, "section [%s] already given at line %d",
			  header, cfg->sections[dup].line);
		free(header);
		return;
	}
	cfg->sections = df_grow(cfg->sections, cfg->nsections, sizeof *cfg->sections);
	struct df_section *s = &cfg->sections[cfg->nsections++];
	memset(s, 0, sizeof *s);
	s->header = header;
	s->line = ps->line;
	index_section(ps, cfg->nsections - 1);
	classify(cfg, s);
}

/* libinih hands us no line numbers, so we feed it lines ourselves. */
static char *reader(char *buf, int size, void *stream)
{
	struct parse_state *ps = stream;
	if (!fgets(buf, size, ps->f))
		return NULL;
	ps->line++;
	size_t n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(ps->f)) {
		add_error(ps->cfg, ps->line, "line longer than %d characters",
			  size - 3);
		int c;
		while ((c = fgetc(ps->f)) != EOF && c != '\n')
			;
		buf[0] = '\0';
		return buf;
	}
	const char *t = buf;
	while (isspace((unsigned char)*t))
		t++;
	if (*t == '[')
		note_section(ps, t);
	return buf;
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse_state *ps = user;
	ssize_t idx = find_section(ps, section);
	struct df_section *s = idx >= 0 ? &ps->cfg->sections[idx] : NULL;
	if (!s) {
		if (!*section)
			add_error(ps->cfg, ps->line,
				  "'%s' is outside any section", key);
		return 1;
	}
	if (s->line > ps->line || s->kind == S_BAD)
		return 1;
	s->items = df_xrealloc(s->items, s->nitems + 1, sizeof *s->items);
	struct df_item *it = &s->items[s->nitems++];
	it->key = df_lower(df_strdup(key));
	it->value = df_strdup(value);
	it->line = ps->line;
	return 1;
}

static void configure_inih(void)
{
	ini_use_stack = 0;
	ini_max_line = MAX_LINE;
	ini_initial_alloc = MAX_LINE;
	ini_allow_realloc = 0;
	/* Indented lines are keys, not continuations: less surprising. */
	ini_allow_multiline = 0;
	ini_stop_on_first_error = 0;
}

/* ---- key matching ------------------------------------------------------ */

/* One table the items of a section are checked against. */
struct keyset {
	const struct keydef *core;          /* core keys */
	const struct dnsfollow_key *plugin; /* plugin's keys, may be NULL */
	const struct dnsfollow_key *plugin2;
};

static int wildcard_match(const char *pattern, const char *key)
{
	size_t n = strlen(pattern);
	return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' &&
	       strncmp(pattern, key, n - 1) == 0 && key[n - 1] != '\0';
}

/* Flags of `key` in ks, or -1 when it is not accepted. */
static long key_flags(const struct keyset *ks, const char *key)
{
	for (const struct keydef *k = ks->core; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k->flags;
	const struct dnsfollow_key *lists[] = {ks->plugin, ks->plugin2};
	for (int i = 0; i < 2; i++)
		for (const struct dnsfollow_key *k = lists[i]; k && k->name; k++)
			if (strcmp(k->name, key) == 0 || wildcard_match(k->name, key))
				return k->flags;
	return -1;
}

static void allowed_list(const struct keyset *ks, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	const struct dnsfollow_key *lists[] = {ks->plugin, ks->plugin2};
	for (const struct keydef *k = ks->core; k && k->name; k++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
					 "%s%s", used ? ", " : "", k->name);
	for (int i = 0; i < 2; i++)
		for (const struct dnsfollow_key *k = lists[i]; k && k->name; k++)
			used += (size_t)snprintf(buf + used,
						 used < len ? len - used : 0,
						 "%s%s", used ? ", " : "", k->name);
}

/* Replace the value of a KEY_file item by the file's content. */
static int read_item_file(struct df_config *cfg, struct df_item *it)
{
	char *path = df_path_resolve(cfg->dir, it->value);
	char *v = df_read_small_file(path, MAX_FILE_VALUE);
	if (!v) {
		add_error(cfg, it->line, "%s_file: cannot read %s: %s", it->key,
			  path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	free(it->value);
	it->value = v;
	return 0;
}

/*
 * The core's own keys of a plugin or record section (`type`, `provider`,
 * `service`, ...) are read before the plugin's keys can be checked, so
 * their KEY_file forms are resolved first. An item whose file cannot be
 * read loses its key: it then counts as missing, never as empty.
 */
static void resolve_core_files(struct df_config *cfg, struct df_section *s,
			       const struct keydef *core)
{
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		size_t kl = strlen(it->key);
		if (kl <= 5 || strcmp(it->key + kl - 5, "_file") != 0)
			continue;
		it->key[kl - 5] = '\0';
		int is_core = 0;
		for (const struct keydef *k = core; k->name; k++)
			is_core |= strcmp(k->name, it->key) == 0;
		if (!is_core) {
			it->key[kl - 5] = '_';
			continue;
		}
		if (read_item_file(cfg, it) != 0)
			it->key[0] = '\0';
	}
}

/*
 * Check every item of `s` against `ks`: unknown keys, KEY_file, repeats,
 * paths, secrets. Rewrites items in place (key without _file, value
 * read from the file or made absolute). Returns 0 when all were fine.
 */
static int match_items(struct df_config *cfg, struct df_section *s,
		       const struct keyset *ks)
{
	int bad = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		if (!it->key[0])
			continue; /* its file could not be read (reported) */
		long fl = key_flags(ks, it->key);
		int from_file = 0;
		size_t kl = strlen(it->key);
		if (fl < 0 && kl > 5 && strcmp(it->key + kl - 5, "_file") == 0) {
			it->key[kl - 5] = '\0';
			fl = key_flags(ks, it->key);
			if (fl < 0)
				it->key[kl - 5] = '_';
			else
				from_file = 1;
		}
		if (fl < 0) {
			char allowed[512];
			allowed_list(ks, allowed, sizeof allowed);
			add_error(cfg, it->line,
				  "unknown key '%s' in [%s] (allowed: %s)",
				  it->key, s->header, allowed);
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->items[j].key, it->key) == 0 &&
			    !(fl & DNSFOLLOW_KEY_MULTI)) {
				add_error(cfg, it->line,
					  "'%s' given twice in [%s] (first at line %d)",
					  it->key, s->header, s->items[j].line);
				bad = 1;
			}
		if (from_file && read_item_file(cfg, it) != 0) {
			bad = 1;
			continue;
		}
		if ((fl & DNSFOLLOW_KEY_SECRET) && df_log_add_secret(it->value) != 0) {
			add_error(cfg, it->line,
				  "%s: a secret shorter than %d characters cannot be kept out of logs",
				  it->key, DF_MIN_SECRET);
			bad = 1;
		}
		if ((fl & DNSFOLLOW_KEY_PATH) && *it->value) {
			char *abs = df_path_resolve(cfg->dir, it->value);
			free(it->value);
			it->value = abs;
		}
	}
	return bad;
}

static int check_required(struct df_config *cfg, struct df_section *s,
			  const struct keyset *ks)
{
	int bad = 0;
	const struct dnsfollow_key *lists[] = {ks->plugin, ks->plugin2};
	for (const struct keydef *k = ks->core; k && k->name; k++) {
		if (!(k->flags & DNSFOLLOW_KEY_REQUIRED))
			continue;
		int found = 0;
		for (size_t i = 0; i < s->nitems; i++)
			found |= strcmp(s->items[i].key, k->name) == 0;
		if (!found) {
			add_error(cfg, s->line, "[%s] needs '%s'", s->header,
				  k->name);
			bad = 1;
		}
	}
	for (int l = 0; l < 2; l++)
		for (const struct dnsfollow_key *k = lists[l]; k && k->name; k++) {
			if (!(k->flags & DNSFOLLOW_KEY_REQUIRED))
				continue;
			int found = 0;
			for (size_t i = 0; i < s->nitems; i++)
				found |= strcmp(s->items[i].key, k->name) == 0;
			if (!found) {
				add_error(cfg, s->line, "[%s] needs '%s'",
					  s->header, k->name);
				bad = 1;
			}
		}
	return bad;
}

static const struct df_item *get_item(const struct df_section *s,
				      const char *key)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].key && strcmp(s->items[i].key, key) == 0)
			return &s->items[i];
	return NULL;
}

/* ---- [dnsfollow] --------------------------------------------------------- */

static void get_uint(struct df_config *cfg, const struct df_section *s,
		     const char *key, unsigned long min, unsigned long max,
		     unsigned *out)
{
	const struct df_item *it = get_item(s, key);
	unsigned long v;
	if (!it)
		return;
	if (df_parse_uint(it->value, min, max, &v) != 0)
		add_error(cfg, it->line, "%s must be a whole number from %lu to %lu, not '%s'",
			  key, min, max, it->value);
	else
		*out = (unsigned)v;
}

static void core_section(struct df_config *cfg, struct df_section *s)
{
	const struct keyset ks = {.core = core_keys};
	match_items(cfg, s, &ks);
	get_uint(cfg, s, "interval", 1, 86400, &cfg->interval);
	get_uint(cfg, s, "debounce_ms", 0, 60000, &cfg->debounce_ms);
	get_uint(cfg, s, "retries", 1, 20, &cfg->retries);
	get_uint(cfg, s, "backoff_max", 1, 86400, &cfg->backoff_max);
	const struct df_item *it = get_item(s, "owner_id");
	if (it) {
		if (!valid_token(it->value, 63))
			add_error(cfg, it->line,
				  "owner_id must be 1-63 letters, digits, '-', '_' or '.', not '%s'",
				  it->value);
		free(cfg->owner_id);
		cfg->owner_id = df_strdup(it->value);
	}
	if ((it = get_item(s, "plugin_dir")) != NULL) {
		if (!*it->value)
			add_error(cfg, it->line,
				  "plugin_dir is empty (leave it out for the default)");
		free(cfg->plugin_dir);
		cfg->plugin_dir = df_strdup(it->value);
	}
	if ((it = get_item(s, "log_level")) != NULL) {
		int l = df_log_parse_level(it->value);
		if (l < 0)
			add_error(cfg, it->line,
				  "log_level must be error, warn, info or debug, not '%s'",
				  it->value);
		else
			cfg->log_level = l;
	}
}

static char *dir_of(const char *path)
{
	char *copy = df_strdup(path);
	const char *dir = dirname(copy);
	char *abs = realpath(dir, NULL);
	char *d = df_strdup(abs ? abs : dir);
	free(abs);
	free(copy);
	return d;
}

struct df_config *df_config_parse(const char *path)
{
	struct df_config *cfg = df_xcalloc(1, sizeof *cfg);
	cfg->path = df_strdup(path);
	cfg->dir = dir_of(path);
	cfg->owner_id = df_strdup("dnsfollow");
	cfg->interval = 60;
	cfg->debounce_ms = 200;
	cfg->retries = 3;
	cfg->backoff_max = 300;
	cfg->log_level = DNSFOLLOW_LOG_INFO;
	cfg->plugin_dir = df_strdup(df_default_plugin_dir());

	FILE *f = fopen(path, "r");
	if (!f) {
		add_error(cfg, 0, "cannot open: %s", strerror(errno));
		return cfg;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		add_error(cfg, 0, "not a regular file");
		fclose(f);
		return cfg;
	}
	configure_inih();
	struct parse_state ps = {.cfg = cfg, .f = f};
	int rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (ferror(f))
		add_error(cfg, ps.line, "read error: %s", strerror(errno));
	fclose(f);
	free(ps.slots);
	if (rc > 0)
		add_error(cfg, rc, "syntax error (expected 'key = value' or '[section]')");
	else if (rc < 0)
		add_error(cfg, 0, "cannot parse (out of memory)");
	for (size_t i = 0; i < cfg->nsections; i++)
		if (cfg->sections[i].kind == S_CORE)
			core_section(cfg, &cfg->sections[i]);
	return cfg;
}

/* ---- plugin sections and records ------------------------------------------ */

static void make_kv(struct df_item *items, size_t n, struct dnsfollow_kv **kv,
		    size_t *nkv)
{
	*kv = df_xcalloc(n, sizeof **kv);
	for (size_t i = 0; i < n; i++) {
		(*kv)[i].key = items[i].key;
		(*kv)[i].value = items[i].value;
	}
	*nkv = n;
}

/* Move the items of `s` that are not core keys into `out`. */
static void take_plugin_items(struct df_section *s, const struct keydef *core,
			      struct df_item **out, size_t *nout)
{
	*out = df_xcalloc(s->nitems, sizeof **out);
	*nout = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		int is_core = 0;
		for (const struct keydef *k = core; k->name; k++)
			is_core |= strcmp(k->name, s->items[i].key) == 0;
		if (is_core)
			continue;
		(*out)[(*nout)++] = s->items[i];
		s->items[i].key = s->items[i].value = NULL;
	}
}

static void zones_of(struct df_config *cfg, const struct df_section *s,
		     struct df_instance_cfg *ic)
{
	const struct df_item *it = get_item(s, "zones");
	if (!it)
		return;
	char **v;
	size_t n = df_split_list(it->value, &v);
	ic->zones = df_xcalloc(n + 1, sizeof *ic->zones);
	for (size_t i = 0; i < n; i++) {
		char *z;
		if (df_name_normalise(v[i], &z) != 0) {
			add_error(cfg, it->line, "zones: '%s' is not a valid zone name",
				  v[i]);
			continue;
		}
		ic->zones[ic->nzones++] = z;
	}
	df_strv_free(v);
}

static void bind_instance(struct df_config *cfg, struct df_section *s,
			  struct df_loader *loader)
{
	unsigned kind = s->kind == S_BACKEND ? DNSFOLLOW_KIND_BACKEND
					     : DNSFOLLOW_KIND_PROVIDER;
	const struct keydef *core = kind == DNSFOLLOW_KIND_BACKEND ? backend_keys
								    : provider_keys;
	resolve_core_files(cfg, s, core);
	const struct df_item *type = get_item(s, "type");
	const struct dnsfollow_plugin *p = NULL;
	if (!type) {
		add_error(cfg, s->line, "[%s] needs 'type' (the plugin name)",
			  s->header);
	} else {
		char err[512];
		p = df_loader_get(loader, type->value, kind, err, sizeof err);
		if (!p)
			add_error(cfg, type->line, "%s", err);
	}
	if (p) {
		const struct keyset ks = {.core = core, .plugin = p->config_keys};
		match_items(cfg, s, &ks);
		check_required(cfg, s, &ks);
	}
	struct df_instance_cfg ic = {.kind = kind,
				     .name = df_strdup(s->name),
				     .type = df_strdup(type ? type->value : ""),
				     .line = s->line,
				     .plugin = p};
	if (kind == DNSFOLLOW_KIND_PROVIDER)
		zones_of(cfg, s, &ic);
	take_plugin_items(s, core, &ic.items, &ic.nitems);
	/* Providers see their zones too, to prepare per-zone state: in the
	 * form the core uses (lower case, no trailing dot), so a plugin
	 * compares them with the zone names of its ops as they are. */
	if (kind == DNSFOLLOW_KIND_PROVIDER && get_item(s, "zones")) {
		const struct df_item *z = get_item(s, "zones");
		ic.items = df_xrealloc(ic.items, ic.nitems + 1, sizeof *ic.items);
		ic.items[ic.nitems].key = df_strdup("zones");
		ic.items[ic.nitems].value = df_strv_join(ic.zones, ic.nzones, ", ");
		ic.items[ic.nitems].line = z->line;
		ic.nitems++;
	}
	make_kv(ic.items, ic.nitems, &ic.kv, &ic.nkv);
	struct df_instance_cfg **arr = kind == DNSFOLLOW_KIND_BACKEND ? &cfg->backends
								      : &cfg->providers;
	size_t *n = kind == DNSFOLLOW_KIND_BACKEND ? &cfg->nbackends
						   : &cfg->nproviders;
	*arr = df_xrealloc(*arr, *n + 1, sizeof **arr);
	(*arr)[(*n)++] = ic;
}

static ssize_t find_instance(const struct df_instance_cfg *v, size_t n,
			     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static void record_types(struct df_config *cfg, const struct df_item *it,
			 struct df_record_cfg *r)
{
	r->types = DF_REC_A;
	if (!it)
		return;
	char **v;
	size_t n = df_split_list(it->value, &v);
	r->types = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t t = df_type_code(v[i]);
		if (t == DNSFOLLOW_TYPE_A)
			r->types |= DF_REC_A;
		else if (t == DNSFOLLOW_TYPE_AAAA)
			r->types |= DF_REC_AAAA;
		else
			add_error(cfg, it->line, "type must be A, AAAA or \"A, AAAA\", not '%s'",
				  v[i]);
	}
	if (n == 0)
		add_error(cfg, it->line, "type is empty (use A, AAAA or \"A, AAAA\")");
	df_strv_free(v);
}

/* The longest zone of the provider that holds the name on a label
 * boundary ("fooexample.org" is not in "example.org"). */
static const char *choose_zone(const struct df_instance_cfg *p,
			       const char *name)
{
	const char *best = NULL;
	for (size_t i = 0; i < p->nzones; i++)
		if (df_name_in_zone(name, p->zones[i]) &&
		    (!best || strlen(p->zones[i]) > strlen(best)))
			best = p->zones[i];
	return best;
}

static void record_zone(struct df_config *cfg, struct df_section *s,
			struct df_record_cfg *r)
{
	const struct df_instance_cfg *p = &cfg->providers[r->provider_idx];
	const struct df_item *it = get_item(s, "zone");
	if (it) {
		char *z;
		if (df_name_normalise(it->value, &z) != 0) {
			add_error(cfg, it->line, "zone: '%s' is not a valid zone name",
				  it->value);
			return;
		}
		if (!df_name_in_zone(r->fqdn, z)) {
			add_error(cfg, it->line, "zone '%s' does not contain %s", z,
				  r->fqdn);
			free(z);
			return;
		}
		int listed = p->nzones == 0;
		for (size_t i = 0; i < p->nzones; i++)
			listed |= strcmp(p->zones[i], z) == 0;
		if (!listed) {
			add_error(cfg, it->line,
				  "zone '%s' is not one of provider '%s''s zones; add it to its zones =",
				  z, p->name);
			free(z);
			return;
		}
		r->zone = z;
		return;
	}
	const char *z = choose_zone(p, r->fqdn);
	if (!z) {
		add_error(cfg, s->line,
			  "no zone of provider '%s' contains %s; add it to that provider's zones or set zone =",
			  p->name, r->fqdn);
		return;
	}
	r->zone = df_strdup(z);
}

static void record_refs(struct df_config *cfg, struct df_section *s,
			struct df_record_cfg *r, int *ok_provider,
			int *ok_backend)
{
	const struct df_item *pv = get_item(s, "provider");
	const struct df_item *bk = get_item(s, "backend");
	const struct df_item *sv = get_item(s, "service");
	*ok_provider = *ok_backend = 0;
	if (pv) {
		ssize_t i = find_instance(cfg->providers, cfg->nproviders, pv->value);
		if (i < 0)
			add_error(cfg, pv->line, "no [provider %s] section", pv->value);
		else {
			r->provider_idx = (size_t)i;
			*ok_provider = cfg->providers[i].plugin != NULL;
		}
		r->provider = df_strdup(pv->value);
	}
	if (bk) {
		ssize_t i = find_instance(cfg->backends, cfg->nbackends, bk->value);
		if (i < 0)
			add_error(cfg, bk->line, "no [backend %s] section", bk->value);
		else {
			r->backend_idx = (size_t)i;
			*ok_backend = cfg->backends[i].plugin != NULL;
		}
		r->backend = df_strdup(bk->value);
	}
	if (sv) {
		if (!*sv->value)
			add_error(cfg, sv->line, "service is empty");
		r->service = df_strdup(sv->value);
	}
}

static void record_options(struct df_config *cfg, struct df_section *s,
			   struct df_record_cfg *r)
{
	const struct df_item *it;
	unsigned long ttl = 60;
	if ((it = get_item(s, "ttl")) != NULL &&
	    df_parse_uint(it->value, 1, 2147483647ul, &ttl) != 0)
		add_error(cfg, it->line, "ttl must be a whole number of seconds from 1 to 2147483647, not '%s'",
			  it->value);
	r->ttl = (uint32_t)ttl;
	if ((it = get_item(s, "adopt")) != NULL) {
		r->adopt = df_parse_bool(it->value);
		if (r->adopt < 0)
			add_error(cfg, it->line, "adopt must be yes or no, not '%s'",
				  it->value);
	}
	if ((it = get_item(s, "on_empty")) != NULL) {
		if (strcmp(it->value, "delete") == 0)
			r->on_empty_delete = 1;
		else if (strcmp(it->value, "keep") != 0)
			add_error(cfg, it->line, "on_empty must be keep or delete, not '%s'",
				  it->value);
	}
}

static void check_caps(struct df_config *cfg, const struct df_item *type_item,
		       struct df_section *s, struct df_record_cfg *r)
{
	const struct df_instance_cfg *p = &cfg->providers[r->provider_idx];
	const struct dnsfollow_provider_ops *ops = p->plugin->ops;
	int line = type_item ? type_item->line : s->line;
	if ((r->types & DF_REC_A) && !(ops->caps & DNSFOLLOW_CAP_A))
		add_error(cfg, line, "provider '%s' (%s) cannot manage A records",
			  p->name, p->type);
	if ((r->types & DF_REC_AAAA) && !(ops->caps & DNSFOLLOW_CAP_AAAA))
		add_error(cfg, line, "provider '%s' (%s) cannot manage AAAA records",
			  p->name, p->type);
	if (!(ops->caps & DNSFOLLOW_CAP_TXT))
		add_error(cfg, line,
			  "provider '%s' (%s) cannot manage TXT records, which ownership markers need",
			  p->name, p->type);
}

static void bind_record(struct df_config *cfg, struct df_section *s)
{
	struct df_record_cfg r = {.line = s->line};
	df_name_normalise(s->name, &r.fqdn);
	resolve_core_files(cfg, s, record_keys);
	int ok_p, ok_b;
	record_refs(cfg, s, &r, &ok_p, &ok_b);
	const struct dnsfollow_key *bkeys =
		ok_b ? cfg->backends[r.backend_idx].plugin->record_keys : NULL;
	const struct keyset ks = {.core = record_keys, .plugin = bkeys};
	match_items(cfg, s, &ks);
	check_required(cfg, s, &ks);
	record_types(cfg, get_item(s, "type"), &r);
	record_options(cfg, s, &r);
	if (ok_p) {
		record_zone(cfg, s, &r);
		check_caps(cfg, get_item(s, "type"), s, &r);
	}
	take_plugin_items(s, record_keys, &r.opts, &r.nopts);
	make_kv(r.opts, r.nopts, &r.kv, &r.nkv);
	cfg->records = df_grow(cfg->records, cfg->nrecords, sizeof *cfg->records);
	cfg->records[cfg->nrecords++] = r;
}

static int by_fqdn(const void *a, const void *b, void *ctx)
{
	const struct df_record_cfg *r = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(r[x].fqdn ? r[x].fqdn : "", r[y].fqdn ? r[y].fqdn : "");
	return c ? c : (x < y ? -1 : 1);
}

/* "[record Git.Example.org]" and "[record git.example.org.]" are one
 * name: two sections for it would fight over the same RRsets. */
static void check_duplicate_records(struct df_config *cfg)
{
	size_t n = cfg->nrecords;
	size_t *order = df_xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, by_fqdn, cfg->records);
	for (size_t i = 1; i < n; i++) {
		const struct df_record_cfg *a = &cfg->records[order[i - 1]];
		const struct df_record_cfg *b = &cfg->records[order[i]];
		if (a->fqdn && b->fqdn && strcmp(a->fqdn, b->fqdn) == 0)
			add_error(cfg, b->line, "%s is already a record at line %d",
				  b->fqdn, a->line);
	}
	free(order);
}

size_t df_config_bind(struct df_config *cfg, struct df_loader *loader)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct df_section *s = &cfg->sections[i];
		if (s->kind == S_BACKEND || s->kind == S_PROVIDER)
			bind_instance(cfg, s, loader);
	}
	for (size_t i = 0; i < cfg->nsections; i++)
		if (cfg->sections[i].kind == S_RECORD)
			bind_record(cfg, &cfg->sections[i]);
	check_duplicate_records(cfg);
	for (size_t i = 0; i < cfg->nbackends; i++)
		if (find_instance(cfg->providers, cfg->nproviders,
				  cfg->backends[i].name) >= 0)
			add_error(cfg, cfg->backends[i].line,
				  "'%s' names both a backend and a provider; use distinct names",
				  cfg->backends[i].name);
	if (cfg->nrecords == 0 && cfg->nerrors == 0)
		df_warn("%s: no [record ...] section: nothing to do", cfg->path);
	return cfg->nerrors;
}

/* ---- misc ------------------------------------------------------------------- */

static void free_items(struct df_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

void df_config_free(struct df_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nsections; i++) {
		free(cfg->sections[i].header);
		free(cfg->sections[i].name);
		free_items(cfg->sections[i].items, cfg->sections[i].nitems);
	}
	free(cfg->sections);
	struct df_instance_cfg *lists[] = {cfg->backends, cfg->providers};
	size_t counts[] = {cfg->nbackends, cfg->nproviders};
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			struct df_instance_cfg *ic = &lists[l][i];
			free(ic->name);
			free(ic->type);
			free_items(ic->items, ic->nitems);
			for (size_t z = 0; z < ic->nzones; z++)
				free(ic->zones[z]);
			free(ic->zones);
			free(ic->kv);
		}
		free(lists[l]);
	}
	for (size_t i = 0; i < cfg->nrecords; i++) {
		struct df_record_cfg *r = &cfg->records[i];
		free(r->fqdn);
		free(r->provider);
		free(r->backend);
		free(r->service);
		free(r->zone);
		free_items(r->opts, r->nopts);
		free(r->kv);
	}
	free(cfg->records);
	for (size_t i = 0; i < cfg->nerrors; i++)
		free(cfg->errors[i]);
	free(cfg->errors);
	free(cfg->owner_id);
	free(cfg->plugin_dir);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

void df_config_print_errors(const struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nerrors; i++)
		fprintf(stderr, "%s\n", cfg->errors[i]);
}

char *df_owner_marker(const struct df_config *cfg)
{
	size_t n = strlen(cfg->owner_id) + sizeof "heritage=dnsfollow,owner=";
	char *m = df_xcalloc(n, 1);
	snprintf(m, n, "heritage=dnsfollow,owner=%s", cfg->owner_id);
	return m;
}
