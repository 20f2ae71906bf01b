/*
 * The record types the core can fill from a backend's answer, as data:
 * where each type's records come from, and which types must stand alone
 * at a name. Planning and ownership read this table and have no path of
 * their own per type; supporting a new type (SRV: from a port and the
 * node's name) is one more row here and the source it needs.
 */
#ifndef DF_RTYPES_H
#define DF_RTYPES_H

#include <stddef.h>
#include <stdint.h>

/** Where the records of a type come from in a backend's answer. */
enum df_source {
	DF_SRC_ADDR4,  /* the IPv4 addresses of the placements */
	DF_SRC_ADDR6,  /* the IPv6 addresses */
	DF_SRC_TARGET, /* the placements' DNS names (dns_name) */
};

struct df_rtype {
	uint16_t code;
	enum df_source src;
	int alone;     /* no other data may share its name (CNAME) */
	size_t max;    /* most records of the RRset, 0 = no limit */
};

/** How a type's data compares, read back from any provider. */
enum df_form {
	DF_FORM_TEXT,  /* byte for byte */
	DF_FORM_ADDR4, /* an IPv4 address, canonical text */
	DF_FORM_ADDR6, /* an IPv6 address, canonical text */
	DF_FORM_NAME,  /* a DNS name: lower-case, no trailing dot */
};

/** The form of `code`'s data (TEXT for types no row names). */
enum df_form df_rdata_form(uint16_t code);

/** The row of `code`, or NULL when the core cannot fill that type. */
const struct df_rtype *df_rtype(uint16_t code);

/** Every row, for listing what `type =` accepts. */
const struct df_rtype *df_rtypes(size_t *n);

#define DF_MAX_TYPES 4 /* types one record may have */
/* Types a provider may list (the loader's limit): what is read beside a
 * record to see conflicts. */
#define DF_MAX_OTHERS 64

#endif
