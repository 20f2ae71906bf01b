/*
 * The reconciler itself, driven pass by pass with the static backend and
 * the mock provider of this build: outcomes, counters, the changeset the
 * provider gets, refusals split, CNAME records, the on_empty grace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loader.h"
#include "reconcile.h"
#include "testhost.h"

static const char *dir;

static void write_file(const char *name, const char *text)
{
	free(test_write_file(dir, name, text));
}

/* A runtime for `records` (appended to a config with one static backend
 * and one mock provider holding example.test). */
static const char *prov_extra = ""; /* more keys for the mock */

static struct df_runtime *runtime(const char *core, const char *records)
{
	char path[512], text[8192];
	snprintf(text, sizeof text,
		 "[dnsfollow]\nowner_id = unit\nplugin_dir = %s/plugins\n%s\n"
		 "[backend lab]\ntype = static\nfile = p.ini\n"
		 "[provider m]\ntype = mock\nzones = example.test\nstate = s.json\n%s\n%s",
		 test_build_dir(), core, prov_extra, records);
	write_file("c.ini", text);
	snprintf(path, sizeof path, "%s/c.ini", dir);
	struct df_config *cfg = df_config_parse(path);
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("config: %s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 0);
	struct df_runtime *rt = df_runtime_new(cfg, l, 0);
	assert_non_null(rt);
	rt->plan_out = stderr;
	return rt;
}

/* The mock's data for (name, type), joined by spaces ("" when absent). */
static const char *state(const char *name, const char *type)
{
	static char out[1024];
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	out[0] = '\0';
	json_t *root = json_load_file(path, 0, NULL);
	json_t *rd = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(root, "zones"), "example.test"),
		"rrsets"), name), type), "rdata");
	size_t i;
	json_t *v;
	json_array_foreach(rd, i, v) {
		if (i)
			strcat(out, " ");
		strncat(out, json_string_value(v), sizeof out - strlen(out) - 2);
	}
	json_decref(root);
	return out;
}

static enum df_outcome outcome(const struct df_runtime *rt, const char *fqdn)
{
	for (size_t i = 0; i < rt->set->nrecs; i++)
		if (strcmp(rt->set->recs[i].fqdn, fqdn) == 0)
			return rt->set->recs[i].outcome;
	fail_msg("no record %s", fqdn);
	return DF_OUT_NONE;
}

#define REC(name, service, extra)                                              \
	"[record " name "]\nprovider = m\nbackend = lab\nservice = " service "\n" extra

static int setup(void **st)
{
	(void)st;
	dir = test_tmpdir();
	return dir ? 0 : -1;
}

/* A first pass writes, a second one finds the zone in sync. */
static void test_converge_then_in_sync(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1, 2001:db8::1\n");
	struct df_runtime *rt = runtime("", REC("a.example.test", "a", "type = A, AAAA\n"));
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_OK);
	assert_int_equal(s.changes, 3); /* marker, A, AAAA */
	assert_int_equal(rt->apply_calls, 1);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	df_pass(rt, 2000, DF_PASS_ALL, &s);
	assert_int_equal(s.changes, 0);
	assert_int_equal(rt->apply_calls, 1);
	df_runtime_free(rt);
}

/* A CNAME record takes the node's DNS name, canonicalised. */
static void test_cname(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	remove(path);
	write_file("p.ini", "[one]\naddresses = 192.0.2.1\nhostname = Node1.Example.NET.\n");
	struct df_runtime *rt = runtime("", REC("c.example.test", "one", "type = CNAME\n"));
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(outcome(rt, "c.example.test"), DF_OUT_OK);
	assert_string_equal(state("c.example.test", "CNAME"), "node1.example.net");
	df_runtime_free(rt);
}

