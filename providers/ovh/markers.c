/*
 * markers(): every ownership marker of a zone, for `policy = sync`.
 *
 * OVH's record list filters on two things only, fieldType (an enum) and
 * subDomain (a LIKE pattern), and answers ids, never names. Markers are
 * found in the cached copy of the whole zone (zone.c), brought up to
 * date first: its SOA serial and id list, then the records that may have
 * changed, each filed under the name its subDomain gives. No LIKE
 * wildcard is relied on: a pattern such as "_dnsfollow%" would depend on
 * OVH honouring '%', and a filter that silently matched nothing would
 * hide every orphan. A marker edited by hand is seen once the edit is
 * published (the serial moves). Everything is fetched before the first
 * emit(): an error reports nothing ("not known"), never half a list.
 */
#include "ovh.h"

#include <stdlib.h>
#include <string.h>

#define MARKER_PREFIX "_dnsfollow."

static int emit_markers(struct ovh *o, const char *zone,
			dnsfollow_rrset_cb emit, void *ctx)
{
	char **names;
	long n = ovh_cache_names(&o->cache, zone, DNSFOLLOW_TYPE_TXT,
				 MARKER_PREFIX, &names);
	if (n < 0)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	int rc = 0;
	/* A marker whose text does not parse has no known owner: an error,
	 * before anything is emitted. */
	for (long i = 0; i < n && rc == 0; i++)
		rc = ovh_rrset_check(o, zone, names[i], DNSFOLLOW_TYPE_TXT);
	for (long i = 0; i < n && rc == 0; i++)
		rc = ovh_emit_rrset(o, zone, names[i], DNSFOLLOW_TYPE_TXT, emit,
				    ctx);
	ovh_names_free(names, (size_t)n);
	return rc;
}

int ovh_markers(void *self, const char *zone, dnsfollow_rrset_cb emit,
		void *ctx)
{
	struct ovh *o = self;
	/* As in read(): what the list shows may be changes a failed refresh
	 * left staged; publish them first. */
	int rc = ovh_unpublished_flush(o, zone);
	/* The core calls read() for the same zone right after: what is
	 * validated here serves it too (one validation per pass). */
	if (rc == 0)
		rc = ovh_zone_sync(o, zone, OVH_SYNC_LEND);
	return rc ? rc : emit_markers(o, zone, emit, ctx);
}
