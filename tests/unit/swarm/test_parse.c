/* Swarm backend: task / node JSON, address selection, placement rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/swarm/swarm.h"
#include "testhost.h"

static char err[SWARM_ERRLEN];

static const struct swarm_addrcfg plain = {
	.label4 = "dnsfollow.ipv4", .label6 = "dnsfollow.ipv6"};

#define NODE(id, host, state, avail, labels, addr, mgr)                      \
	"{\"ID\":\"" id "\",\"Description\":{\"Hostname\":\"" host "\"},"     \
	"\"Spec\":{\"Role\":\"worker\",\"Availability\":\"" avail "\","       \
	"\"Labels\":{" labels "}},\"Status\":{\"State\":\"" state "\","      \
	"\"Addr\":\"" addr "\"}" mgr "}"

static int nodes(const char *json, const struct swarm_addrcfg *ac,
		 struct swarm_nodes *out)
{
	err[0] = '\0';
	return swarm_parse_nodes(json, strlen(json), ac ? ac : &plain, out, err,
				 sizeof err);
}

static void test_nodes_basic(void **s)
{
	(void)s;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active", "", "0.0.0.0",
				 ",\"ManagerStatus\":{\"Leader\":true,\"Addr\":\"10.0.0.1:2377\"}")
			"," NODE("b2", "n2", "down", "active", "", "10.0.0.2", "")
			"," NODE("c3", "n3", "ready", "drain", "", "10.0.0.3", "") "]";
	assert_int_equal(nodes(j, NULL, &ns), 0);
	assert_int_equal(ns.n, 3);
	/* Status.Addr 0.0.0.0 on a manager: ManagerStatus.Addr's host wins. */
	assert_string_equal(ns.v[0].addr4, "10.0.0.1");
	assert_string_equal(ns.v[0].addr6, "");
	assert_true(ns.v[0].ready && ns.v[0].active);
	assert_false(ns.v[1].ready);
	assert_false(ns.v[2].active);
	assert_string_equal(ns.v[2].addr4, "10.0.0.3");
	assert_string_equal(ns.v[2].host, "n3");
	assert_non_null(swarm_nodes_find(&ns, "b2"));
	assert_null(swarm_nodes_find(&ns, "zz"));
	swarm_nodes_free(&ns);
}

static void test_nodes_labels_and_map(void **s)
{
	(void)s;
	struct swarm_map map[] = {{"n2", "192.0.2.2", AF_INET},
				  {"n2", "2001:db8::2", AF_INET6},
				  {"N3", "192.0.2.3", AF_INET}};
	struct swarm_addrcfg ac = plain;
	ac.map = map;
	ac.nmap = 3;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active",
				 "\"dnsfollow.ipv4\":\"203.0.113.7\",\"dnsfollow.ipv6\":\"2001:DB8:0::7\"",
				 "10.0.0.1", "")
			"," NODE("b2", "n2", "ready", "active", "", "10.0.0.2", "")
			"," NODE("c3", "n3", "ready", "active",
				 "\"dnsfollow.ipv4\":\"198.51.100.3\"", "10.0.0.3", "") "]";
	assert_int_equal(nodes(j, &ac, &ns), 0);
	assert_string_equal(ns.v[0].addr4, "203.0.113.7");
	assert_string_equal(ns.v[0].addr6, "2001:db8::7"); /* canonical form */
	assert_string_equal(ns.v[1].addr4, "192.0.2.2");
	assert_string_equal(ns.v[1].addr6, "2001:db8::2");
	/* The label beats the map; map host names match case-insensitively. */
	assert_string_equal(ns.v[2].addr4, "198.51.100.3");
	swarm_nodes_free(&ns);

	ac.label4 = NULL; /* labels switched off: the map applies */
	assert_int_equal(nodes(j, &ac, &ns), 0);
	assert_string_equal(ns.v[2].addr4, "192.0.2.3");
	assert_string_equal(ns.v[0].addr4, "10.0.0.1");
	swarm_nodes_free(&ns);
}

