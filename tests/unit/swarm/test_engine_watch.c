/*
 * Swarm backend against a fake engine: the watch set (ABI 2 watch_set)
 * end to end. An event of a watched service wakes the core, one of
 * another service does not; more services than the old guessing kept
 * (256) are all polled, and each change wakes the core.
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

struct qset {
	char names[400][16];
	struct dnsfollow_query q[400];
	const struct dnsfollow_query *p[400];
};

static void qset_fill(struct qset *qs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(qs->names[i], sizeof qs->names[i], "svc-%03zu", i);
		qs->q[i] = (struct dnsfollow_query){.struct_size = sizeof qs->q[i],
						    .service = qs->names[i]};
		qs->p[i] = &qs->q[i];
	}
}

static void send_event(const char *line)
{
	pthread_mutex_lock(&fe.mu);
	snprintf(fe.event, sizeof fe.event, "%s", line);
	fe.event_seq++;
	pthread_mutex_unlock(&fe.mu);
}

static void wait_stream(void)
{
	for (int i = 0; i < 100 && !fe_get_int(&fe.events_opened); i++)
		usleep(20000);
	usleep(500000); /* the stream is up */
}

#define SVC_EVENT(name, id)                                                    \
	"{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":\"" id   \
	"\",\"Attributes\":{\"name\":\"" name "\"}},\"scope\":\"swarm\"}"

/* ABI 2 watch_set: the core names every query the configuration asks.
 * An event for a service in that set wakes the core; one for another
 * service on the same swarm (another stack) does not, and starts no
 * fast polling. */
