/* Transport and error mapping against an in-process fake server (UDP and
 * TCP on one port): truncation → TCP, the server list on SERVFAIL and
 * silence, late and foreign answers, garbage, unsigned answers to signed
 * requests, and every rcode's error code and text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

enum mode { ANSWER, RCODE, TC, SILENT, WRONG_ID, GARBAGE, OTHER_Q, NOT_AA };

struct fake {
	int udp, tcp, port;
	enum mode mode;
	int rcode;
	int udp_seen, tcp_seen;
	volatile int stop;
	pthread_t th;
};

/* The answer to `q` as the mode wants it, into `out`; returns its size. */
static size_t respond(struct fake *f, const uint8_t *q, size_t qlen,
		      uint8_t *out, int tcp)
{
	struct r2136_msg m;
	if (r2136_msg_decode(q, qlen, &m, NULL, 0) || m.count[0] != 1)
		return 0;
	struct r2136_buf b = {0};
	uint16_t flags = 0x8000 | (uint16_t)(q[2] << 8 & 0x7800);
	int an = f->mode == ANSWER || f->mode == WRONG_ID || f->mode == OTHER_Q ||
		 f->mode == NOT_AA || (f->mode == TC && tcp);
	if (f->mode != NOT_AA)
		flags |= R2136_F_AA;
	if (f->mode == RCODE)
		flags |= (uint16_t)f->rcode;
	if (f->mode == TC && !tcp)
		flags |= R2136_F_TC;
	an = an && r2136_opcode(&m) == 0;
	r2136_put_header(&b, m.id, flags, 1, (uint16_t)an, 0, 0);
	const char *qn = f->mode == OTHER_Q ? "other.example.test" : m.rr[0].name;
	r2136_put_name(&b, qn);
	r2136_put_u16(&b, m.rr[0].type);
	r2136_put_u16(&b, 1);
	if (an) {
		r2136_put_name(&b, qn);
		r2136_put_u16(&b, 1);
		r2136_put_u16(&b, 1);
		r2136_put_u32(&b, 300);
		r2136_put_rdata(&b, 1, "192.0.2.1");
	}
	if (f->mode == GARBAGE)
		b.len = 13;
	size_t n = b.len;
	memcpy(out, b.p, n);
	r2136_buf_free(&b);
	r2136_msg_free(&m);
	return n;
}

static void serve_udp(struct fake *f)
{
	uint8_t q[65535], a[65535];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(f->udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	f->udp_seen++;
	if (f->mode == SILENT)
		return;
	size_t len = respond(f, q, (size_t)n, a, 0);
	if (f->mode == WRONG_ID) {
		a[1] ^= 0x55; /* a late answer to something else first */
		sendto(f->udp, a, len, 0, (struct sockaddr *)&from, fl);
		a[1] ^= 0x55;
	}
	sendto(f->udp, a, len, 0, (struct sockaddr *)&from, fl);
}

static void serve_tcp(struct fake *f)
{
	int c = accept(f->tcp, NULL, NULL);
	uint8_t q[65535], a[65537];
	if (c < 0)
		return;
	f->tcp_seen++;
	for (;;) {
		uint8_t l[2];
		if (recv(c, l, 2, MSG_WAITALL) != 2)
			break;
		size_t n = r2136_get16(l);
		if (recv(c, q, n, MSG_WAITALL) != (ssize_t)n)
			break;
		size_t len = respond(f, q, n, a + 2, 1);
		a[0] = (uint8_t)(len >> 8);
		a[1] = (uint8_t)len;
		if (f->mode != SILENT && send(c, a, len + 2, MSG_NOSIGNAL) < 0)
			break;
	}
	close(c);
}

static void *run(void *arg)
{
	struct fake *f = arg;
	while (!f->stop) {
		struct pollfd p[2] = {{.fd = f->udp, .events = POLLIN},
				      {.fd = f->tcp, .events = POLLIN}};
		if (poll(p, 2, 50) <= 0)
			continue;
		if (p[0].revents)
			serve_udp(f);
		if (p[1].revents)
			serve_tcp(f);
	}
	return NULL;
}

static void fake_start(struct fake *f, enum mode mode, int rcode)
{
	memset(f, 0, sizeof *f);
	f->mode = mode;
	f->rcode = rcode;
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		f->udp = socket(AF_INET, SOCK_DGRAM, 0);
		bind(f->udp, (struct sockaddr *)&a, sizeof a);
		getsockname(f->udp, (struct sockaddr *)&a, &al);
		f->tcp = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(f->tcp, (struct sockaddr *)&a, sizeof a) == 0 &&
		    listen(f->tcp, 4) == 0) {
			f->port = ntohs(a.sin_port);
			break;
		}
		close(f->udp);
		close(f->tcp);
	}
	assert_true(f->port > 0);
	pthread_create(&f->th, NULL, run, f);
}

