/*
 * One request, one verified answer: signing, UDP with retransmissions and
 * a TCP retry when truncated, and the server list tried in order
 * (RFC 2136 §4.5) on SERVFAIL, NOTIMP, timeouts, refused connections and
 * garbled answers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rfc2136.h"

uint16_t r2136_new_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof id, 0) != sizeof id)
		id = (uint16_t)rand();
	return id;
}

void r2136_reply_free(struct r2136_reply *r)
{
	r2136_msg_free(&r->msg);
	free(r->raw);
	memset(r, 0, sizeof *r);
}

int r2136_sign(struct r2136 *p, const struct r2136_buf *req,
	       struct r2136_buf *out, uint8_t *mac, size_t *maclen)
{
	memset(out, 0, sizeof *out);
	r2136_put_bytes(out, req->p, req->len);
	*maclen = 0;
	if (out->err || !p->have_key)
		return out->err;
	return r2136_tsig_sign(out, &p->key, (uint64_t)p->host->wall_time(),
			       mac, maclen);
}

/* Verify the TSIG of a decoded answer. An unsigned error answer is kept
 * (servers send BADKEY and friends unsigned, and some send NOTAUTH
 * unsigned); an unsigned success never is. */
static int verify(struct r2136 *p, const struct r2136_server *s,
		  struct r2136_reply *out, const uint8_t *mac, size_t maclen)
{
	struct r2136_tsig_verifier v;
	const char *why = "bad signature";
	struct r2136_tsig t;
	if (!p->have_key)
		return 0;
	r2136_tsig_verify_init(&v, &p->key, mac, maclen);
	int rc = r2136_tsig_verify_next(&v, &out->msg, p->host->wall_time(), &why);
	out->server_time = v.server_time;
	r2136_tsig_verify_free(&v);
	unsigned rcode = r2136_rcode(&out->msg);
	if (rc > 0)
		out->tsig_error = rc;
	else if (rc < 0 && !(rcode != 0 && rcode != 3 &&
			     r2136_tsig_parse(&out->msg, &t, &why) == 0))
		return p->host->error(p->host, -EACCES, "server %s: %s (rcode %s)",
				      s->text, why, r2136_rcode_name(rcode));
	out->unsigned_answer = rc < 0;
	return 0;
}

int r2136_accept(struct r2136 *p, const struct r2136_server *s,
		 uint8_t *raw, size_t len, uint16_t id, const uint8_t *mac,
		 size_t maclen, struct r2136_reply *out)
{
	char why[128];
	memset(out, 0, sizeof *out);
	out->raw = raw;
	out->len = len;
	out->server = s;
	p->stats.bytes_in += len;
	int rc = r2136_msg_decode(raw, len, &out->msg, why, sizeof why);
	if (rc) {
		r2136_reply_free(out);
		return p->host->error(p->host, -EPROTO,
				      "server %s sent a malformed answer: %s", s->text, why);
	}
	if (!(out->msg.flags & R2136_F_QR) || out->msg.id != id) {
		r2136_reply_free(out);
		return p->host->error(p->host, -EPROTO,
				      "server %s sent an answer that does not match the request", s->text);
	}
	rc = verify(p, s, out, mac, maclen);
	if (rc)
		r2136_reply_free(out);
	return rc;
}

/* Send over UDP, retransmitting twice, and wait for the answer with our
 * ID (others are late answers to earlier requests: ignored). */
static int udp_exchange(struct r2136 *p, const struct r2136_server *s,
			const struct r2136_buf *m, uint8_t *buf, size_t *len)
{
	int fd = r2136_udp_open(s), rc = -ETIMEDOUT;
	if (fd < 0)
		return fd;
	uint64_t step = (uint64_t)(p->timeout_ms / 3 > 0 ? p->timeout_ms / 3 : 1);
	for (int attempt = 0; attempt < 3 && rc == -ETIMEDOUT; attempt++) {
		uint64_t deadline = p->host->now_ms() + (attempt == 2 ?
			(uint64_t)p->timeout_ms - 2 * step : step);
		p->stats.messages++;
		p->stats.bytes_out += m->len;
		if (send(fd, m->p, m->len, 0) < 0) {
			rc = -errno;
			break;
		}
		while ((rc = r2136_wait(p, fd, POLLIN, deadline)) == 0) {
			ssize_t r = recv(fd, buf, R2136_MSG_MAX, 0);
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				rc = -errno;
				break;
			}
			if (r >= 12 && r2136_get16(buf) == r2136_get16(m->p)) {
				*len = (size_t)r;
				break;
			}
		}
	}
	close(fd);
	return rc;
}

