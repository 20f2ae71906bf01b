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
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

struct got {
	int n;
	char addrs[256];
	char names[256]; /* each placement's dns_name, or "-" */
};

static int collect(void *ctx, const struct dnsfollow_placement *p)
{
	struct got *g = ctx;
	g->n++;
	size_t ln = strlen(g->names);
	snprintf(g->names + ln, sizeof g->names - ln, "%s ",
		 DNSFOLLOW_HAS(p, struct dnsfollow_placement, dns_name) ? p->dns_name : "-");
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
 * size within the same second (one time stamp tick) is still seen. */
static void test_rewrite_same_size(void **s)
{
	(void)s;
	struct got g;
	char buf[64];
	for (int i = 0; i < 5; i++) {
		FILE *f = fopen(file, "w");
		assert_non_null(f);
		fprintf(f, "[gogs]\naddresses = 192.0.2.%d, 192.0.2.99\n", 10 + i);
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

/* Write the file in place (no rename), as an editor saving over it does. */
static void write_in_place(const char *text, size_t len)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Issue 8 item 2: a save that stopped mid-line (here inside the second
 * address, 192.0.2.11 cut to 192.0.2.1) was published as it stood. */
static void test_mid_line(void **s)
{
	(void)s;
	struct got g;
	const char *half = "[gogs]\naddresses = 192.0.2.10, 192.0.2.1";
	write_in_place(half, strlen(half));
	assert_int_equal(resolve("gogs", &g), -EAGAIN);
	assert_int_equal(g.n, 0);
	assert_true(dnsfollow_err_is_temporary(testhost_error_rc(h)));
	assert_non_null(strstr(testhost_error(h), "placements.ini:2: ends in the middle of a line"));
	assert_non_null(strstr(testhost_error(h), "rename"));
	const char *whole = "[gogs]\naddresses = 192.0.2.10, 192.0.2.11\n";
	write_in_place(whole, strlen(whole));
	assert_int_equal(resolve("gogs", &g), 0);
	assert_string_equal(g.addrs, "192.0.2.10 192.0.2.11 ");
}

/* Writes a list over two lines (an indented line continues it), pausing
 * between the two like a slow writer; each line is complete. */
static void *slow_writer(void *arg)
{
	int *started = arg;
	FILE *f = fopen(file, "w");
	fputs("[gogs]\naddresses = 192.0.2.10,\n", f);
	fflush(f);
	__atomic_store_n(started, 1, __ATOMIC_SEQ_CST);
	sleep_ms(150);
	fputs("  192.0.2.11\n", f);
	fclose(f);
	return NULL;
}

/* Issue 8 item 2: a file changed a moment ago is not read until it has
 * held still (the pause here ends at a newline, so only the settling
 * rule can tell the list is not finished). */
static void test_pause_at_line_end(void **s)
{
	(void)s;
	struct got g;
	int started = 0;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_writer, &started), 0);
	while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	assert_int_equal(resolve("gogs", &g), 0);
	pthread_join(t, NULL);
	assert_string_equal(g.addrs, "192.0.2.10 192.0.2.11 ");
}

struct churn {
	int stop;
};

/* Appends whole lines every 40 ms: always well-formed, never settled. */
static void *churn_writer(void *arg)
{
	struct churn *c = arg;
	for (int i = 0; i < 100 && !__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST); i++) {
		FILE *f = fopen(file, "a");
		fprintf(f, "; edit %d\n", i);
		fclose(f);
		sleep_ms(40);
	}
	return NULL;
}

/* A file that never holds still gives a temporary error after a bounded
 * wait, and the next resolutions do not wait again. */
static void test_still_changing(void **s)
{
	(void)s;
	struct got g;
	struct churn c = {0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, churn_writer, &c), 0);
	sleep_ms(20);
	uint64_t t0 = mono_ms();
	int rc = resolve("gogs", &g);
	uint64_t t1 = mono_ms();
	int rc2 = resolve("gogs", &g);
	uint64_t t2 = mono_ms();
	__atomic_store_n(&c.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(rc2, -EAGAIN);
	assert_non_null(strstr(testhost_error(h), "being written"));
	assert_true(t1 - t0 >= 900 && t1 - t0 < 1500);
	assert_true(t2 - t1 < 100);
	/* Once it holds still, it is read. */
	sleep_ms(250);
	assert_int_equal(resolve("gogs", &g), 0);
	assert_string_equal(g.addrs, "192.0.2.10 2001:db8::10 ");
}

