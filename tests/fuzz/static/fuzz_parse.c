/*
 * libFuzzer target: the static backend's placements parser (make
 * fuzz-static). Besides memory errors it checks what the backend relies
 * on: an error is one "FILE:LINE: ..." line; a parsed table has sorted,
 * unique section names that sb_find() finds, each with at most
 * SB_MAX_ADDRS valid addresses, together covering every address kept,
 * a hostname only as the name checker returned it, and the discover
 * lines: at most SB_MAX_NAMES names per section, each non-empty, without
 * blanks or commas, none twice; at most SB_MAX_RKEYS record keys, each
 * 1-SB_MAX_RKEY of [a-z0-9_.-], none twice. The checker here
 * stands in for host->name_normalise (no host in a fuzz target).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../../backends/static/static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* host->name_normalise's contract, in short. */
static int norm(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), label = 0;
	if (n && in[n - 1] == '.')
		n--;
	if (n > 253)
		return -EINVAL;
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
			return -EINVAL;
		if (c == '.' ? label == 0 : ++label > 63)
			return -EINVAL;
		if (c == '.')
			label = 0;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	if (n && label == 0)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

/* A kept hostname is what norm() makes of itself: non-empty, normalised. */
static void check_hostname(const struct sb_section *s)
{
	char again[256];
	if (!s->hostname != !s->host_line)
		__builtin_trap();
	if (s->hostname && (!*s->hostname || norm(s->hostname, again, sizeof again) != 0 ||
			    strcmp(again, s->hostname) != 0))
		__builtin_trap();
}

static void check_names(const struct sb_section *s)
{
	if (s->nnames > SB_MAX_NAMES || (s->nnames && !s->names_line))
		__builtin_trap();
	for (size_t i = 0; i < s->nnames; i++) {
		const char *n = s->names[i];
		if (!*n || n[strcspn(n, ", \t")])
			__builtin_trap();
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(s->names[j], n) == 0)
				__builtin_trap();
	}
}

static void check_rkeys(const struct sb_section *s)
{
	if (s->nrkeys > SB_MAX_RKEYS)
		__builtin_trap();
	for (size_t i = 0; i < s->nrkeys; i++) {
		const char *k = s->rkeys[i].key;
		size_t n = strlen(k);
		if (!n || n > SB_MAX_RKEY || !s->rkeys[i].value || s->rkeys[i].line <= s->line ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
			__builtin_trap();
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->rkeys[j].key, k) == 0 || s->rkeys[j].line >= s->rkeys[i].line)
				__builtin_trap();
	}
}

static void check_table(const struct sb_table *t)
{
	size_t total = 0;
	for (size_t i = 0; i < t->nsec; i++) {
		const struct sb_section *s = &t->sec[i];
		if (i && strcmp(t->sec[i - 1].name, s->name) >= 0)
			__builtin_trap(); /* unsorted or duplicate */
		check_hostname(s);
		check_names(s);
		check_rkeys(s);
		if (sb_find(t, s->name) != s || (!s->key_line && !s->host_line) ||
		    s->count > SB_MAX_ADDRS ||
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
	int rc = sb_parse(&t, "fuzz.ini", (const char *)data, size, norm);
	if (rc == 0)
		check_table(&t);
	else if (strncmp(t.err, "fuzz.ini:", 9) != 0 || strchr(t.err, '\n') ||
		 strchr(t.err, '\x1b'))
		__builtin_trap();
	sb_clear(&t);
	return 0;
}
