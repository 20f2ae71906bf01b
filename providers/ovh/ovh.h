/*
 * OVH provider: names shared between the files of this plugin (all carry
 * the ovh_ prefix and stay hidden: only the descriptor is exported).
 *
 *   plugin.c   descriptor, config keys, create/destroy
 *   conf.c     python-ovh's ovh.conf files
 *   creds.c    credentials by precedence (config, environment, files),
 *              endpoints
 *   sign.c     request signature, URL escaping and building
 *   bucket.c   token bucket (client-side rate limit)
 *   call.c     one signed API call: time delta, errors, retries
 *   batch.c    running many calls on max_inflight threads
 *   refresh.c  publishing staged changes, and refreshes still owed
 *   cache.c    record ids and contents between passes
 *   zone.c     a zone read whole, validated by its SOA serial
 *   records.c  read() and apply()
 *   markers.c  markers(): the zone's ownership markers
 */
#ifndef OVH_OVH_H
#define OVH_OVH_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/plugin.h>

#define OVH_SIG_LEN 44 /* "$1$" + 40 hex + NUL */

/* ---- credentials (creds.c) ---- */

struct ovh_creds {
	char *endpoint; /* name ("ovh-eu") or base URL */
	char *application_key;
	char *application_secret;
	char *consumer_key;
	/* Where each key came from (a file path, an OVH_* variable or the
	 * provider section), for messages: names only, never values. */
	char *ak_from, *as_from, *ck_from;
};

/* One parsed ovh.conf (conf.c): (section, key, value) triplets with the
 * line of each, and the sections in order with their lines. */
struct ovh_conf {
	const char *path;
	size_t n, cap;
	char **sec, **key, **val;
	int *line;
	size_t nsec;
	char **secs;
	int *sline;
	int oom;
};

/* Read and parse `path` through host->read_file (h may be NULL: plain
 * reads). -ENOENT when it does not exist (err empty). Other failures give
 * a negative code and one line "FILE:LINE: reason" in err; when err is
 * left empty the host has set the error text already. */
int ovh_conf_load(const struct dnsfollow_host *h, const char *path,
		  struct ovh_conf *c, char *err, size_t errlen);
/* Parse text[0..len) (the fuzz target's entry). Same errors. */
int ovh_conf_parse(const char *path, const char *text, size_t len,
		   struct ovh_conf *c, char *err, size_t errlen);
void ovh_conf_free(struct ovh_conf *c);
/* Value of `key` (case ignored) in section `sec`, or NULL. */
const char *ovh_conf_get(const struct ovh_conf *c, const char *sec,
			 const char *key);
/* 1 when section `sec` holds at least one key. */
int ovh_conf_has_section(const struct ovh_conf *c, const char *sec);
/* Line of the value ovh_conf_get() returns (key NULL: of the [sec]
 * header), 0 when there is none. */
int ovh_conf_line(const struct ovh_conf *c, const char *sec, const char *key);

/* Parse one ovh.conf file into `cr`, filling only fields still NULL.
 * `section` is the endpoint whose keys are wanted (NULL: the file's
 * [default] endpoint). Returns 0, -ENOENT when the file does not exist,
 * or another negative code with a one-line reason in err. */
int ovh_conf_merge(const char *path, const char *section,
		   struct ovh_creds *cr, char *err, size_t errlen);

/* Resolve credentials by precedence: explicit config values (cfg_*), then
 * OVH_* environment, then files (`credentials` if given, else the search
 * list `paths`, NULL-ended, highest priority first, merged key by key).
 * Returns 0 or a negative code with err set (or left empty when
 * host->read_file() has reported the failure itself). Files readable by
 * their group or others are warned about by host->read_file(). */
int ovh_creds_resolve(const struct dnsfollow_host *h,
		      const struct ovh_creds *cfg, const char *credentials,
		      const char *const *paths, struct ovh_creds *out,
		      char *err, size_t errlen);
void ovh_creds_free(struct ovh_creds *c);
/* "application_key from X, application_secret from Y, consumer_key from Z"
 * ("no KEY" for a missing one) into out. */
