/* TSIG signing and verification (RFC 8945) with OpenSSL's HMAC. */
#include "tsig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

struct r2136_alg {
	const char *name;
	const EVP_MD *(*md)(void);
	size_t maclen;
	const char *digest; /* OpenSSL's name, for EVP_MAC */
};

static const struct r2136_alg algs[] = {
	{"hmac-sha1", EVP_sha1, 20, "SHA1"},
	{"hmac-sha224", EVP_sha224, 28, "SHA224"},
	{"hmac-sha256", EVP_sha256, 32, "SHA256"},
	{"hmac-sha384", EVP_sha384, 48, "SHA384"},
	{"hmac-sha512", EVP_sha512, 64, "SHA512"},
};

const struct r2136_alg *r2136_alg_find(const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		if (strlen(algs[i].name) == n &&
		    strncasecmp(algs[i].name, name, n) == 0)
			return &algs[i];
	return NULL;
}

const char *r2136_alg_name(const struct r2136_alg *a) { return a->name; }
size_t r2136_alg_maclen(const struct r2136_alg *a) { return a->maclen; }

int r2136_key_prepare(struct r2136_key *k)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM par[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)k->alg->digest, 0),
		OSSL_PARAM_construct_end()};
	EVP_MAC_free(m); /* the context holds its own reference */
	if (!c || !EVP_MAC_init(c, k->secret, k->secret_len, par)) {
		EVP_MAC_CTX_free(c);
		return -ENOMEM;
	}
	k->hmac = c;
	return 0;
}

void r2136_key_wipe(struct r2136_key *k)
{
	EVP_MAC_CTX_free(k->hmac);
	explicit_bzero(k, sizeof *k);
}

/* With a prepared key: start again from the keyed state (a NULL key
 * keeps the one given to EVP_MAC_init). */
static int prepared_hmac(const struct r2136_key *k, const uint8_t *data,
			 size_t len, uint8_t *mac, size_t *maclen)
{
	if (!EVP_MAC_init(k->hmac, NULL, 0, NULL) ||
	    !EVP_MAC_update(k->hmac, data, len) ||
	    !EVP_MAC_final(k->hmac, mac, maclen, R2136_MAC_MAX))
		return -EIO;
	return 0;
}

int r2136_tsig_hmac(const struct r2136_key *k, const uint8_t *data,
		    size_t len, uint8_t *mac, size_t *maclen)
{
	unsigned int n = 0;
	if (k->hmac)
		return prepared_hmac(k, data, len, mac, maclen);
	if (!HMAC(k->alg->md(), k->secret, (int)k->secret_len, data, len, mac,
		  &n))
		return -EIO;
	*maclen = n;
	return 0;
}

struct evp_mac_ctx_st *r2136_hmac_begin(const struct r2136_key *k)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM par[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)k->alg->digest, 0),
		OSSL_PARAM_construct_end()};
	EVP_MAC_free(m);
	if (c && !EVP_MAC_init(c, k->secret, k->secret_len, par)) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	return c;
}

int r2136_hmac_add(struct evp_mac_ctx_st *c, const void *p, size_t n)
{
	return EVP_MAC_update(c, p, n) ? 0 : -EIO;
}

int r2136_hmac_end(struct evp_mac_ctx_st *c, uint8_t *mac, size_t *maclen)
{
	int ok = EVP_MAC_final(c, mac, maclen, R2136_MAC_MAX);
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -EIO;
}

void r2136_hmac_drop(struct evp_mac_ctx_st *c)
{
	EVP_MAC_CTX_free(c);
}

/* Key name, class ANY, TTL 0, algorithm name: the part of the TSIG
 * variables that comes before the timers. */
static void vars_head(struct r2136_buf *b, const struct r2136_key *k)
{
	r2136_put_name(b, k->name);
	r2136_put_u16(b, R2136_CLASS_ANY);
	r2136_put_u32(b, 0);
	r2136_put_name(b, k->alg->name);
}

void r2136_tsig_vars(struct r2136_buf *b, const struct r2136_key *k,
		     uint64_t now, uint16_t fudge)
{
	vars_head(b, k);
	r2136_put_u48(b, now);
	r2136_put_u16(b, fudge);
	r2136_put_u16(b, 0); /* error */
	r2136_put_u16(b, 0); /* other len */
}

int r2136_tsig_sign(struct r2136_buf *b, const struct r2136_key *k,
		    uint64_t now, uint8_t *mac, size_t *maclen)
{
	struct r2136_buf in = {0};
	if (b->err || b->len < 12)
		return b->err ? b->err : -EINVAL;
	r2136_put_bytes(&in, b->p, b->len);
	r2136_tsig_vars(&in, k, now, R2136_FUDGE);
	int rc = in.err ? in.err : r2136_tsig_hmac(k, in.p, in.len, mac, maclen);
	r2136_buf_free(&in);
	if (rc)
		return rc;
	uint16_t id = r2136_get16(b->p);
	uint16_t ar = r2136_get16(b->p + 10);
	r2136_put_name(b, k->name);
	r2136_put_u16(b, R2136_TYPE_TSIG);
	r2136_put_u16(b, R2136_CLASS_ANY);
	r2136_put_u32(b, 0);
	uint8_t algw[R2136_WIRE_NAME_MAX + 1];
	int an = r2136_name_to_wire(k->alg->name, algw);
	r2136_put_u16(b, (uint16_t)(an + 16 + *maclen));
	r2136_put_bytes(b, algw, (size_t)an);
	r2136_put_u48(b, now);
	r2136_put_u16(b, R2136_FUDGE);
	r2136_put_u16(b, (uint16_t)*maclen);
	r2136_put_bytes(b, mac, *maclen);
	r2136_put_u16(b, id);
	r2136_put_u16(b, 0);
	r2136_put_u16(b, 0);
	if (!b->err) {
		b->p[10] = (uint8_t)((ar + 1) >> 8);
		b->p[11] = (uint8_t)(ar + 1);
	}
	return b->err;
}
