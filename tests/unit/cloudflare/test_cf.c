/*
 * The cloudflare provider against the fake Cloudflare API: paging (small
 * pages, and a server that returns fewer than asked), markers() paged,
 * the zone id looked up once, token errors (403: permanent, one line
 * naming the token scope, the token never shown), 429 with Retry-After
 * and 5xx (temporary), one operation sent as its own call, and what
 * create() refuses. Port 15421.
 */
#include "cfharness.h"

static int group_setup(void **state)
{
	(void)state;
	return cf_setup(15421);
}

static const char *addr[] = {"192.0.2.10"}, *addr2[] = {"192.0.2.20"};

/* 23 names, per_page 5: read() lists the zone in 5 pages (it asks about
 * more than 3 names) and reports all 23; a server that caps pages at 3
 * still gets every record read, following result_info.total_pages. */
static void read_follows_pages(void **state)
{
	(void)state;
	reset(NULL);
	struct dnsfollow_rrkey k[23];
	char names[23][32];
	for (int i = 0; i < 23; i++) {
		snprintf(names[i], sizeof names[i], "h%02d.a.test", i);
		seed("a.test", names[i], "A", "192.0.2.1");
		k[i] = (struct dnsfollow_rrkey){names[i], DNSFOLLOW_TYPE_A};
	}
	const char *pp[] = {"per_page=5", NULL};
	void *p = make(pp);
	struct seen s = {0};
	assert_int_equal(ops->read(p, "a.test", k, 23, collect, &s), 0);
	assert_int_equal(s.n, 23);
	assert_non_null(strstr(s.text, "h22.a.test A 300 192.0.2.1;"));
	assert_int_equal(calls(LIST), 5);
	assert_int_equal(calls("GET /zones"), 1);

	reset("{\"page_cap\": 3}");
	for (int i = 0; i < 23; i++)
		seed("a.test", names[i], "A", "192.0.2.1");
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(p, "a.test", k, 23, collect, &s), 0);
	assert_int_equal(s.n, 23);
	assert_int_equal(calls(LIST), 8); /* ceil(23 / 3) */
	assert_int_equal(calls("GET /zones"), 0); /* the id is kept */
	dnsfollow_plugin.destroy(p);
}

