/* OVH provider: the token bucket, on a clock the test controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"

static void burst_then_rate(void **state)
{
	(void)state;
	struct ovh_bucket b;
	ovh_bucket_init(&b, 2.0, 3.0, 1000);
	/* The burst goes out at once... */
	assert_int_equal(ovh_bucket_take(&b, 1000), 0);
	assert_int_equal(ovh_bucket_take(&b, 1000), 0);
	assert_int_equal(ovh_bucket_take(&b, 1000), 0);
	/* ...then callers queue one interval (500 ms at 2/s) apart. */
	assert_int_equal(ovh_bucket_take(&b, 1000), 500);
	assert_int_equal(ovh_bucket_take(&b, 1000), 1000);
	/* 1 s later two tokens came back, both already reserved. */
	assert_int_equal(ovh_bucket_take(&b, 2000), 500);
	ovh_bucket_destroy(&b);
}

static void refill_is_capped(void **state)
{
	(void)state;
	struct ovh_bucket b;
	ovh_bucket_init(&b, 1.0, 2.0, 0);
	assert_int_equal(ovh_bucket_take(&b, 0), 0);
	assert_int_equal(ovh_bucket_take(&b, 0), 0);
	/* An hour idle refills to the burst, not to 3600. */
	assert_int_equal(ovh_bucket_take(&b, 3600000), 0);
	assert_int_equal(ovh_bucket_take(&b, 3600000), 0);
	assert_int_equal(ovh_bucket_take(&b, 3600000), 1000);
	/* Half a token back after 500 ms: waits are rounded up. */
	ovh_bucket_destroy(&b);
	ovh_bucket_init(&b, 3.0, 1.0, 0);
	assert_int_equal(ovh_bucket_take(&b, 0), 0);
	assert_int_equal(ovh_bucket_take(&b, 0), 334);
	ovh_bucket_destroy(&b);
}

static void fractional_and_unlimited(void **state)
{
	(void)state;
	struct ovh_bucket b;
	ovh_bucket_init(&b, 0.5, 1.0, 0); /* one request every 2 s */
	assert_int_equal(ovh_bucket_take(&b, 0), 0);
	assert_int_equal(ovh_bucket_take(&b, 0), 2000);
	assert_int_equal(ovh_bucket_take(&b, 4000), 0);
	ovh_bucket_destroy(&b);
	ovh_bucket_init(&b, 0, 1.0, 0); /* 0: no limit */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ovh_bucket_take(&b, 0), 0);
	ovh_bucket_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(refill_is_capped),
		cmocka_unit_test(fractional_and_unlimited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
