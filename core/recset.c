/*
 * Record sets: the records one pass works on, the INI's merged with what
 * backends discovered (the INI wins; two services claiming one name get
 * neither), laid out group by group, with the questions they share and
 * the state carried over from the set they replace.
 */
#include "reconcile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* A string naming what resolve() is asked, so equal questions are asked
 * once per pass. */
static char *resolve_key(const struct df_record_cfg *r)
{
	size_t n = strlen(r->backend) + strlen(r->service) + 4;
	for (size_t i = 0; i < r->nkv; i++)
		n += strlen(r->kv[i].key) + strlen(r->kv[i].value) + 2;
	char *k = df_xcalloc(n, 1);
	size_t used = (size_t)snprintf(k, n, "%s\n%s\n", r->backend, r->service);
	for (size_t i = 0; i < r->nkv; i++)
		used += (size_t)snprintf(k + used, n - used, "%s=%s\n",
					 r->kv[i].key, r->kv[i].value);
	return k;
}

static int by_resolve_key(const void *a, const void *b, void *ctx)
{
	char *const *keys = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(keys[x], keys[y]);
	return c ? c : (x < y ? -1 : 1);
}

/* Records asking a backend the same question share one answer per pass. */
static void make_questions(struct df_recset *s)
{
	size_t n = s->nrecs;
	if (!n)
		return;
	char **keys = df_xcalloc(n, sizeof *keys);
	size_t *order = df_xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++) {
		keys[i] = resolve_key(s->recs[i].cfg);
		order[i] = i;
	}
	qsort_r(order, n, sizeof *order, by_resolve_key, keys);
	for (size_t i = 0; i < n; i++)
		s->recs[order[i]].question =
			i && strcmp(keys[order[i - 1]], keys[order[i]]) == 0
				? s->recs[order[i - 1]].question
				: order[i];
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(order);
}

/* A candidate record and where it goes. */
struct cand {
	const struct df_record_cfg *cfg;
	size_t group;
	int drop;
};

static int by_name_provider(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = strcmp(x->cfg->fqdn, y->cfg->fqdn);
	if (c)
		return c;
	if (x->cfg->provider_idx != y->cfg->provider_idx)
		return x->cfg->provider_idx < y->cfg->provider_idx ? -1 : 1;
	/* The INI's first, then by source, so a clash is seen in order. */
	if (!x->cfg->source != !y->cfg->source)
		return x->cfg->source ? 1 : -1;
	c = strcmp(x->cfg->source ? x->cfg->source : "",
		   y->cfg->source ? y->cfg->source : "");
	if (c)
		return c;
	return x->cfg->backend_idx < y->cfg->backend_idx ? -1
	       : x->cfg->backend_idx > y->cfg->backend_idx;
}

static int by_group(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (!x->cfg->source != !y->cfg->source)
		return x->cfg->source ? 1 : -1;
	if (!x->cfg->source)
		return x->cfg->line < y->cfg->line ? -1 : x->cfg->line > y->cfg->line;
	return strcmp(x->cfg->fqdn, y->cfg->fqdn);
}

