/*
 * OVH provider against the fake OVH API (tests/ovh/fake_ovh.py) through the
 * test host, without the daemon: signatures, staged vs published state,
 * one refresh per write pass, id caching, concurrency, faults, clock skew,
 * TLS trust. Needs python3 and openssl (both in tests/lib/deps.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

#define MARK "heritage=dnsfollow,owner=test"

static char dir[128], rogue_dir[128];
static int port, rogue_port;
static const struct dnsfollow_host *h;
static const struct dnsfollow_provider_ops *ops;

static int start_fake(char *d, const char *extra)
{
	char cmd[512], pf[160];
	snprintf(cmd, sizeof cmd,
		 "FAKE_WATCH_PID=%d sh tests/ovh/fakectl.sh start %s %s "
		 "--zones a.test,b.test >/dev/null", (int)getpid(), d, extra);
	if (system(cmd) != 0)
		return -1;
	snprintf(pf, sizeof pf, "%s/port", d);
	FILE *f = fopen(pf, "r");
	int p = 0;
	if (!f || fscanf(f, "%d", &p) != 1)
		p = -1;
	if (f)
		fclose(f);
	return p;
}

static void stop_fake(const char *d)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "sh tests/ovh/fakectl.sh stop %s; rm -rf %s", d, d);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", d);
}

static int group_setup(void **state)
{
	(void)state;
	const char *top = getenv("TOP");
	if (top && chdir(top) != 0)
		return -1;
	snprintf(dir, sizeof dir, "/tmp/ovh-fake-XXXXXX");
	snprintf(rogue_dir, sizeof rogue_dir, "/tmp/ovh-rogue-XXXXXX");
	if (!mkdtemp(dir) || !mkdtemp(rogue_dir))
		return -1;
	port = start_fake(dir, "");
	/* Copy the certificates so both servers share the CA. */
	char cmd[400];
	snprintf(cmd, sizeof cmd, "cp %s/*.pem %s/*.key %s/", dir, dir, rogue_dir);
	if (port <= 0 || system(cmd) != 0)
		return -1;
	rogue_port = start_fake(rogue_dir, "--rogue");
	h = testhost_new("ovh");
	ops = dnsfollow_plugin.ops;
	return rogue_port > 0 && h ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	stop_fake(dir);
	stop_fake(rogue_dir);
	testhost_free(h);
	return 0;
}

/* A control call to the fake server; returns the parsed answer. */
static json_t *ctl(const char *method, const char *what, const char *body)
{
	char url[256], ca[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/_control/%s", port, what);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = method, .url = url,
		.body = body, .body_len = body ? strlen(body) : 0, .ca_file = ca};
	struct dnsfollow_http_response resp = {0};
	assert_int_equal(h->http(h, &req, &resp), 0);
	assert_int_equal(resp.status, 200);
	json_t *j = json_loads(resp.body, JSON_DECODE_ANY, NULL);
	h->http_free(h, &resp);
	return j;
}

static long calls(const char *key)
{
	json_t *j = ctl("GET", "stats", NULL);
	long n = (long)json_integer_value(json_object_get(json_object_get(j, "calls"), key));
	json_decref(j);
	return n;
}

static long stat_of(const char *what, const char *sub)
{
	json_t *j = ctl("GET", "stats", NULL);
	json_t *v = json_object_get(j, what);
	if (sub)
		v = json_object_get(v, sub);
	long n = (long)json_integer_value(v);
	json_decref(j);
	return n;
}

static void reset(const char *config)
{
	json_decref(ctl("POST", "reset", ""));
	json_decref(ctl("POST", "config",
			"{\"latency_ms\":0,\"fail_every\":0,\"throttle_every\":0,"
			"\"skew\":0,\"retry_after\":1,\"retry_after_date\":0,"
			"\"fail_refresh\":0,\"fail_refresh_zone\":\"\","
			"\"fail_refresh_skip\":0,\"fail_writes\":0,\"lose_answers\":0,"
			"\"like_subdomain\":0,"
			"\"ignore_type\":0,\"echo_credentials\":0}"));
	if (config)
		json_decref(ctl("POST", "config", config));
}

/* Sorted targets of (sub, type) in a zone's published or staged state. */
static void zone_targets(const char *zone, const char *state_, const char *sub,
			 const char *type, char *out, size_t cap)
{
	char what[128];
	snprintf(what, sizeof what, "zone?zone=%s&state=%s", zone, state_);
	json_t *j = ctl("GET", what, NULL);
	size_t i;
	json_t *r;
	out[0] = '\0';
	json_array_foreach(j, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "subDomain")), sub) ||
		    strcmp(json_string_value(json_object_get(r, "fieldType")), type))
			continue;
		if (*out)
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, json_string_value(json_object_get(r, "target")),
			cap - strlen(out) - 1);
	}
	json_decref(j);
}

/* An instance on host `on`: the fake's endpoint and CA, no rate limit,
 * the fake account's credentials unless `creds` is 0, then `extra`
 * ("key=value", NULL-ended), which wins over all of those. */
static void *make_with(const struct dnsfollow_host *on, int creds,
		       const char *const *extra)
{
	static char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *base[] = {ep, ca, "rate_limit=0",
			      "application_key=fakeAppKey0000001",
			      "application_secret=fakeAppSecret00000000000000000001",
			      "consumer_key=fakeConsumerKey0000000000000001"};
	const char *kvs[24];
	size_t n = 0, nbase = creds ? 6 : 3;
	/* The extras first: the first value of a key wins. */
	for (size_t i = 0; extra && extra[i] && n < 16; i++)
		kvs[n++] = extra[i];
	for (size_t i = 0; i < nbase; i++)
		kvs[n++] = base[i];
	kvs[n] = NULL;
	struct dnsfollow_kv kv[24];
	long m = testhost_kv_typed(kv, 24, kvs, dnsfollow_plugin.config_keys);
	if (m < 0)
		fail_msg("the core would refuse this configuration");
	void *self = NULL;
	testhost_clear(h);
	int rc = dnsfollow_plugin.create(on, kv, (size_t)m, &self);
	if (rc != 0)
		fail_msg("create: %s", testhost_error(h));
	return self;
}

static void *make(const char *const *extra)
{
	return make_with(h, 1, extra);
}

static void *make_on(const struct dnsfollow_host *on, const char *const *extra)
{
	return make_with(on, 1, extra);
}

static void *make_bare(const char *const *extra)
{
	return make_with(h, 0, extra);
}