static void test_nodes_bad_addresses(void **s)
{
	(void)s;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active",
				 "\"dnsfollow.ipv4\":\"not-an-ip\"", "10.0.0.1", "")
			"," NODE("b2", "n2", "ready", "active",
				 "\"dnsfollow.ipv4\":\"2001:db8::1\"", "10.0.0.2", "")
			"," NODE("c3", "n3", "ready", "active", "", "127.0.0.1", "")
			"," NODE("d4", "n4", "ready", "active",
				 "\"dnsfollow.ipv4\":\"127.0.0.5\"", "10.0.0.4", "")
			"," NODE("e5", "n5", "ready", "active",
				 "\"dnsfollow.ipv4\":7", "10.0.0.5", "") "]";
	assert_int_equal(nodes(j, NULL, &ns), 0);
	assert_non_null(strstr(ns.v[0].problem, "'not-an-ip' is not an IPv4"));
	assert_string_equal(ns.v[0].addr4, "");
	assert_non_null(strstr(ns.v[1].problem, "is not an IPv4"));
	assert_non_null(strstr(ns.v[2].problem, "no usable address"));
	/* A loopback label is passed on: the core's policy refuses it. */
	assert_string_equal(ns.v[3].addr4, "127.0.0.5");
	assert_string_equal(ns.v[3].problem, "");
	assert_non_null(strstr(ns.v[4].problem, "not a string"));
	swarm_nodes_free(&ns);

	struct swarm_addrcfg lo = plain;
	lo.allow_loopback = 1;
	assert_int_equal(nodes(j, &lo, &ns), 0);
	assert_string_equal(ns.v[2].addr4, "127.0.0.1");
	assert_string_equal(ns.v[2].problem, "");
	assert_string_equal(ns.v[3].addr4, "127.0.0.5");
	swarm_nodes_free(&ns);

	/* An unspecified address reported by the engine is never taken as
	 * the node's (Status.Addr is 0.0.0.0 on managers), whatever
	 * allow_loopback says; one given in a label is passed on for the
	 * core's policy to refuse. */
	const char *any = "[" NODE("a1", "n1", "ready", "active", "", "0.0.0.0", "")
			  "," NODE("b2", "n2", "ready", "active",
				   "\"dnsfollow.ipv6\":\"::\"", "::ffff:0.0.0.0", "") "]";
	assert_int_equal(nodes(any, &lo, &ns), 0);
	assert_string_equal(ns.v[0].addr4, "");
	assert_non_null(strstr(ns.v[0].problem, "no usable address"));
	assert_string_equal(ns.v[1].addr6, "::");
	assert_string_equal(ns.v[1].problem, "");
	swarm_nodes_free(&ns);
}

/* Issue 8 item 7: one address policy, in the core. The backend passes
 * what labels, node.HOSTNAME keys and Status.Addr say through unchanged
 * (canonical text only), so the core can refuse multicast, 240/4,
 * link-local, IPv4-mapped ... naming the node. */
static void test_nodes_addresses_pass_through(void **s)
{
	(void)s;
	struct swarm_map map[] = {{"n5", "169.254.7.7", AF_INET},
				  {"n5", "FF02::1", AF_INET6}};
	struct swarm_addrcfg ac = plain;
	ac.map = map;
	ac.nmap = 2;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active",
				 "\"dnsfollow.ipv4\":\"224.0.0.1\",\"dnsfollow.ipv6\":\"::ffff:192.0.2.1\"",
				 "10.0.0.1", "")
			"," NODE("b2", "n2", "ready", "active",
				 "\"dnsfollow.ipv4\":\"255.255.255.255\",\"dnsfollow.ipv6\":\"fe80::1\"",
				 "10.0.0.2", "")
			"," NODE("c3", "n3", "ready", "active", "", "240.0.0.9", "")
			"," NODE("d4", "n4", "ready", "active", "", "::ffff:10.0.0.4", "")
			"," NODE("e5", "n5", "ready", "active", "", "10.0.0.5", "") "]";
	assert_int_equal(nodes(j, &ac, &ns), 0);
	static const char *want[][2] = {
		{"224.0.0.1", "::ffff:192.0.2.1"}, {"255.255.255.255", "fe80::1"},
		{"240.0.0.9", ""}, {"", "::ffff:10.0.0.4"}, {"169.254.7.7", "ff02::1"}};
	for (size_t i = 0; i < 5; i++) {
		if (strcmp(ns.v[i].addr4, want[i][0]) || strcmp(ns.v[i].addr6, want[i][1]) ||
		    ns.v[i].problem[0])
			fail_msg("node %zu: '%s' '%s' '%s'", i, ns.v[i].addr4,
				 ns.v[i].addr6, ns.v[i].problem);
	}
	swarm_nodes_free(&ns);
}

