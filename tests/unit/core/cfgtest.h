/* Shared by the config tests: a scratch folder per test binary, and a
 * config text parsed and bound against a folder of this build's plugins. */
#ifndef DF_CFGTEST_H
#define DF_CFGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loader.h"
#include "testhost.h"

static char dir[64];

static inline int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parse and bind `text` (written to dir/c.ini, after a [dnsfollow]
 * section naming BUILD/`plugins` as plugin_dir). */
static inline struct df_config *cfgtest_load(const char *plugins, const char *text)
{
	char pdir[600];
	snprintf(pdir, sizeof pdir, "%s/%s", test_build_dir(), plugins);
	size_t n = strlen(pdir) + strlen(text) + 64;
	char *full = malloc(n);
	assert_non_null(full);
	snprintf(full, n, "[dnsfollow]\nplugin_dir = %s\n%s", pdir, text);
	char *path = test_write_file(dir, "c.ini", full);
	free(full);
	struct df_config *cfg = df_config_parse(path);
	free(path);
	if (cfg->nerrors == 0) {
		struct df_loader *l = df_loader_new(cfg->plugin_dir);
		df_config_bind(cfg, l);
		/* Descriptors die with the loader; tests only look at text. */
		for (size_t i = 0; i < cfg->nbackends; i++)
			cfg->backends[i].plugin = NULL;
		for (size_t i = 0; i < cfg->nproviders; i++)
			cfg->providers[i].plugin = NULL;
		df_loader_free(l);
	}
	return cfg;
}

/* Assert `cfg` holds an error "DIR/c.ini:LINE: ...needle..."; frees it. */
static inline void cfgtest_expect_error(struct df_config *cfg, int line,
					const char *needle)
{
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%s/c.ini:%d: ", dir, line);
	int found = 0;
	for (size_t i = 0; i < cfg->nerrors; i++)
		if (strncmp(cfg->errors[i], prefix, strlen(prefix)) == 0 &&
		    strstr(cfg->errors[i], needle))
			found = 1;
	if (!found) {
		for (size_t i = 0; i < cfg->nerrors; i++)
			print_message("  got: %s\n", cfg->errors[i]);
		print_message("  wanted line %d with '%s'\n", line, needle);
	}
	assert_true(found);
	df_config_free(cfg);
}

#endif