/* Results of the last apply() (ABI 2 changeset), one per change. */
static int last_res[64];

/* apply() as the core calls it: each change its own group, unless
 * `groups` says otherwise; results preset to UNKNOWN. */
static int apply_grouped(void *self, const char *zone,
			 const struct dnsfollow_change *c, size_t n,
			 const uint32_t *groups)
{
	uint32_t own[64];
	struct dnsfollow_options opt[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		own[i] = (uint32_t)i;
		opt[i] = (struct dnsfollow_options){NULL, 0};
		last_res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	}
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = zone, .changes = c, .n = n,
		.results = last_res, .groups = groups ? groups : own,
		.options = opt,
	};
	return ops->apply(self, &cs);
}

static int apply(void *self, const char *zone,
		 const struct dnsfollow_change *c, size_t n)
{
	return apply_grouped(self, zone, c, n, NULL);
}

/* read() result collected as "name TYPE ttl rdata,rdata;" lines. */
struct seen {
	char text[4096];
	int n;
};

static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	char line[1024];
	int o = snprintf(line, sizeof line, "%s %s %u", rr->name,
			 h->type_name(rr->type), rr->ttl);
	for (size_t i = 0; i < rr->count; i++)
		o += snprintf(line + o, sizeof line - (size_t)o, "%s%s",
			      i ? "," : " ", rr->rdata[i]);
	strncat(s->text, line, sizeof s->text - strlen(s->text) - 2);
	strcat(s->text, ";");
	s->n++;
	return 0;
}

