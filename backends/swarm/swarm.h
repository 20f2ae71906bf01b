/*
 * Docker Swarm backend: names shared between the plugin's files.
 *
 *   config.c   keys → struct swarm_cfg (transport, address and name sources)
 *   api.c      requests to the Docker Engine API, status → error code
 *   parse.c    task / node JSON → plain structs, address selection
 *   events.c   line buffering and parsing of the /events stream
 *   select.c   placement rules on parsed answers, fingerprint
 *   resolve.c  one resolution: fetch tasks + nodes, then select
 *   services.c the /services answer: labels, the name → ID map
 *   snap.c     one snapshot for many queries: /tasks + /nodes once
 *   discover.c the discover and prepare ops
 *   watch.c    the event-stream and watcher threads, the wake-up fd
 *   wset.c     the watch set: the queries the core said it asks
 *   plugin.c   the descriptor, the key tables and the ops
 */
#ifndef SWARM_H
#define SWARM_H

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <dnsfollow/plugin.h>

#define SWARM_API_VERSION "1.41" /* Engine 20.10; the oldest we accept */
#define SWARM_ERRLEN 512
/* Default longest stretch of fast polling after an event or while a task
 * moves (settle_max_ms): a task pending for ever must not keep us polling
 * 10 times a second. */
#define SWARM_SETTLE_MAX_MS 60000u
#define SWARM_ID_MAX 128   /* Swarm ids are 25 chars; leave room */
#define SWARM_HOST_MAX 256 /* a DNS host name fits */
/* Task lists include each slot's history (5 tasks by default): 32 MiB is
 * thousands of replicas. Bigger answers are refused. */
#define SWARM_MAX_BODY (32u << 20)
/* Longest encoded filter of service IDs in one /tasks URL. Beyond it
 * (some 240 services) the snapshot asks for every task and keeps its
 * own: socket proxies such as HAProxy refuse request lines near 16 KiB. */
#define SWARM_FILTER_MAX 8192u
/* A map entry /services gave this recently (discover, in the same pass)
 * stands for a fresh look at /services. */
#define SWARM_MAP_FRESH_MS 2000u
#define SWARM_SETTLE_MIN_MS 3000u /* the orchestrator may take a moment */

/* One `node.HOSTNAME = ADDRESS` or `node.HOSTNAME = DNS-NAME` entry. */
struct swarm_map {
	char *host;
	char *addr; /* the address, or the DNS name (normalised) */
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC for a DNS name */
};

/* host->name_normalise: lower-case, no trailing dot, or -EINVAL. */
typedef int (*swarm_normalise_fn)(const char *in, char *out, size_t cap);

/* Where a node's address and DNS name may come from, in this order:
 * node label, then map, then (addresses only) what the engine reports. */
struct swarm_addrcfg {
	const char *label4; /* node label holding the IPv4, or NULL */
	const char *label6;
	const struct swarm_map *map;
	size_t nmap;
	int allow_loopback;
	const char *label_name; /* node label holding its DNS name, or NULL */
	swarm_normalise_fn normalise; /* checks DNS names; NULL: none taken */
};

struct swarm_cfg {
	char *socket;   /* unix socket path, or NULL for TCP */
	char *base;     /* "http://localhost" or "https://HOST:PORT" */
	char *tls_ca, *tls_cert, *tls_key;
	char *label4, *label6;
	struct swarm_map *map;
	size_t nmap;
	char *label_name;
	char *label_prefix; /* service labels: <prefix>.name, <prefix>.KEY */
	swarm_normalise_fn normalise;
	int allow_loopback;
	int events; /* 0: no stream, no watcher (core's interval only) */
	unsigned poll_ms;
	unsigned settle_max_ms;
	long timeout_ms;
};

/* The kv are typed and defaulted by the core (see plugin.c's table);
 * `normalise` checks the DNS names of the map. */
int swarm_cfg_parse(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
		    size_t n, swarm_normalise_fn normalise, char *err,
		    size_t errlen);
/* A DNS name a CNAME may point to, normalised into out[cap]: at least
 * two labels, the last not all digits (a mistyped address). 0 or -1. */
int swarm_dns_name(swarm_normalise_fn normalise, const char *in, char *out,
		   size_t cap);
void swarm_cfg_free(struct swarm_cfg *c);
void swarm_addrcfg_of(const struct swarm_cfg *c, struct swarm_addrcfg *ac);

/* ---- parse.c ---- */

struct swarm_node {
	char id[SWARM_ID_MAX];
	char host[SWARM_HOST_MAX];
	int ready;  /* Status.State == "ready" */
	char state[16]; /* Status.State as sent ("unknown", "down", ...) */
	int active; /* Spec.Availability == "active" */
	char addr4[INET_ADDRSTRLEN];   /* "" when none */
	char addr6[INET6_ADDRSTRLEN];
	char dns[SWARM_HOST_MAX]; /* its DNS name (CNAME target), "" if none */
	char problem[256]; /* why its address is unusable, "" if fine */
};

