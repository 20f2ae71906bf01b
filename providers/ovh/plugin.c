/* OVH provider: descriptor, configuration, instance life cycle. */
#include "ovh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults and bounds of the numeric keys: the core checks them (and
 * delivers the default) before create() sees the configuration. */
#define DEFAULT_RATE 1ull /* OVH advises about 60 requests a minute */
#define DEFAULT_BURST 10ull
#define DEFAULT_INFLIGHT 4ull
#define DEFAULT_TIMEOUT_MS 10000ull

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_STRING("endpoint", 0,
			     "ovh-eu (default), ovh-ca, ovh-us, kimsufi-eu, "
			     "kimsufi-ca, soyoustart-eu, soyoustart-ca, or a "
			     "base URL"),
	DNSFOLLOW_KEY_PATH_("credentials", 0,
			    "python-ovh ovh.conf file (default: ./ovh.conf, "
			    "~/.ovh.conf, /etc/ovh.conf)"),
	DNSFOLLOW_KEY_STRING("application_key", 0,
			     "overrides OVH_APPLICATION_KEY and ovh.conf"),
	DNSFOLLOW_KEY_SECRET_("application_secret", 0,
			      "overrides OVH_APPLICATION_SECRET and ovh.conf"),
	DNSFOLLOW_KEY_SECRET_("consumer_key", 0,
			      "overrides OVH_CONSUMER_KEY and ovh.conf"),
	DNSFOLLOW_KEY_PATH_("ca_file", 0, "extra trusted CA bundle (PEM)"),
	DNSFOLLOW_KEY_UINT("rate_limit", "1", 0, 10000,
			   "requests per second, client side (0 = no limit)"),
	DNSFOLLOW_KEY_UINT("burst", "10", 1, 100000,
			   "requests allowed at once above the rate"),
	DNSFOLLOW_KEY_UINT("max_inflight", "4", 1, 64, "concurrent requests"),
	DNSFOLLOW_KEY_UINT("timeout_ms", "10000", 100, 600000,
			   "per request, in milliseconds"),
	DNSFOLLOW_KEY_END,
};

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
	if (!DNSFOLLOW_HOST_HAS(h, secret)) {
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
	int rc = 0;
	struct ovh *o = calloc(1, sizeof *o);
	if (!o)
		return h->error(h, -ENOMEM, "out of memory");
	o->h = h;
	o->timeout_ms = (long)dnsfollow_kv_num(cfg, n, "timeout_ms",
					       DEFAULT_TIMEOUT_MS);
	o->max_inflight = (unsigned)dnsfollow_kv_num(cfg, n, "max_inflight",
						     DEFAULT_INFLIGHT);
	pthread_mutex_init(&o->time_mu, NULL);
	ovh_bucket_init(&o->bucket,
			(double)dnsfollow_kv_num(cfg, n, "rate_limit", DEFAULT_RATE),
			(double)dnsfollow_kv_num(cfg, n, "burst", DEFAULT_BURST),
			h->now_ms());
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

/* What the record code reads and writes (records.c): OVH's fieldType
 * names are the usual mnemonics. */
const uint16_t ovh_types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
			      DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_CNAME, 0};

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = 0, /* one call per record: not atomic */
	.types = ovh_types,
	.read = ovh_read,
	.apply = ovh_apply,
	.markers = ovh_markers,
};

DNSFOLLOW_PROVIDER("ovh", "2.0", keys, NULL, ovh_create, ovh_destroy, &ops);
