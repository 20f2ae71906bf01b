/*
 * The mock provider: zones kept in a JSON file that survives restarts and
 * can be read by people and tests. A product feature for dry runs, demos
 * and plugin tests, with optional fault injection for reliability tests.
 *
 * It behaves as a DNS server does where dnsfollow could otherwise be
 * fooled: a CNAME stands alone at its name (RFC 1034 3.6.2; apply()
 * refuses anything else, as PowerDNS or BIND do), and an RRset is a set
 * (a SET stores each datum once; duplicates a hand edit left are read
 * back as they are, so the core sees them and rewrites the RRset).
 *
 * Records are data: any type is stored under its name (host->type_name)
 * with its data as the core hands it over (TXT as raw text, unquoted).
 *
 * State file (state.c checks it; store.c keeps it parsed and writes it):
 *   {"zones": {ZONE: {"serial": N,
 *                     "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [...],
 *                                              "comment": C}}}}}}
 * ("comment": the record's `comment` option, when it has one.)
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock.h"

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_PATH_("state", DNSFOLLOW_KEY_REQUIRED,
			    "JSON file holding the zones (created on first write)"),
	DNSFOLLOW_KEY_UINT("fail_every", "0", 0, 1000000,
			   "fail every Nth read/apply/markers call temporarily (0: never)"),
	DNSFOLLOW_KEY_UINT("latency_ms", "0", 0, 60000,
			   "sleep this many milliseconds in every read/apply/markers call"),
	DNSFOLLOW_KEY_END,
};

/* Proves a record's provider options reach apply(): stored beside the
 * record's RRsets in the state file. */
static const struct dnsfollow_key record_keys[] = {
	DNSFOLLOW_KEY_STRING("comment", 0, "text stored with the record's RRsets in the state file"),
	DNSFOLLOW_KEY_END,
};

/* Records are data: the mock stores any type under its name (host->
 * type_name, "TYPE<n>" for the rest); these are the ones it offers. */
static const uint16_t types[] = {
	DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_NS, DNSFOLLOW_TYPE_CNAME, 12 /* PTR */,
	15 /* MX */, DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_AAAA, 33 /* SRV */,
	44 /* SSHFP */, 52 /* TLSA */, 64 /* SVCB */, 65 /* HTTPS */, 257 /* CAA */,
	0,
};

static void free_zones(struct mock *m)
{
	for (size_t i = 0; i < m->nzones; i++)
		free(m->zones[i]);
	free(m->zones);
}

static int add_zones(struct mock *m, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		char **v = realloc(m->zones, (m->nzones + 1) * sizeof *v);
		if (!v || !(t = strdup(t))) {
			if (v)
				m->zones = v;
			free(copy);
			return -ENOMEM;
		}
		size_t l = strlen(t);
		if (l && t[l - 1] == '.')
			t[l - 1] = '\0';
		m->zones = v;
		m->zones[m->nzones++] = t;
	}
	free(copy);
	return 0;
}

static void mock_destroy(void *self);

static int mock_create(const struct dnsfollow_host *h,
		       const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	if (!DNSFOLLOW_HOST_HAS(h, read_file) || !DNSFOLLOW_HOST_HAS(h, type_name))
		return h->error(h, -ENOTSUP, "this dnsfollow is too old for the mock provider");
	const char *state = dnsfollow_kv_get(cfg, n, "state");
	if (!state || !*state) /* the core enforces REQUIRED; a test host may not */
		return h->error(h, -EINVAL, "state = FILE is required");
	struct mock *m = calloc(1, sizeof *m);
	if (!m)
		return h->error(h, -ENOMEM, "out of memory");
	m->h = h;
	m->pin = -1;
	/* Typed keys: the core checked the bounds and parsed the numbers. */
	m->fail_every = dnsfollow_kv_num(cfg, n, "fail_every", 0);
	m->latency_ms = dnsfollow_kv_num(cfg, n, "latency_ms", 0);
	const char *zones = dnsfollow_kv_get(cfg, n, "zones");
	int rc = (m->state = strdup(state)) ? 0 : -ENOMEM;
	if (rc == 0 && zones)
		rc = add_zones(m, zones);
	if (rc != 0) {
		mock_destroy(m);
		return h->error(h, rc, "out of memory");
	}
	*self = m;
	return 0;
}

static void mock_destroy(void *self)
{
	struct mock *m = self;
	mock_state_forget(m);
	free_zones(m);
	free(m->state);
	free(m);
}

/* Latency and injected faults, common to every op. */
static int before_call(struct mock *m, const char *op)
{
	m->calls++;
	/* A slow peer, in 50 ms steps so a stopping daemon is not held. */
	int can_stop = DNSFOLLOW_HOST_HAS(m->h, stopping);
	for (uint64_t left = m->latency_ms; left;) {
		uint64_t step = left < 50 ? left : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		left -= step;
		if (can_stop && m->h->stopping(m->h))
			return m->h->error(m->h, -EAGAIN, "%s: gave up waiting: dnsfollow is stopping", op);
	}
	if (m->fail_every && m->calls % m->fail_every == 0)
		return m->h->error(m->h, -EAGAIN, "%s: injected failure (call %llu, fail_every = %llu)",
				   op, (unsigned long long)m->calls,
				   (unsigned long long)m->fail_every);
	return 0;
}

