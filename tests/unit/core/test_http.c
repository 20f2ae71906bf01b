/* The host's HTTP helper against a local server (tests/lib/httpd.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "testhost.h"

struct server {
	pid_t pid;
	int in; /* its stdin: closing it stops it */
	int port;
};

static char dir[64];
static struct server plain, tls, unixs;
static char sock[128], cert[128], key[128], url[256];

static int start(struct server *s, const char *const *extra)
{
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		char script[700];
		snprintf(script, sizeof script, "%s/../tests/lib/httpd.py", test_build_dir());
		const char *argv[8] = {"python3", script};
		for (int i = 0; extra[i]; i++)
			argv[2 + i] = extra[i];
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	char line[64] = "";
	FILE *f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof line, f) || sscanf(line, "READY %d", &s->port) != 1)
		return -1;
	fclose(f);
	return 0;
}

static void stop(struct server *s)
{
	if (s->pid <= 0)
		return;
	close(s->in);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	snprintf(sock, sizeof sock, "%s/api.sock", dir);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
		 "-addext subjectAltName=DNS:localhost -keyout %s -out %s 2>/dev/null",
		 key, cert);
	if (system(cmd) != 0)
		return -1;
	const char *none[] = {NULL};
	const char *t[] = {"--tls", cert, key, NULL};
	const char *u[] = {"--unix", sock, NULL};
	return start(&plain, none) || start(&tls, t) || start(&unixs, u) ||
	       df_http_global_init();
}

static int teardown(void **state)
{
	(void)state;
	stop(&plain);
	stop(&tls);
	stop(&unixs);
	df_http_global_cleanup();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *path)
{
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", plain.port, path);
	return url;
}

static int get(struct dnsfollow_http_request *rq, struct dnsfollow_http_response *rs,
	       char *err)
{
	rq->struct_size = sizeof *rq;
	return df_http(rq, rs, err, 256);
}

static void test_get_and_headers(void **s)
{
	(void)s;
	struct dnsfollow_http_request rq = {.url = at("/ok")};
	struct dnsfollow_http_response rs;
	char err[256];
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "hello");
	assert_int_equal(rs.body_len, 5);
	assert_non_null(strstr(rs.headers, "X-Test: yes"));
	df_http_free(&rs);
	rq.url = at("/status/503");
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_int_equal(rs.status, 503);
	assert_string_equal(rs.body, "{\"message\":\"as asked\"}");
	df_http_free(&rs);
}

static void test_methods_and_body(void **s)
{
	(void)s;
	const char *hdr[] = {"Content-Type: application/json", NULL};
	struct dnsfollow_http_request rq = {.url = at("/echo"), .method = "PUT",
					    .headers = hdr, .body = "{\"a\":1}", .body_len = 7};
	struct dnsfollow_http_response rs;
	char err[256];
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "PUT {\"a\":1}");
	df_http_free(&rs);
	rq.method = "POST";
	rq.body = NULL;
	rq.body_len = 0;
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "POST ");
	df_http_free(&rs);
}

static void test_limits(void **s)
{
	(void)s;
	struct dnsfollow_http_request rq = {.url = at("/big"), .max_body = 1 << 20};
	struct dnsfollow_http_response rs;
	char err[256];
	assert_int_equal(get(&rq, &rs, err), -EMSGSIZE);
	assert_non_null(strstr(err, "answer larger than 1048576 bytes"));
	assert_null(rs.body);
	rq.url = at("/slow");
	rq.timeout_ms = 300;
	assert_int_equal(get(&rq, &rs, err), -ETIMEDOUT);
	/* Nothing listens on the port of a stopped server. */
	struct server gone = {0};
	const char *none[] = {NULL};
	assert_int_equal(start(&gone, none), 0);
	int port = gone.port;
	stop(&gone);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", port);
	rq.url = url;
	assert_int_equal(get(&rq, &rs, err), -ECONNREFUSED);
	rq.url = "ftp://127.0.0.1/x";
	assert_int_equal(get(&rq, &rs, err), -EINVAL);
}

static void test_tls(void **s)
{
	(void)s;
	snprintf(url, sizeof url, "https://localhost:%d/ok", tls.port);
	struct dnsfollow_http_request rq = {.url = url};
	struct dnsfollow_http_response rs;
	char err[256];
	/* Not signed by a trusted CA: refused, whatever the caller wants. */
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
	rq.ca_file = cert;
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "hello");
	df_http_free(&rs);
	/* The name must match the certificate too. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/ok", tls.port);
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
}

static void test_unix_socket(void **s)
{
	(void)s;
	struct dnsfollow_http_request rq = {.url = "http://localhost/ok", .unix_socket = sock};
	struct dnsfollow_http_response rs;
	char err[256];
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "hello");
	df_http_free(&rs);
}

struct stream {
	int lines, chunks;
	size_t bytes;
	int stop_after;
};

static int on_data(void *ctx, const char *data, size_t len)
{
	struct stream *st = ctx;
	st->chunks++;
	st->bytes += len;
	for (size_t i = 0; i < len; i++)
		st->lines += data[i] == '\n';
	return 0;
}

static int cancelled(void *ctx)
{
	struct stream *st = ctx;
	return st->lines >= st->stop_after;
}

static void test_stream_and_cancel(void **s)
{
	(void)s;
	struct stream st = {.stop_after = 5};
	struct dnsfollow_http_request rq = {.url = at("/stream"), .on_data = on_data,
					    .cancelled = cancelled, .ctx = &st};
	struct dnsfollow_http_response rs;
	char err[256];
	int rc = get(&rq, &rs, err);
	/* Stopped by cancelled() long before the 100 lines (5 s) were sent. */
	assert_int_equal(rc, -ECANCELED);
	assert_in_range(st.lines, 5, 60);
	assert_true(st.chunks > st.lines); /* lines arrived split */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_and_headers),
		cmocka_unit_test(test_methods_and_body),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_stream_and_cancel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
