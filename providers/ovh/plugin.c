/* OVH provider: descriptor, configuration, instance life cycle. */
#include "ovh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RATE 1.0 /* OVH advises about 60 requests a minute */
/* Slower than this, queued callers would wait minutes per call and a pass
 * of a few hundred records would take hours. */
#define MIN_RATE 0.1
#define DEFAULT_BURST 10.0
#define DEFAULT_INFLIGHT 4u
#define MAX_INFLIGHT 64u
#define DEFAULT_TIMEOUT_MS 10000L

static const struct dnsfollow_key keys[] = {
	{"endpoint", 0, "ovh-eu (default), ovh-ca, ovh-us, kimsufi-eu, "
			"kimsufi-ca, soyoustart-eu, soyoustart-ca, or a base URL"},
	{"credentials", DNSFOLLOW_KEY_PATH,
	 "python-ovh ovh.conf file (default: ./ovh.conf, ~/.ovh.conf, "
	 "/etc/ovh.conf)"},
	{"application_key", 0, "overrides OVH_APPLICATION_KEY and ovh.conf"},
	{"application_secret", DNSFOLLOW_KEY_SECRET,
	 "overrides OVH_APPLICATION_SECRET and ovh.conf"},
	{"consumer_key", DNSFOLLOW_KEY_SECRET,
	 "overrides OVH_CONSUMER_KEY and ovh.conf"},
	{"ca_file", DNSFOLLOW_KEY_PATH, "extra trusted CA bundle (PEM)"},
	{"rate_limit", 0, "requests per second, client side (default 1, at "
			  "least 0.1; 0 = no limit)"},
	{"burst", 0, "requests allowed at once above the rate (default 10)"},
	{"max_inflight", 0, "concurrent requests (default 4)"},
	{"timeout_ms", 0, "per request (default 10000)"},
	{NULL, 0, NULL},
};

static int num(const struct dnsfollow_host *h, const char *key,
	       const char *v, double lo, double hi, double *out)
{
	if (!v)
		return 0;
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	while (end && (*end == ' ' || *end == '\t'))
		end++;
	if (errno || end == v || !end || *end || !(d >= lo && d <= hi))
		return h->error(h, -EINVAL, "%s: expected a number from %g to "
				"%g, got \"%s\"", key, lo, hi, v);
	*out = d;
	return 0;
}

struct opts {
	double rate, burst, inflight, timeout;
};

static int parse_opts(const struct dnsfollow_host *h,
		      const struct dnsfollow_kv *cfg, size_t n, struct opts *op)
{
	*op = (struct opts){DEFAULT_RATE, DEFAULT_BURST, DEFAULT_INFLIGHT,
			    DEFAULT_TIMEOUT_MS};
	int rc = num(h, "rate_limit", dnsfollow_kv_get(cfg, n, "rate_limit"),
		     0, 10000, &op->rate);
	if (rc == 0)
		rc = num(h, "burst", dnsfollow_kv_get(cfg, n, "burst"), 1,
			 100000, &op->burst);
	if (rc == 0)
		rc = num(h, "max_inflight",
			 dnsfollow_kv_get(cfg, n, "max_inflight"), 1,
			 MAX_INFLIGHT, &op->inflight);
	if (rc == 0)
		rc = num(h, "timeout_ms", dnsfollow_kv_get(cfg, n, "timeout_ms"),
			 100, 600000, &op->timeout);
	if (rc == 0 && op->inflight != (unsigned)op->inflight)
		rc = h->error(h, -EINVAL, "max_inflight: expected a whole number");
	if (rc == 0 && op->rate > 0 && op->rate < MIN_RATE)
		rc = h->error(h, -EINVAL, "rate_limit: expected 0 (no limit) or "
			      "at least %g requests per second, got \"%s\"",
			      MIN_RATE, dnsfollow_kv_get(cfg, n, "rate_limit"));
	return rc;
}

static void ovh_destroy(void *self)
{
	struct ovh *o = self;
	if (!o)
		return;
	ovh_cache_destroy(&o->cache);
	ovh_bucket_destroy(&o->bucket);
	pthread_mutex_destroy(&o->time_mu);
	ovh_creds_free(&o->cr);
	free(o->base);
	free(o->ca_file);
	free(o);
}

