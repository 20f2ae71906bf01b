/*
 * What the core does with a plugin's typed keys before create() or
 * resolve(), for these tests: "key=value" strings become kv items with
 * `num` filled in by type, and declared keys left out get their default.
 * A value the core would refuse fails the test (the core's own tests
 * cover the refusals).
 */
#ifndef SWKV_H
#define SWKV_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct dnsfollow_key *swkv_decl(const struct dnsfollow_key *keys,
					     const char *name)
{
	for (; keys && keys->name; keys++) {
		size_t n = strlen(keys->name);
		if (strcmp(keys->name, name) == 0 ||
		    (n > 2 && strcmp(keys->name + n - 2, ".*") == 0 &&
		     strncmp(keys->name, name, n - 1) == 0))
			return keys;
	}
	return NULL;
}

static uint64_t swkv_num(const struct dnsfollow_key *k, const char *v)
{
	char *end;
	switch (k->type) {
	case DNSFOLLOW_T_UINT:
		return strtoull(v, NULL, 10);
	case DNSFOLLOW_T_BOOL:
		return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		       strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0;
	case DNSFOLLOW_T_DURATION: {
		uint64_t x = strtoull(v, &end, 10);
		if (strcmp(end, "ms") == 0)
			return x;
		if (*end == 'm')
			return x * 60000u;
		if (*end == 'h')
			return x * 3600000u;
		return x * 1000u; /* bare number or "s" */
	}
	case DNSFOLLOW_T_ENUM:
		for (uint64_t i = 0; k->values[i]; i++)
			if (strcasecmp(k->values[i], v) == 0)
				return i;
		fail_msg("%s: '%s' is not one of the enum's values", k->name, v);
		return 0;
	default:
		return 0;
	}
}

/* kvs: NULL-terminated "key=value" strings that outlive `out`. */
static size_t swkv(const struct dnsfollow_key *keys, struct dnsfollow_kv *out,
		   size_t cap, const char *const *kvs)
{
	static char store[64][512];
	static size_t next;
	size_t n = 0;
	for (; kvs && *kvs && n < cap; kvs++) {
		char *s = store[next++ % 64];
		snprintf(s, sizeof store[0], "%s", *kvs);
		char *eq = strchr(s, '=');
		if (eq)
			*eq = '\0';
		const struct dnsfollow_key *k = swkv_decl(keys, s);
		if (!k)
			fail_msg("key '%s' is not declared", s);
		out[n].key = s;
		out[n].value = eq ? eq + 1 : "";
		out[n].num = swkv_num(k, out[n].value);
		n++;
	}
	for (; keys && keys->name && n < cap; keys++)
		if (keys->def && !dnsfollow_kv_find(out, n, keys->name)) {
			out[n].key = keys->name;
			out[n].value = keys->def;
			out[n].num = swkv_num(keys, keys->def);
			n++;
		}
	return n;
}

#endif
