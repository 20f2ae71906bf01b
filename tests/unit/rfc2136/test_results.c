/* ABI 2 apply() and read() against a small fake server: per-change
 * results (0 for every change of an UPDATE that went through, unknown
 * for one the server refused), a split changeset cut only between the
 * core's groups, a refused prerequisite (YXRRSET) as -EEXIST, read()
 * reporting only the (name, type) asked — a CNAME answering an A query
 * is not an A RRset — and the zone cache holding what the server keeps
 * after our UPDATE. Unsigned (no key). */
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
#include "fake_sign.h"
#include "testhost.h"
#include "harness.h"

struct fake {
	int udp, tcp, port;
	int ok_updates; /* UPDATEs answered NOERROR before refused ones */
	int refuse;     /* the rcode refusing them (0: REFUSED) */
	int updates;    /* UPDATEs seen */
	volatile int stop;
	pthread_t th;
};

/* UPDATE: NOERROR or refused by count. SOA query: serial 1 + the
 * UPDATEs accepted. Other queries: the name is a CNAME to
 * target.example.test, whatever type was asked (as a server does). */
static size_t respond(struct fake *f, const uint8_t *q, size_t qlen,
		      uint8_t *out)
{
	struct r2136_msg m;
	if (r2136_msg_decode(q, qlen, &m, NULL, 0) || m.count[0] != 1)
		return 0;
	int update = r2136_opcode(&m) == R2136_OP_UPDATE;
	int soa = !update && m.rr[0].type == DNSFOLLOW_TYPE_SOA;
	uint16_t rcode = update && f->updates++ >= f->ok_updates ?
			 (uint16_t)(f->refuse ? f->refuse : 5) : 0;
	int accepted = f->updates < f->ok_updates ? f->updates : f->ok_updates;
	struct r2136_buf b = {0};
	r2136_put_header(&b, m.id, (uint16_t)(0x8000 | R2136_F_AA | rcode |
					      (q[2] << 8 & 0x7800)), 1, !update, 0, 0);
	r2136_put_name(&b, m.rr[0].name);
	r2136_put_u16(&b, m.rr[0].type);
	r2136_put_u16(&b, 1);
	if (soa) {
		fake_put_soa(&b, m.rr[0].name, (uint32_t)(1 + accepted));
	} else if (!update) {
		r2136_put_name(&b, m.rr[0].name);
		r2136_put_u16(&b, DNSFOLLOW_TYPE_CNAME);
		r2136_put_u16(&b, 1);
		r2136_put_u32(&b, 300);
		r2136_put_rdata(&b, DNSFOLLOW_TYPE_CNAME, "target.example.test");
	}
	size_t n = b.len;
	memcpy(out, b.p, n);
	r2136_buf_free(&b);
	r2136_msg_free(&m);
	return n;
}

static void serve(struct fake *f, int tcp)
{
	static uint8_t q[65535], a[65537];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	if (!tcp) {
		ssize_t n = recvfrom(f->udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		size_t len = n > 0 ? respond(f, q, (size_t)n, a) : 0;
		if (len)
			sendto(f->udp, a, len, 0, (struct sockaddr *)&from, fl);
		return;
	}
	int c = accept(f->tcp, NULL, NULL);
	uint8_t l[2];
	if (c < 0)
		return;
	while (recv(c, l, 2, MSG_WAITALL) == 2) {
		size_t n = r2136_get16(l);
		if (recv(c, q, n, MSG_WAITALL) != (ssize_t)n)
			break;
		size_t len = respond(f, q, n, a + 2);
		a[0] = (uint8_t)(len >> 8);
		a[1] = (uint8_t)len;
		if (send(c, a, len + 2, MSG_NOSIGNAL) < 0)
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
			serve(f, 0);
		if (p[1].revents)
			serve(f, 1);
	}
	return NULL;
}

static const struct dnsfollow_host *H;

/* A fake server and a provider instance talking to it; `extra` is one
 * more configuration item or NULL. */
static void *start_with(struct fake *f, int ok_updates, const char *extra)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	memset(f, 0, sizeof *f);
	f->ok_updates = ok_updates;
	for (int tries = 0; tries < 50 && !f->port; tries++) {
		a.sin_port = 0;
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
	char server[64];
	snprintf(server, sizeof server, "server=127.0.0.1:%d", f->port);
	const char *kv[] = {server, "timeout_ms=2000", extra, NULL};
	struct dnsfollow_kv cfg[16];
	void *self = NULL;
	H = testhost_new("t");
	assert_int_equal(dnsfollow_plugin.create(H, cfg, typed_kv(cfg, 16, kv), &self), 0);
	return self;
}

static void *start(struct fake *f, int ok_updates)
{
	return start_with(f, ok_updates, NULL);
}

static void stop(struct fake *f, void *self)
{
	dnsfollow_plugin.destroy(self);
	testhost_free(H);
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->udp);
	close(f->tcp);
}

