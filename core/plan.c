#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define OWNER_PREFIX "heritage=dnsfollow,owner="

/* ---- addresses ------------------------------------------------------------ */

/* Order addresses by their binary value, so "10.0.0.9" < "10.0.0.10". */
static int addr_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	unsigned char bx[16] = {0}, by[16] = {0};
	int fx = strchr(x, ':') ? AF_INET6 : AF_INET;
	int fy = strchr(y, ':') ? AF_INET6 : AF_INET;
	if (fx != fy)
		return fx == AF_INET ? -1 : 1;
	if (inet_pton(fx, x, bx) != 1 || inet_pton(fy, y, by) != 1)
		return strcmp(x, y);
	return memcmp(bx, by, fx == AF_INET ? 4 : 16);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort, then drop repeats (freeing them when each was malloc'ed alone). */
static size_t sort_unique(char **v, size_t n,
			  int (*cmp)(const void *, const void *), int free_dups)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp);
	size_t w = 1;
	for (size_t i = 1; i < n; i++) {
		if (cmp(&v[i], &v[w - 1]) == 0) {
			if (free_dups)
				free(v[i]);
			continue;
		}
		v[w++] = v[i];
	}
	return w;
}

size_t df_addr_sort_unique(char **v, size_t n)
{
	return sort_unique(v, n, addr_cmp, 1);
}

size_t df_str_sort_unique(char **v, size_t n)
{
	return sort_unique(v, n, str_cmp, 1);
}

/* ---- the read side --------------------------------------------------------- */

/* The size of one copied datum, or 0 when an address datum is invalid. */
static size_t datum_size(enum df_form form, const char *d, char canon[46])
{
	if (form != DF_FORM_ADDR4 && form != DF_FORM_ADDR6)
		return strlen(d) + 1;
	int fam = df_addr_canon(d, canon);
	if (fam != (form == DF_FORM_ADDR4 ? 4 : 6))
		return 0;
	return strlen(canon) + 1;
}

int df_rrdb_add(struct df_rrdb *db, const struct dnsfollow_rrset *rr)
{
	/* How the data compares comes from the type table (rtypes.c). */
	enum df_form form = df_rdata_form(rr->type);
	int is_addr = form == DF_FORM_ADDR4 || form == DF_FORM_ADDR6;
	/* One block per RRset: pointers, name, data. Reading a large zone
	 * then costs one allocation per RRset, not one per string. */
	char canon[46];
	size_t bytes = (rr->count + 1) * sizeof(char *) + strlen(rr->name) + 1;
	for (size_t i = 0; i < rr->count; i++) {
		size_t sz = rr->rdata[i] ? datum_size(form, rr->rdata[i], canon) : 0;
		if (!sz)
			return -EINVAL;
		bytes += sz;
	}
	char **data = df_xcalloc(1, bytes);
	char *p = (char *)(data + rr->count + 1);
	char *name = p;
	p = stpcpy(p, rr->name) + 1;
	df_lower(name);
	size_t nl = strlen(name);
	if (nl && name[nl - 1] == '.')
		name[nl - 1] = '\0';
	/* Names in data compare as the core writes them (lower-case, no
	 * trailing dot), whatever form the provider reads them in. */
	int is_name = form == DF_FORM_NAME;
	for (size_t i = 0; i < rr->count; i++) {
		if (is_addr)
			df_addr_canon(rr->rdata[i], canon);
		data[i] = p;
		p = stpcpy(p, is_addr ? canon : rr->rdata[i]) + 1;
		size_t dl = strlen(data[i]);
		if (is_name && dl > 1 && data[i][dl - 1] == '.')
			data[i][dl - 1] = '\0';
		if (is_name)
			df_lower(data[i]);
	}
	size_t n = sort_unique(data, rr->count, is_addr ? addr_cmp : str_cmp, 0);
	int dups = n != rr->count;
	if (db->n == db->cap) {
		db->cap = db->cap ? db->cap * 2 : 64;
		db->v = df_xrealloc(db->v, db->cap, sizeof *db->v);
	}
	struct df_rr *e = &db->v[db->n];
	e->name = name;
	e->rdata = data;
	e->dups = dups;
	db->n++;
	e->pub.name = name;
	e->pub.type = rr->type;
	e->pub.ttl = rr->ttl;
	e->pub.count = n;
	e->pub.rdata = (const char *const *)data;
	db->indexed = 0;
	return 0;
}

