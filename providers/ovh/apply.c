/*
 * apply(): turn SET/DELETE of whole RRsets into OVH's per-record calls.
 *
 * For a SET, records already holding a wanted value stay (a PUT fixes only
 * their TTL if needed); the other existing records are rewritten in place
 * with PUT (fewer calls than DELETE + POST, and the id survives); what is
 * still missing is created with POST and what is left over is deleted.
 * The calls of a zone run concurrently, in up to four phases (markers
 * set, records deleted, records set, markers deleted); then one refresh publishes them, only if
 * at least one write went through or may have (OVH stages changes until
 * then). A refresh that fails is owed to the zone (refresh.c). The first
 * failure is the one reported, once, and each change gets its own result
 * in the changeset (applied, or the error of its failed write).
 */
#include "ovh.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum wkind { W_POST, W_PUT, W_DEL };

/* What one write call is about, to update the cache afterwards. */
struct wop {
	enum wkind kind;
	size_t change; /* index in the changeset */
	const struct ovh_key *key;
	uint64_t id;
	char *target; /* normalised; owned */
	uint32_t ttl;
};

struct plan {
	const struct dnsfollow_host *h;
	size_t cur; /* the change being planned */
	struct ovh_req *reqs;
	struct wop *ops;
	size_t n, cap;
};

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->ops[i].target);
	ovh_reqs_free(p->reqs, p->n);
	free(p->ops);
}

static char *body_for(enum wkind kind, const struct ovh_key *k,
		      const char *type, const char *target, uint32_t ttl)
{
	/* A CNAME target without its final dot would be taken as relative
	 * to the zone. */
	char *abs = NULL;
	if (target && k->type == DNSFOLLOW_TYPE_CNAME) {
		if (asprintf(&abs, "%s.", target) < 0)
			return NULL;
		target = abs;
	}
	json_t *j = kind == W_POST
		? json_pack("{s:s,s:s,s:s,s:I}", "fieldType",
			    type, "subDomain", k->sub,
			    "target", target, "ttl", (json_int_t)ttl)
		: target ? json_pack("{s:s,s:I}", "target", target, "ttl",
				     (json_int_t)ttl)
			 : json_pack("{s:I}", "ttl", (json_int_t)ttl);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	free(abs);
	return s;
}

/* jansson refuses text that is not UTF-8: tell that apart from ENOMEM. */
static int utf8_ok(const char *s)
{
	json_t *j = json_string(s);
	json_decref(j);
	return j != NULL;
}

/* Queue one write. `target` NULL on a TTL-only PUT and on DELETE. */
static int plan_add(struct plan *p, const char *zone, enum wkind kind,
		    const struct ovh_key *k, uint64_t id, const char *target,
		    uint32_t ttl)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct ovh_req *r = realloc(p->reqs, cap * sizeof *r);
		if (r)
			p->reqs = r;
		struct wop *o = realloc(p->ops, cap * sizeof *o);
		if (o)
			p->ops = o;
		if (!r || !o)
			return -ENOMEM;
		p->cap = cap;
	}
	struct ovh_req *r = &p->reqs[p->n];
	struct wop *op = &p->ops[p->n];
	memset(r, 0, sizeof *r);
	*op = (struct wop){.kind = kind, .change = p->cur, .key = k, .id = id,
			   .ttl = ttl};
	p->n++;
	r->method = kind == W_POST ? "POST" : kind == W_PUT ? "PUT" : "DELETE";
	r->idempotent = kind != W_POST;
	r->path = kind == W_POST ? ovh_path_zone(p->h, zone, "record")
				 : ovh_path_record(p->h, zone, id);
	if (kind != W_DEL)
		r->body = body_for(kind, k, p->h->type_name(k->type), target,
				   ttl);
	op->target = target ? strdup(target) : NULL;
	if (!r->path || (kind != W_DEL && !r->body) || (target && !op->target))
		return -ENOMEM;
	return 0;
}

