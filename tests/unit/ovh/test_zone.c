/*
 * OVH: a steady pass costs O(zones), not O(records) (issue 12), and a
 * record edited by hand is still seen within one pass once the edit is
 * live. Against the fake OVH API (tests/ovh/fake_ovh.py), whose SOA
 * serial moves on every refresh, through the test host:
 *   - a hand edit (same record id, new target, then a refresh), made
 *     through the API by another client, is read back by the next pass
 *     and repaired by the apply() that follows; staged but not refreshed,
 *     it is not live yet and the pass costs its two calls;
 *   - a record added or deleted by hand is seen the same way;
 *   - a steady pass (read(), or markers() then read() as under policy =
 *     sync) costs at most 2 calls per zone at 10 and at 200 records;
 *   - a SOA answer that is not one, or a record target that does not
 *     parse at a name asked for, is one clear error with nothing emitted.
 * Needs python3 and openssl (both in tests/lib/deps.sh).
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

#define MARK "heritage=dnsfollow,owner=test"


static int group_setup(void **state)
{
	(void)state;
	return fakeovh_start("zone", "a.test,b.test,c.test,d.test");
}

static long total(void)
{
	json_t *j = ctl("GET", "stats", NULL);
	long n = (long)json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	return n;
}

static void reset(const char *config)
{
	json_decref(ctl("POST", "reset", ""));
	json_decref(ctl("POST", "config", "{\"fault_path\":\"\",\"fault_count\":-1,"
			"\"garbage\":\"\",\"status\":0}"));
	if (config)
		json_decref(ctl("POST", "config", config));
}

static void seed(const char *zone, const char *sub, const char *type,
		 const char *target)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "zone", zone, "subDomain",
			      sub, "fieldType", type, "target", target, "ttl", 60);
	char *body = json_dumps(j, 0);
	json_decref(ctl("POST", "seed", body));
	free(body);
	json_decref(j);
}

/* The published targets of (zone, sub, type), sorted, space-separated. */
static void published(const char *zone, const char *sub, const char *type,
		      char *out, size_t cap)
{
	char what[128];
	snprintf(what, sizeof what, "zone?zone=%s&state=published", zone);
	json_t *v = ctl("GET", what, NULL), *r;
	size_t i;
	out[0] = '\0';
	json_array_foreach(v, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "subDomain")), sub) ||
		    strcmp(json_string_value(json_object_get(r, "fieldType")), type))
			continue;
		size_t o = strlen(out);
		snprintf(out + o, cap - o, "%s%s", o ? " " : "",
			 json_string_value(json_object_get(r, "target")));
	}
	json_decref(v);
}

/* The id of the one staged record (zone, sub, type). */
static uint64_t record_id(const char *zone, const char *sub, const char *type)
{
	char what[128];
	snprintf(what, sizeof what, "zone?zone=%s&state=staged", zone);
	json_t *v = ctl("GET", what, NULL), *r;
	size_t i;
	uint64_t id = 0;
	json_array_foreach(v, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "subDomain")), sub) &&
		    !strcmp(json_string_value(json_object_get(r, "fieldType")), type))
			id = (uint64_t)json_integer_value(json_object_get(r, "id"));
	json_decref(v);
	assert_true(id != 0);
	return id;
}

/* An instance on the fake, no rate limit. */
static void *make(void)
{
	char ep[128], ca[200];
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

/* Someone else, through the API as python-ovh would: one signed call
 * with its own instance. Returns the answer's "id" when it has one. */
static uint64_t by_hand(void *other, const char *method, const char *path,
			const char *body)
{
	struct ovh_req r = {.method = method, .idempotent = 1,
			    .path = strdup(path), .body = body ? strdup(body) : NULL};
	ovh_call(other, &r);
	if (r.rc != 0)
		fail_msg("%s %s: %s", method, path, r.err ? r.err : "?");
	json_t *id = json_object_get(r.json, "id");
	uint64_t v = json_is_integer(id) ? (uint64_t)json_integer_value(id) : 0;
	ovh_req_clear(&r);
	return v;
}

/* What read() reported, as "name TYPE rdata|rdata;" (values sorted). */
struct seen {
	char text[65536];
	int n;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	const char *rd[16];
	assert_true(rr->count <= 16);
	memcpy(rd, rr->rdata, rr->count * sizeof *rd);
	qsort(rd, rr->count, sizeof *rd, by_text);
	size_t o = strlen(s->text);
	o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s %s",
			      rr->name, h->type_name(rr->type));
	for (size_t i = 0; i < rr->count && o < sizeof s->text; i++)
		o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s%s",
				      i ? "|" : " ", rd[i]);
	if (o + 2 < sizeof s->text)
		strcat(s->text, ";");
	s->n++;
	return 0;
}