static size_t rr_hash(const char *name, uint16_t type)
{
	size_t h = 14695981039346656037ull ^ type;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return h;
}

static void rr_free(struct df_rr *r)
{
	free(r->rdata); /* the whole block, name and data included */
}

/* Slot of (name, type) in the index: its entry, or the empty slot where
 * it would go. */
static size_t *rr_slot(const struct df_rrdb *db, const char *name, uint16_t type)
{
	size_t mask = db->nslots - 1;
	for (size_t i = rr_hash(name, type) & mask;; i = (i + 1) & mask) {
		size_t v = db->slots[i];
		if (!v)
			return &db->slots[i];
		const struct df_rr *r = &db->v[v - 1];
		if (r->pub.type == type && strcmp(r->name, name) == 0)
			return &db->slots[i];
	}
}

void df_rrdb_finish(struct df_rrdb *db)
{
	/* A hash index: lookups stay O(1) however large a zone is. */
	free(db->slots);
	db->nslots = 16;
	while (db->nslots < db->n * 2)
		db->nslots *= 2;
	db->slots = df_xcalloc(db->nslots, sizeof *db->slots);
	for (size_t i = 0; i < db->n; i++) {
		size_t *slot = rr_slot(db, db->v[i].name, db->v[i].pub.type);
		if (*slot) {
			/* Read twice: the last one read wins. */
			rr_free(&db->v[*slot - 1]);
			db->v[*slot - 1].rdata = NULL;
		}
		*slot = i + 1;
	}
	db->indexed = 1;
}

const struct df_rr *df_rrdb_find(const struct df_rrdb *db, const char *name,
				 uint16_t type)
{
	if (!db->nslots)
		return NULL;
	size_t v = *rr_slot(db, name, type);
	return v ? &db->v[v - 1] : NULL;
}

void df_rrdb_free(struct df_rrdb *db)
{
	for (size_t i = 0; i < db->n; i++)
		rr_free(&db->v[i]);
	free(db->v);
	free(db->slots);
	memset(db, 0, sizeof *db);
}

/* ---- planning --------------------------------------------------------------- */

void df_plan_init(struct df_plan *p, const char *marker)
{
	memset(p, 0, sizeof *p);
	p->marker_v[0] = marker;
}

void df_plan_free(struct df_plan *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

static struct dnsfollow_change *plan_add(struct df_plan *p, uint32_t op,
					 const char *name, uint16_t type,
					 const struct df_rr *old)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = df_xrealloc(p->v, p->cap, sizeof *p->v);
	}
	struct dnsfollow_change *c = &p->v[p->n++];
	memset(c, 0, sizeof *c);
	c->op = op;
	c->rrset.name = name;
	c->rrset.type = type;
	c->old = old ? &old->pub : NULL;
	return c;
}

static int same_rrset(const struct df_rr *cur, uint32_t ttl,
		      const char *const *v, size_t n)
{
	if (!cur || cur->dups || cur->pub.ttl != ttl || cur->pub.count != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cur->pub.rdata[i], v[i]) != 0)
			return 0;
	return 1;
}

/* Who holds the name: 1 us, 0 nobody, -1 someone else (why filled). */
static int ownership(const struct df_want *w, const struct df_rr *txt,
		     const char *marker, char *why, size_t whylen)
{
	if (!txt)
		return 0;
	for (size_t i = 0; i < txt->pub.count; i++)
		if (strcmp(txt->pub.rdata[i], marker) == 0)
			return 1;
	for (size_t i = 0; i < txt->pub.count; i++)
		if (strncmp(txt->pub.rdata[i], OWNER_PREFIX,
			    sizeof OWNER_PREFIX - 1) == 0) {
			snprintf(why, whylen,
				 "%s belongs to another dnsfollow (%s at %s); set adopt = yes in [record %s] to take it over",
				 w->fqdn, txt->pub.rdata[i], txt->name, w->fqdn);
			return -1;
		}
	snprintf(why, whylen,
		 "%s has a foreign TXT record at %s; set adopt = yes in [record %s] to take it over",
		 w->fqdn, txt->name, w->fqdn);
	return -1;
}