static int tcp_exchange(struct r2136 *p, const struct r2136_server *s,
			const struct r2136_buf *m, uint8_t *buf, size_t *len)
{
	uint64_t deadline = p->host->now_ms() + (uint64_t)p->timeout_ms;
	int fd = r2136_tcp_open(p, s, deadline);
	if (fd < 0)
		return fd;
	p->stats.messages++;
	p->stats.bytes_out += m->len + 2;
	int rc = r2136_tcp_write(p, fd, m->p, m->len, deadline);
	if (rc == 0)
		rc = r2136_tcp_read(p, fd, buf, len, deadline);
	close(fd);
	return rc;
}

static int transport_error(struct r2136 *p, const struct r2136_server *s,
			   int rc, const char *what)
{
	if (rc == -ECANCELED)
		return r2136_stop_error(p, s, what);
	if (rc == -ETIMEDOUT)
		return p->host->error(p->host, rc, "server %s: no answer to %s within %d ms",
				      s->text, what, p->timeout_ms);
	return p->host->error(p->host, rc, "server %s: %s: %s", s->text, what,
			      strerror(-rc));
}

/* One server: UDP when it fits (TCP when truncated), else TCP. */
static int exchange_one(struct r2136 *p, const struct r2136_server *s,
			const struct r2136_buf *req, const char *what,
			struct r2136_reply *out)
{
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen, len = 0;
	struct r2136_buf m;
	int rc = r2136_sign(p, req, &m, mac, &maclen);
	uint8_t *buf = rc ? NULL : malloc(R2136_MSG_MAX);
	if (rc || !buf) {
		r2136_buf_free(&m);
		return p->host->error(p->host, rc ? rc : -ENOMEM,
				      "cannot build the %s", what);
	}
	int tcp = p->tcp_only || m.len > R2136_UDP_MAX;
	if (!tcp) {
		rc = udp_exchange(p, s, &m, buf, &len);
		tcp = rc == 0 && (r2136_get16(buf + 2) & R2136_F_TC);
	}
	if (tcp)
		rc = tcp_exchange(p, s, &m, buf, &len);
	uint16_t id = r2136_get16(m.p);
	r2136_buf_free(&m);
	if (rc) {
		free(buf);
		return transport_error(p, s, rc, what);
	}
	return r2136_accept(p, s, buf, len, id, mac, maclen, out);
}

int r2136_send(struct r2136 *p, const struct r2136_buf *req,
	       const char *what, struct r2136_reply *out)
{
	int rc = -ETIMEDOUT;
	for (size_t i = 0; i < p->nservers; i++) {
		const struct r2136_server *s = &p->servers[i];
		int last = i + 1 == p->nservers;
		/* After SIGTERM nothing new goes out, above all no UPDATE. */
		if (r2136_stopping(p))
			return r2136_stop_error(p, s, what);
		rc = exchange_one(p, s, req, what, out);
		if (rc == 0 && (last || !r2136_try_next(out)))
			return 0;
		if (rc && (!r2136_fail_over(rc) || r2136_stopping(p)))
			return rc;
		if (!last) {
			p->host->log(p->host, DNSFOLLOW_LOG_WARN,
				     "server %s: %s for %s; trying %s", s->text,
				     rc ? strerror(-rc) : r2136_rcode_name(r2136_rcode(&out->msg)),
				     what, p->servers[i + 1].text);
			if (rc == 0)
				r2136_reply_free(out);
		}
	}
	return rc;
}