/* read() as the core asks for names h1..hN of `zone`: the A, its
 * marker, and the CNAME it checks for at every managed name. */
static int read_names(void *self, const char *zone, int n, struct seen *s)
{
	struct dnsfollow_rrkey *k = calloc((size_t)n * 3, sizeof *k);
	char (*names)[2][128] = calloc((size_t)n, sizeof *names);
	assert_non_null(k);
	assert_non_null(names);
	for (int i = 0; i < n; i++) {
		snprintf(names[i][0], 128, "h%d.%s", i + 1, zone);
		snprintf(names[i][1], 128, "_dnsfollow.h%d.%s", i + 1, zone);
		k[3 * i] = (struct dnsfollow_rrkey){names[i][0], DNSFOLLOW_TYPE_A};
		k[3 * i + 1] = (struct dnsfollow_rrkey){names[i][1],
							DNSFOLLOW_TYPE_TXT};
		k[3 * i + 2] = (struct dnsfollow_rrkey){names[i][0],
							DNSFOLLOW_TYPE_CNAME};
	}
	memset(s, 0, sizeof *s);
	testhost_clear(h);
	int rc = ops->read(self, zone, k, (size_t)n * 3, collect, s);
	free(k);
	free(names);
	return rc;
}

static int ignore(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)ctx;
	(void)rr;
	return 0;
}

/* Records h1..hN of `zone` (A 192.0.2.N, and a marker each), published. */
static void seed_zone(const char *zone, int n)
{
	char sub[64], mark_sub[80], a[32];
	for (int i = 1; i <= n; i++) {
		snprintf(sub, sizeof sub, "h%d", i);
		snprintf(mark_sub, sizeof mark_sub, "_dnsfollow.h%d", i);
		snprintf(a, sizeof a, "192.0.2.%d", i % 250 + 1);
		seed(zone, sub, "A", a);
		seed(zone, mark_sub, "TXT", "\"" MARK "\"");
	}
}

/*
 * The repaired case of issue 12: a record changed by hand through the
 * API (same id, new target), then the zone refreshed, is what the next
 * pass reads, and apply() puts it back. Before the refresh the edit is
 * not live: the pass still costs two calls and reads what it cached.
 * (Before the serial check, the cached content was trusted for five
 * minutes: this test then read 192.0.2.1 back.)
 */
static void hand_edit_repaired(void **state)
{
	(void)state;
	reset(NULL);
	seed_zone("a.test", 1);
	void *self = make(), *hand = make();
	struct seen s;
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_string_equal(s.text, "h1.a.test A 192.0.2.2;"
			    "_dnsfollow.h1.a.test TXT " MARK ";");
	uint64_t id = record_id("a.test", "h1", "A");
	char path[128];
	snprintf(path, sizeof path, "/domain/zone/a.test/record/%llu",
		 (unsigned long long)id);

	/* Staged only: the API shows it, DNS does not. */
	by_hand(hand, "PUT", path, "{\"target\":\"192.0.2.66\"}");
	reset(NULL);
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_string_equal(s.text, "h1.a.test A 192.0.2.2;"
			    "_dnsfollow.h1.a.test TXT " MARK ";");
	assert_int_equal(total(), 2);

	/* Live: the next pass reads it... */
	by_hand(hand, "POST", "/domain/zone/a.test/refresh", NULL);
	reset(NULL);
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_string_equal(s.text, "h1.a.test A 192.0.2.66;"
			    "_dnsfollow.h1.a.test TXT " MARK ";");

	/* ...and the core's apply() puts it back, in place. */
	const char *want[] = {"192.0.2.2"}, *seen_rd[] = {"192.0.2.66"};
	struct dnsfollow_rrset old = {"h1.a.test", DNSFOLLOW_TYPE_A, 60, 1, seen_rd};
	struct dnsfollow_change ch = {DNSFOLLOW_CHANGE_SET,
				      {"h1.a.test", DNSFOLLOW_TYPE_A, 60, 1, want},
				      &old};
	int res = DNSFOLLOW_RESULT_UNKNOWN;
	uint32_t group = 0;
	struct dnsfollow_options opt = {NULL, 0};
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = "a.test", .changes = &ch,
		.n = 1, .results = &res, .groups = &group, .options = &opt};
	testhost_clear(h);
	assert_int_equal(ops->apply(self, &cs), 0);
	assert_int_equal(res, 0);
	char pub[256];
	published("a.test", "h1", "A", pub, sizeof pub);
	assert_string_equal(pub, "192.0.2.2");
	assert_int_equal(record_id("a.test", "h1", "A"), id);

	/* The pass after reads the repair back, then passes are steady. */
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_string_equal(s.text, "h1.a.test A 192.0.2.2;"
			    "_dnsfollow.h1.a.test TXT " MARK ";");
	reset(NULL);
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_int_equal(total(), 2);
	dnsfollow_plugin.destroy(hand);
	dnsfollow_plugin.destroy(self);
}

