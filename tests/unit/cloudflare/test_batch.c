/*
 * The cloudflare provider's writes against the fake Cloudflare API: one
 * batch per changeset, all or nothing (a conflict Cloudflare finds leaves
 * nothing written); a changeset over batch_max split between groups, the
 * batches already in reported through results[] and never sent again;
 * CNAME exclusivity (Cloudflare's own refusals, and TXT beside a CNAME,
 * which Cloudflare accepts but the provider refuses); proxied records.
 * Port 15426.
 */
#include "cfharness.h"

static int group_setup(void **state)
{
	(void)state;
	return cf_setup(15426);
}

static const char *addr[] = {"192.0.2.10"}, *mark[] = {"heritage=dnsfollow,owner=t"},
		  *target[] = {"elsewhere.example.net"};

static long batch_ops(size_t i)
{
	json_t *st = stats();
	long n = (long)json_integer_value(json_array_get(json_object_get(st, "batch_ops"), i));
	json_decref(st);
	return n;
}

static size_t nbatches(void)
{
	json_t *st = stats();
	size_t n = json_array_size(json_object_get(st, "batch_ops"));
	json_decref(st);
	return n;
}

/* A changeset of several operations is one batch call. A conflict the
 * provider could not see (an A added by hand after its read) is refused
 * by Cloudflare inside the batch: nothing of the batch is written. */
static void batch_all_or_nothing(void **state)
{
	(void)state;
	reset(NULL);
	void *p = make(NULL);
	struct seen s;
	struct dnsfollow_rrkey k[] = {{"_dnsfollow.x.a.test", DNSFOLLOW_TYPE_TXT},
				      {"x.a.test", DNSFOLLOW_TYPE_CNAME},
				      {"y.a.test", DNSFOLLOW_TYPE_A}};
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(p, "a.test", k, 3, collect, &s), 0);
	seed("a.test", "x.a.test", "A", "192.0.2.99"); /* by hand, meanwhile */
	json_decref(ctl("POST", "reset", ""));
	struct dnsfollow_change c[] = {
		SET("_dnsfollow.x.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
		SET("x.a.test", DNSFOLLOW_TYPE_CNAME, 1, target),
		SET("y.a.test", DNSFOLLOW_TYPE_A, 1, addr),
	};
	uint32_t g[] = {0, 0, 1};
	int res[3];
	int rc = apply_full(p, "a.test", c, 3, g, res, NULL);
	assert_int_equal(rc, -EEXIST);
	assert_non_null(strstr(testhost_error(h), "81053"));
	assert_int_equal(calls(BATCH), 1);
	assert_int_equal(batch_ops(0), 3);
	assert_string_equal(dump("a.test"), "x.a.test A 192.0.2.99 300;");
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i], DNSFOLLOW_RESULT_UNKNOWN);
	/* Without the conflict, the same batch goes in whole, results 0. */
	c[1].rrset.type = DNSFOLLOW_TYPE_A, c[1].rrset.rdata = addr;
	assert_int_equal(apply_full(p, "a.test", c, 3, g, res, NULL), 0);
	assert_int_equal(calls(BATCH), 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i], 0);
	assert_int_equal(count_records("a.test"), 4); /* x: hand-made A + ours */
	dnsfollow_plugin.destroy(p);
}

/* Five groups (marker + A) with batch_max 4: batches of 4, 4 and 2
 * operations, never a group cut in two; every result 0; a log line says
 * the changeset was split. */
