/*
 * Asking backends where services run: each distinct question once per
 * pass, answers checked against the one address policy of the core.
 */
#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

struct collect {
	struct df_answer *a;
	int allow_loopback;
	char bad[256];
};

/* Name where an address came from, for the error line. */
static void bad_address(struct collect *c, const struct dnsfollow_placement *p,
			const char *addr, const char *why)
{
	const char *node = p->node_name ? p->node_name : p->node_id;
	snprintf(c->bad, sizeof c->bad, "%s%s%s gave '%s', %s",
		 node ? "node " : "", node ? node : "", node ? "" : "it", addr, why);
}

/* The node's DNS name, for CNAME records. */
static int add_target(struct collect *c, const struct dnsfollow_placement *p)
{
	if (!DNSFOLLOW_HAS(p, struct dnsfollow_placement, dns_name))
		return 0;
	char *n = NULL;
	if (df_name_normalise(p->dns_name, &n) != 0) {
		free(n);
		bad_address(c, p, p->dns_name, "which is no DNS name");
		return -EPROTO;
	}
	c->a->targets = df_xrealloc(c->a->targets, c->a->ntargets + 1,
				    sizeof *c->a->targets);
	c->a->targets[c->a->ntargets++] = n;
	return 0;
}

static int on_placement(void *ctx, const struct dnsfollow_placement *p)
{
	struct collect *c = ctx;
	if (p && add_target(c, p) != 0)
		return -EPROTO;
	for (size_t i = 0; p && i < p->naddrs; i++) {
		char canon[46];
		const char *addr = p->addrs[i] ? p->addrs[i] : "(null)";
		int fam = p->addrs[i] ? df_addr_canon(p->addrs[i], canon) : 0;
		const char *why = fam ? df_addr_unusable(canon, c->allow_loopback)
				      : "which is no IP address";
		if (why) {
			bad_address(c, p, addr, why);
			return -EPROTO;
		}
		char ***v = fam == 4 ? &c->a->v4 : &c->a->v6;
		size_t *n = fam == 4 ? &c->a->n4 : &c->a->n6;
		*v = df_xrealloc(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = df_strdup(canon);
	}
	return 0;
}

static void answer_free(struct df_answer *a)
{
	for (size_t i = 0; i < a->n4; i++)
		free(a->v4[i]);
	for (size_t i = 0; i < a->n6; i++)
		free(a->v6[i]);
	for (size_t i = 0; i < a->ntargets; i++)
		free(a->targets[i]);
	free(a->v4);
	free(a->v6);
	free(a->targets);
}

static void resolve_one(struct df_runtime *rt, const struct df_record_cfg *r,
			struct df_answer *a)
{
	struct df_inst *in = &rt->backends[r->backend_idx];
	const struct dnsfollow_backend_ops *ops = in->plugin->ops;
	struct dnsfollow_query q = {.struct_size = sizeof q,
				    .service = r->service,
				    .options = r->kv,
				    .noptions = r->nkv};
	struct collect c = {.a = a, .allow_loopback = rt->cfg->allow_loopback};
	df_host_reset(in->host);
	a->rc = ops->resolve(in->self, &q, on_placement, &c);
	if (a->rc == 0 && c.bad[0])
		a->rc = -EPROTO;
	if (a->rc == -ENOENT && r->source) {
		/* Discovered a moment ago and gone now (removed in between):
		 * the next discovery drops it. Not a permanent failure, and
		 * not knowledge enough to delete anything in this pass. */
		df_log(DNSFOLLOW_LOG_INFO, in->host->who,
		       "service %s is gone since it was discovered; its records keep their value until the next discovery",
		       r->service);
		a->rc = -EAGAIN;
		return;
	}
	if (a->rc != 0) {
		char err[1024];
		df_host_error_text(in->host, err, sizeof err);
		if (c.bad[0])
			snprintf(err, sizeof err, "%s; not published", c.bad);
		df_metric_add("dnsfollow_errors_total", 1, "plugin", in->host->who, "class",
			      dnsfollow_err_is_temporary(a->rc) ? "temporary" : "permanent", NULL);
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "service %s: %s (%s); its records keep their value",
		       r->service, err[0] ? err : strerror(-a->rc),
		       dnsfollow_err_is_temporary(a->rc) ? "temporary" : "permanent");
		return;
	}
	a->n4 = df_addr_sort_unique(a->v4, a->n4);
	a->n6 = df_addr_sort_unique(a->v6, a->n6);
	a->ntargets = df_str_sort_unique(a->targets, a->ntargets);
}

