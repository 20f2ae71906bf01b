/*
 * Metrics in the Prometheus text format: process-wide counters, gauges
 * and one histogram, updated from any thread, rendered by the /metrics
 * endpoint (httpd.c). They outlive reloads.
 */
#ifndef DF_METRICS_H
#define DF_METRICS_H

#include <stddef.h>

/**
 * Add `v` to a counter, or set a gauge, of family `name` (one of the
 * families metrics.c declares) with labels given as key, value pairs
 * ending with NULL: df_metric_add("dnsfollow_changes_total", 1,
 * "provider", "ovh", "zone", "example.org", "op", "set", NULL).
 */
void df_metric_add(const char *name, double v, ...) __attribute__((sentinel));
void df_metric_set(const char *name, double v, ...) __attribute__((sentinel));

/** One observation of the pass duration histogram, in seconds. */
void df_metric_pass_seconds(double s);

/** The whole exposition (malloc'ed, NUL-terminated). */
char *df_metrics_render(size_t *len);

/** Forget every series of family `name` (after a reload: zones and
 *  backends that are gone must not keep their last state). */
void df_metrics_drop(const char *name);

/** Forget every series (tests). */
void df_metrics_reset(void);

/** "2xx" .. "5xx" for an HTTP status, "error" for none (0). */
const char *df_status_class(long status);

#endif
