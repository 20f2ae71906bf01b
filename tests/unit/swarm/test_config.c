/* Swarm backend: configuration keys, filter URLs, engine status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../backends/swarm/swarm.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static char err[SWARM_ERRLEN];

static int cfg(struct swarm_cfg *c, const char *const *kvs)
{
	struct dnsfollow_kv kv[16];
	size_t n = testhost_kv(kv, 16, kvs);
	err[0] = '\0';
	return swarm_cfg_parse(c, kv, n, err, sizeof err);
}

static void test_defaults(void **s)
{
	(void)s;
	struct swarm_cfg c;
	unsetenv("DOCKER_HOST");
	const char *none[] = {NULL};
	assert_int_equal(cfg(&c, none), 0);
	assert_string_equal(c.socket, "/var/run/docker.sock");
	assert_string_equal(c.base, "http://localhost");
	assert_string_equal(c.label4, "dnsfollow.ipv4");
	assert_string_equal(c.label6, "dnsfollow.ipv6");
	assert_int_equal(c.poll_ms, 5000);
	assert_int_equal(c.timeout_ms, 5000);
	assert_false(c.allow_loopback);
	swarm_cfg_free(&c);

	setenv("DOCKER_HOST", "unix:///run/other.sock", 1);
	assert_int_equal(cfg(&c, none), 0);
	assert_string_equal(c.socket, "/run/other.sock");
	swarm_cfg_free(&c);
	unsetenv("DOCKER_HOST");
}

static void test_keys(void **s)
{
	(void)s;
	struct swarm_cfg c;
	const char *kvs[] = {"host=unix:///x.sock", "address_label=",
			     "address6_label=pub6", "node.n1=192.0.2.1",
			     "node.n1=2001:db8::1",
			     "node.n2.example.org=198.51.100.2", "allow_loopback=yes",
			     "poll_interval=30", "timeout_ms=250", NULL};
	assert_int_equal(cfg(&c, kvs), 0);
	assert_null(c.label4); /* empty: switched off */
	assert_string_equal(c.label6, "pub6");
	assert_int_equal(c.nmap, 3);
	assert_string_equal(c.map[1].host, "n1");
	assert_string_equal(c.map[1].addr, "2001:db8::1");
	assert_int_equal(c.map[1].family, AF_INET6);
	assert_string_equal(c.map[2].host, "n2.example.org");
	assert_int_equal(c.map[2].family, AF_INET);
	assert_true(c.allow_loopback);
	assert_int_equal(c.poll_ms, 30000);
	assert_int_equal(c.timeout_ms, 250);
	swarm_cfg_free(&c);
}

