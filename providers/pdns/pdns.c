/*
 * PowerDNS Authoritative provider: the HTTP API of pdns_server (4.x).
 *
 * read():  GET  {url}/api/v1/servers/{server_id}/zones/{zone}.  (the whole
 *          zone; the RRsets asked for are picked out of it)
 * markers(): the same GET; the TXT RRsets named _dnsfollow.* are reported.
 * apply(): one PATCH of the same URL with every change as an rrset of
 *          changetype REPLACE or DELETE. PowerDNS applies a PATCH in one
 *          database transaction, all or nothing, hence DNSFOLLOW_CAP_ATOMIC;
 *          a refused batch (422, e.g. a CNAME beside other data) is split
 *          by the core, so the other records of the zone still converge.
 *
 * Written against the public SDK only (<dnsfollow/plugin.h> and jansson):
 * HTTP, TXT quoting, type names, name normalisation and HTTP status to
 * error class all come from the host table.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, strndup under -std=c11 */
#endif
#include <dnsfollow/plugin.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Types whose data is one domain name: absolute (trailing dot) in PowerDNS. */
#define NAME_TYPE(t) ((t) == DNSFOLLOW_TYPE_CNAME || (t) == DNSFOLLOW_TYPE_NS)

/* What the core manages plus MX, SRV and CAA (presentation data passed
 * through as PowerDNS stores it: targets absolute, with the dot). */
static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA, DNSFOLLOW_TYPE_TXT,
	DNSFOLLOW_TYPE_CNAME, DNSFOLLOW_TYPE_NS, 15 /* MX */, 33 /* SRV */, 257 /* CAA */, 0};

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_SECRET_("api_key", DNSFOLLOW_KEY_REQUIRED, "API key (api-key in pdns.conf)"),
	{"url", DNSFOLLOW_T_STRING, 0, "webserver base URL", "http://127.0.0.1:8081", 0, 0, NULL},
	{"server_id", DNSFOLLOW_T_STRING, 0, "server id in API paths", "localhost", 0, 0, NULL},
	DNSFOLLOW_KEY_DURATION("timeout", "10s", 100, 600000, "time allowed for one API request"),
	DNSFOLLOW_KEY_PATH_("ca_file", 0, "extra trusted CA bundle (PEM) for https"),
	DNSFOLLOW_KEY_END,
};

/* Fixed buffers: one allocation, and destroy() is free(). */
struct pdns {
	const struct dnsfollow_host *h;
	long timeout_ms;
	char zones_url[1024]; /* ".../api/v1/servers/ID/zones/" */
	char auth[1024];      /* "X-API-Key: ..." */
	char ca_file[4096];   /* "" for none */
};

static int pdns_create(const struct dnsfollow_host *h,
		       const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	const char *url = dnsfollow_kv_get(cfg, n, "url"), *ca = dnsfollow_kv_get(cfg, n, "ca_file");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return h->error(h, -EINVAL, "url = %s: must start with http:// or https://", url);
	int ul = (int)strlen(url);
	while (ul > 0 && url[ul - 1] == '/')
		ul--; /* "http://host:8081/" works too */
	struct pdns *p = calloc(1, sizeof *p);
	char *sid = h->url_escape(dnsfollow_kv_get(cfg, n, "server_id"));
	if (!p || !sid) {
		free(p), free(sid);
		return h->error(h, -ENOMEM, "out of memory");
	}
	p->h = h;
	p->timeout_ms = (long)dnsfollow_kv_num(cfg, n, "timeout", 10000);
	size_t a = (size_t)snprintf(p->zones_url, sizeof p->zones_url, "%.*s/api/v1/servers/%s/zones/", ul, url, sid);
	size_t b = (size_t)snprintf(p->auth, sizeof p->auth, "X-API-Key: %s", dnsfollow_kv_get(cfg, n, "api_key"));
	size_t c = (size_t)snprintf(p->ca_file, sizeof p->ca_file, "%s", ca ? ca : "");
	free(sid);
	const char *bad = a >= sizeof p->zones_url ? "url is too long" : b >= sizeof p->auth ? "api_key is too long"
			  : c >= sizeof p->ca_file ? "ca_file is too long" : strpbrk(p->auth, "\r\n") ? "api_key holds a line break" : NULL;
	if (bad) { /* a line break would end the header early: refused, not cut */
		free(p);
		return h->error(h, -EINVAL, "%s", bad);
	}
	*self = p;
	return 0;
}

