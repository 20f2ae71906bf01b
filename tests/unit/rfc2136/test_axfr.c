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
	int cut;          /* 1: send half of it, then stall; 2: half, then
			     close the connection */
};

struct server {
	int lfd, port;
	const struct step *steps;
	size_t nsteps;
	struct r2136_key key;
	pthread_t th;
};

static void put_a(struct r2136_buf *b, int *na)
{
	char name[64];
	snprintf(name, sizeof name, "h%d.example.test", *na);
	r2136_put_name(b, name);
	r2136_put_u16(b, 1);
	r2136_put_u16(b, 1);
	r2136_put_u32(b, 300);
	snprintf(name, sizeof name, "192.0.%d.%d", *na / 250, 1 + *na % 250);
	(*na)++;
	r2136_put_rdata(b, 1, name);
}

static void put_txt(struct r2136_buf *b, const char *fmt, int *na)
{
	char name[64];
	snprintf(name, sizeof name, fmt, (*na)++);
	r2136_put_name(b, name);
	r2136_put_u16(b, 16);
	r2136_put_u16(b, 1);
	r2136_put_u32(b, 60);
	r2136_put_rdata(b, 16, "heritage=dnsfollow,owner=t");
}

/* "S" an SOA, "A" an A record, "B" a bulk of BULK A records (about
 * 50 KB: two such unsigned messages in a row pass 64 KiB), "M" a marker,
 * "T" a TXT record that is not one, "X" a marker outside the zone. */
#define BULK 1500
static void put_records(struct r2136_buf *b, const char *recs, int *na)
{
	for (const char *r = recs; *r; r++) {
		if (*r == 'M')
			put_txt(b, "_dnsfollow.h%d.example.test", na);
		else if (*r == 'T')
			put_txt(b, "t%d.example.test", na);
		else if (*r == 'X')
			put_txt(b, "_dnsfollow.h%d.example.net", na);
		else if (*r == 'S')
			fake_put_soa(b, "example.test", 9);
		else if (*r == 'A')
			put_a(b, na);
		else if (*r == 'B')
			for (int i = 0; i < BULK; i++)
				put_a(b, na);
	}
}

static uint16_t count_recs(const char *recs)
{
	uint16_t n = 0;
	for (const char *r = recs; *r; r++)
		n += strchr("SAMTX", *r) ? 1 : *r == 'B' ? BULK : 0;
	return n;
}

/* 0, or -1 when the client has hung up (it may stop at a bad message)
 * or the step cuts the message. */