/* Secrets from a file or the environment are not config keys, so the core
 * does not know them: register them before anything can log them. */
static int register_secrets(const struct dnsfollow_host *h,
			    const struct ovh_creds *c)
{
	if (h->struct_size < offsetof(struct dnsfollow_host, secret) +
				     sizeof h->secret || !h->secret) {
		h->log(h, DNSFOLLOW_LOG_WARN, "this dnsfollow cannot mask secrets "
		       "read from ovh.conf or OVH_* in its logs: do not run it "
		       "at log level debug");
		return 0;
	}
	const struct {
		const char *key, *value, *from;
	} s[] = {{"application_secret", c->application_secret, c->as_from},
		 {"consumer_key", c->consumer_key, c->ck_from}};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (h->secret(h, s[i].value) != 0)
			return h->error(h, -EINVAL, "%s from %s is too short to "
					"be masked in logs (fewer than 4 "
					"characters); refusing it", s[i].key,
					s[i].from);
	return 0;
}

static int load_creds(const struct dnsfollow_host *h, struct ovh *o,
		      const struct dnsfollow_kv *cfg, size_t n,
		      const char *const *paths)
{
	struct ovh_creds given = {
		.endpoint = (char *)dnsfollow_kv_get(cfg, n, "endpoint"),
		.application_key =
			(char *)dnsfollow_kv_get(cfg, n, "application_key"),
		.application_secret =
			(char *)dnsfollow_kv_get(cfg, n, "application_secret"),
		.consumer_key = (char *)dnsfollow_kv_get(cfg, n, "consumer_key"),
	};
	char err[1024];
	int rc = ovh_creds_resolve(h, &given,
				   dnsfollow_kv_get(cfg, n, "credentials"),
				   paths, &o->cr, err, sizeof err);
	if (rc != 0) /* err empty: host->read_file() reported it */
		return err[0] ? h->error(h, rc, "%s", err) : rc;
	rc = register_secrets(h, &o->cr);
	if (rc == 0 && (rc = ovh_endpoint_url(o->cr.endpoint, &o->base, err,
					      sizeof err)) != 0)
		return h->error(h, rc, "%s", err);
	if (rc == 0) {
		ovh_creds_sources(&o->cr, err, sizeof err);
		h->log(h, DNSFOLLOW_LOG_DEBUG, "endpoint %s; %s", o->base, err);
	}
	return rc;
}

int ovh_create_with_paths(const struct dnsfollow_host *h,
			  const struct dnsfollow_kv *cfg, size_t n,
			  const char *const *paths, void **self)
{
	struct opts op;
	int rc = parse_opts(h, cfg, n, &op);
	if (rc != 0)
		return rc;
	struct ovh *o = calloc(1, sizeof *o);
	if (!o)
		return h->error(h, -ENOMEM, "out of memory");
	o->h = h;
	o->timeout_ms = (long)op.timeout;
	o->max_inflight = (unsigned)op.inflight;
	pthread_mutex_init(&o->time_mu, NULL);
	ovh_bucket_init(&o->bucket, op.rate, op.burst, h->now_ms());
	ovh_cache_init(&o->cache);
	const char *ca = dnsfollow_kv_get(cfg, n, "ca_file");
	if (ca && !(o->ca_file = strdup(ca)))
		rc = h->error(h, -ENOMEM, "out of memory");
	if (rc == 0)
		rc = load_creds(h, o, cfg, n, paths);
	if (rc != 0) {
		ovh_destroy(o);
		return rc;
	}
	*self = o;
	return 0;
}

static int ovh_create(const struct dnsfollow_host *h,
		      const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	char home_conf[4096];
	const char *paths[4];
	ovh_default_paths(home_conf, sizeof home_conf, paths);
	return ovh_create_with_paths(h, cfg, n, paths, self);
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	/* CNAME is read (the core checks that none sits where it writes
	 * an address) and can be written, but has no capability bit. */
	.caps = DNSFOLLOW_CAP_A | DNSFOLLOW_CAP_AAAA | DNSFOLLOW_CAP_TXT,
	.read = ovh_read,
	.apply = ovh_apply,
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_PROVIDER,
	.name = "ovh",
	.version = "1.0",
	.config_keys = keys,
	.create = ovh_create,
	.destroy = ovh_destroy,
	.ops = &ops,
};