static int set_rrset(struct plan *p, const char *zone, const struct ovh_key *k,
		     struct ovh_rec *e, size_t ne, char **d, size_t nd,
		     uint32_t ttl)
{
	char used_e[ne + 1], used_d[nd + 1];
	memset(used_e, 0, sizeof used_e);
	memset(used_d, 0, sizeof used_d);
	int rc = 0;
	for (size_t i = 0; i < nd; i++)
		for (size_t j = 0; j < ne && !used_d[i]; j++) {
			if (used_e[j] || strcmp(e[j].target, d[i]) != 0)
				continue;
			used_d[i] = used_e[j] = 1;
			if (e[j].ttl != ttl)
				rc = rc ? rc : plan_add(p, zone, W_PUT, k, e[j].id,
							NULL, ttl);
		}
	size_t j = 0;
	for (size_t i = 0; i < nd && rc == 0; i++) {
		if (used_d[i])
			continue;
		while (j < ne && used_e[j])
			j++;
		if (j < ne) {
			used_e[j] = 1;
			rc = plan_add(p, zone, W_PUT, k, e[j].id, d[i], ttl);
		} else {
			rc = plan_add(p, zone, W_POST, k, 0, d[i], ttl);
		}
	}
	for (j = 0; j < ne && rc == 0; j++)
		if (!used_e[j])
			rc = plan_add(p, zone, W_DEL, k, e[j].id, NULL, 0);
	return rc;
}

/* Plan the writes of one change from what the cache says exists. */
static int plan_change(struct ovh *o, struct plan *p, const char *zone,
		       const struct ovh_key *k, const struct dnsfollow_change *c)
{
	struct ovh_rec *e;
	long ne = ovh_cache_list(&o->cache, zone, k->name, k->type, &e);
	if (ne < 0)
		return -ENOMEM;
	size_t nd = c->op == DNSFOLLOW_CHANGE_SET ? c->rrset.count : 0;
	char **d = calloc(nd + 1, sizeof *d);
	int rc = d ? 0 : -ENOMEM;
	size_t m = 0; /* a datum given twice is stored once */
	for (size_t i = 0; i < nd && rc == 0; i++) {
		if (!(d[m] = ovh_target_normalise(o->h, k->type,
						  c->rrset.rdata[i])))
			rc = -ENOMEM; /* check_values() vouched for it */
		size_t j = 0;
		while (rc == 0 && j < m && strcmp(d[j], d[m]) != 0)
			j++;
		if (rc == 0 && j < m) {
			free(d[m]);
			d[m] = NULL;
		} else if (rc == 0) {
			m++;
		}
	}
	if (rc == 0)
		rc = set_rrset(p, zone, k, e, (size_t)ne, d, m, c->rrset.ttl);
	for (size_t i = 0; d && i < m; i++)
		free(d[i]);
	free(d);
	ovh_recs_free(e, (size_t)ne);
	return rc;
}

/* The cache must know the records read() saw; fetch keys it lost (after
 * an error, or a restart between read and apply). */
static int refill(struct ovh *o, const char *zone, struct ovh_key *k,
		  const struct dnsfollow_change *c, size_t n)
{
	struct ovh_key *miss = calloc(n ? n : 1, sizeof *miss);
	if (!miss)
		return o->h->error(o->h, -ENOMEM, "out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct ovh_rec *e;
		long ne = ovh_cache_list(&o->cache, zone, k[i].name, k[i].type,
					 &e);
		if (ne >= 0)
			ovh_recs_free(e, (size_t)ne);
		if (ne != (long)(c[i].old ? c[i].old->count : 0)) {
			miss[m] = k[i];
			miss[m].ids = NULL;
			miss[m++].nids = 0;
		}
	}
	int rc = m ? ovh_keys_fetch(o, zone, miss, m) : 0;
	ovh_keys_free(miss, m);
	return rc;
}

/* What the writes of a zone did, to decide about the refresh and what to
 * report. host->http() sets the error text itself when a transport fails,
 * so a report made before the refresh could be overwritten by it: the
 * first failure is kept here and reported once, at the end. */
struct outcome {
	size_t wrote;  /* answered 2xx */
	size_t unsure; /* failed, but an attempt may have been carried out */
	size_t late;   /* of those, unanswered ones the server may still do */
	struct ovh_req fail; /* rc, err and cred_refused of the first failure */
};

static void note(struct outcome *out, int rc, int cred, const char *err)
{
	if (out->fail.rc != 0 || rc == 0)
		return;
	out->fail.rc = rc;
	out->fail.cred_refused = cred;
	out->fail.err = err ? strdup(err) : NULL; /* NULL: "out of memory" */
}

