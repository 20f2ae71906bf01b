/*
 * dnsfollow-conform: checks the semantics every provider (and backend)
 * must keep, against one instance built from a dnsfollow INI file, with
 * the daemon's own loader, config reader and host table. Output is TAP.
 * See docs/conformance.md.
 */
#ifndef DFC_CONFORM_H
#define DFC_CONFORM_H

#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/plugin.h>

struct df_host;

/** One RRset as read back, owned by the kit. */
struct dfc_rr {
	char *name;
	uint16_t type;
	uint32_t ttl;
	size_t count;
	char **rdata;
};

/** Everything read() reported in one call. */
struct dfc_read {
	struct dfc_rr *v;
	size_t n;
	int malformed; /* an emitted RRset broke the form rules */
	char why[200]; /* the first such rule */
};

/** The instance under test and the run's bookkeeping. */
struct dfc {
	const struct dnsfollow_plugin *plugin;
	struct df_host *host;
	void *self;
	const char *zone;   /* scratch zone */
	const char *service; /* --service (backend mode), or NULL */
	int verbose;
	/* TAP */
	unsigned n, failed, skipped;
	/* contract breaches seen by any call, reported in summary lines */
	unsigned bad_results, missing_error_text, malformed_reads;
	int cname_refused; /* both CNAME exclusivity checks passed */
	unsigned markers_outside; /* RRsets markers() reported outside its zone */
	char markers_outside_why[200];
	char bad_results_why[200];
	/* names the kit wrote (for the final cleanup) */
	char **names;
	size_t nnames;
	/* the provider's record_keys defaults, handed to apply() */
	struct dnsfollow_kv *rec_kv;
	size_t rec_nkv;
};

/* ---- TAP (main.c) ---- */
void dfc_ok(struct dfc *c, int pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dfc_skip(struct dfc *c, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dfc_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The host's error text of the last op ("" when none), in buf. */
const char *dfc_error_text(struct dfc *c, char *buf, size_t cap);
/** Forget the host's error state before an op. */
void dfc_reset(struct dfc *c);

/* ---- provider calls (pcall.c) ---- */
/** A change as the kit writes it. */
struct dfc_change {
	uint32_t op;
	const char *name; /* full name */
	uint16_t type;
	uint32_t ttl;
	size_t count;
	const char *const *rdata;
	uint32_t group;
};

/** read() of the (name, type) pairs into `out` (freed with
 *  dfc_read_free). The provider's return code. */
int dfc_read_keys(struct dfc *c, const char *zone,
		  const struct dnsfollow_rrkey *keys, size_t n,
		  struct dfc_read *out);
void dfc_read_free(struct dfc_read *r);
/** 1 when the provider has the optional markers() op (ABI 2). */
int dfc_has_markers(const struct dfc *c);
/** markers() of `zone` into `out` (freed with dfc_read_free), checked
 *  like read() against the form rules and, in addition, every name
 *  against the zone (counted in markers_outside). The provider's code. */
int dfc_markers(struct dfc *c, const char *zone, struct dfc_read *out);
/** The RRset (name, type) in `r`, or NULL. */
const struct dfc_rr *dfc_find(const struct dfc_read *r, const char *name,
			      uint16_t type);
/** Read one (name, type) of the scratch zone: 1 present (copied to *out,
 *  free with dfc_rr_free), 0 absent, < 0 the read failed. */
int dfc_get(struct dfc *c, const char *name, uint16_t type, struct dfc_rr *out);
void dfc_rr_free(struct dfc_rr *rr);

/**
 * apply() the changes to `zone` the way the core does: `old` from a read
 * just before, results preset to DNSFOLLOW_RESULT_UNKNOWN, groups and
 * options set. Checks the results it gets back. Returns apply()'s code;
 * `refused` (may be NULL) is set to 1 when the code or any result is
 * negative. `results` (may be NULL) receives the n results.
 */
int dfc_apply(struct dfc *c, const char *zone, const struct dfc_change *ch,
	      size_t n, int *refused, int *results);
/** SET one RRset in the scratch zone; 0 or the failing code. */
int dfc_set(struct dfc *c, const char *name, uint16_t type, uint32_t ttl,
	    const char *const *rdata, size_t count);
int dfc_delete(struct dfc *c, const char *name, uint16_t type);

/** 1 when `rr` holds exactly the distinct data of want[0..n) (compared
 *  per type: addresses as numbers, names case-insensitively), else 0
 *  with a description of the difference in why. */
int dfc_same_data(const struct dfc_rr *rr, const char *const *want, size_t n,
		  char *why, size_t cap);

/** "dfc-LABEL.ZONE", owned by `c` and remembered for the cleanup. */
const char *dfc_name(struct dfc *c, const char *label);
/** "_dnsfollow.dfc-LABEL.ZONE": the ownership marker of dfc_name(). */
const char *dfc_marker_name(struct dfc *c, const char *label);
/** 1 when `name` is `zone` or lies below it. */
int dfc_in_zone(const char *name, const char *zone);

/** 1 when the provider lists `type`. */
int dfc_has_type(const struct dfc *c, uint16_t type);

/* ---- the checks ---- */
void dfc_provider_checks(struct dfc *c);
/* prepare() and discover() (bsource.c). */
void dfc_backend_source_checks(struct dfc *c);
void dfc_backend_checks(struct dfc *c);
/** The markers() checks (markers.c), run by dfc_provider_checks. */
void dfc_marker_checks(struct dfc *c);
/** The labels of the markers those checks write (dfc_marker_name). */
extern const char *const dfc_marker_labels[];
extern const size_t dfc_nmarker_labels;

/* ---- record_keys defaults (keys.c) ---- */
/** The defaults of `keys` as a kv array with `num` filled in the way the
 *  core delivers them. 0, or -1 with why set for a default that does not
 *  parse (a bug of the plugin's key table). */
int dfc_key_defaults(const struct dnsfollow_key *keys, struct dnsfollow_kv **kv,
		     size_t *n, char *why, size_t cap);
void dfc_kv_free(struct dnsfollow_kv *kv, size_t n);

#endif
