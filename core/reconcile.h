/*
 * The reconciler: plugin instances made from a bound config, and passes
 * (resolve → read → plan → apply) over (provider, zone) groups. Backends
 * are asked on the main thread; each group's read/plan/apply runs as a
 * job on a bounded worker pool, one job per provider instance at a time,
 * so a slow or hung provider delays only its own zones. Each group keeps
 * its own retry schedule.
 */
#ifndef DF_RECONCILE_H
#define DF_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "host.h"
#include "plan.h"

/** How a record ended its last pass. */
enum df_outcome {
	DF_OUT_NONE = 0,  /* not tried yet */
	DF_OUT_OK,        /* matches what it should be (or kept by on_empty) */
	DF_OUT_TEMP,      /* failed, will be retried */
	DF_OUT_PERM,      /* failed, needs a human */
	DF_OUT_PLANNED,   /* dry run: changes planned, nothing written */
};

struct df_inst {
	const struct dnsfollow_plugin *plugin;
	struct df_host *host;
	void *self;
	const struct df_instance_cfg *cfg;
	int watch_fd;
};

/** One record of the config and what the reconciler knows of it. */
struct df_rec {
	const struct df_record_cfg *cfg;
	const char *fqdn;     /* its name */
	const char *txt_name; /* _dnsfollow.<fqdn> */
	size_t question;      /* first record asking its backend the same
				 thing: asked once per pass */
	enum df_outcome outcome;
	uint64_t empty_since; /* ms of the first empty answer in a row, 0 */
	unsigned empty_seen;  /* empty answers in a row */
};

/** A name the group's zone holds under our marker that nothing asks for
 * (policy = sync). */
struct df_orphan {
	char *name;
	uint64_t since;     /* ms it was first seen unwanted with full
			       knowledge */
	unsigned seen;      /* passes with full knowledge it was seen in,
			       each from a knowledge of its own (gen) */
	uint64_t gen;       /* rt->know_gen of the last sighting counted */
};

struct df_group {
	size_t provider;    /* index into providers */
	const char *zone;
	struct df_orphan *orph; /* orphans seen so far (policy = sync) */
	size_t norph;
	unsigned failures;  /* consecutive temporary failures */
	unsigned attempts;  /* failed tries so far in a --once run */
	uint64_t next_ms;   /* retry not before (monotonic); 0 = none */
	uint64_t grace_ms;  /* ask again for on_empty_grace at; 0 = none */
	int busy;           /* a job of this group is queued or running */
	int pending;        /* asked to run while busy: run when done */
	int backend_wait;   /* its retry waits for a backend's temporary
			       answer: an event or a tick runs it sooner */
	int markers_failing; /* its markers() failed last time (said once;
				worker of the group only) */
};

/** The records of a group in a record set. */
struct df_grecs {
	size_t *v; /* indices into the set's recs */
	size_t n;
};

/** A name some source claims but that is not written (its labels are
 * wrong, or two services claim it): never an orphan. */
struct df_held {
	size_t provider;
	char *fqdn;
};

/** A name a provider is asked for in a zone (sorted: provider, fqdn,
 * zone), for telling orphans. */
struct df_wanted {
	size_t provider;
	const char *fqdn;
	const char *zone;
};

/** What one backend discovered last time it answered (refcounted on the
 * main thread: a failed discovery keeps the previous one in force). */
struct df_found {
	struct df_record_cfg *v; /* bound and fenced */
	size_t n;
	struct df_held *held;
	size_t nheld;
	char **msgs;             /* why labels were refused, one per line */
	size_t nmsgs;
	char *sig;               /* compares two answers */
	unsigned refs;
};

/**
 * The records a pass works on: the INI's and the discovered ones, laid
 * out group by group. Replaced whole when discovery changes it; jobs in
 * flight keep theirs (refcounted on the main thread).
 */
struct df_recset {
	struct df_rec *recs;
	size_t nrecs;
	struct df_grecs *grp;   /* per group of the runtime */
	size_t ngroups;
	struct df_held *held;   /* borrowed from found[] (kept alive);
				   sorted by fqdn */
	size_t nheld;
	struct df_wanted *wanted; /* every record's (provider, name, zone) */
	size_t nwanted;
	struct df_found **found; /* per backend, refs held; may be NULL */
	size_t nfound;
	char *names;            /* the block fqdn and txt_name point into */
	unsigned refs;
};

struct df_pool;