/* A message for df_discover's say-once list: "LEVEL||TEXT". */
static void say(char ***msgs, size_t *n, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(char ***msgs, size_t *n, int level, const char *fmt, ...)
{
	if (!msgs)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = df_vformat_clean(1024, fmt, ap);
	va_end(ap);
	char *line = df_xcalloc(strlen(m ? m : "") + 8, 1);
	sprintf(line, "%d||%s", level, m ? m : "");
	free(m);
	*msgs = df_grow(*msgs, *n, sizeof **msgs);
	(*msgs)[(*n)++] = line;
}

static const char *who_of(const struct df_record_cfg *r)
{
	return r->source_name ? r->source_name : r->source;
}

/* Two discovered records of different sources for one (name, provider)
 * both go, and the name is held; a discovered one beside an INI one
 * goes. Runs on candidates sorted by_name_provider. */
static void settle_clashes(struct df_runtime *rt, struct df_recset *s,
			   struct cand *c, size_t n, char ***msgs, size_t *nmsgs)
{
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(c[j].cfg->fqdn, c[i].cfg->fqdn) == 0 &&
				c[j].cfg->provider_idx == c[i].cfg->provider_idx;
		     j++)
			;
		if (j - i == 1)
			continue;
		const struct df_record_cfg *first = c[i].cfg;
		const char *prov = rt->cfg->providers[first->provider_idx].name;
		if (!first->source) { /* the INI's: it wins */
			for (size_t k = i + 1; k < j; k++) {
				c[k].drop = 1;
				say(msgs, nmsgs, DNSFOLLOW_LOG_WARN, "%s (provider %s): the [record] section at line %d wins over what service %s asks",
				    first->fqdn, prov, first->line, who_of(c[k].cfg));
			}
			continue;
		}
		/* One source naming it twice is one claim; the same source
		 * seen by two backends (two files with one section name, two
		 * swarm backends) is two, with no order to prefer one. */
		int clash = 0;
		for (size_t k = i + 1; k < j; k++)
			if (strcmp(c[k].cfg->source, first->source) != 0 ||
			    c[k].cfg->backend_idx != first->backend_idx)
				clash = 1;
			else
				c[k].drop = 1;
		if (!clash)
			continue;
		for (size_t k = i; k < j; k++) {
			c[k].drop = 1;
			say(msgs, nmsgs, DNSFOLLOW_LOG_ERROR, "%s (provider %s) is claimed by more than one service (%s of backend %s among them): none is written until only one asks for it",
			    first->fqdn, prov, who_of(c[k].cfg), c[k].cfg->backend);
		}
		s->held = df_grow(s->held, s->nheld, sizeof *s->held);
		s->held[s->nheld++] = (struct df_held){first->provider_idx, first->fqdn};
	}
}

/* Candidates: the INI's records and every backend's discovered ones. */
static struct cand *candidates(struct df_runtime *rt, struct df_found **found,
			       size_t *n)
{
	size_t cap = rt->cfg->nrecords + 1;
	for (size_t b = 0; found && b < rt->cfg->nbackends; b++)
		cap += found[b] ? found[b]->n : 0;
	struct cand *c = df_xcalloc(cap, sizeof *c);
	*n = 0;
	for (size_t i = 0; i < rt->cfg->nrecords; i++)
		c[(*n)++].cfg = &rt->cfg->records[i];
	for (size_t b = 0; found && b < rt->cfg->nbackends; b++)
		for (size_t i = 0; found[b] && i < found[b]->n; i++)
			c[(*n)++].cfg = &found[b]->v[i];
	return c;
}

/* The names a pass reads, laid out group by group in one block. */
static void lay_out(struct df_runtime *rt, struct df_recset *s,
		    const struct cand *c, size_t n)
{
	size_t bytes = 1;
	s->recs = df_xcalloc(n + 1, sizeof *s->recs);
	s->grp = df_xcalloc(rt->ngroups + 1, sizeof *s->grp);
	s->ngroups = rt->ngroups;
	for (size_t i = 0; i < n; i++)
		bytes += 2 * strlen(c[i].cfg->fqdn) + sizeof "_dnsfollow." + 1;
	char *p = s->names = df_xcalloc(bytes, 1);
	for (size_t i = 0; i < n; i++) {
		struct df_rec *r = &s->recs[s->nrecs];
		struct df_grecs *g = &s->grp[c[i].group];
		r->cfg = c[i].cfg;
		r->fqdn = p;
		p = stpcpy(p, r->cfg->fqdn) + 1;
		r->txt_name = p;
		p = stpcpy(stpcpy(p, "_dnsfollow."), r->cfg->fqdn) + 1;
		g->v = df_grow(g->v, g->n, sizeof *g->v);
		g->v[g->n++] = s->nrecs++;
	}
}

static int rec_key_cmp(const struct df_rec *a, const struct df_rec *b)
{
	int c = strcmp(a->fqdn, b->fqdn);
	if (c)
		return c;
	return a->cfg->provider_idx < b->cfg->provider_idx ? -1
	       : a->cfg->provider_idx > b->cfg->provider_idx;
}

static int by_rec_key(const void *a, const void *b)
{
	return rec_key_cmp(*(struct df_rec *const *)a, *(struct df_rec *const *)b);
}

/* A record that was in the set before keeps what was learned of it
 * (outcome, the on_empty clock). */
