/*
 * Publishing: OVH stages record changes until POST
 * /domain/zone/{zone}/refresh. Staged changes look exactly like published
 * ones to read(), so if a refresh fails (or a write's outcome is unknown),
 * the next pass would read the staged state, find the zone in sync, skip
 * apply() and never publish. Such zones are remembered here and refreshed
 * first thing in their next read() or apply(). Only a process that wrote
 * can owe a refresh, so --dry-run never sends one.
 */
#include "ovh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long find(const struct ovh *o, const char *zone)
{
	for (size_t i = 0; i < o->nunpublished; i++)
		if (strcmp(o->unpublished[i], zone) == 0)
			return (long)i;
	return -1;
}

int ovh_unpublished_mark(struct ovh *o, const char *zone)
{
	if (find(o, zone) >= 0)
		return 0;
	char **v = realloc(o->unpublished, (o->nunpublished + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	o->unpublished = v;
	if (!(v[o->nunpublished] = strdup(zone)))
		return -ENOMEM;
	o->nunpublished++;
	return 0;
}

static void forget(struct ovh *o, const char *zone)
{
	long i = find(o, zone);
	if (i < 0)
		return;
	free(o->unpublished[i]);
	o->unpublished[i] = o->unpublished[--o->nunpublished];
}

void ovh_unpublished_free(struct ovh *o)
{
	for (size_t i = 0; i < o->nunpublished; i++)
		free(o->unpublished[i]);
	free(o->unpublished);
	o->unpublished = NULL;
	o->nunpublished = 0;
}

int ovh_refresh(struct ovh *o, const char *zone, char *err, size_t errlen)
{
	struct ovh_req r = {.method = "POST", .idempotent = 1,
			    .path = ovh_path_zone(zone, "refresh")};
	int rc;
	if (!r.path) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	} else {
		ovh_call(o, &r);
		rc = r.rc;
		if (rc != 0)
			snprintf(err, errlen, "%s", r.err);
	}
	ovh_req_clear(&r);
	if (rc == 0) {
		forget(o, zone);
	} else if (ovh_unpublished_mark(o, zone) != 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	}
	return rc;
}

int ovh_unpublished_flush(struct ovh *o, const char *zone)
{
	if (find(o, zone) < 0)
		return 0;
	o->h->log(o->h, DNSFOLLOW_LOG_INFO, "zone %s: publishing changes an "
		  "earlier pass staged (its refresh failed or was uncertain)",
		  zone);
	char err[sizeof ((struct ovh_req *)0)->err];
	int rc = ovh_refresh(o, zone, err, sizeof err);
	if (rc != 0)
		return o->h->error(o->h, rc, "%s (changes staged earlier are "
				   "not published yet)", err);
	return 0;
}