/* A few names: one call per name, every type (a CNAME beside shows). */
static void read_by_name(void **state)
{
	(void)state;
	reset(NULL);
	seed("a.test", "www.a.test", "A", "192.0.2.1");
	seed("a.test", "www.a.test", "A", "192.0.2.2");
	seed("a.test", "other.a.test", "A", "192.0.2.3");
	void *p = make(NULL);
	struct seen s = {0};
	assert_int_equal(read1(p, "a.test", "www.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	assert_string_equal(s.text, "www.a.test A 300 192.0.2.1|192.0.2.2;");
	assert_int_equal(calls(LIST), 1);
	json_t *st = stats();
	const char *last = json_string_value(json_array_get(json_object_get(st, "order"), 1));
	assert_string_equal(last, LIST);
	json_decref(st);
	dnsfollow_plugin.destroy(p);
}

/* markers(): type=TXT paged (per_page 2), only _dnsfollow.* inside the
 * zone, each whole, TXT in Cloudflare's quoted form decoded. */
static void markers_paged(void **state)
{
	(void)state;
	reset(NULL);
	seed("a.test", "_dnsfollow.git.a.test", "TXT", "\"heritage=dnsfollow\"");
	seed("a.test", "_dnsfollow.www.a.test", "TXT", "\"heritage=dnsfollow\"");
	seed("a.test", "_dnsfollow.www.a.test", "TXT", "\"say \\\"hi\\\"\"");
	seed("a.test", "_dnsfollowx.a.test", "TXT", "not a marker");
	seed("a.test", "_dmarc.a.test", "TXT", "v=DMARC1");
	seed("a.test", "_dnsfollow.odd.a.test", "A", "192.0.2.9");
	const char *pp[] = {"per_page=2", NULL};
	void *p = make(pp);
	struct seen s = {0};
	assert_int_equal(ops->markers(p, "a.test", collect, &s), 0);
	assert_string_equal(s.text, "_dnsfollow.git.a.test TXT 300 heritage=dnsfollow;"
				    "_dnsfollow.www.a.test TXT 300 heritage=dnsfollow|say \"hi\";");
	assert_int_equal(calls(LIST), 3); /* 5 TXT records, 2 a page */
	dnsfollow_plugin.destroy(p);
}

/* A wrong token and a token without edit rights: -EACCES (permanent),
 * one line with Cloudflare's code and the scope to grant, no token. */
static void token_errors(void **state)
{
	(void)state;
	reset("{\"token\": \"another-token-entirely\"}");
	void *p = make(NULL);
	struct seen s = {0};
	int rc = read1(p, "a.test", "www.a.test", DNSFOLLOW_TYPE_A, &s);
	assert_int_equal(rc, -EACCES);
	assert_false(dnsfollow_err_is_temporary(rc));
	const char *e = testhost_error(h);
	assert_non_null(strstr(e, "HTTP 403"));
	assert_non_null(strstr(e, "Cloudflare error 10000: Authentication error"));
	assert_non_null(strstr(e, "Zone:DNS:Edit"));
	assert_null(strstr(e, TOKEN));
	assert_null(strchr(e, '\n'));
	dnsfollow_plugin.destroy(p);

	reset("{\"scope\": \"read\"}");
	p = make(NULL);
	struct dnsfollow_change c[] = {SET("www.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	assert_int_equal(apply(p, "a.test", c, 1), -EACCES);
	assert_non_null(strstr(testhost_error(h), "Zone:DNS:Edit"));
	assert_int_equal(count_records("a.test"), 0);
	dnsfollow_plugin.destroy(p);
}

/* 429 with Retry-After: -EAGAIN and the wait passed on; 5xx: -EAGAIN. */
static void throttled_and_5xx(void **state)
{
	(void)state;
	reset("{\"throttle\": 1, \"retry_after\": 7}");
	void *p = make(NULL);
	struct seen s = {0};
	int rc = read1(p, "a.test", "www.a.test", DNSFOLLOW_TYPE_A, &s);
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(testhost_retry_after(h), 7000);
	assert_non_null(strstr(testhost_error(h), "HTTP 429"));
	assert_non_null(strstr(testhost_error(h), "Cloudflare error 971"));
	assert_int_equal(read1(p, "a.test", "www.a.test", DNSFOLLOW_TYPE_A, &s), 0);

	json_decref(ctl("POST", "config", "{\"fail_status\": 503, \"fail_count\": 1, "
					  "\"fail_path\": \"POST\"}"));
	struct dnsfollow_change c[] = {SET("www.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	rc = apply(p, "a.test", c, 1);
	assert_int_equal(rc, -EAGAIN);
	assert_non_null(strstr(testhost_error(h), "HTTP 503"));
	assert_int_equal(apply(p, "a.test", c, 1), 0);
	assert_string_equal(dump("a.test"), "www.a.test A 192.0.2.10 300;");
	dnsfollow_plugin.destroy(p);
}

/* One operation is one call on the record (no batch): create, PUT a
 * changed datum, PATCH a changed TTL, DELETE; the same SET again: none. */
static void one_operation_one_call(void **state)
{
	(void)state;
	reset(NULL);
	void *p = make(NULL);
	struct seen s = {0};
	assert_int_equal(read1(p, "a.test", "www.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	json_decref(ctl("POST", "reset", ""));
	struct dnsfollow_change c[] = {SET("www.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	assert_int_equal(apply(p, "a.test", c, 1), 0);
	assert_int_equal(calls(CREATE), 1);
	assert_int_equal(apply(p, "a.test", c, 1), 0); /* in place: nothing sent */
	c[0].rrset.rdata = addr2;
	assert_int_equal(apply(p, "a.test", c, 1), 0);
	assert_int_equal(calls("PUT /zones/{zone}/dns_records/{id}"), 1);
	c[0].rrset.ttl = 600;
	assert_int_equal(apply(p, "a.test", c, 1), 0);
	assert_int_equal(calls("PATCH /zones/{zone}/dns_records/{id}"), 1);
	assert_string_equal(dump("a.test"), "www.a.test A 192.0.2.20 600;");
	struct dnsfollow_change d[] = {DEL("www.a.test", DNSFOLLOW_TYPE_A)};
	assert_int_equal(apply(p, "a.test", d, 1), 0);
	assert_int_equal(calls("DELETE /zones/{zone}/dns_records/{id}"), 1);
	assert_int_equal(calls(BATCH), 0);
	assert_int_equal(total(), 4);
	assert_int_equal(count_records("a.test"), 0);
	dnsfollow_plugin.destroy(p);
}

/* An unknown zone: permanent, and no call for one the section lacks. */
static void unknown_zones(void **state)
{
	(void)state;
	reset(NULL);
	void *p = make(NULL);
	struct seen s = {0};
	assert_int_equal(read1(p, "c.test", "www.c.test", DNSFOLLOW_TYPE_A, &s), -ENOENT);
	assert_int_equal(total(), 0);
	dnsfollow_plugin.destroy(p);
	const char *any[] = {"zones=a.test, nosuch.test", NULL};
	p = make(any);
	assert_int_equal(read1(p, "nosuch.test", "www.nosuch.test", DNSFOLLOW_TYPE_A, &s), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "Zone:DNS:Edit on nosuch.test"));
	dnsfollow_plugin.destroy(p);
}

/* create() refuses, without a call: http:// off loopback, a token that
 * would end its header early. */
static void create_refusals(void **state)
{
	(void)state;
	struct dnsfollow_kv kv[16];
	void *p = NULL;
	const char *bad1[] = {"token=" TOKEN, "endpoint=http://api.example.com/client/v4", NULL};
	long m = testhost_kv_typed(kv, 16, bad1, dnsfollow_plugin.config_keys);
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)m, &p), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "loopback"));
	const char *bad2[] = {"token=abc\ndef", NULL};
	m = testhost_kv_typed(kv, 16, bad2, dnsfollow_plugin.config_keys);
	if (m > 0) /* the core may refuse it first */
		assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)m, &p), -EINVAL);
	const char *good[] = {"token=" TOKEN, "endpoint=http://127.0.0.1:1/client/v4", NULL};
	m = testhost_kv_typed(kv, 16, good, dnsfollow_plugin.config_keys);
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)m, &p), 0);
	dnsfollow_plugin.destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_follows_pages),
		cmocka_unit_test(read_by_name),
		cmocka_unit_test(markers_paged),
		cmocka_unit_test(token_errors),
		cmocka_unit_test(throttled_and_5xx),
		cmocka_unit_test(one_operation_one_call),
		cmocka_unit_test(unknown_zones),
		cmocka_unit_test(create_refusals),
	};
	return cmocka_run_group_tests(tests, group_setup, cf_teardown);
}
