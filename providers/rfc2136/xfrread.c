/*
 * Full reads (a cold cache, --once, every full_read_interval, a zone
 * someone else changed): one zone transfer, or two signed queries per
 * record (read.c). `read = query` never transfers; `read = axfr` always
 * does (a refusal is an error); `read = auto`, the default, transfers
 * when that is cheaper and falls back to queries, per zone, when it
 * cannot:
 *
 *  - Cost. Per record, a transfer costs the client (and the server) a
 *    fraction of what a signed query costs (README "Reading" has the
 *    figures), so a transfer wins while the zone holds at most
 *    R2136_AUTO_RECORDS_PER_KEY records per RRset asked. A zone's size
 *    is unknown before its first transfer: that transfer is cut (the
 *    connection closed) as soon as it passes the bound, so a zone of
 *    100,000 records asked for 3 RRsets costs at most 25 records
 *    transferred, then 3 queries. The size seen is kept: the next full
 *    read asking as few goes to queries at once.
 *  - Refusal. A transfer that fails (REFUSED, NOTAUTH, BADKEY, a server
 *    without AXFR, TCP blocked, an answer we cannot use) while queries to
 *    the same servers then work is remembered: the zone is read by
 *    queries for the life of the instance, said once in the log (WARN)
 *    with the server's reason. When the queries fail too the fault is
 *    elsewhere (key, clock, server down): their error is returned and
 *    nothing is remembered.
 *
 * Either way only the RRsets asked are kept and emitted, once the
 * transfer is whole and every message of it TSIG-verified
 * (axfr_parse.c). A whole transfer also tells the zone cache the serial
 * its content belongs to (its SOA), so no SOA query frames it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc2136.h"

static struct r2136_zx *zx_find(struct r2136 *p, const char *zone)
{
	for (size_t i = 0; i < p->nzx; i++)
		if (strcmp(p->zx[i].zone, zone) == 0)
			return &p->zx[i];
	struct r2136_zx *v = realloc(p->zx, (p->nzx + 1) * sizeof *v);
	if (!v)
		return NULL;
	p->zx = v;
	memset(&v[p->nzx], 0, sizeof *v);
	if (!(v[p->nzx].zone = strdup(zone)))
		return NULL;
	return &v[p->nzx++];
}

void r2136_zx_free(struct r2136 *p)
{
	for (size_t i = 0; i < p->nzx; i++)
		free(p->zx[i].zone);
	free(p->zx);
	p->zx = NULL;
	p->nzx = 0;
}

/* ---- the sink: the records of the RRsets asked, and the serial ---- */

struct pick {
	const struct dnsfollow_rrkey **sorted; /* NULL: keep every record */
	size_t nkeys;
	struct r2136_rec *rec;
	size_t n, cap;
	size_t seen, limit; /* records of the zone so far; cut above limit */
	int have_serial;
	uint32_t serial;
};

static int key_cmp(const void *a, const void *b)
{
	const struct dnsfollow_rrkey *x = *(const struct dnsfollow_rrkey *const *)a;
	const struct dnsfollow_rrkey *y = *(const struct dnsfollow_rrkey *const *)b;
	int c = strcasecmp(x->name, y->name);
	return c ? c : (x->type > y->type) - (x->type < y->type);
}

static int asked(const struct pick *k, const char *name, uint16_t type)
{
	const struct dnsfollow_rrkey key = {.name = name, .type = type};
	const struct dnsfollow_rrkey *kp = &key;
	return !k->sorted ||
	       bsearch(&kp, k->sorted, k->nkeys, sizeof *k->sorted, key_cmp);
}

static void pick_clear(struct pick *k)
{
	r2136_recs_clear(k->rec, &k->n);
	k->seen = 0;
	k->have_serial = 0;
}

/* Before each server is asked: forget an earlier, failed attempt. */
static int pick_begin(void *ctx)
{
	pick_clear(ctx);
	return 0;
}

static int pick_rr(void *ctx, const struct r2136_rr *rr)
{
	struct pick *k = ctx;
	if (++k->seen > k->limit)
		return -EFBIG;
	if (!rr->text || rr->cls != R2136_CLASS_IN)
		return 0;
	/* The opening SOA comes first (axfr_parse.c checks it). */
	if (k->seen == 1 && rr->type == DNSFOLLOW_TYPE_SOA)
		k->have_serial = sscanf(rr->text, "%*s %*s %" SCNu32,
					&k->serial) == 1;
	if (!asked(k, rr->name, rr->type))
		return 0;
	return r2136_recs_add(&k->rec, &k->n, &k->cap, rr);
}

static int pick_init(struct pick *k, const struct dnsfollow_rrkey *keys,
		     size_t nkeys, size_t limit)
{
	memset(k, 0, sizeof *k);
	k->limit = limit;
	k->nkeys = nkeys;
	if (!keys || !nkeys)
		return 0; /* the unit tests' "the whole zone" */
	if (!(k->sorted = malloc(nkeys * sizeof *k->sorted)))
		return -ENOMEM;
	for (size_t i = 0; i < nkeys; i++)
		k->sorted[i] = &keys[i];
	qsort(k->sorted, nkeys, sizeof *k->sorted, key_cmp);
	return 0;
}

static void pick_free(struct pick *k)
{
	pick_clear(k);
	free(k->rec);
	free(k->sorted);
}