void ovh_creds_sources(const struct ovh_creds *c, char *out, size_t cap);
/* python-ovh's search list, highest priority first, into paths[0..4)
 * (NULL-ended); `buf` holds the expanded ~/.ovh.conf. */
void ovh_default_paths(char *buf, size_t cap, const char *paths[4]);

/* Base URL (no trailing slash) of an endpoint name or URL into *url
 * (malloc'd). -EINVAL with err set for an unknown name, a scheme other
 * than https://, or http:// to a host that is not loopback. */
int ovh_endpoint_url(const char *endpoint, char **url, char *err,
		     size_t errlen);

/* ---- signing and URLs (sign.c) ---- */

/* "$1$" + hex SHA1(AS+CK+METHOD+URL+BODY+TS joined by "+") into out. */
int ovh_sign(const char *as, const char *ck, const char *method,
	     const char *url, const char *body, int64_t ts,
	     char out[OVH_SIG_LEN]);

/* malloc'd "/domain/zone/ZONE/record?fieldType=T&subDomain=S" (without
 * the subDomain filter when sub is NULL) etc., each part escaped with
 * h->url_escape. */
char *ovh_path_records(const struct dnsfollow_host *h, const char *zone,
		       const char *ftype, const char *sub);
char *ovh_path_record(const struct dnsfollow_host *h, const char *zone,
		      uint64_t id);
char *ovh_path_zone(const struct dnsfollow_host *h, const char *zone,
		    const char *tail);

/* The subDomain of `name` in `zone` ("" for the apex) into out; -1 when
 * the name is not inside the zone or does not fit. */
int ovh_subdomain(const char *name, const char *zone, char *out, size_t cap);

/* ---- token bucket (bucket.c) ---- */

struct ovh_bucket {
	pthread_mutex_t mu;
	double rate;  /* tokens per second; 0 = unlimited */
	double burst; /* capacity */
	double tokens;
	uint64_t last_ms;
};

void ovh_bucket_init(struct ovh_bucket *b, double rate, double burst,
		     uint64_t now_ms);
void ovh_bucket_destroy(struct ovh_bucket *b);
/* Reserve one token; returns how many ms the caller must wait before
 * sending (0: send now). Reservations queue up fairly across threads. */
unsigned ovh_bucket_take(struct ovh_bucket *b, uint64_t now_ms);

/* ---- record cache (cache.c) ---- */

struct ovh_rec {
	char *zone;
	char *name; /* absolute, lower case */
	uint16_t type;
	uint64_t id;
	uint32_t ttl;
	char *target; /* normalised: TXT unquoted, addresses canonical */
	uint64_t stamp_ms; /* when it was read or written */
	/* From a zone-wide read (zone.c): type 0 is a record of a type this
	 * plugin does not manage (OVH never changes a record's fieldType,
	 * so it is not fetched again); bad is one whose target does not
	 * parse (target ""), an error when its RRset is read. */
	int bad;
};

/* What the cache knows of a zone as a whole (zone.c). */
struct ovh_zstate {
	char *zone;
	uint64_t serial; /* SOA serial read before the contents were */
	int valid;       /* every id of the zone cached as of `serial` */
	uint64_t lent_ms; /* validated by markers() for the next read() */
};

struct ovh_cache {
	pthread_mutex_t mu;
	struct ovh_rec *v;
	size_t n, cap;
	struct ovh_zstate *zs;
	size_t nzs;
};

void ovh_cache_init(struct ovh_cache *c);
void ovh_cache_destroy(struct ovh_cache *c);
/* Add or replace by (zone, id). Returns 0 or -ENOMEM. */
int ovh_cache_put(struct ovh_cache *c, const struct ovh_rec *r);
/* 1 if (zone, id) is cached and stamped at or after `min_stamp`. */
int ovh_cache_get(struct ovh_cache *c, const char *zone, uint64_t id,
		  uint64_t min_stamp);
