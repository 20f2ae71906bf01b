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
			"\"skew\":0,\"retry_after\":1}"));
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

static void *make(const char *const *extra)
{
	static char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *kvs[24] = {ep, ca, "application_key=fakeAppKey0000001",
			       "application_secret=fakeAppSecret00000000000000000001",
			       "consumer_key=fakeConsumerKey0000000000000001",
			       "rate_limit=0"};
	size_t n = 6;
	for (size_t i = 0; extra && extra[i] && n < 23; i++)
		kvs[n++] = extra[i];
	kvs[n] = NULL;
	struct dnsfollow_kv kv[24];
	/* Put the extras first so they win over the defaults above. */
	size_t m = testhost_kv(kv, 24, kvs);
	struct dnsfollow_kv sorted[24];
	size_t k = 0;
	for (size_t i = 6; i < m; i++)
		sorted[k++] = kv[i];
	for (size_t i = 0; i < 6 && i < m; i++)
		sorted[k++] = kv[i];
	void *self = NULL;
	testhost_clear(h);
	int rc = dnsfollow_plugin.create(h, sorted, k, &self);
	if (rc != 0)
		fail_msg("create: %s", testhost_error(h));
	return self;
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
			 ovh_type_name(rr->type), rr->ttl);
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

static void sync_change_delete(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	struct seen s;
	assert_int_equal(read_git(self, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(calls("GET /domain/zone/{zone}/record"), 2);

	const char *a1[] = {"192.0.2.10"}, *mark[] = {MARK};
	struct dnsfollow_change ch[2] = {
		{DNSFOLLOW_CHANGE_SET, {"git.a.test", DNSFOLLOW_TYPE_A, 60, 1, a1}, NULL},
		{DNSFOLLOW_CHANGE_SET, {"_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, 60, 1, mark}, NULL},
	};
	assert_int_equal(ops->apply(self, "a.test", ch, 2), 0);
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

	/* Read back: TXT unquoted; contents come from the cache, so only
	 * the two list calls are made. */
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
	assert_int_equal(ops->apply(self, "a.test", &c2, 1), 0);
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
	assert_int_equal(ops->apply(self, "a.test", c4, 2), 0);
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
	assert_int_equal(ops->apply(self, "a.test", &c3, 1), 0);
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
	assert_int_equal(ops->apply(self, "b.test", &ch, 1), 0);
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
	struct dnsfollow_rrkey cname = {"x.b.test", DNSFOLLOW_TYPE_CNAME};
	assert_int_equal(ops->read(self, "b.test", &cname, 1, collect, &s), -EINVAL);

	/* TXT with quotes and backslashes: OVH stores it quoted and escaped,
	 * read() gives back the text itself. */
	const char *txt[] = {"say \"hi\" \\ ok"};
	struct dnsfollow_change tc = {DNSFOLLOW_CHANGE_SET,
				      {"t.b.test", DNSFOLLOW_TYPE_TXT, 60, 1, txt}, NULL};
	assert_int_equal(ops->apply(self, "b.test", &tc, 1), 0);
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
	assert_int_equal(ops->apply(self, "b.test", &bc, 1), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "not UTF-8"));
	bc.rrset.type = DNSFOLLOW_TYPE_A;
	bc.rrset.rdata = bad4;
	assert_int_equal(ops->apply(self, "b.test", &bc, 1), -EINVAL);
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
	assert_int_equal(ops->apply(self, "a.test", ch, 12), 0);
	uint64_t fast = h->now_ms() - t0;
	long peak = stat_of("max_inflight", NULL);
	assert_true(peak >= 2 && peak <= 4);
	/* 13 calls over kept-alive connections: at most one per thread. */
	assert_true(stat_of("connections", NULL) <= 4);
	assert_int_equal(stat_of("refresh", "a.test"), 1);
	dnsfollow_plugin.destroy(self);

	/* The same with one at a time: slower, never two in flight. */
	const char *addr2[] = {"192.0.2.2"};
	many(ch, names, 12, addr2);
	reset("{\"latency_ms\":40}");
	const char *one[] = {"max_inflight=1", NULL};
	self = make(one);
	t0 = h->now_ms();
	assert_int_equal(ops->apply(self, "a.test", ch, 12), 0);
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
	/* 1 time call + 8 list calls at 10/s with a burst of 1: >= 800 ms. */
	assert_true(ms >= 750);
	assert_true(ms < 5000);
	dnsfollow_plugin.destroy(self);
}

static void faults_and_throttling(void **state)
{
	(void)state;
	void *self = make(NULL);
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

static void untrusted_certificate(void **state)
{
	(void)state;
	char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", rogue_port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *kvs[] = {ep, ca, "application_key=fakeAppKey0000001",
			     "application_secret=fakeAppSecret00000000000000000001",
			     "consumer_key=fakeConsumerKey0000000000000001", NULL};
	struct dnsfollow_kv kv[8];
	size_t n = testhost_kv(kv, 8, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	struct seen s;
	testhost_clear(h);
	int rc = read_git(self, &s);
	assert_int_equal(rc, -EPROTO);
	if (!strstr(testhost_error(h), "TLS failure"))
		fail_msg("error text: %s", testhost_error(h));
	dnsfollow_plugin.destroy(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync_change_delete),
		cmocka_unit_test(foreign_and_apex),
		cmocka_unit_test(concurrency),
		cmocka_unit_test(rate_limit),
		cmocka_unit_test(faults_and_throttling),
		cmocka_unit_test(clock_skew),
		cmocka_unit_test(permanent_errors),
		cmocka_unit_test(untrusted_certificate),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
