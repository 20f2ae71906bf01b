/* DNS wire format: names, rdata, and a decoder that refuses every kind of
 * malformed message with an error instead of reading out of bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../providers/rfc2136/rfc2136.h"

static void test_name_to_wire(void **st)
{
	(void)st;
	uint8_t w[256];
	assert_int_equal(r2136_name_to_wire("Git.Example.TEST", w), 18);
	assert_memory_equal(w, "\3git\7example\4test\0", 18);
	assert_int_equal(r2136_name_to_wire("git.example.test.", w), 18);
	assert_int_equal(r2136_name_to_wire("", w), 1);
	assert_int_equal(r2136_name_to_wire(".", w), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(r2136_name_to_wire("a\\.b.c", w), 7);
	assert_memory_equal(w, "\3a.b\1c\0", 7);
	assert_int_equal(r2136_name_to_wire("\\065x", w), 4);
	assert_memory_equal(w, "\2ax\0", 4);
	assert_int_equal(r2136_name_to_wire("a..b", w), -EINVAL);
	assert_int_equal(r2136_name_to_wire(".a", w), -EINVAL);
	assert_int_equal(r2136_name_to_wire("a\\", w), -EINVAL);
	assert_int_equal(r2136_name_to_wire("\\999", w), -EINVAL);
	char lab[80];
	memset(lab, 'x', 64);
	lab[64] = 0;
	assert_int_equal(r2136_name_to_wire(lab, w), -EINVAL);
	lab[63] = 0;
	assert_int_equal(r2136_name_to_wire(lab, w), 65);
	char big[300] = "";
	for (int i = 0; i < 64; i++)
		strcat(big, "abc.");
	assert_int_equal(r2136_name_to_wire(big, w), -EINVAL); /* 257 bytes */
}

static void test_rdata(void **st)
{
	(void)st;
	struct r2136_buf b = {0};
	assert_int_equal(r2136_put_rdata(&b, 1, "192.0.2.10"), 0);
	assert_memory_equal(b.p, "\0\4\xc0\0\2\x0a", 6);
	b.len = 0;
	assert_int_equal(r2136_put_rdata(&b, 28, "2001:db8::1"), 0);
	assert_int_equal(b.len, 18);
	b.len = 0;
	assert_int_equal(r2136_put_rdata(&b, 1, "300.0.0.1"), -EINVAL);
	b.len = 0;
	assert_int_equal(r2136_put_rdata(&b, 1, "2001:db8::1"), -EINVAL);
	b.len = 0;
	assert_int_equal(r2136_put_rdata(&b, 99, "x"), -EINVAL);
	b.len = 0;
	/* TXT longer than 255 bytes: two character-strings. */
	char t[301];
	memset(t, 'a', 300);
	t[300] = 0;
	assert_int_equal(r2136_put_rdata(&b, 16, t), 0);
	assert_int_equal(b.len, 2 + 1 + 255 + 1 + 45);
	assert_int_equal(b.p[2], 255);
	assert_int_equal(b.p[3 + 255], 45);
	b.len = 0;
	assert_int_equal(r2136_put_rdata(&b, 16, ""), 0); /* one empty string */
	assert_memory_equal(b.p, "\0\1\0", 3);
	r2136_buf_free(&b);
}

