/* TSIG: known answers from the issue (checked with openssl), signing and
 * verifying round trips, chained multi-message verification, tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"

static const char *UPDATE_HEX =
	"123428000001000000020000076578616d706c650474657374000006000103737368"
	"076578616d706c65047465737400000100ff00000000000003737368076578616d70"
	"6c65047465737400000100010000003c0004c000020a";
static const char *VARS_HEX =
	"08746573742d6b65790000ff000000000b686d61632d7368613235360000006553f1"
	"00012c00000000";
static const char *SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

static char *hex(const uint8_t *p, size_t n)
{
	static char out[4096];
	for (size_t i = 0; i < n && i < 2047; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * (n < 2047 ? n : 2047)] = 0;
	return out;
}

static void key(struct r2136_key *k, const char *alg)
{
	char err[200];
	assert_int_equal(r2136_key_set(k, "test-key", alg, SECRET, err, sizeof err), 0);
}

/* The unsigned UPDATE of the vector, made by apply()'s own builder with
 * the ID pinned and compression and the CNAME prerequisites off (the
 * vector has neither). */
static void vector_update(struct r2136_buf *b)
{
	static const char *const ip[] = {"192.0.2.10"};
	const struct dnsfollow_change c = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "ssh.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = ip}};
	const struct r2136_build how = {.limit = 65000, .plain_names = 1,
					.id = 0x1234, .unguarded = 1};
	struct r2136 p = {.host = testhost_new("t")};
	struct r2136_updates u;
	assert_int_equal(r2136_build_updates(&p, "example.test", &c, 1, &how, &u), 0);
	assert_int_equal(u.nmsg, 1);
	*b = u.msg[0];
	u.nmsg = 0; /* the message is the caller's now */
	r2136_updates_free(&u);
	testhost_free(p.host);
}

static void test_update_bytes(void **st)
{
	(void)st;
	struct r2136_buf b;
	vector_update(&b);
	assert_int_equal(b.err, 0);
	assert_string_equal(hex(b.p, b.len), UPDATE_HEX);
	r2136_buf_free(&b);
}

static void test_vars_bytes(void **st)
{
	(void)st;
	struct r2136_key k;
	struct r2136_buf v = {0};
	key(&k, "hmac-sha256");
	r2136_tsig_vars(&v, &k, 1700000000, 300);
	assert_string_equal(hex(v.p, v.len), VARS_HEX);
	r2136_buf_free(&v);
}

static void check_mac(const char *alg, const char *want)
{
	struct r2136_key k;
	struct r2136_buf b, s;
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen;
	key(&k, alg);
	vector_update(&b);
	memset(&s, 0, sizeof s);
	r2136_put_bytes(&s, b.p, b.len);
	assert_int_equal(r2136_tsig_sign(&s, &k, 1700000000, mac, &maclen), 0);
	assert_string_equal(hex(mac, maclen), want);
	/* A prepared key (set up once, as the provider does) gives the same
	 * MAC, and again for a second message. */
	struct r2136_buf s2;
	assert_int_equal(r2136_key_prepare(&k), 0);
	for (int i = 0; i < 2; i++) {
		memset(&s2, 0, sizeof s2);
		r2136_put_bytes(&s2, b.p, b.len);
		assert_int_equal(r2136_tsig_sign(&s2, &k, 1700000000, mac, &maclen), 0);
		assert_string_equal(hex(mac, maclen), want);
		r2136_buf_free(&s2);
	}
	r2136_key_wipe(&k);
	key(&k, alg);
	/* ARCOUNT now counts the TSIG, and the message decodes. */
	assert_int_equal(r2136_get16(s.p + 10), 1);
	struct r2136_msg m;
	struct r2136_tsig t;
	const char *why = NULL;
	assert_int_equal(r2136_msg_decode(s.p, s.len, &m, NULL, 0), 0);
	assert_int_equal(r2136_tsig_parse(&m, &t, &why), 1);
	assert_string_equal(t.key, "test-key");
	assert_int_equal(t.time, 1700000000);
	assert_int_equal(t.fudge, 300);
	assert_int_equal(t.orig_id, 0x1234);
	assert_memory_equal(t.mac, mac, maclen);
	r2136_msg_free(&m);
	r2136_buf_free(&b);
	r2136_buf_free(&s);
}

static void test_mac_sha256(void **st)
{
	(void)st;
	check_mac("hmac-sha256",
		  "3374f4335087c1e2561a96e19ff8f9ac3ca05fa5979cdc5ca98cf97a3f973d6a");
}

static void test_mac_sha1(void **st)
{
	(void)st;
	check_mac("hmac-sha1", "0faddcb0fb7927767031c2843fb29b949cca1dfc");
}

