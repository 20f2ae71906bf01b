/*
 * A fake Docker engine on a unix socket for the swarm backend's tests
 * (test_engine.c, test_engine_watch.c): /_ping, /tasks, /nodes and an
 * /events stream a test can feed, with the engine's version rules; and
 * the helpers that make an instance on it and resolve through it.
 * Included once per test program.
 */
#ifndef SW_FAKE_ENGINE_H
#define SW_FAKE_ENGINE_H

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "swkv.h"

/* ---- the fake engine ---- */

struct fe_svc {
	char name[32];
	char id[32];
	const char *labels; /* a JSON object's text, or NULL */
};

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
	char seen[600];    /* /tasks asked for service svc-NNN */
	char last_tasks[512];
	int stop;
	/* The services (fake_services.h) and what was asked of them. */
	struct fe_svc svc[600];
	int nsvc;
	int services_status;      /* non-zero: /services answers this ... */
	const char *services_raw; /* ... with this body (or this at 200) */
	int services_requests, nodes_requests, ping_requests;
	char last_services[512];
	size_t longest_path;      /* of any request */
} fe;

#include "fake_services.h"

/* Every GET /services, /tasks and /nodes so far. */
static inline int fe_calls(void)
{
	pthread_mutex_lock(&fe.mu);
	int n = fe.services_requests + fe.tasks_requests + fe.nodes_requests;
	pthread_mutex_unlock(&fe.mu);
	return n;
}

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
	/* Filters naming hundreds of services make long request lines. */
	enum { REQ_MAX = 256 * 1024 };
	char *req = calloc(1, REQ_MAX), *path = calloc(1, REQ_MAX);
	size_t n = 0;
	while (n < REQ_MAX - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t r = recv(fd, req + n, REQ_MAX - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (strncmp(req, "GET ", 4) == 0)
		snprintf(path, REQ_MAX, "%.*s", (int)strcspn(req + 4, " \r\n"), req + 4);
	free(req);
	pthread_mutex_lock(&fe.mu);
	if (strlen(path) > fe.longest_path)
		fe.longest_path = strlen(path);
	int status = fe.status;
	const char *tasks = fe.tasks, *nodes = fe.nodes;
	char *tbody = NULL, *sbody = NULL;
	const char *raw = NULL;
	int tstatus = status;
	size_t huge = fe.huge;
	int delay = fe.nodes_delay_ms;
	char api[16], min_api[16];
	snprintf(api, sizeof api, "%s", fe.api ? fe.api : "1.41");
	snprintf(min_api, sizeof min_api, "%s", fe.min_api ? fe.min_api : "1.41");
	if (strstr(path, "/tasks")) {
		snprintf(fe.last_tasks, sizeof fe.last_tasks, "%s", path);
		fe.tasks_requests++;
		if (status == 200)
			tbody = fe_tasks_body(path, &tstatus, &raw);
	}
	int sstatus = fe.services_status ? fe.services_status : 200;
	if (strstr(path, "/services")) {
		snprintf(fe.last_services, sizeof fe.last_services, "%s", path);
		fe.services_requests++;
		sbody = fe.services_raw ? strdup(fe.services_raw) : fe_services_body(path);
	}
	if (strstr(path, "/nodes"))
		fe.nodes_requests++;
	if (strstr(path, "/_ping"))
		fe.ping_requests++;
	pthread_mutex_unlock(&fe.mu);
	if (raw || !tbody) { /* a broken template, or fe.status != 200 */
		tstatus = status;
		tbody = strdup(raw ? raw : tasks);
	}
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
			goto out;
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
		reply(fd, tstatus, tbody, strlen(tbody));
	} else if (strncmp(route, "/services", 9) == 0) {
		reply(fd, sstatus, sbody ? sbody : "[]", sbody ? strlen(sbody) : 2);
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
out:
	free(tbody);
	free(sbody);
	free(path);
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
	fe_svc_default();
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

static int resolve(void *self, const char *service, struct got *g)
{
	memset(g, 0, sizeof *g);
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = service};
	testhost_clear(h);
	return OPS->resolve(self, &q, emit, g);
}

static inline int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
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
#endif
