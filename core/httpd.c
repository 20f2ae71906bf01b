/*
 * /metrics, /healthz and /readyz over HTTP (libmicrohttpd, its own
 * thread), and the client side of --healthcheck (libcurl), so a scratch
 * image needs no curl for its HEALTHCHECK.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "metrics.h"
#include "util.h"

static struct MHD_Daemon *daemon_;
static uint64_t beat_ms;
static int ready;

void df_health_beat(void)
{
	__atomic_store_n(&beat_ms, df_now_ms(), __ATOMIC_RELAXED);
}

void df_health_ready(int on)
{
	__atomic_store_n(&ready, on, __ATOMIC_RELAXED);
}

int df_listen_parse(const char *text, struct sockaddr_storage *sa, socklen_t *len,
		    char *err, size_t errlen)
{
	char host[64] = "";
	const char *colon = text ? strrchr(text, ':') : NULL;
	char *end = NULL;
	unsigned long port = colon && colon[1] >= '0' && colon[1] <= '9'
		? strtoul(colon + 1, &end, 10) : 0; /* digits only: no sign, no blank */
	if (!colon || !end || *end || colon[1] == '\0' || port == 0 || port > 65535 ||
	    (size_t)(colon - text) >= sizeof host) {
		snprintf(err, errlen, "listen must be ADDR:PORT, [IPV6]:PORT or :PORT (port 1-65535), not '%s'",
			 text ? text : "");
		return -1;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(sa, 0, sizeof *sa);
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((uint16_t)port);
			*len = sizeof *v6;
			return 0;
		}
	} else if (hl == 0 || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		if (hl == 0)
			v4->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof *v4;
		return 0;
	}
	snprintf(err, errlen, "listen: '%s' is not an IP address (write 127.0.0.1:9109, [::1]:9109 or :9109)",
		 host);
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     const char *type, char *body, size_t len)
{
	int not_allowed = status == 405;
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	if (not_allowed)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	(void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
	const char *text = "text/plain; charset=utf-8";
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, 405, text, df_strdup("only GET\n"), 9);
	if (strcmp(url, "/metrics") == 0) {
		size_t len;
		char *m = df_metrics_render(&len);
		return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", m, len);
	}
	if (strcmp(url, "/healthz") == 0) {
		uint64_t beat = __atomic_load_n(&beat_ms, __ATOMIC_RELAXED);
		int alive = beat && df_now_ms() - beat < DF_HEALTH_STALE_MS;
		return alive ? reply(c, 200, text, df_strdup("ok\n"), 3)
			     : reply(c, 503, text, df_strdup("main loop stalled\n"), 18);
	}
	if (strcmp(url, "/readyz") == 0)
		return __atomic_load_n(&ready, __ATOMIC_RELAXED)
			       ? reply(c, 200, text, df_strdup("ready\n"), 6)
			       : reply(c, 503, text, df_strdup("first pass not done\n"), 20);
	return reply(c, 404, text, df_strdup("try /metrics, /healthz or /readyz\n"), 34);
}

int df_httpd_start(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t len;
	if (df_listen_parse(listen, &sa, &len, err, errlen) != 0)
		return -1;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Bounded: a scraper that opens connections and sends nothing must
	 * not starve the others or hold threads. */
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
				   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)3,
				   MHD_OPTION_END);
	if (!daemon_) {
		snprintf(err, errlen, "cannot listen on %s (address in use, or not this host's?)",
			 listen);
		return -1;
	}
	return 0;
}

void df_httpd_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p, (void)u;
	return s * n;
}

int df_healthcheck(const char *listen)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char err[256], host[INET6_ADDRSTRLEN], url[128];
	if (!listen || !*listen) {
		fputs("dnsfollow: --healthcheck needs `listen = ADDR:PORT` in [dnsfollow]\n", stderr);
		return 1;
	}
	if (df_listen_parse(listen, &sa, &len, err, sizeof err) != 0) {
		fprintf(stderr, "dnsfollow: %s\n", err);
		return 1;
	}
	unsigned port;
	if (sa.ss_family == AF_INET6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
		port = ntohs(v6->sin6_port);
		snprintf(url, sizeof url, "http://[%s]:%u/healthz",
			 IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) ? "::1" : host, port);
	} else {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
		port = ntohs(v4->sin_port);
		snprintf(url, sizeof url, "http://%s:%u/healthz",
			 v4->sin_addr.s_addr == htonl(INADDR_ANY) ? "127.0.0.1" : host, port);
	}
	CURL *c = curl_easy_init();
	if (!c)
		return 1;
	long status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (status == 200)
		return 0;
	if (cc != CURLE_OK)
		fprintf(stderr, "dnsfollow: %s: %s\n", url, curl_easy_strerror(cc));
	else
		fprintf(stderr, "dnsfollow: %s answered %ld\n", url, status);
	return 1;
}
