/* The static backend's discover op: `names =` and `record.KEY =` lines
 * of the placements file, reported as Swarm labels would be. */
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
#define OPS ((const struct dnsfollow_backend_ops *)dnsfollow_plugin.ops)

static char dir[64], file[128];
static const struct dnsfollow_host *h;
static void *self;

static void write_placements(const char *text)
{
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.new", file);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, file), 0);
}

static int setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	snprintf(file, sizeof file, "%s/placements.ini", dir);
	write_placements("[gogs]\naddresses = 192.0.2.10\n");
	h = testhost_new("lab");
	char f[160];
	snprintf(f, sizeof f, "file=%s", file);
	const char *kvs[] = {f, NULL};
	struct dnsfollow_kv kv[2];
	long n = testhost_kv_typed(kv, 2, kvs, dnsfollow_plugin.config_keys);
	return n == 1 ? dnsfollow_plugin.create(h, kv, (size_t)n, &self) : -1;
}

static int teardown(void **s)
{
	(void)s;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every record discovered, one line each:
 * "source|source_name|name|service|key=value,key=value". */
struct disc {
	int n;
	int fail_at; /* emit returns -EIO on this call (1-based), 0: never */
	char text[8192];
};

static int collect(void *ctx, const struct dnsfollow_discovered *d)
{
	struct disc *g = ctx;
	assert_true(d->struct_size >= sizeof *d);
	if (++g->n == g->fail_at)
		return -EIO;
	size_t l = strlen(g->text);
	snprintf(g->text + l, sizeof g->text - l, "%s|%s|%s|%s|", d->source,
		 d->source_name ? d->source_name : "(null)", d->name,
		 d->service ? d->service : "(null)");
	for (size_t i = 0; i < d->nkeys; i++) {
		l = strlen(g->text);
		snprintf(g->text + l, sizeof g->text - l, "%s%s=%s", i ? "," : "",
			 d->keys[i].key, d->keys[i].value);
	}
	l = strlen(g->text);
	snprintf(g->text + l, sizeof g->text - l, "\n");
	return 0;
}

static int discover(struct disc *g)
{
	int fail_at = g->fail_at;
	memset(g, 0, sizeof *g);
	g->fail_at = fail_at;
	testhost_clear(h);
	return OPS->discover(self, collect, g);
}

static int placed(void *ctx, const struct dnsfollow_placement *p)
{
	*(size_t *)ctx += p->naddrs;
	return 0;
}

/* resolve()'s code; *naddrs counts the addresses placed. */
static int resolve_rc(const char *service, size_t *naddrs)
{
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	testhost_clear(h);
	*naddrs = 0;
	return OPS->resolve(self, &q, placed, naddrs);
}

/* Exactly the names and keys of the file, keys in file order; sections
 * without names report nothing. */
static void test_discover(void **s)
{
	(void)s;
	struct disc g = {0};
	assert_true(DNSFOLLOW_HAS(OPS, struct dnsfollow_backend_ops, discover));
	assert_non_null(OPS->discover);
	/* The default file has no names: complete, and empty. */
	assert_int_equal(discover(&g), 0);
	assert_int_equal(g.n, 0);
	write_placements("[web]\naddresses = 192.0.2.1, 2001:db8::1\n"
			 "names = a.example.test, b.example.test ; two names\n"
			 "record.type = A, AAAA\nrecord.ttl = 60\nrecord.provider = m\n"
			 "record.on_empty = delete\n"
			 "[plain]\naddresses = 192.0.2.5\n"
			 "[alias]\nhostname = node2.example.net\n"
			 "names = c.example.test,\n   d.example.test\n"
			 "record.zone = example.test\nrecord.type = CNAME\n"
			 "[bare]\naddresses = 192.0.2.6\nnames =\nrecord.ttl = 5\n");
	assert_int_equal(discover(&g), 0);
	assert_int_equal(g.n, 4);
	/* Sections in name order, names and keys in file order. */
	assert_string_equal(g.text,
			    "static:alias|alias|c.example.test|alias|zone=example.test,type=CNAME\n"
			    "static:alias|alias|d.example.test|alias|zone=example.test,type=CNAME\n"
			    "static:web|web|a.example.test|web|type=A, AAAA,ttl=60,provider=m,"
			    "on_empty=delete\n"
			    "static:web|web|b.example.test|web|type=A, AAAA,ttl=60,provider=m,"
			    "on_empty=delete\n");
	/* resolve() answers from the same table. */
	size_t na;
	assert_int_equal(resolve_rc("web", &na), 0);
	assert_int_equal(na, 2);
	assert_int_equal(resolve_rc("alias", &na), 0);
	assert_int_equal(na, 0);
	/* Keys the core refuses (adopt, unknown) are passed on, not judged. */
	write_placements("[web]\naddresses =\nnames = a.example.test\n"
			 "record.adopt = yes\nrecord.colour = blue\nrecord.x =\n");
	assert_int_equal(discover(&g), 0);
	assert_string_equal(g.text, "static:web|web|a.example.test|web|adopt=yes,colour=blue,x=\n");
}

/* A file that cannot be used is an error, never an empty list: an empty
 * list would make every discovered name an orphan. */
static void test_discover_broken(void **s)
{
	(void)s;
	struct disc g = {0};
	write_placements("[web]\naddresses = 192.0.2.1\nnames = a.example.test\n");
	assert_int_equal(discover(&g), 0);
	assert_int_equal(g.n, 1);
	write_placements("[web]\naddresses = 192.0.2.1\nnames = a.example.test\nnot a key line\n");
	assert_int_equal(discover(&g), -EINVAL);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(testhost_error(h), "placements.ini:4: syntax error"));
	/* Cut in the middle of a line (an in-place save): a temporary error. */
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs("[web]\naddresses = 192.0.2.1\nnames = a.example.test, b.exa", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(discover(&g), -EAGAIN);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(testhost_error(h), "placements.ini:3: ends in the middle"));
	/* Gone. */
	assert_int_equal(remove(file), 0);
	assert_true(discover(&g) < 0);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(testhost_error(h), "placements.ini"));
	/* An error from emit stops discover() with that code. */
	write_placements("[web]\naddresses =\nnames = a.example.test, b.example.test\n");
	g.fail_at = 1;
	assert_int_equal(discover(&g), -EIO);
	assert_int_equal(g.n, 1);
}

