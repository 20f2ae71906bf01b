/*
 * Swarm backend: the service list (GET /services) without an engine —
 * the records service labels ask for, under a prefix, and the map from
 * a query's service (name, ID, ID prefix) to the service ID that tasks
 * carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/swarm/swarm.h"
#include "testhost.h"

static char err[SWARM_ERRLEN];

#define SVC(id, name, labels)                                                 \
	"{\"ID\":\"" id "\",\"Version\":{\"Index\":12},\"Spec\":{\"Name\":\""  \
	name "\",\"Labels\":{" labels "},\"Mode\":{\"Replicated\":"           \
	"{\"Replicas\":1}}}}"

static int parse(const char *json, const char *prefix,
		 struct swarm_services *out)
{
	err[0] = '\0';
	return swarm_parse_services(json, strlen(json), prefix, out, err,
				    sizeof err);
}

static const char *key(const struct swarm_service *s, const char *k)
{
	return dnsfollow_kv_get(s->keys, s->nkeys, k);
}

/* A comma list gives one name each, trimmed, empty ones dropped; every
 * other <prefix>.KEY comes through as KEY, known to the core or not (it
 * refuses the unknown ones by name); other labels are ignored. */
static void test_labels_names_and_keys(void **s)
{
	(void)s;
	struct swarm_services ss;
	const char *j = "[" SVC("id1", "gogs",
				"\"dnsfollow.name\":\" git.example.org , Other.Example.org,,\","
				"\"dnsfollow.type\":\"A, AAAA\",\"dnsfollow.ttl\":\"60\","
				"\"dnsfollow.target\":\"ready-nodes\",\"dnsfollow.colour\":\"blue\","
				"\"com.docker.stack.namespace\":\"git\",\"dnsfollowx.name\":\"no\"")
			"]";
	assert_int_equal(parse(j, "dnsfollow", &ss), 0);
	assert_int_equal(ss.n, 1);
	const struct swarm_service *v = &ss.v[0];
	assert_string_equal(v->sid.id, "id1");
	assert_string_equal(v->sid.name, "gogs");
	assert_true(v->has_name);
	assert_int_equal(v->nnames, 2);
	assert_string_equal(v->names[0], "git.example.org");
	assert_string_equal(v->names[1], "Other.Example.org");
	assert_int_equal(v->nkeys, 4); /* name is not a key */
	assert_string_equal(key(v, "type"), "A, AAAA");
	assert_string_equal(key(v, "ttl"), "60");
	assert_string_equal(key(v, "target"), "ready-nodes");
	assert_string_equal(key(v, "colour"), "blue");
	assert_null(key(v, "name"));
	for (size_t i = 1; i < v->nkeys; i++) /* sorted: stable across passes */
		assert_true(strcmp(v->keys[i - 1].key, v->keys[i].key) < 0);
	swarm_services_free(&ss);
}

/* The prefix is the operator's: other prefixes are other tools' labels. */
static void test_labels_prefix(void **s)
{
	(void)s;
	struct swarm_services ss;
	const char *j = "[" SVC("id1", "web", "\"dnsfollow.name\":\"a.example.org\","
				"\"org.example.dns.name\":\"b.example.org\","
				"\"org.example.dns.ttl\":\"30\"") "]";
	assert_int_equal(parse(j, "org.example.dns", &ss), 0);
	assert_int_equal(ss.v[0].nnames, 1);
	assert_string_equal(ss.v[0].names[0], "b.example.org");
	assert_int_equal(ss.v[0].nkeys, 1);
	assert_string_equal(key(&ss.v[0], "ttl"), "30");
	swarm_services_free(&ss);
	/* No prefix: IDs and names only (the map's refresh). */
	assert_int_equal(parse(j, NULL, &ss), 0);
	assert_int_equal(ss.v[0].nnames, 0);
	assert_int_equal(ss.v[0].nkeys, 0);
	assert_false(ss.v[0].has_name);
	swarm_services_free(&ss);
}

/* No labels at all, null labels, an empty list, a name label naming
 * nothing: answers, not errors. */
