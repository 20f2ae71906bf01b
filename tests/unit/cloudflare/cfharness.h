/*
 * Shared by the cloudflare unit tests: the fake Cloudflare API
 * (tests/cloudflare/fake_cf.py, started on a fixed loopback port), its
 * control calls, an instance on it, and changesets. Functions are static
 * inline: each test program uses some of them.
 */
#ifndef CF_HARNESS_H
#define CF_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

#define TOKEN "fakeCloudflareToken000000000000000000001"
#define LIST "GET /zones/{zone}/dns_records"
#define BATCH "POST /zones/{zone}/dns_records/batch"
#define CREATE "POST /zones/{zone}/dns_records"

static char dir[128];
static int port;
static const struct dnsfollow_host *h;
static const struct dnsfollow_provider_ops *ops;

/* Starts the fake on PORT with zones a.test and b.test. */
static inline int cf_setup(int want_port)
{
	const char *top = getenv("TOP");
	if (top && chdir(top) != 0)
		return -1;
	snprintf(dir, sizeof dir, "/tmp/cf-unit-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "FAKE_WATCH_PID=%d sh tests/cloudflare/fakectl.sh start %s %d "
		 "--zones a.test,b.test >/dev/null", (int)getpid(), dir, want_port);
	port = system(cmd) == 0 ? want_port : -1;
	h = testhost_new("cf");
	ops = dnsfollow_plugin.ops;
	return port > 0 && h ? 0 : -1;
}

static inline int cf_teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "sh tests/cloudflare/fakectl.sh stop %s; rm -rf %s", dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", dir);
	testhost_free(h);
	return 0;
}

/* A call to the fake; `path` under the server root. Returns the parsed
 * answer (NULL for a null body). */
static inline json_t *raw_call(const char *method, const char *path, const char *body,
			       const char *auth, long want_status)
{
	char url[512], ca[200], hdr[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", auth ? auth : "");
	const char *hdrs[] = {hdr, "Content-Type: application/json", NULL};
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = method, .url = url, .headers = hdrs,
		.body = body, .body_len = body ? strlen(body) : 0, .ca_file = ca};
	struct dnsfollow_http_response resp = {0};
	assert_int_equal(h->http(h, &req, &resp), 0);
	if (resp.status != want_status)
		fail_msg("%s %s: HTTP %ld: %s", method, path, resp.status, resp.body);
	json_t *j = json_loads(resp.body, JSON_DECODE_ANY, NULL);
	h->http_free(h, &resp);
	return j;
}

static inline json_t *ctl(const char *method, const char *what, const char *body)
{
	char path[200];
	snprintf(path, sizeof path, "/_control/%s", what);
	return raw_call(method, path, body, NULL, 200);
}

static inline json_t *stats(void)
{
	return ctl("GET", "stats", NULL);
}

/* Calls of "METHOD /normalised/path" since the last reset. */
static inline long calls(const char *key)
{
	json_t *j = stats();
	long n = (long)json_integer_value(json_object_get(json_object_get(j, "calls"), key));
	json_decref(j);
	return n;
}

static inline long total(void)
{
	json_t *j = stats();
	long n = (long)json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	return n;
}

/* Counters zeroed, faults off, every zone emptied, then `config`. */
static inline void reset(const char *config)
{
	json_decref(ctl("POST", "reset", ""));
	json_decref(ctl("POST", "config",
			"{\"token\":\"" TOKEN "\",\"scope\":\"edit\",\"throttle\":0,"
			"\"fail_count\":0,\"page_cap\":0,\"batch_limit\":200,\"lose_batch\":0}"));
	for (int z = 0; z < 2; z++) {
		const char *zone = z ? "b.test" : "a.test";
		char q[64], path[200], id[64];
		snprintf(q, sizeof q, "zone?zone=%s", zone);
		json_t *recs = ctl("GET", q, NULL), *r;
		size_t i;
		json_array_foreach(recs, i, r) {
			snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "zone_id")));
			snprintf(path, sizeof path, "/client/v4/zones/%s/dns_records/%s", id,
				 json_string_value(json_object_get(r, "id")));
			json_decref(raw_call("DELETE", path, NULL, TOKEN, 200));
		}
		json_decref(recs);
	}
	json_decref(ctl("POST", "reset", ""));
	if (config)
		json_decref(ctl("POST", "config", config));
}

/* A record put in by hand (no checks). */
static inline void seed(const char *zone, const char *name, const char *type,
			const char *content)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "zone", zone, "name", name, "type", type,
			      "content", content, "ttl", 300);
	char *body = json_dumps(j, 0);
	json_decref(ctl("POST", "seed", body));
	free(body);
	json_decref(j);
}