/* Each mistake is one FILE:LINE error that fails the whole file. */
static void test_discover_bad(void **s)
{
	(void)s;
	struct disc g = {0};
	static const struct { const char *text, *msg; } bad[] = {
		{"[web]\naddresses =\nnames = a.example.test\nrecord.ttl = 60\n"
		 "names = b.example.test\n",
		 "placements.ini:5: [web]: duplicate key 'names' (first at line 3)"},
		{"[web]\naddresses =\nrecord.ttl = 60\nnames = a.example.test\nrecord.ttl = 61\n",
		 "placements.ini:5: [web]: duplicate key 'record.ttl' (first at line 3)"},
		{"[web]\naddresses =\nnames = a.example.test,\n  b.example.test, A.Example.Test\n",
		 "placements.ini:4: [web]: name 'A.Example.Test' listed twice"},
		{"[web]\naddresses =\nrecord.Type = A\n", ":3: [web]: bad key 'record.Type'"},
		{"[web]\naddresses =\nrecord. = A\n", ":3: [web]: bad key 'record.'"},
		{"[web]\naddresses =\nrecord.a b = A\n", ":3: [web]: bad key 'record.a b'"},
		{"[web]\naddresses =\nrecord.x\x1b[2J = A\n", ":3: [web]: bad key 'record.x?[2J'"},
		{"[web]\naddresses =\nrecord.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n",
		 ":3: [web]: bad key 'record.aaaa"},
		{"[web]\naddresses =\nrecord = A\n", ":3: [web]: unknown key 'record'"},
		{"[web]\nnames = a.example.test\nrecord.type = A\n",
		 ":1: [web] has no addresses or hostname line"},
		{"names = a.example.test\n", ":1: 'names' before any [SERVICE] section"},
		/* A record key line ends a names list: no continuation. */
		{"[web]\naddresses =\nnames = a.example.test\nrecord.ttl = 1\n  b.example.test\n",
		 ":5: syntax error"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_placements(bad[i].text);
		assert_int_equal(discover(&g), -EINVAL);
		if (!strstr(testhost_error(h), bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].msg, testhost_error(h));
		assert_int_equal(g.n, 0);
		size_t na;
		assert_int_equal(resolve_rc("web", &na), -EINVAL);
	}
}

static void append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*len + (size_t)n + 1) * 2;
		*text = realloc(*text, *cap);
		assert_non_null(*text);
	}
	va_start(ap, fmt);
	vsnprintf(*text + *len, *cap - *len, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

/* `names` lines of `count` names of about 250 bytes, `per` to a line
 * (continued on indented lines), then `nkeys` record keys. */
static char *big_file(int count, int per, int nkeys)
{
	char *t = NULL, label[64];
	size_t len = 0, cap = 0;
	memset(label, 'x', 60);
	label[60] = '\0';
	append(&t, &len, &cap, "[web]\naddresses = 192.0.2.1\nnames =");
	for (int i = 0; i < count; i++)
		append(&t, &len, &cap, "%s%s.%s.%s.n%d.example.test,", i % per ? " " : "\n  ",
		       label, label, label, i);
	append(&t, &len, &cap, "\n");
	for (int i = 0; i < nkeys; i++)
		append(&t, &len, &cap, "record.k%d = %d\n", i, i);
	return t;
}

struct counter {
	int n;
	size_t nkeys;
};

static int count_cb(void *ctx, const struct dnsfollow_discovered *d)
{
	struct counter *c = ctx;
	c->n++;
	c->nkeys = d->nkeys;
	return strlen(d->name) > 190 && d->nkeys <= 64 ? 0 : -EPROTO;
}

/* The bounds: 256 names (one ~64 kB line, or many lines) and 64 record
 * keys are fine; one more of either is one clear error, never a crash. */
static void test_discover_bounds(void **s)
{
	(void)s;
	struct counter c = {0};
	char *t = big_file(256, 256, 64);
	write_placements(t);
	free(t);
	assert_int_equal(OPS->discover(self, count_cb, &c), 0);
	assert_int_equal(c.n, 256);
	assert_int_equal(c.nkeys, 64);
	c = (struct counter){0};
	t = big_file(256, 10, 0);
	write_placements(t);
	free(t);
	assert_int_equal(OPS->discover(self, count_cb, &c), 0);
	assert_int_equal(c.n, 256);
	assert_int_equal(c.nkeys, 0);
	static const struct { int count, per, nkeys; const char *msg; } over[] = {
		{257, 257, 0, "placements.ini:4: [web]: more than 256 names"},
		{257, 10, 0, "placements.ini:29: [web]: more than 256 names"},
		{1, 1, 65, "placements.ini:69: [web]: more than 64 record.KEY lines"},
	};
	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
		t = big_file(over[i].count, over[i].per, over[i].nkeys);
		write_placements(t);
		free(t);
		c = (struct counter){0};
		testhost_clear(h);
		assert_int_equal(OPS->discover(self, count_cb, &c), -EINVAL);
		assert_int_equal(c.n, 0);
		if (!strstr(testhost_error(h), over[i].msg))
			fail_msg("%s: got '%s'", over[i].msg, testhost_error(h));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover_bounds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
