/*
 * Reading by queries: ask the server for each (name, type) with signed
 * queries (xfrread.c decides when a zone transfer does it instead). A server's query rate, not the round trip, is the
 * limit, so queries are signed as they go out (the server starts on the
 * first while the rest are being signed) with up to WINDOW in flight over
 * UDP, spread over NSOCK source ports (servers pick a worker thread by
 * address and port). Each is retransmitted twice, then the server counts
 * as timed out. Truncated answers, and everything under transport = tcp,
 * are pipelined over one TCP connection, TCP_WINDOW at a time. Every
 * answer's TSIG is verified. A server that fails (RFC 2136 §4.5, or
 * garbled answers) hands the whole read to the next one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfc2136.h"

#define WINDOW 256
#define NSOCK 16
/* Queries written to a TCP connection before reading their answers: a
 * few KiB, well within a socket buffer, so writing never waits on the
 * server to be read from. */
#define TCP_WINDOW 32
#define CHUNK 60000 /* distinct 16-bit IDs per batch */

enum { Q_NEW, Q_SENT, Q_DONE, Q_TCP, Q_TCP_SENT };

struct query {
	const struct dnsfollow_rrkey *key;
	struct r2136_buf msg; /* signed; built when first sent */
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen;
	uint64_t due;
	int tries, state;
	struct r2136_reply reply;
};

struct batch {
	struct r2136 *p;
	const struct r2136_server *s;
	struct query *q;
	size_t n;
	uint16_t base; /* query i has ID base + i */
	int fd[NSOCK];  /* UDP sockets; query i goes out on fd[i % NSOCK] */
};

static int check_names(struct batch *b, const char *zone)
{
	for (size_t i = 0; i < b->n; i++)
		if (!r2136_in_zone(b->q[i].key->name, zone))
			return b->p->host->error(b->p->host, -EINVAL, "name %s is not "
						 "in zone %s", b->q[i].key->name, zone);
	return 0;
}

/* Sign query `q` for the first time it is sent to this server. */
static int build(struct batch *b, struct query *q)
{
	struct r2136_buf m = {0};
	if (q->msg.p)
		return 0;
	r2136_put_header(&m, (uint16_t)(b->base + (size_t)(q - b->q)), 0, 1, 0,
			 0, 0);
	r2136_put_name(&m, q->key->name);
	r2136_put_u16(&m, q->key->type);
	r2136_put_u16(&m, R2136_CLASS_IN);
	int rc = m.err ? m.err : r2136_sign(b->p, &m, &q->msg, q->mac, &q->maclen);
	r2136_buf_free(&m);
	if (rc)
		return b->p->host->error(b->p->host, rc, "cannot build the query "
					 "for %s", q->key->name);
	return 0;
}

/* The answer must be about the question we asked. */
static int check_question(struct batch *b, struct query *q)
{
	const struct r2136_msg *m = &q->reply.msg;
	if (m->count[R2136_QD] == 1 && m->rr[0].type == q->key->type &&
	    r2136_name_eq(m->rr[0].name, q->key->name))
		return 0;
	return b->p->host->error(b->p->host, -EPROTO, "server %s answered another "
				 "question than %s", b->s->text, q->key->name);
}

/* Takes `raw`. A truncated UDP answer goes to TCP before any TSIG check:
 * servers need not sign what they truncate. */
static int take(struct batch *b, struct query *q, uint8_t *raw, size_t len,
		int udp)
{
	if (udp && (r2136_get16(raw + 2) & R2136_F_TC)) {
		free(raw);
		q->state = Q_TCP;
		return 0;
	}
	int rc = r2136_accept(b->p, b->s, raw, len, r2136_get16(q->msg.p), q->mac,
			      q->maclen, &q->reply);
	q->state = Q_DONE;
	return rc ? rc : check_question(b, q);
}

static int udp_send(struct batch *b, struct query *q)
{
	int fd = b->fd[(size_t)(q - b->q) % NSOCK];
	uint64_t step = (uint64_t)(b->p->timeout_ms / 3 > 0 ? b->p->timeout_ms / 3 : 1);
	int rc = build(b, q);
	if (rc)
		return rc;
	b->p->stats.messages++;
	b->p->stats.queries++;
	b->p->stats.bytes_out += q->msg.len;
	if (send(fd, q->msg.p, q->msg.len, 0) < 0 && errno != EAGAIN)
		return -errno;
	q->due = b->p->host->now_ms() + step;
	q->tries++;
	q->state = Q_SENT;
	return 0;
}

