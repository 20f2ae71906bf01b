/*
 * Configuration: the INI text (cfg_ini.c), then validation against the
 * core's key tables and each plugin's declared keys (cfg_keys.c), then
 * binding records to their provider, backend and zone. Every problem
 * becomes one "FILE:LINE: message"; parsing goes on so the user sees all
 * of them at once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <libgen.h>

#include "cfg_int.h"
#include "httpd.h"
#include "log.h"
#include "util.h"

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const on_empty_words[] = {"keep", "delete", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const policy_words[] = {"upsert-only", "sync", NULL};

/* The core's keys, typed like a plugin's: the same validator judges
 * both. The [dnsfollow] defaults live here (and only here). */
static const struct dnsfollow_key core_keys[] = {
	{"owner_id", DNSFOLLOW_T_STRING, 0, NULL, "dnsfollow", 0, 0, NULL},
	DNSFOLLOW_KEY_UINT("interval", "60", 1, 86400, NULL),
	DNSFOLLOW_KEY_PATH_("plugin_dir", 0, NULL),
	DNSFOLLOW_KEY_ENUM("log_level", "info", log_levels, NULL),
	DNSFOLLOW_KEY_ENUM("log_format", "text", log_formats, NULL),
	DNSFOLLOW_KEY_UINT("debounce_ms", "200", 0, 60000, NULL),
	DNSFOLLOW_KEY_UINT("retries", "3", 1, 20, NULL),
	DNSFOLLOW_KEY_UINT("backoff_max", "300", 1, 86400, NULL),
	DNSFOLLOW_KEY_UINT("on_empty_grace", "10", 0, 86400, NULL),
	DNSFOLLOW_KEY_BOOL("allow_loopback", "no", NULL),
	DNSFOLLOW_KEY_UINT("workers", "4", 1, 64, NULL),
	DNSFOLLOW_KEY_UINT("orphan_grace", "60", 0, 86400, NULL),
	DNSFOLLOW_KEY_STRING("listen", 0, NULL),
	DNSFOLLOW_KEY_END,
};
static const struct dnsfollow_key backend_keys[] = {
	DNSFOLLOW_KEY_STRING("type", DNSFOLLOW_KEY_REQUIRED, NULL),
	DNSFOLLOW_KEY_BOOL("discover", "no", NULL),
	DNSFOLLOW_KEY_STRING("discover_provider", 0, NULL),
	DNSFOLLOW_KEY_STRING("discover_names", 0, NULL),
	DNSFOLLOW_KEY_END,
};
static const struct dnsfollow_key provider_keys[] = {
	DNSFOLLOW_KEY_STRING("type", DNSFOLLOW_KEY_REQUIRED, NULL),
	DNSFOLLOW_KEY_STRING("zones", 0, NULL),
	DNSFOLLOW_KEY_ENUM("policy", "upsert-only", policy_words, NULL),
	DNSFOLLOW_KEY_END,
};
const struct dnsfollow_key df_cfg_record_keys[] = {
	DNSFOLLOW_KEY_STRING("provider", DNSFOLLOW_KEY_REQUIRED, NULL),
	DNSFOLLOW_KEY_STRING("backend", DNSFOLLOW_KEY_REQUIRED, NULL),
	DNSFOLLOW_KEY_STRING("service", DNSFOLLOW_KEY_REQUIRED, NULL),
	DNSFOLLOW_KEY_STRING("type", 0, NULL),
	DNSFOLLOW_KEY_UINT("ttl", "60", 1, 2147483647, NULL),
	DNSFOLLOW_KEY_STRING("zone", 0, NULL),
	DNSFOLLOW_KEY_BOOL("adopt", "no", NULL),
	DNSFOLLOW_KEY_ENUM("on_empty", "keep", on_empty_words, NULL),
	DNSFOLLOW_KEY_END,
};

/* ---- [dnsfollow] --------------------------------------------------------- */

/* The number of a typed core key; its default when given badly (the
 * error is said, the config is not used). */
