/* Config parsing and validation: every error path gives FILE:LINE: text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "loader.h"
#include "log.h"
#include "testhost.h"
#include "cfgtest.h"

/* Parse and bind `text` (written to dir/c.ini) with the real plugins. */
static struct df_config *load_text(const char *text)
{
	return cfgtest_load("plugins", text);
}

/* Assert one error "DIR/c.ini:LINE: ...needle..." was reported. */
static void expect_error(const char *text, int line, const char *needle)
{
	cfgtest_expect_error(load_text(text), line, needle);
}

/* No error of the config holds `needle`. */
static void expect_no_error(const char *text, const char *needle)
{
	struct df_config *cfg = load_text(text);
	for (size_t i = 0; i < cfg->nerrors; i++)
		if (strstr(cfg->errors[i], needle))
			fail_msg("unwanted error: %s", cfg->errors[i]);
	df_config_free(cfg);
}

#define GOOD_BASE                                                        \
	"[backend lab]\ntype = static\nfile = p.ini\n"                  \
	"[provider m]\ntype = mock\nzones = example.test, sub.example.test\n" \
	"state = s.json\n"
/* GOOD_BASE ends on line 9 (two lines of [dnsfollow] come first). */

static void test_valid(void **state)
{
	(void)state;
	struct df_config *cfg = load_text(
		GOOD_BASE "[record Git.Example.Test.]\nprovider = m\nbackend = lab\n"
			  "service = gogs\ntype = A, AAAA\nttl = 120\nadopt = yes\n"
			  "on_empty = delete\n");
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("%s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->nrecords, 1);
	struct df_record_cfg *r = &cfg->records[0];
	assert_string_equal(r->fqdn, "git.example.test");
	assert_string_equal(r->zone, "example.test");
	assert_int_equal(r->ntypes, 2);
	assert_int_equal(r->types[0], DNSFOLLOW_TYPE_A);
	assert_int_equal(r->types[1], DNSFOLLOW_TYPE_AAAA);
	assert_int_equal(r->ttl, 120);
	assert_int_equal(r->adopt, 1);
	assert_int_equal(r->on_empty_delete, 1);
	/* Relative paths are resolved against the config file's folder. */
	char want[128];
	snprintf(want, sizeof want, "%s/p.ini", dir);
	assert_string_equal(dnsfollow_kv_get(cfg->backends[0].kv, cfg->backends[0].nkv, "file"),
			    want);
	/* Providers see their zones. */
	assert_non_null(dnsfollow_kv_get(cfg->providers[0].kv, cfg->providers[0].nkv, "zones"));
	df_config_free(cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	struct df_config *cfg = load_text(
		GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->owner_id, "dnsfollow");
	assert_int_equal(cfg->interval, 60);
	assert_int_equal(cfg->debounce_ms, 200);
	assert_int_equal(cfg->records[0].ntypes, 1);
	assert_int_equal(cfg->records[0].types[0], DNSFOLLOW_TYPE_A);
	assert_int_equal(cfg->records[0].ttl, 60);
	assert_int_equal(cfg->records[0].adopt, 0);
	assert_int_equal(cfg->records[0].on_empty_delete, 0);
	df_config_free(cfg);
}

static void test_longest_zone(void **state)
{
	(void)state;
	struct df_config *cfg = load_text(
		GOOD_BASE "[record a.sub.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			  "[record sub.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			  "[record b.sub.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			  "zone = example.test\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->records[0].zone, "sub.example.test");
	assert_string_equal(cfg->records[1].zone, "sub.example.test");
	assert_string_equal(cfg->records[2].zone, "example.test");
	df_config_free(cfg);
}

static void test_label_boundary(void **state)
{
	(void)state;
	expect_error(GOOD_BASE "[record fooexample.test]\nprovider = m\nbackend = lab\nservice = x\n",
		     10, "no zone of provider 'm' contains fooexample.test");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "zone = other.test\n",
		     14, "zone 'other.test' does not contain a.example.test");
}

static void test_sections(void **state)
{
	(void)state;
	expect_error("[frobnicate]\nx = 1\n", 3, "unknown section [frobnicate]");
	expect_error("[backend]\ntype = static\n", 3, "needs an instance name");
	expect_error("[backend a b]\ntype = static\n", 3, "needs an instance name");
	expect_error("[record bad..name]\nprovider = m\n", 3, "not a valid DNS name");
	expect_error(GOOD_BASE "[backend lab]\ntype = static\n", 10,
		     "section [backend lab] already given at line 3");
	expect_error("[dnsfollow\n", 3, "section header without ']'");
	expect_error(GOOD_BASE "[record A.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "[record a.example.test.]\nprovider = m\nbackend = lab\nservice = x\n",
		     14, "a.example.test is already a record of provider 'm' at line 10");
}

static void test_core_keys(void **state)
{
	(void)state;
	expect_error("interval = 0\n", 3, "interval must be a whole number from 1 to 86400");
	expect_error("interval = 10s\n", 3, "not '10s'");
	expect_error("log_level = loud\n", 3, "log_level must be error, warn, info or debug");
	expect_error("owner_id = a,b\n", 3, "owner_id must be 1-63 letters");
	expect_error("colour = blue\n", 3, "unknown key 'colour' in [dnsfollow]");
	expect_error("interval = 5\ninterval = 6\n", 4, "'interval' given twice");
	expect_error("retries = 99\n", 3, "retries must be a whole number from 1 to 20");
}

static void test_plugin_sections(void **state)
{
	(void)state;
	expect_error("[backend lab]\nfile = x\n", 3, "[backend lab] needs 'type'");
	expect_error("[backend lab]\ntype = nosuch\n", 4, "nosuch.so: no such plugin");
	expect_error("[backend lab]\ntype = ../evil\n", 4, "not a valid plugin name");
	expect_error("[backend lab]\ntype = mock\n", 4, "is a provider plugin, not a backend");
	expect_error("[backend lab]\ntype = static\n", 3, "[backend lab] needs 'file'");
	expect_error("[backend lab]\ntype = static\nfile = a\ncolour = b\n", 6,
		     "unknown key 'colour' in [backend lab] (allowed: type, discover, discover_provider, discover_names, file)");
	expect_error("[provider m]\ntype = mock\nstate = a\nzones = exa mple..test\n", 6,
		     "zones: 'mple..test' is not a valid zone name");
	expect_error(GOOD_BASE "[provider lab]\ntype = mock\nstate = x\n", 3,
		     "'lab' names both a backend and a provider");
}

static void test_records(void **state)
{
	(void)state;
	expect_error(GOOD_BASE "[record a.example.test]\nbackend = lab\nservice = x\n", 10,
		     "[record a.example.test] needs 'provider'");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = nope\nbackend = lab\nservice = x\n",
		     11, "no [provider nope] section");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = nope\nservice = x\n",
		     12, "no [backend nope] section");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "type = MX\n",
		     14, "type must be A, AAAA");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "ttl = -5\n",
		     14, "ttl must be a whole number from 1 to 2147483647, not '-5'");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "adopt = maybe\n",
		     14, "adopt must be yes or no");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "on_empty = shrug\n",
		     14, "on_empty must be keep or delete");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
			       "target = tasks\n",
		     14, "unknown key 'target' in [record a.example.test]");
}

