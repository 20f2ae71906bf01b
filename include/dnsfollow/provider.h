/*
 * Provider ops: read and write whole RRsets of one zone.
 *
 * Semantics follow libdns: reading returns whole RRsets for (name, type);
 * "set" replaces the whole RRset for (name, type) and nothing else;
 * deleting an absent RRset is not an error.
 *
 * Names are absolute, lower-case and written without the trailing dot
 * ("git.example.org"); the zone apex is the zone name itself.
 * Record data is in presentation form: "192.0.2.10" (A), "2001:db8::10"
 * (AAAA), the text itself without quotes for TXT (character-strings
 * concatenated; a provider splits text longer than 255 bytes), a name
 * without trailing dot for CNAME/NS.
 *
 * Concurrency: the core never calls two ops of one instance at the same
 * time. Different instances may be called from different threads.
 */
#ifndef DNSFOLLOW_PROVIDER_H
#define DNSFOLLOW_PROVIDER_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DNS type codes the core uses. */
#define DNSFOLLOW_TYPE_A 1
#define DNSFOLLOW_TYPE_NS 2
#define DNSFOLLOW_TYPE_CNAME 5
#define DNSFOLLOW_TYPE_SOA 6
#define DNSFOLLOW_TYPE_TXT 16
#define DNSFOLLOW_TYPE_AAAA 28

/** One RRset. In ops' arguments it is borrowed for the call. */
struct dnsfollow_rrset {
	const char *name;
	uint16_t type;
	uint32_t ttl;
	size_t count;             /**< number of records */
	const char *const *rdata; /**< `count` strings in presentation form */
};

/** A (name, type) the core wants to know about. */
struct dnsfollow_rrkey {
	const char *name;
	uint16_t type;
};

/** What a change does. */
enum dnsfollow_change_op {
	DNSFOLLOW_CHANGE_SET = 1,    /**< replace (name, type) by `rrset` */
	DNSFOLLOW_CHANGE_DELETE = 2, /**< remove (name, type) entirely */
};

/** One change of a changeset. */
struct dnsfollow_change {
	uint32_t op; /**< enum dnsfollow_change_op */
	/** New RRset (SET), or name and type to remove (DELETE; `count` 0). */
	struct dnsfollow_rrset rrset;
	/** What read() reported for (name, type) in this pass, or NULL when
	 *  it was absent. Lets a provider update in place (REST ids) or
	 *  delete record by record. */
	const struct dnsfollow_rrset *old;
};

/**
 * Receives RRsets during read(). The core copies what it needs: the RRset
 * is borrowed for the call. Return 0, or a negative code to stop reading
 * (read() should then return that code).
 */
typedef int (*dnsfollow_rrset_cb)(void *ctx, const struct dnsfollow_rrset *rr);

/* Capability flags. */
#define DNSFOLLOW_CAP_ATOMIC 0x1u  /**< apply() is all-or-nothing */
#define DNSFOLLOW_CAP_A 0x2u       /**< can manage A RRsets */
#define DNSFOLLOW_CAP_AAAA 0x4u    /**< can manage AAAA RRsets */
#define DNSFOLLOW_CAP_TXT 0x8u     /**< can manage TXT RRsets (ownership
				      markers need it) */

/**
 * Provider ops. read and apply are mandatory; the loader refuses a plugin
 * without them.
 */
struct dnsfollow_provider_ops {
	size_t struct_size; /**< sizeof(struct dnsfollow_provider_ops) */
	uint32_t caps;      /**< DNSFOLLOW_CAP_* */

	/**
	 * Report the current RRsets of `zone` for the `nkeys` (name, type)
	 * pairs in `keys`, one emit() call per existing RRset. Absent RRsets
	 * are simply not reported; reporting RRsets that were not asked for
	 * is allowed (the core ignores them). Everything passed in is
	 * borrowed for the call.
	 */
	int (*read)(void *self, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    dnsfollow_rrset_cb emit, void *ctx);

	/**
	 * Apply `n` changes to `zone`, in one batch where the provider can
	 * (all-or-nothing if it declares DNSFOLLOW_CAP_ATOMIC). At most one
	 * change per (name, type). Deleting an absent RRset succeeds. On
	 * error some changes may have been applied unless the provider is
	 * atomic; the core reads again before retrying. The order is safe:
	 * an ownership marker comes before the records it owns, so a
	 * provider that is not atomic should apply changes in the order
	 * given and stop at the first failure.
	 */
	int (*apply)(void *self, const char *zone,
		     const struct dnsfollow_change *changes, size_t n);
};

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_PROVIDER_H */
