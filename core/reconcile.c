/*
 * Passes: which groups run, what each record should be (with the
 * on_empty grace rule), and what happens when their jobs come back
 * (outcomes, retry schedules with capped backoff).
 */
#include "reconcile.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

static enum df_outcome outcome_of(int rc)
{
	return rc == 0 ? DF_OUT_OK
	       : dnsfollow_err_is_temporary(rc) || rc == -ECANCELED ? DF_OUT_TEMP
								    : DF_OUT_PERM;
}

static int group_selected(const struct df_group *g, enum df_pass_kind kind,
			  uint64_t now)
{
	switch (kind) {
	case DF_PASS_ALL:
		return 1;
	case DF_PASS_DUE:
		/* A retry that waits for a backend (a task on its way up, a
		 * file being written) does not hold back an event or a tick:
		 * the backend may know now. A provider's backoff holds. */
		return g->next_ms <= now || g->pending || g->backend_wait;
	case DF_PASS_RETRIES:
		return (g->next_ms && g->next_ms <= now) ||
		       (g->grace_ms && g->grace_ms <= now) || g->pending;
	}
	return 0;
}

/*
 * An empty answer deletes (on_empty = delete) only once it has settled:
 * seen in at least two resolutions in a row, on_empty_grace apart. A
 * leader change, a restart or a half-read file must never be enough.
 * Returns 1 when the record may be deleted now.
 */
static int empty_settled(struct df_runtime *rt, struct df_rec *r,
			 struct df_group *g, uint64_t now)
{
	uint64_t grace = (uint64_t)rt->cfg->on_empty_grace * 1000u;
	if (!r->cfg->on_empty_delete)
		return 0;
	if (r->empty_seen++ == 0) {
		r->empty_since = now;
		if (grace)
			df_info("%s: its service %s runs nowhere; deleted if that holds for on_empty_grace (%u s)",
				r->fqdn, r->cfg->service, rt->cfg->on_empty_grace);
	}
	if (r->empty_seen >= (grace ? 2u : 1u) && now - r->empty_since >= grace) {
		df_debug("%s: empty for %llu ms over %u lookups: on_empty = delete acts",
			 r->fqdn, (unsigned long long)(now - r->empty_since), r->empty_seen);
		return 1;
	}
	uint64_t at = r->empty_since + grace;
	if (at <= now)
		at = now + 1000; /* the second resolution is still owed */
	if (!g->grace_ms || at < g->grace_ms)
		g->grace_ms = at;
	return 0;
}

/* The answer's records for one type, by where the type takes them. */
static void want_set(const struct df_answer *a, uint16_t type,
		     struct df_want_set *ws)
{
	const struct df_rtype *rt = df_rtype(type);
	ws->type = type;
	switch (rt->src) {
	case DF_SRC_ADDR4:
		ws->v = (const char *const *)a->v4, ws->n = a->n4;
		break;
	case DF_SRC_ADDR6:
		ws->v = (const char *const *)a->v6, ws->n = a->n6;
		break;
	case DF_SRC_TARGET:
		ws->v = (const char *const *)a->targets, ws->n = a->ntargets;
		break;
	}
}

static int has_type(const uint16_t *v, size_t n, uint16_t t)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == t)
			return 1;
	return 0;
}

/* What may not sit beside the record's types at its name: beside a
 * type that stands alone, every other type the provider manages; beside
 * the others, the types that stand alone. */
static void want_others(const struct df_runtime *rt, const struct df_group *g,
			const struct df_record_cfg *rc, struct df_want *w)
{
	const struct dnsfollow_provider_ops *ops = rt->providers[g->provider].plugin->ops;
	int alone = 0;
	for (size_t i = 0; i < rc->ntypes; i++)
		alone |= df_rtype(rc->types[i])->alone;
	for (const uint16_t *t = ops->types; t && *t && w->nothers < DF_MAX_OTHERS; t++) {
		if (has_type(rc->types, rc->ntypes, *t))
			continue;
		const struct df_rtype *r = df_rtype(*t);
		if (alone || (r && r->alone))
			w->others[w->nothers++] = *t;
	}
}

/* An answer that cannot make the record: too many targets for a type
 * that holds one, or a placement without the DNS name it needs. */
