/*
 * Deliberately broken plugins for the loader tests, one source built once
 * per flaw (see BAD_FLAWS in the Makefile):
 *   BAD_ABI     ABI version 999          BAD_KIND    declares itself a backend
 *   BAD_NAME    name is not its file     BAD_NULLOP  mandatory read op is NULL
 *   BAD_OPSIZE  ops table says 8 bytes   BAD_SYMBOL  exports the wrong symbol
 * Every function aborts: the loader must refuse the plugin before it runs
 * any of its code, so reaching one is a test failure.
 */
#include <stdlib.h>

#include <dnsfollow/plugin.h>

#ifndef PLUGIN_NAME
#error "PLUGIN_NAME must be defined"
#endif

__attribute__((unused)) static int rd(void *s, const char *z, const struct dnsfollow_rrkey *k, size_t n,
	      dnsfollow_rrset_cb e, void *c)
{
	(void)s, (void)z, (void)k, (void)n, (void)e, (void)c;
	abort();
}
static int ap(void *s, const char *z, const struct dnsfollow_change *c, size_t n)
{
	(void)s, (void)z, (void)c, (void)n;
	abort();
}
static int mk(const struct dnsfollow_host *h, const struct dnsfollow_kv *c,
	      size_t n, void **self)
{
	(void)h, (void)c, (void)n, (void)self;
	abort();
}
static void rm(void *self)
{
	(void)self;
	abort();
}

static const struct dnsfollow_provider_ops ops = {
#ifdef BAD_OPSIZE
	.struct_size = 8,
#else
	.struct_size = sizeof ops,
#endif
	.caps = DNSFOLLOW_CAP_A | DNSFOLLOW_CAP_TXT,
#ifdef BAD_NULLOP
	.read = NULL,
#else
	.read = rd,
#endif
	.apply = ap,
};

#ifdef BAD_SYMBOL
#define SYMBOL dnsfollow_plugin_v0
#else
#define SYMBOL dnsfollow_plugin
#endif

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin SYMBOL = {
#ifdef BAD_ABI
	.abi_version = 999,
#else
	.abi_version = DNSFOLLOW_ABI_VERSION,
#endif
#ifdef BAD_KIND
	.kind = DNSFOLLOW_KIND_BACKEND,
#else
	.kind = DNSFOLLOW_KIND_PROVIDER,
#endif
#ifdef BAD_NAME
	.name = "other_name",
#else
	.name = PLUGIN_NAME,
#endif
	.version = "0",
	.create = mk,
	.destroy = rm,
	.ops = &ops,
};