static void test_bad_values(void **s)
{
	(void)s;
	static const struct {
		const char *kv, *want;
	} cases[] = {
		{"host=unix://relative.sock", "must be absolute"},
		{"host=ssh://me@box", "expected unix:///PATH, tcp://HOST:PORT or http://"},
		{"host=https://box:2376", "expected unix:///PATH"},
		{"host=http://box:2375/v1.41", "is not http://HOST:PORT"},
		{"host=tcp://", "is not tcp://HOST:PORT"},
		{"host=tcp://h:2376/path", "is not tcp://HOST:PORT"},
		{"host=tcp://h:2376", "needs mutual TLS"},
		{"host=unix:///aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", "too long"},
		{"node.=192.0.2.1", "node.: bad host name"},
		{"node.n1=300.1.1.1", "node.n1: '300.1.1.1' is not an IPv4 or IPv6 address"},
		{"node.n1=", "is not an IPv4 or IPv6 address"},
		{"allow_loopback=maybe", "not yes or no"},
		{"events=sometimes", "events: 'sometimes' is not yes or no"},
		{"poll_interval=0", "poll_interval"},
		{"poll_interval=-5", "poll_interval"},
		{"poll_interval=5s", "poll_interval"},
		{"timeout_ms=99999999999999999999", "timeout_ms"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct swarm_cfg c;
		const char *kvs[] = {cases[i].kv, NULL};
		if (cfg(&c, kvs) != -EINVAL || !strstr(err, cases[i].want))
			fail_msg("case %zu (%s): '%s'", i, cases[i].kv, err);
	}
	/* One address per node and family. */
	struct swarm_cfg c;
	const char *twice[] = {"node.n1=192.0.2.1", "node.N1=192.0.2.2", NULL};
	assert_int_equal(cfg(&c, twice), -EINVAL);
	assert_non_null(strstr(err, "node.N1: a second IPv4 address for this node"));
}

static void test_plain_http_proxy(void **s)
{
	(void)s;
	struct swarm_cfg c;
	const char *kvs[] = {"host=http://socket-proxy:2375", NULL};
	assert_int_equal(cfg(&c, kvs), 0);
	assert_string_equal(c.base, "http://socket-proxy:2375");
	assert_null(c.socket);
	assert_null(c.tls_cert);
	swarm_cfg_free(&c);
	const char *noport[] = {"host=http://socket-proxy", NULL};
	assert_int_equal(cfg(&c, noport), 0);
	assert_string_equal(c.base, "http://socket-proxy:2375");
	swarm_cfg_free(&c);
	/* tcp:// never silently means plain text. */
	const char *tcp[] = {"host=tcp://socket-proxy:2375", NULL};
	assert_int_equal(cfg(&c, tcp), -EINVAL);
	assert_non_null(strstr(err, "host = http://HOST:PORT"));
}

static void test_tls(void **s)
{
	(void)s;
	struct swarm_cfg c;
	char dir[] = "/tmp/swtlsXXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[3][128], kv[3][160];
	const char *names[] = {"ca.pem", "cert.pem", "key.pem"};
	for (int i = 0; i < 3; i++) {
		snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
		FILE *f = fopen(p[i], "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(kv[0], sizeof kv[0], "tls_ca=%s", p[0]);
	snprintf(kv[1], sizeof kv[1], "tls_cert=%s", p[1]);
	snprintf(kv[2], sizeof kv[2], "tls_key=%s", p[2]);
	const char *kvs[] = {"host=tcp://10.0.0.1", kv[0], kv[1], kv[2], NULL};
	assert_int_equal(cfg(&c, kvs), 0);
	assert_string_equal(c.base, "https://10.0.0.1:2376"); /* default port */
	assert_null(c.socket);
	assert_string_equal(c.tls_key, p[2]);
	swarm_cfg_free(&c);

	const char *v6[] = {"host=tcp://[2001:db8::1]:2377", kv[1], kv[2], NULL};
	assert_int_equal(cfg(&c, v6), 0);
	assert_string_equal(c.base, "https://[2001:db8::1]:2377");
	assert_null(c.tls_ca);
	swarm_cfg_free(&c);

	/* The docker CLI's convention. */
	setenv("DOCKER_CERT_PATH", dir, 1);
	const char *env[] = {"host=tcp://box:2376", NULL};
	assert_int_equal(cfg(&c, env), 0);
	assert_string_equal(c.tls_ca, p[0]);
	swarm_cfg_free(&c);
	unsetenv("DOCKER_CERT_PATH");

	remove(p[2]);
	assert_int_equal(cfg(&c, kvs), -EINVAL);
	assert_non_null(strstr(err, "tls_key: cannot read"));
	remove(p[0]);
	remove(p[1]);
	rmdir(dir);
}

static void test_create_reports_errors(void **s)
{
	(void)s;
	const struct dnsfollow_host *h = testhost_new("sw");
	const char *kvs[] = {"host=tcp://box", NULL};
	struct dnsfollow_kv kv[2];
	size_t n = testhost_kv(kv, 2, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "needs mutual TLS"));
	assert_null(self);
	const char *good[] = {"host=unix:///nonexistent/dfsw.sock", NULL};
	n = testhost_kv(kv, 2, good);
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	dnsfollow_plugin.destroy(self);
	/* events = no: no watch fd, the core polls at its interval. */
	const char *quiet[] = {"host=unix:///nonexistent/dfsw.sock", "events=no", NULL};
	n = testhost_kv(kv, 3, quiet);
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	const struct dnsfollow_backend_ops *ops = dnsfollow_plugin.ops;
	assert_int_equal(ops->watch_fd(self), -1);
	assert_int_equal(ops->watch_ack(self), 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* Issue 8 item 13: a bad record option is refused before any pass (the
 * core calls check_query at start-up and --check-config, exit 78), with
 * no engine asked: the socket here does not exist. */
static void test_check_query(void **s)
{
	(void)s;
	const struct dnsfollow_host *h = testhost_new("sw");
	const char *good[] = {"host=unix:///nonexistent/dfsw.sock", NULL};
	struct dnsfollow_kv kv[2], opt[2];
	size_t n = testhost_kv(kv, 2, good);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	const struct dnsfollow_backend_ops *ops = dnsfollow_plugin.ops;
	assert_true(ops->struct_size >= offsetof(struct dnsfollow_backend_ops, check_query) +
			    sizeof ops->check_query && ops->check_query);
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = "gogs",
				    .options = opt};
	static const char *ok[] = {"target=tasks", "target=ready-nodes"};
	for (size_t i = 0; i < 2; i++) {
		q.noptions = testhost_kv(opt, 2, (const char *[]){ok[i], NULL});
		assert_int_equal(ops->check_query(self, &q), 0);
	}
	q.noptions = 0; /* the default target */
	assert_int_equal(ops->check_query(self, &q), 0);
	static const char *bad[] = {"target=everything", "target=", "target=Tasks",
				    "target=ready-nodes "};
	for (size_t i = 0; i < 4; i++) {
		testhost_clear(h);
		q.noptions = testhost_kv(opt, 2, (const char *[]){bad[i], NULL});
		assert_int_equal(ops->check_query(self, &q), -EINVAL);
		if (!strstr(testhost_error(h), "is not tasks or ready-nodes") ||
		    strncmp(testhost_error(h), "target: '", 9) != 0)
			fail_msg("%s: '%s'", bad[i], testhost_error(h));
	}
	assert_non_null(strstr(testhost_error(h), "'ready-nodes '"));
	q.noptions = 0;
	q.service = "";
	assert_int_equal(ops->check_query(self, &q), -EINVAL);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_filter_urls(void **s)
{
	(void)s;
	char *e = swarm_urlencode("a b/{\"x\"}:[]~._-%&+é");
	assert_string_equal(e, "a%20b%2F%7B%22x%22%7D%3A%5B%5D~._-%25%26%2B%C3%A9");
	free(e);
	char *p = swarm_tasks_path("gogs");
	assert_string_equal(p, "/tasks?filters=%7B%22service%22%3A%5B%22gogs%22%5D%7D");
	free(p);
	/* A name that needs escaping both in JSON and in the URL. */
	p = swarm_tasks_path("we\"ird&name");
	assert_string_equal(p, "/tasks?filters=%7B%22service%22%3A%5B%22we%5C%22ird%26name%22%5D%7D");
	free(p);
	p = swarm_events_path();
	assert_string_equal(p, "/events?filters=%7B%22type%22%3A%5B%22service%22%2C%22node%22%5D%7D");
	free(p);
}

static void test_status_mapping(void **s)
{
	(void)s;
	const char *mgr = "{\"message\":\"This node is not a swarm manager. Worker nodes can't be used\"}";
	assert_int_equal(swarm_api_status(200, "", 0, "GET /x", err, sizeof err), 0);
	assert_int_equal(swarm_api_status(503, mgr, strlen(mgr), "GET /tasks", err, sizeof err), -EACCES);
	assert_non_null(strstr(err, "must talk to a manager"));
	assert_int_equal(swarm_api_status(503, "{}", 2, "GET /x", err, sizeof err), -EAGAIN);
	assert_int_equal(swarm_api_status(500, "oops", 4, "GET /x", err, sizeof err), -EAGAIN);
	assert_non_null(strstr(err, "HTTP 500: no message"));
	assert_int_equal(swarm_api_status(429, "", 0, "GET /x", err, sizeof err), -EAGAIN);
	const char *nf = "{\"message\":\"service x not found\"}";
	assert_int_equal(swarm_api_status(404, nf, strlen(nf), "GET /tasks", err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "service x not found"));
	assert_int_equal(swarm_api_status(403, "", 0, "GET /x", err, sizeof err), -EACCES);
	assert_int_equal(swarm_api_status(400, "", 0, "GET /x", err, sizeof err), -EPROTO);
	assert_int_equal(swarm_api_status(302, "", 0, "GET /x", err, sizeof err), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_plain_http_proxy),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_create_reports_errors),
		cmocka_unit_test(test_check_query),
		cmocka_unit_test(test_filter_urls),
		cmocka_unit_test(test_status_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
