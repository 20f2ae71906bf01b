/* Swarm backend: the event stream's line buffering and event parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/swarm/swarm.h"

struct seen {
	char lines[16][256];
	size_t n, overlong;
};

static void collect(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;
	if (!line) {
		s->overlong++;
		return;
	}
	assert_true(s->n < 16);
	assert_int_equal(strlen(line), len); /* NUL-terminated copy */
	snprintf(s->lines[s->n++], sizeof s->lines[0], "%s", line);
}

static const char stream[] =
	"{\"Type\":\"node\",\"Action\":\"update\",\"Actor\":{\"ID\":\"x\","
	"\"Attributes\":{\"availability.new\":\"drain\"}},\"scope\":\"swarm\"}\n"
	"{\"Type\":\"service\",\"Action\":\"create\"}\n"
	"\n"
	"{\"Type\":\"container\",\"Action\":\"start\"}\n";

/* Feed the stream cut at every possible place, and byte by byte. */
static void test_chunk_boundaries(void **st)
{
	(void)st;
	size_t len = strlen(stream);
	for (size_t cut = 0; cut <= len; cut++) {
		struct swarm_linebuf *lb = calloc(1, sizeof *lb);
		struct seen s = {0};
		swarm_linebuf_feed(lb, stream, cut, collect, &s);
		swarm_linebuf_feed(lb, stream + cut, len - cut, collect, &s);
		assert_int_equal(s.n, 4);
		assert_string_equal(s.lines[1], "{\"Type\":\"service\",\"Action\":\"create\"}");
		assert_string_equal(s.lines[2], "");
		free(lb);
	}
	struct swarm_linebuf *lb = calloc(1, sizeof *lb);
	struct seen s = {0};
	for (size_t i = 0; i < len; i++)
		swarm_linebuf_feed(lb, stream + i, 1, collect, &s);
	assert_int_equal(s.n, 4);
	assert_non_null(strstr(s.lines[0], "availability.new"));
	/* An unterminated tail waits for its newline. */
	swarm_linebuf_feed(lb, "{\"Type\"", 7, collect, &s);
	assert_int_equal(s.n, 4);
	swarm_linebuf_feed(lb, ":\"node\"}\n", 9, collect, &s);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.lines[4], "{\"Type\":\"node\"}");
	free(lb);
}

static void test_overlong_line(void **st)
{
	(void)st;
	struct swarm_linebuf *lb = calloc(1, sizeof *lb);
	struct seen s = {0};
	size_t big = SWARM_LINE_MAX * 3;
	char *junk = malloc(big);
	memset(junk, 'x', big);
	/* In pieces, so the overflow happens mid-stream. */
	for (size_t off = 0; off < big; off += 1000)
		swarm_linebuf_feed(lb, junk + off, off + 1000 > big ? big - off : 1000,
				   collect, &s);
	assert_int_equal(s.overlong, 0);
	swarm_linebuf_feed(lb, "\n{\"Type\":\"node\"}\n", 17, collect, &s);
	assert_int_equal(s.overlong, 1); /* reported once */
	assert_int_equal(s.n, 1);        /* and the stream goes on */
	assert_string_equal(s.lines[0], "{\"Type\":\"node\"}");
	/* Exactly at the limit: the longest line that fits still fits. */
	memset(junk, 'y', SWARM_LINE_MAX - 1);
	junk[SWARM_LINE_MAX - 1] = '\n';
	swarm_linebuf_feed(lb, junk, SWARM_LINE_MAX, collect, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.overlong, 1);
	free(junk);
	free(lb);
}

static void test_parse_event(void **st)
{
	(void)st;
	char what[64];
	static const struct {
		const char *line;
		int want;
		const char *what;
	} cases[] = {
		{"{\"Type\":\"node\",\"Action\":\"update\"}", SWARM_EV_RELEVANT, "node update"},
		{"{\"Type\":\"service\",\"Action\":\"remove\"}", SWARM_EV_RELEVANT, "service remove"},
		{"{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":{\"ID\":\"x1\","
		 "\"Attributes\":{\"name\":\"gogs\"}}}", SWARM_EV_RELEVANT, "service update gogs"},
		{"{\"Type\":\"service\"}", SWARM_EV_RELEVANT, "service ?"},
		{"{\"Type\":\"container\",\"Action\":\"die\"}", SWARM_EV_IGNORE, ""},
		{"", SWARM_EV_IGNORE, ""},
		{" \r", SWARM_EV_IGNORE, ""},
		{"{\"Type\":\"node\"", SWARM_EV_GARBAGE, ""},
		{"[1,2]", SWARM_EV_GARBAGE, ""},
		{"{\"message\":\"page not found\"}", SWARM_EV_ERROR, "page not found"},
		{"{}", SWARM_EV_GARBAGE, ""},
		{"{\"Type\":3}", SWARM_EV_GARBAGE, ""},
		{"\xff\xfe", SWARM_EV_GARBAGE, ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int k = swarm_parse_event(cases[i].line, strlen(cases[i].line), what,
					  sizeof what, NULL);
		if (k != cases[i].want)
			fail_msg("case %zu: got %d want %d", i, k, cases[i].want);
		assert_string_equal(what, cases[i].what);
	}
	assert_int_equal(swarm_parse_event(NULL, 0, what, sizeof what, NULL),
			 SWARM_EV_GARBAGE);
}

/* Which service an event is about, for the watch set's filter: as a real
 * engine sends it (docker service update, Engine 27). */
static void test_event_actor(void **st)
{
	(void)st;
	char what[128];
	struct swarm_actor a;
	const char *upd = "{\"Type\":\"service\",\"Action\":\"update\",\"Actor\":"
			  "{\"ID\":\"xk2l1qz3ahmd4n8lkpo7w2f5t\",\"Attributes\":{\"name\":"
			  "\"web_gogs\",\"updatestate.new\":\"updating\"}},\"scope\":\"swarm\","
			  "\"time\":1764600000,\"timeNano\":1764600000000000000}";
	assert_int_equal(swarm_parse_event(upd, strlen(upd), what, sizeof what, &a),
			 SWARM_EV_RELEVANT);
	assert_true(a.service);
	assert_string_equal(a.name, "web_gogs");
	assert_string_equal(a.id, "xk2l1qz3ahmd4n8lkpo7w2f5t");
	assert_string_equal(what, "service update web_gogs");
	/* Node events name no service; odd actors leave the fields empty
	 * (the event then counts for every service). */
	const char *node = "{\"Type\":\"node\",\"Action\":\"update\",\"Actor\":"
			   "{\"ID\":\"n1\",\"Attributes\":{\"name\":\"box\"}}}";
	assert_int_equal(swarm_parse_event(node, strlen(node), what, sizeof what, &a),
			 SWARM_EV_RELEVANT);
	assert_false(a.service);
	assert_string_equal(a.name, "");
	const char *odd = "{\"Type\":\"service\",\"Action\":\"create\",\"Actor\":"
			  "{\"ID\":7,\"Attributes\":{\"name\":[]}}}";
	assert_int_equal(swarm_parse_event(odd, strlen(odd), what, sizeof what, &a),
			 SWARM_EV_RELEVANT);
	assert_true(a.service);
	assert_string_equal(a.name, "");
	assert_string_equal(a.id, "");
	/* A container event (ignored) leaves the actor empty. */
	const char *c = "{\"Type\":\"container\",\"Actor\":{\"ID\":\"c\"}}";
	assert_int_equal(swarm_parse_event(c, strlen(c), what, sizeof what, &a),
			 SWARM_EV_IGNORE);
	assert_false(a.service);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_event_actor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
