/*
 * The ABI 2 ops that make a pass cost the same whatever the number of
 * services: discover (the records service labels ask for, from one
 * GET /services) and prepare (one /tasks and one /nodes for every query
 * of the pass; resolve() then answers from that snapshot).
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* discover()'s node list serves the pass's prepare() when this fresh. */
#define NODES_REUSE_MS 2000u
/* A snapshot older than this is not used even if the core forgot to drop
 * it: resolve() then asks the engine, as outside a pass. */
#define SNAP_MAX_AGE_MS 300000u

/* Whether `key` ("ID name-label") was logged by the previous discover;
 * `next` collects this discover's, so a service is logged once, and
 * again only after it was fixed and broken anew. */
static int warned_before(struct swarm *sw, const char *key, char ***next,
			 size_t *nnext)
{
	int seen = 0;
	for (size_t i = 0; i < sw->nwarned && !seen; i++)
		seen = strcmp(sw->warned[i], key) == 0;
	char **v = realloc(*next, (*nnext + 1) * sizeof *v);
	if (v && (v[*nnext] = strdup(key)))
		(*nnext)++;
	if (v)
		*next = v;
	return seen;
}

static void warned_replace(struct swarm *sw, char **next, size_t nnext)
{
	for (size_t i = 0; i < sw->nwarned; i++)
		free(sw->warned[i]);
	free(sw->warned);
	sw->warned = next;
	sw->nwarned = nnext;
}

static int emit_service(const struct swarm_service *s,
			dnsfollow_discover_cb emit, void *ctx)
{
	for (size_t i = 0; i < s->nnames; i++) {
		struct dnsfollow_discovered d = {
			.struct_size = sizeof d,
			.source = s->sid.id,
			.source_name = s->sid.name,
			.name = s->names[i],
			.service = s->sid.name,
			.keys = s->keys,
			.nkeys = s->nkeys,
		};
		int rc = emit(ctx, &d);
		if (rc)
			return rc;
	}
	return 0;
}

/* Every labelled service's records; a label naming nothing is logged
 * once. The map learns the IDs on the way (for prepare). */
static int emit_all(struct swarm *sw, const struct swarm_services *ss,
		    dnsfollow_discover_cb emit, void *ctx)
{
	char **next = NULL;
	size_t nnext = 0;
	int rc = 0;
	for (size_t i = 0; i < ss->n && !rc; i++) {
		const struct swarm_service *s = &ss->v[i];
		struct swarm_svcid sid = s->sid;
		sid.seen_ms = sw->host->now_ms();
		if (swarm_svcmap_put(&sw->map, &sid))
			swarm_svcmap_free(&sw->map); /* asked again by prepare */
		char key[SWARM_ID_MAX + 300];
		snprintf(key, sizeof key, "%s %.290s", s->sid.id,
			 s->name_label ? s->name_label : "");
		if (!s->nnames && !warned_before(sw, key, &next, &nnext))
			sw->host->log(sw->host, DNSFOLLOW_LOG_WARN,
				      "service %.100s: label %.60s.name = '%.100s' names "
				      "no DNS name: nothing asked", s->sid.name,
				      sw->cfg.label_prefix, s->name_label ? s->name_label : "");
		rc = emit_service(s, emit, ctx);
	}
	warned_replace(sw, next, nnext);
	return rc;
}

int swarm_discover(struct swarm *sw, dnsfollow_discover_cb emit, void *ctx)
{
	char err[SWARM_ERRLEN] = "", label[SWARM_HOST_MAX + 8];
	pthread_mutex_lock(&sw->mu);
	sw->discovering = 1; /* from now on, any service event wakes the core */
	pthread_mutex_unlock(&sw->mu);
	snprintf(label, sizeof label, "%s.name", sw->cfg.label_prefix);
	struct swarm_services ss;
	struct swarm_nodes ns = {0};
	int rc = swarm_get_services(sw, label, sw->cfg.label_prefix, &ss, err,
				    sizeof err);
	/* An answer is the list only while the engine's view is settled: the
	 * very checks a resolution makes (manager, leader, nodes known). */
	if (!rc)
		rc = swarm_get_nodes(sw, &ns, err, sizeof err);
	if (!rc)
		rc = swarm_view_settled(&ns, err, sizeof err);
	if (rc) {
		swarm_services_free(&ss);
		swarm_nodes_free(&ns);
		return sw->host->error(sw->host, rc, "service labels: %s", err);
	}
	swarm_nodes_free(&sw->disc_nodes);
	sw->disc_nodes = ns;
	sw->disc_nodes_ms = sw->host->now_ms();
	rc = emit_all(sw, &ss, emit, ctx);
	swarm_services_free(&ss);
	return rc;
}

/* The distinct services of a pass's queries. */
static const char **services_of(const struct dnsfollow_query *const *qs,
				size_t n, size_t *k)
{
	const char **v = calloc(n ? n : 1, sizeof *v);
	*k = 0;
	for (size_t i = 0; v && i < n; i++) {
		if (!qs[i] || !qs[i]->service || !*qs[i]->service)
			continue;
		int dup = 0;
		for (size_t j = 0; j < *k && !dup; j++)
			dup = strcmp(v[j], qs[i]->service) == 0;
		if (!dup)
			v[(*k)++] = qs[i]->service;
	}
	return v;
}

int swarm_prepare(struct swarm *sw, const struct dnsfollow_query *const *qs,
		  size_t n)
{
	swarm_snap_free(&sw->snap);
	sw->has_snap = 0;
	if (!qs || !n) {
		swarm_nodes_free(&sw->disc_nodes);
		sw->disc_nodes_ms = 0;
		return 0;
	}
	size_t k;
	const char **names = services_of(qs, n, &k);
	if (!names)
		return sw->host->error(sw->host, -ENOMEM, "out of memory");
	int fresh = sw->disc_nodes_ms &&
		    sw->host->now_ms() - sw->disc_nodes_ms <= NODES_REUSE_MS;
	int rc = swarm_snap_fetch(sw, &sw->map, names, k,
				  fresh ? &sw->disc_nodes : NULL, &sw->snap);
	free(names);
	swarm_nodes_free(&sw->disc_nodes);
	sw->disc_nodes_ms = 0;
	sw->has_snap = 1; /* a failed one answers every query with its error */
	sw->snap_ms = sw->host->now_ms();
	if (rc)
		return sw->host->error(sw->host, rc, "%s", sw->snap.err);
	return 0;
}

int swarm_snap_usable(struct swarm *sw, const char *service)
{
	return sw->has_snap && swarm_snap_covers(&sw->snap, service) &&
	       sw->host->now_ms() - sw->snap_ms <= SNAP_MAX_AGE_MS;
}

void swarm_discover_free(struct swarm *sw)
{
	swarm_snap_free(&sw->snap);
	sw->has_snap = 0;
	swarm_nodes_free(&sw->disc_nodes);
	swarm_svcmap_free(&sw->map);
	warned_replace(sw, NULL, 0);
}
