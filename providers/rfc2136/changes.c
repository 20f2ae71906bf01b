/*
 * The shape of a changeset before it is encoded: the core's groups in
 * order (a marker and the records it owns), and the guards that keep a
 * CNAME alone at its name.
 *
 * Servers apply an UPDATE's RRs in order and silently IGNORE a CNAME
 * added beside other data, or other data added beside a CNAME (RFC 2136
 * §3.4.2.2; BIND and Knot answer NOERROR), so the write would look done
 * while nothing changed. Each such add therefore carries prerequisites
 * (§2.4.3, "RRset does not exist") for the types it cannot sit beside,
 * except those the changeset itself deletes or replaces at that name: a
 * server that finds one refuses the whole message (YXRRSET), atomically.
 * A changeset that itself sets a CNAME and other data at one name is
 * refused before anything is sent. A name where read() found data of
 * the other kind this pass (change->old) needs no guard: DNS keeps a
 * CNAME alone, so what was there proves the conflict absent. Only the
 * types the provider manages are guarded; a record of another type (MX,
 * say) beside a CNAME is the core's ownership check's business.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc2136.h"

/* A change's place while grouping: its group, where the group first
 * appears, and its own index. */
struct ent {
	uint32_t g;
	size_t first, index;
};

static int cmp_g(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int cmp_first(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Whole groups in the order their first change came, each group's
 * changes in their own order; no groups: everything is one group. */
static int order(const uint32_t *groups, size_t n, struct r2136_shape *s)
{
	struct ent *e = calloc(n, sizeof *e);
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		e[i] = (struct ent){groups ? groups[i] : 0, 0, i};
	qsort(e, n, sizeof *e, cmp_g);
	for (size_t i = 0; i < n; i++)
		e[i].first = i && e[i].g == e[i - 1].g ? e[i - 1].first : e[i].index;
	qsort(e, n, sizeof *e, cmp_first);
	for (size_t i = 0; i < n; i++) {
		s->order[i] = e[i].index;
		s->gstart[i] = e[i].first;
	}
	free(e);
	return 0;
}

const char *r2136_type_text(const struct dnsfollow_host *h, uint16_t t)
{
	static __thread char buf[16];
	if (DNSFOLLOW_HOST_HAS(h, type_name))
		return h->type_name(t);
	snprintf(buf, sizeof buf, "TYPE%u", t);
	return buf;
}

/* Bit of type `t` in a guard mask (its place in r2136_types), or 0. */
unsigned r2136_type_bit(uint16_t t)
{
	for (unsigned k = 0; r2136_types[k]; k++)
		if (r2136_types[k] == t)
			return 1u << k;
	return 0;
}

struct byname {
	const char *name;
	size_t index;
};

static int cmp_name(const void *a, const void *b)
{
	const struct byname *x = a, *y = b;
	int r = strcasecmp(x->name, y->name);
	return r ? r : (x->index > y->index) - (x->index < y->index);
}

/* The guards of the changes at one name, r[0..k); -EEXIST (text set,
 * *failed the CNAME) when the changeset puts a CNAME beside other data. */
static int guard_name(struct r2136 *p, const struct dnsfollow_change *c,
		      const struct byname *r, size_t k, struct r2136_shape *s,
		      size_t *failed)
{
	const unsigned cn = r2136_type_bit(DNSFOLLOW_TYPE_CNAME);
	unsigned mentioned = 0, added = 0, all = 0, held = 0;
	size_t cname = SIZE_MAX, other = 0;
	for (unsigned t = 0; r2136_types[t]; t++)
		all |= 1u << t;
	for (size_t j = 0; j < k; j++) {
		const struct dnsfollow_change *x = &c[r[j].index];
		unsigned b = r2136_type_bit(x->rrset.type);
		mentioned |= b;
		if (x->old && x->old->count)
			held |= b;
		if (x->op != DNSFOLLOW_CHANGE_SET || x->rrset.count == 0)
			continue;
		if (b == cn)
			cname = r[j].index;
		else if (!(added & ~cn) && b)
			other = r[j].index;
		added |= b;
	}
	if (cname != SIZE_MAX && (added & ~cn)) {
		*failed = cname;
		return p->host->error(p->host, -EEXIST, "%s: a CNAME cannot sit beside "
				      "other data (%s set in the same changeset)",
				      r[0].name, r2136_type_text(p->host, c[other].rrset.type));
	}
	/* What read() found at the name this pass proves the rest absent:
	 * beside a CNAME nothing else, beside other data no CNAME. So a
	 * replaced RRset (the common case) needs no prerequisite. */
	unsigned mask = cname != SIZE_MAX ? all & ~cn & ~mentioned :
			(added && !(mentioned & cn)) ? cn : 0;
	if ((held & cn) || (held & ~cn && !(mask & ~cn)))
		mask = 0;
	for (size_t j = 0; j < k; j++)
		s->name_first[r[j].index] = r[0].index;
	s->guard[r[0].index] = mask;
	return 0;
}

/* Guards for every owner name of the changeset (names compared
 * ignoring case; a name's changes may sit in any group). */
static int guards(struct r2136 *p, const struct dnsfollow_change *c, size_t n,
		  struct r2136_shape *s, size_t *failed)
{
	struct byname *r = calloc(n, sizeof *r);
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct byname){c[i].rrset.name ? c[i].rrset.name : "", i};
	qsort(r, n, sizeof *r, cmp_name);
	int rc = 0;
	for (size_t i = 0, k; rc == 0 && i < n; i += k) {
		for (k = 1; i + k < n && strcasecmp(r[i].name, r[i + k].name) == 0; k++)
			;
		rc = guard_name(p, c, r + i, k, s, failed);
	}
	free(r);
	return rc;
}

int r2136_shape(struct r2136 *p, const struct dnsfollow_change *c, size_t n,
		const uint32_t *groups, int guarded, struct r2136_shape *s,
		size_t *failed)
{
	memset(s, 0, sizeof *s);
	s->order = calloc(n ? n : 1, sizeof *s->order);
	s->gstart = calloc(n ? n : 1, sizeof *s->gstart);
	s->name_first = calloc(n ? n : 1, sizeof *s->name_first);
	s->guard = calloc(n ? n : 1, sizeof *s->guard);
	int rc = s->order && s->gstart && s->name_first && s->guard ? 0 : -ENOMEM;
	if (rc == 0)
		rc = order(groups, n, s);
	for (size_t i = 0; rc == 0 && i < n; i++)
		s->name_first[i] = i; /* unguarded: every change stands alone */
	if (rc == 0 && guarded)
		rc = guards(p, c, n, s, failed);
	if (rc)
		r2136_shape_free(s);
	return rc;
}

void r2136_shape_free(struct r2136_shape *s)
{
	free(s->order);
	free(s->gstart);
	free(s->name_first);
	free(s->guard);
	memset(s, 0, sizeof *s);
}
