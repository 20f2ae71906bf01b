/*
 * What the core does around a plugin, for tests that call it directly.
 *
 * typed_kv(): the configuration as the core hands it to create() under ABI 2, for
 * tests that call the plugin directly: "key=value" strings (as for
 * testhost_kv) typed against the plugin's declared keys, the number in
 * kv.num, and every absent key that has a default added with it. The
 * core is what validates values; a value this helper cannot read fails
 * the test, since the core would have refused it before create().
 */
#ifndef R2136_HARNESS_H
#define R2136_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

#ifndef fail_msg /* a driver without cmocka */
#define fail_msg(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), exit(2))
#endif

static uint64_t typed_num(const struct dnsfollow_key *k, const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	switch (k->type) {
	case DNSFOLLOW_T_UINT:
		if (!*v || *end)
			fail_msg("%s = %s: not a number", k->name, v);
		return n;
	case DNSFOLLOW_T_BOOL:
		return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		       strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0;
	case DNSFOLLOW_T_DURATION:
		if (end == v)
			fail_msg("%s = %s: not a duration", k->name, v);
		if (strcmp(end, "ms") == 0)
			return n;
		if (!*end || strcmp(end, "s") == 0)
			return n * 1000u;
		if (strcmp(end, "m") == 0)
			return n * 60000u;
		if (strcmp(end, "h") == 0)
			return n * 3600000u;
		fail_msg("%s = %s: not a duration", k->name, v);
		return 0;
	case DNSFOLLOW_T_ENUM:
		for (uint64_t i = 0; k->values[i]; i++)
			if (strcasecmp(k->values[i], v) == 0)
				return i;
		fail_msg("%s = %s: not one of its words", k->name, v);
		return 0;
	default:
		return 0;
	}
}

/* Like testhost_kv, then typed; returns the count (defaults included). */
static inline size_t typed_kv(struct dnsfollow_kv *out, size_t cap,
			      const char *const *kvs)
{
	size_t n = testhost_kv(out, cap, kvs);
	const struct dnsfollow_key *keys = dnsfollow_plugin.config_keys;
	for (size_t i = 0; i < n; i++) {
		out[i].num = 0;
		for (const struct dnsfollow_key *k = keys; k->name; k++)
			if (strcmp(k->name, out[i].key) == 0)
				out[i].num = typed_num(k, out[i].value);
	}
	for (const struct dnsfollow_key *k = keys; k->name && n < cap; k++)
		if (k->def && !dnsfollow_kv_find(out, n, k->name))
			out[n++] = (struct dnsfollow_kv){k->name, k->def,
							 typed_num(k, k->def)};
	return n;
}

/*
 * apply() with a changeset as the core builds it: results preset to
 * DNSFOLLOW_RESULT_UNKNOWN (`results` may be NULL when the test does not
 * look), `groups` as given (NULL: each change its own group).
 */
static inline int apply_cs(void *self, const char *zone,
			   const struct dnsfollow_change *c, size_t n,
			   int *results, const uint32_t *groups)
{
	int *res = results ? results : calloc(n + 1, sizeof *res);
	uint32_t *own = groups ? NULL : calloc(n + 1, sizeof *own);
	if (!res || (!groups && !own))
		fail_msg("out of memory");
	for (size_t i = 0; own && i < n; i++)
		own[i] = (uint32_t)i;
	for (size_t i = 0; i < n; i++)
		res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	const struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = zone, .changes = c, .n = n,
		.results = res, .groups = groups ? groups : own};
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	int rc = ops->apply(self, &cs);
	if (!results)
		free(res);
	free(own);
	return rc;
}

#endif
