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

/* A line of the stream: is it something that may move placements? */
int swarm_parse_event(const char *line, size_t len, char *what,
		      size_t whatlen)
{
	if (whatlen)
		what[0] = '\0';
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
		if (whatlen)
			snprintf(what, whatlen, "%.20s %.20s", json_string_value(t),
				 json_is_string(a) ? json_string_value(a) : "?");
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
