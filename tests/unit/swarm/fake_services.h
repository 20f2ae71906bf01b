/*
 * The fake engine's services (included by fake_engine.h): a registry of
 * services with IDs and labels, GET /services with the label filter, and
 * GET /tasks with the service filter (several values; a value the engine
 * does not know fails the whole request with 404, as dockerd does), each
 * task tagged with its ServiceID. Uses the `fe` state of fake_engine.h.
 */
#ifndef SW_FAKE_SERVICES_H
#define SW_FAKE_SERVICES_H

#include <jansson.h>

#define FE_NSVC 600

/* "%7B%22a%22" → "{"a"" in place. */
static void fe_url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char hx[3] = {s[1], s[2], 0};
			*o++ = (char)strtol(hx, NULL, 16);
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

/* The filters of a request path, decoded, or NULL. */
static json_t *fe_filters(const char *path)
{
	const char *f = strstr(path, "filters=");
	if (!f)
		return NULL;
	char *d = strdup(f + 8);
	fe_url_decode(d);
	json_t *j = json_loads(d, 0, NULL);
	free(d);
	return j;
}

/* As dockerd: full ID, then name, then a unique ID prefix; fe.mu held. */
static const struct fe_svc *fe_svc_find(const char *q)
{
	for (int i = 0; i < fe.nsvc; i++)
		if (strcmp(fe.svc[i].id, q) == 0 || strcmp(fe.svc[i].name, q) == 0)
			return &fe.svc[i];
	const struct fe_svc *hit = NULL;
	for (int i = 0; i < fe.nsvc; i++)
		if (strncmp(fe.svc[i].id, q, strlen(q)) == 0) {
			if (hit)
				return NULL;
			hit = &fe.svc[i];
		}
	return hit;
}

/* Registry: gogs and svc-000 .. svc-499, no labels. fe.mu held. */
static void fe_svc_default(void)
{
	fe.nsvc = 0;
	snprintf(fe.svc[fe.nsvc].name, 32, "gogs");
	snprintf(fe.svc[fe.nsvc].id, 32, "gogsid%019d", 0);
	fe.nsvc++;
	for (int i = 0; i < 500; i++, fe.nsvc++) {
		snprintf(fe.svc[fe.nsvc].name, 32, "svc-%03d", i);
		snprintf(fe.svc[fe.nsvc].id, 32, "svcid%020d", i);
		fe.svc[fe.nsvc].labels = NULL;
	}
}

/* Whether the service has every label of the filter ("k" or "k=v"). */
static int fe_svc_labelled(const struct fe_svc *s, json_t *want)
{
	json_t *labels = s->labels ? json_loads(s->labels, 0, NULL) : NULL;
	size_t i;
	json_t *w;
	int ok = 1;
	json_array_foreach(want, i, w) {
		char k[256];
		snprintf(k, sizeof k, "%s", json_string_value(w));
		char *eq = strchr(k, '=');
		if (eq)
			*eq = '\0';
		json_t *v = json_object_get(labels, k);
		if (!v || (eq && strcmp(json_string_value(v), eq + 1) != 0))
			ok = 0;
	}
	json_decref(labels);
	return ok;
}

/* GET /services; the caller frees the body. fe.mu held. */
static char *fe_services_body(const char *path)
{
	json_t *f = fe_filters(path), *out = json_array();
	json_t *want = json_object_get(f, "label"), *ids = json_object_get(f, "id");
	for (int i = 0; i < fe.nsvc; i++) {
		if (want && !fe_svc_labelled(&fe.svc[i], want))
			continue;
		if (ids && strncmp(fe.svc[i].id, json_string_value(json_array_get(ids, 0)) ?
				   json_string_value(json_array_get(ids, 0)) : "", 32) != 0)
			continue; /* the engine matches ID prefixes; whole IDs here */
		json_t *labels = fe.svc[i].labels ? json_loads(fe.svc[i].labels, 0, NULL)
						  : json_object();
		json_array_append_new(out, json_pack("{s:s, s:{s:s, s:o}}", "ID",
						     fe.svc[i].id, "Spec", "Name",
						     fe.svc[i].name, "Labels", labels));
	}
	char *body = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	json_decref(f);
	return body;
}

/* The tasks of one service, tagged with its ID, appended to `out`; the
 * template itself when it is no JSON array (a broken answer). */
static int fe_tasks_of(const struct fe_svc *s, json_t *out, const char **raw)
{
	const char *tpl = fe.special && strcmp(fe.special, s->name) == 0
				  ? fe.special_tasks : fe.tasks;
	json_t *t = json_loads(tpl, 0, NULL);
	if (!json_is_array(t)) {
		json_decref(t);
		*raw = tpl;
		return -1;
	}
	size_t i;
	json_t *task;
	json_array_foreach(t, i, task) {
		if (!json_object_get(task, "ServiceID"))
			json_object_set_new(task, "ServiceID", json_string(s->id));
		json_array_append(out, task);
	}
	json_decref(t);
	int k = 0;
	if (sscanf(s->name, "svc-%d", &k) == 1 && k >= 0 && k < FE_NSVC)
		fe.seen[k] = 1;
	return 0;
}

/* GET /tasks: *status and a body to free, or *raw to send as it is.
 * fe.mu held. */
static char *fe_tasks_body(const char *path, int *status, const char **raw)
{
	json_t *f = fe_filters(path), *out = json_array();
	json_t *want = json_object_get(f, "service");
	char *body = NULL;
	*raw = NULL;
	*status = 200;
	size_t i;
	json_t *w;
	json_array_foreach(want, i, w) {
		const struct fe_svc *s = fe_svc_find(json_string_value(w));
		if (!s) {
			char b[200];
			snprintf(b, sizeof b, "{\"message\":\"service %.60s not found\"}",
				 json_string_value(w));
			*status = 404;
			body = strdup(b);
			goto done;
		}
		if (fe_tasks_of(s, out, raw))
			goto done;
	}
	for (int k = 0; !want && k < fe.nsvc; k++)
		if (fe_tasks_of(&fe.svc[k], out, raw))
			goto done;
	body = json_dumps(out, JSON_COMPACT);
done:
	json_decref(out);
	json_decref(f);
	return body;
}

#endif
