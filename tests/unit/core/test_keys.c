/* Typed plugin keys (ABI 2): every type judged by the core, kv.num and
 * canonical text filled, defaults delivered, record keys split between
 * the backend (kv) and the provider (pkv). Uses the test plugins of
 * tests/badplugins/bad.c (bad_keys, bad_bkeys, bad_default, bad_abi1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "loader.h"
#include "log.h"
#include "testhost.h"
#include "cfgtest.h"

/* Parse and bind `text` (written to dir/c.ini) with the test plugins. */
static struct df_config *load_in(const char *text)
{
	return cfgtest_load("badplugins", text);
}

/* bad_keys (provider) and bad_bkeys (backend) declare keys of every
 * type: see tests/badplugins/bad.c. TYPED_BASE ends on line 7. */
#define TYPED_BASE                                  \
	"[backend b]\ntype = bad_bkeys\n"           \
	"[provider p]\ntype = bad_keys\nzones = example.test\n"
#define TYPED_RECORD "[record a.example.test]\nprovider = p\nbackend = b\nservice = x\n"

static struct df_config *load_typed(const char *text)
{
	char full[4096];
	snprintf(full, sizeof full, TYPED_BASE "%s", text);
	struct df_config *cfg = load_in(full);
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("  got: %s\n", cfg->errors[i]);
	return cfg;
}

/* Assert one error "DIR/c.ini:LINE: ...needle..." for TYPED_BASE `text`. */
static void expect_typed_error(const char *text, int line, const char *needle)
{
	char full[4096];
	snprintf(full, sizeof full, TYPED_BASE "%s", text);
	cfgtest_expect_error(load_in(full), line, needle);
}

static const struct dnsfollow_kv *kv_of(const struct df_instance_cfg *ic,
					const char *key)
{
	return dnsfollow_kv_find(ic->kv, ic->nkv, key);
}

/* Good values of every type: kv.num and the canonical text. */
static void test_typed_values(void **state)
{
	(void)state;
	struct df_config *cfg = load_typed(
		"count = 007\nbig = 18446744073709551615\nverbose = On\n"
		"timeout = 5M\nmode = THOROUGH\ncert = certs/ca.pem\n"
		"token = s3cret-token-value\nlabel = Some Text\nlimit.web = 100\n"
		"tag = one\ntag = two\n");
	assert_int_equal(cfg->nerrors, 0);
	const struct df_instance_cfg *p = &cfg->providers[0];
	static const struct {
		const char *key, *value;
		uint64_t num;
	} want[] = {
		{"count", "7", 7},
		{"big", "18446744073709551615", UINT64_MAX},
		{"verbose", "yes", 1},
		{"timeout", "5m", 300000},
		{"mode", "Thorough", 2},
		{"token", "s3cret-token-value", 0},
		{"label", "Some Text", 0},
		{"limit.web", "100", 100},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct dnsfollow_kv *kv = kv_of(p, want[i].key);
		assert_non_null(kv);
		assert_string_equal(kv->value, want[i].value);
		assert_true(kv->num == want[i].num);
	}
	char path[128];
	snprintf(path, sizeof path, "%s/certs/ca.pem", dir);
	assert_string_equal(kv_of(p, "cert")->value, path);
	/* MULTI: both, in order. */
	size_t tags = 0;
	for (size_t i = 0; i < p->nkv; i++)
		if (strcmp(p->kv[i].key, "tag") == 0)
			assert_string_equal(p->kv[i].value, tags++ ? "two" : "one");
	assert_int_equal(tags, 2);
	/* A SECRET is registered for masking. */
	char msg[64] = "auth s3cret-token-value";
	df_redact(msg, sizeof msg);
	assert_string_equal(msg, "auth ***");
	df_log_clear_secrets();
	df_config_free(cfg);
}

/* Absent keys with a default are delivered, parsed like a value; keys
 * without one stay absent. */