static void test_alg_names(void **st)
{
	(void)st;
	assert_non_null(r2136_alg_find("hmac-sha224"));
	assert_non_null(r2136_alg_find("HMAC-SHA384."));
	assert_int_equal(r2136_alg_maclen(r2136_alg_find("hmac-sha512")), 64);
	assert_null(r2136_alg_find("hmac-md5"));
	assert_null(r2136_alg_find("hmac-sha2560"));
	assert_null(r2136_alg_find(""));
}

/* A server's answer to `req` (signed with `reqmac`), signed like a server
 * would: the MAC covers the request MAC, the answer and the variables. */
static void server_sign(struct r2136_buf *ans, const struct r2136_key *k,
			const uint8_t *prior, size_t priorlen, uint64_t now,
			int first, uint8_t *mac, size_t *maclen)
{
	struct r2136_buf in = {0};
	r2136_put_u16(&in, (uint16_t)priorlen);
	r2136_put_bytes(&in, prior, priorlen);
	r2136_put_bytes(&in, ans->p, ans->len);
	if (first) {
		r2136_tsig_vars(&in, k, now, 300);
	} else {
		r2136_put_u48(&in, now);
		r2136_put_u16(&in, 300);
	}
	assert_int_equal(r2136_tsig_hmac(k, in.p, in.len, mac, maclen), 0);
	r2136_buf_free(&in);
	uint16_t id = r2136_get16(ans->p), ar = r2136_get16(ans->p + 10);
	r2136_put_name(ans, k->name);
	r2136_put_u16(ans, 250);
	r2136_put_u16(ans, 255);
	r2136_put_u32(ans, 0);
	uint8_t w[256];
	int an = r2136_name_to_wire(r2136_alg_name(k->alg), w);
	r2136_put_u16(ans, (uint16_t)(an + 16 + *maclen));
	r2136_put_bytes(ans, w, (size_t)an);
	r2136_put_u48(ans, now);
	r2136_put_u16(ans, 300);
	r2136_put_u16(ans, (uint16_t)*maclen);
	r2136_put_bytes(ans, mac, *maclen);
	r2136_put_u16(ans, id);
	r2136_put_u16(ans, 0);
	r2136_put_u16(ans, 0);
	ans->p[10] = (uint8_t)((ar + 1) >> 8);
	ans->p[11] = (uint8_t)(ar + 1);
}

static void answer(struct r2136_buf *a, uint16_t id, const char *ip)
{
	memset(a, 0, sizeof *a);
	r2136_put_header(a, id, 0x8400, 0, 1, 0, 0);
	r2136_put_name(a, "ssh.example.test");
	r2136_put_u16(a, 1);
	r2136_put_u16(a, 1);
	r2136_put_u32(a, 60);
	r2136_put_rdata(a, 1, ip);
}

static int verify(const struct r2136_key *k, struct r2136_tsig_verifier *v,
		  struct r2136_buf *a, int64_t now)
{
	struct r2136_msg m;
	const char *why = NULL;
	assert_int_equal(r2136_msg_decode(a->p, a->len, &m, NULL, 0), 0);
	(void)k;
	int rc = r2136_tsig_verify_next(v, &m, now, &why);
	r2136_msg_free(&m);
	return rc;
}

static void test_verify_response(void **st)
{
	(void)st;
	struct r2136_key k, other;
	uint8_t reqmac[32] = {1, 2, 3}, mac[64];
	size_t maclen;
	struct r2136_tsig_verifier v;
	struct r2136_buf a;
	key(&k, "hmac-sha256");
	answer(&a, 7, "192.0.2.10");
	server_sign(&a, &k, reqmac, 32, 1700000000, 1, mac, &maclen);
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000100), 0);
	assert_true(r2136_tsig_verify_done(&v));
	r2136_tsig_verify_free(&v);
	/* Outside the fudge window. */
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000301), -EACCES);
	r2136_tsig_verify_free(&v);
	/* Another request MAC (an answer to another request). */
	reqmac[0] ^= 1;
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000000), -EACCES);
	r2136_tsig_verify_free(&v);
	reqmac[0] ^= 1;
	/* Another secret. */
	char err[100];
	assert_int_equal(r2136_key_set(&other, "test-key", "hmac-sha256",
				       "c2VjcmV0c2VjcmV0", err, sizeof err), 0);
	r2136_tsig_verify_init(&v, &other, reqmac, 32);
	assert_int_equal(verify(&other, &v, &a, 1700000000), -EACCES);
	r2136_tsig_verify_free(&v);
	/* One flipped bit in the answer's rdata. */
	a.p[40] ^= 0x01; /* the first byte of the A rdata */
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000000), -EACCES);
	r2136_tsig_verify_free(&v);
	r2136_buf_free(&a);
}