struct df_runtime {
	struct df_config *cfg; /* owned */
	struct df_loader *loader; /* owned */
	char *marker;
	struct df_inst *backends;
	struct df_inst *providers;
	struct df_group *groups;
	size_t ngroups;
	struct df_recset *set; /* the current records */
	struct df_found **found; /* per backend: its last discovery, or NULL */
	int *disc_rc;          /* per backend: its last discovery's code (0
				  ok; -EAGAIN before the first) */
	char **said;           /* discovery messages logged (said once) */
	char **build_msgs;     /* why the current set left records out */
	size_t nsaid;
	int watching;          /* daemon: backends get watch_set */
	uint64_t know_gen;     /* counts fresh knowledge: each discovery
				  round (or pass, without discovery); an
				  orphan is counted once per value */
	uint64_t set_gen;      /* counts record sets made current (atomic:
				  a job compares it before it deletes) */
	int dry_run;
	int reloading;         /* made by a SIGHUP reload */
	int cancelled;         /* being replaced or freed: jobs still in
				  flight must not write (atomic) */
	unsigned max_attempts; /* --once: tries per group; 0 = unbounded */
	FILE *plan_out; /* where --dry-run prints the plan */
	int plan_json;  /* --output json: JSON Lines */
	struct {        /* passes whose jobs still run, for their duration */
		uint64_t start;
		size_t left;
	} passes[8];
	unsigned pass_next;
	uint64_t passes_done;   /* passes whose every zone is done */
	struct df_pool *pool;
	uint64_t changes_applied; /* counters, for tests and logs */
	uint64_t apply_calls;
	size_t pass_changes;      /* changes of jobs collected since reset */
};

/** Longest wait --once accepts for a retry or an on_empty_grace check:
 *  a cron job must not hang on a peer's "come back later". */
#define DF_ONCE_MAX_WAIT_MS 30000u

/* Flags of df_runtime_new. */
#define DF_RT_DRY_RUN 0x1u /* plan only: no write op is ever called */
#define DF_RT_WATCH 0x2u   /* daemon: ask backends for their watch fds */
#define DF_RT_CHECK 0x4u   /* --check-config: instances only, no pool */
#define DF_RT_RELOAD 0x8u  /* a daemon reloads: problems go to the log */

/**
 * Make every backend and provider instance of `cfg` (taking ownership of
 * cfg and loader) and check every record's backend options. On failure
 * prints one "FILE:LINE: ..." line per problem and returns NULL
 * (everything released).
 */
struct df_runtime *df_runtime_new(struct df_config *cfg,
				  struct df_loader *loader, unsigned flags);
void df_runtime_free(struct df_runtime *rt);

/** Totals over every record. */
struct df_pass_stats {
	size_t ok, temp, perm, planned;
	size_t changes; /* applied (or planned) by the jobs collected */
};

/** Which groups a pass covers. */
enum df_pass_kind {
	DF_PASS_ALL,     /* every group (first pass, SIGUSR1, reload) */
	DF_PASS_DUE,     /* every group not waiting out a backoff */
	DF_PASS_RETRIES, /* only groups whose retry, grace or pending
			    run is due */
};

/**
 * Start a pass: ask the backends (on this thread), then queue one job
 * per selected group on the pool. A selected group whose job still runs
 * is marked pending and runs again, with fresh answers, once it is done.
 * Returns the number of jobs queued.
 */
size_t df_pass_start(struct df_runtime *rt, uint64_t now_ms,
		     enum df_pass_kind kind);

/** Readable when jobs have finished: poll it, then call df_collect. */
int df_done_fd(const struct df_runtime *rt);

/** Take in finished jobs: outcomes, retry schedules, logs. Returns the
 *  number of jobs collected. */
size_t df_collect(struct df_runtime *rt, uint64_t now_ms);

/** Jobs queued or running. */
size_t df_busy(const struct df_runtime *rt);

/** Wait until no job runs or `deadline_ms` (monotonic; 0 = no limit)
 *  passes, collecting as jobs end. Returns the jobs still running. */
size_t df_wait_idle(struct df_runtime *rt, uint64_t deadline_ms);

/** One pass, waited for: start, wait, collect; totals in `st`. */
void df_pass(struct df_runtime *rt, uint64_t now_ms, enum df_pass_kind kind,
	     struct df_pass_stats *st);

/** Totals over every record; `changes` is what was collected since the
 *  last call (then reset). */
void df_stats(struct df_runtime *rt, struct df_pass_stats *st);

/** The earliest retry, on_empty_grace or pending run due, or 0. */
uint64_t df_next_retry(const struct df_runtime *rt);

/** Exit status for --once from the records' outcomes: 0, 75 or 1. */
int df_exit_status(const struct df_runtime *rt);

/** Backoff before retry number `failures` (1 = first): exponential from 1 s,
 *  capped at `max_s`, with jitter in [50%, 100%]; at least `floor_ms`
 *  (a peer's Retry-After), but never more than `max_s`. */
uint64_t df_backoff_ms(unsigned failures, unsigned max_s, unsigned floor_ms);

/* ---- shared between the reconciler's files ---------------------------- */

/** What a backend answered one question in a pass. */
struct df_answer {
	int rc;
	char **v4, **v6;
	size_t n4, n6;
	char **targets; /* the placements' DNS names, normalised, unique */
	size_t ntargets;
};

