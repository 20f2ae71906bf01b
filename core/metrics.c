/*
 * The metrics registry: a small table of series (family + rendered
 * labels) under one lock, rendered family by family in the order
 * declared below, series sorted, so a scrape reads the same every time.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "util.h"

struct family {
	const char *name, *type, *help;
};

/* Every family, with its HELP text (the format's `# HELP` line). */
static const struct family families[] = {
	{"dnsfollow_build_info", "gauge", "Version of dnsfollow and of its plugin ABI (always 1)."},
	{"dnsfollow_passes_total", "counter", "Passes started (each runs the zones that are due)."},
	{"dnsfollow_pass_duration_seconds", "histogram", "Time from a pass's start until its last zone was done."},
	{"dnsfollow_changes_total", "counter", "RRset changes applied, by provider, zone and operation (set or delete)."},
	{"dnsfollow_errors_total", "counter", "Failures by plugin instance and class (temporary or permanent)."},
	{"dnsfollow_last_success_timestamp_seconds", "gauge", "When a zone last converged (Unix time), by provider and zone."},
	{"dnsfollow_zone_failing", "gauge", "1 while the last attempt on a zone failed, else 0."},
	{"dnsfollow_backend_events_total", "counter", "Backend wake-ups that asked for a pass."},
	{"dnsfollow_http_requests_total", "counter", "HTTP requests made by plugins through the host, by instance and status class."},
	{"dnsfollow_records_managed", "gauge", "Records dnsfollow keeps (configured and discovered)."},
	{"dnsfollow_orphans_pending", "gauge", "Owned names nothing asks for, waiting out orphan_grace (policy = sync)."},
	{"dnsfollow_discovered_records", "gauge", "Records discovered from the orchestrator, by backend."},
};
#define NFAM (sizeof families / sizeof families[0])

static const double buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct series {
	size_t family;
	char *labels; /* `a="x",b="y"` or "" */
	double v;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series *v;
static size_t n, cap;
static unsigned long long hist[NBUCKETS + 1];
static double hist_sum;
static unsigned long long hist_count;

static size_t family_of(const char *name)
{
	for (size_t i = 0; i < NFAM; i++)
		if (strcmp(families[i].name, name) == 0)
			return i;
	return NFAM;
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void put_value(char **out, size_t *len, size_t *room, const char *s)
{
	for (; s && *s; s++) {
		char e[3] = {*s, 0, 0};
		if (*s == '\\' || *s == '"' || *s == '\n')
			e[0] = '\\', e[1] = *s == '\n' ? 'n' : *s;
		size_t k = strlen(e);
		if (*len + k + 1 > *room) {
			*room = (*room + k + 1) * 2;
			*out = df_xrealloc(*out, *room, 1);
		}
		memcpy(*out + *len, e, k);
		*len += k;
		(*out)[*len] = '\0';
	}
}

static char *labels_of(va_list ap)
{
	size_t len = 0, room = 64;
	char *out = df_xcalloc(room, 1);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *val = va_arg(ap, const char *);
		char head[96];
		snprintf(head, sizeof head, "%s%s=\"", len ? "," : "", k);
		size_t hl = strlen(head);
		if (len + hl + 1 > room) {
			room = (room + hl + 1) * 2;
			out = df_xrealloc(out, room, 1);
		}
		memcpy(out + len, head, hl + 1);
		len += hl;
		put_value(&out, &len, &room, val ? val : "");
		if (len + 2 > room) {
			room += 2;
			out = df_xrealloc(out, room, 1);
		}
		out[len++] = '"';
		out[len] = '\0';
	}
	return out;
}

static void update(const char *name, double val, int add, va_list ap)
{
	size_t f = family_of(name);
	if (f == NFAM)
		return;
	char *labels = labels_of(ap);
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n; i++)
		if (v[i].family == f && strcmp(v[i].labels, labels) == 0) {
			v[i].v = add ? v[i].v + val : val;
			pthread_mutex_unlock(&mu);
			free(labels);
			return;
		}
	if (n == cap) {
		cap = cap ? cap * 2 : 64;
		v = df_xrealloc(v, cap, sizeof *v);
	}
	v[n++] = (struct series){f, labels, val};
	pthread_mutex_unlock(&mu);
}

void df_metric_add(const char *name, double val, ...)
{
	va_list ap;
	va_start(ap, val);
	update(name, val, 1, ap);
	va_end(ap);
}

void df_metric_set(const char *name, double val, ...)
{
	va_list ap;
	va_start(ap, val);
	update(name, val, 0, ap);
	va_end(ap);
}

void df_metric_pass_seconds(double s)
{
	pthread_mutex_lock(&mu);
	size_t b = 0;
	while (b < NBUCKETS && s > buckets[b])
		b++;
	hist[b]++;
	hist_sum += s;
	hist_count++;
	pthread_mutex_unlock(&mu);
}

static int by_family_labels(const void *a, const void *b)
{
	const struct series *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return strcmp(x->labels, y->labels);
}

struct out {
	char *p;
	size_t len, room;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(o->p + o->len, o->room - o->len, fmt, ap);
		va_end(ap);
		if (k >= 0 && (size_t)k < o->room - o->len) {
			o->len += (size_t)k;
			return;
		}
		o->room = o->room * 2 + (k > 0 ? (size_t)k : 0);
		o->p = df_xrealloc(o->p, o->room, 1);
	}
}

static void render_histogram(struct out *o, const char *name)
{
	unsigned long long cum = 0;
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += hist[b];
		outf(o, "%s_bucket{le=\"%g\"} %llu\n", name, buckets[b], cum);
	}
	outf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
	     hist_count, name, hist_sum, name, hist_count);
}

char *df_metrics_render(size_t *len)
{
	struct out o = {df_xcalloc(4096, 1), 0, 4096};
	pthread_mutex_lock(&mu);
	if (n)
		qsort(v, n, sizeof *v, by_family_labels);
	size_t i = 0;
	for (size_t f = 0; f < NFAM; f++) {
		outf(&o, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
		     families[f].name, families[f].type);
		if (strcmp(families[f].type, "histogram") == 0)
			render_histogram(&o, families[f].name);
		for (; i < n && v[i].family == f; i++)
			outf(&o, "%s%s%s%s %.17g\n", families[f].name, v[i].labels[0] ? "{" : "",
			     v[i].labels, v[i].labels[0] ? "}" : "", v[i].v);
	}
	pthread_mutex_unlock(&mu);
	if (len)
		*len = o.len;
	return o.p;
}

void df_metrics_drop(const char *name)
{
	size_t f = family_of(name), k = 0;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n; i++)
		if (v[i].family == f)
			free(v[i].labels);
		else
			v[k++] = v[i];
	n = k;
	pthread_mutex_unlock(&mu);
}

void df_metrics_reset(void)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n; i++)
		free(v[i].labels);
	free(v);
	v = NULL;
	n = cap = 0;
	memset(hist, 0, sizeof hist);
	hist_sum = 0;
	hist_count = 0;
	pthread_mutex_unlock(&mu);
}

const char *df_status_class(long status)
{
	static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
	return status >= 100 && status < 600 ? cls[status / 100 - 1] : "error";
}
