/*
 * OVH provider against the fake OVH API: what the conformance kit found.
 * A datum given twice in one SET is stored once; a CNAME beside other
 * data at a name (or other data beside a CNAME, RFC 1034 3.6.2) is
 * refused with -EEXIST for that change: before any call when the
 * changeset or the cache shows the conflict, from OVH's 400 otherwise;
 * a name switched from A to CNAME in one changeset still goes through;
 * a zone the account does not serve is one clear error, no noise.
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
#include "fakeovh.h"


static int group_setup(void **state)
{
	(void)state;
	return fakeovh_start("conflict", "a.test");
}

/* Record writes (POST/PUT/DELETE) since the last reset. */
static size_t writes(void)
{
	json_t *j = ctl("GET", "stats", NULL);
	size_t n = json_array_size(json_object_get(j, "writes"));
	json_decref(j);
	return n;
}

static void seed(const char *sub, const char *type, const char *target)
{
	char body[256];
	snprintf(body, sizeof body, "{\"zone\":\"a.test\",\"subDomain\":\"%s\","
		 "\"fieldType\":\"%s\",\"target\":\"%s\",\"ttl\":60}", sub, type,
		 target);
	json_decref(ctl("POST", "seed", body));
	json_decref(ctl("POST", "reset", ""));
}

static int by_text(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "TYPE target" of every staged record at sub, sorted, space
 * separated. */
static void at(const char *sub, char *out, size_t cap)
{
	json_t *j = ctl("GET", "zone?zone=a.test&state=staged", NULL);
	size_t i, n = 0;
	json_t *r;
	char *v[16];
	json_array_foreach(j, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "subDomain")), sub) ||
		    n == 16)
			continue;
		if (asprintf(&v[n++], "%s %s",
			     json_string_value(json_object_get(r, "fieldType")),
			     json_string_value(json_object_get(r, "target"))) < 0)
			fail_msg("out of memory");
	}
	json_decref(j);
	qsort(v, n, sizeof *v, by_text);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(out + strlen(out), cap - strlen(out), "%s%s",
			 i ? " " : "", v[i]);
		free(v[i]);
	}
}

static void *make(void)
{
	static char ep[128], ca[200];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	const char *kvs[] = {ep, ca, "rate_limit=0",
			     "application_key=fakeAppKey0000001",
			     "application_secret=fakeAppSecret00000000000000000001",
			     "consumer_key=fakeConsumerKey0000000000000001", NULL};
	struct dnsfollow_kv kv[16];
	long m = testhost_kv_typed(kv, 16, kvs, dnsfollow_plugin.config_keys);
	assert_true(m > 0);
	void *self = NULL;
	testhost_clear(h);
	if (dnsfollow_plugin.create(h, kv, (size_t)m, &self) != 0)
		fail_msg("create: %s", testhost_error(h));
	return self;
}

static int res[8];

static int apply(void *self, const struct dnsfollow_change *c, size_t n)
{
	uint32_t groups[8];
	struct dnsfollow_options opt[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		groups[i] = 0;
		opt[i] = (struct dnsfollow_options){NULL, 0};
		res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	}
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = "a.test", .changes = c, .n = n,
		.results = res, .groups = groups, .options = opt};
	testhost_clear(h);
	return ops->apply(self, &cs);
}

static struct dnsfollow_change set(const char *name, uint16_t type,
				   const char *const *v, size_t n)
{
	return (struct dnsfollow_change){DNSFOLLOW_CHANGE_SET,
					 {name, type, 60, n, v}, NULL};
}

/* The kit's "a datum given twice in one SET is stored once". */
static void duplicate_datum_stored_once(void **state)
{
	(void)state;
	void *self = make();
	const char *a[] = {"192.0.2.1", "192.0.2.1", "192.0.2.2"};
	const char *t[] = {"x y", "x y"};
	struct dnsfollow_change c[] = {
		set("dup.a.test", DNSFOLLOW_TYPE_A, a, 3),
		set("dup.a.test", DNSFOLLOW_TYPE_TXT, t, 2),
	};
	assert_int_equal(apply(self, c, 2), 0);
	char got[512];
	at("dup", got, sizeof got);
	assert_string_equal(got, "A 192.0.2.1 A 192.0.2.2 TXT \"x y\"");
	/* Again: nothing to write. */
	json_decref(ctl("POST", "reset", ""));
	assert_int_equal(apply(self, c, 2), 0);
	assert_int_equal(writes(), 0);
	dnsfollow_plugin.destroy(self);
}

/* Conflicts this instance knows of (its own writes, or within one
 * changeset): refused before any call, the change named. */
