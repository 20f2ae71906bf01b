/*
 * libFuzzer target for the record JSON the OVH API answers: list answers
 * (arrays of ids), record objects (fieldType, subDomain, target, ttl) and
 * their targets normalised as read() reports them (TXT unquoted, addresses
 * canonical, CNAME without its dot). Built and run by
 * `make fuzz-ovh-records` (providers/ovh/plugin.mk).
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
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	uint64_t *ids = NULL;
	if (ovh_ids_parse(j, &ids) >= 0)
		free(ids);
	struct ovh_fields f;
	if (ovh_record_fields(&host, j, &f) == 0) {
		static const uint16_t types[] = {DNSFOLLOW_TYPE_A,
						 DNSFOLLOW_TYPE_AAAA,
						 DNSFOLLOW_TYPE_TXT,
						 DNSFOLLOW_TYPE_CNAME};
		free(ovh_target_normalise(&host, f.type ? f.type : DNSFOLLOW_TYPE_TXT,
					  f.target));
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			free(ovh_target_normalise(&host, types[i], f.target));
		char sub[256];
		if (f.sub)
			(void)ovh_subdomain(f.sub, "example.org", sub, sizeof sub);
	}
	json_decref(j);
	return 0;
}
