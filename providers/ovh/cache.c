/*
 * Record ids and contents kept between passes. read() and markers() learn
 * a zone's ids from its whole record list (always asked, so additions and
 * removals are seen) and fetch a record's content only when it is not
 * cached or the zone's SOA serial moved (zone.c); apply() needs the ids to
 * PUT and DELETE. Small arrays: a zone managed by dnsfollow holds
 * hundreds of records, not millions.
 */
#include "ovh.h"

#include <stdio.h>
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
	for (size_t i = 0; i < c->nzs; i++)
		free(c->zs[i].zone);
	free(c->zs);
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

/* Forget entries of (zone, name, type), any name when `name` is NULL,
 * whose id is not in ids[0..n). */
static void keep_listed(struct ovh_cache *c, const char *zone,
			const char *name, uint16_t type, const uint64_t *ids,
			size_t n)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n;) {
		struct ovh_rec *r = &c->v[i];
		int match = name ? same_key(r, zone, name, type)
				 : r->type == type && strcmp(r->zone, zone) == 0;
		if (match && !id_in(r->id, ids, n))
			remove_at(c, i);
		else
			i++;
	}
	pthread_mutex_unlock(&c->mu);
}

void ovh_cache_keep_only(struct ovh_cache *c, const char *zone,
			 const char *name, uint16_t type, const uint64_t *ids,
			 size_t n)
{
	keep_listed(c, zone, name, type, ids, n);
}

void ovh_cache_keep_type(struct ovh_cache *c, const char *zone, uint16_t type,
			 const uint64_t *ids, size_t n)
{
	keep_listed(c, zone, NULL, type, ids, n);
}

void ovh_cache_keep_zone(struct ovh_cache *c, const char *zone,
			 const uint64_t *ids, size_t n)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n;) {
		if (strcmp(c->v[i].zone, zone) == 0 && !id_in(c->v[i].id, ids, n))
			remove_at(c, i);
		else
			i++;
	}
	pthread_mutex_unlock(&c->mu);
}

int ovh_cache_peek(struct ovh_cache *c, const char *zone, uint64_t id,
		   struct ovh_peek *out)
{
	pthread_mutex_lock(&c->mu);
	long i = find(c, zone, id);
	if (i >= 0) {
		snprintf(out->name, sizeof out->name, "%s", c->v[i].name);
		out->type = c->v[i].type;
		out->stamp_ms = c->v[i].stamp_ms;
	}
	pthread_mutex_unlock(&c->mu);
	return i >= 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct names, in place: v sorted, duplicates freed. */
static size_t uniq(char **v, size_t n)
{
	size_t k = 0;
	qsort(v, n, sizeof *v, by_name);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1], v[i]) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	return k;
}

long ovh_cache_names(struct ovh_cache *c, const char *zone, uint16_t type,
		     const char *prefix, char ***out)
{
	size_t pl = strlen(prefix), k = 0;
	*out = NULL;
	pthread_mutex_lock(&c->mu);
	char **v = calloc(c->n ? c->n : 1, sizeof *v);
	int oom = !v;
	for (size_t i = 0; v && i < c->n; i++) {
		const struct ovh_rec *r = &c->v[i];
		if (r->type != type || strcmp(r->zone, zone) != 0 ||
		    strncmp(r->name, prefix, pl) != 0)
			continue;
		if (!(v[k] = strdup(r->name))) {
			oom = 1;
			break;
		}
		k++;
	}
	pthread_mutex_unlock(&c->mu);
	if (oom) {
		ovh_names_free(v, k);
		return -ENOMEM;
	}
	*out = v;
	return (long)uniq(v, k);
}

void ovh_names_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
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
