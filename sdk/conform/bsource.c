/*
 * The backend checks of the ops appended to ABI 2: prepare() (a pass's
 * snapshot must not change any answer) and discover() (well-formed,
 * stable records).
 */
#include "conform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A placement answer as one comparable string: the sorted addresses and
 * DNS names of every placement. */
struct answer {
	char **items;
	size_t n;
};

static void add(struct answer *a, const char *s)
{
	char **v = realloc(a->items, (a->n + 1) * sizeof *v);
	if (!v)
		return;
	a->items = v;
	a->items[a->n++] = strdup(s ? s : "(null)");
}

static int on_place(void *ctx, const struct dnsfollow_placement *p)
{
	struct answer *a = ctx;
	for (size_t i = 0; i < p->naddrs; i++)
		add(a, p->addrs[i]);
	if (DNSFOLLOW_HAS(p, struct dnsfollow_placement, dns_name))
		add(a, p->dns_name);
	return 0;
}

static int by_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void answer_text(struct answer *a, int rc, char *buf, size_t cap)
{
	if (a->n)
		qsort(a->items, a->n, sizeof *a->items, by_str);
	size_t used = (size_t)snprintf(buf, cap, "rc %d:", rc < 0 ? -1 : rc);
	for (size_t i = 0; i < a->n; i++) {
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, " %s", a->items[i]);
		free(a->items[i]);
	}
	free(a->items);
	memset(a, 0, sizeof *a);
}

static void ask(struct dfc *c, const struct dnsfollow_query *q, char *buf, size_t cap)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	struct answer a = {0};
	dfc_reset(c);
	int rc = ops->resolve(c->self, q, on_place, &a);
	answer_text(&a, rc, buf, cap);
}

static void check_prepare(struct dfc *c)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	const char *desc = "resolve() after prepare() answers as resolve() alone, and prepare(NULL, 0) ends the pass";
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, prepare)) {
		dfc_skip(c, "no prepare op", "%s", desc);
		return;
	}
	struct dnsfollow_query q1 = {sizeof q1, c->service ? c->service : "dfc-service",
				     c->rec_kv, c->rec_nkv};
	struct dnsfollow_query q2 = {sizeof q2, "dfc-no-such-service", c->rec_kv, c->rec_nkv};
	const struct dnsfollow_query *qs[] = {&q1, &q2};
	char alone[2][1024], snap[2][1024], after[1024], e[300];
	ask(c, &q1, alone[0], sizeof alone[0]);
	ask(c, &q2, alone[1], sizeof alone[1]);
	dfc_reset(c);
	int rc = ops->prepare(c->self, qs, 2);
	if (rc < 0)
		dfc_diag("prepare: %d %s", rc, dfc_error_text(c, e, sizeof e));
	ask(c, &q1, snap[0], sizeof snap[0]);
	ask(c, &q2, snap[1], sizeof snap[1]);
	int rc_end = ops->prepare(c->self, NULL, 0);
	ask(c, &q1, after, sizeof after);
	int same = rc < 0 || (strcmp(alone[0], snap[0]) == 0 && strcmp(alone[1], snap[1]) == 0);
	if (!same)
		dfc_diag("alone: [%s] [%s]; after prepare: [%s] [%s]", alone[0], alone[1],
			 snap[0], snap[1]);
	if (strcmp(after, alone[0]) != 0)
		dfc_diag("after prepare(NULL, 0): [%s], alone: [%s]", after, alone[0]);
	dfc_ok(c, same && rc_end == 0 && strcmp(after, alone[0]) == 0, "%s", desc);
}

struct found {
	size_t n;
	char why[300];
	char **sig;
};

static int on_found(void *ctx, const struct dnsfollow_discovered *d)
{
	struct found *f = ctx;
	char line[2048];
	if (!f->why[0] &&
	    d->struct_size < offsetof(struct dnsfollow_discovered, nkeys) + sizeof d->nkeys)
		snprintf(f->why, sizeof f->why, "discovered struct_size %zu too small", d->struct_size);
	else if (!f->why[0] && (!d->source || !*d->source || !d->name || !*d->name))
		snprintf(f->why, sizeof f->why, "a discovered record without source or name");
	else if (!f->why[0] && d->nkeys && !d->keys)
		snprintf(f->why, sizeof f->why, "nkeys %zu but keys is NULL", d->nkeys);
	if (f->why[0])
		return 0;
	size_t used = (size_t)snprintf(line, sizeof line, "%s %s %s", d->source, d->name,
				       d->service ? d->service : "");
	for (size_t i = 0; i < d->nkeys && used < sizeof line; i++) {
		if (!d->keys[i].key || !d->keys[i].value) {
			snprintf(f->why, sizeof f->why, "key %zu of %s has no name or value", i, d->name);
			return 0;
		}
		used += (size_t)snprintf(line + used, sizeof line - used, " %s=%s",
					 d->keys[i].key, d->keys[i].value);
	}
	char **v = realloc(f->sig, (f->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	f->sig = v;
	f->sig[f->n++] = strdup(line);
	return 0;
}

static int discover(struct dfc *c, struct found *f, char *text, size_t cap)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	memset(f, 0, sizeof *f);
	dfc_reset(c);
	int rc = ops->discover(c->self, on_found, f);
	char e[300];
	if (rc < 0 && !dfc_error_text(c, e, sizeof e)[0]) {
		dfc_diag("discover returned %d without an error text", rc);
		c->missing_error_text++;
	}
	if (f->n)
		qsort(f->sig, f->n, sizeof *f->sig, by_str);
	size_t used = (size_t)snprintf(text, cap, "rc %d:", rc < 0 ? -1 : rc);
	for (size_t i = 0; i < f->n; i++) {
		if (used < cap)
			used += (size_t)snprintf(text + used, cap - used, " | %s", f->sig[i]);
		free(f->sig[i]);
	}
	free(f->sig);
	return rc;
}

static void check_discover(struct dfc *c)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	const char *desc = "discover() reports well-formed records (source, name, keys), the same twice in a row";
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, discover)) {
		dfc_skip(c, "no discover op", "%s", desc);
		return;
	}
	struct found f1, f2;
	char t1[8192], t2[8192];
	int rc1 = discover(c, &f1, t1, sizeof t1);
	int rc2 = discover(c, &f2, t2, sizeof t2);
	if (f1.why[0] || f2.why[0])
		dfc_diag("%s", f1.why[0] ? f1.why : f2.why);
	dfc_diag("discover: %d, %zu record(s)", rc1, f1.n);
	if (rc1 == 0 && rc2 == 0 && strcmp(t1, t2) != 0)
		dfc_diag("first: %s\nsecond: %s", t1, t2);
	dfc_ok(c, !f1.why[0] && !f2.why[0] && (rc1 < 0 || rc2 < 0 || strcmp(t1, t2) == 0),
	       "%s", desc);
}

void dfc_backend_source_checks(struct dfc *c)
{
	check_prepare(c);
	check_discover(c);
}
