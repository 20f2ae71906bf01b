/*
 * One signed OVH API call: clock delta, signature, client-side rate limit,
 * error answers in both of OVH's shapes, and a few quick retries.
 *
 * Retries inside a call stay short (at most MAX_ATTEMPTS attempts in all,
 * waits up to MAX_INLINE_WAIT_MS); longer waits go back to the core through
 * host->retry_after(), which schedules the next attempt. A POST that
 * creates a record is not retried after a 5xx or a timeout (it may have
 * been applied: the core re-reads before trying again); a 429 is always
 * retried since the server refused it unprocessed.
 */
#include "ovh.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define MAX_ATTEMPTS 3 /* in all, the first one included */
#define BACKOFF_BASE_MS 200u
#define MAX_INLINE_WAIT_MS 5000u
#define DEFAULT_RETRY_AFTER_MS 1000u
#define MAX_RETRY_AFTER_S 3600

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Value of header `name` in raw headers, malloc'd ("" if absent; NULL
 * when out of memory). Whole: peer text is never cut here, the host masks
 * secrets in it before it bounds a line. */
static char *header_dup(const char *headers, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = headers; p && *p;) {
		const char *eol = strchr(p, '\n');
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return strndup(v, strcspn(v, "\r\n"));
		}
		p = eol ? eol + 1 : NULL;
	}
	return strdup("");
}

static int code_rc(long status, const char *code, const char *msg)
{
	if (status == 400) {
		if (strcmp(code, "QUERY_TIME_OUT") == 0 ||
		    strcasestr(msg, "out of time"))
			return -ETIME; /* handled by ovh_call: resync once */
		if (strcmp(code, "INVALID_SIGNATURE") == 0 ||
		    strcasestr(msg, "signature"))
			return -EACCES;
		/* OVH refuses a CNAME beside other data at a subDomain, or
		 * other data beside a CNAME (RFC 1034 3.6.2): a conflict. */
		if (strcasestr(msg, "CNAME"))
			return -EEXIST;
		return -EINVAL;
	}
	if (status == 401 || status == 403 || status == 460)
		return -EACCES;
	if (status == 404)
		return -ENOENT;
	if (status == 409)
		return -EEXIST;
	if (status == 408)
		return -ETIMEDOUT;
	if (status == 429 || status >= 500)
		return -EAGAIN;
	return -EPROTO;
}

/* Peer text made printable on one line: control bytes (ANSI escapes,
 * binary, line breaks) become spaces, runs of blanks one space; with
 * `ascii`, bytes above 0x7e too (a raw body need not be UTF-8; a JSON
 * string is). Not cut: a cut made before the host masks secrets could
 * leave part of one. */
static char *printable(const char *text, int ascii)
{
	char *out = malloc(strlen(text) + 1);
	size_t n = 0;
	for (const char *p = text; out && *p; p++) {
		unsigned char u = (unsigned char)*p;
		char c = u < 0x20 || u == 0x7f || (ascii && u > 0x7f) ? ' ' : *p;
		if (c != ' ' || (n > 0 && out[n - 1] != ' '))
			out[n++] = c;
	}
	while (out && n > 0 && out[n - 1] == ' ')
		n--;
	if (out)
		out[n] = '\0';
	return out;
}

/* The refusals that mean "these credentials are wrong", as opposed to
 * "not allowed" (NOT_GRANTED_CALL): worth saying where each key came from. */
static int is_cred_refusal(int rc, const char *code)
{
	return rc == -EACCES && (strcmp(code, "INVALID_SIGNATURE") == 0 ||
				 strcmp(code, "INVALID_KEY") == 0 ||
				 strcmp(code, "INVALID_CREDENTIAL") == 0);
}

int ovh_answer_text(long status, const char *body, const char *headers,
		    char **text, int *cred)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "message"));
	/* Older shape: errorCode; newer shape: class (and details). */
	const char *code = json_string_value(json_object_get(j, "errorCode"));
	if (!code)
		code = json_string_value(json_object_get(j, "class"));
	char *m = printable(msg ? msg : body ? body : "", !msg);
	char *c = printable(code ? code : "", 0);
	char *qid = header_dup(headers, "X-Ovh-QueryID");
	int rc = code_rc(status, c ? c : "", m ? m : "");
	*cred = is_cred_refusal(rc, c ? c : "");
	if (!m || !c || !qid ||
	    asprintf(text, "HTTP %ld%s%s: %s%s%s%s", status, *c ? " " : "", c,
		     *m ? m : "(no message)", *qid ? " (query id " : "", qid,
		     *qid ? ")" : "") < 0)
		*text = NULL;
	free(m);
	free(c);
	free(qid);
	json_decref(j);
	return rc;
}

