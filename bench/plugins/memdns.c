/*
 * Benchmark provider: zones in memory (one hash of RRsets per zone, like a
 * real server keeps them), so a benchmark measures the core's work and not
 * a peer's. Not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dnsfollow/plugin.h>

struct rr {
	size_t hash;
	char *key; /* "name/type" */
	char *name;
	uint16_t type;
	uint32_t ttl;
	size_t n;
	char **data;
};

struct zone {
	char *name;
	struct rr *slots;
	size_t cap, used;
};

struct mem {
	struct zone *zones;
	size_t nzones;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* "name/type": any type code (records are data), names cut to fit. */
static void make_key(char *buf, size_t len, const char *name, uint16_t type)
{
	snprintf(buf, len, "%.*s/%u", (int)(len - 8), name, (unsigned)type);
}

static struct rr *slot(struct zone *m, const char *key, size_t h)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->slots[i].key ||
		    (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0))
			return &m->slots[i];
}

static void clear_rr(struct rr *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->data[i]);
	free(r->data);
	r->data = NULL;
	r->n = 0;
}

static void grow(struct zone *m)
{
	struct zone bigger = {.name = m->name, .cap = m->cap ? m->cap * 2 : 64};
	bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*slot(&bigger, m->slots[i].key, m->slots[i].hash) = m->slots[i];
	bigger.used = m->used;
	free(m->slots);
	*m = bigger;
}

static struct zone *zone_of(struct mem *m, const char *name)
{
	for (size_t i = 0; i < m->nzones; i++)
		if (strcmp(m->zones[i].name, name) == 0)
			return &m->zones[i];
	struct zone *v = realloc(m->zones, (m->nzones + 1) * sizeof *v);
	if (!v)
		return NULL;
	m->zones = v;
	struct zone *z = &v[m->nzones++];
	memset(z, 0, sizeof *z);
	z->name = strdup(name);
	grow(z);
	return z;
}

static int mem_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *c,
		      size_t n, void **self)
{
	(void)h, (void)c, (void)n;
	struct mem *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	*self = m;
	return 0;
}

static void mem_destroy(void *self)
{
	struct mem *m = self;
	for (size_t z = 0; z < m->nzones; z++) {
		for (size_t i = 0; i < m->zones[z].cap; i++) {
			struct rr *r = &m->zones[z].slots[i];
			if (r->key) {
				clear_rr(r);
				free(r->key);
				free(r->name);
			}
		}
		free(m->zones[z].slots);
		free(m->zones[z].name);
	}
	free(m->zones);
	free(m);
}

static int mem_read(void *self, const char *zone, const struct dnsfollow_rrkey *k,
		    size_t n, dnsfollow_rrset_cb emit, void *ctx)
{
	struct zone *m = zone_of(self, zone);
	char key[300];
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		make_key(key, sizeof key, k[i].name, k[i].type);
		struct rr *r = slot(m, key, hash(key));
		if (!r->key || !r->n)
			continue;
		struct dnsfollow_rrset out = {r->name, r->type, r->ttl, r->n,
					      (const char *const *)r->data};
		int rc = emit(ctx, &out);
		if (rc)
			return rc;
	}
	return 0;
}

static int mem_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct zone *m = zone_of(self, cs->zone);
	const struct dnsfollow_change *c = cs->changes;
	char key[300];
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < cs->n; i++) {
		if ((m->used + 1) * 2 > m->cap)
			grow(m);
		make_key(key, sizeof key, c[i].rrset.name, c[i].rrset.type);
		size_t h = hash(key);
		struct rr *r = slot(m, key, h);
		if (!r->key) {
			r->hash = h;
			r->key = strdup(key);
			r->name = strdup(c[i].rrset.name);
			r->type = c[i].rrset.type;
			m->used++;
		}
		clear_rr(r);
		if (c[i].op == DNSFOLLOW_CHANGE_DELETE)
			continue;
		r->ttl = c[i].rrset.ttl;
		r->n = c[i].rrset.count;
		r->data = calloc(r->n + 1, sizeof *r->data);
		for (size_t j = 0; j < r->n; j++)
			r->data[j] = strdup(c[i].rrset.rdata[j]);
	}
	if (DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		for (size_t i = 0; i < cs->n; i++)
			cs->results[i] = 0;
	return 0;
}

static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_CNAME, DNSFOLLOW_TYPE_TXT,
				 DNSFOLLOW_TYPE_AAAA, 0};

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_ATOMIC,
	.types = types,
	.read = mem_read,
	.apply = mem_apply,
};

DNSFOLLOW_PROVIDER("memdns", "bench", NULL, NULL, mem_create, mem_destroy, &ops);
