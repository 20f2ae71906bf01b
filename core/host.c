#include "host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "sdk.h"

uint64_t df_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t df_wall_time(void)
{
	static int64_t offset;
	static int offset_read;
	if (!offset_read) {
		const char *o = getenv("DNSFOLLOW_TIME_OFFSET");
		offset = o ? strtoll(o, NULL, 10) : 0;
		offset_read = 1;
	}
	return (int64_t)time(NULL) + offset;
}

static struct df_host *from_pub(const struct dnsfollow_host *h)
{
	return (struct df_host *)(void *)h;
}

static void host_log(const struct dnsfollow_host *h, int level,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	df_vlog(level, from_pub(h)->who, fmt, ap);
	va_end(ap);
}

static int host_error(const struct dnsfollow_host *h, int rc, const char *fmt,
		      ...)
{
	struct df_host *dh = from_pub(h);
	va_list ap;
	va_start(ap, fmt);
	/* Masked and cleaned in full before the cut to sizeof dh->err: a
	 * secret cut first would no longer match and leak its start. */
	char *text = df_vformat_clean(sizeof dh->err, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&dh->mu);
	df_copy_cut(dh->err, sizeof dh->err,
		    text ? text : "out of memory formatting an error");
	dh->err_rc = rc;
	pthread_mutex_unlock(&dh->mu);
	df_log(DNSFOLLOW_LOG_DEBUG, dh->who, "error %d: %s", rc,
	       text ? text : "(out of memory)");
	free(text);
	return rc;
}

static void host_retry_after(const struct dnsfollow_host *h, unsigned ms)
{
	struct df_host *dh = from_pub(h);
	pthread_mutex_lock(&dh->mu);
	if (ms > dh->retry_after_ms)
		dh->retry_after_ms = ms;
	pthread_mutex_unlock(&dh->mu);
}

static int host_http(const struct dnsfollow_host *h,
		     const struct dnsfollow_http_request *req,
		     struct dnsfollow_http_response *resp)
{
	/* Room for a whole curl text with its URL: host_error() masks it
	 * before it cuts it to the error buffer. */
	char err[2048];
	int rc = df_http(req, resp, err, sizeof err);
	/* Counted here, so every plugin's calls show without its help. */
	df_metric_add("dnsfollow_http_requests_total", 1, "plugin", from_pub(h)->who,
		      "class", rc == 0 ? df_status_class(resp->status) : "error", NULL);
	if (rc != 0 && rc != -ECANCELED)
		host_error(h, rc, "%s", err);
	return rc;
}

static void host_http_free(const struct dnsfollow_host *h,
			   struct dnsfollow_http_response *resp)
{
	(void)h;
	df_http_free(resp);
}

static int host_secret(const struct dnsfollow_host *h, const char *value)
{
	(void)h;
	return df_log_add_secret(value) == 0 ? 0 : -EINVAL;
}

static int host_read_file(const struct dnsfollow_host *h, const char *path,
			  size_t max, unsigned flags, char **data, size_t *len)
{
	char err[768];
	if (!path || !data || !len)
		return host_error(h, -EINVAL, "read_file: no path or no output");
	int rc = df_read_file(path, max, flags, data, len, err, sizeof err,
			      from_pub(h)->who);
	if (rc != 0)
		host_error(h, rc, "%s", err);
	return rc;
}

static int stop_flag;

void df_stop_request(void) { __atomic_store_n(&stop_flag, 1, __ATOMIC_SEQ_CST); }
int df_stopping(void) { return __atomic_load_n(&stop_flag, __ATOMIC_SEQ_CST); }

static int dry_run_flag;

void df_set_dry_run(int on) { __atomic_store_n(&dry_run_flag, on, __ATOMIC_SEQ_CST); }

static int host_dry_run(const struct dnsfollow_host *h)
{
	(void)h;
	return __atomic_load_n(&dry_run_flag, __ATOMIC_SEQ_CST);
}

static const char *host_error_text(const struct dnsfollow_host *h, char *buf,
				   size_t cap)
{
	if (!buf || !cap)
		return "";
	df_host_error_text(from_pub(h), buf, cap);
	return buf;
}

static int host_stopping(const struct dnsfollow_host *h)
{
	(void)h;
	return df_stopping();
}

static uint64_t host_now_ms(void) { return df_now_ms(); }
static int64_t host_wall_time(void) { return df_wall_time(); }

struct df_host *df_host_new(const char *kind, const char *instance)
{
	struct df_host *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	size_t n = strlen(kind) + strlen(instance) + 2;
	h->who = malloc(n);
	if (!h->who) {
		free(h);
		return NULL;
	}
	snprintf(h->who, n, "%s %s", kind, instance);
	pthread_mutex_init(&h->mu, NULL);
	h->pub.struct_size = sizeof h->pub;
	h->pub.instance = h->who + strlen(kind) + 1;
	h->pub.log = host_log;
	h->pub.error = host_error;
	h->pub.retry_after = host_retry_after;
	h->pub.http = host_http;
	h->pub.http_free = host_http_free;
	h->pub.now_ms = host_now_ms;
	h->pub.wall_time = host_wall_time;
	h->pub.secret = host_secret;
	h->pub.read_file = host_read_file;
	h->pub.stopping = host_stopping;
	h->pub.error_text = host_error_text;
	h->pub.dry_run = host_dry_run;
	df_sdk_fill(&h->pub);
	return h;
}

void df_host_free(struct df_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->mu);
	free(h->who);
	free(h);
}

void df_host_reset(struct df_host *h)
{
	pthread_mutex_lock(&h->mu);
	h->err[0] = '\0';
	h->err_rc = 0;
	h->retry_after_ms = 0;
	pthread_mutex_unlock(&h->mu);
}

void df_host_error_text(struct df_host *h, char *buf, size_t len)
{
	pthread_mutex_lock(&h->mu);
	snprintf(buf, len, "%s", h->err);
	pthread_mutex_unlock(&h->mu);
}

unsigned df_host_take_retry_after(struct df_host *h)
{
	pthread_mutex_lock(&h->mu);
	unsigned ms = h->retry_after_ms;
	h->retry_after_ms = 0;
	pthread_mutex_unlock(&h->mu);
	return ms;
}
