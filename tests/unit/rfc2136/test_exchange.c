/* Transport and error mapping against an in-process fake server (UDP and
 * TCP on one port): truncation → TCP (also when the truncated answer is
 * unsigned), the server list on SERVFAIL, NOTIMP, silence and garbled
 * answers for queries, transfers and UPDATEs, late and foreign answers,
 * unsigned answers to signed requests, every rcode's error code and
 * text, and no secret in the logs of a BADSIG failure; an unsigned NOTAUTH
 * names the key as a likely cause. */
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
#include <time.h>
#include <unistd.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "fake_sign.h"
#include "testhost.h"
#include "harness.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

enum mode { ANSWER, RCODE, TC, SILENT, WRONG_ID, GARBAGE, OTHER_Q, NOT_AA,
	    TC_UNSIGNED, TSIG_ERR };

struct fake {
	int udp, tcp, port;
	enum mode mode;
	int rcode; /* RCODE; the TSIG error for TSIG_ERR */
	const struct r2136_key *key; /* sign answers with it, if set */
	int udp_seen, tcp_seen;
	volatile int stop;
	pthread_t th;
};

/* A transfer: SOA, one A record, SOA. */
static void put_axfr(struct r2136_buf *b, const char *zone)
{
	char a[300];
	snprintf(a, sizeof a, "www.%s", zone);
	fake_put_soa(b, zone, 7);
	r2136_put_name(b, a);
	r2136_put_u16(b, 1);
	r2136_put_u16(b, 1);
	r2136_put_u32(b, 300);
	r2136_put_rdata(b, 1, "192.0.2.80");
	fake_put_soa(b, zone, 7);
}

static uint16_t header_flags(struct fake *f, const uint8_t *q, int tcp)
{
	uint16_t flags = 0x8000 | (uint16_t)(q[2] << 8 & 0x7800);
	if (f->mode != NOT_AA)
		flags |= R2136_F_AA;
	if (f->mode == RCODE)
		flags |= (uint16_t)f->rcode;
	if (f->mode == TSIG_ERR)
		flags |= 9; /* NOTAUTH */
	if ((f->mode == TC || f->mode == TC_UNSIGNED) && !tcp)
		flags |= R2136_F_TC;
	return flags;
}

/* Sign as the mode wants: not at all, an error TSIG, or a real MAC. */
static void sign(struct fake *f, struct r2136_buf *b, const uint8_t *q,
		 size_t qlen, int tcp)
{
	uint8_t reqmac[R2136_MAC_MAX], mac[R2136_MAC_MAX];
	size_t reqlen = fake_request_mac(q, qlen, reqmac), maclen;
	if (!f->key || !reqlen || (f->mode == TC_UNSIGNED && !tcp))
		return;
	if (f->mode == TSIG_ERR)
		fake_put_tsig(b, f->key, (uint64_t)time(NULL), NULL, 0,
			      r2136_get16(q), (uint16_t)f->rcode);
	else
		fake_sign(b, f->key, reqmac, reqlen, NULL, (uint64_t)time(NULL), 1,
			  mac, &maclen);
}