int ovh_error_from_answer(long status, const char *body, const char *headers,
			  char *out, size_t cap)
{
	int cred;
	char *text = NULL;
	int rc = ovh_answer_text(status, body, headers, &text, &cred);
	snprintf(out, cap, "%s", text ? text : "out of memory");
	free(text);
	return rc;
}

unsigned ovh_retry_after_ms(const char *value, int64_t server_now)
{
	while (*value == ' ' || *value == '\t')
		value++;
	long long s;
	if (*value >= '0' && *value <= '9') {
		char *end = NULL;
		s = strtoll(value, &end, 10); /* ERANGE gives a huge value */
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			return DEFAULT_RETRY_AFTER_MS;
	} else {
		time_t t = curl_getdate(value, NULL);
		if (t == -1)
			return DEFAULT_RETRY_AFTER_MS;
		s = (long long)t - server_now;
	}
	if (s < 0)
		s = 0;
	if (s > MAX_RETRY_AFTER_S)
		s = MAX_RETRY_AFTER_S;
	return (unsigned)s * 1000u;
}

/* The class of a transport failure, by the host's code. The host maps
 * curl's errors: -EPROTO covers TLS (certificate, host name, handshake),
 * a redirect (never followed) and a peer that does not speak HTTP. */
static const char *transport_generic(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:
		return "timed out";
	case -ECONNREFUSED:
		return "connection refused";
	case -EPROTO:
		return "TLS or protocol failure";
	case -EMSGSIZE:
		return "answer too large";
	case -EINVAL:
		return "invalid URL";
	case -ECANCELED:
		return "abandoned: dnsfollow is stopping";
	default: /* -EAGAIN: the host's catch-all for transfer failures */
		return "network error (connection failed or reset, or the "
		       "answer cut short)";
	}
}

/*
 * Text for a failed transfer of `method url` (malloc'd; NULL when out of
 * memory): the class first, then the host's precise words in parentheses
 * (CA, host name, redirect, timeout...), which already name the method and
 * the full URL: "timed out (GET https://h/1.0/x: Operation timed out
 * after 1000 milliseconds ...)". The host keeps one error text per
 * instance, so it is used only when it is about this very transfer: a
 * concurrent call of the same batch, or an earlier failure of the op,
 * may have set it. Without it: "METHOD PATH: class".
 */
static char *transport_err(const struct ovh *o, int rc, const char *method,
			   const char *url, const char *path)
{
	char why[1024] = "";
	size_t nm = strlen(method), nu = strlen(url);
	if (rc != -ECANCELED && DNSFOLLOW_HOST_HAS(o->h, error_text))
		o->h->error_text(o->h, why, sizeof why);
	int ours = strncmp(why, method, nm) == 0 && why[nm] == ' ' &&
		   strncmp(why + nm + 1, url, nu) == 0 &&
		   strncmp(why + nm + 1 + nu, ": ", 2) == 0 &&
		   why[nm + nu + 3] != '\0';
	char *text = NULL;
	int n = ours ? asprintf(&text, "%s (%s)", transport_generic(rc), why)
		     : asprintf(&text, "%s %s: %s", method, path,
				transport_generic(rc));
	return n < 0 ? NULL : text;
}

/* GET /auth/time (unauthenticated) and store the delta. Called with
 * time_mu held, so concurrent callers wait for one fetch. On failure
 * *err is a malloc'd reason naming that call (NULL when out of memory). */
