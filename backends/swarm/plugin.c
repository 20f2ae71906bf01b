/* The swarm backend's descriptor and ops. */
#include "swarm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Typed: the core checks every value (FILE:LINE, exit 78 at
 * --check-config) and delivers the defaults, so nothing here parses a
 * number or a switch. */
static const struct dnsfollow_key config_keys[] = {
	DNSFOLLOW_KEY_STRING("host", 0, "unix:///PATH, tcp://HOST:PORT (mutual TLS) "
			     "or http://HOST:PORT (default $DOCKER_HOST, else "
			     "unix:///var/run/docker.sock)"),
	DNSFOLLOW_KEY_PATH_("tls_ca", 0, "CA bundle for tcp:// (mutual TLS)"),
	DNSFOLLOW_KEY_PATH_("tls_cert", 0, "client certificate for tcp://"),
	DNSFOLLOW_KEY_PATH_("tls_key", 0, "client key for tcp://"),
	{"address_label", DNSFOLLOW_T_STRING, 0,
	 "node label with the node's IPv4 (empty: off)", "dnsfollow.ipv4", 0, 0, NULL},
	{"address6_label", DNSFOLLOW_T_STRING, 0,
	 "node label with the node's IPv6 (empty: off)", "dnsfollow.ipv6", 0, 0, NULL},
	{"hostname_label", DNSFOLLOW_T_STRING, 0,
	 "node label with the node's DNS name, the target of CNAME records "
	 "(empty: off)", "dnsfollow.hostname", 0, 0, NULL},
	{"label_prefix", DNSFOLLOW_T_STRING, 0,
	 "prefix of the service labels discover = yes reads: PREFIX.name = "
	 "DNS names (comma list), PREFIX.KEY = a record key (type, ttl, "
	 "provider, target, on_empty, zone)", "dnsfollow", 0, 0, NULL},
	DNSFOLLOW_KEY_STRING("node.*", DNSFOLLOW_KEY_MULTI,
			     "node.HOSTNAME = ADDRESS or DNS name: a node's IPv4, "
			     "IPv6 and CNAME target (one of each per node)"),
	DNSFOLLOW_KEY_BOOL("allow_loopback", "no",
			   "accept 127.0.0.0/8 and ::1 from the engine (never 0.0.0.0 or ::)"),
	DNSFOLLOW_KEY_BOOL("events", "yes",
			   "no: no event stream nor watcher, the core's resync interval only"),
	DNSFOLLOW_KEY_DURATION("poll_interval", "5s", 1000, 86400000,
			       "between safety-net polls of the watched services"),
	DNSFOLLOW_KEY_UINT("timeout_ms", "5000", 100, 600000,
			   "per-request timeout, milliseconds"),
	DNSFOLLOW_KEY_UINT("settle_max_ms", "60000", 1000, 600000,
			   "longest stretch of fast (100 ms) polling after an event "
			   "or while a task moves, milliseconds"),
	DNSFOLLOW_KEY_END,
};

/* Index = SWARM_TARGET_*. */
static const char *const targets[] = {"tasks", "ready-nodes", NULL};

static const struct dnsfollow_key record_keys[] = {
	DNSFOLLOW_KEY_ENUM("target", "tasks", targets,
			   "tasks: the nodes running a task; ready-nodes: every "
			   "ready, active node"),
	DNSFOLLOW_KEY_END,
};

/* The host helpers of ABI 2 this backend relies on. */
static int host_ok(const struct dnsfollow_host *h)
{
	return DNSFOLLOW_HOST_HAS(h, url_escape) &&
	       DNSFOLLOW_HOST_HAS(h, name_normalise) &&
	       DNSFOLLOW_HOST_HAS(h, http_header);
}

