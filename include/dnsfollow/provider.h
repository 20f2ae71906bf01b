/*
 * Provider ops: read and write whole RRsets of one zone.
 *
 * Semantics follow libdns: reading returns whole RRsets for (name, type);
 * "set" replaces the whole RRset for (name, type) and nothing else;
 * deleting an absent RRset is not an error. Records are data: any RR type
 * crosses this ABI as its type code and presentation-form data; a
 * provider lists the types it manages in its ops table, and the core only
 * ever asks it about those.
 *
 * Names are absolute, lower-case and written without the trailing dot
 * ("git.example.org"); the zone apex is the zone name itself. The `zone`
 * handed to every op is one of the provider's `zones` exactly as the core
 * normalised them (lower-case, no trailing dot); create() receives the
 * same list as the `zones` item, joined by ", " (the item is absent
 * when the section lists no zones).
 *
 * Record data is in presentation form: "192.0.2.10" (A), "2001:db8::10"
 * (AAAA), the text itself without quotes or escapes for TXT (the
 * character-strings concatenated: a provider splits text longer than 255
 * bytes, and host->txt_encode/txt_decode do both directions), a name
 * without the trailing dot for CNAME/NS.
 *
 * What read() reports, precisely:
 *  - every RRset asked for that exists, whole (all its records), and only
 *    enabled/published records: a record a provider holds disabled,
 *    paused or staged-for-deletion is not reported;
 *  - a datum stored twice (two writers raced) is reported twice: the core
 *    then sees the RRset as not in sync and a SET collapses it;
 *  - another type sitting at an asked name (a CNAME where A was asked)
 *    is reported only when that (name, type) was asked too; the core
 *    asks for CNAME at every name it writes, so a provider must manage
 *    CNAME to report it.
 *
 * Threads: the core never calls two ops of one instance at the same time,
 * but successive calls may come from different threads (zones run on a
 * worker pool). Different instances may be called at the same time, so
 * state shared between instances (statics) needs a lock. Any host
 * function may be called from any thread.
 */
#ifndef DNSFOLLOW_PROVIDER_H
#define DNSFOLLOW_PROVIDER_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Type codes the core itself uses (any other code crosses just as well). */
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

/** One change of a changeset (frozen stride: new data goes on the
 *  changeset). */
struct dnsfollow_change {
	uint32_t op; /**< enum dnsfollow_change_op */
	/** New RRset (SET), or name and type to remove (DELETE; `count` 0). */
	struct dnsfollow_rrset rrset;
	/** What read() reported for (name, type) in this pass, or NULL when
	 *  it was absent. Lets a provider update in place (REST ids) or
	 *  delete record by record. */
	const struct dnsfollow_rrset *old;
};

/** A record's provider options (its [record] keys listed in the
 *  provider's record_keys, typed like config keys). */
struct dnsfollow_options {
	const struct dnsfollow_kv *kv;
	size_t n;
};

/** What a provider did with one change, when it knows. */
#define DNSFOLLOW_RESULT_UNKNOWN 1 /**< preset by the core */

/**
 * Everything apply() gets. Borrowed for the call, except `results`,
 * which the provider writes.
 */
struct dnsfollow_changeset {
	size_t struct_size; /**< sizeof(struct dnsfollow_changeset) */
	const char *zone;
	const struct dnsfollow_change *changes;
	size_t n;
	/**
	 * Per change, preset to DNSFOLLOW_RESULT_UNKNOWN: a provider that
	 * knows writes 0 (applied) or a negative code (refused: the core
	 * reports that change's record as failed and retries the others
	 * without it). A provider that leaves them untouched is fine: the
	 * core then goes by apply()'s return code.
	 */
	int *results;
	/**
	 * Per change: changes with the same group number belong together
	 * (one name's ownership marker and the records it owns). A provider
	 * that cannot apply everything at once should apply whole groups,
	 * in order, and stop at the first failing group.
	 */
	const uint32_t *groups;
	/** Per change: its record's provider options (n entries). */
	const struct dnsfollow_options *options;
};

/** Receives RRsets during read() and markers() (the type of their
 *  `emit`). */
typedef int (*dnsfollow_rrset_cb)(void *ctx, const struct dnsfollow_rrset *rr);

/** Capability flags. */
#define DNSFOLLOW_CAP_ATOMIC 0x1u /**< apply() is all-or-nothing */

/**
 * Provider ops. read and apply are mandatory; the loader refuses a plugin
 * without them.
 */
struct dnsfollow_provider_ops {
	size_t struct_size; /**< sizeof(struct dnsfollow_provider_ops) */
	uint32_t caps;      /**< DNSFOLLOW_CAP_* */
	/** The RR types it can read and write, 0-terminated. TXT is needed
	 *  for ownership markers; the core refuses a record whose type the
	 *  provider does not list. */
	const uint16_t *types;

	/**
	 * Report the current RRsets of `zone` for the `nkeys` (name, type)
	 * pairs in `keys`, one emit() call per existing RRset (see the top
	 * of this file). Reporting RRsets that were not asked for is allowed
	 * (the core ignores them). Everything passed in is borrowed.
	 */
	int (*read)(void *self, const char *zone,
		    const struct dnsfollow_rrkey *keys, size_t nkeys,
		    int (*emit)(void *ctx, const struct dnsfollow_rrset *rr),
		    void *ctx);

	/**
	 * Apply the changes of `cs`, in one batch where the provider can
	 * (all-or-nothing if it declares DNSFOLLOW_CAP_ATOMIC). At most one
	 * change per (name, type). Deleting an absent RRset succeeds. On
	 * error some changes may have been applied unless the provider is
	 * atomic; the core reads again before retrying. Order is safe: an
	 * ownership marker comes before the records it owns.
	 */
	int (*apply)(void *self, const struct dnsfollow_changeset *cs);

	/* ---- appended in ABI 2 (test with DNSFOLLOW_HAS) ---------------- */

	/**
	 * Optional: report every ownership marker of `zone`, that is every
	 * TXT RRset whose name starts with "_dnsfollow." (and only enabled
	 * ones, whole, as read() would), one emit() call each. Reporting
	 * more (other TXT RRsets, the whole zone) is allowed: the core keeps
	 * only markers. Needed for `policy = sync`, which deletes the names
	 * dnsfollow owns that nothing asks for any more; the core refuses
	 * `policy = sync` for a provider without it. An error means "not
	 * known": nothing is deleted.
	 */
	int (*markers)(void *self, const char *zone, dnsfollow_rrset_cb emit,
		       void *ctx);
};

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_PROVIDER_H */
