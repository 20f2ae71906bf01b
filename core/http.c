/*
 * HTTP for plugins, on libcurl. Policy lives here, once: TLS verification
 * is always on, only http/https, bounded time and size, connections kept
 * alive across calls through a shared connection cache.
 */
#include "http.h"
#include "host.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_CONNECT_MS 5000L
#define DEFAULT_MAX_BODY (8u << 20)
#define MAX_HEADERS (64u << 10)

static CURLSH *share;
static pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)h, (void)a, (void)u;
	pthread_mutex_lock(&share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
	(void)h, (void)u;
	pthread_mutex_unlock(&share_mu[d]);
}

int df_http_global_init(void)
{
	if (share)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_mu[i], NULL);
	share = curl_share_init();
	if (!share)
		return -1;
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return 0;
}

void df_http_global_cleanup(void)
{
	if (!share)
		return;
	curl_share_cleanup(share);
	share = NULL;
	curl_global_cleanup();
}

struct buf {
	char *p;
	size_t len, cap, max;
	int overflow;
};

static int buf_add(struct buf *b, const char *data, size_t n)
{
	if (b->len + n > b->max) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

struct xfer {
	const struct dnsfollow_http_request *req;
	struct buf body, hdr;
	int stopped;
};

static size_t on_body(char *data, size_t sz, size_t nm, void *u)
{
	struct xfer *x = u;
	size_t n = sz * nm;
	if (x->req->on_data) {
		if (x->req->on_data(x->req->ctx, data, n) != 0) {
			x->stopped = 1;
			return 0;
		}
		return n;
	}
	return buf_add(&x->body, data, n) == 0 ? n : 0;
}

static size_t on_header(char *data, size_t sz, size_t nm, void *u)
{
	struct xfer *x = u;
	size_t n = sz * nm;
	/* A new status line starts a new response (redirects are off, but
	 * 100-continue still produces two header blocks). */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		x->hdr.len = 0;
	return buf_add(&x->hdr, data, n) == 0 ? n : 0;
}

static int on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	struct xfer *x = u;
	/* SIGTERM ends every request at once, whoever made it. */
	if (df_stopping() ||
	    (x->req->cancelled && x->req->cancelled(x->req->ctx))) {
		x->stopped = 1;
		return 1;
	}
	return 0;
}

static int map_curl_error(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -EAGAIN;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return -EPROTO;
	case CURLE_FILESIZE_EXCEEDED:
		return -EMSGSIZE;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EAGAIN;
	}
}

static int setup(CURL *c, const struct dnsfollow_http_request *req,
		 struct xfer *x, struct curl_slist **hl)
{
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SHARE, share);
	/* Verification is never switched off: these are curl's defaults, set
	 * explicitly so no future default change can weaken them. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	if (req->client_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, req->client_cert);
	if (req->client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, req->client_key);
	if (req->unix_socket)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);

	long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						      : DEFAULT_CONNECT_MS;
	long timeout_ms = req->timeout_ms;
	if (timeout_ms <= 0)
		timeout_ms = req->on_data ? 0 : DEFAULT_TIMEOUT_MS;
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (req->on_data && timeout_ms == 0) {
		/* A silent stream is fine; a dead peer (a half-open TCP
		 * connection) is caught by keep-alive probes within about
		 * 10 + 3 * 5 s, not the kernel's two hours. */
		curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 10L);
		curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 5L);
	}

	const char *m = req->method ? req->method : "GET";
	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	}
	if (req->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 req->body ? (const char *)req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	}

	*hl = curl_slist_append(NULL, "Expect:");
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *n = curl_slist_append(*hl, *h);
		if (!n)
			return -ENOMEM;
		*hl = n;
	}
	if (!*hl)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	return 0;
}

int df_http(const struct dnsfollow_http_request *req,
	    struct dnsfollow_http_response *resp, char *err, size_t errlen)
{
	memset(resp, 0, sizeof *resp);
	resp->struct_size = sizeof *resp;
	if (!req || !req->url || req->struct_size < sizeof *req) {
		snprintf(err, errlen, "invalid HTTP request");
		return -EINVAL;
	}
	if (!share && df_http_global_init() != 0) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	struct xfer x = {.req = req};
	x.body.max = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	x.hdr.max = MAX_HEADERS;
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	struct curl_slist *hl = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	int rc = setup(c, req, &x, &hl);
	CURLcode cc = CURLE_OK;
	if (rc == 0)
		cc = curl_easy_perform(c);
	if (rc == 0 && cc != CURLE_OK) {
		if (x.body.overflow) {
			rc = -EMSGSIZE;
			snprintf(err, errlen, "%s %s: answer larger than %zu bytes",
				 req->method ? req->method : "GET", req->url,
				 x.body.max);
		} else if (x.stopped) {
			rc = -ECANCELED;
			snprintf(err, errlen, "%s %s: stopped",
				 req->method ? req->method : "GET", req->url);
		} else {
			rc = map_curl_error(cc);
			snprintf(err, errlen, "%s %s: %s",
				 req->method ? req->method : "GET", req->url,
				 cerr[0] ? cerr : curl_easy_strerror(cc));
		}
	} else if (rc != 0) {
		snprintf(err, errlen, "out of memory building HTTP request");
	}
	if (rc == 0) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		if (!x.body.p && buf_add(&x.body, "", 0) != 0)
			rc = -ENOMEM;
		resp->body = x.body.p;
		resp->body_len = x.body.len;
		resp->headers = x.hdr.p ? x.hdr.p : strdup("");
		x.body.p = NULL;
		x.hdr.p = NULL;
	}
	free(x.body.p);
	free(x.hdr.p);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (rc != 0)
		df_http_free(resp);
	return rc;
}

void df_http_free(struct dnsfollow_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->headers);
	resp->body = NULL;
	resp->headers = NULL;
	resp->body_len = 0;
}
