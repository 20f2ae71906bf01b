/* Key files (tsig-keygen and keymgr -t formats), base64, and the
 * provider's configuration errors: one clear line, never the secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"
#include "harness.h"

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

/* The flags of the last read_file call, seen through a spy. */
static unsigned read_flags;
static int (*real_read_file)(const struct dnsfollow_host *, const char *,
			     size_t, unsigned, char **, size_t *);

static int spy_read_file(const struct dnsfollow_host *h, const char *p,
			 size_t max, unsigned flags, char **data, size_t *len)
{
	read_flags = flags;
	return real_read_file(h, p, max, flags, data, len);
}

/* r2136_keyfile_load on a file holding `text` (NULL: load `path` as it
 * is); the error text is copied to `err`. */
static int load_path(const char *p, const char *want, struct r2136_key *k,
		     char *err, size_t len)
{
	const struct dnsfollow_host *h = testhost_new("t");
	struct dnsfollow_host *w = (struct dnsfollow_host *)h;
	real_read_file = h->read_file;
	w->read_file = spy_read_file;
	read_flags = 0;
	int rc = r2136_keyfile_load(h, p, want, k);
	snprintf(err, len, "%s", rc ? testhost_error(h) : "");
	testhost_free(h);
	return rc;
}

static int load(const char *text, const char *want, struct r2136_key *k,
		char *err, size_t len)
{
	int rc = load_path(file(text), want, k, err, len);
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
	assert_non_null(strstr(err, ":3: expected keymgr -t output"));
	assert_non_null(strstr(err, path));
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
	assert_non_null(strstr(err, ":1: expected key"));
	assert_null(strstr(err, SECRET));
	assert_int_equal(load("key x {\n\n algorithm hmac-sha256; secret \"abc", NULL,
			      &k, err, sizeof err), -EINVAL);
	/* A name with a line break (found by fuzz-rfc2136-keyfile): refused,
	 * and the message stays one line. */
	assert_int_equal(load("key \"a\nb\" { algorithm hmac-sha256; secret \"" SECRET
			      "\"; };", NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "key name 'a?b' is not a valid DNS name"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(load("options { };", NULL, &k, err, sizeof err), -EINVAL);
	assert_int_equal(load("", NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "holds no key"));
	assert_int_equal(load_path("/nonexistent/k", NULL, &k, err, sizeof err),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/k: cannot open"));
}

/* Issue 8 item 13: a name defined twice (with another algorithm or
 * secret, in either format), or a statement given twice in one key, is
 * refused with FILE:LINE, not silently resolved. */
static void test_duplicate_keys(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[1400], want[1200];
	const char *two = "key \"upd\" { algorithm hmac-sha256; secret \"" SECRET "\"; };\n"
			  "# again\nkey \"UPD.\" {\n algorithm hmac-sha512;\n secret \""
			  SECRET "\"; };\n";
	assert_int_equal(load(two, "upd", &k, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "%s:3: key 'UPD.' is defined again (first at "
		 "line 1)", path);
	if (!strstr(err, want))
		fail_msg("'%s' lacks '%s'", err, want);
	assert_int_equal(load(two, NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "defined again"));
	const char *other_secret = "key upd { algorithm hmac-sha256; secret \"YWJj\"; };\n"
				   "key upd { algorithm hmac-sha256; secret \"" SECRET "\"; };";
	assert_int_equal(load(other_secret, "upd", &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, ":2: key 'upd' is defined again"));
	assert_null(strstr(err, SECRET));
	const char *knot = "key:\n  - id: upd\n    algorithm: hmac-sha256\n    secret: "
			   SECRET "\n  - id: upd\n    algorithm: hmac-sha1\n    secret: "
			   SECRET "\n";
	assert_int_equal(load(knot, "upd", &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, ":5: key 'upd' is defined again (first at line 2)"));
	assert_int_equal(load("key x { algorithm hmac-sha256;\n algorithm hmac-sha1; "
			      "secret \"" SECRET "\"; };", NULL, &k, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, ":2: key 'x' has a second algorithm statement"));
	assert_int_equal(load("key x { secret \"YWJj\"; algorithm hmac-sha256;\n"
			      "secret \"" SECRET "\"; };", NULL, &k, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, ":2: key 'x' has a second secret statement"));
	assert_null(strstr(err, SECRET));
	assert_int_equal(load("key:\n  - id: upd\n    secret: YWJj\n    secret: " SECRET
			      "\n", NULL, &k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, ":4: a key entry has this field twice"));
	assert_null(strstr(err, SECRET));
}

/* Issue 8 item 12: key files go through host->read_file: a FIFO or a
 * directory is refused at once (a FIFO used to block for ever), a NUL
 * byte names its line, and the file is read as a secret (mode warning). */
static void test_file_kinds(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[1400], fifo[64] = "/tmp/r2136-fifo-XXXXXX";
	int fd = mkstemp(fifo);
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	time_t t0 = time(NULL);
	assert_true(load_path(fifo, NULL, &k, err, sizeof err) < 0);
	unlink(fifo);
	assert_true(time(NULL) - t0 <= 2);
	assert_non_null(strstr(err, "a FIFO"));
	assert_non_null(strstr(err, fifo));
	assert_int_equal(load_path("/tmp", NULL, &k, err, sizeof err), -EISDIR);
	assert_non_null(strstr(err, "/tmp: is a directory"));
	static const char nul[] = "key x {\n algorithm hmac-sha256; \0secret \"YWJj\"; };\n";
	snprintf(path, sizeof path, "/tmp/r2136-key-XXXXXX");
	fd = mkstemp(path);
	assert_int_equal(write(fd, nul, sizeof nul - 1), (ssize_t)sizeof nul - 1);
	close(fd);
	assert_int_equal(load_path(path, NULL, &k, err, sizeof err), -EINVAL);
	unlink(path);
	assert_non_null(strstr(err, ":2: contains a NUL byte"));
	assert_int_equal(load("key x { algorithm hmac-sha256; secret \"" SECRET "\"; };",
			      NULL, &k, err, sizeof err), 0);
	assert_int_equal(read_flags, DNSFOLLOW_READ_TEXT | DNSFOLLOW_READ_SECRET);
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
	size_t n = typed_kv(cfg, 16, kvs);
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
		{{"server=127.0.0.1", "key_secret=" SECRET, NULL}, "key_secret needs key_name"},
		{{"server=127.0.0.1", "key_name=k", NULL}, "key_name needs key_secret"},
		{{"server=127.0.0.1", "key_name=k", "key_secret=%%secret%%", NULL},
		 "not valid base64"},
		{{"server=127.0.0.1", "key_file=/x", "key_secret=" SECRET, NULL},
		 "exclude each other"},
		{{"server=127.0.0.1", "key_file=/nonexistent", NULL},
		 "/nonexistent: cannot open"},
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

/* ABI 2: values are typed and checked by the core (transport = quic,
 * timeout_ms = 1x are config errors there, exit 78); the provider
 * declares the types and takes the parsed numbers and the defaults. */
static void test_typed_keys(void **st)
{
	(void)st;
	const struct dnsfollow_key *k, *keys = dnsfollow_plugin.config_keys;
	struct {
		const char *name;
		uint32_t type;
		const char *def;
	} want[] = {
		{"server", DNSFOLLOW_T_STRING, NULL},
		{"key_file", DNSFOLLOW_T_PATH, NULL},
		{"key_algorithm", DNSFOLLOW_T_ENUM, NULL},
		{"key_secret", DNSFOLLOW_T_SECRET, NULL},
		{"transport", DNSFOLLOW_T_ENUM, "udp"},
		{"timeout_ms", DNSFOLLOW_T_UINT, "2000"},
		{"read", DNSFOLLOW_T_ENUM, "auto"},
		{"full_read_interval", DNSFOLLOW_T_DURATION, "600"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		for (k = keys; k->name && strcmp(k->name, want[i].name); k++)
			;
		if (!k->name)
			fail_msg("no key %s", want[i].name);
		assert_int_equal(k->type, want[i].type);
		if (want[i].def)
			assert_string_equal(k->def, want[i].def);
		else
			assert_null(k->def);
		assert_int_equal(k->flags & ~(DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_MULTI), 0);
	}
	assert_int_equal(dnsfollow_plugin.abi_version, 2);
	assert_int_equal(dnsfollow_plugin.struct_size, sizeof dnsfollow_plugin);
	/* the parsed values, and the defaults as the core delivers them */
	const struct dnsfollow_host *h = testhost_new("t");
	const char *kv[] = {"server=127.0.0.1", "transport=tcp", "timeout_ms=750",
			    "read=axfr", "full_read_interval=5m", NULL};
	struct dnsfollow_kv cfg[16];
	struct r2136 *p = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 16, kv),
						 (void **)&p), 0);
	assert_int_equal(p->tcp_only, 1);
	assert_int_equal(p->read_mode, R2136_READ_AXFR);
	assert_int_equal(p->timeout_ms, 750);
	assert_int_equal(p->full_read_ms, 300000);
	dnsfollow_plugin.destroy(p);
	const char *dflt[] = {"server=127.0.0.1", NULL};
	assert_int_equal(dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 16, dflt),
						 (void **)&p), 0);
	assert_int_equal(p->tcp_only, 0);
	assert_int_equal(p->read_mode, R2136_READ_AUTO);
	assert_int_equal(p->timeout_ms, 2000);
	assert_int_equal(p->full_read_ms, 600000);
	dnsfollow_plugin.destroy(p);
	/* the values of earlier versions keep their meaning */
	const char *rq[] = {"server=127.0.0.1", "read=query", NULL};
	assert_int_equal(dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 16, rq),
						 (void **)&p), 0);
	assert_int_equal(p->read_mode, R2136_READ_QUERY);
	dnsfollow_plugin.destroy(p);
	/* key_algorithm arrives as an index into its words */
	const char *alg[] = {"server=127.0.0.1", "key_name=k", "key_secret=" SECRET,
			     "key_algorithm=HMAC-SHA512", NULL};
	assert_int_equal(dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 16, alg),
						 (void **)&p), 0);
	assert_string_equal(r2136_alg_name(p->key.alg), "hmac-sha512");
	dnsfollow_plugin.destroy(p);
	testhost_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_format),
		cmocka_unit_test(test_knot_format),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_file_kinds),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_typed_keys),
	};
	return cmocka_run_group_tests_name("rfc2136 config", tests, NULL, NULL);
}
