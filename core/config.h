/* The INI configuration: parsing, validation, plugin key checking. */
#ifndef DF_CONFIG_H
#define DF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/plugin.h>

#include "loader.h"

#include "rtypes.h"

#define DF_EXIT_CONFIG 78

/** A key = value line of the file. */
struct df_item {
	char *key;
	char *value;
	int line;
	int broken; /* given as KEY_file, but the file could not be read
		       (reported): present for "needs KEY", absent otherwise */
	int from_file; /* the value was read from KEY_file */
	int bad;       /* the value failed its key's type (reported) */
	uint64_t num;  /* typed keys: see struct dnsfollow_kv */
	int dflt;      /* not in the file: the declared default, added */
};

/** A [backend X] or [provider X] section. */
struct df_instance_cfg {
	unsigned kind; /* DNSFOLLOW_KIND_* */
	char *name;
	char *type;
	int line;
	struct df_item *items; /* plugin keys, values final (file read,
				  typed, paths resolved, defaults added)
				  once bound */
	size_t nitems;
	char **zones; /* providers: normalised zone names */
	size_t nzones;
	char **zsorted; /* the same, sorted (lookups) */
	const struct dnsfollow_plugin *plugin; /* set by df_config_bind */
	struct dnsfollow_kv *kv;               /* view of items for create() */
	size_t nkv;
	/* Backends: records the orchestrator asks for (discover = yes),
	 * their default provider and the globs their names must match. */
	int discover;
	char *discover_provider; /* NULL when not given */
	char **discover_names;   /* normalised globs; none = no extra fence */
	size_t ndiscover_names;
	/* Providers: policy = sync deletes orphans (default upsert-only). */
	int sync;
};

/** A [record FQDN] section. */
struct df_record_cfg {
	char *fqdn; /* normalised */
	int line;
	char *provider, *backend, *service;
	char *zone; /* chosen zone (normalised) */
	uint16_t types[DF_MAX_TYPES]; /* RR types it publishes (rtypes.h) */
	size_t ntypes;
	uint32_t ttl;
	int adopt;
	int on_empty_delete;
	size_t provider_idx, backend_idx;
	struct df_item *opts; /* backend record keys (typed, defaults) */
	size_t nopts;
	struct dnsfollow_kv *kv; /* view of opts: resolve()'s query options */
	size_t nkv;
	struct df_item *popts; /* provider record keys (typed, defaults); a
				  key both plugins declare is in both */
	size_t npopts;
	struct dnsfollow_kv *pkv; /* provider record keys (its record_keys),
				     handed to apply() as change options */
	size_t npkv;
	/* Discovered records: the stable id of what asked (a Swarm service
	 * id) and its name for messages; NULL for [record] sections. */
	char *source, *source_name;
};

struct df_section;

struct df_config {
	char *path; /* as given */
	char *dir;  /* folder relative paths are resolved against */
	char *owner_id;
	unsigned interval;    /* s */
	unsigned debounce_ms;
	unsigned retries;     /* attempts per pass in --once */
	unsigned backoff_max; /* s */
	char *plugin_dir;
	int log_level;
	int log_json; /* log_format = json */
	char *listen; /* ADDR:PORT of /metrics, /healthz, /readyz, or NULL */
	/* s an empty backend answer must hold, across at least two
	 * resolutions, before on_empty = delete acts (0..86400, default
	 * 10): a backend briefly unsure of its nodes must not delete. */
	unsigned on_empty_grace;
	/* 1 when loopback (127/8, ::1) and unspecified (0.0.0.0, ::)
	 * addresses may be published (default 0: refused). */
	int allow_loopback;
	/* (provider, zone) groups applied concurrently (1..64, default 4):
	 * a slow provider delays only its own zones. */
	unsigned workers;
	/* s a name dnsfollow owns must stay unwanted, over at least two
	 * passes with full knowledge, before policy = sync deletes it
	 * (0..86400, default 60). */
	unsigned orphan_grace;

	struct df_instance_cfg *backends;
	size_t nbackends;
	struct df_instance_cfg *providers;
	size_t nproviders;
	struct df_record_cfg *records;
	size_t nrecords;

