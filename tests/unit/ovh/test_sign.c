/* OVH provider: signature known answers, URL building and escaping, error
 * answers in both shapes, target normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../providers/ovh/ovh.h"
#include "testhost.h"

/* From python-ovh's test suite. */
#define AS "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk"
#define CK "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY"
#define TS 1457018875
#define URL "https://eu.api.ovh.com/1.0/auth"
#define BODY "{\"a\":\"b\",\"c\":\"d\"}"

static void sign_known_answers(void **state)
{
	(void)state;
	char sig[OVH_SIG_LEN];
	assert_int_equal(ovh_sign(AS, CK, "GET", URL, NULL, TS, sig), 0);
	assert_string_equal(sig, "$1$e9556054b6309771395efa467c22e627407461ad");
	assert_int_equal(ovh_sign(AS, CK, "POST", URL, BODY, TS, sig), 0);
	assert_string_equal(sig, "$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1");
	assert_int_equal(ovh_sign(AS, CK, "PUT", URL, BODY, TS, sig), 0);
	assert_string_equal(sig, "$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b");
	assert_int_equal(ovh_sign(AS, CK, "DELETE", URL, NULL, TS, sig), 0);
	assert_string_equal(sig, "$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85");
	/* An empty body signs like no body; anything else changes it. */
	assert_int_equal(ovh_sign(AS, CK, "GET", URL, "", TS, sig), 0);
	assert_string_equal(sig, "$1$e9556054b6309771395efa467c22e627407461ad");
	assert_int_equal(ovh_sign(AS, CK, "GET", URL, NULL, TS + 1, sig), 0);
	assert_string_not_equal(sig, "$1$e9556054b6309771395efa467c22e627407461ad");
}

/* Every part of a path escaped by the host's url_escape (RFC 3986
 * unreserved characters kept). */
static void paths(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	char *p = ovh_path_records(h, "example.org", "A", "git");
	assert_string_equal(p, "/domain/zone/example.org/record?fieldType=A&subDomain=git");
	free(p);
	p = ovh_path_records(h, "example.org", "TXT", "_dnsfollow.git-1~x");
	assert_string_equal(p, "/domain/zone/example.org/record?fieldType=TXT&subDomain=_dnsfollow.git-1~x");
	free(p);
	p = ovh_path_records(h, "example.org", "AAAA", "");
	assert_string_equal(p, "/domain/zone/example.org/record?fieldType=AAAA&subDomain=");
	free(p);
	p = ovh_path_records(h, "ex ample/x", "A", "a&b=c?d%\xc3\xa9");
	assert_string_equal(p, "/domain/zone/ex%20ample%2Fx/record?fieldType=A&subDomain=a%26b%3Dc%3Fd%25%C3%A9");
	free(p);
	p = ovh_path_record(h, "example.org", 5000000001ull);
	assert_string_equal(p, "/domain/zone/example.org/record/5000000001");
	free(p);
	p = ovh_path_zone(h, "example.org", "refresh");
	assert_string_equal(p, "/domain/zone/example.org/refresh");
	free(p);
	testhost_free(h);
}

static void subdomains(void **state)
{
	(void)state;
	char sub[64];
	assert_int_equal(ovh_subdomain("git.example.org", "example.org", sub, sizeof sub), 0);
	assert_string_equal(sub, "git");
	assert_int_equal(ovh_subdomain("_dnsfollow.git.example.org", "example.org", sub, sizeof sub), 0);
	assert_string_equal(sub, "_dnsfollow.git");
	assert_int_equal(ovh_subdomain("example.org", "example.org", sub, sizeof sub), 0);
	assert_string_equal(sub, "");
	assert_int_equal(ovh_subdomain("Git.Example.ORG", "example.org", sub, sizeof sub), 0);
	assert_string_equal(sub, "git");
	assert_int_equal(ovh_subdomain("fooexample.org", "example.org", sub, sizeof sub), -1);
	assert_int_equal(ovh_subdomain("git.example.net", "example.org", sub, sizeof sub), -1);
	assert_int_equal(ovh_subdomain(".example.org", "example.org", sub, sizeof sub), -1);
	assert_int_equal(ovh_subdomain("org", "example.org", sub, sizeof sub), -1);
	assert_int_equal(ovh_subdomain("abcdef.example.org", "example.org", sub, 4), -1);
}

