/*
 * Many calls at once: OVH has no bulk record API, so a pass that touches
 * N records makes N calls, and at tens of milliseconds each they must
 * overlap. Worker threads (max_inflight) pull calls from a shared index;
 * each uses host->http(), which is thread-safe and shares keep-alive
 * connections, and all of them draw from one token bucket.
 *
 * Threads rather than curl multi: the host's blocking helper already
 * carries the project's TLS policy, timeouts and connection cache, and a
 * plugin driving its own multi handle would have to duplicate all of it.
 * A handful of threads (max_inflight, 4 by default) costs nothing next to
 * network latency.
 *
 * Running a batch reports nothing; ovh_worst() reports its outcome once,
 * after the caller had its say on codes (a 404 on DELETE is fine).
 */
#include "ovh.h"

#include <stdlib.h>
#include <string.h>

struct pool {
	struct ovh *o;
	struct ovh_req *reqs;
	size_t n, next;
	int stop; /* a permanent error: start nothing new */
	pthread_mutex_t mu;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next;
		int stop = p->stop;
		if (i < p->n)
			p->next++;
		pthread_mutex_unlock(&p->mu);
		if (stop || i >= p->n)
			return NULL;
		ovh_call(p->o, &p->reqs[i]);
		int rc = p->reqs[i].rc;
		/* A 404 is an answer the caller interprets, not a failure of
		 * the whole batch. */
		if (rc != 0 && rc != -ENOENT && !dnsfollow_err_is_temporary(rc)) {
			pthread_mutex_lock(&p->mu);
			p->stop = 1;
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* Rank of an outcome: permanent errors first, then temporary. */
static int severity(int rc)
{
	if (rc == 0 || rc == -ENOENT)
		return 0;
	return dnsfollow_err_is_temporary(rc) ? 1 : 2;
}

void ovh_batch(struct ovh *o, struct ovh_req *reqs, size_t n)
{
	struct pool p = {.o = o, .reqs = reqs, .n = n};
	pthread_mutex_init(&p.mu, NULL);
	size_t nt = o->max_inflight < n ? o->max_inflight : n;
	pthread_t *th = nt > 1 ? calloc(nt, sizeof *th) : NULL;
	size_t started = 0;
	for (size_t i = 0; th && i < nt; i++) {
		if (pthread_create(&th[i], NULL, worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		worker(&p); /* one at a time, in this thread */
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&p.mu);
}

const struct ovh_req *ovh_worst_req(const struct ovh_req *reqs, size_t n)
{
	const struct ovh_req *worst = NULL;
	for (size_t i = 0; i < n; i++)
		if (reqs[i].done &&
		    severity(reqs[i].rc) > (worst ? severity(worst->rc) : 0))
			worst = &reqs[i];
	return worst;
}

int ovh_report(struct ovh *o, const struct ovh_req *r)
{
	if (r->cred_refused) {
		char from[600];
		ovh_creds_sources(&o->cr, from, sizeof from);
		return o->h->error(o->h, r->rc, "%s; credentials used: %s",
				   r->err ? r->err : "out of memory", from);
	}
	return o->h->error(o->h, r->rc, "%s", r->err ? r->err : "out of memory");
}

int ovh_worst(struct ovh *o, struct ovh_req *reqs, size_t n)
{
	const struct ovh_req *worst = ovh_worst_req(reqs, n);
	return worst ? ovh_report(o, worst) : 0;
}

void ovh_req_clear(struct ovh_req *r)
{
	free(r->path);
	free(r->body);
	free(r->err);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}