static void cname_refused_before_any_call(void **state)
{
	(void)state;
	void *self = make();
	const char *a[] = {"192.0.2.5"}, *cn[] = {"node1.example.test"};
	struct dnsfollow_change ca = set("c1.a.test", DNSFOLLOW_TYPE_A, a, 1);
	struct dnsfollow_change cc = set("c1.a.test", DNSFOLLOW_TYPE_CNAME, cn, 1);
	assert_int_equal(apply(self, &ca, 1), 0);
	json_decref(ctl("POST", "reset", ""));
	assert_int_equal(apply(self, &cc, 1), -EEXIST);
	assert_int_equal(res[0], -EEXIST);
	assert_non_null(strstr(testhost_error(h), "CNAME"));
	assert_int_equal(writes(), 0);

	/* Both in one changeset, at a fresh name. */
	struct dnsfollow_change both[] = {
		set("c3.a.test", DNSFOLLOW_TYPE_CNAME, cn, 1),
		set("c3.a.test", DNSFOLLOW_TYPE_A, a, 1),
	};
	assert_int_equal(apply(self, both, 2), -EEXIST);
	assert_int_equal(res[1], -EEXIST);
	assert_int_equal(res[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(writes(), 0);
	char got[256];
	at("c1", got, sizeof got);
	assert_string_equal(got, "A 192.0.2.5");
	at("c3", got, sizeof got);
	assert_string_equal(got, "");
	dnsfollow_plugin.destroy(self);
}

/* Conflicts only OVH knows of (records another client made): its 400 is
 * a permanent -EEXIST for that change, and the fake keeps the zone
 * legal. */
static void cname_refused_by_the_api(void **state)
{
	(void)state;
	seed("c2", "A", "192.0.2.6");
	seed("c4", "CNAME", "node2.example.test.");
	void *self = make();
	const char *a[] = {"192.0.2.7"}, *cn[] = {"node1.example.test"};
	struct dnsfollow_change cc = set("c2.a.test", DNSFOLLOW_TYPE_CNAME, cn, 1);
	int rc = apply(self, &cc, 1);
	assert_int_equal(rc, -EEXIST);
	assert_int_equal(res[0], -EEXIST);
	assert_non_null(strstr(testhost_error(h), "CNAME"));
	struct dnsfollow_change ca = set("c4.a.test", DNSFOLLOW_TYPE_A, a, 1);
	assert_int_equal(apply(self, &ca, 1), -EEXIST);
	assert_int_equal(res[0], -EEXIST);
	char got[256];
	at("c2", got, sizeof got);
	assert_string_equal(got, "A 192.0.2.6");
	at("c4", got, sizeof got);
	assert_string_equal(got, "CNAME node2.example.test.");
	dnsfollow_plugin.destroy(self);
}

/* A name switched from A to CNAME in one changeset: the A goes first,
 * so OVH accepts the CNAME. */
static void switch_a_to_cname(void **state)
{
	(void)state;
	void *self = make();
	const char *a[] = {"192.0.2.8"}, *cn[] = {"node1.example.test"};
	struct dnsfollow_change ca = set("sw.a.test", DNSFOLLOW_TYPE_A, a, 1);
	assert_int_equal(apply(self, &ca, 1), 0);
	struct dnsfollow_change sw[] = {
		set("sw.a.test", DNSFOLLOW_TYPE_CNAME, cn, 1),
		{DNSFOLLOW_CHANGE_DELETE, {"sw.a.test", DNSFOLLOW_TYPE_A, 0, 0, NULL},
		 &ca.rrset},
	};
	assert_int_equal(apply(self, sw, 2), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	char got[256];
	at("sw", got, sizeof got);
	assert_string_equal(got, "CNAME node1.example.test.");
	dnsfollow_plugin.destroy(self);
}

static int no_emit(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)ctx;
	(void)rr;
	return 0;
}

/* A zone the account does not serve: read() and apply() each fail with
 * one clear permanent error, and no line claims changes were staged
 * there (the 404 of the first-contact refresh owes no refresh). */
static void unknown_zone_one_line(void **state)
{
	(void)state;
	void *self = make();
	struct dnsfollow_rrkey k = {"www.nosuch.test", DNSFOLLOW_TYPE_TXT};
	const char *t[] = {"x"};
	struct dnsfollow_change c = set("www.nosuch.test", DNSFOLLOW_TYPE_TXT, t, 1);
	uint32_t group = 0;
	struct dnsfollow_options opt = {NULL, 0};
	int r = DNSFOLLOW_RESULT_UNKNOWN;
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = "nosuch.test", .changes = &c,
		.n = 1, .results = &r, .groups = &group, .options = &opt};
	for (int pass = 0; pass < 2; pass++) {
		testhost_clear(h);
		int rc = ops->read(self, "nosuch.test", &k, 1, no_emit, NULL);
		assert_true(rc < 0 && !dnsfollow_err_is_temporary(rc));
		assert_non_null(strstr(testhost_error(h), "not served"));
		testhost_clear(h);
		rc = ops->apply(self, &cs);
		assert_true(rc < 0 && !dnsfollow_err_is_temporary(rc));
		assert_non_null(strstr(testhost_error(h), "not served"));
	}
	if (strstr(testhost_log(h), "earlier pass staged"))
		fail_msg("noise: %s", testhost_log(h));
	dnsfollow_plugin.destroy(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicate_datum_stored_once),
		cmocka_unit_test(cname_refused_before_any_call),
		cmocka_unit_test(cname_refused_by_the_api),
		cmocka_unit_test(switch_a_to_cname),
		cmocka_unit_test(unknown_zone_one_line),
	};
	return cmocka_run_group_tests(tests, group_setup, fakeovh_stop);
}
