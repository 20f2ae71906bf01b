/* Private to the configuration files (config.c, cfg_*.c):
 * raw sections as read from the INI text, and the key tables they are
 * checked against. Not for the rest of the core. */
#ifndef DF_CFG_INT_H
#define DF_CFG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum df_sect_kind { S_CORE, S_BACKEND, S_PROVIDER, S_RECORD, S_BAD };

struct df_section {
	enum df_sect_kind kind;
	char *header; /* text between the brackets, trimmed */
	char *name;   /* instance name / record name */
	int line;
	struct df_item *items;
	size_t nitems;
};

/* The tables the items of a section are checked against. The core's
 * own keys are declared like a plugin's (struct dnsfollow_key): one
 * validator for both. */
struct df_keyset {
	const struct dnsfollow_key *core;    /* core keys */
	const struct dnsfollow_key *plugin;  /* plugin's keys, may be NULL */
	const struct dnsfollow_key *plugin2; /* [record]: the provider's
						record keys, may be NULL */
};

/** Append "FILE:LINE: message" to cfg->errors (masked). */
void df_cfg_error(struct df_config *cfg, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Append `msg` as it is: it already names the file. */
void df_cfg_error_raw(struct df_config *cfg, const char *msg);

/** Order cfg->errors by line (stable): checks run section by section,
 *  the user reads the file top down. */
void df_cfg_sort_errors(struct df_config *cfg);

/**
 * Read cfg->path (regular file, bounded, no NUL byte) and split it into
 * cfg->sections. Every syntax error is reported with its line; parsing
 * goes on after one. Also records the file's mode in cfg->file_mode.
 */
void df_cfg_read_ini(struct df_config *cfg);

/** 1..max letters, digits, '_', '-' or '.'. */
int df_cfg_valid_token(const char *s, size_t max);

/** The first item of `s` named `key`, or NULL. */
const struct df_item *df_cfg_item(const struct df_section *s, const char *key);
/** 1 when `key` was given as KEY_file whose file could not be read. */
int df_cfg_item_broken(const struct df_section *s, const char *key);

/**
 * Resolve the KEY_file forms of the core keys of `s` first: they are
 * needed before the plugin's keys can be checked. An item whose file
 * cannot be read loses its key (it then counts as missing).
 */
void df_cfg_resolve_core_files(struct df_config *cfg, struct df_section *s,
			       const struct dnsfollow_key *core);

/** The declaration of `key` in `table` (a "prefix.*" one included), or
 *  NULL. */
const struct dnsfollow_key *df_cfg_find_key(const struct dnsfollow_key *table,
					    const char *key);

/**
 * Check every item of `s` against `ks`: unknown keys, KEY_file, repeats.
 * Rewrites items in place (key without _file, value read from the file);
 * an item whose file cannot be read is marked broken. The core's keys
 * are also typed in place (see df_cfg_typed) and their defaults added;
 * plugin keys are typed by df_cfg_take_items. Returns 0 when all were
 * fine.
 */
int df_cfg_match_items(struct df_config *cfg, struct df_section *s,
		       const struct df_keyset *ks);

/**
 * Judge `it` by its declaration `k`: empty required or path values,
 * the type (UINT, BOOL, DURATION, ENUM: it->num and canonical text),
 * PATH (made absolute against the config's folder), SECRET (registered
 * for masking, short ones refused). A bad value is reported and marked
 * it->bad. Returns 0 when fine.
 */
int df_cfg_typed(struct df_config *cfg, const struct dnsfollow_key *k,
		 struct df_item *it);

/**
 * Copies of the items of `s` that `table` declares (not the core's keys,
 * not broken ones), each typed by its declaration, followed by the
 * declared defaults of keys `s` does not give. Returns 0 when all were
 * fine.
 */
int df_cfg_take_items(struct df_config *cfg, const struct df_section *s,
		      const struct dnsfollow_key *table,
		      const struct dnsfollow_key *core, struct df_item **out,
		      size_t *nout);

/** Report every REQUIRED key of `ks` that `s` lacks; 0 when none. */
int df_cfg_check_required(struct df_config *cfg, struct df_section *s,
			  const struct df_keyset *ks);

/* Shared by config.c and cfg_record.c. */
extern const struct dnsfollow_key df_cfg_record_keys[]; /* [record] core keys */
/** The number of a typed core key (any section's); its default when it
 *  was given badly (the error is said, the config is not used). */
uint64_t df_cfg_core_num(const struct df_section *s, const char *key);
/** A kv view of items (pointers into them). */
void df_cfg_make_kv(struct df_item *items, size_t n, struct dnsfollow_kv **kv,
		    size_t *nkv);
/** qsort/bsearch order of zone names (char *). */
int df_cfg_by_zone(const void *a, const void *b);
/** Index of the instance called `name`, or -1. */
ssize_t df_cfg_find_instance(const struct df_instance_cfg *v, size_t n,
			     const char *name);
/** Refuse a name given twice with one provider (split horizon needs two). */
void df_cfg_check_duplicate_records(struct df_config *cfg);

/** Bind the [record] section `s` and append it to cfg->records (errors
 *  to cfg->errors). */
void df_cfg_bind_record(struct df_config *cfg, struct df_section *s);

/** Once every section is bound: discover = yes needs a backend that can
 *  discover and a valid discover_provider; policy = sync a provider that
 *  can list its markers. */
void df_cfg_check_lifecycle(struct df_config *cfg);

#endif
