/*
 * Requests to the Docker Engine API through the host's HTTP helper. Only
 * GETs: the backend never changes anything in the swarm, so a socket proxy
 * that allows GET /_ping, /version, /tasks, /nodes, /services, /events is
 * enough.
 */
#include "swarm.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MIN_API 1041 /* 1.41: Docker 20.10, the oldest engine we accept */
/* The newest API whose answers this backend was checked against. Paths
 * use the engine's own version up to this one: engines drop old versions
 * (Docker 29 refuses anything below 1.44), and the fields read here have
 * not changed across them. */
#define MAX_API 1052

char *swarm_filter_path(const struct dnsfollow_host *h, const char *prefix,
			const char *key, const char *const *vals, size_t nvals)
{
	json_t *arr = json_array(), *obj = json_object();
	char *js = NULL, *enc = NULL, *out = NULL;
	if (!arr || !obj)
		goto done;
	for (size_t i = 0; i < nvals; i++)
		if (json_array_append_new(arr, json_string(vals[i])))
			goto done;
	if (json_object_set(obj, key, arr))
		goto done;
	js = json_dumps(obj, JSON_COMPACT);
	enc = js ? h->url_escape(js) : NULL;
	if (enc) {
		size_t n = strlen(prefix) + strlen(enc) + 16;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s?filters=%s", prefix, enc);
	}
done:
	json_decref(arr);
	json_decref(obj);
	free(js);
	free(enc);
	return out;
}

char *swarm_tasks_path(const struct dnsfollow_host *h, const char *service)
{
	/* Every desired state on purpose: the watcher needs to see tasks on
	 * their way up ("ready", "starting") and down to know when a move is
	 * over; resolution picks the running ones itself. */
	return swarm_filter_path(h, "/tasks", "service", &service, 1);
}

char *swarm_events_path(const struct dnsfollow_host *h)
{
	static const char *const types[] = {"service", "node"};
	return swarm_filter_path(h, "/events", "type", types, 2);
}

static const char *where(const struct swarm *sw)
{
	return sw->cfg.socket ? sw->cfg.socket : sw->cfg.base;
}

int swarm_api_status(long status, const char *body, size_t len,
		     const char *what, char *err, size_t errlen)
{
	char msg[300];
	if (status >= 200 && status < 300)
		return 0;
	const char *m = swarm_error_message(body, len, msg, sizeof msg);
	if (!m)
		m = "no message";
	if (status == 503 && strstr(m, "not a swarm manager")) {
		/* Temporary: a manager says so too while it stops, restarts
		 * or loses its quorum; a worker's socket keeps saying it,
		 * and every retry says why. */
		snprintf(err, errlen,
			 "the engine is not a swarm manager (now): dnsfollow must talk to a "
			 "manager node (engine said: %.200s)", m);
		return -EAGAIN;
	}
	snprintf(err, errlen, "%s: HTTP %ld: %.250s", what, status, m);
	if (status == 404)
		return -ENOENT;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 429 || status >= 500)
		return -EAGAIN;
	return -EPROTO;
}

/* destroy() must not wait for a slow engine: requests end when it asks. */
static int api_cancelled(void *ctx)
{
	struct swarm *sw = ctx;
	pthread_mutex_lock(&sw->mu);
	int s = sw->stop;
	pthread_mutex_unlock(&sw->mu);
	return s;
}

static void fill_req(struct swarm *sw, struct dnsfollow_http_request *r,
		     const char *url)
{
	memset(r, 0, sizeof *r);
	r->struct_size = sizeof *r;
	r->method = "GET";
	r->url = url;
	r->unix_socket = sw->cfg.socket;
	r->ca_file = sw->cfg.tls_ca;
	r->client_cert = sw->cfg.tls_cert;
	r->client_key = sw->cfg.tls_key;
	r->timeout_ms = sw->cfg.timeout_ms;
	r->connect_timeout_ms = sw->cfg.timeout_ms;
	r->max_body = SWARM_MAX_BODY;
	r->cancelled = api_cancelled;
	r->ctx = (void *)sw;
}

/* "/v1.41": the version negotiated with the engine, "" before that. */
static void version_prefix(struct swarm *sw, int versioned, char *buf, size_t len)
{
	pthread_mutex_lock(&sw->mu);
	int v = sw->api_version;
	pthread_mutex_unlock(&sw->mu);
	if (versioned && v)
		snprintf(buf, len, "/v%d.%d", v / 1000, v % 1000);
	else
		buf[0] = '\0';
}

