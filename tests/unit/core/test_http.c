/* The host's HTTP helper against a local server (tests/lib/httpd.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* Run `argv` (a server that prints "READY PORT" and lives until its
 * stdin closes). */
static int start_argv(struct server *s, const char *const *argv)
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

static int start(struct server *s, const char *const *extra)
{
	char script[700];
	snprintf(script, sizeof script, "%s/../tests/lib/httpd.py", test_build_dir());
	const char *argv[8] = {"python3", script};
	for (int i = 0; extra[i]; i++)
		argv[2 + i] = extra[i];
	return start_argv(s, argv);
}

/* A peer that answers every request with the same raw bytes, on
 * 127.0.0.1 (path "-") or a unix socket: for answers that httpd.py cannot
 * give (not HTTP at all, a redirect with its Location). */
static const char canned_py[] =
	"import os, socket, sys, threading\n"
	"path, answer = sys.argv[1], os.fsencode(sys.argv[2])\n"
	"if path == '-':\n"
	"    s = socket.socket(); s.bind(('127.0.0.1', 0))\n"
	"    port = s.getsockname()[1]\n"
	"else:\n"
	"    s = socket.socket(socket.AF_UNIX); s.bind(path); port = 0\n"
	"s.listen(16)\n"
	"def serve():\n"
	"    while True:\n"
	"        c, _ = s.accept(); c.settimeout(5); data = b''\n"
	"        try:\n"
	"            while b'\\r\\n\\r\\n' not in data:\n"
	"                d = c.recv(4096)\n"
	"                if not d: break\n"
	"                data += d\n"
	"            c.sendall(answer)\n"
	"        except OSError: pass\n"
	"        c.close()\n"
	"threading.Thread(target=serve, daemon=True).start()\n"
	"print('READY %d' % port, flush=True)\n"
	"sys.stdin.read()\n";

static int start_canned(struct server *s, const char *path, const char *answer)
{
	const char *argv[] = {"python3", "-c", canned_py, path, answer, NULL};
	return start_argv(s, argv);
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
	struct dnsfollow_http_response rs = {0};
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
	struct dnsfollow_http_response rs = {0};
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
	struct dnsfollow_http_response rs = {0};
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
	struct dnsfollow_http_response rs = {0};
	char err[256];
	/* Not signed by a trusted CA: refused, whatever the caller wants. */
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
	assert_non_null(strstr(err, "the server's TLS certificate is not trusted"));
	rq.ca_file = cert;
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "hello");
	df_http_free(&rs);
	/* The name must match the certificate too. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/ok", tls.port);
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
	assert_non_null(strstr(err, "certificate does not match the host name 127.0.0.1"));
	/* TLS spoken to a plain HTTP server. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/ok", plain.port);
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
	assert_non_null(strstr(err, "127.0.0.1 does not speak TLS"));
}

static void test_unix_socket(void **s)
{
	(void)s;
	struct dnsfollow_http_request rq = {.url = "http://localhost/ok", .unix_socket = sock};
	struct dnsfollow_http_response rs = {0};
	char err[256];
	assert_int_equal(get(&rq, &rs, err), 0);
	assert_string_equal(rs.body, "hello");
	df_http_free(&rs);
}

static const char garbage[] = "\x01\x02 this is not HTTP\n";

static void test_not_http(void **s)
{
	(void)s;
	struct server g = {0}, t = {0};
	char path[160], want[256], err[256];
	snprintf(path, sizeof path, "%s/garbage.sock", dir);
	assert_int_equal(start_canned(&g, path, garbage), 0);
	assert_int_equal(start_canned(&t, "-", garbage), 0);
	struct dnsfollow_http_request rq = {.url = "http://localhost/_ping",
					    .unix_socket = path};
	struct dnsfollow_http_response rs = {0};
	int rc = get(&rq, &rs, err);
	snprintf(want, sizeof want, "unix socket %s: the peer does not speak HTTP", path);
	char *found = strstr(err, want);
	rq.unix_socket = NULL;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", t.port);
	rq.url = url;
	int rc2 = get(&rq, &rs, err);
	stop(&g);
	stop(&t);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(found);
	assert_int_equal(rc2, -EPROTO);
	assert_non_null(strstr(err, "the peer does not speak HTTP"));
}

/* df_http() as user nobody when we are root (root passes every file
 * permission): in a child that drops its privileges. */