	char **errors; /* "FILE:LINE: message", NULL-terminated */
	size_t nerrors;

	/* Private to config.c and cfg_*.c. */
	struct df_section *sections; /* raw sections */
	size_t nsections;
	unsigned file_mode; /* permission bits of the file when read */
	int warned_inline;  /* the inline-secret warning was given */
	int no_lines;       /* errors read "WHERE: message" (labels) */
	int owner_given;    /* owner_id was written, not the default */
};

/**
 * Parse `path` (a regular file, read whole; a UTF-8 BOM is skipped; no
 * line length limit). Always returns a config; its `nerrors` says
 * whether it is usable. Plugin keys are not checked yet. A secret given
 * inline in a file its group or others can read is warned about (log).
 */
struct df_config *df_config_parse(const char *path);

/**
 * Load every plugin the config names through `loader`, check plugin keys
 * against their declarations (allowed, typed: kv.num and canonical text,
 * defaults added), read KEY_file values, resolve PATH keys, split each
 * record's keys between its backend (kv) and its provider (pkv), and
 * choose each record's zone. Errors are appended to cfg->errors; returns
 * the number of errors.
 */
size_t df_config_bind(struct df_config *cfg, struct df_loader *loader);

void df_config_free(struct df_config *cfg);

/** Print the errors, one per line, to stderr (start-up, --check-config). */
void df_config_print_errors(const struct df_config *cfg);

/** Log the errors, one df_log(DNSFOLLOW_LOG_ERROR) line each, with the
 *  log's timestamp and level (a reload, when stderr is a log). */
void df_config_log_errors(const struct df_config *cfg);

/**
 * Check `text` as a value of key `k` (shown as `name`, which may differ
 * from k->name for a "prefix.*" key): 0 with *num (see struct
 * dnsfollow_kv) and *canon (canonical text, malloc'd) set; -1 with
 * "NAME must be ..., not 'TEXT'" in msg. STRING, PATH and SECRET values
 * are copied as they are (PATH resolution and secret masking need the
 * config: see cfg_keys.c).
 */
int df_key_parse(const struct dnsfollow_key *k, const char *name,
		 const char *text, uint64_t *num, char **canon, char *msg,
		 size_t len);

/** Check a plugin's declared keys (name, type, flags, bounds, enum
 *  values; each default parsed like a value). 0, or -1 with one line
 *  naming the key in err. `what` is "config key" or "record key". */
int df_keys_check(const struct dnsfollow_key *keys, const char *what,
		  char *err, size_t len);

/** One-line summary of a key's type for --list-plugins, such as
 *  "uint 1..20 = 3", "enum keep|delete = keep", "duration 1s..1h". */
void df_key_describe(const struct dnsfollow_key *k, char *buf, size_t len);

/**
 * Bind one discovered record as if it were a [record NAME] section of
 * `cfg` whose keys are `keys` (text values), its backend `backend` and its
 * service `service`: the same checks, types and defaults as the INI, plus
 * a discovered record's own rules (no `adopt`, no KEY_file, the default
 * provider of the backend) and its fence (a zone of its provider, the
 * backend's discover_names). 0 with *out filled (release it with
 * df_record_cfg_clear); DF_DISC_BAD (the keys are wrong: the name is still
 * claimed, so it is not an orphan) or DF_DISC_FENCED (outside the fence,
 * or no name at all: never written) with one line in err.
 */
#define DF_DISC_BAD (-1)
#define DF_DISC_FENCED (-2)
int df_config_bind_discovered(struct df_config *cfg, size_t backend,
			      const char *fqdn, const char *service,
			      const struct dnsfollow_kv *keys, size_t nkeys,
			      struct df_record_cfg *out, char *err, size_t len);

/** Release what a record owns (not the struct itself). */
void df_record_cfg_clear(struct df_record_cfg *r);

/** 1 when `name` (normalised) matches `glob`: a name matches itself,
 *  "*.apps.example.org" every name below apps.example.org. */
int df_name_glob(const char *glob, const char *name);

/** The record's marker text: "heritage=dnsfollow,owner=<owner_id>". */
char *df_owner_marker(const struct df_config *cfg);

#endif
