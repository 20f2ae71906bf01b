/*
 * read() and apply() on OVH's record API.
 *
 * OVH stores one record per id; an RRset is every record with the same
 * (subDomain, fieldType). Reading brings the cached copy of the whole
 * zone up to date (zone.c: its SOA serial and id list, then only the
 * records that may have changed) and answers from it. The filtered list
 * calls here (one per name and type) serve apply() when it must learn a
 * key again (a record it lost, a POST whose outcome is unknown). Writing
 * updates records in place where it can (PUT keeps the id), creates and
 * deletes the rest, and publishes with exactly one refresh per zone, only
 * when something was written (apply.c).
 */
#include "ovh.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ovh_type_ok(uint16_t type)
{
	for (size_t i = 0; type && ovh_types[i]; i++)
		if (ovh_types[i] == type)
			return 1;
	return 0;
}

int ovh_key_init(struct ovh *o, struct ovh_key *k, const char *zone,
		 const char *name, uint16_t type)
{
	memset(k, 0, sizeof *k);
	if (!ovh_type_ok(type))
		return o->h->error(o->h, -EINVAL,
				   "record type %s is not supported by the OVH "
				   "provider (A, AAAA, TXT, CNAME only)",
				   o->h->type_name(type));
	if (o->h->name_normalise(name, k->name, sizeof k->name) != 0 ||
	    ovh_subdomain(k->name, zone, k->sub, sizeof k->sub) != 0)
		return o->h->error(o->h, -EINVAL, "%s is not inside zone %s",
				   name, zone);
	k->type = type;
	return 0;
}

void ovh_keys_free(struct ovh_key *k, size_t n)
{
	for (size_t i = 0; k && i < n; i++)
		free(k[i].ids);
	free(k);
}

void ovh_reqs_free(struct ovh_req *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		ovh_req_clear(&r[i]);
	free(r);
}

/* Unquote OVH's TXT target: one or more "..." strings, with \" \\ and
 * \DDD escapes, concatenated. */
static char *txt_unquote(const char *t)
{
	char *out = malloc(strlen(t) + 1), *o = out;
	if (!out)
		return NULL;
	const char *p = t;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p++ != '"')
			goto bad;
		while (*p && *p != '"') {
			if (*p != '\\') {
				*o++ = *p++;
				continue;
			}
			p++;
			if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' &&
			    p[1] <= '9' && p[2] >= '0' && p[2] <= '9') {
				int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 +
					(p[2] - '0');
				if (v > 255 || v == 0)
					goto bad;
				*o++ = (char)v;
				p += 3;
			} else if (*p) {
				*o++ = *p++;
			}
		}
		if (*p++ != '"')
			goto bad;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* A CNAME target as the core writes names: lower case, no trailing dot
 * (OVH stores absolute targets with one). NULL for the root, which no
 * alias may point at, and for what is not a DNS name. */
static char *cname_target(const struct dnsfollow_host *h, const char *t)
{
	char name[256];
	if (h->name_normalise(t, name, sizeof name) != 0 || !name[0])
		return NULL;
	return strdup(name);
}

char *ovh_target_normalise(const struct dnsfollow_host *h, uint16_t type,
			   const char *target)
{
	if (type == DNSFOLLOW_TYPE_TXT)
		return target[0] == '"' ? txt_unquote(target) : strdup(target);
	if (type == DNSFOLLOW_TYPE_A || type == DNSFOLLOW_TYPE_AAAA) {
		int af = type == DNSFOLLOW_TYPE_A ? AF_INET : AF_INET6;
		unsigned char bin[16];
		char txt[INET6_ADDRSTRLEN];
		if (inet_pton(af, target, bin) != 1 ||
		    !inet_ntop(af, bin, txt, sizeof txt))
			return NULL;
		return strdup(txt);
	}
	if (type == DNSFOLLOW_TYPE_CNAME)
		return cname_target(h, target);
	return strdup(target);
}

long ovh_ids_parse(const json_t *j, uint64_t **ids)
{
	*ids = NULL;
	if (j && !json_is_array(j))
		return -EPROTO;
	size_t n = json_array_size(j);
	uint64_t *v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(j, i);
		if (!json_is_integer(e) || json_integer_value(e) <= 0) {
			free(v);
			return -EPROTO;
		}
		v[i] = (uint64_t)json_integer_value(e);
	}
	*ids = v;
	return (long)n;
}

/* Ids from a list answer into k. */
static int take_ids(struct ovh *o, struct ovh_key *k, const struct ovh_req *r)
{
	long n = ovh_ids_parse(r->json, &k->ids);
	if (n == -ENOMEM)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	if (n < 0)
		return o->h->error(o->h, -EPROTO, "%s %s: expected a list of ids",
				   r->method, r->path);
	k->nids = (size_t)n;
	return 0;
}

