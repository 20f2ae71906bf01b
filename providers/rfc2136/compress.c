/*
 * Name compression for UPDATE messages (RFC 1035 §4.1.4). Owner names of
 * one zone share the zone's suffix (always at offset 12, right after the
 * header), a replaced RRset repeats its owner, and a marker is its
 * record's name under `_dnsfollow`: pointing at what was written before
 * roughly halves a large UPDATE. Only owner names are compressed.
 */
#include <errno.h>
#include <string.h>

#include "rfc2136.h"

#define ZONE_OFFSET 12 /* the zone section's name follows the header */

void r2136_cz_init(struct r2136_cz *cz, const char *zone, size_t base)
{
	memset(cz, 0, sizeof *cz);
	cz->base = base;
	int n = r2136_name_to_wire(zone, cz->zone);
	cz->zlen = n > 0 ? (size_t)n : 0;
}

/* Remember the names starting at each label of w[0..upto), written at
 * absolute offset `at`, while pointers can still reach them. */
static void remember(struct r2136_cz *cz, const uint8_t *w, size_t len,
		     size_t upto, size_t at)
{
	for (size_t j = 0; j < upto; j += (size_t)w[j] + 1) {
		if (at + j >= 0x4000)
			return;
		struct r2136_cz_name *r = &cz->recent[cz->next++ % R2136_CZ_RECENT];
		memcpy(r->w, w + j, len - j);
		r->len = len - j;
		r->off = (uint16_t)(at + j);
	}
}

/* Where the suffix w[i..len) was written before, or 0. */
static uint16_t find(const struct r2136_cz *cz, const uint8_t *w, size_t i,
		     size_t len)
{
	for (int k = 0; k < R2136_CZ_RECENT; k++) {
		const struct r2136_cz_name *r = &cz->recent[k];
		if (r->len == len - i && memcmp(r->w, w + i, r->len) == 0)
			return r->off;
	}
	if (cz->zlen == len - i && memcmp(cz->zone, w + i, cz->zlen) == 0)
		return ZONE_OFFSET;
	return 0;
}

void r2136_put_name_cz(struct r2136_buf *b, struct r2136_cz *cz,
		       const char *name)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	int n = r2136_name_to_wire(name, w);
	if (n < 0) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	size_t len = (size_t)n, at = cz->base + b->len, i = 0;
	uint16_t ptr = 0;
	for (; w[i] && !(ptr = find(cz, w, i, len)); i += (size_t)w[i] + 1)
		;
	if (!ptr) {
		r2136_put_bytes(b, w, len);
		remember(cz, w, len, len - 1, at);
		return;
	}
	r2136_put_bytes(b, w, i);
	r2136_put_u16(b, (uint16_t)(0xc000 | ptr));
	remember(cz, w, len, i, at);
}