/* The group owning a socket, by name when it has one. */
static void group_name(gid_t gid, char *buf, size_t len)
{
	struct group gr, *res = NULL;
	char tmp[1024];
	if (getgrgid_r(gid, &gr, tmp, sizeof tmp, &res) == 0 && res)
		snprintf(buf, len, "%s", gr.gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)gid);
}

/* Why a request over the unix socket failed, in words an operator can act
 * on: curl says "Connection refused" for a socket it may not open and
 * "Invalid argument" for a peer that is no HTTP server. Looks at the path
 * once (stat, connect) and may change *rc to the class that fits: a
 * socket we may not open is a configuration error, not a retry. */
int swarm_socket_why(const char *path, int *rc, char *buf, size_t len)
{
	struct stat st;
	if (stat(path, &st) != 0 && errno == EACCES) {
		*rc = -EACCES;
		return snprintf(buf, len, "permission denied on a folder leading to "
				"%s: run dnsfollow as a user who may reach it", path);
	}
	if (stat(path, &st) != 0)
		return snprintf(buf, len, "%s: %s: is dockerd running, and is this "
				"its socket (host = unix:///PATH)?", path,
				strerror(errno));
	if (!S_ISSOCK(st.st_mode)) {
		*rc = -EINVAL;
		return snprintf(buf, len, "%s is not a socket: host = unix:///PATH "
				"must name the Docker engine's socket", path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int e = fd < 0 ? errno
		: connect(fd, (struct sockaddr *)&a, sizeof a) ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (e == EACCES || e == EPERM) {
		char g[64];
		group_name(st.st_gid, g, sizeof g);
		*rc = -EACCES;
		return snprintf(buf, len, "permission denied on %s (mode %03o, group "
				"%s): run dnsfollow as a user in group %s (or root), or "
				"through a socket proxy", path,
				(unsigned)(st.st_mode & 0777), g, g);
	}
	if (e == ECONNREFUSED)
		return snprintf(buf, len, "nothing listens on %s (a socket left "
				"behind?): is dockerd running?", path);
	if (e)
		return snprintf(buf, len, "%s: %s", path, strerror(e));
	if (*rc == -ETIMEDOUT)
		return snprintf(buf, len, "%s accepts connections but sent no answer "
				"in time: is dockerd hung or overloaded?", path);
	return snprintf(buf, len, "the peer on %s %s: is this the Docker engine's "
			"socket (or a socket proxy speaking HTTP)?", path,
			*rc == -EAGAIN ? "closed the connection without an HTTP answer"
				       : "does not speak HTTP");
}

/* The text for a transport failure; *rc may change (see above). */
static void transport_why(struct swarm *sw, const char *what, int *rc,
			  char *err, size_t errlen)
{
	char why[400];
	if (*rc == -EMSGSIZE)
		snprintf(why, sizeof why, "answer too large");
	else if (sw->cfg.socket && *rc != -ECANCELED)
		swarm_socket_why(sw->cfg.socket, rc, why, sizeof why);
	else
		snprintf(why, sizeof why, "%s", strerror(-*rc));
	snprintf(err, errlen, "%s: cannot reach the Docker engine%s%.200s: %s",
		 what, sw->cfg.socket ? "" : " at ", sw->cfg.socket ? "" : where(sw),
		 why);
	if (*rc == -EMSGSIZE)
		*rc = -EPROTO;
}

static int do_get(struct swarm *sw, const char *path, int versioned,
		  struct dnsfollow_http_response *resp, char *err,
		  size_t errlen)
{
	char ver[16];
	version_prefix(sw, versioned, ver, sizeof ver);
	/* A filter naming hundreds of services is long: sized, not fixed. */
	size_t n = strlen(sw->cfg.base) + strlen(ver) + strlen(path) + 1;
	char *url = malloc(n);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(url, n, "%s%s%s", sw->cfg.base, ver, path);
	struct dnsfollow_http_request r;
	fill_req(sw, &r, url);
	int rc = sw->host->http(sw->host, &r, resp);
	free(url);
	if (rc) {
		char what[120];
		snprintf(what, sizeof what, "GET %.100s", path);
		transport_why(sw, what, &rc, err, errlen);
	}
	return rc;
}

/* The engine's API version from /_ping's header, else /version. */
static int engine_version(struct swarm *sw, char *err, size_t errlen)
{
	struct dnsfollow_http_response resp = {0};
	int rc = do_get(sw, "/_ping", 0, &resp, err, errlen);
	if (rc)
		return rc;
	char hv[32];
	int v = sw->host->http_header(&resp, "Api-Version", hv, sizeof hv) == 0
			? swarm_parse_api_version(hv + strspn(hv, " \t"))
			: -1;
	rc = swarm_api_status(resp.status, resp.body, resp.body_len, "GET /_ping",
			      err, errlen);
	sw->host->http_free(sw->host, &resp);
	if (rc || v >= 0)
		return rc ? rc : v;
	rc = do_get(sw, "/version", 0, &resp, err, errlen);
	if (rc)
		return rc;
	rc = swarm_api_status(resp.status, resp.body, resp.body_len,
			      "GET /version", err, errlen);
	json_t *j = rc ? NULL : json_loadb(resp.body, resp.body_len, 0, NULL);
	json_t *av = json_object_get(j, "ApiVersion");
	v = json_is_string(av) ? swarm_parse_api_version(json_string_value(av)) : -1;
	json_decref(j);
	sw->host->http_free(sw->host, &resp);
	if (!rc && v < 0) {
		snprintf(err, errlen, "the engine did not say its API version");
		rc = -EPROTO;
	}
	return rc ? rc : v;
}

int swarm_api_ensure_version(struct swarm *sw, char *err, size_t errlen)
{
	pthread_mutex_lock(&sw->mu);
	int ok = sw->api_version != 0;
	pthread_mutex_unlock(&sw->mu);
	if (ok)
		return 0;
	int v = engine_version(sw, err, errlen);
	if (v < 0)
		return v;
	if (v < MIN_API) {
		snprintf(err, errlen,
			 "the engine speaks Docker API %d.%d; dnsfollow needs %s "
			 "(Docker 20.10) or newer", v / 1000, v % 1000,
			 SWARM_API_VERSION);
		return -EPROTO;
	}
	pthread_mutex_lock(&sw->mu);
	sw->api_version = v < MAX_API ? v : MAX_API;
	pthread_mutex_unlock(&sw->mu);
	return 0;
}

/* The engine was upgraded or downgraded under us ("client version 1.41
 * is too old"): ask it again before the next request. */
static void forget_version_if_refused(struct swarm *sw, long status,
				      const char *body, size_t len)
{
	char msg[300];
	const char *m = status == 400 ? swarm_error_message(body, len, msg, sizeof msg)
				      : NULL;
	if (!m || !strstr(m, "client version"))
		return;
	pthread_mutex_lock(&sw->mu);
	sw->api_version = 0;
	pthread_mutex_unlock(&sw->mu);
}

int swarm_api_get(struct swarm *sw, const char *path_query,
		  struct dnsfollow_http_response *resp, char *err,
		  size_t errlen)
{
	int rc = swarm_api_ensure_version(sw, err, errlen);
	if (rc)
		return rc;
	rc = do_get(sw, path_query, 1, resp, err, errlen);
	if (rc)
		return rc;
	char what[160];
	snprintf(what, sizeof what, "GET %.140s", path_query);
	rc = swarm_api_status(resp->status, resp->body, resp->body_len, what,
			      err, errlen);
	if (rc) {
		forget_version_if_refused(sw, resp->status, resp->body, resp->body_len);
		sw->host->http_free(sw->host, resp);
	}
	return rc;
}

int swarm_api_stream(struct swarm *sw, const char *path_query,
		     int (*on_data)(void *, const char *, size_t),
		     int (*cancelled)(void *), void *ctx, long *status,
		     char *err, size_t errlen)
{
	int rc = swarm_api_ensure_version(sw, err, errlen);
	if (rc)
		return rc;
	char url[4096], ver[16];
	version_prefix(sw, 1, ver, sizeof ver);
	snprintf(url, sizeof url, "%s%s%s", sw->cfg.base, ver, path_query);
	struct dnsfollow_http_request r;
	fill_req(sw, &r, url);
	r.timeout_ms = 0; /* a stream lasts as long as it lasts */
	r.on_data = on_data;
	r.cancelled = cancelled;
	r.ctx = ctx;
	struct dnsfollow_http_response resp = {0};
	rc = sw->host->http(sw->host, &r, &resp);
	*status = rc ? 0 : resp.status;
	if (rc && rc != -ECANCELED)
		transport_why(sw, "event stream", &rc, err, errlen);
	sw->host->http_free(sw->host, &resp);
	return rc;
}
