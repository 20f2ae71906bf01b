/*
 * libFuzzer target: the zone transfer parser (axfr_parse.c) fed a TCP
 * stream of messages. Must never crash, leak, hang or read out of
 * bounds, and must stop at the first error or at the end of the
 * transfer.
 *
 * Input: one flags byte, then messages each with its 2-byte length, as
 * on the wire. Flags: bit 0 verifies TSIG with the test key; bit 1 makes
 * the harness sign the messages itself, chained as a server does (so
 * the fuzzer reaches the records behind a valid MAC), bit 2 then leaves
 * every other message unsigned. The request ID is the first message's.
 * Seeds: tests/fuzz/rfc2136/axfr-corpus (make-seeds.sh there).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../unit/rfc2136/fake_sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t reqmac[32] = {7};

struct sink {
	size_t n;
};

static int on_rr(void *ctx, const struct r2136_rr *rr)
{
	struct sink *s = ctx;
	/* What is reported lies in the zone and has a name. */
	if (!rr->name || !r2136_in_zone(rr->name, "example.test"))
		__builtin_trap();
	s->n++;
	return 0;
}

/* The server side of the MAC chain. */
struct chain {
	uint8_t prior[R2136_MAC_MAX];
	size_t priorlen;
	struct r2136_buf pending;
	int first;
};

static void sign(struct chain *c, const struct r2136_key *k, struct r2136_buf *b,
		 int unsigned_)
{
	if (unsigned_) {
		fake_append(&c->pending, b->p, b->len);
		return;
	}
	if (b->len + 200 > R2136_MSG_MAX)
		return; /* no room for the TSIG: goes as it is */
	fake_sign(b, k, c->prior, c->priorlen, &c->pending, 1700000000, c->first,
		  c->prior, &c->priorlen);
	r2136_buf_free(&c->pending);
	c->first = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct r2136_key key;
	static int ready;
	if (!ready) {
		char err[100];
		r2136_key_set(&key, "ddns", "hmac-sha256", FAKE_SECRET, err, sizeof err);
		ready = 1;
	}
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	size_t off = 1;
	struct r2136_xfr x;
	struct sink s = {0};
	struct chain c = {.priorlen = sizeof reqmac, .first = 1};
	memcpy(c.prior, reqmac, sizeof reqmac);
	uint16_t id = size >= 5 ? r2136_get16(data + 3) : 0;
	r2136_xfr_init(&x, "example.test", id, flags & 1 ? &key : NULL, reqmac,
		       sizeof reqmac, on_rr, &s);
	x.max_records = 100000;
	int rc = 0;
	for (unsigned i = 0; rc == 0 && off + 2 <= size; i++) {
		size_t len = r2136_get16(data + off);
		off += 2;
		if (len > size - off)
			len = size - off; /* a stream cut short */
		struct r2136_buf b = {0};
		r2136_put_bytes(&b, data + off, len);
		off += len;
		if ((flags & 2) && b.len >= 12)
			sign(&c, &key, &b, (flags & 4) && (i & 1));
		rc = r2136_xfr_feed(&x, b.p, b.len, 1700000000);
		r2136_buf_free(&b);
		/* Every refusal says why. */
		if (rc < 0 && !x.why[0])
			__builtin_trap();
	}
	if (rc == 1 && x.soas != 2)
		__builtin_trap();
	r2136_buf_free(&c.pending);
	r2136_xfr_free(&x);
	return 0;
}
