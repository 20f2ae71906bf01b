/*
 * libFuzzer target: the mock provider's state file parser (make
 * fuzz-mock). Besides memory errors it checks that a refused file gives
 * one line naming the file and no control bytes, and that an accepted
 * document has the shape the ops rely on and survives being written
 * and read back (what apply() does to it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../providers/mock/mock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rrsets(json_t *sets)
{
	const char *name, *type;
	json_t *byname, *rr;
	json_object_foreach(sets, name, byname) {
		json_object_foreach(byname, type, rr) {
			json_t *ttl = json_object_get(rr, "ttl"), *d = json_object_get(rr, "rdata");
			if (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
			    json_integer_value(ttl) > 2147483647 || !json_is_array(d))
				__builtin_trap();
			for (size_t i = 0; i < json_array_size(d); i++)
				if (!json_string_value(json_array_get(d, i)))
					__builtin_trap();
		}
	}
}

static void check_doc(json_t *doc)
{
	const char *zone;
	json_t *z;
	json_object_foreach(json_object_get(doc, "zones"), zone, z) {
		json_t *sets = json_object_get(z, "rrsets");
		if (!json_is_object(sets))
			__builtin_trap();
		check_rrsets(sets);
	}
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	char err[512];
	json_t *again = text ? mock_state_parse("fuzz.json", text, strlen(text), err, sizeof err) : NULL;
	if (text && !again)
		__builtin_trap(); /* what apply() writes must be readable */
	json_decref(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	err[0] = '\0';
	json_t *doc = mock_state_parse("fuzz.json", (const char *)data, size, err, sizeof err);
	if (doc) {
		check_doc(doc);
		json_decref(doc);
	} else if (strncmp(err, "fuzz.json", 9) != 0 || strchr(err, '\n') || strchr(err, '\x1b')) {
		__builtin_trap();
	}
	return 0;
}
