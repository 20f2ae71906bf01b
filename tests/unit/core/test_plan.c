/* Planning under the ownership rules, and the helpers it stands on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plan.h"
#include "reconcile.h"
#include "util.h"

#define MARK "heritage=dnsfollow,owner=me"

static void add(struct df_rrdb *db, const char *name, uint16_t type, uint32_t ttl,
		const char *a, const char *b)
{
	const char *v[2] = {a, b};
	struct dnsfollow_rrset rr = {name, type, ttl, b ? 2u : 1u, v};
	assert_int_equal(df_rrdb_add(db, &rr), 0);
}

static struct df_want want(const char *const *v4, size_t n4)
{
	struct df_want w = {.fqdn = "git.example.test",
			    .txt_name = "_dnsfollow.git.example.test",
			    .ttl = 60, .nsets = 1, .nothers = 1};
	w.sets[0] = (struct df_want_set){DNSFOLLOW_TYPE_A, v4, n4};
	w.others[0] = DNSFOLLOW_TYPE_CNAME;
	return w;
}

/* Make the record dual-stack: an AAAA set beside its A. */
static void add_aaaa(struct df_want *w, const char *const *v6, size_t n6)
{
	w->sets[w->nsets++] = (struct df_want_set){DNSFOLLOW_TYPE_AAAA, v6, n6};
}

static const char *const ADDR1[] = {"192.0.2.10"};
static const char *const ADDR2[] = {"192.0.2.9", "192.0.2.10"};

static void test_create(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	struct df_want w = want(ADDR1, 1);
	char why[256] = "";
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	/* The marker travels in the same batch, before what it owns. */
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_SET);
	assert_string_equal(p.v[0].rrset.name, "_dnsfollow.git.example.test");
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_TXT);
	assert_int_equal(p.v[0].rrset.ttl, 60);
	assert_string_equal(p.v[0].rrset.rdata[0], MARK);
	assert_int_equal(p.v[1].op, DNSFOLLOW_CHANGE_SET);
	assert_string_equal(p.v[1].rrset.name, "git.example.test");
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_A);
	assert_int_equal(p.v[1].rrset.count, 1);
	assert_string_equal(p.v[1].rrset.rdata[0], "192.0.2.10");
	assert_null(p.v[1].old);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_marker_order_across_records(void **state)
{
	(void)state;
	static const char *const v6[] = {"2001:db8::1"};
	struct df_rrdb db = {0};
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[256];
	struct df_want w = want(ADDR1, 1);
	add_aaaa(&w, v6, 1);
	struct df_want w2 = want(ADDR2, 2);
	w2.fqdn = "ssh.example.test";
	w2.txt_name = "_dnsfollow.ssh.example.test";
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(df_plan_record(&w2, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 5);
	const char *order[] = {"_dnsfollow.git.example.test", "git.example.test", "git.example.test",
			       "_dnsfollow.ssh.example.test", "ssh.example.test"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(p.v[i].rrset.name, order[i]);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_A);
	assert_int_equal(p.v[2].rrset.type, DNSFOLLOW_TYPE_AAAA);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_in_sync_and_update(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_A, 60, "192.0.2.10", NULL);
	add(&db, "_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60, MARK, NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[256];
	struct df_want w = want(ADDR1, 1);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_IN_SYNC);
	assert_int_equal(p.n, 0);
	/* New address: replace the RRset, not the marker; old is passed. */
	w = want(ADDR2, 2);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].rrset.count, 2);
	assert_non_null(p.v[0].old);
	assert_string_equal(p.v[0].old->rdata[0], "192.0.2.10");
	/* TTL alone is a change too. */
	p.n = 0;
	w = want(ADDR1, 1);
	w.ttl = 300;
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.v[0].rrset.ttl, 300);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_foreign(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_A, 60, "198.51.100.1", NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[512] = "";
	struct df_want w = want(ADDR1, 1);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_FOREIGN);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(why, "not owned by dnsfollow"));
	assert_non_null(strstr(why, "adopt = yes"));
	/* adopt takes it over: record and marker. */
	w.adopt = 1;
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_TXT);
	assert_string_equal(p.v[1].old->rdata[0], "198.51.100.1");
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_adopt_same_value_claims(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_A, 60, "192.0.2.10", NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[512];
	struct df_want w = want(ADDR1, 1);
	w.adopt = 1;
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_TXT);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_other_owner(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60,
	    "heritage=dnsfollow,owner=them", NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[512] = "";
	struct df_want w = want(ADDR1, 1);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_FOREIGN);
	assert_non_null(strstr(why, "another dnsfollow"));
	assert_non_null(strstr(why, "owner=them"));
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_on_empty(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_A, 60, "192.0.2.10", NULL);
	add(&db, "_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60, MARK, NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[256];
	struct df_want w = want(NULL, 0);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_KEPT);
	assert_int_equal(p.n, 0);
	w.on_empty_delete = 1;
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_DELETE);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_A);
	df_plan_free(&p);
	df_rrdb_free(&db);
	/* Nothing there and nothing wanted: nothing to do, no marker. */
	struct df_rrdb empty = {0};
	df_rrdb_finish(&empty);
	df_plan_init(&p, MARK);
	assert_int_equal(df_plan_record(&w, &empty, &p, why, sizeof why), DF_REC_IN_SYNC);
	assert_int_equal(p.n, 0);
	df_plan_free(&p);
	df_rrdb_free(&empty);
}

