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
#include <strings.h>
#include <sys/stat.h>

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

static const char *method_of(const struct dnsfollow_http_request *req)
{
	return req->method ? req->method : "GET";
}

/* curl says "Failed to connect to localhost port 80" whatever went wrong
 * with a unix socket; the errno of connect() (or the file) tells. */
static int explain_unix(const char *path, long os_errno, char *why,
			size_t whylen)
{
	struct stat st;
	if (os_errno == EACCES || os_errno == EPERM) {
		snprintf(why, whylen, "unix socket %s: permission denied (is this "
			 "user in the docker group?)", path);
		return -EACCES;
	}
	if (os_errno == ENOENT || (stat(path, &st) != 0 && errno == ENOENT)) {
		/* Retried: the socket comes back when its daemon restarts. */
		snprintf(why, whylen, "unix socket %s: no such socket", path);
		return -ECONNREFUSED;
	}
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen, "unix socket %s: not a socket", path);
		return -EINVAL;
	}
	snprintf(why, whylen, "unix socket %s: nothing listens on it (%s)", path,
		 os_errno ? strerror((int)os_errno) : "connection refused");
	return -ECONNREFUSED;
}

/* The host name of `url`, for TLS messages; "" when it cannot be parsed. */
static void url_host(const char *url, char *host, size_t len)
{
	CURLU *u = curl_url();
	char *h = NULL;
	host[0] = '\0';
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		snprintf(host, len, "%s", h);
	curl_free(h);
	curl_url_cleanup(u);
}

/* Certificate checks name their cause: curl's text alone ("SSL: no
 * alternative certificate subject name matches ...") was taken for a
 * generic TLS failure. */
static int explain_tls(const struct dnsfollow_http_request *req, CURLcode cc,
		       const char *detail, char *why, size_t whylen)
{
	char host[256];
	url_host(req->url, host, sizeof host);
	if (cc == CURLE_SSL_CACERT_BADFILE)
		snprintf(why, whylen, "cannot use the CA file %s: %s",
			 req->ca_file ? req->ca_file : "(system default)", detail);
	else if (cc == CURLE_SSL_CERTPROBLEM)
		snprintf(why, whylen, "cannot use the client certificate %s: %s",
			 req->client_cert ? req->client_cert : "(none)", detail);
	else if (strstr(detail, "host name") || strstr(detail, "hostname") ||
		 strstr(detail, "common name"))
		snprintf(why, whylen, "the server's TLS certificate does not match "
			 "the host name %s (%s)", host, detail);
	else if (cc == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(why, whylen, "the server's TLS certificate is not trusted "
			 "(%s); is the right CA file given?", detail);
	else if (strstr(detail, "wrong version number"))
		snprintf(why, whylen, "%s does not speak TLS (%s); should the "
			 "URL start with http://?", host, detail);
	else
		snprintf(why, whylen, "TLS handshake with %s failed: %s", host,
			 detail);
	return -EPROTO;
}

/* One line saying what went wrong, in err; returns the error code. */
static int explain_failure(CURL *c, CURLcode cc,
			   const struct dnsfollow_http_request *req,
			   const char *cerr, char *err, size_t errlen)
{
	const char *detail = cerr[0] ? cerr : curl_easy_strerror(cc);
	char why[768];
	long os_errno = 0;
	int rc;
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	if (req->unix_socket && cc == CURLE_COULDNT_CONNECT) {
		rc = explain_unix(req->unix_socket, os_errno, why, sizeof why);
	} else if (cc == CURLE_UNSUPPORTED_PROTOCOL ||
		   cc == CURLE_WEIRD_SERVER_REPLY) {
		/* The scheme was checked before: curl got an answer that is
		 * not HTTP ("Received HTTP/0.9 when not allowed"). */
		if (req->unix_socket)
			snprintf(why, sizeof why, "unix socket %s: the peer does "
				 "not speak HTTP (%s)", req->unix_socket, detail);
		else
			snprintf(why, sizeof why, "the peer does not speak HTTP "
				 "(%s)", detail);
		rc = -EPROTO;
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
		   cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM ||
		   cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_ISSUER_ERROR) {
		rc = explain_tls(req, cc, detail, why, sizeof why);
	} else {
		rc = map_curl_error(cc);
		snprintf(why, sizeof why, "%s", detail);
	}
	snprintf(err, errlen, "%s %s: %s", method_of(req), req->url, why);
	return rc;
}

/* Redirects are not followed (a plugin's credentials must not travel to
 * another host), so a 3xx is an error that names where it points. */
static int check_redirect(CURL *c, const struct dnsfollow_http_request *req,
			  long status, char *err, size_t errlen)
{
	if (status < 300 || status > 399 || status == 304)
		return 0;
	char *loc = NULL;
	curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
	if (loc)
		snprintf(err, errlen, "%s %s: HTTP %ld redirect to %s is not "
			 "followed; use the final URL", method_of(req), req->url,
			 status, loc);
	else
		snprintf(err, errlen, "%s %s: HTTP %ld redirect without a "
			 "Location header", method_of(req), req->url, status);
	return -EPROTO;
}

/* Only http and https: checked here so that curl's "unsupported
 * protocol" means a peer that is not HTTP. */
static int scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	       strncasecmp(url, "https://", 8) == 0;
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

/* Run the transfer; on failure fill err and return the error code. */
static int perform(CURL *c, const struct dnsfollow_http_request *req,
		   struct xfer *x, char *err, size_t errlen)
{
	struct curl_slist *hl = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	int rc = setup(c, req, x, &hl);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory building HTTP request");
	} else {
		CURLcode cc = curl_easy_perform(c);
		if (cc == CURLE_OK) {
			long status = 0;
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			rc = check_redirect(c, req, status, err, errlen);
		} else if (x->body.overflow) {
			rc = -EMSGSIZE;
			snprintf(err, errlen, "%s %s: answer larger than %zu bytes",
				 method_of(req), req->url, x->body.max);
		} else if (x->stopped) {
			rc = -ECANCELED;
			snprintf(err, errlen, "%s %s: stopped", method_of(req),
				 req->url);
		} else {
			rc = explain_failure(c, cc, req, cerr, err, errlen);
		}
	}
	curl_slist_free_all(hl);
	return rc;
}

