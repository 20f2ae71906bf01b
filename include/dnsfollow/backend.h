/*
 * Backend ops: "where does this service run" and "tell me when that may
 * have changed".
 *
 * Threads: the core calls every backend op from its main thread, never
 * two at a time. A backend may run threads of its own (an event stream,
 * say); the watch fd is how they tell the core, and any host function
 * may be called from them.
 */
#ifndef DNSFOLLOW_BACKEND_H
#define DNSFOLLOW_BACKEND_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the core asks a backend about. Borrowed for the call. */
struct dnsfollow_query {
	size_t struct_size;      /**< sizeof(struct dnsfollow_query) */
	const char *service;     /**< the record's `service =` value */
	const struct dnsfollow_kv *options; /**< the record's keys listed in
					    the plugin's record_keys */
	size_t noptions;
};

/** One place a service runs. Borrowed for the emit call. */
struct dnsfollow_placement {
	size_t struct_size;   /**< sizeof(struct dnsfollow_placement) */
	const char *node_id;  /**< stable id of the node, or NULL */
	const char *node_name; /**< host name of the node, or NULL */
	const char *state;    /**< e.g. "running"; informational */
	size_t naddrs;
	const char *const *addrs; /**< IPv4 / IPv6 addresses, text form */
	/** ABI 2: the node's DNS name, for `type = CNAME` records (from a
	 *  node label, a name map, or the static file's `hostname =`), or
	 *  NULL when the backend knows none. */
	const char *dns_name;
};

/** Receives placements during resolve(); the core copies them. Returns
 *  0, or a negative code (an address that is no IP address): resolve()
 *  should then stop and return that code. */
typedef int (*dnsfollow_placement_cb)(void *ctx,
				      const struct dnsfollow_placement *p);

/**
 * Backend ops. resolve is mandatory; watch_fd and watch_ack are optional
 * (NULL means the core only polls at its resync interval).
 */
struct dnsfollow_backend_ops {
	size_t struct_size; /**< sizeof(struct dnsfollow_backend_ops) */

	/**
	 * Report every place `q->service` runs now, one emit() call each.
	 * Reporting none means "known to run nowhere" (the record's on_empty
	 * rule applies). Return an error whenever the answer is not known
	 * for sure: the core then keeps the record as it is.
	 */
	int (*resolve)(void *self, const struct dnsfollow_query *q,
		       dnsfollow_placement_cb emit, void *ctx);

	/**
	 * A file descriptor that becomes readable when placements may have
	 * changed, or -1 if the instance has none. Called once after
	 * create(); the fd belongs to the plugin and stays open until
	 * destroy().
	 */
	int (*watch_fd)(void *self);

	/**
	 * Called after the fd polled readable: drain it. Return 1 when
	 * placements may have changed, 0 when the wake-up concerned nothing
	 * this instance serves (the core then does not resync).
	 */
	int (*watch_ack)(void *self);

	/**
	 * Optional: check the options of one record before any pass (so
	 * `--check-config` and start-up refuse a bad value such as
	 * `target = everything` with exit 78 instead of failing at run
	 * time). Return 0, or a negative code after host->error() with one
	 * line naming the key and the accepted values. No I/O.
	 */
	int (*check_query)(void *self, const struct dnsfollow_query *q);

	/**
	 * Optional: the queries the configuration asks this instance, all
	 * of them, before the first pass and again after each reload (the
	 * array and what it points to are borrowed for the call). A backend
	 * that watches events watches these instead of guessing from
	 * earlier resolve() calls. Return 0 or a negative code (logged).
	 */
	int (*watch_set)(void *self, const struct dnsfollow_query *const *qs,
			 size_t n);
};

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_BACKEND_H */
