/*
 * The rfc2136 provider: dynamic updates (RFC 2136) signed with TSIG
 * (RFC 8945) to BIND, Knot, PowerDNS or any other primary server.
 * This file holds the descriptor and the configuration.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rfc2136.h"

static const char *const algorithms[] = {"hmac-sha1", "hmac-sha224",
					 "hmac-sha256", "hmac-sha384",
					 "hmac-sha512", NULL};
static const char *const transports[] = {"udp", "tcp", NULL};
/* In the order of R2136_READ_*: values keep their index across versions. */
static const char *const read_modes[] = {"query", "axfr", "auto", NULL};

/* Typed: the core checks every value and fills in the defaults, so
 * create() parses no number, word or duration itself. */
static const struct dnsfollow_key config_keys[] = {
	DNSFOLLOW_KEY_STRING("server", DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_MULTI,
			     "primary server host:port (repeat or comma list; "
			     "tried in order)"),
	DNSFOLLOW_KEY_PATH_("key_file", 0,
			    "TSIG key file as written by tsig-keygen or keymgr -t"),
	DNSFOLLOW_KEY_STRING("key_name", 0, "TSIG key name (picks one key of key_file)"),
	/* No default: with key_file, a given algorithm must match the file's. */
	DNSFOLLOW_KEY_ENUM("key_algorithm", NULL, algorithms,
			   "TSIG algorithm of key_secret (default hmac-sha256)"),
	DNSFOLLOW_KEY_SECRET_("key_secret", 0, "TSIG secret, base64"),
	DNSFOLLOW_KEY_ENUM("transport", "udp", transports,
			   "udp (TCP when needed) or tcp"),
	DNSFOLLOW_KEY_UINT("timeout_ms", "2000", 10, 600000,
			   "milliseconds to wait for one answer"),
	DNSFOLLOW_KEY_ENUM("read", "auto", read_modes,
			   "how a zone is read in full: auto (a zone transfer "
			   "when cheaper and allowed, else queries), query (one "
			   "query per RRset) or axfr (transfers only)"),
	DNSFOLLOW_KEY_DURATION("full_read_interval", "600", 0, 86400000,
			       "while the zone's SOA serial stays the same, read "
			       "it in full only this often (0: every pass)"),
	DNSFOLLOW_KEY_END,
};

/* The RR types it writes and reads: those the wire code turns to and
 * from presentation form. Not NS: a delegation at a record's name would
 * hide its `_dnsfollow.` marker below the zone cut. */
const uint16_t r2136_types[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
				DNSFOLLOW_TYPE_TXT, DNSFOLLOW_TYPE_CNAME, 0};

/* host:port, [v6]:port, a bare address, or a host name (resolved now). */
int r2136_parse_server(const char *text, struct r2136_server *s, char *err,
		       size_t errlen)
{
	char host[256], port[16] = "53";
	const char *colon = strrchr(text, ':');
	memset(s, 0, sizeof *s);
	if (text[0] == '[') {
		const char *e = strchr(text, ']');
		if (!e || (e[1] && (e[1] != ':' || !e[2])))
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)(e - text - 1), text + 1);
		if (e[1])
			snprintf(port, sizeof port, "%s", e + 2);
	} else if (colon && strchr(text, ':') == colon) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
		snprintf(port, sizeof port, "%s", colon + 1);
	} else {
		snprintf(host, sizeof host, "%s", text); /* bare IPv6 or name */
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (!host[0] || *end || pn < 1 || pn > 65535 || strlen(text) >= sizeof s->text)
		goto bad;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
	int g = getaddrinfo(host, port, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "server '%s': %s", text, gai_strerror(g));
		return -EINVAL;
	}
	memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
	s->alen = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(s->text, sizeof s->text, "%s", text);
	return 0;
bad:
	snprintf(err, errlen, "server '%.100s' is not host:port", text);
	return -EINVAL;
}

/* Every `server` value, each possibly a comma list. */
static int add_servers(struct r2136 *p, const char *value)
{
	char err[256], item[128];
	for (const char *s = value; *s;) {
		size_t n = strcspn(s, ",");
		const char *b = s, *e = s + n;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		s += n + (s[n] == ',');
		if (b == e)
			continue;
		if (p->nservers == R2136_MAX_SERVERS)
			return p->host->error(p->host, -EINVAL, "at most %d servers",
					      R2136_MAX_SERVERS);
		snprintf(item, sizeof item, "%.*s", (int)(e - b), b);
		if (r2136_parse_server(item, &p->servers[p->nservers], err, sizeof err))
			return p->host->error(p->host, -EINVAL, "%s", err);
		p->nservers++;
	}
	return 0;
}

/* The core masks key_secret; a secret read from key_file is ours to
 * register, in the base64 form tools write and people paste. */