/* The base URL of an endpoint, or NULL; the error text in err. */
static char *url_of(const char *endpoint, char *err, size_t cap)
{
	char *u = NULL;
	err[0] = '\0';
	int rc = ovh_endpoint_url(endpoint, &u, err, cap);
	assert_true((rc == 0) == (u != NULL));
	return u;
}

static void endpoints(void **state)
{
	(void)state;
	static const char *const known[][2] = {
		{"ovh-eu", "https://eu.api.ovh.com/1.0"},
		{"ovh-us", "https://api.us.ovhcloud.com/1.0"},
		{"soyoustart-ca", "https://ca.api.soyoustart.com/1.0"},
		{"kimsufi-eu", "https://eu.api.kimsufi.com/1.0"},
		{"https://127.0.0.1:15500/1.0/", "https://127.0.0.1:15500/1.0"},
		/* Plain http only to this machine. */
		{"http://127.0.0.1:15500/1.0", "http://127.0.0.1:15500/1.0"},
		{"http://127.1.2.3/1.0", "http://127.1.2.3/1.0"},
		{"http://[::1]:8080/1.0", "http://[::1]:8080/1.0"},
		{"http://LocalHost:8080/1.0", "http://LocalHost:8080/1.0"},
	};
	char err[300];
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		char *u = url_of(known[i][0], err, sizeof err);
		if (!u)
			fail_msg("%s: %s", known[i][0], err);
		assert_string_equal(u, known[i][1]);
		free(u);
	}
	assert_null(url_of("ovh-mars", err, sizeof err));
	assert_non_null(strstr(err, "unknown \"ovh-mars\""));
	assert_null(url_of("ftp://x/1.0", err, sizeof err));
	assert_non_null(strstr(err, "not an https:// URL"));
	/* Clear text to anywhere else is refused, however the host hides. */
	static const char *const clear[][2] = {
		{"http://eu.api.ovh.com/1.0", "eu.api.ovh.com"},
		{"http://192.0.2.1:80/1.0", "192.0.2.1"},
		{"http://localhost.example.org/1.0", "localhost.example.org"},
		{"http://127.0.0.1.example.org/1.0", "127.0.0.1.example.org"},
		{"http://127.0.0.1@example.org/1.0", "example.org"},
		{"http://[2001:db8::1]/1.0", "2001:db8::1"},
		{"http://[::ffff:127.0.0.1]/1.0", "::ffff:127.0.0.1"},
	};
	for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++) {
		char want[128];
		if (url_of(clear[i][0], err, sizeof err))
			fail_msg("%s accepted", clear[i][0]);
		snprintf(want, sizeof want, "refusing http:// to \"%s\"",
			 clear[i][1]);
		if (!strstr(err, want) || !strstr(err, "clear text") ||
		    strchr(err, '\n'))
			fail_msg("%s: %s", clear[i][0], err);
	}
}

/* Retry-After in both of its forms (RFC 9110): seconds or an HTTP date,
 * the date compared with the server's clock. */