static const struct dnsfollow_host *H; /* its name_normalise */

/* ABI 2: a node's DNS name, the target of `type = CNAME` records, from a
 * node label (configurable, default dnsfollow.hostname) or a
 * `node.HOSTNAME = name` map entry; the label wins; none known → "" (the
 * placement's dns_name is NULL and the core refuses a CNAME for it). */
static void test_nodes_dns_name(void **s)
{
	(void)s;
	struct swarm_map map[] = {{"n1", "map1.example.org", AF_UNSPEC},
				  {"N2", "map2.example.org", AF_UNSPEC},
				  {"n3", "192.0.2.3", AF_INET}};
	struct swarm_addrcfg ac = plain;
	ac.map = map;
	ac.nmap = 3;
	ac.label_name = "dnsfollow.hostname";
	ac.normalise = H->name_normalise;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active",
				 "\"dnsfollow.hostname\":\"N1.Example.ORG.\"", "10.0.0.1", "")
			"," NODE("b2", "n2", "ready", "active", "", "10.0.0.2", "")
			"," NODE("c3", "n3", "ready", "active", "", "10.0.0.3", "")
			"," NODE("d4", "n4", "ready", "active",
				 "\"dnsfollow.hostname\":\"bad name.example.org\"", "10.0.0.4", "")
			"," NODE("e5", "n5", "ready", "active",
				 "\"dnsfollow.hostname\":\"n5\"", "10.0.0.5", "")
			"," NODE("f6", "n6", "ready", "active",
				 "\"dnsfollow.hostname\":7", "10.0.0.6", "")
			"," NODE("g7", "n7", "ready", "active",
				 "\"dnsfollow.hostname\":\"a..b.org\"", "10.0.0.7", "") "]";
	assert_int_equal(nodes(j, &ac, &ns), 0);
	assert_string_equal(ns.v[0].dns, "n1.example.org"); /* label beats map */
	assert_string_equal(ns.v[0].problem, "");
	assert_string_equal(ns.v[1].dns, "map2.example.org"); /* map, any case */
	assert_string_equal(ns.v[2].dns, ""); /* an address entry is no name */
	assert_string_equal(ns.v[2].addr4, "192.0.2.3");
	assert_string_equal(ns.v[2].problem, "");
	/* A bad label is the operator's mistake: said, not skipped. */
	assert_non_null(strstr(ns.v[3].problem,
			       "label dnsfollow.hostname 'bad name.example.org' is not a DNS name"));
	assert_string_equal(ns.v[3].dns, "");
	assert_non_null(strstr(ns.v[4].problem, "'n5' is not a DNS name with a dot"));
	assert_non_null(strstr(ns.v[5].problem, "'(not a string)' is not a DNS name"));
	assert_non_null(strstr(ns.v[6].problem, "is not a DNS name"));
	/* The addresses are still there. */
	assert_string_equal(ns.v[3].addr4, "10.0.0.4");
	swarm_nodes_free(&ns);

	/* Another label name; the label switched off: only the map. */
	ac.label_name = "example.cname";
	const char *k = "[" NODE("a1", "n1", "ready", "active",
				 "\"example.cname\":\"other.example.net\","
				 "\"dnsfollow.hostname\":\"n1.example.org\"", "10.0.0.1", "") "]";
	assert_int_equal(nodes(k, &ac, &ns), 0);
	assert_string_equal(ns.v[0].dns, "other.example.net");
	swarm_nodes_free(&ns);
	ac.label_name = NULL;
	assert_int_equal(nodes(k, &ac, &ns), 0);
	assert_string_equal(ns.v[0].dns, "map1.example.org");
	swarm_nodes_free(&ns);

	/* A bad name fails a resolution only where the node serves; the name
	 * is part of the fingerprint (a label change wakes the core). */
	ac.label_name = "dnsfollow.hostname";
	struct swarm_tasks ts;
	const char *t1 = "[{\"NodeID\":\"a1\",\"DesiredState\":\"running\","
			 "\"Status\":{\"State\":\"running\"}}]";
	assert_int_equal(swarm_parse_tasks(t1, strlen(t1), &ts, err, sizeof err), 0);
	assert_int_equal(nodes(j, &ac, &ns), 0);
	struct swarm_result r;
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_TASKS, &r, err, sizeof err), 0);
	char *fp = swarm_result_fingerprint(&r);
	assert_string_equal(fp, "a1=10.0.0.1,,n1.example.org;");
	free(fp);
	swarm_result_free(&r);
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_READY_NODES, &r, err,
				      sizeof err), -EINVAL);
	assert_non_null(strstr(err, "is not a DNS name"));
	swarm_nodes_free(&ns);
	swarm_tasks_free(&ts);
}

