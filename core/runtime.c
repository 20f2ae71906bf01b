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
	const struct df_record_cfg *x = a, *y = b;
	if (x->provider_idx != y->provider_idx)
		return x->provider_idx < y->provider_idx ? -1 : 1;
	int c = strcmp(x->zone, y->zone);
	if (c)
		return c;
	/* Keep config order inside a group. */
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Records grouped by (provider, zone), and put in group order so a pass
 * walks them front to back. */
static void make_groups(struct df_runtime *rt)
{
	struct df_config *cfg = rt->cfg;
	if (cfg->nrecords)
		qsort(cfg->records, cfg->nrecords, sizeof *cfg->records,
		      by_provider_zone);
	for (size_t i = 0; i < cfg->nrecords; i++) {
		const struct df_record_cfg *r = &cfg->records[i];
		struct df_group *g = rt->ngroups ? &rt->groups[rt->ngroups - 1] : NULL;
		if (!g || g->provider != r->provider_idx || strcmp(g->zone, r->zone)) {
			rt->groups = df_grow(rt->groups, rt->ngroups, sizeof *rt->groups);
			g = &rt->groups[rt->ngroups++];
			memset(g, 0, sizeof *g);
			g->provider = r->provider_idx;
			g->zone = r->zone;
		}
		g->recs = df_grow(g->recs, g->nrecs, sizeof *g->recs);
		g->recs[g->nrecs++] = i;
	}
}

/* A string naming what resolve() is asked, so equal questions are asked
 * once per pass. */
static char *resolve_key(const struct df_record_cfg *r)
{
	size_t n = strlen(r->backend) + strlen(r->service) + 4;
	for (size_t i = 0; i < r->nkv; i++)
		n += strlen(r->kv[i].key) + strlen(r->kv[i].value) + 2;
	char *k = df_xcalloc(n, 1);
	size_t used = (size_t)snprintf(k, n, "%s\n%s\n", r->backend, r->service);
	for (size_t i = 0; i < r->nkv; i++)
		used += (size_t)snprintf(k + used, n - used, "%s=%s\n",
					 r->kv[i].key, r->kv[i].value);
	return k;
}

static int by_resolve_key(const void *a, const void *b, void *ctx)
{
	char *const *keys = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(keys[x], keys[y]);
	return c ? c : (x < y ? -1 : 1);
}

/* Records asking a backend the same question share one answer per pass;
 * who shares with whom is fixed by the config, so work it out once. */
static void make_questions(struct df_runtime *rt)
{
	size_t n = rt->cfg->nrecords;
	if (!n)
		return;
	char **keys = df_xcalloc(n, sizeof *keys);
	size_t *order = df_xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++) {
		keys[i] = resolve_key(&rt->cfg->records[i]);
		order[i] = i;
	}
	qsort_r(order, n, sizeof *order, by_resolve_key, keys);
	for (size_t i = 0; i < n; i++)
		rt->recs[order[i]].question =
			i && strcmp(keys[order[i - 1]], keys[order[i]]) == 0
				? rt->recs[order[i - 1]].question
				: order[i];
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(order);
}

/* The names a pass reads, laid out group by group in one block. */
static void make_records(struct df_runtime *rt)
{
	struct df_config *cfg = rt->cfg;
	size_t n = cfg->nrecords, bytes = 1;
	rt->recs = df_xcalloc(n ? n : 1, sizeof *rt->recs);
	for (size_t i = 0; i < n; i++)
		bytes += 2 * strlen(cfg->records[i].fqdn) + sizeof "_dnsfollow." + 1;
	char *p = rt->names = df_xcalloc(bytes, 1);
	for (size_t g = 0; g < rt->ngroups; g++)
		for (size_t k = 0; k < rt->groups[g].nrecs; k++) {
			struct df_rec *r = &rt->recs[rt->groups[g].recs[k]];
			r->cfg = &cfg->records[rt->groups[g].recs[k]];
			r->fqdn = p;
			p = stpcpy(p, r->cfg->fqdn) + 1;
			r->txt_name = p;
			p = stpcpy(stpcpy(p, "_dnsfollow."), r->cfg->fqdn) + 1;
		}
	make_questions(rt);
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

/* A watching backend is told every query the config asks it, so it
 * follows exactly those services (ABI 2 watch_set). */
static void tell_watch_set(struct df_runtime *rt)
{
	size_t n = rt->cfg->nrecords;
	struct dnsfollow_query *q = df_xcalloc(n + 1, sizeof *q);
	const struct dnsfollow_query **qs = df_xcalloc(n + 1, sizeof *qs);
	for (size_t b = 0; b < rt->cfg->nbackends; b++) {
		struct df_inst *in = &rt->backends[b];
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if (!in->self || !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_set))
			continue;
		size_t nq = 0;
		for (size_t i = 0; i < n; i++) {
			const struct df_rec *r = &rt->recs[i];
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
			       "cannot watch the %zu service(s) of the config: %s; relying on the resync interval",
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
	make_records(rt);
	failed |= check_queries(rt);
	if (!failed && watch)
		tell_watch_set(rt);
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
	for (size_t i = 0; i < rt->ngroups; i++)
		free(rt->groups[i].recs);
	free(rt->groups);
	free(rt->names);
	free(rt->recs);
	free(rt->marker);
	df_config_free(cfg);
	df_loader_free(rt->loader);
	free(rt);
}
