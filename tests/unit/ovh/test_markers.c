/*
 * OVH markers() against the fake OVH API (tests/ovh/fake_ovh.py) through
 * the test host: it reports exactly the "_dnsfollow." TXT RRsets of the
 * zone (those written through apply(), and one added by hand), whole and
 * decoded as read() reports them, nothing else; what it costs in calls;
 * and every failure (5xx, 403, answers that are not JSON or not what the
 * API promises, an unknown zone) is one clear error with nothing emitted.
 * Needs python3 and openssl (both in tests/lib/deps.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"
#include "fakeovh.h"

#define MARK "heritage=dnsfollow,owner=test"
#define LIST "GET /domain/zone/{zone}/record"
#define GET_ID "GET /domain/zone/{zone}/record/{id}"
#define SOA "GET /domain/zone/{zone}/soa"

static int like_default; /* the fake's own subDomain matching */

static int group_setup(void **state)
{
	(void)state;
	like_default = -1;
	return fakeovh_start("markers", "a.test,b.test,d.test");
}

static long calls(const char *key)
{
	json_t *j = ctl("GET", "stats", NULL);
	long n = (long)json_integer_value(
		json_object_get(json_object_get(j, "calls"), key));
	json_decref(j);
	return n;
}

/* Counters zeroed, no fault, the fake's own subDomain matching, then
 * `config` (JSON) if given. */
static void reset(const char *config)
{
	char base[300];
	if (like_default < 0) { /* what the fake does before any config */
		json_t *c = ctl("POST", "config", "{}");
		like_default = (int)json_integer_value(
			json_object_get(c, "like_subdomain"));
		json_decref(c);
	}
	snprintf(base, sizeof base,
		 "{\"fail_every\":0,\"fail_refresh\":0,\"fail_writes\":0,"
		 "\"like_subdomain\":%d,\"ignore_type\":0,\"fault_path\":\"\","
		 "\"fault_count\":-1,\"garbage\":\"\",\"truncate\":0,"
		 "\"status\":0}", like_default);
	json_decref(ctl("POST", "reset", ""));
	json_decref(ctl("POST", "config", base));
	if (config)
		json_decref(ctl("POST", "config", config));
}

/* How many records `zone` holds (staged). */
static long zone_size(const char *zone)
{
	char what[128];
	snprintf(what, sizeof what, "zone?zone=%s&state=staged", zone);
	json_t *v = ctl("GET", what, NULL);
	long n = (long)json_array_size(v);
	json_decref(v);
	return n;
}

static void seed(const char *zone, const char *sub, const char *type,
		 const char *target)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i}", "zone", zone, "subDomain",
			      sub, "fieldType", type, "target", target, "ttl", 60);
	char *body = json_dumps(j, 0);
	json_decref(ctl("POST", "seed", body));
	free(body);
	json_decref(j);
}

/* An instance on the fake, no rate limit; `ck` replaces the consumer key. */
static void *make(const char *ck)
{
	char ep[128], ca[200], ckkv[128];
	snprintf(ep, sizeof ep, "endpoint=https://127.0.0.1:%d/1.0", port);
	snprintf(ca, sizeof ca, "ca_file=%s/ca.pem", dir);
	snprintf(ckkv, sizeof ckkv, "consumer_key=%s",
		 ck ? ck : "fakeConsumerKey0000000000000001");
	const char *kvs[] = {ep, ca, "rate_limit=0",
			     "application_key=fakeAppKey0000001",
			     "application_secret=fakeAppSecret00000000000000000001",
			     ckkv, NULL};
	struct dnsfollow_kv kv[16];
	long m = testhost_kv_typed(kv, 16, kvs, dnsfollow_plugin.config_keys);
	assert_true(m > 0);
	void *self = NULL;
	testhost_clear(h);
	if (dnsfollow_plugin.create(h, kv, (size_t)m, &self) != 0)
		fail_msg("create: %s", testhost_error(h));
	return self;
}

