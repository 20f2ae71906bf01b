/*
 * Zones and their records: the zone id looked up once by name
 * (GET /zones?name=), records listed with GET /zones/ID/dns_records
 * (filters name= and type=, paged with page/per_page until result_info's
 * total_pages), kept as a snapshot sorted by (name, type) so apply() finds
 * record ids without another call.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cf_rec_free(struct cf_rec *r)
{
	free(r->id), free(r->name), free(r->data);
	memset(r, 0, sizeof *r);
}

/* Presentation data of Cloudflare's `content`: TXT given as quoted
 * character-strings (how Cloudflare stores them, split at 255 bytes) is
 * decoded, bare text kept; CNAME/NS targets normalised. */
static char *data_of(const struct dnsfollow_host *h, uint16_t type, const char *c)
{
	if (type == DNSFOLLOW_TYPE_TXT && c[0] == '"') {
		char *d = h->txt_decode(c);
		return d ? d : strdup(c);
	}
	if (CF_NAME_TYPE(type)) {
		char n[256];
		if (h->name_normalise(c, n, sizeof n) == 0)
			return strdup(n);
	}
	return strdup(c);
}

/* 0, 1 for a record to skip (a name or type that cannot be ours), or
 * -ENOMEM / -EPROTO. */
int cf_rec_from_json(const struct dnsfollow_host *h, json_t *r, struct cf_rec *out)
{
	const char *id = json_string_value(json_object_get(r, "id"));
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *type = json_string_value(json_object_get(r, "type"));
	const char *content = json_string_value(json_object_get(r, "content"));
	json_t *ttl = json_object_get(r, "ttl");
	char n[256];
	memset(out, 0, sizeof *out);
	if (!id || !name || !type || !content)
		return -EPROTO;
	if (h->name_normalise(name, n, sizeof n) != 0 || !h->type_code(type))
		return 1;
	out->type = h->type_code(type);
	out->ttl = json_is_integer(ttl) ? (uint32_t)json_integer_value(ttl) : 1;
	out->proxied = json_is_true(json_object_get(r, "proxied"));
	out->id = strdup(id);
	out->name = strdup(n);
	out->data = data_of(h, out->type, content);
	if (!out->id || !out->name || !out->data) {
		cf_rec_free(out);
		return -ENOMEM;
	}
	return 0;
}

int cf_zone_add(struct cf_zone *z, struct cf_rec *r)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 64;
		struct cf_rec *v = realloc(z->recs, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		z->recs = v, z->cap = cap;
	}
	z->recs[z->n++] = *r;
	memset(r, 0, sizeof *r);
	return 0;
}

void cf_zone_remove(struct cf_zone *z, const char *id)
{
	for (size_t i = 0; i < z->n; i++)
		if (strcmp(z->recs[i].id, id) == 0) {
			cf_rec_free(&z->recs[i]);
			memmove(&z->recs[i], &z->recs[i + 1], (z->n - i - 1) * sizeof *z->recs);
			z->n--;
			return;
		}
}

/* Drop the snapshot (not the zone id, not the wanted TTLs). */
void cf_zone_forget(struct cf_zone *z)
{
	for (size_t i = 0; i < z->n; i++)
		cf_rec_free(&z->recs[i]);
	for (size_t i = 0; i < z->nnames; i++)
		free(z->names[i]);
	free(z->names);
	z->names = NULL;
	z->n = z->nnames = 0;
	z->all = 0;
}

void cf_zone_free(struct cf_zone *z)
{
	cf_zone_forget(z);
	free(z->recs);
	for (size_t i = 0; i < z->nwant; i++)
		free(z->want[i].name);
	free(z->want);
	free(z->name);
}

int cf_zone_covers(const struct cf_zone *z, const char *name)
{
	if (z->all)
		return 1;
	for (size_t i = 0; i < z->nnames; i++)
		if (strcmp(z->names[i], name) == 0)
			return 1;
	return 0;
}

uint32_t cf_wanted_ttl(const struct cf_zone *z, const char *name, uint16_t type)
{
	for (size_t i = 0; i < z->nwant; i++)
		if (z->want[i].type == type && strcmp(z->want[i].name, name) == 0)
			return z->want[i].ttl;
	return 0;
}

