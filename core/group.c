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
#include "metrics.h"
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
		for (size_t i = 0; i < w->nsets; i++)
			keys[nk++] = (struct dnsfollow_rrkey){w->fqdn, w->sets[i].type};
		for (size_t i = 0; i < w->nothers; i++)
			keys[nk++] = (struct dnsfollow_rrkey){w->fqdn, w->others[i]};
		keys[nk++] = (struct dnsfollow_rrkey){w->txt_name, DNSFOLLOW_TYPE_TXT};
	}
	return nk;
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
	const struct df_grecs *gr = &j->set->grp[j->group];
	sp->nrecs = j->nwants;
	sp->first = df_xcalloc(j->nwants + 1, sizeof *sp->first);
	for (size_t k = 0; k < j->nwants; k++) {
		const struct df_want *w = &j->wants[k];
		sp->first[k] = plan->n;
		if (!w->fqdn || j->skip[k])
			continue; /* backend failed, or refused in an earlier round */
		char why[1024] = "";
		enum df_rec_state s = df_plan_record(w, db, plan, why, sizeof why);
		j->out[k] = s == DF_REC_FOREIGN || s == DF_REC_BAD ? DF_OUT_PERM
			    : s == DF_REC_CHANGE && rt->dry_run ? DF_OUT_PLANNED
								: DF_OUT_OK;
		if (s == DF_REC_FOREIGN || s == DF_REC_BAD)
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who, "zone %s: %s",
			       g->zone, why);
		else if (s == DF_REC_KEPT)
			df_log(DNSFOLLOW_LOG_WARN, in->host->who,
			       "zone %s: service %s runs nowhere; %s keeps its value (on_empty = %s)",
			       g->zone, j->set->recs[gr->v[k]].cfg->service, w->fqdn,
			       j->set->recs[gr->v[k]].cfg->on_empty_delete ? "delete, not settled yet" : "keep");
	}
	sp->first[j->nwants] = plan->n;
}

/* Log what a batch did, after it did it (a result the provider wrote
 * for a change beats the batch's return code). */
static void log_changes(struct df_runtime *rt, struct df_job *j,
			const struct df_group *g, const struct dnsfollow_change *c,
			size_t n, int rc, const int *res)
{
	struct df_inst *in = &rt->providers[g->provider];
	char line[2048];
	for (size_t i = 0; i < n; i++) {
		int r = res && res[i] != DNSFOLLOW_RESULT_UNKNOWN ? res[i] : rc;
		if (rt->dry_run) {
			df_plan_out_change(rt, j, in->cfg->name, g->zone, &c[i]);
			continue;
		}
		df_change_format(&c[i], line, sizeof line);
		if (r == 0)
			df_log(DNSFOLLOW_LOG_INFO, in->host->who, "zone %s: %s",
			       g->zone, line);
		else
			df_log(DNSFOLLOW_LOG_INFO, in->host->who,
			       "zone %s: not applied: %s", g->zone, line);
	}
}


/* One apply() of the changes of the records `recs[0..nrecs)`, through
 * a changeset carrying each change's group (its record), its record's
 * provider options and a result slot. */
struct batch {
	struct dnsfollow_change *ch;
	uint32_t *grp;
	struct dnsfollow_options *opt;
	int *res;
	size_t n;
};

static void batch_make(const struct df_job *j, const struct df_plan *plan,
		       const struct span *sp, const size_t *recs, size_t nrecs,
		       struct batch *b)
{
	const struct df_grecs *gr = &j->set->grp[j->group];
	size_t n = 0;
	for (size_t i = 0; i < nrecs; i++)
		n += sp->first[recs[i] + 1] - sp->first[recs[i]];
	b->ch = df_xcalloc(n + 1, sizeof *b->ch);
	b->grp = df_xcalloc(n + 1, sizeof *b->grp);
	b->opt = df_xcalloc(n + 1, sizeof *b->opt);
	b->res = df_xcalloc(n + 1, sizeof *b->res);
	b->n = 0;
	for (size_t i = 0; i < nrecs; i++) {
		/* An orphan being deleted has no record, so no options. */
		const struct df_record_cfg *rc =
			recs[i] < j->nrecs ? j->set->recs[gr->v[recs[i]]].cfg : NULL;
		for (size_t c = sp->first[recs[i]]; c < sp->first[recs[i] + 1]; c++) {
			b->ch[b->n] = plan->v[c];
			b->grp[b->n] = (uint32_t)recs[i];
			b->opt[b->n] = rc ? (struct dnsfollow_options){rc->pkv, rc->npkv}
					  : (struct dnsfollow_options){NULL, 0};
			b->res[b->n++] = DNSFOLLOW_RESULT_UNKNOWN;
		}
	}
}

