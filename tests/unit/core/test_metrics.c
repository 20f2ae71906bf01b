/* The metrics registry (core/metrics.c) and the listen address parser
 * (core/httpd.c): what /metrics serves must be the Prometheus text
 * format exactly, or a scrape fails and `up` goes to 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "metrics.h"

/* Every family the issue asks for (HELP and TYPE even with no series). */
static const char *const wanted[] = {
	"dnsfollow_build_info", "dnsfollow_passes_total", "dnsfollow_pass_duration_seconds",
	"dnsfollow_changes_total", "dnsfollow_errors_total",
	"dnsfollow_last_success_timestamp_seconds", "dnsfollow_zone_failing",
	"dnsfollow_backend_events_total", "dnsfollow_http_requests_total",
	"dnsfollow_records_managed", "dnsfollow_orphans_pending",
};
#define NWANTED (sizeof wanted / sizeof wanted[0])

/* ------------------------------------------------------------------ */
/* A strict reader of the text format (version 0.0.4).                 */

struct lint {
	char fam[128], type[16];     /* the family whose TYPE came last */
	char help[128];              /* the name of the last HELP line */
	char prev[1024];             /* the last sample's name+labels */
	char seen[64][128];          /* families declared so far */
	size_t nseen;
	char why[256];
};

static int bad(struct lint *l, int lineno, const char *what, const char *line)
{
	snprintf(l->why, sizeof l->why, "line %d: %s: %.120s", lineno, what, line);
	return -1;
}

/* A metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]* (no ':' in labels). */
static size_t name_len(const char *s, int label)
{
	size_t n = 0;
	while (isalpha((unsigned char)s[n]) || s[n] == '_' || (!label && s[n] == ':') ||
	       (n && isdigit((unsigned char)s[n])))
		n++;
	return n;
}

/* `{k="v",...}`: only \\, \" and \n escapes; *le gets le's value. */
static const char *labels_end(const char *p, char *le, size_t lelen)
{
	if (*p != '{')
		return p;
	p++;
	while (*p != '}') {
		size_t k = name_len(p, 1);
		if (!k || p[k] != '=' || p[k + 1] != '"')
			return NULL;
		int is_le = k == 2 && strncmp(p, "le", 2) == 0;
		p += k + 2;
		size_t o = 0;
		for (; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return NULL;
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				return NULL;
			if (is_le && o + 1 < lelen)
				le[o++] = *p, le[o] = '\0';
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p + 1;
}

static int value_ok(const char *s)
{
	if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN"))
		return 1;
	char *end;
	strtod(s, &end);
	return *s && end != s && *end == '\0';
}

/* A sample's name belongs to the family declared last. */
static int of_family(const struct lint *l, const char *name, size_t n)
{
	size_t f = strlen(l->fam);
	int hist = strcmp(l->type, "histogram") == 0;
	if (n == f && strncmp(name, l->fam, f) == 0)
		return !hist; /* a histogram has only _bucket, _sum, _count */
	if (!hist || n <= f || strncmp(name, l->fam, f) != 0)
		return 0;
	const char *sfx = name + f;
	size_t k = n - f;
	return (k == 7 && !strncmp(sfx, "_bucket", 7)) || (k == 4 && !strncmp(sfx, "_sum", 4)) ||
	       (k == 6 && !strncmp(sfx, "_count", 6));
}

static int comment_line(struct lint *l, int no, const char *line)
{
	char name[128], rest[256];
	if (sscanf(line, "# HELP %127s %255[^\n]", name, rest) == 2) {
		if (name_len(name, 0) != strlen(name) || strchr(rest, '\\'))
			return bad(l, no, "bad HELP line", line);
		for (size_t i = 0; i < l->nseen; i++)
			if (!strcmp(l->seen[i], name))
				return bad(l, no, "family declared twice", line);
		snprintf(l->help, sizeof l->help, "%s", name);
		return 0;
	}
	char type[32];
	if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
		if (strcmp(name, l->help) != 0)
			return bad(l, no, "TYPE without its HELP just before", line);
		if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram"))
			return bad(l, no, "unknown TYPE", line);
		snprintf(l->fam, sizeof l->fam, "%s", name);
		snprintf(l->type, sizeof l->type, "%s", type);
		l->prev[0] = '\0';
		if (l->nseen < 64)
			snprintf(l->seen[l->nseen++], sizeof l->seen[0], "%s", name);
		return 0;
	}
	return bad(l, no, "a comment that is neither HELP nor TYPE", line);
}

static int sample_line(struct lint *l, int no, const char *line)
{
	size_t n = name_len(line, 0);
	char le[32] = "";
	const char *end = n ? labels_end(line + n, le, sizeof le) : NULL;
	if (!end || *end != ' ' || !value_ok(end + 1))
		return bad(l, no, "not NAME{LABELS} VALUE", line);
	if (!l->fam[0] || !of_family(l, line, n))
		return bad(l, no, "sample outside its family's HELP/TYPE", line);
	int bucket = n == strlen(l->fam) + 7;
	if (!strcmp(l->type, "histogram") && bucket != (le[0] != '\0'))
		return bad(l, no, "a bucket needs le, and only a bucket has it", line);
	/* Histogram lines go in their own order (buckets by le, then _sum,
	 * _count); every other family's series are sorted and distinct. */
	char series[1024];
	snprintf(series, sizeof series, "%.*s", (int)(end - line), line);
	if (strcmp(l->type, "histogram") != 0 && l->prev[0] && strcmp(l->prev, series) >= 0)
		return bad(l, no, "series not sorted (or repeated)", line);
	snprintf(l->prev, sizeof l->prev, "%s", series);
	return 0;
}

/* 0 when `text` is valid; else -1 and l->why says where. */
static int lint(struct lint *l, const char *text)
{
	memset(l, 0, sizeof *l);
	size_t len = strlen(text);
	if (!len || text[len - 1] != '\n')
		return bad(l, 0, "does not end with a newline", "");
	int no = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		char line[2048];
		snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
		no++;
		int rc = line[0] == '#' ? comment_line(l, no, line) : sample_line(l, no, line);
		if (rc)
			return rc;
		p = nl + 1;
	}
	return 0;
}

