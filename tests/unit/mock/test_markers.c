/* The mock's markers() (ABI 2, issue 10): every TXT RRset named
 * "_dnsfollow.*" of one zone, whole, as read() would report it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* An instance serving example.test and other.test; `extra` one more key. */
static void *make(const char *extra)
{
	char st[160];
	snprintf(st, sizeof st, "state=%s", state);
	const char *kvs[] = {st, "zones=example.test, other.test", extra, NULL};
	struct dnsfollow_kv kv[8];
	long n = testhost_kv_typed(kv, 8, kvs, dnsfollow_plugin.config_keys);
	assert_true(n > 0);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)n, &self), 0);
	return self;
}

/* What markers() reported: "NAME/TYPE/TTL DATA DATA;" per RRset, the
 * RRsets sorted by name so the file's key order does not matter. */
struct seen {
	int n;
	char line[8][200];
	char text[1024];
};

static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	assert_true(s->n < 8);
	char *l = s->line[s->n++];
	snprintf(l, 200, "%s/%u/%u", rr->name, rr->type, rr->ttl);
	for (size_t i = 0; i < rr->count; i++)
		snprintf(l + strlen(l), 200 - strlen(l), " %s", rr->rdata[i]);
	return 0;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

static int markers(void *m, const char *zone, struct seen *s)
{
	memset(s, 0, sizeof *s);
	testhost_clear(h);
	int rc = OPS->markers(m, zone, collect, s);
	qsort(s->line, (size_t)s->n, sizeof s->line[0], by_text);
	for (int i = 0; i < s->n; i++)
		snprintf(s->text + strlen(s->text), sizeof s->text - strlen(s->text), "%s;",
			 s->line[i]);
	return rc;
}

static int change(void *self, const char *zone, uint32_t op, const char *name,
		  uint16_t type, const char *d1, const char *d2)
{
	const char *v[] = {d1, d2};
	int results[1] = {DNSFOLLOW_RESULT_UNKNOWN};
	uint32_t groups[1] = {0};
	struct dnsfollow_change c = {.op = op,
				     .rrset = {name, type, 60, d2 ? 2 : d1 ? 1 : 0, v}};
	struct dnsfollow_changeset cs = {.struct_size = sizeof cs, .zone = zone,
					 .changes = &c, .n = 1, .results = results,
					 .groups = groups};
	testhost_clear(h);
	return OPS->apply(self, &cs);
}

#define SET(m, z, n, t, d1, d2) change(m, z, DNSFOLLOW_CHANGE_SET, n, t, d1, d2)
#define DEL(m, z, n, t) change(m, z, DNSFOLLOW_CHANGE_DELETE, n, t, NULL, NULL)
#define TXT DNSFOLLOW_TYPE_TXT
#define OWNER "heritage=dnsfollow,owner=t"

static void test_has_op(void **s)
{
	(void)s;
	assert_true(DNSFOLLOW_HAS(OPS, struct dnsfollow_provider_ops, markers));
}

/* Both markers whole (one of two records), and only TXT RRsets whose
 * name starts with "_dnsfollow.": not a plain TXT with marker text, not
 * an A at a marker's name, not a name that only contains the prefix. */
