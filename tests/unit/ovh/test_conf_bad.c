/* OVH provider: ovh.conf files python-ovh's configparser refuses (a
 * section or a key given twice), or that inih alone would misread (NUL
 * bytes, long section names, values over several lines, a BOM), and
 * paths that are not regular files: each refused with one line naming
 * the file and, where there is one, the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static char dir[256];

static const char *path(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void write_bytes(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path(name), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	chmod(path(name), 0600);
}

static void write_file(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ovh-conf-bad-XXXXXX");
	assert_non_null(mkdtemp(dir));
	unsetenv("OVH_ENDPOINT");
	unsetenv("OVH_APPLICATION_KEY");
	unsetenv("OVH_APPLICATION_SECRET");
	unsetenv("OVH_CONSUMER_KEY");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ovh_conf_merge() on `name`: its code, and err. */
static int merge(const char *name, const char *section, struct ovh_creds *c,
		 char *err, size_t cap)
{
	memset(c, 0, sizeof *c);
	err[0] = '\0';
	int rc = ovh_conf_merge(path(name), section, c, err, cap);
	ovh_creds_free(c);
	return rc;
}

static void expect_error(const char *name, const char *where, const char *what)
{
	struct ovh_creds c;
	char err[512], want[600];
	assert_int_equal(merge(name, NULL, &c, err, sizeof err), -EINVAL);
	snprintf(want, sizeof want, "%s:%s", path(name), where);
	if (!strstr(err, want) || !strstr(err, what))
		fail_msg("%s: got \"%s\", want \"%s\" and \"%s\"", name, err,
			 want, what);
}

static void duplicates(void **state)
{
	(void)state;
	write_file("twosec.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AK1\n[ovh-eu]\napplication_key=AK2\n");
	expect_error("twosec.conf", "5:", "section [ovh-eu] given twice "
		     "(first on line 3)");
	/* Keys are compared as configparser does: case ignored. */
	write_file("twokey.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AK1\nApplication_Key = AK2\n");
	expect_error("twokey.conf", "5:", "key \"Application_Key\" given "
		     "twice in its section (first on line 4)");
	/* The same key in two sections, and the same section name in
	 * another case, are fine. */
	write_file("fine.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=AK1\n[OVH-EU]\napplication_key=AK2\n");
	struct ovh_creds c;
	char err[512];
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("fine.conf"), NULL, &c, err,
					sizeof err), 0);
	assert_string_equal(c.application_key, "AK1");
	ovh_creds_free(&c);
}

static void continued_values(void **state)
{
	(void)state;
	write_file("cont.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_secret=first\n  second\n");
	expect_error("cont.conf", "5:", "the value of \"application_secret\" "
		     "goes on over an indented line");
	/* An indented key at the top of a section is just a key. */
	write_file("indent.conf", "[default]\n  endpoint=ovh-ca\n");
	struct ovh_creds c;
	char err[512];
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("indent.conf"), NULL, &c, err,
					sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-ca");
	ovh_creds_free(&c);
}

/* Debian's libinih cuts section names at 49 bytes; keys must still go to
 * the section they are in, and not to a cut-off name. */
static void long_section_names(void **state)
{
	(void)state;
	char name[128], cut[64], text[512];
	memset(name, 'x', 100);
	name[100] = '\0';
	snprintf(cut, sizeof cut, "%.49s", name);
	snprintf(text, sizeof text, "[%s]\napplication_key=LONG\n[%s]\n"
		 "consumer_key=CUT\n", name, cut);
	write_file("long.conf", text);
	struct ovh_creds c;
	char err[512];
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("long.conf"), name, &c, err,
					sizeof err), 0);
	assert_string_equal(c.application_key, "LONG");
	assert_null(c.consumer_key);
	ovh_creds_free(&c);
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("long.conf"), cut, &c, err,
					sizeof err), 0);
	assert_null(c.application_key);
	assert_string_equal(c.consumer_key, "CUT");
	ovh_creds_free(&c);
}

