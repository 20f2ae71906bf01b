/*
 * The reconciler: plugin instances made from a bound config, and passes
 * (resolve → read → plan → apply) over (provider, zone) groups, each with
 * its own retry schedule so one failing zone never holds up another.
 */
#ifndef DF_RECONCILE_H
#define DF_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "host.h"

/** How a record ended its last pass. */
enum df_outcome {
	DF_OUT_NONE = 0,  /* not tried yet */
	DF_OUT_OK,        /* matches what it should be (or kept by on_empty) */
	DF_OUT_TEMP,      /* failed, will be retried */
	DF_OUT_PERM,      /* failed, needs a human */
};

struct df_inst {
	const struct dnsfollow_plugin *plugin;
	struct df_host *host;
	void *self;
	const struct df_instance_cfg *cfg;
	int watch_fd;
};

struct df_group {
	size_t provider;    /* index into providers */
	const char *zone;
	size_t *recs;       /* indices into cfg->records */
	size_t nrecs;
	unsigned failures;  /* consecutive temporary failures */
	uint64_t next_ms;   /* not before (monotonic); 0 = whenever */
};

struct df_runtime {
	struct df_config *cfg; /* owned */
	struct df_loader *loader; /* owned */
	char *marker;
	struct df_inst *backends;
	struct df_inst *providers;
	struct df_group *groups;
	size_t ngroups;
	enum df_outcome *outcome; /* per record */
	const char **fqdn;        /* per record: its name */
	const char **txt_names;   /* per record: _dnsfollow.<fqdn> */
	char *names;              /* the block both point into */
	size_t *question;         /* per record: first record asking the same
				     backend the same thing (asked once) */
	int dry_run;
	FILE *plan_out; /* where --dry-run prints the plan */
	uint64_t changes_applied; /* counters, for tests and logs */
	uint64_t apply_calls;
};

/* Flags of df_runtime_new. */
#define DF_RT_DRY_RUN 0x1u /* plan only: no write op is ever called */
#define DF_RT_WATCH 0x2u   /* daemon: ask backends for their watch fds */

/**
 * Make every backend and provider instance of `cfg` (taking ownership of
 * cfg and loader). On failure prints one "FILE:LINE: ..." line per
 * instance that could not be made and returns NULL (everything released).
 */
struct df_runtime *df_runtime_new(struct df_config *cfg,
				  struct df_loader *loader, unsigned flags);
void df_runtime_free(struct df_runtime *rt);

/** Totals of a pass. */
struct df_pass_stats {
	size_t ok, temp, perm;
	size_t changes;
};

/** Which groups a pass covers. */
enum df_pass_kind {
	DF_PASS_ALL,     /* every group (first pass, SIGUSR1, reload) */
	DF_PASS_DUE,     /* every group not waiting out a backoff */
	DF_PASS_RETRIES, /* only failed groups whose backoff has run out */
};

/** One pass over the groups `kind` selects at `now_ms`. Updates outcomes
 *  and each group's retry schedule. */
void df_pass(struct df_runtime *rt, uint64_t now_ms, enum df_pass_kind kind,
	     struct df_pass_stats *st);

/** The earliest retry any failing group is waiting for, or 0. */
uint64_t df_next_retry(const struct df_runtime *rt);

/** Exit status for --once from the records' outcomes: 0, 75 or 1. */
int df_exit_status(const struct df_runtime *rt);

/** Backoff before retry number `failures` (1 = first): exponential from 1 s,
 *  capped at `max_s`, with jitter in [50%, 100%]; at least `floor_ms`. */
uint64_t df_backoff_ms(unsigned failures, unsigned max_s, unsigned floor_ms);

#endif
