/*
 * libFuzzer target: the static backend's placements parser (make
 * fuzz-static). Besides memory errors it checks what the backend relies
 * on: an error is one "FILE:LINE: ..." line; a parsed table has sorted,
 * unique section names that sb_find() finds, each with at most
 * SB_MAX_ADDRS valid addresses, together covering every address kept.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/static/static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(const struct sb_table *t)
{
	size_t total = 0;
	for (size_t i = 0; i < t->nsec; i++) {
		const struct sb_section *s = &t->sec[i];
		if (i && strcmp(t->sec[i - 1].name, s->name) >= 0)
			__builtin_trap(); /* unsorted or duplicate */
		if (sb_find(t, s->name) != s || !s->key_line || s->count > SB_MAX_ADDRS ||
		    s->first + s->count > t->naddrs)
			__builtin_trap();
		for (size_t j = s->first; j < s->first + s->count; j++) {
			unsigned char bin[16];
			if (inet_pton(AF_INET, t->addrs[j], bin) != 1 &&
			    inet_pton(AF_INET6, t->addrs[j], bin) != 1)
				__builtin_trap();
		}
		total += s->count;
	}
	if (total != t->naddrs)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_table t = {0};
	int rc = sb_parse(&t, "fuzz.ini", (const char *)data, size);
	if (rc == 0)
		check_table(&t);
	else if (strncmp(t.err, "fuzz.ini:", 9) != 0 || strchr(t.err, '\n') ||
		 strchr(t.err, '\x1b'))
		__builtin_trap();
	sb_clear(&t);
	return 0;
}
