/*
 * Swarm backend against a fake engine on a unix socket: the real
 * transport (host HTTP helper), version check, error mapping, body limits,
 * the event stream, its reconnects, and a prompt destroy().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../../backends/swarm/swarm.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;
#define OPS ((const struct dnsfollow_backend_ops *)dnsfollow_plugin.ops)

#include "fake_engine.h"

/* The core's watch_set with the one query `service`. */
static void watch_one(void *self, const char *service)
{
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	const struct dnsfollow_query *p = &q;
	assert_int_equal(OPS->watch_set(self, &p, 1), 0);
}

/* ---- tests ---- */

static void test_resolve_over_socket(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct got g;
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.addr, "10.9.0.2");
	assert_string_equal(g.name, "n2");
	assert_string_equal(g.dns, "(null)"); /* no name known: no CNAME */
	assert_string_equal(fe.last_tasks,
		"/v1.41/tasks?filters=%7B%22service%22%3A%5B%22gogs%22%5D%7D");

	/* An ENUM index no core would deliver. */
	struct dnsfollow_kv opt = {"target", "sideways", 9};
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = "gogs",
				    .options = &opt, .noptions = 1};
	assert_int_equal(OPS->resolve(self, &q, emit, &g), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "tasks or ready-nodes"));

	/* The node's DNS name, for CNAME records, from its label. */
	fe.nodes = "[{\"ID\":\"b2\",\"Description\":{\"Hostname\":\"n2\"},\"Spec\":"
		   "{\"Availability\":\"active\",\"Labels\":{\"dnsfollow.hostname\":"
		   "\"N2.Example.ORG\"}},\"Status\":{\"State\":\"ready\",\"Addr\":\"10.9.0.2\"}}]";
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_string_equal(g.dns, "n2.example.org");
	fe.nodes = NODES_OK;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_engine_errors(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct got g;

	fe.status = 503;
	fe.tasks = "{\"message\":\"This node is not a swarm manager. Worker nodes can't be used\"}";
	assert_int_equal(resolve(self, "gogs", &g), -EAGAIN);
	assert_non_null(strstr(testhost_error(h), "must talk to a manager"));

	fe.status = 500;
	fe.tasks = "{\"message\":\"rpc error\"}";
	int rc = resolve(self, "gogs", &g);
	assert_int_equal(rc, -EAGAIN);
	assert_true(dnsfollow_err_is_temporary(rc));

	fe.status = 404;
	fe.tasks = "{\"message\":\"service nope not found\"}";
	assert_int_equal(resolve(self, "nope", &g), -ENOENT);
	assert_non_null(strstr(testhost_error(h), "service 'nope' not found"));

	fe.status = 200;
	fe.tasks = "[{\"NodeID\":\"b2\",\"DesiredState\":\"running\"";
	assert_int_equal(resolve(self, "gogs", &g), -EPROTO);
	assert_non_null(strstr(testhost_error(h), "malformed JSON"));
	assert_int_equal(g.n, 0); /* nothing emitted on a bad answer */

	fe.tasks = TASKS_OK;
	fe.huge = SWARM_MAX_BODY + 4096;
	assert_int_equal(resolve(self, "gogs", &g), -EPROTO);
	assert_non_null(strstr(testhost_error(h), "too large"));
	fe.huge = 0;
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(g.n, 1);
	dnsfollow_plugin.destroy(self);

	/* No engine at all: temporary. */
	self = make("/tmp/dfsw-nothing-here.sock");
	rc = resolve(self, "gogs", &g);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "cannot reach the Docker engine"));
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_old_engine_refused(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	struct got g;
	fe.api = "1.40";
	int rc = resolve(self, "gogs", &g);
	assert_int_equal(rc, -EPROTO);
	assert_false(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "API 1.40; dnsfollow needs 1.41"));
	fe.api = "1.41";
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_events_wake_and_reconnect(void **s)
{
	(void)s;
	h = testhost_new("sw");
	void *self = make(fe.path);
	watch_one(self, "gogs");
	struct got g;
	assert_int_equal(resolve(self, "gogs", &g), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	assert_int_equal(OPS->watch_fd(self), fd); /* stable */
	/* The node event, cut across two chunks, wakes us. */
	assert_true(readable(fd, 3000));
	assert_int_equal(OPS->watch_ack(self), 1);
	assert_false(readable(fd, 0));
	assert_int_equal(OPS->watch_ack(self), 0);
	assert_non_null(strstr(testhost_log(h), "wake the core: node update"));

	/* The placement changes with no event: the fast polling that follows
	 * the event notices it and wakes us again. */
	fe.nodes = "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\",\"Labels\":"
		   "{\"dnsfollow.ipv4\":\"192.0.2.99\"}},\"Status\":{\"State\":\"ready\"}}]";
	assert_true(readable(fd, 2000));
	OPS->watch_ack(self);
	assert_non_null(strstr(testhost_log(h), "placement of gogs changed"));
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_string_equal(g.addr, "192.0.2.99");

	/* The stream breaks: reconnect, and a resync wake-up. */
	pthread_mutex_lock(&fe.mu);
	fe.drop_events = 1;
	pthread_mutex_unlock(&fe.mu);
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&fe.mu);
		int opened = fe.events_opened;
		pthread_mutex_unlock(&fe.mu);
		if (opened >= 2)
			break;
		usleep(50000);
	}
	assert_true(fe.events_opened >= 2);
	assert_true(readable(fd, 3000));
	OPS->watch_ack(self);
	assert_non_null(strstr(testhost_log(h), "event stream reconnected"));

	/* destroy() with a stream open returns promptly. */
	uint64_t t0 = h->now_ms();
	dnsfollow_plugin.destroy(self);
	uint64_t took = h->now_ms() - t0;
	if (took > 2500)
		fail_msg("destroy took %llu ms", (unsigned long long)took);
	fe.nodes = NODES_OK;
	testhost_free(h);
}

