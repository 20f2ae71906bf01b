/*
 * The installed test host (see testhost.h): the daemon's host table with
 * logging, stopping, dry_run and HTTP redirected to the test. Built into
 * libdnsfollow-testhost.a with the core's host code it wraps.
 */
#include "testhost.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "http.h"
#include "log.h"

struct th {
	struct df_host *dh; /* the real table; &dh->pub is what plugins get */
	int (*real_http)(const struct dnsfollow_host *,
			 const struct dnsfollow_http_request *,
			 struct dnsfollow_http_response *);
	dnsfollow_testhost_http_fn http;
	void *http_ctx;
	int stopping, dry_run;
	pthread_mutex_t mu;
	char *log;
	size_t loglen;
	char err[1024];
};

/* Plugins hold only the public table: a small registry finds ours. */
#define MAX_HOSTS 64
static struct th *hosts[MAX_HOSTS];
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

static struct th *find(const struct dnsfollow_host *h)
{
	struct th *t = NULL;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < MAX_HOSTS && !t; i++)
		if (hosts[i] && &hosts[i]->dh->pub == h)
			t = hosts[i];
	pthread_mutex_unlock(&reg_mu);
	return t;
}

static const char *level_name(int level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	return level >= 0 && level <= 3 ? names[level] : "log";
}

static void th_log(const struct dnsfollow_host *h, int level, const char *fmt, ...)
{
	struct th *t = find(h);
	va_list ap;
	va_start(ap, fmt);
	char *text = df_vformat_clean(DF_LOG_LINE_MAX, fmt, ap); /* masked */
	va_end(ap);
	if (!t || !text) {
		free(text);
		return;
	}
	pthread_mutex_lock(&t->mu);
	size_t add = strlen(level_name(level)) + strlen(text) + 4;
	char *grown = realloc(t->log, t->loglen + add);
	if (grown) {
		t->log = grown;
		t->loglen += (size_t)snprintf(t->log + t->loglen, add, "%s: %s\n",
					      level_name(level), text);
	}
	pthread_mutex_unlock(&t->mu);
	if (getenv("DNSFOLLOW_TESTHOST_VERBOSE"))
		fprintf(stderr, "[%s] %s: %s\n", h->instance, level_name(level), text);
	free(text);
}

static int th_stopping(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	return t ? __atomic_load_n(&t->stopping, __ATOMIC_SEQ_CST) : 0;
}

static int th_dry_run(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	return t ? __atomic_load_n(&t->dry_run, __ATOMIC_SEQ_CST) : 0;
}

static int th_http(const struct dnsfollow_host *h, const struct dnsfollow_http_request *req,
		   struct dnsfollow_http_response *resp)
{
	struct th *t = find(h);
	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->mu);
	dnsfollow_testhost_http_fn fn = t->http;
	void *ctx = t->http_ctx;
	pthread_mutex_unlock(&t->mu);
	if (!fn)
		return t->real_http(h, req, resp);
	memset(resp, 0, sizeof *resp);
	resp->struct_size = sizeof *resp;
	return fn(ctx, req, resp);
}

const struct dnsfollow_host *dnsfollow_testhost_new(const char *instance)
{
	struct th *t = calloc(1, sizeof *t);
	if (!t || !(t->dh = df_host_new("test", instance ? instance : "test"))) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->real_http = t->dh->pub.http;
	t->dh->pub.log = th_log;
	t->dh->pub.http = th_http;
	t->dh->pub.stopping = th_stopping;
	t->dh->pub.dry_run = th_dry_run;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < MAX_HOSTS; i++)
		if (!hosts[i]) {
			hosts[i] = t;
			pthread_mutex_unlock(&reg_mu);
			return &t->dh->pub;
		}
	pthread_mutex_unlock(&reg_mu);
	df_host_free(t->dh);
	pthread_mutex_destroy(&t->mu);
	free(t);
	return NULL;
}

void dnsfollow_testhost_free(const struct dnsfollow_host *h)
{
	struct th *t = NULL;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < MAX_HOSTS; i++)
		if (hosts[i] && &hosts[i]->dh->pub == h) {
			t = hosts[i];
			hosts[i] = NULL;
		}
	pthread_mutex_unlock(&reg_mu);
	if (!t)
		return;
	df_host_free(t->dh);
	pthread_mutex_destroy(&t->mu);
	free(t->log);
	free(t);
}

const char *dnsfollow_testhost_log(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	return t && t->log ? t->log : "";
}

const char *dnsfollow_testhost_error(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	if (!t)
		return "";
	df_host_error_text(t->dh, t->err, sizeof t->err);
	return t->err;
}

int dnsfollow_testhost_error_rc(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	if (!t)
		return 0;
	pthread_mutex_lock(&t->dh->mu);
	int rc = t->dh->err_rc;
	pthread_mutex_unlock(&t->dh->mu);
	return rc;
}

unsigned dnsfollow_testhost_retry_after(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	if (!t)
		return 0;
	pthread_mutex_lock(&t->dh->mu);
	unsigned ms = t->dh->retry_after_ms;
	pthread_mutex_unlock(&t->dh->mu);
	return ms;
}

void dnsfollow_testhost_clear(const struct dnsfollow_host *h)
{
	struct th *t = find(h);
	if (!t)
		return;
	df_host_reset(t->dh);
	pthread_mutex_lock(&t->mu);
	free(t->log);
	t->log = NULL;
	t->loglen = 0;
	pthread_mutex_unlock(&t->mu);
}

void dnsfollow_testhost_set_stopping(const struct dnsfollow_host *h, int on)
{
	struct th *t = find(h);
	if (t)
		__atomic_store_n(&t->stopping, on, __ATOMIC_SEQ_CST);
}

void dnsfollow_testhost_set_dry_run(const struct dnsfollow_host *h, int on)
{
	struct th *t = find(h);
	if (t)
		__atomic_store_n(&t->dry_run, on, __ATOMIC_SEQ_CST);
}

void dnsfollow_testhost_set_http(const struct dnsfollow_host *h,
				 dnsfollow_testhost_http_fn fn, void *ctx)
{
	struct th *t = find(h);
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->http = fn;
	t->http_ctx = ctx;
	pthread_mutex_unlock(&t->mu);
}

int dnsfollow_testhost_respond(struct dnsfollow_http_response *resp, long status,
			       const char *headers, const char *body)
{
	resp->struct_size = sizeof *resp;
	resp->status = status;
	resp->body = strdup(body ? body : "");
	resp->headers = strdup(headers ? headers : "");
	resp->body_len = body ? strlen(body) : 0;
	if (resp->body && resp->headers)
		return 0;
	df_http_free(resp);
	return -ENOMEM;
}