static void want_check(struct df_runtime *rt, struct df_rec *rec,
		       const struct df_answer *a, struct df_want *w)
{
	char msg[512];
	for (size_t i = 0; i < w->nsets; i++) {
		const struct df_rtype *r = df_rtype(w->sets[i].type);
		if (r->max && w->sets[i].n > r->max) {
			snprintf(msg, sizeof msg,
				 "a %s holds one target, but service %s runs on %zu nodes (%s, %s%s)",
				 df_type_name(r->code), rec->cfg->service, w->sets[i].n,
				 w->sets[i].v[0], w->sets[i].v[1], w->sets[i].n > 2 ? ", ..." : "");
			w->error = df_strdup(msg); /* freed with the job */
		} else if (r->src == DF_SRC_TARGET && !w->sets[i].n && a->n4 + a->n6) {
			snprintf(msg, sizeof msg,
				 "service %s runs on a node whose DNS name %s does not know (a %s needs it: a node label or `hostname =`)",
				 rec->cfg->service, rt->backends[rec->cfg->backend_idx].cfg->name,
				 df_type_name(r->code));
			w->error = df_strdup(msg);
		}
	}
}

static void make_want(struct df_runtime *rt, struct df_group *g, struct df_rec *rec,
		      const struct df_answer *a, uint64_t now, struct df_want *w)
{
	const struct df_record_cfg *rc = rec->cfg;
	memset(w, 0, sizeof *w);
	if (a->rc != 0) {
		rec->empty_seen = 0; /* knowledge broke off: start again */
		return;
	}
	w->fqdn = rec->fqdn;
	w->txt_name = rec->txt_name;
	w->ttl = rc->ttl;
	w->adopt = rc->adopt;
	size_t wanted = 0;
	for (size_t i = 0; i < rc->ntypes; i++) {
		want_set(a, rc->types[i], &w->sets[w->nsets]);
		wanted += w->sets[w->nsets++].n;
	}
	want_others(rt, g, rc, w);
	want_check(rt, rec, a, w);
	if (wanted)
		rec->empty_seen = 0;
	else if (!w->error)
		w->on_empty_delete = empty_settled(rt, rec, g, now);
}

/* policy = sync: the job looks for orphans, starting from what the
 * group knew of them (a copy: the worker must not share it). */
static void job_orphans(struct df_runtime *rt, const struct df_group *g,
			struct df_job *j, int known, uint64_t now)
{
	j->sync = rt->cfg->providers[g->provider].sync;
	j->known = known;
	j->now = now;
	j->grace_ms = (uint64_t)rt->cfg->orphan_grace * 1000u;
	j->once = rt->max_attempts != 0;
	j->gen = rt->know_gen;
	j->set_gen = __atomic_load_n(&rt->set_gen, __ATOMIC_SEQ_CST);
	j->orph = df_xcalloc(g->norph + 1, sizeof *j->orph);
	for (size_t i = 0; i < g->norph; i++) {
		j->orph[i] = g->orph[i];
		j->orph[i].name = df_strdup(g->orph[i].name);
	}
	j->norph = g->norph;
}

static struct df_job *make_job(struct df_runtime *rt, size_t gi,
			       struct df_answers *ans, uint64_t now, int known)
{
	struct df_group *g = &rt->groups[gi];
	struct df_recset *set = rt->set;
	const struct df_grecs *gr = &set->grp[gi];
	struct df_job *j = df_xcalloc(1, sizeof *j);
	j->group = gi;
	j->set = set;
	set->refs++;
	j->ans = ans;
	ans->refs++;
	j->wants = df_xcalloc(gr->n + 1, sizeof *j->wants);
	j->nwants = j->nrecs = gr->n;
	j->skip = df_xcalloc(gr->n + 1, 1);
	j->out = df_xcalloc(gr->n + 1, sizeof *j->out);
	g->grace_ms = 0;
	for (size_t k = 0; k < gr->n; k++) {
		size_t r = gr->v[k];
		make_want(rt, g, &set->recs[r], &ans->v[ans->idx[r]], now, &j->wants[k]);
	}
	job_orphans(rt, g, j, known, now);
	return j;
}

