/*
 * dnsfollow plugin ABI 2: versions, error codes, typed configuration keys
 * and the one descriptor every plugin exports.
 *
 * Stability rules (read these before changing anything here):
 *  - Every struct that crosses the boundary and may grow starts with its
 *    size (`struct_size`; the descriptor: after `abi_version`). Members are
 *    only ever appended. A reader uses a member only when
 *    DNSFOLLOW_HAS(ptr, type, member) says it is there and set; the host
 *    copies an older, smaller struct a plugin hands it into a zeroed one.
 *  - Arrays keep their element stride for the life of an ABI version
 *    (struct dnsfollow_kv, dnsfollow_key, dnsfollow_rrkey,
 *    dnsfollow_change, dnsfollow_options): new per-call data goes on the
 *    struct that carries the array (a changeset), never on the elements.
 *  - DNSFOLLOW_ABI_VERSION changes only when an existing member changes
 *    meaning or place, or an element stride changes. The loader accepts
 *    DNSFOLLOW_ABI_MIN_VERSION..DNSFOLLOW_ABI_VERSION.
 *  - Plugins are built with -fvisibility=hidden and export exactly one data
 *    symbol, `dnsfollow_plugin`, best declared with DNSFOLLOW_PROVIDER() or
 *    DNSFOLLOW_BACKEND().
 */
#ifndef DNSFOLLOW_ABI_H
#define DNSFOLLOW_ABI_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI version a plugin is built against. */
#define DNSFOLLOW_ABI_VERSION 2u
/** Oldest ABI version this dnsfollow loads (ABI 1 plugins are refused:
 *  rebuild them against these headers). */
#define DNSFOLLOW_ABI_MIN_VERSION 2u

/** Name of the single data symbol a plugin exports. */
#define DNSFOLLOW_PLUGIN_SYMBOL "dnsfollow_plugin"

/** Marks the descriptor as the plugin's only visible symbol. */
#define DNSFOLLOW_PLUGIN_EXPORT __attribute__((visibility("default")))

/**
 * The one way to test for an optional member, on either side: true when
 * `ptr` (a struct of `type` starting with a size) is large enough to hold
 * `member` and the member is set (not NULL / not 0).
 */
#define DNSFOLLOW_HAS(ptr, type, member)                                     \
	((ptr)->struct_size >= offsetof(type, member) + sizeof((ptr)->member) && \
	 (ptr)->member)

/** What a plugin is. */
enum dnsfollow_kind {
	DNSFOLLOW_KIND_PROVIDER = 1, /**< reads and writes DNS RRsets */
	DNSFOLLOW_KIND_BACKEND = 2,  /**< tells where a service runs */
};

/*
 * Errors. Every op returns 0 on success or a negative errno-style code.
 * The human-readable text goes through host->error() before returning.
 *
 * Temporary errors (the core retries with exponential backoff and jitter):
 *   -EAGAIN (generic "try later": 5xx, 429, SERVFAIL), -ETIMEDOUT,
 *   -ECONNREFUSED, -ECONNRESET, -EHOSTUNREACH, -ENETUNREACH, -EBUSY.
 * Anything else is permanent (the core logs it loudly and does not retry
 * before the next resync): typically -EACCES (bad credentials, REFUSED,
 * BADSIG), -ENOENT (zone or service unknown), -EINVAL (bad input),
 * -EEXIST (a conflict the server refuses, e.g. CNAME beside other data),
 * -EPROTO (peer spoke nonsense), -ENOMEM.
 */
#define DNSFOLLOW_E_TEMPORARY (-EAGAIN)
#define DNSFOLLOW_E_PERMANENT (-EACCES)

/** 1 if `rc` (a negative error code) is worth retrying soon, else 0. */
static inline int dnsfollow_err_is_temporary(int rc)
{
	switch (rc) {
	case -EAGAIN:
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EBUSY:
		return 1;
	default:
		return 0;
	}
}

/**
 * One configuration item (borrowed, read-only). The core has validated
 * it against the key's declared type, so plugins never parse numbers or
 * booleans: `num` holds the value of an UINT (the number), BOOL (0/1),
 * DURATION (milliseconds) or ENUM (index into `values`) key; `value` the
 * text (for a STRING, PATH (absolute) or SECRET key, and the canonical
 * text of the others). Declared keys with a default are always present.
 */