static void bom_and_nul(void **state)
{
	(void)state;
	write_file("bom.conf", "\xef\xbb\xbf[default]\nendpoint=ovh-ca\n");
	struct ovh_creds c;
	char err[512];
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("bom.conf"), NULL, &c, err,
					sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-ca");
	ovh_creds_free(&c);
	/* A NUL would cut the value short and shift the lines after it. */
	static const char nul[] = "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
				  "application_key=AK\0tail\n";
	write_bytes("nul.conf", nul, sizeof nul - 1);
	expect_error("nul.conf", "4:", "NUL");
	/* Through the host's read_file, in create(): the same line. */
	const struct dnsfollow_host *h = testhost_new("ovh");
	char cred[600];
	snprintf(cred, sizeof cred, "credentials=%s", path("nul.conf"));
	const char *kvs[] = {cred, NULL};
	struct dnsfollow_kv kv[16];
	long n = testhost_kv_typed(kv, 16, kvs, dnsfollow_plugin.config_keys);
	assert_true(n > 0);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)n, &self), -EINVAL);
	char want[600];
	snprintf(want, sizeof want, "%s:4:", path("nul.conf"));
	if (!strstr(testhost_error(h), want) || !strstr(testhost_error(h), "NUL"))
		fail_msg("%s", testhost_error(h));
	testhost_free(h);
}

/* A FIFO would block a plain read for ever; a directory gives odd read
 * errors. Both are refused at once, naming the path. */
static void not_regular_files(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	assert_int_equal(mkfifo(path("fifo.conf"), 0600), 0);
	assert_int_equal(mkdir(path("dir.conf"), 0700), 0);
	static const char *const names[] = {"fifo.conf", "dir.conf"};
	static const char *const kinds[] = {"FIFO", "directory"};
	for (size_t i = 0; i < 2; i++) {
		char cred[600];
		snprintf(cred, sizeof cred, "credentials=%s", path(names[i]));
		const char *kvs[] = {cred, NULL};
		struct dnsfollow_kv kv[16];
		long n = testhost_kv_typed(kv, 16, kvs,
					   dnsfollow_plugin.config_keys);
		assert_true(n > 0);
		void *self = NULL;
		time_t t0 = time(NULL);
		testhost_clear(h);
		assert_true(dnsfollow_plugin.create(h, kv, (size_t)n, &self) < 0);
		assert_true(time(NULL) - t0 < 3);
		const char *e = testhost_error(h);
		if (!strstr(e, path(names[i])) || !strstr(e, kinds[i]))
			fail_msg("%s: %s", names[i], e);
	}
	testhost_free(h);
}

/* configparser refuses a key before any [section] header
 * (MissingSectionHeaderError); inih would file it under "". */
static void key_outside_section(void **state)
{
	(void)state;
	write_file("nosec.conf", "application_key=x1234\n[default]\n"
		   "endpoint=ovh-eu\n[ovh-eu]\napplication_key=AK\n");
	expect_error("nosec.conf", "1:", "key \"application_key\" comes "
		     "before any [section]");
	/* Comments and blank lines before the first header are fine. */
	write_file("comment.conf", "; python-ovh\n\n# creds\n[default]\n"
		   "endpoint=ovh-ca\n");
	struct ovh_creds c;
	char err[512];
	memset(&c, 0, sizeof c);
	assert_int_equal(ovh_conf_merge(path("comment.conf"), NULL, &c, err,
					sizeof err), 0);
	assert_string_equal(c.endpoint, "ovh-ca");
	ovh_creds_free(&c);
}

/* ovh_creds_resolve() with `credentials = name` and nothing else: its
 * code, err asserted to hold every one of want[] (NULL-ended). */
static void expect_resolve(const char *name, const char *const *want)
{
	struct ovh_creds given = {0}, out;
	char err[1024];
	assert_int_equal(ovh_creds_resolve(NULL, &given, path(name), NULL,
					   &out, err, sizeof err), -EINVAL);
	for (size_t i = 0; want[i]; i++)
		if (!strstr(err, want[i]))
			fail_msg("%s: got \"%s\", want \"%s\"", name, err,
				 want[i]);
	assert_null(strstr(err, "Sekr1t"));
	assert_null(strchr(err, '\n'));
}