/* The answer to `q` as the mode wants it, into `out`; returns its size. */
static size_t respond(struct fake *f, const uint8_t *q, size_t qlen,
		      uint8_t *out, int tcp)
{
	struct r2136_msg m;
	if (r2136_msg_decode(q, qlen, &m, NULL, 0) || m.count[0] != 1)
		return 0;
	struct r2136_buf b = {0};
	int axfr = m.rr[0].type == R2136_TYPE_AXFR && f->mode == ANSWER;
	int an = f->mode == ANSWER || f->mode == WRONG_ID || f->mode == OTHER_Q ||
		 f->mode == NOT_AA || ((f->mode == TC || f->mode == TC_UNSIGNED) && tcp);
	an = an && r2136_opcode(&m) == 0;
	r2136_put_header(&b, m.id, header_flags(f, q, tcp), 1,
			 (uint16_t)(axfr ? 3 : an), 0, 0);
	const char *qn = f->mode == OTHER_Q ? "other.example.test" : m.rr[0].name;
	r2136_put_name(&b, qn);
	r2136_put_u16(&b, m.rr[0].type);
	r2136_put_u16(&b, 1);
	if (axfr) {
		put_axfr(&b, qn);
	} else if (an) {
		/* the asked type: read() reports only what it asked */
		uint16_t t = m.rr[0].type == 16 ? 16 : 1;
		r2136_put_name(&b, qn);
		r2136_put_u16(&b, t);
		r2136_put_u16(&b, 1);
		r2136_put_u32(&b, 300);
		r2136_put_rdata(&b, t, t == 16 ? "owner=fake" : "192.0.2.1");
	}
	sign(f, &b, q, qlen, tcp);
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

/* The key the next fake_start()ed server signs with (NULL: none). */
static const struct r2136_key *fake_key;

static void fake_start(struct fake *f, enum mode mode, int rcode)
{
	memset(f, 0, sizeof *f);
	f->mode = mode;
	f->rcode = rcode;
	f->key = fake_key;
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

static const struct dnsfollow_host *H;

/* A provider instance for servers on `ports` (0-terminated). These
 * tests are about queries: read = query unless an extra says otherwise
 * (the fake servers do not transfer). */
static void *provider(const int *ports, const char *extra1, const char *extra2)
{
	char server[128] = "server=";
	for (const int *p = ports; *p; p++)
		snprintf(server + strlen(server), sizeof server - strlen(server),
			 "%s127.0.0.1:%d", p == ports ? "" : ",", *p);
	int own = (extra1 && !strncmp(extra1, "read=", 5)) ||
		  (extra2 && !strncmp(extra2, "read=", 5));
	const char *kv[] = {server, "timeout_ms=150", own ? extra1 : "read=query",
			    own ? extra2 : extra1, own ? NULL : extra2, NULL};
	struct dnsfollow_kv cfg[16];
	void *self = NULL;
	H = testhost_new("t");
	size_t n = typed_kv(cfg, 16, kv);
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
	int rc = r2136_read_full(p, "example.test", KEYS, 2, on_rrset, g);
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
	assert_int_equal(g.n, 2);
	assert_string_equal(g.first, "_dnsfollow.git.example.test 16 owner=fake");
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

/* transport = tcp: 100 queries pipelined over one connection. */
static void test_tcp_pipelined(void **st)
{
	(void)st;
	char names[100][32];
	struct dnsfollow_rrkey keys[100];
	struct fake f;
	struct got g = {0};
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof names[i], "h%d.example.test", i);
		keys[i] = (struct dnsfollow_rrkey){names[i], 1};
	}
	fake_start(&f, ANSWER, 0);
	int ports[] = {f.port, 0};
	void *p = provider(ports, "transport=tcp", NULL);
	assert_int_equal(r2136_read_full(p, "example.test", keys, 100, on_rrset, &g), 0);
	fake_stop(&f);
	assert_int_equal(g.n, 100);
	assert_int_equal(f.tcp_seen, 1);
	assert_int_equal(f.udp_seen, 0);
	done(p);
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

static int count(const char *text, const char *word)
{
	int n = 0;
	for (const char *t = text; (t = strstr(t, word)) != NULL; t++)
		n++;
	return n;
}

/* RFC 2136 §4.5 and garbled answers: SERVFAIL, silence, NOTIMP, garbage
 * and an answer to another question each move on to the next server, in
 * order, for queries, for a transfer and for an UPDATE. */
static void test_server_list(void **st)
{
	(void)st;
	static const enum mode modes[] = {RCODE, SILENT, RCODE, GARBAGE, OTHER_Q,
					  ANSWER};
	static const int rcodes[] = {2, 0, 4, 0, 0, 0};
	enum { NF = 6 };
	struct fake f[NF];
	int ports[NF + 1] = {0};
	for (int i = 0; i < NF; i++) {
		fake_start(&f[i], modes[i], rcodes[i]);
		ports[i] = f[i].port;
	}
	void *p = provider(ports, NULL, NULL);
	struct got g = {0};
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(count(testhost_log(H), "asking"), NF - 1);
	static const char *const rd[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "git.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = rd}};
	/* The fifth server's answer to an UPDATE is fine: it gets there. */
	assert_int_equal(apply_cs(p, "example.test", &ch, 1, NULL, NULL), 0);
	assert_int_equal(count(testhost_log(H), "trying"), NF - 2);
	done(p);
	p = provider(ports, "read=axfr", NULL);
	memset(&g, 0, sizeof g);
	/* A transfer reports the RRsets asked, and only those found. */
	static const struct dnsfollow_rrkey xk[] = {{"www.example.test", 1},
		{"example.test", 6}, {"git.example.test", 1}};
	assert_int_equal(r2136_read_full(p, "example.test", xk, 3, on_rrset, &g), 0);
	assert_int_equal(g.n, 2); /* the SOA and www */
	assert_string_equal(g.first, "example.test 6 ns1.example.test "
			    "hostmaster.example.test 7 3600 900 604800 60");
	assert_int_equal(count(testhost_log(H), "asking"), NF - 1);
	done(p);
	for (int i = 0; i < NF; i++) {
		fake_stop(&f[i]);
		assert_true(f[i].udp_seen + f[i].tcp_seen >= 2);
	}
}

/* A truncated UDP answer need not be signed: it is asked again over TCP,
 * and that answer's signature is checked. */
static void test_truncated_unsigned(void **st)
{
	(void)st;
	struct r2136_key k;
	char err[128];
	struct fake f;
	struct got g = {0};
	assert_int_equal(r2136_key_set(&k, "ddns", "hmac-sha256", FAKE_SECRET, err,
				       sizeof err), 0);
	fake_key = &k;
	fake_start(&f, TC_UNSIGNED, 0);
	fake_key = NULL;
	int ports[] = {f.port, 0};
	void *p = provider(ports, "key_name=ddns", "key_secret=" FAKE_SECRET);
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &g), 0);
	assert_int_equal(g.n, 2);
	fake_stop(&f);
	assert_int_equal(f.tcp_seen, 1);
	done(p);
}

/* The secret of a key_file is registered with the host: a BADSIG failure
 * logged at debug level shows it nowhere, and even a line that carried
 * it by mistake would show "***". */
static void test_badsig_hides_secret(void **st)
{
	(void)st;
	static const char secret[] = "c2VjcmV0LWZvci1hLWJhZHNpZy10ZXN0IQ==";
	char kf[64] = "/tmp/r2136-kf-XXXXXX", kv[96], err[128];
	int fd = mkstemp(kf);
	dprintf(fd, "key \"ddns\" { algorithm hmac-sha256; secret \"%s\"; };\n", secret);
	close(fd);
	struct r2136_key k;
	assert_int_equal(r2136_key_set(&k, "ddns", "hmac-sha256", secret, err,
				       sizeof err), 0);
	struct fake f;
	fake_key = &k;
	fake_start(&f, TSIG_ERR, R2136_BADSIG);
	fake_key = NULL;
	int ports[] = {f.port, 0};
	snprintf(kv, sizeof kv, "key_file=%s", kf);
	void *p = provider(ports, kv, NULL);
	static const char *const rd[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "git.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = rd}};
	assert_int_equal(apply_cs(p, "example.test", &ch, 1, NULL, NULL), -EACCES);
	fake_stop(&f);
	unlink(kf);
	assert_non_null(strstr(testhost_error(H), "(BADSIG)"));
	assert_null(strstr(testhost_error(H), secret));
	H->log(H, DNSFOLLOW_LOG_DEBUG, "by mistake: %s", secret);
	assert_null(strstr(testhost_log(H), secret));
	assert_non_null(strstr(testhost_log(H), "by mistake: ***"));
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
		int rc = apply_cs(p, "example.test", &ch, 1, NULL, NULL);
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
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "not signed"));
	assert_int_equal(g.n, 0);
	f.mode = RCODE;
	f.rcode = 5;
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), "(REFUSED)"));
	assert_non_null(strstr(testhost_error(H), "; the answer was not signed"));
	fake_stop(&f);
	done(p);
}