static void test_nodes_ipv6_manager(void **s)
{
	(void)s;
	struct swarm_nodes ns;
	const char *j = "[" NODE("a1", "n1", "ready", "active", "", "::1",
				 ",\"ManagerStatus\":{\"Addr\":\"[2001:db8::1]:2377\"}")
			"," NODE("b2", "n2", "ready", "active", "", "::", "") "]";
	assert_int_equal(nodes(j, NULL, &ns), 0);
	assert_string_equal(ns.v[0].addr6, "2001:db8::1");
	assert_string_equal(ns.v[0].addr4, "");
	assert_non_null(strstr(ns.v[1].problem, "no usable address"));
	swarm_nodes_free(&ns);
	/* A manager listening on [::1]: loopback, so Status.Addr is used. */
	const char *lo6 = "[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1",
				   ",\"ManagerStatus\":{\"Addr\":\"[::1]:2377\"}") "]";
	assert_int_equal(nodes(lo6, NULL, &ns), 0);
	assert_string_equal(ns.v[0].addr6, "");
	assert_string_equal(ns.v[0].addr4, "10.0.0.1");
	swarm_nodes_free(&ns);
}

static void test_nodes_malformed(void **s)
{
	(void)s;
	struct swarm_nodes ns;
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"", "malformed JSON"},
		{"[{\"ID\":\"a\"", "malformed JSON"},
		{"{\"message\":\"x\"}", "not a JSON array"},
		{"[1]", "without a valid ID"},
		{"[{\"Status\":{\"State\":\"ready\"}}]", "without a valid ID"},
		{"[{\"ID\":\"\"}]", "without a valid ID"},
		{"[{\"ID\":7}]", "without a valid ID"},
		{"[{\"ID\":\"a\",\"Spec\":{\"Availability\":\"active\"}}]",
		 "without Status.State"},
		{"[{\"ID\":\"a\",\"Status\":{\"State\":\"ready\"}}]",
		 "without Spec.Availability"},
		{"[{\"ID\":\"a\",\"Status\":{\"State\":[]},\"Spec\":{\"Availability\":\"active\"}}]",
		 "without Status.State"},
		{"[{\"ID\":\"a\\u0000b\"}]", "malformed JSON"},
		{"[{\"ID\":\"a\",\"Description\":{\"Hostname\":5}}]", "host name"},
		{"[{\"ID\":\"a\",\"ID\":\"b\"}]", "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_int_equal(nodes(cases[i].json, NULL, &ns), -EPROTO);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		assert_null(ns.v);
	}
	/* An id longer than any real one. */
	char big[600];
	memset(big, 'x', sizeof big);
	snprintf(big, sizeof big, "[{\"ID\":\"%0300d\"}]", 1);
	assert_int_equal(nodes(big, NULL, &ns), -EPROTO);
}