static void test_syntax(void **state)
{
	(void)state;
	/* A line longer than libinih's buffer is read whole: its value is
	 * judged, not cut. */
	char big[9000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char text[9100];
	snprintf(text, sizeof text, "owner_id = %s ; note\ninterval = x\n", big);
	expect_error(text, 3, "owner_id must be 1-63 letters");
	expect_error(text, 4, "interval must be a whole number");
	expect_error("this is not ini\n", 3, "syntax error");
}

static void test_outside_section(void **state)
{
	(void)state;
	char *path = test_write_file(dir, "o.ini", "stray = 1\n[dnsfollow]\n");
	struct df_config *cfg = df_config_parse(path);
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], "o.ini:1: 'stray' is outside any section"));
	df_config_free(cfg);
	free(path);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct df_config *cfg = df_config_parse("/nonexistent/dnsfollow.ini");
	assert_int_equal(cfg->nerrors, 1);
	assert_string_equal(cfg->errors[0],
			    "/nonexistent/dnsfollow.ini:0: cannot open: No such file or directory");
	df_config_free(cfg);
}

static void test_key_file(void **state)
{
	(void)state;
	free(test_write_file(dir, "state-name", "from-file.json\n"));
	struct df_config *cfg = load_text(
		"[backend lab]\ntype = static\nfile = p.ini\n"
		"[provider m]\ntype = mock\nzones = example.test\nstate_file = state-name\n");
	assert_int_equal(cfg->nerrors, 0);
	char want[128];
	snprintf(want, sizeof want, "%s/from-file.json", dir);
	assert_string_equal(dnsfollow_kv_get(cfg->providers[0].kv, cfg->providers[0].nkv, "state"),
			    want);
	df_config_free(cfg);
	expect_error("[provider m]\ntype = mock\nzones = example.test\nstate_file = missing\n", 6,
		     "state_file: ");
	expect_error("[provider m]\ntype = mock\nzones = example.test\nstate_file = missing\n", 6,
		     "/missing: cannot open: No such file or directory");
}