static const struct dnsfollow_rrkey git_keys[] = {
	{"git.a.test", DNSFOLLOW_TYPE_A},
	{"_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT},
};

static int read_git(void *self, struct seen *s)
{
	memset(s, 0, sizeof *s);
	return ops->read(self, "a.test", git_keys, 2, collect, s);
}

#define REFRESH "POST /domain/zone/{zone}/refresh"

/* A restart forgets which zones owe a refresh, and OVH cannot tell staged
 * from published records: the first read of a zone in a process sends
 * one refresh (an earlier run may have left changes staged), then none
 * while nothing is owed, also from a new instance (a reload). A dry run
 * sends none. Runs first: b.test is met here for the first time. */
static void first_contact_refresh(void **state)
{
	(void)state;
	reset(NULL);
	struct dnsfollow_rrkey k = {"www.b.test", DNSFOLLOW_TYPE_A};
	struct seen s = {0};
	void *self = make(NULL);
	df_set_dry_run(1);
	assert_int_equal(ops->read(self, "b.test", &k, 1, collect, &s), 0);
	df_set_dry_run(0);
	assert_int_equal(calls(REFRESH), 0);

	testhost_clear(h);
	assert_int_equal(ops->read(self, "b.test", &k, 1, collect, &s), 0);
	assert_int_equal(calls(REFRESH), 1);
	assert_int_equal(stat_of("refresh", "b.test"), 1);
	if (!strstr(testhost_log(h), "3 zone b.test: first met since start"))
		fail_msg("log: %s", testhost_log(h));
	assert_int_equal(ops->read(self, "b.test", &k, 1, collect, &s), 0);
	assert_int_equal(calls(REFRESH), 1);
	dnsfollow_plugin.destroy(self);

	void *other = make(NULL);
	assert_int_equal(ops->read(other, "b.test", &k, 1, collect, &s), 0);
	assert_int_equal(calls(REFRESH), 1);
	dnsfollow_plugin.destroy(other);
}

static void sync_change_delete(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	struct seen s;
	assert_int_equal(read_git(self, &s), 0);
	assert_int_equal(s.n, 0);
	/* The zone read whole: its SOA serial and its id list. */
	assert_int_equal(calls("GET /domain/zone/{zone}/record"), 1);
	assert_int_equal(calls("GET /domain/zone/{zone}/soa"), 1);
	/* a.test is met for the first time: one refresh (see
	 * first_contact_refresh); the counts below are the apply's own. */
	assert_int_equal(calls(REFRESH), 1);
	reset(NULL);

	const char *a1[] = {"192.0.2.10"}, *mark[] = {MARK};
	struct dnsfollow_change ch[2] = {
		{DNSFOLLOW_CHANGE_SET, {"git.a.test", DNSFOLLOW_TYPE_A, 60, 1, a1}, NULL},
		{DNSFOLLOW_CHANGE_SET, {"_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, 60, 1, mark}, NULL},
	};
	assert_int_equal(apply(self, "a.test", ch, 2), 0);
	assert_int_equal(calls("POST /domain/zone/{zone}/record"), 2);
	/* The ownership marker (TXT) goes in before the record it owns, so
	 * a pass cut short never leaves an unowned-looking record. */
	json_t *st = ctl("GET", "stats", NULL);
	json_t *w = json_object_get(st, "writes");
	assert_int_equal(json_array_size(w), 2);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "POST a.test TXT");
	assert_string_equal(json_string_value(json_array_get(w, 1)), "POST a.test A");
	json_decref(st);
	assert_int_equal(stat_of("refresh", "a.test"), 1);
	char t[512];
	zone_targets("a.test", "published", "git", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.10");
	zone_targets("a.test", "published", "_dnsfollow.git", "TXT", t, sizeof t);
	assert_string_equal(t, "\"" MARK "\""); /* OVH quotes TXT */

	/* Read back: TXT unquoted. Our own refresh may also have published
	 * an edit staged by hand, so the zone's records are fetched again
	 * once (SOA, ids, 2 GETs); after that, contents come from the
	 * cache: the SOA and id list calls only. */
	reset(NULL);
	assert_int_equal(read_git(self, &s), 0);
	assert_string_equal(s.text, "git.a.test A 60 192.0.2.10;"
			    "_dnsfollow.git.a.test TXT 60 " MARK ";");
	assert_int_equal(stat_of("total", NULL), 4);
	reset(NULL);
	assert_int_equal(read_git(self, &s), 0);
	assert_string_equal(s.text, "git.a.test A 60 192.0.2.10;"
			    "_dnsfollow.git.a.test TXT 60 " MARK ";");
	assert_int_equal(stat_of("total", NULL), 2);

	/* A fresh instance (empty cache) fetches each record once. */
	void *other = make(NULL);
	reset(NULL);
	assert_int_equal(read_git(other, &s), 0);
	assert_int_equal(calls("GET /domain/zone/{zone}/record/{id}"), 2);
	dnsfollow_plugin.destroy(other);

	/* Placement change: two addresses instead of one. The existing
	 * record is rewritten in place, one is created, one refresh. */
	const char *a2[] = {"192.0.2.21", "192.0.2.20"};
	const char *old1[] = {"192.0.2.10"};
	struct dnsfollow_rrset old = {"git.a.test", DNSFOLLOW_TYPE_A, 60, 1, old1};
	struct dnsfollow_change c2 = {DNSFOLLOW_CHANGE_SET,
				      {"git.a.test", DNSFOLLOW_TYPE_A, 300, 2, a2}, &old};
	reset(NULL);
	assert_int_equal(apply(self, "a.test", &c2, 1), 0);
	assert_int_equal(calls("PUT /domain/zone/{zone}/record/{id}"), 1);
	assert_int_equal(calls("POST /domain/zone/{zone}/record"), 1);
	assert_int_equal(stat_of("refresh", "a.test"), 1);
	zone_targets("a.test", "published", "git", "A", t, sizeof t);
	assert_true(strcmp(t, "192.0.2.21 192.0.2.20") == 0 ||
		    strcmp(t, "192.0.2.20 192.0.2.21") == 0);
	assert_int_equal(read_git(self, &s), 0);
	assert_non_null(strstr(s.text, "git.a.test A 300 "));

	/* Delete the RRset and its marker: records first, marker last. */
	struct dnsfollow_change c3 = {DNSFOLLOW_CHANGE_DELETE,
				      {"git.a.test", DNSFOLLOW_TYPE_A, 0, 0, NULL}, NULL};
	struct dnsfollow_change c4[2] = {
		{DNSFOLLOW_CHANGE_DELETE,
		 {"_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, 0, 0, NULL}, NULL},
		c3};
	reset(NULL);
	assert_int_equal(apply(self, "a.test", c4, 2), 0);
	assert_int_equal(calls("DELETE /domain/zone/{zone}/record/{id}"), 3);
	st = ctl("GET", "stats", NULL);
	w = json_object_get(st, "writes");
	assert_int_equal(json_array_size(w), 3);
	assert_string_equal(json_string_value(json_array_get(w, 2)), "DELETE a.test TXT");
	json_decref(st);
	assert_int_equal(stat_of("refresh", "a.test"), 1);
	zone_targets("a.test", "published", "git", "A", t, sizeof t);
	assert_string_equal(t, "");
	/* Deleting what is absent writes nothing and does not refresh. */
	reset(NULL);
	assert_int_equal(apply(self, "a.test", &c3, 1), 0);
	assert_int_equal(stat_of("refresh", "a.test"), 0);
	dnsfollow_plugin.destroy(self);
}

static void foreign_and_apex(void **state)
{
	(void)state;
	reset(NULL);
	json_decref(ctl("POST", "seed", "{\"zone\":\"b.test\",\"subDomain\":\"www\","
			"\"fieldType\":\"A\",\"target\":\"198.51.100.7\",\"ttl\":3600}"));
	void *self = make(NULL);
	const char *a[] = {"2001:db8::10"};
	struct dnsfollow_change ch = {DNSFOLLOW_CHANGE_SET,
				      {"b.test", DNSFOLLOW_TYPE_AAAA, 60, 1, a}, NULL};
	assert_int_equal(apply(self, "b.test", &ch, 1), 0);
	char t[256];
	zone_targets("b.test", "published", "", "AAAA", t, sizeof t);
	assert_string_equal(t, "2001:db8::10");
	zone_targets("b.test", "published", "www", "A", t, sizeof t);
	assert_string_equal(t, "198.51.100.7");
	struct dnsfollow_rrkey k = {"B.test", DNSFOLLOW_TYPE_AAAA};
	struct seen s = {0};
	assert_int_equal(ops->read(self, "b.test", &k, 1, collect, &s), 0);
	assert_string_equal(s.text, "b.test AAAA 60 2001:db8::10;");
	/* Names outside the zone and unsupported types are refused. */
	struct dnsfollow_rrkey bad = {"git.example.org", DNSFOLLOW_TYPE_A};
	assert_int_equal(ops->read(self, "b.test", &bad, 1, collect, &s), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "not inside zone b.test"));
	struct dnsfollow_rrkey ns = {"x.b.test", DNSFOLLOW_TYPE_NS};
	assert_int_equal(ops->read(self, "b.test", &ns, 1, collect, &s), -EINVAL);
	/* A CNAME is read (the core checks that none sits where it writes
	 * an address): OVH's absolute target comes back without its dot. */
	json_decref(ctl("POST", "seed", "{\"zone\":\"b.test\",\"subDomain\":"
			"\"x\",\"fieldType\":\"CNAME\",\"target\":"
			"\"Git.Example.ORG.\",\"ttl\":300}"));
	struct dnsfollow_rrkey cname = {"x.b.test", DNSFOLLOW_TYPE_CNAME};
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(self, "b.test", &cname, 1, collect, &s), 0);
	assert_string_equal(s.text, "x.b.test CNAME 300 git.example.org;");
	/* Deleting it (adopt = yes) removes the record. */
	struct dnsfollow_change del = {DNSFOLLOW_CHANGE_DELETE,
				       {"x.b.test", DNSFOLLOW_TYPE_CNAME, 0, 0, NULL},
				       NULL};
	assert_int_equal(apply(self, "b.test", &del, 1), 0);
	zone_targets("b.test", "published", "x", "CNAME", t, sizeof t);
	assert_string_equal(t, "");

	/* TXT with quotes and backslashes: OVH stores it quoted and escaped,
	 * read() gives back the text itself. */
	const char *txt[] = {"say \"hi\" \\ ok"};
	struct dnsfollow_change tc = {DNSFOLLOW_CHANGE_SET,
				      {"t.b.test", DNSFOLLOW_TYPE_TXT, 60, 1, txt}, NULL};
	assert_int_equal(apply(self, "b.test", &tc, 1), 0);
	zone_targets("b.test", "published", "t", "TXT", t, sizeof t);
	assert_string_equal(t, "\"say \\\"hi\\\" \\\\ ok\"");
	void *fresh = make(NULL); /* no cache: parse what OVH returns */
	struct dnsfollow_rrkey tk = {"t.b.test", DNSFOLLOW_TYPE_TXT};
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(fresh, "b.test", &tk, 1, collect, &s), 0);
	assert_string_equal(s.text, "t.b.test TXT 60 say \"hi\" \\ ok;");
	dnsfollow_plugin.destroy(fresh);
	/* Bad values are refused before any call. */
	const char *bad8[] = {"\xff\xfe"}, *bad4[] = {"192.0.2.256"};
	struct dnsfollow_change bc = {DNSFOLLOW_CHANGE_SET,
				      {"u.b.test", DNSFOLLOW_TYPE_TXT, 60, 1, bad8}, NULL};
	reset(NULL);
	assert_int_equal(apply(self, "b.test", &bc, 1), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "not UTF-8"));
	bc.rrset.type = DNSFOLLOW_TYPE_A;
	bc.rrset.rdata = bad4;
	assert_int_equal(apply(self, "b.test", &bc, 1), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "bad value \"192.0.2.256\""));
	assert_int_equal(stat_of("total", NULL), 0);
	dnsfollow_plugin.destroy(self);
}

