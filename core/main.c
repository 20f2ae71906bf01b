/*
 * dnsfollow: command line, start-up, and the daemon loop.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "reconcile.h"

#define EX_OK 0
#define EX_FAIL 1
#define EX_USAGE_ 64
#define EX_TEMPFAIL_ 75
#define MAX_WATCH 64

struct options {
	const char *config;
	int once, dry_run, check, verbose, list_plugins;
};

static void usage(FILE *f)
{
	fputs("usage: dnsfollow -c FILE [--once] [--dry-run] [--check-config] [-v] [--version] [--list-plugins]\n",
	      f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'n'},
		{"check-config", no_argument, NULL, 'k'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"list-plugins", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:vh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'o': o->once = 1; break;
		case 'n': o->dry_run = 1; break;
		case 'k': o->check = 1; break;
		case 'v': o->verbose = 1; break;
		case 'L': o->list_plugins = 1; break;
		case 'V':
			printf("dnsfollow %s (plugin ABI %u)\n", DNSFOLLOW_VERSION,
			       DNSFOLLOW_ABI_VERSION);
			exit(EX_OK);
		case 'h': usage(stdout); exit(EX_OK);
		default:
			fprintf(stderr, "dnsfollow: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dnsfollow: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (!o->config && !o->list_plugins) {
		fputs("dnsfollow: -c FILE is required\n", stderr);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Parse, bind and instantiate a config; NULL (errors printed) on failure. */
static struct df_runtime *load(const struct options *o)
{
	struct df_config *cfg = df_config_parse(o->config);
	/* Bind even after syntax errors, so every problem is shown at once. */
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	if (cfg->nerrors) {
		df_config_print_errors(cfg);
		df_config_free(cfg);
		df_loader_free(l);
		return NULL;
	}
	int level = cfg->log_level;
	unsigned flags = (o->dry_run ? DF_RT_DRY_RUN : 0) |
			 (o->once || o->check ? 0 : DF_RT_WATCH);
	struct df_runtime *rt = df_runtime_new(cfg, l, flags);
	if (rt && !o->verbose)
		df_log_set_level(level);
	return rt;
}

static int list_plugins(const struct options *o)
{
	const char *dir = df_default_plugin_dir();
	struct df_config *cfg = o->config ? df_config_parse(o->config) : NULL;
	if (cfg && cfg->nerrors == 0)
		dir = cfg->plugin_dir;
	int rc = df_plugins_list(dir, stdout);
	df_config_free(cfg);
	return rc == 0 ? EX_OK : EX_FAIL;
}

static int run_once(struct df_runtime *rt)
{
	struct df_pass_stats st;
	size_t changes = 0;
	df_pass(rt, df_now_ms(), DF_PASS_ALL, &st);
	changes += st.changes;
	/* Temporary failures get a few more tries inside this run; a wait
	 * longer than 30 s is cut short rather than keeping a cron job. */
	for (unsigned attempt = 1; attempt < rt->cfg->retries && st.temp; attempt++) {
		uint64_t next = df_next_retry(rt), now = df_now_ms();
		if (next > now + 30000)
			for (size_t g = 0; g < rt->ngroups; g++)
				if (rt->groups[g].next_ms)
					rt->groups[g].next_ms = now + 30000;
		next = df_next_retry(rt);
		uint64_t wait = next > now ? next - now : 0;
		struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		df_pass(rt, df_now_ms(), DF_PASS_RETRIES, &st);
		changes += st.changes;
	}
	st.changes = changes;
	int status = df_exit_status(rt);
	df_info("pass done: %zu record(s) converged, %zu failed temporarily, %zu permanently; %zu change(s)%s",
		st.ok, st.temp, st.perm, st.changes, rt->dry_run ? " planned (dry run)" : "");
	return status;
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* What the loop should do after waiting. */
enum wake { W_NONE, W_RESYNC, W_STOP, W_RELOAD };

static enum wake read_signals(int sfd)
{
	struct signalfd_siginfo si;
	enum wake w = W_NONE;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			return W_STOP;
		if (si.ssi_signo == SIGHUP)
			w = W_RELOAD;
		else if (si.ssi_signo == SIGUSR1 && w == W_NONE)
			w = W_RESYNC;
	}
	return w;
}

/* Wait until `deadline` (monotonic ms), a signal, or a backend event.
 * Sets *event when a backend says placements may have changed. */
static enum wake wait_events(struct df_runtime *rt, int sfd, uint64_t deadline,
			     int *event)
{
	struct pollfd p[MAX_WATCH + 1];
	size_t who[MAX_WATCH + 1];
	nfds_t n = 0;
	p[n].fd = sfd;
	p[n++].events = POLLIN;
	for (size_t i = 0; i < rt->cfg->nbackends && n <= MAX_WATCH; i++)
		if (rt->backends[i].watch_fd >= 0) {
			who[n] = i;
			p[n].fd = rt->backends[i].watch_fd;
			p[n++].events = POLLIN;
		}
	uint64_t now = df_now_ms();
	int timeout = deadline > now ? (int)(deadline - now) : 0;
	if (poll(p, n, timeout) <= 0)
		return W_NONE;
	for (nfds_t i = 1; i < n; i++) {
		struct df_inst *in = &rt->backends[who[i]];
		if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			/* A broken fd would wake us forever: stop watching it
			 * and rely on the resync interval. */
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "its watch fd failed; falling back to polling every %u s",
			       rt->cfg->interval);
			in->watch_fd = -1;
			*event = 1;
			continue;
		}
		const struct dnsfollow_backend_ops *ops = in->plugin->ops;
		if ((p[i].revents & POLLIN) && ops->watch_ack(in->self) > 0)
			*event = 1;
	}
	return (p[0].revents & POLLIN) ? read_signals(sfd) : W_NONE;
}

