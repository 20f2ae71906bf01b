#include "rtypes.h"

#include <dnsfollow/provider.h>

static const struct df_rtype table[] = {
	{DNSFOLLOW_TYPE_A, DF_SRC_ADDR4, 0, 0},
	{DNSFOLLOW_TYPE_AAAA, DF_SRC_ADDR6, 0, 0},
	/* One target: a CNAME RRset holds one record (RFC 2181 10.1). */
	{DNSFOLLOW_TYPE_CNAME, DF_SRC_TARGET, 1, 1},
};

/* Data forms, including types the core reads but never writes (NS). */
static const struct {
	uint16_t code;
	enum df_form form;
} forms[] = {
	{DNSFOLLOW_TYPE_A, DF_FORM_ADDR4},
	{DNSFOLLOW_TYPE_AAAA, DF_FORM_ADDR6},
	{DNSFOLLOW_TYPE_CNAME, DF_FORM_NAME},
	{DNSFOLLOW_TYPE_NS, DF_FORM_NAME},
	{12 /* PTR */, DF_FORM_NAME},
};

enum df_form df_rdata_form(uint16_t code)
{
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
		if (forms[i].code == code)
			return forms[i].form;
	return DF_FORM_TEXT;
}

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
