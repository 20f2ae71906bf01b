/*
 * One snapshot for many queries: a pass (prepare) or a watcher round asks
 * the engine once for the tasks of all its services and once for the
 * nodes, then answers each query from that, by the same rules as a
 * resolution on its own (select.c). Tasks name their service by ID only,
 * so names are mapped to IDs with the service list, which is asked for
 * only when the map lacks a name or holds an ID that is gone.
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int swarm_get_services(struct swarm *sw, const char *label, const char *prefix,
		       struct swarm_services *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	char *path = label ? swarm_filter_path(sw->host, "/services", "label",
					       &label, 1)
			   : strdup("/services");
	if (!path) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct dnsfollow_http_response resp = {0};
	int rc = swarm_api_get(sw, path, &resp, err, errlen);
	free(path);
	if (rc)
		return rc;
	rc = swarm_parse_services(resp.body, resp.body_len, prefix, out, err,
				  errlen);
	sw->host->http_free(sw->host, &resp);
	return rc;
}

static int refresh_map(struct swarm *sw, struct swarm_svcmap *map, char *err,
		       size_t errlen)
{
	struct swarm_services ss;
	int rc = swarm_get_services(sw, NULL, NULL, &ss, err, errlen);
	for (size_t i = 0; !rc && i < ss.n; i++)
		ss.v[i].sid.seen_ms = sw->host->now_ms();
	if (!rc && swarm_svcmap_set(map, &ss)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	swarm_services_free(&ss);
	return rc;
}

/* Map every asked service; returns how many are not in the map. */
static size_t lookup_all(struct swarm_snap *s, const struct swarm_svcmap *map)
{
	size_t missing = 0;
	for (size_t i = 0; i < s->nasked; i++) {
		const struct swarm_svcid *id;
		s->asked[i].rc = swarm_svcmap_find(map, s->asked[i].service, &id);
		snprintf(s->asked[i].id, sizeof s->asked[i].id, "%s",
			 id ? id->id : "");
		missing += s->asked[i].rc == -ENOENT;
	}
	return missing;
}

/* "/tasks?filters={"service":[IDs]}", or "/tasks" (every task, sorted
 * out here) when that would be too long for proxies; *all says which. */
static char *tasks_path(struct swarm *sw, const struct swarm_snap *s, int *all)
{
	const char **ids = calloc(s->nasked ? s->nasked : 1, sizeof *ids);
	size_t k = 0, len = 0;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < s->nasked; i++) {
		int dup = 0;
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(ids[j], s->asked[i].id) == 0;
		if (s->asked[i].rc == 0 && !dup) {
			ids[k++] = s->asked[i].id;
			len += strlen(s->asked[i].id) + 9; /* %22ID%22%2C */
		}
	}
	*all = len > SWARM_FILTER_MAX;
	char *p = *all ? strdup("/tasks")
		       : swarm_filter_path(sw->host, "/tasks", "service", ids, k);
	free(ids);
	return p;
}

static int get_tasks(struct swarm *sw, const char *path, struct swarm_tasks *ts,
		     char *err, size_t errlen)
{
	struct dnsfollow_http_response resp = {0};
	int rc = swarm_api_get(sw, path, &resp, err, errlen);
	if (rc == -EPROTO && strstr(err, "not found"))
		rc = -ENOENT; /* engines that said 400 for it */
	if (rc)
		return rc;
	rc = swarm_parse_tasks(resp.body, resp.body_len, ts, err, errlen);
	sw->host->http_free(sw->host, &resp);
	return rc;
}

/* Every asked service was seen by /services a moment ago (discover
 * filled the map in this pass): asking for every task needs no second
 * look at /services. */
static int map_fresh(struct swarm *sw, const struct swarm_svcmap *map,
		     const struct swarm_snap *s)
{
	uint64_t now = sw->host->now_ms();
	for (size_t i = 0; i < s->nasked; i++) {
		const struct swarm_svcid *id;
		if (s->asked[i].rc != 0)
			continue;
		if (swarm_svcmap_find(map, s->asked[i].service, &id) != 0 ||
		    now - id->seen_ms > SWARM_MAP_FRESH_MS)
			return 0;
	}
	return 1;
}

static int any_found(const struct swarm_snap *s)
{
	for (size_t i = 0; i < s->nasked; i++)
		if (s->asked[i].rc == 0)
			return 1;
	return 0;
}