static int serves(const struct mock *m, const char *zone)
{
	for (size_t i = 0; i < m->nzones; i++)
		if (strcmp(m->zones[i], zone) == 0)
			return 1;
	return 0;
}

/* Report one RRset as stored (mock_state_parse() checked its shape),
 * duplicates included: the core must see them to collapse them. */
static int emit_rrset(struct mock *m, const char *name, uint16_t type,
		      json_t *rr, dnsfollow_rrset_cb emit, void *ctx)
{
	json_t *data = json_object_get(rr, "rdata");
	size_t n = json_array_size(data);
	const char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return m->h->error(m->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(data, i));
	struct dnsfollow_rrset out = {name, type,
				      (uint32_t)json_integer_value(json_object_get(rr, "ttl")), n, v};
	int rc = emit(ctx, &out);
	free(v);
	return rc;
}

/* What every op starts with: latency, faults, zone check, the state. */
static int begin(struct mock *m, const char *op, const char *zone, json_t **doc)
{
	int rc = before_call(m, op);
	if (rc)
		return rc;
	if (!serves(m, zone))
		return m->h->error(m->h, -ENOENT, "zone %s is not served (zones = ...)", zone);
	return mock_state_get(m, doc);
}

static int mock_read(void *self, const char *zone,
		     const struct dnsfollow_rrkey *keys_, size_t nkeys,
		     dnsfollow_rrset_cb emit, void *ctx)
{
	struct mock *m = self;
	json_t *doc;
	int rc = begin(m, "read", zone, &doc);
	if (rc)
		return rc;
	json_t *sets = json_object_get(json_object_get(json_object_get(doc, "zones"),
						       zone), "rrsets");
	for (size_t i = 0; i < nkeys && rc == 0; i++) {
		/* Any type: stored under its name ("TYPE<n>" when it has none). */
		const char *t = m->h->type_name(keys_[i].type);
		json_t *rr = json_object_get(json_object_get(sets, keys_[i].name), t);
		if (rr)
			rc = emit_rrset(m, keys_[i].name, keys_[i].type, rr, emit, ctx);
	}
	return rc; /* doc is the store's */
}

/* Whether `name` is `zone` or lies below it. */
static int in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

/* A marker as the core would read it: a TXT RRset holding data at a
 * name in normal form (read() is asked lower-case names and finds only
 * those) starting with "_dnsfollow." inside the zone. A name a hand
 * edit put under the wrong zone is not served there by a DNS server,
 * and an RRset without data does not exist in DNS. */
static int is_marker(struct mock *m, const char *zone, const char *name, json_t *rr)
{
	static const char prefix[] = "_dnsfollow.";
	char norm[256];
	return rr && json_array_size(json_object_get(rr, "rdata")) > 0 &&
	       strncmp(name, prefix, sizeof prefix - 1) == 0 && in_zone(name, zone) &&
	       m->h->name_normalise(name, norm, sizeof norm) == 0 && strcmp(norm, name) == 0;
}

/* Every ownership marker of the zone, from one load of the state (the
 * same file rules as read()). */
static int mock_markers(void *self, const char *zone, dnsfollow_rrset_cb emit, void *ctx)
{
	struct mock *m = self;
	json_t *doc, *byname;
	const char *name;
	int rc = begin(m, "markers", zone, &doc);
	if (rc)
		return rc;
	char t[32]; /* type_name's text is only good until its next call */
	snprintf(t, sizeof t, "%s", m->h->type_name(DNSFOLLOW_TYPE_TXT));
	json_t *sets = json_object_get(json_object_get(json_object_get(doc, "zones"),
						       zone), "rrsets");
	json_object_foreach(sets, name, byname) {
		json_t *rr = json_object_get(byname, t);
		if (rc == 0 && is_marker(m, zone, name, rr))
			rc = emit_rrset(m, name, DNSFOLLOW_TYPE_TXT, rr, emit, ctx);
	}
	return rc; /* doc is the store's */
}

/* The records of a SET as a set: each datum once, in the order given. */
static json_t *set_of(const struct dnsfollow_rrset *rr)
{
	json_t *data = json_array();
	for (size_t i = 0; data && i < rr->count; i++) {
		size_t j = 0;
		while (j < i && strcmp(rr->rdata[j], rr->rdata[i]) != 0)
			j++;
		if (j == i && json_array_append_new(data, json_string(rr->rdata[i])) != 0) {
			json_decref(data);
			return NULL;
		}
	}
	return data;
}

/* Apply one change to the state in memory; `comment` is the record's
 * provider option of that name, or NULL. 0, or -ENOMEM. */
