/* Full reads under read = auto (xfrread.c) against an in-process fake
 * server (UDP queries and TCP transfers on one port, unsigned: the TSIG
 * side of transfers is test_axfr.c's): a small zone is read by one
 * transfer and no query; a zone larger than R2136_AUTO_RECORDS_PER_KEY
 * records per RRset asked gets its transfer cut, is read by queries, and
 * is not transferred again for as few RRsets; a refused transfer falls
 * back to queries, logged once and remembered; an error from the core's
 * emit on a whole transfer is not retried by queries; a refusal followed by
 * failing queries returns the queries' error and is not remembered;
 * read = query never transfers, read = axfr takes a refusal as an error. */
#include <errno.h>
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

extern const struct dnsfollow_plugin dnsfollow_plugin;

struct fake {
	int udp, tcp, port;
	int records;     /* A records h0..h(records-1) besides the SOA */
	int refuse_axfr; /* answer a transfer with REFUSED */
	int refuse_all;  /* and every query too */
	int servfail_axfr; /* answer a transfer with SERVFAIL (temporary) */
	volatile int queries, axfrs, stop;
	pthread_t th;
};

static void put_a(struct r2136_buf *b, int i)
{
	char name[64], addr[32];
	snprintf(name, sizeof name, "h%d.example.test", i);
	snprintf(addr, sizeof addr, "10.0.%d.%d", i / 250, i % 250 + 1);
	r2136_put_name(b, name);
	r2136_put_u16(b, 1);
	r2136_put_u16(b, 1);
	r2136_put_u32(b, 300);
	r2136_put_rdata(b, 1, addr);
}

/* The answer to `q`, into `b`: a transfer (SOA, the A records, SOA, in
 * one message), or one query's answer. */
static void respond(struct fake *f, const struct r2136_msg *m,
		    struct r2136_buf *b)
{
	uint16_t type = m->rr[0].type;
	int axfr = type == R2136_TYPE_AXFR;
	int fail = axfr && f->servfail_axfr;
	int no = f->refuse_all || (axfr && f->refuse_axfr) || fail;
	int idx = -1, an = 0;
	if (!no && type == 1 && sscanf(m->rr[0].name, "h%d.", &idx) == 1 &&
	    idx >= 0 && idx < f->records)
		an = 1;
	if (!no && type == DNSFOLLOW_TYPE_SOA)
		an = 1;
	if (!no && axfr)
		an = f->records + 2;
	r2136_put_header(b, m->id, (uint16_t)(0x8000 | R2136_F_AA | (fail ? 2 : no ? 5 : 0)),
			 1, (uint16_t)an, 0, 0);
	r2136_put_name(b, m->rr[0].name);
	r2136_put_u16(b, type);
	r2136_put_u16(b, 1);
	if (no)
		return;
	if (axfr || type == DNSFOLLOW_TYPE_SOA)
		fake_put_soa(b, "example.test", 7);
	for (int i = 0; axfr && i < f->records; i++)
		put_a(b, i);
	if (axfr)
		fake_put_soa(b, "example.test", 7);
	else if (an && type == 1)
		put_a(b, idx);
}

static size_t answer(struct fake *f, const uint8_t *q, size_t n, uint8_t *out)
{
	struct r2136_msg m;
	struct r2136_buf b = {0};
	if (r2136_msg_decode(q, n, &m, NULL, 0) || m.count[0] != 1)
		return 0;
	if (m.rr[0].type == R2136_TYPE_AXFR)
		f->axfrs++;
	else
		f->queries++;
	respond(f, &m, &b);
	size_t len = b.err ? 0 : b.len;
	memcpy(out, b.p, len);
	r2136_buf_free(&b);
	r2136_msg_free(&m);
	return len;
}

