/*
 * Records a backend discovers (Swarm service labels), bound exactly like
 * [record] sections of the same config, plus the rules that keep labels
 * inside their fence; and the checks of the lifecycle keys (discover,
 * policy) once every section is bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "log.h"
#include "util.h"

int df_name_glob(const char *glob, const char *name)
{
	if (strncmp(glob, "*.", 2) != 0)
		return strcmp(glob, name) == 0;
	size_t g = strlen(glob + 1), n = strlen(name); /* ".apps.example.org" */
	return n > g && strcmp(name + n - g, glob + 1) == 0;
}

/* The line of `key` in the section of instance `ic`, else the section's. */
static int key_line(const struct df_config *cfg, const struct df_instance_cfg *ic,
		    const char *key)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct df_section *s = &cfg->sections[i];
		if (s->line != ic->line || (s->kind != S_BACKEND && s->kind != S_PROVIDER))
			continue;
		const struct df_item *it = df_cfg_item(s, key);
		return it ? it->line : s->line;
	}
	return ic->line;
}

void df_cfg_check_lifecycle(struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nbackends; i++) {
		const struct df_instance_cfg *b = &cfg->backends[i];
		const struct dnsfollow_backend_ops *ops = b->plugin ? b->plugin->ops : NULL;
		if (b->discover && ops && !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, discover))
			df_cfg_error(cfg, key_line(cfg, b, "discover"),
				     "backend '%s' (%s) cannot discover records; remove discover = yes",
				     b->name, b->type);
		if (b->discover_provider &&
		    df_cfg_find_instance(cfg->providers, cfg->nproviders,
					 b->discover_provider) < 0)
			df_cfg_error(cfg, key_line(cfg, b, "discover_provider"),
				     "discover_provider: no [provider %s] section",
				     b->discover_provider);
		else if (!b->discover && (b->discover_provider || b->ndiscover_names))
			df_warn("%s:%d: discover_provider and discover_names have no effect without discover = yes",
				cfg->path, key_line(cfg, b, "discover"));
	}
	for (size_t i = 0; i < cfg->nproviders; i++) {
		const struct df_instance_cfg *p = &cfg->providers[i];
		const struct dnsfollow_provider_ops *ops = p->plugin ? p->plugin->ops : NULL;
		if (p->sync && ops && !DNSFOLLOW_HAS(ops, struct dnsfollow_provider_ops, markers))
			df_cfg_error(cfg, key_line(cfg, p, "policy"),
				     "provider '%s' (%s) cannot list its ownership markers, which policy = sync needs; use policy = upsert-only",
				     p->name, p->type);
		/* sync deletes what this owner_id holds: two installations
		 * left on the default would delete each other's names. */
		else if (p->sync && !cfg->owner_given)
			df_cfg_error(cfg, key_line(cfg, p, "policy"),
				     "policy = sync deletes the names its owner_id holds: set owner_id in [dnsfollow] to a name no other dnsfollow writing to these zones uses");
		else if (p->sync && p->nzones == 0)
			df_cfg_error(cfg, key_line(cfg, p, "policy"),
				     "policy = sync needs the zones it cleans: list them in zones =");
	}
}

/* A record key some plugin declares as a path or a secret: a label must
 * not name files or hand out credentials. */
static int path_or_secret(const struct df_config *cfg, const char *key)
{
	const struct df_instance_cfg *lists[] = {cfg->backends, cfg->providers};
	size_t counts[] = {cfg->nbackends, cfg->nproviders};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++) {
			const struct dnsfollow_plugin *p = lists[l][i].plugin;
			const struct dnsfollow_key *k =
				p ? df_cfg_find_key(p->record_keys, key) : NULL;
			if (k && (k->type == DNSFOLLOW_T_PATH || k->type == DNSFOLLOW_T_SECRET))
				return 1;
		}
	return 0;
}

/* Keys a label may not give: a label must not take over records
 * dnsfollow does not own, read files, or point at another backend. */
static int refused_key(const struct df_config *cfg, const char *key, char *err,
		       size_t len)
{
	size_t n = strlen(key);
	if (strcmp(key, "adopt") == 0)
		snprintf(err, len, "adopt cannot be set by the orchestrator (it would take over records dnsfollow does not own); use a [record] section");
	else if (n > 5 && strcmp(key + n - 5, "_file") == 0)
		snprintf(err, len, "%s: the orchestrator cannot make dnsfollow read files", key);
	else if (strcmp(key, "backend") == 0 || strcmp(key, "service") == 0)
		snprintf(err, len, "%s cannot be set by the orchestrator", key);
	else if (path_or_secret(cfg, key))
		snprintf(err, len, "%s (a path or a secret) cannot be set by the orchestrator", key);
	else
		return 0;
	return 1;
}

