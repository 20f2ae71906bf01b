/*
 * The mock provider: zones kept in a JSON file that survives restarts and
 * can be read by people and tests. A product feature for dry runs, demos
 * and plugin tests, with optional fault injection for reliability tests.
 *
 * State file:
 *   {"zones": {ZONE: {"serial": N,
 *                     "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [...]}}}}}}
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dnsfollow/plugin.h>

struct mock {
	const struct dnsfollow_host *h;
	char *state;
	char **zones;
	size_t nzones;
	unsigned long fail_every, latency_ms;
	unsigned long calls;
};

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
	if (m->latency_ms) {
		struct timespec ts = {(time_t)(m->latency_ms / 1000),
				      (long)(m->latency_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
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

/* The whole state; a missing file is an empty state. */
static int load_state(struct mock *m, json_t **out)
{
	json_error_t e;
	if (access(m->state, F_OK) != 0) {
		*out = json_pack("{s:{}}", "zones");
		return *out ? 0 : -ENOMEM;
	}
	json_t *doc = json_load_file(m->state, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		return m->h->error(m->h, -EIO, "%s:%d: bad state file: %s", m->state,
				   e.line, e.text);
	if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "zones"))) {
		json_decref(doc);
		return m->h->error(m->h, -EIO, "%s: bad state file: no \"zones\" object",
				   m->state);
	}
	*out = doc;
	return 0;
}

static int emit_rrset(struct mock *m, const char *name, uint16_t type,
		      json_t *rr, dnsfollow_rrset_cb emit, void *ctx)
{
	json_t *data = json_object_get(rr, "rdata");
	json_t *ttl = json_object_get(rr, "ttl");
	if (!json_is_array(data) || !json_is_integer(ttl) ||
	    json_integer_value(ttl) < 0 || json_integer_value(ttl) > 2147483647)
		return m->h->error(m->h, -EIO, "%s: bad state file: bad RRset %s %s",
				   m->state, name, type_name(type));
	size_t n = json_array_size(data);
	const char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return m->h->error(m->h, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i] = json_string_value(json_array_get(data, i));
		if (!v[i]) {
			free(v);
			return m->h->error(m->h, -EIO, "%s: bad state file: non-string data in %s",
					   m->state, name);
		}
	}
	struct dnsfollow_rrset out = {name, type, (uint32_t)json_integer_value(ttl), n, v};
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
	return load_state(m, doc);
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
	json_t *data = json_array();
	for (size_t i = 0; data && i < c->rrset.count; i++)
		json_array_append_new(data, json_string(c->rrset.rdata[i]));
	json_t *rr = json_pack("{s:I,s:o}", "ttl", (json_int_t)c->rrset.ttl, "rdata", data);
	if (!rr || json_object_set_new(byname, t, rr) != 0)
		return -ENOMEM;
	return 0;
}

/* On disk before the rename, so a crash cannot leave an empty state. */
static int sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write to a temporary file and rename it over the state: readers see the
 * old or the new state, never half of one. */
static int save_state(struct mock *m, json_t *doc)
{
	size_t n = strlen(m->state) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.tmp", m->state);
	int rc = 0;
	if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || sync_file(tmp) != 0)
		rc = m->h->error(m->h, -EIO, "cannot write %s: %s", tmp, strerror(errno));
	else if (rename(tmp, m->state) != 0)
		rc = m->h->error(m->h, -EIO, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
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
	json_t *sets = json_object_get(z, "rrsets");
	if (!json_is_object(sets)) {
		json_decref(doc);
		return m->h->error(m->h, -EIO, "%s: bad state file: zone %s has no rrsets",
				   m->state, zone);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(m, sets, &changes[i]);
	json_int_t serial = json_integer_value(json_object_get(z, "serial"));
	json_object_set_new(z, "serial", json_integer(serial + 1));
	if (rc == 0)
		rc = save_state(m, doc);
	else if (rc == -ENOMEM)
		m->h->error(m->h, rc, "out of memory");
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
