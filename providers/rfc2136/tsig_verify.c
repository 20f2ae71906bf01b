/* Decoding the TSIG RR of responses and verifying their MACs. */
#include "tsig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

int r2136_tsig_parse(const struct r2136_msg *m, struct r2136_tsig *t,
		     const char **why)
{
	const struct r2136_rr *rr = NULL;
	for (size_t i = 0; i < m->nrr; i++)
		if (m->rr[i].type == R2136_TYPE_TSIG && m->rr[i].section != R2136_QD) {
			if (i != m->nrr - 1 || m->rr[i].section != R2136_AR)
				return *why = "TSIG record is not the last one", -EPROTO;
			rr = &m->rr[i];
		}
	if (!rr)
		return 0;
	memset(t, 0, sizeof *t);
	snprintf(t->key, sizeof t->key, "%s", rr->name);
	size_t p = rr->rdoff, end = rr->rdoff + rr->rdlen;
	const uint8_t *r = m->raw;
	if (rr->cls != R2136_CLASS_ANY || rr->ttl != 0)
		return *why = "TSIG record with bad class or TTL", -EPROTO;
	if (r2136_get_name(r, end, &p, 0, t->alg, why))
		return -EPROTO;
	if (p + 10 > end)
		return *why = "TSIG rdata too short", -EPROTO;
	t->time = (uint64_t)r2136_get16(r + p) << 32 |
		  (uint64_t)r2136_get16(r + p + 2) << 16 | r2136_get16(r + p + 4);
	t->fudge = r2136_get16(r + p + 6);
	t->maclen = r2136_get16(r + p + 8);
	p += 10;
	if (t->maclen > R2136_MAC_MAX || p + t->maclen + 6 > end)
		return *why = "TSIG MAC size out of range", -EPROTO;
	memcpy(t->mac, r + p, t->maclen);
	p += t->maclen;
	t->orig_id = r2136_get16(r + p);
	t->error = r2136_get16(r + p + 2);
	t->otherlen = r2136_get16(r + p + 4);
	p += 6;
	if (t->otherlen > sizeof t->other || p + t->otherlen != end)
		return *why = "TSIG other data size out of range", -EPROTO;
	memcpy(t->other, r + p, t->otherlen);
	t->off = rr->off;
	return 1;
}

void r2136_tsig_verify_init(struct r2136_tsig_verifier *v,
			    const struct r2136_key *k, const uint8_t *reqmac,
			    size_t reqmaclen)
{
	memset(v, 0, sizeof *v);
	v->key = k;
	memcpy(v->prior, reqmac, reqmaclen);
	v->priorlen = reqmaclen;
	v->first = 1;
}

void r2136_tsig_verify_free(struct r2136_tsig_verifier *v)
{
	r2136_hmac_drop(v->run);
	v->run = NULL;
}

int r2136_tsig_verify_done(const struct r2136_tsig_verifier *v)
{
	return !v->first && v->unsigned_run == 0;
}

/* A MAC started on the prior MAC (RFC 8945 §5.3.1: its length, then
 * itself), or NULL. */
static struct evp_mac_ctx_st *start(const struct r2136_tsig_verifier *v)
{
	struct evp_mac_ctx_st *c = r2136_hmac_begin(v->key);
	uint8_t l[2] = {(uint8_t)(v->priorlen >> 8), (uint8_t)v->priorlen};
	if (c && (r2136_hmac_add(c, l, 2) ||
		  r2136_hmac_add(c, v->prior, v->priorlen))) {
		r2136_hmac_drop(c);
		c = NULL;
	}
	return c;
}

/* MAC input: prior MAC, the unsigned messages since (already fed to
 * v->run), this message as it was before the server added its TSIG
 * (original ID, ARCOUNT less one), then the full variables (first
 * message) or only the timers. */
