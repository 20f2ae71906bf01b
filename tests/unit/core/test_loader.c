/* The loader refuses every broken plugin, before running its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loader.h"
#include "testhost.h"

static struct df_loader *bad_loader(void)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/badplugins", test_build_dir());
	return df_loader_new(dir);
}

static void refused(const char *name, unsigned kind, const char *needle)
{
	struct df_loader *l = bad_loader();
	char err[1024] = "";
	const struct dnsfollow_plugin *p = df_loader_get(l, name, kind, err, sizeof err);
	if (p || !strstr(err, needle))
		print_message("  %s: got '%s', wanted '%s'\n", name, err, needle);
	assert_null(p);
	/* One line naming the file and the reason. */
	char file[64];
	snprintf(file, sizeof file, "/%s.so", name);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, needle));
	assert_null(strchr(err, '\n'));
	df_loader_free(l);
}

static void test_wrong_abi(void **s)
{
	(void)s;
	refused("bad_abi", DNSFOLLOW_KIND_PROVIDER,
		"refused: built for plugin ABI 999; this dnsfollow loads ABI 2 to 2: rebuild it");
}

/* A plugin built against the ABI 1 headers (no struct_size: its kind
 * sits where struct_size is now) is refused by its version alone, with
 * the way out, before any other member is read. */
static void test_abi1(void **s)
{
	(void)s;
	refused("bad_abi1", DNSFOLLOW_KIND_PROVIDER,
		"refused: built for plugin ABI 1; this dnsfollow loads ABI 2 to 2: "
		"rebuild it against the installed headers (pkg-config --cflags dnsfollow)");
	/* Asked for as a backend: still the version, not the kind. */
	refused("bad_abi1", DNSFOLLOW_KIND_BACKEND, "refused: built for plugin ABI 1;");
}

static void test_no_txt(void **s)
{
	(void)s;
	refused("bad_notxt", DNSFOLLOW_KIND_PROVIDER,
		"refused: provider types list lacks TXT, which ownership markers need");
}

/* A default its own type refuses is the plugin's bug: the loader says
 * so, not every config that omits the key. */
static void test_bad_default(void **s)
{
	(void)s;
	refused("bad_default", DNSFOLLOW_KIND_PROVIDER,
		"refused: config key 'retries' has a bad default: retries must be a whole number from 1 to 20, not '99'");
}

/* The typed test plugins load: their declarations are sound. */
static void test_typed_plugins_load(void **s)
{
	(void)s;
	struct df_loader *l = bad_loader();
	char err[512] = "";
	const struct dnsfollow_plugin *p = df_loader_get(l, "bad_keys", DNSFOLLOW_KIND_PROVIDER, err, sizeof err);
	if (!p)
		print_message("  %s\n", err);
	assert_non_null(p);
	assert_non_null(df_loader_get(l, "bad_bkeys", DNSFOLLOW_KIND_BACKEND, err, sizeof err));
	df_loader_free(l);
}

static void test_wrong_kind(void **s)
{
	(void)s;
	refused("bad_kind", DNSFOLLOW_KIND_PROVIDER, "refused: is a backend plugin, not a provider");
}

static void test_name_mismatch(void **s)
{
	(void)s;
	refused("bad_name", DNSFOLLOW_KIND_PROVIDER,
		"refused: declares name 'other_name', expected 'bad_name'");
}

static void test_null_op(void **s)
{
	(void)s;
	refused("bad_nullop", DNSFOLLOW_KIND_PROVIDER, "refused: mandatory op read is NULL");
}

static void test_missing_symbol(void **s)
{
	(void)s;
	refused("bad_symbol", DNSFOLLOW_KIND_PROVIDER, "refused: no 'dnsfollow_plugin' symbol");
	refused("not_plugin", DNSFOLLOW_KIND_BACKEND, "refused: no 'dnsfollow_plugin' symbol");
}

static void test_small_ops(void **s)
{
	(void)s;
	refused("bad_opsize", DNSFOLLOW_KIND_PROVIDER, "refused: provider ops table too small (8 bytes)");
}

static void test_missing_file(void **s)
{
	(void)s;
	refused("absent", DNSFOLLOW_KIND_PROVIDER, "no such plugin");
}

static void test_bad_name(void **s)
{
	(void)s;
	struct df_loader *l = bad_loader();
	char err[256];
	assert_null(df_loader_get(l, "../plugins/mock", DNSFOLLOW_KIND_PROVIDER, err, sizeof err));
	assert_non_null(strstr(err, "not a valid plugin name"));
	df_loader_free(l);
}

