/*
 * Zone transfers over TCP (RFC 5936), TSIG-verified on every message
 * (axfr_parse.c), for two uses: full reads (xfrread.c: one transfer
 * instead of one query per RRset) and ops.markers (every `_dnsfollow.`
 * TXT RRset of the zone, for policy = sync). r2136_axfr hands each
 * record to a sink as it arrives, so a user keeps only what it needs.
 *
 * Bounded: every read waits at most timeout_ms, the whole transfer
 * AXFR_MAX_MS, and axfr_parse.c caps bytes and records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfc2136.h"

#define AXFR_MAX_MS 120000 /* a whole transfer, however it trickles in */
#define MARKER_PREFIX "_dnsfollow."

static int request(struct r2136 *p, const char *zone, struct r2136_buf *out,
		   uint8_t *mac, size_t *maclen)
{
	struct r2136_buf q = {0};
	/* Nothing uninitialised for the caller to free or copy if building
	 * fails before r2136_sign() fills them. */
	memset(out, 0, sizeof *out);
	*maclen = 0;
	r2136_put_header(&q, r2136_new_id(), 0, 1, 0, 0, 0);
	r2136_put_name(&q, zone);
	r2136_put_u16(&q, R2136_TYPE_AXFR);
	r2136_put_u16(&q, R2136_CLASS_IN);
	int rc = q.err ? q.err : r2136_sign(p, &q, out, mac, maclen);
	r2136_buf_free(&q);
	return rc;
}

/* REFUSED and NOTAUTH to a transfer: say which setting allows it. BIND
 * refuses a transfer its allow-transfer does not match; Knot answers
 * NOTAUTH when no acl allows it, and both answer NOTAUTH for a zone they
 * do not serve. */
static int refused(struct r2136 *p, const struct r2136_server *s,
		   const char *zone, unsigned rcode, int unsig)
{
	char who[300];
	if (p->have_key)
		snprintf(who, sizeof who, "TSIG key '%s' (BIND: allow-transfer { "
			 "key %s; }; Knot: an acl with key %s and action transfer)",
			 p->key.name, p->key.name, p->key.name);
	else
		snprintf(who, sizeof who, "this host, or better configure a TSIG "
			 "key (BIND: allow-transfer { ADDRESS; }; Knot: an acl with "
			 "address ADDRESS and action transfer)");
	return p->host->error(p->host, -EACCES, "server %s %s the zone transfer "
			      "of %s (%s%s): %sallow transfers of the zone to %s",
			      s->text, rcode == 5 ? "refused" : "did not authorize",
			      zone, r2136_rcode_name(rcode), unsig ? ", unsigned" : "",
			      rcode == 9 ? "does it serve the zone? if so, " : "", who);
}

/* An error answer: the TSIG error, REFUSED/NOTAUTH, or the rcode. */
static int judge(struct r2136 *p, const struct r2136_server *s,
		 const char *zone, const struct r2136_xfr *x)
{
	struct r2136_reply r = {.server = s, .tsig_error = x->tsig_error,
				.unsigned_answer = x->unsigned_answer,
				.server_time = x->server_time};
	r.msg.flags = (uint16_t)(R2136_F_QR | (x->rcode & 0x0f));
	if (!x->tsig_error && (x->rcode == 5 || x->rcode == 9))
		return refused(p, s, zone, x->rcode, x->unsigned_answer);
	/* Knot answers BADKEY for a key it knows when no acl of the zone
	 * names it (for the transfer): the fix is then the acl. */
	if (x->tsig_error == R2136_BADKEY)
		return p->host->error(p->host, -EACCES, "server %s does not know "
				      "TSIG key '%s' with algorithm %s, or does not allow "
				      "it the zone transfer of %s (BADKEY): check the key, "
				      "and that the zone allows transfers to it (BIND: "
				      "allow-transfer { key %s; }; Knot: an acl with key %s "
				      "and action transfer)", s->text, p->key.name,
				      r2136_alg_name(p->key.alg), zone, p->key.name,
				      p->key.name);
	return r2136_judge(p, &r, "zone transfer", zone, 0);
}

/* Read messages into the parser until the transfer ends or fails. */
static int receive(struct r2136 *p, const struct r2136_server *s, int fd,
		   struct r2136_xfr *x, uint8_t *buf)
{
	uint64_t end = p->host->now_ms() + AXFR_MAX_MS;
	int rc = 0;
	while (rc == 0) {
		uint64_t deadline = p->host->now_ms() + (uint64_t)p->timeout_ms;
		size_t len;
		if (deadline > end)
			deadline = end;
		if ((rc = r2136_tcp_read(p, fd, buf, &len, deadline)) != 0)
			break;
		p->stats.bytes_in += len;
		rc = r2136_xfr_feed(x, buf, len, p->host->wall_time());
	}
	if (rc == 1)
		return 0;
	if (rc == R2136_XFR_ANSWER)
		return judge(p, s, x->zone, x);
	if (rc == -ETIMEDOUT && p->host->now_ms() >= end)
		return p->host->error(p->host, -ETIMEDOUT, "server %s: the zone "
				      "transfer of %s took longer than %d s", s->text,
				      x->zone, AXFR_MAX_MS / 1000);
	if (rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -ECONNREFUSED)
		return p->host->error(p->host, rc, "server %s: zone transfer of %s: "
				      "%s after %u message(s)", s->text, x->zone,
				      rc == -ETIMEDOUT ? "no answer in time" :
				      "connection closed", x->msgs);
	if (rc == -ECANCELED)
		return r2136_stop_error(p, s, "zone transfer");
	if (x->why[0])
		return p->host->error(p->host, rc, "server %s: zone transfer of %s: "
				      "%s (message %u)", s->text, x->zone, x->why,
				      x->msgs);
	/* The sink's own failure, or the socket's. */
	return p->host->error(p->host, rc, "server %s: zone transfer of %s: %s",
			      s->text, x->zone, strerror(-rc));
}