void ovh_cache_del(struct ovh_cache *c, const char *zone, uint64_t id);
/* Forget every entry of (zone, name, type). */
void ovh_cache_forget(struct ovh_cache *c, const char *zone,
		      const char *name, uint16_t type);
/* Forget entries of (zone, name, type) whose id is not in ids[0..n). */
void ovh_cache_keep_only(struct ovh_cache *c, const char *zone,
			 const char *name, uint16_t type, const uint64_t *ids,
			 size_t n);
/* Copies of the entries of (zone, name, type), sorted by id; caller
 * frees with ovh_recs_free(). Returns the count, or -ENOMEM. */
long ovh_cache_list(struct ovh_cache *c, const char *zone, const char *name,
		    uint16_t type, struct ovh_rec **out);
void ovh_recs_free(struct ovh_rec *v, size_t n);
/* Forget entries of `type` in `zone`, whatever their name, whose id is
 * not in ids[0..n) (a zone-wide list call's answer). */
void ovh_cache_keep_type(struct ovh_cache *c, const char *zone, uint16_t type,
			 const uint64_t *ids, size_t n);
/* What the cache knows of (zone, id), copied. */
struct ovh_peek {
	char name[256];
	uint16_t type;
	uint64_t stamp_ms;
};
/* 1 and *out filled when (zone, id) is cached, else 0. */
int ovh_cache_peek(struct ovh_cache *c, const char *zone, uint64_t id,
		   struct ovh_peek *out);
/* The distinct names of `zone`'s entries of `type` that start with
 * `prefix`, sorted, into *out (malloc'd; free with ovh_names_free()).
 * Returns the count, or -ENOMEM. */
long ovh_cache_names(struct ovh_cache *c, const char *zone, uint16_t type,
		     const char *prefix, char ***out);
void ovh_names_free(char **v, size_t n);
/* Forget every entry of `zone` whose id is not in ids[0..n) (the zone's
 * whole record list). */
void ovh_cache_keep_zone(struct ovh_cache *c, const char *zone,
			 const uint64_t *ids, size_t n);

/* apply()'s per-key lists (ovh_keys_fetch) fetch contents read more
 * than this long ago again; read() and markers() go by the zone's SOA
 * serial instead (zone.c). */
#define OVH_CACHE_MAX_AGE_MS (300u * 1000u)

/* ---- the instance ---- */

struct ovh {
	const struct dnsfollow_host *h;
	char *base; /* API base URL, no trailing slash */
	struct ovh_creds cr;
	char *ca_file;
	long timeout_ms;
	unsigned max_inflight;
	struct ovh_bucket bucket;
	struct ovh_cache cache;
	pthread_mutex_t time_mu;
	unsigned time_gen; /* 0: delta not fetched yet; bumped per fetch */
	int64_t delta;     /* server clock minus ours, seconds */
};

/* create() with an explicit credentials search list instead of
 * python-ovh's (tests use it so files on the machine do not matter). */
int ovh_create_with_paths(const struct dnsfollow_host *h,
			  const struct dnsfollow_kv *cfg, size_t n,
			  const char *const *paths, void **self);

/* ---- API calls (call.c, batch.c) ---- */

enum { OVH_MAYBE_DONE = 1, OVH_MAYBE_LATER = 2 };

/* One API call and its outcome. `path` is relative to the base URL and
 * already escaped; `body` is the exact JSON text to send or NULL. */
struct ovh_req {
	const char *method;
	char *path; /* owned */
	char *body; /* owned */
	int idempotent; /* may be retried after a 5xx or a timeout */
	void *user;

	int done;
	int rc;
	long status;
	/* The server may have acted on an attempt that failed: MAYBE_DONE
	 * after a 5xx (it has finished with it), MAYBE_LATER when no answer
	 * came (it may still be working on it). */
	int maybe_applied;
	int cred_refused;  /* OVH rejected the key, secret or consumer key */
	json_t *json; /* parsed answer, NULL when empty or null */
	/* What went wrong, malloc'd (NULL: nothing, or out of memory). Peer
	 * text is kept whole: the host masks secrets before it bounds a
	 * line, so a cut made here could leave part of a secret unmasked. */
	char *err;
};

