/*
 * Swarm backend against a fake engine: the ABI 2 ops discover (records
 * from service labels, one GET /services) and prepare (one /tasks and one
 * /nodes for a whole pass), and what they cost: Engine calls are counted.
 * Without the ops (the code before them) the call counts are 2 per
 * service and these tests fail.
 */
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

extern const struct dnsfollow_plugin dnsfollow_plugin;
#define OPS ((const struct dnsfollow_backend_ops *)dnsfollow_plugin.ops)

#include "fake_engine.h"

/* ---- discover ---- */

struct found {
	int n;
	char line[8][300]; /* "source|source_name|name|service|k=v,k=v" */
	int fail_at;       /* emit returns -EIO at this call (1-based) */
};

static int on_found(void *ctx, const struct dnsfollow_discovered *d)
{
	struct found *f = ctx;
	if (++f->n == f->fail_at)
		return -EIO;
	if (f->n > 8)
		return 0;
	char *p = f->line[f->n - 1];
	size_t cap = sizeof f->line[0];
	int k = snprintf(p, cap, "%s|%s|%s|%s|", d->source,
			 d->source_name ? d->source_name : "-", d->name, d->service);
	for (size_t i = 0; i < d->nkeys && k > 0 && (size_t)k < cap; i++)
		k += snprintf(p + k, cap - (size_t)k, "%s%s=%s", i ? "," : "",
			      d->keys[i].key, d->keys[i].value);
	return 0;
}

static int discover(void *self, struct found *f)
{
	int fail_at = f->fail_at;
	memset(f, 0, sizeof *f);
	f->fail_at = fail_at;
	testhost_clear(h);
	if (!DNSFOLLOW_HAS(OPS, struct dnsfollow_backend_ops, discover))
		fail_msg("the swarm backend has no discover op");
	return OPS->discover(self, on_found, f);
}

static void set_labels(int i, const char *labels)
{
	pthread_mutex_lock(&fe.mu);
	fe.svc[i].labels = labels;
	pthread_mutex_unlock(&fe.mu);
}

/* One GET /services with the label filter the Engine API documents;
 * one record per name, the other labels as keys (unknown ones too: the
 * core refuses them by name). */