/* Read every datagram waiting; answers to unknown or finished queries
 * (late duplicates after a retransmission) are dropped. */
static int udp_drain(struct batch *b, int fd, size_t *inflight)
{
	uint8_t buf[R2136_MSG_MAX];
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (r < 12)
			continue;
		size_t i = (uint16_t)(r2136_get16(buf) - b->base);
		if (i >= b->n || b->q[i].state != Q_SENT)
			continue;
		uint8_t *raw = malloc((size_t)r);
		if (!raw)
			return -ENOMEM;
		memcpy(raw, buf, (size_t)r);
		(*inflight)--;
		int rc = take(b, &b->q[i], raw, (size_t)r, 1);
		if (rc)
			return rc;
	}
}

/* Retransmit what is due; after the third try the server timed out. */
static int udp_resend(struct batch *b, size_t lo, size_t hi,
		      uint64_t *next_due)
{
	uint64_t now = b->p->host->now_ms();
	*next_due = UINT64_MAX;
	for (size_t i = lo; i < hi; i++) {
		struct query *q = &b->q[i];
		if (q->state != Q_SENT)
			continue;
		if (q->due <= now) {
			if (q->tries >= 3)
				return b->p->host->error(b->p->host, -ETIMEDOUT, "server %s: "
							 "no answer to the query for %s within %d ms",
							 b->s->text, q->key->name, b->p->timeout_ms);
			int rc = udp_send(b, q);
			if (rc)
				return rc;
		}
		if (q->due < *next_due)
			*next_due = q->due;
	}
	return 0;
}

/* Wait until a socket is readable or `due` (0: just look); drain the
 * readable ones. */
static int udp_poll(struct batch *b, uint64_t due, size_t *inflight)
{
	struct pollfd p[NSOCK];
	uint64_t now = b->p->host->now_ms();
	for (int k = 0; k < NSOCK; k++)
		p[k] = (struct pollfd){.fd = b->fd[k], .events = POLLIN};
	uint64_t wait = due > now ? due - now : 0;
	if (r2136_stopping(b->p))
		return -ECANCELED;
	/* In slices, so that a SIGTERM is seen within one. */
	int r = poll(p, NSOCK, (int)(wait < R2136_STOP_SLICE_MS ? wait :
				     R2136_STOP_SLICE_MS));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < NSOCK && r > 0; k++)
		if (p[k].revents) {
			int rc = udp_drain(b, b->fd[k], inflight);
			if (rc)
				return rc;
		}
	return 0;
}

/* Send up to the window, taking in answers every few queries so that
 * signing the rest overlaps with the server's work. */
static int udp_fill(struct batch *b, size_t *next, size_t *inflight)
{
	int rc = 0;
	while (rc == 0 && *inflight < WINDOW && *next < b->n) {
		rc = udp_send(b, &b->q[(*next)++]);
		(*inflight)++;
		if (rc == 0 && *next % NSOCK == 0)
			rc = udp_poll(b, 0, inflight);
	}
	return rc;
}

static int udp_phase(struct batch *b)
{
	int rc = 0, k;
	size_t next = 0, lo = 0, inflight = 0;
	for (k = 0; k < NSOCK; k++)
		b->fd[k] = -1;
	for (k = 0; k < NSOCK && rc == 0; k++)
		if ((b->fd[k] = r2136_udp_open(b->s)) < 0)
			rc = b->fd[k];
	while (rc == 0) {
		rc = udp_fill(b, &next, &inflight);
		while (lo < next && b->q[lo].state != Q_SENT)
			lo++;
		if (rc || (lo == next && next == b->n))
			break;
		uint64_t due;
		if ((rc = udp_resend(b, lo, next, &due)) == 0)
			rc = udp_poll(b, due, &inflight);
	}
	for (k = 0; k < NSOCK; k++)
		if (b->fd[k] >= 0)
			close(b->fd[k]);
	return rc;
}

