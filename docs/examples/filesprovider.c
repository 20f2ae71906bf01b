/*
 * An example third-party provider, built against the public headers (and
 * jansson, part of the SDK) only: each zone is one JSON file DIR/ZONE.json,
 *
 *   {"www.example.test CNAME": {"ttl": 60, "rdata": ["node1.example.net"]}}
 *
 * written whole through a temporary file and a rename, so every apply is
 * all or nothing. It stores any record type (records are data), refuses
 * what DNS servers refuse (a CNAME beside other data) and passes the
 * conformance kit (dnsfollow-conform). Being an example, it reads at
 * most 64 records per RRset.
 *
 * Build:  cc -std=c11 -shared -fPIC -fvisibility=hidden \
 *            $(pkg-config --cflags dnsfollow) -o files.so filesprovider.c -ljansson
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dnsfollow/plugin.h>

struct files {
	const struct dnsfollow_host *h;
	char dir[4096];
	char zones[4096]; /* ",zone1,zone2," */
};

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_PATH_("dir", DNSFOLLOW_KEY_REQUIRED, "folder of the ZONE.json files"),
	DNSFOLLOW_KEY_END,
};

static const uint16_t types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_CNAME, DNSFOLLOW_TYPE_TXT,
				 DNSFOLLOW_TYPE_AAAA, 15 /* MX */, 33 /* SRV */, 0};

static int files_create(const struct dnsfollow_host *h, const struct dnsfollow_kv *cfg,
			size_t n, void **self)
{
	if (!DNSFOLLOW_HOST_HAS(h, type_name))
		return h->error(h, -ENOTSUP, "this dnsfollow is too old for the files provider");
	struct files *f = calloc(1, sizeof *f);
	if (!f)
		return h->error(h, -ENOMEM, "out of memory");
	f->h = h;
	snprintf(f->dir, sizeof f->dir, "%s", dnsfollow_kv_get(cfg, n, "dir"));
	const char *z = dnsfollow_kv_get(cfg, n, "zones");
	size_t o = 0;
	f->zones[o++] = ',';
	for (; z && *z && o < sizeof f->zones - 2; z++)
		if (*z != ' ')
			f->zones[o++] = *z;
	f->zones[o++] = ',';
	*self = f;
	return 0;
}

static void files_destroy(void *self) { free(self); }

/* The zone's document (an empty one when the file does not exist yet). */
static int load(struct files *f, const char *zone, char *path, size_t cap, json_t **doc)
{
	struct stat st;
	json_error_t e;
	snprintf(path, cap, ",%s,", zone);
	if (!strstr(f->zones, path))
		return f->h->error(f->h, -ENOENT, "zone %s is not served (zones = ...)", zone);
	snprintf(path, cap, "%s/%s.json", f->dir, zone);
	*doc = stat(path, &st) != 0 && errno == ENOENT ? json_object() : json_load_file(path, 0, &e);
	if (!*doc)
		return f->h->error(f->h, -EIO, "%s:%d: %s", path, e.line, e.text);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		return f->h->error(f->h, -EIO, "%s: not a JSON object", path);
	}
	return 0;
}

/* "name TYPE", the key of one RRset. */
static void rr_key(const struct files *f, const char *name, uint16_t type, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %s", name, f->h->type_name(type));
}

static int files_read(void *self, const char *zone, const struct dnsfollow_rrkey *k, size_t nk,
		      dnsfollow_rrset_cb emit, void *ctx)
{
	struct files *f = self;
	char path[4200], key[300];
	json_t *doc = NULL;
	int rc = load(f, zone, path, sizeof path, &doc);
	for (size_t i = 0; i < nk && rc == 0; i++) {
		rr_key(f, k[i].name, k[i].type, key, sizeof key);
		json_t *rr = json_object_get(doc, key), *data = json_object_get(rr, "rdata");
		const char *v[64]; /* an example's limit */
		size_t n = 0;
		for (; n < json_array_size(data) && n < 64; n++)
			v[n] = json_string_value(json_array_get(data, n));
		struct dnsfollow_rrset out = {k[i].name, k[i].type,
					      (uint32_t)json_integer_value(json_object_get(rr, "ttl")), n, v};
		rc = rr ? emit(ctx, &out) : 0;
	}
	json_decref(doc);
	return rc;
}

/* A CNAME stands alone at its name, with one record (RFC 1034 3.6.2). */
static int cname_conflict(const struct files *f, json_t *doc, const char *name)
{
	char cn[300];
	const char *k;
	json_t *v, *c;
	rr_key(f, name, DNSFOLLOW_TYPE_CNAME, cn, sizeof cn);
	if (!(c = json_object_get(doc, cn)))
		return 0;
	size_t len = strlen(name), others = 0;
	json_object_foreach(doc, k, v)
		others += strncmp(k, name, len) == 0 && k[len] == ' ' && strcmp(k, cn) != 0;
	if (others || json_array_size(json_object_get(c, "rdata")) > 1)
		return f->h->error(f->h, -EEXIST, "%s: a CNAME cannot stand beside other data", name);
	return 0;
}

static int files_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct files *f = self;
	char path[4200], tmp[4300], key[300];
	json_t *doc = NULL;
	int rc = load(f, cs->zone, path, sizeof path, &doc);
	for (size_t i = 0; i < cs->n && rc == 0; i++) {
		const struct dnsfollow_rrset *r = &cs->changes[i].rrset;
		rr_key(f, r->name, r->type, key, sizeof key);
		json_t *data = json_array();
		for (size_t j = 0, d = 0; j < r->count; j++, d = 0) {
			while (d < j && strcmp(r->rdata[d], r->rdata[j]) != 0)
				d++; /* an RRset is a set: each datum once */
			if (d == j)
				json_array_append_new(data, json_string(r->rdata[j]));
		}
		if (cs->changes[i].op == DNSFOLLOW_CHANGE_DELETE)
			json_object_del(doc, key);
		else
			json_object_set_new(doc, key, json_pack("{s:I,s:O}", "ttl", (json_int_t)r->ttl,
								 "rdata", data));
		json_decref(data);
	}
	for (size_t i = 0; i < cs->n && rc == 0; i++) /* nothing written on refusal */
		rc = cname_conflict(f, doc, cs->changes[i].rrset.name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (rc == 0 && (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
			rename(tmp, path) != 0))
		rc = f->h->error(f->h, -EIO, "cannot write %s: %s", path, strerror(errno));
	for (size_t i = 0; rc == 0 && i < cs->n && DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results); i++)
		cs->results[i] = 0; /* all applied (one rename) */
	json_decref(doc);
	return rc;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_ATOMIC,
	.types = types,
	.read = files_read,
	.apply = files_apply,
};

DNSFOLLOW_PROVIDER("files", "1.0", keys, NULL, files_create, files_destroy, &ops);
