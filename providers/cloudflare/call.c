/*
 * One Cloudflare API call. Every answer comes in the v4 envelope
 * {"success": bool, "errors": [{"code", "message"}], "messages", "result"}
 * (developers.cloudflare.com/fundamentals/api/); a failure becomes one
 * line naming the call, the HTTP status and Cloudflare's first error, and
 * an error class the core acts on.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Burst: a tenth of the limit; refill: the rest over 5 minutes. Any 5
 * minutes then see at most burst + refill = limit requests, however the
 * calls are spread (a bucket of the whole limit would allow twice it). */
void cf_bucket_init(struct cf_bucket *b, uint64_t per_5min, uint64_t now_ms)
{
	pthread_mutex_init(&b->mu, NULL);
	b->burst = per_5min >= 10 ? (double)(per_5min / 10) : 1.0;
	b->rate = per_5min ? ((double)per_5min - b->burst) / 300000.0 : 0;
	if (per_5min && b->rate <= 0)
		b->rate = 1.0 / 300000.0;
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

void cf_bucket_destroy(struct cf_bucket *b)
{
	pthread_mutex_destroy(&b->mu);
}

/* Reserve one token; returns how long to wait for it (ms). The count may
 * go negative, which queues callers one interval apart. */
unsigned cf_bucket_take(struct cf_bucket *b, uint64_t now_ms)
{
	if (b->rate <= 0)
		return 0;
	pthread_mutex_lock(&b->mu);
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ms = now_ms;
	}
	b->tokens -= 1.0;
	double wait = b->tokens < 0 ? -b->tokens / b->rate : 0;
	pthread_mutex_unlock(&b->mu);
	unsigned ms = (unsigned)wait;
	return (double)ms < wait ? ms + 1 : ms;
}

/* Buckets shared by the instances of this process that use the same
 * token and rate_limit: Cloudflare counts requests per user, not per
 * instance. A static initializer, not a constructor (plugins have none). */
struct shared_bucket {
	struct shared_bucket *next;
	char *token;
	uint64_t limit;
	unsigned refs;
	struct cf_bucket b;
};
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shared_bucket *shared;

struct cf_bucket *cf_bucket_get(const char *token, uint64_t per_5min, uint64_t now_ms)
{
	pthread_mutex_lock(&shared_mu);
	struct shared_bucket *s = shared;
	while (s && (s->limit != per_5min || strcmp(s->token, token) != 0))
		s = s->next;
	if (!s && (s = calloc(1, sizeof *s)) != NULL) {
		if (!(s->token = strdup(token))) {
			free(s);
			s = NULL;
		} else {
			s->limit = per_5min;
			cf_bucket_init(&s->b, per_5min, now_ms);
			s->next = shared;
			shared = s;
		}
	}
	if (s)
		s->refs++;
	pthread_mutex_unlock(&shared_mu);
	return s ? &s->b : NULL;
}

void cf_bucket_put(struct cf_bucket *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&shared_mu);
	for (struct shared_bucket **pp = &shared; *pp; pp = &(*pp)->next) {
		struct shared_bucket *s = *pp;
		if (&s->b != b)
			continue;
		if (--s->refs == 0) {
			*pp = s->next;
			cf_bucket_destroy(&s->b);
			free(s->token);
			free(s);
		}
		break;
	}
	pthread_mutex_unlock(&shared_mu);
}