uint64_t df_cfg_core_num(const struct df_section *s, const char *key)
{
	const struct df_item *it = df_cfg_item(s, key);
	if (it && !it->bad)
		return it->num;
	const struct dnsfollow_key *const tables[] = {core_keys, df_cfg_record_keys,
						      backend_keys, provider_keys};
	const struct dnsfollow_key *k = NULL;
	for (size_t t = 0; !k && t < 4; t++)
		k = df_cfg_find_key(tables[t], key);
	char msg[256], *canon = NULL;
	uint64_t v = 0;
	df_key_parse(k, key, k->def, &v, &canon, msg, sizeof msg);
	free(canon);
	return v;
}

static void core_strings(struct df_config *cfg, struct df_section *s)
{
	const struct df_item *it = df_cfg_item(s, "owner_id");
	if (it) {
		if (!df_cfg_valid_token(it->value, 63))
			df_cfg_error(cfg, it->line,
				     "owner_id must be 1-63 letters, digits, '-', '_' or '.', not '%s'",
				     it->value);
		free(cfg->owner_id);
		cfg->owner_id = df_strdup(it->value);
		cfg->owner_given = !it->dflt;
	}
	if ((it = df_cfg_item(s, "listen")) != NULL && *it->value) {
		struct sockaddr_storage sa;
		socklen_t len;
		char err[256];
		if (df_listen_parse(it->value, &sa, &len, err, sizeof err) != 0)
			df_cfg_error(cfg, it->line, "%s", err);
		free(cfg->listen);
		cfg->listen = df_strdup(it->value);
	}
	/* An empty plugin_dir is reported as an empty path. */
	if ((it = df_cfg_item(s, "plugin_dir")) != NULL) {
		free(cfg->plugin_dir);
		cfg->plugin_dir = df_strdup(it->value);
	}
	cfg->log_level = df_log_parse_level(log_levels[df_cfg_core_num(s, "log_level")]);
}

static void core_section(struct df_config *cfg, struct df_section *s)
{
	const struct df_keyset ks = {.core = core_keys};
	df_cfg_match_items(cfg, s, &ks);
	cfg->interval = (unsigned)df_cfg_core_num(s, "interval");
	cfg->debounce_ms = (unsigned)df_cfg_core_num(s, "debounce_ms");
	cfg->retries = (unsigned)df_cfg_core_num(s, "retries");
	cfg->backoff_max = (unsigned)df_cfg_core_num(s, "backoff_max");
	cfg->on_empty_grace = (unsigned)df_cfg_core_num(s, "on_empty_grace");
	cfg->workers = (unsigned)df_cfg_core_num(s, "workers");
	cfg->orphan_grace = (unsigned)df_cfg_core_num(s, "orphan_grace");
	cfg->log_json = df_cfg_core_num(s, "log_format") == 1;
	/* At once: the config's own warnings (bind, plugins' create) are
	 * log lines too, and a log shipper parses every one of them. */
	df_log_set_json(cfg->log_json);
	cfg->allow_loopback = (int)df_cfg_core_num(s, "allow_loopback");
	core_strings(cfg, s);
}

/* Without a [dnsfollow] section the defaults still come from the table:
 * an empty one is added. */
static struct df_section *core_section_of(struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		if (cfg->sections[i].kind == S_CORE)
			return &cfg->sections[i];
	cfg->sections = df_grow(cfg->sections, cfg->nsections, sizeof *cfg->sections);
	struct df_section *s = &cfg->sections[cfg->nsections++];
	memset(s, 0, sizeof *s);
	s->kind = S_CORE;
	s->header = df_strdup("dnsfollow");
	s->name = df_strdup("");
	return s;
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
	cfg->plugin_dir = df_strdup(df_default_plugin_dir());
	df_cfg_read_ini(cfg);
	core_section(cfg, core_section_of(cfg)); /* the reader keeps one */
	if (!cfg->owner_id) /* owner_id_file could not be read (said) */
		cfg->owner_id = df_strdup("dnsfollow");
	df_cfg_sort_errors(cfg);
	return cfg;
}

/* ---- plugin sections and records ------------------------------------------ */

void df_cfg_make_kv(struct df_item *items, size_t n, struct dnsfollow_kv **kv,
		    size_t *nkv)
{
	*kv = df_xcalloc(n ? n : 1, sizeof **kv);
	for (size_t i = 0; i < n; i++) {
		(*kv)[i].key = items[i].key;
		(*kv)[i].value = items[i].value;
		(*kv)[i].num = items[i].num;
	}
	*nkv = n;
}