static void add_item(struct df_section *s, const char *key, const char *value)
{
	s->items = df_grow(s->items, s->nitems, sizeof *s->items);
	struct df_item *it = &s->items[s->nitems++];
	memset(it, 0, sizeof *it);
	it->key = df_strdup(key);
	it->value = df_strdup(value ? value : "");
}

static void section_free(struct df_section *s)
{
	for (size_t i = 0; i < s->nitems; i++) {
		free(s->items[i].key);
		free(s->items[i].value);
	}
	free(s->items);
	free(s->name);
	free(s->header);
}

/* The section a [record NAME] with these keys would be. */
static int make_section(const struct df_config *cfg, size_t backend,
			const char *fqdn, const char *service,
			const struct dnsfollow_kv *keys, size_t nkeys,
			struct df_section *s, char *err, size_t len)
{
	const struct df_instance_cfg *b = &cfg->backends[backend];
	const char *provider = b->discover_provider;
	memset(s, 0, sizeof *s);
	s->kind = S_RECORD;
	s->name = df_strdup(fqdn);
	s->header = df_strdup("record");
	for (size_t i = 0; i < nkeys; i++) {
		if (!keys[i].key || refused_key(cfg, keys[i].key, err, len))
			return keys[i].key ? -1 : (snprintf(err, len, "a key without a name"), -1);
		if (strcmp(keys[i].key, "provider") == 0)
			provider = keys[i].value;
		else
			add_item(s, keys[i].key, keys[i].value);
	}
	if (!provider || !*provider) {
		snprintf(err, len, "no provider: give one (the provider label) or set discover_provider in [backend %s]",
			 b->name);
		return -1;
	}
	add_item(s, "provider", provider);
	add_item(s, "backend", b->name);
	add_item(s, "service", service);
	return 0;
}

/* The fence: a discovered name lies inside one of its provider's zones
 * (checked while binding: no zone, no record) and inside the backend's
 * discover_names when given. */
static int fenced(const struct df_config *cfg, size_t backend,
		  const struct df_record_cfg *r, char *err, size_t len)
{
	const struct df_instance_cfg *b = &cfg->backends[backend];
	const struct df_instance_cfg *p = &cfg->providers[r->provider_idx];
	if (strncmp(r->fqdn, "_dnsfollow.", 11) == 0 || strcmp(r->fqdn, "_dnsfollow") == 0) {
		snprintf(err, len, "%s: names under _dnsfollow hold ownership markers, never records",
			 r->fqdn);
		return 1;
	}
	if (p->nzones == 0) {
		snprintf(err, len, "%s: provider '%s' lists no zones, and discovered names must lie inside one",
			 r->fqdn, p->name);
		return 1;
	}
	int in = b->ndiscover_names == 0;
	for (size_t i = 0; !in && i < b->ndiscover_names; i++)
		in = df_name_glob(b->discover_names[i], r->fqdn);
	if (!in) {
		char *globs = df_strv_join(b->discover_names, b->ndiscover_names, ", ");
		snprintf(err, len, "%s is outside discover_names of [backend %s] (%s)",
			 r->fqdn, b->name, globs);
		free(globs);
		return 1;
	}
	return 0;
}

int df_config_bind_discovered(struct df_config *cfg, size_t backend,
			      const char *fqdn, const char *service,
			      const struct dnsfollow_kv *keys, size_t nkeys,
			      struct df_record_cfg *out, char *err, size_t len)
{
	struct df_section s;
	memset(out, 0, sizeof *out);
	char *name = NULL;
	if (!fqdn || df_name_normalise(fqdn, &name) != 0) {
		snprintf(err, len, "'%s' is not a valid DNS name", fqdn ? fqdn : "");
		free(name);
		return DF_DISC_FENCED;
	}
	if (make_section(cfg, backend, name, service ? service : "", keys, nkeys,
			 &s, err, len) != 0) {
		section_free(&s);
		free(name);
		return DF_DISC_BAD;
	}
	free(name);
	/* Bound on a scratch copy: its errors and record are this label's. */
	struct df_config scratch = *cfg;
	scratch.records = NULL;
	scratch.nrecords = 0;
	scratch.errors = NULL;
	scratch.nerrors = 0;
	scratch.no_lines = 1;
	df_cfg_bind_record(&scratch, &s);
	section_free(&s);
	int rc = 0;
	if (scratch.nerrors) {
		snprintf(err, len, "%s", scratch.errors[0]);
		rc = DF_DISC_BAD;
	} else if (scratch.nrecords == 1) {
		*out = scratch.records[0];
		scratch.nrecords = 0;
		if (fenced(cfg, backend, out, err, len)) {
			df_record_cfg_clear(out);
			rc = DF_DISC_FENCED;
		}
	}
	for (size_t i = 0; i < scratch.nrecords; i++)
		df_record_cfg_clear(&scratch.records[i]);
	free(scratch.records);
	for (size_t i = 0; i < scratch.nerrors; i++)
		free(scratch.errors[i]);
	free(scratch.errors);
	return rc;
}
