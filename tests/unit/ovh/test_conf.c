/* OVH provider: python-ovh's ovh.conf format, credential precedence
 * (config > environment > files in search order), create() errors, the
 * credentials file's permissions and the masking of secrets it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static char dir[256];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static const char *path(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void clear_env(void)
{
	unsetenv("OVH_ENDPOINT");
	unsetenv("OVH_APPLICATION_KEY");
	unsetenv("OVH_APPLICATION_SECRET");
	unsetenv("OVH_CONSUMER_KEY");
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ovh-conf-XXXXXX");
	assert_non_null(mkdtemp(dir));
	clear_env();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* python-ovh's own example file, unchanged. */
static const char *conf_eu =
	"[default]\n"
	"; general configuration: default endpoint\n"
	"endpoint=ovh-eu\n"
	"\n"
	"[ovh-eu]\n"
	"# your application's credentials\n"
	"application_key=AKfile1\n"
	"application_secret=ASfile1\n"
	"consumer_key=CKfile1\n"
	"\n"
	"[ovh-ca]\n"
	"application_key=AKca\n"
	"application_secret=ASca\n"
	"consumer_key=CKca\n";

static void parse_python_ovh_file(void **state)
{
	(void)state;
	write_file("ovh.conf", conf_eu, 0600);
	struct ovh_creds c = {0};
	char err[256];
	assert_int_equal(ovh_conf_merge(path("ovh.conf"), NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-eu");
	assert_string_equal(c.application_key, "AKfile1");
	assert_string_equal(c.application_secret, "ASfile1");
	assert_string_equal(c.consumer_key, "CKfile1");
	ovh_creds_free(&c);
	/* Another endpoint's section. */
	assert_int_equal(ovh_conf_merge(path("ovh.conf"), "ovh-ca", &c, err, sizeof err), 0);
	assert_string_equal(c.application_key, "AKca");
	assert_string_equal(c.consumer_key, "CKca");
	ovh_creds_free(&c);
	/* Keys are case-insensitive, values trimmed, ':' works too. */
	write_file("b.conf", "[default]\nENDPOINT : ovh-ca\n[ovh-ca]\n"
		   "Application_Key =  spaced  \n", 0600);
	assert_int_equal(ovh_conf_merge(path("b.conf"), NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-ca");
	assert_string_equal(c.application_key, "spaced");
	assert_null(c.application_secret);
	ovh_creds_free(&c);
	assert_int_equal(ovh_conf_merge(path("none.conf"), NULL, &c, err, sizeof err), -ENOENT);
	write_file("bad.conf", "[default\nendpoint=ovh-eu\n", 0600);
	assert_int_equal(ovh_conf_merge(path("bad.conf"), NULL, &c, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "bad.conf:1:"));
}

static int resolve(const struct ovh_creds *given, const char *credentials,
		   struct ovh_creds *out, char *err, size_t errlen)
{
	const char *paths[] = {path("cwd.conf"), path("home.conf"),
			       path("etc.conf"), NULL};
	return ovh_creds_resolve(NULL, given, credentials, paths, out, err, errlen);
}

static void precedence(void **state)
{
	(void)state;
	struct ovh_creds given = {0}, c;
	char err[1024];
	/* Nothing anywhere: a clear error naming what is missing. */
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "no application_key for endpoint ovh-eu"));
	assert_non_null(strstr(err, "OVH_APPLICATION_KEY"));

	/* Search order: ./ovh.conf before ~/.ovh.conf before /etc/ovh.conf,
	 * value by value. */
	write_file("etc.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKetc\napplication_secret=ASetc\n"
		   "consumer_key=CKetc\n", 0600);
	write_file("home.conf", "[ovh-eu]\napplication_secret=AShome\n"
		   "consumer_key=CKhome\n", 0600);
	write_file("cwd.conf", "[ovh-eu]\nconsumer_key=CKcwd\n", 0600);
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-eu");
	assert_string_equal(c.application_key, "AKetc");
	assert_string_equal(c.application_secret, "AShome");
	assert_string_equal(c.consumer_key, "CKcwd");
	assert_string_equal(c.ak_from, path("etc.conf"));
	assert_string_equal(c.as_from, path("home.conf"));
	assert_string_equal(c.ck_from, path("cwd.conf"));
	ovh_creds_free(&c);

	/* Incomplete: the error says where the keys it found came from,
	 * where the endpoint came from, and why each file read gave none. */
	char want[1024], etc[512], cwd[512], home[512];
	snprintf(etc, sizeof etc, "%s", path("etc.conf"));
	snprintf(cwd, sizeof cwd, "%s", path("cwd.conf"));
	snprintf(home, sizeof home, "%s", path("home.conf"));
	write_file("home.conf", "[ovh-eu]\nconsumer_key=CKhome\n", 0600);
	write_file("etc.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKetc\n", 0600);
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "no application_secret for endpoint "
		 "ovh-eu (from %s:2): set it in the provider section, in "
		 "OVH_APPLICATION_SECRET, or in an ovh.conf (credentials = "
		 "PATH, or ./ovh.conf, ~/.ovh.conf, /etc/ovh.conf); found: "
		 "application_key from %s, no application_secret, consumer_key "
		 "from %s (read %s: its [ovh-eu] section (line 1) has no "
		 "application_secret; read %s: its [ovh-eu] section (line 1) "
		 "has no application_secret; read %s: its [ovh-eu] section "
		 "(line 3) has no application_secret)", etc, etc, cwd, cwd,
		 home, etc);
	assert_string_equal(err, want);
	assert_null(strstr(err, "CKcwd"));
	assert_null(strstr(err, "AKetc"));
	write_file("etc.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKetc\napplication_secret=ASetc\n"
		   "consumer_key=CKetc\n", 0600);
	write_file("home.conf", "[ovh-eu]\napplication_secret=AShome\n"
		   "consumer_key=CKhome\n", 0600);

	/* Environment overrides files. */
	setenv("OVH_CONSUMER_KEY", "CKenv", 1);
	setenv("OVH_APPLICATION_KEY", "AKenv", 1);
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.application_key, "AKenv");
	assert_string_equal(c.consumer_key, "CKenv");
	assert_string_equal(c.application_secret, "AShome");
	assert_string_equal(c.ak_from, "OVH_APPLICATION_KEY");
	assert_string_equal(c.ck_from, "OVH_CONSUMER_KEY");
	ovh_creds_free(&c);

	/* Config keys override the environment. */
	given.consumer_key = "CKcfg";
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.consumer_key, "CKcfg");
	assert_string_equal(c.application_key, "AKenv");
	char from[600];
	ovh_creds_sources(&c, from, sizeof from);
	snprintf(want, sizeof want, "application_key from OVH_APPLICATION_KEY, "
		 "application_secret from %s, consumer_key from the provider "
		 "section", path("home.conf"));
	assert_string_equal(from, want);
	ovh_creds_free(&c);
	clear_env();

	/* credentials = PATH: that file only, the search list is ignored. */
	write_file("given.conf", conf_eu, 0600);
	given.consumer_key = NULL;
	assert_int_equal(resolve(&given, path("given.conf"), &c, err, sizeof err), 0);
	assert_string_equal(c.application_key, "AKfile1");
	assert_string_equal(c.consumer_key, "CKfile1");
	ovh_creds_free(&c);
	assert_int_equal(resolve(&given, path("missing.conf"), &c, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "missing.conf does not exist"));

	/* OVH_ENDPOINT selects the section. */
	setenv("OVH_ENDPOINT", "ovh-ca", 1);
	assert_int_equal(resolve(&given, path("given.conf"), &c, err, sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-ca");
	assert_string_equal(c.application_key, "AKca");
	ovh_creds_free(&c);
	clear_env();

	/* An endpoint URL with no section of its own uses the file's
	 * [default] endpoint section. */
	given.endpoint = "https://127.0.0.1:15500/1.0";
	assert_int_equal(resolve(&given, path("given.conf"), &c, err, sizeof err), 0);
	assert_string_equal(c.endpoint, "https://127.0.0.1:15500/1.0");
	assert_string_equal(c.application_key, "AKfile1");
	ovh_creds_free(&c);
	/* A named endpoint never borrows another region's keys. */
	given.endpoint = "ovh-us";
	assert_int_equal(resolve(&given, path("given.conf"), &c, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "no application_key for endpoint ovh-us"));
}

/* The configuration typed as the core does: -1 when the core would
 * refuse it (--check-config, exit 78) before create() ever saw it. */
static long typed(struct dnsfollow_kv *kv, size_t cap, const char *const *kvs)
{
	return testhost_kv_typed(kv, cap, kvs, dnsfollow_plugin.config_keys);
}

static int create(const struct dnsfollow_host *h, const char *const *kvs,
		  void **self)
{
	struct dnsfollow_kv kv[32];
	long n = typed(kv, 32, kvs);
	if (n < 0)
		fail_msg("the core would refuse this configuration");
	return dnsfollow_plugin.create(h, kv, (size_t)n, self);
}

/* Refused by the core's validator of the declared key types. */
static void refused_by_core(const char *kv1)
{
	const char *kvs[] = {kv1, NULL};
	struct dnsfollow_kv kv[32];
	if (typed(kv, 32, kvs) >= 0)
		fail_msg("accepted: %s", kv1);
}

static void create_errors(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	void *self = NULL;
	write_file("good.conf", conf_eu, 0600);
	char cred[600];
	snprintf(cred, sizeof cred, "credentials=%s", path("good.conf"));

	const char *ok[] = {cred, NULL};
	assert_int_equal(create(h, ok, &self), 0);
	/* The defaults the core delivers from the key table. */
	const struct ovh *o = self;
	assert_int_equal(o->timeout_ms, 10000);
	assert_int_equal(o->max_inflight, 4);
	assert_true(o->bucket.rate == 1.0 && o->bucket.burst == 10.0);
	dnsfollow_plugin.destroy(self);
	const char *set[] = {cred, "rate_limit=7", "burst=3", "max_inflight=9",
			     "timeout_ms=2500", NULL};
	assert_int_equal(create(h, set, &self), 0);
	o = self;
	assert_int_equal(o->timeout_ms, 2500);
	assert_int_equal(o->max_inflight, 9);
	assert_true(o->bucket.rate == 7.0 && o->bucket.burst == 3.0);
	dnsfollow_plugin.destroy(self);
	assert_null(strstr(testhost_log(h), "readable by other"));

	const char *bad_ep[] = {cred, "endpoint=ovh-mars", NULL};
	assert_int_equal(create(h, bad_ep, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "unknown \"ovh-mars\""));

	/* Numbers are the core's business now (typed keys): what it would
	 * refuse never reaches create(). Fractions of a request per second
	 * are not whole numbers any more. */
	const char *const bad[] = {"rate_limit=fast", "rate_limit=0.5",
				   "rate_limit=-1", "max_inflight=0",
				   "max_inflight=2.5", "max_inflight=65",
				   "burst=-1", "burst=0", "timeout_ms=99",
				   "timeout_ms=600001", NULL};
	for (size_t i = 0; bad[i]; i++)
		refused_by_core(bad[i]);
	const char *unlimited[] = {cred, "rate_limit=0", NULL};
	assert_int_equal(create(h, unlimited, &self), 0);
	dnsfollow_plugin.destroy(self);

	/* Clear text only to this machine. */
	const char *clear[] = {cred, "endpoint=http://192.0.2.1:8080/1.0", NULL};
	assert_int_equal(create(h, clear, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "clear text"));
	const char *local[] = {cred, "endpoint=http://127.0.0.1:8080/1.0", NULL};
	assert_int_equal(create(h, local, &self), 0);
	dnsfollow_plugin.destroy(self);

	/* Missing secret: the message names the key, never a value. */
	write_file("nosecret.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKx\nconsumer_key=CKsecretvalue\n", 0600);
	char cred2[600];
	snprintf(cred2, sizeof cred2, "credentials=%s", path("nosecret.conf"));
	const char *nosec[] = {cred2, NULL};
	testhost_clear(h);
	assert_int_equal(create(h, nosec, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "no application_secret"));
	assert_null(strstr(testhost_error(h), "CKsecretvalue"));
	assert_null(strstr(testhost_log(h), "CKsecretvalue"));

	testhost_free(h);
}

/* What create() wrote to stderr (where the host's own warnings go). */
static void create_capturing(const struct dnsfollow_host *h,
			     const char *const *kv, char *out, size_t cap)
{
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	dup2(fileno(tmp), 2);
	void *self = NULL;
	int rc = create(h, kv, &self);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, cap - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	assert_int_equal(rc, 0);
	dnsfollow_plugin.destroy(self);
}

/* A credentials file readable by its group or by others is used, with a
 * warning (host->read_file's, once per path) naming the file and its
 * mode; 0600 and 0400 are quiet. */
static void permissions(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	static const struct {
		mode_t mode;
		const char *warning;
	} cases[] = {
		{0600, NULL},
		{0400, NULL},
		{0640, "readable by its group (mode 640)"},
		{0604, "(mode 604)"},
		{0644, "(mode 644)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[32], cred[600], log[4096];
		snprintf(name, sizeof name, "perm%zu.conf", i);
		snprintf(cred, sizeof cred, "credentials=%s", path(name));
		const char *kv[] = {cred, NULL};
		write_file(name, conf_eu, cases[i].mode);
		testhost_clear(h);
		create_capturing(h, kv, log, sizeof log);
		if (!cases[i].warning && strstr(log, "readable by"))
			fail_msg("mode %o: %s", (unsigned)cases[i].mode, log);
		if (cases[i].warning && (!strstr(log, cases[i].warning) ||
					 !strstr(log, path(name))))
			fail_msg("mode %o: %s", (unsigned)cases[i].mode, log);
	}
	testhost_free(h);
}

/* Secrets read from a file or the environment are registered with the
 * host, so no log line or error shows them; one too short to be masked is
 * refused, naming where it came from but not the value. */
static void secrets_registered(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	write_file("sec.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKsec\napplication_secret=ASfromFile42\n"
		   "consumer_key=CKshouldBeMasked\n", 0600);
	setenv("OVH_APPLICATION_SECRET", "ASfromEnv1234", 1);
	char cred[600];
	snprintf(cred, sizeof cred, "credentials=%s", path("sec.conf"));
	const char *kv[] = {cred, NULL};
	void *self = NULL;
	assert_int_equal(create(h, kv, &self), 0);
	dnsfollow_plugin.destroy(self);
	h->log(h, DNSFOLLOW_LOG_DEBUG, "leak %s %s", "CKshouldBeMasked",
	       "ASfromEnv1234");
	h->error(h, -EACCES, "leak %s", "CKshouldBeMasked");
	assert_null(strstr(testhost_log(h), "CKshouldBeMasked"));
	assert_null(strstr(testhost_log(h), "ASfromEnv1234"));
	assert_non_null(strstr(testhost_log(h), "leak *** ***"));
	assert_string_equal(testhost_error(h), "leak ***");

	setenv("OVH_APPLICATION_SECRET", "q9Z", 1);
	testhost_clear(h);
	assert_int_equal(create(h, kv, &self), -EINVAL);
	assert_string_equal(testhost_error(h), "application_secret from "
			    "OVH_APPLICATION_SECRET is too short to be masked "
			    "in logs (fewer than 4 characters); refusing it");
	clear_env();
	testhost_free(h);
}

/* python-ovh's search list, highest priority first. */
static void default_paths(void **state)
{
	(void)state;
	const char *old_home = getenv("HOME");
	char *saved = old_home ? strdup(old_home) : NULL;
	char buf[300];
	const char *p[4];
	setenv("HOME", "/home/someone", 1);
	ovh_default_paths(buf, sizeof buf, p);
	assert_string_equal(p[0], "./ovh.conf");
	assert_string_equal(p[1], "/home/someone/.ovh.conf");
	assert_string_equal(p[2], "/etc/ovh.conf");
	assert_null(p[3]);
	unsetenv("HOME");
	ovh_default_paths(buf, sizeof buf, p);
	assert_string_equal(p[1], "/etc/ovh.conf");
	assert_null(p[2]);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
}

static int create_paths(const struct dnsfollow_host *h, const char *const *kvs,
			const char *const *paths, void **self)
{
	struct dnsfollow_kv kv[32];
	long n = typed(kv, 32, kvs);
	if (n < 0)
		fail_msg("the core would refuse this configuration");
	return ovh_create_with_paths(h, kv, (size_t)n, paths, self);
}

/* Without `credentials`, the files of the search list are merged key by
 * key, the first file holding a key winning. The list is the test's own,
 * so whatever /etc/ovh.conf this machine has does not matter. */
static void search_list(void **state)
{
	(void)state;
	const char *paths[] = {path("cwd.conf"), path("home.conf"),
			       path("etc.conf"), NULL};
	write_file("home.conf", conf_eu, 0600);
	const struct dnsfollow_host *h = testhost_new("ovh");
	void *self = NULL;
	const char *none[] = {"endpoint=https://127.0.0.1:15500/1.0", NULL};
	assert_int_equal(create_paths(h, none, paths, &self), 0);
	struct ovh *o = self;
	assert_string_equal(o->cr.application_key, "AKfile1");
	assert_string_equal(o->cr.ak_from, path("home.conf"));
	dnsfollow_plugin.destroy(self);

	/* The first file wins over the second, key by key; the third fills
	 * in what neither has. */
	write_file("cwd.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AKcwd\n", 0600);
	write_file("home.conf", "[ovh-eu]\napplication_key=AKhome\n"
		   "consumer_key=CKhome\n", 0600);
	write_file("etc.conf", "[ovh-eu]\napplication_key=AKetc\n"
		   "application_secret=ASetc\nconsumer_key=CKetc\n", 0600);
	assert_int_equal(create_paths(h, none, paths, &self), 0);
	o = self;
	assert_string_equal(o->cr.application_key, "AKcwd");
	assert_string_equal(o->cr.consumer_key, "CKhome");
	assert_string_equal(o->cr.application_secret, "ASetc");
	assert_string_equal(o->base, "https://127.0.0.1:15500/1.0");
	dnsfollow_plugin.destroy(self);

	/* None of them: the error names what is missing. */
	const char *nowhere[] = {path("no1.conf"), path("no2.conf"), NULL};
	assert_int_equal(create_paths(h, none, nowhere, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "no application_key"));
	testhost_free(h);
}

static const struct dnsfollow_key *key_of(const char *name)
{
	for (const struct dnsfollow_key *k = dnsfollow_plugin.config_keys;
	     k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	fail_msg("no key %s", name);
	return NULL;
}

static void descriptor(void **state)
{
	(void)state;
	assert_int_equal(dnsfollow_plugin.abi_version, DNSFOLLOW_ABI_VERSION);
	assert_int_equal(dnsfollow_plugin.struct_size,
			 sizeof(struct dnsfollow_plugin));
	assert_int_equal(dnsfollow_plugin.kind, DNSFOLLOW_KIND_PROVIDER);
	assert_string_equal(dnsfollow_plugin.name, "ovh");
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	assert_int_equal(ops->struct_size, sizeof *ops);
	assert_false(ops->caps & DNSFOLLOW_CAP_ATOMIC);
	/* The types the record code handles, 0-terminated. */
	const uint16_t want[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
				 DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_CNAME, 0};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(ops->types[i], want[i]);
	int secret = 0;
	for (const struct dnsfollow_key *k = dnsfollow_plugin.config_keys; k->name; k++)
		if (k->type == DNSFOLLOW_T_SECRET)
			secret++;
	assert_int_equal(secret, 2);
	assert_int_equal(key_of("application_secret")->type, DNSFOLLOW_T_SECRET);
	assert_int_equal(key_of("consumer_key")->type, DNSFOLLOW_T_SECRET);
	assert_int_equal(key_of("credentials")->type, DNSFOLLOW_T_PATH);
	assert_int_equal(key_of("ca_file")->type, DNSFOLLOW_T_PATH);
	static const char *const nums[] = {"rate_limit", "burst", "max_inflight",
					   "timeout_ms"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(key_of(nums[i])->type, DNSFOLLOW_T_UINT);
		assert_non_null(key_of(nums[i])->def);
	}
	assert_null(dnsfollow_plugin.record_keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parse_python_ovh_file, setup, teardown),
		cmocka_unit_test_setup_teardown(precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(secrets_registered, setup, teardown),
		cmocka_unit_test(default_paths),
		cmocka_unit_test_setup_teardown(search_list, setup, teardown),
		cmocka_unit_test(descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