static void test_good_and_cached(void **s)
{
	(void)s;
	char dir[600], err[512];
	snprintf(dir, sizeof dir, "%s/plugins", test_build_dir());
	struct df_loader *l = df_loader_new(dir);
	const struct dnsfollow_plugin *p =
		df_loader_get(l, "mock", DNSFOLLOW_KIND_PROVIDER, err, sizeof err);
	assert_non_null(p);
	assert_string_equal(p->name, "mock");
	assert_ptr_equal(df_loader_get(l, "mock", DNSFOLLOW_KIND_PROVIDER, err, sizeof err), p);
	/* Same file asked for as the other kind: refused from the cache. */
	assert_null(df_loader_get(l, "mock", DNSFOLLOW_KIND_BACKEND, err, sizeof err));
	assert_non_null(strstr(err, "is a provider plugin, not a backend"));
	df_loader_free(l);
}

static int fake_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *c,
		       size_t n, void **self)
{
	(void)h, (void)c, (void)n, (void)self;
	return -1;
}
static void fake_destroy(void *self)
{
	(void)self;
}
static int fake_resolve(void *self, const struct dnsfollow_query *q,
			dnsfollow_placement_cb emit, void *ctx)
{
	(void)self, (void)q, (void)emit, (void)ctx;
	return -1;
}
static int fake_read(void *self, const char *zone, const struct dnsfollow_rrkey *k,
		     size_t n, dnsfollow_rrset_cb emit, void *ctx)
{
	(void)self, (void)zone, (void)k, (void)n, (void)emit, (void)ctx;
	return -1;
}
static int fake_apply(void *self, const struct dnsfollow_changeset *cs)
{
	(void)self, (void)cs;
	return -1;
}

/* df_plugin_check on `d`: the reason, or "" when it passes. */
static const char *check(const struct dnsfollow_plugin *d)
{
	static char err[512];
	err[0] = '\0';
	int rc = df_plugin_check(d, d->name ? d->name : "x", d->kind, err, sizeof err);
	assert_int_equal(rc, err[0] ? -1 : 0);
	return err;
}

static void test_check_descriptor(void **s)
{
	(void)s;
	/* df_plugin_check judges the descriptor alone. */
	static const struct dnsfollow_backend_ops ops = {.struct_size = sizeof ops};
	struct dnsfollow_plugin d = {.abi_version = DNSFOLLOW_ABI_VERSION,
				     .struct_size = sizeof d,
				     .kind = DNSFOLLOW_KIND_BACKEND,
				     .name = "x", .ops = &ops};
	assert_string_equal(check(&d), "mandatory create is NULL");
	d.create = fake_create;
	d.destroy = fake_destroy;
	assert_string_equal(check(&d), "mandatory op resolve is NULL");
	static const struct dnsfollow_backend_ops ok = {.struct_size = sizeof ok,
							.resolve = fake_resolve};
	d.ops = &ok;
	assert_string_equal(check(&d), "");
	/* struct_size must cover every ABI 2 member, through ops. */
	d.struct_size = offsetof(struct dnsfollow_plugin, ops);
	assert_non_null(strstr(check(&d), "descriptor too small (struct_size"));
	d.struct_size = sizeof d;
	/* The range of versions, both ends. */
	d.abi_version = DNSFOLLOW_ABI_MIN_VERSION - 1;
	assert_non_null(strstr(check(&d), "built for plugin ABI 1; this dnsfollow loads ABI 2 to 2"));
	d.abi_version = DNSFOLLOW_ABI_VERSION + 1;
	assert_non_null(strstr(check(&d), "built for plugin ABI 3;"));
}

static void test_check_provider_ops(void **s)
{
	(void)s;
	static const uint16_t no_txt[] = {DNSFOLLOW_TYPE_A, 0};
	static const uint16_t good[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_TXT, 0};
	struct dnsfollow_provider_ops ops = {.struct_size = sizeof ops, .read = fake_read,
					     .apply = fake_apply};
	struct dnsfollow_plugin d = {.abi_version = DNSFOLLOW_ABI_VERSION,
				     .struct_size = sizeof d,
				     .kind = DNSFOLLOW_KIND_PROVIDER, .name = "x",
				     .create = fake_create, .destroy = fake_destroy,
				     .ops = &ops};
	assert_string_equal(check(&d), "provider ops list no types (.types is NULL)");
	ops.types = no_txt;
	assert_string_equal(check(&d), "provider types list lacks TXT, which ownership markers need");
	ops.types = good;
	assert_string_equal(check(&d), "");
	ops.apply = NULL;
	assert_string_equal(check(&d), "mandatory op apply is NULL");
	ops.apply = fake_apply;
	ops.struct_size = offsetof(struct dnsfollow_provider_ops, apply);
	assert_non_null(strstr(check(&d), "provider ops table too small"));
}

/* Key declarations are checked like values: each flaw is one line
 * naming the key. */
