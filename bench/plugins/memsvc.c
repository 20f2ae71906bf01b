/*
 * Benchmark backend: service "svcK" runs at an address computed from K
 * and the driver's generation counter (found with dlsym, when the driver
 * exports one), so the driver can move every service at once.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <dnsfollow/plugin.h>

static int mk(const struct dnsfollow_host *h, const struct dnsfollow_kv *c, size_t n,
	      void **self)
{
	(void)h, (void)c, (void)n;
	*self = dlsym(RTLD_DEFAULT, "bench_generation");
	return 0;
}

static void rm(void *self) { (void)self; }

static int resolve(void *self, const struct dnsfollow_query *q, dnsfollow_placement_cb emit,
		   void *ctx)
{
	const int *gen = self;
	unsigned long k = strtoul(q->service + 3, NULL, 10) + (gen ? (unsigned)*gen : 0u);
	char a[32], dn[48];
	snprintf(a, sizeof a, "10.%lu.%lu.%lu", (k >> 16) & 255, (k >> 8) & 255, k & 255);
	snprintf(dn, sizeof dn, "node%lu.bench.test", k); /* for type = CNAME */
	const char *addrs[] = {a};
	struct dnsfollow_placement p = {.struct_size = sizeof p, .naddrs = 1, .addrs = addrs,
					.dns_name = dn};
	return emit(ctx, &p);
}

static const struct dnsfollow_backend_ops ops = {.struct_size = sizeof ops, .resolve = resolve};

DNSFOLLOW_BACKEND("memsvc", "bench", NULL, NULL, mk, rm, &ops);
