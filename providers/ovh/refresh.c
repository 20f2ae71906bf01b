/*
 * Publishing: OVH stages record changes until POST
 * /domain/zone/{zone}/refresh. Staged changes look exactly like published
 * ones to read(), so if a refresh fails (or a write's outcome is unknown),
 * the next pass would read the staged state, find the zone in sync, skip
 * apply() and never publish. Such zones are remembered here and refreshed
 * first thing in their next read() or apply().
 *
 * What is owed belongs to the zone, not to the instance that wrote: a
 * SIGHUP reload destroys every instance and creates new ones, and a
 * refresh owed by the old one must still be sent by the new one. So the
 * list is kept for the whole process, keyed by API base URL and zone, and
 * the plugin stays loaded once a zone was met (a reload that unloads it
 * before loading it again would otherwise lose the list).
 *
 * A restart forgets the list, and the API cannot tell staged from
 * published: so a zone this process has not met yet counts as owing one,
 * and its first read or apply sends a refresh. That costs one call per
 * zone per start (not per reload), and a refresh with nothing staged
 * publishes nothing new. A dry run (host->dry_run) writes nothing, so it
 * never sends one, owed or not.
 */
#include "ovh.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t owed_mu = PTHREAD_MUTEX_INITIALIZER;
static char **owed; /* "BASE ZONE" */
static size_t nowed;
static char **seen; /* zones this process has touched */
static size_t nseen;

static char *owed_key(const struct ovh *o, const char *zone)
{
	char *k = NULL;
	return asprintf(&k, "%s %s", o->base, zone) < 0 ? NULL : k;
}

/* Index of `key` in the list, or -1. Called with owed_mu held. */
static long find(const char *key)
{
	for (size_t i = 0; i < nowed; i++)
		if (strcmp(owed[i], key) == 0)
			return (long)i;
	return -1;
}

/* Keep this plugin loaded for the rest of the process, so the list
 * outlives a dlclose() between two configurations. */
static void pin_plugin(void)
{
	static int pinned;
	Dl_info info;
	if (pinned || !dladdr((void *)&pin_plugin, &info) || !info.dli_fname)
		return;
	void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	pinned = 1; /* not dlclose'd: the reference is the point */
	(void)self;
}

int ovh_unpublished_mark(struct ovh *o, const char *zone)
{
	char *key = owed_key(o, zone);
	if (!key)
		return -ENOMEM;
	int rc = 0;
	pthread_mutex_lock(&owed_mu);
	if (find(key) >= 0) {
		free(key);
	} else {
		char **v = realloc(owed, (nowed + 1) * sizeof *v);
		if (v) {
			owed = v;
			owed[nowed++] = key;
			pin_plugin();
		} else {
			free(key);
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&owed_mu);
	return rc;
}

static void forget(struct ovh *o, const char *zone)
{
	char *key = owed_key(o, zone);
	pthread_mutex_lock(&owed_mu);
	long i = key ? find(key) : -1;
	if (i >= 0) {
		free(owed[i]);
		owed[i] = owed[--nowed];
	}
	pthread_mutex_unlock(&owed_mu);
	free(key);
}

/* 1 the first time this process meets `key` (then remembered; the
 * plugin is pinned so that a reload does not forget it and refresh every
 * zone again). Called with owed_mu held. */
static int first_contact(const char *key)
{
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], key) == 0)
			return 0;
	char **v = realloc(seen, (nseen + 1) * sizeof *v);
	if (v)
		seen = v;
	char *copy = v ? strdup(key) : NULL;
	if (!copy)
		return 1; /* when unsure, refresh (again next time) */
	seen[nseen++] = copy;
	pin_plugin();
	return 1;
}

/* A zone the account does not serve (the refresh got a 404) holds
 * nothing staged: it owes no refresh, and counts as not met, so its next
 * read or apply asks again and reports it with the same one line (an
 * owed refresh would say "publishing changes an earlier pass staged"). */
static void not_served(struct ovh *o, const char *zone)
{
	forget(o, zone);
	char *key = owed_key(o, zone);
	pthread_mutex_lock(&owed_mu);
	for (size_t i = 0; key && i < nseen; i++)
		if (strcmp(seen[i], key) == 0) {
			free(seen[i]);
			seen[i] = seen[--nseen];
			break;
		}
	pthread_mutex_unlock(&owed_mu);
	free(key);
}