/* n SET changes of names c0..c{n-1}.a.test to `addr`. */
static void many(struct dnsfollow_change *ch, char names[][32], size_t n,
		 const char *const *addr)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], 32, "c%zu.a.test", i);
		ch[i] = (struct dnsfollow_change){
			DNSFOLLOW_CHANGE_SET,
			{names[i], DNSFOLLOW_TYPE_A, 60, 1, addr}, NULL};
	}
}

static void concurrency(void **state)
{
	(void)state;
	struct dnsfollow_change ch[12];
	char names[12][32];
	const char *addr[] = {"192.0.2.1"};
	many(ch, names, 12, addr);
	reset("{\"latency_ms\":40}");
	const char *four[] = {"max_inflight=4", NULL};
	void *self = make(four);
	uint64_t t0 = h->now_ms();
	assert_int_equal(apply(self, "a.test", ch, 12), 0);
	uint64_t fast = h->now_ms() - t0;
	long peak = stat_of("max_inflight", NULL);
	assert_true(peak >= 2 && peak <= 4); /* calls really overlap */
	/* 13 calls over kept-alive connections: at most one per thread,
	 * so connections are reused. */
	long conns = stat_of("connections", NULL);
	assert_true(conns >= 1 && conns <= 4);
	assert_true(stat_of("total", NULL) > conns);
	assert_int_equal(stat_of("refresh", "a.test"), 1);
	dnsfollow_plugin.destroy(self);

	/* The same with one at a time: slower, never two in flight. */
	const char *addr2[] = {"192.0.2.2"};
	many(ch, names, 12, addr2);
	reset("{\"latency_ms\":40}");
	const char *one[] = {"max_inflight=1", NULL};
	self = make(one);
	t0 = h->now_ms();
	assert_int_equal(apply(self, "a.test", ch, 12), 0);
	uint64_t slow = h->now_ms() - t0;
	assert_int_equal(stat_of("max_inflight", NULL), 1);
	assert_true(slow > fast);
	/* valgrind runs one thread at a time: only the order holds there. */
	const char *pre = getenv("LD_PRELOAD");
	if (!pre || !strstr(pre, "vgpreload"))
		assert_true(slow > 2 * fast);
	dnsfollow_plugin.destroy(self);
}

static void rate_limit(void **state)
{
	(void)state;
	reset(NULL);
	const char *limited[] = {"rate_limit=10", "burst=1", "max_inflight=4", NULL};
	void *self = make(limited);
	struct dnsfollow_rrkey k[8];
	char names[8][32];
	for (int i = 0; i < 8; i++) {
		snprintf(names[i], 32, "r%d.a.test", i);
		k[i] = (struct dnsfollow_rrkey){names[i], DNSFOLLOW_TYPE_A};
	}
	struct seen s = {0};
	uint64_t t0 = h->now_ms();
	assert_int_equal(ops->read(self, "a.test", k, 8, collect, &s), 0);
	uint64_t ms = h->now_ms() - t0;
	/* 1 time call + the SOA and id list of a.test + one GET per
	 * record there (earlier tests left more than 6) at 10/s with a
	 * burst of 1: >= 800 ms. */
	assert_true(ms >= 750);
	assert_true(ms < 5000);
	dnsfollow_plugin.destroy(self);
}

static void faults_and_throttling(void **state)
{
	(void)state;
	/* One call at a time: a call's retry then never meets the next
	 * injected failure (the zone is read whole: many calls at once). */
	const char *one[] = {"max_inflight=1", NULL};
	void *self = make(one);
	struct seen s;
	/* Every 2nd call fails with a 500: reads retry and succeed. */
	reset("{\"fail_every\":2}");
	assert_int_equal(read_git(self, &s), 0);
	assert_true(stat_of("errors", "500") >= 1);
	/* A 429 with Retry-After: 1 is waited out. */
	reset("{\"throttle_every\":2,\"retry_after\":1}");
	uint64_t t0 = h->now_ms();
	assert_int_equal(read_git(self, &s), 0);
	assert_true(h->now_ms() - t0 >= 900);
	assert_true(stat_of("errors", "429") >= 1);
	/* A Retry-After too long to wait inline goes to the core. */
	reset("{\"throttle_every\":1,\"retry_after\":30}");
	testhost_clear(h);
	int rc = read_git(self, &s);
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(testhost_retry_after(h), 30000);
	assert_non_null(strstr(testhost_error(h), "HTTP 429"));
	/* The same as an HTTP date. */
	reset("{\"throttle_every\":1,\"retry_after\":30,\"retry_after_date\":1}");
	testhost_clear(h);
	assert_int_equal(read_git(self, &s), -EAGAIN);
	unsigned ra = testhost_retry_after(h);
	if (ra < 28000 || ra > 30000)
		fail_msg("retry after %u ms", ra);
	/* Every call failing: a temporary error, with the OVH text. */
	reset("{\"fail_every\":1}");
	rc = read_git(self, &s);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "HTTP 500"));
	reset(NULL);
	dnsfollow_plugin.destroy(self);
}

static void clock_skew(void **state)
{
	(void)state;
	/* The server is an hour ahead: the delta from /auth/time fixes it. */
	reset("{\"skew\":3600}");
	void *self = make(NULL);
	struct seen s;
	assert_int_equal(read_git(self, &s), 0);
	assert_int_equal(calls("GET /auth/time"), 1);
	/* The server clock jumps: "out of time", resync once, succeed. */
	reset("{\"skew\":-7200}");
	assert_int_equal(read_git(self, &s), 0);
	assert_int_equal(calls("GET /auth/time"), 1); /* one refetch for all */
	assert_true(stat_of("errors", "400") >= 1);
	reset(NULL);
	dnsfollow_plugin.destroy(self);
}

