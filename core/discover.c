/*
 * Discovery: every full pass asks each backend with `discover = yes`
 * which records its orchestrator wants, binds them like [record]
 * sections, and makes a new record set when that changed. What is
 * refused is said once (per service and reason), not once per pass. A
 * failed discovery keeps the last answer in force.
 */
#include "reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

struct collect {
	struct df_runtime *rt;
	size_t backend;
	struct df_found *f;
	char **sigs;
	size_t nsigs;
};

/* Messages are kept as "L|WHO|TEXT" (L: the log level) so the set of
 * them can be compared from pass to pass. */
static char *msg_make(int level, const char *who, const char *text)
{
	size_t n = strlen(who ? who : "") + strlen(text) + 8;
	char *m = df_xcalloc(n, 1);
	snprintf(m, n, "%d|%s|%s", level, who ? who : "", text);
	return m;
}

static void msg_add(char ***v, size_t *n, char *m)
{
	*v = df_grow(*v, *n, sizeof **v);
	(*v)[(*n)++] = m;
}

/* A record's identity for comparing two answers of a backend. */
static char *entry_sig(const struct dnsfollow_discovered *d)
{
	size_t n = strlen(d->source) + strlen(d->name) + 8 +
		   strlen(d->service ? d->service : "") +
		   strlen(d->source_name ? d->source_name : "");
	for (size_t i = 0; i < d->nkeys; i++)
		n += strlen(d->keys[i].key ? d->keys[i].key : "") +
		     strlen(d->keys[i].value ? d->keys[i].value : "") + 2;
	char *s = df_xcalloc(n, 1);
	size_t u = (size_t)snprintf(s, n, "%s\x1f%s\x1f%s\x1f%s", d->source, d->name,
				    d->service ? d->service : "",
				    d->source_name ? d->source_name : "");
	for (size_t i = 0; i < d->nkeys; i++)
		u += (size_t)snprintf(s + u, n - u, "\x1f%s=%s",
				      d->keys[i].key ? d->keys[i].key : "",
				      d->keys[i].value ? d->keys[i].value : "");
	return s;
}

/* A name whose labels are wrong is still claimed: not an orphan. */
static void hold(struct df_found *f, const char *name)
{
	char *n = NULL;
	if (df_name_normalise(name, &n) != 0) {
		free(n);
		return;
	}
	f->held = df_grow(f->held, f->nheld, sizeof *f->held);
	f->held[f->nheld++] = (struct df_held){SIZE_MAX, n}; /* any provider */
}

/* The backend judges the record's options too, as it does at start-up
 * for [record] sections (`target = everything` is refused). */
static int check_options(struct df_inst *in, const struct df_record_cfg *r,
			 char *err, size_t len)
{
	const struct dnsfollow_backend_ops *ops = in->plugin->ops;
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, check_query))
		return 0;
	struct dnsfollow_query q = {.struct_size = sizeof q, .service = r->service,
				    .options = r->kv, .noptions = r->nkv};
	df_host_reset(in->host);
	int rc = ops->check_query(in->self, &q);
	if (rc != 0) {
		df_host_error_text(in->host, err, len);
		if (!err[0])
			snprintf(err, len, "%s", strerror(rc < 0 ? -rc : rc));
	}
	return rc;
}

static int on_discovered(void *ctx, const struct dnsfollow_discovered *d)
{
	struct collect *c = ctx;
	struct df_inst *in = &c->rt->backends[c->backend];
	if (!d || d->struct_size < offsetof(struct dnsfollow_discovered, nkeys) + sizeof d->nkeys ||
	    !d->source || !d->name || (d->nkeys && !d->keys)) {
		return in->host->pub.error(&in->host->pub, -EPROTO,
					   "a discovered record without its size, source or name");
	}
	c->sigs = df_grow(c->sigs, c->nsigs, sizeof *c->sigs);
	c->sigs[c->nsigs++] = entry_sig(d);
	struct df_record_cfg r;
	char err[1024], line[1400];
	int rc = df_config_bind_discovered(c->rt->cfg, c->backend, d->name,
					   d->service ? d->service : d->source_name,
					   d->keys, d->nkeys, &r, err, sizeof err);
	const char *who = d->source_name ? d->source_name : d->source;
	if (rc != 0) {
		snprintf(line, sizeof line, "service %s: %s; not written", who, err);
		msg_add(&c->f->msgs, &c->f->nmsgs, msg_make(DNSFOLLOW_LOG_ERROR, in->host->who, line));
		if (rc == DF_DISC_BAD)
			hold(c->f, d->name);
		return 0;
	}
	if (check_options(in, &r, line, sizeof line) != 0) {
		char msg[1600];
		snprintf(msg, sizeof msg, "service %s: %s: %s; not written", who, r.fqdn, line);
		msg_add(&c->f->msgs, &c->f->nmsgs, msg_make(DNSFOLLOW_LOG_ERROR, in->host->who, msg));
		hold(c->f, d->name);
		df_record_cfg_clear(&r);
		return 0;
	}
	r.source = df_strdup(d->source);
	r.source_name = df_strdup(who);
	c->f->v = df_grow(c->f->v, c->f->n, sizeof *c->f->v);
	c->f->v[c->f->n++] = r;
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One backend's answer, or NULL (then *err says why). */
static struct df_found *discover_one(struct df_runtime *rt, size_t b, char *err,
				     size_t len, int *rcp)
{
	struct df_inst *in = &rt->backends[b];
	const struct dnsfollow_backend_ops *ops = in->plugin->ops;
	struct df_found *f = df_xcalloc(1, sizeof *f);
	f->refs = 1;
	struct collect c = {.rt = rt, .backend = b, .f = f};
	df_host_reset(in->host);
	int rc = *rcp = ops->discover(in->self, on_discovered, &c);
	if (rc == 0) {
		if (c.nsigs)
			qsort(c.sigs, c.nsigs, sizeof *c.sigs, by_str);
		f->sig = df_strv_join(c.sigs, c.nsigs, "\x1e");
	} else {
		df_host_error_text(in->host, err, len);
		if (!err[0])
			snprintf(err, len, "%s", strerror(rc < 0 ? -rc : rc));
		df_found_unref(f);
		f = NULL;
	}
	for (size_t i = 0; i < c.nsigs; i++)
		free(c.sigs[i]);
	free(c.sigs);
	return f;
}

/* Log the messages not said last time; remember this time's. Both
 * lists sorted and without repeats (one service may say the same twice
 * in a pass), so the comparison is one walk. */
static void say_once(struct df_runtime *rt, char **now, size_t n)
{
	if (n)
		qsort(now, n, sizeof *now, by_str);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u && strcmp(now[u - 1], now[i]) == 0)
			free(now[i]);
		else
			now[u++] = now[i];
	now[u] = NULL;
	n = u;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		while (k < rt->nsaid && strcmp(rt->said[k], now[i]) < 0)
			k++;
		if (k < rt->nsaid && strcmp(rt->said[k], now[i]) == 0)
			continue;
		char *who = strchr(now[i], '|') + 1, *text = strchr(who, '|');
		*text = '\0';
		df_log(now[i][0] - '0', *who ? who : NULL, "%s", text + 1);
		*text = '|';
	}
	df_strv_free(rt->said);
	rt->said = now;
	rt->nsaid = n;
}

