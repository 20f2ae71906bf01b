/*
 * Sending record operations: one operation as its own call
 * (POST /zones/ID/dns_records, PUT/PATCH/DELETE .../dns_records/RID),
 * several as one POST .../dns_records/batch {deletes, patches, puts,
 * posts}; then the snapshot is brought in line with what went in (ids of
 * created records from the answer, in the order sent).
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record body Cloudflare wants: TXT as quoted character-strings
 * (its documented form; longer text split at 255 bytes), other data as
 * the core gives it. */
static json_t *record_json(const struct dnsfollow_host *h, const struct cf_op *o)
{
	if (o->kind == CF_DEL)
		return json_pack("{s:s}", "id", o->id);
	if (o->kind == CF_PATCH)
		return PROXIABLE(o->type) ? json_pack("{s:s,s:I,s:b}", "id", o->id, "ttl",
						      (json_int_t)o->ttl, "proxied", o->proxied)
					  : json_pack("{s:s,s:I}", "id", o->id, "ttl", (json_int_t)o->ttl);
	char *txt = o->type == DNSFOLLOW_TYPE_TXT ? h->txt_encode(o->data) : NULL;
	if (o->type == DNSFOLLOW_TYPE_TXT && !txt)
		return NULL;
	json_t *r = json_pack("{s:s,s:s,s:s,s:I,s:b}", "type", h->type_name(o->type), "name",
			      o->name, "content", txt ? txt : o->data, "ttl", (json_int_t)o->ttl,
			      "proxied", o->proxied);
	free(txt);
	if (r && o->kind == CF_PUT && json_object_set_new(r, "id", json_string(o->id)) != 0)
		json_decref(r), r = NULL;
	if (r && !PROXIABLE(o->type))
		json_object_del(r, "proxied"); /* only A, AAAA and CNAME can be */
	return r;
}

/* After success: the snapshot as Cloudflare now holds it. `posted`: the
 * created records, in the order their POSTs were sent. */
static int follow(struct cf *p, struct cf_zone *z, const struct cf_op *ops, size_t n,
		  json_t *posted)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cf_op *o = &ops[i];
		struct cf_rec *r = o->kind != CF_POST && o->idx < z->n ? &z->recs[o->idx] : NULL;
		if (o->kind != CF_POST && (!r || r->id != o->id || r->dead))
			return -EPROTO; /* cannot happen: the snapshot moved */
		if (o->kind == CF_DEL) {
			r->dead = 1; /* dropped at the end of apply(): indexes stay */
		} else if (o->kind == CF_PATCH || o->kind == CF_PUT) {
			char *d = o->kind == CF_PUT ? strdup(o->data) : NULL;
			if (o->kind == CF_PUT && !d)
				return -ENOMEM;
			if (d)
				free(r->data), r->data = d;
			r->ttl = o->ttl, r->proxied = o->proxied;
		} else {
			struct cf_rec rec;
			json_t *j = json_is_array(posted) ? json_array_get(posted, k++) : posted;
			if (cf_rec_from_json(p->h, j, &rec) != 0 || cf_zone_add(z, &rec) != 0)
				return cf_rec_free(&rec), -EPROTO;
		}
	}
	return 0;
}

static const char *const kind_key[] = {"deletes", "patches", "puts", "posts"};
static const char *const kind_method[] = {"DELETE", "PATCH", "PUT", "POST"};

/* One operation, one call. */
static int send_one(struct cf *p, struct cf_zone *z, const struct cf_op *o, json_t **doc)
{
	const struct dnsfollow_host *h = p->h;
	char path[300], what[600];
	json_t *body = o->kind == CF_DEL ? NULL : record_json(h, o);
	if (o->kind != CF_DEL && !body)
		return h->error(h, -ENOMEM, "out of memory (or TXT data that cannot be encoded)");
	if (o->kind == CF_PATCH)
		json_object_del(body, "id");
	snprintf(path, sizeof path, "/zones/%s/dns_records%s%s", z->id,
		 o->kind == CF_POST ? "" : "/", o->kind == CF_POST ? "" : o->id);
	snprintf(what, sizeof what, "%s %s %s (zone %s)", kind_method[o->kind], o->name,
		 h->type_name(o->type), z->name);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (o->kind != CF_DEL && !text)
		return h->error(h, -ENOMEM, "out of memory");
	int rc = cf_call(p, kind_method[o->kind], path, text, what, doc);
	free(text);
	return rc;
}

/* Several operations, one transaction. */
static int send_batch(struct cf *p, struct cf_zone *z, const struct cf_op *ops, size_t n,
		      json_t **doc)
{
	const struct dnsfollow_host *h = p->h;
	json_t *b = json_object(), *list;
	for (size_t i = 0; b && i < n; i++) { /* only the kinds used: all are optional */
		const char *key = kind_key[ops[i].kind];
		if (!(list = json_object_get(b, key)) &&
		    json_object_set_new(b, key, list = json_array()) != 0)
			list = NULL;
		if (!list || json_array_append_new(list, record_json(h, &ops[i])) != 0)
			json_decref(b), b = NULL;
	}
	char *text = b ? json_dumps(b, JSON_COMPACT) : NULL, path[200], what[400];
	json_decref(b);
	if (!text)
		return h->error(h, -ENOMEM, "out of memory (or TXT data that cannot be encoded)");
	snprintf(path, sizeof path, "/zones/%s/dns_records/batch", z->id);
	snprintf(what, sizeof what, "POST dns_records/batch of %zu operations (zone %s)", n, z->name);
	p->batches++;
	int rc = cf_call(p, "POST", path, text, what, doc);
	free(text);
	return rc;
}

/* Sends ops[0..n) (n >= 1); 0 when they went in and the snapshot follows.
 * The snapshot is dropped when the outcome is not known (a timeout, an
 * answer that does not say), so the next apply() lists the zone again. */
int cf_send(struct cf *p, struct cf_zone *z, const struct cf_op *ops, size_t n)
{
	json_t *doc = NULL;
	int rc = n == 1 ? send_one(p, z, ops, &doc) : send_batch(p, z, ops, n, &doc);
	if (rc == 0) {
		json_t *res = json_object_get(doc, "result");
		if (follow(p, z, ops, n, n == 1 ? res : json_object_get(res, "posts")) != 0) {
			/* Applied, but what went in is not known for sure: no
			 * later batch may rely on the snapshot. */
			cf_zone_forget(z);
			rc = p->h->error(p->h, -EPROTO, "zone %s: the changes went in but the answer "
					 "does not list the records created; the zone will be read again",
					 z->name);
		}
	} else if (rc != -EEXIST && rc != -EINVAL && rc != -EACCES && rc != -ENOENT) {
		cf_zone_forget(z);
	}
	json_decref(doc);
	return rc;
}