/* What emit() received, as "name TYPE ttl rdata|rdata;" lines. */
struct seen {
	char text[4096];
	int n;
	int fail_at; /* emit() returns -ECANCELED on this call (1-based) */
};

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The values sorted: concurrent POSTs get OVH's ids in any order. */
static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct seen *s = ctx;
	if (++s->n == s->fail_at)
		return -ECANCELED;
	const char *rd[16];
	assert_true(rr->count <= 16);
	memcpy(rd, rr->rdata, rr->count * sizeof *rd);
	qsort(rd, rr->count, sizeof *rd, by_text);
	size_t o = strlen(s->text);
	o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s %s %u",
			      rr->name, h->type_name(rr->type), rr->ttl);
	for (size_t i = 0; i < rr->count && o < sizeof s->text; i++)
		o += (size_t)snprintf(s->text + o, sizeof s->text - o, "%s%s",
				      i ? "|" : " ", rd[i]);
	if (o + 2 < sizeof s->text)
		strcat(s->text, ";");
	return 0;
}

static int markers(void *self, const char *zone, struct seen *s)
{
	int fail_at = s->fail_at;
	memset(s, 0, sizeof *s);
	s->fail_at = fail_at;
	testhost_clear(h);
	return ops->markers(self, zone, collect, s);
}

static int apply(void *self, const char *zone,
		 const struct dnsfollow_change *c, size_t n)
{
	uint32_t groups[16];
	int res[16];
	struct dnsfollow_options opt[16];
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		groups[i] = (uint32_t)i;
		res[i] = DNSFOLLOW_RESULT_UNKNOWN;
		opt[i] = (struct dnsfollow_options){NULL, 0};
	}
	struct dnsfollow_changeset cs = {
		.struct_size = sizeof cs, .zone = zone, .changes = c, .n = n,
		.results = res, .groups = groups, .options = opt};
	return ops->apply(self, &cs);
}

#define SET(name, type, n, rd) \
	{DNSFOLLOW_CHANGE_SET, {name, type, 60, n, rd}, NULL}
#define DEL(name, type, old) \
	{DNSFOLLOW_CHANGE_DELETE, {name, type, 0, 0, NULL}, old}

/* The markers of a.test written below, as markers() must report them:
 * sorted by name, each RRset whole (two values at www), TXT decoded. */
#define WANT_A "_dnsfollow.a.test TXT 60 " MARK ";" \
	       "_dnsfollow.git.a.test TXT 60 " MARK ";" \
	       "_dnsfollow.www.a.test TXT 60 " MARK "|say \"hi\" \\ ok;"

static const char *mark[] = {MARK}, *two[] = {MARK, "say \"hi\" \\ ok"},
		  *addr[] = {"192.0.2.10"};

/* Foreign TXT records, some looking like markers: "_dnsfollowx" (no dot),
 * "xdnsfollow.git" (what "_dnsfollow.git" matches as a LIKE pattern),
 * "_dmarc"; and an A record at a marker's name. None is a marker. */
static void seed_foreign(const char *zone)
{
	seed(zone, "_dnsfollowx", "TXT", "\"not a marker\"");
	seed(zone, "xdnsfollow.git", "TXT", "\"" MARK "\"");
	seed(zone, "_dmarc", "TXT", "\"v=DMARC1; p=none\"");
	seed(zone, "_dnsfollow.odd", "A", "192.0.2.99");
}

/* markers() reports exactly the markers apply() wrote, and the cost in
 * calls: the zone's SOA and id list, plus one GET per record that may
 * have changed. After its own writes (and refresh) the writer fetches
 * every record of the zone once (the refresh may have published an edit
 * staged by hand); a fresh instance does too; after that, two calls per
 * markers(), whatever the number of records. */