static int apply_one(struct mock *m, json_t *sets, const struct dnsfollow_change *c,
		     const char *comment)
{
	char t[32]; /* type_name's text is only good until its next call */
	snprintf(t, sizeof t, "%s", m->h->type_name(c->rrset.type));
	json_t *byname = json_object_get(sets, c->rrset.name);
	if (c->op == DNSFOLLOW_CHANGE_DELETE) {
		if (byname) {
			json_object_del(byname, t);
			if (json_object_size(byname) == 0)
				json_object_del(sets, c->rrset.name);
		}
		return 0;
	}
	if (!byname) {
		byname = json_object();
		if (!byname || json_object_set_new(sets, c->rrset.name, byname) != 0)
			return -ENOMEM;
	}
	json_t *data = set_of(&c->rrset);
	json_t *rr = json_pack("{s:I,s:o}", "ttl", (json_int_t)c->rrset.ttl, "rdata", data);
	if (!rr || json_object_set_new(byname, t, rr) != 0)
		return -ENOMEM;
	if (comment && json_object_set_new(rr, "comment", json_string(comment)) != 0)
		return -ENOMEM;
	return 0;
}

/* Why the RRsets now at `name` are what a DNS server refuses (a CNAME
 * beside other data, or more than one CNAME record), or NULL. */
static const char *cname_conflict(json_t *sets, const char *name, char *why, size_t cap)
{
	json_t *byname = json_object_get(sets, name);
	json_t *cname = json_object_get(byname, "CNAME");
	size_t nrec = json_array_size(json_object_get(cname, "rdata"));
	if (!cname)
		return NULL;
	if (json_object_size(byname) > 1)
		snprintf(why, cap, "a CNAME cannot stand beside other records at the same name");
	else if (nrec > 1)
		snprintf(why, cap, "a CNAME RRset holds one record, not %zu", nrec);
	else
		return NULL;
	return why;
}

/* Only names the changeset touched are checked. Every SET at a name in
 * conflict is the offending change: its result is -EEXIST; the others
 * stay DNSFOLLOW_RESULT_UNKNOWN, since an atomic refusal applies none.
 * The error text names the first name in conflict. */
static int check_cname(struct mock *m, json_t *sets, const struct dnsfollow_changeset *cs)
{
	char b[300], why[100];
	int rc = 0, has_results = DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results);
	for (size_t i = 0; i < cs->n; i++) {
		const struct dnsfollow_change *c = &cs->changes[i];
		if (c->op != DNSFOLLOW_CHANGE_SET ||
		    !cname_conflict(sets, c->rrset.name, why, sizeof why))
			continue;
		if (has_results)
			cs->results[i] = -EEXIST;
		if (rc == 0)
			rc = m->h->error(m->h, -EEXIST, "%s: %s; changeset refused, nothing written",
					 mock_shown(c->rrset.name, b, sizeof b), why);
	}
	return rc;
}

/* The record's `comment` option of change i, when the core passed any. */
static const char *comment_of(const struct dnsfollow_changeset *cs, size_t i)
{
	if (!DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, options))
		return NULL;
	return dnsfollow_kv_get(cs->options[i].kv, cs->options[i].n, "comment");
}

/* Apply everything to the state in memory, then check it whole; only a
 * state that passed is saved: all or nothing (CAP_ATOMIC). */
static int apply_all(struct mock *m, json_t *z, const struct dnsfollow_changeset *cs)
{
	json_t *sets = json_object_get(z, "rrsets"); /* checked when loaded */
	int rc = 0;
	for (size_t i = 0; i < cs->n && rc == 0; i++)
		rc = apply_one(m, sets, &cs->changes[i], comment_of(cs, i));
	if (rc)
		return m->h->error(m->h, rc, "out of memory");
	rc = check_cname(m, sets, cs);
	if (rc)
		return rc;
	json_int_t serial = json_integer_value(json_object_get(z, "serial"));
	json_object_set_new(z, "serial", json_integer(serial + 1));
	return 0;
}

/* The changes go to a copy of the zone, checked whole; only a zone that
 * passed replaces the stored one and is written: all or nothing. */
static int mock_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct mock *m = self;
	json_t *doc;
	int rc = begin(m, "apply", cs->zone, &doc);
	if (rc)
		return rc;
	json_t *old = json_object_get(json_object_get(doc, "zones"), cs->zone);
	json_t *z = old ? json_deep_copy(old) : json_pack("{s:i,s:{}}", "serial", 0, "rrsets");
	if (!z)
		return m->h->error(m->h, -ENOMEM, "out of memory");
	rc = apply_all(m, z, cs);
	if (rc) {
		json_decref(z);
		return rc;
	}
	rc = mock_state_commit(m, cs->zone, z);
	if (rc == 0 && DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		for (size_t i = 0; i < cs->n; i++)
			cs->results[i] = 0;
	return rc;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_ATOMIC,
	.types = types,
	.read = mock_read,
	.apply = mock_apply,
	.markers = mock_markers,
};

DNSFOLLOW_PROVIDER("mock", "2.0", keys, record_keys, mock_create, mock_destroy, &ops);
