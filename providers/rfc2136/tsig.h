/*
 * TSIG (RFC 8945): signing requests and verifying responses with HMAC,
 * including multi-message answers (AXFR) where each message's MAC chains
 * on the previous one.
 */
#ifndef R2136_TSIG_H
#define R2136_TSIG_H

#include <stdint.h>

#include "wire.h"

#define R2136_MAC_MAX 64 /* SHA-512 */
#define R2136_FUDGE 300

/* TSIG error codes (in the TSIG RR, rcode NOTAUTH in the header). */
#define R2136_BADSIG 16
#define R2136_BADKEY 17
#define R2136_BADTIME 18
#define R2136_BADTRUNC 22

struct r2136_alg;

/** A TSIG key. The secret is sensitive: never log it. */
struct r2136_key {
	char name[R2136_NAME_MAX]; /* canonical text, no trailing dot */
	const struct r2136_alg *alg;
	uint8_t secret[256];
	size_t secret_len;
	/* A keyed HMAC kept for every MAC of this key, or NULL (then each
	 * MAC sets the key up again). Made by r2136_key_prepare. */
	struct evp_mac_ctx_st *hmac;
};

/** Look up an algorithm by name ("hmac-sha256", with or without a
 *  trailing dot, case-insensitive). NULL if unsupported. */
const struct r2136_alg *r2136_alg_find(const char *name);
/** The algorithm's name as configured ("hmac-sha256"). */
const char *r2136_alg_name(const struct r2136_alg *a);
/** Full MAC size in bytes. */
size_t r2136_alg_maclen(const struct r2136_alg *a);

/** The TSIG RR of a message, as decoded. */
struct r2136_tsig {
	char key[R2136_NAME_MAX];
	char alg[R2136_NAME_MAX];
	uint64_t time;
	uint16_t fudge, maclen, orig_id, error, otherlen;
	uint8_t mac[R2136_MAC_MAX];
	uint8_t other[16];
	size_t off; /* where the TSIG RR starts in the message */
};

/**
 * Find and decode the TSIG RR of `m`. Returns 1 when present, 0 when the
 * message has none, -EPROTO (with `*why`) when it is malformed or not the
 * last record.
 */
int r2136_tsig_parse(const struct r2136_msg *m, struct r2136_tsig *t,
		     const char **why);

/**
 * Append a TSIG RR signing the message in `b` (complete, ARCOUNT not
 * counting the TSIG yet; this function increments it). The MAC goes to
 * `mac` (R2136_MAC_MAX bytes), its size to `*maclen`. Returns 0 or b->err.
 */
int r2136_tsig_sign(struct r2136_buf *b, const struct r2136_key *k,
		    uint64_t now, uint8_t *mac, size_t *maclen);

/**
 * Set the key up once for all its MACs: a server's query rate makes the
 * per-message key setup of OpenSSL 3 a large share of a read. Returns 0
 * or -ENOMEM; release with r2136_key_wipe. Not for keys used by several
 * threads at once.
 */
int r2136_key_prepare(struct r2136_key *k);
/** Free what r2136_key_prepare made and wipe the secret. */
void r2136_key_wipe(struct r2136_key *k);

/** The MAC over a byte string `data` (exposed for known-answer tests). */
int r2136_tsig_hmac(const struct r2136_key *k, const uint8_t *data,
		    size_t len, uint8_t *mac, size_t *maclen);

/**
 * A MAC fed piece by piece, for inputs a message buffer cannot hold (the
 * unsigned messages of a transfer between two MACs may add up to
 * megabytes). A context of its own, so the key's prepared HMAC stays
 * free for other MACs meanwhile. begin returns NULL when out of memory;
 * end computes the MAC and frees the context (0 or -EIO); drop frees it
 * unused.
 */
struct evp_mac_ctx_st *r2136_hmac_begin(const struct r2136_key *k);
int r2136_hmac_add(struct evp_mac_ctx_st *c, const void *p, size_t n);
int r2136_hmac_end(struct evp_mac_ctx_st *c, uint8_t *mac, size_t *maclen);
void r2136_hmac_drop(struct evp_mac_ctx_st *c);

/** TSIG variables (RFC 8945 §4.3.3) for `k` at time `now`, error 0, no
 *  other data, appended to `b` (exposed for known-answer tests). */
void r2136_tsig_vars(struct r2136_buf *b, const struct r2136_key *k,
		     uint64_t now, uint16_t fudge);

/**
 * Verifies the responses of one exchange, message after message. Set up
 * with r2136_tsig_verify_init() from the request MAC; feed every message
 * to r2136_tsig_verify_next(). Messages may be unsigned in between (at
 * most 99 in a row) but the last one must be signed: check
 * r2136_tsig_verify_done() at the end.
 */
struct r2136_tsig_verifier {
	const struct r2136_key *key;
	uint8_t prior[R2136_MAC_MAX];
	size_t priorlen;
	/* The MAC being computed over the prior MAC and the unsigned
	 * messages since it, or NULL: fed as they come instead of kept. */
	struct evp_mac_ctx_st *run;
	int first, unsigned_run;
	uint64_t server_time; /* the server's clock from BADTIME other data */
};

void r2136_tsig_verify_init(struct r2136_tsig_verifier *v,
			    const struct r2136_key *k, const uint8_t *reqmac,
			    size_t reqmaclen);
/**
 * Check one response message. Returns 0 when it is verified (or unsigned
 * in the middle of a stream), a positive TSIG error code (BADSIG, BADKEY,
 * BADTIME...) when the server reported one, -EACCES with `*why` when the
 * signature is missing, wrong, or out of its time window.
 */
int r2136_tsig_verify_next(struct r2136_tsig_verifier *v,
			   const struct r2136_msg *m, int64_t now,
			   const char **why);
/** 1 when the last message fed was signed and verified. */
int r2136_tsig_verify_done(const struct r2136_tsig_verifier *v);
void r2136_tsig_verify_free(struct r2136_tsig_verifier *v);

#endif
