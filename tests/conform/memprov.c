/*
 * An in-memory provider for the conformance kit's own test, written
 * against the public SDK only. Built once correct (memprov_none: not
 * atomic, applies whole groups and stops at the first failing one) and
 * once per flaw (-DFLAW_X, memprov_x.so), each a breach the kit must
 * report: APPEND (SET adds), DUP (keeps duplicates), CNAME (no
 * exclusivity), DELABSENT (DELETE of nothing fails), ZONE (any zone
 * served), RESULTS (writes positive results), ATOMIC (claims atomic,
 * applies partly), CRASH (dies on long TXT), UPPER (reads back
 * upper-case names). The markers() flaws are built by t_kit.sh itself:
 * MKNONE (reports nothing), MKSPLIT (one call per record, not per
 * RRset), MKSTALE (reports deleted markers), MKZONE (reports another
 * zone's marker too), MKABSENT (no markers op: the kit must skip).
 */
#include <dnsfollow/plugin.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXRR 256
#define MAXD 8

struct rr {
	char name[256];
	uint16_t type;
	uint32_t ttl;
	size_t n;
	char *d[MAXD];
	int gone; /* FLAW_MKSTALE: deleted, yet still listed as a marker */
};

struct mem {
	const struct dnsfollow_host *h;
	char zones[1024];
	struct rr v[MAXRR];
	size_t n;
};

static const struct dnsfollow_key keys[] = {DNSFOLLOW_KEY_END};
static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
				 DNSFOLLOW_TYPE_CNAME, DNSFOLLOW_TYPE_TXT, 0};

static int create(const struct dnsfollow_host *h, const struct dnsfollow_kv *cfg,
		  size_t n, void **self)
{
	struct mem *m = calloc(1, sizeof *m);
	if (!m)
		return h->error(h, -ENOMEM, "out of memory");
	m->h = h;
	snprintf(m->zones, sizeof m->zones, ",%s,", dnsfollow_kv_get(cfg, n, "zones"));
	for (char *p = m->zones; *p; p++)
		if (*p == ' ')
			memmove(p, p + 1, strlen(p)), p--;
	*self = m;
	return 0;
}

static void clear(struct rr *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->d[i]);
	r->n = 0;
}

static void destroy(void *self)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->n; i++)
		clear(&m->v[i]);
	free(m);
}

static int serves(struct mem *m, const char *zone)
{
#ifdef FLAW_ZONE
	(void)m, (void)zone;
	return 1;
#else
	char z[300];
	snprintf(z, sizeof z, ",%s,", zone);
	return strstr(m->zones, z) != NULL;
#endif
}

static struct rr *find(struct mem *m, const char *name, uint16_t type)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].type == type && !m->v[i].gone && strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

static int rd(void *self, const char *zone, const struct dnsfollow_rrkey *k, size_t nk,
	      int (*emit)(void *, const struct dnsfollow_rrset *), void *ctx)
{
	struct mem *m = self;
	if (!serves(m, zone))
		return m->h->error(m->h, -ENOENT, "zone %s is not served", zone);
	for (size_t i = 0; i < nk; i++) {
		struct rr *r = find(m, k[i].name, k[i].type);
		if (!r)
			continue;
		char name[300];
		snprintf(name, sizeof name, "%s", r->name);
#ifdef FLAW_UPPER
		name[0] = 'D';
#endif
		struct dnsfollow_rrset s = {name, r->type, r->ttl, r->n, (const char *const *)r->d};
		int rc = emit(ctx, &s);
		if (rc)
			return rc;
	}
	return 0;
}

#ifndef FLAW_CNAME
static int has_other(struct mem *m, const char *name, uint16_t type)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0 && m->v[i].type != type)
			return 1;
	return 0;
}
#endif

static void drop(struct mem *m, struct rr *r)
{
	clear(r);
	*r = m->v[--m->n];
}

static int set(struct mem *m, const struct dnsfollow_rrset *s)
{
#ifndef FLAW_CNAME
	if ((s->type == DNSFOLLOW_TYPE_CNAME && has_other(m, s->name, s->type)) ||
	    (s->type != DNSFOLLOW_TYPE_CNAME && find(m, s->name, DNSFOLLOW_TYPE_CNAME)))
		return m->h->error(m->h, -EEXIST, "%s: CNAME and other data", s->name);
#endif
	struct rr *r = find(m, s->name, s->type);
	if (!r) {
		if (m->n == MAXRR)
			return m->h->error(m->h, -ENOSPC, "full");
		r = &m->v[m->n++];
		memset(r, 0, sizeof *r);
		snprintf(r->name, sizeof r->name, "%s", s->name);
		r->type = s->type;
	}
#ifndef FLAW_APPEND
	clear(r);
#endif
	r->ttl = s->ttl;
	for (size_t i = 0; i < s->count && r->n < MAXD; i++) {
#ifdef FLAW_CRASH
		if (strlen(s->rdata[i]) > 255)
			raise(SIGSEGV);
#endif
		int seen = 0;
#ifndef FLAW_DUP
		for (size_t j = 0; j < r->n; j++)
			seen |= strcmp(r->d[j], s->rdata[i]) == 0;
#endif
		if (!seen)
			r->d[r->n++] = strdup(s->rdata[i]);
	}
	return 0;
}