static void split_over_batch_max(void **state)
{
	(void)state;
	reset(NULL);
	const char *bm[] = {"batch_max=4", NULL};
	void *p = make(bm);
	struct dnsfollow_change c[10];
	char names[10][48];
	uint32_t g[10];
	for (int i = 0; i < 5; i++) {
		snprintf(names[2 * i], sizeof names[0], "_dnsfollow.n%d.a.test", i);
		snprintf(names[2 * i + 1], sizeof names[0], "n%d.a.test", i);
		c[2 * i] = (struct dnsfollow_change)SET(names[2 * i], DNSFOLLOW_TYPE_TXT, 1, mark);
		c[2 * i + 1] = (struct dnsfollow_change)SET(names[2 * i + 1], DNSFOLLOW_TYPE_A, 1, addr);
		g[2 * i] = g[2 * i + 1] = (uint32_t)i;
	}
	int res[10];
	assert_int_equal(apply_full(p, "a.test", c, 10, g, res, NULL), 0);
	assert_int_equal(nbatches(), 3);
	assert_int_equal(batch_ops(0), 4);
	assert_int_equal(batch_ops(1), 4);
	assert_int_equal(batch_ops(2), 2);
	for (int i = 0; i < 10; i++)
		assert_int_equal(res[i], 0);
	assert_int_equal(count_records("a.test"), 10);
	assert_non_null(strstr(testhost_log(h), "batches of at most 4 (batch_max)"));
	/* batch_max 3 cannot hold two groups: one group a batch. */
	dnsfollow_plugin.destroy(p);
	reset(NULL);
	const char *bm3[] = {"batch_max=3", NULL};
	p = make(bm3);
	assert_int_equal(apply_full(p, "a.test", c, 10, g, res, NULL), 0);
	assert_int_equal(nbatches(), 5);
	assert_int_equal(batch_ops(4), 2);
	dnsfollow_plugin.destroy(p);
}

/* The third batch is refused: the first two stay (their changes get
 * results 0, the refused ones stay unknown), nothing of the third is
 * written; the same changeset again (as the core retries it) sends only
 * what is still missing. */
