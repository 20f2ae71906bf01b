/*
 * Calling a provider the way the core does, and keeping what it answers:
 * every read() is checked against the form rules of provider.h, every
 * apply() gets `old`, results, groups and options like the core's, and
 * every failing op must leave an error text.
 */
#include "conform.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dfc_rr_free(struct dfc_rr *rr)
{
	for (size_t i = 0; rr && i < rr->count; i++)
		free(rr->rdata[i]);
	if (rr) {
		free(rr->rdata);
		free(rr->name);
		memset(rr, 0, sizeof *rr);
	}
}

void dfc_read_free(struct dfc_read *r)
{
	for (size_t i = 0; i < r->n; i++)
		dfc_rr_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* The form rules of provider.h for one emitted RRset, or NULL. */
static const char *malformed(const struct dnsfollow_rrset *rr)
{
	if (!rr->name)
		return "an RRset without a name";
	size_t len = strlen(rr->name);
	if (len && rr->name[len - 1] == '.')
		return "a name with a trailing dot";
	for (const char *p = rr->name; *p; p++)
		if (isupper((unsigned char)*p))
			return "a name with upper-case letters";
	if (rr->type == 0)
		return "an RRset of type 0";
	if (rr->count == 0)
		return "an empty RRset (absent RRsets are not reported)";
	if (!rr->rdata)
		return "an RRset without data";
	for (size_t i = 0; i < rr->count; i++)
		if (!rr->rdata[i])
			return "a NULL datum";
	return NULL;
}

static int copy_rr(struct dfc_rr *to, const struct dnsfollow_rrset *rr)
{
	memset(to, 0, sizeof *to);
	to->name = strdup(rr->name);
	to->type = rr->type;
	to->ttl = rr->ttl;
	to->rdata = calloc(rr->count ? rr->count : 1, sizeof *to->rdata);
	if (!to->name || !to->rdata)
		return -ENOMEM;
	for (; to->count < rr->count; to->count++)
		if (!(to->rdata[to->count] = strdup(rr->rdata[to->count])))
			return -ENOMEM;
	return 0;
}

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct dfc_read *r = ctx;
	const char *why = malformed(rr);
	if (why) {
		if (!r->malformed)
			snprintf(r->why, sizeof r->why, "%s (%s)", why,
				 rr->name ? rr->name : "?");
		r->malformed = 1;
		return 0;
	}
	struct dfc_rr *v = realloc(r->v, (r->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	r->v = v;
	int rc = copy_rr(&r->v[r->n], rr);
	r->n++;
	return rc;
}

/* A failing op must say why through host->error(). */
static void want_error_text(struct dfc *c, int rc, const char *op)
{
	char buf[512];
	if (rc < 0 && !dfc_error_text(c, buf, sizeof buf)[0]) {
		if (!c->missing_error_text)
			dfc_diag("%s returned %d without an error text", op, rc);
		c->missing_error_text++;
	}
}

int dfc_read_keys(struct dfc *c, const char *zone,
		  const struct dnsfollow_rrkey *keys, size_t n,
		  struct dfc_read *out)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	memset(out, 0, sizeof *out);
	dfc_reset(c);
	int rc = ops->read(c->self, zone, keys, n, on_rrset, out);
	want_error_text(c, rc, "read");
	if (out->malformed) {
		if (!c->malformed_reads)
			dfc_diag("read() emitted %s", out->why);
		c->malformed_reads++;
	}
	return rc;
}

int dfc_has_markers(const struct dfc *c)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	return DNSFOLLOW_HAS(ops, struct dnsfollow_provider_ops, markers);
}

int dfc_markers(struct dfc *c, const char *zone, struct dfc_read *out)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	memset(out, 0, sizeof *out);
	dfc_reset(c);
	int rc = ops->markers(c->self, zone, on_rrset, out);
	want_error_text(c, rc, "markers");
	if (out->malformed) {
		if (!c->malformed_reads)
			dfc_diag("markers() emitted %s", out->why);
		c->malformed_reads++;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (dfc_in_zone(out->v[i].name, zone))
			continue;
		if (!c->markers_outside)
			snprintf(c->markers_outside_why, sizeof c->markers_outside_why,
				 "%s reported for zone %s", out->v[i].name, zone);
		c->markers_outside++;
	}
	return rc;
}

const struct dfc_rr *dfc_find(const struct dfc_read *r, const char *name,
			      uint16_t type)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == type && strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

int dfc_get(struct dfc *c, const char *name, uint16_t type, struct dfc_rr *out)
{
	struct dnsfollow_rrkey k = {name, type};
	struct dfc_read r;
	memset(out, 0, sizeof *out);
	int rc = dfc_read_keys(c, c->zone, &k, 1, &r);
	const struct dfc_rr *rr = rc == 0 ? dfc_find(&r, name, type) : NULL;
	if (rr) {
		*out = *rr; /* moved out of r */
		memset((struct dfc_rr *)rr, 0, sizeof *rr);
	}
	dfc_read_free(&r);
	return rc < 0 ? rc : rr != NULL;
}

