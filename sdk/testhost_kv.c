/*
 * dnsfollow_testhost_kv(): configuration items typed, checked and
 * completed with defaults by the core's own key code (df_key_parse), so
 * a unit test hands create() what the daemon would.
 */
#include "testhost.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* The declared key `name` falls under: itself, or a "prefix.*" entry. */
static const struct dnsfollow_key *key_of(const struct dnsfollow_key *keys,
					  const char *name)
{
	for (const struct dnsfollow_key *k = keys; k && k->name; k++) {
		size_t len = strlen(k->name);
		if (strcmp(k->name, name) == 0)
			return k;
		if (len >= 2 && strcmp(k->name + len - 2, ".*") == 0 &&
		    strncmp(k->name, name, len - 1) == 0 && name[len - 1])
			return k;
	}
	return NULL;
}

static int count_key(const struct dnsfollow_kv *kv, size_t n, const char *key)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		c += strcmp(kv[i].key, key) == 0;
	return c;
}

static int add(struct dnsfollow_kv *v, size_t *n, const struct dnsfollow_key *k,
	       const char *name, const char *text, char *err, size_t errlen)
{
	char *canon = NULL;
	uint64_t num = 0;
	if (df_key_parse(k, name, text, &num, &canon, err, errlen) != 0)
		return -EINVAL;
	v[*n].key = strdup(name);
	v[*n].value = canon;
	v[*n].num = num;
	(*n)++;
	if (!v[*n - 1].key) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The items given, each checked against its declared key. */
static int take_items(const struct dnsfollow_key *keys, const char *const *items,
		      struct dnsfollow_kv *v, size_t *n, char *err, size_t errlen)
{
	for (size_t i = 0; items && items[i]; i++) {
		char name[256];
		const char *eq = strchr(items[i], '=');
		size_t len = eq ? (size_t)(eq - items[i]) : strlen(items[i]);
		snprintf(name, sizeof name, "%.*s", (int)len, items[i]);
		const struct dnsfollow_key *k = key_of(keys, name);
		if (!k) {
			snprintf(err, errlen, "unknown key '%s'", name);
			return -EINVAL;
		}
		if (!(k->flags & DNSFOLLOW_KEY_MULTI) && count_key(v, *n, name)) {
			snprintf(err, errlen, "'%s' given twice (not a MULTI key)", name);
			return -EINVAL;
		}
		int rc = add(v, n, k, name, eq ? eq + 1 : "", err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

int dnsfollow_testhost_kv(const struct dnsfollow_key *keys,
			  const char *const *items, struct dnsfollow_kv **kv,
			  size_t *n, char *err, size_t errlen)
{
	size_t cap = 1, used = 0;
	for (const struct dnsfollow_key *k = keys; k && k->name; k++)
		cap++;
	for (size_t i = 0; items && items[i]; i++)
		cap++;
	struct dnsfollow_kv *v = calloc(cap, sizeof *v);
	*kv = NULL;
	*n = 0;
	if (!v)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	int rc = take_items(keys, items, v, &used, err, errlen);
	for (const struct dnsfollow_key *k = keys; rc == 0 && k && k->name; k++) {
		size_t len = strlen(k->name);
		if ((len >= 2 && strcmp(k->name + len - 2, ".*") == 0) ||
		    count_key(v, used, k->name))
			continue;
		if (k->def)
			rc = add(v, &used, k, k->name, k->def, err, errlen);
		else if (k->flags & DNSFOLLOW_KEY_REQUIRED)
			rc = (snprintf(err, errlen, "needs '%s'", k->name), -EINVAL);
	}
	if (rc) {
		dnsfollow_testhost_kv_free(v, used);
		return rc;
	}
	*kv = v;
	*n = used;
	return 0;
}

void dnsfollow_testhost_kv_free(struct dnsfollow_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free((char *)kv[i].key);
		free((char *)kv[i].value);
	}
	free(kv);
}