/* prepare(): each backend that can is told the questions of this pass
 * first, so it may fetch everything at once. Per backend: its return
 * code, or 1 when it was not asked. */
static int *prepare_all(struct df_runtime *rt, const struct df_recset *set,
			const size_t *asked, size_t nasked)
{
	size_t nb = rt->cfg->nbackends;
	int *rc = df_xcalloc(nb + 1, sizeof *rc);
	struct dnsfollow_query *q = df_xcalloc(nasked + 1, sizeof *q);
	const struct dnsfollow_query **qs = df_xcalloc(nasked + 1, sizeof *qs);
	for (size_t b = 0; b < nb; b++) {
		struct df_inst *in = &rt->backends[b];
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		rc[b] = 1;
		if (!in->self || !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, prepare))
			continue;
		size_t nq = 0;
		for (size_t i = 0; i < nasked; i++) {
			const struct df_record_cfg *r = set->recs[asked[i]].cfg;
			if (r->backend_idx != b)
				continue;
			q[nq] = (struct dnsfollow_query){.struct_size = sizeof *q,
							 .service = r->service,
							 .options = r->kv,
							 .noptions = r->nkv};
			qs[nq] = &q[nq];
			nq++;
		}
		if (!nq)
			continue;
		df_host_reset(in->host);
		rc[b] = ops->prepare(in->self, qs, nq);
		if (rc[b] < 0) {
			char err[1024];
			df_host_error_text(in->host, err, sizeof err);
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "cannot look up its %zu service(s): %s (%s); their records keep their value",
			       nq, err[0] ? err : strerror(-rc[b]),
			       dnsfollow_err_is_temporary(rc[b]) ? "temporary" : "permanent");
		}
	}
	free(qs);
	free(q);
	return rc;
}

static void prepare_end(struct df_runtime *rt, const int *rc)
{
	for (size_t b = 0; b < rt->cfg->nbackends; b++)
		if (rc[b] != 1) {
			struct df_inst *in = &rt->backends[b];
			const struct dnsfollow_backend_ops *ops = in->plugin->ops;
			ops->prepare(in->self, NULL, 0);
		}
}

struct df_answers *df_resolve(struct df_runtime *rt, const char *due)
{
	const struct df_recset *set = rt->set;
	size_t n = set->nrecs, nasked = 0;
	struct df_answers *as = df_xcalloc(1, sizeof *as);
	as->refs = 1;
	as->all_ok = 1;
	as->idx = df_xcalloc(n + 1, sizeof *as->idx);
	as->v = df_xcalloc(n + 1, sizeof *as->v);
	size_t *asked = df_xcalloc(n + 1, sizeof *asked);
	for (size_t i = 0; i < n; i++)
		as->idx[i] = SIZE_MAX;
	/* The distinct questions first, so prepare() sees them all. */
	for (size_t g = 0; g < rt->ngroups; g++)
		for (size_t k = 0; due[g] && k < set->grp[g].n; k++) {
			size_t r = set->grp[g].v[k], q = set->recs[r].question;
			if (as->idx[q] == SIZE_MAX) {
				as->idx[q] = as->n++;
				asked[nasked++] = q;
			}
			as->idx[r] = as->idx[q];
		}
	int *prc = prepare_all(rt, set, asked, nasked);
	for (size_t i = 0; i < nasked; i++) {
		const struct df_record_cfg *r = set->recs[asked[i]].cfg;
		struct df_answer *a = &as->v[as->idx[asked[i]]];
		if (prc[r->backend_idx] < 0 && prc[r->backend_idx] != 1)
			a->rc = prc[r->backend_idx];
		else
			resolve_one(rt, r, a);
		as->all_ok &= a->rc == 0;
	}
	prepare_end(rt, prc);
	free(prc);
	free(asked);
	return as;
}

void df_answers_unref(struct df_answers *as)
{
	if (!as || --as->refs)
		return;
	for (size_t i = 0; i < as->n; i++)
		answer_free(&as->v[i]);
	free(as->v);
	free(as->idx);
	free(as);
}