static int compute(struct r2136_tsig_verifier *v, const struct r2136_msg *m,
		   const struct r2136_tsig *t, uint8_t *mac, size_t *maclen)
{
	struct evp_mac_ctx_st *c = v->run ? v->run : start(v);
	uint8_t head[12];
	uint16_t ar = (uint16_t)(m->count[R2136_AR] - 1);
	struct r2136_buf vars = {0};
	v->run = NULL;
	if (!c)
		return -ENOMEM;
	memcpy(head, m->raw, 12);
	head[0] = (uint8_t)(t->orig_id >> 8);
	head[1] = (uint8_t)t->orig_id;
	head[10] = (uint8_t)(ar >> 8);
	head[11] = (uint8_t)ar;
	if (v->first) {
		r2136_put_name(&vars, v->key->name);
		r2136_put_u16(&vars, R2136_CLASS_ANY);
		r2136_put_u32(&vars, 0);
		r2136_put_name(&vars, r2136_alg_name(v->key->alg));
	}
	r2136_put_u48(&vars, t->time);
	r2136_put_u16(&vars, t->fudge);
	if (v->first) {
		r2136_put_u16(&vars, t->error);
		r2136_put_u16(&vars, t->otherlen);
		r2136_put_bytes(&vars, t->other, t->otherlen);
	}
	int rc = vars.err;
	if (rc == 0)
		rc = r2136_hmac_add(c, head, 12);
	if (rc == 0)
		rc = r2136_hmac_add(c, m->raw + 12, t->off - 12);
	if (rc == 0)
		rc = r2136_hmac_add(c, vars.p, vars.len);
	r2136_buf_free(&vars);
	if (rc) {
		r2136_hmac_drop(c);
		return rc;
	}
	return r2136_hmac_end(c, mac, maclen);
}

static int check_mac(struct r2136_tsig_verifier *v, const struct r2136_msg *m,
		     const struct r2136_tsig *t, const char **why)
{
	uint8_t mac[R2136_MAC_MAX];
	size_t maclen = 0, full = r2136_alg_maclen(v->key->alg);
	/* RFC 8945 §5.2.2.1: truncation to at least half, and 10 bytes. */
	if (t->maclen > full || t->maclen < 10 || t->maclen * 2 < full)
		return *why = "response MAC has a bad size", -EACCES;
	if (compute(v, m, t, mac, &maclen))
		return *why = "cannot compute the MAC", -EACCES;
	if (CRYPTO_memcmp(mac, t->mac, t->maclen) != 0)
		return *why = "response signature does not verify", -EACCES;
	memcpy(v->prior, t->mac, t->maclen);
	v->priorlen = t->maclen;
	v->first = 0;
	v->unsigned_run = 0;
	return 0;
}

static int verify_signed(struct r2136_tsig_verifier *v,
			 const struct r2136_msg *m, const struct r2136_tsig *t,
			 int64_t now, const char **why)
{
	if (t->maclen == 0 && t->error)
		return t->error; /* BADSIG/BADKEY are sent unsigned */
	if (!r2136_name_eq(t->key, v->key->name))
		return *why = "response signed with another key", -EACCES;
	if (r2136_alg_find(t->alg) != v->key->alg)
		return *why = "response signed with another algorithm", -EACCES;
	int rc = check_mac(v, m, t, why);
	if (rc)
		return rc;
	if (t->error == R2136_BADTIME && t->otherlen == 6)
		v->server_time = (uint64_t)r2136_get16(t->other) << 32 |
				 (uint64_t)r2136_get16(t->other + 2) << 16 |
				 r2136_get16(t->other + 4);
	if (t->error)
		return t->error;
	int64_t d = now - (int64_t)t->time;
	if (d > t->fudge || -d > t->fudge)
		return *why = "response time is outside the allowed clock skew", -EACCES;
	return 0;
}

int r2136_tsig_verify_next(struct r2136_tsig_verifier *v,
			   const struct r2136_msg *m, int64_t now,
			   const char **why)
{
	struct r2136_tsig t;
	int rc = r2136_tsig_parse(m, &t, why);
	if (rc < 0)
		return -EACCES;
	if (rc == 1)
		return verify_signed(v, m, &t, now, why);
	/* Unsigned: allowed only between signed messages of a stream. */
	if (v->first)
		return *why = "response is not signed", -EACCES;
	if (++v->unsigned_run > 99)
		return *why = "too many unsigned messages in a row", -EACCES;
	if (!v->run && !(v->run = start(v)))
		return *why = "out of memory", -ENOMEM;
	if (r2136_hmac_add(v->run, m->raw, m->len))
		return *why = "cannot compute the MAC", -EACCES;
	return 0;
}
