/*
 * The mock provider (mock.c: the plugin and its ops; state.c: the JSON
 * state file). mock_state_parse() works on memory only, so the fuzz
 * target (tests/fuzz/mock) drives it without a file or a host.
 */
#ifndef DF_MOCK_H
#define DF_MOCK_H

#include <jansson.h>
#include <stddef.h>

#include <dnsfollow/plugin.h>

#define MOCK_MAX_STATE (64u << 20) /* bytes of the state file */

struct mock {
	const struct dnsfollow_host *h;
	char *state;
	char **zones;
	size_t nzones;
	uint64_t fail_every, latency_ms; /* typed keys, parsed by the core */
	uint64_t calls;
};

/* Parse and check a whole state document: {"zones": {ZONE: {"serial": N,
 * "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [STRING...]}}}}}}. Returns
 * the document, or NULL with `err` set to one line naming `path`. */
json_t *mock_state_parse(const char *path, const char *data, size_t len,
			 char *err, size_t errlen);

/* The state of `m`; a missing file is an empty state. 0, or a negative
 * code with the host's error text set. */
int mock_state_load(struct mock *m, json_t **out);

/* Write the state through a temporary file renamed over it. */
int mock_state_save(struct mock *m, json_t *doc);

/* Copy `s` for a message: at most n-1 bytes, control bytes as '?'. */
const char *mock_shown(const char *s, char *buf, size_t n);

#endif /* DF_MOCK_H */
