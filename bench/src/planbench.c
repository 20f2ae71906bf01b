/*
 * Core benchmark: config load, first sync, steady pass and a change of
 * every record for N records over Z zones, with in-memory plugins, so the
 * figures are the core's own work. One size per process, for clean peak
 * RSS. Prints one line:
 *   N load_ms create_ms steady_ms change_ms qsort_ms maxrss_kib changes
 *     create_cpu_ms steady_cpu_ms change_cpu_ms
 * (steady and change: best of REPS passes; changes: all passes' total;
 * _cpu: the CPU time of the whole process, worker threads included,
 * during the pass: what a pass costs, whatever else the machine runs,
 * so the growth from one size to another is not the neighbours' load)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "reconcile.h"

#define REPS 5

/* Read by the memsvc plugin through dlsym: moves every service. */
__attribute__((visibility("default"))) int bench_generation;

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void write_config(const char *path, const char *plugins, size_t n, size_t zones)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "[dnsfollow]\nplugin_dir = %s\nlog_level = error\n"
		   "[backend b]\ntype = memsvc\n[provider p]\ntype = memdns\nzones = ",
		plugins);
	for (size_t z = 0; z < zones; z++)
		fprintf(f, "%sz%zu.bench", z ? ", " : "", z);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "[record r%zu.z%zu.bench]\nprovider = p\nbackend = b\nservice = svc%zu\n",
			i, i % zones, i);
	fclose(f);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The peer: sorting the N record names, a plain n log n reference. */
static double qsort_ms(size_t n, size_t zones)
{
	char **v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		size_t k = (i * 2654435761u) % n;
		v[i] = malloc(32);
		snprintf(v[i], 32, "r%zu.z%zu.bench", k, k % zones);
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	qsort(v, n, sizeof *v, cmp);
	double ms = ms_since(&t0);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return ms;
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One pass: its wall time; its CPU time in *cpu. */
static double pass(struct df_runtime *rt, size_t *changes, double *cpu)
{
	struct timespec t0;
	struct df_pass_stats st;
	double c0 = cpu_ms();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	df_pass(rt, 0, DF_PASS_ALL, &st);
	double wall = ms_since(&t0);
	*cpu = cpu_ms() - c0;
	*changes += st.changes;
	if (st.temp || st.perm) {
		fprintf(stderr, "planbench: %zu records failed\n", st.temp + st.perm);
		exit(1);
	}
	return wall;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: planbench N ZONES PLUGIN_DIR CONFIG_PATH\n");
		return 64;
	}
	size_t n = strtoul(argv[1], NULL, 10), zones = strtoul(argv[2], NULL, 10);
	write_config(argv[4], argv[3], n, zones);
	df_log_set_level(DNSFOLLOW_LOG_ERROR);

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct df_config *cfg = df_config_parse(argv[4]);
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	if (df_config_bind(cfg, l)) {
		df_config_print_errors(cfg);
		return 1;
	}
	struct df_runtime *rt = df_runtime_new(cfg, l, 0);
	if (!rt)
		return 1;
	double load = ms_since(&t0);
	size_t changes = 0;
	double create_cpu, steady_cpu = 1e30, change_cpu = 1e30, c;
	double create = pass(rt, &changes, &create_cpu);
	size_t after_create = changes;
	/* Best of REPS: the machine is shared, the minimum is the cost. */
	double steady = 1e30, change = 1e30;
	for (int i = 0; i < REPS; i++) {
		double t = pass(rt, &changes, &c);
		steady = t < steady ? t : steady;
		steady_cpu = c < steady_cpu ? c : steady_cpu;
	}
	if (changes != after_create) {
		fprintf(stderr, "planbench: steady pass changed something\n");
		return 1;
	}
	for (int i = 0; i < REPS; i++) {
		bench_generation++;
		double t = pass(rt, &changes, &c);
		change = t < change ? t : change;
		change_cpu = c < change_cpu ? c : change_cpu;
	}
	double sort = qsort_ms(n, zones);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%zu %.1f %.1f %.1f %.1f %.2f %ld %zu %.1f %.1f %.1f\n", n, load, create, steady,
	       change, sort, ru.ru_maxrss, changes, create_cpu, steady_cpu, change_cpu);
	df_runtime_free(rt);
	return 0;
}
