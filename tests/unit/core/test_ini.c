/* Reading the configuration's INI text: long section names, a BOM, NUL
 * bytes, non-regular files, every syntax error, long lines. */
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

/* Parse and bind the file dir/NAME holding `len` bytes of `text`. */
static struct df_config *load_bytes(const char *name, const char *text, size_t len)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	struct df_config *cfg = df_config_parse(path);
	if (cfg->nerrors == 0) {
		struct df_loader *l = df_loader_new(cfg->plugin_dir);
		df_config_bind(cfg, l);
		for (size_t i = 0; i < cfg->nbackends; i++)
			cfg->backends[i].plugin = NULL;
		for (size_t i = 0; i < cfg->nproviders; i++)
			cfg->providers[i].plugin = NULL;
		df_loader_free(l);
	}
	return cfg;
}

/* "[dnsfollow]\nplugin_dir = ...\n" + text, in dir/c.ini (so the text
 * starts on line 3). */
static struct df_config *load_text(const char *text)
{
	size_t n = strlen(text) + 700;
	char *full = malloc(n);
	assert_non_null(full);
	int len = snprintf(full, n, "[dnsfollow]\nplugin_dir = %s/plugins\n%s",
			   test_build_dir(), text);
	struct df_config *cfg = load_bytes("c.ini", full, (size_t)len);
	free(full);
	return cfg;
}

static void dump(const struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nerrors; i++)
		print_message("  got: %s\n", cfg->errors[i]);
}

/* An error "dir/NAME:LINE: ...needle..." was reported. */
static int has_error(const struct df_config *cfg, const char *name, int line,
		     const char *needle)
{
	char prefix[160];
	snprintf(prefix, sizeof prefix, "%s/%s:%d: ", dir, name, line);
	for (size_t i = 0; i < cfg->nerrors; i++)
		if (strncmp(cfg->errors[i], prefix, strlen(prefix)) == 0 &&
		    strstr(cfg->errors[i], needle))
			return 1;
	dump(cfg);
	print_message("  wanted %s with '%s'\n", prefix, needle);
	return 0;
}

#define BASE                                                              \
	"[backend lab]\ntype = static\nfile = p.ini\n"                    \
	"[provider m]\ntype = mock\nzones = example.test\nstate = s.json\n"

/* "l1.l2...example.test" of exactly `len` characters (labels <= 63). */
static void long_name(char *out, size_t len)
{
	const char *zone = "example.test";
	size_t left = len - strlen(zone), o = 0;
	while (left > 0) {
		size_t lab = left - 1 > 63 ? 63 : left - 1;
		if (left - lab - 1 == 1) /* never leave a lone dot */
			lab--;
		memset(out + o, 'a' + (char)(o % 26), lab);
		o += lab;
		out[o++] = '.';
		left -= lab + 1;
	}
	strcpy(out + o, zone);
	assert_int_equal(strlen(out), len);
}

/* Debian's libinih keeps section names in 50 bytes: a longer header lost
 * its keys ("needs 'provider'" for a record that had it). */
static void test_long_section_names(void **state)
{
	(void)state;
	size_t lens[] = {43, 50, 120, 242};
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
		char name[256], text[1024];
		long_name(name, lens[i]);
		snprintf(text, sizeof text,
			 BASE "[record %s]\nprovider = m\nbackend = lab\nservice = web\nttl = 90\n",
			 name);
		struct df_config *cfg = load_text(text);
		dump(cfg);
		assert_int_equal(cfg->nerrors, 0);
		assert_int_equal(cfg->nrecords, 1);
		assert_string_equal(cfg->records[0].fqdn, name);
		assert_string_equal(cfg->records[0].service, "web");
		assert_int_equal(cfg->records[0].ttl, 90);
		df_config_free(cfg);
	}
	/* Instance names of up to 64 characters too. */
	char inst[65], text[1024];
	memset(inst, 'p', 64);
	inst[64] = '\0';
	snprintf(text, sizeof text,
		 "[provider %s]\ntype = mock\nzones = example.test\nstate = s.json\n", inst);
	struct df_config *cfg = load_text(text);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->nproviders, 1);
	assert_int_equal(cfg->providers[0].nzones, 1);
	df_config_free(cfg);
	/* A name too long for its _dnsfollow marker is refused, clearly. */
	char name[256];
	long_name(name, 243);
	snprintf(text, sizeof text, "[record %s]\nprovider = m\n", name);
	cfg = load_text(text);
	assert_true(has_error(cfg, "c.ini", 3, "name too long to carry its _dnsfollow"));
	df_config_free(cfg);
}

