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
	for (int i = 0; i < 100 && !fe_get_int(&fe.events_opened); i++)
		usleep(20000);
	usleep(500000); /* the stream is up */
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
	static const char *const which[] = {"%22svc-000%22", "%22svc-299%22"};
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_set_filters_events, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_watch_set_beyond_256, fe_start, fe_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