static int send_msg(int fd, const struct r2136_buf *b, int cut)
{
	uint8_t l[2] = {(uint8_t)(b->len >> 8), (uint8_t)b->len};
	size_t n = cut ? b->len / 2 : b->len;
	if (send(fd, l, 2, MSG_NOSIGNAL) != 2 ||
	    send(fd, b->p, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	if (cut == 2)
		shutdown(fd, SHUT_RDWR);
	return cut ? -1 : 0;
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
			fake_append(&pending, b.p, b.len);
		}
		if (st->tamper == 1) /* a byte of the MAC, or of the last rdata */
			b.p[st->sign ? b.len - 10 : b.len - 1] ^= 0x01;
		else if (st->tamper == 2) /* ANCOUNT one too high */
			b.p[7]++;
		sent = send_msg(fd, &b, st->cut);
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

/* One transfer from a server playing `steps`; returns read()'s code, or
 * markers()'s. */
static int transfer_op(const struct step *steps, size_t n, struct got *g,
		       int markers)
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
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	int rc = markers ? ops->markers(p, "example.test", on_rrset, g) :
		 r2136_read_full(p, "example.test", NULL, 0, on_rrset, g);
	dnsfollow_plugin.destroy(p);
	pthread_join(s.th, NULL);
	close(s.lfd);
	return rc;
}

static void done(void)
{
	testhost_free(H);
}

#define RUN(steps, g) transfer_op(steps, sizeof steps / sizeof steps[0], g, 0)
#define MARKERS(steps, g) transfer_op(steps, sizeof steps / sizeof steps[0], g, 1)

/* The SOA opens the first message and closes the last; records and an
 * unsigned message in between; all of them reported. */
static void test_framing(void **st)
{
	(void)st;
	static const struct step s[] = {{"S A", 1, 0, 0, 0}, {"A", 0, 0, 0, 0},
					{"A S", 1, 0, 0, 0}};
	struct got g;
	assert_int_equal(RUN(s, &g), 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.names[0], "example.test/6");
	assert_string_equal(g.names[3], "h2.example.test/1");
	assert_non_null(strstr(testhost_log(H), "transfer of 5 records in 3 message(s)"));
	done();
	static const struct step all[] = {{"S A", 1, 0, 0, 0}, {"A", 1, 0, 0, 0},
					  {"A", 1, 0, 0, 0}, {"S", 1, 0, 0, 0}};
	assert_int_equal(RUN(all, &g), 0);
	assert_int_equal(g.n, 4);
	done();
}

static void test_bad_framing(void **st)
{
	(void)st;
	static const struct step after[] = {{"S A S A", 1, 0, 0, 0}};
	static const struct step nosoa[] = {{"A S", 1, 0, 0, 0}};
	struct got g;
	assert_int_equal(RUN(after, &g), -EPROTO);
	assert_non_null(strstr(testhost_error(H), "zone transfer of example.test: "
			       "records after the end of the transfer (message 1)"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(RUN(nosoa, &g), -EPROTO);
	assert_non_null(strstr(testhost_error(H), "a transfer that does not start with the SOA of example.test"));
	done();
}

static void test_unsigned_last(void **st)
{
	(void)st;
	static const struct step s[] = {{"S A", 1, 0, 0, 0}, {"A S", 0, 0, 0, 0}};
	static const struct step none[] = {{"S A S", 0, 0, 0, 0}};
	struct got g;
	assert_int_equal(RUN(s, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "zone transfer of example.test: "
			       "the last message is not signed (message 2)"));
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
	static const struct step refused[] = {{"", 0, 5, 0, 0}};
	static const struct step notauth[] = {{"", 1, 9, 0, 0}};
	static const struct step servfail[] = {{"", 1, 2, 0, 0}};
	struct got g;
	assert_int_equal(RUN(refused, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "refused the zone transfer of "
			       "example.test (REFUSED, unsigned): allow transfers of "
			       "the zone to TSIG key 'ddns' (BIND: allow-transfer { "
			       "key ddns; }; Knot: an acl with key ddns and action "
			       "transfer)"));
	assert_false(dnsfollow_err_is_temporary(testhost_error_rc(H)));
	done();
	assert_int_equal(RUN(notauth, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "did not authorize the zone "
			       "transfer of example.test (NOTAUTH): does it serve the "
			       "zone? if so, allow transfers"));
	assert_non_null(strstr(testhost_error(H), "allow-transfer"));
	assert_null(strstr(testhost_error(H), "unsigned"));
	done();
	/* Not a refusal: the server's trouble, temporary. */
	assert_int_equal(RUN(servfail, &g), -EAGAIN);
	assert_non_null(strstr(testhost_error(H), "(SERVFAIL)"));
	done();
}

/* Every MAC counts: a forged one in the middle, or a changed unsigned
 * message that the next MAC covers, fails the transfer. */
static void test_chain(void **st)
{
	(void)st;
	static const struct step forged[] = {{"S A", 1, 0, 0, 0}, {"A", 1, 0, 1, 0},
					     {"A S", 1, 0, 0, 0}};
	static const struct step changed[] = {{"S A", 1, 0, 0, 0}, {"A", 0, 0, 1, 0},
					      {"A S", 1, 0, 0, 0}};
	static const struct step forged_last[] = {{"S A", 1, 0, 0, 0},
						  {"A S", 1, 0, 1, 0}};
	struct got g;
	assert_int_equal(RUN(forged, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "zone transfer of example.test: "
			       "response signature does not verify (message 2)"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(RUN(changed, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "does not verify"));
	done();
	assert_int_equal(RUN(forged_last, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "does not verify"));
	done();
}

/* Servers may sign only every few messages (RFC 8945 §5.3.1: at least
 * every 100th). The unsigned messages in between, all covered by the
 * next MAC, can add up to far more than one 64 KiB message. */
static void test_long_unsigned_run(void **st)
{
	(void)st;
	static const struct step s[] = {{"S B", 1, 0, 0, 0}, {"B", 0, 0, 0, 0},
					{"B", 0, 0, 0, 0}, {"B", 0, 0, 0, 0},
					{"A S", 1, 0, 0, 0}};
	struct got g;
	assert_int_equal(RUN(s, &g), 0);
	assert_int_equal(g.n, 1 + 4 * BULK + 1);
	assert_non_null(strstr(testhost_log(H), "in 5 message(s)"));
	done();
}

/* markers(): the `_dnsfollow.` TXT RRsets of the zone and nothing else
 * (not other TXT, not another zone's), only once the transfer is whole. */
static void test_markers(void **st)
{
	(void)st;
	static const struct step s[] = {{"S M M T A", 1, 0, 0, 0}, {"M X", 0, 0, 0, 0},
					{"T S", 1, 0, 0, 0}};
	static const struct step broken[] = {{"S M M", 1, 0, 0, 0}, {"M S", 1, 0, 1, 0}};
	struct got g;
	assert_int_equal(MARKERS(s, &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.names[0], "_dnsfollow.h0.example.test/16");
	assert_string_equal(g.names[1], "_dnsfollow.h1.example.test/16");
	assert_string_equal(g.names[2], "_dnsfollow.h4.example.test/16");
	assert_non_null(strstr(testhost_log(H), "zone example.test: 3 marker "
			       "record(s) from the transfer"));
	done();
	assert_int_equal(MARKERS(broken, &g), -EACCES);
	assert_int_equal(g.n, 0);
	done();
}

/* A server that stops in the middle of a message: one timeout, within
 * timeout_ms, nothing reported; one that closes: the same, at once. */
static void test_stall(void **st)
{
	(void)st;
	static const struct step stall[] = {{"S A", 1, 0, 0, 0}, {"A A", 1, 0, 0, 1}};
	static const struct step closed[] = {{"S A", 1, 0, 0, 0}, {"A A", 1, 0, 0, 2}};
	struct got g;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(MARKERS(stall, &g), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 450 && ms < 2000);
	assert_non_null(strstr(testhost_error(H), "zone transfer of example.test: "
			       "no answer in time after 1 message(s)"));
	assert_int_equal(g.n, 0);
	done();
	assert_int_equal(MARKERS(closed, &g), -ECONNRESET);
	assert_non_null(strstr(testhost_error(H), "connection closed after 1 "
			       "message(s)"));
	done();
}

/* Garbage in the middle of a transfer: -EPROTO, one line, no crash. */
static void test_garbage(void **st)
{
	(void)st;
	static const struct step s[] = {{"S A", 1, 0, 0, 0}, {"A", 1, 0, 0, 0},
					{"A S", 1, 0, 0, 0}};
	struct got g;
	/* The unsigned middle message with one record too many counted. */
	static const struct step bad[] = {{"S A", 1, 0, 0, 0}, {"A", 0, 0, 2, 0},
					  {"A S", 1, 0, 0, 0}};
	assert_int_equal(RUN(s, &g), 0);
	done();
	assert_int_equal(MARKERS(bad, &g), -EPROTO);
	assert_non_null(strstr(testhost_error(H), "zone transfer of example.test: "
			       "a malformed message ("));
	assert_non_null(strstr(testhost_error(H), "(message 2)"));
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
		cmocka_unit_test(test_long_unsigned_run),
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests_name("rfc2136 axfr", tests, NULL, NULL);
}