/* Plan one type of the record; returns 1 when it added a change. `keep`
 * says the service runs nowhere and on_empty = keep: an empty type keeps
 * its value. When it runs somewhere, an empty type is stale (a
 * dual-stack service moved to an IPv4-only node must lose its old AAAA)
 * and goes. */
static int plan_set(const struct df_want *w, const struct df_rrdb *cur,
		    const struct df_want_set *ws, int keep, struct df_plan *plan)
{
	const struct df_rr *old = df_rrdb_find(cur, w->fqdn, ws->type);
	if (ws->n == 0) {
		if (keep || !old)
			return 0;
		plan_add(plan, DNSFOLLOW_CHANGE_DELETE, w->fqdn, ws->type, old);
		return 1;
	}
	if (same_rrset(old, w->ttl, ws->v, ws->n))
		return 0;
	struct dnsfollow_change *c =
		plan_add(plan, DNSFOLLOW_CHANGE_SET, w->fqdn, ws->type, old);
	c->rrset.ttl = w->ttl;
	c->rrset.count = ws->n;
	c->rrset.rdata = ws->v;
	return 1;
}

/* The first RRset at the name that may not sit beside what dnsfollow
 * writes there (see rtypes.h), or NULL. Under our marker, a type
 * dnsfollow writes itself is ours (a record whose type went from A to
 * CNAME); any other type is foreign whoever owns the marker. */
static const struct df_rr *conflict(const struct df_want *w,
				    const struct df_rrdb *cur, int ours,
				    char *why, size_t whylen)
{
	for (size_t i = 0; i < w->nothers; i++) {
		const struct df_rr *r = df_rrdb_find(cur, w->fqdn, w->others[i]);
		if (!r || (ours && df_rtype(w->others[i])))
			continue;
		snprintf(why, whylen,
			 "%s holds a record of type %s (%s) that dnsfollow did not write, which cannot sit beside its %s; set adopt = yes in [record %s] to replace it",
			 w->fqdn, df_type_name(w->others[i]),
			 r->pub.count ? r->pub.rdata[0] : "?",
			 df_type_name(w->sets[0].type), w->fqdn);
		return r;
	}
	return NULL;
}

/* Put the ownership marker SET first among the record's changes: a
 * provider that is not atomic and fails half-way must never leave a
 * record it wrote without the marker that owns it. */
static void plan_claim(const struct df_want *w, const struct df_rr *txt,
		       struct df_plan *plan, size_t before)
{
	plan_add(plan, DNSFOLLOW_CHANGE_SET, w->txt_name, DNSFOLLOW_TYPE_TXT, txt);
	struct dnsfollow_change claim = plan->v[plan->n - 1];
	memmove(&plan->v[before + 1], &plan->v[before],
		(plan->n - 1 - before) * sizeof *plan->v);
	plan->v[before] = claim;
	plan->v[before].rrset.ttl = w->ttl;
	plan->v[before].rrset.count = 1;
	plan->v[before].rrset.rdata = plan->marker_v;
}

/* Does any wanted type already exist at the name? */
static int any_exists(const struct df_want *w, const struct df_rrdb *cur)
{
	for (size_t i = 0; i < w->nsets; i++)
		if (df_rrdb_find(cur, w->fqdn, w->sets[i].type))
			return 1;
	return 0;
}

static size_t wanted_count(const struct df_want *w)
{
	size_t n = 0;
	for (size_t i = 0; i < w->nsets; i++)
		n += w->sets[i].n;
	return n;
}

/* Adopting: remove what may not sit beside the new records. */
static int plan_clear_conflicts(const struct df_want *w, const struct df_rrdb *cur,
				struct df_plan *plan)
{
	int changed = 0;
	for (size_t i = 0; i < w->nothers; i++) {
		const struct df_rr *r = df_rrdb_find(cur, w->fqdn, w->others[i]);
		if (r) {
			plan_add(plan, DNSFOLLOW_CHANGE_DELETE, w->fqdn, w->others[i], r);
			changed = 1;
		}
	}
	return changed;
}

