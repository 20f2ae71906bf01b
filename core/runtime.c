/*
 * The runtime: plugin instances, (provider, zone) groups and per-record
 * state made from a bound config, and released with it.
 */
#include "reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* A start-up problem: "FILE:LINE: ..." on stderr, or through the log
 * (time stamp, level) when a running daemon reloads. */
static void report(const struct df_runtime *rt, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(const struct df_runtime *rt, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = df_vformat_clean(2048, fmt, ap);
	va_end(ap);
	if (rt->reloading)
		df_error("%s:%d: %s", rt->cfg->path, line, msg ? msg : "");
	else
		fprintf(stderr, "%s:%d: %s\n", rt->cfg->path, line, msg ? msg : "");
	free(msg);
}

static int make_instance(struct df_runtime *rt, struct df_inst *in,
			 const struct df_instance_cfg *ic, int watch)
{
	in->cfg = ic;
	in->plugin = ic->plugin;
	in->watch_fd = -1;
	in->host = df_host_new(df_kind_name(ic->kind), ic->name);
	if (!in->host)
		return -ENOMEM;
	int rc = in->plugin->create(&in->host->pub, ic->kv, ic->nkv, &in->self);
	if (rc != 0) {
		char err[1024];
		df_host_error_text(in->host, err, sizeof err);
		report(rt, ic->line, "%s %s (%s): %s", df_kind_name(ic->kind),
		       ic->name, ic->type, err[0] ? err : strerror(rc < 0 ? -rc : rc));
		in->self = NULL;
		return rc;
	}
	/* Only a daemon waits for events: --once and --check-config must
	 * not start a backend's watchers (event streams, inotify). */
	if (watch && ic->kind == DNSFOLLOW_KIND_BACKEND) {
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if (DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_fd) &&
		    DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_ack))
			in->watch_fd = ops->watch_fd(in->self);
	}
	return 0;
}

static void free_instances(struct df_inst *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		if (v[i].self)
			v[i].plugin->destroy(v[i].self);
		df_host_free(v[i].host);
	}
	free(v);
}

static int by_provider_zone(const void *a, const void *b)
{
	const struct df_group *x = a, *y = b;
	if (x->provider != y->provider)
		return x->provider < y->provider ? -1 : 1;
	return strcmp(x->zone, y->zone);
}

static void add_group(struct df_runtime *rt, size_t provider, const char *zone)
{
	rt->groups = df_grow(rt->groups, rt->ngroups, sizeof *rt->groups);
	struct df_group *g = &rt->groups[rt->ngroups++];
	memset(g, 0, sizeof *g);
	g->provider = provider;
	g->zone = zone;
}

/* One group per (provider, zone): every zone a provider lists (records
 * may be discovered there later; orphans may sit there) and every zone
 * a [record] names. Sorted, so df_group_of can search. */
static void make_groups(struct df_runtime *rt)
{
	struct df_config *cfg = rt->cfg;
	for (size_t p = 0; p < cfg->nproviders; p++)
		for (size_t z = 0; z < cfg->providers[p].nzones; z++)
			add_group(rt, p, cfg->providers[p].zones[z]);
	if (rt->ngroups)
		qsort(rt->groups, rt->ngroups, sizeof *rt->groups, by_provider_zone);
	for (size_t i = 0; i < cfg->nrecords; i++) {
		const struct df_record_cfg *r = &cfg->records[i];
		if (r->zone && df_group_of(rt, r->provider_idx, r->zone) == SIZE_MAX) {
			add_group(rt, r->provider_idx, r->zone);
			qsort(rt->groups, rt->ngroups, sizeof *rt->groups, by_provider_zone);
		}
	}
}

size_t df_group_of(const struct df_runtime *rt, size_t provider, const char *zone)
{
	struct df_group key = {.provider = provider, .zone = zone};
	const struct df_group *g = rt->ngroups && zone
		? bsearch(&key, rt->groups, rt->ngroups, sizeof key, by_provider_zone)
		: NULL;
	return g ? (size_t)(g - rt->groups) : SIZE_MAX;
}

/* Backends check each record's options now, so a bad value is a config
 * error (exit 78) and not a failure at run time. */
static int check_queries(struct df_runtime *rt)
{
	int bad = 0;
	for (size_t i = 0; i < rt->cfg->nrecords; i++) {
		const struct df_record_cfg *r = &rt->cfg->records[i];
		struct df_inst *in = &rt->backends[r->backend_idx];
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if (!in->self || !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, check_query))
			continue;
		struct dnsfollow_query q = {.struct_size = sizeof q,
					    .service = r->service,
					    .options = r->kv,
					    .noptions = r->nkv};
		df_host_reset(in->host);
		int rc = ops->check_query(in->self, &q);
		if (rc == 0)
			continue;
		char err[1024];
		df_host_error_text(in->host, err, sizeof err);
		report(rt, r->line, "[record %s]: %s", r->fqdn,
		       err[0] ? err : strerror(rc < 0 ? -rc : rc));
		bad = 1;
	}
	return bad;
}