static void reports_what_apply_wrote(void **state)
{
	(void)state;
	reset(NULL);
	seed_foreign("a.test");
	void *w = make(NULL);
	struct dnsfollow_change ch[] = {
		SET("_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
		SET("git.a.test", DNSFOLLOW_TYPE_A, 1, addr),
		SET("_dnsfollow.www.a.test", DNSFOLLOW_TYPE_TXT, 2, two),
		SET("www.a.test", DNSFOLLOW_TYPE_A, 1, addr),
		SET("_dnsfollow.a.test", DNSFOLLOW_TYPE_TXT, 1, mark),
		SET("a.test", DNSFOLLOW_TYPE_A, 1, addr),
	};
	assert_int_equal(apply(w, "a.test", ch, 6), 0);

	struct seen s = {0};
	reset(NULL);
	assert_int_equal(markers(w, "a.test", &s), 0);
	assert_string_equal(s.text, WANT_A);
	assert_int_equal(s.n, 3);
	assert_int_equal(calls(LIST), 1);
	assert_int_equal(calls(SOA), 1);
	assert_int_equal(calls(GET_ID), 11); /* 7 written + 4 foreign */

	reset(NULL);
	assert_int_equal(markers(w, "a.test", &s), 0);
	assert_string_equal(s.text, WANT_A);
	assert_int_equal(calls(LIST), 1);
	assert_int_equal(calls(SOA), 1);
	assert_int_equal(calls(GET_ID), 0);

	void *fresh = make(NULL);
	reset(NULL);
	assert_int_equal(markers(fresh, "a.test", &s), 0);
	assert_string_equal(s.text, WANT_A);
	assert_int_equal(calls(LIST), 1);
	assert_int_equal(calls(GET_ID), 11);
	reset(NULL);
	assert_int_equal(markers(fresh, "a.test", &s), 0);
	assert_string_equal(s.text, WANT_A);
	assert_int_equal(calls(LIST) + calls(SOA) + calls(GET_ID), 2);

	/* The other zone's markers are not this zone's. */
	assert_int_equal(markers(fresh, "b.test", &s), 0);
	assert_int_equal(s.n, 0);
	dnsfollow_plugin.destroy(fresh);
	dnsfollow_plugin.destroy(w);
}

/* Markers that come and go between calls: one added by hand is reported
 * (one GET: the serial did not move, only the new id is fetched), a
 * marker RRset changed by hand is reported whole; one another writer
 * deleted is no longer reported (its refresh moved the serial: every
 * record is fetched again); and the text equals read()'s. */
static void follows_changes(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL), *other = make(NULL);
	struct seen s = {0}, r = {0};
	assert_int_equal(markers(self, "a.test", &s), 0);
	assert_string_equal(s.text, WANT_A);
	seed("a.test", "_dnsfollow.hand", "TXT", "\"" MARK "\"");
	seed("a.test", "_dnsfollow.www", "TXT", "\"third\"");
	reset(NULL);
	assert_int_equal(markers(self, "a.test", &s), 0);
	assert_string_equal(s.text,
			    "_dnsfollow.a.test TXT 60 " MARK ";"
			    "_dnsfollow.git.a.test TXT 60 " MARK ";"
			    "_dnsfollow.hand.a.test TXT 60 " MARK ";"
			    "_dnsfollow.www.a.test TXT 60 " MARK
			    "|say \"hi\" \\ ok|third;");
	assert_int_equal(calls(LIST), 1);
	assert_int_equal(calls(GET_ID), 2);

	struct dnsfollow_rrset old_a = {"git.a.test", DNSFOLLOW_TYPE_A, 60, 1, addr},
			      old_m = {"_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT,
				       60, 1, mark};
	struct dnsfollow_change del[] = {
		DEL("git.a.test", DNSFOLLOW_TYPE_A, &old_a),
		DEL("_dnsfollow.git.a.test", DNSFOLLOW_TYPE_TXT, &old_m),
	};
	assert_int_equal(apply(other, "a.test", del, 2), 0);
	dnsfollow_plugin.destroy(other);
	reset(NULL);
	assert_int_equal(markers(self, "a.test", &s), 0);
	assert_string_equal(s.text,
			    "_dnsfollow.a.test TXT 60 " MARK ";"
			    "_dnsfollow.hand.a.test TXT 60 " MARK ";"
			    "_dnsfollow.www.a.test TXT 60 " MARK
			    "|say \"hi\" \\ ok|third;");
	assert_int_equal(calls(LIST), 1);
	assert_int_equal(calls(GET_ID), zone_size("a.test"));

	/* read() of the same RRset, from a fresh instance, says the same. */
	void *fresh = make(NULL);
	struct dnsfollow_rrkey k = {"_dnsfollow.www.a.test", DNSFOLLOW_TYPE_TXT};
	assert_int_equal(ops->read(fresh, "a.test", &k, 1, collect, &r), 0);
	assert_non_null(strstr(s.text, r.text));
	dnsfollow_plugin.destroy(fresh);
	dnsfollow_plugin.destroy(self);
}

