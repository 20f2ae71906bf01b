/* The host's SDK helpers (ABI 2, core/sdk.c): TXT codec, type names,
 * names, HTTP status classes, headers, Retry-After, URL escaping, and
 * that the test host carries them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdk.h"
#include "testhost.h"

/* Encode, check the presentation, decode back to the same bytes. */
static void round_trip(const char *raw, const char *want)
{
	char *p = df_txt_encode(raw);
	assert_non_null(p);
	if (want)
		assert_string_equal(p, want);
	char *back = df_txt_decode(p);
	assert_non_null(back);
	assert_string_equal(back, raw);
	free(back);
	free(p);
}

/* Number of quoted strings in a presentation the encoder wrote. */
static int strings_in(const char *p)
{
	int n = 0;
	for (const char *q = p; *q; q++) {
		if (*q == '\\')
			q++;
		else if (*q == '"')
			n++;
	}
	return n / 2;
}

static void test_txt_round_trips(void **s)
{
	(void)s;
	round_trip("hello", "\"hello\"");
	round_trip("", "\"\"");
	round_trip("say \"hi\" to C:\\dir\\", "\"say \\\"hi\\\" to C:\\\\dir\\\\\"");
	round_trip("h\xc3\xa9llo\x01\x7f", "\"h\\195\\169llo\\001\\127\"");
	round_trip("v=spf1 -all; tab\there", "\"v=spf1 -all; tab\\009here\"");
	/* Splits at 255 bytes of text, not of presentation. */
	char big[701];
	memset(big, 'a', 700);
	big[700] = '\0';
	char *p = df_txt_encode(big);
	assert_int_equal(strings_in(p), 3);
	assert_int_equal(strlen(p), 700 + 3 * 2 + 2);
	free(p);
	round_trip(big, NULL);
	big[255] = '\0';
	p = df_txt_encode(big);
	assert_int_equal(strings_in(p), 1);
	free(p);
	big[255] = 'a';
	big[256] = '\0';
	p = df_txt_encode(big);
	assert_int_equal(strings_in(p), 2);
	free(p);
	/* 300 quotes: 600 bytes written, still 255 bytes of text a string. */
	char q[301];
	memset(q, '"', 300);
	q[300] = '\0';
	p = df_txt_encode(q);
	assert_int_equal(strings_in(p), 2);
	free(p);
	round_trip(q, NULL);
	/* Non-ASCII across a 255-byte cut is rejoined whole. */
	char u[600] = "";
	for (int i = 0; i < 150; i++)
		strcat(u, "\xc3\xa9");
	round_trip(u, NULL);
}

static void decodes(const char *in, const char *want)
{
	char *out = df_txt_decode(in);
	if (!out)
		fail_msg("refused: %s", in);
	assert_string_equal(out, want);
	free(out);
}

static void refuses(const char *in)
{
	char *out = df_txt_decode(in);
	if (out)
		fail_msg("accepted %s as \"%s\"", in ? in : "(null)", out);
}

static void test_txt_decode(void **s)
{
	(void)s;
	decodes("\"a\" \"b\"", "ab");
	decodes("  \"a\"\t\"b c\"  ", "ab c");
	decodes("\"a\"\"b\"", "ab");
	decodes("v=spf1", "v=spf1");
	decodes("a\\032b\\\"", "a b\"");
	decodes("\"\\h\\i\\;\"", "hi;");
	decodes("\"caf\xc3\xa9\"", "caf\xc3\xa9");
	decodes("", "");
	refuses("\"open");
	refuses("\"a\" \"b");
	refuses("\"bad\\");
	refuses("\"\\25\"");
	refuses("\"\\2x5\"");
	refuses("\"\\256\"");
	refuses("\"\\000\"");
	refuses("two words");
	refuses("\"a\" b");
	refuses("a \"b\"");
	refuses("a\"b");
	assert_null(df_txt_decode(NULL));
	char big[300] = "\"";
	memset(big + 1, 'x', 256);
	strcpy(big + 257, "\"");
	refuses(big);
	/* 255 is fine; escapes count as the one byte they stand for. */
	big[256] = '"';
	big[257] = '\0';
	char *out = df_txt_decode(big);
	assert_non_null(out);
	assert_int_equal(strlen(out), 255);
	free(out);
	char esc[300 * 4 + 3] = "\"";
	for (int i = 0; i < 255; i++)
		strcat(esc, "\\065");
	strcat(esc, "\"");
	out = df_txt_decode(esc);
	assert_non_null(out);
	assert_int_equal(strlen(out), 255);
	free(out);
}