/* Perform one call with signing, rate limit and bounded retries. Fills
 * r->rc (0 for any 2xx) and r->err; never calls host->error. */
void ovh_call(struct ovh *o, struct ovh_req *r);
/* Fetch the server clock delta (GET /auth/time) again, unless another
 * thread did since generation `seen_gen` was used. */
int ovh_time_sync(struct ovh *o, unsigned seen_gen);
/* r->err = "METHOD PATH: " + the formatted text (replacing any). */
void ovh_req_set_err(struct ovh_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Code and text for an OVH error answer (either shape): *text is
 * malloc'd (NULL when out of memory), whole and on one line, control
 * bytes made spaces; *cred is set when OVH refused the credentials. */
int ovh_answer_text(long status, const char *body, const char *headers,
		    char **text, int *cred);
/* The same into a buffer (cut to cap: for tests and the fuzzer). */
int ovh_error_from_answer(long status, const char *body, const char *headers,
			  char *out, size_t cap);
/* Milliseconds a Retry-After value asks for: delta-seconds or an HTTP
 * date (compared with `server_now`, the server's clock in seconds),
 * capped at an hour; 0 for a date already past; a default for a value
 * that is neither. */
unsigned ovh_retry_after_ms(const char *value, int64_t server_now);

/* Run reqs[0..n) on up to max_inflight threads. Stops starting new calls
 * after a permanent error. Reports nothing: see ovh_worst(). */
void ovh_batch(struct ovh *o, struct ovh_req *reqs, size_t n);
/* The worst outcome of reqs[0..n) (a 404 counts as an answer, not an
 * error), reported through host->error; 0 when all went well. */
int ovh_worst(struct ovh *o, struct ovh_req *reqs, size_t n);
/* The same without reporting: the worst request, or NULL. */
const struct ovh_req *ovh_worst_req(const struct ovh_req *reqs, size_t n);
/* Report r's failure (its rc and text, plus where each credential came
 * from when OVH refused them) through host->error; returns r->rc. */
int ovh_report(struct ovh *o, const struct ovh_req *r);

/* ---- publishing (refresh.c) ---- */

/* POST /domain/zone/{zone}/refresh. On failure the zone is remembered as
 * unpublished, *err set to a malloc'd reason and *cred when OVH refused
 * the credentials (not reported); on success it is forgotten. */
int ovh_refresh(struct ovh *o, const char *zone, char **err, int *cred);
/* Remember that `zone` (of o's endpoint) must be refreshed before its
 * next read, by this instance or any later one of this process. */
int ovh_unpublished_mark(struct ovh *o, const char *zone);
/* 1 when `zone` owes a refresh, 2 when this process meets it for the
 * first time (an earlier run may have left changes staged), 0 when it
 * owes none or in a dry run. */
int ovh_unpublished_owed(struct ovh *o, const char *zone);
/* Send the refresh `zone` still owes, if any; reports its failure. */
int ovh_unpublished_flush(struct ovh *o, const char *zone);
void ovh_req_clear(struct ovh_req *r);

/* ---- a zone read whole (zone.c) ---- */

/* How ovh_zone_sync() is called: by markers(), which leaves the zone
 * validated for the read() that follows it in the same pass; by read(),
 * which takes that instead of asking again. */
enum { OVH_SYNC_LEND = 1, OVH_SYNC_TAKE = 2 };
/* A read() this long after markers() validated the zone trusts it. */
#define OVH_LEND_MS 10000u
/* Bring the cache up to date with `zone`: GET .../soa and GET .../record
 * (ids), then GET each record the cache lacks, or, when the serial moved
 * since the cache was last validated, each record of a managed type.
 * Errors are reported through host->error. */
int ovh_zone_sync(struct ovh *o, const char *zone, int mode);
/* The cache may no longer hold `zone` as OVH has it (our own writes, a
 * refresh we sent, a failure): the next sync reads it again. */
void ovh_zone_stale(struct ovh *o, const char *zone);

/* ---- provider ops (records.c, apply.c) ---- */

/* One (name, type) being worked on. */
struct ovh_key {
	char name[256]; /* absolute, lower case */
	char sub[256];  /* subDomain: name without the zone ("" at apex) */
	uint16_t type;
	uint64_t *ids;  /* ids the last list call returned */
	size_t nids;
};

/* Fill k for (name, type) in zone; host->error and a code on bad input. */
int ovh_key_init(struct ovh *o, struct ovh_key *k, const char *zone,
		 const char *name, uint16_t type);
void ovh_keys_free(struct ovh_key *k, size_t n);
/* CNAME exclusivity (exclusive.c): -EEXIST (error text set, res[] of
 * the change) when a SET would put a CNAME beside other data at a name,
 * or other data beside a CNAME, as far as the changeset and the cache
 * tell; 0 otherwise. */
int ovh_check_cname(struct ovh *o, const char *zone, const struct ovh_key *k,
		    const struct dnsfollow_change *changes, size_t n, int *res);
/* List the ids of every key and fetch what the cache lacks. */
int ovh_keys_fetch(struct ovh *o, const char *zone, struct ovh_key *k,
		   size_t n);
void ovh_reqs_free(struct ovh_req *r, size_t n);

int ovh_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	     size_t nkeys, dnsfollow_rrset_cb emit, void *ctx);
int ovh_apply(void *self, const struct dnsfollow_changeset *cs);
/* markers.c: every "_dnsfollow." TXT RRset of the zone. */
int ovh_markers(void *self, const char *zone, dnsfollow_rrset_cb emit,
		void *ctx);