static int get_as_nobody(struct dnsfollow_http_request *rq, char *err)
{
	struct dnsfollow_http_response rs = {0};
	if (getuid() != 0)
		return get(rq, &rs, err);
	int p[2];
	if (pipe(p))
		return -999;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		char e[256] = "";
		int rc = get(rq, &rs, e);
		dprintf(p[1], "%d %s", rc, e);
		_exit(0);
	}
	close(p[1]);
	char out[300] = "";
	ssize_t n = read(p[0], out, sizeof out - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	int rc = -999, used = 0;
	if (n <= 0 || sscanf(out, "%d %n", &rc, &used) != 1)
		return -999;
	snprintf(err, 256, "%s", out + used);
	return rc;
}

static void test_unix_socket_errors(void **s)
{
	(void)s;
	char path[160], want[256], err[256];
	struct dnsfollow_http_request rq = {.url = "http://localhost/_ping", .unix_socket = path};
	struct dnsfollow_http_response rs = {0};
	/* Missing: retried (the socket comes back with its daemon). */
	snprintf(path, sizeof path, "%s/missing.sock", dir);
	assert_int_equal(get(&rq, &rs, err), -ECONNREFUSED);
	snprintf(want, sizeof want, "unix socket %s: no such socket", path);
	assert_non_null(strstr(err, want));
	/* A regular file. */
	snprintf(path, sizeof path, "%s/cert.pem", dir);
	assert_int_equal(get(&rq, &rs, err), -EINVAL);
	snprintf(want, sizeof want, "unix socket %s: not a socket", path);
	assert_non_null(strstr(err, want));
	/* Bound, but nobody listens (a daemon that died). */
	snprintf(path, sizeof path, "%s/stale.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(get(&rq, &rs, err), -ECONNREFUSED);
	close(fd);
	snprintf(want, sizeof want, "unix socket %s: nothing listens on it", path);
	assert_non_null(strstr(err, want));
	/* No permission: a socket of mode 000 (as the Docker socket is to a
	 * user outside the docker group). */
	struct server d = {0};
	snprintf(path, sizeof path, "%s/denied.sock", dir);
	assert_int_equal(start_canned(&d, path, garbage), 0);
	int ok = chmod(path, 0) == 0 && chmod(dir, 0711) == 0;
	int rc = get_as_nobody(&rq, err);
	chmod(dir, 0700);
	stop(&d);
	assert_true(ok);
	assert_int_equal(rc, -EACCES);
	snprintf(want, sizeof want, "unix socket %s: permission denied "
		 "(is this user in the docker group?)", path);
	assert_non_null(strstr(err, want));
}

static void test_redirect(void **s)
{
	(void)s;
	struct server r = {0}, rel = {0};
	assert_int_equal(start_canned(&r, "-", "HTTP/1.1 302 Found\r\nLocation: "
				      "https://api.example.test/1.0/me\r\n"
				      "Content-Length: 0\r\n\r\n"), 0);
	assert_int_equal(start_canned(&rel, "-", "HTTP/1.1 301 Moved\r\nLocation: "
				      "/v2/x\r\nContent-Length: 0\r\n\r\n"), 0);
	char err[256], err2[256], want[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/1.0/me", r.port);
	struct dnsfollow_http_request rq = {.url = url};
	struct dnsfollow_http_response rs = {0};
	int rc = get(&rq, &rs, err);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/x", rel.port);
	int rc2 = get(&rq, &rs, err2);
	snprintf(want, sizeof want, "HTTP 301 redirect to http://127.0.0.1:%d/v2/x "
		 "is not followed; use the final URL", rel.port);
	stop(&r);
	stop(&rel);
	assert_int_equal(rc, -EPROTO);
	assert_null(rs.body);
	assert_non_null(strstr(err, "HTTP 302 redirect to https://api.example.test/1.0/me "
				    "is not followed; use the final URL"));
	assert_int_equal(rc2, -EPROTO);
	assert_non_null(strstr(err2, want));
	/* httpd.py's /status/302 has no Location. */
	rq.url = at("/status/302");
	assert_int_equal(get(&rq, &rs, err), -EPROTO);
	assert_non_null(strstr(err, "HTTP 302 redirect without a Location header"));
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
	struct dnsfollow_http_response rs = {0};
	char err[256];
	int rc = get(&rq, &rs, err);
	/* Stopped by cancelled() long before the 100 lines (5 s) were sent. */
	assert_int_equal(rc, -ECANCELED);
	assert_in_range(st.lines, 5, 60);
	assert_true(st.chunks > st.lines); /* lines arrived split */
}

static int poison_calls;

static int poison_on_data(void *ctx, const char *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	poison_calls++;
	return 1;
}

/* Regression (issue 9.1): a request built against older, shorter headers
 * was refused with -EINVAL although abi.h promises it is taken with the
 * members it lacks as zero. The bytes past its struct_size hold an
 * on_data that must not be read: the answer is collected, not streamed. */
static void test_older_request_size(void **s)
{
	(void)s;
	struct dnsfollow_http_request rq = {.url = at("/ok"),
					    .on_data = poison_on_data};
	rq.struct_size = DF_HTTP_REQUEST_MIN_SIZE;
	assert_true(rq.struct_size < sizeof rq);
	struct dnsfollow_http_response rs = {0};
	char err[256] = "";
	assert_int_equal(df_http(&rq, &rs, err, sizeof err), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "hello");
	assert_int_equal(poison_calls, 0);
	df_http_free(&rs);
	/* Through the host table as a plugin calls it. */
	const struct dnsfollow_host *h = testhost_new("older");
	assert_int_equal(h->http(h, &rq, &rs), 0);
	assert_string_equal(rs.body, "hello");
	h->http_free(h, &rs);
	/* Below the first layout it is not a request at all. */
	rq.struct_size = DF_HTTP_REQUEST_MIN_SIZE - 1;
	assert_int_equal(h->http(h, &rq, &rs), -EINVAL);
	assert_non_null(strstr(testhost_error(h), "struct_size"));
	rq.struct_size = 0;
	assert_int_equal(df_http(&rq, &rs, err, sizeof err), -EINVAL);
	assert_int_equal(poison_calls, 0);
	testhost_free(h);
}

/* A CA file that is a FIFO would block inside OpenSSL's open(), where
 * no timeout reaches: refused before curl sees it. The response is the
 * plugin's: filled no further than the size it gives (0: ABI 2's). */
static void test_files_and_response_room(void **s)
{
	(void)s;
	char fifo[128];
	snprintf(fifo, sizeof fifo, "%s/ca-fifo", test_tmpdir());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct dnsfollow_http_request rq = {.struct_size = sizeof rq,
					    .url = at("/ok"), .ca_file = fifo};
	struct dnsfollow_http_response rs = {0};
	char err[256] = "";
	assert_int_equal(df_http(&rq, &rs, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(fifo);
	rq.ca_file = NULL;
	rs.struct_size = 0;
	assert_int_equal(df_http(&rq, &rs, err, sizeof err), 0);
	assert_int_equal(rs.struct_size, DF_HTTP_RESPONSE_ABI2_SIZE);
	df_http_free(&rs);
	struct dnsfollow_http_response small = {.struct_size = DF_HTTP_RESPONSE_ABI2_SIZE - 1};
	assert_int_equal(df_http(&rq, &small, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "struct_size"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_and_headers),
		cmocka_unit_test(test_methods_and_body),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_unix_socket_errors),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_stream_and_cancel),
		cmocka_unit_test(test_older_request_size),
		cmocka_unit_test(test_files_and_response_room),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
