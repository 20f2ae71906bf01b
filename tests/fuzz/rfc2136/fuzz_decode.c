/*
 * libFuzzer target: the rfc2136 provider's message decoder and TSIG
 * verification, fed arbitrary bytes as a server answer. Must never crash,
 * leak or read out of bounds; whatever it accepts must re-encode names
 * and decode its TSIG consistently.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../../providers/rfc2136/rfc2136.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(const struct r2136_msg *m)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	char back[R2136_NAME_MAX];
	const char *why;
	for (size_t i = 0; i < m->nrr; i++) {
		/* A decoded name encodes again, in at most 255 bytes, and
		 * decodes to the same text. */
		int n = r2136_name_to_wire(m->rr[i].name, w);
		size_t off = 0;
		if (n <= 0 || n > R2136_WIRE_NAME_MAX ||
		    r2136_get_name(w, (size_t)n, &off, 0, back, &why) != 0 ||
		    off != (size_t)n || strcmp(back, m->rr[i].name) != 0)
			__builtin_trap();
		if (m->rr[i].text && strlen(m->rr[i].text) > m->rr[i].textlen)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct r2136_key key;
	static int ready;
	char why[128];
	struct r2136_msg m;
	if (!ready) {
		char err[100];
		r2136_key_set(&key, "ddns", "hmac-sha256",
			      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", err,
			      sizeof err);
		ready = 1;
	}
	if (r2136_msg_decode(data, size, &m, why, sizeof why) != 0)
		return 0;
	check_names(&m);
	struct r2136_tsig t;
	const char *w = NULL;
	r2136_tsig_parse(&m, &t, &w);
	/* Verify as the first and as a later message of a stream. */
	struct r2136_tsig_verifier v;
	uint8_t reqmac[32] = {0};
	r2136_tsig_verify_init(&v, &key, reqmac, sizeof reqmac);
	r2136_tsig_verify_next(&v, &m, 1700000000, &w);
	r2136_tsig_verify_next(&v, &m, 1700000000, &w);
	r2136_tsig_verify_free(&v);
	r2136_msg_free(&m);
	return 0;
}
