/*
 * [record FQDN] sections: their references (provider, backend, service),
 * types, zone and options, checked and bound to a struct df_record_cfg;
 * discovered records go through the same code (cfg_discover.c). One name
 * twice with one provider is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cfg_int.h"
#include "util.h"

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
						       sizeof *p->zsorted, df_cfg_by_zone)
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
		ssize_t i = df_cfg_find_instance(cfg->providers, cfg->nproviders, pv->value);
		if (i < 0)
			df_cfg_error(cfg, pv->line, "no [provider %s] section", pv->value);
		else {
			r->provider_idx = (size_t)i;
			*ok_provider = cfg->providers[i].plugin != NULL;
		}
		r->provider = df_strdup(pv->value);
	}
	if (bk && *bk->value) {
		ssize_t i = df_cfg_find_instance(cfg->backends, cfg->nbackends, bk->value);
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

/* Judged with the other core keys (df_cfg_record_keys): only read here. */
static void record_options(const struct df_section *s, struct df_record_cfg *r)
{
	r->ttl = (uint32_t)df_cfg_core_num(s, "ttl");
	r->adopt = (int)df_cfg_core_num(s, "adopt");
	r->on_empty_delete = df_cfg_core_num(s, "on_empty") == 1; /* "delete" */
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
	df_cfg_resolve_core_files(cfg, s, df_cfg_record_keys);
	int ok_p, ok_b;
	record_refs(cfg, s, &r, &ok_p, &ok_b);
	/* Its backend's record keys and its provider's: a key both declare
	 * goes to both. */
	const struct dnsfollow_key *bkeys =
		ok_b ? cfg->backends[r.backend_idx].plugin->record_keys : NULL;
	const struct dnsfollow_key *pkeys =
		ok_p ? cfg->providers[r.provider_idx].plugin->record_keys : NULL;
	const struct df_keyset ks = {.core = df_cfg_record_keys, .plugin = bkeys,
				     .plugin2 = pkeys};
	df_cfg_match_items(cfg, s, &ks);
	df_cfg_check_required(cfg, s, &ks);
	record_types(cfg, df_cfg_item(s, "type"), &r);
	record_options(s, &r);
	if (ok_p) {
		record_zone(cfg, s, &r);
		check_caps(cfg, df_cfg_item(s, "type"), s, &r);
	}
	df_cfg_take_items(cfg, s, bkeys, df_cfg_record_keys, &r.opts, &r.nopts);
	df_cfg_make_kv(r.opts, r.nopts, &r.kv, &r.nkv);
	df_cfg_take_items(cfg, s, pkeys, df_cfg_record_keys, &r.popts, &r.npopts);
	df_cfg_make_kv(r.popts, r.npopts, &r.pkv, &r.npkv);
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
void df_cfg_check_duplicate_records(struct df_config *cfg)
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

