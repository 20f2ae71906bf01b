/*
 * libFuzzer target for the record JSON the OVH API answers: list answers
 * (arrays of ids), record objects (fieldType, subDomain, target, ttl) and
 * their targets normalised as read() reports them (TXT unquoted, addresses
 * canonical, CNAME without its dot), and a record filed in the cache under
 * the name its subDomain gives, then picked as a marker or not, as
 * markers() does. Built and run by
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

static uint64_t fixed_now_ms(void)
{
	return 1000;
}

/* The host helpers the record code uses (ABI 2), the core's own. */
static struct dnsfollow_host host = {.struct_size = sizeof host,
				     .now_ms = fixed_now_ms};

/* File the record as markers() does, and list the markers it makes. */
static void file_as_markers_do(const struct ovh_fields *f)
{
	struct ovh o = {.h = &host};
	ovh_cache_init(&o.cache);
	char name[256], **names = NULL;
	(void)ovh_file_record(&o, "example.org", 1, f, name, sizeof name);
	long n = ovh_cache_names(&o.cache, "example.org", DNSFOLLOW_TYPE_TXT,
				 "_dnsfollow.", &names);
	if (n > 0 && strncmp(names[0], "_dnsfollow.", 11) != 0)
		abort(); /* only markers are picked */
	if (n >= 0)
		ovh_names_free(names, (size_t)n);
	ovh_cache_destroy(&o.cache);
}

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
		file_as_markers_do(&f);
	}
	json_decref(j);
	return 0;
}
