/*
 * Telling the core "placements may have changed", as soon as they may.
 *
 * Two threads. The event thread keeps GET /events open (service and node
 * events) and reconnects with backoff when it breaks. Swarm has no task
 * events: a task that starts elsewhere after a drain produces no event at
 * all, seconds after the node event. So the watcher thread re-resolves
 * the queries of the watch set (wset.c: what the configuration asks):
 * all of them every poll_interval (the safety net), and fast (every
 * SETTLE_STEP_MS) for a while only those an event concerns or whose task
 * is still on its way. A round costs one /tasks and one /nodes request
 * however many queries it checks (snap.c). It wakes the core only when
 * an answer differs from what the core was last told. The core therefore
 * never does a full pass for nothing, and a move is seen within a step
 * of happening.
 */
#include "swarm.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_STEP_MS 100u
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 15000u
#define STREAM_HEALTHY_MS 5000u

static int is_stopping(struct swarm *sw)
{
	pthread_mutex_lock(&sw->mu);
	int s = sw->stop;
	pthread_mutex_unlock(&sw->mu);
	return s;
}

/* Sleep on the condition until `until_ms` (monotonic) or a signal; mu held. */
static void wait_until(struct swarm *sw, uint64_t until_ms)
{
	uint64_t now = sw->host->now_ms();
	if (until_ms <= now)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t d = until_ms - now;
	ts.tv_sec += (time_t)(d / 1000u);
	ts.tv_nsec += (long)(d % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&sw->cond, &sw->mu, &ts);
}

void swarm_wake(struct swarm *sw, const char *why)
{
	uint64_t one = 1;
	sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG, "wake the core: %s", why);
	if (sw->wakefd >= 0 && write(sw->wakefd, &one, sizeof one) < 0 &&
	    errno != EAGAIN)
		sw->host->log(sw->host, DNSFOLLOW_LOG_WARN, "wake-up failed: %s",
			      strerror(errno));
}

/* ---- the watcher ---- */

/* Whether the answer for one query is news to the core; takes fp. */
static int changed(struct swarm *sw, const char *service, int target, char *fp)
{
	int ch = 0;
	pthread_mutex_lock(&sw->mu);
	for (size_t i = 0; i < sw->nwatched; i++) {
		struct swarm_watched *w = &sw->watched[i];
		if (w->target != target || strcmp(w->service, service) != 0)
			continue;
		/* New to the core, and not already announced: until the core
		 * asks again, one wake-up per change is enough. */
		ch = (!w->fp || strcmp(w->fp, fp) != 0) &&
		     (!w->announced || strcmp(w->announced, fp) != 0);
		if (ch) {
			free(w->announced);
			w->announced = fp;
			fp = NULL;
		}
	}
	pthread_mutex_unlock(&sw->mu);
	free(fp);
	return ch;
}

/* One query from the round's snapshot; 1 if the core should hear of it. */
static int check_one(struct swarm *sw, const struct swarm_snap *snap,
		     const char *service, int target, int *unsettled)
{
	char err[SWARM_ERRLEN];
	struct swarm_result r;
	int rc = swarm_snap_select(snap, service, target, &r, err, sizeof err);
	if (rc) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG, "watcher: %s", err);
		/* Not knowing is not settled (after a reconnect the manager
		 * may still be electing a leader); a service that does not
		 * exist is known, and not worth fast polling. */
		*unsettled = rc != -ENOENT;
		return 0;
	}
	*unsettled = r.unsettled;
	char *fp = swarm_result_fingerprint(&r);
	swarm_result_free(&r);
	return fp ? changed(sw, service, target, fp) : 0;
}

struct wq {
	char *service;
	int target;
};

/* A copy of the queries due (all, or the ones polled fast), so no lock
 * is held during requests. */
static struct wq *copy_set(struct swarm *sw, int all, size_t *n)
{
	*n = 0;
	pthread_mutex_lock(&sw->mu);
	struct wq *q = calloc(sw->nwatched ? sw->nwatched : 1, sizeof *q);
	for (size_t i = 0; q && i < sw->nwatched; i++) {
		if (!all && !sw->watched[i].hot_from_ms)
			continue;
		q[*n].service = strdup(sw->watched[i].service);
		q[*n].target = sw->watched[i].target;
		if (q[*n].service)
			(*n)++;
	}
	pthread_mutex_unlock(&sw->mu);
	return q;
}

/* One round over the queries due: one snapshot (one /tasks, one /nodes
 * whatever their number), then each query from it. */