static void fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->udp);
	close(f->tcp);
}

struct got {
	int n;
	char first[64];
};

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct got *g = ctx;
	if (g->n++ == 0)
		snprintf(g->first, sizeof g->first, "%s %u %s", rr->name, rr->type,
			 rr->count ? rr->rdata[0] : "-");
	return 0;
}

static const struct dnsfollow_host *H;

/* A provider instance for servers on `ports` (0-terminated). */
static void *provider(const int *ports, const char *extra1, const char *extra2)
{
	char server[128] = "server=";
	for (const int *p = ports; *p; p++)
		snprintf(server + strlen(server), sizeof server - strlen(server),
			 "%s127.0.0.1:%d", p == ports ? "" : ",", *p);
	const char *kv[] = {server, "timeout_ms=150", extra1, extra2, NULL};
	struct dnsfollow_kv cfg[8];
	void *self = NULL;
	H = testhost_new("t");
	size_t n = testhost_kv(cfg, 8, kv);
	assert_int_equal(dnsfollow_plugin.create(H, cfg, n, &self), 0);
	return self;
}

static void done(void *self)
{
	dnsfollow_plugin.destroy(self);
	testhost_free(H);
}

static const struct dnsfollow_rrkey KEYS[] = {{"git.example.test", 1},
					      {"_dnsfollow.git.example.test", 16}};

static int read_one(enum mode mode, int rcode, struct got *g, struct fake *out)
{
	struct fake f;
	fake_start(&f, mode, rcode);
	int ports[] = {f.port, 0};
	void *p = provider(ports, NULL, NULL);
	memset(g, 0, sizeof *g);
	int rc = r2136_read(p, "example.test", KEYS, 2, on_rrset, g);
	fake_stop(&f);
	if (out)
		*out = f;
	done(p);
	return rc;
}

static void test_read_ok(void **st)
{
	(void)st;
	struct got g;
	struct fake f;
	assert_int_equal(read_one(ANSWER, 0, &g, &f), 0);
	assert_int_equal(g.n, 2); /* the fake answers A for both */
	assert_string_equal(g.first, "_dnsfollow.git.example.test 1 192.0.2.1");
	assert_int_equal(f.tcp_seen, 0);
	assert_int_equal(read_one(WRONG_ID, 0, &g, NULL), 0);
	assert_int_equal(g.n, 2);
}