static int one(struct mem *m, const struct dnsfollow_change *c)
{
	if (c->op == DNSFOLLOW_CHANGE_SET)
		return set(m, &c->rrset);
	struct rr *r = find(m, c->rrset.name, c->rrset.type);
#ifdef FLAW_MKSTALE
	if (r && r->type == DNSFOLLOW_TYPE_TXT && strncmp(r->name, "_dnsfollow.", 11) == 0)
		r->gone = 1;
	else
#endif
	if (r)
		drop(m, r);
#ifdef FLAW_DELABSENT
	else
		return m->h->error(m->h, -ENOENT, "%s: nothing to delete", c->rrset.name);
#endif
	return 0;
}

/* Whole groups in order; a failing group is undone and ends the batch.
 * The undo is by copy: fine for a test's few records. */
static int apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct mem *m = self;
	if (!serves(m, cs->zone))
		return m->h->error(m->h, -ENOENT, "zone %s is not served", cs->zone);
	for (size_t i = 0; i < cs->n;) {
		size_t end = i;
		while (end < cs->n && cs->groups[end] == cs->groups[i])
			end++;
		struct mem *save = malloc(sizeof *save);
		if (!save)
			return m->h->error(m->h, -ENOMEM, "out of memory");
		memcpy(save, m, sizeof *m);
		for (size_t k = 0; k < m->n; k++)
			for (size_t j = 0; j < m->v[k].n; j++)
				save->v[k].d[j] = strdup(m->v[k].d[j]);
		int rc = 0;
		for (size_t k = i; k < end && rc == 0; k++)
			rc = one(m, &cs->changes[k]);
		if (rc) {
			for (size_t k = 0; k < m->n; k++)
				clear(&m->v[k]);
			memcpy(m, save, sizeof *m);
			free(save);
			for (size_t k = i; k < end; k++)
				cs->results[k] = rc;
			return rc;
		}
		for (size_t k = 0; k < save->n; k++)
			clear(&save->v[k]);
		free(save);
		for (size_t k = i; k < end; k++)
#ifdef FLAW_RESULTS
			cs->results[k] = 2; /* neither 0 nor a code */
#else
			cs->results[k] = 0;
#endif
		i = end;
	}
	return 0;
}

#ifndef FLAW_MKABSENT
static int in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	return n == z ? strcmp(name, zone) == 0
		      : n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

/* One marker, or (FLAW_MKSPLIT) one call per record. */
static int emit_marker(const struct rr *r, dnsfollow_rrset_cb emit, void *ctx)
{
	const char *const *d = (const char *const *)r->d;
#ifdef FLAW_MKSPLIT
	for (size_t i = 0; i < r->n; i++) {
		struct dnsfollow_rrset s = {r->name, r->type, r->ttl, 1, d + i};
		int rc = emit(ctx, &s);
		if (rc)
			return rc;
	}
	return 0;
#else
	struct dnsfollow_rrset s = {r->name, r->type, r->ttl, r->n, d};
	return emit(ctx, &s);
#endif
}

/* The zones share one list: only this zone's markers. */
static int markers(void *self, const char *zone, dnsfollow_rrset_cb emit, void *ctx)
{
	struct mem *m = self;
	int rc = 0;
	if (!serves(m, zone))
		return m->h->error(m->h, -ENOENT, "zone %s is not served", zone);
#ifdef FLAW_MKZONE
	const char *other[] = {"heritage=dnsfollow,owner=x"};
	struct dnsfollow_rrset s = {"_dnsfollow.www.elsewhere.invalid", DNSFOLLOW_TYPE_TXT, 60, 1,
				    other};
	rc = emit(ctx, &s);
#endif
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		const struct rr *r = &m->v[i];
#ifndef FLAW_MKSTALE
		if (r->gone)
			continue;
#endif
#ifdef FLAW_MKNONE
		continue;
#endif
		if (r->type == DNSFOLLOW_TYPE_TXT && strncmp(r->name, "_dnsfollow.", 11) == 0 &&
		    in_zone(r->name, zone))
			rc = emit_marker(r, emit, ctx);
	}
	return rc;
}
#endif

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
#ifdef FLAW_ATOMIC
	.caps = DNSFOLLOW_CAP_ATOMIC,
#endif
	.types = types,
	.read = rd,
	.apply = apply,
#ifndef FLAW_MKABSENT
	.markers = markers,
#endif
};

DNSFOLLOW_PROVIDER(PLUGIN_NAME, "1.0", keys, NULL, create, destroy, &ops);
