/*
 * dnsfollow: command line, start-up, and the daemon loop.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "httpd.h"
#include "metrics.h"
#include "notify.h"
#include "reconcile.h"

#define MAX_WATCH 64

/* Parse, bind and instantiate a config; NULL (errors printed) on failure.
 * `reloading`: errors go through the log, with time stamp and level. */
static struct df_runtime *load(const struct options *o, int reloading)
{
	struct df_config *cfg = df_config_parse(o->config);
	/* Bind even after syntax errors, so every problem is shown at once. */
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	if (cfg->nerrors) {
		if (reloading)
			df_config_log_errors(cfg);
		else
			df_config_print_errors(cfg);
		df_config_free(cfg);
		df_loader_free(l);
		return NULL;
	}
	/* The configured level before any plugin code runs, so create(),
	 * check_query and watch_set log at it; a rejected reload puts the
	 * running one back. */
	int level = cfg->log_level, before = df_log_level();
	if (!o->verbose)
		df_log_set_level(level);
	df_log_set_json(cfg->log_json);
	unsigned flags = (o->dry_run ? DF_RT_DRY_RUN : 0) |
			 (o->once || o->check ? 0 : DF_RT_WATCH) |
			 (o->check ? DF_RT_CHECK : 0) |
			 (reloading ? DF_RT_RELOAD : 0);
	struct df_runtime *rt = df_runtime_new(cfg, l, flags);
	if (!rt)
		df_log_set_level(before);
	return rt;
}

/* --healthcheck: the config's `listen`, asked for /healthz. */
static int healthcheck(const struct options *o)
{
	struct df_config *cfg = df_config_parse(o->config);
	if (cfg->nerrors) {
		df_config_print_errors(cfg);
		df_config_free(cfg);
		return EX_FAIL;
	}
	int rc = df_healthcheck(cfg->listen);
	df_config_free(cfg);
	return rc;
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

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}


static int run_once(struct df_runtime *rt, int detailed)
{
	struct df_pass_stats st;
	size_t changes = 0;
	/* Each group gets `retries` tries for temporary failures. */
	rt->max_attempts = rt->cfg->retries;
	df_pass(rt, df_now_ms(), DF_PASS_ALL, &st);
	changes += st.changes;
	for (;;) {
		uint64_t next = df_next_retry(rt), now = df_now_ms();
		if (!next || next > now + DF_ONCE_MAX_WAIT_MS)
			break;
		sleep_ms(next > now ? next - now : 0);
		df_pass(rt, df_now_ms(), DF_PASS_RETRIES, &st);
		changes += st.changes;
	}
	st.changes = changes;
	int status = df_exit_status(rt);
	/* Terraform's convention: 2 = in sync now, but only through changes
	 * (applied, or planned by a dry run). */
	if (detailed && status == EX_OK && st.changes)
		status = EX_CHANGES;
	if (rt->dry_run) {
		df_plan_out_summary(rt, &st, status);
		df_info("dry run done: %zu record(s) in sync, %zu would change, %zu failed temporarily, %zu permanently; nothing written",
			st.ok, st.planned, st.temp, st.perm);
	} else {
		df_info("pass done: %zu record(s) converged, %zu failed temporarily, %zu permanently; %zu change(s)",
			st.ok, st.temp, st.perm, st.changes);
	}
	return status;
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	/* Blocked before any thread starts, so every thread inherits it
	 * and only the signal thread sees them. */
	if (sigprocmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC);
}

static int sig_pipe[2] = {-1, -1};

/*
 * The signal thread: SIGTERM must stop the daemon even while the main
 * thread waits on a backend, so it raises the stop flag at once (host
 * HTTP calls and plugins' waits watch it), then tells the main loop.
 */
static void *signal_thread(void *arg)
{
	int sfd = *(int *)arg;
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t r = read(sfd, &si, sizeof si);
		if (r != (ssize_t)sizeof si) {
			if (r < 0 && errno == EINTR)
				continue;
			return NULL;
		}
		int signo = (int)si.ssi_signo;
		if (signo == SIGTERM || signo == SIGINT)
			df_stop_request();
		if (write(sig_pipe[1], &signo, sizeof signo) < 0)
			return NULL;
	}
}

static int start_signal_thread(int *sfd)
{
	pthread_t t;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	if (pthread_create(&t, NULL, signal_thread, sfd) != 0)
		return -1;
	pthread_detach(t);
	return sig_pipe[0];
}