/* A UTF-8 BOM before [dnsfollow] made the section unknown to its keys. */
static void test_bom(void **state)
{
	(void)state;
	const char text[] = "\xEF\xBB\xBF[dnsfollow]\ninterval = 7\nowner_id = bom\n";
	struct df_config *cfg = load_bytes("bom.ini", text, sizeof text - 1);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->interval, 7);
	assert_string_equal(cfg->owner_id, "bom");
	df_config_free(cfg);
	/* Only at the very start: elsewhere it is text like any other. */
	const char mid[] = "[dnsfollow]\n\xEF\xBB\xBFinterval = 7\n";
	cfg = load_bytes("bom2.ini", mid, sizeof mid - 1);
	assert_true(has_error(cfg, "bom2.ini", 2, "unknown key"));
	df_config_free(cfg);
}

/* A NUL byte is refused at its own line (it used to cut the line and
 * shift every later line number). */
static void test_nul_byte(void **state)
{
	(void)state;
	const char text[] = "[dnsfollow]\ninterval = 5\nowner_id = a\0b\nlog_level = loud\n";
	struct df_config *cfg = load_bytes("nul.ini", text, sizeof text - 1);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 1);
	assert_true(has_error(cfg, "nul.ini", 3, "contains a NUL byte"));
	df_config_free(cfg);
}

/* A FIFO as the config hung for ever in open(); a directory gave a read
 * error. Both are one line now. */
static void test_not_regular(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/fifo.ini", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	struct df_config *cfg = df_config_parse(path);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], "fifo.ini:0: not a regular file (a FIFO)"));
	df_config_free(cfg);
	cfg = df_config_parse(dir);
	assert_int_equal(cfg->nerrors, 1);
	assert_non_null(strstr(cfg->errors[0], ":0: not a regular file (a directory)"));
	df_config_free(cfg);
}

/* libinih returns the first bad line only; every one is reported. */
static void test_every_syntax_error(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("interval = 5\nthis is bad\n"
					  "log_level = info\nso is this\n"
					  "[dnsfollow\nowner_id = x\nand this\n");
	assert_true(has_error(cfg, "c.ini", 4, "syntax error"));
	assert_true(has_error(cfg, "c.ini", 6, "syntax error"));
	assert_true(has_error(cfg, "c.ini", 7, "section header without ']'"));
	assert_true(has_error(cfg, "c.ini", 9, "syntax error"));
	/* Keys under a broken header go nowhere: no "given twice" etc. */
	assert_int_equal(cfg->nerrors, 4);
	df_config_free(cfg);
	/* Errors come in line order, whichever check found them. */
	cfg = load_text("bad line\ninterval = 0\nbad again\n = 5\n");
	assert_true(has_error(cfg, "c.ini", 6, "no key name before '='"));
	assert_int_equal(cfg->nerrors, 4);
	assert_true(has_error(cfg, "c.ini", 3, "syntax error"));
	assert_non_null(strstr(cfg->errors[0], "c.ini:3: syntax error"));
	assert_non_null(strstr(cfg->errors[1], "c.ini:4: interval must be"));
	assert_non_null(strstr(cfg->errors[2], "c.ini:5: syntax error"));
	df_config_free(cfg);
}

/* One line held 8,189 characters at most: a provider could not list a
 * thousand zones. */
static void test_thousand_zones(void **state)
{
	(void)state;
	size_t cap = 1000 * 24 + 512;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t o = (size_t)snprintf(text, cap, "[backend lab]\ntype = static\nfile = p.ini\n"
					       "[provider m]\ntype = mock\nstate = s.json\nzones =");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(text + o, cap - o, "%s zone%04d-abcdef.test", i ? "," : "", i);
	snprintf(text + o, cap - o,
		 " ; a comment\n[record www.zone0999-abcdef.test]\nprovider = m\nbackend = lab\nservice = web\n");
	struct df_config *cfg = load_text(text);
	free(text);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->providers[0].nzones, 1000);
	assert_string_equal(cfg->providers[0].zones[999], "zone0999-abcdef.test");
	assert_string_equal(cfg->records[0].zone, "zone0999-abcdef.test");
	/* The record's line numbers are right after the long line. */
	assert_int_equal(cfg->records[0].line, 10);
	df_config_free(cfg);
}

/* Section headers and keys keep libinih's syntax: inline comments,
 * "key: value", blank and comment lines, trimmed headers. */
static void test_syntax_kept(void **state)
{
	(void)state;
	struct df_config *cfg = load_text("; comment\n# comment\n\n"
					  "[ dnsfollow ] ; again\n"
					  "interval: 9 ; nine\nowner_id = a;b\n");
	assert_true(has_error(cfg, "c.ini", 6, "section [dnsfollow] already given at line 1"));
	df_config_free(cfg);
	const char crlf[] = "[ dnsfollow ] ; x\r\ninterval: 9 ; nine\r\nowner_id = ab ; cd\r\n";
	cfg = load_bytes("k.ini", crlf, sizeof crlf - 1);
	dump(cfg);
	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->interval, 9);
	assert_string_equal(cfg->owner_id, "ab");
	df_config_free(cfg);
}

int main(void)
{
	df_log_set_level(DNSFOLLOW_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_long_section_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousand_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
