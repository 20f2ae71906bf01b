#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "util.h"

/* ---- instances ------------------------------------------------------------- */

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
		fprintf(stderr, "%s:%d: %s %s (%s): %s\n", rt->cfg->path, ic->line,
			df_kind_name(ic->kind), ic->name, ic->type,
			err[0] ? err : strerror(rc < 0 ? -rc : rc));
		in->self = NULL;
		return rc;
	}
	/* Only a daemon waits for events: --once and --check-config must
	 * not start a backend's watchers (event streams, inotify). */
	if (watch && ic->kind == DNSFOLLOW_KIND_BACKEND) {
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if (ops->struct_size >= offsetof(struct dnsfollow_backend_ops, watch_ack) +
						sizeof ops->watch_ack &&
		    ops->watch_fd && ops->watch_ack)
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

/*
 * Records grouped by (provider, zone). The records themselves are put in
 * group order, so a pass walks every per-record array front to back:
 * that keeps large configs cache-friendly.
 */
static void make_groups(struct df_runtime *rt)
{
	struct df_config *cfg = rt->cfg;
	qsort(cfg->records, cfg->nrecords, sizeof *cfg->records, by_provider_zone);
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
	char **keys = df_xcalloc(n, sizeof *keys);
	size_t *order = df_xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++) {
		keys[i] = resolve_key(&rt->cfg->records[i]);
		order[i] = i;
	}
	qsort_r(order, n, sizeof *order, by_resolve_key, keys);
	rt->question = df_xcalloc(n, sizeof *rt->question);
	for (size_t i = 0; i < n; i++)
		rt->question[order[i]] =
			i && strcmp(keys[order[i - 1]], keys[order[i]]) == 0
				? rt->question[order[i - 1]]
				: order[i];
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(order);
}

/* The names a pass reads, laid out group by group in one block: a pass
 * walks them in that order, so they stay close in memory. */
static void make_record_state(struct df_runtime *rt)
{
	struct df_config *cfg = rt->cfg;
	size_t n = cfg->nrecords, bytes = 0;
	rt->outcome = df_xcalloc(n, sizeof *rt->outcome);
	rt->fqdn = df_xcalloc(n, sizeof *rt->fqdn);
	rt->txt_names = df_xcalloc(n, sizeof *rt->txt_names);
	for (size_t i = 0; i < n; i++)
		bytes += 2 * strlen(cfg->records[i].fqdn) + sizeof "_dnsfollow." + 1;
	char *p = rt->names = df_xcalloc(bytes, 1);
	for (size_t g = 0; g < rt->ngroups; g++)
		for (size_t k = 0; k < rt->groups[g].nrecs; k++) {
			size_t r = rt->groups[g].recs[k];
			rt->fqdn[r] = p;
			p = stpcpy(p, cfg->records[r].fqdn) + 1;
			rt->txt_names[r] = p;
			p = stpcpy(stpcpy(p, "_dnsfollow."), cfg->records[r].fqdn) + 1;
		}
	make_questions(rt);
}

struct df_runtime *df_runtime_new(struct df_config *cfg,
				  struct df_loader *loader, unsigned flags)
{
	struct df_runtime *rt = df_xcalloc(1, sizeof *rt);
	rt->cfg = cfg;
	rt->loader = loader;
	rt->dry_run = (flags & DF_RT_DRY_RUN) != 0;
	rt->plan_out = stdout;
	rt->marker = df_owner_marker(cfg);
	rt->backends = df_xcalloc(cfg->nbackends, sizeof *rt->backends);
	rt->providers = df_xcalloc(cfg->nproviders, sizeof *rt->providers);
	/* Make them all even after a failure, so every problem shows at once. */
	int failed = 0, watch = (flags & DF_RT_WATCH) != 0;
	for (size_t i = 0; i < cfg->nbackends; i++)
		failed |= make_instance(rt, &rt->backends[i], &cfg->backends[i], watch) != 0;
	for (size_t i = 0; i < cfg->nproviders; i++)
		failed |= make_instance(rt, &rt->providers[i], &cfg->providers[i], 0) != 0;
	make_groups(rt);
	make_record_state(rt);
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
	struct df_config *cfg = rt->cfg;
	free_instances(rt->backends, cfg->nbackends);
	free_instances(rt->providers, cfg->nproviders);
	for (size_t i = 0; i < rt->ngroups; i++)
		free(rt->groups[i].recs);
	free(rt->groups);
	free(rt->names);
	free(rt->fqdn);
	free(rt->txt_names);
	free(rt->question);
	free(rt->outcome);
	free(rt->marker);
	df_config_free(cfg);
	df_loader_free(rt->loader);
	free(rt);
}