/* A zone without markers: foreign TXT only, nothing reported. And an
 * exact-match subDomain filter (like_subdomain 0) changes nothing, since
 * markers() uses no subDomain filter at all. */
static void nothing_but_foreign(void **state)
{
	(void)state;
	reset("{\"like_subdomain\":0}");
	seed_foreign("b.test");
	void *self = make(NULL);
	struct seen s = {0};
	assert_int_equal(markers(self, "b.test", &s), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(s.text, "");
	assert_int_equal(calls(GET_ID), 4); /* the zone read whole, once */
	dnsfollow_plugin.destroy(self);
}

/* rc, one line naming `what`, nothing emitted. */
static void fails_with(void *self, const char *zone, int rc, const char *what)
{
	struct seen s = {0};
	assert_int_equal(markers(self, zone, &s), rc);
	assert_int_equal(s.n, 0);
	const char *e = testhost_error(h);
	if (!strstr(e, what) || strchr(e, '\n'))
		fail_msg("error text: %s (wanted %s)", e, what);
}

/* An instance that has fetched the server's clock (GET /auth/time) and
 * the records of b.test, not those of a.test. */
static void *make_warm(void)
{
	void *self = make(NULL);
	struct seen s = {0};
	assert_int_equal(markers(self, "b.test", &s), 0);
	return self;
}

static void server_errors(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make_warm();
	reset("{\"fail_every\":1}"); /* every call a 500, retries included */
	fails_with(self, "a.test", -EAGAIN,
		   "GET /domain/zone/a.test/soa: HTTP 500");
	assert_int_equal(calls(LIST), 3); /* idempotent: retried, bounded */
	assert_int_equal(calls(SOA), 3);
	assert_true(dnsfollow_err_is_temporary(testhost_error_rc(h)));

	/* The list answers, the record GETs do not (the connection is cut
	 * after half the answer): still nothing emitted. */
	dnsfollow_plugin.destroy(self);
	reset(NULL);
	self = make_warm();
	reset("{\"fault_path\":\"record/{id}\",\"fault_count\":0,"
	      "\"truncate\":1}");
	fails_with(self, "a.test", -EAGAIN, "/domain/zone/a.test/record/50");
	assert_int_equal(calls(LIST), 1);
	assert_true(calls(GET_ID) >= 1);

	/* A zone the account does not serve: 404, permanent; whether the
	 * first-contact refresh meets it, or the list call (a dry run sends
	 * no refresh). */
	reset(NULL);
	fails_with(self, "c.test", -ENOENT,
		   "zone c.test is not served by this OVH account");
	df_set_dry_run(1);
	fails_with(self, "c.test", -ENOENT,
		   "zone c.test is not served by this OVH account: GET "
		   "/domain/zone/c.test/soa: HTTP 404");
	df_set_dry_run(0);
	assert_int_equal(calls(LIST), 1);
	dnsfollow_plugin.destroy(self);
}

static void bad_answers(void **state)
{
	(void)state;
	void *self = make(NULL);
	reset("{\"fault_path\":\"" LIST "\",\"fault_count\":0,"
	      "\"garbage\":\"<html>maintenance</html>\"}");
	fails_with(self, "a.test", -EPROTO,
		   "GET /domain/zone/a.test/record: answer is not JSON");
	reset("{\"fault_path\":\"" LIST "\",\"fault_count\":1,"
	      "\"garbage\":\"{\\\"ids\\\":[1]}\"}");
	fails_with(self, "a.test", -EPROTO, "expected a list of ids");
	reset("{\"fault_path\":\"" LIST "\",\"fault_count\":1,"
	      "\"garbage\":\"[1, -2]\"}");
	fails_with(self, "a.test", -EPROTO, "expected a list of ids");

	/* A record answer without fieldType or target. */
	void *fresh = make(NULL);
	reset("{\"fault_path\":\"" GET_ID "\",\"fault_count\":1,"
	      "\"garbage\":\"{\\\"id\\\":5}\"}");
	fails_with(fresh, "a.test", -EPROTO, "unexpected record content");
	/* A marker whose quoting does not parse: its owner is unknown (in
	 * d.test, which no other test reads). The same for a foreign TXT
	 * record is no error. */
	reset(NULL);
	seed("d.test", "foreign", "TXT", "\"unterminated");
	struct seen s = {0};
	assert_int_equal(markers(fresh, "d.test", &s), 0);
	assert_int_equal(s.n, 0);
	seed("d.test", "_dnsfollow.bad", "TXT", "\"unterminated");
	fails_with(fresh, "d.test", -EPROTO, "unexpected record content");
	dnsfollow_plugin.destroy(fresh);
	dnsfollow_plugin.destroy(self);
}

/* A record deleted between the list call and its GET (404) is simply
 * gone: no error; the next call fetches it if it is back. A record GET
 * the consumer key is not granted (403) fails the whole call. */
static void record_gets(void **state)
{
	(void)state;
	void *self = make_warm(), *ref = make(NULL);
	struct seen s = {0}, all = {0};
	reset(NULL);
	assert_int_equal(markers(ref, "a.test", &all), 0);
	long ntxt = calls(GET_ID);
	assert_true(ntxt > 0);
	dnsfollow_plugin.destroy(ref);
	reset("{\"fault_path\":\"" GET_ID "\",\"fault_count\":1,"
	      "\"status\":404}");
	if (markers(self, "a.test", &s) != 0)
		fail_msg("markers: %s", testhost_error(h));
	assert_int_equal(calls(GET_ID), ntxt);
	reset(NULL);
	assert_int_equal(markers(self, "a.test", &s), 0);
	assert_string_equal(s.text, all.text);
	assert_int_equal(calls(GET_ID), 1);
	dnsfollow_plugin.destroy(self);

	reset(NULL);
	self = make_warm();
	reset("{\"fault_path\":\"" GET_ID "\",\"fault_count\":0,"
	      "\"status\":403}");
	fails_with(self, "a.test", -EACCES,
		   "/record/50");
	assert_non_null(strstr(testhost_error(h),
			       "HTTP 403 NOT_GRANTED_CALL: This call has not "
			       "been granted"));
	assert_true(calls(GET_ID) < ntxt); /* permanent: the batch stops */
	dnsfollow_plugin.destroy(self);
}

/* OVH refuses the consumer key: 403, permanent, and the error says
 * where each credential came from (never its value). */
static void forbidden(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make("wrongConsumerKey000000000000001");
	fails_with(self, "a.test", -EACCES, "HTTP 403 INVALID_CREDENTIAL");
	const char *e = testhost_error(h);
	assert_non_null(strstr(e, "consumer_key from"));
	assert_null(strstr(e, "wrongConsumerKey"));
	assert_int_equal(calls(LIST), 1); /* permanent: not retried */
	assert_false(dnsfollow_err_is_temporary(testhost_error_rc(h)));
	dnsfollow_plugin.destroy(self);
}

/* emit()'s own error stops the walk and is returned as is. */
static void emit_error_stops(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	struct seen s = {.fail_at = 1};
	assert_int_equal(markers(self, "a.test", &s), -ECANCELED);
	assert_int_equal(s.n, 1);
	dnsfollow_plugin.destroy(self);
}

/* A refresh a failed apply() left owed is sent before the list call, as
 * read() does: what the list shows must not stay staged. */
static void owed_refresh_first(void **state)
{
	(void)state;
	reset("{\"fail_refresh\":3}");
	void *self = make(NULL);
	struct dnsfollow_change ch[] = {
		SET("_dnsfollow.late.a.test", DNSFOLLOW_TYPE_TXT, 1, mark)};
	assert_int_not_equal(apply(self, "a.test", ch, 1), 0);
	reset(NULL);
	struct seen s = {0};
	assert_int_equal(markers(self, "a.test", &s), 0);
	assert_non_null(strstr(s.text, "_dnsfollow.late.a.test TXT 60 " MARK));
	json_t *st = ctl("GET", "stats", NULL);
	json_t *order = json_object_get(st, "order");
	assert_string_equal(json_string_value(json_array_get(order, 0)),
			    "POST /domain/zone/{zone}/refresh");
	/* Then the SOA and the id list, together. */
	const char *o1 = json_string_value(json_array_get(order, 1)),
		   *o2 = json_string_value(json_array_get(order, 2));
	assert_true((!strcmp(o1, LIST) && !strcmp(o2, SOA)) ||
		    (!strcmp(o1, SOA) && !strcmp(o2, LIST)));
	json_decref(st);
	dnsfollow_plugin.destroy(self);
}

/* How many ids a signed list call `query` returns from d.test (bad_answers
 * put "foreign" and "_dnsfollow.bad" there), or -status. */
static long list_d(void *self, const char *query)
{
	struct ovh_req r = {.method = "GET", .idempotent = 1};
	assert_int_not_equal(asprintf(&r.path, "/domain/zone/d.test/record%s",
				      query), -1);
	ovh_call(self, &r);
	long n = r.rc == 0 ? (long)json_array_size(r.json) : -r.status;
	if (r.rc != 0 && r.status == 400 && !strstr(r.err, "does not belong"))
		fail_msg("400 without the enum's words: %s", r.err);
	ovh_req_clear(&r);
	return n;
}

/* The fake's list call takes exactly the filters OVH's schema documents:
 * fieldType, one of its enum (anything else is a 400), and subDomain,
 * "(ilike)": case ignored, '_' any one character, '%' any run. */
static void fake_filters(void **state)
{
	(void)state;
	reset(NULL);
	void *self = make(NULL);
	assert_int_equal(list_d(self, "?fieldType=TXT"), 2);
	assert_int_equal(list_d(self, "?fieldType=SPF"), 0);
	assert_int_equal(list_d(self, "?fieldType=BOGUS"), -400);
	assert_int_equal(list_d(self, "?fieldType=TXT&subDomain=FOREIGN"), 1);
	assert_int_equal(list_d(self, "?subDomain=_dnsfollow%25"), 1);
	assert_int_equal(list_d(self, "?subDomain=%25o%25"), 2);
	assert_int_equal(list_d(self, "?subDomain=_oreign"), 1);
	assert_int_equal(list_d(self, "?subDomain=oreign"), 0);
	dnsfollow_plugin.destroy(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reports_what_apply_wrote),
		cmocka_unit_test(follows_changes),
		cmocka_unit_test(nothing_but_foreign),
		cmocka_unit_test(server_errors),
		cmocka_unit_test(bad_answers),
		cmocka_unit_test(record_gets),
		cmocka_unit_test(forbidden),
		cmocka_unit_test(emit_error_stops),
		cmocka_unit_test(owed_refresh_first),
		cmocka_unit_test(fake_filters), /* after bad_answers: d.test */
	};
	return cmocka_run_group_tests(tests, group_setup, fakeovh_stop);
}
