/* The swarm backend's descriptor and ops. */
#include "swarm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct dnsfollow_key config_keys[] = {
	{"host", 0, "unix:///PATH or tcp://HOST:PORT (default $DOCKER_HOST, "
		    "else unix:///var/run/docker.sock)"},
	{"tls_ca", DNSFOLLOW_KEY_PATH, "CA bundle for tcp:// (mutual TLS)"},
	{"tls_cert", DNSFOLLOW_KEY_PATH, "client certificate for tcp://"},
	{"tls_key", DNSFOLLOW_KEY_PATH, "client key for tcp://"},
	{"address_label", 0, "node label with the node's IPv4 "
			     "(default dnsfollow.ipv4; empty: off)"},
	{"address6_label", 0, "node label with the node's IPv6 "
			      "(default dnsfollow.ipv6; empty: off)"},
	{"node.*", DNSFOLLOW_KEY_MULTI, "node.HOSTNAME = ADDRESS: a node's address "
				      "(one IPv4 and one IPv6 per node)"},
	{"allow_loopback", 0, "yes: accept 127.0.0.0/8 and ::1 (never 0.0.0.0 or ::)"},
	{"events", 0, "no: no event stream nor watcher, the core's resync "
		       "interval only (default yes)"},
	{"poll_interval", 0, "seconds between safety-net polls (default 5)"},
	{"timeout_ms", 0, "per-request timeout (default 5000)"},
	{"settle_max_ms", 0, "longest stretch of fast (100 ms) polling after an "
			     "event or while a task moves (default 60000)"},
	{NULL, 0, NULL},
};

static const struct dnsfollow_key record_keys[] = {
	{"target", 0, "tasks (default: nodes running a task) | ready-nodes"},
	{NULL, 0, NULL},
};

static int sw_create(const struct dnsfollow_host *host,
		     const struct dnsfollow_kv *cfg, size_t ncfg, void **self)
{
	char err[SWARM_ERRLEN] = "";
	struct swarm *sw = calloc(1, sizeof *sw);
	if (!sw)
		return host->error(host, -ENOMEM, "out of memory");
	int rc = swarm_cfg_parse(&sw->cfg, cfg, ncfg, err, sizeof err);
	if (rc) {
		free(sw);
		return host->error(host, rc, "%s", err);
	}
	sw->host = host;
	sw->wakefd = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sw->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&sw->mu, NULL);
	*self = sw;
	return 0;
}

static void sw_destroy(void *self)
{
	struct swarm *sw = self;
	if (!sw)
		return;
	swarm_watch_stop(sw);
	for (size_t i = 0; i < sw->nwatched; i++) {
		free(sw->watched[i].service);
		free(sw->watched[i].fp);
		free(sw->watched[i].announced);
	}
	pthread_cond_destroy(&sw->cond);
	pthread_mutex_destroy(&sw->mu);
	swarm_cfg_free(&sw->cfg);
	free(sw);
}

static int target_of(const struct dnsfollow_query *q, int *target)
{
	const char *t = dnsfollow_kv_get(q->options, q->noptions, "target");
	*target = SWARM_TARGET_TASKS;
	if (!t || strcmp(t, "tasks") == 0)
		return 0;
	if (strcmp(t, "ready-nodes") == 0)
		return *target = SWARM_TARGET_READY_NODES, 0;
	return -1;
}

static int emit_all(const struct swarm_result *r, int target,
		    dnsfollow_placement_cb emit, void *ctx)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct swarm_node *nd = &r->v[i];
		const char *addrs[2];
		size_t na = 0;
		if (nd->addr4[0])
			addrs[na++] = nd->addr4;
		if (nd->addr6[0])
			addrs[na++] = nd->addr6;
		struct dnsfollow_placement p = {
			.struct_size = sizeof p,
			.node_id = nd->id,
			.node_name = nd->host[0] ? nd->host : NULL,
			.state = target == SWARM_TARGET_TASKS ? "running" : "ready",
			.naddrs = na,
			.addrs = addrs,
		};
		int rc = emit(ctx, &p);
		if (rc)
			return rc;
	}
	return 0;
}

/* Have the watcher poll fast (a move is under way) ... unless it has been
 * "under way" for longer than a fast window lasts (a task pending for want
 * of resources, or crash-looping): then the watcher's normal polling and
 * the events are enough, or the core's resyncs would keep it fast for
 * ever. */
static void follow_closely(struct swarm *sw)
{
	pthread_mutex_lock(&sw->mu);
	uint64_t now = sw->host->now_ms();
	int stuck = sw->unsettled_since_ms &&
		    now - sw->unsettled_since_ms >= sw->cfg.settle_max_ms;
	if (!sw->settle_from_ms && !stuck)
		sw->settle_from_ms = now;
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
}

/* A record's options, checked before any pass (and again by resolve()):
 * no engine is asked anything. */
static int check_target(struct swarm *sw, const struct dnsfollow_query *q,
			int *target)
{
	if (!q || !q->service || !*q->service)
		return sw->host->error(sw->host, -EINVAL, "no service given");
	if (target_of(q, target)) {
		const char *t = dnsfollow_kv_get(q->options, q->noptions, "target");
		return sw->host->error(sw->host, -EINVAL,
				       "target: '%.100s' is not tasks or ready-nodes", t);
	}
	return 0;
}

static int sw_check_query(void *self, const struct dnsfollow_query *q)
{
	int target;
	return check_target(self, q, &target);
}

static int sw_resolve(void *self, const struct dnsfollow_query *q,
		      dnsfollow_placement_cb emit, void *ctx)
{
	struct swarm *sw = self;
	char err[SWARM_ERRLEN] = "";
	int target;
	int rc = check_target(sw, q, &target);
	if (rc)
		return rc;
	struct swarm_result r;
	rc = swarm_resolve_now(sw, q->service, target, &r, err, sizeof err);
	if (r.unsettled) /* a move is under way, or the view is forming */
		follow_closely(sw);
	if (rc) {
		swarm_watch_note(sw, q->service, target, NULL);
		return sw->host->error(sw->host, rc, "%s", err);
	}
	rc = emit_all(&r, target, emit, ctx);
	char *fp = swarm_result_fingerprint(&r);
	swarm_watch_note(sw, q->service, target, rc ? NULL : fp);
	free(fp);
	swarm_result_free(&r);
	return rc;
}

static int sw_watch_fd(void *self)
{
	struct swarm *sw = self;
	char err[SWARM_ERRLEN];
	if (sw->wakefd >= 0 || !sw->cfg.events)
		return sw->wakefd;
	if (swarm_watch_start(sw, err, sizeof err)) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_ERROR,
			      "%s: no event stream, polling at the resync interval",
			      err);
		return -1;
	}
	return sw->wakefd;
}

/* The threads write only when the answer changed (or the stream came
 * back), so any wake-up is worth a pass. */
static int sw_watch_ack(void *self)
{
	struct swarm *sw = self;
	uint64_t v;
	int woke = 0;
	while (sw->wakefd >= 0 && read(sw->wakefd, &v, sizeof v) == sizeof v)
		woke = 1;
	return woke;
}

static const struct dnsfollow_backend_ops ops = {
	.struct_size = sizeof ops,
	.resolve = sw_resolve,
	.watch_fd = sw_watch_fd,
	.watch_ack = sw_watch_ack,
	.check_query = sw_check_query,
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_BACKEND,
	.name = "swarm",
	.version = "0.1.0",
	.config_keys = config_keys,
	.record_keys = record_keys,
	.create = sw_create,
	.destroy = sw_destroy,
	.ops = &ops,
};
