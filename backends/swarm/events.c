/*
 * The /events stream: one JSON object per line, but chunks arrive cut
 * anywhere, so bytes are collected into lines first.
 */
#include "swarm.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void emit(struct swarm_linebuf *lb, swarm_line_cb cb, void *ctx)
{
	if (lb->overflow)
		cb(ctx, NULL, 0); /* one report for the whole overlong line */
	else
		cb(ctx, lb->buf, lb->len);
	lb->len = 0;
	lb->overflow = 0;
}

void swarm_linebuf_feed(struct swarm_linebuf *lb, const char *data, size_t n,
			swarm_line_cb cb, void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (!lb->overflow) {
			if (lb->len + take < sizeof lb->buf) {
				memcpy(lb->buf + lb->len, data, take);
				lb->len += take;
				lb->buf[lb->len] = '\0';
			} else {
				lb->overflow = 1;
				lb->len = 0;
			}
		}
		if (!nl)
			return;
		emit(lb, cb, ctx);
		data = nl + 1;
		n -= take + 1;
	}
}

/* Which service a service event is about: its name and ID, when they
 * are strings that fit (else left empty: the event then counts for
 * every service). */
static void actor_of(json_t *j, struct swarm_actor *a)
{
	json_t *act = json_object_get(j, "Actor");
	json_t *id = json_object_get(act, "ID");
	json_t *name = json_object_get(json_object_get(act, "Attributes"), "name");
	a->service = 1;
	if (json_is_string(id) && json_string_length(id) < sizeof a->id)
		snprintf(a->id, sizeof a->id, "%s", json_string_value(id));
	if (json_is_string(name) && json_string_length(name) < sizeof a->name)
		snprintf(a->name, sizeof a->name, "%s", json_string_value(name));
}

/* A line of the stream: is it something that may move placements? */
int swarm_parse_event(const char *line, size_t len, char *what,
		      size_t whatlen, struct swarm_actor *actor)
{
	if (whatlen)
		what[0] = '\0';
	if (actor)
		memset(actor, 0, sizeof *actor);
	if (!line)
		return SWARM_EV_GARBAGE; /* overlong line */
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\r' || line[i] == '\t'))
		i++;
	if (i == len)
		return SWARM_EV_IGNORE;
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return SWARM_EV_GARBAGE;
	}
	json_t *t = json_object_get(j, "Type");
	json_t *a = json_object_get(j, "Action");
	int rc = SWARM_EV_IGNORE;
	if (json_is_string(t) && (strcmp(json_string_value(t), "service") == 0 ||
				  strcmp(json_string_value(t), "node") == 0)) {
		rc = SWARM_EV_RELEVANT;
		struct swarm_actor tmp = {0}, *who = actor ? actor : &tmp;
		if (strcmp(json_string_value(t), "service") == 0)
			actor_of(j, who);
		if (whatlen)
			snprintf(what, whatlen, "%.20s %.20s%s%.60s", json_string_value(t),
				 json_is_string(a) ? json_string_value(a) : "?",
				 who->name[0] ? " " : "", who->name);
	} else if (!t && json_is_string(json_object_get(j, "message"))) {
		rc = SWARM_EV_ERROR; /* the engine (or a proxy) said no */
		if (whatlen)
			snprintf(what, whatlen, "%s",
				 json_string_value(json_object_get(j, "message")));
	} else if (!json_is_string(t)) {
		rc = SWARM_EV_GARBAGE;
	}
	json_decref(j);
	return rc;
}