static int lint_ok(const char *text)
{
	struct lint l;
	if (lint(&l, text) == 0)
		return 1;
	fprintf(stderr, "# invalid exposition: %s\n", l.why);
	return 0;
}

/* The value of series `series` (NAME or NAME{LABELS} as rendered), or
 * NAN when absent. */
static double value_of(const char *text, const char *series)
{
	size_t k = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, k) == 0 && p[k] == ' ')
			return strtod(p + k + 1, NULL);
	return NAN;
}

static char *render(void)
{
	size_t len = 0;
	char *t = df_metrics_render(&len);
	assert_non_null(t);
	assert_int_equal(len, strlen(t));
	return t;
}

static int setup(void **state)
{
	(void)state;
	df_metrics_reset();
	return 0;
}

/* ------------------------------------------------------------------ */

/* The lint itself must be able to say no, or the tests below prove
 * nothing. */
static void test_lint_refuses(void **state)
{
	(void)state;
	static const char *const badtexts[] = {
		"x 1\n",                                       /* no HELP/TYPE */
		"# HELP a h\n# TYPE a counter\na 1",           /* no final newline */
		"# TYPE a counter\na 1\n",                     /* TYPE without HELP */
		"# HELP a h\n# TYPE a counter\na{k=\"x\"y\"} 1\n", /* raw quote */
		"# HELP a h\n# TYPE a counter\na{k=\"x\\t\"} 1\n",  /* bad escape */
		"# HELP a h\n# TYPE a counter\na{k=\"b\"} 1\na{k=\"a\"} 1\n", /* unsorted */
		"# HELP a h\n# TYPE a counter\na{k=\"a\"} 1\na{k=\"a\"} 2\n", /* twice */
		"# HELP a h\n# TYPE a counter\na 1x\n",        /* value */
		"# HELP a h\n# TYPE a counter\n# HELP b h\n# TYPE b gauge\na 1\n",
		"# HELP a h\n# TYPE a histogram\na_bucket 1\n", /* bucket without le */
	};
	struct lint l;
	for (size_t i = 0; i < sizeof badtexts / sizeof badtexts[0]; i++)
		if (lint(&l, badtexts[i]) == 0)
			fail_msg("lint accepted bad text %zu: %s", i, badtexts[i]);
	assert_int_equal(lint(&l, "# HELP a h\n# TYPE a counter\na{k=\"a\"} 1\na{k=\"b\"} 2.5\n"), 0);
}

static void test_every_family_declared(void **state)
{
	(void)state;
	char *t = render();
	assert_true(lint_ok(t));
	/* A newline before the text, so every line starts after one. */
	char *nt = malloc(strlen(t) + 2);
	assert_non_null(nt);
	nt[0] = '\n';
	strcpy(nt + 1, t);
	for (size_t i = 0; i < NWANTED; i++) {
		char help[160], type[160];
		snprintf(help, sizeof help, "\n# HELP %s ", wanted[i]);
		snprintf(type, sizeof type, "\n# TYPE %s ", wanted[i]);
		if (!strstr(nt, help) || !strstr(nt, type))
			fail_msg("family %s has no HELP or no TYPE", wanted[i]);
	}
	free(nt);
	assert_non_null(strstr(t, "# TYPE dnsfollow_pass_duration_seconds histogram\n"));
	assert_non_null(strstr(t, "# TYPE dnsfollow_changes_total counter\n"));
	assert_non_null(strstr(t, "# TYPE dnsfollow_records_managed gauge\n"));
	free(t);
}