static void permanent_errors(void **state)
{
	(void)state;
	reset(NULL);
	const char *wrong[] = {"application_secret=notTheRightSecret", NULL};
	void *self = make(wrong);
	struct seen s;
	int rc = read_git(self, &s);
	assert_int_equal(rc, -EACCES);
	assert_false(dnsfollow_err_is_temporary(rc));
	const char *e = testhost_error(h);
	assert_non_null(strstr(e, "INVALID_SIGNATURE"));
	assert_non_null(strstr(e, "query id FAKE"));
	assert_null(strstr(e, "notTheRightSecret"));
	assert_null(strstr(testhost_log(h), "notTheRightSecret"));
	/* Permanent: no retries of a refused call (time + 2 lists). */
	if (stat_of("total", NULL) > 3)
		fail_msg("%ld calls", stat_of("total", NULL));
	dnsfollow_plugin.destroy(self);

	const char *badck[] = {"consumer_key=unknownConsumer", NULL};
	self = make(badck);
	assert_int_equal(read_git(self, &s), -EACCES);
	assert_non_null(strstr(testhost_error(h), "INVALID_CREDENTIAL"));
	dnsfollow_plugin.destroy(self);

	self = make(NULL);
	struct dnsfollow_rrkey k = {"x.c.test", DNSFOLLOW_TYPE_A};
	assert_int_equal(ops->read(self, "c.test", &k, 1, collect, &s), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "zone c.test is not served"));
	dnsfollow_plugin.destroy(self);
}

/* The i-th API call the fake saw since the last reset, or "". */
static void call_at(size_t i, char *out, size_t cap)
{
	json_t *j = ctl("GET", "stats", NULL);
	const char *v = json_string_value(json_array_get(json_object_get(j, "order"), i));
	snprintf(out, cap, "%s", v ? v : "");
	json_decref(j);
}

static struct dnsfollow_change set_a(const char *name, const char *const *addr,
				     const struct dnsfollow_rrset *old)
{
	return (struct dnsfollow_change){
		DNSFOLLOW_CHANGE_SET, {name, DNSFOLLOW_TYPE_A, 60, 1, addr}, old};
}

/* A refresh that fails leaves writes staged, which read() cannot tell from
 * published ones: the zone owes a refresh, sent first thing in its next
 * read() or apply(), until one succeeds. Otherwise exactly one refresh per
 * zone per pass that wrote, none in passes that did not. */
static void failed_refresh_is_owed(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	struct dnsfollow_rrkey k = {"rf.a.test", DNSFOLLOW_TYPE_A};
	struct seen s = {0};
	char t[256], first[128];
	/* Nothing owed (a.test was met already in this process): reads send
	 * none. */
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
	assert_int_equal(calls(REFRESH), 0);

	/* Every attempt at the refresh fails: the write stays staged. */
	const char *v1[] = {"192.0.2.61"};
	struct dnsfollow_change c1 = set_a("rf.a.test", v1, NULL);
	reset("{\"fail_refresh\":3}");
	int rc = apply(self, "a.test", &c1, 1);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "refresh: HTTP 500"));
	assert_int_equal(stat_of("refresh_failed", "a.test"), 3);
	zone_targets("a.test", "staged", "rf", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.61");
	zone_targets("a.test", "published", "rf", "A", t, sizeof t);
	assert_string_equal(t, "");

	/* The next pass's read sends the refresh owed before anything else,
	 * then reads (and finds the staged record, so no apply follows). */
	reset(NULL);
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
	assert_string_equal(s.text, "rf.a.test A 60 192.0.2.61;");
	call_at(0, first, sizeof first);
	assert_string_equal(first, REFRESH);
	assert_int_equal(calls(REFRESH), 1);
	zone_targets("a.test", "published", "rf", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.61");

	/* Paid: the next read sends none, a pass that writes exactly one. */
	reset(NULL);
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
	assert_int_equal(calls(REFRESH), 0);
	const char *v2[] = {"192.0.2.62"};
	struct dnsfollow_rrset old1 = {"rf.a.test", DNSFOLLOW_TYPE_A, 60, 1, v1};
	struct dnsfollow_change c2 = set_a("rf.a.test", v2, &old1);
	assert_int_equal(apply(self, "a.test", &c2, 1), 0);
	assert_int_equal(calls(REFRESH), 1);
	assert_int_equal(stat_of("refresh", "b.test"), 0);
	dnsfollow_plugin.destroy(self);
}

/* apply() pays a refresh owed before its own writes; a read() whose owed
 * refresh fails again returns that temporary error and reads nothing. */
static void owed_refresh_in_apply(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	struct dnsfollow_rrkey k = {"ra.a.test", DNSFOLLOW_TYPE_A};
	struct seen s = {0};
	char t[256], first[128];
	const char *v2[] = {"192.0.2.62"};
	struct dnsfollow_change c2 = set_a("ra.a.test", v2, NULL);
	assert_int_equal(apply(self, "a.test", &c2, 1), 0);

	/* Owed; the next apply() pays it first, then sends its own
	 * refresh after its writes. */
	const char *v3[] = {"192.0.2.63"};
	struct dnsfollow_rrset old2 = {"ra.a.test", DNSFOLLOW_TYPE_A, 60, 1, v2};
	struct dnsfollow_change c3 = set_a("ra.a.test", v3, &old2);
	reset("{\"fail_refresh\":3}");
	assert_true(dnsfollow_err_is_temporary(apply(self, "a.test", &c3, 1)));
	reset(NULL);
	const char *w1[] = {"192.0.2.64"};
	struct dnsfollow_change c4 = set_a("rf2.a.test", w1, NULL);
	assert_int_equal(apply(self, "a.test", &c4, 1), 0);
	call_at(0, first, sizeof first);
	assert_string_equal(first, REFRESH);
	assert_int_equal(calls(REFRESH), 2);
	zone_targets("a.test", "published", "ra", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.63");

	/* Still failing: read() returns the refresh's temporary error and
	 * reads nothing; it is sent again next time. */
	const char *v5[] = {"192.0.2.65"};
	struct dnsfollow_rrset old3 = {"ra.a.test", DNSFOLLOW_TYPE_A, 60, 1, v3};
	struct dnsfollow_change c5 = set_a("ra.a.test", v5, &old3);
	reset("{\"fail_refresh\":6}");
	assert_true(dnsfollow_err_is_temporary(apply(self, "a.test", &c5, 1)));
	int rc = ops->read(self, "a.test", &k, 1, collect, &s);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "not published yet"));
	assert_int_equal(calls("GET /domain/zone/{zone}/record"), 0);
	reset(NULL);
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
	assert_string_equal(s.text, "ra.a.test A 60 192.0.2.65;");
	zone_targets("a.test", "published", "ra", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.65");
	dnsfollow_plugin.destroy(self);
}

/* A POST answered with a 500 may have been carried out or not; sending it
 * again blindly could make a duplicate. The plugin lists the name again:
 * refused before anything was done, it is sent once more; carried out
 * (the answer was lost), the new record is taken as its answer. Either
 * way one record, published by the pass's single refresh. */
static void uncertain_write(void **state)
{
	(void)state;
	static const char *const faults[] = {"{\"fail_writes\":1}",
					     "{\"lose_answers\":1}"};
	for (int f = 0; f < 2; f++) {
		reset(NULL);
		void *self = make(NULL);
		const char *name = f ? "u2.a.test" : "u1.a.test";
		struct dnsfollow_rrkey k = {name, DNSFOLLOW_TYPE_A};
		struct seen s = {0};
		assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
		const char *a[] = {"192.0.2.66"};
		struct dnsfollow_change c = set_a(name, a, NULL);
		reset(faults[f]);
		assert_int_equal(apply(self, "a.test", &c, 1), 0);
		/* refused: POST, list, POST; lost: POST, list, GET record */
		assert_int_equal(calls("POST /domain/zone/{zone}/record"), f ? 1 : 2);
		assert_int_equal(calls(REFRESH), 1);
		char t[128];
		zone_targets("a.test", "published", f ? "u2" : "u1", "A", t, sizeof t);
		assert_string_equal(t, "192.0.2.66"); /* one record, published */
		reset(NULL);
		memset(&s, 0, sizeof s);
		assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.text, f ? "u2.a.test A 60 192.0.2.66;"
					      : "u1.a.test A 60 192.0.2.66;");
		/* In sync: nothing to write, no refresh owed. */
		assert_int_equal(calls(REFRESH), 0);
		dnsfollow_plugin.destroy(self);
	}
}