/* A refused change fails its record alone; the zone's others go in. */
static void test_refusal_split(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	write_file("s.json", "{\"zones\": {\"example.test\": {\"serial\": 1, \"rrsets\": {"
			     "\"_dnsfollow.b.example.test\": {\"CNAME\": {\"ttl\": 60, "
			     "\"rdata\": [\"x.example.test\"]}}}}}}");
	struct df_runtime *rt = runtime("", REC("a.example.test", "a", "") REC("b.example.test", "a", ""));
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_OK);
	assert_int_equal(outcome(rt, "b.example.test"), DF_OUT_PERM);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("b.example.test", "A"), "");
	assert_int_equal(df_exit_status(rt), 1);
	df_runtime_free(rt);
}

/* on_empty = delete acts only after the grace, over two lookups. */
static void test_on_empty_grace(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	remove(path);
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	struct df_runtime *rt = runtime("on_empty_grace = 5\n",
					REC("a.example.test", "a", "on_empty = delete\n"));
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	write_file("p.ini", "[a]\naddresses =\n");
	df_pass(rt, 2000, DF_PASS_ALL, &s);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	assert_int_equal(df_next_retry(rt), 7000); /* the second lookup */
	df_pass(rt, 4000, DF_PASS_ALL, &s); /* two lookups, 2 s: too soon */
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	df_pass(rt, 7000, DF_PASS_RETRIES, &s);
	assert_string_equal(state("a.example.test", "A"), "");
	assert_string_equal(state("_dnsfollow.a.example.test", "TXT"),
			    "heritage=dnsfollow,owner=unit");
	df_runtime_free(rt);
}

/* --once gives up on a retry it would not wait for, and says so, rather
 * than announce a retry that never runs. */
static void test_once_horizon(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	prov_extra = "fail_every = 1\n"; /* every call fails, temporarily */
	struct df_runtime *rt = runtime("backoff_max = 120\n",
					REC("a.example.test", "a", ""));
	prov_extra = "";
	rt->max_attempts = 20;
	rt->groups[0].failures = 9; /* the next wait is 60..120 s */
	df_pass_start(rt, 1000, DF_PASS_ALL);
	df_wait_idle(rt, 0);
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_TEMP);
	assert_int_equal(rt->groups[0].next_ms, 0);
	assert_int_equal(df_next_retry(rt), 0);
	df_runtime_free(rt);
}

/* A runtime being replaced (reload) writes nothing any more. */
static void test_cancelled_writes_nothing(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	remove(path);
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	struct df_runtime *rt = runtime("", REC("a.example.test", "a", ""));
	rt->cancelled = 1;
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(rt->apply_calls, 0);
	assert_string_equal(state("a.example.test", "A"), "");
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_TEMP);
	df_runtime_free(rt);
}

/* A backend's temporary answer (a file being written) schedules a
 * retry, but an event pass (DF_PASS_DUE) does not wait it out: the
 * backend may know now. A provider's temporary failure keeps its
 * backoff. */
static void test_backend_wait_cut_short(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	remove(path);
	write_file("p.ini", "[a]\naddresses = 192.0.2.1"); /* no final newline */
	struct df_runtime *rt = runtime("", REC("a.example.test", "a", ""));
	struct df_pass_stats s;
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_TEMP);
	assert_true(rt->groups[0].next_ms > 1000);
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	df_pass(rt, 1001, DF_PASS_DUE, &s); /* an event, before the retry */
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_OK);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	df_runtime_free(rt);

	prov_extra = "fail_every = 1\n"; /* the provider fails, temporarily */
	rt = runtime("", REC("a.example.test", "a", ""));
	prov_extra = "";
	df_pass(rt, 1000, DF_PASS_ALL, &s);
	assert_int_equal(outcome(rt, "a.example.test"), DF_OUT_TEMP);
	uint64_t calls = rt->apply_calls;
	assert_int_equal(df_pass_start(rt, 1001, DF_PASS_DUE), 0); /* backoff holds */
	assert_int_equal(rt->apply_calls, calls);
	df_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge_then_in_sync),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_refusal_split),
		cmocka_unit_test(test_on_empty_grace),
		cmocka_unit_test(test_once_horizon),
		cmocka_unit_test(test_cancelled_writes_nothing),
		cmocka_unit_test(test_backend_wait_cut_short),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