struct swarm_nodes {
	struct swarm_node *v;
	size_t n;
};

struct swarm_task {
	char node[SWARM_ID_MAX]; /* "" while unassigned */
	char service[SWARM_ID_MAX]; /* ServiceID, "" if none */
	int desired; /* SWARM_TS_* of DesiredState */
	int state;   /* SWARM_TS_* of Status.State */
};

struct swarm_tasks {
	struct swarm_task *v;
	size_t n;
};

/* Task states that matter here; everything else is SWARM_TS_OTHER. */
enum {
	SWARM_TS_OTHER = 0, /* new .. starting: on its way */
	SWARM_TS_READY,     /* desired "ready": waits for the old to stop */
	SWARM_TS_RUNNING,
	SWARM_TS_DONE,      /* complete, shutdown, failed, rejected, ... */
};

int swarm_parse_nodes(const char *body, size_t len,
		      const struct swarm_addrcfg *ac, struct swarm_nodes *out,
		      char *err, size_t errlen);
void swarm_nodes_free(struct swarm_nodes *n);
int swarm_parse_tasks(const char *body, size_t len, struct swarm_tasks *out,
		      char *err, size_t errlen);
void swarm_tasks_free(struct swarm_tasks *t);
const struct swarm_node *swarm_nodes_find(const struct swarm_nodes *ns,
					  const char *id);
/* Fill node->addr4/addr6/problem from its labels and addresses. */
void swarm_pick_addrs(const struct swarm_addrcfg *ac, struct swarm_node *nd,
		      const char *label4_val, const char *label6_val,
		      const char *manager_addr, const char *status_addr);
/* Fill node->dns from its name label or the map (problem when bad). */
void swarm_pick_name(const struct swarm_addrcfg *ac, struct swarm_node *nd,
		     const char *label_val);
/* "message" of an engine error body, made one printable line and
 * copied into buf; NULL when there is none. */
const char *swarm_error_message(const char *body, size_t len, char *buf,
				size_t buflen);
/* Parse "MAJOR.MINOR" into major*1000+minor; -1 if malformed. */
int swarm_parse_api_version(const char *s);

/* ---- events.c ---- */

#define SWARM_LINE_MAX 65536

/* Collects stream chunks into lines; a line longer than SWARM_LINE_MAX is
 * reported once as an overlong (unparseable) line. */
struct swarm_linebuf {
	char buf[SWARM_LINE_MAX];
	size_t len;
	int overflow;
};

typedef void (*swarm_line_cb)(void *ctx, const char *line, size_t len);
void swarm_linebuf_feed(struct swarm_linebuf *lb, const char *data, size_t n,
			swarm_line_cb cb, void *ctx);

enum {
	SWARM_EV_IGNORE = 0, /* blank line, keep-alive, other types */
	SWARM_EV_RELEVANT,   /* a service or node event */
	SWARM_EV_GARBAGE,    /* unparseable: treat as relevant, to be safe */
	SWARM_EV_ERROR,      /* {"message": ...}: an error body, not an event */
};
/* Who a service event is about (Actor.Attributes.name, Actor.ID). */
struct swarm_actor {
	int service; /* 1: a service event; name and id say which */
	char name[SWARM_HOST_MAX];
	char id[SWARM_ID_MAX];
};
/* `actor` may be NULL. */
int swarm_parse_event(const char *line, size_t len, char *what,
		      size_t whatlen, struct swarm_actor *actor);

/* ---- api.c ---- */

struct swarm;
int swarm_api_get(struct swarm *sw, const char *path_query,
		  struct dnsfollow_http_response *resp, char *err,
		  size_t errlen);
int swarm_api_ensure_version(struct swarm *sw, char *err, size_t errlen);
int swarm_api_stream(struct swarm *sw, const char *path_query,
		     int (*on_data)(void *, const char *, size_t),
		     int (*cancelled)(void *), void *ctx, long *status,
		     char *err, size_t errlen);
/* Why a request over unix socket `path` failed with *rc, as one line
 * saying what to check (it probes the path); may change *rc. */
int swarm_socket_why(const char *path, int *rc, char *buf, size_t len);
/* "/tasks?filters=..." for `service`, URL-encoded JSON (with the host's
 * url_escape). Caller frees. */
char *swarm_tasks_path(const struct dnsfollow_host *h, const char *service);
/* "/events?filters=..." for service and node events. Caller frees. */
char *swarm_events_path(const struct dnsfollow_host *h);
/* "PREFIX?filters=" + URL-encoded {"KEY":[vals...]}. Caller frees. */
char *swarm_filter_path(const struct dnsfollow_host *h, const char *prefix,
			const char *key, const char *const *vals, size_t nvals);
