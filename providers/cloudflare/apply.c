/*
 * apply(): a changeset becomes record operations against the snapshot of
 * the zone (ids from the last read): a datum already there stays (PATCH
 * when only its TTL or proxied state differs), a changed datum reuses a
 * record (PUT), a new one is created (POST), a datum no longer wanted is
 * deleted (DELETE).
 *
 * Sending: one operation is one call (POST/PUT/PATCH/DELETE on
 * /zones/ID/dns_records[/RID]); more go through POST .../batch, which
 * Cloudflare runs in one database transaction (deletes, patches, puts,
 * posts; any failure applies nothing), hence DNSFOLLOW_CAP_ATOMIC. A batch
 * holds at most batch_max operations (200 on the free plan): a larger
 * changeset is split between groups (a name's marker and its records stay
 * together), each batch all or nothing; the first failing batch stops the
 * rest, and the changes of the batches already applied get results[] 0.
 * The snapshot follows every applied batch, so a retry of the same
 * changeset sends only what is still missing.
 *
 * CNAME exclusivity: Cloudflare refuses a CNAME beside A/AAAA/CNAME and
 * A/AAAA beside a CNAME (errors 81053/81054) but accepts other types (TXT)
 * beside a CNAME; the provider refuses those itself, as DNS servers do.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plan {
	struct cf_op *ops;
	size_t n, cap;
	size_t *last; /* per change: index after its last op (0: none) */
};

static int push(struct plan *pl, struct cf_op op)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 32;
		struct cf_op *v = realloc(pl->ops, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		pl->ops = v, pl->cap = cap;
	}
	pl->ops[pl->n++] = op;
	pl->last[op.change] = pl->n;
	return 0;
}

static int change_proxied(const struct dnsfollow_changeset *cs, size_t i)
{
	if (!DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, options) || !PROXIABLE(cs->changes[i].rrset.type))
		return 0;
	const struct dnsfollow_options *o = &cs->options[i];
	return o->kv && dnsfollow_kv_num(o->kv, o->n, "proxied", 0) != 0;
}

/* Operations of one SET, against the records of (name, type) in the
 * sorted snapshot: keep what matches, reuse, create, delete. */
static int plan_set(struct cf_zone *z, const struct dnsfollow_changeset *cs, size_t ci,
		    struct plan *pl)
{
	const struct dnsfollow_rrset *rr = &cs->changes[ci].rrset;
	int prox = change_proxied(cs, ci);
	uint32_t ttl = prox ? 1 : rr->ttl;
	size_t lo, hi, m = rr->count;
	cf_zone_range(z, rr->name, rr->type, &lo, &hi);
	char *used = calloc(hi - lo + 1, 1), *done = calloc(m + 1, 1);
	int rc = used && done ? 0 : -ENOMEM;
	for (size_t d = 0; d < m && !rc; d++) {
		for (size_t e = 0; e < d && !done[d]; e++)
			done[d] = cf_data_equal(rr->type, rr->rdata[e], rr->rdata[d]); /* twice: once */
		for (size_t k = lo; k < hi && !done[d]; k++) {
			struct cf_rec *r = &z->recs[k];
			if (used[k - lo] || !cf_data_equal(rr->type, r->data, rr->rdata[d]))
				continue;
			used[k - lo] = done[d] = 1;
			if (r->ttl != ttl || r->proxied != prox)
				rc = push(pl, (struct cf_op){CF_PATCH, ci, k, r->id, rr->name, rr->type,
							     NULL, ttl, prox});
		}
	}
	for (size_t d = 0, k = lo; d < m && !rc; d++) {
		if (done[d])
			continue;
		while (k < hi && used[k - lo])
			k++;
		int reuse = k < hi;
		if (reuse)
			used[k - lo] = 1;
		rc = push(pl, (struct cf_op){reuse ? CF_PUT : CF_POST, ci, k, reuse ? z->recs[k].id : "",
					     rr->name, rr->type, rr->rdata[d], ttl, prox});
	}
	for (size_t k = lo; k < hi && !rc; k++)
		if (!used[k - lo])
			rc = push(pl, (struct cf_op){CF_DEL, ci, k, z->recs[k].id, rr->name, rr->type,
						     NULL, 0, 0});
	if (!rc && prox)
		rc = cf_remember_ttl(z, rr->name, rr->type, rr->ttl);
	free(used), free(done);
	return rc;
}