static void test_nodes_huge(void **s)
{
	(void)s;
	/* 20,000 nodes: parsed in full, nothing truncated, nothing leaked. */
	size_t n = 20000, cap = n * 200 + 16, len = 0;
	char *j = malloc(cap);
	assert_non_null(j);
	j[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(j + len, cap - len,
			"%s{\"ID\":\"id%zu\",\"Spec\":{\"Availability\":\"active\"},"
			"\"Status\":{\"State\":\"ready\",\"Addr\":\"10.%zu.%zu.1\"}}",
			i ? "," : "", i, i / 256 % 256, i % 256);
	j[len++] = ']';
	j[len] = '\0';
	struct swarm_nodes ns;
	assert_int_equal(swarm_parse_nodes(j, len, &plain, &ns, err, sizeof err), 0);
	assert_int_equal(ns.n, n);
	assert_string_equal(ns.v[n - 1].addr4, "10.78.31.1");
	swarm_nodes_free(&ns);
	/* Deep nesting is refused, not recursed into. */
	size_t d = 100000;
	char *deep = malloc(d + 1);
	assert_non_null(deep);
	memset(deep, '[', d);
	deep[d] = '\0';
	assert_int_equal(swarm_parse_nodes(deep, d, &plain, &ns, err, sizeof err),
			 -EPROTO);
	free(deep);
	free(j);
}

#define TASK(node, desired, state)                                            \
	"{\"ID\":\"t\",\"NodeID\":\"" node "\",\"DesiredState\":\"" desired    \
	"\",\"Status\":{\"State\":\"" state "\"}}"

static const char *three_nodes =
	"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
	"," NODE("b2", "n2", "ready", "active", "", "10.0.0.2", "")
	"," NODE("c3", "n3", "down", "active", "", "10.0.0.3", "") "]";

static int run_select(const char *tasks_json, int target,
		      struct swarm_result *r)
{
	struct swarm_tasks ts;
	struct swarm_nodes ns;
	assert_int_equal(nodes(three_nodes, NULL, &ns), 0);
	int rc = swarm_parse_tasks(tasks_json, strlen(tasks_json), &ts, err,
				   sizeof err);
	if (rc == 0)
		rc = swarm_select(&ts, &ns, target, r, err, sizeof err);
	swarm_tasks_free(&ts);
	swarm_nodes_free(&ns);
	return rc;
}

static void test_select_tasks(void **s)
{
	(void)s;
	struct swarm_result r;
	/* The stopping task (desired shutdown, still running) does not count,
	 * nor the stale one on a down node; two tasks on b2 give one node. */
	const char *j = "[" TASK("a1", "shutdown", "running") "," TASK("b2", "running", "running")
			"," TASK("b2", "running", "running") "," TASK("c3", "shutdown", "running")
			"," TASK("a1", "shutdown", "complete") "]";
	assert_int_equal(run_select(j, SWARM_TARGET_TASKS, &r), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].id, "b2");
	assert_true(r.unsettled); /* a1's task is still stopping */
	char *fp = swarm_result_fingerprint(&r);
	assert_string_equal(fp, "b2=10.0.0.2,,;");
	free(fp);
	swarm_result_free(&r);

	/* Settled: nothing on its way; a stale running task on a down node is
	 * no reason to keep polling fast. */
	j = "[" TASK("b2", "running", "running") "," TASK("c3", "shutdown", "running") "]";
	assert_int_equal(run_select(j, SWARM_TARGET_TASKS, &r), 0);
	assert_false(r.unsettled);
	swarm_result_free(&r);

	/* A replacement waiting ("ready") beside a running task: a move under
	 * way, the running one is the answer for now. */
	j = "[" TASK("a1", "running", "running") "," TASK("b2", "ready", "ready") "]";
	assert_int_equal(run_select(j, SWARM_TARGET_TASKS, &r), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.unsettled);
	swarm_result_free(&r);
}

/* Nothing running while the service moves is not "runs nowhere": a drain
 * as recorded on the test Swarm (stop grace period 5 s) goes
 * replacement "ready"/"assigned" + old "shutdown"/"running" for 5 s, then
 * replacement running. Deleting the record (on_empty = delete) in between
 * would have resolvers cache NXDOMAIN. */
