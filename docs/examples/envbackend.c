/*
 * An example third-party backend, built against the public headers only:
 * a service's addresses come from an environment variable,
 *
 *   DNSFOLLOW_ADDRS_<SERVICE>="192.0.2.10 2001:db8::10"
 *
 * Build:  cc -std=c11 -shared -fPIC -fvisibility=hidden \
 *            -I/usr/local/include -o env.so envbackend.c
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

static const struct dnsfollow_key keys[] = {
	{"prefix", 0, "environment variable prefix (default DNSFOLLOW_ADDRS_)"},
	{NULL, 0, NULL},
};

static int env_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *cfg,
		      size_t n, void **self)
{
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

static int env_resolve(void *self, const struct dnsfollow_query *q,
		       dnsfollow_placement_cb emit, void *ctx)
{
	struct env *e = self;
	char name[256];
	int len = snprintf(name, sizeof name, "%s%s", e->prefix, q->service);
	for (int i = (int)strlen(e->prefix); i < len; i++)
		name[i] = isalnum((unsigned char)name[i]) ? (char)toupper((unsigned char)name[i]) : '_';
	const char *v = getenv(name);
	if (!v) /* Not known: an error, so the record keeps its value. */
		return e->h->error(e->h, -ENOENT, "%s is not set", name);
	char *copy = strdup(v), *save = NULL;
	if (!copy)
		return e->h->error(e->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (char *a = strtok_r(copy, " ,", &save); a && !rc; a = strtok_r(NULL, " ,", &save)) {
		const char *addrs[1] = {a};
		struct dnsfollow_placement p = {.struct_size = sizeof p, .node_name = a,
						.state = "env", .naddrs = 1, .addrs = addrs};
		rc = emit(ctx, &p); /* the core copies; `a` may go away after */
	}
	free(copy);
	return rc;
}

static const struct dnsfollow_backend_ops ops = {
	.struct_size = sizeof ops,
	.resolve = env_resolve, /* no watch_fd: the core polls at `interval` */
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_BACKEND,
	.name = "env",
	.version = "1.0",
	.config_keys = keys,
	.create = env_create,
	.destroy = env_destroy,
	.ops = &ops,
};
