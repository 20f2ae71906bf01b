/* Key files (tsig-keygen and keymgr -t formats), base64, and the
 * provider's configuration errors: one clear line, never the secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

#define SECRET "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static char path[64];

static const char *file(const char *text)
{
	snprintf(path, sizeof path, "/tmp/r2136-key-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(const char *text, const char *want, struct r2136_key *k,
		char *err, size_t len)
{
	int rc = r2136_keyfile_load(file(text), want, k, err, len);
	unlink(path);
	return rc;
}

static void test_bind_format(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[300];
	assert_int_equal(load("# made by tsig-keygen\nkey \"DDNS.Key.\" {\n"
			      "\talgorithm hmac-sha512; // comment\n"
			      "\tsecret \"" SECRET "\";\n};\n", NULL, &k, err, sizeof err), 0);
	assert_string_equal(k.name, "ddns.key");
	assert_string_equal(r2136_alg_name(k.alg), "hmac-sha512");
	assert_int_equal(k.secret_len, 32);
	assert_memory_equal(k.secret, "0123456789abcdef0123456789abcdef", 32);
	/* two keys: key_name picks, none is an error */
	const char *two = "key a { algorithm hmac-sha1; secret \"" SECRET "\"; };\n"
			  "/* other */ key \"b\" { secret \"YWJj\"; algorithm hmac-sha256; };";
	assert_int_equal(load(two, "b", &k, err, sizeof err), 0);
	assert_string_equal(k.name, "b");
	assert_int_equal(k.secret_len, 3);
	assert_int_equal(load(two, NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "several keys; set key_name"));
	assert_int_equal(load(two, "c", &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "no key named 'c'"));
}

static void test_knot_format(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[300];
	assert_int_equal(load("# hmac-sha256:kk:" SECRET "\nkey:\n  - id: kk\n"
			      "    algorithm: hmac-sha256\n    secret: " SECRET "\n",
			      NULL, &k, err, sizeof err), 0);
	assert_string_equal(k.name, "kk");
	assert_int_equal(k.secret_len, 32);
	assert_int_equal(load("key:\n  - id: kk\n    colour: blue\n", NULL, &k, err,
			      sizeof err), -EINVAL);
	assert_non_null(strstr(err, "line 3"));
}

static void test_bad_files(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[300];
	assert_int_equal(load("key x { algorithm hmac-sha256; secret \"not base64!\"; };",
			      NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not valid base64"));
	assert_null(strstr(err, "not base64!"));
	assert_int_equal(load("key x { algorithm hmac-md5; secret \"" SECRET "\"; };",
			      NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "unsupported TSIG algorithm 'hmac-md5'"));
	assert_int_equal(load("key x { algorithm hmac-sha256; };", NULL, &k, err,
			      sizeof err), -EINVAL);
	assert_non_null(strstr(err, "lacks its secret"));
	assert_int_equal(load("key x { algorithm hmac-sha256; secret \"" SECRET "\" };",
			      NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "line 1: expected"));
	assert_null(strstr(err, SECRET));
	assert_int_equal(load("key x {\n\n algorithm hmac-sha256; secret \"abc", NULL,
			      &k, err, sizeof err), -EINVAL);
	assert_int_equal(load("options { };", NULL, &k, err, sizeof err), -EINVAL);
	assert_int_equal(load("", NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "holds no key"));
	assert_int_equal(r2136_keyfile_load("/nonexistent/k", NULL, &k, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_base64(void **st)
{
	(void)st;
	uint8_t o[16];
	assert_int_equal(r2136_base64_decode("YWJj", o, sizeof o), 3);
	assert_memory_equal(o, "abc", 3);
	assert_int_equal(r2136_base64_decode("YWI=", o, sizeof o), 2);
	assert_int_equal(r2136_base64_decode("YQ==", o, sizeof o), 1);
	assert_int_equal(r2136_base64_decode("YW Jj\n", o, sizeof o), 3);
	assert_int_equal(r2136_base64_decode("YWJ", o, sizeof o), -1);
	assert_int_equal(r2136_base64_decode("YQ==YQ==", o, sizeof o), -1);
	assert_int_equal(r2136_base64_decode("Y*Jj", o, sizeof o), -1);
	assert_int_equal(r2136_base64_decode("", o, sizeof o), -1);
	assert_int_equal(r2136_base64_decode("YWJjYWJjYWJjYWJjYWJjYWJj", o, 4), -1);
}

/* create() with `kvs`; returns its code, the error text in *err. */
static int create(const char *const *kvs, const char **err)
{
	struct dnsfollow_kv cfg[16];
	static char text[1024];
	const struct dnsfollow_host *h = testhost_new("t");
	size_t n = testhost_kv(cfg, 16, kvs);
	void *self = NULL;
	int rc = dnsfollow_plugin.create(h, cfg, n, &self);
	snprintf(text, sizeof text, "%s", testhost_error(h));
	if (rc == 0)
		dnsfollow_plugin.destroy(self);
	testhost_free(h);
	*err = text;
	return rc;
}

static void test_config_errors(void **st)
{
	(void)st;
	const char *e;
	const char *ok[] = {"server=127.0.0.1:5300, [::1]:5301", "server=127.0.0.2",
			    "key_name=k", "key_secret=" SECRET, "key_algorithm=hmac-sha1",
			    "transport=tcp", "timeout_ms=500", "read=axfr",
			    "zones=example.test", NULL};
	assert_int_equal(create(ok, &e), 0);
	struct {
		const char *kv[4];
		const char *msg;
	} bad[] = {
		{{"key_name=k", NULL}, "server is required"},
		{{"server=127.0.0.1:99999", NULL}, "is not host:port"},
		{{"server=[::1", NULL}, "is not host:port"},
		{{"server=127.0.0.1", "transport=quic", NULL}, "transport = quic"},
		{{"server=127.0.0.1", "read=ixfr", NULL}, "read = ixfr"},
		{{"server=127.0.0.1", "timeout_ms=1x", NULL}, "timeout_ms = 1x"},
		{{"server=127.0.0.1", "key_secret=" SECRET, NULL}, "key_secret needs key_name"},
		{{"server=127.0.0.1", "key_name=k", NULL}, "key_name needs key_secret"},
		{{"server=127.0.0.1", "key_name=k", "key_secret=%%secret%%", NULL},
		 "not valid base64"},
		{{"server=127.0.0.1", "key_file=/x", "key_secret=" SECRET, NULL},
		 "exclude each other"},
		{{"server=127.0.0.1", "key_file=/nonexistent", NULL},
		 "key_file /nonexistent: cannot open"},
		{{"server=127.0.0.1", "key_name=k", "key_secret=" SECRET, NULL}, NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = create(bad[i].kv, &e);
		if (!bad[i].msg) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (!strstr(e, bad[i].msg))
			fail_msg("case %zu: expected '%s' in '%s'", i, bad[i].msg, e);
		assert_null(strstr(e, SECRET));
		assert_null(strstr(e, "%%secret%%"));
		assert_null(strchr(e, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_format),
		cmocka_unit_test(test_knot_format),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests_name("rfc2136 config", tests, NULL, NULL);
}