static void *other_thread(void *arg)
{
	(void)arg;
	return (void *)(strcmp(df_type_name(4242), "TYPE4242") == 0 ? arg : NULL);
}

static void test_types(void **s)
{
	(void)s;
	static const char *const names[] = {"A", "NS", "CNAME", "SOA", "PTR",
					    "MX", "TXT", "AAAA", "SRV", "CAA",
					    "HTTPS", "SVCB", "TLSA", NULL};
	for (int i = 0; names[i]; i++) {
		uint16_t c = df_type_code(names[i]);
		assert_true(c != 0);
		assert_string_equal(df_type_name(c), names[i]);
	}
	assert_int_equal(df_type_code("aaaa"), 28);
	assert_int_equal(df_type_code("Srv"), 33);
	assert_int_equal(df_type_code("CAA"), 257);
	assert_string_equal(df_type_name(15), "MX");
	assert_string_equal(df_type_name(65280), "TYPE65280");
	assert_string_equal(df_type_name(0), "TYPE0");
	assert_int_equal(df_type_code("TYPE65280"), 65280);
	assert_int_equal(df_type_code("type16"), 16);
	assert_int_equal(df_type_code("TYPE65535"), 65535);
	assert_int_equal(df_type_code("TYPE65536"), 0);
	assert_int_equal(df_type_code("TYPE"), 0);
	assert_int_equal(df_type_code("TYPE-1"), 0);
	assert_int_equal(df_type_code("TYPE 1"), 0);
	assert_int_equal(df_type_code("TYPE1x"), 0);
	assert_int_equal(df_type_code("bogus"), 0);
	assert_int_equal(df_type_code(""), 0);
	assert_int_equal(df_type_code(NULL), 0);
	/* The generic text is per thread: another thread's call leaves
	 * ours alone. */
	const char *mine = df_type_name(1234);
	pthread_t t;
	void *ok = NULL;
	static int token;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &token), 0);
	pthread_join(t, &ok);
	assert_non_null(ok);
	assert_string_equal(mine, "TYPE1234");
}