/* The tasks of the services found. A name unknown to the map, or an ID
 * the engine no longer knows (404: a service removed, or removed and
 * created again), means the map is stale: it is read again, once. So is
 * it before asking for every task, which holds the other services' too. */
static int fetch_tasks(struct swarm *sw, struct swarm_svcmap *map,
		       struct swarm_snap *s)
{
	int refreshed = 0, all = 0, rc = 0;
	if (!s->nasked)
		return 0;
	if (lookup_all(s, map) || !map->n) {
		if ((rc = refresh_map(sw, map, s->err, sizeof s->err)))
			return rc;
		refreshed = 1;
		lookup_all(s, map);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!any_found(s))
			return 0; /* every query: "not found" */
		char *path = tasks_path(sw, s, &all);
		if (all && !refreshed && map_fresh(sw, map, s))
			refreshed = 1;
		if (all && !refreshed) {
			free(path);
			path = NULL;
		}
		rc = path ? get_tasks(sw, path, &s->ts, s->err, sizeof s->err) : -ENOENT;
		free(path);
		if (rc != -ENOENT || refreshed)
			break;
		if ((rc = refresh_map(sw, map, s->err, sizeof s->err)))
			return rc;
		refreshed = 1;
		lookup_all(s, map);
	}
	if (rc == -ENOENT) {
		snprintf(s->err, sizeof s->err, "a service was removed while its "
			 "tasks were asked for: not known yet");
		rc = DNSFOLLOW_E_TEMPORARY;
	}
	return rc;
}

int swarm_snap_fetch(struct swarm *sw, struct swarm_svcmap *map,
		     const char *const *services, size_t n,
		     struct swarm_nodes *reuse, struct swarm_snap *s)
{
	memset(s, 0, sizeof *s);
	s->asked = calloc(n ? n : 1, sizeof *s->asked);
	for (size_t i = 0; s->asked && i < n; i++)
		if ((s->asked[s->nasked].service = strdup(services[i])))
			s->nasked++;
	if (!s->asked || s->nasked < n) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return s->rc = -ENOMEM;
	}
	/* Tasks first, as for one resolution: it checks the services. */
	int rc = fetch_tasks(sw, map, s);
	if (!rc && any_found(s)) {
		if (reuse && reuse->v) {
			s->ns = *reuse;
			memset(reuse, 0, sizeof *reuse);
		} else {
			rc = swarm_get_nodes(sw, &s->ns, s->err, sizeof s->err);
		}
	}
	return s->rc = rc;
}

static const struct swarm_asked *asked_of(const struct swarm_snap *s,
					  const char *service)
{
	for (size_t i = 0; i < s->nasked; i++)
		if (strcmp(s->asked[i].service, service) == 0)
			return &s->asked[i];
	return NULL;
}

int swarm_snap_covers(const struct swarm_snap *s, const char *service)
{
	return asked_of(s, service) != NULL;
}

int swarm_snap_select(const struct swarm_snap *s, const char *service,
		      int target, struct swarm_result *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof *out);
	const struct swarm_asked *a = asked_of(s, service);
	if (s->rc || !a) {
		snprintf(err, errlen, "%s", s->rc ? s->err : "not in the snapshot");
		return s->rc ? s->rc : -EINVAL;
	}
	if (a->rc == -ENOENT) {
		snprintf(err, errlen, "service '%.100s' not found in the swarm", service);
		return -ENOENT;
	}
	if (a->rc) {
		snprintf(err, errlen, "service '%.100s' is ambiguous: several service "
			 "IDs start with it", service);
		return a->rc;
	}
	struct swarm_tasks mine = {calloc(s->ts.n ? s->ts.n : 1, sizeof *mine.v), 0};
	if (!mine.v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->ts.n; i++)
		if (strcmp(s->ts.v[i].service, a->id) == 0)
			mine.v[mine.n++] = s->ts.v[i];
	int rc = swarm_select(&mine, &s->ns, target, out, err, errlen);
	swarm_tasks_free(&mine);
	return rc;
}

void swarm_snap_free(struct swarm_snap *s)
{
	for (size_t i = 0; i < s->nasked; i++)
		free(s->asked[i].service);
	free(s->asked);
	swarm_tasks_free(&s->ts);
	swarm_nodes_free(&s->ns);
	memset(s, 0, sizeof *s);
}