/* Records whose names look alike (OVH's subDomain filter is a LIKE
 * pattern where '_' is any character, case ignored) and records of other
 * types at a managed name: the zone is read whole, each record filed
 * under its own name and type, so read() reports exactly the RRsets
 * asked for; none is fetched again on the next pass (the MX neither:
 * OVH never changes a record's type, and we do not manage MX). */
static void lookalikes_skipped(void **state)
{
	(void)state;
	reset("{\"like_subdomain\":1,\"ignore_type\":1}");
	static const char *const seeds[] = {
		"{\"zone\":\"a.test\",\"subDomain\":\"LA\",\"fieldType\":\"A\","
		"\"target\":\"192.0.2.70\",\"ttl\":60}",
		"{\"zone\":\"a.test\",\"subDomain\":\"_dnsfollow.la\",\"fieldType\":"
		"\"TXT\",\"target\":\"\\\"" MARK "\\\"\",\"ttl\":60}",
		"{\"zone\":\"a.test\",\"subDomain\":\"xdnsfollow.la\",\"fieldType\":"
		"\"TXT\",\"target\":\"\\\"someone else\\\"\",\"ttl\":60}",
		"{\"zone\":\"a.test\",\"subDomain\":\"_dnsfollow.la\",\"fieldType\":"
		"\"A\",\"target\":\"192.0.2.99\",\"ttl\":60}",
		"{\"zone\":\"a.test\",\"subDomain\":\"_dnsfollow.la\",\"fieldType\":"
		"\"MX\",\"target\":\"10 mx.a.test.\",\"ttl\":60}",
	};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
		json_decref(ctl("POST", "seed", seeds[i]));
	void *self = make(NULL);
	const struct dnsfollow_rrkey k[] = {
		{"la.a.test", DNSFOLLOW_TYPE_A},
		{"_dnsfollow.la.a.test", DNSFOLLOW_TYPE_TXT},
	};
	struct seen s = {0};
	testhost_clear(h);
	assert_int_equal(ops->read(self, "a.test", k, 2, collect, &s), 0);
	assert_string_equal(s.text, "la.a.test A 60 192.0.2.70;"
			    "_dnsfollow.la.a.test TXT 60 " MARK ";");
	reset("{\"like_subdomain\":1,\"ignore_type\":1}");
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(self, "a.test", k, 2, collect, &s), 0);
	assert_int_equal(calls("GET /domain/zone/{zone}/record/{id}"), 0);
	assert_string_equal(s.text, "la.a.test A 60 192.0.2.70;"
			    "_dnsfollow.la.a.test TXT 60 " MARK ";");
	reset(NULL);
	dnsfollow_plugin.destroy(self);
}

/* A host table that counts host->error() calls and forwards everything
 * to the test host (whose functions need their own table pointer). */
static _Atomic int nerrors;
static struct dnsfollow_host counting;

static void c_log(const struct dnsfollow_host *x, int level, const char *fmt, ...)
{
	(void)x;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	h->log(h, level, "%s", line);
}

static int c_error(const struct dnsfollow_host *x, int rc, const char *fmt, ...)
{
	(void)x;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	nerrors++;
	return h->error(h, rc, "%s", text);
}

static void c_retry_after(const struct dnsfollow_host *x, unsigned ms)
{
	(void)x;
	h->retry_after(h, ms);
}

static int c_http(const struct dnsfollow_host *x,
		  const struct dnsfollow_http_request *req,
		  struct dnsfollow_http_response *resp)
{
	(void)x;
	return h->http(h, req, resp);
}

static void c_http_free(const struct dnsfollow_host *x,
			struct dnsfollow_http_response *resp)
{
	(void)x;
	h->http_free(h, resp);
}

static const struct dnsfollow_host *counting_host(void)
{
	counting = *h;
	counting.log = c_log;
	counting.error = c_error;
	counting.retry_after = c_retry_after;
	counting.http = c_http;
	counting.http_free = c_http_free;
	nerrors = 0;
	return &counting;
}

/* apply() reports its failure once: the first cause, not overwritten by
 * a later report of the same or of the refresh. */