/* A record added by hand (new id) and one deleted by hand are seen by
 * the next pass once refreshed. */
static void hand_add_and_delete(void **state)
{
	(void)state;
	reset(NULL);
	seed_zone("b.test", 2);
	void *self = make(), *hand = make();
	struct seen s;
	assert_int_equal(read_names(self, "b.test", 2, &s), 0);
	uint64_t id = by_hand(hand, "POST", "/domain/zone/b.test/record",
			      "{\"fieldType\":\"A\",\"subDomain\":\"h1\","
			      "\"target\":\"192.0.2.77\",\"ttl\":60}");
	assert_true(id != 0);
	char path[128];
	snprintf(path, sizeof path, "/domain/zone/b.test/record/%llu",
		 (unsigned long long)record_id("b.test", "h2", "A"));
	by_hand(hand, "DELETE", path, NULL);
	by_hand(hand, "POST", "/domain/zone/b.test/refresh", NULL);
	assert_int_equal(read_names(self, "b.test", 2, &s), 0);
	assert_string_equal(s.text, "h1.b.test A 192.0.2.2|192.0.2.77;"
			    "_dnsfollow.h1.b.test TXT " MARK ";"
			    "_dnsfollow.h2.b.test TXT " MARK ";");
	dnsfollow_plugin.destroy(hand);
	dnsfollow_plugin.destroy(self);
}

/* Calls of a steady pass over N records (with their markers) in one
 * zone: read() alone, and markers() then read() as under policy = sync.
 * At most 2 per zone, whatever N. */
static void steady_calls(const char *zone, int n)
{
	reset(NULL);
	seed_zone(zone, n);
	void *self = make();
	struct seen *s = malloc(sizeof *s);
	assert_non_null(s);
	assert_int_equal(read_names(self, zone, n, s), 0); /* cold: fills */
	assert_int_equal(s->n, 2 * n);
	reset(NULL);
	assert_int_equal(read_names(self, zone, n, s), 0);
	assert_int_equal(s->n, 2 * n);
	long steady = total();
	reset(NULL);
	testhost_clear(h);
	assert_int_equal(ops->markers(self, zone, ignore, NULL), 0);
	assert_int_equal(read_names(self, zone, n, s), 0);
	long with_markers = total();
	print_message("# %d records in %s: steady pass %ld calls, %ld with "
		      "markers()\n", n, zone, steady, with_markers);
	assert_true(steady <= 2);
	assert_true(with_markers <= 2);
	free(s);
	dnsfollow_plugin.destroy(self);
}

static void steady_10(void **state)
{
	(void)state;
	steady_calls("c.test", 10);
}

static void steady_200(void **state)
{
	(void)state;
	steady_calls("d.test", 200);
}

/* A SOA answer that is not one, and a zone not served: one clear error,
 * nothing reported; the next pass reads the zone whole again. */
static void bad_soa(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make();
	struct seen s;
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	reset("{\"fault_path\":\"GET /domain/zone/{zone}/soa\",\"fault_count\":1,"
	      "\"garbage\":\"{\\\"serial\\\":\\\"x\\\"}\"}");
	assert_int_equal(read_names(self, "a.test", 1, &s), -EPROTO);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(testhost_error(h), "expected the zone's SOA"));
	reset("{\"fault_path\":\"GET /domain/zone/{zone}/soa\",\"fault_count\":1,"
	      "\"status\":404}");
	assert_int_equal(read_names(self, "a.test", 1, &s), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "not served"));
	reset(NULL);
	assert_int_equal(read_names(self, "a.test", 1, &s), 0);
	assert_true(total() > 2); /* read whole again after the failures */
	dnsfollow_plugin.destroy(self);
}

/* A record whose target does not parse, at a name read() is asked for:
 * one clear error and nothing emitted (not even the good RRsets before
 * it); at a name nobody asks for it is no error. */
static void bad_target(void **state)
{
	(void)state;
	reset(NULL);
	seed("b.test", "h9", "A", "not-an-address");
	void *self = make();
	struct seen s;
	assert_int_equal(read_names(self, "b.test", 1, &s), 0);
	assert_int_equal(read_names(self, "b.test", 9, &s), -EPROTO);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(testhost_error(h), "h9.b.test A): unexpected "
			       "record content"));
	dnsfollow_plugin.destroy(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_edit_repaired),
		cmocka_unit_test(hand_add_and_delete),
		cmocka_unit_test(steady_10),
		cmocka_unit_test(steady_200),
		cmocka_unit_test(bad_soa),
		cmocka_unit_test(bad_target),
	};
	return cmocka_run_group_tests(tests, group_setup, fakeovh_stop);
}
