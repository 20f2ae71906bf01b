/* Finding, opening and checking plugins. */
#ifndef DF_LOADER_H
#define DF_LOADER_H

#include <stddef.h>
#include <stdio.h>

#include <dnsfollow/plugin.h>

struct df_loader;

/** A loader looking in `dir` (copied). */
struct df_loader *df_loader_new(const char *dir);
/** dlclose everything; descriptors from it become invalid. */
void df_loader_free(struct df_loader *l);

/**
 * The descriptor of plugin `name` (file dir/name.so) of `kind`, loaded
 * and checked once, then cached. On refusal returns NULL with a one-line
 * reason in err naming the file.
 */
const struct dnsfollow_plugin *df_loader_get(struct df_loader *l,
					     const char *name, unsigned kind,
					     char *err, size_t errlen);

/** Check a descriptor without loading anything (used by the loader and
 *  its tests). 0 if sound, else -1 with the reason in err. */
int df_plugin_check(const struct dnsfollow_plugin *p, const char *name,
		    unsigned kind, char *err, size_t errlen);

/** The default plugin folder: <exe dir>/plugins when it exists (running
 *  from the build tree), else the install folder. Static storage. */
const char *df_default_plugin_dir(void);

const char *df_kind_name(unsigned kind);

/** Print every plugin of `dir` with its kind, version and keys; refused
 *  files are listed with the reason. Returns 0, or -1 if `dir` cannot be
 *  read. */
int df_plugins_list(const char *dir, FILE *out);

#endif