static int fetch_time(struct ovh *o, char **err)
{
	*err = NULL;
	char *url = NULL;
	if (asprintf(&url, "%s/auth/time", o->base) < 0)
		return -ENOMEM;
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = "GET", .url = url,
		.ca_file = o->ca_file, .timeout_ms = o->timeout_ms};
	struct dnsfollow_http_response resp = {0};
	sleep_ms(ovh_bucket_take(&o->bucket, o->h->now_ms()));
	int rc = o->h->http(o->h, &req, &resp), cred;
	if (rc != 0) {
		*err = transport_err(o, rc, "GET", url, "/auth/time");
	} else if (resp.status != 200) {
		char *text = NULL;
		rc = ovh_answer_text(resp.status, resp.body, resp.headers, &text,
				     &cred);
		if (rc == -ETIME)
			rc = -EPROTO;
		if (!text || asprintf(err, "GET /auth/time: %s", text) < 0)
			*err = NULL;
		free(text);
	} else {
		char *end = NULL;
		long long t = strtoll(resp.body, &end, 10);
		while (end && (*end == ' ' || *end == '\n' || *end == '\r'))
			end++;
		if (!end || end == resp.body || *end || t <= 0) {
			*err = strdup("GET /auth/time: not a time");
			rc = -EPROTO;
		} else {
			o->delta = (int64_t)t - o->h->wall_time();
			o->time_gen++;
			o->h->log(o->h, DNSFOLLOW_LOG_DEBUG,
				  "server clock delta %lld s", (long long)o->delta);
		}
	}
	o->h->http_free(o->h, &resp);
	free(url);
	return rc;
}

int ovh_time_sync(struct ovh *o, unsigned seen_gen)
{
	char *err = NULL;
	pthread_mutex_lock(&o->time_mu);
	int rc = o->time_gen == seen_gen ? fetch_time(o, &err) : 0;
	pthread_mutex_unlock(&o->time_mu);
	free(err);
	return rc;
}

/* Timestamp to sign with, and the generation of the delta it used. */
static int timestamp(struct ovh *o, int64_t *ts, unsigned *gen, char **err)
{
	*err = NULL;
	pthread_mutex_lock(&o->time_mu);
	int rc = o->time_gen == 0 ? fetch_time(o, err) : 0;
	*ts = o->h->wall_time() + o->delta;
	*gen = o->time_gen;
	pthread_mutex_unlock(&o->time_mu);
	return rc;
}

/* The server's clock now, for HTTP dates it sends. */
static int64_t server_clock(struct ovh *o)
{
	pthread_mutex_lock(&o->time_mu);
	int64_t d = o->delta;
	pthread_mutex_unlock(&o->time_mu);
	return o->h->wall_time() + d;
}

void ovh_req_set_err(struct ovh_req *r, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	free(r->err);
	if (!text || asprintf(&r->err, "%s %s: %s", r->method, r->path,
			      text) < 0)
		r->err = NULL; /* ovh_report() says "out of memory" */
	free(text);
}

static void take_answer(struct ovh *o, struct ovh_req *r,
			const struct dnsfollow_http_response *resp,
			unsigned *retry_after)
{
	r->status = resp->status;
	if (resp->status >= 200 && resp->status < 300) {
		r->rc = 0;
		if (resp->body_len == 0)
			return;
		r->json = json_loadb(resp->body, resp->body_len,
				     JSON_DECODE_ANY, NULL);
		if (!r->json) {
			r->rc = -EPROTO;
			ovh_req_set_err(r, "answer is not JSON");
		} else if (json_is_null(r->json)) {
			json_decref(r->json);
			r->json = NULL;
		}
		return;
	}
	char *text = NULL;
	r->rc = ovh_answer_text(resp->status, resp->body, resp->headers, &text,
				&r->cred_refused);
	ovh_req_set_err(r, "%s", text ? text : "out of memory");
	free(text);
	if (resp->status == 429 || resp->status == 503) {
		char *ra = header_dup(resp->headers, "Retry-After");
		*retry_after = ovh_retry_after_ms(ra ? ra : "", server_clock(o));
		free(ra);
	}
}