/* Map an engine answer to 0 or a negative code with a message. */
int swarm_api_status(long status, const char *body, size_t len,
		     const char *what, char *err, size_t errlen);

/* ---- select.c, resolve.c ---- */

enum { SWARM_TARGET_TASKS = 0, SWARM_TARGET_READY_NODES = 1 };

/* The answer to one query: nodes (sorted by id) with their addresses. */
struct swarm_result {
	struct swarm_node *v;
	size_t n;
	int unsettled; /* some task is on its way up or down; also set with
			  a "not known yet" error (a move, nodes unknown) */
};

int swarm_select(const struct swarm_tasks *ts, const struct swarm_nodes *ns,
		 int target, struct swarm_result *out, char *err,
		 size_t errlen);
int swarm_resolve_now(struct swarm *sw, const char *service, int target,
		      struct swarm_result *out, char *err, size_t errlen);
/* GET /nodes, parsed with the instance's address sources. */
int swarm_get_nodes(struct swarm *sw, struct swarm_nodes *ns, char *err,
		    size_t errlen);
/* Whether the engine's node list is a settled view of the swarm: some
 * node ready (the engine itself) and none "unknown" (a leader elected a
 * moment ago). DNSFOLLOW_E_TEMPORARY with a message otherwise. */
int swarm_view_settled(const struct swarm_nodes *ns, char *err,
		       size_t errlen);
void swarm_result_free(struct swarm_result *r);
/* A short text identifying the result, for change detection. Frees with
 * free(). */
char *swarm_result_fingerprint(const struct swarm_result *r);

/* ---- watch.c ---- */

int swarm_watch_start(struct swarm *sw, char *err, size_t errlen);
void swarm_watch_stop(struct swarm *sw);
void swarm_wake(struct swarm *sw, const char *why);

/* ---- wset.c ---- */

/* One query the core said it asks (watch_set). */
struct swarm_watched {
	char *service;
	int target;
	char *fp;          /* last fingerprint given to the core */
	char *announced;   /* the change the watcher last woke the core for */
	uint64_t hot_from_ms; /* polled fast since (an event, a move); 0: not */
	uint64_t unsettled_since_ms; /* some task of it moving since; 0: not */
};

/* Replace the watch set with `qs` (fingerprints of queries kept carry
 * over). Returns 0, or a negative code with a message in err. */
int swarm_wset_replace(struct swarm *sw, const struct dnsfollow_query *const *qs,
		       size_t n, char *err, size_t errlen);
/* Remember what resolve() told the core, for the watcher to compare; a
 * query outside the watch set is not remembered. */
void swarm_watch_note(struct swarm *sw, const char *service, int target,
		      const char *fingerprint);
/* Whether an event may concern what this instance watches: node events
 * and unreadable ones always; a service event only for a watched
 * service (by name, or by ID or ID prefix), or for any service as long
 * as the core never told us what it asks. */
int swarm_wset_concerns(struct swarm *sw, const struct swarm_actor *a);
/* Poll fast from now on the queries an event concerns (all of them for
 * a node event, an unreadable one or a NULL actor; by service otherwise)
 * and wake the watcher; returns whether it concerns this instance, as
 * swarm_wset_concerns says. */
int swarm_wset_heat(struct swarm *sw, const struct swarm_actor *a);
/* resolve() saw `service` move: poll it fast, unless it has been moving
 * for longer than a fast window lasts (stuck: pending for want of
 * resources, crash-looping). */
void swarm_wset_follow(struct swarm *sw, const char *service, int target);
/* After the watcher checked a query: update its fast/moving state. */
void swarm_wset_checked(struct swarm *sw, const char *service, int target,
			int unsettled, uint64_t now);
void swarm_wset_free(struct swarm *sw);
/* The target of a query (ENUM record key, index = SWARM_TARGET_*), or
 * -1 when out of range. */
int swarm_target_of(const struct dnsfollow_query *q);

/* ---- services.c: the /services answer ---- */

/* A service's ID and name: what a query's `service` is matched against. */
struct swarm_svcid {
	char id[SWARM_ID_MAX];
	char name[SWARM_HOST_MAX];
	uint64_t seen_ms; /* when /services last said so (map entries) */
};

struct swarm_service {
	struct swarm_svcid sid;
	int has_name;      /* <prefix>.name is there (it may name nothing) */
	char *name_label;  /* its text as sent, for messages */
	char **names;      /* split at commas, trimmed, empty ones dropped */
	size_t nnames;
	struct dnsfollow_kv *keys; /* every other <prefix>.KEY: KEY = text,
				      sorted by KEY */
	size_t nkeys;
};

