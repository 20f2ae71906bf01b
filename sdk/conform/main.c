/*
 * dnsfollow-conform -c FILE [--provider NAME | --backend NAME] [--zone Z]
 *                   [--service S] [--timeout SECONDS] [-v]
 *
 * Builds one instance from a dnsfollow INI file exactly as the daemon
 * does (its config reader, loader and host table) and runs the checks
 * on it in a child process, so a plugin that crashes or hangs is
 * reported as such. Exit: 0 every check passed, 1 a check failed,
 * 2 the plugin crashed or timed out, 64 usage, 78 configuration.
 */
#include "conform.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "sdk.h"

#define EXIT_CRASH 2
#define EXIT_USAGE 64

struct opts {
	const char *config, *provider, *backend, *zone, *service;
	unsigned timeout;
	int verbose;
};

void dfc_diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("# %s\n", line);
}

void dfc_ok(struct dfc *c, int pass, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->n++;
	if (!pass)
		c->failed++;
	printf("%sok %u - %s\n", pass ? "" : "not ", c->n, line);
}

void dfc_skip(struct dfc *c, const char *why, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->n++;
	c->skipped++;
	printf("ok %u - %s # SKIP %s\n", c->n, line, why);
}

const char *dfc_error_text(struct dfc *c, char *buf, size_t cap)
{
	df_host_error_text(c->host, buf, cap);
	return buf;
}

void dfc_reset(struct dfc *c) { df_host_reset(c->host); }