static void test_check_keys(void **s)
{
	(void)s;
	static const char *const none[] = {NULL};
	static const char *const words[] = {"a", "b", NULL};
	static const struct {
		struct dnsfollow_key k;
		const char *want;
	} cases[] = {
		{DNSFOLLOW_KEY_UINT("n", "0", 1, 9, NULL),
		 "config key 'n' has a bad default: n must be a whole number from 1 to 9, not '0'"},
		{DNSFOLLOW_KEY_BOOL("b", "perhaps", NULL),
		 "config key 'b' has a bad default: b must be yes or no, not 'perhaps'"},
		{DNSFOLLOW_KEY_DURATION("d", "2h", 0, 3600000, NULL),
		 "config key 'd' has a bad default: d must be a duration from 0s to 1h"},
		{DNSFOLLOW_KEY_ENUM("e", "c", words, NULL),
		 "config key 'e' has a bad default: e must be a or b, not 'c'"},
		{DNSFOLLOW_KEY_ENUM("e", NULL, none, NULL), "enum key 'e' lists no values"},
		{DNSFOLLOW_KEY_ENUM("e", NULL, NULL, NULL), "enum key 'e' lists no values"},
		{{"s", DNSFOLLOW_T_SECRET, 0, NULL, "hunter22", 0, 0, NULL},
		 "config key 's' is a secret with a default"},
		{{"p", DNSFOLLOW_T_PATH, 0, NULL, "", 0, 0, NULL},
		 "config key 'p' has an empty default"},
		{{"t", 42, 0, NULL, NULL, 0, 0, NULL}, "config key 't' has unknown type 42"},
		{{"f", DNSFOLLOW_T_STRING, 0x4, NULL, NULL, 0, 0, NULL},
		 "config key 'f' has unknown flags 0x4 (in ABI 2 path and secret are types)"},
		{DNSFOLLOW_KEY_UINT("Caps", NULL, 0, 0, NULL), "config key 'Caps' is not a valid key name"},
		{DNSFOLLOW_KEY_UINT("m", NULL, 5, 4, NULL), "config key 'm' has min 5 above max 4"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dnsfollow_key keys[2] = {cases[i].k, DNSFOLLOW_KEY_END};
		char err[512] = "";
		int rc = df_keys_check(keys, "config key", err, sizeof err);
		if (rc == 0 || !strstr(err, cases[i].want))
			print_message("  case %zu: got '%s', wanted '%s'\n", i, err, cases[i].want);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, cases[i].want));
	}
	/* Sound ones pass: defaults in bounds, a wildcard, no default. */
	static const struct dnsfollow_key good[] = {
		DNSFOLLOW_KEY_UINT("n", "9", 1, 9, NULL),
		DNSFOLLOW_KEY_DURATION("d", "500ms", 0, 0, NULL),
		DNSFOLLOW_KEY_ENUM("e", "B", words, NULL),
		DNSFOLLOW_KEY_UINT("x.*", NULL, 0, 0, NULL),
		DNSFOLLOW_KEY_END,
	};
	char err[256] = "";
	assert_int_equal(df_keys_check(good, "record key", err, sizeof err), 0);
	assert_int_equal(df_keys_check(NULL, "record key", err, sizeof err), 0);
}

/* --list-plugins shows each key's type, bounds and default, and a
 * provider's types; refused files say why. */
static void test_list(void **s)
{
	(void)s;
	char dir[600], path[700], tmp[64];
	snprintf(dir, sizeof dir, "%s/badplugins", test_build_dir());
	snprintf(tmp, sizeof tmp, "%s", test_tmpdir());
	snprintf(path, sizeof path, "%s/list.txt", tmp);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	assert_int_equal(df_plugins_list(dir, f), 0);
	long n = ftell(f);
	rewind(f);
	char *out = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	rmdir(tmp);
	static const char *const want[] = {
		"bad_keys   provider, version 0\n    types A, AAAA, TXT\n",
		"    key    count            uint 1..10 = 5 ",
		"    key    timeout          duration 1s..1h = 30s ",
		"    key    mode             enum fast|safe|Thorough = safe\n",
		"    key    verbose          bool = no\n",
		"    key    tag              string, repeatable\n",
		"    key    limit.*          uint 0..100 ",
		"    record weight           uint 0..100 = 1\n",
		"    record port             uint 1..65535 ",
		"bad_abi1   refused: built for plugin ABI 1;",
		"not_plugin refused: no 'dnsfollow_plugin' symbol",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!strstr(out, want[i]))
			print_message("  missing '%s' in:\n%s", want[i], out);
		assert_non_null(strstr(out, want[i]));
	}
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_abi),      cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_name_mismatch),  cmocka_unit_test(test_null_op),
		cmocka_unit_test(test_missing_symbol), cmocka_unit_test(test_small_ops),
		cmocka_unit_test(test_missing_file),   cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_good_and_cached), cmocka_unit_test(test_check_descriptor),
		cmocka_unit_test(test_abi1),           cmocka_unit_test(test_no_txt),
		cmocka_unit_test(test_bad_default),    cmocka_unit_test(test_typed_plugins_load),
		cmocka_unit_test(test_check_provider_ops), cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