/* One attempt. */
static void attempt(struct ovh *o, struct ovh_req *r, const char *url,
		    unsigned *gen, unsigned *retry_after)
{
	char ts_h[48], sig_h[64], sig[OVH_SIG_LEN], *err;
	int64_t ts;
	r->rc = timestamp(o, &ts, gen, &err);
	if (r->rc != 0) {
		ovh_req_set_err(r, "%s", err ? err : "out of memory");
		free(err);
		return;
	}
	r->rc = ovh_sign(o->cr.application_secret, o->cr.consumer_key,
			 r->method, url, r->body, ts, sig);
	if (r->rc != 0) {
		ovh_req_set_err(r, "cannot compute the signature");
		return;
	}
	char *app_h = NULL, *ck_h = NULL;
	if (asprintf(&app_h, "X-Ovh-Application: %s", o->cr.application_key) < 0)
		app_h = NULL;
	if (asprintf(&ck_h, "X-Ovh-Consumer: %s", o->cr.consumer_key) < 0)
		ck_h = NULL;
	if (!app_h || !ck_h) {
		free(app_h);
		free(ck_h);
		r->rc = -ENOMEM;
		ovh_req_set_err(r, "out of memory");
		return;
	}
	snprintf(ts_h, sizeof ts_h, "X-Ovh-Timestamp: %" PRId64, ts);
	snprintf(sig_h, sizeof sig_h, "X-Ovh-Signature: %s", sig);
	const char *hdrs[] = {app_h, ck_h, ts_h, sig_h, "Accept: application/json",
			      r->body ? "Content-Type: application/json" : NULL,
			      NULL};
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = r->method, .url = url,
		.headers = hdrs, .body = r->body,
		.body_len = r->body ? strlen(r->body) : 0,
		.ca_file = o->ca_file, .timeout_ms = o->timeout_ms};
	struct dnsfollow_http_response resp = {0};
	sleep_ms(ovh_bucket_take(&o->bucket, o->h->now_ms()));
	uint64_t t0 = o->h->now_ms();
	int rc = o->h->http(o->h, &req, &resp);
	free(app_h);
	free(ck_h);
	/* No answer, or a server error: the request may still have been
	 * carried out (a write staged), so apply() must refresh anyway. */
	if (rc == -ETIMEDOUT || rc == -EAGAIN || rc == -ECONNRESET)
		r->maybe_applied = OVH_MAYBE_LATER;
	else if (rc == 0 && resp.status >= 500 &&
		 r->maybe_applied != OVH_MAYBE_LATER)
		r->maybe_applied = OVH_MAYBE_DONE;
	if (rc != 0) {
		r->rc = rc;
		free(r->err);
		r->err = transport_err(o, rc, r->method, url, r->path);
		return;
	}
	o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "%s %s -> %ld (%" PRIu64 " ms)",
		  r->method, r->path, resp.status, o->h->now_ms() - t0);
	take_answer(o, r, &resp, retry_after);
	o->h->http_free(o->h, &resp);
}

static unsigned backoff_ms(struct ovh *o, int n)
{
	unsigned b = BACKOFF_BASE_MS << (n - 1);
	/* Jitter from the clock: rand() is not thread-safe. */
	unsigned j = (unsigned)(o->h->now_ms() * 2654435761u);
	return b + j % (b / 2 + 1);
}

static int retryable(const struct ovh_req *r, int n)
{
	if (n >= MAX_ATTEMPTS || !dnsfollow_err_is_temporary(r->rc))
		return 0;
	return r->idempotent || r->status == 429;
}

void ovh_call(struct ovh *o, struct ovh_req *r)
{
	size_t n = strlen(o->base) + strlen(r->path) + 1;
	char *url = malloc(n);
	r->done = 1;
	json_decref(r->json);
	r->json = NULL;
	if (!url) {
		r->rc = -ENOMEM;
		ovh_req_set_err(r, "out of memory");
		return;
	}
	snprintf(url, n, "%s%s", o->base, r->path);
	int resynced = 0;
	unsigned ra = 0, gen = 0;
	for (int k = 1;; k++) {
		ra = 0;
		r->status = 0;
		r->cred_refused = 0;
		attempt(o, r, url, &gen, &ra);
		if (r->rc == -ETIME && !resynced) {
			/* Our clock delta is stale: fetch it again once (one
			 * thread does; the others use its answer). */
			resynced = 1;
			k--;
			if (ovh_time_sync(o, gen) == 0)
				continue;
		}
		if (r->rc == -ETIME)
			r->rc = -EACCES;
		if (r->rc == 0 || !retryable(r, k))
			break;
		unsigned wait = ra ? ra : backoff_ms(o, k);
		if (wait > MAX_INLINE_WAIT_MS)
			break;
		sleep_ms(wait);
	}
	if (r->rc != 0 && ra)
		o->h->retry_after(o->h, ra);
	free(url);
}
