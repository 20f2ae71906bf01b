/*
 * One group's job, run on a worker thread: read the zone, plan every
 * record, apply the plan. A batch the provider refuses for good is split
 * along record boundaries, so one offending record does not keep the
 * other records of its zone from converging.
 */
#include "reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct df_rrdb *db = ctx;
	if (!rr || !rr->name || (rr->count && !rr->rdata))
		return -EPROTO;
	return df_rrdb_add(db, rr);
}

/* Keys to read for the records whose backend answered: the types it
 * writes, what may not sit beside them, and the ownership marker. */
static size_t read_keys(const struct df_job *j, size_t n,
			struct dnsfollow_rrkey *keys)
{
	size_t nk = 0;
	for (size_t k = 0; k < n; k++) {
		const struct df_want *w = &j->wants[k];
		if (!w->fqdn)
			continue;
		if (w->types & DF_REC_A)
			keys[nk++] = (struct dnsfollow_rrkey){w->fqdn, DNSFOLLOW_TYPE_A};
		if (w->types & DF_REC_AAAA)
			keys[nk++] = (struct dnsfollow_rrkey){w->fqdn, DNSFOLLOW_TYPE_AAAA};
		keys[nk++] = (struct dnsfollow_rrkey){w->fqdn, DF_CONFLICT_TYPE};
		keys[nk++] = (struct dnsfollow_rrkey){w->txt_name, DNSFOLLOW_TYPE_TXT};
	}
	return nk;
}

static void plan_text(struct df_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void plan_text(struct df_job *j, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	j->plan_text = df_xrealloc(j->plan_text, j->plan_len + len + 2, 1);
	memcpy(j->plan_text + j->plan_len, line, len);
	j->plan_len += len;
	j->plan_text[j->plan_len++] = '\n';
	j->plan_text[j->plan_len] = '\0';
}

/* Where each record's changes sit in the plan: [first[k], first[k+1]). */
struct span {
	size_t *first; /* nrecs + 1 entries */
	size_t nrecs;
};

static void plan_all(struct df_runtime *rt, struct df_job *j,
		     const struct df_group *g, const struct df_rrdb *db,
		     struct df_plan *plan, struct span *sp)
{
	struct df_inst *in = &rt->providers[g->provider];
	sp->nrecs = g->nrecs;
	sp->first = df_xcalloc(g->nrecs + 1, sizeof *sp->first);
	for (size_t k = 0; k < g->nrecs; k++) {
		const struct df_want *w = &j->wants[k];
		sp->first[k] = plan->n;
		if (!w->fqdn)
			continue;
		char why[1024] = "";
		enum df_rec_state s = df_plan_record(w, db, plan, why, sizeof why);
		j->out[k] = s == DF_REC_FOREIGN ? DF_OUT_PERM
			    : s == DF_REC_CHANGE && rt->dry_run ? DF_OUT_PLANNED
								: DF_OUT_OK;
		if (s == DF_REC_FOREIGN)
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who, "zone %s: %s",
			       g->zone, why);
		else if (s == DF_REC_KEPT)
			df_log(DNSFOLLOW_LOG_WARN, in->host->who,
			       "zone %s: service %s runs nowhere; %s keeps its value (on_empty = %s)",
			       g->zone, rt->recs[g->recs[k]].cfg->service, w->fqdn,
			       rt->recs[g->recs[k]].cfg->on_empty_delete ? "delete, not settled yet" : "keep");
	}
	sp->first[g->nrecs] = plan->n;
}

/* Log what a batch did, after it did it. */
static void log_changes(struct df_runtime *rt, struct df_job *j,
			const struct df_group *g, const struct dnsfollow_change *c,
			size_t n, int rc)
{
	struct df_inst *in = &rt->providers[g->provider];
	char line[2048];
	for (size_t i = 0; i < n; i++) {
		df_change_format(&c[i], line, sizeof line);
		if (rt->dry_run)
			plan_text(j, "%s %s: %s", in->cfg->name, g->zone, line);
		else if (rc == 0)
			df_log(DNSFOLLOW_LOG_INFO, in->host->who, "zone %s: %s",
			       g->zone, line);
		else
			df_log(DNSFOLLOW_LOG_INFO, in->host->who,
			       "zone %s: not applied: %s", g->zone, line);
	}
}

