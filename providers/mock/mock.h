/*
 * The mock provider (mock.c: the plugin and its ops; state.c: checking
 * the JSON state file; store.c: the state kept parsed, and written).
 * mock_state_parse() works on memory only, so the fuzz target
 * (tests/fuzz/mock) drives it without a file or a host.
 */
#ifndef DF_MOCK_H
#define DF_MOCK_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <dnsfollow/plugin.h>

#define MOCK_MAX_STATE (64u << 20) /* bytes of the state file */

/* Which file a parsed state came from (exists 0: there was none). */
struct mock_file {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct mock {
	const struct dnsfollow_host *h;
	char *state;
	char **zones;
	size_t nzones;
	uint64_t fail_every, latency_ms; /* typed keys, parsed by the core */
	uint64_t calls;
	/* store.c: the state as last read or written (NULL: not known), the
	 * file it is, whether that identity proves it (not "racy"), each
	 * zone's text as written, the written file held open. */
	json_t *doc, *frags;
	struct mock_file id;
	int trusted, pin;
	uint64_t parses, writes; /* for tests */
};

/* Parse and check a whole state document: {"zones": {ZONE: {"serial": N,
 * "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [STRING...]}}}}}}. Returns
 * the document, or NULL with `err` set to one line naming `path`. */
json_t *mock_state_parse(const char *path, const char *data, size_t len,
			 char *err, size_t errlen);

/* The state as the file holds it now (read again only when the file
 * changed); a missing file is an empty state. The document is borrowed
 * until the next call. 0, or a negative code with the host's error set. */
int mock_state_get(struct mock *m, json_t **out);

/* Make `z` (stolen) zone `zone` of the state got last, and write the
 * file. On error nothing changed, in the file or in memory. */
int mock_state_commit(struct mock *m, const char *zone, json_t *z);

/* Drop what is kept (destroy; a file that failed to load). */
void mock_state_forget(struct mock *m);

/* Copy `s` for a message: at most n-1 bytes, control bytes as '?'. */
const char *mock_shown(const char *s, char *buf, size_t n);

#endif /* DF_MOCK_H */