static void test_truncated_goes_tcp(void **st)
{
	(void)st;
	struct got g;
	struct fake f;
	assert_int_equal(read_one(TC, 0, &g, &f), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(f.udp_seen, 2);
	assert_int_equal(f.tcp_seen, 1); /* one connection for both */
}

static void test_read_errors(void **st)
{
	(void)st;
	struct got g;
	assert_int_equal(read_one(SILENT, 0, &g, NULL), -ETIMEDOUT);
	assert_int_equal(read_one(GARBAGE, 0, &g, NULL), -EPROTO);
	assert_int_equal(read_one(OTHER_Q, 0, &g, NULL), -EPROTO);
	assert_int_equal(read_one(NOT_AA, 0, &g, NULL), -ENOENT);
	assert_int_equal(read_one(RCODE, 3, &g, NULL), 0); /* NXDOMAIN: absent */
	assert_int_equal(g.n, 0);
	assert_int_equal(read_one(RCODE, 5, &g, NULL), -EACCES);
	assert_int_equal(read_one(RCODE, 2, &g, NULL), -EAGAIN);
}

/* SERVFAIL and silence move on to the next server, in order. */
static void test_server_list(void **st)
{
	(void)st;
	struct fake a, b, c;
	fake_start(&a, RCODE, 2);
	fake_start(&b, SILENT, 0);
	fake_start(&c, ANSWER, 0);
	int ports[] = {a.port, b.port, c.port, 0};
	void *p = provider(ports, NULL, NULL);
	struct got g = {0};
	assert_int_equal(r2136_read(p, "example.test", KEYS, 2, on_rrset, &g), 0);
	assert_int_equal(g.n, 2);
	const char *l = strstr(testhost_log(H), "asking");
	assert_non_null(l);                  /* a → b */
	assert_non_null(strstr(l + 1, "asking")); /* b → c */
	static const char *const rd[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "git.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = rd}};
	assert_int_equal(r2136_apply(p, "example.test", &ch, 1), 0);
	assert_non_null(strstr(testhost_log(H), "trying"));
	fake_stop(&a);
	fake_stop(&b);
	fake_stop(&c);
	assert_true(a.udp_seen >= 2 && b.udp_seen >= 2 && c.udp_seen >= 2);
	done(p);
}

/* Each rcode of an UPDATE answer: code and a text naming it. */
static void test_update_rcodes(void **st)
{
	(void)st;
	struct {
		int rcode, rc;
		const char *text;
	} t[] = {
		{0, 0, NULL},
		{1, -EPROTO, "(FORMERR)"},
		{2, -EAGAIN, "(SERVFAIL)"},
		{4, -EOPNOTSUPP, "(NOTIMP)"},
		{5, -EACCES, "refused the UPDATE for zone example.test (REFUSED)"},
		{8, -EPROTO, "NXRRSET"},
		{9, -EACCES, "unsigned UPDATE for zone example.test (NOTAUTH)"},
		{10, -ENOENT, "(NOTZONE)"},
	};
	static const char *const rd[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "git.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = rd}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct fake f;
		fake_start(&f, RCODE, t[i].rcode);
		int ports[] = {f.port, 0};
		void *p = provider(ports, NULL, NULL);
		int rc = r2136_apply(p, "example.test", &ch, 1);
		fake_stop(&f);
		if (rc != t[i].rc)
			fail_msg("rcode %d: got %d, want %d", t[i].rcode, rc, t[i].rc);
		if (t[i].text && !strstr(testhost_error(H), t[i].text))
			fail_msg("rcode %d: '%s' lacks '%s'", t[i].rcode, testhost_error(H),
				 t[i].text);
		done(p);
	}
}

/* With a key, an unsigned success is never believed; an unsigned error
 * is reported as what it says. */
static void test_unsigned_answers(void **st)
{
	(void)st;
	struct fake f;
	struct got g = {0};
	fake_start(&f, ANSWER, 0);
	int ports[] = {f.port, 0};
	void *p = provider(ports, "key_name=k", "key_secret=c2VjcmV0c2VjcmV0");
	assert_int_equal(r2136_read(p, "example.test", KEYS, 2, on_rrset, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "not signed"));
	assert_int_equal(g.n, 0);
	f.mode = RCODE;
	f.rcode = 5;
	assert_int_equal(r2136_read(p, "example.test", KEYS, 2, on_rrset, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "REFUSED"));
	fake_stop(&f);
	done(p);
}

static void test_not_in_zone(void **st)
{
	(void)st;
	int ports[] = {9, 0};
	void *p = provider(ports, NULL, NULL);
	struct dnsfollow_rrkey k = {"git.fooexample.test", 1};
	struct got g = {0};
	assert_int_equal(r2136_read(p, "example.test", &k, 1, on_rrset, &g), -EINVAL);
	assert_non_null(strstr(testhost_error(H), "not in zone example.test"));
	done(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_ok),
		cmocka_unit_test(test_truncated_goes_tcp),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_server_list),
		cmocka_unit_test(test_update_rcodes),
		cmocka_unit_test(test_unsigned_answers),
		cmocka_unit_test(test_not_in_zone),
	};
	return cmocka_run_group_tests_name("rfc2136 exchange", tests, NULL, NULL);
}
