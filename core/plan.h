/*
 * Planning: the difference between what backends say and what a zone
 * holds, under the ownership rules. Pure functions on in-memory data, so
 * they can be tested and benchmarked without plugins.
 */
#ifndef DF_PLAN_H
#define DF_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/provider.h>

#include "rtypes.h"

/** An RRset the core owns (copied from a provider's read). */
struct df_rr {
	struct dnsfollow_rrset pub; /* handed to apply() as change->old */
	char *name;   /* inside the rdata block */
	char **rdata; /* one allocation: pointers, name, then data */
	int dups;     /* the provider reported a datum twice (two writers
			 raced): not in sync until a SET collapses it */
};

/** The RRsets read from one zone, searchable by (name, type). */
struct df_rrdb {
	struct df_rr *v;
	size_t n, cap;
	size_t *slots; /* hash index: entry index + 1, 0 = empty */
	size_t nslots;
	int indexed;   /* index built */
};

/** Copy `rr` in (A/AAAA data canonicalised, data sorted and de-duplicated).
 *  Returns 0, or -EINVAL for an A/AAAA datum that is no address. */
int df_rrdb_add(struct df_rrdb *db, const struct dnsfollow_rrset *rr);
/** Index for lookups; a repeated (name, type) keeps the last one read. */
void df_rrdb_finish(struct df_rrdb *db);
const struct df_rr *df_rrdb_find(const struct df_rrdb *db, const char *name,
				 uint16_t type);
void df_rrdb_free(struct df_rrdb *db);

/** The records one type of a record should hold. */
struct df_want_set {
	uint16_t type;
	const char *const *v; /* canonical, sorted, unique */
	size_t n;
};

/** What a record should be, as the core learned it this pass. */
struct df_want {
	const char *fqdn;
	const char *txt_name; /* "_dnsfollow.<fqdn>" */
	struct df_want_set sets[DF_MAX_TYPES];
	size_t nsets;
	/* Other types read at the name that may not sit beside the wanted
	 * ones (a CNAME beside an A, anything beside a CNAME). */
	uint16_t others[DF_MAX_OTHERS];
	size_t nothers;
	uint32_t ttl;
	int adopt;
	int on_empty_delete; /* the empty answer has settled (on_empty =
				delete, held for on_empty_grace across two
				resolutions): delete now */
	const char *error;   /* the answer cannot make this record (a CNAME
				with two targets): refuse it with this */
	int orphan;          /* nothing asks for the name any more (policy =
				sync): delete every set's type and then the
				marker, if the marker is ours alone */
};

/** Outcome of planning one record. */
enum df_rec_state {
	DF_REC_IN_SYNC = 0,  /* nothing to do */
	DF_REC_CHANGE = 1,   /* changes were added to the plan */
	DF_REC_KEPT = 2,     /* no address, on_empty = keep: left as is */
	DF_REC_FOREIGN = 3,  /* exists, not ours, no adopt: left alone */
	DF_REC_BAD = 4,      /* the answer cannot make it (want.error) */
};



/** The changes for one zone. Change data points into the wants, the
 *  rrdb and the marker: they must outlive the plan's use. */
struct df_plan {
	struct dnsfollow_change *v;
	size_t n, cap;
	const char *marker_v[1]; /* rdata of every marker SET */
};

void df_plan_init(struct df_plan *p, const char *marker);
void df_plan_free(struct df_plan *p);

/**
 * Plan one record against `cur` (indexed by df_rrdb_finish). Appends its changes to `plan`;
 * `why` gets a one-line explanation for DF_REC_FOREIGN.
 */
enum df_rec_state df_plan_record(const struct df_want *w,
				 const struct df_rrdb *cur,
				 struct df_plan *plan, char *why, size_t whylen);

/** Print a change as "set NAME TYPE TTL DATA..." / "delete NAME TYPE". */
void df_change_format(const struct dnsfollow_change *c, char *buf, size_t len);

/** Sort and de-duplicate canonical address strings in place; returns the
 *  new count. */
size_t df_addr_sort_unique(char **v, size_t n);
/** The same for strings (malloc'ed each) in byte order. */
size_t df_str_sort_unique(char **v, size_t n);

#endif
