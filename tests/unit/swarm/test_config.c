/* Swarm backend: configuration keys (typed: the core parses numbers and
 * switches, see swkv.h), the node map, filter URLs, engine status
 * mapping. */
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

#include "swkv.h"

#define KEYS dnsfollow_plugin.config_keys

static char err[SWARM_ERRLEN];
static const struct dnsfollow_host *H; /* for name_normalise */

static int cfg(struct swarm_cfg *c, const char *const *kvs)
{
	struct dnsfollow_kv kv[32];
	size_t n = swkv(KEYS, kv, 32, kvs);
	err[0] = '\0';
	return swarm_cfg_parse(c, kv, n, H->name_normalise, err, sizeof err);
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
	assert_string_equal(c.label_name, "dnsfollow.hostname");
	assert_string_equal(c.label_prefix, "dnsfollow"); /* service labels */
	assert_int_equal(c.poll_ms, 5000);
	assert_int_equal(c.timeout_ms, 5000);
	assert_int_equal(c.settle_max_ms, SWARM_SETTLE_MAX_MS);
	assert_true(c.events);
	assert_false(c.allow_loopback);
	assert_int_equal(c.nmap, 0);
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
			     "poll_interval=2m", "timeout_ms=250", "events=no",
			     "hostname_label=", "node.n1=N1.Example.ORG.",
			     "label_prefix=com.example-dns_1", NULL};
	assert_int_equal(cfg(&c, kvs), 0);
	assert_string_equal(c.label_prefix, "com.example-dns_1");
	assert_null(c.label4); /* empty: switched off */
	assert_null(c.label_name);
	assert_string_equal(c.label6, "pub6");
	assert_int_equal(c.nmap, 4);
	assert_string_equal(c.map[1].host, "n1");
	assert_string_equal(c.map[1].addr, "2001:db8::1");
	assert_int_equal(c.map[1].family, AF_INET6);
	assert_string_equal(c.map[2].host, "n2.example.org");
	assert_int_equal(c.map[2].family, AF_INET);
	/* A DNS name for the node (CNAME target), normalised. */
	assert_string_equal(c.map[3].host, "n1");
	assert_string_equal(c.map[3].addr, "n1.example.org");
	assert_int_equal(c.map[3].family, AF_UNSPEC);
	assert_true(c.allow_loopback);
	assert_false(c.events);
	assert_int_equal(c.poll_ms, 120000);
	assert_int_equal(c.timeout_ms, 250);
	swarm_cfg_free(&c);
}

/* ABI 2: the keys are typed, so the core validates them (exit 78 at
 * --check-config) and the plugin parses none. */