/* After jobs came back: one line on what the reconciler knows now. */
static void log_pass(struct df_runtime *rt, size_t collected)
{
	if (!collected)
		return;
	struct df_pass_stats st;
	df_stats(rt, &st);
	df_log(st.changes || st.temp || st.perm ? DNSFOLLOW_LOG_INFO : DNSFOLLOW_LOG_DEBUG,
	       NULL, "pass: %zu record(s) converged, %zu failed temporarily, %zu permanently; %zu change(s)%s",
	       st.ok, st.temp, st.perm, st.changes,
	       df_busy(rt) ? " (zones still in flight)" : "");
}

/* What the loop should do after waiting. */
enum wake { W_NONE, W_RESYNC, W_STOP, W_RELOAD };

static enum wake read_signals(int fd)
{
	int signo;
	enum wake w = W_NONE;
	while (read(fd, &signo, sizeof signo) == (ssize_t)sizeof signo) {
		if (signo == SIGTERM || signo == SIGINT)
			return W_STOP;
		if (signo == SIGHUP)
			w = W_RELOAD;
		else if (signo == SIGUSR1 && w == W_NONE)
			w = W_RESYNC;
	}
	return w;
}

static void backend_woke(struct df_runtime *rt, struct df_inst *in, short revents,
			 int *event)
{
	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		/* A broken fd would wake us forever: stop watching it and
		 * rely on the resync interval. */
		df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
		       "its watch fd failed; falling back to polling every %u s",
		       rt->cfg->interval);
		in->watch_fd = -1;
		*event = 1;
		return;
	}
	const struct dnsfollow_backend_ops *ops = in->plugin->ops;
	if ((revents & POLLIN) && ops->watch_ack(in->self) > 0) {
		*event = 1;
		df_metric_add("dnsfollow_backend_events_total", 1, "backend", in->cfg->name, NULL);
	}
}

/* Wait until `deadline` (monotonic ms), a signal, a finished job or a
 * backend event. Sets *event when a backend says placements may have
 * changed; collects finished jobs. */
static enum wake wait_events(struct df_runtime *rt, int sigfd, uint64_t deadline,
			     int *event)
{
	struct pollfd p[MAX_WATCH + 2];
	size_t who[MAX_WATCH + 2];
	nfds_t n = 0;
	p[n].fd = sigfd;
	p[n++].events = POLLIN;
	p[n].fd = df_done_fd(rt);
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
	for (nfds_t i = 2; i < n; i++)
		if (p[i].revents)
			backend_woke(rt, &rt->backends[who[i]], p[i].revents, event);
	if (p[1].revents & POLLIN)
		log_pass(rt, df_collect(rt, df_now_ms()));
	return (p[0].revents & POLLIN) ? read_signals(sigfd) : W_NONE;
}

static struct df_runtime *reload(const struct options *o, struct df_runtime *old)
{
	df_info("SIGHUP: reloading %s", o->config);
	/* Secrets registered so far stay masked: a rotated secret is still
	 * a secret. */
	struct df_runtime *rt = load(o, 1);
	if (!rt) {
		df_error("reload of %s failed (errors above); keeping the running configuration",
			 o->config);
		return old;
	}
	df_runtime_free(old);
	/* Zones and backends the new file no longer has must not keep
	 * their last state (an alert on a zone that is gone); those that
	 * stay get theirs back with the pass that follows. */
	df_metrics_drop("dnsfollow_zone_failing");
	df_metrics_drop("dnsfollow_last_success_timestamp_seconds");
	df_metrics_drop("dnsfollow_discovered_records");
	df_info("configuration reloaded: %zu [record] section(s)", rt->cfg->nrecords);
	return rt;
}

/* The main loop wakes at least this often (ms): /healthz's heartbeat,
 * and systemd's watchdog when it asks for more. */
static uint64_t beat_every = 5000;

