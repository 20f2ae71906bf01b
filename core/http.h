/* The host's HTTP helper on libcurl (see dnsfollow/host.h for the contract). */
#ifndef DF_HTTP_H
#define DF_HTTP_H

#include <stddef.h>

#include <dnsfollow/host.h>

/** Once per process, before threads start. Returns 0 or -1. */
int df_http_global_init(void);
void df_http_global_cleanup(void);

/* The smallest request df_http() takes: the members through max_body.
 * A request with a smaller struct_size (older headers) is copied into a
 * zeroed one, so the members it lacks (on_data, cancelled, ctx, and any
 * appended later) count as zero; only a size below this minimum, which
 * no released header ever had, is refused with -EINVAL. */
#define DF_HTTP_REQUEST_MIN_SIZE                                   \
	(offsetof(struct dnsfollow_http_request, max_body) +        \
	 sizeof(((struct dnsfollow_http_request *)0)->max_body))

/* The response as ABI 2 defines it: what the host fills for a plugin
 * whose response says struct_size 0 (or this size); a response grown
 * later is filled further only for plugins that say they have room. */
#define DF_HTTP_RESPONSE_ABI2_SIZE                                  \
	(offsetof(struct dnsfollow_http_response, headers) +         \
	 sizeof(((struct dnsfollow_http_response *)0)->headers))

/** Perform `req`. Returns 0 when an answer arrived (resp filled, any
 *  status but 3xx), else a negative code with one line in err[errlen]
 *  (resp then needs no release) that names the cause: -EPROTO for a
 *  redirect (never followed: "HTTP 302 redirect to URL is not followed"),
 *  a peer that is not HTTP, a certificate that is not trusted or does
 *  not match the host name; for a unix socket -EACCES (permission
 *  denied), -ECONNREFUSED (no such socket, nobody listens) or -EINVAL
 *  (not a socket); else -ETIMEDOUT, -ECONNREFUSED, -EAGAIN, -EMSGSIZE,
 *  -ECANCELED (cancelled or stopping), -EINVAL (not http/https). The
 *  text may hold what the peer sent: pass it through host_error(). */
int df_http(const struct dnsfollow_http_request *req,
	    struct dnsfollow_http_response *resp, char *err, size_t errlen);
void df_http_free(struct dnsfollow_http_response *resp);

#endif