/* A 404 on a write is an answer: fine for a DELETE, a reason to read
 * again for a PUT. */
static void judge_404(struct ovh_req *r, const struct wop *op)
{
	if (r->rc == -ENOENT && op->kind == W_DEL)
		r->rc = 0; /* already gone: fine */
	if (r->rc == -ENOENT) {
		r->rc = -EAGAIN;
		ovh_req_set_err(r, "record vanished meanwhile; will read "
				"again");
	}
}

/* The cache after a successful write. */
static void remember_write(struct ovh *o, const char *zone,
			   const struct ovh_req *r, const struct wop *op)
{
	if (op->kind == W_DEL) {
		ovh_cache_del(&o->cache, zone, op->id);
		return;
	}
	json_t *jid = json_object_get(r->json, "id");
	uint64_t id = op->kind == W_POST && json_is_integer(jid)
			      ? (uint64_t)json_integer_value(jid)
			      : op->id;
	struct ovh_rec *old;
	long ne = ovh_cache_list(&o->cache, zone, op->key->name, op->key->type,
				 &old);
	char *target = op->target;
	for (long j = 0; !target && j < ne; j++)
		if (old[j].id == id)
			target = old[j].target;
	struct ovh_rec rec = {.zone = (char *)zone,
			      .name = (char *)op->key->name,
			      .type = op->key->type, .id = id, .ttl = op->ttl,
			      .target = target, .stamp_ms = o->h->now_ms()};
	if (id && target)
		ovh_cache_put(&o->cache, &rec);
	else /* a POST answer without id: learn it next read */
		ovh_cache_forget(&o->cache, zone, op->key->name, op->key->type);
	if (ne >= 0)
		ovh_recs_free(old, (size_t)ne);
}

/* Update the cache from the write outcomes and count them. */
static void settle(struct ovh *o, const char *zone, struct plan *p,
		   struct outcome *out)
{
	for (size_t i = 0; i < p->n; i++) {
		struct ovh_req *r = &p->reqs[i];
		if (!r->done)
			continue;
		judge_404(r, &p->ops[i]);
		if (r->status >= 200 && r->status < 300)
			out->wrote++;
		else if (r->maybe_applied)
			out->unsure++;
		if (r->rc != 0 && r->maybe_applied == OVH_MAYBE_LATER)
			out->late++;
		if (r->rc != 0)
			ovh_cache_forget(&o->cache, zone, p->ops[i].key->name,
					 p->ops[i].key->type);
		else
			remember_write(o, zone, r, &p->ops[i]);
	}
	const struct ovh_req *w = ovh_worst_req(p->reqs, p->n);
	if (w)
		note(out, w->rc, w->cred_refused, w->err);
}

/* One refresh for what the writes staged. A write that got no answer may
 * still land after it: the zone then owes one more, sent by its next
 * read. */
static int publish(struct ovh *o, const char *zone, struct outcome *out)
{
	char *err;
	int cred;
	int rc = ovh_refresh(o, zone, &err, &cred);
	if (rc == 0 && out->late && ovh_unpublished_mark(o, zone) != 0)
		rc = -ENOMEM;
	note(out, rc, cred, err);
	free(err);
	return rc;
}

/* Which phase a change belongs to: ownership markers (TXT) are set before
 * and deleted after the records they own, so a pass cut short by a fault
 * never leaves a record that looks unowned (the core would then refuse to
 * touch it again). Other deletions go before other SETs: a name switched
 * from A to CNAME must lose its A before OVH accepts the CNAME. */
#define PHASES 4
static int phase_of(const struct dnsfollow_change *c)
{
	int set = c->op == DNSFOLLOW_CHANGE_SET;
	if (c->rrset.type != DNSFOLLOW_TYPE_TXT)
		return set ? 2 : 1;
	return set ? 0 : 3;
}

/* The id of a record of `k` with `target` that the cache holds but
 * `known[0..nknown)` does not, or 0. */
static uint64_t new_record(struct ovh *o, const char *zone,
			   const struct ovh_key *k, const char *target,
			   const uint64_t *known, size_t nknown)
{
	struct ovh_rec *e;
	long ne = ovh_cache_list(&o->cache, zone, k->name, k->type, &e);
	uint64_t id = 0;
	for (long j = 0; j < ne && !id; j++) {
		int seen = 0;
		for (size_t i = 0; i < nknown; i++)
			seen |= known[i] == e[j].id;
		if (!seen && strcmp(e[j].target, target) == 0)
			id = e[j].id;
	}
	if (ne >= 0)
		ovh_recs_free(e, (size_t)ne);
	return id;
}

