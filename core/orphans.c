/*
 * Orphans (policy = sync): names a zone holds under this dnsfollow's
 * marker that no record asks for any more. A job lists the zone's
 * markers, keeps the clock of each orphan, and adds the ones that have
 * been unwanted for orphan_grace, over at least two passes with full
 * knowledge, to its plan as deletions (records, then the marker).
 */
#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define MARKER_PREFIX "_dnsfollow."

struct owned {
	const char *zone;
	const char *marker;
	char **names;
	size_t n;
};

/* Keep the names whose marker is ours alone. */
static int on_marker(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct owned *o = ctx;
	if (!rr || !rr->name || (rr->count && !rr->rdata))
		return -EPROTO;
	if (rr->type != DNSFOLLOW_TYPE_TXT || rr->count != 1 || !rr->rdata[0] ||
	    strncasecmp(rr->name, MARKER_PREFIX, sizeof MARKER_PREFIX - 1) != 0 ||
	    strcmp(rr->rdata[0], o->marker) != 0)
		return 0;
	char *name = NULL;
	if (df_name_normalise(rr->name + sizeof MARKER_PREFIX - 1, &name) != 0 ||
	    !df_name_in_zone(name, o->zone)) {
		free(name);
		return 0;
	}
	o->names = df_grow(o->names, o->n, sizeof *o->names);
	o->names[o->n++] = name;
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Does anything ask provider p for `name` in `zone`? A record of this
 * provider in this very zone (a copy left in another zone of the same
 * provider is an orphan there), or a held name (any zone). */
static int wanted(const struct df_recset *set, size_t p, const char *zone,
		  const char *name)
{
	struct df_wanted key = {p, name, zone};
	if (bsearch(&key, set->wanted, set->nwanted, sizeof key, df_wanted_cmp))
		return 1;
	size_t lo = 0, hi = set->nheld;
	while (lo < hi) { /* the first held entry >= name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(set->held[mid].fqdn, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < set->nheld && strcmp(set->held[lo].fqdn, name) == 0; lo++)
		if (set->held[lo].provider == p || set->held[lo].provider == SIZE_MAX)
			return 1;
	return 0;
}

static int by_orphan(const void *a, const void *b)
{
	return strcmp(((const struct df_orphan *)a)->name,
		      ((const struct df_orphan *)b)->name);
}

static const struct df_orphan *known_before(const struct df_job *j, const char *name)
{
	struct df_orphan key = {.name = (char *)name};
	return j->norph ? bsearch(&key, j->orph, j->norph, sizeof key, by_orphan) : NULL;
}

/* A want that deletes the orphan: every type dnsfollow writes that the
 * provider manages, then the marker. */
static void add_delete_want(struct df_runtime *rt, struct df_job *j, const char *name)
{
	const struct dnsfollow_provider_ops *ops =
		rt->providers[rt->groups[j->group].provider].plugin->ops;
	j->wants = df_xrealloc(j->wants, j->nwants + 1, sizeof *j->wants);
	j->skip = df_xrealloc(j->skip, j->nwants + 1, 1);
	j->out = df_xrealloc(j->out, j->nwants + 1, sizeof *j->out);
	struct df_want *w = &j->wants[j->nwants];
	memset(w, 0, sizeof *w);
	j->skip[j->nwants] = 0;
	j->out[j->nwants] = DF_OUT_NONE;
	j->nwants++;
	w->fqdn = name;
	char *txt = df_xcalloc(strlen(name) + sizeof MARKER_PREFIX, 1);
	strcpy(stpcpy(txt, MARKER_PREFIX), name);
	w->txt_name = txt;
	w->orphan = 1;
	for (const uint16_t *t = ops->types; t && *t && w->nsets < DF_MAX_TYPES; t++)
		if (*t != DNSFOLLOW_TYPE_TXT && df_rtype(*t))
			w->sets[w->nsets++] = (struct df_want_set){.type = *t};
}

/* The clock of one orphan, and whether it is due. A sighting counts
 * only with knowledge of its own (a discovery round the earlier ones did
 * not see): a timer's pass with the same answers proves nothing new.
 * Two are needed, but for orphan_grace = 0 under --once. */
static int tick(struct df_runtime *rt, struct df_job *j, const char *zone,
		const char *name, struct df_orphan *o)
{
	const struct df_orphan *before = known_before(j, name);
	o->name = df_strdup(name);
	o->since = before ? before->since : j->now;
	o->seen = before ? before->seen + (before->gen != j->gen) : 1;
	o->gen = j->gen;
	struct df_inst *in = &rt->providers[rt->groups[j->group].provider];
	unsigned need = j->once && !j->grace_ms ? 1u : 2u;
	int due = o->seen >= need && j->now - o->since >= j->grace_ms &&
		  __atomic_load_n(&rt->set_gen, __ATOMIC_SEQ_CST) == j->set_gen;
	if (rt->dry_run)
		df_plan_out_orphan(rt, j, in->cfg->name, zone, name, due ? "deleting" : "pending");
	else if (due)
		df_log(DNSFOLLOW_LOG_INFO, in->host->who,
		       "zone %s: orphan %s: nothing has asked for it for %llu s; deleting it and its marker",
		       zone, name, (unsigned long long)((j->now - o->since) / 1000));
	else if (o->seen == 1)
		df_log(DNSFOLLOW_LOG_INFO, in->host->who,
		       "zone %s: orphan %s: nothing asks for it any more; deleted if that holds for orphan_grace (%llu s)",
		       zone, name, (unsigned long long)(j->grace_ms / 1000));
	return due;
}

void df_job_orphans(struct df_runtime *rt, struct df_job *j)
{
	const struct df_group *g = &rt->groups[j->group];
	struct df_inst *in = &rt->providers[g->provider];
	const struct dnsfollow_provider_ops *ops = in->plugin->ops;
	if (!j->sync || !DNSFOLLOW_HAS(ops, struct dnsfollow_provider_ops, markers))
		return;
	struct owned o = {.zone = g->zone, .marker = rt->marker};
	df_host_reset(in->host);
	int rc = ops->markers(in->self, g->zone, on_marker, &o);
	struct df_group *gw = &rt->groups[j->group]; /* this job's alone */
	if (rc != 0) {
		char err[1024];
		df_host_error_text(in->host, err, sizeof err);
		if (!gw->markers_failing) /* said once, until it works again */
			df_log(DNSFOLLOW_LOG_ERROR, in->host->who,
			       "zone %s: cannot list the ownership markers: %s; no orphan is deleted while this lasts",
			       g->zone, err[0] ? err : strerror(-rc));
		gw->markers_failing = 1;
	} else {
		gw->markers_failing = 0;
		if (o.n)
			qsort(o.names, o.n, sizeof *o.names, by_str);
		struct df_orphan *now = df_xcalloc(o.n + 1, sizeof *now);
		size_t nnow = 0;
		for (size_t i = 0; i < o.n; i++) {
			if ((i && strcmp(o.names[i], o.names[i - 1]) == 0) ||
			    wanted(j->set, g->provider, g->zone, o.names[i]))
				continue; /* listed twice, or asked for */
			if (!j->known) {
				if (rt->dry_run)
					df_plan_out_orphan(rt, j, in->cfg->name, g->zone,
							   o.names[i], "kept");
				continue;
			}
			if (tick(rt, j, g->zone, o.names[i], &now[nnow]))
				add_delete_want(rt, j, now[nnow].name);
			nnow++;
		}
		for (size_t i = 0; i < j->norph; i++)
			free(j->orph[i].name);
		free(j->orph);
		j->orph = now;
		j->norph = nnow;
		j->orph_ran = j->known;
	}
	for (size_t i = 0; i < o.n; i++)
		free(o.names[i]);
	free(o.names);
}
