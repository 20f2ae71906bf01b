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

#include "swkv.h"

/* ---- the fake engine ---- */

static struct {
	char path[108];
	int lfd;
	pthread_t th;
	pthread_mutex_t mu;
	const char *api;   /* Api-Version header of /_ping, NULL: none; also
			      the newest path version it serves */
	const char *min_api; /* oldest path version it serves ("1.41") */
	int status;        /* of /tasks and /nodes */
	int tasks_requests; /* /tasks requests so far */
	int nodes_delay_ms; /* /nodes answers this late */
	const char *tasks, *nodes;
	size_t huge;       /* > 0: /nodes answers this many bytes */
	int events_opened; /* /events connections so far */
	int events_status; /* non-zero: refuse /events with this status */
	int drop_events;   /* close the current stream */
	int quiet_start;   /* no events when a stream opens */
	char event[512];   /* a line to send on the open stream ... */
	int event_seq;     /* ... each time this grows */
	const char *special, *special_tasks; /* /tasks of this service */
	char seen[400];    /* /tasks asked for service svc-NNN */
	char last_tasks[512];
	int stop;
} fe;

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void reply(int fd, int status, const char *body, size_t len)
{
	char h[256];
	pthread_mutex_lock(&fe.mu);
	int n = snprintf(h, sizeof h,
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s%s%s"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, fe.api ? "Api-Version: " : "", fe.api ? fe.api : "",
			 fe.api ? "\r\n" : "", len);
	pthread_mutex_unlock(&fe.mu);
	send_all(fd, h, (size_t)n);
	send_all(fd, body, len);
}

static void chunk(int fd, const char *s)
{
	char h[32];
	snprintf(h, sizeof h, "%zx\r\n", strlen(s));
	send_all(fd, h, strlen(h));
	send_all(fd, s, strlen(s));
	send_all(fd, "\r\n", 2);
}

static void serve_events(int fd)
{
	const char *hdr = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n";
	send_all(fd, hdr, strlen(hdr));
	pthread_mutex_lock(&fe.mu);
	fe.events_opened++;
	fe.drop_events = 0;
	int quiet = fe.quiet_start, sent = fe.event_seq;
	pthread_mutex_unlock(&fe.mu);
	usleep(300000);
	/* A container event (ignored), then a node event cut mid-line. */
	if (!quiet) {
		chunk(fd, "{\"Type\":\"container\",\"Action\":\"start\"}\n{\"Type\":\"no");
		usleep(100000);
		chunk(fd, "de\",\"Action\":\"update\"}\n");
	}
	for (;;) { /* hold the stream open until told; send what we are told */
		char line[520] = "";
		pthread_mutex_lock(&fe.mu);
		int done = fe.stop || fe.drop_events;
		if (fe.event_seq != sent) {
			sent = fe.event_seq;
			snprintf(line, sizeof line, "%s\n", fe.event);
		}
		pthread_mutex_unlock(&fe.mu);
		if (done)
			break;
		if (line[0])
			chunk(fd, line);
		usleep(20000);
	}
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[4096] = "";
	size_t n = 0;
	while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
	}
	req[n] = '\0';
	char path[1024] = "";
	sscanf(req, "GET %1023s", path);
	pthread_mutex_lock(&fe.mu);
	int status = fe.status;
	const char *tasks = fe.tasks, *nodes = fe.nodes;
	if (fe.special && strstr(path, fe.special))
		tasks = fe.special_tasks;
	size_t huge = fe.huge;
	int delay = fe.nodes_delay_ms;
	char api[16], min_api[16];
	snprintf(api, sizeof api, "%s", fe.api ? fe.api : "1.41");
	snprintf(min_api, sizeof min_api, "%s", fe.min_api ? fe.min_api : "1.41");
	if (strstr(path, "/tasks")) {
		snprintf(fe.last_tasks, sizeof fe.last_tasks, "%s", path);
		fe.tasks_requests++;
		const char *sv = strstr(path, "%22svc-");
		if (sv && atoi(sv + 7) >= 0 && atoi(sv + 7) < 400)
			fe.seen[atoi(sv + 7)] = 1;
	}
	pthread_mutex_unlock(&fe.mu);
	/* "/v1.44/tasks" → version 1.44, route "/tasks"; as a real engine,
	 * a version outside [min_api, api] gets 400 "client version ...". */
	const char *route = path;
	if (path[0] == '/' && path[1] == 'v') {
		route = strchr(path + 1, '/');
		route = route ? route : "";
		char ver[16];
		snprintf(ver, sizeof ver, "%.*s", (int)(route - path - 2), path + 2);
		const char *why = swarm_parse_api_version(ver) < swarm_parse_api_version(min_api)
				  ? "too old. Minimum supported API version is"
			  : swarm_parse_api_version(ver) > swarm_parse_api_version(api)
				  ? "too new. Maximum supported API version is" : NULL;
		if (why) {
			char b[200];
			snprintf(b, sizeof b, "{\"message\":\"client version %s is %s %s\"}",
				 ver, why, strncmp(why, "too old", 7) == 0 ? min_api : api);
			reply(fd, 400, b, strlen(b));
			close(fd);
			return NULL;
		}
	}
	if (strcmp(route, "/_ping") == 0) {
		reply(fd, 200, "OK", 2);
	} else if (strncmp(route, "/events", 7) == 0 && fe.events_status) {
		pthread_mutex_lock(&fe.mu);
		fe.events_opened++;
		pthread_mutex_unlock(&fe.mu);
		const char *b = "{\"message\":\"forbidden by proxy\"}"; /* no newline */
		reply(fd, fe.events_status, b, strlen(b));
	} else if (strncmp(route, "/events", 7) == 0) {
		serve_events(fd);
	} else if (strncmp(route, "/tasks", 6) == 0) {
		reply(fd, status, tasks, strlen(tasks));
	} else if (strcmp(route, "/nodes") == 0 && huge) {
		char *big = malloc(huge);
		memset(big, ' ', huge);
		big[0] = '[';
		big[huge - 1] = ']';
		reply(fd, 200, big, huge);
		free(big);
	} else if (strcmp(route, "/nodes") == 0) {
		if (delay)
			usleep((useconds_t)delay * 1000u);
		reply(fd, status, nodes, strlen(nodes));
	} else {
		reply(fd, 404, "{\"message\":\"page not found\"}", 28);
	}
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = {.fd = fe.lfd, .events = POLLIN};
		int r = poll(&p, 1, 50);
		pthread_mutex_lock(&fe.mu);
		int stop = fe.stop;
		pthread_mutex_unlock(&fe.mu);
		if (stop)
			return NULL;
		if (r <= 0)
			continue;
		int fd = accept(fe.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_t t;
		if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
}

