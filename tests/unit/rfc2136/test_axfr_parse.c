/* The transfer parser (axfr_parse.c) on crafted messages, without the
 * network: a transfer in order, every truncation of a message, pointer
 * loops, wrong TSIG in all its forms, framing (SOA first, the same SOA
 * last, nothing after it), answers to another request, and the limits.
 * Every bad input gives one error code and a reason, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <errno.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "fake_sign.h"

#define ZONE "example.test"
#define ID 0x4242

static struct r2136_key key;
static const uint8_t reqmac[32] = {1, 2, 3};

/* The server side: the MAC chain and the unsigned messages since. */
struct chain {
	uint8_t prior[R2136_MAC_MAX];
	size_t priorlen;
	struct r2136_buf pending;
	int first;
};

static void chain_init(struct chain *c)
{
	memset(c, 0, sizeof *c);
	memcpy(c->prior, reqmac, sizeof reqmac);
	c->priorlen = sizeof reqmac;
	c->first = 1;
}

/* Sign `b` (signed) or remember it for the next MAC (unsigned). */
static void finish(struct chain *c, struct r2136_buf *b, int sign, int64_t t)
{
	if (!sign) {
		fake_append(&c->pending, b->p, b->len);
		return;
	}
	fake_sign(b, &key, c->prior, c->priorlen, &c->pending, (uint64_t)t,
		  c->first, c->prior, &c->priorlen);
	r2136_buf_free(&c->pending);
	c->first = 0;
}

static void begin(struct r2136_buf *b, uint16_t an, int question)
{
	memset(b, 0, sizeof *b);
	r2136_put_header(b, ID, 0x8400, question ? 1 : 0, an, 0, 0);
	if (question) {
		r2136_put_name(b, ZONE);
		r2136_put_u16(b, R2136_TYPE_AXFR);
		r2136_put_u16(b, R2136_CLASS_IN);
	}
}

static void put_rr(struct r2136_buf *b, const char *name, uint16_t type,
		   const char *data)
{
	r2136_put_name(b, name);
	r2136_put_u16(b, type);
	r2136_put_u16(b, R2136_CLASS_IN);
	r2136_put_u32(b, 60);
	r2136_put_rdata(b, type, data);
}

struct seen {
	int n;
	char last[300];
};

static int on_rr(void *ctx, const struct r2136_rr *rr)
{
	struct seen *s = ctx;
	s->n++;
	snprintf(s->last, sizeof s->last, "%s/%u", rr->name, rr->type);
	return 0;
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

static int feed(struct r2136_xfr *x, const struct r2136_buf *b)
{
	return r2136_xfr_feed(x, b->p, b->len, now());
}

/* A good first message: SOA, an A record, a marker; signed. */
static void first_msg(struct r2136_buf *b, struct chain *c, int sign)
{
	begin(b, 3, 1);
	fake_put_soa(b, ZONE, 7);
	put_rr(b, "www." ZONE, 1, "192.0.2.1");
	put_rr(b, "_dnsfollow.www." ZONE, 16, "heritage=dnsfollow,owner=x");
	finish(c, b, sign, now());
}

static void last_msg(struct r2136_buf *b, struct chain *c, uint32_t serial,
		     int sign)
{
	begin(b, 2, 0);
	put_rr(b, "mail." ZONE, 16, "not a marker");
	fake_put_soa(b, ZONE, serial);
	finish(c, b, sign, now());
}

static void setup(struct r2136_xfr *x, struct chain *c, struct seen *s,
		  int signed_)
{
	memset(s, 0, sizeof *s);
	chain_init(c);
	r2136_xfr_init(x, ZONE, ID, signed_ ? &key : NULL, reqmac, sizeof reqmac,
		       on_rr, s);
}

static void test_in_order(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	for (int signed_ = 0; signed_ < 2; signed_++) {
		setup(&x, &c, &s, signed_);
		first_msg(&b, &c, 1);
		assert_int_equal(feed(&x, &b), 0);
		r2136_buf_free(&b);
		/* Out of the zone: ignored, not reported. */
		begin(&b, 1, 0);
		put_rr(&b, "www.example.net", 1, "192.0.2.9");
		finish(&c, &b, 0, now());
		assert_int_equal(feed(&x, &b), 0);
		r2136_buf_free(&b);
		last_msg(&b, &c, 7, 1);
		assert_int_equal(feed(&x, &b), 1);
		r2136_buf_free(&b);
		/* SOA, A, marker, TXT: the closing SOA is not reported again. */
		assert_int_equal(s.n, 4);
		assert_string_equal(s.last, "mail.example.test/16");
		assert_int_equal(x.nrec, 5);
		assert_int_equal(x.skipped, 1);
		assert_int_equal(x.msgs, 3);
		r2136_xfr_free(&x);
		r2136_buf_free(&c.pending);
	}
}

/* Every cut of a signed message is refused as malformed. */
static void test_truncated(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 1);
	r2136_xfr_free(&x);
	for (size_t len = 0; len < b.len; len++) {
		setup(&x, &c, &s, 1);
		int rc = r2136_xfr_feed(&x, b.p, len, now());
		if (rc != -EPROTO)
			fail_msg("cut at %zu of %zu: %d (%s)", len, b.len, rc, x.why);
		assert_non_null(strstr(x.why, "a malformed message ("));
		r2136_xfr_free(&x);
	}
	r2136_buf_free(&b);
}