/* The zone's records as "name TYPE content ttl proxied;" sorted. */
static inline const char *dump(const char *zone)
{
	static char out[16384];
	char q[64];
	snprintf(q, sizeof q, "zone?zone=%s", zone);
	json_t *recs = ctl("GET", q, NULL), *r;
	size_t i, o = 0;
	out[0] = '\0';
	json_array_foreach(recs, i, r)
		o += (size_t)snprintf(out + o, sizeof out - o, "%s %s %s %d%s;",
			json_string_value(json_object_get(r, "name")),
			json_string_value(json_object_get(r, "type")),
			json_string_value(json_object_get(r, "content")),
			(int)json_integer_value(json_object_get(r, "ttl")),
			json_is_true(json_object_get(r, "proxied")) ? " proxied" : "");
	json_decref(recs);
	return out;
}

static inline size_t count_records(const char *zone)
{
	char q[64];
	snprintf(q, sizeof q, "zone?zone=%s", zone);
	json_t *recs = ctl("GET", q, NULL);
	size_t n = json_array_size(recs);
	json_decref(recs);
	return n;
}

/* An instance on the fake; `extra` adds "key=value" items (NULL-ended). */
static inline void *make(const char *const *extra)
{
	char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/client/v4", port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *kvs[24] = {ep, ca, "rate_limit=0", "token=" TOKEN};
	size_t n = 4;
	int zones = 0;
	for (size_t i = 0; extra && extra[i] && n < 22; i++) {
		zones |= strncmp(extra[i], "zones=", 6) == 0;
		kvs[n++] = extra[i];
	}
	if (!zones)
		kvs[n++] = "zones=a.test, b.test";
	kvs[n] = NULL;
	struct dnsfollow_kv kv[24];
	long m = testhost_kv_typed(kv, 24, kvs, dnsfollow_plugin.config_keys);
	assert_true(m > 0);
	void *self = NULL;
	testhost_clear(h);
	if (dnsfollow_plugin.create(h, kv, (size_t)m, &self) != 0)
		fail_msg("create: %s", testhost_error(h));
	return self;
}

/* What emit() received, as "name TYPE ttl rdata|rdata;" in order. */
struct seen {
	char text[16384];
	int n;
};

static inline int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The data sorted: Cloudflare keeps no order within an RRset. */
static inline int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	const char *rd[64];
	assert_true(rr->count <= 64);
	memcpy(rd, rr->rdata, rr->count * sizeof *rd);
	qsort(rd, rr->count, sizeof *rd, by_text);
	s->n++;
	size_t o = strlen(s->text);
	o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s %s %u", rr->name,
			      h->type_name(rr->type), rr->ttl);
	for (size_t i = 0; i < rr->count && o < sizeof s->text; i++)
		o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s%s", i ? "|" : " ", rd[i]);
	if (o + 2 < sizeof s->text)
		strcat(s->text, ";");
	return 0;
}

/* A changeset as the core makes it: groups given (NULL: one each),
 * results preset, options from "key=value" (NULL: defaults). */
static inline int apply_full(void *self, const char *zone, const struct dnsfollow_change *c,
			     size_t n, const uint32_t *groups, int *res, const char *opt)
{
	static uint32_t g[256];
	static struct dnsfollow_kv okv[4];
	static struct dnsfollow_options o[256];
	const char *items[] = {opt, NULL};
	long m = testhost_kv_typed(okv, 4, opt ? items : items + 1, dnsfollow_plugin.record_keys);
	assert_true(n <= 256 && m >= 0);
	for (size_t i = 0; i < n; i++) {
		g[i] = groups ? groups[i] : (uint32_t)i;
		res[i] = DNSFOLLOW_RESULT_UNKNOWN;
		o[i] = (struct dnsfollow_options){okv, (size_t)m};
	}
	struct dnsfollow_changeset cs = {.struct_size = sizeof cs, .zone = zone, .changes = c,
					 .n = n, .results = res, .groups = g, .options = o};
	testhost_clear(h);
	return ops->apply(self, &cs);
}

static inline int apply(void *self, const char *zone, const struct dnsfollow_change *c, size_t n)
{
	static int res[256];
	return apply_full(self, zone, c, n, NULL, res, NULL);
}

#define SET(name, type, n, rd) {DNSFOLLOW_CHANGE_SET, {name, type, 300, n, rd}, NULL}
#define DEL(name, type) {DNSFOLLOW_CHANGE_DELETE, {name, type, 0, 0, NULL}, NULL}

static inline int read1(void *self, const char *zone, const char *name, uint16_t type,
			struct seen *s)
{
	struct dnsfollow_rrkey k[] = {{name, type}, {name, DNSFOLLOW_TYPE_CNAME}};
	memset(s, 0, sizeof *s);
	testhost_clear(h);
	return ops->read(self, zone, k, 2, collect, s);
}

#endif