static void test_discover_labels(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	set_labels(0, "{\"dnsfollow.name\":\"git.example.org, www.example.org\","
		      "\"dnsfollow.ttl\":\"60\",\"dnsfollow.bogus\":\"x\"}");
	set_labels(3, "{\"dnsfollow.name\":\"two.example.org\",\"other\":\"y\"}");
	set_labels(4, "{\"dnsfollow.ttl\":\"60\"}"); /* no name: asks nothing */
	struct found f = {0};
	assert_int_equal(discover(self, &f), 0);
	assert_int_equal(f.n, 3);
	char want[300];
	snprintf(want, sizeof want, "%s|gogs|git.example.org|gogs|bogus=x,ttl=60",
		 fe.svc[0].id);
	assert_string_equal(f.line[0], want);
	snprintf(want, sizeof want, "%s|gogs|www.example.org|gogs|bogus=x,ttl=60",
		 fe.svc[0].id);
	assert_string_equal(f.line[1], want);
	snprintf(want, sizeof want, "%s|svc-002|two.example.org|svc-002|", fe.svc[3].id);
	assert_string_equal(f.line[2], want);
	assert_string_equal(fe.last_services, "/v1.41/services?filters="
			    "%7B%22label%22%3A%5B%22dnsfollow.name%22%5D%7D");
	assert_int_equal(fe_get_int(&fe.services_requests), 1);
	assert_int_equal(fe_get_int(&fe.tasks_requests), 0);
	/* An emit error stops the walk and is returned. */
	f.fail_at = 2;
	assert_int_equal(discover(self, &f), -EIO);
	assert_int_equal(f.n, 2);
	dnsfollow_plugin.destroy(self);

	/* Another prefix: other labels. */
	const char *kvs[] = {"label_prefix=org.example.dns", NULL};
	self = make_with(fe.path, kvs);
	set_labels(5, "{\"org.example.dns.name\":\"five.example.org\"}");
	f.fail_at = 0;
	assert_int_equal(discover(self, &f), 0);
	assert_int_equal(f.n, 1);
	snprintf(want, sizeof want, "%s|svc-004|five.example.org|svc-004|", fe.svc[5].id);
	assert_string_equal(f.line[0], want);
	assert_non_null(strstr(fe.last_services, "%22org.example.dns.name%22"));
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A name label naming nothing: said once, not every pass. */
static void test_discover_empty_name_logged_once(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	set_labels(1, "{\"dnsfollow.name\":\" , \"}");
	struct found f = {0};
	int said = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(discover(self, &f), 0);
		said += count(testhost_log(h), "names no DNS name");
	}
	assert_int_equal(f.n, 0);
	assert_int_equal(said, 1);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* Only an authoritative answer is a list: a worker, a swarm without a
 * leader, a view still forming or a broken answer are errors (the core
 * then keeps the previous list and deletes nothing), never an empty
 * list. */
static void test_discover_refuses(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	set_labels(0, "{\"dnsfollow.name\":\"git.example.org\"}");
	struct found f = {0};

	fe.services_status = 503;
	fe.services_raw = "{\"message\":\"This node is not a swarm manager. Worker "
			  "nodes can't be used to view or modify cluster state.\"}";
	assert_int_equal(discover(self, &f), -EAGAIN);
	assert_non_null(strstr(testhost_error(h), "must talk to a manager"));
	assert_int_equal(f.n, 0);

	fe.services_raw = "{\"message\":\"rpc error: code = Unknown desc = The swarm "
			  "does not have a leader. It's possible that too few managers "
			  "are online.\"}";
	int rc = discover(self, &f);
	assert_true(rc < 0 && dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "does not have a leader"));
	assert_int_equal(f.n, 0);

	fe.services_status = 200;
	fe.services_raw = "[{\"ID\":\"x\",\"Spec\":{\"Name\":";
	assert_int_equal(discover(self, &f), -EPROTO);
	assert_non_null(strstr(testhost_error(h), "malformed JSON for the service list"));
	assert_int_equal(f.n, 0);
	fe.services_raw = NULL;

	/* A leader elected a moment ago: its peers "unknown". */
	fe.nodes = "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\"},"
		   "\"Status\":{\"State\":\"ready\",\"Addr\":\"10.9.0.2\"}},"
		   "{\"ID\":\"c3\",\"Spec\":{\"Availability\":\"active\"},"
		   "\"Status\":{\"State\":\"unknown\",\"Addr\":\"10.9.0.3\"}}]";
	rc = discover(self, &f);
	assert_true(rc < 0 && dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "'unknown'"));
	assert_int_equal(f.n, 0);
	/* A manager that just came up: no node ready, not even itself. */
	fe.nodes = "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\"},"
		   "\"Status\":{\"State\":\"down\",\"Addr\":\"10.9.0.2\"}}]";
	rc = discover(self, &f);
	assert_true(rc < 0 && dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "not formed yet"));
	fe.nodes = NODES_OK;
	assert_int_equal(discover(self, &f), 0);
	assert_int_equal(f.n, 1);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* ---- prepare ---- */

#define NQ 8
static const char *const qsvc[NQ] = {"gogs", "gogs", "svc-001", "svc-002",
				     "nope", "svcid00000000000000000003",
				     "gogsid0", "svc-001"};
static const int qready[NQ] = {0, 1, 0, 1, 0, 0, 0, 1};

struct answer {
	int rc;
	struct got g;
	char err[300];
};

static void ask_all(void *self, struct answer *a)
{
	struct dnsfollow_kv ready = {"target", "ready-nodes", SWARM_TARGET_READY_NODES};
	for (int i = 0; i < NQ; i++) {
		struct dnsfollow_query q = {.struct_size = sizeof q, .service = qsvc[i],
					    .options = qready[i] ? &ready : NULL,
					    .noptions = qready[i] ? 1 : 0};
		memset(&a[i], 0, sizeof a[i]);
		testhost_clear(h);
		a[i].rc = OPS->resolve(self, &q, emit, &a[i].g);
		snprintf(a[i].err, sizeof a[i].err, "%s", a[i].rc ? testhost_error(h) : "");
	}
}

/* prepare() as the core calls it before a pass: the NQ queries above
 * (names == NULL) or services names[0..n) with every other one asking
 * for ready-nodes; n == 0 drops the snapshot. 0 when the op is missing
 * (the core then only resolves). */