static void test_counters_add_gauges_set(void **state)
{
	(void)state;
	df_metric_add("dnsfollow_changes_total", 1, "provider", "p", "zone", "z", "op", "set", NULL);
	df_metric_add("dnsfollow_changes_total", 1, "provider", "p", "zone", "z", "op", "set", NULL);
	df_metric_add("dnsfollow_changes_total", 2.5, "provider", "p", "zone", "z", "op", "set", NULL);
	df_metric_add("dnsfollow_changes_total", 1, "provider", "p", "zone", "z", "op", "delete", NULL);
	df_metric_set("dnsfollow_records_managed", 5, NULL);
	df_metric_set("dnsfollow_records_managed", 3, NULL);
	df_metric_add("dnsfollow_passes_total", 1, NULL);
	df_metric_add("no_such_family", 1, NULL); /* ignored, not rendered */
	char *t = render();
	assert_true(lint_ok(t));
	assert_true(value_of(t, "dnsfollow_changes_total{provider=\"p\",zone=\"z\",op=\"set\"}") == 4.5);
	assert_true(value_of(t, "dnsfollow_changes_total{provider=\"p\",zone=\"z\",op=\"delete\"}") == 1);
	assert_true(value_of(t, "dnsfollow_records_managed") == 3);
	assert_true(value_of(t, "dnsfollow_passes_total") == 1);
	assert_null(strstr(t, "no_such_family"));
	free(t);
	df_metrics_reset();
	t = render();
	assert_true(isnan(value_of(t, "dnsfollow_records_managed")));
	assert_true(lint_ok(t));
	free(t);
}

/* Series given in reverse order, and a later family filled first. */
static void test_series_sorted(void **state)
{
	(void)state;
	const char *zones[] = {"c.test", "b.test", "a.test", "b.test"};
	for (size_t i = 0; i < 4; i++)
		df_metric_set("dnsfollow_zone_failing", (double)i, "provider", "m", "zone", zones[i], NULL);
	df_metric_add("dnsfollow_errors_total", 1, "instance", "provider z", "class", "temporary", NULL);
	df_metric_add("dnsfollow_errors_total", 1, "instance", "provider a", "class", "temporary", NULL);
	df_metric_add("dnsfollow_errors_total", 1, "instance", "provider a", "class", "permanent", NULL);
	char *t = render();
	assert_true(lint_ok(t));
	const char *a = strstr(t, "dnsfollow_zone_failing{provider=\"m\",zone=\"a.test\"} 2\n");
	const char *b = strstr(t, "dnsfollow_zone_failing{provider=\"m\",zone=\"b.test\"} 3\n");
	const char *c = strstr(t, "dnsfollow_zone_failing{provider=\"m\",zone=\"c.test\"} 0\n");
	assert_true(a && b && c && a < b && b < c);
	const char *e = strstr(t, "dnsfollow_errors_total{instance=\"provider a\",class=\"permanent\"} 1\n");
	assert_true(e && e < a); /* errors are declared before zone_failing */
	free(t);
}

static void test_label_escaping(void **state)
{
	(void)state;
	df_metric_add("dnsfollow_changes_total", 1, "provider", "a\\b\"c\nd", "zone", "z", "op", "set", NULL);
	df_metric_add("dnsfollow_changes_total", 1, "provider", "", "zone", "z", "op", "set", NULL);
	char *t = render();
	assert_true(lint_ok(t));
	assert_non_null(strstr(t, "\ndnsfollow_changes_total{provider=\"a\\\\b\\\"c\\nd\",zone=\"z\",op=\"set\"} 1\n"));
	assert_non_null(strstr(t, "\ndnsfollow_changes_total{provider=\"\",zone=\"z\",op=\"set\"} 1\n"));
	free(t);
}

static void test_histogram(void **state)
{
	(void)state;
	/* 0.01 sits on a bound (le means <=); 400 is above every bound. */
	const double obs[] = {0.01, 0.2, 0.7, 400};
	for (size_t i = 0; i < 4; i++)
		df_metric_pass_seconds(obs[i]);
	char *t = render();
	assert_true(lint_ok(t));
	static const struct { const char *le; double n; } want[] = {
		{"0.01", 1}, {"0.05", 1}, {"0.1", 1}, {"0.25", 2}, {"0.5", 2}, {"1", 3},
		{"2.5", 3}, {"5", 3}, {"10", 3}, {"30", 3}, {"60", 3}, {"300", 3}, {"+Inf", 4},
	};
	const char *last = t;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char s[96];
		snprintf(s, sizeof s, "dnsfollow_pass_duration_seconds_bucket{le=\"%s\"}", want[i].le);
		double got = value_of(t, s);
		if (got != want[i].n)
			fail_msg("%s: %g, want %g (cumulative)", s, got, want[i].n);
		const char *at = strstr(t, s);
		assert_true(at > last); /* buckets in increasing le */
		last = at;
	}
	assert_true(value_of(t, "dnsfollow_pass_duration_seconds_count") == 4);
	assert_true(fabs(value_of(t, "dnsfollow_pass_duration_seconds_sum") - 400.91) < 1e-6);
	free(t);
}