static void test_labels_absent(void **s)
{
	(void)s;
	struct swarm_services ss;
	const char *j = "[{\"ID\":\"id1\",\"Spec\":{\"Name\":\"a\"}},"
			"{\"ID\":\"id2\",\"Spec\":{\"Name\":\"b\",\"Labels\":null}},"
			SVC("id3", "c", "\"dnsfollow.name\":\" , \"") "]";
	assert_int_equal(parse(j, "dnsfollow", &ss), 0);
	assert_int_equal(ss.n, 3);
	assert_int_equal(ss.v[0].nnames + ss.v[1].nnames + ss.v[2].nnames, 0);
	assert_false(ss.v[0].has_name || ss.v[1].has_name);
	assert_true(ss.v[2].has_name);
	assert_string_equal(ss.v[2].name_label, " , ");
	swarm_services_free(&ss);
	assert_int_equal(parse("[]", "dnsfollow", &ss), 0);
	assert_int_equal(ss.n, 0);
	swarm_services_free(&ss);
}

/* A broken answer is one clear error for the whole list, never a crash
 * nor half a list. */
static void test_labels_bad_json(void **s)
{
	(void)s;
	static const struct {
		const char *json, *says;
	} bad[] = {
		{"[{\"ID\":\"id1\",\"Spec\":{\"Name\":\"a\"", "malformed JSON"},
		{"{\"message\":\"hi\"}", "not a JSON array"},
		{"[42]", "without a valid ID"},
		{"[{\"ID\":\"\",\"Spec\":{\"Name\":\"a\"}}]", "without a valid ID"},
		{"[{\"ID\":\"id1\",\"Spec\":{}}]", "without a valid Spec.Name"},
		{"[{\"ID\":\"id1\",\"Spec\":{\"Name\":7}}]", "without a valid Spec.Name"},
		{"[{\"ID\":\"id1\",\"Spec\":{\"Name\":\"a\",\"Labels\":[]}}]",
		 "Spec.Labels is not an object"},
		{"[" SVC("id1", "a", "\"dnsfollow.name\":1") "]", "not a string"},
		{"[" SVC("id1", "a", "\"dnsfollow.name\":\"a\\u0000b\"") "]",
		 "malformed JSON"},
		{"[" SVC("id1", "a", "\"x\":\"1\",\"x\":\"2\"") "]", "malformed JSON"},
		{"", "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct swarm_services ss;
		assert_int_equal(parse(bad[i].json, "dnsfollow", &ss), -EPROTO);
		if (!strstr(err, bad[i].says))
			fail_msg("#%zu: '%s' lacks '%s'", i, err, bad[i].says);
		assert_null(ss.v);
		assert_int_equal(ss.n, 0);
	}
}

/* As dockerd matches a service: full ID, then name, then a unique ID
 * prefix; an ambiguous prefix is no answer. */
static void test_svcmap_find(void **s)
{
	(void)s;
	struct swarm_svcmap m = {0};
	struct swarm_svcid a = {"abc123", "web", 0}, b = {"abd456", "abc123x", 0};
	assert_int_equal(swarm_svcmap_put(&m, &a), 0);
	assert_int_equal(swarm_svcmap_put(&m, &b), 0);
	const struct swarm_svcid *id;
	assert_int_equal(swarm_svcmap_find(&m, "web", &id), 0);
	assert_string_equal(id->id, "abc123");
	assert_int_equal(swarm_svcmap_find(&m, "abc123", &id), 0);
	assert_string_equal(id->name, "web");
	assert_int_equal(swarm_svcmap_find(&m, "abc123x", &id), 0); /* a name */
	assert_string_equal(id->id, "abd456");
	assert_int_equal(swarm_svcmap_find(&m, "abd", &id), 0);
	assert_string_equal(id->name, "abc123x");
	assert_int_equal(swarm_svcmap_find(&m, "ab", &id), -EAGAIN);
	assert_null(id);
	assert_int_equal(swarm_svcmap_find(&m, "nope", &id), -ENOENT);
	/* Removed and created again under the same name: the old ID goes. */
	struct swarm_svcid c = {"zzz999", "web", 0};
	assert_int_equal(swarm_svcmap_put(&m, &c), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(swarm_svcmap_find(&m, "web", &id), 0);
	assert_string_equal(id->id, "zzz999");
	assert_int_equal(swarm_svcmap_find(&m, "abc123", &id), -ENOENT);
	swarm_svcmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_names_and_keys),
		cmocka_unit_test(test_labels_prefix),
		cmocka_unit_test(test_labels_absent),
		cmocka_unit_test(test_labels_bad_json),
		cmocka_unit_test(test_svcmap_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
