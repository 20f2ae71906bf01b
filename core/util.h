/* Small string, list and address helpers shared by the core. */
#ifndef DF_UTIL_H
#define DF_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** strdup that aborts on out-of-memory (config-time allocations only). */
char *df_strdup(const char *s);
void *df_xcalloc(size_t n, size_t size);
void *df_xrealloc(void *p, size_t n, size_t size);

/** Room for element `n` of an array grown by doubling: call before
 *  storing v[n] (n = current count). */
void *df_grow(void *v, size_t n, size_t size);

/** Trim white space in place; returns s. */
char *df_trim(char *s);
/** Lower-case in place; returns s. */
char *df_lower(char *s);

/** Split a comma/whitespace list into trimmed, non-empty items (copies).
 *  Returns the count; *out is NULL-terminated; free with df_strv_free. */
size_t df_split_list(const char *s, char ***out);
void df_strv_free(char **v);
/** The `n` strings of `v` joined by `sep` (copy). */
char *df_strv_join(char *const *v, size_t n, const char *sep);

/** Parse an unsigned decimal in [min, max]; 0 on success, -1 otherwise. */
int df_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out);
/** yes/no/true/false/on/off/1/0 → 1/0; -1 when none of them. */
int df_parse_bool(const char *s);

/** Normalise a DNS name: lower-case, strip one trailing dot. Returns 0 if
 *  it is a valid host-style name (labels 1–63 of [a-z0-9_-], total ≤ 253),
 *  -1 otherwise. `out` gets the normalised copy (caller frees). */
int df_name_normalise(const char *in, char **out);
/** 1 if `name` is `zone` or lies under it on a label boundary. */
int df_name_in_zone(const char *name, const char *zone);

/** Canonical text of an IPv4/IPv6 address; returns 4, 6 or 0 (invalid). */
int df_addr_canon(const char *in, char out[46]);

/** Why a canonical address must not be published (multicast, broadcast,
 *  link-local, reserved, IPv4-mapped, ...), or NULL when it may be.
 *  Loopback and unspecified addresses pass only with `allow_loopback`. */
const char *df_addr_unusable(const char *canon, int allow_loopback);

/** `path` made absolute against `dir` (copy). */
char *df_path_resolve(const char *dir, const char *path);

/* DNS type code <-> name: df_type_name() and df_type_code() live in
 * sdk.h, the one table shared with plugins (host->type_name). */
#include "sdk.h"

#endif