static void check_round(struct swarm *sw, struct swarm_svcmap *map, int all)
{
	size_t n;
	struct wq *q = copy_set(sw, all, &n);
	const char **names = calloc(n ? n : 1, sizeof *names);
	if (!q || !names) {
		free(q);
		free(names);
		return; /* out of memory: the next round tries again */
	}
	for (size_t i = 0; i < n; i++)
		names[i] = q[i].service;
	struct swarm_snap snap;
	if (n && swarm_snap_fetch(sw, map, names, n, NULL, &snap))
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG, "watcher: %s", snap.err);
	uint64_t now = sw->host->now_ms();
	for (size_t i = 0; i < n; i++) {
		/* Every change wakes the core, not only the round's first: the
		 * core may have taken the first wake-up and resolved this query
		 * before it changed; marked announced without a wake-up, the
		 * change would then wait for the core's resync interval. */
		int unsettled = 0;
		if (!is_stopping(sw) &&
		    check_one(sw, &snap, q[i].service, q[i].target, &unsettled)) {
			char why[200];
			snprintf(why, sizeof why, "placement of %.100s changed",
				 q[i].service);
			swarm_wake(sw, why);
		}
		swarm_wset_checked(sw, q[i].service, q[i].target, unsettled, now);
		free(q[i].service);
	}
	if (n)
		swarm_snap_free(&snap);
	free(names);
	free(q);
}

/* Whether some query is polled fast; mu held. */
static int any_hot(struct swarm *sw)
{
	for (size_t i = 0; i < sw->nwatched; i++)
		if (sw->watched[i].hot_from_ms)
			return 1;
	return 0;
}

/* Next time the watcher is due, mu held: the safety net for all, or a
 * fast step for the queries polled fast. */
static uint64_t next_due(struct swarm *sw, uint64_t last_ms)
{
	uint64_t fast = last_ms + SETTLE_STEP_MS;
	if (any_hot(sw) && fast < sw->next_poll_ms)
		return fast;
	return sw->next_poll_ms;
}

static void *watcher_main(void *arg)
{
	struct swarm *sw = arg;
	struct swarm_svcmap map = {0}; /* this thread's own */
	uint64_t last = 0;
	pthread_mutex_lock(&sw->mu);
	sw->next_poll_ms = sw->host->now_ms() + sw->cfg.poll_ms;
	while (!sw->stop) {
		uint64_t now = sw->host->now_ms();
		if (now < next_due(sw, last)) {
			wait_until(sw, next_due(sw, last));
			continue;
		}
		int all = now >= sw->next_poll_ms;
		pthread_mutex_unlock(&sw->mu);
		check_round(sw, &map, all);
		pthread_mutex_lock(&sw->mu);
		last = sw->host->now_ms();
		if (all)
			sw->next_poll_ms = last + sw->cfg.poll_ms;
	}
	pthread_mutex_unlock(&sw->mu);
	swarm_svcmap_free(&map);
	return NULL;
}

/* ---- the event stream ---- */

struct ev_ctx {
	struct swarm *sw;
	struct swarm_linebuf lb;
	unsigned garbage; /* unreadable lines on this connection */
};

/* An event about a service nobody asks about: it wakes the core only
 * when the service now carries the name label (it may have just gained
 * it), so other stacks' deployments cost one look, not a pass at every
 * provider. One call, filtered by ID and label; an error wakes (the safe
 * side). */
static int carries_label(struct swarm *sw, const struct swarm_actor *who)
{
	if (!who->id[0])
		return 1;
	char label[300], err[SWARM_ERRLEN];
	snprintf(label, sizeof label, "%s.name", sw->cfg.label_prefix);
	json_t *f = json_pack("{s:[s], s:[s]}", "id", who->id, "label", label);
	char *js = f ? json_dumps(f, JSON_COMPACT) : NULL;
	char *enc = js ? sw->host->url_escape(js) : NULL;
	json_decref(f);
	free(js);
	if (!enc)
		return 1;
	size_t n = strlen(enc) + 32;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "/services?filters=%s", enc);
	free(enc);
	struct dnsfollow_http_response resp = {0};
	int rc = path ? swarm_api_get(sw, path, &resp, err, sizeof err) : -ENOMEM;
	free(path);
	if (rc)
		return 1;
	json_t *list = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
	int found = !json_is_array(list) || json_array_size(list) > 0;
	json_decref(list);
	sw->host->http_free(sw->host, &resp);
	return found;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct ev_ctx *e = ctx;
	struct swarm *sw = e->sw;
	char what[200];
	struct swarm_actor who;
	int k = swarm_parse_event(line, len, what, sizeof what, &who);
	if (k == SWARM_EV_IGNORE)
		return;
	if (k == SWARM_EV_ERROR) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_WARN,
			      "event stream refused: %s", what);
		return;
	}
	/* An unreadable line might be an event we cannot parse, so it wakes
	 * the core; but a proxy's error page is many such lines: once per
	 * connection is enough. */
	if (k == SWARM_EV_GARBAGE && e->garbage++)
		return;
	/* Fast polling only for what the event concerns: a node event (or
	 * an unreadable one) may move anything, a service event only that
	 * service. A service nobody asks about (other stacks on the swarm)
	 * starts none, and wakes the core only when labels are discovered:
	 * it may have gained or lost them. */
	int mine = swarm_wset_heat(sw, k == SWARM_EV_RELEVANT ? &who : NULL);
	pthread_mutex_lock(&sw->mu);
	int disc = sw->discovering && who.service;
	pthread_mutex_unlock(&sw->mu);
	if (disc && !mine)
		disc = carries_label(sw, &who);
	pthread_mutex_lock(&sw->mu);
	sw->events_seen += mine || disc;
	pthread_mutex_unlock(&sw->mu);
	if (!mine && !disc) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG,
			      "event not watched: %s", what);
		return;
	}
	swarm_wake(sw, k == SWARM_EV_RELEVANT ? what : "unreadable event");
}

