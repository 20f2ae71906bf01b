/*
 * CNAME exclusivity (RFC 1034 3.6.2): a name with a CNAME holds no other
 * data. OVH refuses such a record with a 400 (call.c makes it -EEXIST);
 * a changeset that would create one is refused here, before any call, so
 * the zone is not left half-written. What exists comes from the cache
 * (the last read or write of each key): what it does not know, the API
 * still refuses.
 */
#include "ovh.h"

#include <string.h>

/* 1 when the changeset removes (name, type): a DELETE, or a SET of no
 * data. */
static int removed(const struct ovh_key *k,
		   const struct dnsfollow_change *changes, size_t n,
		   const char *name, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].type == type && strcmp(k[i].name, name) == 0 &&
		    (changes[i].op == DNSFOLLOW_CHANGE_DELETE ||
		     changes[i].rrset.count == 0))
			return 1;
	return 0;
}

static int sets_data(const struct dnsfollow_change *c)
{
	return c->op == DNSFOLLOW_CHANGE_SET && c->rrset.count > 0;
}

/* A type at k->name that the cache holds and that clashes with k->type,
 * unless the changeset removes it; 0 if none. */
static uint16_t cached_clash(struct ovh *o, const char *zone,
			     const struct ovh_key *k, const struct ovh_key *all,
			     const struct dnsfollow_change *changes, size_t n)
{
	static const uint16_t others[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
					  DNSFOLLOW_TYPE_TXT};
	static const uint16_t cname[] = {DNSFOLLOW_TYPE_CNAME};
	int is_cname = k->type == DNSFOLLOW_TYPE_CNAME;
	const uint16_t *t = is_cname ? others : cname;
	size_t nt = is_cname ? 3 : 1;
	for (size_t i = 0; i < nt; i++) {
		struct ovh_rec *e;
		long ne = ovh_cache_list(&o->cache, zone, k->name, t[i], &e);
		if (ne < 0)
			continue; /* out of memory: the API still refuses */
		ovh_recs_free(e, (size_t)ne);
		if (ne > 0 && !removed(all, changes, n, k->name, t[i]))
			return t[i];
	}
	return 0;
}

/* The type in the changeset itself that clashes with change i, or 0. */
static uint16_t set_clash(const struct ovh_key *k,
			  const struct dnsfollow_change *changes, size_t i)
{
	int is_cname = k[i].type == DNSFOLLOW_TYPE_CNAME;
	for (size_t j = 0; j < i; j++)
		if (sets_data(&changes[j]) && strcmp(k[j].name, k[i].name) == 0 &&
		    (k[j].type == DNSFOLLOW_TYPE_CNAME) != is_cname)
			return k[j].type;
	return 0;
}

int ovh_check_cname(struct ovh *o, const char *zone, const struct ovh_key *k,
		    const struct dnsfollow_change *changes, size_t n, int *res)
{
	for (size_t i = 0; i < n; i++) {
		if (!sets_data(&changes[i]))
			continue;
		uint16_t t = set_clash(k, changes, i);
		if (!t)
			t = cached_clash(o, zone, &k[i], k, changes, n);
		if (!t)
			continue;
		res[i] = o->h->error(o->h, -EEXIST, "%s %s: refused: a CNAME "
				     "cannot share its name with other data "
				     "(%s there; RFC 1034 3.6.2)", k[i].name,
				     o->h->type_name(k[i].type),
				     o->h->type_name(t));
		return res[i];
	}
	return 0;
}