struct dnsfollow_kv {
	const char *key;   /**< lower-case key, never NULL */
	const char *value; /**< value, already read from KEY_file if given */
	uint64_t num;      /**< see above; 0 for text keys */
};

/**
 * First item of `key` in `kv[0..n)`, or NULL. Keys may repeat (MULTI);
 * walk the array to see every occurrence.
 */
static inline const struct dnsfollow_kv *
dnsfollow_kv_find(const struct dnsfollow_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return &kv[i];
	return NULL;
}

/** Text of `key`, or NULL when absent. */
static inline const char *dnsfollow_kv_get(const struct dnsfollow_kv *kv,
					   size_t n, const char *key)
{
	const struct dnsfollow_kv *i = dnsfollow_kv_find(kv, n, key);
	return i ? i->value : NULL;
}

/** Number of `key` (see struct dnsfollow_kv), or `def` when absent. */
static inline uint64_t dnsfollow_kv_num(const struct dnsfollow_kv *kv,
					size_t n, const char *key, uint64_t def)
{
	const struct dnsfollow_kv *i = dnsfollow_kv_find(kv, n, key);
	return i ? i->num : def;
}

/** Types of a declared configuration key; the core validates them. */
enum dnsfollow_key_type {
	DNSFOLLOW_T_STRING = 0, /**< any text */
	DNSFOLLOW_T_UINT,       /**< whole number in [min, max] */
	DNSFOLLOW_T_BOOL,       /**< yes/no, true/false, on/off, 1/0 */
	DNSFOLLOW_T_DURATION,   /**< "30", "30s", "500ms", "5m", "2h" (a bare
				     number is seconds); num in ms, in
				     [min, max] ms */
	DNSFOLLOW_T_ENUM,       /**< one of `values` (case-insensitive) */
	DNSFOLLOW_T_PATH,       /**< a file path, made absolute against the
				     config file's folder */
	DNSFOLLOW_T_SECRET,     /**< text never logged, masked everywhere */
};

/* Flags of a declared configuration key. */
#define DNSFOLLOW_KEY_REQUIRED 0x1u /**< refuse to start when missing */
#define DNSFOLLOW_KEY_MULTI 0x8u    /**< may be given more than once */

/**
 * A key a plugin accepts. Arrays of these end with an entry whose `name` is
 * NULL. The core refuses keys not listed, checks values against `type`,
 * `min`/`max` and `values` at --check-config time (FILE:LINE, exit 78),
 * enforces REQUIRED and MULTI, and delivers `def` when the key is absent.
 * `KEY_file = PATH` is accepted for every key and delivered as `KEY`.
 * A name ending in ".*" accepts any key with that prefix (its type
 * applies to each).
 */
struct dnsfollow_key {
	const char *name;
	uint32_t type;             /**< enum dnsfollow_key_type */
	uint32_t flags;            /**< DNSFOLLOW_KEY_* */
	const char *help;          /**< one line for --list-plugins, or NULL */
	const char *def;           /**< default, as it would be written in the
				        file, or NULL for none */
	uint64_t min, max;         /**< UINT and DURATION (ms) bounds; max 0
				        means no upper bound */
	const char *const *values; /**< ENUM: the accepted words, NULL-ended */
};