/* Phase 1: one filtered list call per key. */
static int list_keys(struct ovh *o, const char *zone, struct ovh_key *k, size_t n)
{
	struct ovh_req *r = calloc(n ? n : 1, sizeof *r);
	if (!r)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		r[i].method = "GET";
		r[i].idempotent = 1;
		r[i].path = ovh_path_records(o->h, zone, o->h->type_name(k[i].type),
					     k[i].sub);
		if (!r[i].path)
			rc = o->h->error(o->h, -ENOMEM, "out of memory");
	}
	if (rc == 0) {
		ovh_batch(o, r, n);
		rc = ovh_worst(o, r, n);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (r[i].rc == -ENOENT)
			rc = o->h->error(o->h, -ENOENT,
					 "zone %s is not served by this OVH "
					 "account: %s", zone, r[i].err);
		else
			rc = take_ids(o, &k[i], &r[i]);
		if (rc == 0)
			ovh_cache_keep_only(&o->cache, zone, k[i].name,
					    k[i].type, k[i].ids, k[i].nids);
	}
	ovh_reqs_free(r, n);
	return rc;
}

int ovh_record_fields(const struct dnsfollow_host *h, const json_t *j,
		      struct ovh_fields *f)
{
	json_t *ttl = json_object_get(j, "ttl");
	*f = (struct ovh_fields){
		.ft = json_string_value(json_object_get(j, "fieldType")),
		.sub = json_string_value(json_object_get(j, "subDomain")),
		.target = json_string_value(json_object_get(j, "target")),
		.ttl = json_is_integer(ttl) && json_integer_value(ttl) > 0 &&
				       json_integer_value(ttl) <= UINT32_MAX
			       ? (uint32_t)json_integer_value(ttl)
			       : 0};
	uint16_t t = f->ft ? h->type_code(f->ft) : 0;
	f->type = ovh_type_ok(t) ? t : 0;
	return f->ft && f->target ? 0 : -EPROTO;
}

static int put_record(struct ovh *o, const char *zone, const char *name,
		      uint16_t type, uint64_t id, const char *target,
		      uint32_t ttl)
{
	struct ovh_rec rec = {
		.zone = (char *)zone, .name = (char *)name, .type = type,
		.id = id, .stamp_ms = o->h->now_ms(), .ttl = ttl};
	rec.target = ovh_target_normalise(o->h, type, target);
	if (!rec.target)
		return -EPROTO;
	int rc = ovh_cache_put(&o->cache, &rec);
	free(rec.target);
	return rc;
}

int ovh_file_record(struct ovh *o, const char *zone, uint64_t id,
		    const struct ovh_fields *f, char *name, size_t cap)
{
	char full[300];
	name[0] = '\0';
	if (!f->sub)
		return 1;
	int n = *f->sub ? snprintf(full, sizeof full, "%s.%s", f->sub, zone)
			: snprintf(full, sizeof full, "%s", zone);
	if (n < 0 || (size_t)n >= sizeof full ||
	    o->h->name_normalise(full, name, cap) != 0) {
		name[0] = '\0';
		return 1;
	}
	return f->type ? put_record(o, zone, name, f->type, id, f->target,
				    f->ttl)
		       : 1;
}

/* A look-alike is cached under its own name and type, where it belongs,
 * so the next pass does not fetch it again; one we cannot file is simply
 * left out. Someone else's record never fails our read. */
static void file_lookalike(struct ovh *o, const char *zone, uint64_t id,
			   const struct ovh_fields *f)
{
	char name[256];
	(void)ovh_file_record(o, zone, id, f, name, sizeof name);
}

/* A record answer into the cache. OVH's subDomain filter is a LIKE
 * pattern where '_' matches any character (and ownership markers start
 * with "_dnsfollow."), so a list call may return records of other names:
 * those are skipped. Returns 0, or -EPROTO on nonsense. */
static int take_answer(struct ovh *o, const char *zone,
		       const struct ovh_key *k, uint64_t id, json_t *j)
{
	struct ovh_fields f;
	if (ovh_record_fields(o->h, j, &f) != 0)
		return -EPROTO;
	if (f.type != k->type || (f.sub && strcasecmp(f.sub, k->sub) != 0)) {
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: record %" PRIu64
			  " (%s \"%s\") came with the list for %s \"%s\": "
			  "skipped", zone, id, f.ft, f.sub ? f.sub : "",
			  o->h->type_name(k->type), k->sub);
		if (f.sub)
			file_lookalike(o, zone, id, &f);
		return 0;
	}
	return put_record(o, zone, k->name, k->type, id, f.target, f.ttl);
}