/* -EPROTO (reported) when a cached record of (name, type) in `zone` has
 * a target that does not parse; 0 otherwise. */
int ovh_rrset_check(struct ovh *o, const char *zone, const char *name,
		    uint16_t type);
/* Emit the cached RRset (name, type) of `zone` as read() does (nothing
 * when the cache holds none); returns emit's code or -ENOMEM. */
int ovh_emit_rrset(struct ovh *o, const char *zone, const char *name,
		   uint16_t type, dnsfollow_rrset_cb emit, void *ctx);

/* The RR types this plugin manages (0-terminated; the ops' `types`). */
extern const uint16_t ovh_types[];
/* 1 when `type` is one of ovh_types. */
int ovh_type_ok(uint16_t type);

/* The ids of a list answer (a JSON array of positive integers; NULL is
 * an empty list) into *ids, malloc'd. Returns the count, -EPROTO for
 * anything else, or -ENOMEM. */
long ovh_ids_parse(const json_t *j, uint64_t **ids);
/* The fields of one record answer (GET .../record/{id}), borrowed from
 * j. type is 0 for a fieldType this plugin does not manage (named by
 * h->type_code); ttl 0 when absent or out of range. -EPROTO without
 * fieldType or target. */
struct ovh_fields {
	const char *ft, *sub, *target;
	uint16_t type;
	uint32_t ttl;
};
int ovh_record_fields(const struct dnsfollow_host *h, const json_t *j,
		      struct ovh_fields *f);
/* Cache record `id` of `zone` under the name its subDomain gives (into
 * name[0..cap), "" when it gives none) and its own type. 0 when cached;
 * 1 when it cannot be (a type this plugin does not manage, no subDomain,
 * or one that makes no DNS name); -EPROTO for a target that does not
 * parse; -ENOMEM. */
int ovh_file_record(struct ovh *o, const char *zone, uint64_t id,
		    const struct ovh_fields *f, char *name, size_t cap);

/* Normalise a target as read from OVH: TXT quotes removed and escapes
 * undone, addresses in canonical text, CNAME targets as the core writes
 * names (h->name_normalise). malloc'd; NULL on bad input. */
char *ovh_target_normalise(const struct dnsfollow_host *h, uint16_t type,
			   const char *target);

#endif /* OVH_OVH_H */
