/* Log lines and host->error() texts: secrets are masked before any cut,
 * and what a peer sends cannot put control characters in the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "host.h"
#include "log.h"

/* 31 characters, all different: any 4 of them in a row in a text can only
 * come from the secret. */
static const char S[] = "Ab3De5Gh7Jk9Mn0Pq2St4Vw6Yz8Ce1F";
#define SLEN 31

/* Length of the longest run of the secret found in `text`. */
static size_t leaked(const char *text)
{
	for (size_t n = SLEN; n > 0; n--)
		for (size_t i = 0; i + n <= SLEN; i++)
			if (memmem(text, strlen(text), S + i, n))
				return n;
	return 0;
}

static int saved_fd = -1;
static FILE *cap;

/* stderr (where log lines go) into a temporary file. */
static void capture_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	assert_non_null(cap);
	saved_fd = dup(2);
	dup2(fileno(cap), 2);
}

static char *capture_end(void)
{
	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	long n = ftell(cap);
	char *s = calloc(1, (size_t)n + 1);
	rewind(cap);
	if (s && n > 0 && fread(s, 1, (size_t)n, cap) != (size_t)n)
		s[0] = '\0';
	fclose(cap);
	return s;
}

/* The longest leak over every line of a capture. */
static size_t leaked_lines(char *all)
{
	size_t worst = 0;
	for (char *l = strtok(all, "\n"); l; l = strtok(NULL, "\n")) {
		size_t k = leaked(l);
		worst = k > worst ? k : worst;
	}
	return worst;
}

static int setup(void **state)
{
	(void)state;
	df_log_set_level(DNSFOLLOW_LOG_DEBUG);
	return df_log_add_secret(S);
}

static int teardown(void **state)
{
	(void)state;
	df_log_clear_secrets();
	return 0;
}

static void test_error_cut_by_plugin(void **state)
{
	(void)state;
	struct df_host *dh = df_host_new("provider", "ovh");
	const struct dnsfollow_host *h = &dh->pub;
	char text[sizeof dh->err];
	capture_start();
	size_t end = 0, start = 0, mid = 0;
	for (int n = 0; n <= SLEN; n++) {
		/* The plugin cut the secret ("%.480s"): its start ends the text. */
		h->error(h, -EACCES, "OVH said: %.*s", n, S);
		df_host_error_text(dh, text, sizeof text);
		size_t k = leaked(text);
		end = k > end ? k : end;
		/* Its end starts the text (cut on the left). */
		h->error(h, -EACCES, "%s: invalid key", S + n);
		df_host_error_text(dh, text, sizeof text);
		k = leaked(text);
		start = k > start ? k : start;
		/* Cut inside the message: half the secret or more is
		 * masked anywhere. */
		h->error(h, -EACCES, "key '%.*s' refused (HTTP 403)", n, S);
		df_host_error_text(dh, text, sizeof text);
		k = leaked(text);
		mid = k > mid ? k : mid;
	}
	char *log = capture_end();
	assert_non_null(log);
	assert_in_range(end, 0, 3);
	assert_in_range(start, 0, 3);
	assert_in_range(mid, 0, SLEN / 2);
	/* The debug line of each error is masked too. */
	assert_non_null(strstr(log, "error -13: OVH said: ***"));
	assert_in_range(leaked_lines(log), 0, SLEN / 2);
	free(log);
	df_host_free(dh);
}

static void test_error_cut_by_host_buffer(void **state)
{
	(void)state;
	struct df_host *dh = df_host_new("provider", "ovh");
	const struct dnsfollow_host *h = &dh->pub;
	char pad[2048], text[sizeof dh->err];
	memset(pad, 'x', sizeof pad);
	capture_start();
	size_t worst = 0;
	/* The secret whole, straddling the end of the 1024-byte buffer. */
	for (int p = (int)sizeof dh->err - SLEN - 2; p < (int)sizeof dh->err; p++) {
		h->error(h, -EPROTO, "%.*s%s", p, pad, S);
		df_host_error_text(dh, text, sizeof text);
		size_t k = leaked(text);
		worst = k > worst ? k : worst;
		assert_true(strlen(text) < sizeof dh->err);
	}
	free(capture_end());
	assert_in_range(worst, 0, 3);
	df_host_free(dh);
}

static void test_log_line_cut(void **state)
{
	(void)state;
	char pad[DF_LOG_LINE_MAX + 64];
	memset(pad, 'y', sizeof pad);
	capture_start();
	/* The secret whole, straddling the end of the 2048-byte line. */
	for (int p = DF_LOG_LINE_MAX - SLEN - 2; p < DF_LOG_LINE_MAX + 2; p++)
		df_log(DNSFOLLOW_LOG_WARN, "backend swarm", "%.*s%s", p, pad, S);
	/* And cut by a "%.Ns" before it reached the log. */
	for (int n = 0; n <= SLEN; n++) {
		df_log(DNSFOLLOW_LOG_INFO, NULL, "engine said: %.*s", n, S);
		df_log(DNSFOLLOW_LOG_INFO, NULL, "%s", S + n);
	}
	char *log = capture_end();
	assert_non_null(log);
	int marked = strstr(log, "yyy...") != NULL; /* cut lines say so */
	assert_in_range(leaked_lines(log), 0, 3);
	assert_true(marked);
	free(log);
}

/* ESC [ 31 m, BEL, SOH, DEL, two bytes that are not UTF-8, a valid é, a
 * C1 CSI (U+009B) and a bidi override (U+202E). */
static const char hostile[] = "peer: \x1b[31mred\x1b[0m\a bin\x01\x7f"
			      " \xff\xfe ok \xc3\xa9 \xc2\x9b \xe2\x80\xae.\r\nnext\tline";
