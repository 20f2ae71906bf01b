/*
 * dnsfollow test host: a host table for a plugin's unit tests, without
 * the daemon (collectd's plugin_mock idea). Installed as
 * <dnsfollow/testhost.h>; link with libdnsfollow-testhost.a:
 *
 *   cc -o test_mine test_mine.c mine.c $(pkg-config --cflags --libs dnsfollow-testhost)
 *
 * The table is the daemon's own (same helpers: TXT codec, type names,
 * HTTP on libcurl, read_file, masking of secrets), with what a test needs
 * on top: every log line and the last error are captured, stopping() and
 * dry_run() are set by the test, and HTTP can be answered by the test
 * itself. Typed configuration keys are checked and filled in the way the
 * daemon does it, so create() sees what it would see in production.
 * Nothing here needs the dnsfollow sources.
 */
#ifndef DNSFOLLOW_TESTHOST_H
#define DNSFOLLOW_TESTHOST_H

#include <dnsfollow/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A fresh host table for instance `instance`; NULL when out of memory.
 *  Release it with dnsfollow_testhost_free() after the plugin's
 *  destroy(). */
const struct dnsfollow_host *dnsfollow_testhost_new(const char *instance);
void dnsfollow_testhost_free(const struct dnsfollow_host *h);

/** Every line logged through h so far, each as "LEVEL: text\n" (LEVEL is
 *  error, warn, info or debug), secrets masked. Valid until the next call
 *  on h. */
const char *dnsfollow_testhost_log(const struct dnsfollow_host *h);
/** The text of the last h->error() (or http() failure), "" when none,
 *  and its code (0 when none). */
const char *dnsfollow_testhost_error(const struct dnsfollow_host *h);
int dnsfollow_testhost_error_rc(const struct dnsfollow_host *h);
/** The largest h->retry_after() since the last clear, in ms. */
unsigned dnsfollow_testhost_retry_after(const struct dnsfollow_host *h);
/** Forget the log, the error and the retry delay (between test steps). */
void dnsfollow_testhost_clear(const struct dnsfollow_host *h);

/** What h->stopping() and h->dry_run() answer from now on (default 0). */
void dnsfollow_testhost_set_stopping(const struct dnsfollow_host *h, int on);
void dnsfollow_testhost_set_dry_run(const struct dnsfollow_host *h, int on);

/**
 * Answer h->http() in the test: `fn` gets every request instead of the
 * network and fills `resp` (use dnsfollow_testhost_respond()), or returns
 * a negative code as http() would (set the text with h->error()). NULL
 * restores real HTTP.
 */
typedef int (*dnsfollow_testhost_http_fn)(void *ctx,
					  const struct dnsfollow_http_request *req,
					  struct dnsfollow_http_response *resp);
void dnsfollow_testhost_set_http(const struct dnsfollow_host *h,
				 dnsfollow_testhost_http_fn fn, void *ctx);
/** Fill `resp` with copies of `headers` ("Name: value\r\n" lines, or
 *  NULL) and `body` (or NULL), as h->http_free() releases them. Returns
 *  0, or -ENOMEM. */
int dnsfollow_testhost_respond(struct dnsfollow_http_response *resp, long status,
			       const char *headers, const char *body);

/**
 * The kv array create() (or a changeset's options) would get for the
 * "key=value" strings of `items` (NULL-ended) under the key table
 * `keys`: unknown keys, bad values and missing REQUIRED keys are refused
 * with one line in err, typed values get `num`, defaults are added, as
 * the daemon does. (KEY_file and making PATH values absolute are left
 * out: pass the final value.) Returns 0, or -EINVAL with err set. Free
 * with dnsfollow_testhost_kv_free().
 */
int dnsfollow_testhost_kv(const struct dnsfollow_key *keys,
			  const char *const *items, struct dnsfollow_kv **kv,
			  size_t *n, char *err, size_t errlen);
void dnsfollow_testhost_kv_free(struct dnsfollow_kv *kv, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_TESTHOST_H */