static int plan_delete(struct cf_zone *z, const struct dnsfollow_change *c, size_t ci,
		       struct plan *pl)
{
	size_t lo, hi;
	int rc = 0;
	cf_zone_range(z, c->rrset.name, c->rrset.type, &lo, &hi);
	for (size_t k = lo; k < hi && !rc; k++)
		rc = push(pl, (struct cf_op){CF_DEL, ci, k, z->recs[k].id, c->rrset.name,
					     c->rrset.type, NULL, 0, 0});
	return rc;
}

/* The changes sorted by (name, type), to find one without a scan. */
struct centry {
	const char *name;
	uint16_t type;
	size_t i;
};

struct cindex {
	const struct dnsfollow_changeset *cs;
	struct centry *v;
};

static int centry_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (int)x->type - (int)y->type;
}

static int cindex_make(struct cindex *ix, const struct dnsfollow_changeset *cs)
{
	ix->cs = cs;
	if (!(ix->v = malloc((cs->n + 1) * sizeof *ix->v)))
		return -ENOMEM;
	for (size_t i = 0; i < cs->n; i++)
		ix->v[i] = (struct centry){cs->changes[i].rrset.name, cs->changes[i].rrset.type, i};
	if (cs->n > 1)
		qsort(ix->v, cs->n, sizeof *ix->v, centry_cmp);
	return 0;
}

/* First position in the index at or after (name, type). */
static size_t cindex_find(const struct cindex *ix, const char *name, uint16_t type)
{
	struct centry key = {name, type, 0};
	size_t a = 0, b = ix->cs->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (centry_cmp(&ix->v[m], &key) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static const struct dnsfollow_change *cindex_at(const struct cindex *ix, size_t pos)
{
	return pos < ix->cs->n ? &ix->cs->changes[ix->v[pos].i] : NULL;
}

static int sets(const struct dnsfollow_change *c)
{
	return c->op == DNSFOLLOW_CHANGE_SET && c->rrset.count;
}

/* Whether (name, type) holds data once the changeset went in: a SET
 * writes data, a DELETE removes it, else the snapshot decides. */
static int holds_after(const struct cf_zone *z, const struct cindex *ix, const char *name,
		       uint16_t type)
{
	const struct dnsfollow_change *c = cindex_at(ix, cindex_find(ix, name, type));
	if (c && c->rrset.type == type && !strcmp(c->rrset.name, name))
		return sets(c);
	size_t lo, hi;
	cf_zone_range(z, name, type, &lo, &hi);
	return hi > lo;
}

/* A type other than CNAME that NAME holds after the changeset, or 0. */
static uint16_t other_than_cname(const struct cf_zone *z, const struct cindex *ix,
				 const char *name)
{
	size_t lo, hi;
	cf_zone_range(z, name, 0, &lo, &hi);
	for (size_t k = lo; k < hi; k++)
		if (z->recs[k].type != DNSFOLLOW_TYPE_CNAME && holds_after(z, ix, name, z->recs[k].type))
			return z->recs[k].type;
	const struct dnsfollow_change *c;
	for (size_t pos = cindex_find(ix, name, 0); (c = cindex_at(ix, pos)) != NULL &&
	     !strcmp(c->rrset.name, name); pos++)
		if (c->rrset.type != DNSFOLLOW_TYPE_CNAME && sets(c))
			return c->rrset.type;
	return 0;
}

/* Index of a SET that would leave a CNAME beside other data, or -1. */
static long cname_conflict(const struct cf_zone *z, const struct cindex *ix, uint16_t *other)
{
	const struct dnsfollow_changeset *cs = ix->cs;
	for (size_t i = 0; i < cs->n; i++) {
		const struct dnsfollow_change *c = &cs->changes[i];
		if (!sets(c))
			continue;
		if (c->rrset.type != DNSFOLLOW_TYPE_CNAME) {
			if (holds_after(z, ix, c->rrset.name, DNSFOLLOW_TYPE_CNAME))
				return *other = DNSFOLLOW_TYPE_CNAME, (long)i;
		} else if ((*other = other_than_cname(z, ix, c->rrset.name)) != 0) {
			return (long)i;
		}
	}
	return -1;
}

/* The names of the changeset the snapshot does not cover, loaded. */
static int cover(struct cf *p, struct cf_zone *z, const struct dnsfollow_changeset *cs)
{
	const char **miss = calloc(cs->n + 1, sizeof *miss);
	size_t nm = 0;
	if (!miss)
		return p->h->error(p->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cs->n; i++) {
		const char *name = cs->changes[i].rrset.name;
		size_t j = 0;
		while (j < nm && strcmp(miss[j], name))
			j++;
		if (j == nm && !cf_zone_covers(z, name))
			miss[nm++] = name;
	}
	int rc = nm == 0 ? 0 : nm <= CF_NAME_QUERIES ? cf_zone_load_names(p, z, miss, nm)
						     : cf_zone_load_all(p, z);
	free(miss);
	return rc;
}

static int set_results(const struct dnsfollow_changeset *cs, const struct plan *pl, size_t upto)
{
	for (size_t i = 0; DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results) && i < cs->n; i++)
		if (pl->last[i] <= upto)
			cs->results[i] = 0;
	return 0;
}

static uint32_t group_of(const struct dnsfollow_changeset *cs, const struct plan *pl, size_t k)
{
	size_t c = pl->ops[k].change;
	return DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, groups) ? cs->groups[c] : (uint32_t)c;
}

