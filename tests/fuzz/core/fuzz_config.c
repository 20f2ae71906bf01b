/* libFuzzer target: any bytes as a config file must give errors, never a
 * crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each 0x7f byte stands for a run of 3000 'x': lines longer than
 * libinih's 8 KB buffer (the reader's aliased path) within -max_len. */
#define RUN 3000

static void write_input(FILE *f, const uint8_t *data, size_t size)
{
	static char run[RUN];
	if (!run[0])
		memset(run, 'x', sizeof run);
	for (size_t i = 0; i < size; i++) {
		if (data[i] == 0x7f)
			fwrite(run, 1, sizeof run, f);
		else
			fputc(data[i], f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/dffuzz-config.%d.ini", (int)getpid());
		df_log_set_level(-1);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	write_input(f, data, size);
	fclose(f);
	struct df_config *cfg = df_config_parse(path);
	/* Every error is one line naming the file: "FILE:LINE: message". */
	size_t pl = strlen(path);
	for (size_t i = 0; i < cfg->nerrors; i++) {
		if (strncmp(cfg->errors[i], path, pl) != 0 || cfg->errors[i][pl] != ':')
			abort();
		for (const char *p = cfg->errors[i]; *p; p++)
			if (*p == '\n')
				abort();
	}
	df_config_log_errors(cfg);
	df_config_free(cfg);
	unlink(path);
	return 0;
}
