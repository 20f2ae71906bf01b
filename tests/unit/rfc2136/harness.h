/*
 * What the core does around a plugin, for tests that call it directly.
 *
 * typed_kv(): the configuration as the core hands it to create() under
 * ABI 2 (testhost_kv_typed: the core's own validator fills kv.num and
 * appends the defaults). A value the core would refuse fails the test:
 * it could never reach create().
 */
#ifndef R2136_HARNESS_H
#define R2136_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

#ifndef fail_msg /* a driver without cmocka */
#define fail_msg(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), exit(2))
#endif

static inline size_t typed_kv(struct dnsfollow_kv *out, size_t cap,
			      const char *const *kvs)
{
	long n = testhost_kv_typed(out, cap, kvs, dnsfollow_plugin.config_keys);
	if (n < 0)
		fail_msg("the core refuses this configuration");
	return (size_t)n;
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