/* A directory or a FIFO as the file: one clear error at once (a FIFO
 * used to block the daemon for ever; alarm() fails the test then). */
static void test_not_regular(void **s)
{
	(void)s;
	struct got g;
	assert_int_equal(unlink(file), 0);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(resolve("gogs", &g), -EISDIR);
	assert_non_null(strstr(testhost_error(h), "is a directory"));
	assert_null(strstr(testhost_error(h), "no [gogs] section"));
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(mkfifo(file, 0600), 0);
	alarm(10);
	assert_int_not_equal(resolve("gogs", &g), 0);
	alarm(0);
	assert_non_null(strstr(testhost_error(h), "is a FIFO"));
	assert_int_equal(g.n, 0);
}

/* A NUL byte is refused naming its line, not cut off silently. */
static void test_nul_byte(void **s)
{
	(void)s;
	struct got g;
	static const char text[] = "[gogs]\naddresses = 192.0.2.1\naddresses\0 = 192.0.2.2\n";
	FILE *f = fopen(file, "w");
	fwrite(text, 1, sizeof text - 1, f);
	fclose(f);
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "placements.ini:3: contains a NUL byte"));
	assert_int_equal(g.n, 0);
}

/* Long lines: a valid list of 256 IPv6 addresses works; a 1 MB line is
 * reported at its own line; a 253-character service name works. */
static void test_long_lines(void **s)
{
	(void)s;
	struct got g;
	size_t cap = (1u << 20) + 4096;
	char *text = malloc(cap);
	assert_non_null(text);
	int n = snprintf(text, cap, "[gogs]\naddresses = ");
	for (int i = 0; i < 256; i++)
		n += snprintf(text + n, cap - (size_t)n, "2001:db8:1234:5678:9abc:def0:1234:%x, ", i);
	n += snprintf(text + n, cap - (size_t)n, "\n");
	write_placements(text);
	assert_int_equal(resolve("gogs", &g), 0);
	assert_int_equal(g.n, 256);
	n = snprintf(text, cap, "[gogs]\naddresses = 192.0.2.1\n\n[web]\naddresses = ");
	memset(text + n, '1', 1u << 20);
	snprintf(text + n + (1u << 20), cap - (size_t)n - (1u << 20), "\n[x]\naddresses =\n");
	write_placements(text);
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "placements.ini:5: line longer than"));
	char name[254];
	memset(name, 'a', 253);
	name[253] = '\0';
	for (int i = 63; i < 253; i += 64)
		name[i] = '.';
	snprintf(text, cap, "[%s]\naddresses = 192.0.2.7\n", name);
	write_placements(text);
	assert_int_equal(resolve(name, &g), 0);
	assert_string_equal(g.addrs, "192.0.2.7 ");
	free(text);
}

/* A section or key given twice is refused at its second line, not
 * merged: which of the two the user meant is not known. */
static void test_duplicates(void **s)
{
	(void)s;
	struct got g;
	write_placements("[web]\naddresses = 192.0.2.9\n[gogs]\naddresses = 192.0.2.1\n\n"
			 "[gogs]\naddresses = 192.0.2.2\n");
	assert_int_equal(resolve("web", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h),
			       "placements.ini:6: duplicate section [gogs] (first at line 3)"));
	write_placements("[gogs]\naddresses = 192.0.2.1\naddresses = 192.0.2.2\n");
	assert_int_equal(resolve("gogs", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h),
			       "placements.ini:3: [gogs]: duplicate key 'addresses' (first at line 2)"));
	assert_int_equal(g.n, 0);
}

/* What inih accepted still works (comments, a byte order mark, CRLF,
 * continuation lines); other mistakes give FILE:LINE. */