/* KEY_file works for the core's own keys too, which are read before the
 * plugin's keys are checked (type, provider, backend, service, zone). */
static void test_core_key_files(void **state)
{
	(void)state;
	free(test_write_file(dir, "type", "mock\n"));
	free(test_write_file(dir, "prov", "m\n"));
	free(test_write_file(dir, "back", "lab\n"));
	free(test_write_file(dir, "svc", "gogs\n"));
	free(test_write_file(dir, "zone", "sub.example.test\n"));
	struct df_config *cfg = load_text(
		"[backend lab]\ntype = static\nfile = p.ini\n"
		"[provider m]\ntype_file = type\nzones = example.test, sub.example.test\n"
		"state = s.json\n"
		"[record a.sub.example.test]\nprovider_file = prov\nbackend_file = back\n"
		"service_file = svc\nzone_file = zone\n");
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("  got: %s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->providers[0].type, "mock");
	assert_string_equal(cfg->records[0].provider, "m");
	assert_string_equal(cfg->records[0].backend, "lab");
	assert_string_equal(cfg->records[0].service, "gogs");
	assert_string_equal(cfg->records[0].zone, "sub.example.test");
	df_config_free(cfg);
	/* An unreadable file is its one error: no "needs KEY" besides (a
	 * second, wrong error), and never taken as an empty value. */
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\n"
			       "service_file = nothing-here\n",
		     13, "service_file: ");
	expect_no_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\n"
				  "service_file = nothing-here\n",
			"needs 'service'");
	expect_error("[provider m]\ntype_file = nothing-here\nzones = example.test\n", 4,
		     "type_file: ");
	expect_no_error("[provider m]\ntype_file = nothing-here\nzones = example.test\n",
			"needs 'type'");
}

/* Zone names reach plugins normalised; zone = must be one of the
 * provider's zones. */
static void test_zone_names(void **state)
{
	(void)state;
	struct df_config *cfg = load_text(
		"[backend lab]\ntype = static\nfile = p.ini\n"
		"[provider m]\ntype = mock\nzones = Example.TEST., Sub.Example.test\n"
		"state = s.json\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(dnsfollow_kv_get(cfg->providers[0].kv, cfg->providers[0].nkv, "zones"),
			    "example.test, sub.example.test");
	df_config_free(cfg);
	expect_error(GOOD_BASE "[record a.other.example.test]\nprovider = m\nbackend = lab\n"
			       "service = x\nzone = other.example.test\n",
		     14, "zone 'other.example.test' is not one of provider 'm''s zones");
}

/* A secret too short to be masked in logs is refused. */
static void test_short_secret(void **state)
{
	(void)state;
	expect_error("[provider d]\ntype = rfc2136\nzones = example.test\n"
		     "server = 127.0.0.1:53\nkey_name = k\nkey_secret = abc\n",
		     8, "key_secret: a secret shorter than 4 characters cannot be kept out of logs");
}

/* The configuration must be a regular file. */
static void test_not_a_file(void **state)
{
	(void)state;
	struct df_config *cfg = df_config_parse(dir);
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], ":0: not a regular file"));
	df_config_free(cfg);
	char *path = test_write_file(dir, "empty-dir.ini", "[dnsfollow]\nplugin_dir =\n");
	cfg = df_config_parse(path);
	free(path);
	int found = 0;
	for (size_t i = 0; i < cfg->nerrors; i++)
		found |= strstr(cfg->errors[i], "plugin_dir is empty") != NULL;
	assert_true(found);
	df_config_free(cfg);
}

static void test_redaction(void **state)
{
	(void)state;
	df_log_add_secret("s3cr3t-value");
	char msg[128] = "token s3cr3t-value leaked twice: s3cr3t-value!";
	df_redact(msg, sizeof msg);
	assert_string_equal(msg, "token *** leaked twice: ***!");
	/* Too short to mask without mangling ordinary words: refused. */
	assert_int_equal(df_log_add_secret("ab"), -1);
	assert_int_equal(df_log_add_secret(""), 0);
	char m2[32] = "abc";
	df_redact(m2, sizeof m2);
	assert_string_equal(m2, "abc");
	df_log_clear_secrets();
}

static void test_marker(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("owner_id = swarm-prod\n");
	char *m = df_owner_marker(cfg);
	assert_string_equal(m, "heritage=dnsfollow,owner=swarm-prod");
	free(m);
	df_config_free(cfg);
}