/* Where the batch starting at ops[start] ends: whole groups while they
 * fit in batch_max; a lone group larger than that is cut. */
static size_t batch_end(const struct dnsfollow_changeset *cs, const struct plan *pl,
			size_t start, size_t max)
{
	size_t end = start;
	while (end < pl->n) {
		size_t g = end;
		while (g < pl->n && group_of(cs, pl, g) == group_of(cs, pl, end))
			g++;
		if (g - start <= max)
			end = g;
		else
			return end > start ? end : start + max;
	}
	return end;
}

/* Batches of at most batch_max operations, in order; the first failing
 * one stops the others. */
static int send_all(struct cf *p, struct cf_zone *z, const struct dnsfollow_changeset *cs,
		    const struct plan *pl)
{
	size_t start = 0, nb = 0, max = p->batch_max;
	int rc = 0;
	while (start < pl->n && rc == 0) {
		size_t end = batch_end(cs, pl, start, max);
		rc = cf_send(p, z, pl->ops + start, end - start);
		if (rc == 0)
			set_results(cs, pl, end);
		else
			break;
		start = end, nb++;
	}
	if (nb > 1 || (rc && nb > 0))
		p->h->log(p->h, DNSFOLLOW_LOG_INFO, "zone %s: %zu record operations in batches of at "
			  "most %zu (batch_max), %zu applied: each batch is all or nothing, not the "
			  "changeset%s", z->name, pl->n, max, nb,
			  rc ? "; stopped at the failing batch" : "");
	return rc;
}

/* Refused before anything is sent: a CNAME beside other data. */
static int refuse_conflict(struct cf *p, const struct dnsfollow_changeset *cs, long bad,
			   uint16_t other)
{
	const struct dnsfollow_host *h = p->h;
	if (DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		cs->results[bad] = -EEXIST;
	const struct dnsfollow_rrset *rr = &cs->changes[bad].rrset;
	char t1[32];
	snprintf(t1, sizeof t1, "%s", h->type_name(rr->type));
	return h->error(h, -EEXIST, "%s %s: a CNAME cannot sit beside other data (%s at the "
			"same name); nothing of this changeset was written", rr->name, t1,
			h->type_name(other));
}

int cf_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct cf *p = self;
	const struct dnsfollow_host *h = p->h;
	struct cf_zone *z;
	int rc = cf_zone_get(p, cs->zone, &z);
	if (rc || (rc = cover(p, z, cs)) != 0)
		return rc;
	cf_zone_sort(z);
	struct cindex ix = {0};
	struct plan pl = {.last = calloc(cs->n + 1, sizeof *pl.last)};
	if (!pl.last || cindex_make(&ix, cs) != 0) {
		free(pl.last), free(ix.v);
		return h->error(h, -ENOMEM, "out of memory");
	}
	uint16_t other = 0;
	long bad = cname_conflict(z, &ix, &other);
	free(ix.v);
	if (bad >= 0) {
		free(pl.last);
		return refuse_conflict(p, cs, bad, other);
	}
	for (size_t i = 0; i < cs->n && !rc; i++)
		rc = cs->changes[i].op == DNSFOLLOW_CHANGE_SET ? plan_set(z, cs, i, &pl)
							       : plan_delete(z, &cs->changes[i], i, &pl);
	if (rc)
		rc = h->error(h, rc, "out of memory");
	else
		set_results(cs, &pl, 0); /* changes already in place */
	if (!rc && pl.n)
		rc = send_all(p, z, cs, &pl);
	cf_zone_compact(z);
	free(pl.ops), free(pl.last);
	return rc;
}
