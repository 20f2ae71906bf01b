/*
 * A zone read whole, its cached copy validated by the zone's SOA serial,
 * so that a pass over a zone nobody changed costs two calls whatever the
 * number of records (README, "What a pass costs", has the sources):
 *
 *   GET /domain/zone/{zone}/soa     domain.zone.Soa; its serial moves
 *                                   when the zone is refreshed (published)
 *   GET /domain/zone/{zone}/record  every id of the zone (long[])
 *
 * Ids the cache lacks are fetched (GET .../record/{id}); cached ids the
 * list lacks are forgotten. When the serial differs from the one the
 * cache was validated at, a record may have been edited in place (same
 * id, new target, then a refresh): every record of a type this plugin
 * manages is fetched again. Records of other types are fetched once,
 * when first listed: OVH never changes a record's fieldType (read-only in
 * the API schema), and only managed types matter.
 *
 * The serial is always read before any content is: contents fetched
 * after it are at least as new as the zone it names, so any later
 * refresh moves the serial past the one kept, and the next pass reads
 * again. The serial is never taken as describing the cache without
 * that: after our own writes and refresh the next pass fetches again,
 * since our refresh may also have published an edit staged by hand that
 * the cache never saw.
 */
#include "ovh.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state of `zone`, added when missing; called with c->mu held. NULL
 * when out of memory. */
static struct ovh_zstate *zstate(struct ovh_cache *c, const char *zone)
{
	for (size_t i = 0; i < c->nzs; i++)
		if (strcmp(c->zs[i].zone, zone) == 0)
			return &c->zs[i];
	struct ovh_zstate *v = realloc(c->zs, (c->nzs + 1) * sizeof *v);
	if (!v)
		return NULL;
	c->zs = v;
	char *copy = strdup(zone);
	if (!copy)
		return NULL;
	v[c->nzs] = (struct ovh_zstate){.zone = copy};
	return &v[c->nzs++];
}

void ovh_zone_stale(struct ovh *o, const char *zone)
{
	pthread_mutex_lock(&o->cache.mu);
	struct ovh_zstate *z = zstate(&o->cache, zone);
	if (z) {
		z->valid = 0;
		z->lent_ms = 0;
	}
	pthread_mutex_unlock(&o->cache.mu);
}

/* 1 when the cache was validated at `serial`, 0 when not or unknown. */
static int zone_valid_at(struct ovh *o, const char *zone, uint64_t serial)
{
	pthread_mutex_lock(&o->cache.mu);
	struct ovh_zstate *z = zstate(&o->cache, zone);
	int yes = z && z->valid && z->serial == serial;
	pthread_mutex_unlock(&o->cache.mu);
	return yes;
}

static void zone_validated(struct ovh *o, const char *zone, uint64_t serial,
			   int lend)
{
	pthread_mutex_lock(&o->cache.mu);
	struct ovh_zstate *z = zstate(&o->cache, zone);
	if (z) {
		z->serial = serial;
		z->valid = 1;
		z->lent_ms = lend ? o->h->now_ms() : 0;
	}
	pthread_mutex_unlock(&o->cache.mu);
}

/* 1 when markers() has just validated the zone for this read (used up). */
static int take_lent(struct ovh *o, const char *zone)
{
	uint64_t now = o->h->now_ms();
	pthread_mutex_lock(&o->cache.mu);
	struct ovh_zstate *z = zstate(&o->cache, zone);
	int yes = z && z->valid && z->lent_ms && now >= z->lent_ms &&
		  now - z->lent_ms <= OVH_LEND_MS;
	if (z)
		z->lent_ms = 0;
	pthread_mutex_unlock(&o->cache.mu);
	return yes;
}

/* The serial of a domain.zone.Soa answer into *serial; -1 if none. */
static int soa_serial(const json_t *j, uint64_t *serial)
{
	json_t *s = json_object_get(j, "serial");
	if (!json_is_integer(s) || json_integer_value(s) < 0)
		return -1;
	*serial = (uint64_t)json_integer_value(s);
	return 0;
}