static void test_key_table(void **s)
{
	(void)s;
	static const struct {
		const char *name;
		uint32_t type;
		const char *def;
	} want[] = {
		{"host", DNSFOLLOW_T_STRING, NULL},
		{"tls_ca", DNSFOLLOW_T_PATH, NULL},
		{"tls_cert", DNSFOLLOW_T_PATH, NULL},
		{"tls_key", DNSFOLLOW_T_PATH, NULL},
		{"address_label", DNSFOLLOW_T_STRING, "dnsfollow.ipv4"},
		{"hostname_label", DNSFOLLOW_T_STRING, "dnsfollow.hostname"},
		{"node.*", DNSFOLLOW_T_STRING, NULL},
		{"allow_loopback", DNSFOLLOW_T_BOOL, "no"},
		{"events", DNSFOLLOW_T_BOOL, "yes"},
		{"poll_interval", DNSFOLLOW_T_DURATION, "5s"},
		{"timeout_ms", DNSFOLLOW_T_UINT, "5000"},
		{"settle_max_ms", DNSFOLLOW_T_UINT, "60000"},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		const struct dnsfollow_key *k = swkv_decl(KEYS, want[i].name);
		if (!k || strcmp(k->name, want[i].name) != 0 || k->type != want[i].type)
			fail_msg("key %s: missing or wrong type", want[i].name);
		if (want[i].def ? !k->def || strcmp(k->def, want[i].def) : k->def != NULL)
			fail_msg("key %s: default '%s'", want[i].name, k->def ? k->def : "");
	}
	assert_true(swkv_decl(KEYS, "node.*")->flags & DNSFOLLOW_KEY_MULTI);
	const struct dnsfollow_key *p = swkv_decl(KEYS, "poll_interval");
	assert_int_equal(p->min, 1000);
	assert_int_equal(p->max, 86400000);
	const struct dnsfollow_key *t = swkv_decl(KEYS, "timeout_ms");
	assert_int_equal(t->min, 100);
	assert_int_equal(t->max, 600000);
	/* target is an ENUM: `target = everything` is the core's refusal. */
	const struct dnsfollow_key *r = swkv_decl(dnsfollow_plugin.record_keys, "target");
	assert_non_null(r);
	assert_int_equal(r->type, DNSFOLLOW_T_ENUM);
	assert_string_equal(r->def, "tasks");
	assert_string_equal(r->values[SWARM_TARGET_TASKS], "tasks");
	assert_string_equal(r->values[SWARM_TARGET_READY_NODES], "ready-nodes");
	assert_null(r->values[2]);
	/* The descriptor of ABI 2, and the optional ops. */
	assert_int_equal(dnsfollow_plugin.abi_version, 2);
	assert_int_equal(dnsfollow_plugin.struct_size, sizeof(struct dnsfollow_plugin));
	const struct dnsfollow_backend_ops *ops = dnsfollow_plugin.ops;
	assert_true(DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_set));
	assert_true(DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, check_query));
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
		{"node.n1=10.0.0", "node.n1: '10.0.0' is not an IPv4"},
		{"node.n1=fe80::1::2", "is not an IPv4 or IPv6 address"},
		{"node.n1=", "is not an IPv4 or IPv6 address"},
		/* A CNAME target: a DNS name with a dot, valid labels. */
		{"node.n1=n1", "node.n1: 'n1' is neither an IP address nor a DNS name"},
		{"node.n1=a..example.org", "neither an IP address nor a DNS name"},
		{"node.n1=host.10", "neither an IP address nor a DNS name"},
		{"node.n1=has space.example.org", "neither an IP address nor a DNS name"},
		{"node.n1=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
		 "neither an IP address nor a DNS name"},
		/* Service labels: a Docker label key's first words. */
		{"label_prefix=", "label_prefix: '' is not a label prefix"},
		{"label_prefix=dns.", "label_prefix: 'dns.' is not a label prefix"},
		{"label_prefix=.dns", "is not a label prefix"},
		{"label_prefix=my dns", "is not a label prefix"},
		{"label_prefix=dns=1", "is not a label prefix"},
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
	const char *names[] = {"node.n1=a.example.org", "node.n1=192.0.2.1",
			       "node.N1=b.example.org", NULL};
	assert_int_equal(cfg(&c, names), -EINVAL);
	assert_non_null(strstr(err, "node.N1: a second DNS name for this node"));
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
	struct dnsfollow_kv kv[32];
	size_t n = swkv(KEYS, kv, 32, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "needs mutual TLS"));
	assert_null(self);
	const char *good[] = {"host=unix:///nonexistent/dfsw.sock", NULL};
	n = swkv(KEYS, kv, 32, good);
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	dnsfollow_plugin.destroy(self);
	/* events = no: no watch fd, the core polls at its interval. */
	const char *quiet[] = {"host=unix:///nonexistent/dfsw.sock", "events=no", NULL};
	n = swkv(KEYS, kv, 32, quiet);
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	const struct dnsfollow_backend_ops *ops = dnsfollow_plugin.ops;
	assert_int_equal(ops->watch_fd(self), -1);
	assert_int_equal(ops->watch_ack(self), 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* Issue 8 item 13: a bad record option is refused before any pass (the
 * core calls check_query at start-up and --check-config, exit 78), with
 * no engine asked: the socket here does not exist. ABI 2: `target` is an
 * ENUM the core checks; check_query keeps what types cannot say. */
static void test_check_query(void **s)
{
	(void)s;
	const struct dnsfollow_host *h = testhost_new("sw");
	const char *good[] = {"host=unix:///nonexistent/dfsw.sock", NULL};
	struct dnsfollow_kv kv[32], opt[2];
	size_t n = swkv(KEYS, kv, 32, good);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	const struct dnsfollow_backend_ops *ops = dnsfollow_plugin.ops;
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = "gogs",
				    .options = opt};
	static const char *ok[] = {"target=tasks", "target=ready-nodes"};
	for (size_t i = 0; i < 2; i++) {
		q.noptions = swkv(dnsfollow_plugin.record_keys, opt, 2,
				  (const char *[]){ok[i], NULL});
		assert_int_equal(ops->check_query(self, &q), 0);
	}
	assert_int_equal(swarm_target_of(&q), SWARM_TARGET_READY_NODES);
	q.noptions = 0; /* the default target */
	assert_int_equal(ops->check_query(self, &q), 0);
	assert_int_equal(swarm_target_of(&q), SWARM_TARGET_TASKS);
	/* An index no core would deliver. */
	opt[0] = (struct dnsfollow_kv){"target", "sideways", 7};
	q.noptions = 1;
	assert_int_equal(ops->check_query(self, &q), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "target: not tasks or ready-nodes"));
	q.noptions = 0;
	static const char *bad[] = {"", "my service", "tab\there", "nl\n"};
	for (size_t i = 0; i < 4; i++) {
		testhost_clear(h);
		q.service = bad[i];
		assert_int_equal(ops->check_query(self, &q), -EINVAL);
	}
	assert_non_null(strstr(testhost_error(h), "no spaces or control characters"));
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	q.service = longname;
	assert_int_equal(ops->check_query(self, &q), -EINVAL);
	q.service = "stack_gogs";
	assert_int_equal(ops->check_query(self, &q), 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_filter_urls(void **s)
{
	(void)s;
	/* The host's url_escape (ABI 2) replaces the plugin's own. */
	char *p = swarm_tasks_path(H, "gogs");
	assert_string_equal(p, "/tasks?filters=%7B%22service%22%3A%5B%22gogs%22%5D%7D");
	free(p);
	/* A name that needs escaping both in JSON and in the URL. */
	p = swarm_tasks_path(H, "we\"ird&name");
	assert_string_equal(p, "/tasks?filters=%7B%22service%22%3A%5B%22we%5C%22ird%26name%22%5D%7D");
	free(p);
	p = swarm_events_path(H);
	assert_string_equal(p, "/events?filters=%7B%22type%22%3A%5B%22service%22%2C%22node%22%5D%7D");
	free(p);
}

static void test_status_mapping(void **s)
{
	(void)s;
	const char *mgr = "{\"message\":\"This node is not a swarm manager. Worker nodes can't be used\"}";
	assert_int_equal(swarm_api_status(200, "", 0, "GET /x", err, sizeof err), 0);
	assert_int_equal(swarm_api_status(503, mgr, strlen(mgr), "GET /tasks", err, sizeof err), -EAGAIN);
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
	H = testhost_new("cfg");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_plain_http_proxy),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_create_reports_errors),
		cmocka_unit_test(test_check_query),
		cmocka_unit_test(test_filter_urls),
		cmocka_unit_test(test_status_mapping),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	testhost_free(H);
	return rc;
}