static void retry_after(void **state)
{
	(void)state;
	const int64_t t = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
	assert_int_equal(ovh_retry_after_ms("120", t), 120000);
	assert_int_equal(ovh_retry_after_ms(" 7 ", t), 7000);
	assert_int_equal(ovh_retry_after_ms("0", t), 0);
	assert_int_equal(ovh_retry_after_ms("99999999999999999999", t), 3600000);
	assert_int_equal(ovh_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
					    t - 90), 90000);
	/* The obsolete forms HTTP still allows. */
	assert_int_equal(ovh_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT",
					    t - 5), 5000);
	assert_int_equal(ovh_retry_after_ms("Wed Oct 21 07:28:00 2015", t - 5),
			 5000);
	/* A date already past: retry now; far ahead: at most an hour. */
	assert_int_equal(ovh_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
					    t + 30), 0);
	assert_int_equal(ovh_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
					    t - 86400), 3600000);
	/* Neither form: the default second. */
	assert_int_equal(ovh_retry_after_ms("", t), 1000);
	assert_int_equal(ovh_retry_after_ms("soon", t), 1000);
	assert_int_equal(ovh_retry_after_ms("12abc", t), 1000);
}

static void error_shapes(void **state)
{
	(void)state;
	char t[256];
	const char *hdr = "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
			  "x-ovh-queryid: EU.ext-3.abc123\r\n\r\n";
	int rc = ovh_error_from_answer(403,
		"{\"errorCode\":\"NOT_GRANTED_CALL\",\"httpCode\":\"403 Forbidden\","
		"\"message\":\"This call has not been granted\"}", hdr, t, sizeof t);
	assert_int_equal(rc, -EACCES);
	assert_string_equal(t, "HTTP 403 NOT_GRANTED_CALL: This call has not been "
			       "granted (query id EU.ext-3.abc123)");
	rc = ovh_error_from_answer(404,
		"{\"class\":\"Client::NotFound\",\"message\":\"This service does "
		"not exist\",\"details\":{}}", "", t, sizeof t);
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(t, "HTTP 404 Client::NotFound: This service does not exist");
	rc = ovh_error_from_answer(400, "{\"errorCode\":\"INVALID_SIGNATURE\","
				   "\"message\":\"Invalid signature\"}", "", t, sizeof t);
	assert_int_equal(rc, -EACCES);
	rc = ovh_error_from_answer(400, "{\"errorCode\":\"QUERY_TIME_OUT\","
				   "\"message\":\"Query out of time\"}", "", t, sizeof t);
	assert_int_equal(rc, -ETIME);
	rc = ovh_error_from_answer(400, "{\"class\":\"Client::BadRequest\","
				   "\"message\":\"Invalid target\"}", "", t, sizeof t);
	assert_int_equal(rc, -EINVAL);
	rc = ovh_error_from_answer(429, "{\"message\":\"slow down\"}", "", t, sizeof t);
	assert_true(dnsfollow_err_is_temporary(rc));
	rc = ovh_error_from_answer(503, "<html>\n<b>down</b></html>", "", t, sizeof t);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_string_equal(t, "HTTP 503: <html> <b>down</b></html>");
	rc = ovh_error_from_answer(500, "", "", t, sizeof t);
	assert_true(dnsfollow_err_is_temporary(rc));
	assert_string_equal(t, "HTTP 500: (no message)");
	rc = ovh_error_from_answer(460, "{\"message\":\"expired\"}", "", t, sizeof t);
	assert_int_equal(rc, -EACCES);
}

/* OVH's text is kept whole (the host masks secrets, then bounds the
 * line: a cut here could leave part of a secret) and made one printable
 * line: no escape sequence or raw byte reaches a log. */
