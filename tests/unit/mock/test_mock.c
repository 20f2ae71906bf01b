/* The mock provider through a test host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;
#define OPS ((const struct dnsfollow_provider_ops *)dnsfollow_plugin.ops)

static char dir[64], state[128];
static const struct dnsfollow_host *h;

static int setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	snprintf(state, sizeof state, "%s/state.json", dir);
	h = testhost_new("m");
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	testhost_free(h);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void *make(const char *extra)
{
	char st[160], ex[64];
	snprintf(st, sizeof st, "state=%s", state);
	snprintf(ex, sizeof ex, "%s", extra ? extra : "zones=example.test");
	const char *kvs[] = {st, "zones=example.test", ex, NULL};
	struct dnsfollow_kv kv[4];
	size_t n = testhost_kv(kv, 4, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	return self;
}

struct seen {
	int n;
	char text[512];
};

static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	s->n++;
	size_t l = strlen(s->text);
	snprintf(s->text + l, sizeof s->text - l, "%s/%u/%u", rr->name, rr->type, rr->ttl);
	for (size_t i = 0; i < rr->count; i++) {
		l = strlen(s->text);
		snprintf(s->text + l, sizeof s->text - l, " %s", rr->rdata[i]);
	}
	l = strlen(s->text);
	snprintf(s->text + l, sizeof s->text - l, ";");
	return 0;
}

static const struct dnsfollow_rrkey KEYS[] = {
	{"git.example.test", DNSFOLLOW_TYPE_A},
	{"_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT},
};

static void set_a(void *self, const char *addr)
{
	const char *v[] = {addr};
	const char *m[] = {"heritage=dnsfollow,owner=t"};
	struct dnsfollow_change c[2] = {
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {"git.example.test", DNSFOLLOW_TYPE_A, 60, 1, v}},
		{.op = DNSFOLLOW_CHANGE_SET,
		 .rrset = {"_dnsfollow.git.example.test", DNSFOLLOW_TYPE_TXT, 60, 1, m}},
	};
	assert_int_equal(OPS->apply(self, "example.test", c, 2), 0);
}

static void test_roundtrip_and_restart(void **s)
{
	(void)s;
	void *m = make(NULL);
	struct seen seen = {0};
	/* No file yet: an empty zone, not an error. */
	assert_int_equal(OPS->read(m, "example.test", KEYS, 2, collect, &seen), 0);
	assert_int_equal(seen.n, 0);
	set_a(m, "192.0.2.10");
	dnsfollow_plugin.destroy(m);
	/* A new instance sees what the old one wrote. */
	m = make(NULL);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 2, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.text,
			    "git.example.test/1/60 192.0.2.10;_dnsfollow.git.example.test/16/60 heritage=dnsfollow,owner=t;");
	/* Delete, and deleting again is fine. */
	struct dnsfollow_change del = {.op = DNSFOLLOW_CHANGE_DELETE,
				       .rrset = {"git.example.test", DNSFOLLOW_TYPE_A, 0, 0, NULL}};
	assert_int_equal(OPS->apply(m, "example.test", &del, 1), 0);
	assert_int_equal(OPS->apply(m, "example.test", &del, 1), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_int_equal(seen.n, 0);
	dnsfollow_plugin.destroy(m);
	/* No temporary file is left behind. */
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s.tmp", state);
	struct stat st;
	assert_int_not_equal(stat(tmp, &st), 0);
}

static void test_zone_not_served(void **s)
{
	(void)s;
	void *m = make(NULL);
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "other.test", KEYS, 1, collect, &seen), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "zone other.test is not served"));
	dnsfollow_plugin.destroy(m);
}

static void test_fail_every(void **s)
{
	(void)s;
	void *m = make("fail_every=3");
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	int rc = OPS->read(m, "example.test", KEYS, 1, collect, &seen);
	assert_int_equal(rc, -EAGAIN);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "injected failure"));
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	dnsfollow_plugin.destroy(m);
}

static void test_bad_state(void **s)
{
	(void)s;
	static const char *const bad[] = {
		"{not json", "[]", "{\"zones\": 3}",
		"{\"zones\": {\"example.test\": {\"rrsets\": {\"git.example.test\": "
		"{\"A\": {\"ttl\": \"x\", \"rdata\": []}}}}}}",
		"{\"zones\": {\"example.test\": {\"rrsets\": {\"git.example.test\": "
		"{\"A\": {\"ttl\": 5, \"rdata\": [1]}}}}}}",
	};
	void *m = make(NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		FILE *f = fopen(state, "w");
		fputs(bad[i], f);
		fclose(f);
		struct seen seen = {0};
		testhost_clear(h);
		assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), -EIO);
		assert_non_null(strstr(testhost_error(h), "bad state file"));
		assert_int_equal(seen.n, 0);
	}
	dnsfollow_plugin.destroy(m);
}

static void test_bad_config(void **s)
{
	(void)s;
	const char *kvs[] = {"zones=example.test", "fail_every=lots", NULL};
	struct dnsfollow_kv kv[3];
	size_t n = testhost_kv(kv, 3, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "fail_every must be a whole number"));
	const char *kvs2[] = {"zones=example.test", NULL};
	n = testhost_kv(kv, 3, kvs2);
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "state = FILE is required"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_every, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