int cf_remember_ttl(struct cf_zone *z, const char *name, uint16_t type, uint32_t ttl)
{
	for (size_t i = 0; i < z->nwant; i++)
		if (z->want[i].type == type && strcmp(z->want[i].name, name) == 0)
			return z->want[i].ttl = ttl, 0;
	struct cf_want *v = realloc(z->want, (z->nwant + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	z->want = v;
	v[z->nwant] = (struct cf_want){strdup(name), type, ttl};
	return v[z->nwant].name ? (z->nwant++, 0) : -ENOMEM;
}

/* GET /zones?name=ZONE: the zone's id, once per zone and instance. */
static int lookup_id(struct cf *p, struct cf_zone *z)
{
	const struct dnsfollow_host *h = p->h;
	char *ez = h->url_escape(z->name), path[600], what[400];
	if (!ez)
		return h->error(h, -ENOMEM, "out of memory");
	snprintf(path, sizeof path, "/zones?name=%s", ez);
	snprintf(what, sizeof what, "GET /zones?name=%s", z->name);
	free(ez);
	json_t *doc, *it;
	int rc = cf_call(p, "GET", path, NULL, what, &doc);
	if (rc)
		return rc;
	size_t i;
	json_array_foreach(json_object_get(doc, "result"), i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		const char *id = json_string_value(json_object_get(it, "id"));
		if (n && id && strcasecmp(n, z->name) == 0 && strlen(id) < sizeof z->id) {
			snprintf(z->id, sizeof z->id, "%s", id);
			break;
		}
	}
	json_decref(doc);
	if (!z->id[0])
		return h->error(h, -ENOENT, "zone %s: not found in the Cloudflare account the token "
				"belongs to (or the token cannot see it: it needs Zone:DNS:Edit on %s)",
				z->name, z->name);
	return 0;
}

/* The state of `zone`, its id looked up when not known yet. A zone the
 * provider does not list is refused without a call. */
int cf_zone_get(struct cf *p, const char *zone, struct cf_zone **out)
{
	const struct dnsfollow_host *h = p->h;
	struct cf_zone *z = NULL;
	for (size_t i = 0; i < p->nzones && !z; i++)
		if (strcmp(p->zones[i].name, zone) == 0)
			z = &p->zones[i];
	if (!z) {
		int listed = !p->zone_names;
		for (size_t i = 0; i < p->nzone_names && !listed; i++)
			listed = strcmp(p->zone_names[i], zone) == 0;
		if (!listed)
			return h->error(h, -ENOENT, "zone %s is not one of this provider's zones", zone);
		struct cf_zone *v = realloc(p->zones, (p->nzones + 1) * sizeof *v);
		if (!v)
			return h->error(h, -ENOMEM, "out of memory");
		p->zones = v;
		z = &v[p->nzones];
		memset(z, 0, sizeof *z);
		if (!(z->name = strdup(zone)))
			return h->error(h, -ENOMEM, "out of memory");
		p->nzones++;
	}
	*out = z;
	return z->id[0] ? 0 : lookup_id(p, z);
}

/* Every page of GET /zones/ID/dns_records?QUERY into `z`. Cloudflare's
 * result_info.total_pages says when to stop; an answer without it stops
 * at a short page. Bounded by the page count Cloudflare announced. */
int cf_list_query(struct cf *p, struct cf_zone *z, const char *query, const char *what)
{
	const struct dnsfollow_host *h = p->h;
	char path[1200];
	long total = -1;
	for (long page = 1; total < 0 || page <= total; page++) {
		snprintf(path, sizeof path, "/zones/%s/dns_records?%spage=%ld&per_page=%llu",
			 z->id, query, page, (unsigned long long)p->per_page);
		json_t *doc, *r;
		int rc = cf_call(p, "GET", path, NULL, what, &doc);
		if (rc)
			return rc;
		json_t *res = json_object_get(doc, "result");
		json_t *tp = json_object_get(json_object_get(doc, "result_info"), "total_pages");
		long pages = json_is_integer(tp) ? (long)json_integer_value(tp) : -1;
		size_t i, got = json_array_size(res);
		if (!json_is_array(res))
			rc = h->error(h, -EPROTO, "%s: the answer has no result list", what);
		json_array_foreach(res, i, r) {
			struct cf_rec rec;
			int k = rc ? 0 : cf_rec_from_json(h, r, &rec);
			if (k < 0)
				rc = h->error(h, k, "%s: a record without id, name, type or content", what);
			else if (k == 0 && !rc && cf_zone_add(z, &rec) != 0)
				cf_rec_free(&rec), rc = h->error(h, -ENOMEM, "out of memory");
		}
		json_decref(doc);
		if (rc)
			return rc;
		if (got == 0)
			break; /* nothing more, whatever total_pages said */
		if (pages >= 0)
			total = pages;
		else if (got < p->per_page)
			break;
		else if (page > 1000000)
			return h->error(h, -EPROTO, "%s: more than a million pages", what);
	}
	return 0;
}

/* Records of the named names (all types: a CNAME beside them shows). */
int cf_zone_load_names(struct cf *p, struct cf_zone *z, const char *const *names, size_t n)
{
	const struct dnsfollow_host *h = p->h;
	for (size_t i = 0; i < n; i++) {
		if (cf_zone_covers(z, names[i]))
			continue;
		for (size_t k = z->n; k-- > 0;)
			if (strcmp(z->recs[k].name, names[i]) == 0)
				cf_zone_remove(z, z->recs[k].id);
		char *en = h->url_escape(names[i]), q[700], what[400];
		if (!en)
			return h->error(h, -ENOMEM, "out of memory");
		snprintf(q, sizeof q, "name=%s&", en);
		snprintf(what, sizeof what, "GET dns_records?name=%s", names[i]);
		free(en);
		int rc = cf_list_query(p, z, q, what);
		if (rc)
			return rc;
		char **v = realloc(z->names, (z->nnames + 1) * sizeof *v);
		if (!v)
			return h->error(h, -ENOMEM, "out of memory");
		z->names = v;
		if (!(v[z->nnames] = strdup(names[i])))
			return h->error(h, -ENOMEM, "out of memory");
		z->nnames++;
	}
	return 0;
}

int cf_zone_load_all(struct cf *p, struct cf_zone *z)
{
	char what[400];
	snprintf(what, sizeof what, "GET dns_records of zone %s", z->name);
	cf_zone_forget(z);
	int rc = cf_list_query(p, z, "", what);
	if (rc)
		cf_zone_forget(z);
	else
		z->all = 1;
	return rc;
}

int cf_rec_cmp(const void *a, const void *b)
{
	const struct cf_rec *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (int)x->type - (int)y->type;
}

void cf_zone_sort(struct cf_zone *z)
{
	if (z->n > 1) /* qsort wants a non-NULL base even for 0 */
		qsort(z->recs, z->n, sizeof *z->recs, cf_rec_cmp);
}

/* [*lo, *hi): the records at `name` (of `type`, or of any type when type
 * is 0) in the sorted snapshot. */
void cf_zone_range(const struct cf_zone *z, const char *name, uint16_t type, size_t *lo,
		   size_t *hi)
{
	size_t a = 0, b = z->n;
	while (a < b) { /* first record not before (name, type) */
		size_t m = a + (b - a) / 2;
		int c = strcmp(z->recs[m].name, name);
		if (c < 0 || (c == 0 && z->recs[m].type < type))
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < z->n && strcmp(z->recs[a].name, name) == 0 && (!type || z->recs[a].type == type))
		a++;
	*hi = a;
}

/* Records deleted by apply() are marked dead (the indexes of the
 * operations still to send must not move) and dropped here. */
void cf_zone_compact(struct cf_zone *z)
{
	size_t k = 0;
	for (size_t i = 0; i < z->n; i++) {
		if (z->recs[i].dead)
			cf_rec_free(&z->recs[i]);
		else
			z->recs[k++] = z->recs[i];
	}
	z->n = k;
}

int cf_data_equal(uint16_t type, const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int af = type == DNSFOLLOW_TYPE_A ? AF_INET : type == DNSFOLLOW_TYPE_AAAA ? AF_INET6 : 0;
	if (af && inet_pton(af, a, x) == 1 && inet_pton(af, b, y) == 1)
		return memcmp(x, y, af == AF_INET ? 4 : 16) == 0;
	if (CF_NAME_TYPE(type)) {
		size_t la = strlen(a), lb = strlen(b);
		la -= la && a[la - 1] == '.', lb -= lb && b[lb - 1] == '.';
		return la == lb && strncasecmp(a, b, la) == 0;
	}
	return strcmp(a, b) == 0;
}