static void orphans_free(struct df_orphan *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void df_job_free(struct df_job *j)
{
	for (size_t k = 0; k < j->nwants; k++)
		free((char *)j->wants[k].error);
	for (size_t k = j->nrecs; k < j->nwants; k++)
		free((char *)j->wants[k].txt_name); /* orphans' */
	orphans_free(j->orph, j->norph);
	df_recset_unref(j->set);
	df_answers_unref(j->ans);
	free(j->wants);
	free(j->skip);
	free(j->out);
	free(j->plan_text);
	free(j);
}

size_t df_pass_start(struct df_runtime *rt, uint64_t now, enum df_pass_kind kind)
{
	if (!rt->pool)
		return 0;
	uint64_t t0 = df_now_ms(); /* a pass's time includes asking backends */
	int discovers = !df_discovery_none(rt), asked = 0;
	if (kind != DF_PASS_RETRIES) {
		df_discover(rt);
		asked = 1;
	}
	if (!rt->ngroups)
		return 0;
	char *due = df_xcalloc(rt->ngroups, 1);
	size_t ndue = 0;
	for (size_t g = 0; g < rt->ngroups; g++) {
		struct df_group *gr = &rt->groups[g];
		/* A zone without records has work only when orphans may sit
		 * there (policy = sync). */
		if (!rt->set->grp[g].n && !rt->cfg->providers[gr->provider].sync)
			continue;
		if (!group_selected(gr, kind, now))
			continue;
		if (gr->busy) {
			gr->pending = 1; /* runs again, fresh, once done */
			continue;
		}
		due[g] = 1;
		ndue++;
	}
	/* An orphan's timer must not count as a sighting on old answers:
	 * its pass asks the orchestrator again. */
	for (size_t g = 0; ndue && discovers && !asked && g < rt->ngroups; g++)
		if (due[g] && rt->groups[g].norph) {
			df_discover(rt);
			asked = 1;
		}
	if (asked || !discovers)
		rt->know_gen++;
	if (ndue) {
		struct df_answers *ans = df_resolve(rt, due);
		/* Orphans go only on full knowledge: every discovery and
		 * every resolution of this pass succeeded. */
		int known = df_discovery_known(rt) && ans->all_ok;
		unsigned slot = rt->pass_next++ % 8;
		rt->passes[slot].start = t0;
		rt->passes[slot].left = ndue;
		df_metric_add("dnsfollow_passes_total", 1, NULL);
		for (size_t g = 0; g < rt->ngroups; g++) {
			if (!due[g])
				continue;
			rt->groups[g].busy = 1;
			rt->groups[g].pending = 0;
			struct df_job *j = make_job(rt, g, ans, now, known);
			j->pass_slot = slot;
			df_pool_submit(rt->pool, j);
		}
		df_answers_unref(ans);
	}
	free(due);
	return ndue;
}

int df_done_fd(const struct df_runtime *rt)
{
	return rt->pool ? df_pool_fd(rt->pool) : -1;
}

static void schedule_retry(struct df_runtime *rt, struct df_group *g,
			   const struct df_job *j, uint64_t now)
{
	struct df_inst *in = &rt->providers[g->provider];
	const char *err = j->err[0] ? j->err : strerror(-j->rc);
	g->failures++;
	g->attempts++;
	if (rt->max_attempts && g->attempts >= rt->max_attempts) {
		g->next_ms = 0;
		if (j->rc)
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "zone %s: %s failed: %s (temporary; no retry left in this run after %u attempt(s))",
			       g->zone, j->op, err, g->attempts);
		return;
	}
	uint64_t wait = df_backoff_ms(g->failures, rt->cfg->backoff_max,
				      j->retry_after);
	if (rt->max_attempts && wait > DF_ONCE_MAX_WAIT_MS) {
		/* --once ends rather than wait this long: say so, and do
		 * not announce a retry that will never run. */
		g->next_ms = 0;
		if (j->rc)
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "zone %s: %s failed: %s (temporary; no retry in this run: the next would be in %.0f s)",
			       g->zone, j->op, err, (double)wait / 1000.0);
		return;
	}
	g->next_ms = now + wait;
	if (j->rc)
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "zone %s: %s failed: %s (temporary; retry %u in %.1f s)",
		       g->zone, j->op, err, g->failures, (double)wait / 1000.0);
}

/* What the job learned of the group's orphans: kept when the job had
 * full knowledge, forgotten otherwise (the clock starts again). Wakes
 * the group when the first of them is due. */