/*
 * A POST that failed for a temporary reason (5xx, timeout) may have
 * created its record or not, and sending it again blindly could make a
 * duplicate. So list the key again: a record with our target under an id
 * we did not know is the POST's work (taken as its answer); otherwise it
 * did not land and, if the server answered (it is done with it), is sent
 * once more. A transient fault then costs a few calls, not the pass.
 */
static void recover_post(struct ovh *o, const char *zone, struct ovh_req *r,
			 const struct wop *op)
{
	struct ovh_rec *e;
	long ne = ovh_cache_list(&o->cache, zone, op->key->name, op->key->type, &e);
	if (ne < 0)
		return;
	uint64_t known[ne + 1];
	for (long j = 0; j < ne; j++)
		known[j] = e[j].id;
	ovh_recs_free(e, (size_t)ne);
	struct ovh_key k = *op->key;
	k.ids = NULL;
	k.nids = 0;
	int rc = ovh_keys_fetch(o, zone, &k, 1);
	free(k.ids);
	if (rc != 0)
		return; /* still unsure: the failure stands */
	uint64_t id = new_record(o, zone, op->key, op->target, known, (size_t)ne);
	if (id) {
		o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "%s %s failed but created "
			  "record %" PRIu64 ": taken as its answer", r->method,
			  r->path, id);
		json_decref(r->json);
		r->json = json_pack("{s:I}", "id", (json_int_t)id);
		r->rc = 0;
		r->status = 200;
		r->maybe_applied = 0;
		return;
	}
	/* Unanswered (a timeout): the server may still be working on it, so
	 * the record may yet appear; sending it again could then make two. */
	if (r->maybe_applied == OVH_MAYBE_LATER)
		return;
	o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "%s %s did not land: sending it "
		  "again", r->method, r->path);
	r->rc = 0;
	r->status = 0;
	r->maybe_applied = 0;
	free(r->err);
	r->err = NULL;
	ovh_call(o, r);
}

/* What each change of a phase came to: a change whose writes all went
 * through (or that needed none) is applied; its first failed write names
 * its error; one with a write never started (the batch stopped after a
 * permanent error) stays unknown. */
static void phase_results(const struct plan *p,
			  const struct dnsfollow_change *changes, size_t n,
			  int phase, int *res)
{
	for (size_t i = 0; i < n; i++)
		if (phase_of(&changes[i]) == phase)
			res[i] = 0;
	for (size_t j = 0; j < p->n; j++) {
		const struct ovh_req *r = &p->reqs[j];
		size_t c = p->ops[j].change;
		if (!r->done && res[c] == 0)
			res[c] = DNSFOLLOW_RESULT_UNKNOWN;
		else if (r->done && r->rc != 0 && res[c] >= 0)
			res[c] = r->rc;
	}
}

/* Plan and run the writes of one phase. */
static int run_phase(struct ovh *o, const char *zone, struct ovh_key *k,
		     const struct dnsfollow_change *changes, size_t n,
		     int phase, struct outcome *out, int *res)
{
	struct plan p = {.h = o->h};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (phase_of(&changes[i]) == phase) {
			p.cur = i;
			rc = plan_change(o, &p, zone, &k[i], &changes[i]);
		}
	note(out, rc, 0, "out of memory");
	if (rc == 0 && p.n > 0) {
		ovh_batch(o, p.reqs, p.n);
		for (size_t i = 0; i < p.n; i++)
			if (p.ops[i].kind == W_POST && p.reqs[i].done &&
			    dnsfollow_err_is_temporary(p.reqs[i].rc))
				recover_post(o, zone, &p.reqs[i], &p.ops[i]);
		settle(o, zone, &p, out);
	}
	if (rc == 0)
		phase_results(&p, changes, n, phase, res);
	plan_free(&p);
	return out->fail.rc;
}