static void test_select_moving_is_temporary(void **s)
{
	(void)s;
	struct swarm_result r;
	static const struct {
		const char *tasks, *want;
	} cases[] = {
		{"[" TASK("b2", "ready", "assigned") "," TASK("a1", "shutdown", "running") "]",
		 "one is on its way up on node n2"},
		{"[" TASK("b2", "ready", "ready") "," TASK("a1", "shutdown", "running") "]",
		 "one is on its way up on node n2"},
		/* The old one stopped, the new one pulls its image. */
		{"[" TASK("b2", "running", "preparing") "," TASK("a1", "shutdown", "complete") "]",
		 "one is on its way up on node n2"},
		{"[{\"DesiredState\":\"running\",\"Status\":{\"State\":\"pending\"}}]",
		 "one is on its way up (a move or a start)"},
		/* Scaled to 0: the last task still stops on a live node. */
		{"[" TASK("a1", "shutdown", "running") "]",
		 "one still stopping on node n1 (a move under way)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		err[0] = '\0';
		int rc = run_select(cases[i].tasks, SWARM_TARGET_TASKS, &r);
		if (rc != DNSFOLLOW_E_TEMPORARY || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err, cases[i].want);
		assert_null(r.v);
	}
	/* The move is over: the new node is the answer. */
	const char *done = "[" TASK("b2", "running", "running") "," TASK("a1", "shutdown", "shutdown") "]";
	assert_int_equal(run_select(done, SWARM_TARGET_TASKS, &r), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].id, "b2");
	assert_false(r.unsettled);
	swarm_result_free(&r);
	/* ... and once the last task of a service scaled to 0 stopped, or
	 * only failed ones are left, it is known to run nowhere. */
	const char *gone = "[" TASK("a1", "shutdown", "shutdown") "," TASK("b2", "shutdown", "failed") "]";
	assert_int_equal(run_select(gone, SWARM_TARGET_TASKS, &r), 0);
	assert_int_equal(r.n, 0);
	swarm_result_free(&r);
}

static void test_select_tasks_empty(void **s)
{
	(void)s;
	struct swarm_result r;
	/* Empty list: runs nowhere, settled. */
	assert_int_equal(run_select("[]", SWARM_TARGET_TASKS, &r), 0);
	assert_int_equal(r.n, 0);
	assert_false(r.unsettled);
	swarm_result_free(&r);
}

/* Issue 8 item 1: after a leader change the manager reports nodes
 * "unknown" (then "down" or "ready") for seconds while their tasks keep
 * running. Such a node is no evidence that a task stopped: the answer is a
 * temporary error, never "runs nowhere" (nor "runs only elsewhere"). */
static void test_select_unknown_node_is_temporary(void **s)
{
	(void)s;
	static const struct {
		const char *nodes, *tasks, *want;
		int target;
	} cases[] = {
		/* The leader restart as seen: every node unknown. */
		{"[" NODE("a1", "n1", "unknown", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "unknown", "active", "", "10.0.0.2", "") "]",
		 "[" TASK("b2", "running", "running") "]",
		 "no node ready, not even itself: its view of the swarm is not formed", 0},
		/* The manager is back, the worker running the task not yet. */
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "unknown", "active", "", "10.0.0.2", "") "]",
		 "[" TASK("b2", "running", "running") "]",
		 "node n2 is 'unknown', not ready, while a task of the service should "
		 "run there: whether it still runs is not known", 0},
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "down", "active", "", "10.0.0.2", "") "]",
		 "[" TASK("b2", "running", "running") "]", "node n2 is 'down'", 0},
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "disconnected", "active", "", "10.0.0.2", "") "]",
		 "[" TASK("b2", "running", "starting") "]",
		 "node n2 is 'disconnected'", 0},
		/* Two replicas, one on an unknown node: no partial answer. */
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "unknown", "active", "", "10.0.0.2", "") "]",
		 "[" TASK("a1", "running", "running") "," TASK("b2", "running", "running") "]",
		 "node n2 is 'unknown'", 0},
		/* A task on a node the list lacks: an inconsistent view. */
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "") "]",
		 "[" TASK("zz9", "running", "running") "]",
		 "node zz9, which the engine's node list lacks: its view is incomplete", 0},
		{"[]", "[]", "no node at all", 0},
		/* ready-nodes: a node not known to be up or down. */
		{"[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "unknown", "active", "", "10.0.0.2", "") "]",
		 "[]", "node n2 is 'unknown': whether it is up is not known", 1},
		{"[" NODE("a1", "n1", "down", "active", "", "10.0.0.1", "")
		 "," NODE("b2", "n2", "down", "active", "", "10.0.0.2", "") "]",
		 "[]", "no node ready", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct swarm_tasks ts;
		struct swarm_nodes ns;
		struct swarm_result r;
		assert_int_equal(nodes(cases[i].nodes, NULL, &ns), 0);
		assert_int_equal(swarm_parse_tasks(cases[i].tasks, strlen(cases[i].tasks),
						   &ts, err, sizeof err), 0);
		err[0] = '\0';
		int rc = swarm_select(&ts, &ns, cases[i].target, &r, err, sizeof err);
		if (rc != DNSFOLLOW_E_TEMPORARY || !dnsfollow_err_is_temporary(rc))
			fail_msg("case %zu: rc %d (%zu nodes), not a temporary error",
				 i, rc, rc ? 0 : r.n);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		assert_null(r.v);
		swarm_tasks_free(&ts);
		swarm_nodes_free(&ns);
	}
}

