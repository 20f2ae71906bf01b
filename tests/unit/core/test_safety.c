/* The core's safety rules that need no plugin: a foreign CNAME is seen,
 * duplicates are not "in sync", Retry-After is capped, and unusable
 * addresses are refused by one policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plan.h"
#include "reconcile.h"
#include "util.h"

#define MARK "heritage=dnsfollow,owner=me"
#define NAME "alias.example.test"
#define TXT "_dnsfollow.alias.example.test"

static const char *const ADDR[] = {"192.0.2.10"};

static void add(struct df_rrdb *db, const char *name, uint16_t type,
		const char *a, const char *b)
{
	const char *v[2] = {a, b};
	struct dnsfollow_rrset rr = {name, type, 60, b ? 2u : 1u, v};
	assert_int_equal(df_rrdb_add(db, &rr), 0);
}

static struct df_want want(void)
{
	struct df_want w = {.fqdn = NAME, .txt_name = TXT, .ttl = 60,
			    .nsets = 1, .nothers = 1};
	w.sets[0] = (struct df_want_set){DNSFOLLOW_TYPE_A, ADDR, 1};
	w.others[0] = DNSFOLLOW_TYPE_CNAME;
	return w;
}

static enum df_rec_state plan(struct df_rrdb *db, const struct df_want *w,
			      struct df_plan *p, char *why)
{
	df_rrdb_finish(db);
	df_plan_init(p, MARK);
	return df_plan_record(w, db, p, why, 1024);
}

/* Regression (issue 8.3): a CNAME without a marker was invisible and an
 * A was written beside it. */
static void test_foreign_cname_refused(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_CNAME, "elsewhere.example.test", NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_FOREIGN);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(why, "CNAME"));
	assert_non_null(strstr(why, "adopt = yes"));
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* Under our marker a CNAME is ours (the record's type went from CNAME
 * to A, since ABI 2 writes CNAMEs): replaced in the same batch. */
static void test_cname_beside_our_marker_replaced(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_CNAME, "elsewhere.example.test", NULL);
	add(&db, TXT, DNSFOLLOW_TYPE_TXT, MARK, NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_DELETE);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_CNAME);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_A);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* adopt = yes replaces the CNAME: marker, CNAME delete, A, one batch. */
static void test_adopt_replaces_cname(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_CNAME, "elsewhere.example.test", NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = want();
	w.adopt = 1;
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_TXT);
	assert_int_equal(p.v[1].op, DNSFOLLOW_CHANGE_DELETE);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_CNAME);
	assert_int_equal(p.v[2].op, DNSFOLLOW_CHANGE_SET);
	assert_int_equal(p.v[2].rrset.type, DNSFOLLOW_TYPE_A);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* Regression (issue 8.5): two daemons wrote the same datum twice; it
 * de-duplicated to "in sync" and stayed doubled for ever. */
static void test_duplicates_not_in_sync(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_A, "192.0.2.10", "192.0.2.10");
	add(&db, TXT, DNSFOLLOW_TYPE_TXT, MARK, NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_SET);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_A);
	assert_int_equal(p.v[0].rrset.count, 1);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

static void test_duplicate_marker_collapsed(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_A, "192.0.2.10", NULL);
	add(&db, TXT, DNSFOLLOW_TYPE_TXT, MARK, MARK);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_TXT);
	assert_int_equal(p.v[0].rrset.count, 1);
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* Regression (issue 8.6): Retry-After: 86400 froze a zone for an hour
 * although backoff_max = 10. */
static void test_retry_after_capped(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++) {
		assert_true(df_backoff_ms(1, 10, 86400000u) <= 10000u);
		assert_true(df_backoff_ms(1, 10, 7000u) >= 7000u);
		assert_true(df_backoff_ms(9, 10, 0) <= 10000u);
	}
}

