/* The defaults of a plugin's record_keys, delivered as the core does:
 * parsed by the core's own df_key_parse(), so the kit and the daemon
 * hand a plugin the same numbers. */
#include "conform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void dfc_kv_free(struct dnsfollow_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free((char *)kv[i].key);
		free((char *)kv[i].value);
	}
	free(kv);
}

int dfc_key_defaults(const struct dnsfollow_key *keys, struct dnsfollow_kv **kv,
		     size_t *n, char *why, size_t cap)
{
	size_t cnt = 0;
	*kv = NULL;
	*n = 0;
	for (const struct dnsfollow_key *k = keys; k && k->name; k++)
		cnt++;
	struct dnsfollow_kv *v = calloc(cnt + 1, sizeof *v);
	if (!v) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	size_t used = 0;
	for (const struct dnsfollow_key *k = keys; k && k->name; k++) {
		size_t len = strlen(k->name);
		if (!k->def || (len >= 2 && strcmp(k->name + len - 2, ".*") == 0))
			continue;
		char *canon = NULL;
		uint64_t num = 0;
		if (df_key_parse(k, k->name, k->def, &num, &canon, why, cap) != 0) {
			dfc_kv_free(v, used);
			return -1;
		}
		v[used].key = strdup(k->name);
		v[used].value = canon;
		v[used].num = num;
		used++;
	}
	*kv = v;
	*n = used;
	return 0;
}