static void name_ok(const char *in, const char *want)
{
	char out[300];
	assert_int_equal(df_name_normalise_buf(in, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void name_bad(const char *in, int rc)
{
	char out[300];
	assert_int_equal(df_name_normalise_buf(in, out, sizeof out), rc);
}

static void test_names(void **s)
{
	(void)s;
	name_ok("WWW.Example.COM.", "www.example.com");
	name_ok("git.example.org", "git.example.org");
	name_ok("_acme-challenge.Example.org", "_acme-challenge.example.org");
	name_ok("*.example.org", "*.example.org");
	name_ok(".", "");
	name_ok("", "");
	name_bad("a..b", -EINVAL);
	name_bad(".a", -EINVAL);
	name_bad("a.b..", -EINVAL);
	name_bad("a b.example", -EINVAL);
	name_bad("caf\xc3\xa9.example", -EINVAL);
	name_bad("a\\.b", -EINVAL);
	name_bad(NULL, -EINVAL);
	char label[80], name[300];
	memset(label, 'x', 63);
	label[63] = '\0';
	name_ok(label, label);
	strcat(label, "x");
	name_bad(label, -EINVAL);
	/* 253 bytes without the dot: 63*4 + 1 dots... built exactly. */
	memset(name, 'a', 253);
	for (int i = 50; i < 253; i += 50)
		name[i] = '.';
	name[253] = '\0';
	name_ok(name, name);
	name[253] = '.';
	name[254] = '\0';
	char out[300];
	assert_int_equal(df_name_normalise_buf(name, out, sizeof out), 0);
	assert_int_equal(strlen(out), 253);
	name[253] = 'a';
	name_bad(name, -EINVAL);
	assert_int_equal(df_name_normalise_buf("example.org", out, 11), -ENAMETOOLONG);
	assert_int_equal(df_name_normalise_buf("example.org", out, 12), 0);
	assert_int_equal(df_name_normalise_buf("a..b", out, 1), -EINVAL);
}

static const char raw_headers[] =
	"HTTP/1.1 429 Too Many Requests\r\n"
	"X-A: 1\r\n"
	"Content-Type:text/plain\r\n"
	"x-a:   2  \r\n"
	"X-Ab: 3\r\n"
	"Empty:\r\n"
	"\r\n";

static void test_headers(void **s)
{
	(void)s;
	struct dnsfollow_http_response r = {.struct_size = sizeof r,
					    .headers = (char *)raw_headers};
	char buf[16];
	assert_int_equal(df_http_header(&r, "X-A", buf, sizeof buf), 0);
	assert_string_equal(buf, "2"); /* the last one, trimmed */
	assert_int_equal(df_http_header(&r, "content-type", buf, sizeof buf), 0);
	assert_string_equal(buf, "text/plain");
	assert_int_equal(df_http_header(&r, "x-ab", buf, sizeof buf), 0);
	assert_string_equal(buf, "3");
	assert_int_equal(df_http_header(&r, "Empty", buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(df_http_header(&r, "X", buf, sizeof buf), -ENOENT);
	assert_int_equal(df_http_header(&r, "Retry-After", buf, sizeof buf), -ENOENT);
	assert_int_equal(df_http_header(&r, "HTTP/1.1 429 Too Many Requests", buf,
					sizeof buf), -ENOENT);
	assert_int_equal(df_http_header(&r, "content-type", buf, 10), -ENOSPC);
	assert_string_equal(buf, "");
	r.headers = NULL;
	assert_int_equal(df_http_header(&r, "X-A", buf, sizeof buf), -ENOENT);
}

/* An HTTP date `delta` seconds from `now`, IMF-fixdate or asctime. */
static void date_at(char *buf, size_t cap, int64_t t, const char *fmt)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, fmt, &tm);
}

#define IMF "%a, %d %b %Y %H:%M:%S GMT"

static void test_retry_after(void **s)
{
	(void)s;
	const int64_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
	assert_int_equal(df_parse_retry_after_at("120", now), 120000);
	assert_int_equal(df_parse_retry_after_at(" 7 ", now), 7000);
	assert_int_equal(df_parse_retry_after_at("0", now), 0);
	assert_int_equal(df_parse_retry_after_at("", now), 0);
	assert_int_equal(df_parse_retry_after_at(NULL, now), 0);
	assert_int_equal(df_parse_retry_after_at("soon", now), 0);
	assert_int_equal(df_parse_retry_after_at("12abc", now), 0);
	assert_int_equal(df_parse_retry_after_at("-5", now), 0);
	assert_int_equal(df_parse_retry_after_at("1.5", now), 0);
	/* Absurd waits are capped at a day. */
	assert_int_equal(df_parse_retry_after_at("86400", now), 86400000);
	assert_int_equal(df_parse_retry_after_at("86401", now), 86400000);
	assert_int_equal(df_parse_retry_after_at("99999999999999999999", now),
			 86400000);
	char d[64];
	date_at(d, sizeof d, now + 30, IMF);
	assert_int_equal(df_parse_retry_after_at(d, now), 30000);
	assert_int_equal(df_parse_retry_after_at("Tue, 14 Nov 2023 22:14:00 GMT", now),
			 40000);
	assert_int_equal(df_parse_retry_after_at("Tuesday, 14-Nov-23 22:14:00 GMT", now),
			 40000);
	assert_int_equal(df_parse_retry_after_at("Tue Nov 14 22:14:00 2023", now),
			 40000);
	date_at(d, sizeof d, now + 7 * 86400, IMF);
	assert_int_equal(df_parse_retry_after_at(d, now), 86400000);
	date_at(d, sizeof d, now - 5, IMF);
	assert_int_equal(df_parse_retry_after_at(d, now), 0);
	assert_int_equal(df_parse_retry_after_at("Tue, 32 Nov 2023 22:14:00 GMT", now), 0);
	assert_int_equal(df_parse_retry_after_at("Tue, 14 Foo 2023 22:14:00 GMT", now), 0);
	assert_int_equal(df_parse_retry_after_at("Tue, 14 Nov 2023 22:14:00 CET", now), 0);
	assert_int_equal(df_parse_retry_after_at("Tue, 14 Nov 2023 22:14:00 GMT x", now), 0);
	/* The host's version counts from the host's wall clock. */
	date_at(d, sizeof d, df_wall_time() + 100, IMF);
	unsigned ms = df_parse_retry_after(d);
	assert_in_range(ms, 98000, 100000);
	assert_int_equal(df_parse_retry_after("3"), 3000);
}

/* host->http_error on a hand-made answer; returns its code. */
static int answer(const struct dnsfollow_host *h, long status, const char *body,
		  const char *headers)
{
	struct dnsfollow_http_response r = {
		.struct_size = sizeof r, .status = status, .body = (char *)body,
		.body_len = body ? strlen(body) : 0, .headers = (char *)headers};
	testhost_clear(h);
	return h->http_error(h, &r, "GET zone example.org");
}

static void test_http_error(void **s)
{
	(void)s;
	const struct dnsfollow_host *h = testhost_new("sdk");
	assert_non_null(h);
	assert_int_equal(answer(h, 200, "{}", ""), 0);
	assert_string_equal(testhost_error(h), "");
	assert_int_equal(answer(h, 204, NULL, NULL), 0);
	assert_int_equal(answer(h, 404, "{\"message\":\"zone not found\"}", ""), -ENOENT);
	assert_string_equal(testhost_error(h),
			    "GET zone example.org: HTTP 404: zone not found");
	assert_int_equal(testhost_error_rc(h), -ENOENT);
	assert_int_equal(answer(h, 409, "{\"error\":\"RRset conflict\"}", ""), -EEXIST);
	assert_string_equal(testhost_error(h),
			    "GET zone example.org: HTTP 409: RRset conflict");
	assert_int_equal(answer(h, 429, "{\"errors\":[{\"message\":\"slow down\"}]}",
				"HTTP/1.1 429 x\r\nRetry-After: 7\r\n\r\n"), -EAGAIN);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 429: slow down");
	assert_int_equal(testhost_retry_after(h), 7000);
	char hdr[128], d[64];
	date_at(d, sizeof d, h->wall_time() + 120, IMF);
	snprintf(hdr, sizeof hdr, "HTTP/1.1 429 x\r\nretry-after: %s\r\n\r\n", d);
	assert_int_equal(answer(h, 429, "", hdr), -EAGAIN);
	assert_in_range(testhost_retry_after(h), 118000, 120000);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 429");
	assert_int_equal(answer(h, 503, "{\"error\":{\"message\":\"maintenance\"}}", ""),
			 -EAGAIN);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 503: maintenance");
	assert_int_equal(testhost_retry_after(h), 0);
	assert_int_equal(answer(h, 408, NULL, NULL), -EAGAIN);
	assert_int_equal(answer(h, 502, "<html><body>Bad Gateway</body></html>", ""),
			 -EAGAIN);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 502");
	assert_int_equal(answer(h, 401, "Unauthorized\n", ""), -EACCES);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 401: Unauthorized");
	assert_int_equal(answer(h, 403, "{\"code\":7}", ""), -EACCES);
	assert_string_equal(testhost_error(h), "GET zone example.org: HTTP 403: {\"code\":7}");
	assert_int_equal(answer(h, 400, "{\"message\":\"bad\\u001b[31m\"}", ""), -EINVAL);
	assert_null(strchr(testhost_error(h), '\x1b'));
	/* A permanent status never schedules a retry, whatever it says. */
	assert_int_equal(answer(h, 404, "", "HTTP/1.1 404 x\r\nRetry-After: 9\r\n"), -ENOENT);
	assert_int_equal(testhost_retry_after(h), 0);
	/* The text goes through the host's error path: masked. */
	assert_int_equal(h->secret(h, "s3cr3t-api-key"), 0);
	assert_int_equal(answer(h, 401, "{\"message\":\"bad key s3cr3t-api-key\"}", ""),
			 -EACCES);
	assert_null(strstr(testhost_error(h), "s3cr3t"));
	assert_non_null(strstr(testhost_error(h), "bad key ***"));
	/* A huge body is cut, never the whole of it. */
	char *big = malloc(100000);
	memset(big, 'z', 99999);
	big[99999] = '\0';
	assert_int_equal(answer(h, 500, big, ""), -EAGAIN);
	assert_true(strlen(testhost_error(h)) < 1024);
	free(big);
	assert_int_equal(h->http_error(h, NULL, "x"), -EINVAL);
	testhost_free(h);
}

static void test_url_escape(void **s)
{
	(void)s;
	char *e = df_url_escape("a b/c?d=e&f~g.h_i-j+%");
	assert_string_equal(e, "a%20b%2Fc%3Fd%3De%26f~g.h_i-j%2B%25");
	free(e);
	e = df_url_escape("caf\xc3\xa9 AZaz09");
	assert_string_equal(e, "caf%C3%A9%20AZaz09");
	free(e);
	e = df_url_escape("");
	assert_string_equal(e, "");
	free(e);
	e = df_url_escape(NULL);
	assert_string_equal(e, "");
	free(e);
}

/* The test host plugins link is df_host_new's table: every ABI 2 member
 * is there and is the core's own function. */
static void test_testhost_members(void **s)
{
	(void)s;
	const struct dnsfollow_host *h = testhost_new("members");
	assert_int_equal(h->struct_size, sizeof(struct dnsfollow_host));
	assert_true(DNSFOLLOW_HOST_HAS(h, txt_encode));
	assert_true(DNSFOLLOW_HOST_HAS(h, txt_decode));
	assert_true(DNSFOLLOW_HOST_HAS(h, type_name));
	assert_true(DNSFOLLOW_HOST_HAS(h, type_code));
	assert_true(DNSFOLLOW_HOST_HAS(h, name_normalise));
	assert_true(DNSFOLLOW_HOST_HAS(h, http_error));
	assert_true(DNSFOLLOW_HOST_HAS(h, http_header));
	assert_true(DNSFOLLOW_HOST_HAS(h, parse_retry_after));
	assert_true(DNSFOLLOW_HOST_HAS(h, url_escape));
	assert_ptr_equal(h->type_name, df_type_name);
	assert_string_equal(h->type_name(28), "AAAA");
	assert_int_equal(h->type_code("txt"), 16);
	char out[32];
	assert_int_equal(h->name_normalise("A.B.", out, sizeof out), 0);
	assert_string_equal(out, "a.b");
	char *t = h->txt_encode("x\"y");
	assert_string_equal(t, "\"x\\\"y\"");
	char *back = h->txt_decode(t);
	assert_string_equal(back, "x\"y");
	free(back);
	free(t);
	char *u = h->url_escape("a b");
	assert_string_equal(u, "a%20b");
	free(u);
	assert_int_equal(h->parse_retry_after("2"), 2000);
	/* An ABI 1 host table (struct_size up to dry_run) has none. */
	struct dnsfollow_host old = *h;
	old.struct_size = offsetof(struct dnsfollow_host, txt_encode);
	assert_false(DNSFOLLOW_HOST_HAS(&old, txt_encode));
	assert_false(DNSFOLLOW_HOST_HAS(&old, url_escape));
	assert_true(DNSFOLLOW_HOST_HAS(&old, dry_run));
	testhost_free(h);
}

/* testhost_kv_typed: what create() gets from the core, for plugin tests. */
static void test_testhost_kv_typed(void **s)
{
	(void)s;
	static const char *const modes[] = {"fast", "safe", NULL};
	static const struct dnsfollow_key keys[] = {
		DNSFOLLOW_KEY_STRING("server", DNSFOLLOW_KEY_REQUIRED, NULL),
		DNSFOLLOW_KEY_UINT("port", "53", 1, 65535, NULL),
		DNSFOLLOW_KEY_BOOL("tcp", "no", NULL),
		DNSFOLLOW_KEY_DURATION("timeout", "5s", 1, 0, NULL),
		DNSFOLLOW_KEY_ENUM("mode", "safe", modes, NULL),
		DNSFOLLOW_KEY_STRING("node.*", 0, NULL),
		DNSFOLLOW_KEY_END,
	};
	struct dnsfollow_kv kv[16];
	const char *const in[] = {"server=ns1", "tcp=On", "timeout=500ms",
				  "mode=FAST", "node.a=x.example", "zones=example.org",
				  NULL};
	long n = testhost_kv_typed(kv, 16, in, keys);
	assert_int_equal(n, 7); /* six given, port the only default added */
	assert_string_equal(dnsfollow_kv_get(kv, (size_t)n, "server"), "ns1");
	assert_int_equal(dnsfollow_kv_num(kv, (size_t)n, "tcp", 9), 1);
	assert_int_equal(dnsfollow_kv_num(kv, (size_t)n, "timeout", 9), 500);
	assert_int_equal(dnsfollow_kv_num(kv, (size_t)n, "mode", 9), 0);
	assert_string_equal(dnsfollow_kv_get(kv, (size_t)n, "mode"), "fast");
	assert_int_equal(dnsfollow_kv_num(kv, (size_t)n, "port", 9), 53);
	assert_string_equal(dnsfollow_kv_get(kv, (size_t)n, "node.a"), "x.example");
	assert_string_equal(dnsfollow_kv_get(kv, (size_t)n, "zones"), "example.org");
	const char *const bad[] = {"port=70000", NULL};
	assert_int_equal(testhost_kv_typed(kv, 16, bad, keys), -1);
	const char *const unknown[] = {"colour=red", NULL};
	assert_int_equal(testhost_kv_typed(kv, 16, unknown, keys), -1);
	/* The plain version leaves num zero, never stack garbage. */
	kv[0].num = 77;
	const char *const plain[] = {"port=5353", NULL};
	assert_int_equal(testhost_kv(kv, 16, plain), 1);
	assert_int_equal(kv[0].num, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_round_trips),
		cmocka_unit_test(test_txt_decode),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_http_error),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_testhost_members),
		cmocka_unit_test(test_testhost_kv_typed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
