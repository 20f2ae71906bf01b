/*
 * Swarm backend: the watch set (ABI 2 watch_set), without an engine.
 * What is watched is exactly what the core named: no guessing from
 * resolve() calls, no cap, duplicates once, and what the core was told
 * survives a reload for the queries kept.
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

#include "swkv.h"

#define N 1000

static const struct dnsfollow_host *h;
static char names[N][16];
static struct dnsfollow_query q[N];
static const struct dnsfollow_query *qp[N];
static struct dnsfollow_kv ready = {"target", "ready-nodes", SWARM_TARGET_READY_NODES};

static struct swarm *make(void)
{
	const char *kvs[] = {"host=unix:///nonexistent/dfsw.sock", "events=no", NULL};
	struct dnsfollow_kv kv[32];
	size_t n = swkv(dnsfollow_plugin.config_keys, kv, 32, kvs);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "svc-%04zu", i);
		q[i] = (struct dnsfollow_query){.struct_size = sizeof q[i],
						.service = names[i]};
		qp[i] = &q[i];
	}
	return self;
}

static struct swarm_actor svc(const char *name, const char *id)
{
	struct swarm_actor a = {.service = 1};
	snprintf(a.name, sizeof a.name, "%s", name);
	snprintf(a.id, sizeof a.id, "%s", id);
	return a;
}

static int concerns(struct swarm *sw, const char *name, const char *id)
{
	struct swarm_actor a = svc(name, id);
	return swarm_wset_concerns(sw, &a);
}

static struct swarm_watched *find(struct swarm *sw, const char *service,
				  int target)
{
	for (size_t i = 0; i < sw->nwatched; i++)
		if (sw->watched[i].target == target &&
		    strcmp(sw->watched[i].service, service) == 0)
			return &sw->watched[i];
	return NULL;
}

/* After watch_set, an event for a watched service concerns us, one for
 * an unwatched service does not; node events always do. */
static void test_concerns(void **s)
{
	(void)s;
	struct swarm *sw = make();
	/* Before the core said anything: every service event counts. */
	assert_true(concerns(sw, "anything", ""));
	assert_int_equal(OPS->watch_set(sw, qp, 2), 0);
	assert_true(concerns(sw, "svc-0000", "x1"));
	assert_true(concerns(sw, "svc-0001", ""));
	assert_false(concerns(sw, "svc-0002", "x3"));
	assert_false(concerns(sw, "other", "x4"));
	struct swarm_actor node = {0};
	assert_true(swarm_wset_concerns(sw, &node));
	assert_true(concerns(sw, "", "")); /* cannot tell which: counts */
	/* A service named by ID or ID prefix, as Docker accepts it. */
	strcpy(names[5], "xk2l1qz3");
	assert_int_equal(OPS->watch_set(sw, &qp[5], 1), 0);
	assert_true(concerns(sw, "web_gogs", "xk2l1qz3ahmd4n8lkpo7w2f5t"));
	assert_false(concerns(sw, "svc-0000", "x1"));
	/* An empty set: no service event concerns us. */
	assert_int_equal(OPS->watch_set(sw, NULL, 0), 0);
	assert_false(concerns(sw, "web_gogs", "xk2l1qz3ahmd4n8lkpo7w2f5t"));
	assert_true(swarm_wset_concerns(sw, &node));
	dnsfollow_plugin.destroy(sw);
}

/* No cap: a thousand services are watched (the old guessing kept 256),
 * duplicates once, each (service, target) pair on its own. */
static void test_no_cap(void **s)
{
	(void)s;
	struct swarm *sw = make();
	assert_int_equal(OPS->watch_set(sw, qp, N), 0);
	assert_int_equal(sw->nwatched, N);
	assert_true(concerns(sw, "svc-0000", ""));
	assert_true(concerns(sw, "svc-0999", ""));
	assert_false(concerns(sw, "svc-1000", ""));
	/* The same service twice, and once more with another target. */
	const struct dnsfollow_query ready0 = {.struct_size = sizeof ready0,
					       .service = "svc-0000",
					       .options = &ready, .noptions = 1};
	const struct dnsfollow_query *dup[] = {qp[0], qp[0], &ready0, qp[1]};
	assert_int_equal(OPS->watch_set(sw, dup, 4), 0);
	assert_int_equal(sw->nwatched, 3);
	assert_non_null(find(sw, "svc-0000", SWARM_TARGET_TASKS));
	assert_non_null(find(sw, "svc-0000", SWARM_TARGET_READY_NODES));
	dnsfollow_plugin.destroy(sw);
}

/* resolve() remembers what it told the core only for watched queries,
 * and a reload keeps it for the queries that stay. */
static void test_note_and_reload(void **s)
{
	(void)s;
	struct swarm *sw = make();
	assert_int_equal(OPS->watch_set(sw, qp, 300), 0);
	swarm_watch_note(sw, "svc-0299", SWARM_TARGET_TASKS, "b2=10.0.0.2,,;");
	swarm_watch_note(sw, "svc-0000", SWARM_TARGET_TASKS, "a1=10.0.0.1,,;");
	swarm_watch_note(sw, "unasked", SWARM_TARGET_TASKS, "c3=10.0.0.3,,;");
	assert_int_equal(sw->nwatched, 300); /* no guessing */
	assert_null(find(sw, "unasked", SWARM_TARGET_TASKS));
	assert_string_equal(find(sw, "svc-0299", 0)->fp, "b2=10.0.0.2,,;");
	/* Reload: svc-0000 goes, svc-0299 stays with what the core knows. */
	assert_int_equal(OPS->watch_set(sw, &qp[1], 299), 0);
	assert_int_equal(sw->nwatched, 299);
	assert_null(find(sw, "svc-0000", 0));
	assert_string_equal(find(sw, "svc-0299", 0)->fp, "b2=10.0.0.2,,;");
	assert_null(find(sw, "svc-0001", 0)->fp);
	dnsfollow_plugin.destroy(sw);
}

/* A query no core would send (check_query refuses it) is an error, and
 * the set in force stays. */
static void test_bad_query(void **s)
{
	(void)s;
	struct swarm *sw = make();
	assert_int_equal(OPS->watch_set(sw, qp, 2), 0);
	struct dnsfollow_kv bad = {"target", "x", 9};
	const struct dnsfollow_query badq = {.struct_size = sizeof badq,
					     .service = "svc-0003",
					     .options = &bad, .noptions = 1};
	const struct dnsfollow_query *set[] = {qp[2], &badq};
	testhost_clear(h);
	assert_int_equal(OPS->watch_set(sw, set, 2), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "query #1"));
	assert_int_equal(sw->nwatched, 2);
	assert_true(concerns(sw, "svc-0001", ""));
	dnsfollow_plugin.destroy(sw);
}

int main(void)
{
	h = testhost_new("sw");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concerns),
		cmocka_unit_test(test_no_cap),
		cmocka_unit_test(test_note_and_reload),
		cmocka_unit_test(test_bad_query),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	testhost_free(h);
	return rc;
}
