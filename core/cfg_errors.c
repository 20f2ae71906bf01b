/* The configuration's error list: "FILE:LINE: message" lines, masked,
 * shown in line order however the checks found them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "log.h"
#include "util.h"

void df_cfg_error_raw(struct df_config *cfg, const char *msg)
{
	char *e = df_strdup(msg);
	df_redact(e, strlen(e) + 1);
	/* Said once: a record key both its plugins declare is judged for
	 * each, and the same line twice helps nobody. */
	for (size_t i = 0; i < cfg->nerrors; i++)
		if (strcmp(cfg->errors[i], e) == 0) {
			free(e);
			return;
		}
	cfg->errors = df_xrealloc(cfg->errors, cfg->nerrors + 2, sizeof(char *));
	cfg->errors[cfg->nerrors++] = e;
	cfg->errors[cfg->nerrors] = NULL;
}

void df_cfg_error(struct df_config *cfg, int line, const char *fmt, ...)
{
	/* Formatted whole, masked and cleaned of control characters, and
	 * only then cut: a value echoed back must not leak a secret's prefix
	 * or put escape sequences on a terminal. */
	va_list ap;
	va_start(ap, fmt);
	char *msg = df_vformat_clean(2048, fmt, ap);
	va_end(ap);
	char *where = df_sanitize(cfg->path);
	size_t n = strlen(where ? where : "") + strlen(msg ? msg : "") + 32;
	char *e = df_xcalloc(n, 1);
	if (cfg->no_lines) /* a discovered record: the caller says whose */
		snprintf(e, n, "%s", msg ? msg : "");
	else
		snprintf(e, n, "%s:%d: %s", where ? where : "", line, msg ? msg : "");
	df_cfg_error_raw(cfg, e);
	free(e);
	free(where);
	free(msg);
}

struct numbered {
	long line;
	size_t seq;
	char *text;
};

static int by_line(const void *a, const void *b)
{
	const struct numbered *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void df_cfg_sort_errors(struct df_config *cfg)
{
	size_t n = cfg->nerrors, pl = strlen(cfg->path);
	if (n < 2)
		return;
	struct numbered *v = df_xcalloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		const char *e = cfg->errors[i];
		/* All start with the path; a line that did not would lead. */
		v[i].line = strncmp(e, cfg->path, pl) == 0 && e[pl] == ':'
				    ? strtol(e + pl + 1, NULL, 10)
				    : -1;
		v[i].seq = i;
		v[i].text = cfg->errors[i];
	}
	qsort(v, n, sizeof *v, by_line);
	for (size_t i = 0; i < n; i++)
		cfg->errors[i] = v[i].text;
	free(v);
}

void df_config_print_errors(const struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nerrors; i++)
		fprintf(stderr, "%s\n", cfg->errors[i]);
}

void df_config_log_errors(const struct df_config *cfg)
{
	for (size_t i = 0; i < cfg->nerrors; i++)
		df_log(DNSFOLLOW_LOG_ERROR, NULL, "%s", cfg->errors[i]);
}