static void error_text_whole(void **state)
{
	(void)state;
	char msg[3000], body[3100], *t = NULL;
	memset(msg, 'm', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	snprintf(body, sizeof body, "{\"message\":\"%s \\u001b[31mRED\"}", msg);
	int cred;
	assert_int_equal(ovh_answer_text(400, body, "", &t, &cred), -EINVAL);
	assert_non_null(t);
	assert_true(strlen(t) > sizeof msg);
	assert_non_null(strstr(t, " [31mRED"));
	assert_null(strchr(t, 0x1b));
	free(t);
	assert_int_equal(ovh_answer_text(502, "bad\x1b[0m\xff\x01gateway", "",
					 &t, &cred), -EAGAIN);
	assert_string_equal(t, "HTTP 502: bad [0m gateway");
	free(t);
}

static void targets(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	char *s = ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT,
				       "\"heritage=dnsfollow,owner=x\"");
	assert_string_equal(s, "heritage=dnsfollow,owner=x");
	free(s);
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT, "plain text");
	assert_string_equal(s, "plain text");
	free(s);
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT, "\"a \\\"q\\\" \\\\\" \"b\\065\"");
	assert_string_equal(s, "a \"q\" \\bA");
	free(s);
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT, "\"unterminated"));
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT, "\"a\" junk"));
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_AAAA, "2001:DB8:0:0:0:0:0:10");
	assert_string_equal(s, "2001:db8::10");
	free(s);
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_A, "192.0.2.10");
	assert_string_equal(s, "192.0.2.10");
	free(s);
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_A, "192.0.2.300"));
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_AAAA, "192.0.2.1"));

	/* CNAME targets as the core writes names (host->name_normalise):
	 * OVH's absolute form loses its dot; what is no DNS name is refused. */
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, "Node1.Example.NET.");
	assert_string_equal(s, "node1.example.net");
	free(s);
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, ""));
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, "."));
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, "a b.example"));
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, "a..example"));
	char label[80];
	memset(label, 'x', 64);
	snprintf(label + 64, sizeof label - 64, ".example");
	assert_null(ovh_target_normalise(h, DNSFOLLOW_TYPE_CNAME, label));

	/* OVH keeps a long TXT value as ONE quoted string (it wraps what it
	 * is given in quotes, unsplit): read back whole, although a zone
	 * file's strings stop at 255 bytes (why host->txt_decode, which
	 * refuses such a string, is not used here). */
	char raw[400], quoted[404];
	memset(raw, 'k', 300);
	raw[300] = '\0';
	snprintf(quoted, sizeof quoted, "\"%s\"", raw);
	s = ovh_target_normalise(h, DNSFOLLOW_TYPE_TXT, quoted);
	assert_non_null(s);
	assert_string_equal(s, raw);
	free(s);
	assert_null(h->txt_decode(quoted));
	testhost_free(h);
}

/* fieldType names through the host's type table; a type the plugin does
 * not manage is 0 (its records are skipped), not an error. */
static void record_fields(void **state)
{
	(void)state;
	const struct dnsfollow_host *h = testhost_new("ovh");
	struct ovh_fields f;
	json_t *j = json_pack("{s:s,s:s,s:s,s:i}", "fieldType", "CNAME",
			      "subDomain", "www", "target", "x.example.", "ttl", 60);
	assert_int_equal(ovh_record_fields(h, j, &f), 0);
	assert_int_equal(f.type, DNSFOLLOW_TYPE_CNAME);
	assert_int_equal(f.ttl, 60);
	json_decref(j);
	j = json_pack("{s:s,s:s,s:s}", "fieldType", "MX", "subDomain", "",
		      "target", "10 mx.example.");
	assert_int_equal(ovh_record_fields(h, j, &f), 0);
	assert_int_equal(f.type, 0);
	json_decref(j);
	j = json_pack("{s:s}", "target", "192.0.2.1");
	assert_int_equal(ovh_record_fields(h, j, &f), -EPROTO);
	json_decref(j);
	assert_true(ovh_type_ok(DNSFOLLOW_TYPE_AAAA));
	assert_false(ovh_type_ok(DNSFOLLOW_TYPE_NS));
	assert_false(ovh_type_ok(0));
	testhost_free(h);
}



int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_known_answers),
		cmocka_unit_test(paths),
		cmocka_unit_test(subdomains),
		cmocka_unit_test(endpoints),
		cmocka_unit_test(retry_after),
		cmocka_unit_test(error_shapes),
		cmocka_unit_test(error_text_whole),
		cmocka_unit_test(targets),
		cmocka_unit_test(record_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
