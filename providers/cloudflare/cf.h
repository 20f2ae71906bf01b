/*
 * Cloudflare provider (API v4, API token): shared declarations.
 *
 *   call.c     one API call: rate limit, Bearer token, Cloudflare's error
 *              envelope turned into one line and an error class
 *   zone.c     zone id by name (once per zone), the record snapshot, the
 *              paged record lists
 *   read.c     read() and markers()
 *   apply.c    a changeset to record operations, batches of batch_max
 *   send.c     operations sent (one call, or one batch), snapshot followed
 *   plugin.c   keys, create/destroy, the ops table
 *
 * Written against the public SDK only (<dnsfollow/plugin.h>, jansson).
 */
#ifndef DF_CLOUDFLARE_H
#define DF_CLOUDFLARE_H

#include <dnsfollow/plugin.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

/* One record as Cloudflare holds it. */
struct cf_rec {
	char *id;
	char *name;    /* normalised: lower-case, no trailing dot */
	uint16_t type;
	char *data;    /* presentation form as the core exchanges it */
	uint32_t ttl;  /* 1 is Cloudflare's "automatic" */
	int proxied;
	int dead;      /* deleted by the apply() under way */
};

/* The TTL asked for a proxied RRset: Cloudflare stores those with TTL 1
 * ("automatic"), so read() reports what was asked instead of a TTL the
 * core could never reach. */
struct cf_want {
	char *name;
	uint16_t type;
	uint32_t ttl;
};

/* What is known of one zone. `all`: the snapshot holds every record of
 * the zone; else it holds exactly the records at `names`. */
struct cf_zone {
	char *name;
	char id[64]; /* "" until looked up */
	struct cf_rec *recs;
	size_t n, cap;
	char **names;
	size_t nnames;
	int all;
	struct cf_want *want;
	size_t nwant;
};

/* Client-side pacing (Cloudflare: 1,200 requests per 5 minutes per user):
 * a token bucket whose burst plus refill over any 5 minutes stays within
 * `limit`. */
struct cf_bucket {
	pthread_mutex_t mu;
	double rate;   /* tokens per ms; 0: no limit */
	double burst;
	double tokens;
	uint64_t last_ms;
};

struct cf {
	const struct dnsfollow_host *h;
	char *endpoint; /* no trailing slash */
	char *auth;     /* "Authorization: Bearer ..." */
	char *ca_file;  /* NULL for none */
	long timeout_ms;
	uint64_t per_page;
	size_t batch_max;
	struct cf_bucket *bucket; /* shared by instances with the same token */
	char **zone_names; /* from `zones`; NULL: any zone */
	size_t nzone_names;
	struct cf_zone *zones;
	size_t nzones;
	/* counters for tests and the benchmark */
	unsigned long calls, batches;
};

/* Names of the operations a change turns into. */
enum cf_opkind { CF_DEL, CF_PATCH, CF_PUT, CF_POST };

struct cf_op {
	enum cf_opkind kind;
	size_t change;        /* index in the changeset */
	size_t idx;           /* DEL, PATCH, PUT: the record's index in the
				 snapshot (stable during one apply()) */
	const char *id;       /* DEL, PATCH, PUT: the record's id */
	const char *name;     /* PUT, POST */
	uint16_t type;
	const char *data;     /* PUT, POST: presentation form */
	uint32_t ttl;
	int proxied;
};

/* call.c */
void cf_bucket_init(struct cf_bucket *b, uint64_t per_5min, uint64_t now_ms);
unsigned cf_bucket_take(struct cf_bucket *b, uint64_t now_ms);
void cf_bucket_destroy(struct cf_bucket *b);
struct cf_bucket *cf_bucket_get(const char *token, uint64_t per_5min, uint64_t now_ms);
void cf_bucket_put(struct cf_bucket *b);
int cf_call(struct cf *p, const char *method, const char *path,
	    const char *body, const char *what, json_t **doc);
int cf_is_loopback_url(const char *url);

/* zone.c */
int cf_zone_get(struct cf *p, const char *zone, struct cf_zone **out);
void cf_zone_forget(struct cf_zone *z);
void cf_zone_free(struct cf_zone *z);
int cf_zone_covers(const struct cf_zone *z, const char *name);
int cf_zone_load_names(struct cf *p, struct cf_zone *z, const char *const *names,
		       size_t n);
int cf_zone_load_all(struct cf *p, struct cf_zone *z);
int cf_list_query(struct cf *p, struct cf_zone *z, const char *query, const char *what);
int cf_rec_from_json(const struct dnsfollow_host *h, json_t *r, struct cf_rec *out);
void cf_rec_free(struct cf_rec *r);
int cf_zone_add(struct cf_zone *z, struct cf_rec *r);
void cf_zone_remove(struct cf_zone *z, const char *id);
int cf_data_equal(uint16_t type, const char *a, const char *b);
int cf_rec_cmp(const void *a, const void *b);
void cf_zone_sort(struct cf_zone *z);
void cf_zone_range(const struct cf_zone *z, const char *name, uint16_t type, size_t *lo,
		   size_t *hi);
void cf_zone_compact(struct cf_zone *z);
uint32_t cf_wanted_ttl(const struct cf_zone *z, const char *name, uint16_t type);
int cf_remember_ttl(struct cf_zone *z, const char *name, uint16_t type, uint32_t ttl);
int cf_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	    size_t nkeys, dnsfollow_rrset_cb emit, void *ctx);
int cf_markers(void *self, const char *zone, dnsfollow_rrset_cb emit, void *ctx);

/* apply.c, send.c */
int cf_send(struct cf *p, struct cf_zone *z, const struct cf_op *ops, size_t n);
int cf_apply(void *self, const struct dnsfollow_changeset *cs);

#define PROXIABLE(t) ((t) == DNSFOLLOW_TYPE_A || (t) == DNSFOLLOW_TYPE_AAAA || (t) == DNSFOLLOW_TYPE_CNAME)
#define CF_NAME_TYPE(t) ((t) == DNSFOLLOW_TYPE_CNAME || (t) == DNSFOLLOW_TYPE_NS)
/* read() asks by name for this many names at most, else lists the zone
 * (one call for most zones, at per_page records a call). */
#define CF_NAME_QUERIES 1

#endif
