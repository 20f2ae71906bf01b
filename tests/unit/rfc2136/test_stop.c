/* Issue 8 item 9: SIGTERM (host->stopping()) ends every network wait of
 * the provider within a slice, whatever timeout_ms says, with a temporary
 * error; the next server of the list is not asked, and once stopping no
 * UPDATE (nor query) goes out at all. The peers never answer: a UDP
 * socket nobody reads and a TCP listener whose connections the kernel
 * completes but nobody accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"
#include "harness.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

struct mute {
	int udp, tcp, port;
};

/* UDP and TCP on one loopback port; nothing is ever answered. */
static void mute_open(struct mute *m)
{
	m->port = 0;
	for (int tries = 0; tries < 50 && !m->port; tries++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		m->udp = socket(AF_INET, SOCK_DGRAM, 0);
		bind(m->udp, (struct sockaddr *)&a, sizeof a);
		getsockname(m->udp, (struct sockaddr *)&a, &al);
		m->tcp = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(m->tcp, (struct sockaddr *)&a, sizeof a) == 0 &&
		    listen(m->tcp, 8) == 0) {
			m->port = ntohs(a.sin_port);
			break;
		}
		close(m->udp);
		close(m->tcp);
	}
	assert_true(m->port > 0);
}

/* 1 if anything reached the peer: a datagram or a connection. */
static int mute_reached(struct mute *m)
{
	struct pollfd p[2] = {{.fd = m->udp, .events = POLLIN},
			      {.fd = m->tcp, .events = POLLIN}};
	return poll(p, 2, 0) > 0;
}

static void mute_close(struct mute *m)
{
	close(m->udp);
	close(m->tcp);
}

static volatile int stop_flag;

static int fake_stopping(const struct dnsfollow_host *h)
{
	(void)h;
	return stop_flag;
}

static void *stop_later(void *arg)
{
	struct timespec t = {0, 300 * 1000000L};
	(void)arg;
	nanosleep(&t, NULL);
	stop_flag = 1;
	return NULL;
}

static const struct dnsfollow_host *H;

/* A provider for `ports` (0-ended) whose host reports "stopping" 300 ms
 * from now, or at once. timeout_ms is 20 s: only the stop can end it. */
static void *provider(const int *ports, const char *extra, int now,
		      pthread_t *th)
{
	char server[128];
	snprintf(server, sizeof server, "server=127.0.0.1:%d,127.0.0.1:%d",
		 ports[0], ports[1]);
	const char *kv[] = {server, "timeout_ms=20000", extra, NULL};
	struct dnsfollow_kv cfg[16];
	void *self = NULL;
	H = testhost_new("t");
	size_t n = typed_kv(cfg, 16, kv);
	assert_int_equal(dnsfollow_plugin.create(H, cfg, n, &self), 0);
	/* The table is the test's own: swap in a stop flag it controls. */
	((struct dnsfollow_host *)H)->stopping = fake_stopping;
	stop_flag = now;
	if (!now)
		pthread_create(th, NULL, stop_later, NULL);
	return self;
}

static void done(void *self)
{
	dnsfollow_plugin.destroy(self);
	testhost_free(H);
	stop_flag = 0;
}

static uint64_t ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)rr;
	++*(int *)ctx;
	return 0;
}

static const struct dnsfollow_rrkey KEYS[] = {{"git.example.test", 1},
					      {"_dnsfollow.git.example.test", 16}};
static const char *const RD[] = {"192.0.2.7"};
static const struct dnsfollow_change CH = {.op = DNSFOLLOW_CHANGE_SET,
	.rrset = {.name = "git.example.test", .type = 1, .ttl = 60, .count = 1,
		  .rdata = RD}};

/* An UPDATE and a read, over UDP, TCP and as a transfer, each waiting on
 * a silent server: back within 300 ms + one slice (+ slack). */
static void test_stop_ends_waits(void **st)
{
	(void)st;
	static const char *const extras[] = {NULL, "transport=tcp", "read=axfr"};
	for (int op = 0; op < 2; op++)
		for (size_t e = 0; e < 3; e++) {
			struct mute silent, next;
			pthread_t th;
			int got = 0;
			mute_open(&silent);
			mute_open(&next);
			int ports[] = {silent.port, next.port};
			void *p = provider(ports, extras[e], 0, &th);
			uint64_t t0 = ms_now();
			int rc = op ? apply_cs(p, "example.test", &CH, 1, NULL, NULL) :
				 r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &got);
			uint64_t took = ms_now() - t0;
			pthread_join(th, NULL);
			if (took > 800 || !dnsfollow_err_is_temporary(rc) ||
			    !strstr(testhost_error(H), "dnsfollow is stopping"))
				fail_msg("%s %s: rc %d after %llu ms: %s", op ? "apply" : "read",
					 extras[e] ? extras[e] : "udp", rc,
					 (unsigned long long)took, testhost_error(H));
			assert_true(mute_reached(&silent));
			assert_false(mute_reached(&next)); /* not asked */
			assert_int_equal(got, 0);
			mute_close(&silent);
			mute_close(&next);
			done(p);
		}
}

static void test_stop_sends_nothing(void **st)
{
	(void)st;
	struct mute a, b;
	int got = 0;
	mute_open(&a);
	mute_open(&b);
	int ports[] = {a.port, b.port};
	void *p = provider(ports, NULL, 1, NULL);
	assert_true(dnsfollow_err_is_temporary(apply_cs(p, "example.test", &CH, 1,
							NULL, NULL)));
	assert_non_null(strstr(testhost_error(H), "gave up on the UPDATE: dnsfollow "
			       "is stopping"));
	assert_true(dnsfollow_err_is_temporary(
		r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &got)));
	assert_false(mute_reached(&a));
	assert_false(mute_reached(&b));
	done(p);
	p = provider(ports, "read=axfr", 1, NULL);
	assert_true(dnsfollow_err_is_temporary(
		r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &got)));
	assert_false(mute_reached(&a));
	mute_close(&a);
	mute_close(&b);
	done(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_ends_waits),
		cmocka_unit_test(test_stop_sends_nothing),
	};
	return cmocka_run_group_tests_name("rfc2136 stop", tests, NULL, NULL);
}