/* One request on ZONE's URL; 0 with `resp` filled for a 2xx answer, else
 * the error (text set, `resp` released). */
static int call(struct pdns *p, const char *method, const char *zone,
		const char *body, struct dnsfollow_http_response *resp)
{
	const struct dnsfollow_host *h = p->h;
	char url[2048], what[300], *ez = h->url_escape(zone);
	if (!ez)
		return h->error(h, -ENOMEM, "out of memory");
	snprintf(url, sizeof url, "%s%s.", p->zones_url, ez);
	snprintf(what, sizeof what, "%s zone %s", method, zone);
	free(ez);
	const char *hdrs[] = {p->auth, "Accept: application/json", "Content-Type: application/json", NULL};
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = method, .url = url, .headers = hdrs,
		.body = body, .body_len = body ? strlen(body) : 0, .timeout_ms = p->timeout_ms,
		.ca_file = p->ca_file[0] ? p->ca_file : NULL,
		.max_body = 64u << 20, /* the whole zone comes back */
	};
	int rc = h->http(h, &req, resp);
	if (rc == 0 && resp->status == 404)
		rc = h->error(h, -ENOENT, "%s: HTTP 404 from %s: zone not served by this PowerDNS (check zones and server_id)", what, url);
	else if (rc == 0 && (resp->status == 401 || resp->status == 403))
		rc = h->error(h, -EACCES, "%s: HTTP %ld: PowerDNS refused the API key (check api_key against api-key in pdns.conf)", what, resp->status);
	else if (rc == 0)
		rc = h->http_error(h, resp, what);
	if (rc)
		h->http_free(h, resp);
	return rc;
}

/* Which RRsets of the zone's answer to report: those asked for (read),
 * or every marker of `zone` (markers: `keys` NULL). */
struct pick {
	const char *zone;
	const struct dnsfollow_rrkey *keys;
	size_t n;
};

static int in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

static int picked(const struct pick *w, const char *name, uint16_t type)
{
	static const char prefix[] = "_dnsfollow.";
	if (!w->keys)
		return type == DNSFOLLOW_TYPE_TXT && strncmp(name, prefix, sizeof prefix - 1) == 0 &&
		       in_zone(name, w->zone);
	for (size_t i = 0; i < w->n; i++)
		if (w->keys[i].type == type && strcmp(w->keys[i].name, name) == 0)
			return 1;
	return 0;
}

/* Presentation data as the core wants it, malloc'd (NULL: malformed). */
static char *from_pdns(const struct dnsfollow_host *h, uint16_t type, const char *c)
{
	size_t len = strlen(c);
	return type == DNSFOLLOW_TYPE_TXT ? h->txt_decode(c)
	       : NAME_TYPE(type) && len > 1 && c[len - 1] == '.' ? strndup(c, len - 1) : strdup(c);
}

/* Report one RRset of the answer if it is picked: enabled records only. */
static int emit_rrset(struct pdns *p, json_t *rs, const struct pick *w,
		      dnsfollow_rrset_cb emit, void *ctx)
{
	const struct dnsfollow_host *h = p->h;
	char name[256];
	const char *raw = json_string_value(json_object_get(rs, "name"));
	const char *tname = json_string_value(json_object_get(rs, "type"));
	uint16_t type = tname ? h->type_code(tname) : 0;
	json_t *recs = json_object_get(rs, "records"), *r;
	/* What the core did not ask for (SOA, a wildcard, ...) is skipped. */
	if (!raw || !type || h->name_normalise(raw, name, sizeof name) != 0 || !picked(w, name, type))
		return 0;
	size_t n = 0, i;
	char **rd = calloc(json_array_size(recs) + 1, sizeof *rd);
	int rc = rd ? 0 : h->error(h, -ENOMEM, "out of memory");
	json_array_foreach(recs, i, r) {
		const char *c = json_string_value(json_object_get(r, "content"));
		if (rc || json_is_true(json_object_get(r, "disabled")))
			continue;
		if (!c || !(rd[n++] = from_pdns(h, type, c)))
			rc = h->error(h, -EPROTO, "GET: %s %s: unreadable content '%s'", name, tname, c ? c : "(none)");
	}
	struct dnsfollow_rrset out = {name, type, (uint32_t)json_integer_value(json_object_get(rs, "ttl")),
				      n, (const char *const *)rd};
	if (rc == 0 && n > 0)
		rc = emit(ctx, &out);
	for (i = 0; rd && i < n; i++)
		free(rd[i]);
	free(rd);
	return rc;
}