/* A name that points at itself, or forwards: refused, no loop. */
static void test_pointer_loop(void **st)
{
	(void)st;
	static const uint8_t self[] = {0xc0, 0x0c}, fwd[] = {0xc0, 0x20};
	const uint8_t *ptrs[] = {self, fwd};
	for (int k = 0; k < 2; k++) {
		struct r2136_xfr x;
		struct chain c;
		struct seen s;
		struct r2136_buf b;
		setup(&x, &c, &s, 0);
		begin(&b, 1, 0);
		r2136_put_bytes(&b, ptrs[k], 2); /* the owner, at offset 12 */
		r2136_put_u16(&b, 1);
		r2136_put_u16(&b, 1);
		r2136_put_u32(&b, 60);
		r2136_put_rdata(&b, 1, "192.0.2.1");
		r2136_put_bytes(&b, "\x03www\0\0\0\0\0\0\0\0\0\0\0\0", 16);
		assert_int_equal(feed(&x, &b), -EPROTO);
		assert_non_null(strstr(x.why, "compression pointer does not point "
				       "backwards"));
		assert_int_equal(s.n, 0);
		r2136_xfr_free(&x);
		r2136_buf_free(&b);
	}
}

/* The TSIG of the first message, wrong in each way. */
static void test_wrong_tsig(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	/* Unsigned. */
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 0);
	assert_int_equal(feed(&x, &b), -EACCES);
	assert_string_equal(x.why, "response is not signed");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	r2136_buf_free(&c.pending);
	/* A flipped MAC byte. */
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 1);
	b.p[b.len - 10] ^= 1;
	assert_int_equal(feed(&x, &b), -EACCES);
	assert_string_equal(x.why, "response signature does not verify");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	/* Another key (same secret, another name). */
	struct r2136_key other;
	char err[100];
	assert_int_equal(r2136_key_set(&other, "other", "hmac-sha256", FAKE_SECRET,
				       err, sizeof err), 0);
	setup(&x, &c, &s, 1);
	begin(&b, 1, 1);
	fake_put_soa(&b, ZONE, 7);
	fake_sign(&b, &other, c.prior, c.priorlen, NULL, (uint64_t)now(), 1,
		  c.prior, &c.priorlen);
	assert_int_equal(feed(&x, &b), -EACCES);
	assert_string_equal(x.why, "response signed with another key");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	/* Signed an hour ago. */
	setup(&x, &c, &s, 1);
	begin(&b, 1, 1);
	fake_put_soa(&b, ZONE, 7);
	finish(&c, &b, 1, now() - 3600);
	assert_int_equal(feed(&x, &b), -EACCES);
	assert_non_null(strstr(x.why, "clock skew"));
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	/* A TSIG that is not the last record: malformed. */
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 1);
	b.p[11] = 0; /* ARCOUNT 0: the TSIG now sits in the answer section */
	b.p[7] = 4;
	assert_int_equal(feed(&x, &b), -EPROTO);
	assert_string_equal(x.why, "TSIG record is not the last one");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	assert_int_equal(s.n, 0);
}

/* In the middle: up to 99 unsigned messages, each covered by the next
 * MAC; a 100th unsigned one is refused; a changed one breaks the MAC. */
static void test_unsigned_runs(void **st)
{
	(void)st;
	for (int run = 99; run <= 100; run++)
		for (int tamper = 0; tamper < 2; tamper++) {
			struct r2136_xfr x;
			struct chain c;
			struct seen s;
			struct r2136_buf b;
			int rc = 0;
			setup(&x, &c, &s, 1);
			first_msg(&b, &c, 1);
			assert_int_equal(feed(&x, &b), 0);
			r2136_buf_free(&b);
			for (int i = 0; i < run && rc == 0; i++) {
				char name[64];
				snprintf(name, sizeof name, "h%d." ZONE, i);
				begin(&b, 1, 0);
				put_rr(&b, name, 1, "192.0.2.2");
				finish(&c, &b, 0, now());
				if (tamper && i == 50)
					b.p[b.len - 1] ^= 1;
				rc = feed(&x, &b);
				r2136_buf_free(&b);
			}
			if (run == 100) {
				assert_int_equal(rc, -EACCES);
				assert_string_equal(x.why, "too many unsigned messages in a row");
			} else {
				assert_int_equal(rc, 0);
				last_msg(&b, &c, 7, 1);
				assert_int_equal(feed(&x, &b), tamper ? -EACCES : 1);
				r2136_buf_free(&b);
			}
			r2136_xfr_free(&x);
			r2136_buf_free(&c.pending);
		}
}

