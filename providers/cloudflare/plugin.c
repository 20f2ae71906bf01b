/*
 * The cloudflare provider: keys, instance, ops table. See README.md for
 * the API facts it relies on and where each comes from.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA, DNSFOLLOW_TYPE_CNAME,
				 DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_NS, 0};

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_SECRET_("token", DNSFOLLOW_KEY_REQUIRED,
			      "API token with the permission Zone:DNS:Edit (token_file = PATH reads it)"),
	{"endpoint", DNSFOLLOW_T_STRING, 0, "API base URL (https; http only to loopback)",
	 "https://api.cloudflare.com/client/v4", 0, 0, NULL},
	DNSFOLLOW_KEY_PATH_("ca_file", 0, "extra trusted CA bundle (PEM)"),
	DNSFOLLOW_KEY_DURATION("timeout", "30s", 100, 600000, "time allowed for one API request"),
	DNSFOLLOW_KEY_UINT("per_page", "1000", 1, 5000000, "records per page when listing"),
	DNSFOLLOW_KEY_UINT("batch_max", "200", 1, 3500,
			   "operations per batch call (free plan 200, paid plans 3500)"),
	DNSFOLLOW_KEY_UINT("rate_limit", "1200", 0, 0,
			   "requests per 5 minutes this instance may send (0: no limit)"),
	DNSFOLLOW_KEY_END,
};

static const struct dnsfollow_key record_keys[] = {
	DNSFOLLOW_KEY_BOOL("proxied", "no", "serve A/AAAA/CNAME through Cloudflare's proxy"),
	DNSFOLLOW_KEY_END,
};

static void cf_destroy(void *self)
{
	struct cf *p = self;
	if (!p)
		return;
	for (size_t i = 0; i < p->nzones; i++)
		cf_zone_free(&p->zones[i]);
	for (size_t i = 0; i < p->nzone_names; i++)
		free(p->zone_names[i]);
	free(p->zones), free(p->zone_names);
	free(p->endpoint), free(p->auth), free(p->ca_file);
	cf_bucket_put(p->bucket);
	free(p);
}

/* "a.test, b.test" into p->zone_names. */
static int split_zones(struct cf *p, const char *list)
{
	if (!list)
		return 0;
	p->zone_names = calloc(strlen(list) / 2 + 2, sizeof *p->zone_names);
	if (!p->zone_names)
		return -ENOMEM;
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ", ");
		if (n && !(p->zone_names[p->nzone_names++] = strndup(s, n)))
			return -ENOMEM;
		s += n;
		s += strspn(s, ", ");
	}
	return 0;
}

/* Refusals that need no network: a bad endpoint, a token that would
 * break its header. NULL when fine. */
static const char *bad_config(const char *endpoint, const char *token)
{
	if (strncmp(endpoint, "http://", 7) == 0 && !cf_is_loopback_url(endpoint))
		return "endpoint: http:// is allowed to a loopback address only (the token "
		       "would travel in clear text): use https://";
	if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
		return "endpoint: not an https:// URL";
	if (!token[0])
		return "token is empty";
	if (strpbrk(token, "\r\n"))
		return "token holds a line break (a token_file of two lines?)";
	return NULL;
}

static int cf_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *cfg, size_t n,
		     void **self)
{
	const char *endpoint = dnsfollow_kv_get(cfg, n, "endpoint");
	const char *token = dnsfollow_kv_get(cfg, n, "token");
	const char *ca = dnsfollow_kv_get(cfg, n, "ca_file");
	if (!endpoint)
		endpoint = "https://api.cloudflare.com/client/v4";
	const char *bad = bad_config(endpoint, token ? token : "");
	if (bad)
		return h->error(h, -EINVAL, "%s", bad);
	struct cf *p = calloc(1, sizeof *p);
	if (!p)
		return h->error(h, -ENOMEM, "out of memory");
	p->h = h;
	p->bucket = cf_bucket_get(token, dnsfollow_kv_num(cfg, n, "rate_limit", 1200), h->now_ms());
	p->timeout_ms = (long)dnsfollow_kv_num(cfg, n, "timeout", 30000);
	p->per_page = dnsfollow_kv_num(cfg, n, "per_page", 1000);
	p->batch_max = (size_t)dnsfollow_kv_num(cfg, n, "batch_max", 200);
	size_t el = strlen(endpoint);
	while (el > 0 && endpoint[el - 1] == '/')
		el--;
	p->endpoint = strndup(endpoint, el);
	p->auth = malloc(strlen(token) + sizeof "Authorization: Bearer ");
	p->ca_file = ca ? strdup(ca) : NULL;
	if (!p->bucket || !p->endpoint || !p->auth || (ca && !p->ca_file) ||
	    split_zones(p, dnsfollow_kv_get(cfg, n, "zones")) != 0) {
		cf_destroy(p);
		return h->error(h, -ENOMEM, "out of memory");
	}
	sprintf(p->auth, "Authorization: Bearer %s", token);
	*self = p;
	return 0;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops, .caps = DNSFOLLOW_CAP_ATOMIC, .types = types,
	.read = cf_read, .apply = cf_apply, .markers = cf_markers,
};

DNSFOLLOW_PROVIDER("cloudflare", "1.0", keys, record_keys, cf_create, cf_destroy, &ops);