/* A watching backend is told every query the records ask it, the
 * discovered ones included, so it follows exactly those services. */
void df_tell_watch_set(struct df_runtime *rt)
{
	const struct df_recset *set = rt->set;
	size_t n = set->nrecs;
	struct dnsfollow_query *q = df_xcalloc(n + 1, sizeof *q);
	const struct dnsfollow_query **qs = df_xcalloc(n + 1, sizeof *qs);
	for (size_t b = 0; b < rt->cfg->nbackends; b++) {
		struct df_inst *in = &rt->backends[b];
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if (!in->self || !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_set))
			continue;
		size_t nq = 0;
		for (size_t i = 0; i < n; i++) {
			const struct df_rec *r = &set->recs[i];
			if (r->cfg->backend_idx != b || r->question != i)
				continue; /* another backend's, or asked already */
			q[nq] = (struct dnsfollow_query){.struct_size = sizeof *q,
							 .service = r->cfg->service,
							 .options = r->cfg->kv,
							 .noptions = r->cfg->nkv};
			qs[nq] = &q[nq];
			nq++;
		}
		df_host_reset(in->host);
		int rc = ops->watch_set(in->self, qs, nq);
		if (rc != 0) {
			char err[1024];
			df_host_error_text(in->host, err, sizeof err);
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "cannot watch the %zu service(s) asked for: %s; relying on the resync interval",
			       nq, err[0] ? err : strerror(-rc));
		}
	}
	free(qs);
	free(q);
}

static size_t pool_size(const struct df_runtime *rt)
{
	size_t n = rt->cfg->workers ? rt->cfg->workers : 4;
	/* One job per provider instance at a time: more threads than
	 * instances would only wait. */
	return n < rt->cfg->nproviders ? n : rt->cfg->nproviders;
}

struct df_runtime *df_runtime_new(struct df_config *cfg,
				  struct df_loader *loader, unsigned flags)
{
	struct df_runtime *rt = df_xcalloc(1, sizeof *rt);
	rt->cfg = cfg;
	rt->loader = loader;
	rt->dry_run = (flags & DF_RT_DRY_RUN) != 0;
	rt->reloading = (flags & DF_RT_RELOAD) != 0;
	rt->plan_out = stdout;
	rt->marker = df_owner_marker(cfg);
	rt->backends = df_xcalloc(cfg->nbackends + 1, sizeof *rt->backends);
	rt->providers = df_xcalloc(cfg->nproviders + 1, sizeof *rt->providers);
	/* Make them all even after a failure, so every problem shows at once. */
	int failed = 0, watch = (flags & DF_RT_WATCH) != 0;
	for (size_t i = 0; i < cfg->nbackends; i++)
		failed |= make_instance(rt, &rt->backends[i], &cfg->backends[i], watch) != 0;
	for (size_t i = 0; i < cfg->nproviders; i++)
		failed |= make_instance(rt, &rt->providers[i], &cfg->providers[i], 0) != 0;
	make_groups(rt);
	rt->found = df_xcalloc(cfg->nbackends + 1, sizeof *rt->found);
	rt->disc_rc = df_xcalloc(cfg->nbackends + 1, sizeof *rt->disc_rc);
	for (size_t b = 0; b < cfg->nbackends; b++)
		rt->disc_rc[b] = -EAGAIN; /* not asked yet: not known */
	rt->set = df_recset_build(rt, NULL, NULL, NULL);
	failed |= check_queries(rt);
	rt->watching = watch;
	if (!failed && watch)
		df_tell_watch_set(rt);
	if (!failed && !(flags & DF_RT_CHECK) && pool_size(rt))
		rt->pool = df_pool_new(rt, pool_size(rt));
	if (failed) {
		df_runtime_free(rt);
		return NULL;
	}
	return rt;
}

void df_runtime_free(struct df_runtime *rt)
{
	if (!rt)
		return;
	/* A job of this runtime still in flight (a reload replaces it)
	 * must not write answers older than the new runtime's. */
	__atomic_store_n(&rt->cancelled, 1, __ATOMIC_SEQ_CST);
	if (rt->pool && df_pool_free(rt->pool) != 0)
		return; /* a plugin call still runs: leave it all alone */
	struct df_config *cfg = rt->cfg;
	free_instances(rt->backends, cfg->nbackends);
	free_instances(rt->providers, cfg->nproviders);
	df_recset_unref(rt->set);
	for (size_t b = 0; b < cfg->nbackends; b++)
		df_found_unref(rt->found[b]);
	free(rt->found);
	free(rt->disc_rc);
	df_strv_free(rt->said);
	df_strv_free(rt->build_msgs);
	for (size_t i = 0; i < rt->ngroups; i++) {
		for (size_t k = 0; k < rt->groups[i].norph; k++)
			free(rt->groups[i].orph[k].name);
		free(rt->groups[i].orph);
	}
	free(rt->groups);
	free(rt->marker);
	df_config_free(cfg);
	df_loader_free(rt->loader);
	free(rt);
}
