/*
 * What a zone held at a given SOA serial, so that a pass over an
 * unchanged zone costs one signed SOA query instead of two queries per
 * record. Every change to a zone's content raises its serial (RFC 1035
 * §3.3.13; RFC 2136 §3.7 for updates), so an equal serial from the same
 * server means equal content — except after a hand edit that forgot the
 * serial, which is why the zone is still read in full every
 * full_read_interval.
 *
 * The cache only ever holds what this instance itself read or wrote:
 *  - a full read by queries is kept when the serial is the same just
 *    before and just after it (nobody changed the zone meanwhile); one
 *    by transfer is one version of the zone, its SOA's serial;
 *  - after our own UPDATE messages the changes are applied to the cache,
 *    which then stands for the serial moved by exactly their number: the
 *    next pass's SOA query finds it so if nobody else slipped in; anything
 *    else drops it, and that pass reads in full.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

struct r2136_crr {
	char *name;
	uint16_t type;
	uint32_t ttl;
	size_t count; /* 0: known to be absent */
	char **rdata;
};

struct r2136_zcache {
	char *zone;
	int valid;
	uint32_t serial;
	const struct r2136_server *server;
	uint64_t full_at_ms; /* when its content was last read in full */
	struct r2136_crr *v;
	size_t n, cap;
};

static void crr_clear(struct r2136_crr *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->rdata[i]);
	free(c->rdata);
	c->rdata = NULL;
	c->count = 0;
}

static void zc_drop(struct r2136_zcache *z)
{
	for (size_t i = 0; i < z->n; i++) {
		crr_clear(&z->v[i]);
		free(z->v[i].name);
	}
	free(z->v);
	z->v = NULL;
	z->n = z->cap = 0;
	z->valid = 0;
}

void r2136_zcache_free(struct r2136 *p)
{
	for (size_t i = 0; i < p->nzc; i++) {
		zc_drop(&p->zc[i]);
		free(p->zc[i].zone);
	}
	free(p->zc);
	p->zc = NULL;
	p->nzc = 0;
}

static struct r2136_zcache *zc_find(struct r2136 *p, const char *zone, int add)
{
	for (size_t i = 0; i < p->nzc; i++)
		if (strcmp(p->zc[i].zone, zone) == 0)
			return &p->zc[i];
	if (!add)
		return NULL;
	struct r2136_zcache *v = realloc(p->zc, (p->nzc + 1) * sizeof *v);
	if (!v)
		return NULL;
	p->zc = v;
	memset(&v[p->nzc], 0, sizeof *v);
	if (!(v[p->nzc].zone = strdup(zone)))
		return NULL;
	return &v[p->nzc++];
}

static int crr_cmp(const void *a, const void *b)
{
	const struct r2136_crr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->type > y->type) - (x->type < y->type);
}

/* The entry for (name, type), or NULL. Entries are kept sorted (zc_sort)
 * so that a zone of thousands of records is not searched record by
 * record for each of them. */
static struct r2136_crr *crr_find(struct r2136_zcache *z, const char *name,
				  uint16_t type)
{
	const struct r2136_crr key = {.name = (char *)name, .type = type};
	return z->n ? bsearch(&key, z->v, z->n, sizeof *z->v, crr_cmp) : NULL;
}

/* A new entry, absent, at the end: zc_sort() before the next crr_find(). */
static struct r2136_crr *crr_append(struct r2136_zcache *z, const char *name,
				    uint16_t type)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 16;
		struct r2136_crr *v = realloc(z->v, cap * sizeof *v);
		if (!v)
			return NULL;
		z->v = v;
		z->cap = cap;
	}
	struct r2136_crr *c = &z->v[z->n];
	memset(c, 0, sizeof *c);
	c->type = type;
	if (!(c->name = strdup(name)))
		return NULL;
	z->n++;
	return c;
}

static void zc_sort(struct r2136_zcache *z)
{
	if (z->n)
		qsort(z->v, z->n, sizeof *z->v, crr_cmp);
}

static int crr_set(struct r2136_crr *c, const struct dnsfollow_rrset *rr)
{
	crr_clear(c);
	if (rr->count == 0)
		return 0;
	c->rdata = calloc(rr->count, sizeof *c->rdata);
	if (!c->rdata)
		return -ENOMEM;
	for (size_t i = 0; i < rr->count; i++)
		if (!(c->rdata[c->count++] = strdup(rr->rdata[i])))
			return -ENOMEM;
	c->ttl = rr->ttl;
	return 0;
}