/* Results must stay preset or be 0 / negative (provider.h). */
static void check_results(struct dfc *c, const int *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i] <= 0 || res[i] == DNSFOLLOW_RESULT_UNKNOWN)
			continue;
		if (!c->bad_results)
			snprintf(c->bad_results_why, sizeof c->bad_results_why,
				 "results[%zu] = %d", i, res[i]);
		c->bad_results++;
	}
}

/* `old` of every change, as the core passes it: what read() says now. */
static int read_old(struct dfc *c, const char *zone, const struct dfc_change *ch,
		    size_t n, struct dfc_read *now)
{
	struct dnsfollow_rrkey *keys = calloc(n ? n : 1, sizeof *keys);
	memset(now, 0, sizeof *now);
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct dnsfollow_rrkey){ch[i].name, ch[i].type};
	int rc = dfc_read_keys(c, zone, keys, n, now);
	free(keys);
	return rc;
}

/* The changeset's arrays, allocated together. */
struct cs_mem {
	struct dnsfollow_change *v;
	struct dnsfollow_rrset *olds;
	uint32_t *groups;
	struct dnsfollow_options *opts;
	int *res;
};

static int cs_alloc(struct cs_mem *m, size_t n)
{
	m->v = calloc(n + 1, sizeof *m->v);
	m->olds = calloc(n + 1, sizeof *m->olds);
	m->groups = calloc(n + 1, sizeof *m->groups);
	m->opts = calloc(n + 1, sizeof *m->opts);
	m->res = calloc(n + 1, sizeof *m->res);
	return m->v && m->olds && m->groups && m->opts && m->res ? 0 : -ENOMEM;
}

static void cs_free(struct cs_mem *m)
{
	free(m->v);
	free(m->olds);
	free(m->groups);
	free(m->opts);
	free(m->res);
}

static void fill_changeset(struct dfc *c, const struct dfc_change *ch, size_t n,
			   const struct dfc_read *now, struct cs_mem *m)
{
	for (size_t i = 0; i < n; i++) {
		const struct dfc_rr *old = dfc_find(now, ch[i].name, ch[i].type);
		m->v[i].op = ch[i].op;
		m->v[i].rrset = (struct dnsfollow_rrset){ch[i].name, ch[i].type, ch[i].ttl,
							 ch[i].count, ch[i].rdata};
		if (old) {
			m->olds[i] = (struct dnsfollow_rrset){old->name, old->type, old->ttl,
							      old->count,
							      (const char *const *)old->rdata};
			m->v[i].old = &m->olds[i];
		}
		m->groups[i] = ch[i].group;
		m->opts[i] = (struct dnsfollow_options){c->rec_kv, c->rec_nkv};
		m->res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	}
}

int dfc_apply(struct dfc *c, const char *zone, const struct dfc_change *ch,
	      size_t n, int *refused, int *results)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	struct dfc_read now;
	struct cs_mem m;
	/* An unknown zone fails this read too: apply() is asked all the same,
	 * with no `old`. */
	(void)read_old(c, zone, ch, n, &now);
	int rc = cs_alloc(&m, n);
	if (rc == 0) {
		fill_changeset(c, ch, n, &now, &m);
		struct dnsfollow_changeset cs = {sizeof cs, zone, m.v, n, m.res, m.groups, m.opts};
		dfc_reset(c);
		rc = ops->apply(c->self, &cs);
		want_error_text(c, rc, "apply");
		check_results(c, m.res, n);
	}
	if (refused) {
		*refused = rc < 0;
		for (size_t i = 0; m.res && i < n; i++)
			*refused |= m.res[i] < 0;
	}
	if (results && m.res)
		memcpy(results, m.res, n * sizeof *m.res);
	cs_free(&m);
	dfc_read_free(&now);
	return rc;
}

int dfc_set(struct dfc *c, const char *name, uint16_t type, uint32_t ttl,
	    const char *const *rdata, size_t count)
{
	struct dfc_change ch = {DNSFOLLOW_CHANGE_SET, name, type, ttl, count, rdata, 0};
	int refused = 0;
	int rc = dfc_apply(c, c->zone, &ch, 1, &refused, NULL);
	return rc < 0 ? rc : refused ? -EPROTO : 0;
}

int dfc_delete(struct dfc *c, const char *name, uint16_t type)
{
	struct dfc_change ch = {DNSFOLLOW_CHANGE_DELETE, name, type, 0, 0, NULL, 0};
	int refused = 0;
	int rc = dfc_apply(c, c->zone, &ch, 1, &refused, NULL);
	return rc < 0 ? rc : refused ? -EPROTO : 0;
}
