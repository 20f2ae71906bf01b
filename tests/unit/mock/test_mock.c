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
#include <time.h>
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
	struct dnsfollow_kv kv[8];
	/* As the core delivers them: checked, typed (kv.num), defaults added. */
	long n = testhost_kv_typed(kv, 8, kvs, dnsfollow_plugin.config_keys);
	assert_true(n > 0);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)n, &self), 0);
	return self;
}

/* What apply() wrote per change in the last call (preset as the core
 * does), and the options handed with it (NULL: none). */
static int results[8];
static const struct dnsfollow_options *options;

static int apply(void *self, const struct dnsfollow_change *c, size_t n)
{
	assert_true(n <= 8);
	for (size_t i = 0; i < 8; i++)
		results[i] = DNSFOLLOW_RESULT_UNKNOWN;
	uint32_t groups[8] = {0};
	struct dnsfollow_changeset cs = {.struct_size = sizeof cs, .zone = "example.test",
					 .changes = c, .n = n, .results = results,
					 .groups = groups, .options = options};
	return OPS->apply(self, &cs);
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
	assert_int_equal(apply(self, c, 2), 0);
	assert_int_equal(results[0], 0);
	assert_int_equal(results[1], 0);
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
	assert_int_equal(apply(m, &del, 1), 0);
	assert_int_equal(apply(m, &del, 1), 0);
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
	return apply(self, &c, 1);
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
	int rc = apply(m, c, 2);
	assert_int_equal(rc, -EEXIST);
	/* ABI 2: the offending change is marked; the marker was not applied
	 * either (atomic), so it stays unknown rather than "applied". */
	assert_int_equal(results[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(results[1], -EEXIST);
	assert_false(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "alias.example.test: a CNAME cannot stand beside"));
	char *after = state_text();
	assert_string_equal(before, after); /* not even the marker */
	free(after);
	/* A CNAME beside an existing A. */
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL), 0);
	assert_int_equal(set1(m, "git.example.test", DNSFOLLOW_TYPE_CNAME, "x.example.org", NULL), -EEXIST);
	assert_int_equal(results[0], -EEXIST);
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
	assert_int_equal(apply(m, swap, 2), 0);
	assert_int_equal(results[0], 0);
	assert_int_equal(results[1], 0);
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
	/* Values are the core's to check now; only a missing state is
	 * refused here (a host that does not enforce REQUIRED). */
	const char *kvs[] = {"zones=example.test", NULL};
	struct dnsfollow_kv kv[3];
	size_t n = testhost_kv(kv, 3, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "state = FILE is required"));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ABI 2: numbers arrive parsed in kv.num, and the mock uses them, not
 * the text (which it would have refused: "every third" is no number). */
static void test_typed_keys(void **s)
{
	(void)s;
	char st[160];
	snprintf(st, sizeof st, "state=%s", state);
	const char *kvs[] = {st, "zones=example.test", "fail_every=every third",
			     "latency_ms=a while", NULL};
	struct dnsfollow_kv kv[4];
	size_t n = testhost_kv(kv, 4, kvs);
	kv[2].num = 3;
	kv[3].num = 120;
	void *m = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &m), 0);
	struct seen seen = {0};
	uint64_t t0 = mono_ms();
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_true(mono_ms() - t0 >= 120);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), -EAGAIN);
	assert_non_null(strstr(testhost_error(h), "fail_every = 3"));
	dnsfollow_plugin.destroy(m);
	/* The declared types make the core refuse what the mock used to
	 * parse itself, and deliver the defaults. */
	static const char *const refused[][2] = {
		{"fail_every=lots", NULL}, {"fail_every=-1", NULL},
		{"fail_every=1000001", NULL}, {"latency_ms=60001", NULL},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		assert_int_equal(testhost_kv_typed(kv, 4, refused[i], dnsfollow_plugin.config_keys), -1);
	const char *none[] = {st, NULL};
	struct dnsfollow_kv def[8];
	long nd = testhost_kv_typed(def, 8, none, dnsfollow_plugin.config_keys);
	assert_int_equal(nd, 3);
	assert_int_equal(dnsfollow_kv_num(def, (size_t)nd, "fail_every", 99), 0);
	assert_int_equal(dnsfollow_kv_num(def, (size_t)nd, "latency_ms", 99), 0);
	const char *rec[] = {"comment=a note", NULL};
	assert_int_equal(testhost_kv_typed(def, 8, rec, dnsfollow_plugin.record_keys), 1);
	/* Absent keys (the core delivers defaults; a bare host may not). */
	m = make(NULL);
	t0 = mono_ms();
	for (int i = 0; i < 5; i++)
		assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_true(mono_ms() - t0 < 100);
	dnsfollow_plugin.destroy(m);
}

/* A CNAME is stored and read back like any RRset, and only when asked:
 * reading A at that name reports nothing (provider.h, read()). */
