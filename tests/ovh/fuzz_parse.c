/*
 * libFuzzer target for what the OVH provider parses from the network and
 * from users: error answers (both shapes, headers), record targets (TXT
 * unquoting, addresses), names against zones, URL escaping, Retry-After
 * values. Built and run
 * by `make fuzz` (providers/ovh/plugin.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../providers/ovh/ovh.h"
#include "sdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sdk.c's clock, without the rest of the core. */
int64_t df_wall_time(void);
int64_t df_wall_time(void)
{
	return 1700000000;
}

/* The host helpers the record code uses (ABI 2), the core's own. */
static struct dnsfollow_host host = {.struct_size = sizeof host};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!host.type_code)
		df_sdk_fill(&host);
	/* Split the input at the first NUL: body, then headers. */
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *body = buf, *hdr = buf + strlen(buf) + 1;
	if (hdr > buf + size)
		hdr = "";
	char out[512];
	long status = size ? 400 + data[0] % 200 : 500;
	ovh_error_from_answer(status, body, hdr, out, sizeof out);
	ovh_retry_after_ms(body, 1700000000);
	static const uint16_t types[] = {DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_A,
					 DNSFOLLOW_TYPE_AAAA};
	for (size_t i = 0; i < 3; i++)
		free(ovh_target_normalise(&host, types[i], body));
	char sub[256];
	ovh_subdomain(body, hdr[0] ? hdr : "example.org", sub, sizeof sub);
	/* URL escaping is the host's since ABI 2 (the plugin's own
	 * ovh_escape() is gone): the paths the plugin builds with it. */
	free(host.url_escape(body));
	free(ovh_path_records(&host, hdr[0] ? hdr : "example.org", "TXT", body));
	free(buf);
	return 0;
}