static void batch_free(struct batch *b)
{
	free(b->ch);
	free(b->grp);
	free(b->opt);
	free(b->res);
}

static int apply_records(struct df_runtime *rt, struct df_job *j,
			 const struct df_group *g, const struct df_plan *plan,
			 const struct span *sp, size_t *recs, size_t nrecs);

/* dnsfollow_changes_total: what went in (a change the provider says it
 * refused did not). */
static void count_changes(const struct df_inst *in, const struct df_group *g,
			  const struct batch *b, int rc)
{
	for (size_t c = 0; c < b->n; c++)
		if (b->res[c] == 0 || (rc == 0 && b->res[c] == DNSFOLLOW_RESULT_UNKNOWN))
			df_metric_add("dnsfollow_changes_total", 1, "provider", in->cfg->name,
				      "zone", g->zone, "op",
				      b->ch[c].op == DNSFOLLOW_CHANGE_DELETE ? "delete" : "set", NULL);
}

/* apply_records(): plan again from a fresh read (see retry_without). */
#define DF_REPLAN 1

/* An atomic provider wrote nothing when it refused a batch. */
static int provider_atomic(const struct df_inst *in)
{
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	return (ops->caps & DNSFOLLOW_CAP_ATOMIC) != 0;
}

/* No new write once the daemon stops or this runtime was replaced. */
static int must_not_write(const struct df_runtime *rt)
{
	return df_stopping() || __atomic_load_n(&rt->cancelled, __ATOMIC_SEQ_CST);
}

/* The provider named the changes it refused: their records fail alone
 * (reported), the others go in again without them. */
static int retry_without(struct df_runtime *rt, struct df_job *j,
			 const struct df_group *g, const struct df_plan *plan,
			 const struct span *sp, size_t *recs, size_t nrecs,
			 const struct batch *b, const char *err)
{
	struct df_inst *in = &rt->providers[g->provider];
	size_t keep = 0;
	for (size_t i = 0; i < nrecs; i++) {
		int bad = 0;
		for (size_t c = 0; c < b->n; c++)
			if (b->grp[c] == recs[i] && b->res[c] < 0 && !bad) {
				bad = b->res[c];
				df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
				       "zone %s: %s refused: %s (the zone's other records go on)",
				       g->zone, j->wants[recs[i]].fqdn, err);
			}
		if (bad) {
			j->out[recs[i]] = dnsfollow_err_is_temporary(bad) ? DF_OUT_TEMP : DF_OUT_PERM;
			j->skip[recs[i]] = 1;
		} else {
			recs[keep++] = recs[i];
		}
	}
	/* An atomic provider wrote nothing: the same plan (and its `old`
	 * RRsets) still holds. Any other may have written part of it, so
	 * the zone is read again before the rest goes in. */
	if (!provider_atomic(in))
		return keep ? DF_REPLAN : 0;
	return apply_records(rt, j, g, plan, sp, recs, keep);
}

/* A refusal without results: halve and try again, so the offending
 * records are found in O(log n) calls each; they alone fail. */
static int bisect(struct df_runtime *rt, struct df_job *j, const struct df_group *g,
		  const struct df_plan *plan, const struct span *sp, size_t *recs,
		  size_t nrecs, const char *err)
{
	struct df_inst *in = &rt->providers[g->provider];
	if (nrecs > 1) {
		df_log(DNSFOLLOW_LOG_WARN, in->host->who,
		       "zone %s: a batch of %zu record(s) was refused (%s); trying them in smaller batches",
		       g->zone, nrecs, err);
		size_t mid = nrecs / 2;
		int r1 = apply_records(rt, j, g, plan, sp, recs, mid);
		int r2 = apply_records(rt, j, g, plan, sp, recs + mid, nrecs - mid);
		return r1 ? r1 : r2;
	}
	df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
	       "zone %s: %s refused: %s (permanent; the zone's other records go on)",
	       g->zone, j->wants[recs[0]].fqdn, err);
	j->out[recs[0]] = DF_OUT_PERM;
	return 0;
}

/* Errors that concern the zone or the credentials, not one change:
 * splitting the batch would only repeat them. */
static int zone_wide(int rc)
{
	return dnsfollow_err_is_temporary(rc) || rc == -EACCES || rc == -EPERM ||
	       rc == -ENOENT || rc == -ENOTSUP || rc == -ECANCELED;
}