static void errors_reported_once(void **state)
{
	(void)state;
	reset(NULL);
	const char *wrong[] = {"application_secret=notTheRightSecret", NULL};
	void *bad = make_on(counting_host(), wrong);
	const char *a[] = {"192.0.2.80"};
	struct dnsfollow_change c = set_a("v1.a.test", a, NULL);
	testhost_clear(h);
	nerrors = 0;
	assert_int_equal(apply(bad, "a.test", &c, 1), -EACCES);
	assert_int_equal(nerrors, 1);
	assert_non_null(strstr(testhost_error(h), "INVALID_SIGNATURE"));
	dnsfollow_plugin.destroy(bad);

	/* A PUT finds its record gone (another client deleted it) while a
	 * POST goes through; then the refresh fails too. */
	void *self = make_on(counting_host(), NULL);
	void *other = make(NULL);
	assert_int_equal(apply(self, "a.test", &c, 1), 0);
	struct dnsfollow_rrset old = {"v1.a.test", DNSFOLLOW_TYPE_A, 60, 1, a};
	struct dnsfollow_rrkey k = {"v1.a.test", DNSFOLLOW_TYPE_A};
	struct seen s = {0};
	assert_int_equal(ops->read(other, "a.test", &k, 1, collect, &s), 0);
	struct dnsfollow_change del = {DNSFOLLOW_CHANGE_DELETE,
				       {"v1.a.test", DNSFOLLOW_TYPE_A, 0, 0, NULL}, &old};
	assert_int_equal(apply(other, "a.test", &del, 1), 0);
	const char *a2[] = {"192.0.2.81"}, *b[] = {"192.0.2.82"};
	struct dnsfollow_change two[2] = {set_a("v1.a.test", a2, &old),
					  set_a("v2.a.test", b, NULL)};
	reset("{\"fail_refresh\":3}");
	testhost_clear(h);
	nerrors = 0;
	int rc = apply(self, "a.test", two, 2);
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(nerrors, 1);
	if (!strstr(testhost_error(h), "record vanished"))
		fail_msg("%s", testhost_error(h));
	assert_int_equal(stat_of("refresh_failed", "a.test"), 3);
	reset(NULL);
	dnsfollow_plugin.destroy(other);
	dnsfollow_plugin.destroy(self);
}

/* Wait until the fake answered every call it received. */
static void drain(void)
{
	for (int i = 0; i < 200 && stat_of("inflight", NULL) > 0; i++)
		usleep(50000);
	assert_int_equal(stat_of("inflight", NULL), 0);
}

/* A request that times out is a temporary error. A POST that timed out is
 * not sent again (the server may have acted on it: no duplicate record),
 * and since its write may be staged, the zone owes a refresh. */
static void timeouts(void **state)
{
	(void)state;
	reset(NULL);
	const char *quick[] = {"timeout_ms=1000", "max_inflight=1", NULL};
	void *self = make(quick);
	struct dnsfollow_rrkey k = {"slow.a.test", DNSFOLLOW_TYPE_A};
	struct seen s = {0};
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);

	reset("{\"latency_ms\":3000}");
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), -ETIMEDOUT);
	assert_non_null(strstr(testhost_error(h), "timed out"));
	drain();

	const char *a[] = {"192.0.2.90"};
	struct dnsfollow_change c = set_a("slow.a.test", a, NULL);
	reset("{\"latency_ms\":3000}");
	int rc = apply(self, "a.test", &c, 1);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_true(dnsfollow_err_is_temporary(rc));
	/* The class, then the host's words, naming the call once. */
	const char *e = testhost_error(h);
	if (strncmp(e, "timed out (POST https://", 24) != 0 ||
	    !strstr(e, "/1.0/domain/zone/a.test/record: Operation timed out") ||
	    strstr(strstr(e, "POST ") + 1, "POST "))
		fail_msg("%s", e);
	drain();
	assert_int_equal(calls("POST /domain/zone/{zone}/record"), 1);
	char t[256];
	zone_targets("a.test", "staged", "slow", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.90"); /* the server did create it */

	/* The next pass publishes it (refresh owed) and finds it: no
	 * second POST, one record. */
	reset(NULL);
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(self, "a.test", &k, 1, collect, &s), 0);
	assert_string_equal(s.text, "slow.a.test A 60 192.0.2.90;");
	assert_int_equal(calls(REFRESH), 1);
	zone_targets("a.test", "published", "slow", "A", t, sizeof t);
	assert_string_equal(t, "192.0.2.90");
	assert_int_equal(calls("POST /domain/zone/{zone}/record"), 0);
	dnsfollow_plugin.destroy(self);
}

/* Wrong application key: OVH's 403 INVALID_KEY is a clear permanent
 * error that says where each key came from (names, never values). */
static void invalid_application_key(void **state)
{
	(void)state;
	reset(NULL);
	const char *wrong[] = {"application_key=wrongAppKey0000", NULL};
	void *self = make(wrong);
	struct seen s;
	testhost_clear(h);
	int rc = read_git(self, &s);
	assert_int_equal(rc, -EACCES);
	assert_false(dnsfollow_err_is_temporary(rc));
	const char *e = testhost_error(h);
	if (!strstr(e, "HTTP 403 INVALID_KEY: Invalid application key") ||
	    !strstr(e, "query id FAKE") ||
	    !strstr(e, "credentials used: application_key from the provider "
		       "section, application_secret from the provider section, "
		       "consumer_key from the provider section"))
		fail_msg("%s", e);
	/* No retries of a refused call (time + 2 lists). */
	if (stat_of("total", NULL) > 3)
		fail_msg("%ld calls", stat_of("total", NULL));
	dnsfollow_plugin.destroy(self);
}

/* Secrets read from ovh.conf are masked everywhere, even when the server
 * repeats one in its answer, in the debug log of the failing request. */
