/*
 * read() and markers(). read() asks by name when the core asks about a
 * few names (one call each, every type, so a CNAME beside them is seen),
 * else lists the whole zone (per_page records a call): a steady pass over
 * a zone costs ceil(records / per_page) calls, whatever the number of
 * names. markers() lists the zone's TXT records (type=TXT, paged) and
 * reports those named _dnsfollow.* inside the zone.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_cmp(const void *a, const void *b)
{
	const struct dnsfollow_rrkey *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (int)x->type - (int)y->type;
}

/* The TTL to report for recs[0..n): a proxied RRset holds TTL 1
 * ("automatic") whatever was asked, so the TTL asked for is reported;
 * records that disagree report 0, which no SET asks, so the core
 * rewrites them. */
static uint32_t rrset_ttl(const struct cf_zone *z, const struct cf_rec *r, size_t n)
{
	uint32_t ttl = r[0].ttl;
	for (size_t i = 1; i < n; i++)
		if (r[i].ttl != ttl)
			return 0;
	uint32_t want = r[0].proxied && ttl == 1 ? cf_wanted_ttl(z, r[0].name, r[0].type) : 0;
	return want ? want : ttl;
}

/* One emit per (name, type) group of the sorted snapshot for which
 * `pick` says yes. */
static int emit_groups(struct cf *p, struct cf_zone *z,
		       int (*pick)(const struct cf_rec *, const void *), const void *arg,
		       dnsfollow_rrset_cb emit, void *ctx)
{
	cf_zone_sort(z);
	const char **rd = calloc(z->n + 1, sizeof *rd);
	if (!rd)
		return p->h->error(p->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0, j; i < z->n && rc == 0; i = j) {
		for (j = i; j < z->n && cf_rec_cmp(&z->recs[i], &z->recs[j]) == 0; j++)
			rd[j - i] = z->recs[j].data;
		if (!pick(&z->recs[i], arg))
			continue;
		struct dnsfollow_rrset rr = {z->recs[i].name, z->recs[i].type,
					     rrset_ttl(z, &z->recs[i], j - i), j - i, rd};
		rc = emit(ctx, &rr);
	}
	free(rd);
	return rc;
}

struct keys {
	struct dnsfollow_rrkey *k;
	size_t n;
};

static int asked(const struct cf_rec *r, const void *arg)
{
	const struct keys *ks = arg;
	struct dnsfollow_rrkey k = {r->name, r->type};
	return bsearch(&k, ks->k, ks->n, sizeof k, key_cmp) != NULL;
}

/* The distinct names of `keys` when there are at most max of them. */
static size_t few_names(const struct dnsfollow_rrkey *k, size_t n, const char **out, size_t max)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < m && strcmp(out[j], k[i].name) != 0)
			j++;
		if (j == m && m++ == max)
			return max + 1;
		out[j] = k[i].name;
	}
	return m;
}

int cf_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	    size_t nkeys, dnsfollow_rrset_cb emit, void *ctx)
{
	struct cf *p = self;
	struct cf_zone *z;
	int rc = cf_zone_get(p, zone, &z);
	if (rc || nkeys == 0)
		return rc;
	const char *names[CF_NAME_QUERIES + 1];
	size_t nn = few_names(keys, nkeys, names, CF_NAME_QUERIES);
	cf_zone_forget(z); /* a read is always fresh */
	rc = nn <= CF_NAME_QUERIES ? cf_zone_load_names(p, z, names, nn) : cf_zone_load_all(p, z);
	if (rc) {
		cf_zone_forget(z);
		return rc;
	}
	struct keys ks = {malloc(nkeys * sizeof *ks.k), nkeys};
	if (!ks.k)
		return p->h->error(p->h, -ENOMEM, "out of memory");
	memcpy(ks.k, keys, nkeys * sizeof *ks.k);
	qsort(ks.k, nkeys, sizeof *ks.k, key_cmp);
	rc = emit_groups(p, z, asked, &ks, emit, ctx);
	free(ks.k);
	return rc;
}

static int is_marker(const struct cf_rec *r, const void *arg)
{
	static const char prefix[] = "_dnsfollow.";
	const char *zone = arg;
	size_t n = strlen(r->name), zl = strlen(zone);
	return r->type == DNSFOLLOW_TYPE_TXT && strncmp(r->name, prefix, sizeof prefix - 1) == 0 &&
	       n > zl && r->name[n - zl - 1] == '.' && strcmp(r->name + n - zl, zone) == 0;
}

/* Its own list (type=TXT), apart from the snapshot apply() uses. */
int cf_markers(void *self, const char *zone, dnsfollow_rrset_cb emit, void *ctx)
{
	struct cf *p = self;
	struct cf_zone *z;
	int rc = cf_zone_get(p, zone, &z);
	if (rc)
		return rc;
	struct cf_zone txt = {.name = z->name};
	snprintf(txt.id, sizeof txt.id, "%s", z->id);
	txt.want = z->want, txt.nwant = z->nwant;
	char what[400];
	snprintf(what, sizeof what, "GET dns_records?type=TXT of zone %s", zone);
	rc = cf_list_query(p, &txt, "type=TXT&", what);
	if (rc == 0)
		rc = emit_groups(p, &txt, is_marker, zone, emit, ctx);
	cf_zone_forget(&txt);
	free(txt.recs);
	return rc;
}
