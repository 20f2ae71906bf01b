/* OVH provider: python-ovh's ovh.conf format, credential precedence
 * (config > environment > files in search order) and create() errors. */
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
	char err[512];
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
	ovh_creds_free(&c);

	/* Environment overrides files. */
	setenv("OVH_CONSUMER_KEY", "CKenv", 1);
	setenv("OVH_APPLICATION_KEY", "AKenv", 1);
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.application_key, "AKenv");
	assert_string_equal(c.consumer_key, "CKenv");
	assert_string_equal(c.application_secret, "AShome");
	assert_string_equal(c.source, "OVH_APPLICATION_KEY");
	ovh_creds_free(&c);

	/* Config keys override the environment. */
	given.consumer_key = "CKcfg";
	assert_int_equal(resolve(&given, NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.consumer_key, "CKcfg");
	assert_string_equal(c.application_key, "AKenv");
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
}

static int create(const struct dnsfollow_host *h, const char *const *kvs,
		  void **self)
{
	struct dnsfollow_kv kv[16];
	size_t n = testhost_kv(kv, 16, kvs);
	return dnsfollow_plugin.create(h, kv, n, self);
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
	dnsfollow_plugin.destroy(self);
	assert_null(strstr(testhost_log(h), "readable by other"));

	const char *bad_ep[] = {cred, "endpoint=ovh-mars", NULL};
	assert_int_equal(create(h, bad_ep, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "unknown \"ovh-mars\""));

	const char *bad_rate[] = {cred, "rate_limit=fast", NULL};
	assert_int_equal(create(h, bad_rate, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "rate_limit"));
	const char *bad_inflight[] = {cred, "max_inflight=0", NULL};
	assert_int_equal(create(h, bad_inflight, &self), -EINVAL);
	const char *bad_inflight2[] = {cred, "max_inflight=2.5", NULL};
	assert_int_equal(create(h, bad_inflight2, &self), -EINVAL);
	const char *bad_burst[] = {cred, "burst=-1", NULL};
	assert_int_equal(create(h, bad_burst, &self), -EINVAL);

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

	/* A credentials file readable by others is used, with a warning. */
	write_file("open.conf", conf_eu, 0644);
	char cred3[600];
	snprintf(cred3, sizeof cred3, "credentials=%s", path("open.conf"));
	const char *open_[] = {cred3, NULL};
	testhost_clear(h);
	assert_int_equal(create(h, open_, &self), 0);
	dnsfollow_plugin.destroy(self);
	assert_non_null(strstr(testhost_log(h), "readable by other users"));
	assert_null(strstr(testhost_log(h), "ASfile1"));
	testhost_free(h);
}

/* Without `credentials`, the plugin searches ./ovh.conf then ~/.ovh.conf. */
static void search_list(void **state)
{
	(void)state;
	char old_cwd[512], home[300];
	assert_non_null(getcwd(old_cwd, sizeof old_cwd));
	const char *old_home = getenv("HOME");
	char *saved_home = old_home ? strdup(old_home) : NULL;
	snprintf(home, sizeof home, "%s/home", dir);
	assert_int_equal(mkdir(home, 0700), 0);
	write_file("home/.ovh.conf", conf_eu, 0600);
	setenv("HOME", home, 1);
	assert_int_equal(chdir(dir), 0);

	const struct dnsfollow_host *h = testhost_new("ovh");
	void *self = NULL;
	const char *none[] = {"endpoint=https://127.0.0.1:15500/1.0", NULL};
	assert_int_equal(create(h, none, &self), 0);
	struct ovh *o = self;
	assert_string_equal(o->cr.application_key, "AKfile1");
	assert_non_null(strstr(o->cr.source, "home/.ovh.conf"));
	dnsfollow_plugin.destroy(self);

	/* ./ovh.conf wins over ~/.ovh.conf. */
	write_file("ovh.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\napplication_key=AKcwd\n", 0600);
	assert_int_equal(create(h, none, &self), 0);
	o = self;
	assert_string_equal(o->cr.application_key, "AKcwd");
	assert_string_equal(o->cr.consumer_key, "CKfile1");
	assert_string_equal(o->base, "https://127.0.0.1:15500/1.0");
	dnsfollow_plugin.destroy(self);
	testhost_free(h);

	assert_int_equal(chdir(old_cwd), 0);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	free(saved_home);
}

static void descriptor(void **state)
{
	(void)state;
	assert_int_equal(dnsfollow_plugin.abi_version, DNSFOLLOW_ABI_VERSION);
	assert_string_equal(dnsfollow_plugin.name, "ovh");
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	assert_true(ops->caps & DNSFOLLOW_CAP_TXT);
	assert_false(ops->caps & DNSFOLLOW_CAP_ATOMIC);
	int secret = 0;
	for (const struct dnsfollow_key *k = dnsfollow_plugin.config_keys; k->name; k++)
		if (k->flags & DNSFOLLOW_KEY_SECRET)
			secret++;
	assert_int_equal(secret, 2); /* application_secret, consumer_key */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(parse_python_ovh_file, setup, teardown),
		cmocka_unit_test_setup_teardown(precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(search_list, setup, teardown),
		cmocka_unit_test(descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