/* An orphan goes whole: its records first, the marker last, so a
 * provider failing half-way leaves the name still owned (and retried). A
 * marker RRset that also holds another datum is not ours alone: left. */
static enum df_rec_state plan_orphan(const struct df_want *w,
				     const struct df_rrdb *cur,
				     struct df_plan *plan)
{
	const struct df_rr *txt = df_rrdb_find(cur, w->txt_name, DNSFOLLOW_TYPE_TXT);
	if (!txt || txt->pub.count != 1 ||
	    strcmp(txt->pub.rdata[0], plan->marker_v[0]) != 0)
		return DF_REC_IN_SYNC;
	for (size_t i = 0; i < w->nsets; i++) {
		const struct df_rr *old = df_rrdb_find(cur, w->fqdn, w->sets[i].type);
		if (old)
			plan_add(plan, DNSFOLLOW_CHANGE_DELETE, w->fqdn, w->sets[i].type, old);
	}
	plan_add(plan, DNSFOLLOW_CHANGE_DELETE, w->txt_name, DNSFOLLOW_TYPE_TXT, txt);
	return DF_REC_CHANGE;
}

enum df_rec_state df_plan_record(const struct df_want *w,
				 const struct df_rrdb *cur,
				 struct df_plan *plan, char *why, size_t whylen)
{
	if (w->orphan)
		return plan_orphan(w, cur, plan);
	if (w->error) {
		snprintf(why, whylen, "%s: %s", w->fqdn, w->error);
		return DF_REC_BAD;
	}
	const char *marker = plan->marker_v[0];
	const struct df_rr *txt = df_rrdb_find(cur, w->txt_name, DNSFOLLOW_TYPE_TXT);
	int own = ownership(w, txt, marker, why, whylen);
	int exists = any_exists(w, cur);
	if (own == 0 && exists)
		snprintf(why, whylen,
			 "%s already exists and is not owned by dnsfollow (no %s TXT marker); set adopt = yes in [record %s] to take it over",
			 w->fqdn, w->txt_name, w->fqdn);
	if ((own < 0 || (own == 0 && exists)) && !w->adopt)
		return DF_REC_FOREIGN;

	size_t wanted = wanted_count(w);
	int keep = wanted == 0 && !w->on_empty_delete;
	if (!keep && wanted && conflict(w, cur, own == 1, why, whylen) && !w->adopt)
		return DF_REC_FOREIGN;
	size_t before = plan->n;
	int changed = 0;
	if (!keep && wanted)
		changed |= plan_clear_conflicts(w, cur, plan);
	for (size_t i = 0; i < w->nsets; i++)
		changed |= plan_set(w, cur, &w->sets[i], keep, plan);
	/* Claim the name with the same batch that writes it, or when adopting
	 * an existing record that already has the right value; a marker
	 * written twice by two racing daemons is written again, once. */
	int dup_marker = own == 1 && txt->dups;
	if ((own != 1 && (changed || (w->adopt && exists))) || dup_marker)
		plan_claim(w, txt, plan, before);
	if (plan->n != before)
		return DF_REC_CHANGE;
	return keep ? DF_REC_KEPT : DF_REC_IN_SYNC;
}

void df_change_format(const struct dnsfollow_change *c, char *buf, size_t len)
{
	const char *t = df_type_name(c->rrset.type);
	if (c->op == DNSFOLLOW_CHANGE_DELETE) {
		snprintf(buf, len, "delete %s %s", c->rrset.name, t);
		return;
	}
	size_t used = (size_t)snprintf(buf, len, "set %s %s %u", c->rrset.name,
				       t, c->rrset.ttl);
	for (size_t i = 0; i < c->rrset.count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used,
					 c->rrset.type == DNSFOLLOW_TYPE_TXT
						 ? " \"%s\""
						 : " %s",
					 c->rrset.rdata[i]);
}
