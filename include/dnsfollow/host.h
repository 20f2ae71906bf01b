/*
 * The host table: what the core offers every plugin instance. It is handed
 * to create() and stays valid until destroy(). All functions here are
 * thread-safe: a plugin may call them from threads of its own.
 */
#ifndef DNSFOLLOW_HOST_H
#define DNSFOLLOW_HOST_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels, most severe first; the configured level filters them. */
enum dnsfollow_log_level {
	DNSFOLLOW_LOG_ERROR = 0,
	DNSFOLLOW_LOG_WARN = 1,
	DNSFOLLOW_LOG_INFO = 2,
	DNSFOLLOW_LOG_DEBUG = 3,
};

/** An HTTP request for host->http(). Everything is borrowed for the call.
 *  A request built against older headers (a smaller struct_size) is
 *  accepted: missing members count as zero. */
struct dnsfollow_http_request {
	size_t struct_size;      /**< sizeof(struct dnsfollow_http_request) */
	const char *method;      /**< "GET", "POST", "PUT", "DELETE", ... */
	const char *url;         /**< http:// or https:// only */
	const char *unix_socket; /**< talk HTTP over this unix socket, or NULL */
	const char *const *headers; /**< "Name: value" strings, NULL-ended */
	const void *body;        /**< request body or NULL */
	size_t body_len;
	const char *ca_file;     /**< extra trusted CA bundle, or NULL. TLS
				      verification cannot be switched off. */
	const char *client_cert; /**< PEM client certificate (mutual TLS) */
	const char *client_key;  /**< PEM key of client_cert */
	long timeout_ms;         /**< whole request; 0 means 10000. For a
				      stream (on_data set) 0 means no limit. */
	long connect_timeout_ms; /**< 0 means 5000 */
	size_t max_body;         /**< larger answers fail with -EMSGSIZE; 0
				      means 8 MiB. Ignored when streaming. */
	/**
	 * Streaming: when set, the body is handed over as it arrives instead
	 * of being collected; return non-zero to stop the transfer. Chunks
	 * are not aligned with lines or messages.
	 */
	int (*on_data)(void *ctx, const char *data, size_t len);
	/** Polled about once a second while waiting; non-zero aborts. */
	int (*cancelled)(void *ctx);
	void *ctx; /**< passed to on_data and cancelled */
};

/**
 * The answer of host->http(); release with host->http_free(). The plugin
 * owns it: set struct_size to sizeof(struct dnsfollow_http_response)
 * before the call (0 is taken as the ABI 2 size); the host fills no more
 * than that, so a response grown in a later ABI never overruns an older
 * plugin's, and sets struct_size to what it filled.
 */
struct dnsfollow_http_response {
	size_t struct_size; /**< see above */
	long status;        /**< HTTP status code */
	char *body;         /**< NUL-terminated (body_len excludes the NUL) */
	size_t body_len;
	char *headers;      /**< raw response headers of the last response */
};

/**
 * The host table. `instance` is the INSTANCE of the plugin's section; the
 * host prefixes every log line with it. Every member below is present in
 * any dnsfollow that loads an ABI 2 plugin; a member appended by a later
 * release is tested with DNSFOLLOW_HOST_HAS(h, member) before use.
 */
struct dnsfollow_host {
	size_t struct_size;
	const char *instance;

