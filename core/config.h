/* The INI configuration: parsing, validation, plugin key checking. */
#ifndef DF_CONFIG_H
#define DF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/plugin.h>

#include "loader.h"

#define DF_REC_A 0x1u
#define DF_REC_AAAA 0x2u

#define DF_EXIT_CONFIG 78

/** A key = value line of the file. */
struct df_item {
	char *key;
	char *value;
	int line;
	int broken; /* given as KEY_file, but the file could not be read
		       (reported): present for "needs KEY", absent otherwise */
};

/** A [backend X] or [provider X] section. */
struct df_instance_cfg {
	unsigned kind; /* DNSFOLLOW_KIND_* */
	char *name;
	char *type;
	int line;
	struct df_item *items; /* plugin keys, values final (file read,
				  paths resolved) once bound */
	size_t nitems;
	char **zones; /* providers: normalised zone names */
	size_t nzones;
	const struct dnsfollow_plugin *plugin; /* set by df_config_bind */
	struct dnsfollow_kv *kv;               /* view of items for create() */
	size_t nkv;
};

/** A [record FQDN] section. */
struct df_record_cfg {
	char *fqdn; /* normalised */
	int line;
	char *provider, *backend, *service;
	char *zone; /* chosen zone (normalised) */
	unsigned types; /* DF_REC_* */
	uint32_t ttl;
	int adopt;
	int on_empty_delete;
	size_t provider_idx, backend_idx;
	struct df_item *opts; /* backend record keys */
	size_t nopts;
	struct dnsfollow_kv *kv;
	size_t nkv;
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
 * against their allow-lists, read KEY_file values, resolve PATH keys and
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

/** The record's marker text: "heritage=dnsfollow,owner=<owner_id>". */
char *df_owner_marker(const struct df_config *cfg);

#endif