/* A socket proxy that forbids /events: no wake-ups, no busy retries. */
static void test_events_refused(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.events_status = 403;
	void *self = make(fe.path);
	struct got g;
	assert_int_equal(resolve(self, "gogs", &g), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	assert_false(readable(fd, 1500));
	assert_int_equal(fe.events_opened, 1); /* backed off, not retrying */
	assert_non_null(strstr(testhost_log(h), "event stream refused: forbidden by proxy"));
	assert_non_null(strstr(testhost_log(h), "refused the event stream (HTTP 403)"));
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

static void test_version_negotiation(void **s)
{
	(void)s;
	h = testhost_new("sw");
	struct got g;
	fe.api = "1.45", fe.min_api = "1.44"; /* like Docker 29: no 1.41 */
	void *self = make(fe.path);
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(strncmp(fe.last_tasks, "/v1.45/tasks?", 13), 0);
	/* Downgraded under us: one refused request, then the new version. */
	fe.api = "1.44";
	int rc = resolve(self, "gogs", &g);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(testhost_error(h), "client version 1.45 is too new"));
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(strncmp(fe.last_tasks, "/v1.44/tasks?", 13), 0);
	dnsfollow_plugin.destroy(self);
	/* A much newer engine: the newest version we know. */
	fe.api = "1.60";
	self = make(fe.path);
	assert_int_equal(resolve(self, "gogs", &g), 0);
	assert_int_equal(strncmp(fe.last_tasks, "/v1.52/tasks?", 13), 0);
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* Every request is bounded: a hung engine is a temporary error. */
static void test_request_timeout(void **s)
{
	(void)s;
	h = testhost_new("sw");
	const char *kvs[] = {"timeout_ms=300", NULL};
	void *self = make_with(fe.path, kvs);
	struct got g;
	fe.nodes_delay_ms = 1500;
	uint64_t t0 = h->now_ms();
	int rc = resolve(self, "gogs", &g);
	uint64_t took = h->now_ms() - t0;
	assert_int_equal(rc, -ETIMEDOUT);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_int_equal(g.n, 0);
	if (took > 1200)
		fail_msg("a 300 ms timeout took %llu ms", (unsigned long long)took);
	fe.nodes_delay_ms = 0;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* With no event stream (refused by a proxy), poll_interval alone notices
 * a change and wakes the core. */
static void test_poll_safety_net(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.events_status = 403;
	const char *kvs[] = {"poll_interval=1", NULL};
	void *self = make_with(fe.path, kvs);
	watch_one(self, "gogs");
	struct got g;
	assert_int_equal(resolve(self, "gogs", &g), 0);
	int fd = OPS->watch_fd(self);
	assert_true(fd >= 0);
	assert_false(readable(fd, 1500)); /* nothing changed: no wake-up */
	fe.nodes = "[{\"ID\":\"b2\",\"Spec\":{\"Availability\":\"active\",\"Labels\":"
		   "{\"dnsfollow.ipv4\":\"192.0.2.77\"}},\"Status\":{\"State\":\"ready\"}}]";
	assert_true(readable(fd, 2500));
	assert_int_equal(OPS->watch_ack(self), 1);
	assert_non_null(strstr(testhost_log(h), "placement of gogs changed"));
	fe.nodes = NODES_OK;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* A task that stays pending (no resources) is polled fast for at most
 * settle_max_ms; the core's later resyncs do not restart fast polling. */
static void test_stuck_task_not_polled_fast(void **s)
{
	(void)s;
	h = testhost_new("sw");
	fe.events_status = 403;
	fe.tasks = "[{\"NodeID\":\"\",\"DesiredState\":\"running\",\"Status\":{\"State\":\"pending\"}}]";
	const char *kvs[] = {"settle_max_ms=1500", NULL};
	void *self = make_with(fe.path, kvs);
	watch_one(self, "gogs");
	struct got g;
	/* On its way up, not running: not known yet where it will run. */
	assert_int_equal(resolve(self, "gogs", &g), DNSFOLLOW_E_TEMPORARY);
	assert_int_equal(g.n, 0);
	OPS->watch_fd(self);
	usleep(1000000);
	int fast = fe_get_int(&fe.tasks_requests);
	if (fast < 5)
		fail_msg("only %d /tasks requests in the fast window", fast);
	usleep(1500000); /* the window is over */
	int before = fe_get_int(&fe.tasks_requests);
	assert_int_equal(resolve(self, "gogs", &g), DNSFOLLOW_E_TEMPORARY); /* a core retry */
	usleep(1500000);
	int after = fe_get_int(&fe.tasks_requests);
	if (after - before > 2)
		fail_msg("%d /tasks requests after the window: polling fast again",
			 after - before);
	fe.tasks = TASKS_OK;
	dnsfollow_plugin.destroy(self);
	testhost_free(h);
}

/* The queries of a watch set: services NAME_FMT % i, i < n. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_over_socket, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_engine_errors, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_old_engine_refused, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_events_wake_and_reconnect, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_events_refused, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_version_negotiation, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_request_timeout, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_poll_safety_net, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_stuck_task_not_polled_fast, fe_start, fe_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