/* The next thing the loop must do by itself, as a deadline. */
static uint64_t next_deadline(const struct df_runtime *rt, uint64_t next_tick,
			      uint64_t wake_at)
{
	uint64_t d = next_tick, retry = df_next_retry(rt);
	if (retry && retry < d)
		d = retry;
	if (wake_at && wake_at < d)
		d = wake_at;
	/* The loop beats at least every few seconds, so /healthz can tell
	 * a wedged main thread from a quiet one. */
	uint64_t beat = df_now_ms() + beat_every;
	return beat < d ? beat : d;
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

/* How long SIGTERM waits for zones in flight (Docker kills after 10 s). */
#define STOP_WAIT_MS 2000u

/* SIGTERM: no new write starts; in-flight calls get STOP_WAIT_MS to end
 * (HTTP and DNS waits abort on the stop flag). Returns 1 when some are
 * still inside a plugin: the caller must then leave without freeing. */
static int stop(struct df_runtime *rt)
{
	df_stop_request();
	df_info("stopping");
	size_t left = df_wait_idle(rt, df_now_ms() + STOP_WAIT_MS);
	if (left)
		df_warn("stopping with %zu zone(s) still in flight; their changes are abandoned and redone by the next run",
			left);
	return left != 0;
}

static enum df_pass_kind pass_kind(int force_all, int tick, int woken)
{
	/* Ticks and events skip groups waiting out a provider's backoff
	 * (not a backend's: see group_selected); a retry timer runs only the
	 * groups it was set for. */
	return force_all ? DF_PASS_ALL : (tick || woken) ? DF_PASS_DUE : DF_PASS_RETRIES;
}

static int run_daemon(const struct options *o, struct df_runtime **rtp, int sigfd,
		      int *abandoned)
{
	struct df_runtime *rt = *rtp;
	uint64_t next_tick = 0, wake_at = 0, last_pass = 0, dog_at = 0;
	uint64_t dog = df_notify_watchdog_ms();
	if (dog && dog / 2 < beat_every)
		beat_every = dog / 2 ? dog / 2 : 1;
	int force_all = 1;
	df_notify("READY=1\nSTATUS=running");
	df_info("dnsfollow %s running: %zu [record] section(s), %zu zone group(s), resync every %u s",
		DNSFOLLOW_VERSION, rt->cfg->nrecords, rt->ngroups, rt->cfg->interval);
	for (;;) {
		uint64_t now = df_now_ms();
		uint64_t retry = df_next_retry(rt);
		df_health_beat();
		if (dog && now >= dog_at) { /* half the period: systemd's advice */
			df_notify("WATCHDOG=1");
			dog_at = now + dog / 2;
		}
		if (rt->passes_done)
			df_health_ready(1); /* the first pass is done, all its zones */
		int tick = now >= next_tick, woken = wake_at && now >= wake_at;
		if (force_all || tick || woken || (retry && now >= retry)) {
			last_pass = now;
			df_pass_start(rt, now, pass_kind(force_all, tick, woken));
			if (force_all || tick)
				next_tick = now + (uint64_t)rt->cfg->interval * 1000u;
			if (woken || force_all)
				wake_at = 0;
			force_all = 0;
		}
		int event = 0;
		enum wake w = wait_events(rt, sigfd, next_deadline(rt, next_tick, wake_at),
					  &event);
		if (event && !wake_at)
			wake_at = event_pass_at(df_now_ms(), last_pass, rt->cfg->debounce_ms);
		if (w == W_STOP) {
			df_notify("STOPPING=1");
			*abandoned = stop(rt);
			return EX_OK;
		}
		if (w == W_RELOAD) {
			char msg[64];
			snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
				 (unsigned long long)df_now_ms() * 1000ull);
			df_notify(msg);
			rt = *rtp = reload(o, rt);
			df_notify("READY=1");
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
	if (df_parse_args(argc, argv, &o) != 0)
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
	if (o.healthcheck)
		return healthcheck(&o);
	sigset_t set;
	int daemon = !o.once && !o.check;
	int sfd = daemon ? block_signals(&set) : -1;
	int sigfd = sfd >= 0 ? start_signal_thread(&sfd) : -1;
	if (daemon && sigfd < 0) {
		perror("dnsfollow: signals");
		return EX_FAIL;
	}
	struct df_runtime *rt = load(&o, 0);
	if (!rt)
		return DF_EXIT_CONFIG;
	char abi[16];
	snprintf(abi, sizeof abi, "%u", DNSFOLLOW_ABI_VERSION);
	df_metric_set("dnsfollow_build_info", 1, "version", DNSFOLLOW_VERSION, "abi", abi, NULL);
	if (daemon && rt->cfg->listen) {
		char err[256];
		if (df_httpd_start(rt->cfg->listen, err, sizeof err) != 0) {
			fprintf(stderr, "dnsfollow: %s\n", err);
			df_runtime_free(rt);
			return EX_FAIL;
		}
		df_info("serving /metrics, /healthz and /readyz on %s", rt->cfg->listen);
	}
	int status, abandoned = 0;
	if (o.check) {
		printf("%s: configuration OK (%zu record(s), %zu backend(s), %zu provider(s))\n",
		       o.config, rt->cfg->nrecords, rt->cfg->nbackends, rt->cfg->nproviders);
		status = EX_OK;
	} else if (o.once) {
		rt->plan_json = o.json;
		status = run_once(rt, o.detailed);
	} else {
		status = run_daemon(&o, &rt, sigfd, &abandoned);
	}
	if (abandoned) {
		/* A plugin call still runs on a worker: freeing what it uses
		 * would be worse than leaving. */
		fflush(NULL);
		_exit(status);
	}
	df_httpd_stop();
	df_runtime_free(rt);
	df_log_clear_secrets();
	df_http_global_cleanup();
	return status;
}