/* One server: connect, ask, receive. */
static int axfr_one(struct r2136 *p, const struct r2136_server *s,
		    const char *zone, const struct r2136_xfr_sink *sink,
		    unsigned *msgs, size_t *nrec)
{
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen;
	struct r2136_buf q;
	struct r2136_xfr x;
	if (r2136_stopping(p))
		return r2136_stop_error(p, s, "zone transfer");
	int rc = sink->begin ? sink->begin(sink->ctx) : 0;
	if (rc == 0 && (rc = request(p, zone, &q, mac, &maclen)) != 0) {
		r2136_buf_free(&q);
		return p->host->error(p->host, rc, "cannot build the transfer "
				      "request for %s", zone);
	}
	if (rc)
		return rc;
	uint64_t deadline = p->host->now_ms() + (uint64_t)p->timeout_ms;
	uint8_t *buf = malloc(R2136_MSG_MAX);
	int fd = buf ? r2136_tcp_open(p, s, deadline) : -ENOMEM;
	rc = fd < 0 ? fd : r2136_tcp_write(p, fd, q.p, q.len, deadline);
	p->stats.messages++;
	p->stats.transfers++;
	p->stats.bytes_out += q.len + 2;
	r2136_xfr_init(&x, zone, r2136_get16(q.p), p->have_key ? &p->key : NULL,
		       mac, maclen, sink->on_rr, sink->ctx);
	r2136_buf_free(&q);
	if (rc == 0)
		rc = receive(p, s, fd, &x, buf);
	else if (rc == -ENOMEM)
		rc = p->host->error(p->host, rc, "out of memory");
	else if (rc == -ECANCELED)
		rc = r2136_stop_error(p, s, "zone transfer");
	else
		rc = p->host->error(p->host, rc, "server %s: zone transfer of %s: %s",
				    s->text, zone, rc == -ETIMEDOUT ?
				    "no connection in time" : strerror(-rc));
	*msgs = x.msgs;
	*nrec = x.nrec;
	r2136_xfr_free(&x);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int r2136_axfr(struct r2136 *p, const char *zone,
	       const struct r2136_xfr_sink *sink)
{
	int rc = -ETIMEDOUT;
	unsigned msgs = 0;
	size_t nrec = 0;
	for (size_t s = 0; s < p->nservers; s++) {
		rc = axfr_one(p, &p->servers[s], zone, sink, &msgs, &nrec);
		if (rc == 0)
			p->read_server = &p->servers[s];
		if (!(rc && r2136_fail_over(rc) && s + 1 < p->nservers) ||
		    r2136_stopping(p))
			break;
		p->host->log(p->host, DNSFOLLOW_LOG_WARN, "server %s failed (%s); "
			     "asking %s", p->servers[s].text, strerror(-rc),
			     p->servers[s + 1].text);
	}
	if (rc == 0)
		p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: transfer of %zu "
			     "records in %u message(s)%s", zone, nrec, msgs, p->have_key ?
			     ", TSIG verified on each" : ", unsigned");
	return rc;
}

/* ---- the two users: records kept aside until the transfer is whole -- */

struct keep {
	struct r2136_rec *rec;
	size_t n, cap;
	int markers_only;
};

static int keep_begin(void *ctx)
{
	struct keep *k = ctx;
	r2136_recs_clear(k->rec, &k->n);
	return 0;
}

static int keep_rr(void *ctx, const struct r2136_rr *rr)
{
	struct keep *k = ctx;
	if (!rr->text || rr->cls != R2136_CLASS_IN)
		return 0;
	if (k->markers_only && (rr->type != DNSFOLLOW_TYPE_TXT ||
				strncmp(rr->name, MARKER_PREFIX,
					sizeof MARKER_PREFIX - 1) != 0))
		return 0;
	return r2136_recs_add(&k->rec, &k->n, &k->cap, rr);
}

static int transfer_emit(struct r2136 *p, const char *zone, int markers_only,
			 dnsfollow_rrset_cb emit, void *ctx)
{
	struct keep k = {.markers_only = markers_only};
	const struct r2136_xfr_sink sink = {keep_begin, keep_rr, &k};
	int rc = r2136_axfr(p, zone, &sink);
	if (rc == 0) {
		r2136_recs_sort(k.rec, k.n);
		rc = r2136_emit_sorted(k.rec, k.n, emit, ctx);
		if (rc == -ENOMEM)
			p->host->error(p->host, rc, "out of memory");
	}
	if (rc == 0)
		p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "zone %s: %zu %s from the "
			     "transfer", zone, k.n, markers_only ?
			     "marker record(s)" : "record(s)");
	keep_begin(&k);
	free(k.rec);
	return rc;
}

int r2136_markers(void *self, const char *zone, dnsfollow_rrset_cb emit,
		  void *ctx)
{
	return transfer_emit(self, zone, 1, emit, ctx);
}