static void test_typed_defaults(void **state)
{
	(void)state;
	struct df_config *cfg = load_typed("");
	assert_int_equal(cfg->nerrors, 0);
	const struct df_instance_cfg *p = &cfg->providers[0];
	assert_string_equal(kv_of(p, "count")->value, "5");
	assert_true(kv_of(p, "count")->num == 5);
	assert_string_equal(kv_of(p, "verbose")->value, "no");
	assert_true(kv_of(p, "verbose")->num == 0);
	assert_string_equal(kv_of(p, "timeout")->value, "30s");
	assert_true(kv_of(p, "timeout")->num == 30000);
	assert_string_equal(kv_of(p, "mode")->value, "safe");
	assert_true(kv_of(p, "mode")->num == 1);
	assert_null(kv_of(p, "big"));
	assert_null(kv_of(p, "cert"));
	assert_null(kv_of(p, "token"));
	assert_true(dnsfollow_kv_num(p->kv, p->nkv, "big", 42) == 42);
	df_config_free(cfg);
	/* A key given as a file that cannot be read gets no default in its
	 * place: its error is the one said. */
	cfg = load_typed("count_file = nothing-here\n");
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], "c.ini:8: count_file: "));
	df_config_free(cfg);
}

/* Durations: a bare number is seconds; ms, s, m, h in any case. */
static void test_typed_durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t ms;
		const char *canon;
	} good[] = {
		{"30", 30000, "30s"},     {"30s", 30000, "30s"}, {"1500ms", 1500, "1500ms"},
		{"90s", 90000, "90s"},    {"60m", 3600000, "1h"}, {"1h", 3600000, "1h"},
		{"1000ms", 1000, "1s"},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char text[64];
		snprintf(text, sizeof text, "timeout = %s\n", good[i].text);
		struct df_config *cfg = load_typed(text);
		assert_int_equal(cfg->nerrors, 0);
		const struct dnsfollow_kv *kv = kv_of(&cfg->providers[0], "timeout");
		assert_true(kv->num == good[i].ms);
		assert_string_equal(kv->value, good[i].canon);
		df_config_free(cfg);
	}
	static const char *const bad[] = {"999ms", "61m", "2h", "0", "5 m", "5x", "m",
					  "-5s", "1.5s", "", "99999999999999999999h"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[64], want[200];
		snprintf(text, sizeof text, "timeout = %s\n", bad[i]);
		snprintf(want, sizeof want,
			 "timeout must be a duration from 1s to 1h (such as 30s, 500ms, 5m or 2h; a bare number is seconds), not '%s'",
			 bad[i]);
		expect_typed_error(text, 8, want);
	}
}

/* Bad values: FILE:LINE: KEY must be ..., not 'VALUE'. */
static void test_typed_errors(void **state)
{
	(void)state;
	expect_typed_error("count = 11\n", 8, "count must be a whole number from 1 to 10, not '11'");
	expect_typed_error("count = 0\n", 8, "count must be a whole number from 1 to 10, not '0'");
	expect_typed_error("count = 5x\n", 8, "not '5x'");
	expect_typed_error("count = -1\n", 8, "not '-1'");
	expect_typed_error("count = +3\n", 8, "not '+3'");
	expect_typed_error("count =\n", 8, "count must be a whole number from 1 to 10, not ''");
	expect_typed_error("big = 18446744073709551616\n", 8,
			   "big must be a whole number, not '18446744073709551616'");
	expect_typed_error("verbose = maybe\n", 8, "verbose must be yes or no, not 'maybe'");
	/* The enum's error lists its values. */
	expect_typed_error("mode = slow\n", 8, "mode must be fast, safe or Thorough, not 'slow'");
	expect_typed_error("cert =\n", 8, "cert is empty");
	expect_typed_error("token = abc\n", 8,
			   "token: a secret shorter than 4 characters cannot be kept out of logs");
	/* A wildcard key has its declaration's type and shows its own name. */
	expect_typed_error("limit.web = 101\n", 8, "limit.web must be a whole number from 0 to 100, not '101'");
	expect_typed_error("count = 2\ncount = 3\n", 9, "'count' given twice in [provider p]");
	expect_typed_error("colour = red\n", 8,
			   "unknown key 'colour' in [provider p] (allowed: type, zones, policy, count, big, verbose, timeout, mode, cert, token, label, limit.*, tag)");
	/* A two-line secret file would end an HTTP header early (header
	 * smuggling): refused by the core, for every plugin. */
	free(test_write_file(dir, "two-lines", "abcdefgh\nX-Smuggled: 1\n"));
	expect_typed_error("token_file = two-lines\n", 8,
			   "token holds a control character (a line break?); a secret is one line");
	/* A FIFO as a path would hang whoever opens it later (curl's CA). */
	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_typed_error("cert = fifo\n", 8, "cert: ");
	expect_typed_error("cert = fifo\n", 8, "is a FIFO; give a regular file");
	/* Each bad value its own line: all are said at once. */
	struct df_config *cfg = load_typed("count = 0\nverbose = 2\nmode = x\n");
	assert_int_equal(cfg->nerrors, 3);
	df_config_free(cfg);
}