static void build_set(struct df_runtime *rt)
{
	char **msgs = NULL;
	size_t n = 0;
	struct df_recset *s = df_recset_build(rt, rt->found, &msgs, &n);
	df_recset_unref(rt->set);
	rt->set = s;
	__atomic_add_fetch(&rt->set_gen, 1, __ATOMIC_SEQ_CST);
	df_strv_free(rt->build_msgs);
	rt->build_msgs = df_xcalloc(n + 1, sizeof *rt->build_msgs);
	for (size_t i = 0; i < n; i++)
		rt->build_msgs[i] = msgs[i]; /* already "LEVEL||TEXT" */
	free(msgs);
	if (rt->watching)
		df_tell_watch_set(rt);
}

void df_discover(struct df_runtime *rt)
{
	char **now = NULL;
	size_t nnow = 0;
	int changed = 0;
	for (size_t b = 0; b < rt->cfg->nbackends; b++) {
		struct df_inst *in = &rt->backends[b];
		if (!rt->cfg->backends[b].discover || !in->self)
			continue;
		char err[1024] = "", line[1400];
		int rc = 0;
		struct df_found *f = discover_one(rt, b, err, sizeof err, &rc);
		/* Kept per backend: the exit status tells a temporary failure
		 * from a permanent one (no access to the socket). */
		rt->disc_rc[b] = f ? 0 : rc ? rc : -EPROTO;
		if (!f) {
			df_metric_add("dnsfollow_errors_total", 1, "plugin", in->host->who,
				      "class", "discovery", NULL);
			snprintf(line, sizeof line,
				 "cannot discover records: %s; the %zu record(s) found before stay as they are and nothing is deleted as an orphan",
				 err, rt->found[b] ? rt->found[b]->n : (size_t)0);
			msg_add(&now, &nnow, msg_make(DNSFOLLOW_LOG_ERROR, in->host->who, line));
		} else if (rt->found[b] && strcmp(rt->found[b]->sig, f->sig) == 0) {
			df_found_unref(f);
		} else {
			df_found_unref(rt->found[b]);
			rt->found[b] = f;
			changed = 1;
			df_log(DNSFOLLOW_LOG_INFO, in->host->who,
			       "discovered %zu record(s) to publish", f->n);
		}
		for (size_t i = 0; rt->found[b] && i < rt->found[b]->nmsgs; i++)
			msg_add(&now, &nnow, df_strdup(rt->found[b]->msgs[i]));
	}
	if (changed)
		build_set(rt);
	for (char **m = rt->build_msgs; m && *m; m++)
		msg_add(&now, &nnow, df_strdup(*m));
	now = df_grow(now, nnow, sizeof *now);
	now[nnow] = NULL;
	say_once(rt, now, nnow);
}

int df_discovery_status(const struct df_runtime *rt)
{
	int temp = 0, perm = 0;
	for (size_t b = 0; b < rt->cfg->nbackends; b++) {
		int rc = rt->cfg->backends[b].discover ? rt->disc_rc[b] : 0;
		temp |= rc && dnsfollow_err_is_temporary(rc);
		perm |= rc && !dnsfollow_err_is_temporary(rc);
	}
	return perm ? 2 : temp ? 1 : 0;
}

int df_discovery_none(const struct df_runtime *rt)
{
	for (size_t b = 0; b < rt->cfg->nbackends; b++)
		if (rt->cfg->backends[b].discover)
			return 0;
	return 1;
}

int df_discovery_known(const struct df_runtime *rt)
{
	for (size_t b = 0; b < rt->cfg->nbackends; b++)
		if (rt->cfg->backends[b].discover && rt->disc_rc[b] != 0)
			return 0;
	return 1;
}
