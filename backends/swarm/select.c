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

static const char *name_of(const struct swarm_node *nd)
{
	return nd->host[0] ? nd->host : nd->id;
}

/* A task that runs, or is meant to run and has not ended: where it is
 * says where the service is (or is about to be). */
static int live(const struct swarm_task *t)
{
	return t->desired == SWARM_TS_RUNNING && t->state != SWARM_TS_DONE &&
	       t->node[0];
}

/* "Runs nowhere" (or "runs only there") must be positive knowledge. A
 * manager that just became leader reports every node "unknown", then
 * "down" or "ready", for seconds while the tasks keep running; a node
 * whose heartbeat is late is "disconnected". A live task on such a node,
 * or on a node the list lacks, may well still serve: the answer is not
 * known, so it is a temporary error and the record keeps its value. Swarm
 * itself shuts down the tasks of a node it declares down, so a node that
 * is really gone stops counting as soon as the orchestrator acts. */
static int tasks_known(const struct swarm_tasks *ts,
		       const struct swarm_nodes *ns, char *err, size_t errlen)
{
	for (size_t i = 0; i < ts->n; i++) {
		const struct swarm_task *t = &ts->v[i];
		if (!live(t))
			continue;
		const struct swarm_node *nd = swarm_nodes_find(ns, t->node);
		if (!nd) {
			snprintf(err, errlen,
				 "a task of the service is on node %.40s, which the "
				 "engine's node list lacks: its view is incomplete (a "
				 "manager just elected?)", t->node);
			return DNSFOLLOW_E_TEMPORARY;
		}
		if (!nd->ready) {
			snprintf(err, errlen,
				 "node %.60s is '%s', not ready, while a task of the "
				 "service should run there: whether it still runs is not "
				 "known (a manager restarting or electing a leader?)",
				 name_of(nd), nd->state);
			return DNSFOLLOW_E_TEMPORARY;
		}
	}
	return 0;
}

/* A swarm always has at least one node ready: the manager answering. A
 * list without one is a view still forming (a manager that just came up
 * knows nothing of its peers yet), never an answer. */
static int view_formed(const struct swarm_nodes *ns, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i].ready)
			return 0;
	snprintf(err, errlen,
		 "the engine lists %s: its view of the swarm is not formed yet",
		 ns->n ? "no node ready, not even itself" : "no node at all");
	return DNSFOLLOW_E_TEMPORARY;
}

int swarm_view_settled(const struct swarm_nodes *ns, char *err,
		       size_t errlen)
{
	int rc = view_formed(ns, err, errlen);
	for (size_t i = 0; i < ns->n && !rc; i++)
		if (strcmp(ns->v[i].state, "unknown") == 0) {
			snprintf(err, errlen,
				 "node %.60s is 'unknown': a leader was elected a moment "
				 "ago and the engine's view is still forming",
				 name_of(&ns->v[i]));
			rc = DNSFOLLOW_E_TEMPORARY;
		}
	return rc;
}

/* For ready-nodes: a node whose state is not known yet ("unknown" after a
 * leader change, "disconnected" while its heartbeat is late) may be up. */
static int nodes_known(const struct swarm_nodes *ns, char *err, size_t errlen)
{
	for (size_t i = 0; i < ns->n; i++) {
		const struct swarm_node *nd = &ns->v[i];
		if (strcmp(nd->state, "unknown") == 0 ||
		    strcmp(nd->state, "disconnected") == 0) {
			snprintf(err, errlen,
				 "node %.60s is '%s': whether it is up is not known (a "
				 "manager restarting or electing a leader?)",
				 name_of(nd), nd->state);
			return DNSFOLLOW_E_TEMPORARY;
		}
	}
	return 0;
}

/* An empty answer while the service moves is not "runs nowhere": during a
 * drain or an update the old task stops (for its stop grace period, 10 s
 * by default) before its replacement, waiting as "ready", may start, and
 * the replacement may then take long to pull and start. Deleting the
 * record then would have resolvers cache NXDOMAIN for seconds of move.
 * So nothing running while a task is on its way up (not ended), or one is
 * still stopping on a live node, is "not known yet". A service scaled to
 * 0 or removed has no such task once its last one stopped. */
static int moving(const struct swarm_tasks *ts, const struct swarm_nodes *ns,
		  char *err, size_t errlen)
{
	for (size_t i = 0; i < ts->n; i++) {
		const struct swarm_task *t = &ts->v[i];
		int want = t->desired == SWARM_TS_RUNNING || t->desired == SWARM_TS_READY;
		const struct swarm_node *nd = swarm_nodes_find(ns, t->node);
		if (want && t->state != SWARM_TS_RUNNING && t->state != SWARM_TS_DONE) {
			snprintf(err, errlen,
				 "no task of the service runs, but one is on its way up%s%.60s "
				 "(a move or a start): not known yet where it will run",
				 nd ? " on node " : "", nd ? name_of(nd) : "");
			return DNSFOLLOW_E_TEMPORARY;
		}
		if (!want && t->state == SWARM_TS_RUNNING && nd && nd->ready) {
			snprintf(err, errlen,
				 "no task of the service runs but one still stopping on node "
				 "%.60s (a move under way): not known yet where it will run",
				 name_of(nd));
			return DNSFOLLOW_E_TEMPORARY;
		}
	}
	return 0;
}

int swarm_select(const struct swarm_tasks *ts, const struct swarm_nodes *ns,
		 int target, struct swarm_result *out, char *err,
		 size_t errlen)
{
	memset(out, 0, sizeof *out);
	int known = view_formed(ns, err, errlen);
	if (!known)
		known = target == SWARM_TARGET_READY_NODES
				? nodes_known(ns, err, errlen)
				: ts ? tasks_known(ts, ns, err, errlen) : 0;
	if (known) {
		out->unsettled = 1; /* follow it closely until it is known */
		return known;
	}
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
	int move = 0;
	if (!rc && target == SWARM_TARGET_TASKS && out->n == 0 && ts)
		rc = move = moving(ts, ns, err, errlen);
	if (rc) {
		swarm_result_free(out);
		out->unsettled = move != 0;
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
				 INET6_ADDRSTRLEN + SWARM_HOST_MAX + 5);
	char *s = malloc(cap), *p = s;
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < r->n; i++)
		p += snprintf(p, cap - (size_t)(p - s), "%s=%s,%s,%s;", r->v[i].id,
			      r->v[i].addr4, r->v[i].addr6, r->v[i].dns);
	return s;
}