/* A CA, certificate or key that is a FIFO or device would block inside
 * OpenSSL's open(), where neither timeouts nor SIGTERM reach. */
static int files_ok(const struct dnsfollow_http_request *req, char *err,
		    size_t errlen)
{
	const char *f[] = {req->ca_file, req->client_cert, req->client_key};
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (!f[i] || stat(f[i], &st) != 0 || S_ISREG(st.st_mode))
			continue; /* missing: curl says so */
		snprintf(err, errlen, "%s: is not a regular file (a FIFO, folder or device)",
			 f[i]);
		return -EINVAL;
	}
	return 0;
}

int df_http(const struct dnsfollow_http_request *req,
	    struct dnsfollow_http_response *resp, char *err, size_t errlen)
{
	/* The response belongs to the plugin: fill no more of it than the
	 * size it says it has (0: the ABI 2 size), so a grown response never
	 * overruns an older plugin's smaller one. */
	size_t room = resp->struct_size ? resp->struct_size : DF_HTTP_RESPONSE_ABI2_SIZE;
	if (room > sizeof *resp)
		room = sizeof *resp;
	if (room < DF_HTTP_RESPONSE_ABI2_SIZE) {
		snprintf(err, errlen, "invalid HTTP response (struct_size %zu, at least %zu)",
			 room, (size_t)DF_HTTP_RESPONSE_ABI2_SIZE);
		return -EINVAL;
	}
	memset(resp, 0, room);
	resp->struct_size = room;
	if (df_stopping()) {
		snprintf(err, errlen, "%s: not sent: dnsfollow is stopping",
			 req && req->url ? req->url : "request");
		return -ECANCELED;
	}
	if (!req || req->struct_size < DF_HTTP_REQUEST_MIN_SIZE) {
		snprintf(err, errlen, "invalid HTTP request (struct_size %zu, "
			 "at least %zu)", req ? req->struct_size : 0,
			 (size_t)DF_HTTP_REQUEST_MIN_SIZE);
		return -EINVAL;
	}
	/* An older, smaller request is read only up to its own size; the
	 * rest of ours stays zero (abi.h). */
	struct dnsfollow_http_request local = {0};
	memcpy(&local, req, req->struct_size < sizeof local ? req->struct_size
							    : sizeof local);
	local.struct_size = sizeof local;
	req = &local;
	if (!req->url) {
		snprintf(err, errlen, "invalid HTTP request: no URL");
		return -EINVAL;
	}
	if (!scheme_ok(req->url)) {
		snprintf(err, errlen, "%s: only http:// and https:// URLs are "
			 "supported", req->url);
		return -EINVAL;
	}
	if (files_ok(req, err, errlen) != 0)
		return -EINVAL;
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
	int rc = perform(c, req, &x, err, errlen);
	if (rc == 0) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		if (!x.body.p && buf_add(&x.body, "", 0) != 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory reading an answer");
		}
		resp->body = x.body.p;
		resp->body_len = x.body.len;
		resp->headers = x.hdr.p ? x.hdr.p : strdup("");
		x.body.p = NULL;
		x.hdr.p = NULL;
	}
	free(x.body.p);
	free(x.hdr.p);
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