static void test_unsigned_rejected(void **st)
{
	(void)st;
	struct r2136_key k;
	uint8_t reqmac[32] = {0};
	struct r2136_tsig_verifier v;
	struct r2136_buf a;
	key(&k, "hmac-sha256");
	answer(&a, 7, "192.0.2.10");
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000000), -EACCES);
	assert_false(r2136_tsig_verify_done(&v));
	r2136_tsig_verify_free(&v);
	r2136_buf_free(&a);
}

/* Three messages: signed, unsigned, signed (chained on the prior MAC and
 * covering the unsigned one). Then the same with the middle altered. */
static void test_multi_message(void **st)
{
	(void)st;
	struct r2136_key k;
	uint8_t reqmac[32] = {9}, mac1[64], mac3[64];
	size_t l1, l3;
	struct r2136_buf a1, a2, a3;
	struct r2136_tsig_verifier v;
	key(&k, "hmac-sha512");
	answer(&a1, 5, "192.0.2.1");
	answer(&a2, 5, "192.0.2.2");
	answer(&a3, 5, "192.0.2.3");
	server_sign(&a1, &k, reqmac, 32, 1700000000, 1, mac1, &l1);
	struct r2136_buf chain = {0};
	r2136_put_bytes(&chain, a2.p, a2.len); /* unsigned message is covered */
	struct r2136_buf in3 = {0};
	r2136_put_bytes(&in3, a2.p, a2.len);
	/* server_sign puts prior, then ans: put a2 in front of a3 by signing
	 * the concatenation and then cutting a2 off again. */
	r2136_put_bytes(&in3, a3.p, a3.len);
	server_sign(&in3, &k, mac1, l1, 1700000001, 0, mac3, &l3);
	struct r2136_buf s3 = {0};
	r2136_put_bytes(&s3, in3.p + a2.len, in3.len - a2.len);
	/* ARCOUNT was patched at the start of in3 (a2's header): redo it. */
	s3.p[10] = 0;
	s3.p[11] = 1;
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a1, 1700000000), 0);
	assert_int_equal(verify(&k, &v, &a2, 1700000000), 0);
	assert_false(r2136_tsig_verify_done(&v));
	assert_int_equal(verify(&k, &v, &s3, 1700000001), 0);
	assert_true(r2136_tsig_verify_done(&v));
	r2136_tsig_verify_free(&v);
	/* Tamper with the unsigned middle message: the third MAC fails. */
	a2.p[a2.len - 1] ^= 1;
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a1, 1700000000), 0);
	assert_int_equal(verify(&k, &v, &a2, 1700000000), 0);
	assert_int_equal(verify(&k, &v, &s3, 1700000001), -EACCES);
	r2136_tsig_verify_free(&v);
	r2136_buf_free(&a1);
	r2136_buf_free(&a2);
	r2136_buf_free(&a3);
	r2136_buf_free(&in3);
	r2136_buf_free(&s3);
	r2136_buf_free(&chain);
}

/* BADTIME comes back signed with the server's time in the other data;
 * BADSIG/BADKEY unsigned (MAC size 0). Both surface as the TSIG error. */
static void test_tsig_errors(void **st)
{
	(void)st;
	struct r2136_key k;
	struct r2136_buf a;
	struct r2136_tsig_verifier v;
	uint8_t reqmac[32] = {0};
	key(&k, "hmac-sha256");
	answer(&a, 3, "192.0.2.9");
	a.p[3] = 9; /* NOTAUTH */
	r2136_put_name(&a, "test-key");
	r2136_put_u16(&a, 250);
	r2136_put_u16(&a, 255);
	r2136_put_u32(&a, 0);
	r2136_put_u16(&a, 13 + 16);
	r2136_put_name(&a, "hmac-sha256");
	r2136_put_u48(&a, 1700000000);
	r2136_put_u16(&a, 300);
	r2136_put_u16(&a, 0);
	r2136_put_u16(&a, 3);
	r2136_put_u16(&a, R2136_BADSIG);
	r2136_put_u16(&a, 0);
	a.p[11] = 1;
	r2136_tsig_verify_init(&v, &k, reqmac, 32);
	assert_int_equal(verify(&k, &v, &a, 1700000000), R2136_BADSIG);
	r2136_tsig_verify_free(&v);
	r2136_buf_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_bytes),
		cmocka_unit_test(test_vars_bytes),
		cmocka_unit_test(test_mac_sha256),
		cmocka_unit_test(test_mac_sha1),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_verify_response),
		cmocka_unit_test(test_unsigned_rejected),
		cmocka_unit_test(test_multi_message),
		cmocka_unit_test(test_tsig_errors),
	};
	return cmocka_run_group_tests_name("rfc2136 tsig", tests, NULL, NULL);
}
