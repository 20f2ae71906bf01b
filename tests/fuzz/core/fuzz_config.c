/* libFuzzer target: any bytes as a config file must give errors, never a
 * crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	fwrite(data, 1, size, f);
	fclose(f);
	struct df_config *cfg = df_config_parse(path);
	/* Every error is one "FILE:LINE: message" line. */
	for (size_t i = 0; i < cfg->nerrors; i++)
		for (const char *p = cfg->errors[i]; *p; p++)
			if (*p == '\n')
				abort();
	df_config_free(cfg);
	unlink(path);
	return 0;
}