static void take_orphans(struct df_runtime *rt, struct df_group *g,
			 struct df_job *j)
{
	uint64_t now = j->now; /* the pass's clock: since is on it too */
	orphans_free(g->orph, g->norph);
	g->orph = NULL;
	g->norph = 0;
	if (!j->orph_ran)
		return;
	g->orph = j->orph;
	g->norph = j->norph;
	j->orph = NULL;
	j->norph = 0;
	uint64_t grace = (uint64_t)rt->cfg->orphan_grace * 1000u;
	for (size_t i = 0; i < g->norph && !rt->max_attempts; i++) {
		uint64_t at = g->orph[i].since + grace;
		if (at <= now)
			at = now + 1000; /* the second sighting is still owed */
		if (!g->grace_ms || at < g->grace_ms)
			g->grace_ms = at;
	}
}

/* A zone's job is done: its pass's duration once its last zone is, the
 * zone's health, the failure's class. */
static void job_metrics(struct df_runtime *rt, const struct df_group *g,
			const struct df_job *j)
{
	if (rt->passes[j->pass_slot].left && --rt->passes[j->pass_slot].left == 0) {
		df_metric_pass_seconds((double)(df_now_ms() - rt->passes[j->pass_slot].start) / 1000.0);
		rt->passes_done++;
	}
	if (rt->dry_run)
		return;
	const struct df_inst *in = &rt->providers[g->provider];
	int failed = j->rc != 0;
	for (size_t k = 0; !failed && k < j->nrecs; k++)
		failed = j->out[k] == DF_OUT_TEMP || j->out[k] == DF_OUT_PERM;
	df_metric_set("dnsfollow_zone_failing", failed, "provider", in->cfg->name,
		      "zone", g->zone, NULL);
	if (!failed)
		df_metric_set("dnsfollow_last_success_timestamp_seconds",
			      (double)df_wall_time(), "provider", in->cfg->name,
			      "zone", g->zone, NULL);
	if (j->rc && j->rc != -ECANCELED)
		df_metric_add("dnsfollow_errors_total", 1, "plugin", in->host->who, "class",
			      outcome_of(j->rc) == DF_OUT_TEMP ? "temporary" : "permanent", NULL);
}

/* Gauges over the whole runtime, after jobs came back. */
static void runtime_gauges(const struct df_runtime *rt)
{
	size_t orphans = 0;
	for (size_t g = 0; g < rt->ngroups; g++)
		orphans += rt->groups[g].norph;
	df_metric_set("dnsfollow_records_managed", (double)rt->set->nrecs, NULL);
	df_metric_set("dnsfollow_orphans_pending", (double)orphans, NULL);
	for (size_t b = 0; b < rt->cfg->nbackends; b++)
		if (rt->cfg->backends[b].discover)
			df_metric_set("dnsfollow_discovered_records",
				      rt->found[b] ? (double)rt->found[b]->n : 0.0,
				      "backend", rt->cfg->backends[b].name, NULL);
}

/* Outcomes of the group's records and its next try. */
static void finish_job(struct df_runtime *rt, struct df_job *j, uint64_t now)
{
	struct df_group *g = &rt->groups[j->group];
	struct df_inst *in = &rt->providers[g->provider];
	int whole = j->rc && strcmp(j->op, "read") == 0, backend_temp = 0;
	const struct df_grecs *gr = &j->set->grp[j->group];
	g->busy = 0;
	take_orphans(rt, g, j);
	job_metrics(rt, g, j);
	/* A job of a set since replaced writes its outcomes there: the
	 * current set got its state when it was made, and runs again. */
	for (size_t k = 0; k < gr->n; k++) {
		struct df_rec *r = &j->set->recs[gr->v[k]];
		const struct df_answer *a = &j->ans->v[j->ans->idx[gr->v[k]]];
		if (a->rc != 0)
			r->outcome = outcome_of(a->rc);
		else if (j->rc && (whole || j->out[k] == DF_OUT_NONE))
			r->outcome = outcome_of(j->rc);
		else
			r->outcome = j->out[k] ? j->out[k] : DF_OUT_OK;
		backend_temp |= a->rc != 0 && r->outcome == DF_OUT_TEMP;
	}
	if (j->plan_text)
		fputs(j->plan_text, rt->plan_out);
	rt->pass_changes += j->changes;
	if (!rt->dry_run)
		rt->changes_applied += j->changes;
	g->backend_wait = 0;
	if (j->rc == -ECANCELED || df_stopping())
		return; /* stopping: no retry to announce */
	if (j->rc && outcome_of(j->rc) == DF_OUT_TEMP) {
		schedule_retry(rt, g, j, now);
	} else if (j->rc) {
		g->failures = 0;
		g->next_ms = 0;
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "zone %s: %s failed: %s (permanent; not retried before the next resync)",
		       g->zone, j->op, j->err[0] ? j->err : strerror(-j->rc));
	} else if (backend_temp) {
		schedule_retry(rt, g, j, now);
		g->backend_wait = 1;
	} else {
		g->failures = 0;
		g->next_ms = 0;
	}
}