/*
 * The writes of a zone in four phases over all its groups at once (so
 * max_inflight calls run in parallel), stopping after the first phase
 * in which a write failed. Groups stay whole where it matters: a marker
 * is set before, and deleted after, the records it owns, so a stop
 * never leaves a record without its marker; per-change results tell the
 * core which changes went through, and it applies the other groups
 * again without the failing one.
 */
static int apply_keys(struct ovh *o, const char *zone, struct ovh_key *k,
		      const struct dnsfollow_change *changes, size_t n,
		      int *res)
{
	struct outcome out = {0};
	int rc = ovh_unpublished_flush(o, zone);
	if (rc == 0)
		rc = refill(o, zone, k, changes, n);
	if (rc != 0)
		return rc; /* reported, and no call made since */
	for (int phase = 0; phase < PHASES && out.fail.rc == 0; phase++)
		run_phase(o, zone, k, changes, n, phase, &out, res);
	/* Publish what went through even when something failed, so OVH's
	 * staged state never drifts from what we believe. */
	int published = 1;
	if (out.wrote || out.unsure)
		published = publish(o, zone, &out) == 0;
	/* What the cache holds now is our guess of the zone: the next read
	 * fetches it again (zone.c), whatever the serial says. */
	if (out.wrote || out.unsure || out.fail.rc)
		ovh_zone_stale(o, zone);
	/* Staged but not published: applied only once the refresh the
	 * zone now owes goes through. */
	for (size_t i = 0; i < n && !published; i++)
		if (res[i] == 0)
			res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	o->h->log(o->h, DNSFOLLOW_LOG_DEBUG, "zone %s: %zu record write(s) "
		  "applied, %zu uncertain, refresh %s", zone, out.wrote,
		  out.unsure, out.wrote || out.unsure ? "sent" : "not needed");
	rc = out.fail.rc ? ovh_report(o, &out.fail) : 0;
	ovh_req_clear(&out.fail);
	return rc;
}

/* Refuse what OVH would refuse, before any call: a bad value must not
 * leave the zone half-written. */
static int check_values(struct ovh *o, const struct ovh_key *k,
			const struct dnsfollow_change *c)
{
	size_t nd = c->op == DNSFOLLOW_CHANGE_SET ? c->rrset.count : 0;
	for (size_t i = 0; i < nd; i++) {
		char *v = ovh_target_normalise(o->h, k->type, c->rrset.rdata[i]);
		int utf8 = v && utf8_ok(v);
		free(v);
		if (!v)
			return o->h->error(o->h, -EINVAL, "%s %s: bad value "
					   "\"%s\"", k->name,
					   o->h->type_name(k->type),
					   c->rrset.rdata[i]);
		if (!utf8)
			return o->h->error(o->h, -EINVAL, "%s %s: value is not "
					   "UTF-8 text", k->name,
					   o->h->type_name(k->type));
	}
	return 0;
}

/* Every change understood and its values acceptable; the first that is
 * not gets its error as result, and nothing is written. */
static int check_changes(struct ovh *o, const char *zone, struct ovh_key *k,
			 const struct dnsfollow_change *changes, size_t n,
			 int *res)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (changes[i].op != DNSFOLLOW_CHANGE_SET &&
		    changes[i].op != DNSFOLLOW_CHANGE_DELETE)
			rc = o->h->error(o->h, -EINVAL, "unknown change op %u",
					 changes[i].op);
		else
			rc = ovh_key_init(o, &k[i], zone, changes[i].rrset.name,
					  changes[i].rrset.type);
		if (rc == 0)
			rc = check_values(o, &k[i], &changes[i]);
		if (rc != 0)
			res[i] = rc;
	}
	return rc ? rc : ovh_check_cname(o, zone, k, changes, n, res);
}

int ovh_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct ovh *o = self;
	size_t n = cs->n;
	struct ovh_key *k = calloc(n ? n : 1, sizeof *k);
	int *res = malloc((n ? n : 1) * sizeof *res);
	if (!k || !res) {
		free(k);
		free(res);
		return o->h->error(o->h, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		res[i] = DNSFOLLOW_RESULT_UNKNOWN;
	int rc = check_changes(o, cs->zone, k, cs->changes, n, res);
	if (rc == 0)
		rc = apply_keys(o, cs->zone, k, cs->changes, n, res);
	if (DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		memcpy(cs->results, res, n * sizeof *res);
	ovh_keys_free(k, n);
	free(res);
	return rc;
}
