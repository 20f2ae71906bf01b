/*
 * Telling the core "placements may have changed", as soon as they may.
 *
 * Two threads. The event thread keeps GET /events open (service and node
 * events) and reconnects with backoff when it breaks. Swarm has no task
 * events: a task that starts elsewhere after a drain produces no event at
 * all, seconds after the node event. So the watcher thread re-resolves
 * the queries of the watch set (wset.c: what the configuration asks) —
 * fast (every SETTLE_STEP_MS) for a while after an event that concerns
 * them or while some task is still on its way, and every poll_interval
 * otherwise — and wakes the core only when the answer
 * differs from what the core was last told. The core therefore never does
 * a full pass for nothing, and a move is seen within a step of happening.
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_STEP_MS 100u
#define SETTLE_MIN_MS 3000u  /* the orchestrator may take a moment to act */
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

/* Poll fast for a while from now on. */
static void settle_start(struct swarm *sw)
{
	pthread_mutex_lock(&sw->mu);
	sw->settle_from_ms = sw->host->now_ms();
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
}

/* ---- the watcher ---- */

/* Re-resolve one watched query; 1 if the core should hear about it. */
static int check_one(struct swarm *sw, const char *service, int target,
		     int *unsettled)
{
	char err[SWARM_ERRLEN];
	struct swarm_result r;
	if (swarm_resolve_now(sw, service, target, &r, err, sizeof err)) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG, "watcher: %s", err);
		/* Not knowing is not settled: after a reconnect the manager
		 * may still be electing a leader. */
		*unsettled = 1;
		return 0;
	}
	*unsettled |= r.unsettled;
	char *fp = swarm_result_fingerprint(&r);
	swarm_result_free(&r);
	if (!fp)
		return 0;
	int changed = 0;
	pthread_mutex_lock(&sw->mu);
	for (size_t i = 0; i < sw->nwatched; i++) {
		struct swarm_watched *w = &sw->watched[i];
		if (w->target != target || strcmp(w->service, service) != 0)
			continue;
		/* New to the core, and not already announced: until the core
		 * asks again, one wake-up per change is enough. */
		changed = (!w->fp || strcmp(w->fp, fp) != 0) &&
			  (!w->announced || strcmp(w->announced, fp) != 0);
		if (changed) {
			free(w->announced);
			w->announced = fp;
			fp = NULL;
		}
	}
	pthread_mutex_unlock(&sw->mu);
	free(fp);
	return changed;
}

struct wq {
	char *service;
	int target;
};

/* A copy of the watch set, so no lock is held during requests. */
static struct wq *copy_set(struct swarm *sw, size_t *n)
{
	*n = 0;
	pthread_mutex_lock(&sw->mu);
	struct wq *q = calloc(sw->nwatched ? sw->nwatched : 1, sizeof *q);
	for (size_t i = 0; q && i < sw->nwatched; i++) {
		q[*n].service = strdup(sw->watched[i].service);
		q[*n].target = sw->watched[i].target;
		if (q[*n].service)
			(*n)++;
	}
	pthread_mutex_unlock(&sw->mu);
	return q;
}

/* Every watched query once; returns whether some task is still moving. */
static int check_all(struct swarm *sw)
{
	size_t n;
	struct wq *q = copy_set(sw, &n);
	if (!q)
		return 1; /* out of memory: not known, try again soon */
	int unsettled = 0;
	for (size_t i = 0; i < n; i++) {
		/* Every change wakes the core, not only the round's first: the
		 * core may have taken the first wake-up and resolved this query
		 * before it changed; marked announced without a wake-up, the
		 * change would then wait for the core's resync interval. */
		if (!is_stopping(sw) && check_one(sw, q[i].service, q[i].target,
						  &unsettled)) {
			char why[200];
			snprintf(why, sizeof why, "placement of %.100s changed",
				 q[i].service);
			swarm_wake(sw, why);
		}
		free(q[i].service);
	}
	free(q);
	return unsettled;
}

/* Next time the watcher is due, mu held. */
static uint64_t next_due(struct swarm *sw, uint64_t last_ms)
{
	if (sw->settle_from_ms)
		return last_ms + SETTLE_STEP_MS;
	return sw->next_poll_ms;
}

static void *watcher_main(void *arg)
{
	struct swarm *sw = arg;
	uint64_t last = 0;
	int was_unsettled = 0;
	pthread_mutex_lock(&sw->mu);
	sw->next_poll_ms = sw->host->now_ms() + sw->cfg.poll_ms;
	while (!sw->stop) {
		if (sw->host->now_ms() < next_due(sw, last)) {
			wait_until(sw, next_due(sw, last));
			continue;
		}
		pthread_mutex_unlock(&sw->mu);
		int unsettled = check_all(sw);
		pthread_mutex_lock(&sw->mu);
		uint64_t now = sw->host->now_ms();
		last = now;
		sw->next_poll_ms = now + sw->cfg.poll_ms;
		sw->unsettled_since_ms = !unsettled ? 0
					 : sw->unsettled_since_ms ? sw->unsettled_since_ms
								  : now;
		if (sw->settle_from_ms) {
			uint64_t age = now - sw->settle_from_ms;
			if ((age >= SETTLE_MIN_MS && !unsettled) || age >= sw->cfg.settle_max_ms)
				sw->settle_from_ms = 0;
		} else if (unsettled && !was_unsettled) {
			sw->settle_from_ms = now; /* a move the events missed */
		}
		was_unsettled = unsettled;
	}
	pthread_mutex_unlock(&sw->mu);
	return NULL;
}

/* ---- the event stream ---- */

struct ev_ctx {
	struct swarm *sw;
	struct swarm_linebuf lb;
	unsigned garbage; /* unreadable lines on this connection */
};

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
	/* A service nobody asks about (other stacks on the swarm): no
	 * pass, and no fast polling of the services that are asked. */
	if (k == SWARM_EV_RELEVANT && !swarm_wset_concerns(sw, &who)) {
		sw->host->log(sw->host, DNSFOLLOW_LOG_DEBUG,
			      "event not watched: %s", what);
		return;
	}
	pthread_mutex_lock(&sw->mu);
	sw->events_seen++;
	pthread_mutex_unlock(&sw->mu);
	swarm_wake(sw, k == SWARM_EV_RELEVANT ? what : "unreadable event");
	settle_start(sw);
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
		settle_start(sw);
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