static int sw_create(const struct dnsfollow_host *host,
		     const struct dnsfollow_kv *cfg, size_t ncfg, void **self)
{
	char err[SWARM_ERRLEN] = "";
	if (!host_ok(host))
		return host->error(host, -EINVAL, "this dnsfollow's host table lacks "
				   "url_escape, name_normalise or http_header: "
				   "upgrade dnsfollow");
	struct swarm *sw = calloc(1, sizeof *sw);
	if (!sw)
		return host->error(host, -ENOMEM, "out of memory");
	int rc = swarm_cfg_parse(&sw->cfg, cfg, ncfg, host->name_normalise, err,
				 sizeof err);
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
	swarm_wset_free(sw);
	swarm_discover_free(sw);
	pthread_cond_destroy(&sw->cond);
	pthread_mutex_destroy(&sw->mu);
	swarm_cfg_free(&sw->cfg);
	free(sw);
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
			.dns_name = nd->dns[0] ? nd->dns : NULL,
		};
		int rc = emit(ctx, &p);
		if (rc)
			return rc;
	}
	return 0;
}

/* A record's query, checked before any pass (and again by resolve()):
 * what types cannot express. `target` is an ENUM the core checked; a
 * service name with control characters or spaces is no Docker name or
 * ID (the engine would only say "not found" at run time). No engine is
 * asked anything. */
static int check_target(struct swarm *sw, const struct dnsfollow_query *q,
			int *target)
{
	if (!q || !q->service || !*q->service)
		return sw->host->error(sw->host, -EINVAL, "no service given");
	for (const char *c = q->service; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return sw->host->error(sw->host, -EINVAL,
					       "service '%.100s': a Docker service name "
					       "or ID has no spaces or control characters",
					       q->service);
	if (strlen(q->service) >= SWARM_HOST_MAX)
		return sw->host->error(sw->host, -EINVAL,
				       "service '%.60s...': longer than any Docker "
				       "service name or ID", q->service);
	*target = swarm_target_of(q);
	if (*target < 0)
		return sw->host->error(sw->host, -EINVAL,
				       "target: not tasks or ready-nodes");
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
	/* Inside a pass, from prepare()'s snapshot; else asked on its own. */
	if (swarm_snap_usable(sw, q->service))
		rc = swarm_snap_select(&sw->snap, q->service, target, &r, err,
				       sizeof err);
	else
		rc = swarm_resolve_now(sw, q->service, target, &r, err, sizeof err);
	if (r.unsettled) /* a move is under way, or the view is forming */
		swarm_wset_follow(sw, q->service, target);
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

/* The queries the configuration asks: exactly what the watcher follows
 * and what service events are filtered on. */
static int sw_watch_set(void *self, const struct dnsfollow_query *const *qs,
			size_t n)
{
	struct swarm *sw = self;
	char err[SWARM_ERRLEN] = "";
	int rc = swarm_wset_replace(sw, qs, n, err, sizeof err);
	if (rc)
		return sw->host->error(sw->host, rc, "%s", err);
	pthread_mutex_lock(&sw->mu);
	size_t k = sw->nwatched; /* without duplicates */
	pthread_mutex_unlock(&sw->mu);
	sw->host->log(sw->host, DNSFOLLOW_LOG_INFO, "watching %zu quer%s", k,
		      k == 1 ? "y" : "ies");
	return 0;
}

static int sw_discover(void *self, dnsfollow_discover_cb emit, void *ctx)
{
	return swarm_discover(self, emit, ctx);
}

static int sw_prepare(void *self, const struct dnsfollow_query *const *qs,
		      size_t n)
{
	return swarm_prepare(self, qs, n);
}

static const struct dnsfollow_backend_ops ops = {
	.struct_size = sizeof ops,
	.resolve = sw_resolve,
	.watch_fd = sw_watch_fd,
	.watch_ack = sw_watch_ack,
	.check_query = sw_check_query,
	.watch_set = sw_watch_set,
	.discover = sw_discover,
	.prepare = sw_prepare,
};

DNSFOLLOW_BACKEND("swarm", "0.2.0", config_keys, record_keys, sw_create,
		  sw_destroy, &ops);
