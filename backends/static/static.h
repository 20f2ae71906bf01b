/*
 * The static backend's placements file, parsed (parse.c) and served
 * (static.c). The parser works on memory only, so the fuzz target
 * (tests/fuzz/static) drives it without any file or host.
 */
#ifndef DF_STATIC_H
#define DF_STATIC_H

#include <stddef.h>

#define SB_MAX_ADDRS 256   /* per service */
#define SB_MAX_LINE 65536  /* bytes; 256 IPv6 addresses fit with room */
#define SB_MAX_NAME 1024   /* bytes of a section name; DNS names are <= 253 */
#define SB_MAX_NAMES 256   /* `names =` items per section */
#define SB_MAX_RKEYS 64    /* `record.KEY =` lines per section */
#define SB_MAX_RKEY 64     /* bytes of such a KEY */

/* A `record.KEY = VALUE` line: KEY (prefix stripped) and VALUE as text,
 * for discover(); the core checks them as it checks a label's. */
struct sb_rkey {
	char *key, *value;
	int line;
};

/* One [SERVICE] section; its addresses are addrs[first .. first+count). */
struct sb_section {
	char *name;
	int line;      /* of the [header] */
	int key_line;  /* of its `addresses =` line, 0 when none yet */
	int host_line; /* of its `hostname =` line, 0 when none yet */
	char *hostname; /* the node's DNS name (normalised), or NULL */
	size_t first, count;
	int names_line; /* of its `names =` line, 0 when none */
	char **names;   /* the names it asks for (discover), as written */
	size_t nnames, capnames;
	struct sb_rkey *rkeys; /* its record.KEY lines, in file order */
	size_t nrkeys, caprkeys;
};

/* Checks and normalises a DNS name (host->name_normalise's contract):
 * 0, or a negative code for an invalid name. */
typedef int (*sb_name_fn)(const char *in, char *out, size_t cap);

/* A parsed file: sections sorted by name, addresses in file order. */
struct sb_table {
	struct sb_section *sec;
	size_t nsec, capsec;
	char **addrs;
	size_t naddrs, capaddrs;
	char err[512]; /* "FILE:LINE: message" when parsing failed */
};

/* Parse `len` bytes of `data` (`file` only names it in messages) into an
 * empty `t`; `norm` checks `hostname =` values. Returns 0, or -EINVAL /
 * -ENOMEM with t->err set; the table then holds whatever was parsed and
 * must still be cleared. */
int sb_parse(struct sb_table *t, const char *file, const char *data,
	     size_t len, sb_name_fn norm);

/* The section of `service`, or NULL (sb_parse() succeeded on `t`). */
const struct sb_section *sb_find(const struct sb_table *t,
				 const char *service);

/* Free everything `t` holds and zero it. */
void sb_clear(struct sb_table *t);

#endif /* DF_STATIC_H */