/* [record] keys: the backend's go to kv (resolve()'s query), the
 * provider's to pkv (apply()'s options); a key both declare to both. */
static void test_record_keys_split(void **state)
{
	(void)state;
	struct df_config *cfg = load_typed(TYPED_RECORD "target = Nodes\nweight = 7\nshared = B\n");
	assert_int_equal(cfg->nerrors, 0);
	const struct df_record_cfg *r = &cfg->records[0];
	const struct dnsfollow_kv *kv;
	/* Backend: target, shared; not the provider's weight. */
	kv = dnsfollow_kv_find(r->kv, r->nkv, "target");
	assert_non_null(kv);
	assert_string_equal(kv->value, "nodes");
	assert_true(kv->num == 1);
	kv = dnsfollow_kv_find(r->kv, r->nkv, "shared");
	assert_string_equal(kv->value, "b");
	assert_true(kv->num == 1);
	assert_null(dnsfollow_kv_find(r->kv, r->nkv, "weight"));
	assert_null(dnsfollow_kv_find(r->kv, r->nkv, "port")); /* no default */
	/* Provider: weight, shared; not the backend's target. */
	kv = dnsfollow_kv_find(r->pkv, r->npkv, "weight");
	assert_non_null(kv);
	assert_true(kv->num == 7);
	kv = dnsfollow_kv_find(r->pkv, r->npkv, "shared");
	assert_string_equal(kv->value, "b");
	assert_null(dnsfollow_kv_find(r->pkv, r->npkv, "target"));
	/* Core keys reach neither. */
	assert_null(dnsfollow_kv_find(r->kv, r->nkv, "service"));
	assert_null(dnsfollow_kv_find(r->pkv, r->npkv, "service"));
	df_config_free(cfg);
	/* Defaults, each to its own plugin. */
	cfg = load_typed(TYPED_RECORD);
	assert_int_equal(cfg->nerrors, 0);
	r = &cfg->records[0];
	assert_string_equal(dnsfollow_kv_get(r->kv, r->nkv, "target"), "tasks");
	assert_string_equal(dnsfollow_kv_get(r->kv, r->nkv, "shared"), "a");
	assert_string_equal(dnsfollow_kv_get(r->pkv, r->npkv, "weight"), "1");
	assert_string_equal(dnsfollow_kv_get(r->pkv, r->npkv, "shared"), "a");
	assert_int_equal(r->nkv, 2);
	assert_int_equal(r->npkv, 2);
	df_config_free(cfg);
}

/* A bad record-key value is a config error at its line, once. */
static void test_record_keys_errors(void **state)
{
	(void)state;
	expect_typed_error(TYPED_RECORD "target = everything\n", 12,
			   "target must be tasks or nodes, not 'everything'");
	expect_typed_error(TYPED_RECORD "weight = 101\n", 12,
			   "weight must be a whole number from 0 to 100, not '101'");
	expect_typed_error(TYPED_RECORD "port = 0\n", 12,
			   "port must be a whole number from 1 to 65535, not '0'");
	expect_typed_error(TYPED_RECORD "hold = soon\n", 12,
			   "hold must be a duration (such as 30s");
	struct df_config *cfg = load_typed(TYPED_RECORD "shared = c\n");
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], "c.ini:12: shared must be a or b, not 'c'"));
	df_config_free(cfg);
	/* Both plugins' keys are allowed, each listed once. */
	expect_typed_error(TYPED_RECORD "colour = red\n", 12,
			   "(allowed: provider, backend, service, type, ttl, zone, adopt, on_empty, target, shared, port, weight, hold)");
	/* A type the provider does not list. */
	expect_typed_error(TYPED_RECORD "type = CNAME\n", 12,
			   "provider 'p' (bad_keys) cannot manage CNAME records");
}

/* A plugin whose declaration is broken is refused where it is named. */
static void test_bad_plugin_declaration(void **state)
{
	(void)state;
	expect_typed_error("[provider q]\ntype = bad_default\nzones = example.test\n", 9,
			   "bad_default.so: refused: config key 'retries' has a bad default");
	expect_typed_error("[provider q]\ntype = bad_abi1\nzones = example.test\n", 9,
			   "bad_abi1.so: refused: built for plugin ABI 1; this dnsfollow loads ABI 2 to 2");
}

int main(void)
{
	df_log_set_level(DNSFOLLOW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_keys_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_keys_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_plugin_declaration, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