/* Errors that concern the zone or the credentials, not one change:
 * splitting the batch would only repeat them. */
static int zone_wide(int rc)
{
	return dnsfollow_err_is_temporary(rc) || rc == -EACCES || rc == -EPERM ||
	       rc == -ENOENT || rc == -ENOTSUP || rc == -ECANCELED;
}

/* Apply the changes of records [lo, hi). On a refusal of several
 * records, halve and try again, so the offending ones are found in
 * O(log n) calls each; they alone fail. Returns 0 when all went in. */
static int apply_span(struct df_runtime *rt, struct df_job *j,
		      const struct df_group *g, const struct df_plan *plan,
		      const struct span *sp, size_t lo, size_t hi)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	size_t a = sp->first[lo], n = sp->first[hi] - a;
	if (n == 0)
		return 0;
	if (df_stopping())
		return -ECANCELED; /* no new write after SIGTERM */
	df_host_reset(in->host);
	__atomic_add_fetch(&rt->apply_calls, 1, __ATOMIC_RELAXED);
	int rc = ops->apply(in->self, g->zone, plan->v + a, n);
	if (rc == 0) {
		log_changes(rt, j, g, plan->v + a, n, 0);
		j->changes += n;
		return 0;
	}
	char err[1024];
	df_host_error_text(in->host, err, sizeof err);
	if (hi - lo > 1 && !zone_wide(rc)) {
		df_log(DNSFOLLOW_LOG_WARN, in->host->who,
		       "zone %s: a batch of %zu record(s) was refused (%s); trying them in smaller batches",
		       g->zone, hi - lo, err[0] ? err : strerror(-rc));
		size_t mid = lo + (hi - lo) / 2;
		int r1 = apply_span(rt, j, g, plan, sp, lo, mid);
		int r2 = apply_span(rt, j, g, plan, sp, mid, hi);
		return r1 ? r1 : r2;
	}
	log_changes(rt, j, g, plan->v + a, n, rc);
	if (hi - lo == 1 && !zone_wide(rc)) {
		/* One record refused for good: it fails alone. */
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "zone %s: %s refused: %s (permanent; the zone's other records go on)",
		       g->zone, j->wants[lo].fqdn, err[0] ? err : strerror(-rc));
		j->out[lo] = DF_OUT_PERM;
		return 0;
	}
	for (size_t k = lo; k < hi; k++)
		if (sp->first[k + 1] > sp->first[k])
			j->out[k] = DF_OUT_NONE; /* set from j->rc by the caller */
	snprintf(j->err, sizeof j->err, "%s", err);
	j->retry_after = df_host_take_retry_after(in->host);
	return rc;
}

static int read_zone(struct df_runtime *rt, struct df_job *j,
		     const struct df_group *g, struct df_rrdb *db)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	struct dnsfollow_rrkey *keys = df_xcalloc(g->nrecs * 4 + 1, sizeof *keys);
	size_t nkeys = read_keys(j, g->nrecs, keys);
	int rc = 0;
	if (nkeys) {
		df_host_reset(in->host);
		rc = ops->read(in->self, g->zone, keys, nkeys, on_rrset, db);
		if (rc != 0) {
			df_host_error_text(in->host, j->err, sizeof j->err);
			j->retry_after = df_host_take_retry_after(in->host);
		}
	}
	free(keys);
	df_rrdb_finish(db);
	return nkeys ? rc : 1;
}

void df_job_run(struct df_runtime *rt, struct df_job *j)
{
	const struct df_group *g = &rt->groups[j->group];
	struct df_rrdb db = {0};
	struct df_plan plan;
	struct span sp = {0};
	df_plan_init(&plan, rt->marker);
	j->op = "read";
	int rc = read_zone(rt, j, g, &db);
	if (rc == 0) {
		plan_all(rt, j, g, &db, &plan, &sp);
		j->op = "update";
		if (rt->dry_run) {
			log_changes(rt, j, g, plan.v, plan.n, 0);
			j->changes = plan.n;
		} else {
			rc = apply_span(rt, j, g, &plan, &sp, 0, g->nrecs);
		}
	}
	j->rc = rc > 0 ? 0 : rc;
	free(sp.first);
	df_plan_free(&plan);
	df_rrdb_free(&db);
}