static int dry_run(const struct ovh *o)
{
	return DNSFOLLOW_HOST_HAS(o->h, dry_run) && o->h->dry_run(o->h);
}

int ovh_unpublished_owed(struct ovh *o, const char *zone)
{
	if (dry_run(o))
		return 0; /* and the zone is not met yet: a dry run writes nothing */
	char *key = owed_key(o, zone);
	if (!key)
		return 1; /* when unsure, refresh */
	pthread_mutex_lock(&owed_mu);
	int yes = find(key) >= 0;
	/* Met for the first time: an earlier process may have left changes
	 * staged. Not added to the list: a failed refresh marks it there. */
	if (first_contact(key) && !yes)
		yes = 2;
	pthread_mutex_unlock(&owed_mu);
	free(key);
	return yes;
}

/* At exit, or when the plugin is unloaded with nothing ever owed. */
__attribute__((destructor)) static void owed_free(void)
{
	for (size_t i = 0; i < nowed; i++)
		free(owed[i]);
	free(owed);
	owed = NULL;
	nowed = 0;
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	seen = NULL;
	nseen = 0;
}

int ovh_refresh(struct ovh *o, const char *zone, char **err, int *cred)
{
	struct ovh_req r = {.method = "POST", .idempotent = 1,
			    .path = ovh_path_zone(o->h, zone, "refresh")};
	int rc = -ENOMEM;
	*err = NULL;
	*cred = 0;
	if (r.path) {
		ovh_call(o, &r);
		rc = r.rc;
		*cred = r.cred_refused;
		*err = r.err;
		r.err = NULL;
	}
	ovh_req_clear(&r);
	/* A refresh publishes whatever is staged, an edit made by hand
	 * included: the serial it moves says nothing about our cache. */
	ovh_zone_stale(o, zone);
	if (rc == 0) {
		forget(o, zone);
		free(*err);
		*err = NULL;
	} else if (rc == -ENOENT) {
		not_served(o, zone);
	} else if (ovh_unpublished_mark(o, zone) != 0) {
		rc = -ENOMEM;
	}
	if (rc != 0 && !*err)
		*err = strdup("out of memory");
	return rc;
}

/* Report a failed refresh of flush(): like any call (a refused key names
 * where each key came from), with what it means for the zone. */
static int flush_failed(struct ovh *o, const char *zone, int first, int rc,
			char *err, int cred)
{
	struct ovh_req r = {.rc = rc, .cred_refused = cred};
	int n;
	if (rc == -ENOENT)
		n = asprintf(&r.err, "zone %s is not served by this OVH account: "
			     "%s", zone, err ? err : "out of memory");
	else if (first)
		n = asprintf(&r.err, "%s (refresh on first contact: an earlier "
			     "run may have left changes staged)",
			     err ? err : "out of memory");
	else
		n = asprintf(&r.err, "%s (changes staged earlier are not "
			     "published yet)", err ? err : "out of memory");
	if (n < 0)
		r.err = NULL; /* ovh_report() says "out of memory" */
	rc = ovh_report(o, &r);
	free(r.err);
	return rc;
}

int ovh_unpublished_flush(struct ovh *o, const char *zone)
{
	int owed_why = ovh_unpublished_owed(o, zone);
	if (!owed_why)
		return 0;
	/* The first-contact refresh is routine (once per zone per start)
	 * and usually publishes nothing: debug. An owed one publishes what
	 * a failed or uncertain refresh left staged: worth an info line. */
	if (owed_why == 2)
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: first met since "
			  "start: refreshing, in case an earlier run left "
			  "changes staged", zone);
	else
		o->h->log(o->h, DNSFOLLOW_LOG_INFO, "zone %s: publishing changes an "
			  "earlier pass staged (its refresh failed or was "
			  "uncertain)", zone);
	char *err;
	int cred;
	int rc = ovh_refresh(o, zone, &err, &cred);
	if (rc != 0)
		rc = flush_failed(o, zone, owed_why == 2, rc, err, cred);
	free(err);
	return rc;
}
