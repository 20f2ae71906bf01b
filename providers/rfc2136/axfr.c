/*
 * read = axfr: one zone transfer per pass instead of one query per RRset.
 * TSIG is verified across every message of the transfer (RFC 8945
 * §5.3.1), which is where other clients fail on multi-message answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfc2136.h"

#define AXFR_MAX_BYTES (256u << 20)
#define AXFR_MAX_MS 120000 /* a whole transfer, however it trickles in */

struct xfr {
	struct r2136 *p;
	const struct r2136_server *s;
	const char *zone;
	struct r2136_tsig_verifier v;
	struct r2136_rec *rec;
	size_t nrec, cap;
	int soas; /* SOA records seen: the transfer ends at the second */
	unsigned msgs; /* messages of the transfer */
};

static void recs_free(struct xfr *x)
{
	for (size_t i = 0; i < x->nrec; i++) {
		free(x->rec[i].name);
		free(x->rec[i].text);
	}
	free(x->rec);
	x->rec = NULL;
	x->nrec = x->cap = 0;
}

static int keep(struct xfr *x, const struct r2136_rr *rr)
{
	if (x->nrec == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		struct r2136_rec *g = realloc(x->rec, nc * sizeof *g);
		if (!g)
			return -ENOMEM;
		x->rec = g;
		x->cap = nc;
	}
	struct r2136_rec *r = &x->rec[x->nrec];
	r->name = strdup(rr->name);
	r->text = strdup(rr->text);
	r->type = rr->type;
	r->ttl = rr->ttl;
	if (!r->name || !r->text) {
		free(r->name);
		free(r->text);
		return -ENOMEM;
	}
	x->nrec++;
	return 0;
}

/* The records of one message; returns 1 once the closing SOA is seen. */
static int take_records(struct xfr *x, const struct r2136_msg *m)
{
	const struct dnsfollow_host *h = x->p->host;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct r2136_rr *rr = &m->rr[i];
		if (rr->section != R2136_AN)
			continue;
		if (x->soas >= 2)
			return h->error(h, -EPROTO, "server %s: records after the end of "
					"the transfer of %s", x->s->text, x->zone);
		if (rr->type == DNSFOLLOW_TYPE_SOA)
			x->soas++;
		else if (x->soas == 0)
			return h->error(h, -EPROTO, "server %s: transfer of %s does not "
					"start with its SOA", x->s->text, x->zone);
		if (rr->text && rr->cls == R2136_CLASS_IN && keep(x, rr))
			return h->error(h, -ENOMEM, "out of memory");
	}
	return x->soas >= 2;
}

/* Decode, match and verify one message of the transfer. */
static int one_message(struct xfr *x, uint8_t *raw, size_t len, uint16_t id,
		       int first)
{
	struct r2136_reply r = {.raw = raw, .len = len, .server = x->s};
	const char *why = "bad signature";
	char whyb[128];
	int rc = r2136_msg_decode(raw, len, &r.msg, whyb, sizeof whyb);
	if (rc) {
		r.raw = NULL;
		return x->p->host->error(x->p->host, -EPROTO, "server %s sent a "
					 "malformed transfer message: %s", x->s->text, whyb);
	}
	if (r.msg.id != id || !(r.msg.flags & R2136_F_QR))
		rc = x->p->host->error(x->p->host, -EPROTO, "server %s sent a transfer "
				       "message that does not match the request", x->s->text);
	else if (x->p->have_key) {
		int v = r2136_tsig_verify_next(&x->v, &r.msg, x->p->host->wall_time(), &why);
		r.tsig_error = v > 0 ? v : 0;
		r.unsigned_answer = v < 0;
		r.server_time = x->v.server_time;
		if (v < 0 && !(first && r2136_rcode(&r.msg) != 0))
			rc = x->p->host->error(x->p->host, -EACCES, "server %s: %s "
					       "(zone transfer of %s)", x->s->text, why, x->zone);
	}
	if (rc == 0)
		rc = r2136_judge(x->p, &r, "zone transfer", x->zone, 0);
	if (rc == 0)
		rc = take_records(x, &r.msg);
	r2136_msg_free(&r.msg);
	return rc;
}