static const char *const ip[] = {"192.0.2.10"};
static const char *const own[] = {"heritage=dnsfollow,owner=results-test"};

static struct dnsfollow_change set(const char *name, uint16_t type,
				   const char *const *rd)
{
	return (struct dnsfollow_change){.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = name, .type = type, .ttl = 60, .count = 1, .rdata = rd}};
}

static void test_one_message(void **st)
{
	(void)st;
	struct fake f;
	const struct dnsfollow_change c[] = {
		set("_dnsfollow.a.example.test", 16, own), set("a.example.test", 1, ip)};
	const uint32_t g[] = {7, 7};
	int res[2];
	void *p = start(&f, 1);
	assert_int_equal(apply_cs(p, "example.test", c, 2, res, g), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	/* refused: the whole message failed, no change is known to be bad */
	assert_int_equal(apply_cs(p, "example.test", c, 2, res, g), -EACCES);
	assert_int_equal(res[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(res[1], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(f.updates, 2);
	stop(&f, p);
}

/* 3000 groups of a marker and its record (given as the core orders
 * them): more than one 64 KiB message. The first goes through and the
 * second is refused: the first message's changes read 0, the others
 * stay unknown, no group is cut, and nothing is sent after the refusal. */
static void test_split_results(void **st)
{
	(void)st;
	enum { G = 3000 };
	struct fake f;
	char (*names)[2][48] = calloc(G, sizeof *names);
	struct dnsfollow_change *c = calloc(2 * G, sizeof *c);
	uint32_t *g = calloc(2 * G, sizeof *g);
	int *res = calloc(2 * G, sizeof *res);
	for (int i = 0; i < G; i++) {
		snprintf(names[i][0], 48, "_dnsfollow.host-%04d.example.test", i);
		snprintf(names[i][1], 48, "host-%04d.example.test", i);
		c[2 * i] = set(names[i][0], 16, own);
		c[2 * i + 1] = set(names[i][1], 1, ip);
		g[2 * i] = g[2 * i + 1] = (uint32_t)(G - i); /* any numbering */
	}
	void *p = start(&f, 1);
	assert_int_equal(apply_cs(p, "example.test", c, 2 * G, res, g), -EACCES);
	assert_int_equal(f.updates, 2);
	size_t applied = 0;
	for (int i = 0; i < 2 * G; i++) {
		assert_true(res[i] == 0 || res[i] == DNSFOLLOW_RESULT_UNKNOWN);
		applied += res[i] == 0;
	}
	for (int i = 0; i < G; i++)
		assert_int_equal(res[2 * i], res[2 * i + 1]);
	/* whole groups, in order: a prefix of the changeset went through */
	assert_true(applied > 0 && applied < 2 * G && applied % 2 == 0);
	for (size_t i = 0; i < 2 * G; i++)
		assert_int_equal(res[i], i < applied ? 0 : DNSFOLLOW_RESULT_UNKNOWN);
	assert_non_null(strstr(testhost_log(H), "zone example.test: 1 of "));
	stop(&f, p);
	free(names);
	free(c);
	free(g);
	free(res);
}

struct got {
	int n;
	size_t count; /* records of the last RRset */
	char text[256];
};

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct got *g = ctx;
	g->n++;
	g->count = rr->count;
	snprintf(g->text + strlen(g->text), sizeof g->text - strlen(g->text),
		 "%s %u %s;", rr->name, rr->type, rr->count ? rr->rdata[0] : "-");
	return 0;
}

/* An A query at a CNAME name is answered with the CNAME: that is not an
 * A RRset, and it is reported when CNAME is asked for (as a name
 * without the trailing dot). */
static void test_read_by_type(void **st)
{
	(void)st;
	struct fake f;
	const struct dnsfollow_rrkey a[] = {{"www.example.test", 1}};
	const struct dnsfollow_rrkey both[] = {{"www.example.test", 1},
					       {"www.example.test", 5}};
	struct got g = {0};
	void *p = start(&f, 0);
	assert_int_equal(r2136_read_full(p, "example.test", a, 1, on_rrset, &g), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(r2136_read_full(p, "example.test", both, 2, on_rrset, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text, "www.example.test 5 target.example.test;");
	stop(&f, p);
}

/* A prerequisite the server finds false (YXRRSET: our only ones say
 * "RRset does not exist", update.c) is a CNAME conflict: -EEXIST, one
 * line, results unknown. */
static void test_yxrrset(void **st)
{
	(void)st;
	struct fake f;
	const struct dnsfollow_change c = set("a.example.test", 1, ip);
	int res[1];
	void *p = start(&f, 0);
	f.refuse = 7;
	assert_int_equal(apply_cs(p, "example.test", &c, 1, res, NULL), -EEXIST);
	assert_int_equal(res[0], DNSFOLLOW_RESULT_UNKNOWN);
	char want[200];
	snprintf(want, sizeof want, "server 127.0.0.1:%d refused the UPDATE for zone "
		 "example.test (YXRRSET): a CNAME and other data would share a name",
		 f.port);
	assert_string_equal(testhost_error(H), want);
	stop(&f, p);
}

/* After our UPDATE the zone cache answers the next read: it must hold
 * what the server keeps (each datum once, canonical form), as a full
 * read would report it, not the data as written. */
static void test_cache_as_stored(void **st)
{
	(void)st;
	struct fake f;
	static const char *const v6[] = {"2001:DB8::0010", "2001:db8::10", "2001:db8::11"};
	const struct dnsfollow_change c = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "dup.example.test", .type = 28, .ttl = 60,
			  .count = 3, .rdata = v6}};
	const struct dnsfollow_rrkey k[] = {{"dup.example.test", 28}};
	struct got g = {0};
	void *p = start_with(&f, 1, "full_read_interval=1h");
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	assert_int_equal(ops->read(p, "example.test", k, 1, on_rrset, &g), 0);
	assert_int_equal(g.n, 0); /* a full read: absent, and now cached */
	assert_int_equal(apply_cs(p, "example.test", &c, 1, NULL, NULL), 0);
	uint64_t q = ((struct r2136 *)p)->stats.queries;
	memset(&g, 0, sizeof g);
	assert_int_equal(ops->read(p, "example.test", k, 1, on_rrset, &g), 0);
	assert_int_equal(((struct r2136 *)p)->stats.queries, q + 1); /* SOA only */
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text, "dup.example.test 28 2001:db8::10;");
	assert_int_equal(g.count, 2);
	stop(&f, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_message),
		cmocka_unit_test(test_split_results),
		cmocka_unit_test(test_read_by_type),
		cmocka_unit_test(test_yxrrset),
		cmocka_unit_test(test_cache_as_stored),
	};
	return cmocka_run_group_tests_name("rfc2136 results", tests, NULL, NULL);
}