static int prepare_names(void *self, const char *const *names, int n)
{
	static struct dnsfollow_kv ready = {"target", "ready-nodes",
					    SWARM_TARGET_READY_NODES};
	static struct dnsfollow_query q[600];
	static const struct dnsfollow_query *p[600];
	for (int i = 0; i < n; i++) {
		int r = names ? i % 2 : qready[i];
		q[i] = (struct dnsfollow_query){.struct_size = sizeof q[i],
						.service = names ? names[i] : qsvc[i],
						.options = r ? &ready : NULL,
						.noptions = r ? 1 : 0};
		p[i] = &q[i];
	}
	if (!DNSFOLLOW_HAS(OPS, struct dnsfollow_backend_ops, prepare))
		return 0;
	testhost_clear(h);
	return OPS->prepare(self, n ? p : NULL, (size_t)n);
}

static int prepare(void *self, int n)
{
	return prepare_names(self, NULL, n);
}

static void same_answers(const char *what, const struct answer *alone,
			 const struct answer *snap, int same_text)
{
	for (int i = 0; i < NQ; i++) {
		const struct answer *x = &alone[i], *y = &snap[i];
		if (x->rc != y->rc || x->g.n != y->g.n || strcmp(x->g.addr, y->g.addr) ||
		    strcmp(x->g.name, y->g.name) || strcmp(x->g.dns, y->g.dns) ||
		    (same_text && strcmp(x->err, y->err)))
			fail_msg("%s, query #%d (%s): alone rc %d n %d %s '%s'; from the "
				 "snapshot rc %d n %d %s '%s'", what, i, qsvc[i], x->rc,
				 x->g.n, x->g.addr, x->err, y->rc, y->g.n, y->g.addr, y->err);
	}
}

/* prepare() then resolve() gives exactly what resolve() alone gives, in
 * every state the placement rules know, for names, IDs and ID prefixes,
 * tasks and ready-nodes, and services that do not exist. */
static void test_prepare_same_answers(void **s)
{
	(void)s;
	static const struct {
		const char *what, *tasks, *nodes, *special;
	} cases[] = {
		{"running", TASKS_OK, NODES_OK, NULL},
		{"a CNAME target", TASKS_OK,
		 "[{\"ID\":\"b2\",\"Description\":{\"Hostname\":\"n2\"},\"Spec\":"
		 "{\"Availability\":\"active\",\"Labels\":{\"dnsfollow.hostname\":"
		 "\"n2.example.org\"}},\"Status\":{\"State\":\"ready\",\"Addr\":\"10.9.0.2\"}}]",
		 NULL},
		{"nowhere", "[]", NODES_OK, NULL},
		{"one service scaled to 0", TASKS_OK, NODES_OK, "svc-001"},
		{"on its way up",
		 "[{\"NodeID\":\"\",\"DesiredState\":\"running\",\"Status\":{\"State\":\"pending\"}}]",
		 NODES_OK, NULL},
		{"on a node the list lacks",
		 "[{\"NodeID\":\"zz\",\"DesiredState\":\"running\",\"Status\":{\"State\":\"running\"}}]",
		 NODES_OK, NULL},
		{"node state unknown", TASKS_OK,
		 "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\"},\"Status\":"
		 "{\"State\":\"unknown\",\"Addr\":\"10.9.0.2\"}}]", NULL},
		{"node down", TASKS_OK,
		 "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\"},\"Status\":"
		 "{\"State\":\"down\",\"Addr\":\"10.9.0.2\"}},{\"ID\":\"c3\",\"Spec\":"
		 "{\"Availability\":\"active\"},\"Status\":{\"State\":\"ready\",\"Addr\":"
		 "\"10.9.0.3\"}}]", NULL},
	};
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct answer alone[NQ], snap[NQ];
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		pthread_mutex_lock(&fe.mu);
		fe.tasks = cases[c].tasks;
		fe.nodes = cases[c].nodes;
		fe.special = cases[c].special;
		fe.special_tasks = "[]";
		pthread_mutex_unlock(&fe.mu);
		ask_all(self, alone);
		if (prepare(self, NQ))
			fail_msg("%s: prepare: %s", cases[c].what, testhost_error(h));
		ask_all(self, snap);
		assert_int_equal(prepare(self, 0), 0);
		same_answers(cases[c].what, alone, snap, 1);
		if (c == 0) { /* the queries are what they claim to be */
			assert_int_equal(alone[0].g.n, 1);
			assert_int_equal(alone[4].rc, -ENOENT); /* "nope" */
			assert_non_null(strstr(alone[4].err, "service 'nope' not found"));
			assert_int_equal(alone[5].rc, 0); /* svc-003 by its ID ... */
			assert_int_equal(alone[6].rc, 0); /* ... gogs by an ID prefix */
		}
	}
	/* The engine refuses: every query fails as on its own. */
	fe.status = 503;
	fe.services_status = 503;
	fe.services_raw = fe.tasks = "{\"message\":\"This node is not a swarm manager.\"}";
	ask_all(self, alone);
	assert_int_equal(prepare(self, NQ), -EAGAIN);
	ask_all(self, snap);
	prepare(self, 0);
	same_answers("not a manager", alone, snap, 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* A snapshot is the pass's only: after prepare(NULL, 0) resolve() asks
 * the engine again, and a query the pass did not name is asked on its
 * own. */
static void test_prepare_dropped(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct got g;
	assert_int_equal(prepare(self, 2), 0); /* gogs, gogs ready-nodes */
	fe.nodes = "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\",\"Labels\":"
		   "{\"dnsfollow.ipv4\":\"192.0.2.99\"}},\"Status\":{\"State\":\"ready\"}}]";
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_string_equal(g.addr, "10.9.0.2"); /* the snapshot's */
	assert_int_equal(resolve(self, "svc-009", &g), 0);
	assert_string_equal(g.addr, "192.0.2.99"); /* not in it: asked now */
	assert_int_equal(prepare(self, 0), 0);
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_string_equal(g.addr, "192.0.2.99");
	fe.nodes = NODES_OK;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* A pass over N services, resolve() for each after prepare(): the Engine
 * calls it costs, whatever N. */
static int pass_calls(void *self, int n, int with_discover)
{
	static char names[600][16];
	static const char *np[600];
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "svc-%03d", i);
		np[i] = names[i];
	}
	struct found f = {0};
	int before = fe_calls();
	if (with_discover)
		assert_int_equal(discover(self, &f), 0);
	assert_int_equal(prepare_names(self, np, n), 0);
	struct got g;
	for (int i = 0; i < n; i++) {
		assert_int_equal(resolve(self, names[i], &g), 0);
		assert_int_equal(g.n, 1);
	}
	prepare_names(self, NULL, 0);
	return fe_calls() - before;
}