static void serve_tcp(struct fake *f)
{
	int c = accept(f->tcp, NULL, NULL);
	static uint8_t q[65535], a[65537];
	uint8_t l[2];
	if (c < 0)
		return;
	while (recv(c, l, 2, MSG_WAITALL) == 2) {
		size_t n = r2136_get16(l);
		if (recv(c, q, n, MSG_WAITALL) != (ssize_t)n)
			break;
		size_t len = answer(f, q, n, a + 2);
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
	static uint8_t q[65535], a[65535];
	while (!f->stop) {
		struct pollfd p[2] = {{.fd = f->udp, .events = POLLIN},
				      {.fd = f->tcp, .events = POLLIN}};
		if (poll(p, 2, 50) <= 0)
			continue;
		if (p[0].revents) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(f->udp, q, sizeof q, 0,
					     (struct sockaddr *)&from, &fl);
			size_t len = n > 0 ? answer(f, q, (size_t)n, a) : 0;
			if (len)
				sendto(f->udp, a, len, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents)
			serve_tcp(f);
	}
	return NULL;
}

static void fake_start(struct fake *f, int records, int refuse_axfr)
{
	memset(f, 0, sizeof *f);
	f->records = records;
	f->refuse_axfr = refuse_axfr;
	for (int tries = 0; tries < 50 && !f->port; tries++) {
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

static const struct dnsfollow_host *H;

static void *provider(const struct fake *f, const char *read)
{
	char server[64];
	snprintf(server, sizeof server, "server=127.0.0.1:%d", f->port);
	const char *kv[] = {server, "timeout_ms=300", read, NULL};
	struct dnsfollow_kv cfg[16];
	void *self = NULL;
	H = testhost_new("t");
	assert_int_equal(dnsfollow_plugin.create(H, cfg, typed_kv(cfg, 16, kv),
						 &self), 0);
	return self;
}

static void done(void *self)
{
	dnsfollow_plugin.destroy(self);
	testhost_free(H);
}

static int count(const char *log, const char *what)
{
	int n = 0;
	for (const char *s = log; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

struct got {
	int n;
	char first[128];
};

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct got *g = ctx;
	if (g->n++ == 0)
		snprintf(g->first, sizeof g->first, "%s %u %s", rr->name, rr->type,
			 rr->count ? rr->rdata[0] : "-");
	return 0;
}

/* Three RRsets as the core asks them for one record: A, CNAME, marker. */
static const struct dnsfollow_rrkey KEYS[] = {{"h3.example.test", 1},
	{"h3.example.test", 5}, {"_dnsfollow.h3.example.test", 16}};

static int read3(void *p, struct got *g)
{
	memset(g, 0, sizeof *g);
	return r2136_read_full(p, "example.test", KEYS, 3, on_rrset, g);
}

/* A zone of 10 records asked for 3 RRsets (bound 25): one transfer, no
 * query; only the RRset asked and found is reported. */
static void test_small_zone_transfers(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 10, 0);
	void *p = provider(&f, "read=auto");
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.first, "h3.example.test 1 10.0.0.4");
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 0);
	assert_non_null(strstr(testhost_log(H), "3 RRset(s) asked, 1 found "
			       "among the 11 record(s) transferred"));
	done(p);
	fake_stop(&f);
}

/* 100 records for 3 RRsets: the transfer is cut after 25, the RRsets come
 * from 3 queries, and the next read queries at once. */
static void test_large_zone_cut(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 100, 0);
	void *p = provider(&f, NULL);
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.first, "h3.example.test 1 10.0.0.4");
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 3);
	assert_non_null(strstr(testhost_log(H), "more than 24 records for 3 "
			       "RRset(s) asked: transfer stopped, queries instead"));
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 6);
	assert_null(strstr(testhost_log(H), "no zone transfer"));
	done(p);
	fake_stop(&f);
}

/* REFUSED to the transfer: the same RRsets by queries, one WARN naming
 * the refusal, and no second transfer. */
static void test_refused_falls_back(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 10, 1);
	void *p = provider(&f, "read=auto");
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.first, "h3.example.test 1 10.0.0.4");
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 3);
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 6);
	const char *log = testhost_log(H);
	assert_int_equal(count(log, "no zone transfer"), 1);
	assert_non_null(strstr(log, "zone example.test: no zone transfer (server "));
	assert_non_null(strstr(log, "(REFUSED)"));
	done(p);
	fake_stop(&f);
}

/* A transfer that fails for a while (SERVFAIL) falls back to queries
 * this time but is not remembered as refused: the next read transfers
 * again. */
static void test_transient_not_remembered(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 10, 0);
	f.servfail_axfr = 1;
	void *p = provider(&f, "read=auto");
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(f.axfrs, 1);
	f.servfail_axfr = 0;
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(f.axfrs, 2);
	assert_int_equal(count(testhost_log(H), "no zone transfer"), 0);
	done(p);
	fake_stop(&f);
}

/* Refused, and the queries refused too: their error, nothing kept, the
 * next read tries the transfer again. */
static void test_refused_everything(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 10, 1);
	f.refuse_all = 1;
	void *p = provider(&f, "read=auto");
	assert_int_equal(read3(p, &g), -EACCES);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(testhost_log(H), "the transfer failed"));
	assert_int_equal(read3(p, &g), -EACCES);
	assert_int_equal(f.axfrs, 2);
	assert_null(strstr(testhost_log(H), "no zone transfer"));
	done(p);
	fake_stop(&f);
}

static int refuse_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)rr;
	++*(int *)ctx;
	return -EIO;
}

/* The core's emit failing on a whole transfer's records is the read's
 * result: no second read of the same RRsets by queries. */
static void test_emit_error_no_requery(void **st)
{
	(void)st;
	struct fake f;
	int calls = 0;
	fake_start(&f, 10, 0);
	void *p = provider(&f, "read=auto");
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 3, refuse_rrset,
					 &calls), -EIO);
	assert_int_equal(calls, 1);
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 0);
	done(p);
	fake_stop(&f);
}

/* The explicit modes: query never transfers; axfr takes a refusal as the
 * read's error and asks no query. */
static void test_explicit_modes(void **st)
{
	(void)st;
	struct fake f;
	struct got g;
	fake_start(&f, 10, 1);
	void *p = provider(&f, "read=query");
	assert_int_equal(read3(p, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(f.axfrs, 0);
	assert_int_equal(f.queries, 3);
	done(p);
	p = provider(&f, "read=axfr");
	assert_int_equal(read3(p, &g), -EACCES);
	assert_int_equal(f.axfrs, 1);
	assert_int_equal(f.queries, 3);
	assert_null(strstr(testhost_log(H), "no zone transfer"));
	done(p);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_zone_transfers),
		cmocka_unit_test(test_large_zone_cut),
		cmocka_unit_test(test_refused_falls_back),
		cmocka_unit_test(test_refused_everything),
		cmocka_unit_test(test_transient_not_remembered),
		cmocka_unit_test(test_emit_error_no_requery),
		cmocka_unit_test(test_explicit_modes),
	};
	return cmocka_run_group_tests_name("rfc2136 full reads (read = auto)",
					   tests, NULL, NULL);
}