	/** Log one line (no trailing newline needed). Values of SECRET keys
	 *  are replaced by "***" even if a plugin passes them by mistake. */
	void (*log)(const struct dnsfollow_host *h, int level, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

	/**
	 * Set the text explaining the error the current op is about to
	 * return, and return `rc` so a plugin can write
	 * `return h->error(h, -EACCES, "bad key %s", name);`.
	 * The text should be one line; the core adds the instance and zone.
	 */
	int (*error)(const struct dnsfollow_host *h, int rc, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

	/** The peer asked to wait this long before trying again (Retry-After,
	 *  rate limiting). Applies to the op that is failing now. */
	void (*retry_after)(const struct dnsfollow_host *h, unsigned ms);

	/**
	 * One HTTP request with libcurl: TLS verification always on,
	 * keep-alive connections shared between calls, bounded time and size.
	 * Returns 0 when an HTTP answer arrived (whatever its status; look at
	 * resp->status) and fills `resp`, except for a redirect (3xx but
	 * 304), which is not followed and fails with -EPROTO. On failure
	 * returns -ETIMEDOUT, -ECONNREFUSED (nothing listens, no such unix
	 * socket), -EACCES (unix socket without permission), -EAGAIN (other
	 * network errors), -EMSGSIZE, -EPROTO (TLS failure, a certificate
	 * that does not match or is not trusted, a peer that does not speak
	 * HTTP, a redirect) or -EINVAL, and sets an error text that names
	 * the cause, replacing any text set before in this op: keep it (do
	 * not call error() again) unless you have better words; `resp` then
	 * needs no release.
	 */
	int (*http)(const struct dnsfollow_host *h,
		    const struct dnsfollow_http_request *req,
		    struct dnsfollow_http_response *resp);

	/** Release what http() filled in. Safe on a zeroed response. */
	void (*http_free)(const struct dnsfollow_host *h,
			  struct dnsfollow_http_response *resp);

	/** Monotonic milliseconds, for deadlines. */
	uint64_t (*now_ms)(void);

	/** Wall-clock seconds since the epoch (the core's time source, so
	 *  tests can shift it). */
	int64_t (*wall_time)(void);

	/**
	 * Register a secret the plugin obtained by itself (from a
	 * credentials file, the environment, a key file) so that no log line
	 * or error text ever shows it; values of SECRET config keys are
	 * registered by the core already. The value is copied; registering
	 * it twice is harmless. Returns 0, or -EINVAL for a non-empty value
	 * shorter than 4 characters, which cannot be masked without masking
	 * ordinary words: refuse such a secret. Check `struct_size` before
	 * calling (it follows `wall_time`).
	 */
	int (*secret)(const struct dnsfollow_host *h, const char *value);

	/**
	 * Read a whole file the plugin was told about (a placements file, a
	 * key file, credentials, a state file). Only regular files are read:
	 * a directory, FIFO, socket or device is refused at once with one
	 * clear error (a FIFO would otherwise block for ever). A file larger
	 * than `max` bytes is refused (-EFBIG). With DNSFOLLOW_READ_TEXT a
	 * NUL byte is refused (-EINVAL, naming its line); with
	 * DNSFOLLOW_READ_SECRET a file readable by group or others is read
	 * but warned about, once per path. On success `*data` is a
	 * NUL-terminated copy (release it with free()) and `*len` its length.
	 * On failure returns a negative code and sets the error text, which
	 * names the path. Check with DNSFOLLOW_HOST_HAS(h, read_file) first.
	 */
	int (*read_file)(const struct dnsfollow_host *h, const char *path,
			 size_t max, unsigned flags, char **data, size_t *len);

	/**
	 * Non-zero once the daemon is stopping (SIGTERM): a plugin waiting
	 * on the network should give up at its next chance and start no new
	 * write. Any thread may call it. (host->http() aborts by itself.)
	 */
	int (*stopping)(const struct dnsfollow_host *h);

	/**
	 * Copy the error text set so far in the current op (by error(), or
	 * by http() naming a transport failure precisely) into buf; returns
	 * buf ("" when none). Lets a plugin add context without losing the
	 * host's words.
	 */
	const char *(*error_text)(const struct dnsfollow_host *h, char *buf,
				  size_t cap);

	/**
	 * Non-zero in a dry run: the core calls no write op then, and a
	 * plugin must not write on its own either (e.g. publishing changes
	 * a zone may owe from an earlier run).
	 */
	int (*dry_run)(const struct dnsfollow_host *h);

	/* ---- ABI 2: what every provider would otherwise write again ---- */

	/**
	 * TXT data (raw text, as providers exchange it with the core) to its
	 * zone-file presentation: one or more double-quoted strings of at
	 * most 255 bytes each, separated by a space, with '"' and '\\'
	 * escaped and bytes outside printable ASCII as \DDD. Returns a
	 * malloc'd string (free()), NULL when out of memory.
	 */
	char *(*txt_encode)(const char *text);

	/**
	 * The reverse: presentation form (quoted strings, or one unquoted
	 * word; escapes \X and \DDD) to raw text, the strings concatenated.
	 * Returns a malloc'd string, or NULL when malformed (an open quote,
	 * a bad escape, a string over 255 bytes).
	 */
	char *(*txt_decode)(const char *presentation);

	/** "A", "AAAA", "TXT", ... or "TYPE<n>" (RFC 3597) for others. The
	 *  text is static or thread-local: copy it before the next call. */
	const char *(*type_name)(uint16_t type);
	/** The code of a type name (case-insensitive, "TYPE<n>" too), or 0. */
	uint16_t (*type_code)(const char *name);

	/**
	 * A DNS name as the core passes them: lower-case, without the
	 * trailing dot (the root is ""). Writes it to out[cap]; returns 0, or
	 * -EINVAL for an invalid name (empty label, label over 63, name over
	 * 253) or -ENAMETOOLONG when cap is too small.
	 */
	int (*name_normalise)(const char *in, char *out, size_t cap);

	/**
	 * The error of a non-2xx HTTP answer, the same way for every REST
	 * provider: 429, 5xx and 408 are temporary (-EAGAIN; Retry-After is
	 * passed to retry_after()), 401 and 403 -EACCES, 404 -ENOENT, 409
	 * -EEXIST, other statuses -EINVAL. Sets the error text to
	 * "WHAT: HTTP STATUS: MESSAGE", MESSAGE taken from a JSON body's
	 * "message", "error" or "errors[0].message" when there is one.
	 * Returns 0 for a 2xx answer, else the code.
	 */
	int (*http_error)(const struct dnsfollow_host *h,
			  const struct dnsfollow_http_response *resp,
			  const char *what);

	/** Copy the value of response header `name` (case-insensitive; the
	 *  last one when repeated) to buf[cap]. Returns 0, -ENOENT when absent,
	 *  or -ENOSPC when it does not fit (buf is then ""). */
	int (*http_header)(const struct dnsfollow_http_response *resp,
			   const char *name, char *buf, size_t cap);

	/** A Retry-After value (seconds, or an HTTP date) in milliseconds
	 *  from now; 0 when it is malformed or in the past. */
	unsigned (*parse_retry_after)(const char *value);

	/** Percent-encode everything but RFC 3986 unreserved characters,
	 *  for a path segment or a query value. malloc'd; NULL on OOM. */
	char *(*url_escape)(const char *s);
};

/* Flags of read_file(). */
#define DNSFOLLOW_READ_TEXT 0x1u   /**< refuse NUL bytes */
#define DNSFOLLOW_READ_SECRET 0x2u /**< warn when group/world-readable */

/** DNSFOLLOW_HAS for the host table. */
#define DNSFOLLOW_HOST_HAS(h, member) DNSFOLLOW_HAS(h, struct dnsfollow_host, member)

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_HOST_H */