/* An answer: question git.example.test A, answers by pointer. */
static size_t answer(uint8_t *m)
{
	struct r2136_buf b = {0};
	r2136_put_header(&b, 0x1111, 0x8400, 1, 4, 0, 0);
	r2136_put_name(&b, "git.example.test");
	r2136_put_u16(&b, 1);
	r2136_put_u16(&b, 1);
	r2136_put_bytes(&b, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\x0a", 16);
	r2136_put_bytes(&b, "\xc0\x0c\0\x1c\0\1\0\0\0\x3c\0\x10", 12);
	r2136_put_bytes(&b, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	/* TXT with two strings, owner _x + pointer to example.test */
	r2136_put_bytes(&b, "\2_x\xc0\x10\0\x10\0\1\0\0\0\1\0\7\3abc\2de", 22);
	/* SOA of example.test, names compressed */
	r2136_put_bytes(&b, "\xc0\x10\0\6\0\1\0\0\0\1\0\x1f\3ns1\xc0\x10\2hm\xc0\x10", 23);
	r2136_put_bytes(&b, "\0\0\0\7\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4", 20);
	size_t n = b.len;
	memcpy(m, b.p, n);
	r2136_buf_free(&b);
	return n;
}

static void test_decode_answer(void **st)
{
	(void)st;
	uint8_t m[512];
	size_t n = answer(m);
	struct r2136_msg d;
	char why[100];
	assert_int_equal(r2136_msg_decode(m, n, &d, why, sizeof why), 0);
	assert_int_equal(d.id, 0x1111);
	assert_int_equal(r2136_rcode(&d), 0);
	assert_int_equal(d.nrr, 5);
	assert_string_equal(d.rr[1].name, "git.example.test");
	assert_string_equal(d.rr[1].text, "192.0.2.10");
	assert_int_equal(d.rr[1].ttl, 60);
	assert_string_equal(d.rr[2].text, "2001:db8::1");
	assert_string_equal(d.rr[3].name, "_x.example.test");
	assert_string_equal(d.rr[3].text, "abcde");
	assert_string_equal(d.rr[4].text, "ns1.example.test hm.example.test 7 1 2 3 4");
	r2136_msg_free(&d);
}

/* Every truncation of a valid message is refused, never read past. */
static void test_truncations(void **st)
{
	(void)st;
	uint8_t m[512];
	size_t n = answer(m);
	struct r2136_msg d;
	char why[100];
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exact size for ASan */
		memcpy(copy, m, len);
		assert_int_equal(r2136_msg_decode(copy, len, &d, why, sizeof why), -EPROTO);
		assert_true(why[0] != 0);
		free(copy);
	}
}

static void expect_bad(const uint8_t *m, size_t n, const char *reason)
{
	struct r2136_msg d;
	char why[100] = "";
	uint8_t *copy = malloc(n);
	memcpy(copy, m, n);
	assert_int_equal(r2136_msg_decode(copy, n, &d, why, sizeof why), -EPROTO);
	if (!strstr(why, reason))
		fail_msg("expected '%s', got '%s'", reason, why);
	free(copy);
}

static void test_malformed(void **st)
{
	(void)st;
	uint8_t m[512];
	size_t n = answer(m);
	uint8_t x[600];
	/* Trailing garbage. */
	memcpy(x, m, n);
	x[n] = 0;
	expect_bad(x, n + 1, "trailing");
	/* Counts claiming more records than can fit. */
	memcpy(x, m, n);
	x[6] = 0xff;
	expect_bad(x, n, "counts");
	/* A pointer pointing forward / at itself. */
	memcpy(x, m, n);
	x[34] = 0xc0; x[35] = 0x22; /* first answer's owner: points at itself */
	expect_bad(x, n, "backwards");
	memcpy(x, m, n);
	x[35] = 0x30;
	expect_bad(x, n, "backwards");
	/* Extended label types. */
	memcpy(x, m, n);
	x[12] = 0x41;
	expect_bad(x, n, "label type");
	/* A record with a 5-byte rdata. */
	memcpy(x, m, n);
	x[45] = 5;
	expect_bad(x, n, "");
	/* TXT string longer than its rdata. */
	uint8_t t[] = {0, 1, 0x81, 0, 0, 0, 0, 1, 0, 0, 0, 0,
		       0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 3, 5, 'a', 'b'};
	expect_bad(t, sizeof t, "TXT");
	/* A name longer than 255 bytes: 63-byte labels, the last ones
	 * reached through a pointer to an earlier question's name. */
	struct r2136_buf b = {0};
	r2136_put_header(&b, 1, 0x8000, 2, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		r2136_put_u8(&b, 63);
		for (int j = 0; j < 63; j++)
			r2136_put_u8(&b, 'a');
	}
	r2136_put_u8(&b, 0);
	r2136_put_u32(&b, 0x00010001);
	r2136_put_u8(&b, 63);
	for (int j = 0; j < 63; j++)
		r2136_put_u8(&b, 'b');
	r2136_put_u16(&b, 0xc00c); /* + 3 x 64 + 1 = 257 bytes */
	r2136_put_u32(&b, 0x00010001);
	expect_bad(b.p, b.len, "longer than 255");
	r2136_buf_free(&b);
	/* Shorter than a header. */
	expect_bad(m, 11, "header");
}

/* TSIG must be the last record and in the additional section. */
static void test_tsig_position(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[100];
	uint8_t mac[64];
	size_t maclen;
	assert_int_equal(r2136_key_set(&k, "k", "hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAA==",
				       err, sizeof err), 0);
	struct r2136_buf b = {0};
	r2136_put_header(&b, 1, 0, 1, 0, 0, 0);
	r2136_put_name(&b, "example.test");
	r2136_put_u16(&b, 6);
	r2136_put_u16(&b, 1);
	assert_int_equal(r2136_tsig_sign(&b, &k, 1, mac, &maclen), 0);
	/* add an A record after the TSIG in the additional section */
	r2136_put_name(&b, "x");
	r2136_put_bytes(&b, "\0\1\0\1\0\0\0\1\0\4\1\2\3\4", 14);
	b.p[11] = 2;
	struct r2136_msg d;
	struct r2136_tsig t;
	const char *why = NULL;
	assert_int_equal(r2136_msg_decode(b.p, b.len, &d, NULL, 0), 0);
	assert_int_equal(r2136_tsig_parse(&d, &t, &why), -EPROTO);
	assert_non_null(strstr(why, "last"));
	r2136_msg_free(&d);
	r2136_buf_free(&b);
}

static void test_escaped_names(void **st)
{
	(void)st;
	/* owner label "a.b" and a byte 0x07: presented escaped, and the
	 * presentation goes back to the same wire form. */
	uint8_t m[] = {0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		       4, 'a', '.', 'B', 7, 0, 0, 1, 0, 1};
	struct r2136_msg d;
	uint8_t w[256];
	assert_int_equal(r2136_msg_decode(m, sizeof m, &d, NULL, 0), 0);
	assert_string_equal(d.rr[0].name, "a\\.b\\007");
	assert_int_equal(r2136_name_to_wire(d.rr[0].name, w), 6);
	assert_memory_equal(w, "\4a.b\7\0", 6);
	r2136_msg_free(&d);
}

static void test_in_zone(void **st)
{
	(void)st;
	assert_true(r2136_in_zone("example.test", "example.test"));
	assert_true(r2136_in_zone("a.b.example.test", "example.test"));
	assert_true(r2136_in_zone("A.Example.Test", "example.test"));
	assert_false(r2136_in_zone("fooexample.test", "example.test"));
	assert_false(r2136_in_zone("x.fooexample.test", "example.test"));
	assert_false(r2136_in_zone("test", "example.test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_to_wire),
		cmocka_unit_test(test_rdata),
		cmocka_unit_test(test_decode_answer),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_tsig_position),
		cmocka_unit_test(test_escaped_names),
		cmocka_unit_test(test_in_zone),
	};
	return cmocka_run_group_tests_name("rfc2136 wire", tests, NULL, NULL);
}