static void test_whole_and_only_markers(void **s)
{
	(void)s;
	void *m = make(NULL);
	assert_int_equal(SET(m, "example.test", "_dnsfollow.git.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(SET(m, "example.test", "_dnsfollow.www.example.test", TXT, OWNER, "two"), 0);
	assert_int_equal(SET(m, "example.test", "git.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(SET(m, "example.test", "x_dnsfollow.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(SET(m, "example.test", "_dnsfollowx.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(SET(m, "example.test", "_dnsfollow.a.example.test", DNSFOLLOW_TYPE_A,
			     "192.0.2.1", NULL), 0);
	struct seen seen;
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_string_equal(seen.text, "_dnsfollow.git.example.test/16/60 " OWNER ";"
				       "_dnsfollow.www.example.test/16/60 " OWNER " two;");
	dnsfollow_plugin.destroy(m);
}

/* No state file, a zone the file does not hold, a zone whose only
 * markers are another zone's: nothing, and no error. */
static void test_zone_without_markers(void **s)
{
	(void)s;
	void *m = make(NULL);
	struct seen seen;
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(SET(m, "other.test", "_dnsfollow.git.other.test", TXT, OWNER, NULL), 0);
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(SET(m, "example.test", "git.example.test", TXT, "plain", NULL), 0);
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(markers(m, "other.test", &seen), 0);
	assert_string_equal(seen.text, "_dnsfollow.git.other.test/16/60 " OWNER ";");
	dnsfollow_plugin.destroy(m);
}

/* A deleted marker is gone at once, and only that one (a new instance
 * reads the same file: nothing is cached). */
static void test_deleted_marker(void **s)
{
	(void)s;
	void *m = make(NULL);
	assert_int_equal(SET(m, "example.test", "_dnsfollow.a.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(SET(m, "example.test", "_dnsfollow.b.example.test", TXT, OWNER, NULL), 0);
	assert_int_equal(DEL(m, "example.test", "_dnsfollow.a.example.test", TXT), 0);
	struct seen seen;
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_string_equal(seen.text, "_dnsfollow.b.example.test/16/60 " OWNER ";");
	void *m2 = make(NULL);
	assert_int_equal(DEL(m2, "example.test", "_dnsfollow.b.example.test", TXT), 0);
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_int_equal(seen.n, 0);
	dnsfollow_plugin.destroy(m2);
	dnsfollow_plugin.destroy(m);
}

/* Hand edits a DNS server would not serve as a marker of the zone: a
 * name outside it, an RRset without data, a name not in normal form
 * (read() never finds it either). Duplicates are reported as stored,
 * as read() does, so the core sees them. */
static void test_hand_edits(void **s)
{
	(void)s;
	static const char doc[] =
		"{\"zones\": {\"example.test\": {\"serial\": 1, \"rrsets\": {"
		"\"_dnsfollow.stray.other.test\": {\"TXT\": {\"ttl\": 5, \"rdata\": [\"x\"]}},"
		"\"_dnsfollow.empty.example.test\": {\"TXT\": {\"ttl\": 5, \"rdata\": []}},"
		"\"_dnsfollow.Up.example.test\": {\"TXT\": {\"ttl\": 5, \"rdata\": [\"x\"]}},"
		"\"_dnsfollow.dup.example.test\": {\"TXT\": {\"ttl\": 7, \"rdata\": [\"d\", \"d\"]}},"
		"\"_dnsfollow.example.test\": {\"TXT\": {\"ttl\": 9, \"rdata\": [\"apex\"]},"
		"                             \"A\": {\"ttl\": 9, \"rdata\": [\"192.0.2.1\"]}}}}}}";
	FILE *f = fopen(state, "w");
	assert_non_null(f);
	fputs(doc, f);
	assert_int_equal(fclose(f), 0);
	void *m = make(NULL);
	struct seen seen;
	assert_int_equal(markers(m, "example.test", &seen), 0);
	assert_string_equal(seen.text, "_dnsfollow.dup.example.test/16/7 d d;"
				       "_dnsfollow.example.test/16/9 apex;");
	dnsfollow_plugin.destroy(m);
}

/* Errors mean "not known": a zone not served, a bad state file, an
 * injected fault (markers() counts as a call, like read and apply). */
static void test_errors(void **s)
{
	(void)s;
	void *m = make("fail_every=2");
	struct seen seen;
	assert_int_equal(markers(m, "nosuch.test", &seen), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "zone nosuch.test is not served"));
	int rc = markers(m, "example.test", &seen);
	assert_int_equal(rc, -EAGAIN);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "markers: injected failure"));
	dnsfollow_plugin.destroy(m);
	FILE *f = fopen(state, "w");
	assert_non_null(f);
	fputs("{\"zones\": {\"example.test\": {\"rrsets\": {\"_dnsfollow.a.example.test\": "
	      "{\"TXT\": {\"ttl\": 5, \"rdata\": [1]}}}}}}", f);
	assert_int_equal(fclose(f), 0);
	m = make(NULL);
	assert_int_equal(markers(m, "example.test", &seen), -EIO);
	assert_non_null(strstr(testhost_error(h), "bad state file"));
	assert_int_equal(seen.n, 0);
	dnsfollow_plugin.destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_op),
		cmocka_unit_test_setup_teardown(test_whole_and_only_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_without_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hand_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