struct swarm_services {
	struct swarm_service *v;
	size_t n;
};

/* A service list; `prefix` NULL: IDs and names only. Anything but a list
 * of objects with an ID, a Spec.Name and string labels fails the whole
 * answer with one message. */
int swarm_parse_services(const char *body, size_t len, const char *prefix,
			 struct swarm_services *out, char *err, size_t errlen);
void swarm_services_free(struct swarm_services *s);

/* Which service IDs the names of queries stand for (from /services). */
struct swarm_svcmap {
	struct swarm_svcid *v;
	size_t n;
};
/* Docker's own lookup: full ID, then exact name, then an ID prefix.
 * 0 (*out set), -ENOENT, or -EAGAIN when the prefix is ambiguous. */
int swarm_svcmap_find(const struct swarm_svcmap *m, const char *q,
		      const struct swarm_svcid **out);
/* Add or replace (same ID or same name) one entry; 0 or -ENOMEM. */
int swarm_svcmap_put(struct swarm_svcmap *m, const struct swarm_svcid *s);
/* Replace the whole map with the services of `ss`; 0 or -ENOMEM. */
int swarm_svcmap_set(struct swarm_svcmap *m, const struct swarm_services *ss);
void swarm_svcmap_free(struct swarm_svcmap *m);

/* ---- snap.c: one fetch for many queries ---- */

struct swarm_asked {
	char *service; /* as the query gives it */
	int rc;        /* 0, -ENOENT (no such service), -EAGAIN (ambiguous) */
	char id[SWARM_ID_MAX];
};

struct swarm_snap {
	int rc;                 /* non-zero: the fetch failed, err says why */
	char err[SWARM_ERRLEN];
	struct swarm_asked *asked;
	size_t nasked;
	struct swarm_tasks ts;  /* tasks of the services asked (maybe more) */
	struct swarm_nodes ns;
};

/* Fetch what `services` need: /tasks once (their IDs as filter; every
 * task when the filter would be too long) and /nodes once (or take
 * *reuse, emptied). `map` is refreshed with GET /services only when a
 * service is not in it or an ID in it is gone. Returns snap->rc. */
int swarm_snap_fetch(struct swarm *sw, struct swarm_svcmap *map,
		     const char *const *services, size_t n,
		     struct swarm_nodes *reuse, struct swarm_snap *snap);
/* Whether `service` was one of the snapshot's. */
int swarm_snap_covers(const struct swarm_snap *s, const char *service);
/* The answer for one query, exactly as swarm_resolve_now would give it. */
int swarm_snap_select(const struct swarm_snap *s, const char *service,
		      int target, struct swarm_result *out, char *err,
		      size_t errlen);
void swarm_snap_free(struct swarm_snap *s);
/* GET /services (label filter when `label` is not NULL) parsed with
 * `prefix`. */
int swarm_get_services(struct swarm *sw, const char *label, const char *prefix,
		       struct swarm_services *out, char *err, size_t errlen);

/* ---- discover.c ---- */

int swarm_discover(struct swarm *sw, dnsfollow_discover_cb emit, void *ctx);
int swarm_prepare(struct swarm *sw, const struct dnsfollow_query *const *qs,
		  size_t n);
/* Whether resolve() answers `service` from prepare()'s snapshot. */
int swarm_snap_usable(struct swarm *sw, const char *service);
void swarm_discover_free(struct swarm *sw);

struct swarm {
	const struct dnsfollow_host *host;
	struct swarm_cfg cfg;

	/* Core thread only (discover, prepare, resolve). */
	struct swarm_svcmap map;   /* names → IDs, from /services */
	struct swarm_snap snap;    /* prepare()'s snapshot ... */
	int has_snap;              /* ... while a pass uses it */
	uint64_t snap_ms;          /* when prepare() took it */
	struct swarm_nodes disc_nodes; /* discover()'s /nodes, for prepare */
	uint64_t disc_nodes_ms;    /* when it was read; 0: none */
	char **warned;             /* "ID name-label" already logged */
	size_t nwarned;

	pthread_mutex_t mu; /* guards everything below */
	int api_version; /* negotiated, major*1000+minor; 0: ask the engine */
	int stop;
	int discovering; /* discover() was called: any service event counts */
	int wakefd;
	pthread_cond_t cond; /* the watcher sleeps on it (CLOCK_MONOTONIC) */
	uint64_t next_poll_ms;
	struct swarm_watched *watched; /* the watch set, any size */
	size_t nwatched;
	int wset_given; /* watch_set was called at least once */
	pthread_t ev_thread, poll_thread;
	int ev_started, poll_started;
	unsigned long events_seen, reconnects; /* for logs and tests */
};

#endif