/* Phase 2: fetch the records the cache does not hold fresh. */
static int fetch_records(struct ovh *o, const char *zone, struct ovh_key *k,
			 size_t n)
{
	uint64_t now = o->h->now_ms();
	uint64_t fresh = now > OVH_CACHE_MAX_AGE_MS ? now - OVH_CACHE_MAX_AGE_MS : 0;
	size_t total = 0, m = 0;
	for (size_t i = 0; i < n; i++)
		total += k[i].nids;
	struct ovh_req *r = calloc(total ? total : 1, sizeof *r);
	if (!r)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = 0; j < k[i].nids && rc == 0; j++) {
			if (ovh_cache_get(&o->cache, zone, k[i].ids[j], fresh))
				continue;
			r[m].method = "GET";
			r[m].idempotent = 1;
			r[m].user = &k[i];
			r[m].path = ovh_path_record(o->h, zone, k[i].ids[j]);
			if (!r[m++].path)
				rc = o->h->error(o->h, -ENOMEM, "out of memory");
		}
	if (rc == 0) {
		ovh_batch(o, r, m);
		rc = ovh_worst(o, r, m);
	}
	for (size_t i = 0; i < m && rc == 0; i++) {
		struct ovh_key *key = r[i].user;
		uint64_t id = strtoull(strrchr(r[i].path, '/') + 1, NULL, 10);
		if (r[i].rc == -ENOENT) { /* deleted since the list call */
			ovh_cache_del(&o->cache, zone, id);
			continue;
		}
		if (take_answer(o, zone, key, id, r[i].json) != 0)
			rc = o->h->error(o->h, -EPROTO,
					 "GET %s: unexpected record content",
					 r[i].path);
	}
	ovh_reqs_free(r, m);
	return rc;
}

int ovh_keys_fetch(struct ovh *o, const char *zone, struct ovh_key *k,
		      size_t n)
{
	int rc = list_keys(o, zone, k, n);
	return rc ? rc : fetch_records(o, zone, k, n);
}

int ovh_rrset_check(struct ovh *o, const char *zone, const char *name,
		    uint16_t type)
{
	struct ovh_rec *recs;
	long n = ovh_cache_list(&o->cache, zone, name, type, &recs);
	if (n < 0)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++)
		if (recs[i].bad)
			rc = o->h->error(o->h, -EPROTO, "zone %s: record %" PRIu64
					 " (%s %s): unexpected record content "
					 "(its target does not parse)", zone,
					 recs[i].id, name, o->h->type_name(type));
	ovh_recs_free(recs, (size_t)n);
	return rc;
}

int ovh_emit_rrset(struct ovh *o, const char *zone, const char *name,
		   uint16_t type, dnsfollow_rrset_cb emit, void *ctx)
{
	struct ovh_rec *recs;
	long n = ovh_cache_list(&o->cache, zone, name, type, &recs);
	if (n < 0)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	if (n > 0) {
		const char **rd = calloc((size_t)n, sizeof *rd);
		if (!rd) {
			ovh_recs_free(recs, (size_t)n);
			return o->h->error(o->h, -ENOMEM, "out of memory");
		}
		/* Records of one RRset with different TTLs are reported with
		 * TTL 0 so the core sees a difference and sets them all. */
		uint32_t ttl = recs[0].ttl;
		for (long i = 0; i < n; i++) {
			rd[i] = recs[i].target;
			if (recs[i].ttl != ttl)
				ttl = 0;
		}
		struct dnsfollow_rrset rr = {.name = name, .type = type,
					     .ttl = ttl, .count = (size_t)n,
					     .rdata = rd};
		rc = emit(ctx, &rr);
		free(rd);
	}
	ovh_recs_free(recs, (size_t)n);
	return rc;
}

int ovh_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	     size_t nkeys, dnsfollow_rrset_cb emit, void *ctx)
{
	struct ovh *o = self;
	/* Before anything else: what read() is about to see may be staged
	 * changes a failed refresh left unpublished. */
	int rc = ovh_unpublished_flush(o, zone);
	if (rc != 0)
		return rc;
	struct ovh_key *k = calloc(nkeys ? nkeys : 1, sizeof *k);
	if (!k)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nkeys && rc == 0; i++)
		rc = ovh_key_init(o, &k[i], zone, keys[i].name, keys[i].type);
	if (rc == 0)
		rc = ovh_zone_sync(o, zone, OVH_SYNC_TAKE);
	/* Nothing emitted when one RRset cannot be reported. */
	for (size_t i = 0; i < nkeys && rc == 0; i++)
		rc = ovh_rrset_check(o, zone, k[i].name, k[i].type);
	for (size_t i = 0; i < nkeys && rc == 0; i++)
		rc = ovh_emit_rrset(o, zone, k[i].name, k[i].type, emit, ctx);
	ovh_keys_free(k, nkeys);
	return rc;
}