/* An empty REQUIRED or PATH value passed --check-config and failed at
 * run time: it is "KEY is empty" at its line. */
static void test_empty_values(void **state)
{
	(void)state;
	expect_error("[backend lab]\ntype = static\nfile =\n", 5, "file is empty");
	expect_error("[provider m]\ntype = mock\nzones = example.test\nstate =\n", 6,
		     "state is empty");
	free(test_write_file(dir, "empty", "\n"));
	expect_error("[backend lab]\ntype = static\nfile_file = empty\n", 5, "empty is empty (white space only)");
	expect_error("[backend lab]\ntype =\n", 4, "type is empty");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider =\nbackend = lab\nservice = x\n",
		     11, "provider is empty");
	expect_error(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice =\n",
		     13, "service is empty");
	/* One line each, not also "no [provider ] section". */
	struct df_config *cfg = load_text(
		GOOD_BASE "[record a.example.test]\nprovider =\nbackend = lab\nservice = x\n");
	assert_int_equal(cfg->nerrors, 1);
	df_config_free(cfg);
}

/* An owner_id_file that cannot be read gave a second error judging its
 * path as an owner id. */
static void test_owner_id_file(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("owner_id_file = missing/owner\n");
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("  got: %s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], "c.ini:3: owner_id_file: "));
	assert_non_null(strstr(cfg->errors[0], "missing/owner: cannot open"));
	assert_string_equal(cfg->owner_id, "dnsfollow");
	df_config_free(cfg);
	free(test_write_file(dir, "owner", "team-a\n"));
	cfg = load_text("owner_id_file = owner\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->owner_id, "team-a");
	df_config_free(cfg);
}

/* Everything written to stderr while `fn` runs on `cfg`. */
static char *capture_stderr(void (*fn)(const struct df_config *), const struct df_config *cfg)
{
	char path[128];
	snprintf(path, sizeof path, "%s/stderr.txt", dir);
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	dup2(fileno(f), 2);
	fn(cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	long n = ftell(f);
	char *out = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	rewind(f);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

static void parse_and_bind(const struct df_config *unused)
{
	(void)unused;
	char path[128];
	snprintf(path, sizeof path, "%s/c.ini", dir);
	struct df_config *cfg = df_config_parse(path);
	struct df_loader *l = df_loader_new(cfg->plugin_dir);
	df_config_bind(cfg, l);
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("  got: %s\n", cfg->errors[i]);
	assert_int_equal(cfg->nerrors, 0);
	for (size_t i = 0; i < cfg->nproviders; i++)
		cfg->providers[i].plugin = NULL;
	df_loader_free(l);
	df_config_free(cfg);
}

/* Secrets in files others can read are warned about (not refused):
 * a KEY_file of a secret key, and a secret written into the config. */
static void test_secret_warnings(void **state)
{
	(void)state;
	char plugins[600], text[1200], cfgpath[128];
	snprintf(plugins, sizeof plugins, "%s/plugins", test_build_dir());
	snprintf(cfgpath, sizeof cfgpath, "%s/c.ini", dir);
	const char *inline_secret = "key_secret = c2VjcmV0LXZhbHVlLTEyMw==\n";
	const char *file_secret = "key_secret_file = tsig.secret\n";
	char *sec = test_write_file(dir, "tsig.secret", "c2VjcmV0LXZhbHVlLTEyMw==\n");
	df_log_set_level(DNSFOLLOW_LOG_WARN);
	for (int round = 0; round < 4; round++) {
		int use_file = round & 1, open_mode = round < 2;
		snprintf(text, sizeof text,
			 "[dnsfollow]\nplugin_dir = %s\n[provider d]\ntype = rfc2136\n"
			 "zones = example.test\nserver = 127.0.0.1:53\nkey_name = k\n%s",
			 plugins, use_file ? file_secret : inline_secret);
		free(test_write_file(dir, "c.ini", text));
		assert_int_equal(chmod(cfgpath, open_mode ? 0644 : 0600), 0);
		assert_int_equal(chmod(sec, open_mode ? 0640 : 0600), 0);
		char *err = capture_stderr(parse_and_bind, NULL);
		int warned_inline = strstr(err, "chmod 600 it or use key_secret_file") != NULL;
		int warned_file = strstr(err, "tsig.secret holds a secret but is readable by its group") != NULL;
		print_message("round %d: %s", round, err);
		assert_int_equal(warned_inline, open_mode && !use_file);
		/* file.c warns once per path: only the first open round. */
		assert_int_equal(warned_file, round == 1);
		assert_null(strstr(err, "c2VjcmV0LXZhbHVlLTEyMw"));
		free(err);
	}
	df_log_set_level(DNSFOLLOW_LOG_ERROR);
	df_log_clear_secrets();
	free(sec);
}

/* Reload errors go through the log: timestamp and level on each line. */
static void test_log_errors(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("interval = 0\ncolour = blue\n");
	assert_int_equal(cfg->nerrors, 2);
	char *err = capture_stderr(df_config_log_errors, cfg);
	print_message("%s", err);
	char want[160];
	for (size_t i = 0; i < cfg->nerrors; i++) {
		const char *line = strstr(err, cfg->errors[i]);
		assert_non_null(line);
		/* The line carries more than the bare message: the log's
		 * prefix with its level. */
		const char *start = line;
		while (start > err && start[-1] != '\n')
			start--;
		assert_true(line > start);
		snprintf(want, sizeof want, "%.*s", (int)(line - start), start);
		assert_non_null(strstr(want, "error"));
	}
	free(err);
	df_config_free(cfg);
}

/* [dnsfollow] on_empty_grace, allow_loopback, workers. */
static void test_safety_keys(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("");
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->on_empty_grace, 10);
	assert_int_equal(cfg->allow_loopback, 0);
	assert_int_equal(cfg->workers, 4);
	df_config_free(cfg);
	cfg = load_text("on_empty_grace = 0\nallow_loopback = yes\nworkers = 64\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->on_empty_grace, 0);
	assert_int_equal(cfg->allow_loopback, 1);
	assert_int_equal(cfg->workers, 64);
	df_config_free(cfg);
	expect_error("on_empty_grace = 86401\n", 3,
		     "on_empty_grace must be a whole number from 0 to 86400, not '86401'");
	expect_error("on_empty_grace = -1\n", 3, "on_empty_grace must be a whole number");
	expect_error("workers = 0\n", 3, "workers must be a whole number from 1 to 64, not '0'");
	expect_error("workers = 65\n", 3, "workers must be a whole number from 1 to 64");
	expect_error("allow_loopback = maybe\n", 3, "allow_loopback must be yes or no, not 'maybe'");
}

/* The core's own keys go through the same validator. */
static void test_core_typed(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("log_level = DEBUG\nallow_loopback = On\ninterval = 0120\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->log_level, DNSFOLLOW_LOG_DEBUG);
	assert_int_equal(cfg->allow_loopback, 1);
	assert_int_equal(cfg->interval, 120);
	df_config_free(cfg);
	/* No [dnsfollow] section at all: the table's defaults. */
	char *path = test_write_file(dir, "bare.ini", "; nothing\n");
	cfg = df_config_parse(path);
	free(path);
	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->owner_id, "dnsfollow");
	assert_int_equal(cfg->interval, 60);
	assert_int_equal(cfg->retries, 3);
	assert_int_equal(cfg->backoff_max, 300);
	assert_int_equal(cfg->log_level, DNSFOLLOW_LOG_INFO);
	df_config_free(cfg);
	cfg = load_text(GOOD_BASE "[record a.example.test]\nprovider = m\nbackend = lab\nservice = x\n"
				  "on_empty = Delete\nadopt = TRUE\nttl = 300\n");
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->records[0].on_empty_delete, 1);
	assert_int_equal(cfg->records[0].adopt, 1);
	assert_int_equal(cfg->records[0].ttl, 300);
	df_config_free(cfg);
}

/* The lifecycle keys refuse what would delete or publish by mistake:
 * sync on the default owner_id, sync without zones, an empty fence, a
 * default provider that does not exist. */
static void test_lifecycle_keys(void **state)
{
	(void)state;
	expect_error(GOOD_BASE "policy = sync\n", 10, "set owner_id in [dnsfollow]");
	expect_error("owner_id = me\n" GOOD_BASE /* owner_id in [dnsfollow], line 3 */
		     "[provider n]\ntype = mock\nstate = t.json\npolicy = sync\n",
		     14, "needs the zones it cleans");
	expect_error(GOOD_BASE "[backend d]\ntype = static\nfile = p.ini\ndiscover = yes\n"
			       "discover_names = ,\n", 14, "discover_names is empty");
	expect_error(GOOD_BASE "[backend d]\ntype = static\nfile = p.ini\ndiscover = yes\n"
			       "discover_provider = nosuch\n", 14, "no [provider nosuch] section");
}

int main(void)
{
	df_log_set_level(DNSFOLLOW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_key_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_id_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safety_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_typed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
