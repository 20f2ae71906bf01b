/*
 * Record ids and contents kept between passes. read() learns ids from the
 * filtered list call (always made, so additions and removals are seen) and
 * fetches a record's content only when it is not cached or older than the
 * caller's limit; apply() needs the ids to PUT and DELETE. Small arrays:
 * a zone managed by dnsfollow holds hundreds of records, not millions.
 */
#include "ovh.h"

#include <stdlib.h>
#include <string.h>

void ovh_cache_init(struct ovh_cache *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
}

static void rec_free(struct ovh_rec *r)
{
	free(r->zone);
	free(r->name);
	free(r->target);
}

void ovh_recs_free(struct ovh_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rec_free(&v[i]);
	free(v);
}

void ovh_cache_destroy(struct ovh_cache *c)
{
	ovh_recs_free(c->v, c->n);
	pthread_mutex_destroy(&c->mu);
}

static int rec_copy(struct ovh_rec *dst, const struct ovh_rec *src)
{
	*dst = *src;
	dst->zone = strdup(src->zone);
	dst->name = strdup(src->name);
	dst->target = strdup(src->target);
	if (!dst->zone || !dst->name || !dst->target) {
		rec_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static long find(struct ovh_cache *c, const char *zone, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].id == id && strcmp(c->v[i].zone, zone) == 0)
			return (long)i;
	return -1;
}

static void remove_at(struct ovh_cache *c, size_t i)
{
	rec_free(&c->v[i]);
	c->v[i] = c->v[--c->n];
}

int ovh_cache_put(struct ovh_cache *c, const struct ovh_rec *r)
{
	struct ovh_rec copy;
	if (rec_copy(&copy, r) != 0)
		return -ENOMEM;
	pthread_mutex_lock(&c->mu);
	long i = find(c, r->zone, r->id);
	int rc = 0;
	if (i >= 0) {
		rec_free(&c->v[i]);
		c->v[i] = copy;
	} else if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct ovh_rec *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			rec_free(&copy);
			rc = -ENOMEM;
		} else {
			c->v = v;
			c->cap = cap;
			c->v[c->n++] = copy;
		}
	} else {
		c->v[c->n++] = copy;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int ovh_cache_get(struct ovh_cache *c, const char *zone, uint64_t id,
		  uint64_t min_stamp)
{
	pthread_mutex_lock(&c->mu);
	long i = find(c, zone, id);
	int found = i >= 0 && c->v[i].stamp_ms >= min_stamp;
	pthread_mutex_unlock(&c->mu);
	return found;
}

void ovh_cache_del(struct ovh_cache *c, const char *zone, uint64_t id)
{
	pthread_mutex_lock(&c->mu);
	long i = find(c, zone, id);
	if (i >= 0)
		remove_at(c, (size_t)i);
	pthread_mutex_unlock(&c->mu);
}

static int same_key(const struct ovh_rec *r, const char *zone,
		    const char *name, uint16_t type)
{
	return r->type == type && strcmp(r->name, name) == 0 &&
	       strcmp(r->zone, zone) == 0;
}

static int id_in(uint64_t id, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

void ovh_cache_keep_only(struct ovh_cache *c, const char *zone,
			 const char *name, uint16_t type, const uint64_t *ids,
			 size_t n)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n;) {
		if (same_key(&c->v[i], zone, name, type) &&
		    !id_in(c->v[i].id, ids, n))
			remove_at(c, i);
		else
			i++;
	}
	pthread_mutex_unlock(&c->mu);
}

void ovh_cache_forget(struct ovh_cache *c, const char *zone, const char *name,
		      uint16_t type)
{
	ovh_cache_keep_only(c, zone, name, type, NULL, 0);
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct ovh_rec *)a)->id;
	uint64_t y = ((const struct ovh_rec *)b)->id;
	return x < y ? -1 : x > y;
}

long ovh_cache_list(struct ovh_cache *c, const char *zone, const char *name,
		    uint16_t type, struct ovh_rec **out)
{
	*out = NULL;
	pthread_mutex_lock(&c->mu);
	size_t cnt = 0;
	for (size_t i = 0; i < c->n; i++)
		cnt += (size_t)same_key(&c->v[i], zone, name, type);
	struct ovh_rec *v = calloc(cnt ? cnt : 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; v && i < c->n; i++) {
		if (!same_key(&c->v[i], zone, name, type))
			continue;
		if (rec_copy(&v[k], &c->v[i]) != 0)
			break;
		k++;
	}
	pthread_mutex_unlock(&c->mu);
	if (!v || k != cnt) {
		ovh_recs_free(v, k);
		return -ENOMEM;
	}
	qsort(v, k, sizeof *v, by_id);
	*out = v;
	return (long)k;
}