/* ---- resolving ------------------------------------------------------------------ */

struct answer {
	int rc;
	char **v4, **v6;
	size_t n4, n6;
};

struct collect {
	struct answer *a;
	char bad[64];
};

static int on_placement(void *ctx, const struct dnsfollow_placement *p)
{
	struct collect *c = ctx;
	for (size_t i = 0; p && i < p->naddrs; i++) {
		char canon[46];
		int fam = p->addrs[i] ? df_addr_canon(p->addrs[i], canon) : 0;
		if (!fam) {
			snprintf(c->bad, sizeof c->bad, "%s",
				 p->addrs[i] ? p->addrs[i] : "(null)");
			return -EPROTO;
		}
		char ***v = fam == 4 ? &c->a->v4 : &c->a->v6;
		size_t *n = fam == 4 ? &c->a->n4 : &c->a->n6;
		*v = df_xrealloc(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = df_strdup(canon);
	}
	return 0;
}

static void answer_free(struct answer *a)
{
	for (size_t i = 0; i < a->n4; i++)
		free(a->v4[i]);
	for (size_t i = 0; i < a->n6; i++)
		free(a->v6[i]);
	free(a->v4);
	free(a->v6);
}

static void resolve_one(struct df_runtime *rt, const struct df_record_cfg *r,
			struct answer *a)
{
	struct df_inst *in = &rt->backends[r->backend_idx];
	const struct dnsfollow_backend_ops *ops = in->plugin->ops;
	struct dnsfollow_query q = {.struct_size = sizeof q,
				    .service = r->service,
				    .options = r->kv,
				    .noptions = r->nkv};
	struct collect c = {.a = a};
	df_host_reset(in->host);
	a->rc = ops->resolve(in->self, &q, on_placement, &c);
	if (a->rc == 0 && c.bad[0])
		a->rc = -EPROTO;
	if (a->rc != 0) {
		char err[1024];
		df_host_error_text(in->host, err, sizeof err);
		if (c.bad[0])
			snprintf(err, sizeof err, "returned '%s', which is no IP address",
				 c.bad);
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "service %s: %s (%s); its records keep their value",
		       r->service, err[0] ? err : strerror(-a->rc),
		       dnsfollow_err_is_temporary(a->rc) ? "temporary" : "permanent");
		return;
	}
	a->n4 = df_addr_sort_unique(a->v4, a->n4);
	a->n6 = df_addr_sort_unique(a->v6, a->n6);
}

/* Resolve each distinct question of the due records once. Returns an
 * answer index per record (SIZE_MAX for records not due). */
static size_t *resolve_due(struct df_runtime *rt, const char *due,
			   struct answer **answers, size_t *nanswers)
{
	size_t n = rt->cfg->nrecords;
	size_t *idx = df_xcalloc(n, sizeof *idx);
	for (size_t i = 0; i < n; i++)
		idx[i] = SIZE_MAX;
	*answers = df_xcalloc(n, sizeof **answers);
	*nanswers = 0;
	for (size_t g = 0; g < rt->ngroups; g++) {
		for (size_t k = 0; due[g] && k < rt->groups[g].nrecs; k++) {
			size_t r = rt->groups[g].recs[k], q = rt->question[r];
			if (idx[q] == SIZE_MAX) {
				idx[q] = (*nanswers)++;
				resolve_one(rt, &rt->cfg->records[q], &(*answers)[idx[q]]);
			}
			idx[r] = idx[q];
		}
	}
	return idx;
}

/* ---- one group -------------------------------------------------------------------- */

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct df_rrdb *db = ctx;
	if (!rr || !rr->name || (rr->count && !rr->rdata))
		return -EPROTO;
	return df_rrdb_add(db, rr);
}

static enum df_outcome outcome_of(int rc)
{
	return rc == 0 ? DF_OUT_OK
	       : dnsfollow_err_is_temporary(rc) ? DF_OUT_TEMP
						 : DF_OUT_PERM;
}

static void group_failed(struct df_runtime *rt, struct df_group *g,
			 struct df_inst *in, int rc, const char *op,
			 uint64_t now)
{
	char err[1024];
	df_host_error_text(in->host, err, sizeof err);
	unsigned ra = df_host_take_retry_after(in->host);
	if (dnsfollow_err_is_temporary(rc)) {
		g->failures++;
		uint64_t wait = df_backoff_ms(g->failures, rt->cfg->backoff_max, ra);
		g->next_ms = now + wait;
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "zone %s: %s failed: %s (temporary; retry %u in %.1f s)",
		       g->zone, op, err[0] ? err : strerror(-rc), g->failures,
		       (double)wait / 1000.0);
	} else {
		g->failures = 0;
		g->next_ms = 0;
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "zone %s: %s failed: %s (permanent; not retried before the next resync)",
		       g->zone, op, err[0] ? err : strerror(rc < 0 ? -rc : rc));
	}
}

