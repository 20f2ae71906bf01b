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
static const struct dnsfollow_key record_keys[] = {
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
static uint64_t core_num(const struct df_section *s, const char *key)
{
	const struct df_item *it = df_cfg_item(s, key);
	if (it && !it->bad)
		return it->num;
	const struct dnsfollow_key *const tables[] = {core_keys, record_keys,
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
	cfg->log_level = df_log_parse_level(log_levels[core_num(s, "log_level")]);
}

static void core_section(struct df_config *cfg, struct df_section *s)
{
	const struct df_keyset ks = {.core = core_keys};
	df_cfg_match_items(cfg, s, &ks);
	cfg->interval = (unsigned)core_num(s, "interval");
	cfg->debounce_ms = (unsigned)core_num(s, "debounce_ms");
	cfg->retries = (unsigned)core_num(s, "retries");
	cfg->backoff_max = (unsigned)core_num(s, "backoff_max");
	cfg->on_empty_grace = (unsigned)core_num(s, "on_empty_grace");
	cfg->workers = (unsigned)core_num(s, "workers");
	cfg->orphan_grace = (unsigned)core_num(s, "orphan_grace");
	cfg->log_json = core_num(s, "log_format") == 1;
	/* At once: the config's own warnings (bind, plugins' create) are
	 * log lines too, and a log shipper parses every one of them. */
	df_log_set_json(cfg->log_json);
	cfg->allow_loopback = (int)core_num(s, "allow_loopback");
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

static void make_kv(struct df_item *items, size_t n, struct dnsfollow_kv **kv,
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

static int by_zone(const void *a, const void *b)
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
		qsort(ic->zsorted, ic->nzones, sizeof *ic->zsorted, by_zone);
}

/* discover, discover_provider, discover_names (backends); policy
 * (providers). Whether the plugin can do it is checked once every
 * section is bound (df_cfg_check_lifecycle). */
static void lifecycle_keys(struct df_config *cfg, const struct df_section *s,
			   struct df_instance_cfg *ic)
{
	if (ic->kind == DNSFOLLOW_KIND_PROVIDER) {
		ic->sync = core_num(s, "policy") == 1;
		return;
	}
	ic->discover = (int)core_num(s, "discover");
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

/* One alone-type (CNAME), or any mix of the others ("A, AAAA"). */
static void add_type(struct df_config *cfg, int line, struct df_record_cfg *r,
		     const char *word)
{
	uint16_t t = df_type_code(word);
	const struct df_rtype *rt = t ? df_rtype(t) : NULL;
	if (!rt) {
		df_cfg_error(cfg, line, "type must be A, AAAA, \"A, AAAA\" or CNAME, not '%s'",
			     word);
		return;
	}
	for (size_t i = 0; i < r->ntypes; i++)
		if (r->types[i] == t)
			return;
	int alone = rt->alone;
	for (size_t i = 0; i < r->ntypes; i++)
		alone |= df_rtype(r->types[i])->alone;
	if (alone && r->ntypes) {
		df_cfg_error(cfg, line, "type: %s cannot be combined with other types at one name",
			     rt->alone ? word : df_type_name(r->types[0]));
		return;
	}
	if (r->ntypes < DF_MAX_TYPES)
		r->types[r->ntypes++] = t;
}

static void record_types(struct df_config *cfg, const struct df_item *it,
			 struct df_record_cfg *r)
{
	r->ntypes = 0;
	if (!it) {
		r->types[r->ntypes++] = DNSFOLLOW_TYPE_A;
		return;
	}
	char **v;
	size_t n = df_split_list(it->value, &v);
	for (size_t i = 0; i < n; i++)
		add_type(cfg, it->line, r, v[i]);
	if (n == 0)
		df_cfg_error(cfg, it->line, "type is empty (use A, AAAA, \"A, AAAA\" or CNAME)");
	df_strv_free(v);
}

/* The longest zone of the provider that holds the name on a label
 * boundary ("fooexample.org" is not in "example.org"). */
static const char *choose_zone(const struct df_instance_cfg *p,
			       const char *name)
{
	/* The name's suffixes, longest first, looked up in the sorted
	 * zones: a thousand zones and a hundred thousand records must not
	 * cost their product. */
	for (const char *s = name; s && *s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL) {
		char *const *hit = p->nzones ? bsearch(&s, p->zsorted, p->nzones,
						       sizeof *p->zsorted, by_zone)
					     : NULL;
		if (hit)
			return *hit;
	}
	return NULL;
}

static void record_zone(struct df_config *cfg, struct df_section *s,
			struct df_record_cfg *r)
{
	const struct df_instance_cfg *p = &cfg->providers[r->provider_idx];
	const struct df_item *it = df_cfg_item(s, "zone");
	if (it) {
		char *z;
		if (df_name_normalise(it->value, &z) != 0) {
			df_cfg_error(cfg, it->line, "zone: '%s' is not a valid zone name",
				     it->value);
			return;
		}
		if (!df_name_in_zone(r->fqdn, z)) {
			df_cfg_error(cfg, it->line, "zone '%s' does not contain %s", z,
				     r->fqdn);
			free(z);
			return;
		}
		int listed = p->nzones == 0;
		for (size_t i = 0; i < p->nzones; i++)
			listed |= strcmp(p->zones[i], z) == 0;
		if (!listed) {
			df_cfg_error(cfg, it->line,
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
		df_cfg_error(cfg, s->line,
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
	const struct df_item *pv = df_cfg_item(s, "provider");
	const struct df_item *bk = df_cfg_item(s, "backend");
	const struct df_item *sv = df_cfg_item(s, "service");
	*ok_provider = *ok_backend = 0;
	/* Empty values are reported with the other empty required keys. */
	if (pv && *pv->value) {
		ssize_t i = find_instance(cfg->providers, cfg->nproviders, pv->value);
		if (i < 0)
			df_cfg_error(cfg, pv->line, "no [provider %s] section", pv->value);
		else {
			r->provider_idx = (size_t)i;
			*ok_provider = cfg->providers[i].plugin != NULL;
		}
		r->provider = df_strdup(pv->value);
	}
	if (bk && *bk->value) {
		ssize_t i = find_instance(cfg->backends, cfg->nbackends, bk->value);
		if (i < 0)
			df_cfg_error(cfg, bk->line, "no [backend %s] section", bk->value);
		else {
			r->backend_idx = (size_t)i;
			*ok_backend = cfg->backends[i].plugin != NULL;
		}
		r->backend = df_strdup(bk->value);
	}
	if (sv)
		r->service = df_strdup(sv->value);
}

/* Judged with the other core keys (record_keys): only read here. */
static void record_options(const struct df_section *s, struct df_record_cfg *r)
{
	r->ttl = (uint32_t)core_num(s, "ttl");
	r->adopt = (int)core_num(s, "adopt");
	r->on_empty_delete = core_num(s, "on_empty") == 1; /* "delete" */
}

static int provider_has_type(const struct dnsfollow_provider_ops *ops, uint16_t t)
{
	for (const uint16_t *p = ops->types; p && *p; p++)
		if (*p == t)
			return 1;
	return 0;
}

/* Every type of the record, and TXT for its marker, must be one the
 * provider lists. */
static void check_caps(struct df_config *cfg, const struct df_item *type_item,
		       struct df_section *s, struct df_record_cfg *r)
{
	const struct df_instance_cfg *p = &cfg->providers[r->provider_idx];
	const struct dnsfollow_provider_ops *ops = p->plugin->ops;
	int line = type_item ? type_item->line : s->line;
	for (size_t i = 0; i < r->ntypes; i++)
		if (!provider_has_type(ops, r->types[i]))
			df_cfg_error(cfg, line, "provider '%s' (%s) cannot manage %s records",
				     p->name, p->type, df_type_name(r->types[i]));
	if (!provider_has_type(ops, DNSFOLLOW_TYPE_TXT))
		df_cfg_error(cfg, line,
			     "provider '%s' (%s) cannot manage TXT records, which ownership markers need",
			     p->name, p->type);
}

void df_cfg_bind_record(struct df_config *cfg, struct df_section *s)
{
	struct df_record_cfg r = {.line = s->line};
	df_name_normalise(s->name, &r.fqdn);
	df_cfg_resolve_core_files(cfg, s, record_keys);
	int ok_p, ok_b;
	record_refs(cfg, s, &r, &ok_p, &ok_b);
	/* Its backend's record keys and its provider's: a key both declare
	 * goes to both. */
	const struct dnsfollow_key *bkeys =
		ok_b ? cfg->backends[r.backend_idx].plugin->record_keys : NULL;
	const struct dnsfollow_key *pkeys =
		ok_p ? cfg->providers[r.provider_idx].plugin->record_keys : NULL;
	const struct df_keyset ks = {.core = record_keys, .plugin = bkeys,
				     .plugin2 = pkeys};
	df_cfg_match_items(cfg, s, &ks);
	df_cfg_check_required(cfg, s, &ks);
	record_types(cfg, df_cfg_item(s, "type"), &r);
	record_options(s, &r);
	if (ok_p) {
		record_zone(cfg, s, &r);
		check_caps(cfg, df_cfg_item(s, "type"), s, &r);
	}
	df_cfg_take_items(cfg, s, bkeys, record_keys, &r.opts, &r.nopts);
	make_kv(r.opts, r.nopts, &r.kv, &r.nkv);
	df_cfg_take_items(cfg, s, pkeys, record_keys, &r.popts, &r.npopts);
	make_kv(r.popts, r.npopts, &r.pkv, &r.npkv);
	cfg->records = df_grow(cfg->records, cfg->nrecords, sizeof *cfg->records);
	cfg->records[cfg->nrecords++] = r;
}

static int by_fqdn(const void *a, const void *b, void *ctx)
{
	const struct df_record_cfg *r = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(r[x].fqdn ? r[x].fqdn : "", r[y].fqdn ? r[y].fqdn : "");
	if (!c)
		c = strcmp(r[x].provider ? r[x].provider : "",
			   r[y].provider ? r[y].provider : "");
	return c ? c : (x < y ? -1 : 1);
}

/* "[record Git.Example.org]" and "[record git.example.org.]" are one
 * name: two sections for it with one provider would fight over the same
 * RRsets. With different providers it is split horizon, and fine. */
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
		if (a->fqdn && b->fqdn && strcmp(a->fqdn, b->fqdn) == 0 &&
		    strcmp(a->provider ? a->provider : "", b->provider ? b->provider : "") == 0)
			df_cfg_error(cfg, b->line,
				     "%s is already a record of provider '%s' at line %d (one name may be in several sections only with different providers)",
				     b->fqdn, b->provider ? b->provider : "", a->line);
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
			df_cfg_bind_record(cfg, &cfg->sections[i]);
	check_duplicate_records(cfg);
	df_cfg_check_lifecycle(cfg);
	for (size_t i = 0; i < cfg->nbackends; i++)
		if (find_instance(cfg->providers, cfg->nproviders,
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