static int apply_records(struct df_runtime *rt, struct df_job *j,
			 const struct df_group *g, const struct df_plan *plan,
			 const struct span *sp, size_t *recs, size_t nrecs)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	struct batch b;
	batch_make(j, plan, sp, recs, nrecs, &b);
	if (b.n == 0 || must_not_write(rt)) {
		batch_free(&b);
		return b.n ? -ECANCELED : 0;
	}
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = g->zone, .changes = b.ch,
		.n = b.n, .results = b.res, .groups = b.grp, .options = b.opt,
	};
	df_host_reset(in->host);
	__atomic_add_fetch(&rt->apply_calls, 1, __ATOMIC_RELAXED);
	int rc = ops->apply(in->self, &cs);
	char err[1024];
	df_host_error_text(in->host, err, sizeof err);
	if (!err[0] && rc)
		snprintf(err, sizeof err, "%s", strerror(-rc));
	log_changes(rt, j, g, b.ch, b.n, rc, b.res);
	count_changes(in, g, &b, rc);
	int named = 0, atomic = provider_atomic(in);
	for (size_t c = 0; c < b.n; c++)
		named |= b.res[c] < 0;
	if (rc == 0 && named) {
		/* Went in, but for the changes the provider says it refused:
		 * their records failed; nothing is retried. */
		for (size_t c = 0; c < b.n; c++)
			if (b.res[c] < 0 && !j->skip[b.grp[c]]) {
				j->skip[b.grp[c]] = 1;
				j->out[b.grp[c]] = dnsfollow_err_is_temporary(b.res[c]) ? DF_OUT_TEMP
											: DF_OUT_PERM;
				df_log(DNSFOLLOW_LOG_ERROR, in->host->who, "zone %s: %s refused: %s",
				       g->zone, j->wants[b.grp[c]].fqdn, err[0] ? err : strerror(-b.res[c]));
			}
		j->changes += b.n;
	} else if (rc == 0) {
		j->changes += b.n;
	} else {
		if (named && !zone_wide(rc))
			rc = retry_without(rt, j, g, plan, sp, recs, nrecs, &b, err);
		else if (!zone_wide(rc) && atomic)
			rc = bisect(rt, j, g, plan, sp, recs, nrecs, err);
		else {
			for (size_t i = 0; i < nrecs; i++)
				if (sp->first[recs[i] + 1] > sp->first[recs[i]])
					j->out[recs[i]] = DF_OUT_NONE; /* from j->rc */
			snprintf(j->err, sizeof j->err, "%s", err);
			j->retry_after = df_host_take_retry_after(in->host);
		}
	}
	batch_free(&b);
	return rc;
}

static int read_zone(struct df_runtime *rt, struct df_job *j,
		     const struct df_group *g, struct df_rrdb *db)
{
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	struct dnsfollow_rrkey *keys =
		df_xcalloc(j->nwants * (DF_MAX_TYPES + DF_MAX_OTHERS + 1) + 1, sizeof *keys);
	size_t nkeys = read_keys(j, j->nwants, keys);
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

/* One read, plan and apply; DF_REPLAN asks for another round. */
static int job_round(struct df_runtime *rt, struct df_job *j)
{
	const struct df_group *g = &rt->groups[j->group];
	struct df_rrdb db = {0};
	struct df_plan plan;
	struct span sp = {0};
	df_plan_init(&plan, rt->marker);
	j->op = "read";
	int rc = must_not_write(rt) ? -ECANCELED : read_zone(rt, j, g, &db);
	if (rc == 0) {
		plan_all(rt, j, g, &db, &plan, &sp);
		j->op = "update";
		if (rt->dry_run) {
			log_changes(rt, j, g, plan.v, plan.n, 0, NULL);
			j->changes = plan.n;
		} else {
			size_t *recs = df_xcalloc(j->nwants + 1, sizeof *recs), n = 0;
			for (size_t k = 0; k < j->nwants; k++)
				if (!j->skip[k])
					recs[n++] = k;
			rc = apply_records(rt, j, g, &plan, &sp, recs, n);
			free(recs);
		}
	} else if (rc > 0) {
		rc = 0; /* nothing to read: every backend failed */
	}
	free(sp.first);
	df_plan_free(&plan);
	df_rrdb_free(&db);
	return rc;
}

void df_job_run(struct df_runtime *rt, struct df_job *j)
{
	/* Each round leaves out at least one more refused record, so the
	 * rounds are bounded by the group's size; four are plenty. */
	df_job_orphans(rt, j);
	int rc = DF_REPLAN;
	for (int round = 0; round < 4 && rc == DF_REPLAN; round++)
		rc = job_round(rt, j);
	j->rc = rc > 0 ? 0 : rc;
}