static struct df_runtime *reload(const struct options *o, struct df_runtime *old)
{
	df_info("SIGHUP: reloading %s", o->config);
	/* Secrets registered so far stay masked: a rotated secret is still
	 * a secret. */
	struct df_runtime *rt = load(o);
	if (!rt) {
		df_error("reload of %s failed (errors above); keeping the running configuration",
			 o->config);
		return old;
	}
	df_runtime_free(old);
	df_info("configuration reloaded: %zu record(s)", rt->cfg->nrecords);
	return rt;
}

/* The next thing the loop must do by itself, as a deadline. */
static uint64_t next_deadline(const struct df_runtime *rt, uint64_t next_tick,
			      uint64_t wake_at)
{
	uint64_t d = next_tick, retry = df_next_retry(rt);
	if (retry && retry < d)
		d = retry;
	if (wake_at && wake_at < d)
		d = wake_at;
	return d;
}

/*
 * Backend events are throttled, not delayed: an event after a quiet spell
 * starts a pass at once (a moved task is published without waiting), and
 * the events that follow within debounce_ms of a pass are gathered into
 * one pass when that window ends. So a burst of events costs at most one
 * pass per debounce_ms, and an isolated one costs no added latency.
 */
static uint64_t event_pass_at(uint64_t now, uint64_t last_pass, unsigned debounce_ms)
{
	uint64_t quiet = last_pass + debounce_ms;
	return quiet > now ? quiet : now;
}

static int run_daemon(const struct options *o, struct df_runtime **rtp, int sfd)
{
	struct df_runtime *rt = *rtp;
	uint64_t next_tick = 0, wake_at = 0, last_pass = 0;
	int force_all = 1;
	df_info("dnsfollow %s running: %zu record(s), %zu zone group(s), resync every %u s",
		DNSFOLLOW_VERSION, rt->cfg->nrecords, rt->ngroups, rt->cfg->interval);
	for (;;) {
		uint64_t now = df_now_ms();
		uint64_t retry = df_next_retry(rt);
		int tick = now >= next_tick, woken = wake_at && now >= wake_at;
		if (force_all || tick || woken || (retry && now >= retry)) {
			/* Ticks and events skip groups waiting out a backoff;
			 * a retry timer runs only the groups it was set for. */
			enum df_pass_kind kind = force_all ? DF_PASS_ALL
					       : (tick || woken) ? DF_PASS_DUE
								 : DF_PASS_RETRIES;
			struct df_pass_stats st;
			last_pass = now;
			df_pass(rt, now, kind, &st);
			if (force_all || tick)
				next_tick = now + (uint64_t)rt->cfg->interval * 1000u;
			if (woken || force_all)
				wake_at = 0;
			force_all = 0;
			df_log(st.changes || st.temp || st.perm ? DNSFOLLOW_LOG_INFO
								: DNSFOLLOW_LOG_DEBUG,
			       NULL, "pass: %zu record(s) converged, %zu failed temporarily, %zu permanently; %zu change(s)",
			       st.ok, st.temp, st.perm, st.changes);
		}
		int event = 0;
		enum wake w = wait_events(rt, sfd, next_deadline(rt, next_tick, wake_at),
					  &event);
		if (event && !wake_at)
			wake_at = event_pass_at(df_now_ms(), last_pass, rt->cfg->debounce_ms);
		if (w == W_STOP) {
			df_info("stopping");
			return EX_OK;
		}
		if (w == W_RELOAD) {
			rt = *rtp = reload(o, rt);
			force_all = 1;
		} else if (w == W_RESYNC) {
			df_info("SIGUSR1: resync now");
			force_all = 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct options o = {0};
	if (parse_args(argc, argv, &o) != 0)
		return EX_USAGE_;
	if (o.verbose)
		df_log_set_level(DNSFOLLOW_LOG_DEBUG);
	srandom((unsigned)(time(NULL) ^ getpid()));
	/* A peer closing a TCP connection must be an error, not our death. */
	signal(SIGPIPE, SIG_IGN);
	if (df_http_global_init() != 0) {
		fputs("dnsfollow: cannot initialise libcurl\n", stderr);
		return EX_FAIL;
	}
	if (o.list_plugins)
		return list_plugins(&o);
	sigset_t set;
	int sfd = (o.once || o.check) ? -1 : block_signals(&set);
	if (!o.once && !o.check && sfd < 0) {
		perror("dnsfollow: signalfd");
		return EX_FAIL;
	}
	struct df_runtime *rt = load(&o);
	if (!rt)
		return DF_EXIT_CONFIG;
	int status;
	if (o.check) {
		printf("%s: configuration OK (%zu record(s), %zu backend(s), %zu provider(s))\n",
		       o.config, rt->cfg->nrecords, rt->cfg->nbackends, rt->cfg->nproviders);
		status = EX_OK;
	} else if (o.once) {
		status = run_once(rt);
	} else {
		status = run_daemon(&o, &rt, sfd);
	}
	df_runtime_free(rt);
	df_log_clear_secrets();
	df_http_global_cleanup();
	if (sfd >= 0)
		close(sfd);
	return status;
}