static void test_syntax(void **s)
{
	(void)s;
	struct got g;
	write_placements("\xEF\xBB\xBF; lab\r\n[gogs] ; the forge\r\naddresses = 192.0.2.1, ; two\r\n"
			 "   192.0.2.2\r\n# end\r\n");
	assert_int_equal(resolve("gogs", &g), 0);
	assert_string_equal(g.addrs, "192.0.2.1 192.0.2.2 ");
	static const struct { const char *text, *msg; } bad[] = {
		{"addresses = 192.0.2.1\n", ":1: 'addresses' before any [SERVICE] section"},
		{"[gogs]\n[web]\naddresses =\n", ":1: [gogs] has no addresses or hostname line"},
		{"[gogs\naddresses =\n", ":1: section header without ']'"},
		{"[]\naddresses =\n", ":1: empty section name"},
		{"[gogs]\naddresses = 192.0.2.1\x1b[31m\n", ":2: [gogs]: '192.0.2.1?[31m' is not an IP"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_placements(bad[i].text);
		assert_int_equal(resolve("gogs", &g), -EINVAL);
		if (!strstr(testhost_error(h), bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].msg, testhost_error(h));
	}
}

/* ABI 2: `hostname =` is the node's DNS name (the target of CNAME
 * records), delivered as dns_name, normalised by host->name_normalise.
 * With a hostname, a section is one node with all its addresses. */
static void test_hostname(void **s)
{
	(void)s;
	struct got g;
	write_placements("[web]\nhostname = Node1.Example.NET. ; the box\n"
			 "addresses = 192.0.2.1, 2001:db8::1\n"
			 "[alias]\nhostname = node2.example.net\n"
			 "[plain]\naddresses = 192.0.2.5, 192.0.2.6\n");
	assert_int_equal(resolve("web", &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.addrs, "192.0.2.1 2001:db8::1 ");
	assert_string_equal(g.names, "node1.example.net ");
	/* A hostname alone: a node with no address (CNAME records only). */
	assert_int_equal(resolve("alias", &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.addrs, "");
	assert_string_equal(g.names, "node2.example.net ");
	/* Without one, each address is a node, and none has a DNS name. */
	assert_int_equal(resolve("plain", &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names, "- - ");
}

/* A bad or repeated hostname is one FILE:LINE error that fails the whole
 * file, like a bad address. */
static void test_hostname_bad(void **s)
{
	(void)s;
	struct got g;
	static const struct { const char *text, *msg; } bad[] = {
		{"[web]\naddresses = 192.0.2.1\nhostname = node..example.net\n",
		 "placements.ini:3: [web]: hostname 'node..example.net' is not a DNS name"},
		{"[web]\nhostname = no de.example.net\n", ":2: [web]: hostname 'no de.example.net' is not"},
		{"[web]\nhostname =\n", ":2: [web]: hostname '' is not a DNS name"},
		{"[web]\nhostname = .\n", ":2: [web]: hostname '.' is not a DNS name"},
		{"[web]\nhostname = a\x1b[2J.example\n", ":2: [web]: hostname 'a?[2J.example' is not"},
		{"[web]\nhostname = a.example.net\naddresses = 192.0.2.1\nhostname = b.example.net\n",
		 "placements.ini:4: [web]: duplicate key 'hostname' (first at line 2)"},
		{"[web]\nhostname = a.example.net\n  192.0.2.1\n", ":3: syntax error"},
	};
	char longname[300];
	memset(longname, 'a', 64);
	snprintf(longname + 64, sizeof longname - 64, ".example.net");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_placements(bad[i].text);
		assert_int_equal(resolve("web", &g), -EINVAL);
		if (!strstr(testhost_error(h), bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].msg, testhost_error(h));
		assert_int_equal(g.n, 0);
	}
	char text[400];
	snprintf(text, sizeof text, "[web]\nhostname = %s\n", longname);
	write_placements(text);
	assert_int_equal(resolve("web", &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), ":2: [web]: hostname 'aaaa"));
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
		cmocka_unit_test_setup_teardown(test_mid_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_at_line_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_still_changing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname_bad, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
