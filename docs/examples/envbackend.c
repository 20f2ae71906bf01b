/*
 * An example third-party backend, built against the public headers only:
 * a service's addresses (and, for `type = CNAME` records, its node's DNS
 * name) come from environment variables,
 *
 *   DNSFOLLOW_ADDRS_<SERVICE>="192.0.2.10 2001:db8::10"
 *   DNSFOLLOW_ADDRS_<SERVICE>_HOST=node1.example.net      (optional)
 *
 * Build:  cc -std=c11 -shared -fPIC -fvisibility=hidden \
 *            $(pkg-config --cflags dnsfollow) -o env.so envbackend.c
 */
#define _POSIX_C_SOURCE 200809L /* strdup, strtok_r */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dnsfollow/plugin.h>

struct env {
	const struct dnsfollow_host *h;
	char prefix[64];
};

/* Typed keys (ABI 2): the core checks values and fills in the default. */
static const struct dnsfollow_key keys[] = {
	{"prefix", DNSFOLLOW_T_STRING, 0, "environment variable prefix", "DNSFOLLOW_ADDRS_",
	 0, 0, NULL},
	DNSFOLLOW_KEY_END,
};

static int env_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *cfg,
		      size_t n, void **self)
{
	if (!DNSFOLLOW_HOST_HAS(h, name_normalise))
		return h->error(h, -ENOTSUP, "this dnsfollow is too old for the env backend");
	struct env *e = calloc(1, sizeof *e);
	if (!e)
		return h->error(h, -ENOMEM, "out of memory");
	const char *p = dnsfollow_kv_get(cfg, n, "prefix");
	snprintf(e->prefix, sizeof e->prefix, "%s", p ? p : "DNSFOLLOW_ADDRS_");
	e->h = h;
	*self = e;
	return 0;
}

static void env_destroy(void *self)
{
	free(self);
}

/* The node's DNS name from PREFIX<SERVICE>_HOST into out, or "" when unset. */
static int env_host(struct env *e, const char *var, char *out, size_t cap)
{
	char name[300];
	snprintf(name, sizeof name, "%s_HOST", var);
	const char *v = getenv(name);
	out[0] = '\0';
	if (v && e->h->name_normalise(v, out, cap) != 0)
		return e->h->error(e->h, -EINVAL, "%s: '%s' is not a DNS name", name, v);
	return 0;
}

static int env_resolve(void *self, const struct dnsfollow_query *q,
		       dnsfollow_placement_cb emit, void *ctx)
{
	struct env *e = self;
	char name[256], host[256];
	int len = snprintf(name, sizeof name, "%s%s", e->prefix, q->service);
	for (int i = (int)strlen(e->prefix); i < len && i < (int)sizeof name - 1; i++)
		name[i] = isalnum((unsigned char)name[i]) ? (char)toupper((unsigned char)name[i]) : '_';
	const char *v = getenv(name);
	if (!v) /* Not known: an error, so the record keeps its value. */
		return e->h->error(e->h, -ENOENT, "%s is not set", name);
	int rc = env_host(e, name, host, sizeof host);
	char *copy = strdup(v), *save = NULL;
	if (rc || !copy) {
		free(copy);
		return rc ? rc : e->h->error(e->h, -ENOMEM, "out of memory");
	}
	for (char *a = strtok_r(copy, " ,", &save); a && !rc; a = strtok_r(NULL, " ,", &save)) {
		const char *addrs[1] = {a};
		struct dnsfollow_placement p = {.struct_size = sizeof p, .node_name = a,
						.state = "env", .naddrs = 1, .addrs = addrs,
						.dns_name = host[0] ? host : NULL};
		rc = emit(ctx, &p); /* the core copies; `a` may go away after */
	}
	free(copy);
	return rc;
}

static const struct dnsfollow_backend_ops ops = {
	.struct_size = sizeof ops,
	.resolve = env_resolve, /* no watch_fd: the core polls at `interval` */
};

DNSFOLLOW_BACKEND("env", "2.0", keys, NULL, env_create, env_destroy, &ops);