/* What stays an answer: a stopping task on an unknown node counts for
 * nothing either way, a task not yet assigned has no node, and a down node
 * whose tasks Swarm already shut down is positive knowledge. */
static void test_select_known_despite_unready_nodes(void **s)
{
	(void)s;
	const char *nj = "[" NODE("a1", "n1", "ready", "active", "", "10.0.0.1", "")
			 "," NODE("b2", "n2", "unknown", "active", "", "10.0.0.2", "")
			 "," NODE("c3", "n3", "down", "active", "", "10.0.0.3", "") "]";
	const char *tj = "[" TASK("b2", "shutdown", "running") "," TASK("c3", "running", "failed")
			 "," TASK("c3", "shutdown", "running") "," TASK("a1", "running", "running")
			 ",{\"DesiredState\":\"running\",\"Status\":{\"State\":\"pending\"}}]";
	struct swarm_tasks ts;
	struct swarm_nodes ns;
	struct swarm_result r;
	assert_int_equal(nodes(nj, NULL, &ns), 0);
	assert_int_equal(swarm_parse_tasks(tj, strlen(tj), &ts, err, sizeof err), 0);
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_TASKS, &r, err, sizeof err), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].id, "a1");
	swarm_result_free(&r);
	swarm_tasks_free(&ts);
	/* Known to run nowhere: every task ended, the nodes are known. */
	tj = "[" TASK("c3", "shutdown", "running") "," TASK("a1", "shutdown", "complete") "]";
	assert_int_equal(swarm_parse_tasks(tj, strlen(tj), &ts, err, sizeof err), 0);
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_TASKS, &r, err, sizeof err), 0);
	assert_int_equal(r.n, 0);
	swarm_result_free(&r);
	swarm_tasks_free(&ts);
	swarm_nodes_free(&ns);
}

static void test_select_ready_nodes(void **s)
{
	(void)s;
	struct swarm_result r;
	assert_int_equal(run_select("[]", SWARM_TARGET_READY_NODES, &r), 0);
	assert_int_equal(r.n, 2); /* c3 is down */
	assert_string_equal(r.v[0].id, "a1");
	assert_string_equal(r.v[1].id, "b2");
	swarm_result_free(&r);
}

static void test_select_problem_is_error(void **s)
{
	(void)s;
	struct swarm_tasks ts;
	struct swarm_nodes ns;
	struct swarm_result r;
	const char *nj = "[" NODE("a1", "n1", "ready", "active",
				  "\"dnsfollow.ipv4\":\"bogus\"", "10.0.0.1", "")
			 "," NODE("b2", "n2", "ready", "active", "", "10.0.0.2", "") "]";
	const char *tj = "[" TASK("b2", "running", "running") "]";
	assert_int_equal(nodes(nj, NULL, &ns), 0);
	assert_int_equal(swarm_parse_tasks(tj, strlen(tj), &ts, err, sizeof err), 0);
	/* a1 runs nothing: its bad label does not matter for tasks. */
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_TASKS, &r, err, sizeof err), 0);
	assert_int_equal(r.n, 1);
	swarm_result_free(&r);
	/* ...but it is one of the ready nodes: no partial answer. */
	assert_int_equal(swarm_select(&ts, &ns, SWARM_TARGET_READY_NODES, &r, err,
				      sizeof err), -EINVAL);
	assert_non_null(strstr(err, "'bogus' is not an IPv4 address"));
	assert_null(r.v);
	swarm_tasks_free(&ts);
	swarm_nodes_free(&ns);
}