/* Shorthands for key tables. */
#define DNSFOLLOW_KEY_STRING(n, fl, h) {(n), DNSFOLLOW_T_STRING, (fl), (h), NULL, 0, 0, NULL}
#define DNSFOLLOW_KEY_SECRET_(n, fl, h) {(n), DNSFOLLOW_T_SECRET, (fl), (h), NULL, 0, 0, NULL}
#define DNSFOLLOW_KEY_PATH_(n, fl, h) {(n), DNSFOLLOW_T_PATH, (fl), (h), NULL, 0, 0, NULL}
#define DNSFOLLOW_KEY_UINT(n, def, lo, hi, h) {(n), DNSFOLLOW_T_UINT, 0, (h), (def), (lo), (hi), NULL}
#define DNSFOLLOW_KEY_BOOL(n, def, h) {(n), DNSFOLLOW_T_BOOL, 0, (h), (def), 0, 0, NULL}
#define DNSFOLLOW_KEY_DURATION(n, def, lo, hi, h) {(n), DNSFOLLOW_T_DURATION, 0, (h), (def), (lo), (hi), NULL}
#define DNSFOLLOW_KEY_ENUM(n, def, vals, h) {(n), DNSFOLLOW_T_ENUM, 0, (h), (def), 0, 0, (vals)}
#define DNSFOLLOW_KEY_END {NULL, 0, 0, NULL, NULL, 0, 0, NULL}

struct dnsfollow_host;

/**
 * The one exported symbol. The loader checks, before it calls any plugin
 * code, that abi_version is within DNSFOLLOW_ABI_MIN_VERSION..
 * DNSFOLLOW_ABI_VERSION, that struct_size covers the ABI 2 members, that
 * kind matches the section it was named in, that name equals the file
 * name without ".so", and that create, destroy, ops and the kind's
 * mandatory ops are set. (ELF constructors run inside dlopen, before any
 * check: a plugin must not have any.) `abi_version` stays the first
 * member in every ABI, so any descriptor can be checked.
 */
struct dnsfollow_plugin {
	uint32_t abi_version; /**< DNSFOLLOW_ABI_VERSION */
	uint32_t struct_size; /**< sizeof(struct dnsfollow_plugin) */
	uint32_t kind;        /**< enum dnsfollow_kind */
	const char *name;     /**< the value of `type =` that selects it */
	const char *version;  /**< the plugin's own version, free-form */

	/** Keys allowed in its [provider|backend INSTANCE] section (besides
	 *  `type`, and `zones` for providers). NULL-name terminated. */
	const struct dnsfollow_key *config_keys;

	/** Extra keys it accepts in [record ...] sections that use it: a
	 *  backend gets them in resolve()'s query, a provider in apply()'s
	 *  changeset. May be NULL. */
	const struct dnsfollow_key *record_keys;

	/**
	 * Make an instance. `host` stays valid until destroy(); `cfg` is
	 * borrowed for this call only (copy what you keep). On failure return
	 * a negative code after host->error(); destroy() is not called then.
	 * Must not wait on the network: --check-config calls it.
	 */
	int (*create)(const struct dnsfollow_host *host,
		      const struct dnsfollow_kv *cfg, size_t ncfg, void **self);

	/** Release an instance; it gets no further calls. Must not fail. */
	void (*destroy)(void *self);

	/** `const struct dnsfollow_provider_ops *` or
	 *  `const struct dnsfollow_backend_ops *`, by kind. */
	const void *ops;
};

/** Declare a provider plugin in one statement. */
#define DNSFOLLOW_PROVIDER(NAME, VERSION, KEYS, RECORD_KEYS, CREATE, DESTROY, OPS) \
	DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {   \
		.abi_version = DNSFOLLOW_ABI_VERSION,                                  \
		.struct_size = sizeof(struct dnsfollow_plugin),                        \
		.kind = DNSFOLLOW_KIND_PROVIDER,                                       \
		.name = (NAME), .version = (VERSION),                                  \
		.config_keys = (KEYS), .record_keys = (RECORD_KEYS),                   \
		.create = (CREATE), .destroy = (DESTROY), .ops = (OPS)}

/** Declare a backend plugin in one statement. */
#define DNSFOLLOW_BACKEND(NAME, VERSION, KEYS, RECORD_KEYS, CREATE, DESTROY, OPS)  \
	DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {   \
		.abi_version = DNSFOLLOW_ABI_VERSION,                                  \
		.struct_size = sizeof(struct dnsfollow_plugin),                        \
		.kind = DNSFOLLOW_KIND_BACKEND,                                        \
		.name = (NAME), .version = (VERSION),                                  \
		.config_keys = (KEYS), .record_keys = (RECORD_KEYS),                   \
		.create = (CREATE), .destroy = (DESTROY), .ops = (OPS)}

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_ABI_H */
