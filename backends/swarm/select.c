/*
 * The placement rules, on parsed answers: which nodes serve a service, and
 * whether a move is still under way. No I/O here (the fuzz target uses it).
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct swarm_node *)a)->id,
		      ((const struct swarm_node *)b)->id);
}

static int in_result(const struct swarm_result *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0)
			return 1;
	return 0;
}

/* Whether some task is still on its way up or down: while it is, the
 * placement may change without any event telling us. */
static int unsettled(const struct swarm_tasks *ts, const struct swarm_nodes *ns)
{
	for (size_t i = 0; i < ts->n; i++) {
		const struct swarm_task *t = &ts->v[i];
		int want = t->desired == SWARM_TS_RUNNING || t->desired == SWARM_TS_READY;
		if (want && t->state != SWARM_TS_RUNNING)
			return 1;
		if (want || t->state != SWARM_TS_RUNNING)
			continue;
		/* Stopping but still running: counts only on a live node; on a
		 * dead one it would look "running" forever. */
		const struct swarm_node *nd = swarm_nodes_find(ns, t->node);
		if (nd && nd->ready)
			return 1;
	}
	return 0;
}

static int add(struct swarm_result *r, const struct swarm_node *nd,
	       char *err, size_t errlen)
{
	if (nd->problem[0]) {
		snprintf(err, errlen, "%s", nd->problem);
		return -EINVAL;
	}
	if (in_result(r, nd->id))
		return 0;
	r->v[r->n++] = *nd;
	return 0;
}

int swarm_select(const struct swarm_tasks *ts, const struct swarm_nodes *ns,
		 int target, struct swarm_result *out, char *err,
		 size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->v = calloc(ns->n ? ns->n : 1, sizeof *out->v);
	if (!out->v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	if (target == SWARM_TARGET_READY_NODES) {
		for (size_t i = 0; i < ns->n && !rc; i++)
			if (ns->v[i].ready && ns->v[i].active)
				rc = add(out, &ns->v[i], err, errlen);
	} else {
		for (size_t i = 0; i < ts->n && !rc; i++) {
			const struct swarm_task *t = &ts->v[i];
			if (t->desired != SWARM_TS_RUNNING ||
			    t->state != SWARM_TS_RUNNING)
				continue;
			const struct swarm_node *nd = swarm_nodes_find(ns, t->node);
			if (nd && nd->ready)
				rc = add(out, nd, err, errlen);
		}
	}
	if (rc) {
		swarm_result_free(out);
		return rc;
	}
	out->unsettled = ts ? unsettled(ts, ns) : 0;
	qsort(out->v, out->n, sizeof *out->v, by_id);
	return 0;
}

void swarm_result_free(struct swarm_result *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

char *swarm_result_fingerprint(const struct swarm_result *r)
{
	size_t cap = 1 + r->n * (SWARM_ID_MAX + INET_ADDRSTRLEN +
				 INET6_ADDRSTRLEN + 4);
	char *s = malloc(cap), *p = s;
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < r->n; i++)
		p += snprintf(p, cap - (size_t)(p - s), "%s=%s,%s;", r->v[i].id,
			      r->v[i].addr4, r->v[i].addr6);
	return s;
}