/* Write the next TCP_WINDOW open queries as one piece; returns how many. */
static int tcp_send(struct batch *b, int fd, size_t *from, uint64_t deadline)
{
	struct r2136_buf out = {0};
	int n = 0, rc = 0;
	for (; *from < b->n && n < TCP_WINDOW && rc == 0; (*from)++) {
		struct query *q = &b->q[*from];
		if (q->state == Q_DONE)
			continue;
		if ((rc = build(b, q)) != 0)
			break;
		r2136_put_u16(&out, (uint16_t)q->msg.len);
		r2136_put_bytes(&out, q->msg.p, q->msg.len);
		q->state = Q_TCP_SENT;
		b->p->stats.messages++;
		b->p->stats.queries++;
		b->p->stats.bytes_out += q->msg.len + 2;
		n++;
	}
	/* Only a few KiB: the buffer's 64 KiB bound cannot be reached. */
	if (rc == 0 && out.err)
		rc = out.err;
	if (rc == 0 && out.len)
		rc = r2136_write_all(b->p, fd, out.p, out.len, deadline);
	r2136_buf_free(&out);
	return rc ? rc : n;
}

/* Read `n` answers, in whatever order the server sends them. */
static int tcp_collect(struct batch *b, int fd, int n)
{
	int rc = 0;
	while (rc == 0 && n > 0) {
		uint64_t deadline = b->p->host->now_ms() + (uint64_t)b->p->timeout_ms;
		uint8_t *buf = malloc(R2136_MSG_MAX);
		size_t len = 0;
		rc = buf ? r2136_tcp_read(b->p, fd, buf, &len, deadline) : -ENOMEM;
		size_t i = rc == 0 && len >= 12 ?
			   (uint16_t)(r2136_get16(buf) - b->base) : b->n;
		if (rc == 0 && (i >= b->n || b->q[i].state != Q_TCP_SENT))
			rc = b->p->host->error(b->p->host, -EPROTO, "server %s sent an "
					       "answer that does not match any query",
					       b->s->text);
		if (rc) {
			free(buf);
			break;
		}
		rc = take(b, &b->q[i], buf, len, 0);
		n--;
	}
	return rc;
}

/* One TCP connection for every query still open. */
static int tcp_phase(struct batch *b)
{
	int fd = -1, rc = 0;
	for (size_t from = 0; rc == 0 && from < b->n;) {
		uint64_t deadline = b->p->host->now_ms() + (uint64_t)b->p->timeout_ms;
		size_t at = from;
		while (at < b->n && b->q[at].state == Q_DONE)
			at++;
		if (at == b->n)
			break;
		if (fd < 0 && (fd = r2136_tcp_open(b->p, b->s, deadline)) < 0) {
			rc = fd;
			break;
		}
		int n = tcp_send(b, fd, &from, deadline);
		rc = n < 0 ? n : tcp_collect(b, fd, n);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static void batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		r2136_reply_free(&b->q[i].reply);
		r2136_buf_free(&b->q[i].msg);
		b->q[i].state = Q_NEW;
		b->q[i].tries = 0;
	}
}

static int transport_text(struct batch *b, int rc)
{
	const struct dnsfollow_host *h = b->p->host;
	if (rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -EHOSTUNREACH ||
	    rc == -ENETUNREACH)
		return h->error(h, rc, "server %s: %s", b->s->text, strerror(-rc));
	if (rc == -ECANCELED)
		return r2136_stop_error(b->p, b->s, "queries");
	if (rc == -ETIMEDOUT)
		return h->error(h, rc, "server %s: no answer within %d ms",
				b->s->text, b->p->timeout_ms);
	return rc; /* the text is set already */
}

/* Ask one server everything. A SERVFAIL or NOTIMP answer fails the whole
 * batch (-EAGAIN, -EOPNOTSUPP) so that it goes to the next server. */
static int ask(struct batch *b, const char *zone)
{
	if (r2136_stopping(b->p))
		return r2136_stop_error(b->p, b->s, "queries");
	b->base = r2136_new_id();
	int rc = b->p->tcp_only ? 0 : udp_phase(b);
	if (rc == 0)
		rc = tcp_phase(b);
	if (rc)
		return transport_text(b, rc);
	for (size_t i = 0; i < b->n; i++)
		if (r2136_try_next(&b->q[i].reply))
			return r2136_judge(b->p, &b->q[i].reply, "query", zone, 1);
	return 0;
}

