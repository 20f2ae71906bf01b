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
 * One record the orchestrator asks for (ABI 2, `discover`): a name, and
 * the record keys that go with it, as text, exactly as a `[record NAME]`
 * section would give them. Borrowed for the emit call.
 *
 * Keys the core understands: `type`, `ttl`, `provider`, `on_empty`,
 * `zone`, and this backend's own record_keys (Swarm: `target`). The core
 * types and checks them like INI values; `adopt` and any `KEY_file` are
 * refused (a label must not take over foreign records or read files).
 * `backend` is the instance itself and `service` is the member below.
 */
struct dnsfollow_discovered {
	size_t struct_size;       /**< sizeof(struct dnsfollow_discovered) */
	const char *source;       /**< stable id of what asks (Swarm: the
				       service id); never NULL */
	const char *source_name;  /**< its name for messages (the service
				       name), or NULL */
	const char *name;         /**< one FQDN it asks for */
	const char *service;      /**< what resolve() is asked for it */
	const struct dnsfollow_kv *keys; /**< record keys as text (kv.num
					      unused) */
	size_t nkeys;
};

/** Receives discovered records (the type of discover's `emit`): 0, or a
 *  negative code, after which discover() should stop and return it. */
typedef int (*dnsfollow_discover_cb)(void *ctx,
				     const struct dnsfollow_discovered *d);

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

	/* ---- appended in ABI 2 (test with DNSFOLLOW_HAS) ---------------- */

	/**
	 * Optional: report every record the orchestrator asks for (Swarm:
	 * the labels of every service), one emit() call per name. Called at
	 * the start of each full pass, when the instance is configured with
	 * `discover = yes`. Return 0 only when the list is complete: an
	 * error keeps the previous list in force, and no name is deleted as
	 * an orphan in that pass. Wake-ups (watch_fd) should also cover
	 * changes of what discover() would report.
	 */
	int (*discover)(void *self, dnsfollow_discover_cb emit, void *ctx);

	/**
	 * Optional: a pass is about to call resolve() for each of `qs` (the
	 * array is borrowed for the call). A backend may fetch everything it
	 * needs for all of them at once here and answer resolve() from that
	 * snapshot, so a pass costs the same number of calls whatever the
	 * number of services. After the pass's last resolve() the core
	 * calls prepare(self, NULL, 0): drop the snapshot; a resolve()
	 * outside prepare() must still work on its own. A negative return
	 * fails every question of this pass to the instance with that code
	 * (resolve() is then not called).
	 */
	int (*prepare)(void *self, const struct dnsfollow_query *const *qs,
		       size_t n);
};

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_BACKEND_H */
