/* OVH provider: the id/content cache kept between passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"

static void put(struct ovh_cache *c, const char *zone, const char *name,
		uint16_t type, uint64_t id, const char *target, uint64_t stamp)
{
	struct ovh_rec r = {(char *)zone, (char *)name, type, id, 60,
			    (char *)target, stamp, 0};
	assert_int_equal(ovh_cache_put(c, &r), 0);
}

static void list_keep_forget(void **state)
{
	(void)state;
	struct ovh_cache c;
	ovh_cache_init(&c);
	put(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, 30, "192.0.2.3", 100);
	put(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, 10, "192.0.2.1", 100);
	put(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, 20, "192.0.2.2", 100);
	put(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_AAAA, 40, "2001:db8::1", 100);
	/* Same id in another zone is another record. */
	put(&c, "b.test", "git.b.test", DNSFOLLOW_TYPE_A, 10, "198.51.100.1", 100);

	struct ovh_rec *v;
	long n = ovh_cache_list(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, &v);
	assert_int_equal(n, 3);
	assert_true(v[0].id == 10 && v[1].id == 20 && v[2].id == 30); /* by id */
	assert_string_equal(v[1].target, "192.0.2.2");
	ovh_recs_free(v, (size_t)n);

	/* Replacing by id keeps one entry. */
	put(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, 20, "192.0.2.22", 500);
	n = ovh_cache_list(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, &v);
	assert_int_equal(n, 3);
	assert_string_equal(v[1].target, "192.0.2.22");
	ovh_recs_free(v, (size_t)n);

	/* Freshness. */
	assert_true(ovh_cache_get(&c, "a.test", 20, 400));
	assert_false(ovh_cache_get(&c, "a.test", 10, 400));
	assert_true(ovh_cache_get(&c, "a.test", 10, 0));
	assert_false(ovh_cache_get(&c, "c.test", 10, 0));

	/* The list call is the truth: ids it no longer returns go. */
	const uint64_t still[] = {30};
	ovh_cache_keep_only(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, still, 1);
	n = ovh_cache_list(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_A, &v);
	assert_int_equal(n, 1);
	assert_true(v[0].id == 30);
	ovh_recs_free(v, (size_t)n);
	/* Other keys and zones untouched. */
	assert_true(ovh_cache_get(&c, "a.test", 40, 0));
	assert_true(ovh_cache_get(&c, "b.test", 10, 0));

	ovh_cache_del(&c, "b.test", 10);
	assert_false(ovh_cache_get(&c, "b.test", 10, 0));
	ovh_cache_forget(&c, "a.test", "git.a.test", DNSFOLLOW_TYPE_AAAA);
	assert_false(ovh_cache_get(&c, "a.test", 40, 0));
	n = ovh_cache_list(&c, "a.test", "none.a.test", DNSFOLLOW_TYPE_A, &v);
	assert_int_equal(n, 0);
	ovh_recs_free(v, 0);
	ovh_cache_destroy(&c);
}

/* What markers() uses: a zone-wide keep by type, a peek at one id, and
 * the distinct names under a prefix. */
static void zone_wide(void **state)
{
	(void)state;
	struct ovh_cache c;
	ovh_cache_init(&c);
	put(&c, "a.test", "_dnsfollow.w.a.test", DNSFOLLOW_TYPE_TXT, 3, "m", 100);
	put(&c, "a.test", "_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, 1, "m", 100);
	put(&c, "a.test", "_dnsfollow.w.a.test", DNSFOLLOW_TYPE_TXT, 2, "n", 100);
	put(&c, "a.test", "_dmarc.a.test", DNSFOLLOW_TYPE_TXT, 4, "d", 100);
	put(&c, "a.test", "_dnsfollow.a.a.test", DNSFOLLOW_TYPE_A, 5,
	    "192.0.2.1", 100);
	put(&c, "b.test", "_dnsfollow.b.test", DNSFOLLOW_TYPE_TXT, 6, "m", 100);

	char **names;
	long n = ovh_cache_names(&c, "a.test", DNSFOLLOW_TYPE_TXT, "_dnsfollow.",
				 &names);
	assert_int_equal(n, 2); /* w once; not the A, _dmarc nor b.test's */
	assert_string_equal(names[0], "_dnsfollow.git.a.test");
	assert_string_equal(names[1], "_dnsfollow.w.a.test");
	ovh_names_free(names, (size_t)n);

	struct ovh_peek p;
	assert_true(ovh_cache_peek(&c, "a.test", 4, &p));
	assert_string_equal(p.name, "_dmarc.a.test");
	assert_int_equal(p.type, DNSFOLLOW_TYPE_TXT);
	assert_false(ovh_cache_peek(&c, "a.test", 6, &p));

	/* The zone's TXT list no longer has 1 and 4: only those go. */
	const uint64_t txt[] = {2, 3};
	ovh_cache_keep_type(&c, "a.test", DNSFOLLOW_TYPE_TXT, txt, 2);
	assert_false(ovh_cache_get(&c, "a.test", 1, 0));
	assert_false(ovh_cache_get(&c, "a.test", 4, 0));
	assert_true(ovh_cache_get(&c, "a.test", 2, 0));
	assert_true(ovh_cache_get(&c, "a.test", 5, 0)); /* an A */
	assert_true(ovh_cache_get(&c, "b.test", 6, 0)); /* another zone */

	/* The zone's whole id list (zone.c) no longer has 3: it goes,
	 * whatever its type; the other zone keeps its own. */
	const uint64_t all[] = {2, 5};
	ovh_cache_keep_zone(&c, "a.test", all, 2);
	assert_false(ovh_cache_get(&c, "a.test", 3, 0));
	assert_true(ovh_cache_get(&c, "a.test", 2, 0));
	assert_true(ovh_cache_get(&c, "a.test", 5, 0));
	assert_true(ovh_cache_get(&c, "b.test", 6, 0));
	ovh_cache_keep_zone(&c, "a.test", NULL, 0);
	assert_false(ovh_cache_get(&c, "a.test", 2, 0));
	assert_true(ovh_cache_get(&c, "b.test", 6, 0));
	ovh_cache_destroy(&c);
}

static void grows(void **state)
{
	(void)state;
	struct ovh_cache c;
	ovh_cache_init(&c);
	for (uint64_t i = 1; i <= 1000; i++)
		put(&c, "a.test", "x.a.test", DNSFOLLOW_TYPE_TXT, i, "t", 1);
	struct ovh_rec *v;
	long n = ovh_cache_list(&c, "a.test", "x.a.test", DNSFOLLOW_TYPE_TXT, &v);
	assert_int_equal(n, 1000);
	assert_true(v[999].id == 1000);
	ovh_recs_free(v, (size_t)n);
	ovh_cache_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_keep_forget),
		cmocka_unit_test(zone_wide),
		cmocka_unit_test(grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
