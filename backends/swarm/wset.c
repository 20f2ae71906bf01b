/*
 * The watch set: the queries the configuration asks this instance, as
 * the core hands them over (watch_set) before the first pass and after
 * each reload. The watcher re-resolves exactly these, and a service
 * event wakes the core only when it concerns one of them. Nothing is
 * guessed from earlier resolve() calls, and there is no cap: a swarm
 * with a thousand configured services is watched whole.
 */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int swarm_target_of(const struct dnsfollow_query *q)
{
	/* An ENUM record key: the core checked it and delivers its index,
	 * "tasks" (0) when absent. */
	uint64_t t = dnsfollow_kv_num(q->options, q->noptions, "target",
				      SWARM_TARGET_TASKS);
	return t <= SWARM_TARGET_READY_NODES ? (int)t : -1;
}

static void watched_free(struct swarm_watched *w)
{
	free(w->service);
	free(w->fp);
	free(w->announced);
	memset(w, 0, sizeof *w);
}

static struct swarm_watched *find(struct swarm_watched *v, size_t n,
				  const char *service, int target)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].target == target && strcmp(v[i].service, service) == 0)
			return &v[i];
	return NULL;
}

/* The new set from `qs`, without duplicates; NULL with a message on a
 * bad query (check_query refused it already: only a core bug gets
 * here) or out of memory. */
static struct swarm_watched *build(const struct dnsfollow_query *const *qs,
				   size_t n, size_t *nout, char *err,
				   size_t errlen)
{
	struct swarm_watched *v = calloc(n ? n : 1, sizeof *v);
	size_t k = 0;
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int target = qs[i] ? swarm_target_of(qs[i]) : -1;
		if (target < 0 || !qs[i]->service || !*qs[i]->service) {
			snprintf(err, errlen, "watch_set: query #%zu has no service or "
				 "a bad target", i);
			goto fail;
		}
		if (find(v, k, qs[i]->service, target))
			continue;
		v[k].target = target;
		if (!(v[k++].service = strdup(qs[i]->service))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	*nout = k;
	return v;
fail:
	for (size_t i = 0; i < k; i++)
		watched_free(&v[i]);
	free(v);
	return NULL;
}

int swarm_wset_replace(struct swarm *sw, const struct dnsfollow_query *const *qs,
		       size_t n, char *err, size_t errlen)
{
	size_t k = 0;
	struct swarm_watched *v = build(qs, n, &k, err, errlen);
	if (!v)
		return strstr(err, "memory") ? -ENOMEM : -EINVAL;
	pthread_mutex_lock(&sw->mu);
	/* A query kept across a reload keeps what the core was told: no
	 * wake-up for a placement it already has. */
	for (size_t i = 0; i < k; i++) {
		struct swarm_watched *old = find(sw->watched, sw->nwatched,
						 v[i].service, v[i].target);
		if (old) {
			v[i].fp = old->fp;
			v[i].announced = old->announced;
			v[i].hot_from_ms = old->hot_from_ms;
			v[i].unsettled_since_ms = old->unsettled_since_ms;
			old->fp = old->announced = NULL;
		}
	}
	struct swarm_watched *gone = sw->watched;
	size_t ngone = sw->nwatched;
	sw->watched = v;
	sw->nwatched = k;
	sw->wset_given = 1;
	pthread_mutex_unlock(&sw->mu);
	for (size_t i = 0; i < ngone; i++)
		watched_free(&gone[i]);
	free(gone);
	return 0;
}

void swarm_watch_note(struct swarm *sw, const char *service, int target,
		      const char *fp)
{
	pthread_mutex_lock(&sw->mu);
	struct swarm_watched *w = find(sw->watched, sw->nwatched, service, target);
	if (w) {
		free(w->fp);
		free(w->announced);
		/* Out of memory: NULL, which reads "the core knows nothing"
		 * and costs at most one extra wake-up. */
		w->fp = fp ? strdup(fp) : NULL;
		w->announced = NULL;
	}
	pthread_mutex_unlock(&sw->mu);
}

/* Docker accepts a service by name, by ID or by an ID prefix. */
static int matches(const char *service, const struct swarm_actor *a)
{
	return strcmp(a->name, service) == 0 ||
	       (a->id[0] && strncmp(a->id, service, strlen(service)) == 0);
}

int swarm_wset_concerns(struct swarm *sw, const struct swarm_actor *a)
{
	if (!a || !a->service || (!a->name[0] && !a->id[0]))
		return 1;
	pthread_mutex_lock(&sw->mu);
	int hit = !sw->wset_given;
	for (size_t i = 0; i < sw->nwatched && !hit; i++)
		hit = matches(sw->watched[i].service, a);
	pthread_mutex_unlock(&sw->mu);
	return hit;
}

int swarm_wset_heat(struct swarm *sw, const struct swarm_actor *a)
{
	int every = !a || !a->service || (!a->name[0] && !a->id[0]);
	pthread_mutex_lock(&sw->mu);
	uint64_t now = sw->host->now_ms();
	int hit = every || !sw->wset_given;
	for (size_t i = 0; i < sw->nwatched; i++) {
		struct swarm_watched *w = &sw->watched[i];
		if (every || matches(w->service, a)) {
			w->hot_from_ms = now;
			hit = 1;
		}
	}
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
	return hit;
}

void swarm_wset_follow(struct swarm *sw, const char *service, int target)
{
	pthread_mutex_lock(&sw->mu);
	uint64_t now = sw->host->now_ms();
	struct swarm_watched *w = find(sw->watched, sw->nwatched, service, target);
	int stuck = w && w->unsettled_since_ms &&
		    now - w->unsettled_since_ms >= sw->cfg.settle_max_ms;
	if (w && !w->hot_from_ms && !stuck) {
		w->hot_from_ms = now;
		pthread_cond_broadcast(&sw->cond);
	}
	pthread_mutex_unlock(&sw->mu);
}

void swarm_wset_checked(struct swarm *sw, const char *service, int target,
			int unsettled, uint64_t now)
{
	pthread_mutex_lock(&sw->mu);
	struct swarm_watched *w = find(sw->watched, sw->nwatched, service, target);
	if (w) {
		int was = w->unsettled_since_ms != 0;
		w->unsettled_since_ms = !unsettled ? 0 : was ? w->unsettled_since_ms
							      : now;
		if (w->hot_from_ms) {
			uint64_t age = now - w->hot_from_ms;
			if ((age >= SWARM_SETTLE_MIN_MS && !unsettled) ||
			    age >= sw->cfg.settle_max_ms)
				w->hot_from_ms = 0;
		} else if (unsettled && !was) {
			w->hot_from_ms = now; /* a move the events missed */
		}
	}
	pthread_mutex_unlock(&sw->mu);
}

void swarm_wset_free(struct swarm *sw)
{
	for (size_t i = 0; i < sw->nwatched; i++)
		watched_free(&sw->watched[i]);
	free(sw->watched);
	sw->watched = NULL;
	sw->nwatched = 0;
}
