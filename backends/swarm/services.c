/*
 * The engine's service list (GET /services): each service's ID and name,
 * and the records its labels ask for (`<prefix>.name` and the other
 * `<prefix>.KEY` labels). Also the map from what a query names (a service
 * name, ID or ID prefix) to the service ID, as the engine itself would
 * match it. No I/O here (the fuzz target uses it).
 */
#include "swarm.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void service_free(struct swarm_service *s)
{
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	for (size_t i = 0; i < s->nkeys; i++) {
		free((char *)s->keys[i].key);
		free((char *)s->keys[i].value);
	}
	free(s->keys);
	free(s->name_label);
	memset(s, 0, sizeof *s);
}

void swarm_services_free(struct swarm_services *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		service_free(&ss->v[i]);
	free(ss->v);
	ss->v = NULL;
	ss->n = 0;
}

/* Copies a string that must be there, non-empty, and fit; else -1. */
static int need_str(char *dst, size_t cap, json_t *v)
{
	if (!json_is_string(v))
		return -1;
	size_t n = json_string_length(v);
	if (n == 0 || n >= cap || strlen(json_string_value(v)) != n)
		return -1;
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

/* "a.example.org, b.example.org" → each name, trimmed; empty ones (a
 * trailing comma) are dropped. */
static int split_names(struct swarm_service *s, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			char **v = realloc(s->names, (s->nnames + 1) * sizeof *v);
			if (!v)
				return -ENOMEM;
			s->names = v;
			if (!(v[s->nnames] = strndup(b, (size_t)(e - b))))
				return -ENOMEM;
			s->nnames++;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

static int add_key(struct swarm_service *s, const char *key, const char *val)
{
	struct dnsfollow_kv *v = realloc(s->keys, (s->nkeys + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	s->keys = v;
	v[s->nkeys] = (struct dnsfollow_kv){strdup(key), strdup(val), 0};
	s->nkeys++;
	return v[s->nkeys - 1].key && v[s->nkeys - 1].value ? 0 : -ENOMEM;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct dnsfollow_kv *)a)->key,
		      ((const struct dnsfollow_kv *)b)->key);
}

/* The `<prefix>.` labels of one service. Docker labels are strings: any
 * other value is a broken answer, not a label to skip. */
static int take_labels(struct swarm_service *s, json_t *labels,
		       const char *prefix, char *err, size_t errlen)
{
	size_t pl = strlen(prefix);
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "engine sent service %.60s with label "
				 "'%.60s' that is not a string", s->sid.name, k);
			return -EPROTO;
		}
		if (strncmp(k, prefix, pl) != 0 || k[pl] != '.')
			continue;
		const char *key = k + pl + 1, *val = json_string_value(v);
		int rc;
		if (strcmp(key, "name") == 0) {
			s->has_name = 1;
			rc = (s->name_label = strdup(val)) ? split_names(s, val) : -ENOMEM;
		} else {
			rc = add_key(s, key, val);
		}
		if (rc) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	}
	if (s->nkeys)
		qsort(s->keys, s->nkeys, sizeof *s->keys, by_key);
	return 0;
}

static int parse_service(json_t *o, const char *prefix, struct swarm_service *s,
			 size_t i, char *err, size_t errlen)
{
	json_t *spec = json_object_get(o, "Spec");
	if (!json_is_object(o) || need_str(s->sid.id, sizeof s->sid.id,
					   json_object_get(o, "ID"))) {
		snprintf(err, errlen, "engine sent service #%zu without a valid ID", i);
		return -EPROTO;
	}
	if (need_str(s->sid.name, sizeof s->sid.name, json_object_get(spec, "Name"))) {
		snprintf(err, errlen, "engine sent service %.60s without a valid "
			 "Spec.Name", s->sid.id);
		return -EPROTO;
	}
	json_t *labels = json_object_get(spec, "Labels");
	if (!labels || json_is_null(labels))
		return 0;
	if (!json_is_object(labels)) {
		snprintf(err, errlen, "engine sent service %.60s whose Spec.Labels "
			 "is not an object", s->sid.name);
		return -EPROTO;
	}
	return prefix ? take_labels(s, labels, prefix, err, errlen) : 0;
}

int swarm_parse_services(const char *body, size_t len, const char *prefix,
			 struct swarm_services *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_array(j)) {
		if (j)
			snprintf(err, errlen, "engine sent a service list that is not a "
				 "JSON array");
		else
			snprintf(err, errlen, "engine sent malformed JSON for the "
				 "service list: %s", je.text);
		json_decref(j);
		return -EPROTO;
	}
	size_t n = json_array_size(j);
	out->v = calloc(n ? n : 1, sizeof *out->v);
	int rc = out->v ? 0 : -ENOMEM;
	if (rc)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		out->n = i + 1;
		rc = parse_service(json_array_get(j, i), prefix, &out->v[i], i, err,
				   errlen);
	}
	json_decref(j);
	if (rc)
		swarm_services_free(out);
	return rc;
}

/* ---- the map ---- */

int swarm_svcmap_find(const struct swarm_svcmap *m, const char *q,
		      const struct swarm_svcid **out)
{
	*out = NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].id, q) == 0) {
			*out = &m->v[i];
			return 0;
		}
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, q) == 0) {
			*out = &m->v[i];
			return 0;
		}
	size_t hits = 0, ql = strlen(q);
	for (size_t i = 0; i < m->n && ql; i++)
		if (strncmp(m->v[i].id, q, ql) == 0 && !hits++)
			*out = &m->v[i];
	if (hits == 1)
		return 0;
	*out = NULL;
	return hits ? -EAGAIN : -ENOENT;
}

int swarm_svcmap_put(struct swarm_svcmap *m, const struct swarm_svcid *s)
{
	/* IDs and names are unique at any one time: whatever shares either
	 * with the newcomer is gone (a service removed, then created again
	 * under the same name). */
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].id, s->id) != 0 &&
		    strcmp(m->v[i].name, s->name) != 0)
			m->v[k++] = m->v[i];
	m->n = k;
	struct swarm_svcid *v = realloc(m->v, (m->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	m->v = v;
	m->v[m->n++] = *s;
	return 0;
}

int swarm_svcmap_set(struct swarm_svcmap *m, const struct swarm_services *ss)
{
	struct swarm_svcid *v = calloc(ss->n ? ss->n : 1, sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ss->n; i++)
		v[i] = ss->v[i].sid;
	free(m->v);
	m->v = v;
	m->n = ss->n;
	return 0;
}

void swarm_svcmap_free(struct swarm_svcmap *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
