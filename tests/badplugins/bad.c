/*
 * Plugins for the loader and config tests, one source built once per
 * flaw (see BAD_FLAWS in the Makefile):
 *   BAD_ABI     ABI version 999          BAD_KIND    declares itself a backend
 *   BAD_NAME    name is not its file     BAD_NULLOP  mandatory read op is NULL
 *   BAD_OPSIZE  ops table says 8 bytes   BAD_SYMBOL  exports the wrong symbol
 *   BAD_ABI1    a descriptor laid out as ABI 1 (no struct_size, caps bits)
 *   BAD_NOTXT   types lacks TXT          BAD_DEFAULT a key's default its type refuses
 * and two sound ones with typed keys, for the config tests:
 *   BAD_KEYS    a provider (config and record keys of every type)
 *   BAD_BKEYS   a backend (record keys, one shared with BAD_KEYS)
 * Every function aborts: loading and checking a config must not run any
 * plugin code, so reaching one is a test failure.
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
__attribute__((unused)) static int ap(void *s, const struct dnsfollow_changeset *cs)
{
	(void)s, (void)cs;
	abort();
}
__attribute__((unused)) static int rs(void *s, const struct dnsfollow_query *q,
					dnsfollow_placement_cb e, void *c)
{
	(void)s, (void)q, (void)e, (void)c;
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

#ifdef BAD_SYMBOL
#define SYMBOL dnsfollow_plugin_v0
#else
#define SYMBOL dnsfollow_plugin
#endif

#if defined(BAD_ABI1)
/* The ABI 1 descriptor: abi_version, then kind (no struct_size); keys
 * without types; provider ops with capability bits and the old apply. */
struct abi1_key {
	const char *name;
	uint32_t flags;
	const char *help;
};
struct abi1_plugin {
	uint32_t abi_version;
	uint32_t kind;
	const char *name, *version;
	const struct abi1_key *config_keys, *record_keys;
	int (*create)(const struct dnsfollow_host *, const struct dnsfollow_kv *,
		      size_t, void **);
	void (*destroy)(void *);
	const void *ops;
};
struct abi1_provider_ops {
	size_t struct_size;
	uint32_t caps;
	void *read, *apply;
};
static const struct abi1_key keys1[] = {{"state", 0x4u, "a path in ABI 1"}, {NULL, 0, NULL}};
static const struct abi1_provider_ops ops1 = {sizeof ops1, 0x2u | 0x8u, (void *)rd, (void *)rd};
DNSFOLLOW_PLUGIN_EXPORT const struct abi1_plugin SYMBOL = {
	.abi_version = 1,
	.kind = DNSFOLLOW_KIND_PROVIDER,
	.name = PLUGIN_NAME,
	.version = "0",
	.config_keys = keys1,
	.create = mk,
	.destroy = rm,
	.ops = &ops1,
};

#elif defined(BAD_BKEYS)
static const char *const targets[] = {"tasks", "nodes", NULL};
static const char *const ab[] = {"a", "b", NULL};
static const struct dnsfollow_key rkeys[] = {
	DNSFOLLOW_KEY_ENUM("target", "tasks", targets, "what to publish"),
	DNSFOLLOW_KEY_ENUM("shared", "a", ab, "declared by both plugins"),
	DNSFOLLOW_KEY_UINT("port", NULL, 1, 65535, "no default"),
	DNSFOLLOW_KEY_END,
};
static const struct dnsfollow_backend_ops bops = {.struct_size = sizeof bops, .resolve = rs};
DNSFOLLOW_BACKEND(PLUGIN_NAME, "0", NULL, rkeys, mk, rm, &bops);

#else
static const uint16_t types[] = {
	DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
#ifndef BAD_NOTXT
	DNSFOLLOW_TYPE_TXT,
#endif
	0};

static const struct dnsfollow_provider_ops ops = {
#ifdef BAD_OPSIZE
	.struct_size = 8,
#else
	.struct_size = sizeof ops,
#endif
	.types = types,
#ifdef BAD_NULLOP
	.read = NULL,
#else
	.read = rd,
#endif
	.apply = ap,
};

#if defined(BAD_KEYS) || defined(BAD_DEFAULT)
static const char *const modes[] = {"fast", "safe", "Thorough", NULL};
static const char *const ab[] = {"a", "b", NULL};
static const struct dnsfollow_key ckeys[] = {
	DNSFOLLOW_KEY_UINT("count", "5", 1, 10, "a bounded number"),
#ifdef BAD_DEFAULT
	DNSFOLLOW_KEY_UINT("retries", "99", 1, 20, "a default out of its bounds"),
#endif
	DNSFOLLOW_KEY_UINT("big", NULL, 0, 0, "no bounds"),
	DNSFOLLOW_KEY_BOOL("verbose", "no", NULL),
	DNSFOLLOW_KEY_DURATION("timeout", "30s", 1000, 3600000, "1s to 1h"),
	DNSFOLLOW_KEY_ENUM("mode", "safe", modes, NULL),
	DNSFOLLOW_KEY_PATH_("cert", 0, NULL),
	DNSFOLLOW_KEY_SECRET_("token", 0, NULL),
	DNSFOLLOW_KEY_STRING("label", 0, NULL),
	DNSFOLLOW_KEY_UINT("limit.*", NULL, 0, 100, "one per class"),
	{"tag", DNSFOLLOW_T_STRING, DNSFOLLOW_KEY_MULTI, NULL, NULL, 0, 0, NULL},
	DNSFOLLOW_KEY_END,
};
static const struct dnsfollow_key rkeys[] = {
	DNSFOLLOW_KEY_UINT("weight", "1", 0, 100, NULL),
	DNSFOLLOW_KEY_ENUM("shared", "a", ab, "declared by both plugins"),
	DNSFOLLOW_KEY_DURATION("hold", NULL, 0, 0, NULL),
	DNSFOLLOW_KEY_END,
};
#define CKEYS ckeys
#define RKEYS rkeys
#else
#define CKEYS NULL
#define RKEYS NULL
#endif

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin SYMBOL = {
#ifdef BAD_ABI
	.abi_version = 999,
#else
	.abi_version = DNSFOLLOW_ABI_VERSION,
#endif
	.struct_size = sizeof(struct dnsfollow_plugin),
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
	.config_keys = CKEYS,
	.record_keys = RKEYS,
	.create = mk,
	.destroy = rm,
	.ops = &ops,
};
#endif
