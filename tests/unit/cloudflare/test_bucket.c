/*
 * The cloudflare provider's client-side rate limit (no server): with
 * rate_limit = 1200 (Cloudflare: 1,200 requests per 5 minutes per user),
 * a client that always waits as told never sends more than 1200 requests
 * in any 5-minute window, and a burst of a tenth goes out at once;
 * instances with the same token share the budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../providers/cloudflare/cf.h"

/* Times (ms) at which a greedy client sends its requests over `span`. */
static size_t send_times(uint64_t limit, uint64_t span, uint64_t *out, size_t cap)
{
	struct cf_bucket b;
	cf_bucket_init(&b, limit, 0);
	uint64_t t = 0;
	size_t n = 0;
	while (n < cap) {
		t += cf_bucket_take(&b, t);
		if (t >= span)
			break;
		out[n++] = t;
	}
	cf_bucket_destroy(&b);
	return n;
}

static void burst_then_paced(void **state)
{
	(void)state;
	static uint64_t at[20000];
	size_t n = send_times(1200, 3600000, at, 20000);
	assert_true(n >= 120);
	for (size_t i = 0; i < 120; i++)
		assert_int_equal(at[i], 0); /* the burst */
	assert_true(at[120] >= 277 && at[120] <= 279); /* 300 s / 1080 */
	/* Any 5-minute window: at most 1200 requests. */
	for (size_t i = 0, j = 0; i < n; i++) {
		while (at[i] - at[j] >= 300000)
			j++;
		assert_true(i - j + 1 <= 1200);
	}
	/* And the limit is used: an hour holds about 12 windows' worth. */
	assert_true(n >= 12 * 1080);
}

static void zero_is_off(void **state)
{
	(void)state;
	struct cf_bucket b;
	cf_bucket_init(&b, 0, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(cf_bucket_take(&b, 0), 0);
	cf_bucket_destroy(&b);
	static uint64_t at[50];
	size_t n = send_times(5, 300000, at, 50); /* tiny limits still hold */
	assert_true(n >= 1 && n <= 5);
}

/* Instances with the same token and limit share one budget (Cloudflare
 * counts per user); another token or limit gets its own. */
static void shared_by_token(void **state)
{
	(void)state;
	struct cf_bucket *a = cf_bucket_get("token-one", 1200, 0);
	struct cf_bucket *b = cf_bucket_get("token-one", 1200, 0);
	struct cf_bucket *c = cf_bucket_get("token-two", 1200, 0);
	struct cf_bucket *d = cf_bucket_get("token-one", 600, 0);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_ptr_not_equal(a, d);
	for (int i = 0; i < 60; i++) /* 120 of burst, taken by both */
		assert_int_equal(cf_bucket_take(a, 0) + cf_bucket_take(b, 0), 0);
	assert_true(cf_bucket_take(b, 0) > 0);
	assert_int_equal(cf_bucket_take(c, 0), 0);
	cf_bucket_put(a);
	cf_bucket_put(b); /* the last one frees it */
	cf_bucket_put(c);
	cf_bucket_put(d);
	struct cf_bucket *e = cf_bucket_get("token-one", 1200, 0);
	assert_int_equal(cf_bucket_take(e, 0), 0); /* a fresh budget */
	cf_bucket_put(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_paced),
		cmocka_unit_test(zero_is_off),
		cmocka_unit_test(shared_by_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