static int request(struct xfr *x, struct r2136_buf *out, uint8_t *mac,
		   size_t *maclen)
{
	struct r2136_buf q = {0};
	/* Nothing uninitialised for the caller to free or copy if building
	 * fails before r2136_sign() fills them. */
	memset(out, 0, sizeof *out);
	*maclen = 0;
	r2136_put_header(&q, r2136_new_id(), 0, 1, 0, 0, 0);
	r2136_put_name(&q, x->zone);
	r2136_put_u16(&q, R2136_TYPE_AXFR);
	r2136_put_u16(&q, R2136_CLASS_IN);
	int rc = q.err ? q.err : r2136_sign(x->p, &q, out, mac, maclen);
	r2136_buf_free(&q);
	return rc;
}

static int transfer(struct xfr *x, int fd, uint8_t *buf)
{
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen, total = 0, len;
	struct r2136_buf q;
	int rc = request(x, &q, mac, &maclen);
	uint64_t deadline = x->p->host->now_ms() + (uint64_t)x->p->timeout_ms;
	if (rc == 0) {
		x->p->stats.messages++;
		x->p->stats.queries++;
		x->p->stats.bytes_out += q.len + 2;
		rc = r2136_tcp_write(x->p, fd, q.p, q.len, deadline);
	}
	uint16_t id = q.p ? r2136_get16(q.p) : 0;
	r2136_buf_free(&q);
	r2136_tsig_verify_init(&x->v, &x->p->key, mac, maclen);
	uint64_t end = x->p->host->now_ms() + AXFR_MAX_MS;
	for (int first = 1; rc == 0; first = 0) {
		deadline = x->p->host->now_ms() + (uint64_t)x->p->timeout_ms;
		if (deadline > end)
			deadline = end;
		if ((rc = r2136_tcp_read(x->p, fd, buf, &len, deadline)) != 0)
			break;
		x->p->stats.bytes_in += len;
		x->msgs++;
		if ((total += len) > AXFR_MAX_BYTES)
			rc = x->p->host->error(x->p->host, -EMSGSIZE, "transfer of %s "
					       "is larger than 256 MiB", x->zone);
		else
			rc = one_message(x, buf, len, id, first);
	}
	if (rc == 1 && x->p->have_key && !r2136_tsig_verify_done(&x->v))
		rc = x->p->host->error(x->p->host, -EACCES, "server %s: the last "
				       "message of the transfer of %s is not signed",
				       x->s->text, x->zone);
	r2136_tsig_verify_free(&x->v);
	return rc == 1 ? 0 : rc;
}

static int axfr_one(struct xfr *x)
{
	uint64_t deadline = x->p->host->now_ms() + (uint64_t)x->p->timeout_ms;
	if (r2136_stopping(x->p))
		return r2136_stop_error(x->p, x->s, "zone transfer");
	uint8_t *buf = malloc(R2136_MSG_MAX);
	int fd = buf ? r2136_tcp_open(x->p, x->s, deadline) : -ENOMEM, rc;
	if (fd < 0)
		rc = fd;
	else
		rc = transfer(x, fd, buf);
	if (fd >= 0)
		close(fd);
	free(buf);
	if (rc == -ECANCELED)
		return r2136_stop_error(x->p, x->s, "zone transfer");
	if (rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -ECONNRESET)
		x->p->host->error(x->p->host, rc, "server %s: zone transfer of %s: %s",
				  x->s->text, x->zone, rc == -ETIMEDOUT ?
				  "no answer in time" : strerror(-rc));
	return rc;
}

int r2136_read_axfr(struct r2136 *p, const char *zone,
		    dnsfollow_rrset_cb emit, void *ctx)
{
	struct xfr x = {.p = p, .zone = zone};
	int rc = -ETIMEDOUT;
	for (size_t s = 0; s < p->nservers; s++) {
		recs_free(&x);
		x.soas = 0;
		x.msgs = 0;
		x.s = &p->servers[s];
		rc = axfr_one(&x);
		if (!(rc && r2136_fail_over(rc) && s + 1 < p->nservers) ||
		    r2136_stopping(p))
			break;
		p->host->log(p->host, DNSFOLLOW_LOG_WARN, "server %s failed (%s); "
			     "asking %s", x.s->text, strerror(-rc), p->servers[s + 1].text);
	}
	if (rc == 0) {
		p->read_server = x.s;
		r2136_recs_sort(x.rec, x.nrec);
		rc = r2136_emit_sorted(x.rec, x.nrec, emit, ctx);
		p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: transfer of %zu "
			     "records in %u message(s), TSIG verified on each", zone,
			     x.nrec, x.msgs);
	}
	recs_free(&x);
	return rc;
}