/* Keys to read for the records of `g` whose backend answered. */
static size_t read_keys(struct df_runtime *rt, const struct df_group *g,
			const size_t *aidx, const struct answer *ans,
			struct dnsfollow_rrkey *keys)
{
	size_t n = 0;
	for (size_t k = 0; k < g->nrecs; k++) {
		size_t r = g->recs[k];
		const struct df_record_cfg *rc = &rt->cfg->records[r];
		if (ans[aidx[r]].rc != 0)
			continue;
		if (rc->types & DF_REC_A)
			keys[n++] = (struct dnsfollow_rrkey){rt->fqdn[r], DNSFOLLOW_TYPE_A};
		if (rc->types & DF_REC_AAAA)
			keys[n++] = (struct dnsfollow_rrkey){rt->fqdn[r], DNSFOLLOW_TYPE_AAAA};
		keys[n++] = (struct dnsfollow_rrkey){rt->txt_names[r], DNSFOLLOW_TYPE_TXT};
	}
	return n;
}

static void log_change(struct df_runtime *rt, struct df_inst *in,
		       const char *zone, const struct dnsfollow_change *c)
{
	char line[2048];
	if (!rt->dry_run && df_log_level() < DNSFOLLOW_LOG_INFO)
		return;
	df_change_format(c, line, sizeof line);
	if (rt->dry_run) {
		fprintf(rt->plan_out, "%s %s: %s\n", in->cfg->name, zone, line);
		return;
	}
	df_log(DNSFOLLOW_LOG_INFO, in->host->who, "zone %s: %s", zone, line);
}

/* Plan every answered record of the group; returns records changed. */
static void plan_group(struct df_runtime *rt, struct df_group *g,
		       const size_t *aidx, const struct answer *ans,
		       const struct df_rrdb *db, struct df_plan *plan,
		       char *changed)
{
	struct df_inst *in = &rt->providers[g->provider];
	for (size_t k = 0; k < g->nrecs; k++) {
		size_t r = g->recs[k];
		const struct df_record_cfg *rc = &rt->cfg->records[r];
		const struct answer *a = &ans[aidx[r]];
		changed[k] = 0;
		if (a->rc != 0)
			continue;
		struct df_want w = {
			.fqdn = rt->fqdn[r], .txt_name = rt->txt_names[r],
			.types = rc->types, .ttl = rc->ttl, .adopt = rc->adopt,
			.on_empty_delete = rc->on_empty_delete,
			.v4 = (const char *const *)a->v4, .n4 = a->n4,
			.v6 = (const char *const *)a->v6, .n6 = a->n6,
		};
		char why[1024] = "";
		enum df_rec_state s = df_plan_record(&w, db, plan, why, sizeof why);
		rt->outcome[r] = s == DF_REC_FOREIGN ? DF_OUT_PERM : DF_OUT_OK;
		changed[k] = s == DF_REC_CHANGE;
		if (s == DF_REC_FOREIGN)
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who, "zone %s: %s",
			       g->zone, why);
		else if (s == DF_REC_KEPT)
			df_log(DNSFOLLOW_LOG_WARN, in->host->who,
			       "zone %s: service %s runs nowhere; %s keeps its value (on_empty = keep)",
			       g->zone, rc->service, rc->fqdn);
	}
}

static int apply_plan(struct df_runtime *rt, struct df_group *g,
		      struct df_plan *plan)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	for (size_t i = 0; i < plan->n; i++)
		log_change(rt, in, g->zone, &plan->v[i]);
	if (rt->dry_run)
		return 0;
	df_host_reset(in->host);
	rt->apply_calls++;
	int rc = ops->apply(in->self, g->zone, plan->v, plan->n);
	if (rc == 0)
		rt->changes_applied += plan->n;
	return rc;
}