/* GET .../soa and GET .../record together (the contents come after). */
static int zone_head(struct ovh *o, const char *zone, uint64_t *serial,
		     uint64_t **ids, size_t *nids)
{
	struct ovh_req r[2] = {
		{.method = "GET", .idempotent = 1,
		 .path = ovh_path_zone(o->h, zone, "soa")},
		{.method = "GET", .idempotent = 1,
		 .path = ovh_path_zone(o->h, zone, "record")}};
	int rc = r[0].path && r[1].path ? 0 : -ENOMEM;
	if (rc != 0) {
		rc = o->h->error(o->h, -ENOMEM, "out of memory");
	} else {
		ovh_batch(o, r, 2);
		rc = ovh_worst(o, r, 2); /* a 404 is an answer there */
		for (int i = 0; i < 2 && rc == 0; i++)
			if (r[i].rc == -ENOENT)
				rc = o->h->error(o->h, -ENOENT, "zone %s is not "
						 "served by this OVH account: "
						 "%s", zone, r[i].err ? r[i].err
						 : "out of memory");
	}
	if (rc == 0 && soa_serial(r[0].json, serial) != 0)
		rc = o->h->error(o->h, -EPROTO, "GET %s: expected the zone's "
				 "SOA (an object with a serial)", r[0].path);
	long n = 0;
	if (rc == 0 && (n = ovh_ids_parse(r[1].json, ids)) < 0)
		rc = n == -ENOMEM ? o->h->error(o->h, -ENOMEM, "out of memory")
				  : o->h->error(o->h, -EPROTO, "GET %s: expected "
						"a list of ids", r[1].path);
	*nids = rc == 0 ? (size_t)n : 0;
	ovh_req_clear(&r[0]);
	ovh_req_clear(&r[1]);
	return rc;
}

/* Whether record `id` must be fetched. */
static int must_fetch(struct ovh *o, const char *zone, uint64_t id,
		      int moved)
{
	struct ovh_peek p;
	if (!ovh_cache_peek(&o->cache, zone, id, &p))
		return 1;
	return moved && p.type != 0;
}

/* Cache a record answer under its own name and type: a type this plugin
 * does not manage as type 0 (never fetched again), a subDomain that makes
 * no DNS name under the name "" (never asked for), a target that does not
 * parse as bad. -EPROTO for an answer that is no record at all. */
static int file_answer(struct ovh *o, const char *zone, uint64_t id,
		       const json_t *j)
{
	struct ovh_fields f;
	char name[256];
	if (ovh_record_fields(o->h, j, &f) != 0)
		return -EPROTO;
	int rc = ovh_file_record(o, zone, id, &f, name, sizeof name);
	if (rc == 0 || rc == -ENOMEM)
		return rc;
	struct ovh_rec rec = {.zone = (char *)zone, .name = name, .id = id,
			      .type = f.type, .bad = rc == -EPROTO, .target = "",
			      .stamp_ms = o->h->now_ms()};
	if (rc == -EPROTO)
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: record %" PRIu64
			  " (%s %s): target does not parse", zone, id,
			  name[0] ? name : "?", f.ft);
	return ovh_cache_put(&o->cache, &rec);
}

static int fetch_ids(struct ovh *o, const char *zone, const uint64_t *ids,
		     size_t n, int moved)
{
	struct ovh_req *r = calloc(n ? n : 1, sizeof *r);
	uint64_t *which = calloc(n ? n : 1, sizeof *which);
	size_t m = 0;
	int rc = r && which ? 0 : o->h->error(o->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!must_fetch(o, zone, ids[i], moved))
			continue;
		r[m].method = "GET";
		r[m].idempotent = 1;
		which[m] = ids[i];
		if (!(r[m++].path = ovh_path_record(o->h, zone, ids[i])))
			rc = o->h->error(o->h, -ENOMEM, "out of memory");
	}
	if (rc == 0 && m > 0) {
		ovh_batch(o, r, m);
		rc = ovh_worst(o, r, m);
	}
	for (size_t i = 0; i < m && rc == 0; i++) {
		if (r[i].rc == -ENOENT) { /* deleted since the list call */
			ovh_cache_del(&o->cache, zone, which[i]);
			continue;
		}
		rc = file_answer(o, zone, which[i], r[i].json);
		if (rc == -ENOMEM)
			rc = o->h->error(o->h, -ENOMEM, "out of memory");
		else if (rc != 0)
			rc = o->h->error(o->h, -EPROTO, "GET %s: unexpected "
					 "record content", r[i].path);
	}
	if (rc == 0 && m > 0)
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: %zu record(s) "
			  "fetched (%s)", zone, m, moved ? "serial moved or "
			  "first read" : "new ids");
	ovh_reqs_free(r, m);
	free(which);
	return rc;
}

int ovh_zone_sync(struct ovh *o, const char *zone, int mode)
{
	if (mode == OVH_SYNC_TAKE && take_lent(o, zone))
		return 0;
	uint64_t serial = 0, *ids = NULL;
	size_t n = 0;
	int rc = zone_head(o, zone, &serial, &ids, &n);
	if (rc == 0) {
		int moved = !zone_valid_at(o, zone, serial);
		/* Invalid until the contents are in: a failure part-way
		 * leaves the next pass to fetch again. */
		ovh_zone_stale(o, zone);
		ovh_cache_keep_zone(&o->cache, zone, ids, n);
		rc = fetch_ids(o, zone, ids, n, moved);
	}
	if (rc == 0)
		zone_validated(o, zone, serial, mode == OVH_SYNC_LEND);
	else
		ovh_zone_stale(o, zone);
	free(ids);
	return rc;
}
