/*
 * libFuzzer target: the rfc2136 provider's TSIG key file parser (BIND
 * `tsig-keygen` and Knot `keymgr -t` formats), fed arbitrary text as the
 * file. Must never crash, hang, leak or read out of bounds; a key it
 * accepts is complete, and an error is one line naming the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../../providers/rfc2136/rfc2136.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *text, const char *want)
{
	struct r2136_key k;
	char err[1400];
	memset(&k, 0, sizeof k);
	err[0] = 0;
	int rc = r2136_keyfile_parse(text, "fuzz.key", want, &k, err, sizeof err);
	if (rc == 0) {
		if (!k.name[0] || !k.alg || k.secret_len == 0 ||
		    k.secret_len > sizeof k.secret)
			__builtin_trap();
		if (want && strcasecmp(k.name, want) != 0)
			__builtin_trap(); /* picked another key than asked */
	} else {
		/* An error is one line naming the file (or out of memory). */
		int named = strncmp(err, "fuzz.key:", 9) == 0 ||
			    strncmp(err, "key_file fuzz.key:", 18) == 0 ||
			    strcmp(err, "out of memory") == 0;
		if (rc > 0 || !named || strchr(err, '\n'))
			__builtin_trap();
	}
	r2136_key_wipe(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The loader refuses NUL bytes before parsing (DNSFOLLOW_READ_TEXT). */
	if (memchr(data, 0, size))
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	one(text, NULL);
	one(text, "upd");
	free(text);
	return 0;
}