static void secrets_masked(void **state)
{
	(void)state;
	char conf[300], cred[320];
	snprintf(conf, sizeof conf, "%s/masked.conf", dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fputs("[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
	      "application_key=fakeAppKey0000001\n"
	      "application_secret=fakeAppSecret00000000000000000001\n"
	      "consumer_key=consumerKeyFromFile0001\n", f);
	fclose(f);
	snprintf(cred, sizeof cred, "credentials=%s", conf);
	reset("{\"echo_credentials\":1}");
	const char *kv[] = {cred, NULL};
	void *self = make_bare(kv);
	struct seen s;
	testhost_clear(h);
	assert_int_equal(read_git(self, &s), -EACCES);
	const char *e = testhost_error(h), *log = testhost_log(h);
	if (!strstr(e, "INVALID_CREDENTIAL: Invalid credential (consumer key "
		       "received: ***)"))
		fail_msg("%s", e);
	assert_non_null(strstr(e, "consumer_key from "));
	assert_non_null(strstr(log, "-> 403"));
	assert_null(strstr(e, "consumerKeyFromFile0001"));
	assert_null(strstr(log, "consumerKeyFromFile0001"));
	assert_null(strstr(log, "fakeAppSecret00000000000000000001"));
	reset(NULL);
	dnsfollow_plugin.destroy(self);
}

static void untrusted_certificate(void **state)
{
	(void)state;
	char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", rogue_port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *kvs[] = {ep, ca, "application_key=fakeAppKey0000001",
			     "application_secret=fakeAppSecret00000000000000000001",
			     "consumer_key=fakeConsumerKey0000000000000001", NULL};
	struct dnsfollow_kv kv[16];
	long n = testhost_kv_typed(kv, 16, kvs, dnsfollow_plugin.config_keys);
	assert_true(n > 0);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)n, &self), 0);
	struct seen s;
	testhost_clear(h);
	int rc = read_git(self, &s);
	assert_int_equal(rc, -EPROTO);
	/* The class first, then the host's precise words (they name the
	 * call), once. */
	const char *e = testhost_error(h);
	if (!strstr(e, "TLS or protocol failure (GET https://127.0.0.1:") ||
	    !strstr(e, "/1.0/auth/time: the server's TLS certificate is not "
		       "trusted") ||
	    !strstr(e, "is the right CA file given?") ||
	    strstr(strstr(e, "GET https://") + 1, "GET https://"))
		fail_msg("error text: %s", e);
	dnsfollow_plugin.destroy(self);
}

/* ABI 2 changeset: each change gets its own result, so the core can
 * apply the other groups again without a refused one. */
static void changeset_results(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	const char *a[] = {"192.0.2.90"}, *b[] = {"192.0.2.91"};
	const char *bad[] = {"192.0.2.300"}, *mark[] = {MARK};
	const uint32_t groups[] = {0, 0, 1};
	struct dnsfollow_change ch[3] = {
		{DNSFOLLOW_CHANGE_SET, {"_dnsfollow.r1.a.test", DNSFOLLOW_TYPE_TXT, 60, 1, mark}, NULL},
		set_a("r1.a.test", a, NULL),
		set_a("r2.a.test", b, NULL),
	};
	/* All applied: every result 0. */
	assert_int_equal(apply_grouped(self, "a.test", ch, 3, groups), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(last_res[i], 0);

	/* A value OVH would refuse: that change is named, nothing is
	 * written, the others are left to the core (unknown). */
	reset(NULL);
	ch[2] = set_a("r3.a.test", bad, NULL);
	assert_int_equal(apply_grouped(self, "a.test", ch, 3, groups), -EINVAL);
	assert_int_equal(last_res[2], -EINVAL);
	assert_int_equal(last_res[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(last_res[1], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(stat_of("total", NULL), 0);

	/* An unknown op is named the same way. */
	struct dnsfollow_change odd = ch[1];
	odd.op = 7;
	assert_int_equal(apply(self, "a.test", &odd, 1), -EINVAL);
	assert_int_equal(last_res[0], -EINVAL);

	/* Every write fails: the marker of group 0 (set first) fails with
	 * its error, and the writes after it are not started (unknown), so
	 * no record is left without its marker. */
	const char *a2[] = {"192.0.2.92"}, *b2[] = {"192.0.2.93"};
	const char *mark2[] = {MARK "-2"};
	struct dnsfollow_change fail[3] = {
		{DNSFOLLOW_CHANGE_SET, {"_dnsfollow.r4.a.test", DNSFOLLOW_TYPE_TXT, 60, 1, mark2}, NULL},
		set_a("r4.a.test", a2, NULL),
		set_a("r5.a.test", b2, NULL),
	};
	reset("{\"fail_writes\":1000}");
	int rc = apply_grouped(self, "a.test", fail, 3, groups);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_true(last_res[0] < 0 && dnsfollow_err_is_temporary(last_res[0]));
	assert_int_equal(last_res[1], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(last_res[2], DNSFOLLOW_RESULT_UNKNOWN);
	/* Only the marker's POST went out (once, then once more after
	 * checking it did not land); none of the records'. */
	long posts = calls("POST /domain/zone/{zone}/record");
	if (posts < 1 || posts > 2)
		fail_msg("%ld record POSTs", posts);
	json_t *st = ctl("GET", "stats", NULL);
	assert_int_equal(json_array_size(json_object_get(st, "writes")), 0);
	json_decref(st);
	reset(NULL);
	dnsfollow_plugin.destroy(self);
}

/* The host keeps one error text per instance: a call abandoned at
 * SIGTERM (the host sets no text then) must not be reported with an
 * earlier failure's words, even one about the very same URL. Last: a
 * stop cannot be undone in this process. */
static void stopping_no_stale_words(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	testhost_clear(h);
	h->error(h, -ETIMEDOUT, "GET https://127.0.0.1:%d/1.0/auth/time: "
		 "stale words", port);
	df_stop_request();
	struct seen s;
	int rc = read_git(self, &s);
	const char *e = testhost_error(h);
	if (rc != -ECANCELED || strstr(e, "stale words") ||
	    !strstr(e, "GET /auth/time: abandoned: dnsfollow is stopping"))
		fail_msg("%d: %s", rc, e);
	dnsfollow_plugin.destroy(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_contact_refresh), /* first: meets b.test */
		cmocka_unit_test(sync_change_delete),
		cmocka_unit_test(foreign_and_apex),
		cmocka_unit_test(concurrency),
		cmocka_unit_test(rate_limit),
		cmocka_unit_test(faults_and_throttling),
		cmocka_unit_test(clock_skew),
		cmocka_unit_test(permanent_errors),
		cmocka_unit_test(untrusted_certificate),
		cmocka_unit_test(failed_refresh_is_owed),
		cmocka_unit_test(owed_refresh_in_apply),
		cmocka_unit_test(uncertain_write),
		cmocka_unit_test(lookalikes_skipped),
		cmocka_unit_test(errors_reported_once),
		cmocka_unit_test(timeouts),
		cmocka_unit_test(invalid_application_key),
		cmocka_unit_test(secrets_masked),
		cmocka_unit_test(changeset_results),
		cmocka_unit_test(stopping_no_stale_words), /* last: stops */
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
