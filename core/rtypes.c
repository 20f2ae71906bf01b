#include "rtypes.h"

#include <dnsfollow/provider.h>

static const struct df_rtype table[] = {
	{DNSFOLLOW_TYPE_A, DF_SRC_ADDR4, 0, 0},
	{DNSFOLLOW_TYPE_AAAA, DF_SRC_ADDR6, 0, 0},
	/* One target: a CNAME RRset holds one record (RFC 2181 10.1). */
	{DNSFOLLOW_TYPE_CNAME, DF_SRC_TARGET, 1, 1},
};

const struct df_rtype *df_rtype(uint16_t code)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (table[i].code == code)
			return &table[i];
	return NULL;
}

const struct df_rtype *df_rtypes(size_t *n)
{
	*n = sizeof table / sizeof *table;
	return table;
}