static int by_group(const void *a, const void *b)
{
	const struct df_job *x = *(struct df_job *const *)a;
	const struct df_job *y = *(struct df_job *const *)b;
	return x->group < y->group ? -1 : x->group > y->group;
}

size_t df_collect(struct df_runtime *rt, uint64_t now)
{
	if (!rt->pool)
		return 0;
	struct df_job *list = df_pool_take_done(rt->pool);
	size_t n = 0;
	for (struct df_job *j = list; j; j = j->next)
		n++;
	if (!n)
		return 0;
	/* Group order, so a dry run prints the same plan every time. */
	struct df_job **v = df_xcalloc(n, sizeof *v);
	n = 0;
	for (struct df_job *j = list; j; j = j->next)
		v[n++] = j;
	qsort(v, n, sizeof *v, by_group);
	for (size_t i = 0; i < n; i++) {
		finish_job(rt, v[i], now);
		df_job_free(v[i]);
	}
	runtime_gauges(rt);
	free(v);
	fflush(rt->plan_out);
	return n;
}

size_t df_busy(const struct df_runtime *rt)
{
	size_t n = 0;
	for (size_t g = 0; g < rt->ngroups; g++)
		n += rt->groups[g].busy != 0;
	return n;
}

size_t df_wait_idle(struct df_runtime *rt, uint64_t deadline)
{
	while (df_busy(rt)) {
		uint64_t now = df_now_ms();
		if (deadline && now >= deadline)
			break;
		struct pollfd p = {.fd = df_done_fd(rt), .events = POLLIN};
		int ms = deadline ? (int)(deadline - now) : 1000;
		poll(&p, 1, ms > 1000 ? 1000 : ms);
		df_collect(rt, df_now_ms());
	}
	return df_busy(rt);
}

void df_stats(struct df_runtime *rt, struct df_pass_stats *st)
{
	memset(st, 0, sizeof *st);
	const struct df_recset *set = rt->set;
	for (size_t r = 0; r < set->nrecs; r++) {
		st->ok += set->recs[r].outcome == DF_OUT_OK;
		st->temp += set->recs[r].outcome == DF_OUT_TEMP;
		st->perm += set->recs[r].outcome == DF_OUT_PERM;
		st->planned += set->recs[r].outcome == DF_OUT_PLANNED;
	}
	st->changes = rt->pass_changes;
	rt->pass_changes = 0;
}

void df_pass(struct df_runtime *rt, uint64_t now, enum df_pass_kind kind,
	     struct df_pass_stats *st)
{
	df_pass_start(rt, now, kind);
	df_wait_idle(rt, 0);
	df_stats(rt, st);
}

uint64_t df_next_retry(const struct df_runtime *rt)
{
	uint64_t next = 0;
	for (size_t g = 0; g < rt->ngroups; g++) {
		const struct df_group *gr = &rt->groups[g];
		uint64_t t[3] = {gr->next_ms, gr->grace_ms,
				 gr->pending && !gr->busy ? 1 : 0};
		for (int i = 0; i < 3; i++)
			if (t[i] && (!next || t[i] < next))
				next = t[i];
	}
	return next;
}

int df_exit_status(const struct df_runtime *rt)
{
	int temp = 0, perm = 0;
	const struct df_recset *set = rt->set;
	for (size_t i = 0; i < set->nrecs; i++) {
		temp |= set->recs[i].outcome == DF_OUT_TEMP ||
			set->recs[i].outcome == DF_OUT_NONE;
		perm |= set->recs[i].outcome == DF_OUT_PERM;
	}
	/* A discovery that failed leaves what it would have found unknown. */
	int ds = df_discovery_status(rt);
	temp |= ds == 1;
	perm |= ds == 2;
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
	if (wait < floor_ms)
		wait = floor_ms;
	/* A peer's Retry-After counts, but never past backoff_max: a
	 * "come back tomorrow" must not freeze a zone for a day. */
	return cap && wait > cap ? cap : wait;
}
