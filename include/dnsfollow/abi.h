/*
 * dnsfollow plugin ABI: versions, error codes, configuration items and the
 * one descriptor every plugin exports.
 *
 * Stability rules (read these before changing anything here):
 *  - Every struct that crosses the boundary only ever grows at its end.
 *    Structs that may grow start with a `struct_size` field; a reader uses
 *    a field only if `struct_size` says it is there (and, for function
 *    pointers, only if it is not NULL).
 *  - DNSFOLLOW_ABI_VERSION changes only when an existing field changes
 *    meaning or place. Appending fields does not change it.
 *  - Structs passed as arrays (struct dnsfollow_rrkey, dnsfollow_change,
 *    dnsfollow_kv, dnsfollow_key) have a fixed layout within one ABI
 *    version: the element stride is part of the contract, so growing them
 *    means a new DNSFOLLOW_ABI_VERSION.
 *  - Plugins are built with -fvisibility=hidden and export exactly one data
 *    symbol, `dnsfollow_plugin`, declared with DNSFOLLOW_PLUGIN_EXPORT.
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

/** ABI version a plugin is built against; the loader refuses any other. */
#define DNSFOLLOW_ABI_VERSION 1u

/** Name of the single data symbol a plugin exports. */
#define DNSFOLLOW_PLUGIN_SYMBOL "dnsfollow_plugin"

/** Marks the descriptor as the plugin's only visible symbol. */
#define DNSFOLLOW_PLUGIN_EXPORT __attribute__((visibility("default")))

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

/** One configuration item as given in the INI file (borrowed, read-only). */
struct dnsfollow_kv {
	const char *key;   /**< lower-case key, never NULL */
	const char *value; /**< value, already read from KEY_file if given */
};

/**
 * First value of `key` in `kv[0..n)`, or NULL. Keys may repeat (a list
 * given over several lines); walk the array to see every occurrence.
 */
static inline const char *dnsfollow_kv_get(const struct dnsfollow_kv *kv,
					   size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

/* Flags of a declared configuration key. */
#define DNSFOLLOW_KEY_REQUIRED 0x1u /**< refuse to start when missing */
#define DNSFOLLOW_KEY_PATH 0x2u     /**< a path: the core makes it absolute,
					 relative to the config file's folder */
#define DNSFOLLOW_KEY_SECRET 0x4u   /**< never logged; redacted everywhere */
#define DNSFOLLOW_KEY_MULTI 0x8u    /**< may be given more than once */

/**
 * A key a plugin accepts. Arrays of these end with an entry whose `name` is
 * NULL. The core refuses keys not listed, enforces REQUIRED and MULTI, and
 * resolves PATH values, so plugins never see an unexpected key.
 * `KEY_file = PATH` is accepted for every key and delivered as `KEY`.
 */
struct dnsfollow_key {
	const char *name;
	uint32_t flags;
	const char *help; /**< one line shown by --list-plugins; may be NULL */
};

struct dnsfollow_host;

/**
 * The one exported symbol. The loader checks, before it calls any plugin
 * code, that abi_version == DNSFOLLOW_ABI_VERSION, that kind matches the
 * section it was named in, that name equals the file name without ".so",
 * and that create, destroy, ops and the kind's mandatory ops are set.
 * (ELF constructors run inside dlopen, before any check: a plugin must
 * not have any.)
 */
struct dnsfollow_plugin {
	uint32_t abi_version; /**< DNSFOLLOW_ABI_VERSION */
	uint32_t kind;        /**< enum dnsfollow_kind */
	const char *name;     /**< the value of `type =` that selects it */
	const char *version;  /**< the plugin's own version, free-form */

	/** Keys allowed in its [provider|backend INSTANCE] section (besides
	 *  `type`, and `zones` for providers). NULL-name terminated. */
	const struct dnsfollow_key *config_keys;

	/** Extra keys it accepts in [record ...] sections that use it, passed
	 *  to resolve() (backends) as query options. May be NULL. */
	const struct dnsfollow_key *record_keys;

	/**
	 * Make an instance. `host` stays valid until destroy(); `cfg` is
	 * borrowed for this call only (copy what you keep). On failure return
	 * a negative code after host->error(); destroy() is not called then.
	 */
	int (*create)(const struct dnsfollow_host *host,
		      const struct dnsfollow_kv *cfg, size_t ncfg, void **self);

	/** Release an instance; it gets no further calls. Must not fail. */
	void (*destroy)(void *self);

	/** `const struct dnsfollow_provider_ops *` or
	 *  `const struct dnsfollow_backend_ops *`, by kind. */
	const void *ops;
};

#ifdef __cplusplus
}
#endif

#endif /* DNSFOLLOW_ABI_H */