static void test_watch_set_filters_events(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.quiet_start = 1;
	void *self = make(fe.path);
	struct qset *qs = calloc(1, sizeof *qs);
	qset_fill(qs, 3);
	strcpy(qs->names[1], "gogs");
	assert_int_equal(OPS->watch_set(self, qs->p, 3), 0);
	struct got g;
	for (size_t i = 0; i < 3; i++) /* the core's first pass */
		assert_int_equal(resolve(self, qs->names[i], &g), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	wait_stream();
	int before = fe_get_int(&fe.tasks_requests);
	send_event(SVC_EVENT("other", "zz9zz9zz9zz9zz9zz9zz9zz9z"));
	assert_false(readable(fd, 1200));
	assert_non_null(strstr(testhost_log(h), "event not watched: service update other"));
	assert_int_equal(fe_get_int(&fe.tasks_requests), before); /* no fast polling */
	send_event(SVC_EVENT("gogs", "abcabcabcabcabcabcabcabca"));
	assert_true(readable(fd, 2000));
	assert_int_equal(OPS->watch_ack(self), 1);
	assert_non_null(strstr(testhost_log(h), "wake the core: service update gogs"));
	dnsfollow_plugin.destroy(self);
	free(qs);
	testhost_free(h);
}

/* More services than the old guessing kept (256): the watcher polls
 * every one the core named, and a change of the first or the last one
 * wakes the core. Before ABI 2 the first 44 of 300 were forgotten. The
 * second change comes while the round that saw the first one goes on:
 * it must wake the core too (before, only a round's first change did,
 * and the core, having taken that wake-up, heard of the second only at
 * its resync interval). */
static void test_watch_set_beyond_256(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.events_status = 403; /* polling only: no event starts fast polling */
	const char *kvs[] = {"poll_interval=1", NULL};
	void *self = make_with(fe.path, kvs);
	struct qset *qs = calloc(1, sizeof *qs);
	qset_fill(qs, 300);
	assert_int_equal(OPS->watch_set(self, qs->p, 300), 0);
	struct got g;
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(resolve(self, qs->names[i], &g), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	pthread_mutex_lock(&fe.mu);
	memset(fe.seen, 0, sizeof fe.seen);
	pthread_mutex_unlock(&fe.mu);
	assert_false(readable(fd, 1800)); /* all polled, nothing changed */
	pthread_mutex_lock(&fe.mu);
	int polled = 0;
	for (int i = 0; i < 300; i++)
		polled += fe.seen[i];
	pthread_mutex_unlock(&fe.mu);
	if (polled < 300)
		fail_msg("the watcher asked for %d of the 300 services", polled);
	/* svc-000, then svc-299, now run nowhere (scaled to 0). */
	static const char *const which[] = {"svc-000", "svc-299"};
	for (int i = 0; i < 2; i++) {
		pthread_mutex_lock(&fe.mu);
		fe.special = which[i];
		fe.special_tasks = "[]";
		pthread_mutex_unlock(&fe.mu);
		/* A round of 300 services takes a while: up to a round in
		 * progress, the poll interval, and the next round. */
		uint64_t t0 = h->now_ms();
		assert_true(readable(fd, 10000));
		fprintf(stderr, "# change of svc-%s seen after %llu ms\n", i ? "299" : "000",
			(unsigned long long)(h->now_ms() - t0));
		assert_int_equal(OPS->watch_ack(self), 1);
		assert_non_null(strstr(testhost_log(h), i ? "placement of svc-299 changed"
							  : "placement of svc-000 changed"));
	}
	dnsfollow_plugin.destroy(self);
	free(qs);
	testhost_free(h);
}

/* The safety-net poll costs the same whatever the number of watched
 * services: one /tasks and one /nodes a round (before: two calls per
 * service, 400 a round here). */
static void test_poll_round_cost(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.events_status = 403; /* polling only */
	const char *kvs[] = {"poll_interval=1", NULL};
	void *self = make_with(fe.path, kvs);
	struct qset *qs = calloc(1, sizeof *qs);
	qset_fill(qs, 200);
	assert_int_equal(OPS->watch_set(self, qs->p, 200), 0);
	int before = fe_calls();
	assert_true(OPS->watch_fd(self) >= 0);
	usleep(3400000); /* three rounds */
	int calls = fe_calls() - before, tasks = fe_get_int(&fe.tasks_requests);
	fprintf(stderr, "# 200 services, 3 safety-net rounds: %d calls, %d of them "
		"/tasks\n", calls, tasks);
	if (tasks < 2 || tasks > 4 || calls > 3 * tasks + 1)
		fail_msg("%d calls, %d /tasks for 3 rounds over 200 services", calls,
			 tasks);
	dnsfollow_plugin.destroy(self);
	free(qs);
	testhost_free(h);
}

/* Count the services a /tasks filter names (%22 opens and closes each). */
static int filtered(const char *path)
{
	int n = 0;
	for (const char *p = strstr(path, "%5B"); p && (p = strstr(p, "%22")); p += 3)
		n++;
	return n / 2;
}

/* An event about one service polls that service fast, not the others:
 * one /tasks (filtered on it alone) and one /nodes a step. Before, each
 * step re-resolved every watched service (100 here: 2,000 calls a
 * second). */
static void test_fast_poll_only_concerned(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.quiet_start = 1;
	void *self = make(fe.path);
	struct qset *qs = calloc(1, sizeof *qs);
	qset_fill(qs, 100);
	assert_int_equal(OPS->watch_set(self, qs->p, 100), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	wait_stream();
	int before = fe_calls(), t0 = fe_get_int(&fe.tasks_requests);
	send_event(SVC_EVENT("svc-005", "svcid00000000000000000005"));
	assert_true(readable(fd, 2000));
	assert_int_equal(OPS->watch_ack(self), 1);
	usleep(1500000);
	int calls = fe_calls() - before, tasks = fe_get_int(&fe.tasks_requests) - t0;
	pthread_mutex_lock(&fe.mu);
	char last[512];
	snprintf(last, sizeof last, "%s", fe.last_tasks);
	pthread_mutex_unlock(&fe.mu);
	fprintf(stderr, "# one service event, 100 watched: %d calls in the next "
		"1.5 s, %d /tasks, the last on %d service(s)\n", calls, tasks,
		filtered(last));
	if (tasks < 5)
		fail_msg("only %d /tasks requests: no fast polling", tasks);
	/* 1.5 s of 100 ms steps, a /services to learn the IDs, slack. */
	if (calls > 2 * tasks + 2 || calls > 2 * 20 + 4)
		fail_msg("%d calls for %d fast steps", calls, tasks);
	assert_int_equal(filtered(last), 1);
	assert_non_null(strstr(last, "svcid00000000000000000005"));
	dnsfollow_plugin.destroy(self);
	free(qs);
	testhost_free(h);
}

static int no_record(void *ctx, const struct dnsfollow_discovered *d)
{
	(void)ctx;
	(void)d;
	return 0;
}

/* With discovery in use, an event about any service wakes the core (its
 * labels may have changed: re-discover), but polls nothing fast unless
 * the service is watched. */
static void test_discovery_wakes_on_any_service(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.quiet_start = 1;
	void *self = make(fe.path);
	struct qset *qs = calloc(1, sizeof *qs);
	qset_fill(qs, 3);
	assert_int_equal(OPS->watch_set(self, qs->p, 3), 0);
	if (!DNSFOLLOW_HAS(OPS, struct dnsfollow_backend_ops, discover))
		fail_msg("no discover op");
	assert_int_equal(OPS->discover(self, no_record, NULL), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	wait_stream();
	int before = fe_get_int(&fe.tasks_requests);
	/* A service of another stack, without the label: one look, no
	 * wake-up (a pass at every provider would cost them calls). */
	send_event("{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":"
		   "\"svcid00000000000000000007\",\"Attributes\":{\"name\":\"svc-007\"}}}");
	assert_false(readable(fd, 500));
	assert_non_null(strstr(testhost_log(h), "event not watched: service update svc-007"));
	/* The same service once it carries the name label: a wake-up. */
	pthread_mutex_lock(&fe.mu);
	fe.svc[8].labels = "{\"dnsfollow.name\":\"app.example.test\"}";
	pthread_mutex_unlock(&fe.mu);
	send_event("{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":"
		   "\"svcid00000000000000000007\",\"Attributes\":{\"name\":\"svc-007\"}}}");
	assert_true(readable(fd, 2000));
	assert_int_equal(OPS->watch_ack(self), 1);
	assert_non_null(strstr(testhost_log(h), "wake the core: service update svc-007"));
	usleep(1000000);
	assert_int_equal(fe_get_int(&fe.tasks_requests), before); /* no fast polling */
	pthread_mutex_lock(&fe.mu);
	fe.svc[8].labels = NULL;
	pthread_mutex_unlock(&fe.mu);
	dnsfollow_plugin.destroy(self);
	free(qs);
	testhost_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_set_filters_events, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_watch_set_beyond_256, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_poll_round_cost, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_fast_poll_only_concerned, fe_start,
						fe_stop),
		cmocka_unit_test_setup_teardown(test_discovery_wakes_on_any_service,
						fe_start, fe_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