static int mask_secret(struct r2136 *p, const char *file)
{
	const struct dnsfollow_host *h = p->host;
	char b64[4 * (sizeof p->key.secret + 2) / 3 + 1];
	if (!DNSFOLLOW_HOST_HAS(h, secret))
		return 0;
	EVP_EncodeBlock((unsigned char *)b64, p->key.secret, (int)p->key.secret_len);
	int rc = h->secret(h, b64);
	explicit_bzero(b64, sizeof b64);
	if (rc)
		return h->error(h, -EINVAL, "key_file %s: the secret of key '%s' is "
				"too short to be kept out of the logs", file, p->key.name);
	return 0;
}

static int setup_key(struct r2136 *p, const struct dnsfollow_kv *cfg, size_t n)
{
	const struct dnsfollow_host *h = p->host;
	const char *file = dnsfollow_kv_get(cfg, n, "key_file");
	const char *name = dnsfollow_kv_get(cfg, n, "key_name");
	const struct dnsfollow_kv *ak = dnsfollow_kv_find(cfg, n, "key_algorithm");
	/* The index the core checked; out of range only from a broken caller. */
	const char *alg = ak && ak->num < sizeof algorithms / sizeof *algorithms - 1 ?
			  algorithms[ak->num] : NULL;
	const char *secret = dnsfollow_kv_get(cfg, n, "key_secret");
	char err[300];
	if (file && secret)
		return h->error(h, -EINVAL, "key_file and key_secret exclude each other");
	if (file) {
		if (r2136_keyfile_load(h, file, name, &p->key))
			return -EINVAL; /* the text is set */
		if (mask_secret(p, file))
			return -EINVAL;
		if (alg && r2136_alg_find(alg) != p->key.alg)
			return h->error(h, -EINVAL, "key_algorithm = %s differs from the "
					"algorithm in key_file %s", alg, file);
	} else if (secret) {
		if (!name)
			return h->error(h, -EINVAL, "key_secret needs key_name");
		if (r2136_key_set(&p->key, name, alg ? alg : "hmac-sha256", secret,
				  err, sizeof err))
			return h->error(h, -EINVAL, "%s", err);
	} else if (name || alg) {
		return h->error(h, -EINVAL, "%s needs key_secret (or key_secret_file) "
				"or key_file", name ? "key_name" : "key_algorithm");
	} else {
		h->log(h, DNSFOLLOW_LOG_WARN, "no TSIG key configured: updates and "
		       "queries are sent unsigned");
		return 0;
	}
	if (r2136_key_prepare(&p->key))
		return h->error(h, -ENOMEM, "cannot set up the HMAC of key '%s'",
				p->key.name);
	p->have_key = 1;
	return 0;
}

/* Values the core validated and defaulted (see config_keys). */
static void setup_options(struct r2136 *p, const struct dnsfollow_kv *cfg,
			  size_t n)
{
	p->tcp_only = dnsfollow_kv_num(cfg, n, "transport", 0) == 1;
	p->read_mode = (int)dnsfollow_kv_num(cfg, n, "read", R2136_READ_AUTO);
	if (p->read_mode > R2136_READ_AUTO) /* only from a broken caller */
		p->read_mode = R2136_READ_AUTO;
	p->full_read_ms = dnsfollow_kv_num(cfg, n, "full_read_interval", 600000);
	uint64_t t = dnsfollow_kv_num(cfg, n, "timeout_ms", 2000);
	p->timeout_ms = (int)(t < 10 ? 10 : t > 600000 ? 600000 : t);
}

static void r2136_destroy(void *self)
{
	struct r2136 *p = self;
	if (!p)
		return;
	p->host->log(p->host, DNSFOLLOW_LOG_DEBUG, "sent %llu message(s) "
		     "(%llu queries, %llu transfers, %llu UPDATE), %llu bytes out, "
		     "%llu bytes in", (unsigned long long)p->stats.messages,
		     (unsigned long long)p->stats.queries,
		     (unsigned long long)p->stats.transfers,
		     (unsigned long long)p->stats.updates,
		     (unsigned long long)p->stats.bytes_out,
		     (unsigned long long)p->stats.bytes_in);
	r2136_zcache_free(p);
	r2136_zx_free(p);
	r2136_key_wipe(&p->key);
	free(p);
}

static int r2136_create(const struct dnsfollow_host *host,
			const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	struct r2136 *p = calloc(1, sizeof *p);
	if (!p)
		return host->error(host, -ENOMEM, "out of memory");
	p->host = host;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(cfg[i].key, "server") == 0)
			rc = add_servers(p, cfg[i].value);
	if (rc == 0 && p->nservers == 0)
		rc = host->error(host, -EINVAL, "server is required (host:port)");
	setup_options(p, cfg, n);
	if (rc == 0)
		rc = setup_key(p, cfg, n);
	if (rc) {
		r2136_key_wipe(&p->key);
		free(p);
		return rc;
	}
	*self = p;
	return 0;
}

static const struct dnsfollow_provider_ops ops = {
	.struct_size = sizeof ops,
	.caps = DNSFOLLOW_CAP_ATOMIC,
	.types = r2136_types,
	.read = r2136_read,
	.apply = r2136_apply,
	.markers = r2136_markers,
};

DNSFOLLOW_PROVIDER("rfc2136", "2.0", config_keys, NULL, r2136_create,
		   r2136_destroy, &ops);
