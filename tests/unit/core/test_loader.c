/* The loader refuses every broken plugin, before running its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

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
	refused("bad_abi", DNSFOLLOW_KIND_PROVIDER, "refused: ABI version 999, this dnsfollow speaks 1");
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

static void test_check_descriptor(void **s)
{
	(void)s;
	/* df_plugin_check judges the descriptor alone. */
	static const struct dnsfollow_backend_ops ops = {.struct_size = sizeof ops};
	struct dnsfollow_plugin d = {.abi_version = DNSFOLLOW_ABI_VERSION,
				     .kind = DNSFOLLOW_KIND_BACKEND,
				     .name = "x", .ops = &ops};
	char err[256];
	assert_int_equal(df_plugin_check(&d, "x", DNSFOLLOW_KIND_BACKEND, err, sizeof err), -1);
	assert_string_equal(err, "mandatory create is NULL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_abi),      cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_name_mismatch),  cmocka_unit_test(test_null_op),
		cmocka_unit_test(test_missing_symbol), cmocka_unit_test(test_small_ops),
		cmocka_unit_test(test_missing_file),   cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_good_and_cached), cmocka_unit_test(test_check_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
