/* Deliberately broken plugin for the loader tests: its name is not its file name */
#include <dnsfollow/plugin.h>

static int rd(void *s, const char *z, const struct dnsfollow_rrkey *k, size_t n,
	      dnsfollow_rrset_cb e, void *c)
{
	(void)s, (void)z, (void)k, (void)n, (void)e, (void)c;
	return 0;
}
static int ap(void *s, const char *z, const struct dnsfollow_change *c, size_t n)
{
	(void)s, (void)z, (void)c, (void)n;
	return 0;
}
static int mk(const struct dnsfollow_host *h, const struct dnsfollow_kv *c,
	      size_t n, void **self)
{
	(void)h, (void)c, (void)n;
	*self = (void *)1;
	return 0;
}
static void rm(void *self) { (void)self; }

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_A | DNSFOLLOW_CAP_TXT,
	.read = rd,
	.apply = ap,
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_PROVIDER,
	.name = "other_name",
	.version = "0",
	.create = mk,
	.destroy = rm,
	.ops = &ops,
};
