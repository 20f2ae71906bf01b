/*
 * markers(): every ownership marker of a zone, for `policy = sync`.
 *
 * OVH's record list filters on two things only, fieldType (an enum) and
 * subDomain (a LIKE pattern), and answers ids, never names. Markers are
 * found by type: one list call for the zone's TXT ids, then one GET per
 * id the cache does not know yet, each record filed under the name its
 * subDomain gives (markers or not, so the next call does not fetch it
 * again). No LIKE wildcard is relied on: a pattern such as "_dnsfollow%"
 * would depend on OVH honouring '%', and a filter that silently matched
 * nothing would hide every orphan.
 *
 * A marker is fetched again once its cached content is older than read()
 * trusts (a hand edit of its owner is seen within minutes); other TXT
 * records are not, since only their name matters and OVH keeps it with
 * the id. Everything is fetched before the first emit(): an error
 * reports nothing ("not known"), never half a list.
 */
#include "ovh.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MARKER_PREFIX "_dnsfollow."

static int is_marker(const char *name)
{
	return strncmp(name, MARKER_PREFIX, sizeof MARKER_PREFIX - 1) == 0;
}

/* GET /domain/zone/{zone}/record?fieldType=TXT into *ids. */
static int list_txt(struct ovh *o, const char *zone, uint64_t **ids,
		    size_t *n)
{
	struct ovh_req r = {.method = "GET", .idempotent = 1,
			    .path = ovh_path_records(o->h, zone, "TXT", NULL)};
	int rc = 0;
	*ids = NULL;
	*n = 0;
	if (!r.path)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	ovh_call(o, &r);
	if (r.rc == -ENOENT) {
		rc = o->h->error(o->h, -ENOENT, "zone %s is not served by this "
				 "OVH account: %s", zone,
				 r.err ? r.err : "out of memory");
	} else if (r.rc != 0) {
		rc = ovh_report(o, &r);
	} else {
		long m = ovh_ids_parse(r.json, ids);
		if (m == -ENOMEM)
			rc = o->h->error(o->h, -ENOMEM, "out of memory");
		else if (m < 0)
			rc = o->h->error(o->h, -EPROTO, "GET %s: expected a "
					 "list of ids", r.path);
		else
			*n = (size_t)m;
	}
	ovh_req_clear(&r);
	return rc;
}

/* Whether record `id` must be fetched: unknown, or a marker older than
 * read() would trust. */
static int must_fetch(struct ovh *o, const char *zone, uint64_t id,
		      uint64_t fresh)
{
	struct ovh_peek p;
	if (!ovh_cache_peek(&o->cache, zone, id, &p))
		return 1;
	return p.type == DNSFOLLOW_TYPE_TXT && is_marker(p.name) &&
	       p.stamp_ms < fresh;
}

/* One record answer into the cache. A foreign TXT record whose content
 * does not parse is left out (it is refetched next time); a marker's
 * is an error: its owner cannot be known. */
static int file_answer(struct ovh *o, const char *zone, uint64_t id,
		       const struct ovh_req *r)
{
	struct ovh_fields f;
	char name[256] = "";
	if (ovh_record_fields(o->h, r->json, &f) != 0)
		return o->h->error(o->h, -EPROTO, "GET %s: unexpected record "
				   "content", r->path);
	int rc = ovh_file_record(o, zone, id, &f, name, sizeof name);
	if (rc == -ENOMEM)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	if (rc == -EPROTO && !is_marker(name)) {
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: record %" PRIu64
			  " (%s) does not parse: skipped", zone, id, name);
		return 0;
	}
	if (rc < 0)
		return o->h->error(o->h, rc, "GET %s: unexpected record "
				   "content", r->path);
	return 0;
}

/* Fetch the listed records the cache lacks (see must_fetch). */
static int fetch_unknown(struct ovh *o, const char *zone,
			 const uint64_t *ids, size_t n)
{
	uint64_t now = o->h->now_ms();
	uint64_t fresh = now > OVH_CACHE_MAX_AGE_MS ? now - OVH_CACHE_MAX_AGE_MS
						     : 0;
	struct ovh_req *r = calloc(n ? n : 1, sizeof *r);
	uint64_t *which = calloc(n ? n : 1, sizeof *which);
	size_t m = 0;
	int rc = r && which ? 0 : o->h->error(o->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!must_fetch(o, zone, ids[i], fresh))
			continue;
		r[m].method = "GET";
		r[m].idempotent = 1;
		which[m] = ids[i];
		if (!(r[m++].path = ovh_path_record(o->h, zone, ids[i])))
			rc = o->h->error(o->h, -ENOMEM, "out of memory");
	}
	if (rc == 0) {
		ovh_batch(o, r, m);
		rc = ovh_worst(o, r, m);
	}
	for (size_t i = 0; i < m && rc == 0; i++) {
		if (r[i].rc == -ENOENT) /* deleted since the list call */
			ovh_cache_del(&o->cache, zone, which[i]);
		else
			rc = file_answer(o, zone, which[i], &r[i]);
	}
	ovh_reqs_free(r, m);
	free(which);
	return rc;
}

static int emit_markers(struct ovh *o, const char *zone,
			dnsfollow_rrset_cb emit, void *ctx)
{
	char **names;
	long n = ovh_cache_names(&o->cache, zone, DNSFOLLOW_TYPE_TXT,
				 MARKER_PREFIX, &names);
	if (n < 0)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++)
		rc = ovh_emit_rrset(o, zone, names[i], DNSFOLLOW_TYPE_TXT, emit,
				    ctx);
	ovh_names_free(names, (size_t)n);
	return rc;
}

int ovh_markers(void *self, const char *zone, dnsfollow_rrset_cb emit,
		void *ctx)
{
	struct ovh *o = self;
	/* As in read(): what the list shows may be changes a failed refresh
	 * left staged; publish them first. */
	int rc = ovh_unpublished_flush(o, zone);
	uint64_t *ids = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = list_txt(o, zone, &ids, &n);
	if (rc == 0) {
		/* The list is the whole truth about the zone's TXT ids: a
		 * cached one it lacks was deleted. */
		ovh_cache_keep_type(&o->cache, zone, DNSFOLLOW_TYPE_TXT, ids, n);
		rc = fetch_unknown(o, zone, ids, n);
	}
	free(ids);
	return rc ? rc : emit_markers(o, zone, emit, ctx);
}
