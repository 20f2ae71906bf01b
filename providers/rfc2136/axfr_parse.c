/*
 * The messages of one zone transfer (RFC 5936), without the network:
 * each is decoded strictly (wire_get.c), must answer our request (ID, QR,
 * opcode, question), and is TSIG-verified in the chain of the whole
 * transfer (RFC 8945 §5.3.1: every message MACed on the previous MAC,
 * unsigned ones in between covered by the next, the first and the last
 * signed). The records arrive framed by the zone's SOA, first and last;
 * the two must be the same. Everything is bounded: bytes, records, and
 * (in axfr.c) time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

void r2136_xfr_init(struct r2136_xfr *x, const char *zone, uint16_t id,
		    const struct r2136_key *key, const uint8_t *reqmac,
		    size_t reqmaclen, r2136_rr_cb on_rr, void *ctx)
{
	memset(x, 0, sizeof *x);
	x->zone = zone;
	x->id = id;
	x->key = key;
	x->on_rr = on_rr;
	x->ctx = ctx;
	x->max_bytes = R2136_XFR_MAX_BYTES;
	x->max_records = R2136_XFR_MAX_RECORDS;
	if (key)
		r2136_tsig_verify_init(&x->v, key, reqmac, reqmaclen);
}

void r2136_xfr_free(struct r2136_xfr *x)
{
	if (x->key)
		r2136_tsig_verify_free(&x->v);
	free(x->soa);
	x->soa = NULL;
}

__attribute__((format(printf, 3, 4)))
static int bad(struct r2136_xfr *x, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof x->why, fmt, ap);
	va_end(ap);
	return rc;
}

/* The header and question: an answer to our AXFR request. The first
 * message repeats the question; later ones may (RFC 5936 §2.2). */
static int check_header(struct r2136_xfr *x, const struct r2136_msg *m)
{
	if (m->id != x->id || !(m->flags & R2136_F_QR))
		return bad(x, -EPROTO, "a message that does not answer the request");
	if (r2136_opcode(m) != R2136_OP_QUERY)
		return bad(x, -EPROTO, "a message with opcode %u", r2136_opcode(m));
	if (m->flags & R2136_F_TC)
		return bad(x, -EPROTO, "a truncated message (TC bit) over TCP");
	if (m->count[R2136_QD] > 1)
		return bad(x, -EPROTO, "a message with %u questions", m->count[R2136_QD]);
	if (m->count[R2136_QD] == 1 &&
	    (m->rr[0].type != R2136_TYPE_AXFR || m->rr[0].cls != R2136_CLASS_IN ||
	     !r2136_name_eq(m->rr[0].name, x->zone)))
		return bad(x, -EPROTO, "an answer to another question than the "
			   "transfer of %s", x->zone);
	return 0;
}

/* The TSIG of one message. 0: verified or an unsigned one in the middle;
 * R2136_XFR_ANSWER: an error the caller judges; negative: refused. */
static int check_tsig(struct r2136_xfr *x, const struct r2136_msg *m,
		      int64_t now)
{
	struct r2136_tsig t;
	const char *why = "bad signature";
	if (!x->key)
		return 0;
	if (r2136_tsig_parse(m, &t, &why) < 0)
		return bad(x, -EPROTO, "%s", why);
	int first = x->v.first;
	int v = r2136_tsig_verify_next(&x->v, m, now, &why);
	x->server_time = x->v.server_time;
	if (v > 0) {
		x->tsig_error = v;
		x->rcode = r2136_rcode(m);
		return R2136_XFR_ANSWER;
	}
	/* Servers do not sign every refusal: an unsigned error in place of
	 * the first message is the server's (or a forger's) word, reported
	 * as such; it can only make the transfer fail. */
	if (v < 0 && first && r2136_rcode(m) != 0) {
		x->unsigned_answer = 1;
		x->rcode = r2136_rcode(m);
		return R2136_XFR_ANSWER;
	}
	if (v < 0)
		return bad(x, v == -ENOMEM ? -ENOMEM : -EACCES, "%s", why);
	return 0;
}

/* The zone's SOA: opens the transfer, and closes it when seen again. */
static int take_soa(struct r2136_xfr *x, const struct r2136_rr *rr)
{
	if (!rr->text || rr->cls != R2136_CLASS_IN)
		return bad(x, -EPROTO, "an SOA record of class %u", rr->cls);
	if (x->soas == 0) {
		x->soas = 1;
		if (!(x->soa = strdup(rr->text)))
			return bad(x, -ENOMEM, "out of memory");
		return x->on_rr ? x->on_rr(x->ctx, rr) : 0;
	}
	/* The closing SOA repeats the opening one (RFC 5936 §2.2): another
	 * serial means the transfer is not one version of the zone. */
	if (strcmp(rr->text, x->soa) != 0)
		return bad(x, -EPROTO, "the closing SOA (%.60s) differs from the "
			   "opening one (%.60s)", rr->text, x->soa);
	x->soas = 2;
	return 0;
}

static int take_rr(struct r2136_xfr *x, const struct r2136_rr *rr)
{
	int apex = r2136_name_eq(rr->name, x->zone);
	if (x->soas >= 2)
		return bad(x, -EPROTO, "records after the end of the transfer");
	if (rr->type == DNSFOLLOW_TYPE_SOA && apex) {
		if (++x->nrec > x->max_records)
			return bad(x, -EMSGSIZE, "more than %zu records", x->max_records);
		return take_soa(x, rr);
	}
	if (x->soas == 0)
		return bad(x, -EPROTO, "a transfer that does not start with the SOA "
			   "of %s", x->zone);
	if (!r2136_in_zone(rr->name, x->zone)) {
		x->skipped++;
		return 0;
	}
	if (rr->type == DNSFOLLOW_TYPE_SOA)
		return bad(x, -EPROTO, "an SOA record at %.100s inside the zone",
			   rr->name);
	if (++x->nrec > x->max_records)
		return bad(x, -EMSGSIZE, "more than %zu records", x->max_records);
	return x->on_rr ? x->on_rr(x->ctx, rr) : 0;
}

int r2136_xfr_feed(struct r2136_xfr *x, const uint8_t *raw, size_t len,
		   int64_t now)
{
	struct r2136_msg m;
	char why[128];
	x->msgs++;
	if ((x->bytes += len) > x->max_bytes)
		return bad(x, -EMSGSIZE, "more than %llu bytes",
			   (unsigned long long)x->max_bytes);
	int rc = r2136_msg_decode(raw, len, &m, why, sizeof why);
	if (rc)
		return bad(x, rc == -ENOMEM ? -ENOMEM : -EPROTO,
			   "a malformed message (%s)", why);
	rc = check_header(x, &m);
	if (rc == 0)
		rc = check_tsig(x, &m, now);
	if (rc == 0 && r2136_rcode(&m) != 0) {
		x->rcode = r2136_rcode(&m);
		rc = R2136_XFR_ANSWER;
	}
	for (size_t i = 0; rc == 0 && i < m.nrr; i++)
		if (m.rr[i].section == R2136_AN)
			rc = take_rr(x, &m.rr[i]);
	r2136_msg_free(&m);
	if (rc || x->soas < 2)
		return rc;
	if (x->key && !r2136_tsig_verify_done(&x->v))
		return bad(x, -EACCES, "the last message is not signed");
	return 1;
}