#define TASKS_OK "[{\"NodeID\":\"b2\",\"DesiredState\":\"running\",\"Status\":{\"State\":\"running\"}}]"
#define NODES_OK "[{\"ID\":\"b2\",\"Description\":{\"Hostname\":\"n2\"},\"Spec\":{\"Availability\":\"active\",\"Labels\":{}},\"Status\":{\"State\":\"ready\",\"Addr\":\"10.9.0.2\"}}]"

static int fe_start(void **s)
{
	(void)s;
	memset(&fe, 0, sizeof fe);
	pthread_mutex_init(&fe.mu, NULL);
	snprintf(fe.path, sizeof fe.path, "/tmp/dfsw-fe-%d.sock", (int)getpid());
	unlink(fe.path);
	fe.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", fe.path);
	if (bind(fe.lfd, (struct sockaddr *)&a, sizeof a) || listen(fe.lfd, 16))
		return -1;
	fe.api = "1.41";
	fe.status = 200;
	fe.tasks = TASKS_OK;
	fe.nodes = NODES_OK;
	return pthread_create(&fe.th, NULL, accept_main, NULL);
}

static int fe_stop(void **s)
{
	(void)s;
	pthread_mutex_lock(&fe.mu);
	fe.stop = 1;
	pthread_mutex_unlock(&fe.mu);
	pthread_join(fe.th, NULL);
	close(fe.lfd);
	unlink(fe.path);
	usleep(100000); /* let detached connection threads finish */
	return 0;
}

/* ---- helpers ---- */

static const struct dnsfollow_host *h;

/* An instance on `sock`; `extra` ("key=value") replaces the defaults
 * timeout_ms=2000 and poll_interval=60 when it names them. */
static void *make_with(const char *sock, const char *const *extra)
{
	char host[160];
	snprintf(host, sizeof host, "host=unix://%s", sock);
	const char *kvs[12] = {host};
	size_t k = 1;
	for (; extra && *extra && k < 9; extra++)
		kvs[k++] = *extra;
	kvs[k++] = "timeout_ms=2000";
	kvs[k++] = "poll_interval=60";
	struct dnsfollow_kv kv[32];
	size_t n = swkv(dnsfollow_plugin.config_keys, kv, 32, kvs);
	/* The first occurrence of a key wins (dnsfollow_kv_get). */
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, n, &self), 0);
	return self;
}

static void *make(const char *sock)
{
	return make_with(sock, NULL);
}

struct got {
	int n;
	char addr[64], name[64], dns[64];
};

static int emit(void *ctx, const struct dnsfollow_placement *p)
{
	struct got *g = ctx;
	g->n++;
	snprintf(g->addr, sizeof g->addr, "%s", p->naddrs ? p->addrs[0] : "");
	snprintf(g->name, sizeof g->name, "%s", p->node_name ? p->node_name : "");
	snprintf(g->dns, sizeof g->dns, "%s", p->dns_name ? p->dns_name : "(null)");
	return 0;
}

/* The core's watch_set with the one query `service`. */
static void watch_one(void *self, const char *service)
{
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	const struct dnsfollow_query *p = &q;
	assert_int_equal(OPS->watch_set(self, &p, 1), 0);
}

static int resolve(void *self, const char *service, struct got *g)
{
	memset(g, 0, sizeof *g);
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	testhost_clear(h);
	return OPS->resolve(self, &q, emit, g);
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
	assert_int_equal(resolve(self, "gogs", &g), -EACCES);
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

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
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

static int fe_get_int(const int *p)
{
	pthread_mutex_lock(&fe.mu);
	int v = *p;
	pthread_mutex_unlock(&fe.mu);
	return v;
}

/* Paths use the engine's own API version, capped at the newest this
 * backend knows; an engine that stops serving it is asked again. */
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
		cmocka_unit_test_setup_teardown(test_resolve_over_socket, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_engine_errors, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_old_engine_refused, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_events_wake_and_reconnect, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_events_refused, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_version_negotiation, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_request_timeout, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_poll_safety_net, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_stuck_task_not_polled_fast, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_watch_set_filters_events, fe_start, fe_stop),
		cmocka_unit_test_setup_teardown(test_watch_set_beyond_256, fe_start, fe_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
