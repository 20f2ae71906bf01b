/*
 * The worker pool: a bounded number of threads take queued group jobs,
 * never two of one provider instance at once (the ABI promises a plugin
 * instance one call at a time), and hand them back through a done list
 * and an eventfd the main loop polls.
 */
#include "reconcile.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct df_pool {
	struct df_runtime *rt;
	pthread_mutex_t mu;
	pthread_cond_t work;  /* a job was queued, or a provider freed */
	pthread_cond_t idle;  /* a worker finished a job */
	struct df_job *queue; /* FIFO */
	struct df_job *done, **done_tail;
	char *prov_busy;      /* per provider instance */
	size_t running;
	int quit;
	int fd;
	pthread_t *threads;
	size_t nthreads;
};

/* The first queued job whose provider instance is idle; unlinked. */
static struct df_job *take_job(struct df_pool *p)
{
	for (struct df_job **jp = &p->queue; *jp; jp = &(*jp)->next) {
		struct df_job *j = *jp;
		size_t prov = p->rt->groups[j->group].provider;
		if (!p->prov_busy[prov]) {
			*jp = j->next;
			j->next = NULL;
			p->prov_busy[prov] = 1;
			return j;
		}
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct df_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct df_job *j = NULL;
		while (!p->quit && !(j = take_job(p)))
			pthread_cond_wait(&p->work, &p->mu);
		if (!j)
			break;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		df_job_run(p->rt, j);
		pthread_mutex_lock(&p->mu);
		p->running--;
		p->prov_busy[p->rt->groups[j->group].provider] = 0;
		*p->done_tail = j;
		p->done_tail = &j->next;
		uint64_t one = 1;
		if (write(p->fd, &one, sizeof one) < 0) {
			/* The counter cannot overflow in practice; the main
			 * loop also collects on its own timers. */
		}
		pthread_cond_broadcast(&p->work);
		pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct df_pool *df_pool_new(struct df_runtime *rt, size_t nthreads)
{
	struct df_pool *p = df_xcalloc(1, sizeof *p);
	p->rt = rt;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->done_tail = &p->done;
	p->prov_busy = df_xcalloc(rt->cfg->nproviders + 1, 1);
	p->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->threads = df_xcalloc(nthreads, sizeof *p->threads);
	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (!p->nthreads || p->fd < 0) {
		df_error("cannot start worker threads");
		abort();
	}
	return p;
}

void df_pool_submit(struct df_pool *p, struct df_job *j)
{
	pthread_mutex_lock(&p->mu);
	struct df_job **jp = &p->queue;
	while (*jp)
		jp = &(*jp)->next;
	j->next = NULL;
	*jp = j;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

struct df_job *df_pool_take_done(struct df_pool *p)
{
	uint64_t v;
	if (read(p->fd, &v, sizeof v) < 0) {
		/* EAGAIN: nothing signalled; the list tells anyway. */
	}
	pthread_mutex_lock(&p->mu);
	struct df_job *j = p->done;
	p->done = NULL;
	p->done_tail = &p->done;
	pthread_mutex_unlock(&p->mu);
	return j;
}

int df_pool_fd(const struct df_pool *p)
{
	return p->fd;
}

/* Wait up to `ms` for the running jobs to end; 0 when none runs. */
static int wait_running(struct df_pool *p, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	while (p->running && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->idle, &p->mu, &ts);
	return p->running ? -1 : 0;
}

static void free_jobs(struct df_job *j)
{
	while (j) {
		struct df_job *next = j->next;
		df_job_free(j);
		j = next;
	}
}

int df_pool_free(struct df_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	int stuck = wait_running(p, 3000);
	pthread_mutex_unlock(&p->mu);
	if (stuck) {
		df_error("a provider call is still running after 3 s; leaving it behind");
		return -1;
	}
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free_jobs(p->queue);
	free_jobs(p->done);
	close(p->fd);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mu);
	free(p->prov_busy);
	free(p->threads);
	free(p);
	return 0;
}
