/*
 * What the fake servers of the rfc2136 unit tests share: signing answers
 * the way a server does (RFC 8945 §5.3), so the provider's verification
 * meets correctly signed messages, chained over a multi-message answer.
 */
#ifndef R2136_FAKE_SIGN_H
#define R2136_FAKE_SIGN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../providers/rfc2136/rfc2136.h"

#define FAKE_SECRET "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

/** The MAC of a signed request, or 0 when it is unsigned. */
static inline size_t fake_request_mac(const uint8_t *q, size_t len,
				      uint8_t *mac)
{
	struct r2136_msg m;
	struct r2136_tsig t;
	const char *why;
	size_t n = 0;
	if (r2136_msg_decode(q, len, &m, NULL, 0))
		return 0;
	if (r2136_tsig_parse(&m, &t, &why) == 1) {
		memcpy(mac, t.mac, t.maclen);
		n = t.maclen;
	}
	r2136_msg_free(&m);
	return n;
}

/** The TSIG RR with `mac` (or none: maclen 0), original ID `id`, error
 *  `err`; ARCOUNT is incremented. */
static inline void fake_put_tsig(struct r2136_buf *ans, const struct r2136_key *k,
				 uint64_t now, const uint8_t *mac, size_t maclen,
				 uint16_t id, uint16_t err)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	uint16_t ar = r2136_get16(ans->p + 10);
	int an = r2136_name_to_wire(r2136_alg_name(k->alg), w);
	r2136_put_name(ans, k->name);
	r2136_put_u16(ans, R2136_TYPE_TSIG);
	r2136_put_u16(ans, R2136_CLASS_ANY);
	r2136_put_u32(ans, 0);
	r2136_put_u16(ans, (uint16_t)(an + 16 + maclen));
	r2136_put_bytes(ans, w, (size_t)an);
	r2136_put_u48(ans, now);
	r2136_put_u16(ans, R2136_FUDGE);
	r2136_put_u16(ans, (uint16_t)maclen);
	r2136_put_bytes(ans, mac, maclen);
	r2136_put_u16(ans, id);
	r2136_put_u16(ans, err);
	r2136_put_u16(ans, 0);
	ans->p[10] = (uint8_t)((ar + 1) >> 8);
	ans->p[11] = (uint8_t)(ar + 1);
}

/**
 * Sign `ans` (complete, ARCOUNT without the TSIG) as a server does: the
 * MAC covers the prior MAC (the request's, or the previous message's),
 * the unsigned messages sent since (`pending`, may be NULL), this one,
 * and the full TSIG variables (`first`) or only the timers. The MAC goes
 * to `mac` (R2136_MAC_MAX bytes) for chaining.
 */
static inline void fake_sign(struct r2136_buf *ans, const struct r2136_key *k,
			     const uint8_t *prior, size_t priorlen,
			     const struct r2136_buf *pending, uint64_t now,
			     int first, uint8_t *mac, size_t *maclen)
{
	/* The MAC input may pass 64 KiB (unsigned messages in between), which
	 * a struct r2136_buf refuses: the variables go to a small buffer and
	 * everything is joined in plain memory. */
	struct r2136_buf vars = {0};
	uint8_t l[2] = {(uint8_t)(priorlen >> 8), (uint8_t)priorlen};
	size_t plen = pending ? pending->len : 0;
	if (first) {
		r2136_tsig_vars(&vars, k, now, R2136_FUDGE);
	} else {
		r2136_put_u48(&vars, now);
		r2136_put_u16(&vars, R2136_FUDGE);
	}
	size_t n = 2 + priorlen + plen + ans->len + vars.len, o = 0;
	uint8_t *in = malloc(n);
	if (!in)
		abort();
	memcpy(in + o, l, 2), o += 2;
	memcpy(in + o, prior, priorlen), o += priorlen;
	if (plen)
		memcpy(in + o, pending->p, plen), o += plen;
	memcpy(in + o, ans->p, ans->len), o += ans->len;
	memcpy(in + o, vars.p, vars.len);
	r2136_tsig_hmac(k, in, n, mac, maclen);
	free(in);
	r2136_buf_free(&vars);
	fake_put_tsig(ans, k, now, mac, *maclen, r2136_get16(ans->p), 0);
}

/** Append `n` bytes to a plain growing buffer (no 64 KiB bound: the
 *  unsigned messages between two MACs of a transfer). */
static inline void fake_append(struct r2136_buf *b, const uint8_t *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			abort();
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/** An SOA record for `zone` with `serial` (the writer has no SOA rdata). */
static inline void fake_put_soa(struct r2136_buf *b, const char *zone,
				uint32_t serial)
{
	uint8_t w1[R2136_WIRE_NAME_MAX + 1], w2[R2136_WIRE_NAME_MAX + 1];
	char mname[300], rname[300];
	snprintf(mname, sizeof mname, "ns1.%s", zone);
	snprintf(rname, sizeof rname, "hostmaster.%s", zone);
	int n1 = r2136_name_to_wire(mname, w1), n2 = r2136_name_to_wire(rname, w2);
	r2136_put_name(b, zone);
	r2136_put_u16(b, 6);
	r2136_put_u16(b, 1);
	r2136_put_u32(b, 300);
	r2136_put_u16(b, (uint16_t)(n1 + n2 + 20));
	r2136_put_bytes(b, w1, (size_t)n1);
	r2136_put_bytes(b, w2, (size_t)n2);
	r2136_put_u32(b, serial);
	r2136_put_u32(b, 3600);
	r2136_put_u32(b, 900);
	r2136_put_u32(b, 604800);
	r2136_put_u32(b, 60);
}

#endif