/* What a change leaves in its entry: the data as the server keeps it
 * and a read reports it (canonical form, each datum once), not as it
 * was written, or the cache would disagree with the next full read. */
static int crr_take(struct r2136_crr *c, const struct dnsfollow_change *ch)
{
	const struct dnsfollow_rrset *rr = &ch->rrset;
	size_t n = ch->op == DNSFOLLOW_CHANGE_SET ? rr->count : 0;
	crr_clear(c);
	if (n && !(c->rdata = calloc(n, sizeof *c->rdata)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *t;
		int rc = r2136_rdata_canon(rr->type, rr->rdata[i], &t);
		if (rc)
			return rc;
		size_t k = 0;
		while (k < c->count && strcmp(c->rdata[k], t) != 0)
			k++;
		if (k < c->count)
			free(t); /* stored once, as servers do */
		else
			c->rdata[c->count++] = t;
	}
	c->ttl = rr->ttl;
	return 0;
}

/* ---- the zone's serial ---- */

int r2136_zone_serial(struct r2136 *p, const char *zone, uint32_t *serial,
		      const struct r2136_server **server)
{
	struct r2136_buf m = {0};
	r2136_put_header(&m, r2136_new_id(), 0, 1, 0, 0, 0);
	r2136_put_name(&m, zone);
	r2136_put_u16(&m, DNSFOLLOW_TYPE_SOA);
	r2136_put_u16(&m, R2136_CLASS_IN);
	if (m.err) {
		r2136_buf_free(&m);
		return p->host->error(p->host, m.err, "cannot build the SOA query "
				      "for %s", zone);
	}
	struct r2136_reply r;
	p->stats.queries++;
	int rc = r2136_send(p, &m, "SOA query", &r);
	r2136_buf_free(&m);
	if (rc)
		return rc;
	rc = r2136_judge(p, &r, "SOA query", zone, 0);
	const char *soa = NULL;
	for (size_t i = 0; rc == 0 && i < r.msg.nrr; i++)
		if (r.msg.rr[i].section == R2136_AN &&
		    r.msg.rr[i].type == DNSFOLLOW_TYPE_SOA && r.msg.rr[i].text &&
		    r2136_name_eq(r.msg.rr[i].name, zone))
			soa = r.msg.rr[i].text;
	char mname[R2136_NAME_MAX], rname[R2136_NAME_MAX];
	if (rc == 0 && (!(r.msg.flags & R2136_F_AA) || !soa ||
			sscanf(soa, "%1023s %1023s %" SCNu32, mname, rname, serial) != 3))
		rc = p->host->error(p->host, -ENOENT, "server %s gave no "
				    "authoritative SOA for %s: does it serve that "
				    "zone?", r.server ? r.server->text : "?", zone);
	*server = r.server;
	r2136_reply_free(&r);
	return rc;
}

/* ---- reading through the cache ---- */

/* Hand the cached RRsets of `keys` to the core, if the cache knows them
 * all; 1 when it did, 0 when the zone must be read. */
static int from_cache(struct r2136_zcache *z, const struct dnsfollow_rrkey *keys,
		      size_t n, dnsfollow_rrset_cb emit, void *ctx, int *rc)
{
	for (size_t i = 0; i < n; i++)
		if (!crr_find(z, keys[i].name, keys[i].type))
			return 0;
	*rc = 0;
	for (size_t i = 0; i < n && *rc == 0; i++) {
		const struct r2136_crr *c = crr_find(z, keys[i].name, keys[i].type);
		if (c->count == 0)
			continue;
		struct dnsfollow_rrset s = {.name = c->name, .type = c->type,
					    .ttl = c->ttl, .count = c->count,
					    .rdata = (const char *const *)c->rdata};
		*rc = emit(ctx, &s);
	}
	return 1;
}

/* Passes a full read on to the core and keeps a copy. */
struct tee {
	struct r2136_zcache *z;
	dnsfollow_rrset_cb emit;
	void *ctx;
	int nomem;
};

static int tee_emit(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct tee *t = ctx;
	struct r2136_crr *c = t->z ? crr_find(t->z, rr->name, rr->type) : NULL;
	if (c && crr_set(c, rr) != 0)
		t->nomem = 1;
	return t->emit(t->ctx, rr);
}

int r2136_read_cached(struct r2136 *p, const char *zone,
		      const struct dnsfollow_rrkey *keys, size_t nkeys,
		      dnsfollow_rrset_cb emit, void *ctx)
{
	if (!p->full_read_ms)
		return r2136_read_full(p, zone, keys, nkeys, emit, ctx);
	struct r2136_zcache *z = zc_find(p, zone, 1);
	if (!z)
		return p->host->error(p->host, -ENOMEM, "out of memory");
	struct r2136_rdinfo rd = {0};
	uint64_t now = p->host->now_ms();
	int rc;
	/* A zone not cached needs no serial first: a transfer carries its
	 * own, and a read by queries asks just before it (xfrread.c). */
	if (z->valid) {
		if ((rc = r2136_zone_serial(p, zone, &rd.s0, &rd.sv0)) != 0) {
			zc_drop(z);
			return rc;
		}
		rd.have_s0 = 1;
		if (rd.s0 == z->serial && rd.sv0 == z->server &&
		    now - z->full_at_ms < p->full_read_ms &&
		    from_cache(z, keys, nkeys, emit, ctx, &rc)) {
			p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: serial %"
				     PRIu32 " unchanged: %zu RRset(s) from the cache",
				     zone, rd.s0, nkeys);
			return rc;
		}
	}
	/* Read it all, copying what the core asked about. */
	zc_drop(z);
	/* The core asks for each (name, type) once, so no key is added twice. */
	for (size_t i = 0; i < nkeys; i++)
		if (!crr_append(z, keys[i].name, keys[i].type)) {
			zc_drop(z);
			return p->host->error(p->host, -ENOMEM, "out of memory");
		}
	zc_sort(z);
	struct tee t = {.z = z, .emit = emit, .ctx = ctx};
	rc = r2136_read_zone(p, zone, keys, nkeys, tee_emit, &t, &rd);
	if (rc == 0 && !t.nomem && rd.valid) {
		z->valid = 1;
		z->serial = rd.serial;
		z->server = rd.server;
		z->full_at_ms = now;
	} else {
		zc_drop(z);
	}
	return rc;
}