static void test_cname_roundtrip(void **s)
{
	(void)s;
	void *m = make(NULL);
	assert_int_equal(set1(m, "www.example.test", DNSFOLLOW_TYPE_CNAME, "node1.example.net", NULL), 0);
	assert_int_equal(results[0], 0);
	static const struct dnsfollow_rrkey a_only[] = {{"www.example.test", DNSFOLLOW_TYPE_A}};
	static const struct dnsfollow_rrkey both[] = {{"www.example.test", DNSFOLLOW_TYPE_A},
						      {"www.example.test", DNSFOLLOW_TYPE_CNAME}};
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "example.test", a_only, 1, collect, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(OPS->read(m, "example.test", both, 2, collect, &seen), 0);
	assert_string_equal(seen.text, "www.example.test/5/60 node1.example.net;");
	char *text = state_text();
	assert_non_null(strstr(text, "\"CNAME\""));
	free(text);
	/* Moved to another node: the SET replaces the one record. */
	assert_int_equal(set1(m, "www.example.test", DNSFOLLOW_TYPE_CNAME, "node2.example.net", NULL), 0);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", both, 2, collect, &seen), 0);
	assert_string_equal(seen.text, "www.example.test/5/60 node2.example.net;");
	dnsfollow_plugin.destroy(m);
}

/* Records are data: a type the mock has no special rule for is stored
 * under its name (TYPE<n> without one) and read back as given; TXT is
 * raw text (no quotes, no escapes, longer than one 255-byte string). */
static void test_any_type_and_raw_txt(void **s)
{
	(void)s;
	void *m = make(NULL);
	char txt[400];
	memset(txt, 'x', sizeof txt - 1);
	txt[sizeof txt - 1] = '\0';
	static const char head[] = "say \"hi\" \\ ";
	memcpy(txt, head, sizeof head - 1);
	assert_int_equal(set1(m, "x.example.test", 15, "10 mx.example.test", NULL), 0);
	assert_int_equal(set1(m, "x.example.test", 65280, "\\# 2 abcd", NULL), 0);
	assert_int_equal(set1(m, "x.example.test", DNSFOLLOW_TYPE_TXT, txt, NULL), 0);
	static const struct dnsfollow_rrkey k[] = {{"x.example.test", 15},
						   {"x.example.test", 65280},
						   {"x.example.test", DNSFOLLOW_TYPE_TXT}};
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "example.test", k, 2, collect, &seen), 0);
	assert_string_equal(seen.text, "x.example.test/15/60 10 mx.example.test;"
				       "x.example.test/65280/60 \\# 2 abcd;");
	memset(&seen, 0, sizeof seen);
	assert_int_equal(OPS->read(m, "example.test", k + 2, 1, collect, &seen), 0);
	char want[512];
	snprintf(want, sizeof want, "x.example.test/16/60 %s;", txt);
	assert_string_equal(seen.text, want);
	char *text = state_text();
	assert_non_null(strstr(text, "\"MX\""));
	assert_non_null(strstr(text, "\"TYPE65280\""));
	assert_non_null(strstr(text, "say \\\"hi\\\" \\\\ xxx")); /* JSON-escaped, no DNS quoting */
	free(text);
	/* The types it offers include the core's and more. */
	size_t nt = 0;
	int has_cname = 0, has_txt = 0;
	for (; OPS->types[nt]; nt++) {
		has_cname |= OPS->types[nt] == DNSFOLLOW_TYPE_CNAME;
		has_txt |= OPS->types[nt] == DNSFOLLOW_TYPE_TXT;
	}
	assert_true(nt >= 8 && has_cname && has_txt);
	assert_true(OPS->caps & DNSFOLLOW_CAP_ATOMIC);
	dnsfollow_plugin.destroy(m);
}

/* ABI 2: a record's provider options reach apply(); the mock keeps its
 * `comment` with the RRset. */
static void test_record_options(void **s)
{
	(void)s;
	void *m = make(NULL);
	const char *kvs[] = {"comment=forge front end", NULL};
	struct dnsfollow_kv kv[1];
	struct dnsfollow_options o = {kv, testhost_kv(kv, 1, kvs)};
	options = &o;
	int rc = set1(m, "git.example.test", DNSFOLLOW_TYPE_A, "192.0.2.1", NULL);
	options = NULL;
	assert_int_equal(rc, 0);
	char *text = state_text();
	assert_non_null(strstr(text, "\"comment\": \"forge front end\""));
	free(text);
	assert_string_equal(dnsfollow_plugin.record_keys[0].name, "comment");
	/* The state with a comment reads back (the parser accepts it). */
	struct seen seen = {0};
	assert_int_equal(OPS->read(m, "example.test", KEYS, 1, collect, &seen), 0);
	assert_string_equal(seen.text, "git.example.test/1/60 192.0.2.1;");
	dnsfollow_plugin.destroy(m);
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
		cmocka_unit_test_setup_teardown(test_typed_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cname_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_type_and_raw_txt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