static void split_failure_reports_applied(void **state)
{
	(void)state;
	reset(NULL);
	const char *bm[] = {"batch_max=2", NULL};
	void *p = make(bm);
	struct dnsfollow_change c[6];
	char names[6][48];
	uint32_t g[6];
	for (int i = 0; i < 3; i++) {
		snprintf(names[2 * i], sizeof names[0], "_dnsfollow.s%d.a.test", i);
		snprintf(names[2 * i + 1], sizeof names[0], "s%d.a.test", i);
		c[2 * i] = (struct dnsfollow_change)SET(names[2 * i], DNSFOLLOW_TYPE_TXT, 1, mark);
		c[2 * i + 1] = (struct dnsfollow_change)SET(names[2 * i + 1], DNSFOLLOW_TYPE_CNAME, 1, target);
		g[2 * i] = g[2 * i + 1] = (uint32_t)i;
	}
	struct seen s = {0};
	assert_int_equal(read1(p, "a.test", "s2.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	struct dnsfollow_rrkey k[6];
	for (int i = 0; i < 6; i++)
		k[i] = (struct dnsfollow_rrkey){names[i], c[i].rrset.type};
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(p, "a.test", k, 6, collect, &s), 0);
	seed("a.test", "s2.a.test", "A", "192.0.2.99"); /* the CNAME will clash */
	json_decref(ctl("POST", "reset", ""));
	int res[6];
	assert_int_equal(apply_full(p, "a.test", c, 6, g, res, NULL), -EEXIST);
	assert_int_equal(nbatches(), 3);
	for (int i = 0; i < 4; i++)
		assert_int_equal(res[i], 0);
	assert_int_equal(res[4], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(res[5], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(count_records("a.test"), 5);
	assert_non_null(strstr(testhost_log(h), "2 applied"));
	/* The core retries the others with the same changeset: nothing sent. */
	json_decref(ctl("POST", "reset", ""));
	assert_int_equal(apply_full(p, "a.test", c, 4, g, res, NULL), 0);
	assert_int_equal(total(), 0);
	dnsfollow_plugin.destroy(p);
}

/* Cloudflare refuses a CNAME beside A (81053) and A beside a CNAME
 * (81054); it accepts TXT beside a CNAME, which the provider refuses
 * itself (-EEXIST, that change's result, nothing sent). */
static void cname_exclusivity(void **state)
{
	(void)state;
	reset(NULL);
	void *p = make(NULL);
	struct seen s = {0};
	struct dnsfollow_change cn[] = {SET("c.a.test", DNSFOLLOW_TYPE_CNAME, 1, target)};
	assert_int_equal(read1(p, "a.test", "c.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	assert_int_equal(apply(p, "a.test", cn, 1), 0);
	/* The fake, like Cloudflare, takes TXT beside the CNAME ... */
	json_t *zs = raw_call("GET", "/client/v4/zones?name=a.test", NULL, TOKEN, 200);
	char path[200];
	snprintf(path, sizeof path, "/client/v4/zones/%s/dns_records",
		 json_string_value(json_object_get(json_array_get(json_object_get(zs, "result"), 0), "id")));
	json_decref(zs);
	json_decref(raw_call("POST", path, "{\"type\":\"TXT\",\"name\":\"c.a.test\",\"content\":\"x\"}",
			     TOKEN, 200));
	json_decref(raw_call("POST", path, "{\"type\":\"A\",\"name\":\"c.a.test\",\"content\":\"192.0.2.1\"}",
			     TOKEN, 400));
	reset(NULL);
	assert_int_equal(read1(p, "a.test", "c.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	assert_int_equal(apply(p, "a.test", cn, 1), 0);
	/* ... the provider does not. */
	json_decref(ctl("POST", "reset", ""));
	struct dnsfollow_change tx[] = {SET("c.a.test", DNSFOLLOW_TYPE_TXT, 1, mark)};
	int res[1];
	assert_int_equal(apply_full(p, "a.test", tx, 1, NULL, res, NULL), -EEXIST);
	assert_int_equal(res[0], -EEXIST);
	assert_non_null(strstr(testhost_error(h), "a CNAME cannot sit beside other data"));
	assert_int_equal(total(), 0);
	/* A CNAME replacing the A in one changeset is fine (deletes first). */
	reset(NULL);
	seed("a.test", "r.a.test", "A", "192.0.2.5");
	assert_int_equal(read1(p, "a.test", "r.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	struct dnsfollow_change sw[] = {DEL("r.a.test", DNSFOLLOW_TYPE_A),
					SET("r.a.test", DNSFOLLOW_TYPE_CNAME, 1, target)};
	assert_int_equal(apply(p, "a.test", sw, 2), 0);
	assert_string_equal(dump("a.test"), "r.a.test CNAME elsewhere.example.net 300;");
	/* Cloudflare's own refusal (stale snapshot): -EEXIST with its code. */
	seed("a.test", "q.a.test", "CNAME", "x.example.net");
	struct dnsfollow_change aq[] = {SET("q.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	assert_int_equal(apply(p, "a.test", aq, 1), -EEXIST);
	dnsfollow_plugin.destroy(p);
}

/* proxied = yes: stored proxied with TTL 1 (automatic); read() reports
 * the TTL asked, so the next pass finds it in sync and sends nothing. */
static void proxied_records(void **state)
{
	(void)state;
	reset(NULL);
	void *p = make(NULL);
	struct seen s = {0};
	assert_int_equal(read1(p, "a.test", "w.a.test", DNSFOLLOW_TYPE_A, &s), 0);
	struct dnsfollow_change c[] = {SET("w.a.test", DNSFOLLOW_TYPE_A, 1, addr),
				       SET("_dnsfollow.w.a.test", DNSFOLLOW_TYPE_TXT, 1, mark)};
	int res[2];
	assert_int_equal(apply_full(p, "a.test", c, 2, NULL, res, "proxied=yes"), 0);
	assert_string_equal(dump("a.test"), "_dnsfollow.w.a.test TXT \"heritage=dnsfollow,owner=t\" 300;"
					    "w.a.test A 192.0.2.10 1 proxied;");
	struct dnsfollow_rrkey k[] = {{"w.a.test", DNSFOLLOW_TYPE_A},
				      {"_dnsfollow.w.a.test", DNSFOLLOW_TYPE_TXT}};
	memset(&s, 0, sizeof s);
	assert_int_equal(ops->read(p, "a.test", k, 2, collect, &s), 0);
	assert_string_equal(s.text, "_dnsfollow.w.a.test TXT 300 heritage=dnsfollow,owner=t;"
				    "w.a.test A 300 192.0.2.10;");
	json_decref(ctl("POST", "reset", ""));
	assert_int_equal(apply_full(p, "a.test", c, 2, NULL, res, "proxied=yes"), 0);
	assert_int_equal(total(), 0);
	/* Back to proxied = no: one PATCH. */
	assert_int_equal(apply_full(p, "a.test", c, 2, NULL, res, "proxied=no"), 0);
	assert_int_equal(calls("PATCH /zones/{zone}/dns_records/{id}"), 1);
	assert_non_null(strstr(dump("a.test"), "w.a.test A 192.0.2.10 300;"));
	dnsfollow_plugin.destroy(p);
}

/* An answer lost after the batch went in: the outcome is unknown, the
 * snapshot dropped; the next apply lists the zone again and finds the
 * records in place (nothing written twice). */
static void lost_answer(void **state)
{
	(void)state;
	reset("{\"lose_batch\": 1}");
	void *p = make(NULL);
	struct dnsfollow_change c[] = {SET("_dnsfollow.l.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
				       SET("l.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	int res[2];
	assert_int_equal(apply_full(p, "a.test", c, 2, NULL, res, NULL), -EAGAIN);
	assert_int_equal(count_records("a.test"), 2);
	json_decref(ctl("POST", "reset", ""));
	assert_int_equal(apply_full(p, "a.test", c, 2, NULL, res, NULL), 0);
	assert_int_equal(calls(BATCH), 0);
	assert_int_equal(calls(LIST), 1); /* the zone listed again */
	assert_int_equal(count_records("a.test"), 2);
	dnsfollow_plugin.destroy(p);
}

/* batch_max above the zone plan's limit: Cloudflare refuses the batch
 * (modelled as a 400), one line with its text, permanent, nothing
 * written; the README says to lower batch_max. */
static void batch_over_plan_limit(void **state)
{
	(void)state;
	reset("{\"batch_limit\": 3}");
	void *p = make(NULL);
	struct dnsfollow_change c[] = {SET("_dnsfollow.o.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
				       SET("o.a.test", DNSFOLLOW_TYPE_A, 1, addr),
				       SET("_dnsfollow.p.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
				       SET("p.a.test", DNSFOLLOW_TYPE_A, 1, addr)};
	int rc = apply(p, "a.test", c, 4);
	assert_int_equal(rc, -EINVAL);
	assert_false(dnsfollow_err_is_temporary(rc));
	assert_non_null(strstr(testhost_error(h), "HTTP 400: Cloudflare error 1004: Batch of 4 operations"));
	assert_null(strchr(testhost_error(h), '\n'));
	assert_int_equal(count_records("a.test"), 0);
	dnsfollow_plugin.destroy(p);
	const char *bm[] = {"batch_max=3", NULL}; /* the fix: two batches */
	p = make(bm);
	assert_int_equal(apply(p, "a.test", c, 4), 0);
	assert_int_equal(count_records("a.test"), 4);
	dnsfollow_plugin.destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batch_all_or_nothing),
		cmocka_unit_test(split_over_batch_max),
		cmocka_unit_test(split_failure_reports_applied),
		cmocka_unit_test(cname_exclusivity),
		cmocka_unit_test(proxied_records),
		cmocka_unit_test(lost_answer),
		cmocka_unit_test(batch_over_plan_limit),
	};
	return cmocka_run_group_tests(tests, group_setup, cf_teardown);
}