static void test_pass_cost_constant(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	set_labels(1, "{\"dnsfollow.name\":\"a.example.org\"}");
	pass_calls(self, 20, 0); /* the first pass also learns service IDs */
	static const int sizes[] = {1, 20, 100, 200};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		int plain = pass_calls(self, sizes[i], 0);
		int disc = pass_calls(self, sizes[i], 1);
		fprintf(stderr, "# %d services: %d calls per pass, %d with discover\n",
			sizes[i], plain, disc);
		if (plain != 2 || disc != 3)
			fail_msg("%d services: %d calls per pass (want 2: /tasks, /nodes), "
				 "%d with discover (want 3: + /services)", sizes[i], plain,
				 disc);
	}
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* 500 services: the filter of their IDs would be too long for socket
 * proxies, so every task is asked for (and the ID map with it, unless
 * /services gave it within SWARM_MAP_FRESH_MS): still a constant number
 * of calls, and short request lines. */
static void test_pass_500_services(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	pass_calls(self, 100, 0);
	int c = pass_calls(self, 500, 0);
	fprintf(stderr, "# 500 services: %d calls per pass, longest request %zu\n",
		c, fe.longest_path);
	if (c < 2 || c > 3)
		fail_msg("500 services: %d calls per pass (want /tasks, /nodes, and /services unless fresh)",
			 c);
	assert_true(fe.longest_path < SWARM_FILTER_MAX + 200);
	assert_int_equal(strcmp(fe.last_tasks, "/v1.41/tasks"), 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* A service removed and created again under the same name between two
 * passes: its old ID is refused (404) and the map is read again, within
 * the pass. */
static void test_prepare_service_recreated(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct got g;
	assert_int_equal(prepare(self, 2), 0);
	prepare(self, 0);
	pthread_mutex_lock(&fe.mu);
	snprintf(fe.svc[0].id, sizeof fe.svc[0].id, "newgogs00000000000000000");
	pthread_mutex_unlock(&fe.mu);
	int before = fe_calls();
	assert_int_equal(prepare(self, 2), 0);
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(fe_calls() - before, 4); /* 404, /services, /tasks, /nodes */
	prepare(self, 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discover_labels, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_discover_empty_name_logged_once,
						fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_discover_refuses, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_prepare_same_answers, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_prepare_dropped, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_pass_cost_constant, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_pass_500_services, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_prepare_service_recreated, fe_start,
						fe_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