int df_cfg_by_zone(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void zones_of(struct df_config *cfg, const struct df_section *s,
		     struct df_instance_cfg *ic)
{
	const struct df_item *it = df_cfg_item(s, "zones");
	if (!it)
		return;
	char **v;
	size_t n = df_split_list(it->value, &v);
	ic->zones = df_xcalloc(n + 1, sizeof *ic->zones);
	for (size_t i = 0; i < n; i++) {
		char *z;
		if (df_name_normalise(v[i], &z) != 0) {
			df_cfg_error(cfg, it->line, "zones: '%s' is not a valid zone name",
				     v[i]);
			continue;
		}
		ic->zones[ic->nzones++] = z;
	}
	df_strv_free(v);
	ic->zsorted = df_xcalloc(ic->nzones + 1, sizeof *ic->zsorted);
	memcpy(ic->zsorted, ic->zones, ic->nzones * sizeof *ic->zones);
	if (ic->nzones)
		qsort(ic->zsorted, ic->nzones, sizeof *ic->zsorted, df_cfg_by_zone);
}

/* discover, discover_provider, discover_names (backends); policy
 * (providers). Whether the plugin can do it is checked once every
 * section is bound (df_cfg_check_lifecycle). */
static void lifecycle_keys(struct df_config *cfg, const struct df_section *s,
			   struct df_instance_cfg *ic)
{
	if (ic->kind == DNSFOLLOW_KIND_PROVIDER) {
		ic->sync = df_cfg_core_num(s, "policy") == 1;
		return;
	}
	ic->discover = (int)df_cfg_core_num(s, "discover");
	const struct df_item *it = df_cfg_item(s, "discover_provider");
	if (it && *it->value)
		ic->discover_provider = df_strdup(it->value);
	if (!(it = df_cfg_item(s, "discover_names")))
		return;
	char **v;
	size_t n = df_split_list(it->value, &v);
	if (n == 0) /* no pattern would be no fence at all */
		df_cfg_error(cfg, it->line, "discover_names is empty: give name patterns (*.apps.example.org), or leave the key out");
	ic->discover_names = df_xcalloc(n + 1, sizeof *ic->discover_names);
	for (size_t i = 0; i < n; i++) {
		char *g;
		if (df_name_normalise(v[i][0] == '*' && v[i][1] == '.' ? v[i] + 2 : v[i], &g) != 0) {
			df_cfg_error(cfg, it->line, "discover_names: '%s' is no name or *.name pattern",
				     v[i]);
			free(g);
			continue;
		}
		if (v[i][0] == '*' && v[i][1] == '.') {
			char *w = df_xcalloc(strlen(g) + 3, 1);
			sprintf(w, "*.%s", g);
			free(g);
			g = w;
		}
		ic->discover_names[ic->ndiscover_names++] = g;
	}
	df_strv_free(v);
}

static void bind_instance(struct df_config *cfg, struct df_section *s,
			  struct df_loader *loader)
{
	unsigned kind = s->kind == S_BACKEND ? DNSFOLLOW_KIND_BACKEND
					     : DNSFOLLOW_KIND_PROVIDER;
	const struct dnsfollow_key *core =
		kind == DNSFOLLOW_KIND_BACKEND ? backend_keys : provider_keys;
	df_cfg_resolve_core_files(cfg, s, core);
	const struct df_item *type = df_cfg_item(s, "type");
	const struct dnsfollow_plugin *p = NULL;
	if (!type) {
		if (!df_cfg_item_broken(s, "type")) /* else said already */
			df_cfg_error(cfg, s->line, "[%s] needs 'type' (the plugin name)",
				     s->header);
	} else if (!*type->value) {
		df_cfg_error(cfg, type->line, "type is empty");
	} else {
		char err[512];
		p = df_loader_get(loader, type->value, kind, err, sizeof err);
		if (!p)
			df_cfg_error(cfg, type->line, "%s", err);
	}
	if (p) {
		const struct df_keyset ks = {.core = core, .plugin = p->config_keys};
		df_cfg_match_items(cfg, s, &ks);
		df_cfg_check_required(cfg, s, &ks);
		/* Matching adds the core keys' defaults: the items moved. */
		type = df_cfg_item(s, "type");
	}
	struct df_instance_cfg ic = {.kind = kind,
				     .name = df_strdup(s->name),
				     .type = df_strdup(type ? type->value : ""),
				     .line = s->line,
				     .plugin = p};
	if (kind == DNSFOLLOW_KIND_PROVIDER)
		zones_of(cfg, s, &ic);
	lifecycle_keys(cfg, s, &ic);
	if (p)
		df_cfg_take_items(cfg, s, p->config_keys, core, &ic.items, &ic.nitems);
	/* Providers see their zones too, to prepare per-zone state: in the
	 * form the core uses (lower case, no trailing dot), so a plugin
	 * compares them with the zone names of its ops as they are. */
	if (kind == DNSFOLLOW_KIND_PROVIDER && df_cfg_item(s, "zones")) {
		const struct df_item *z = df_cfg_item(s, "zones");
		ic.items = df_xrealloc(ic.items, ic.nitems + 1, sizeof *ic.items);
		memset(&ic.items[ic.nitems], 0, sizeof *ic.items);
		ic.items[ic.nitems].key = df_strdup("zones");
		ic.items[ic.nitems].value = df_strv_join(ic.zones, ic.nzones, ", ");
		ic.items[ic.nitems].line = z->line;
		ic.nitems++;
	}
	df_cfg_make_kv(ic.items, ic.nitems, &ic.kv, &ic.nkv);
	struct df_instance_cfg **arr = kind == DNSFOLLOW_KIND_BACKEND ? &cfg->backends
								      : &cfg->providers;
	size_t *n = kind == DNSFOLLOW_KIND_BACKEND ? &cfg->nbackends
						   : &cfg->nproviders;
	*arr = df_xrealloc(*arr, *n + 1, sizeof **arr);
	(*arr)[(*n)++] = ic;
}

ssize_t df_cfg_find_instance(const struct df_instance_cfg *v, size_t n,
			      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
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
			df_cfg_bind_record(cfg, &cfg->sections[i]);
	df_cfg_check_duplicate_records(cfg);
	df_cfg_check_lifecycle(cfg);
	for (size_t i = 0; i < cfg->nbackends; i++)
		if (df_cfg_find_instance(cfg->providers, cfg->nproviders,
				  cfg->backends[i].name) >= 0)
			df_cfg_error(cfg, cfg->backends[i].line,
				     "'%s' names both a backend and a provider; use distinct names",
				     cfg->backends[i].name);
	df_cfg_sort_errors(cfg);
	int discovers = 0;
	for (size_t i = 0; i < cfg->nbackends; i++)
		discovers |= cfg->backends[i].discover;
	if (cfg->nrecords == 0 && cfg->nerrors == 0 && !discovers)
		df_warn("%s: no [record ...] section and no backend with discover = yes: nothing to do",
			cfg->path);
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
			free(ic->zsorted);
			free(ic->kv);
			free(ic->discover_provider);
			df_strv_free(ic->discover_names);
		}
		free(lists[l]);
	}
	for (size_t i = 0; i < cfg->nrecords; i++)
		df_record_cfg_clear(&cfg->records[i]);
	free(cfg->records);
	for (size_t i = 0; i < cfg->nerrors; i++)
		free(cfg->errors[i]);
	free(cfg->errors);
	free(cfg->owner_id);
	free(cfg->listen);
	free(cfg->plugin_dir);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

void df_record_cfg_clear(struct df_record_cfg *r)
{
	free(r->fqdn);
	free(r->provider);
	free(r->backend);
	free(r->service);
	free(r->zone);
	free_items(r->opts, r->nopts);
	free_items(r->popts, r->npopts);
	free(r->pkv);
	free(r->kv);
	free(r->source);
	free(r->source_name);
	memset(r, 0, sizeof *r);
}

char *df_owner_marker(const struct df_config *cfg)
{
	size_t n = strlen(cfg->owner_id) + sizeof "heritage=dnsfollow,owner=";
	char *m = df_xcalloc(n, 1);
	snprintf(m, n, "heritage=dnsfollow,owner=%s", cfg->owner_id);
	return m;
}