static void test_tasks_malformed(void **s)
{
	(void)s;
	struct swarm_tasks ts;
	static const char *bad[] = {
		"nope", "{}", "[null]", "[{\"DesiredState\":\"running\"}]",
		"[{\"Status\":{\"State\":\"running\"}}]",
		"[{\"DesiredState\":1,\"Status\":{\"State\":\"running\"}}]",
		"[{\"DesiredState\":\"running\",\"Status\":\"running\"}]",
		"[{\"NodeID\":[],\"DesiredState\":\"running\",\"Status\":{\"State\":\"running\"}}]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (swarm_parse_tasks(bad[i], strlen(bad[i]), &ts, err, sizeof err) != -EPROTO)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_null(ts.v);
	}
	/* A NodeID that is absent or null means "not assigned yet". */
	const char *ok = "[{\"NodeID\":null,\"DesiredState\":\"running\",\"Status\":{\"State\":\"new\"}}]";
	assert_int_equal(swarm_parse_tasks(ok, strlen(ok), &ts, err, sizeof err), 0);
	assert_int_equal(ts.n, 1);
	assert_string_equal(ts.v[0].node, "");
	assert_int_equal(ts.v[0].state, SWARM_TS_OTHER);
	swarm_tasks_free(&ts);
}

static void test_error_message_and_version(void **s)
{
	(void)s;
	char buf[64];
	const char *b = "{\"message\":\"line1\\nline2\"}";
	assert_string_equal(swarm_error_message(b, strlen(b), buf, sizeof buf),
			    "line1 line2");
	assert_null(swarm_error_message("oops", 4, buf, sizeof buf));
	assert_null(swarm_error_message("{\"message\":3}", 13, buf, sizeof buf));
	assert_null(swarm_error_message(NULL, 0, buf, sizeof buf));
	assert_int_equal(swarm_parse_api_version("1.41"), 1041);
	assert_int_equal(swarm_parse_api_version("1.43\r\n"), 1043);
	assert_int_equal(swarm_parse_api_version("2.0"), 2000);
	assert_int_equal(swarm_parse_api_version("1"), -1);
	assert_int_equal(swarm_parse_api_version("1.x"), -1);
	assert_int_equal(swarm_parse_api_version("v1.41"), -1);
	assert_int_equal(swarm_parse_api_version(""), -1);
	assert_int_equal(swarm_parse_api_version(NULL), -1);
	assert_int_equal(swarm_parse_api_version("99999999999999999999.1"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_basic),
		cmocka_unit_test(test_nodes_labels_and_map),
		cmocka_unit_test(test_nodes_bad_addresses),
		cmocka_unit_test(test_nodes_addresses_pass_through),
		cmocka_unit_test(test_nodes_ipv6_manager),
		cmocka_unit_test(test_nodes_dns_name),
		cmocka_unit_test(test_nodes_malformed),
		cmocka_unit_test(test_nodes_huge),
		cmocka_unit_test(test_select_tasks),
		cmocka_unit_test(test_select_tasks_empty),
		cmocka_unit_test(test_select_moving_is_temporary),
		cmocka_unit_test(test_select_unknown_node_is_temporary),
		cmocka_unit_test(test_select_known_despite_unready_nodes),
		cmocka_unit_test(test_select_ready_nodes),
		cmocka_unit_test(test_select_problem_is_error),
		cmocka_unit_test(test_tasks_malformed),
		cmocka_unit_test(test_error_message_and_version),
	};
	H = testhost_new("parse");
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	testhost_free(H);
	return rc;
}