/* Issue 8 item 12: PowerDNS answers a wrong secret, an unknown key name
 * and a wrong algorithm with an unsigned NOTAUTH. That says the key may
 * be wrong (or the zone not served), for an UPDATE and for a query; a
 * signed NOTAUTH still says "not authoritative". */
static void test_unsigned_notauth(void **st)
{
	(void)st;
	static const char *const rd[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = "git.example.test", .type = 1, .ttl = 60,
			  .count = 1, .rdata = rd}};
	static const char want[] = "with an unsigned NOTAUTH: the TSIG key 'ddns' "
		"(name, secret or algorithm hmac-sha256) may be wrong, or the "
		"server does not serve the zone";
	struct fake f;
	struct got g = {0};
	fake_start(&f, RCODE, 9);
	int ports[] = {f.port, 0};
	void *p = provider(ports, "key_name=ddns", "key_secret=" FAKE_SECRET);
	assert_int_equal(apply_cs(p, "example.test", &ch, 1, NULL, NULL), -EACCES);
	if (!strstr(testhost_error(H), want))
		fail_msg("'%s' lacks '%s'", testhost_error(H), want);
	assert_non_null(strstr(testhost_error(H), "answered the UPDATE for zone example.test"));
	assert_int_equal(r2136_read_full(p, "example.test", KEYS, 2, on_rrset, &g), -EACCES);
	assert_non_null(strstr(testhost_error(H), want));
	fake_stop(&f);
	done(p);
	struct r2136_key k;
	char err[128];
	assert_int_equal(r2136_key_set(&k, "ddns", "hmac-sha256", FAKE_SECRET, err,
				       sizeof err), 0);
	fake_key = &k;
	fake_start(&f, RCODE, 9);
	fake_key = NULL;
	ports[0] = f.port;
	p = provider(ports, "key_name=ddns", "key_secret=" FAKE_SECRET);
	assert_int_equal(apply_cs(p, "example.test", &ch, 1, NULL, NULL), -ENOENT);
	assert_non_null(strstr(testhost_error(H), "is not authoritative for zone "
			       "example.test or did not authorize the UPDATE (NOTAUTH)"));
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
	assert_int_equal(r2136_read_full(p, "example.test", &k, 1, on_rrset, &g), -EINVAL);
	assert_non_null(strstr(testhost_error(H), "not in zone example.test"));
	done(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_ok),
		cmocka_unit_test(test_truncated_goes_tcp),
		cmocka_unit_test(test_tcp_pipelined),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_server_list),
		cmocka_unit_test(test_truncated_unsigned),
		cmocka_unit_test(test_badsig_hides_secret),
		cmocka_unit_test(test_update_rcodes),
		cmocka_unit_test(test_unsigned_answers),
		cmocka_unit_test(test_not_in_zone),
		cmocka_unit_test(test_unsigned_notauth),
	};
	return cmocka_run_group_tests_name("rfc2136 exchange", tests, NULL, NULL);
}