static void usage(FILE *to)
{
	fputs("usage: dnsfollow-conform -c FILE [--provider NAME | --backend NAME]\n"
	      "         [--zone ZONE] [--service SERVICE] [--timeout SECONDS] [-v]\n"
	      "Checks that a provider (or backend) plugin keeps the semantics every\n"
	      "plugin must keep; TAP on stdout. The provider writes names dfc-*.ZONE\n"
	      "in a scratch zone (default: its first zone) and deletes them.\n", to);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'}, {"provider", required_argument, NULL, 'p'},
		{"backend", required_argument, NULL, 'b'}, {"zone", required_argument, NULL, 'z'},
		{"service", required_argument, NULL, 's'}, {"timeout", required_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int ch;
	o->timeout = 300;
	while ((ch = getopt_long(argc, argv, "c:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'p': o->provider = optarg; break;
		case 'b': o->backend = optarg; break;
		case 'z': o->zone = optarg; break;
		case 's': o->service = optarg; break;
		case 'v': o->verbose = 1; break;
		case 't': {
			char *end;
			unsigned long t = strtoul(optarg, &end, 10);
			if (*end || t == 0 || t > 86400) {
				fprintf(stderr, "dnsfollow-conform: --timeout must be 1..86400 seconds\n");
				return -1;
			}
			o->timeout = (unsigned)t;
			break;
		}
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || !o->config || (o->provider && o->backend)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The section under test: the one named, or the only provider. */
static const struct df_instance_cfg *pick(const struct df_config *cfg, const struct opts *o)
{
	const struct df_instance_cfg *v = o->backend ? cfg->backends : cfg->providers;
	size_t n = o->backend ? cfg->nbackends : cfg->nproviders;
	const char *want = o->backend ? o->backend : o->provider;
	const char *kind = o->backend ? "backend" : "provider";
	if (!want && n == 1)
		return &v[0];
	for (size_t i = 0; want && i < n; i++)
		if (strcmp(v[i].name, want) == 0)
			return &v[i];
	if (want)
		fprintf(stderr, "%s: no [%s %s] section\n", cfg->path, kind, want);
	else
		fprintf(stderr, "%s: %zu [%s ...] sections: name one with --%s NAME\n",
			cfg->path, n, kind, kind);
	return NULL;
}

static const char *pick_zone(const struct df_instance_cfg *ic, const struct opts *o,
			     const char *path)
{
	if (!o->zone) {
		if (ic->nzones)
			return ic->zones[0];
		fprintf(stderr, "%s:%d: [provider %s] has no zones\n", path, ic->line, ic->name);
		return NULL;
	}
	char z[256];
	if (df_name_normalise_buf(o->zone, z, sizeof z) != 0)
		z[0] = '\0';
	for (size_t i = 0; z[0] && i < ic->nzones; i++)
		if (strcmp(ic->zones[i], z) == 0)
			return ic->zones[i];
	fprintf(stderr, "%s:%d: --zone %s is not one of [provider %s]'s zones\n", path,
		ic->line, o->zone, ic->name);
	return NULL;
}

static void header(const struct dfc *c, const struct df_instance_cfg *ic)
{
	printf("# dnsfollow-conform %s: %s %s (plugin %s %s)", DNSFOLLOW_VERSION,
	       df_kind_name(ic->kind), ic->name, c->plugin->name,
	       c->plugin->version ? c->plugin->version : "?");
	if (ic->kind == DNSFOLLOW_KIND_PROVIDER) {
		const struct dnsfollow_provider_ops *ops = c->plugin->ops;
		printf(", zone %s, types", c->zone);
		for (const uint16_t *t = ops->types; t && *t; t++)
			printf(" %s", df_type_name(*t));
		printf("%s", ops->caps & DNSFOLLOW_CAP_ATOMIC ? ", atomic" : "");
	}
	printf("\n");
}

/* Key tables (config and record keys) as the core checks them. */
static void check_keys(struct dfc *c)
{
	char why[400] = "";
	if (df_keys_check(c->plugin->config_keys, "config key", why, sizeof why) == 0 &&
	    df_keys_check(c->plugin->record_keys, "record key", why, sizeof why) == 0 &&
	    dfc_key_defaults(c->plugin->record_keys, &c->rec_kv, &c->rec_nkv, why,
			     sizeof why) == 0)
		why[0] = '\0';
	if (why[0])
		dfc_diag("%s", why);
	dfc_ok(c, !why[0], "key tables are sound (types, bounds, defaults)");
}

/* Make the instance and run the checks; the exit status. */
static int run_checks(struct dfc *c, const struct df_instance_cfg *ic)
{
	char err[1024];
	c->host = df_host_new(df_kind_name(ic->kind), ic->name);
	if (!c->host)
		return EXIT_CRASH;
	header(c, ic);
	check_keys(c);
	int rc = c->plugin->create(&c->host->pub, ic->kv, ic->nkv, &c->self);
	if (rc != 0) {
		dfc_diag("create: %d %s", rc, dfc_error_text(c, err, sizeof err));
		dfc_ok(c, 0, "create() succeeds with the section's keys");
		printf("Bail out! cannot create the instance\n");
		return 1;
	}
	dfc_ok(c, 1, "create() succeeds with the section's keys");
	if (ic->kind == DNSFOLLOW_KIND_PROVIDER)
		dfc_provider_checks(c);
	else
		dfc_backend_checks(c);
	c->plugin->destroy(c->self);
	printf("1..%u\n", c->n);
	if (c->failed)
		dfc_diag("%u of %u check(s) failed", c->failed, c->n);
	return c->failed ? 1 : 0;
}

static int child(const struct opts *o)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(o->timeout);
	if (o->verbose)
		df_log_set_level(DNSFOLLOW_LOG_DEBUG);
	if (df_http_global_init() != 0) {
		fputs("dnsfollow-conform: cannot initialise libcurl\n", stderr);
		return EXIT_CRASH;
	}
	/* The config is only a way to name the instance: its warnings about
	 * records ("nothing to do") are noise here unless -v. */
	if (!o->verbose)
		df_log_set_level(DNSFOLLOW_LOG_ERROR);
	struct df_config *cfg = df_config_parse(o->config);
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	int status = DF_EXIT_CONFIG;
	struct dfc c = {0};
	const struct df_instance_cfg *ic = NULL;
	if (cfg->nerrors)
		df_config_print_errors(cfg);
	else if ((ic = pick(cfg, o)) != NULL &&
		 (ic->kind == DNSFOLLOW_KIND_BACKEND || (c.zone = pick_zone(ic, o, cfg->path)))) {
		if (!o->verbose)
			df_log_set_level(cfg->log_level);
		c.plugin = ic->plugin;
		c.service = o->service;
		c.verbose = o->verbose;
		status = run_checks(&c, ic);
	}
	df_host_free(c.host);
	dfc_kv_free(c.rec_kv, c.rec_nkv);
	for (size_t i = 0; i < c.nnames; i++)
		free(c.names[i]);
	free(c.names);
	df_config_free(cfg);
	df_loader_free(l);
	df_log_clear_secrets();
	df_http_global_cleanup();
	return status;
}

/* The child tells through `done` that it ended on its own: a plugin
 * that kills the process (a signal, a sanitizer's exit) never gets to. */
static int wait_child(pid_t pid, int done, unsigned timeout)
{
	char status = 0;
	ssize_t got;
	while ((got = read(done, &status, 1)) < 0 && errno == EINTR)
		;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EXIT_CRASH;
	if (got == 1)
		return (unsigned char)status;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		printf("Bail out! the plugin did not finish within %u s (--timeout)\n", timeout);
	else if (WIFSIGNALED(st))
		printf("Bail out! the plugin crashed: signal %d (%s)\n", WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
	else
		printf("Bail out! the plugin ended the process (exit %d)\n", WEXITSTATUS(st));
	return EXIT_CRASH;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int done[2];
	if (parse_args(argc, argv, &o) != 0)
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid_t pid = pipe(done) == 0 ? fork() : -1;
	if (pid < 0) {
		perror("dnsfollow-conform: fork");
		return EXIT_CRASH;
	}
	if (pid == 0) {
		close(done[0]);
		char status = (char)child(&o);
		fflush(NULL);
		if (write(done[1], &status, 1) != 1)
			_exit(EXIT_CRASH);
		_exit(status);
	}
	close(done[1]);
	return wait_child(pid, done[0], o.timeout);
}