/* Sleep `ms` in short steps, giving up when the daemon stops. */
static int pace(struct cf *p, unsigned ms)
{
	const struct dnsfollow_host *h = p->h;
	while (ms > 0) {
		if (DNSFOLLOW_HOST_HAS(h, stopping) && h->stopping(h))
			return h->error(h, -ECANCELED, "stopping: call not sent");
		unsigned step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return 0;
}

int cf_is_loopback_url(const char *url)
{
	const char *s = strstr(url, "://");
	char host[256];
	size_t n = 0;
	s = s ? s + 3 : url;
	if (*s == '[') { /* [::1]:port */
		for (s++; *s && *s != ']' && n < sizeof host - 1; s++)
			host[n++] = *s;
	} else {
		for (; *s && *s != ':' && *s != '/' && n < sizeof host - 1; s++)
			host[n++] = *s;
	}
	host[n] = '\0';
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	struct in6_addr a6;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Cloudflare's first error as "CODE: MESSAGE" (control characters
 * dropped, so the line stays one line), or "" when the body has none. */
static void cf_errtext(json_t *doc, char *buf, size_t cap, long *code)
{
	json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
	const char *m = json_string_value(json_object_get(e, "message"));
	json_t *c = json_object_get(e, "code");
	*code = json_is_integer(c) ? (long)json_integer_value(c) : 0;
	buf[0] = '\0';
	if (!m && !*code)
		return;
	int k = snprintf(buf, cap, "Cloudflare error %ld: ", *code);
	size_t n = k > 0 && (size_t)k < cap ? (size_t)k : 0;
	for (; m && *m && n + 1 < cap && n < 300; m++)
		buf[n++] = (unsigned char)*m < 0x20 ? ' ' : *m;
	buf[n] = '\0';
}

/* The error for an answer that is not a success. */
static int cf_failure(struct cf *p, const struct dnsfollow_http_response *resp,
		      json_t *doc, const char *what)
{
	const struct dnsfollow_host *h = p->h;
	char msg[400];
	long code;
	cf_errtext(doc, msg, sizeof msg, &code);
	long st = resp->status;
	if (st == 401 || st == 403)
		return h->error(h, -EACCES, "%s: HTTP %ld: %s%sCloudflare refused the API token "
				"(check token: it needs the permission Zone:DNS:Edit on this zone)",
				what, st, msg, msg[0] ? "; " : "");
	if (st == 429 || st >= 500 || st == 408) {
		int rc = h->http_error(h, resp, what); /* passes Retry-After on */
		return h->error(h, rc, "%s: HTTP %ld%s%s%s", what, st, msg[0] ? ": " : "", msg,
				st == 429 ? " (rate limited: Cloudflare allows 1200 requests per 5 minutes per user)" : "");
	}
	if (code == 81053 || code == 81054) /* A/AAAA/CNAME beside a CNAME */
		return h->error(h, -EEXIST, "%s: HTTP %ld: %s", what, st, msg);
	if (st == 404)
		return h->error(h, -ENOENT, "%s: HTTP 404%s%s", what, msg[0] ? ": " : "", msg);
	if (st >= 200 && st < 300) /* 2xx with success false */
		return h->error(h, -EPROTO, "%s: HTTP %ld but success is not true%s%s", what, st,
				msg[0] ? ": " : "", msg);
	return h->error(h, st == 409 ? -EEXIST : -EINVAL, "%s: HTTP %ld%s%s", what, st,
			msg[0] ? ": " : "", msg);
}

/* One request on endpoint + path. 0: *doc holds the parsed answer (its
 * "success" true); else the error, text set. */
int cf_call(struct cf *p, const char *method, const char *path,
	    const char *body, const char *what, json_t **doc)
{
	const struct dnsfollow_host *h = p->h;
	*doc = NULL;
	int rc = pace(p, cf_bucket_take(p->bucket, h->now_ms()));
	if (rc)
		return rc;
	char *url = malloc(strlen(p->endpoint) + strlen(path) + 1);
	if (!url)
		return h->error(h, -ENOMEM, "out of memory");
	strcpy(url, p->endpoint);
	strcat(url, path);
	const char *hdrs[] = {p->auth, "Accept: application/json",
			      "Content-Type: application/json", NULL};
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = method, .url = url, .headers = hdrs,
		.body = body, .body_len = body ? strlen(body) : 0, .ca_file = p->ca_file,
		.timeout_ms = p->timeout_ms, .max_body = 256u << 20,
	};
	struct dnsfollow_http_response resp = {.struct_size = sizeof resp};
	p->calls++;
	rc = h->http(h, &req, &resp);
	free(url);
	if (rc)
		return rc; /* the host named the transport failure */
	json_t *j = json_loads(resp.body ? resp.body : "", 0, NULL);
	if (resp.status >= 200 && resp.status < 300 && json_is_true(json_object_get(j, "success"))) {
		*doc = j;
	} else if (resp.status >= 200 && resp.status < 300 && !json_is_object(j)) {
		rc = h->error(h, -EPROTO, "%s: HTTP %ld: the answer is not Cloudflare's JSON envelope",
			      what, resp.status);
	} else {
		rc = cf_failure(p, &resp, j, what);
	}
	if (rc)
		json_decref(j);
	h->http_free(h, &resp);
	return rc;
}
