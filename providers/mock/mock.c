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
 * State file (state.c):
 *   {"zones": {ZONE: {"serial": N,
 *                     "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [...]}}}}}}
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock.h"

static const struct dnsfollow_key keys[] = {
	{"state", DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_PATH,
	 "JSON file holding the zones (created on first write)"},
	{"fail_every", 0, "fail every Nth read/apply call temporarily (0: never)"},
	{"latency_ms", 0, "sleep this long in every read/apply call"},
	{NULL, 0, NULL},
};

static const char *type_name(uint16_t t)
{
	switch (t) {
	case DNSFOLLOW_TYPE_A: return "A";
	case DNSFOLLOW_TYPE_AAAA: return "AAAA";
	case DNSFOLLOW_TYPE_TXT: return "TXT";
	case DNSFOLLOW_TYPE_CNAME: return "CNAME";
	case DNSFOLLOW_TYPE_NS: return "NS";
	default: return NULL;
	}
}

static int parse_ulong(const struct dnsfollow_host *h, const char *key,
		       const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long n = v && *v >= '0' && *v <= '9' ? strtoul(v, &end, 10) : 0;
	if (!v || *v < '0' || *v > '9' || errno || *end || n > max)
		return h->error(h, -EINVAL, "%s must be a whole number up to %lu, not '%s'",
				key, max, v ? v : "");
	*out = n;
	return 0;
}

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

static int mock_create(const struct dnsfollow_host *h,
		       const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	struct mock *m = calloc(1, sizeof *m);
	if (!m)
		return h->error(h, -ENOMEM, "out of memory");
	m->h = h;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *k = cfg[i].key, *v = cfg[i].value;
		if (strcmp(k, "state") == 0)
			rc = (m->state = strdup(v)) ? 0 : -ENOMEM;
		else if (strcmp(k, "zones") == 0)
			rc = add_zones(m, v);
		else if (strcmp(k, "fail_every") == 0)
			rc = parse_ulong(h, k, v, 1000000, &m->fail_every);
		else if (strcmp(k, "latency_ms") == 0)
			rc = parse_ulong(h, k, v, 60000, &m->latency_ms);
	}
	if (rc == 0 && !m->state)
		rc = h->error(h, -EINVAL, "state = FILE is required");
	if (rc != 0) {
		free_zones(m);
		free(m->state);
		free(m);
		return rc == -ENOMEM ? h->error(h, rc, "out of memory") : rc;
	}
	*self = m;
	return 0;
}

static void mock_destroy(void *self)
{
	struct mock *m = self;
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
	for (unsigned long left = m->latency_ms; left;) {
		unsigned long step = left < 50 ? left : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		left -= step;
		if (can_stop && m->h->stopping(m->h))
			return m->h->error(m->h, -EAGAIN, "%s: gave up waiting: dnsfollow is stopping", op);
	}
	if (m->fail_every && m->calls % m->fail_every == 0)
		return m->h->error(m->h, -EAGAIN, "%s: injected failure (call %lu, fail_every = %lu)",
				   op, m->calls, m->fail_every);
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
	return mock_state_load(m, doc);
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
		const char *t = type_name(keys_[i].type);
		json_t *rr = t ? json_object_get(json_object_get(sets, keys_[i].name), t) : NULL;
		if (rr)
			rc = emit_rrset(m, keys_[i].name, keys_[i].type, rr, emit, ctx);
	}
	json_decref(doc);
	return rc;
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

static int apply_one(struct mock *m, json_t *sets, const struct dnsfollow_change *c)
{
	const char *t = type_name(c->rrset.type);
	if (!t)
		return m->h->error(m->h, -EINVAL, "type %u not supported", c->rrset.type);
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
	return 0;
}

/* What a DNS server refuses: a CNAME beside other data at a name, or a
 * CNAME RRset of more than one record. Only names the changeset touched
 * are checked; on error nothing is written. */
static int check_cname(struct mock *m, json_t *sets,
		       const struct dnsfollow_change *changes, size_t n)
{
	char b[300];
	for (size_t i = 0; i < n; i++) {
		const char *name = changes[i].rrset.name;
		json_t *byname = json_object_get(sets, name);
		json_t *cname = json_object_get(byname, "CNAME");
		if (!cname)
			continue;
		size_t nrec = json_array_size(json_object_get(cname, "rdata"));
		if (json_object_size(byname) > 1)
			return m->h->error(m->h, -EEXIST,
					   "%s: a CNAME cannot stand beside other records at the same name; "
					   "changeset refused, nothing written",
					   mock_shown(name, b, sizeof b));
		if (nrec > 1)
			return m->h->error(m->h, -EEXIST,
					   "%s: a CNAME RRset holds one record, not %zu; changeset refused, "
					   "nothing written", mock_shown(name, b, sizeof b), nrec);
	}
	return 0;
}

static int mock_apply(void *self, const char *zone,
		      const struct dnsfollow_change *changes, size_t n)
{
	struct mock *m = self;
	json_t *doc;
	int rc = begin(m, "apply", zone, &doc);
	if (rc)
		return rc;
	json_t *zones = json_object_get(doc, "zones");
	json_t *z = json_object_get(zones, zone);
	if (!json_is_object(z)) {
		z = json_pack("{s:i,s:{}}", "serial", 0, "rrsets");
		json_object_set_new(zones, zone, z);
	}
	json_t *sets = json_object_get(z, "rrsets"); /* checked when loaded */
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(m, sets, &changes[i]);
	if (rc == -ENOMEM)
		m->h->error(m->h, rc, "out of memory");
	if (rc == 0)
		rc = check_cname(m, sets, changes, n);
	json_int_t serial = json_integer_value(json_object_get(z, "serial"));
	json_object_set_new(z, "serial", json_integer(serial + 1));
	if (rc == 0)
		rc = mock_state_save(m, doc);
	json_decref(doc);
	return rc;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_ATOMIC | DNSFOLLOW_CAP_A | DNSFOLLOW_CAP_AAAA |
		DNSFOLLOW_CAP_TXT,
	.read = mock_read,
	.apply = mock_apply,
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_PROVIDER,
	.name = "mock",
	.version = "1.0",
	.config_keys = keys,
	.create = mock_create,
	.destroy = mock_destroy,
	.ops = &ops,
};
