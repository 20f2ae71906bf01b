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

	struct df_instance_cfg *backends;
	size_t nbackends;
	struct df_instance_cfg *providers;
	size_t nproviders;
	struct df_record_cfg *records;
	size_t nrecords;

	char **errors; /* "FILE:LINE: message", NULL-terminated */
	size_t nerrors;

	struct df_section *sections; /* raw sections, private to config.c */
	size_t nsections;
};

/**
 * Parse `path`. Always returns a config (NULL only on out-of-memory); its
 * `nerrors` says whether it is usable. Plugin keys are not checked yet.
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

/** Print the errors, one per line, to stderr. */
void df_config_print_errors(const struct df_config *cfg);

/** The record's marker text: "heritage=dnsfollow,owner=<owner_id>". */
char *df_owner_marker(const struct df_config *cfg);

#endif
