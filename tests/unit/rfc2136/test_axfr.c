/* read = axfr against a scripted TCP server sending correctly signed
 * transfers: SOA framing across messages, records after the closing SOA,
 * a first message that does not start with the SOA, an unsigned last
 * message, an error rcode in the first message, and the TSIG chain
 * verified across every message (a forged MAC, a changed unsigned
 * message in the middle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "fake_sign.h"
#include "testhost.h"
#include "harness.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

/* One message of a scripted transfer. */
struct step {
	const char *recs; /* "S" an SOA, "A" an A record, e.g. "S A A" */
	int sign;         /* 1: signed (chained on the previous MAC) */
	int rcode;
	int tamper;       /* flip a byte after signing */
};

struct server {
	int lfd, port;
	const struct step *steps;
	size_t nsteps;
	struct r2136_key key;
	pthread_t th;
};

static void put_records(struct r2136_buf *b, const char *recs, int *na)
{
	for (const char *r = recs; *r; r++) {
		char name[64];
		if (*r == 'S') {
			fake_put_soa(b, "example.test", 9);
			continue;
		}
		if (*r != 'A')
			continue;
		snprintf(name, sizeof name, "h%d.example.test", *na);
		r2136_put_name(b, name);
		r2136_put_u16(b, 1);
		r2136_put_u16(b, 1);
		r2136_put_u32(b, 300);
		snprintf(name, sizeof name, "192.0.2.%d", 1 + (*na)++);
		r2136_put_rdata(b, 1, name);
	}
}

static uint16_t count_recs(const char *recs)
{
	uint16_t n = 0;
	for (const char *r = recs; *r; r++)
		n += *r == 'S' || *r == 'A';
	return n;
}

/* 0, or -1 when the client has hung up (it may stop at a bad message). */
static int send_msg(int fd, const struct r2136_buf *b)
{
	uint8_t l[2] = {(uint8_t)(b->len >> 8), (uint8_t)b->len};
	if (send(fd, l, 2, MSG_NOSIGNAL) != 2 ||
	    send(fd, b->p, b->len, MSG_NOSIGNAL) != (ssize_t)b->len)
		return -1;
	return 0;
}

/* Answer one request with the script, chaining each MAC on the previous
 * one and covering the unsigned messages in between. */
static void play(struct server *s, int fd, const uint8_t *q, size_t qlen)
{
	uint8_t prior[R2136_MAC_MAX];
	size_t priorlen = fake_request_mac(q, qlen, prior);
	struct r2136_buf pending = {0};
	int first = 1, na = 0;
	int sent = 0;
	for (size_t i = 0; i < s->nsteps && sent == 0; i++) {
		const struct step *st = &s->steps[i];
		struct r2136_buf b = {0};
		r2136_put_header(&b, r2136_get16(q), (uint16_t)(0x8400 | st->rcode),
				 0, count_recs(st->recs), 0, 0);
		put_records(&b, st->recs, &na);
		if (st->sign) {
			fake_sign(&b, &s->key, prior, priorlen, &pending,
				  (uint64_t)time(NULL), first, prior, &priorlen);
			r2136_buf_free(&pending);
			first = 0;
		} else {
			r2136_put_bytes(&pending, b.p, b.len);
		}
		if (st->tamper) /* a byte of the MAC, or of the last rdata */
			b.p[st->sign ? b.len - 10 : b.len - 1] ^= 0x01;
		sent = send_msg(fd, &b);
		r2136_buf_free(&b);
	}
	r2136_buf_free(&pending);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	uint8_t l[2], q[2048];
	if (fd < 0)
		return NULL;
	if (recv(fd, l, 2, MSG_WAITALL) == 2) {
		size_t n = r2136_get16(l);
		if (n <= sizeof q && recv(fd, q, n, MSG_WAITALL) == (ssize_t)n)
			play(s, fd, q, n);
	}
	while (recv(fd, q, sizeof q, 0) > 0) /* until the client is done */
		;
	close(fd);
	return NULL;
}

static void server_start(struct server *s, const struct step *steps, size_t n)
{
	char err[128];
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	memset(s, 0, sizeof *s);
	s->steps = steps;
	s->nsteps = n;
	assert_int_equal(r2136_key_set(&s->key, "ddns", "hmac-sha256", FAKE_SECRET,
				       err, sizeof err), 0);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 2), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->th, NULL, serve, s);
}

struct got {
	int n;
	char names[8][64];
};

static int on_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	struct got *g = ctx;
	if (g->n < 8)
		snprintf(g->names[g->n], sizeof g->names[0], "%s/%u", rr->name,
			 rr->type);
	g->n++;
	return 0;
}

static const struct dnsfollow_host *H;