static int on_data(void *ctx, const char *data, size_t n)
{
	struct ev_ctx *e = ctx;
	swarm_linebuf_feed(&e->lb, data, n, on_line, e);
	return is_stopping(e->sw);
}

static int ev_cancelled(void *ctx)
{
	return is_stopping(((struct ev_ctx *)ctx)->sw);
}

/* One connection: until it breaks. Returns how long it lived; *refused
 * is set when the engine answered with an error instead of a stream. */
static uint64_t stream_once(struct swarm *sw, struct ev_ctx *e, int reconnect,
			    int *refused)
{
	*refused = 0;
	char err[SWARM_ERRLEN];
	struct dnsfollow_http_response resp = {0};
	/* A ping first: once the engine answers, what happened while the
	 * stream was down is caught by a full resync plus fast polling. */
	int rc = swarm_api_get(sw, "/_ping", &resp, err, sizeof err);
	sw->host->http_free(sw->host, &resp);
	if (rc) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG, "event stream: %s", err);
		return 0;
	}
	if (reconnect) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_INFO,
			      "event stream reconnected; resyncing");
		pthread_mutex_lock(&sw->mu);
		sw->reconnects++;
		pthread_mutex_unlock(&sw->mu);
		swarm_wake(sw, "event stream reconnected");
		swarm_wset_heat(sw, NULL);
	}
	char *path = swarm_events_path(sw->host);
	if (!path)
		return 0;
	uint64_t t0 = sw->host->now_ms();
	long status = 0;
	e->lb.len = 0;
	e->lb.overflow = 0;
	e->garbage = 0;
	rc = swarm_api_stream(sw, path, on_data, ev_cancelled, e, &status, err,
			      sizeof err);
	free(path);
	if (is_stopping(sw))
		return 0;
	if (e->lb.len && !e->lb.overflow) /* an error body without newline */
		swarm_linebuf_feed(&e->lb, "\n", 1, on_line, e);
	*refused = rc == 0 && status != 200;
	if (rc)
		sw->host->log(sw->host, DNSFOLLOW_LOG_WARN, "%s; reconnecting", err);
	else if (*refused)
		sw->host->log(sw->host, DNSFOLLOW_LOG_WARN,
			      "the engine refused the event stream (HTTP %ld): relying "
			      "on polling every %u s; retrying later", status,
			      sw->cfg.poll_ms / 1000u);
	else
		sw->host->log(sw->host, DNSFOLLOW_LOG_WARN,
			      "event stream ended; reconnecting");
	return sw->host->now_ms() - t0;
}

static void *events_main(void *arg)
{
	struct swarm *sw = arg;
	struct ev_ctx *e = calloc(1, sizeof *e);
	if (!e) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_ERROR,
			      "out of memory: no event stream, polling only");
		return NULL;
	}
	e->sw = sw;
	unsigned backoff = BACKOFF_MIN_MS;
	int reconnect = 0;
	while (!is_stopping(sw)) {
		int refused;
		uint64_t lived = stream_once(sw, e, reconnect, &refused);
		/* After a refusal nothing was missed that polling did not see:
		 * no resync wake-up on the next attempt, and no hurry. */
		reconnect = !refused;
		if (refused)
			backoff = BACKOFF_MAX_MS;
		else if (lived >= STREAM_HEALTHY_MS)
			backoff = BACKOFF_MIN_MS;
		pthread_mutex_lock(&sw->mu);
		uint64_t until = sw->host->now_ms() + backoff;
		while (!sw->stop && sw->host->now_ms() < until)
			wait_until(sw, until);
		pthread_mutex_unlock(&sw->mu);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	free(e);
	return NULL;
}

int swarm_watch_start(struct swarm *sw, char *err, size_t errlen)
{
	sw->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sw->wakefd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	int rc = pthread_create(&sw->poll_thread, NULL, watcher_main, sw);
	if (rc == 0) {
		sw->poll_started = 1;
		rc = pthread_create(&sw->ev_thread, NULL, events_main, sw);
		sw->ev_started = rc == 0;
	}
	if (rc) {
		snprintf(err, errlen, "cannot start threads: %s", strerror(rc));
		swarm_watch_stop(sw);
		/* Polling goes on: requests must not look cancelled. */
		pthread_mutex_lock(&sw->mu);
		sw->stop = 0;
		pthread_mutex_unlock(&sw->mu);
		return -rc;
	}
	return 0;
}

void swarm_watch_stop(struct swarm *sw)
{
	pthread_mutex_lock(&sw->mu);
	sw->stop = 1;
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
	if (sw->ev_started)
		pthread_join(sw->ev_thread, NULL);
	if (sw->poll_started)
		pthread_join(sw->poll_thread, NULL);
	sw->ev_started = sw->poll_started = 0;
	if (sw->wakefd >= 0)
		close(sw->wakefd);
	sw->wakefd = -1;
}
