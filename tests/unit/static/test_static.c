/* The static backend through a test host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
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
	/* Write then rename, as careful editors do. */
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.new", file);
	FILE *f = fopen(tmp, "w");
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, file), 0);
}

static int setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	snprintf(file, sizeof file, "%s/placements.ini", dir);
	write_placements("[gogs]\naddresses = 192.0.2.10, 2001:db8::10\n[none]\naddresses =\n");
	h = testhost_new("lab");
	char f[160];
	snprintf(f, sizeof f, "file=%s", file);
	const char *kvs[] = {f, NULL};
	struct dnsfollow_kv kv[1];
	size_t n = testhost_kv(kv, 1, kvs);
	return dnsfollow_plugin.create(h, kv, n, &self);
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

struct got {
	int n;
	char addrs[256];
};

static int collect(void *ctx, const struct dnsfollow_placement *p)
{
	struct got *g = ctx;
	g->n++;
	for (size_t i = 0; i < p->naddrs; i++) {
		size_t l = strlen(g->addrs);
		snprintf(g->addrs + l, sizeof g->addrs - l, "%s ", p->addrs[i]);
	}
	return 0;
}

static int resolve(const char *service, struct got *g)
{
	memset(g, 0, sizeof *g);
	testhost_clear(h);
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	return OPS->resolve(self, &q, collect, g);
}

static void test_resolve(void **s)
{
	(void)s;
	struct got g;
	assert_int_equal(resolve("gogs", &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.addrs, "192.0.2.10 2001:db8::10 ");
	/* Known to run nowhere: no placement, no error. */
	assert_int_equal(resolve("none", &g), 0);
	assert_int_equal(g.n, 0);
	/* Not in the file: an error, so records keep their value. */
	assert_int_equal(resolve("absent", &g), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "service 'absent' has no [absent] section"));
}

/* The file is parsed once per version: an in-place rewrite of the same
 * size within the same second (one time stamp tick) is still seen, and a
 * service repeated over two sections keeps every address in file order. */
static void test_rewrite_same_size(void **s)
{
	(void)s;
	struct got g;
	char buf[64];
	for (int i = 0; i < 5; i++) {
		FILE *f = fopen(file, "w");
		assert_non_null(f);
		fprintf(f, "[gogs]\naddresses = 192.0.2.%d\n[gogs]\naddresses = 192.0.2.99\n", 10 + i);
		fclose(f);
		assert_int_equal(resolve("gogs", &g), 0);
		snprintf(buf, sizeof buf, "192.0.2.%d 192.0.2.99 ", 10 + i);
		assert_string_equal(g.addrs, buf);
	}
}

static void test_malformed(void **s)
{
	(void)s;
	struct got g;
	write_placements("[gogs]\naddresses = 192.0.2.300\n");
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "'192.0.2.300' is not an IP address"));
	assert_int_equal(g.n, 0);
	write_placements("[gogs]\nadresses = 192.0.2.1\n");
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "unknown key 'adresses'"));
	write_placements("garbage without section or equals\n");
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "syntax error"));
	/* An error in another service's section also fails: the file is
	 * wrong and nobody should trust half of it. */
	write_placements("[gogs]\naddresses = 192.0.2.1\n[web]\naddresses = nope\n");
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -f '%s'", file);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(resolve("gogs", &g), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "cannot open"));
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static void test_watch(void **s)
{
	(void)s;
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	assert_false(readable(fd, 0));
	write_placements("[gogs]\naddresses = 192.0.2.11\n");
	assert_true(readable(fd, 2000));
	assert_int_equal(OPS->watch_ack(self), 1);
	assert_false(readable(fd, 0));
	/* Another file in the same folder wakes the fd but is not a change. */
	char other[160];
	snprintf(other, sizeof other, "%s/state.json", dir);
	free(test_write_file(dir, "state.json", "{}"));
	assert_true(readable(fd, 2000));
	assert_int_equal(OPS->watch_ack(self), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_same_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
