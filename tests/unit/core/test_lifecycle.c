/*
 * Record sources and lifecycle, driven pass by pass with the static
 * backend (its `names =` lines are discovered records, as Swarm labels
 * are) and the mock provider: discovered names published, the fence,
 * the INI winning, two claims, orphans deleted only under policy = sync,
 * after orphan_grace and on full knowledge, dry runs, split horizon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loader.h"
#include "reconcile.h"
#include "testhost.h"

static const char *dir;

static void write_file(const char *name, const char *text)
{
	free(test_write_file(dir, name, text));
}

static void remove_file(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	remove(path);
}

/* A runtime: [dnsfollow] keys `core`, backend `lab` (static, p.ini) with
 * `bkeys`, provider `m` (mock, s.json) with `pkeys`, then `rest`. */
static struct df_runtime *runtime(const char *core, const char *bkeys,
				  const char *pkeys, const char *rest, unsigned flags)
{
	char path[512], text[8192];
	snprintf(text, sizeof text,
		 "[dnsfollow]\nowner_id = unit\nplugin_dir = %s/plugins\n%s\n"
		 "[backend lab]\ntype = static\nfile = p.ini\n%s\n"
		 "[provider m]\ntype = mock\nzones = example.test, other.example\nstate = s.json\n%s\n%s",
		 test_build_dir(), core, bkeys, pkeys, rest);
	write_file("c.ini", text);
	snprintf(path, sizeof path, "%s/c.ini", dir);
	struct df_config *cfg = df_config_parse(path);
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("config: %s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 0);
	struct df_runtime *rt = df_runtime_new(cfg, l, flags);
	assert_non_null(rt);
	rt->plan_out = stderr;
	return rt;
}

#define DISCOVER "discover = yes\ndiscover_provider = m\n"
#define SYNC0 "policy = sync\n"
#define REC(name, service) \
	"[record " name "]\nprovider = m\nbackend = lab\nservice = " service "\n"

/* The data of (name, type) in mock state `file`, joined by spaces. */
static const char *state_in(const char *file, const char *name, const char *type)
{
	static char out[1024];
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	out[0] = '\0';
	json_t *root = json_load_file(path, 0, NULL);
	const char *zone = strstr(name, "other.example") ? "other.example" : "example.test";
	json_t *rd = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(root, "zones"), zone),
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

static const char *state(const char *name, const char *type)
{
	return state_in("s.json", name, type);
}

#define MARK "heritage=dnsfollow,owner=unit"

/* What the core logs during `passes` passes (stderr captured). */
static char logbuf[65536];

static void passes(struct df_runtime *rt, uint64_t now, int n, enum df_pass_kind kind)
{
	char path[512];
	snprintf(path, sizeof path, "%s/log.txt", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	struct df_pass_stats s;
	for (int i = 0; i < n; i++)
		df_pass(rt, now + (uint64_t)i * 1000u, kind, &s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(logbuf, 1, sizeof logbuf - 1, f) : 0;
	logbuf[got] = '\0';
	if (f)
		fclose(f);
	fputs(logbuf, stderr);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static int setup(void **st)
{
	(void)st;
	dir = test_tmpdir();
	return dir ? 0 : -1;
}

static int fresh(void **st)
{
	(void)st;
	remove_file("s.json");
	remove_file("s2.json");
	return 0;
}

/* A name in the placements file is published with its keys; nothing in
 * the INI asks for it. */
static void test_discovered_published(void **st)
{
	(void)st;
	write_file("p.ini", "[web]\naddresses = 192.0.2.7, 2001:db8::7\n"
			    "names = web.example.test, www.other.example\nrecord.type = A, AAAA\n");
	struct df_runtime *rt = runtime("", DISCOVER, "", "", 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_int_equal(rt->set->nrecs, 2);
	assert_string_equal(state("web.example.test", "A"), "192.0.2.7");
	assert_string_equal(state("web.example.test", "AAAA"), "2001:db8::7");
	assert_string_equal(state("www.other.example", "A"), "192.0.2.7");
	assert_string_equal(state("_dnsfollow.web.example.test", "TXT"), MARK);
	assert_int_equal(df_exit_status(rt), 0);
	df_runtime_free(rt);
}

/* Outside the provider's zones, outside discover_names, or asking for
 * adopt: refused, never written, said once over several passes. */
static void test_fence(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n"
			    "names = a.example.test, out.elsewhere.test, b.deep.example.test\n"
			    "[c]\naddresses = 192.0.2.3\nnames = c.deep.example.test\nrecord.adopt = yes\n");
	struct df_runtime *rt = runtime("", DISCOVER "discover_names = *.deep.example.test\n",
					"", "", 0);
	passes(rt, 1000, 3, DF_PASS_ALL);
	assert_string_equal(state("b.deep.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("a.example.test", "A"), "");
	assert_string_equal(state("c.deep.example.test", "A"), "");
	assert_int_equal(count(logbuf, "a.example.test is outside discover_names"), 1);
	assert_int_equal(count(logbuf, "out.elsewhere.test"), 1);
	assert_int_equal(count(logbuf, "adopt cannot be set"), 1);
	df_runtime_free(rt);
}

/* An INI record and a discovered one with the same name and provider:
 * the INI's is written, and the log says why once. */
static void test_ini_wins(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n"
			    "[b]\naddresses = 192.0.2.2\nnames = a.example.test\n");
	struct df_runtime *rt = runtime("", DISCOVER, "", REC("a.example.test", "a"), 0);
	passes(rt, 1000, 3, DF_PASS_ALL);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	assert_int_equal(count(logbuf, "wins over what service b asks"), 1);
	df_runtime_free(rt);
}

/* Two services claiming one name: neither is written, no flapping, each
 * said once; under sync the name, once written, is not an orphan. */
static void test_two_claims(void **st)
{
	(void)st;
	write_file("p.ini", "[s1]\naddresses = 192.0.2.1\nnames = x.example.test\n");
	struct df_runtime *rt = runtime("orphan_grace = 0\n", DISCOVER, SYNC0, "", 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state("x.example.test", "A"), "192.0.2.1");
	write_file("p.ini", "[s1]\naddresses = 192.0.2.1\nnames = x.example.test\n"
			    "[s2]\naddresses = 192.0.2.2\nnames = x.example.test\n");
	passes(rt, 5000, 4, DF_PASS_ALL);
	assert_string_equal(state("x.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("_dnsfollow.x.example.test", "TXT"), MARK);
	assert_int_equal(count(logbuf, "claimed by more than one service"), 2);
	assert_int_equal(count(logbuf, "orphan"), 0);
	df_runtime_free(rt);
}

/* Zone content beside dnsfollow's: a foreign name and one of another
 * dnsfollow. */
static void add_neighbours(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/s.json", dir);
	json_t *root = json_load_file(path, 0, NULL);
	json_t *rr = json_object_get(json_object_get(json_object_get(root, "zones"),
						     "example.test"), "rrsets");
	assert_non_null(rr);
	json_object_set_new(rr, "f.example.test",
			    json_pack("{s:{s:i,s:[s]}}", "A", "ttl", 60, "rdata", "198.51.100.1"));
	json_object_set_new(rr, "o.example.test",
			    json_pack("{s:{s:i,s:[s]}}", "A", "ttl", 60, "rdata", "198.51.100.2"));
	json_object_set_new(rr, "_dnsfollow.o.example.test",
			    json_pack("{s:{s:i,s:[s]}}", "TXT", "ttl", 60, "rdata",
				      "heritage=dnsfollow,owner=other"));
	json_dump_file(root, path, 0);
	json_decref(root);
}

/* A reload without b's section: under sync, b and its marker go (only
 * once orphan_grace has passed over two passes); a, a foreign name and
 * another owner's name stay. */
static void test_orphan_after_reload(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n[b]\naddresses = 192.0.2.2\n");
	struct df_runtime *rt = runtime("orphan_grace = 10\n", "", SYNC0,
					REC("a.example.test", "a") REC("b.example.test", "b"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	df_runtime_free(rt);
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	add_neighbours();
	rt = runtime("orphan_grace = 10\n", "", SYNC0, REC("a.example.test", "a"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	assert_int_equal(df_next_retry(rt), 11000);
	passes(rt, 5000, 1, DF_PASS_ALL); /* seen twice, but 4 s */
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	passes(rt, 11000, 1, DF_PASS_RETRIES);
	assert_string_equal(state("b.example.test", "A"), "");
	assert_string_equal(state("_dnsfollow.b.example.test", "TXT"), "");
	assert_int_equal(count(logbuf, "orphan b.example.test"), 1);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("_dnsfollow.a.example.test", "TXT"), MARK);
	assert_string_equal(state("f.example.test", "A"), "198.51.100.1");
	assert_string_equal(state("o.example.test", "A"), "198.51.100.2");
	assert_string_equal(state("_dnsfollow.o.example.test", "TXT"),
			    "heritage=dnsfollow,owner=other");
	df_runtime_free(rt);
}

/* upsert-only (the default) never deletes an orphan. */
static void test_upsert_only_keeps(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n[b]\naddresses = 192.0.2.2\n");
	struct df_runtime *rt = runtime("orphan_grace = 0\n", "", "",
					REC("a.example.test", "a") REC("b.example.test", "b"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	df_runtime_free(rt);
	rt = runtime("orphan_grace = 0\n", "", "", REC("a.example.test", "a"), 0);
	passes(rt, 1000, 3, DF_PASS_ALL);
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	assert_string_equal(state("_dnsfollow.b.example.test", "TXT"), MARK);
	df_runtime_free(rt);
}

/* No deletion without full knowledge: a resolution that fails, or a
 * discovery that fails (a broken placements file), keeps every orphan
 * however long it lasts. */
static void test_orphan_needs_knowledge(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n[b]\naddresses = 192.0.2.2\n");
	struct df_runtime *rt = runtime("orphan_grace = 0\n", "", SYNC0,
					REC("a.example.test", "a") REC("b.example.test", "b"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	df_runtime_free(rt);
	/* a's service is gone from the file: its lookup fails. */
	write_file("p.ini", "[c]\naddresses = 192.0.2.3\n");
	rt = runtime("orphan_grace = 0\n", "", SYNC0, REC("a.example.test", "a"), 0);
	passes(rt, 1000, 3, DF_PASS_ALL);
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	df_runtime_free(rt);
	/* Discovery itself fails (the file cannot be parsed): what it
	 * found before stays asked for. */
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nnames = d.example.test\n"
			    "[b]\naddresses = 192.0.2.2\n");
	rt = runtime("orphan_grace = 0\n", DISCOVER, SYNC0,
		     REC("a.example.test", "a") REC("b.example.test", "b"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state("d.example.test", "A"), "192.0.2.1");
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nthis is not a placements file\n");
	passes(rt, 2000, 3, DF_PASS_ALL);
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	assert_string_equal(state("d.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("_dnsfollow.d.example.test", "TXT"), MARK);
	assert_int_equal(count(logbuf, "cannot discover records"), 1);
	assert_int_not_equal(df_exit_status(rt), 0);
	df_runtime_free(rt);
}

/* A discovered name that moves: the old one is an orphan under sync. */
static void test_label_moves(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nnames = one.example.test\n");
	struct df_runtime *rt = runtime("orphan_grace = 0\n", DISCOVER, SYNC0, "", 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state("one.example.test", "A"), "192.0.2.1");
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nnames = two.example.test\n");
	passes(rt, 2000, 1, DF_PASS_ALL);
	assert_string_equal(state("two.example.test", "A"), "192.0.2.1");
	/* A daemon needs two sightings, each from a discovery of its own,
	 * even with orphan_grace = 0. */
	assert_string_equal(state("one.example.test", "A"), "192.0.2.1");
	passes(rt, 3000, 1, DF_PASS_ALL);
	assert_string_equal(state("one.example.test", "A"), "");
	assert_string_equal(state("_dnsfollow.one.example.test", "TXT"), "");
	df_runtime_free(rt);
}

/* One empty discovery, then the service is back: the orphan's timer
 * pass asks the orchestrator again, rather than count the old answer a
 * second time, and deletes nothing. */
static void test_timer_pass_rediscovers(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nnames = a.example.test\n");
	struct df_runtime *rt = runtime("orphan_grace = 10\ninterval = 600\n", DISCOVER,
					SYNC0, "", 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n"); /* asks for nothing */
	passes(rt, 2000, 1, DF_PASS_DUE);
	assert_int_equal(df_next_retry(rt), 12000);
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\nnames = a.example.test\n");
	passes(rt, 12000, 1, DF_PASS_RETRIES);
	assert_string_equal(state("a.example.test", "A"), "192.0.2.1");
	assert_string_equal(state("_dnsfollow.a.example.test", "TXT"), MARK);
	/* And a name truly gone goes: timer passes each ask again. */
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n");
	passes(rt, 13000, 1, DF_PASS_DUE);
	passes(rt, 23000, 1, DF_PASS_RETRIES);
	assert_string_equal(state("a.example.test", "A"), "");
	df_runtime_free(rt);
}

/* One section name in two placements files (two static backends): two
 * claims, neither written, said once. */
static void test_one_source_two_backends(void **st)
{
	(void)st;
	write_file("p.ini", "[web]\naddresses = 192.0.2.1\nnames = w.example.test\n");
	write_file("p2.ini", "[web]\naddresses = 192.0.2.2\nnames = w.example.test\n");
	struct df_runtime *rt = runtime("", DISCOVER, "",
		"[backend lab2]\ntype = static\nfile = p2.ini\ndiscover = yes\ndiscover_provider = m\n", 0);
	passes(rt, 1000, 3, DF_PASS_ALL);
	assert_string_equal(state("w.example.test", "A"), "");
	assert_int_equal(count(logbuf, "claimed by more than one service"), 2);
	df_runtime_free(rt);
}

/* A dry run names the orphan deletion and writes nothing. */
static void test_dry_run_orphan(void **st)
{
	(void)st;
	write_file("p.ini", "[a]\naddresses = 192.0.2.1\n[b]\naddresses = 192.0.2.2\n");
	struct df_runtime *rt = runtime("orphan_grace = 0\n", "", SYNC0,
					REC("a.example.test", "a") REC("b.example.test", "b"), 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	df_runtime_free(rt);
	rt = runtime("orphan_grace = 0\n", "", SYNC0, REC("a.example.test", "a"), DF_RT_DRY_RUN);
	char path[512];
	snprintf(path, sizeof path, "%s/plan.txt", dir);
	FILE *plan = fopen(path, "w+");
	rt->plan_out = plan;
	rt->max_attempts = 3; /* as --dry-run runs: once */
	passes(rt, 1000, 1, DF_PASS_ALL);
	char text[4096] = "";
	rewind(plan);
	text[fread(text, 1, sizeof text - 1, plan)] = '\0';
	fclose(plan);
	assert_non_null(strstr(text, "orphan b.example.test"));
	assert_non_null(strstr(text, "delete b.example.test A"));
	assert_non_null(strstr(text, "delete _dnsfollow.b.example.test TXT"));
	assert_string_equal(state("b.example.test", "A"), "192.0.2.2");
	assert_int_equal(rt->apply_calls, 0);
	df_runtime_free(rt);
}

/* One name, two providers, two sources: each gets its own data. */
static void test_split_horizon(void **st)
{
	(void)st;
	write_file("p.ini", "[pub]\naddresses = 203.0.113.5\n[lan]\naddresses = 10.0.0.5\n");
	struct df_runtime *rt = runtime("", "", "",
		"[provider m2]\ntype = mock\nzones = example.test\nstate = s2.json\n"
		REC("git.example.test", "pub")
		"[record git.example.test]\nprovider = m2\nbackend = lab\nservice = lan\n", 0);
	passes(rt, 1000, 1, DF_PASS_ALL);
	assert_string_equal(state_in("s.json", "git.example.test", "A"), "203.0.113.5");
	assert_string_equal(state_in("s2.json", "git.example.test", "A"), "10.0.0.5");
	assert_int_equal(df_exit_status(rt), 0);
	df_runtime_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_discovered_published, fresh),
		cmocka_unit_test_setup(test_fence, fresh),
		cmocka_unit_test_setup(test_ini_wins, fresh),
		cmocka_unit_test_setup(test_two_claims, fresh),
		cmocka_unit_test_setup(test_orphan_after_reload, fresh),
		cmocka_unit_test_setup(test_upsert_only_keeps, fresh),
		cmocka_unit_test_setup(test_orphan_needs_knowledge, fresh),
		cmocka_unit_test_setup(test_label_moves, fresh),
		cmocka_unit_test_setup(test_dry_run_orphan, fresh),
		cmocka_unit_test_setup(test_timer_pass_rediscovers, fresh),
		cmocka_unit_test_setup(test_one_source_two_backends, fresh),
		cmocka_unit_test_setup(test_split_horizon, fresh),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