/* One GET of the whole zone; the picked RRsets are emitted. */
static int get_zone(struct pdns *p, const struct pick *w, dnsfollow_rrset_cb emit, void *ctx)
{
	struct dnsfollow_http_response resp = {0};
	int rc = call(p, "GET", w->zone, NULL, &resp);
	if (rc)
		return rc;
	json_t *doc = json_loads(resp.body, 0, NULL), *rs;
	json_t *rrsets = json_object_get(doc, "rrsets");
	size_t i;
	if (!json_is_array(rrsets))
		rc = p->h->error(p->h, -EPROTO, "GET zone %s: the answer has no rrsets list", w->zone);
	json_array_foreach(rrsets, i, rs)
		if (rc == 0)
			rc = emit_rrset(p, rs, w, emit, ctx);
	json_decref(doc);
	p->h->http_free(p->h, &resp);
	return rc;
}

static int pdns_read(void *self, const char *zone, const struct dnsfollow_rrkey *k,
		     size_t nk, dnsfollow_rrset_cb emit, void *ctx)
{
	struct pick w = {zone, k, nk};
	return get_zone(self, &w, emit, ctx);
}

/* The same one GET as read(): PowerDNS has no query by name prefix, and
 * a zone it serves is one document anyway. */
static int pdns_markers(void *self, const char *zone, dnsfollow_rrset_cb emit, void *ctx)
{
	struct pick w = {zone, NULL, 0};
	return get_zone(self, &w, emit, ctx);
}

/* Record content as PowerDNS wants it: TXT quoted, CNAME/NS absolute. */
static json_t *record(const struct dnsfollow_host *h, uint16_t type, const char *d)
{
	char buf[260], *txt = type == DNSFOLLOW_TYPE_TXT ? h->txt_encode(d) : NULL;
	size_t len = strlen(d);
	int dot = NAME_TYPE(type) && len < sizeof buf - 2 && (len == 0 || d[len - 1] != '.');
	snprintf(buf, sizeof buf, "%s.", dot ? d : "");
	json_t *r = type == DNSFOLLOW_TYPE_TXT && !txt ? NULL
		    : json_pack("{s:s,s:b}", "content", txt ? txt : dot ? buf : d, "disabled", 0);
	free(txt);
	return r;
}

static json_t *rrset_json(const struct dnsfollow_host *h, const struct dnsfollow_change *c)
{
	const struct dnsfollow_rrset *rr = &c->rrset;
	char name[260];
	json_t *recs = json_array();
	snprintf(name, sizeof name, "%s.", rr->name);
	for (size_t i = 0, j; recs && c->op == DNSFOLLOW_CHANGE_SET && i < rr->count; i++) {
		for (j = 0; j < i && strcmp(rr->rdata[j], rr->rdata[i]) != 0; j++)
			; /* an RRset is a set: PowerDNS refuses a datum given twice */
		if (j == i && json_array_append_new(recs, record(h, rr->type, rr->rdata[i])) != 0)
			json_decref(recs), recs = NULL;
	}
	return recs ? json_pack("{s:s,s:s,s:I,s:s,s:o}", "name", name, "type", h->type_name(rr->type),
				"ttl", (json_int_t)rr->ttl, "changetype",
				c->op == DNSFOLLOW_CHANGE_SET ? "REPLACE" : "DELETE", "records", recs) : NULL;
}

static int pdns_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct pdns *p = self;
	json_t *list = json_array(), *doc = json_pack("{s:o}", "rrsets", list);
	for (size_t i = 0; doc && i < cs->n; i++)
		if (json_array_append_new(list, rrset_json(p->h, &cs->changes[i])) != 0)
			json_decref(doc), doc = NULL;
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!body)
		return p->h->error(p->h, -ENOMEM, "out of memory (or record data too long)");
	struct dnsfollow_http_response resp = {0};
	int rc = call(p, "PATCH", cs->zone, body, &resp);
	free(body);
	for (size_t i = 0; rc == 0 && DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results) && i < cs->n; i++)
		cs->results[i] = 0;
	if (rc == 0)
		p->h->http_free(p->h, &resp);
	return rc;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops, .caps = DNSFOLLOW_CAP_ATOMIC, .types = types,
	.read = pdns_read, .apply = pdns_apply, .markers = pdns_markers,
};

DNSFOLLOW_PROVIDER("pdns", "1.0", keys, NULL, pdns_create, free, &ops);