/* One transfer from a server playing `steps`; returns read()'s code. */
static int transfer(const struct step *steps, size_t n, struct got *g)
{
	struct server s;
	char server[64];
	struct dnsfollow_kv cfg[16];
	void *p = NULL;
	server_start(&s, steps, n);
	snprintf(server, sizeof server, "server=127.0.0.1:%d", s.port);
	const char *kv[] = {server, "read=axfr", "timeout_ms=500", "key_name=ddns",
			    "key_secret=" FAKE_SECRET, NULL};
	H = testhost_new("t");
	assert_int_equal(dnsfollow_plugin.create(H, cfg, typed_kv(cfg, 16, kv), &p), 0);
	memset(g, 0, sizeof *g);
	int rc = r2136_read_full(p, "example.test", NULL, 0, on_rrset, g);
	dnsfollow_plugin.destroy(p);
	pthread_join(s.th, NULL);
	close(s.lfd);
	return rc;
}

static void done(void)
{
	testhost_free(H);
}

#define RUN(steps, g) transfer(steps, sizeof steps / sizeof steps[0], g)

/* The SOA opens the first message and closes the last; records and an
 * unsigned message in between; all of them reported. */
static void test_framing(void **st)
{
	(void)st;
	static const struct step s[] = {{"S A", 1, 0, 0}, {"A", 0, 0, 0},
					{"A S", 1, 0, 0}};
	struct got g;
	assert_int_equal(RUN(s, &g), 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.names[0], "example.test/6");
	assert_string_equal(g.names[3], "h2.example.test/1");
	assert_non_null(strstr(testhost_log(H), "transfer of 5 records in 3 message(s)"));
	done();
	static const struct step all[] = {{"S A", 1, 0, 0}, {"A", 1, 0, 0},
					  {"A", 1, 0, 0}, {"S", 1, 0, 0}};
	assert_int_equal(RUN(all, &g), 0);
	assert_int_equal(g.n, 4);
	done();
}

static void test_bad_framing(void **st)
{
	(void)st;
	static const struct step after[] = {{"S A S A", 1, 0, 0}};
	static const struct step nosoa[] = {{"A S", 1, 0, 0}};
	struct got g;
	assert_int_equal(RUN(after, &g), -EPROTO);
	assert_non_null(strstr(testhost_error(H), "records after the end of the "
			       "transfer of example.test"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(RUN(nosoa, &g), -EPROTO);
	assert_non_null(strstr(testhost_error(H), "does not start with its SOA"));
	done();
}

static void test_unsigned_last(void **st)
{
	(void)st;
	static const struct step s[] = {{"S A", 1, 0, 0}, {"A S", 0, 0, 0}};
	static const struct step none[] = {{"S A S", 0, 0, 0}};
	struct got g;
	assert_int_equal(RUN(s, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "the last message of the "
			       "transfer of example.test is not signed"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(RUN(none, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "response is not signed"));
	done();
}

/* An error in the first message is reported as the server's answer,
 * signed or not (servers do not sign every refusal). */
static void test_error_rcode(void **st)
{
	(void)st;
	static const struct step refused[] = {{"", 0, 5, 0}};
	static const struct step notauth[] = {{"", 1, 9, 0}};
	struct got g;
	assert_int_equal(RUN(refused, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "refused the zone transfer for "
			       "zone example.test (REFUSED)"));
	assert_non_null(strstr(testhost_error(H), "; the answer was not signed"));
	done();
	assert_int_equal(RUN(notauth, &g), -ENOENT);
	assert_non_null(strstr(testhost_error(H), "(NOTAUTH)"));
	assert_null(strstr(testhost_error(H), "not signed"));
	done();
}

/* Every MAC counts: a forged one in the middle, or a changed unsigned
 * message that the next MAC covers, fails the transfer. */
static void test_chain(void **st)
{
	(void)st;
	static const struct step forged[] = {{"S A", 1, 0, 0}, {"A", 1, 0, 1},
					     {"A S", 1, 0, 0}};
	static const struct step changed[] = {{"S A", 1, 0, 0}, {"A", 0, 0, 1},
					      {"A S", 1, 0, 0}};
	static const struct step forged_last[] = {{"S A", 1, 0, 0},
						  {"A S", 1, 0, 1}};
	struct got g;
	assert_int_equal(RUN(forged, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "response signature does not "
			       "verify (zone transfer of example.test)"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(RUN(changed, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "does not verify"));
	done();
	assert_int_equal(RUN(forged_last, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "does not verify"));
	done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_unsigned_last),
		cmocka_unit_test(test_error_rcode),
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests_name("rfc2136 axfr", tests, NULL, NULL);
}