/* Every RR of the answer of the (name, type) we asked about. */
static int collect(struct batch *b, const char *zone, struct r2136_rec **recs,
		   size_t *nrec, size_t *cap)
{
	for (size_t i = 0; i < b->n; i++) {
		struct query *q = &b->q[i];
		const struct r2136_msg *m = &q->reply.msg;
		int rc = r2136_judge(b->p, &q->reply, "query", zone, 1);
		if (rc)
			return rc;
		if (!(m->flags & R2136_F_AA))
			return b->p->host->error(b->p->host, -ENOENT, "server %s is not "
						 "authoritative for %s (no AA bit): does it serve "
						 "zone %s?", b->s->text, q->key->name, zone);
		for (size_t j = 0; j < m->nrr; j++) {
			const struct r2136_rr *rr = &m->rr[j];
			/* Only the (name, type) asked: an A query at a CNAME
			 * answers with the CNAME, which is reported only when
			 * CNAME is asked for (provider.h). */
			if (rr->section != R2136_AN || !rr->text ||
			    rr->type != q->key->type ||
			    !r2136_name_eq(rr->name, q->key->name))
				continue;
			if (*nrec == *cap) {
				size_t nc = *cap ? *cap * 2 : 64;
				struct r2136_rec *g = realloc(*recs, nc * sizeof *g);
				if (!g)
					return -ENOMEM;
				*recs = g;
				*cap = nc;
			}
			(*recs)[(*nrec)++] = (struct r2136_rec){
				.name = rr->name, .type = rr->type, .ttl = rr->ttl,
				.text = rr->text};
		}
	}
	return 0;
}

/* The servers in order until one answers everything. */
static int ask_servers(struct r2136 *p, struct batch *b, const char *zone)
{
	int rc = check_names(b, zone);
	for (size_t s = 0; rc == 0 && s < p->nservers; s++) {
		b->s = &p->servers[s];
		batch_reset(b);
		rc = ask(b, zone);
		if (!(rc && r2136_fail_over(rc) && s + 1 < p->nservers) ||
		    r2136_stopping(p))
			break;
		p->host->log(p->host, DNSFOLLOW_LOG_WARN, "server %s failed (%s); "
			     "asking %s", b->s->text, strerror(-rc),
			     p->servers[s + 1].text);
		rc = 0;
	}
	return rc;
}

static int read_chunk(struct r2136 *p, const char *zone,
		      const struct dnsfollow_rrkey *keys, size_t n,
		      dnsfollow_rrset_cb emit, void *ctx)
{
	struct batch b = {.p = p, .n = n, .q = calloc(n, sizeof *b.q)};
	struct r2136_rec *recs = NULL;
	size_t nrec = 0, cap = 0;
	int rc = b.q ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		b.q[i].key = &keys[i];
	if (rc == 0)
		rc = ask_servers(p, &b, zone);
	if (rc == 0) {
		p->read_server = b.s;
		rc = collect(&b, zone, &recs, &nrec, &cap);
	}
	if (rc == 0) {
		r2136_recs_sort(recs, nrec);
		rc = r2136_emit_sorted(recs, nrec, emit, ctx);
	}
	if (rc == -ENOMEM)
		p->host->error(p->host, rc, "out of memory");
	free(recs);
	for (size_t i = 0; b.q && i < n; i++) {
		r2136_reply_free(&b.q[i].reply);
		r2136_buf_free(&b.q[i].msg);
	}
	free(b.q);
	return rc;
}

int r2136_read(void *self, const char *zone, const struct dnsfollow_rrkey *keys,
	       size_t nkeys, dnsfollow_rrset_cb emit, void *ctx)
{
	return r2136_read_cached(self, zone, keys, nkeys, emit, ctx);
}

int r2136_read_queries(struct r2136 *p, const char *zone,
		       const struct dnsfollow_rrkey *keys, size_t nkeys,
		       dnsfollow_rrset_cb emit, void *ctx)
{
	uint64_t q0 = p->stats.queries;
	for (size_t i = 0; i < nkeys; i += CHUNK) {
		size_t n = nkeys - i < CHUNK ? nkeys - i : CHUNK;
		int rc = read_chunk(p, zone, keys + i, n, emit, ctx);
		if (rc)
			return rc;
	}
	p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: asked for %zu RRset(s) "
		     "with %llu queries", zone, nkeys,
		     (unsigned long long)(p->stats.queries - q0));
	return 0;
}
