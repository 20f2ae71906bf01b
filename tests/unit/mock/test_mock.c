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
#include <unistd.h>

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

static void write_state(const char *text, size_t len)
{
	FILE *f = fopen(state, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The state file's bytes (a fresh string; "" when absent). */
static char *state_text(void)
{
	FILE *f = fopen(state, "r");
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	if (f) {
		size_t n = fread(buf, 1, (1 << 16) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static int set1(void *self, const char *name, uint16_t type, const char *d1,
		const char *d2)
{
	const char *v[] = {d1, d2};
	struct dnsfollow_change c = {.op = DNSFOLLOW_CHANGE_SET,
				     .rrset = {name, type, 60, d2 ? 2 : 1, v}};
	testhost_clear(h);
	return OPS->apply(self, "example.test", &c, 1);
}

/* Issue 8 item 3: a CNAME stands alone at its name, as on real servers:
 * a changeset that would put anything beside it (or it beside anything,
 * or two CNAME records) is refused whole and nothing is written. */
static void test_cname_exclusive(void **s)
{
	(void)s;
	void *m = make(NULL);
	assert_int_equal(set1(m, "alias.example.test", DNSFOLLOW_TYPE_CNAME, "web.example.org", NULL), 0);
	char *before = state_text();
	/* What dnsfollow would write next to a foreign CNAME. */
	const char *a[] = {"192.0.2.10"}, *mk[] = {"heritage=dnsfollow,owner=t"};
	struct dnsfollow_change c[2] = {
		{.op = DNSFOLLOW_CHANGE_SET,
		 .rrset = {"_dnsfollow.alias.example.test", DNSFOLLOW_TYPE_TXT, 60, 1, mk}},
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {"alias.example.test", DNSFOLLOW_TYPE_A, 60, 1, a}},
	};
	testhost_clear(h);
	int rc = OPS->apply(m, "example.test", c, 2);
	assert_int_equal(rc, -EEXIST);
	assert_false(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "alias.example.test: a CNAME cannot stand beside"));
	char *after = state_text();
	assert_string_equal(before, after); /* not even the marker */
	free(after);
	/* A CNAME beside an existing A. */
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), 0);
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_CNAME, "x.example.org", NULL), -EEXIST);
	assert_non_null(strstr(testhost_error(h), "git.example.test"));
	/* Two CNAME records. */
	assert_int_equal(set1(m, "two.example.test", DNSFOLLOW_TYPE_CNAME, "a.example.org",
			      "b.example.org"), -EEXIST);
	assert_non_null(strstr(testhost_error(h), "two.example.test: a CNAME RRset holds one record, not 2"));
	/* Replacing the A by a CNAME in one changeset is fine. */
	const char *cn[] = {"x.example.org"};
	struct dnsfollow_change swap[2] = {
		{.op = DNSFOLLOW_CHANGE_DELETE, .rrset = {"git.example.test", DNSFOLLOW_TYPE_A, 0, 0, NULL}},
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {"git.example.test", DNSFOLLOW_TYPE_CNAME, 60, 1, cn}},
	};
	assert_int_equal(OPS->apply(m, "example.test", swap, 2), 0);
	free(before);
	dnsfollow_plugin.destroy(m);
}

/* Issue 8 item 5: duplicates (a hand edit, two writers) are read as
 * stored, so the core sees the RRset out of sync; a SET stores a set. */
static void test_duplicates(void **s)
{
	(void)s;
	static const char dup[] =
		"{\"zones\": {\"example.test\": {\"serial\": 1, \"rrsets\": {\"git.example.test\": "
		"{\"A\": {\"ttl\": 60, \"rdata\": [\"192.0.2.1\", \"192.0.2.1\"]}}}}}}";
	write_state(dup, sizeof dup - 1);
	void *m = make(NULL);
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_string_equal(seen.text, "git.example.test/1/60 192.0.2.1 192.0.2.1;");
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_string_equal(seen.text, "git.example.test/1/60 192.0.2.1;");
	/* Like a DNS server, the mock keeps one copy of a datum sent twice. */
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.2", "192.0.2.2"), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_string_equal(seen.text, "git.example.test/1/60 192.0.2.2;");
	dnsfollow_plugin.destroy(m);
}

/* Issue 8 item 12: a directory or FIFO as the state file is refused at
 * once with one clear error (a FIFO used to block for ever; alarm()
 * fails the test then), and apply writes nothing. */
static void test_state_not_regular(void **s)
{
	(void)s;
	void *m = make(NULL);
	struct seen seen = {0};
	assert_int_equal(mkdir(state, 0700), 0);
	testhost_clear(h);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), -EISDIR);
	assert_non_null(strstr(testhost_error(h), "state.json: is a directory"));
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), -EISDIR);
	assert_int_equal(rmdir(state), 0);
	assert_int_equal(mkfifo(state, 0600), 0);
	alarm(10);
	testhost_clear(h);
	assert_int_not_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_non_null(strstr(testhost_error(h), "state.json: is a FIFO"));
	assert_int_not_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), 0);
	alarm(0);
	assert_int_equal(seen.n, 0);
	struct stat st;
	assert_int_equal(stat(state, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	dnsfollow_plugin.destroy(m);
}

/* Issue 8 item 5: the whole file is checked, not only the RRsets read:
 * every wrong shape is one error naming the file, and nothing is written
 * over it. */
static void test_bad_state_whole(void **s)
{
	(void)s;
	static const struct { const char *text; size_t len; const char *msg; } bad[] = {
#define T(s, m) {s, sizeof s - 1, m}
		T("{\"zones\": {\"example.test\": []}}", "zone example.test: not an object"),
		T("{\"zones\": {\"example.test\": {\"rrsets\": {\"other.example.test\": {\"A\": 5}}}}}",
		  "RRset other.example.test A: not an object"),
		T("{\"zones\": {\"example.test\": {\"serial\": \"x\", \"rrsets\": {}}}}",
		  "\"serial\" is not a whole number"),
		T("{\"zones\": {\"example.test\": {\"serial\": 1}}}", "no \"rrsets\" object"),
		T("{\"zones\": {\"example.test\": {\"rrsets\": {\"a\": []}}}}", "a is not an object"),
		T("{\"zones\": {\"x\\u001b[2J\": {\"rrsets\": 1}}}", "zone x?[2J: no \"rrsets\""),
		T("{\"zones\": {}, \"zones\": {}}", ":1: bad state file: duplicate object key"),
		T("{\"zones\": {}} tail", ":1: bad state file: end of file expected"),
		T("", "bad state file"),
		T("{\"zones\": {\"a\xff\": {}}}", "bad state file"),
		T("{\"zones\":\n {}}\n\0{}", "state.json:3: contains a NUL byte"),
#undef T
	};
	void *m = make(NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_state(bad[i].text, bad[i].len);
		struct seen seen = {0};
		testhost_clear(h);
		int rc = OPS->read(m, "example.test", KEYS, 1, collect, &seen);
		assert_true(rc == -EIO || rc == -EINVAL);
		if (!strstr(testhost_error(h), bad[i].msg) || !strstr(testhost_error(h), state))
			fail_msg("case %zu: want '%s', got '%s'", i, bad[i].msg, testhost_error(h));
		assert_int_equal(seen.n, 0);
		assert_int_not_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), 0);
		char *now = state_text();
		assert_memory_equal(now, bad[i].text, strlen(now) < bad[i].len ? strlen(now) : bad[i].len);
		free(now);
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
		cmocka_unit_test_setup_teardown(test_cname_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state_whole, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