static void carry_over(struct df_recset *to, const struct df_recset *from)
{
	if (!from || !from->nrecs)
		return;
	struct df_rec **old = df_xcalloc(from->nrecs, sizeof *old);
	for (size_t i = 0; i < from->nrecs; i++)
		old[i] = &from->recs[i];
	qsort(old, from->nrecs, sizeof *old, by_rec_key);
	for (size_t i = 0; i < to->nrecs; i++) {
		struct df_rec *key = &to->recs[i];
		struct df_rec **hit = bsearch(&key, old, from->nrecs, sizeof *old, by_rec_key);
		if (!hit)
			continue;
		to->recs[i].outcome = (*hit)->outcome;
		to->recs[i].empty_since = (*hit)->empty_since;
		to->recs[i].empty_seen = (*hit)->empty_seen;
	}
	free(old);
}

int df_wanted_cmp(const void *a, const void *b)
{
	const struct df_wanted *x = a, *y = b;
	if (x->provider != y->provider)
		return x->provider < y->provider ? -1 : 1;
	int c = strcmp(x->fqdn, y->fqdn);
	return c ? c : strcmp(x->zone, y->zone);
}

static int by_held(const void *a, const void *b)
{
	return strcmp(((const struct df_held *)a)->fqdn, ((const struct df_held *)b)->fqdn);
}

/* What orphans are told from, sorted once per set: every record's
 * (provider, name, zone), and the held names by name. */
static void make_wanted(struct df_recset *s)
{
	s->wanted = df_xcalloc(s->nrecs + 1, sizeof *s->wanted);
	for (size_t i = 0; i < s->nrecs; i++)
		s->wanted[s->nwanted++] = (struct df_wanted){
			s->recs[i].cfg->provider_idx, s->recs[i].fqdn, s->recs[i].cfg->zone};
	if (s->nwanted)
		qsort(s->wanted, s->nwanted, sizeof *s->wanted, df_wanted_cmp);
	if (s->nheld)
		qsort(s->held, s->nheld, sizeof *s->held, by_held);
}

struct df_recset *df_recset_build(struct df_runtime *rt, struct df_found **found,
				  char ***msgs, size_t *nmsgs)
{
	struct df_recset *s = df_xcalloc(1, sizeof *s);
	s->refs = 1;
	size_t n;
	struct cand *c = candidates(rt, found, &n);
	if (n)
		qsort(c, n, sizeof *c, by_name_provider);
	settle_clashes(rt, s, c, n, msgs, nmsgs);
	size_t keep = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].drop)
			continue;
		c[i].group = df_group_of(rt, c[i].cfg->provider_idx, c[i].cfg->zone);
		if (c[i].group != SIZE_MAX) /* every zone has its group */
			c[keep++] = c[i];
	}
	if (keep)
		qsort(c, keep, sizeof *c, by_group);
	lay_out(rt, s, c, keep);
	free(c);
	make_questions(s);
	/* What the set borrows (records, held names) lives in found[]. */
	s->nfound = rt->cfg->nbackends;
	s->found = df_xcalloc(s->nfound + 1, sizeof *s->found);
	for (size_t b = 0; found && b < s->nfound; b++)
		if ((s->found[b] = found[b]) != NULL) {
			found[b]->refs++;
			for (size_t h = 0; h < found[b]->nheld; h++) {
				s->held = df_grow(s->held, s->nheld, sizeof *s->held);
				s->held[s->nheld++] = found[b]->held[h];
			}
		}
	make_wanted(s);
	carry_over(s, rt->set);
	return s;
}

void df_recset_unref(struct df_recset *s)
{
	if (!s || --s->refs)
		return;
	for (size_t g = 0; s->grp && g < s->ngroups; g++)
		free(s->grp[g].v);
	free(s->grp);
	free(s->recs);
	free(s->names);
	free(s->held);
	free(s->wanted);
	for (size_t b = 0; b < s->nfound; b++)
		df_found_unref(s->found[b]);
	free(s->found);
	free(s);
}

void df_found_unref(struct df_found *f)
{
	if (!f || --f->refs)
		return;
	for (size_t i = 0; i < f->n; i++)
		df_record_cfg_clear(&f->v[i]);
	free(f->v);
	for (size_t i = 0; i < f->nheld; i++)
		free(f->held[i].fqdn);
	free(f->held);
	for (size_t i = 0; i < f->nmsgs; i++)
		free(f->msgs[i]);
	free(f->msgs);
	free(f->sig);
	free(f);
}
