/*
 * libFuzzer target for python-ovh's ovh.conf as the OVH provider reads it
 * (providers/ovh/conf.c: inih fed by our own line reader, duplicate
 * sections and keys, continuations, long section names, NUL bytes, a
 * BOM). Built and run by `make fuzz-ovh-conf` (providers/ovh/plugin.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../providers/ovh/ovh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly `size` bytes, no terminator: the parser must stay in. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct ovh_conf c;
	char err[512];
	if (ovh_conf_parse("fuzz.conf", text, size, &c, err, sizeof err) == 0) {
		const char *ep = ovh_conf_get(&c, "default", "endpoint");
		if (ep && ovh_conf_has_section(&c, ep))
			(void)ovh_conf_get(&c, ep, "application_key");
		ovh_conf_free(&c);
	}
	free(text);
	return 0;
}
