/*
 * One resolution: fetch the service's tasks and the node list from the
 * engine, then apply the placement rules (select.c).
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_tasks(struct swarm *sw, const char *service,
		     struct swarm_tasks *ts, char *err, size_t errlen)
{
	char *path = swarm_tasks_path(sw->host, service);
	if (!path) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct dnsfollow_http_response resp = {0};
	int rc = swarm_api_get(sw, path, &resp, err, errlen);
	free(path);
	if (rc == -ENOENT || (rc == -EPROTO && strstr(err, "not found"))) {
		snprintf(err, errlen, "service '%.100s' not found in the swarm",
			 service);
		return -ENOENT;
	}
	if (rc)
		return rc;
	rc = swarm_parse_tasks(resp.body, resp.body_len, ts, err, errlen);
	sw->host->http_free(sw->host, &resp);
	return rc;
}

int swarm_get_nodes(struct swarm *sw, struct swarm_nodes *ns, char *err,
		    size_t errlen)
{
	struct dnsfollow_http_response resp = {0};
	int rc = swarm_api_get(sw, "/nodes", &resp, err, errlen);
	if (rc)
		return rc;
	struct swarm_addrcfg ac;
	swarm_addrcfg_of(&sw->cfg, &ac);
	rc = swarm_parse_nodes(resp.body, resp.body_len, &ac, ns, err, errlen);
	sw->host->http_free(sw->host, &resp);
	return rc;
}

int swarm_resolve_now(struct swarm *sw, const char *service, int target,
		      struct swarm_result *out, char *err, size_t errlen)
{
	struct swarm_tasks ts = {0};
	struct swarm_nodes ns = {0};
	memset(out, 0, sizeof *out);
	/* Tasks first even for ready-nodes: it checks the service exists. */
	int rc = get_tasks(sw, service, &ts, err, errlen);
	if (!rc)
		rc = swarm_get_nodes(sw, &ns, err, errlen);
	if (!rc)
		rc = swarm_select(&ts, &ns, target, out, err, errlen);
	swarm_tasks_free(&ts);
	swarm_nodes_free(&ns);
	return rc;
}