/* ---- the two ways ---- */

/* Queries; with `rd`, framed by the zone's serial before and after. */
static int by_queries(struct r2136 *p, const char *zone,
		      const struct dnsfollow_rrkey *keys, size_t nkeys,
		      dnsfollow_rrset_cb emit, void *ctx, struct r2136_rdinfo *rd)
{
	uint32_t s1;
	const struct r2136_server *sv1;
	int rc;
	if (rd && !rd->have_s0) {
		if ((rc = r2136_zone_serial(p, zone, &rd->s0, &rd->sv0)) != 0)
			return rc;
		rd->have_s0 = 1;
	}
	rc = r2136_read_queries(p, zone, keys, nkeys, emit, ctx);
	if (rc || !rd)
		return rc;
	if (r2136_zone_serial(p, zone, &s1, &sv1) == 0 && s1 == rd->s0 &&
	    sv1 == rd->sv0 && p->read_server == rd->sv0) {
		rd->valid = 1;
		rd->serial = s1;
		rd->server = sv1;
	}
	return 0;
}

/* A transfer failed (its text is set, its code in xrc): queries. A
 * refusal (REFUSED, NOTAUTH, BADKEY: permanent codes) is remembered if
 * the queries work; a timeout or a reset is tried again next time. */
static int fall_back(struct r2136 *p, struct r2136_zx *x, const char *zone,
		     const struct dnsfollow_rrkey *keys, size_t nkeys,
		     dnsfollow_rrset_cb emit, void *ctx, struct r2136_rdinfo *rd,
		     int xrc)
{
	const struct dnsfollow_host *h = p->host;
	char why[400] = "";
	if (DNSFOLLOW_HOST_HAS(h, error_text))
		h->error_text(h, why, sizeof why);
	int rc = by_queries(p, zone, keys, nkeys, emit, ctx, rd);
	if (rc) {
		h->log(h, DNSFOLLOW_LOG_DEBUG, "zone %s: the transfer failed (%s), "
		       "the queries too", zone, why);
		return rc;
	}
	if (dnsfollow_err_is_temporary(xrc)) {
		h->log(h, DNSFOLLOW_LOG_DEBUG, "zone %s: the transfer failed (%s); "
		       "read by queries this time", zone, why);
		return 0;
	}
	x->refused = 1;
	h->log(h, DNSFOLLOW_LOG_WARN, "zone %s: no zone transfer (%s); reading "
	       "it by queries from now on, one per RRset: allow the transfer "
	       "for faster full reads, or set read = query not to try (a "
	       "restart tries again)", zone, why);
	return 0;
}

int r2136_read_zone(struct r2136 *p, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    dnsfollow_rrset_cb emit, void *ctx, struct r2136_rdinfo *rd)
{
	int autom = p->read_mode == R2136_READ_AUTO;
	const size_t per = R2136_AUTO_RECORDS_PER_KEY;
	size_t limit = !autom ? SIZE_MAX : nkeys > SIZE_MAX / per - 1 ?
		       SIZE_MAX : nkeys * per + 1; /* + 1: the SOA */
	struct r2136_zx *x = p->read_mode == R2136_READ_QUERY ? NULL :
			     zx_find(p, zone);
	struct pick k;
	if (p->read_mode != R2136_READ_QUERY && !x)
		return p->host->error(p->host, -ENOMEM, "out of memory");
	if (!x || (autom && (!nkeys || x->refused || x->records > limit)))
		return by_queries(p, zone, keys, nkeys, emit, ctx, rd);
	if (pick_init(&k, keys, nkeys, limit))
		return p->host->error(p->host, -ENOMEM, "out of memory");
	const struct r2136_xfr_sink sink = {pick_begin, pick_rr, &k};
	int rc = r2136_axfr(p, zone, &sink);
	size_t seen = k.seen;
	int transferred = rc == 0;
	if (transferred) {
		x->records = seen;
		r2136_recs_sort(k.rec, k.n);
		rc = r2136_emit_sorted(k.rec, k.n, emit, ctx);
		if (rc == -ENOMEM)
			p->host->error(p->host, rc, "out of memory");
		if (rc == 0 && rd && k.have_serial)
			*rd = (struct r2136_rdinfo){.valid = 1, .serial = k.serial,
						    .server = p->read_server};
		p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: %zu RRset(s) "
			     "asked, %zu found among the %zu record(s) transferred",
			     zone, nkeys, k.n, seen);
	}
	pick_free(&k);
	/* Once the transfer is whole its records may have gone to `emit`:
	 * whatever happens then is the read's result, never a reason to ask
	 * again by queries. */
	if (transferred || !autom || rc == -ECANCELED || rc == -ENOMEM)
		return rc;
	if (rc == -EFBIG) {
		x->records = seen; /* at least */
		p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: more than %zu "
			     "records for %zu RRset(s) asked: transfer stopped, "
			     "queries instead", zone, limit - 1, nkeys);
		return by_queries(p, zone, keys, nkeys, emit, ctx, rd);
	}
	return fall_back(p, x, zone, keys, nkeys, emit, ctx, rd, rc);
}

int r2136_read_full(struct r2136 *p, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    dnsfollow_rrset_cb emit, void *ctx)
{
	return r2136_read_zone(p, zone, keys, nkeys, emit, ctx, NULL);
}