static const char shown[] = "peer: \\x1b[31mred\\x1b[0m\\x07 bin\\x01\\x7f"
			    " \\xFF\\xFE ok \xc3\xa9 \\u009b \\u202e.  next line";

static void assert_no_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p != '\n')
			assert_true(*p >= 0x20 && *p != 0x7f);
}

static void test_control_chars(void **state)
{
	(void)state;
	struct df_host *dh = df_host_new("backend", "swarm");
	const struct dnsfollow_host *h = &dh->pub;
	char text[sizeof dh->err];
	capture_start();
	df_log(DNSFOLLOW_LOG_ERROR, NULL, "%s", hostile);
	h->log(h, DNSFOLLOW_LOG_WARN, "%s", hostile);
	h->error(h, -EPROTO, "%s", hostile);
	char *log = capture_end();
	df_host_error_text(dh, text, sizeof text);
	assert_string_equal(text, shown);
	assert_non_null(log);
	assert_no_controls(log);
	int lines = 0;
	for (char *p = log; (p = strstr(p, shown)) != NULL; p++)
		lines++;
	assert_int_equal(lines, 3); /* error, warn, and the debug line */
	free(log);
	df_host_free(dh);
}

static void test_redact_edges(void **state)
{
	(void)state;
	/* A short start of the secret inside ordinary text is left alone:
	 * masking it would mangle words. At an edge it is masked. */
	char a[128] = "Ab3De and more";
	df_redact(a, sizeof a);
	assert_string_equal(a, "Ab3De and more");
	char b[128] = "has Ab3De inside";
	df_redact(b, sizeof b);
	assert_string_equal(b, "has Ab3De inside");
	char c[128] = "three Ab3";
	df_redact(c, sizeof c);
	assert_string_equal(c, "three Ab3");
	char d[128] = "twice Ab3De5Gh7Jk9Mn0Pq2St4Vw6Yz8Ce1F, Ab3De5Gh";
	df_redact(d, sizeof d);
	assert_string_equal(d, "twice ***, ***");
	char e[128] = "z8Ce1F is the end";
	df_redact(e, sizeof e);
	assert_string_equal(e, "*** is the end");
	/* Inside a text: half the secret (16 of 31) is masked, less is not. */
	char f[128] = "key Ab3De5Gh7Jk9Mn0P; more, key Ab3De5Gh7Jk9Mn0; more";
	df_redact(f, sizeof f);
	assert_string_equal(f, "key ***; more, key Ab3De5Gh7Jk9Mn0; more");
	/* A secret that starts with a word does not mangle that word. */
	assert_int_equal(df_log_add_secret("consumerKeyFromFile0001"), 0);
	char g[128] = "(consumer key received: consumerKeyFromFile0001)";
	df_redact(g, sizeof g);
	assert_string_equal(g, "(consumer key received: ***)");
}

static void test_copy_cut(void **state)
{
	(void)state;
	char out[10];
	df_copy_cut(out, sizeof out, "short");
	assert_string_equal(out, "short");
	df_copy_cut(out, sizeof out, "0123456789abc");
	assert_string_equal(out, "012345...");
	/* Neither a UTF-8 character nor an escape is cut in two. */
	df_copy_cut(out, sizeof out, "01234\xc3\xa9xyz");
	assert_string_equal(out, "01234...");
	df_copy_cut(out, sizeof out, "0123\\x1bxyz");
	assert_string_equal(out, "0123...");
	df_copy_cut(out, sizeof out, "0\\u202exyz");
	assert_string_equal(out, "0...");
	/* Formatting cuts the same way, after cleaning. */
	char *t = df_format_clean(10, "%s", "012345\x1b");
	assert_string_equal(t, "012345...");
	free(t);
	t = df_format_clean(10, "%s", "012\x1b");
	assert_string_equal(t, "012\\x1b");
	free(t);
	t = df_format_clean(10, "%s", "01234567\xc3\xa9");
	assert_string_equal(t, "012345...");
	free(t);
}

/* log_format = json: every line one JSON object with the same masking
 * and cleaning as the text form. */
static void test_json_lines(void **state)
{
	(void)state;
	df_log_set_json(1);
	capture_start();
	df_log(DNSFOLLOW_LOG_ERROR, "provider ovh", "token %s then %s", S, hostile);
	df_log(DNSFOLLOW_LOG_INFO, NULL, "plain \"quoted\" line");
	char *log = capture_end();
	df_log_set_json(0);
	assert_non_null(log);
	assert_true(leaked(log) < 4); /* no run of the secret a reader could use */
	assert_no_controls(log);
	int n = 0;
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"), n++) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		assert_non_null(o);
		assert_non_null(json_string_value(json_object_get(o, "time")));
		assert_non_null(json_string_value(json_object_get(o, "msg")));
		const char *lvl = json_string_value(json_object_get(o, "level"));
		assert_string_equal(lvl, n == 0 ? "error" : "info");
		if (n == 0) {
			assert_string_equal(json_string_value(json_object_get(o, "who")), "provider ovh");
			assert_non_null(strstr(json_string_value(json_object_get(o, "msg")), "token ***"));
		} else {
			assert_null(json_string_value(json_object_get(o, "who")));
			assert_string_equal(json_string_value(json_object_get(o, "msg")),
					    "plain \"quoted\" line");
		}
		json_decref(o);
	}
	assert_int_equal(n, 2);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cut_by_plugin),
		cmocka_unit_test(test_error_cut_by_host_buffer),
		cmocka_unit_test(test_log_line_cut),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_redact_edges),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_copy_cut),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