struct adder {
	int n;
};

static void *add_many(void *arg)
{
	const struct adder *a = arg;
	for (int i = 0; i < a->n; i++) {
		df_metric_add("dnsfollow_http_requests_total", 1, "instance", "provider o", "class", "2xx", NULL);
		df_metric_pass_seconds(0.001);
	}
	return NULL;
}

/* Updated from the worker threads at once: nothing may be lost. */
static void test_threads(void **state)
{
	(void)state;
	pthread_t th[4];
	struct adder a = {5000};
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, add_many, &a), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char *t = render();
	assert_true(value_of(t, "dnsfollow_http_requests_total{instance=\"provider o\",class=\"2xx\"}") == 20000);
	assert_true(value_of(t, "dnsfollow_pass_duration_seconds_count") == 20000);
	free(t);
}

static void test_status_class(void **state)
{
	(void)state;
	assert_string_equal(df_status_class(200), "2xx");
	assert_string_equal(df_status_class(204), "2xx");
	assert_string_equal(df_status_class(301), "3xx");
	assert_string_equal(df_status_class(404), "4xx");
	assert_string_equal(df_status_class(599), "5xx");
	assert_string_equal(df_status_class(0), "error");
	assert_string_equal(df_status_class(99), "error");
	assert_string_equal(df_status_class(600), "error");
}

/* ------------------------------------------------------------------ */

static void test_listen_accepts(void **state)
{
	(void)state;
	struct sockaddr_storage sa;
	socklen_t len = 0;
	char err[256] = "";
	assert_int_equal(df_listen_parse("127.0.0.1:9109", &sa, &len, err, sizeof err), 0);
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&sa;
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(v4->sin_port), 9109);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);

	assert_int_equal(df_listen_parse("[::1]:9109", &sa, &len, err, sizeof err), 0);
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&sa;
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(v6->sin6_port), 9109);
	assert_true(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));

	assert_int_equal(df_listen_parse(":9109", &sa, &len, err, sizeof err), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(ntohs(v4->sin_port), 9109);
	assert_int_equal(v4->sin_addr.s_addr, htonl(INADDR_ANY));

	assert_int_equal(df_listen_parse("0.0.0.0:1", &sa, &len, err, sizeof err), 0);
	assert_int_equal(df_listen_parse("[::]:65535", &sa, &len, err, sizeof err), 0);
	assert_int_equal(ntohs(v6->sin6_port), 65535);
}

static void test_listen_refuses(void **state)
{
	(void)state;
	static const char *const junk[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999999999999999999",
		"localhost:9109", "[::1:9109", "[::1]", "::1:9109", "[127.0.0.1]:9109", "[]:9109",
		"127.0.0.1:91o9", "127.0.0.1:-1", "1.2.3.4.5:80", ":", "", "9109",
		"127.0.0.1:9109:", "[::1]9109",
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		struct sockaddr_storage sa;
		socklen_t len = 0;
		char err[256] = "";
		if (df_listen_parse(junk[i], &sa, &len, err, sizeof err) != -1)
			fail_msg("accepted listen = '%s'", junk[i]);
		/* One clear line: says what is wanted, no newline. */
		if (!err[0] || strchr(err, '\n') || !strstr(err, "listen"))
			fail_msg("listen = '%s': message '%s'", junk[i], err);
	}
	/* The message names the bad part. */
	char err[256];
	struct sockaddr_storage sa;
	socklen_t len;
	assert_int_equal(df_listen_parse("localhost:9109", &sa, &len, err, sizeof err), -1);
	assert_non_null(strstr(err, "localhost"));
	assert_int_equal(df_listen_parse("127.0.0.1:0", &sa, &len, err, sizeof err), -1);
	assert_non_null(strstr(err, "1-65535"));
	/* NULL (no value) is an error, not a crash. */
	assert_int_equal(df_listen_parse(NULL, &sa, &len, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_refuses),
		cmocka_unit_test_setup(test_every_family_declared, setup),
		cmocka_unit_test_setup(test_counters_add_gauges_set, setup),
		cmocka_unit_test_setup(test_series_sorted, setup),
		cmocka_unit_test_setup(test_label_escaping, setup),
		cmocka_unit_test_setup(test_histogram, setup),
		cmocka_unit_test_setup(test_threads, setup),
		cmocka_unit_test(test_status_class),
		cmocka_unit_test(test_listen_accepts),
		cmocka_unit_test(test_listen_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