/* on_empty is about a service running nowhere. A dual-stack record whose
 * service now runs on an IPv4-only node loses its stale AAAA even with
 * on_empty = keep; running nowhere keeps both. */
static void test_one_family_empty(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_A, 60, "192.0.2.9", NULL);
	add(&db, "git.example.test", DNSFOLLOW_TYPE_AAAA, 60, "2001:db8::9", NULL);
	add(&db, "_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60, MARK, NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[256];
	struct df_want w = want(ADDR1, 1);
	add_aaaa(&w, NULL, 0);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_SET);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_A);
	assert_string_equal(p.v[0].rrset.rdata[0], "192.0.2.10");
	assert_int_equal(p.v[1].op, DNSFOLLOW_CHANGE_DELETE);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_AAAA);
	assert_non_null(p.v[1].old);
	df_plan_free(&p);
	/* Running nowhere: on_empty = keep keeps both families. */
	df_plan_init(&p, MARK);
	w = want(NULL, 0);
	add_aaaa(&w, NULL, 0);
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_KEPT);
	assert_int_equal(p.n, 0);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_dual_stack(void **state)
{
	(void)state;
	static const char *const v6[] = {"2001:db8::10"};
	struct df_rrdb db = {0};
	add(&db, "git.example.test", DNSFOLLOW_TYPE_AAAA, 60, "2001:db8:0::10", NULL);
	add(&db, "_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60, MARK, NULL);
	df_rrdb_finish(&db);
	struct df_plan p;
	df_plan_init(&p, MARK);
	char why[256];
	struct df_want w = want(ADDR1, 1);
	add_aaaa(&w, v6, 1);
	/* AAAA matches once canonicalised; only A is added. */
	assert_int_equal(df_plan_record(&w, &db, &p, why, sizeof why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_A);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_rrdb(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, "B.example.test.", DNSFOLLOW_TYPE_A, 60, "192.0.2.10", "192.0.2.9");
	add(&db, "a.example.test", DNSFOLLOW_TYPE_A, 60, "192.0.2.1", "192.0.2.1");
	add(&db, "a.example.test", DNSFOLLOW_TYPE_A, 30, "192.0.2.2", NULL);
	const char *bad[] = {"not-an-ip"};
	struct dnsfollow_rrset rr = {"c.example.test", DNSFOLLOW_TYPE_A, 1, 1, bad};
	assert_int_equal(df_rrdb_add(&db, &rr), -EINVAL);
	const char *v6in4[] = {"2001:db8::1"};
	rr.rdata = v6in4;
	assert_int_equal(df_rrdb_add(&db, &rr), -EINVAL);
	df_rrdb_finish(&db);
	const struct df_rr *b = df_rrdb_find(&db, "b.example.test", DNSFOLLOW_TYPE_A);
	assert_non_null(b);
	/* Sorted by value, 9 before 10, names lower-cased without dot. */
	assert_string_equal(b->pub.rdata[0], "192.0.2.9");
	assert_string_equal(b->pub.rdata[1], "192.0.2.10");
	/* A repeated RRset: the last one read wins. */
	const struct df_rr *a = df_rrdb_find(&db, "a.example.test", DNSFOLLOW_TYPE_A);
	assert_int_equal(a->pub.ttl, 30);
	assert_null(df_rrdb_find(&db, "a.example.test", DNSFOLLOW_TYPE_AAAA));
	df_rrdb_free(&db);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(df_name_in_zone("example.org", "example.org"));
	assert_true(df_name_in_zone("git.example.org", "example.org"));
	assert_false(df_name_in_zone("fooexample.org", "example.org"));
	assert_false(df_name_in_zone("example.org", "git.example.org"));
	assert_false(df_name_in_zone("org", "example.org"));
	char *n;
	assert_int_equal(df_name_normalise("Git.Example.ORG.", &n), 0);
	assert_string_equal(n, "git.example.org");
	free(n);
	assert_int_equal(df_name_normalise("a..b", &n), -1);
	assert_int_equal(df_name_normalise("", &n), -1);
	assert_int_equal(df_name_normalise("sp ace.org", &n), -1);
	char label[70];
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_int_equal(df_name_normalise(label, &n), -1);
	char c[46];
	assert_int_equal(df_addr_canon("2001:DB8:0:0::1", c), 6);
	assert_string_equal(c, "2001:db8::1");
	assert_int_equal(df_addr_canon("192.0.2.300", c), 0);
}

static void test_backoff(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		uint64_t b1 = df_backoff_ms(1, 300, 0);
		uint64_t b4 = df_backoff_ms(4, 300, 0);
		uint64_t big = df_backoff_ms(30, 300, 0);
		assert_in_range(b1, 500, 1000);
		assert_in_range(b4, 4000, 8000);
		assert_in_range(big, 150000, 300000);
		/* Retry-After is a floor. */
		assert_true(df_backoff_ms(1, 300, 7000) >= 7000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_marker_order_across_records),
		cmocka_unit_test(test_in_sync_and_update),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_adopt_same_value_claims),
		cmocka_unit_test(test_other_owner),
		cmocka_unit_test(test_on_empty),
		cmocka_unit_test(test_one_family_empty),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_rrdb),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
