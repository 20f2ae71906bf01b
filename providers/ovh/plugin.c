/* OVH provider: descriptor, configuration, instance life cycle. */
#include "ovh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RATE 1.0 /* OVH advises about 60 requests a minute */
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
	{"rate_limit", 0, "requests per second, client side (default 1; 0 = "
			  "no limit)"},
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

static int load_creds(const struct dnsfollow_host *h, struct ovh *o,
		      const struct dnsfollow_kv *cfg, size_t n)
{
	/* python-ovh's search list, highest priority first. */
	char home_conf[4096];
	const char *paths[4];
	size_t k = 0;
	paths[k++] = "./ovh.conf";
	const char *home = getenv("HOME");
	if (home && *home &&
	    (size_t)snprintf(home_conf, sizeof home_conf, "%s/.ovh.conf",
			     home) < sizeof home_conf)
		paths[k++] = home_conf;
	paths[k++] = "/etc/ovh.conf";
	paths[k] = NULL;
	struct ovh_creds given = {
		.endpoint = (char *)dnsfollow_kv_get(cfg, n, "endpoint"),
		.application_key =
			(char *)dnsfollow_kv_get(cfg, n, "application_key"),
		.application_secret =
			(char *)dnsfollow_kv_get(cfg, n, "application_secret"),
		.consumer_key = (char *)dnsfollow_kv_get(cfg, n, "consumer_key"),
	};
	char err[512];
	int rc = ovh_creds_resolve(h, &given,
				   dnsfollow_kv_get(cfg, n, "credentials"),
				   paths, &o->cr, err, sizeof err);
	if (rc != 0)
		return h->error(h, rc, "%s", err);
	o->base = ovh_endpoint_url(o->cr.endpoint);
	if (!o->base)
		return h->error(h, -EINVAL,
				"endpoint: unknown \"%s\" (ovh-eu, ovh-ca, ovh-us, "
				"kimsufi-eu, kimsufi-ca, soyoustart-eu, "
				"soyoustart-ca, or an http(s):// base URL)",
				o->cr.endpoint);
	h->log(h, DNSFOLLOW_LOG_DEBUG, "endpoint %s, application key from %s",
	       o->base, o->cr.source ? o->cr.source : "?");
	return 0;
}

static int ovh_create(const struct dnsfollow_host *h,
		      const struct dnsfollow_kv *cfg, size_t n, void **self)
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
		rc = load_creds(h, o, cfg, n);
	if (rc != 0) {
		ovh_destroy(o);
		return rc;
	}
	*self = o;
	return 0;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
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