/* Regression (issue 8.7): every one of these was published. */
static void test_address_policy(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"255.255.255.255", "224.0.0.1", "239.1.2.3", "240.0.0.1",
		"0.1.2.3", "169.254.1.1", "fe80::1", "ff02::1",
		"::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::7f00:1",
		"127.0.0.1", "::1", "0.0.0.0", "::",
	};
	static const char *const good[] = {
		"192.0.2.10", "10.0.0.1", "2001:db8::10", "64:ff9b::c000:20a",
		"100.64.0.1", "172.16.0.1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char c[46];
		assert_true(df_addr_canon(bad[i], c) != 0);
		const char *why = df_addr_unusable(c, 0);
		if (!why)
			fail_msg("%s was accepted", bad[i]);
	}
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char c[46];
		assert_true(df_addr_canon(good[i], c) != 0);
		if (df_addr_unusable(c, 0))
			fail_msg("%s was refused: %s", good[i], df_addr_unusable(c, 0));
	}
	/* Loopback and unspecified pass only when allowed. */
	assert_null(df_addr_unusable("127.0.0.1", 1));
	assert_null(df_addr_unusable("::1", 1));
	assert_null(df_addr_unusable("0.0.0.0", 1));
	assert_non_null(df_addr_unusable("224.0.0.1", 1));
	assert_non_null(df_addr_unusable("64:ff9b::7f00:1", 1));
}


static const char *const TARGET[] = {"node1.example.net"};

/* A CNAME record: everything else the provider manages at the name is
 * read, and what dnsfollow did not write there blocks it. */
static struct df_want cname_want(void)
{
	struct df_want w = {.fqdn = NAME, .txt_name = TXT, .ttl = 60, .nsets = 1};
	w.sets[0] = (struct df_want_set){DNSFOLLOW_TYPE_CNAME, TARGET, 1};
	static const uint16_t others[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
					  DNSFOLLOW_TYPE_TXT, 15 /* MX */};
	for (size_t i = 0; i < 4; i++)
		w.others[w.nothers++] = others[i];
	return w;
}

static void test_cname_written(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = cname_want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_CNAME);
	assert_string_equal(p.v[1].rrset.rdata[0], "node1.example.net");
	df_plan_free(&p);
	df_rrdb_free(&db);
	/* Read back with a trailing dot and capitals: in sync. */
	struct df_rrdb db2 = {0};
	add(&db2, NAME, DNSFOLLOW_TYPE_CNAME, "Node1.Example.NET.", NULL);
	add(&db2, TXT, DNSFOLLOW_TYPE_TXT, MARK, NULL);
	assert_int_equal(plan(&db2, &w, &p, why), DF_REC_IN_SYNC);
	df_plan_free(&p);
	df_rrdb_free(&db2);
}

static void test_cname_beside_foreign_a(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_A, "198.51.100.1", NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = cname_want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_FOREIGN);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(why, "adopt = yes"));
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* Our own A (the record's type went from A to CNAME) is replaced; a
 * hand-made MX beside it is not ours and blocks. */
static void test_cname_replaces_our_a(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	add(&db, NAME, DNSFOLLOW_TYPE_A, "198.51.100.1", NULL);
	add(&db, TXT, DNSFOLLOW_TYPE_TXT, MARK, NULL);
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = cname_want();
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_CHANGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].op, DNSFOLLOW_CHANGE_DELETE);
	assert_int_equal(p.v[0].rrset.type, DNSFOLLOW_TYPE_A);
	assert_int_equal(p.v[1].rrset.type, DNSFOLLOW_TYPE_CNAME);
	df_plan_free(&p);
	add(&db, NAME, 15, "10 mail.example.test", NULL);
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_FOREIGN);
	assert_non_null(strstr(why, "MX"));
	df_plan_free(&p);
	df_rrdb_free(&db);
}

/* An answer that cannot make the record fails it with its reason. */
static void test_want_error(void **state)
{
	(void)state;
	struct df_rrdb db = {0};
	struct df_plan p;
	char why[1024] = "";
	struct df_want w = cname_want();
	w.error = "a CNAME holds one target, but service x runs on 2 nodes";
	assert_int_equal(plan(&db, &w, &p, why), DF_REC_BAD);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(why, "one target"));
	df_plan_free(&p);
	df_rrdb_free(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign_cname_refused),
		cmocka_unit_test(test_cname_beside_our_marker_replaced),
		cmocka_unit_test(test_adopt_replaces_cname),
		cmocka_unit_test(test_duplicates_not_in_sync),
		cmocka_unit_test(test_duplicate_marker_collapsed),
		cmocka_unit_test(test_retry_after_capped),
		cmocka_unit_test(test_address_policy),
		cmocka_unit_test(test_cname_written),
		cmocka_unit_test(test_cname_beside_foreign_a),
		cmocka_unit_test(test_cname_replaces_our_a),
		cmocka_unit_test(test_want_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
