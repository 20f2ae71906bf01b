/* The host's HTTP helper on libcurl (see dnsfollow/host.h for the contract). */
#ifndef DF_HTTP_H
#define DF_HTTP_H

#include <stddef.h>

#include <dnsfollow/host.h>

/** Once per process, before threads start. Returns 0 or -1. */
int df_http_global_init(void);
void df_http_global_cleanup(void);

/** Perform `req`. Error text (one line) goes to err[errlen] on failure. */
int df_http(const struct dnsfollow_http_request *req,
	    struct dnsfollow_http_response *resp, char *err, size_t errlen);
void df_http_free(struct dnsfollow_http_response *resp);

#endif