static const char eu_tail[] = "[ovh-eu]\napplication_key=appkeyvalue\n"
			      "application_secret=AppSekr1tValue\n"
			      "consumer_key=ConsSekr1tValue\n";

/* An endpoint read from an ovh.conf is refused naming the file and the
 * line it is on, not as if it had come from the provider section. */
static void endpoint_from_file(void **state)
{
	(void)state;
	static const struct {
		const char *endpoint, *what;
	} cases[] = {
		{"ovh-mars", "endpoint: unknown \"ovh-mars\" (ovh-eu, "},
		{"http://example.com/1.0", "endpoint: refusing http:// to "
					   "\"example.com\""},
		{"ftp://example.com/1.0", "endpoint: \"ftp://example.com/1.0\" "
					  "is not an https:// URL"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512], where[600];
		snprintf(text, sizeof text, "[default]\nendpoint=%s\n%s",
			 cases[i].endpoint, eu_tail);
		write_file("ep.conf", text);
		snprintf(where, sizeof where, "%s:2: endpoint: ", path("ep.conf"));
		const char *want[] = {where, cases[i].what, NULL};
		expect_resolve("ep.conf", want);
	}
	/* From the environment: says so. */
	write_file("ep.conf", eu_tail);
	setenv("OVH_ENDPOINT", "ovh-mars", 1);
	const char *want[] = {"endpoint: unknown \"ovh-mars\"",
			      "(from OVH_ENDPOINT)", NULL};
	expect_resolve("ep.conf", want);
	unsetenv("OVH_ENDPOINT");
}

/* A key missing because of what an ovh.conf holds (or lacks): the error
 * names the file, why it gave nothing, and where the endpoint came from. */
static void missing_from_file(void **state)
{
	(void)state;
	char a[600], b[600];
	write_file("empty.conf", "");
	snprintf(a, sizeof a, "(read %s: it has no [ovh-eu] section)",
		 path("empty.conf"));
	const char *w1[] = {"no application_key for endpoint ovh-eu (the "
			    "default): set it", a, NULL};
	expect_resolve("empty.conf", w1);

	char text[512];
	snprintf(text, sizeof text, "[default]\nendpoint=ovh-ca\n%s", eu_tail);
	write_file("ca.conf", text);
	snprintf(a, sizeof a, "no application_key for endpoint ovh-ca (from "
		 "%s:2): set it", path("ca.conf"));
	snprintf(b, sizeof b, "(read %s: it has no [ovh-ca] section)",
		 path("ca.conf"));
	const char *w2[] = {a, b, NULL};
	expect_resolve("ca.conf", w2);

	/* A section without the key, and one with the key left empty. */
	write_file("nock.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=appkeyvalue\n"
		   "application_secret=AppSekr1tValue\n");
	snprintf(a, sizeof a, "(read %s: its [ovh-eu] section (line 3) has "
		 "no consumer_key)", path("nock.conf"));
	const char *w3[] = {"no consumer_key for endpoint ovh-eu", a, NULL};
	expect_resolve("nock.conf", w3);
	write_file("emptyck.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n"
		   "application_key=appkeyvalue\n"
		   "application_secret=AppSekr1tValue\nconsumer_key=\n");
	snprintf(a, sizeof a, "(read %s: consumer_key is empty on line 6)",
		 path("emptyck.conf"));
	const char *w4[] = {"no consumer_key for endpoint ovh-eu", a, NULL};
	expect_resolve("emptyck.conf", w4);
	/* A header with nothing under it. */
	write_file("hollow.conf", "[default]\nendpoint=ovh-eu\n[ovh-eu]\n");
	snprintf(a, sizeof a, "(read %s: its [ovh-eu] section (line 3) is "
		 "empty)", path("hollow.conf"));
	const char *w5[] = {"no application_key for endpoint ovh-eu", a, NULL};
	expect_resolve("hollow.conf", w5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(continued_values, setup, teardown),
		cmocka_unit_test_setup_teardown(long_section_names, setup, teardown),
		cmocka_unit_test_setup_teardown(bom_and_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(not_regular_files, setup, teardown),
		cmocka_unit_test_setup_teardown(key_outside_section, setup, teardown),
		cmocka_unit_test_setup_teardown(endpoint_from_file, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_from_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
