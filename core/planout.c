/*
 * What a dry run prints: the plan as text lines, or with
 * `--output json` as JSON Lines (one object per change or orphan, then
 * one summary object) for scripts and CI. Jobs write into their own
 * buffer on a worker thread; the main thread prints in group order.
 */
#include "reconcile.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static void append(struct df_job *j, const char *line, size_t len)
{
	j->plan_text = df_xrealloc(j->plan_text, j->plan_len + len + 2, 1);
	memcpy(j->plan_text + j->plan_len, line, len);
	j->plan_len += len;
	j->plan_text[j->plan_len++] = '\n';
	j->plan_text[j->plan_len] = '\0';
}

void df_job_plan_text(struct df_job *j, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		append(j, line, (size_t)n);
	free(line);
}

/* A string member; data a provider sent that is not UTF-8 is shown
 * escaped rather than dropped. */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s ? s : "");
	if (v)
		return v;
	char *clean = df_sanitize(s);
	v = json_string(clean ? clean : "?");
	free(clean);
	return v ? v : json_string("?");
}

static json_t *jdata(const struct dnsfollow_rrset *rr)
{
	json_t *a = json_array();
	for (size_t i = 0; rr && i < rr->count; i++)
		json_array_append_new(a, jstr(rr->rdata[i]));
	return a;
}

static void emit_json(struct df_job *j, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s)
		append(j, s, strlen(s));
	free(s);
	json_decref(o);
}

void df_plan_out_change(const struct df_runtime *rt, struct df_job *j,
			const char *provider, const char *zone,
			const struct dnsfollow_change *c)
{
	if (!rt->plan_json) {
		char line[2048];
		df_change_format(c, line, sizeof line);
		df_job_plan_text(j, "%s %s: %s", provider, zone, line);
		return;
	}
	int del = c->op == DNSFOLLOW_CHANGE_DELETE;
	json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:o, s:s}", "kind", "change",
			      "provider", jstr(provider), "zone", jstr(zone),
			      "action", del ? "delete" : c->old ? "update" : "create",
			      "name", jstr(c->rrset.name),
			      "type", df_type_name(c->rrset.type));
	if (!del) {
		json_object_set_new(o, "ttl", json_integer(c->rrset.ttl));
		json_object_set_new(o, "data", jdata(&c->rrset));
	}
	if (c->old)
		json_object_set_new(o, "old", jdata(c->old));
	emit_json(j, o);
}

void df_plan_out_orphan(const struct df_runtime *rt, struct df_job *j,
			const char *provider, const char *zone, const char *name,
			const char *state)
{
	if (!rt->plan_json) {
		const char *why = strcmp(state, "deleting") == 0
			? "nothing asks for it any more (policy = sync); deleting it and its marker"
			: strcmp(state, "pending") == 0
			? "nothing asks for it any more (policy = sync); deleted once that has held for orphan_grace"
			: "kept (this pass did not learn everything it needs to delete)";
		df_job_plan_text(j, "%s %s: orphan %s: %s", provider, zone, name, why);
		return;
	}
	emit_json(j, json_pack("{s:s, s:o, s:o, s:o, s:s}", "kind", "orphan",
			       "provider", jstr(provider), "zone", jstr(zone),
			       "name", jstr(name), "state", state));
}

void df_plan_out_summary(const struct df_runtime *rt, const struct df_pass_stats *st,
			 int status)
{
	if (!rt->plan_json) {
		fprintf(rt->plan_out, "dry-run: %zu change(s) planned, nothing written\n",
			st->changes);
	} else {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:i}", "kind", "summary",
				      "changes", (json_int_t)st->changes,
				      "in_sync", (json_int_t)st->ok,
				      "would_change", (json_int_t)st->planned,
				      "failed_temporary", (json_int_t)st->temp,
				      "failed_permanent", (json_int_t)st->perm,
				      "exit", status);
		char *s = json_dumps(o, JSON_COMPACT);
		fprintf(rt->plan_out, "%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	}
	fflush(rt->plan_out);
}