/** The answers of one pass, shared by its jobs (refcounted on the main
 *  thread). */
struct df_answers {
	struct df_answer *v;
	size_t n;
	size_t *idx; /* per record: its answer, SIZE_MAX when not asked */
	unsigned refs;
	int all_ok;  /* every question asked had an answer */
};

/** Ask each distinct question of the records of the `due` groups once. */
struct df_answers *df_resolve(struct df_runtime *rt, const char *due);

/** Ask every discovering backend for its records; when that changes what
 *  is wanted, build a new record set and make it current. */
void df_discover(struct df_runtime *rt);
/** 0 when every discovery succeeded, 1 when one failed temporarily, 2
 *  when one failed for good. */
int df_discovery_status(const struct df_runtime *rt);
/** 1 when no backend discovers. */
int df_discovery_none(const struct df_runtime *rt);
/** 1 when every discovering backend's last discovery succeeded. */
int df_discovery_known(const struct df_runtime *rt);
/** Build the record set of the INI records and `found` (per backend; NULL
 *  entries and a NULL found are skipped; references are taken), with
 *  state carried over from rt->set. Why a record was left out goes to
 *  msgs when not NULL. */
struct df_recset *df_recset_build(struct df_runtime *rt, struct df_found **found,
				  char ***msgs, size_t *nmsgs);
void df_recset_unref(struct df_recset *s);
void df_found_unref(struct df_found *f);
/** Order of struct df_wanted: provider, fqdn, zone. */
int df_wanted_cmp(const void *a, const void *b);
/** Tell watching backends every query of the current set. */
void df_tell_watch_set(struct df_runtime *rt);
/** The group of (provider, zone), or SIZE_MAX. */
size_t df_group_of(const struct df_runtime *rt, size_t provider, const char *zone);
void df_answers_unref(struct df_answers *a);

/** One group's work, handed to a worker and back. */
struct df_job {
	struct df_job *next;
	size_t group;
	struct df_recset *set; /* the records it works on (a reference) */
	struct df_answers *ans;
	struct df_want *wants; /* per record of the group; NULL entries'
				  fqdn mean "backend failed: skip" */
	size_t nwants;
	char *skip;            /* per record: refused this pass, left out */
	/* results, written by the worker */
	enum df_outcome *out;  /* per record of the group */
	int rc;                /* 0, or the failure of the whole group */
	const char *op;        /* "read" or "update" */
	char err[1024];
	unsigned retry_after;
	size_t changes;
	char *plan_text;       /* dry run: the plan, printed by the main
				  thread in group order */
	size_t plan_len;
	/* policy = sync: look for orphans. `known` says the pass had full
	 * knowledge (discovery and every resolution succeeded); `orph` is
	 * the group's orphans as the main thread knew them (a copy), and
	 * after the job, as the job found them (orph_ran set). */
	int sync, known, orph_ran;
	int once;              /* --once: orphan_grace = 0 acts at once */
	uint64_t gen, set_gen; /* rt->know_gen and rt->set_gen when made */
	struct df_orphan *orph;
	size_t norph;
	uint64_t now, grace_ms;
	size_t nrecs;          /* the group's records; wants beyond them are
				  orphans being deleted */
	unsigned pass_slot;    /* its pass in rt->passes */
};

/** Add a line to a dry run's plan (worker thread). */
void df_job_plan_text(struct df_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** The plan of a dry run, as text or JSON Lines (planout.c): a change,
 *  an orphan ("deleting", "pending" or "kept"), the closing summary. */
void df_plan_out_change(const struct df_runtime *rt, struct df_job *j,
			const char *provider, const char *zone,
			const struct dnsfollow_change *c);
void df_plan_out_orphan(const struct df_runtime *rt, struct df_job *j,
			const char *provider, const char *zone, const char *name,
			const char *state);
struct df_pass_stats;
void df_plan_out_summary(const struct df_runtime *rt, const struct df_pass_stats *st,
			 int status);
/** policy = sync: list the zone's markers, keep the orphans' clocks, and
 *  add deletions for the due ones to the job's wants (worker thread). */
void df_job_orphans(struct df_runtime *rt, struct df_job *j);

/** Run one job (on a worker thread). */
void df_job_run(struct df_runtime *rt, struct df_job *j);
/** Release a job and its reference to the answers (main thread). */
void df_job_free(struct df_job *j);

struct df_pool *df_pool_new(struct df_runtime *rt, size_t nthreads);
/** Queue a job; a worker takes it when its provider instance is idle. */
void df_pool_submit(struct df_pool *p, struct df_job *j);
/** Finished jobs, oldest first (the list is handed over). */
struct df_job *df_pool_take_done(struct df_pool *p);
int df_pool_fd(const struct df_pool *p);
/** Stop the threads. Returns 0 when all have ended, -1 when some are
 *  still inside a plugin call (then nothing is freed). */
int df_pool_free(struct df_pool *p);

#endif