/* The last message must be signed: the transfer is not complete. */
static void test_unsigned_last(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 1);
	assert_int_equal(feed(&x, &b), 0);
	r2136_buf_free(&b);
	last_msg(&b, &c, 7, 0);
	assert_int_equal(feed(&x, &b), -EACCES);
	assert_string_equal(x.why, "the last message is not signed");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	r2136_buf_free(&c.pending);
}

static void test_framing(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	/* The closing SOA has another serial. */
	setup(&x, &c, &s, 1);
	first_msg(&b, &c, 1);
	assert_int_equal(feed(&x, &b), 0);
	r2136_buf_free(&b);
	last_msg(&b, &c, 8, 1);
	assert_int_equal(feed(&x, &b), -EPROTO);
	assert_non_null(strstr(x.why, "the closing SOA"));
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	/* No SOA first. */
	setup(&x, &c, &s, 0);
	begin(&b, 1, 1);
	put_rr(&b, "www." ZONE, 1, "192.0.2.1");
	assert_int_equal(feed(&x, &b), -EPROTO);
	assert_non_null(strstr(x.why, "does not start with the SOA"));
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	/* Records after the closing SOA, and an SOA below the apex. */
	for (int k = 0; k < 2; k++) {
		setup(&x, &c, &s, 0);
		begin(&b, 3, 1);
		fake_put_soa(&b, ZONE, 7);
		if (k == 0) {
			fake_put_soa(&b, ZONE, 7);
			put_rr(&b, "www." ZONE, 1, "192.0.2.1");
		} else {
			fake_put_soa(&b, "sub." ZONE, 7);
			fake_put_soa(&b, ZONE, 7);
		}
		assert_int_equal(feed(&x, &b), -EPROTO);
		assert_non_null(strstr(x.why, k == 0 ? "records after the end" :
				       "an SOA record at sub.example.test"));
		r2136_xfr_free(&x);
		r2136_buf_free(&b);
	}
}

/* Not an answer to our request. */
static void test_not_ours(void **st)
{
	(void)st;
	static const struct {
		size_t at;
		uint8_t val;
		const char *why;
	} cut[] = {
		{0, 0x41, "does not answer the request"},    /* ID */
		{2, 0x04, "does not answer the request"},    /* QR off */
		{2, 0x84 | 0x02, "truncated message"},       /* TC */
		{2, 0x84 | (4 << 3), "opcode 4"},            /* NOTIFY */
		{5, 2, "malformed"},                         /* QDCOUNT 2 */
	};
	for (size_t k = 0; k < sizeof cut / sizeof cut[0]; k++) {
		struct r2136_xfr x;
		struct chain c;
		struct seen s;
		struct r2136_buf b;
		setup(&x, &c, &s, 0);
		first_msg(&b, &c, 0);
		b.p[cut[k].at] = cut[k].val;
		assert_int_equal(feed(&x, &b), -EPROTO);
		if (!strstr(x.why, cut[k].why))
			fail_msg("case %zu: %s", k, x.why);
		r2136_xfr_free(&x);
		r2136_buf_free(&b);
		r2136_buf_free(&c.pending);
	}
	/* Another question. */
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b = {0};
	setup(&x, &c, &s, 0);
	r2136_put_header(&b, ID, 0x8400, 1, 1, 0, 0);
	r2136_put_name(&b, "example.net");
	r2136_put_u16(&b, R2136_TYPE_AXFR);
	r2136_put_u16(&b, R2136_CLASS_IN);
	fake_put_soa(&b, "example.net", 7);
	assert_int_equal(feed(&x, &b), -EPROTO);
	assert_non_null(strstr(x.why, "another question"));
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
}

static void test_error_answer(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	setup(&x, &c, &s, 1);
	begin(&b, 0, 1);
	b.p[3] = 0x05; /* REFUSED, unsigned */
	assert_int_equal(feed(&x, &b), R2136_XFR_ANSWER);
	assert_int_equal(x.rcode, 5);
	assert_int_equal(x.unsigned_answer, 1);
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
}

static void test_limits(void **st)
{
	(void)st;
	struct r2136_xfr x;
	struct chain c;
	struct seen s;
	struct r2136_buf b;
	setup(&x, &c, &s, 1);
	x.max_records = 2;
	first_msg(&b, &c, 1);
	assert_int_equal(feed(&x, &b), -EMSGSIZE);
	assert_string_equal(x.why, "more than 2 records");
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
	setup(&x, &c, &s, 1);
	x.max_bytes = 100;
	first_msg(&b, &c, 1);
	assert_int_equal(feed(&x, &b), -EMSGSIZE);
	assert_string_equal(x.why, "more than 100 bytes");
	assert_int_equal(s.n, 0);
	r2136_xfr_free(&x);
	r2136_buf_free(&b);
}

static int setup_key(void **st)
{
	char err[100];
	(void)st;
	return r2136_key_set(&key, "ddns", "hmac-sha256", FAKE_SECRET, err,
			     sizeof err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_pointer_loop),
		cmocka_unit_test(test_wrong_tsig),
		cmocka_unit_test(test_unsigned_runs),
		cmocka_unit_test(test_unsigned_last),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_error_answer),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests_name("rfc2136 axfr parser", tests, setup_key,
					   NULL);
}