/* ---- after our own UPDATE ---- */

void r2136_zcache_updated(struct r2136 *p, const char *zone,
			  const struct dnsfollow_change *changes, size_t n,
			  size_t nmsg, int ok)
{
	struct r2136_zcache *z = p->full_read_ms ? zc_find(p, zone, 0) : NULL;
	if (!z || !z->valid)
		return;
	/* Our messages each raise the serial by one, so the cache now holds
	 * the zone at serial + nmsg. The next pass's SOA query checks that
	 * (r2136_read_cached): any other serial means someone else changed
	 * the zone too, before or after us (or a message changed nothing,
	 * or the server numbers serials its own way), and the zone is read
	 * in full. Checked then rather than now: one round trip per zone
	 * and pass less, and what slips in meanwhile is caught all the same. */
	if (!ok || p->update_server != z->server) {
		zc_drop(z);
		return;
	}
	/* Keys the cache knows are updated where they are; new ones are
	 * appended afterwards and sorted in once, since a search must not
	 * meet an unsorted tail. One change per (name, type) at most. */
	char *fresh = calloc(n ? n : 1, 1);
	int bad = !fresh;
	for (size_t i = 0; !bad && i < n; i++) {
		const struct dnsfollow_rrset *rr = &changes[i].rrset;
		struct r2136_crr *c = crr_find(z, rr->name, rr->type);
		fresh[i] = !c;
		bad = c && crr_take(c, &changes[i]);
	}
	for (size_t i = 0; !bad && i < n; i++) {
		struct r2136_crr *c = fresh[i] ? crr_append(z, changes[i].rrset.name,
							    changes[i].rrset.type) : NULL;
		bad = fresh[i] && (!c || crr_take(c, &changes[i]));
	}
	free(fresh);
	if (bad) {
		zc_drop(z);
		return;
	}
	zc_sort(z);
	z->serial += (uint32_t)nmsg;
}