static void run_group(struct df_runtime *rt, struct df_group *g,
		      const size_t *aidx, const struct answer *ans,
		      uint64_t now, struct df_pass_stats *st)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	struct dnsfollow_rrkey *keys = df_xcalloc(g->nrecs * 3, sizeof *keys);
	size_t nkeys = read_keys(rt, g, aidx, ans, keys);
	struct df_rrdb db = {0};
	struct df_plan plan;
	char *changed = df_xcalloc(g->nrecs, 1);
	df_plan_init(&plan, rt->marker);
	int rc = 0;
	if (nkeys) {
		df_host_reset(in->host);
		rc = ops->read(in->self, g->zone, keys, nkeys, on_rrset, &db);
		if (rc != 0)
			group_failed(rt, g, in, rc, "read", now);
	}
	if (nkeys && rc == 0) {
		df_rrdb_finish(&db);
		plan_group(rt, g, aidx, ans, &db, &plan, changed);
		if (plan.n) {
			rc = apply_plan(rt, g, &plan);
			if (rc != 0)
				group_failed(rt, g, in, rc, "update", now);
			else
				st->changes += plan.n;
		}
	}
	int backend_temp = 0;
	for (size_t k = 0; k < g->nrecs; k++) {
		size_t r = g->recs[k];
		if (ans[aidx[r]].rc != 0)
			rt->outcome[r] = outcome_of(ans[aidx[r]].rc);
		else if (rc != 0 && (changed[k] || !plan.n))
			rt->outcome[r] = outcome_of(rc);
		backend_temp |= rt->outcome[r] == DF_OUT_TEMP && rc == 0;
	}
	if (rc == 0 && backend_temp) {
		g->failures++;
		g->next_ms = now + df_backoff_ms(g->failures, rt->cfg->backoff_max, 0);
	} else if (rc == 0) {
		g->failures = 0;
		g->next_ms = 0;
	}
	df_plan_free(&plan);
	df_rrdb_free(&db);
	free(changed);
	free(keys);
}

static int group_selected(const struct df_group *g, enum df_pass_kind kind,
			  uint64_t now)
{
	switch (kind) {
	case DF_PASS_ALL:
		return 1;
	case DF_PASS_DUE:
		return g->next_ms <= now;
	case DF_PASS_RETRIES:
		return g->next_ms && g->next_ms <= now;
	}
	return 0;
}

void df_pass(struct df_runtime *rt, uint64_t now, enum df_pass_kind kind,
	     struct df_pass_stats *st)
{
	memset(st, 0, sizeof *st);
	char *due = df_xcalloc(rt->ngroups + 1, 1);
	for (size_t g = 0; g < rt->ngroups; g++)
		due[g] = group_selected(&rt->groups[g], kind, now);
	struct answer *ans;
	size_t nans;
	size_t *aidx = resolve_due(rt, due, &ans, &nans);
	for (size_t g = 0; g < rt->ngroups; g++)
		if (due[g])
			run_group(rt, &rt->groups[g], aidx, ans, now, st);
	/* Totals cover every record, including groups this pass skipped. */
	for (size_t r = 0; r < rt->cfg->nrecords; r++) {
		st->ok += rt->outcome[r] == DF_OUT_OK;
		st->temp += rt->outcome[r] == DF_OUT_TEMP;
		st->perm += rt->outcome[r] == DF_OUT_PERM;
	}
	for (size_t i = 0; i < nans; i++)
		answer_free(&ans[i]);
	free(ans);
	free(aidx);
	free(due);
	if (rt->dry_run) {
		fprintf(rt->plan_out, "dry-run: %zu change(s) planned, nothing written\n",
			st->changes);
		fflush(rt->plan_out);
	}
}

uint64_t df_next_retry(const struct df_runtime *rt)
{
	uint64_t next = 0;
	for (size_t g = 0; g < rt->ngroups; g++)
		if (rt->groups[g].next_ms &&
		    (!next || rt->groups[g].next_ms < next))
			next = rt->groups[g].next_ms;
	return next;
}

int df_exit_status(const struct df_runtime *rt)
{
	int temp = 0, perm = 0;
	for (size_t i = 0; i < rt->cfg->nrecords; i++) {
		temp |= rt->outcome[i] == DF_OUT_TEMP || rt->outcome[i] == DF_OUT_NONE;
		perm |= rt->outcome[i] == DF_OUT_PERM;
	}
	return perm ? 1 : temp ? 75 : 0;
}

uint64_t df_backoff_ms(unsigned failures, unsigned max_s, unsigned floor_ms)
{
	uint64_t cap = (uint64_t)max_s * 1000u;
	uint64_t base = 1000;
	for (unsigned i = 1; i < failures && base < cap; i++)
		base *= 2;
	if (base > cap)
		base = cap;
	/* "Equal jitter": half fixed, half random, so retries spread out
	 * without ever collapsing to zero. */
	uint64_t wait = base / 2 + (uint64_t)random() % (base / 2 + 1);
	return wait < floor_ms ? floor_ms : wait;
}
