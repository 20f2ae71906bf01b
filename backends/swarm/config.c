/* Configuration keys → struct swarm_cfg. The core has checked every
 * typed value (numbers, switches, paths); what is left are the checks
 * types cannot express (host URLs, the node map), one clear line each.
 * Nothing here talks to the engine. */
#include "swarm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_HOST "unix:///var/run/docker.sock"
#define DEFAULT_PORT "2376"

static int fail(char *err, size_t errlen, const char *fmt, const char *a,
		const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

static int addr_family(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, a, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, a, buf) == 1)
		return AF_INET6;
	return 0;
}

/* A value that looks like an address (digits and dots only, or a
 * colon) but is none is a typo, not a DNS name. */
static int looks_like_addr(const char *v)
{
	return strchr(v, ':') || (*v && strspn(v, "0123456789.") == strlen(v));
}

/* `node.HOSTNAME = ADDRESS` (one IPv4 and one IPv6 per node) or
 * `node.HOSTNAME = DNS-NAME` (one per node, the CNAME target). */
static int add_map(struct swarm_cfg *c, const char *key, const char *v,
		   swarm_normalise_fn normalise, char *err, size_t errlen)
{
	const char *host = key + 5; /* after "node." */
	size_t hl = strlen(host);
	if (hl == 0 || hl >= SWARM_HOST_MAX)
		return fail(err, errlen, "%s: bad host name%s", key, "");
	char val[SWARM_HOST_MAX];
	int fam = strlen(v) < sizeof val ? addr_family(v) : 0;
	if (fam)
		snprintf(val, sizeof val, "%s", v);
	else if (looks_like_addr(v) || !*v)
		return fail(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address",
			    key, v);
	else if (swarm_dns_name(normalise, v, val, sizeof val))
		return fail(err, errlen,
			    "%s: '%.300s' is neither an IP address nor a DNS name with a "
			    "dot (the node's name for CNAME records)", key, v);
	static const char *const what[] = {"DNS name", "IPv4 address", "IPv6 address"};
	const char *w = what[fam == AF_INET ? 1 : fam == AF_INET6 ? 2 : 0];
	for (size_t i = 0; i < c->nmap; i++)
		if (c->map[i].family == fam && strcasecmp(c->map[i].host, host) == 0)
			return fail(err, errlen, "%s: a second %s for this node", key, w);
	struct swarm_map *m = realloc(c->map, (c->nmap + 1) * sizeof *m);
	if (!m)
		return -ENOMEM;
	c->map = m;
	m[c->nmap].host = strdup(host);
	m[c->nmap].addr = strdup(val);
	m[c->nmap].family = fam ? fam : AF_UNSPEC;
	c->nmap++;
	if (!m[c->nmap - 1].host || !m[c->nmap - 1].addr)
		return -ENOMEM;
	return 0;
}

static int readable(const char *key, const char *path, char *err,
		    size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot read %s: %s", key, path,
		 strerror(errno));
	return -EINVAL;
}

/* TLS material for tcp://: the keys, else the docker CLI's conventions. */
static int tls_files(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
		     size_t n, char *err, size_t errlen)
{
	const char *ca = dnsfollow_kv_get(kv, n, "tls_ca");
	const char *cert = dnsfollow_kv_get(kv, n, "tls_cert");
	const char *key = dnsfollow_kv_get(kv, n, "tls_key");
	const char *dir = getenv("DOCKER_CERT_PATH");
	char p[3][4096];
	if (!ca && !cert && !key && (dir || getenv("DOCKER_TLS_VERIFY"))) {
		const char *home = getenv("HOME");
		char def[4096];
		snprintf(def, sizeof def, "%.4000s/.docker", home ? home : "");
		if (!dir || !*dir)
			dir = def;
		snprintf(p[0], sizeof p[0], "%.4000s/ca.pem", dir);
		snprintf(p[1], sizeof p[1], "%.4000s/cert.pem", dir);
		snprintf(p[2], sizeof p[2], "%.4000s/key.pem", dir);
		ca = p[0], cert = p[1], key = p[2];
	}
	if (!cert || !key)
		return fail(err, errlen,
			    "host = tcp://... needs mutual TLS: set tls_cert and tls_key "
			    "(and tls_ca), or DOCKER_CERT_PATH; for a plain-HTTP socket "
			    "proxy write host = http://HOST:PORT%s%s", "", "");
	int rc = readable("tls_cert", cert, err, errlen);
	if (!rc)
		rc = readable("tls_key", key, err, errlen);
	if (!rc && ca)
		rc = readable("tls_ca", ca, err, errlen);
	if (rc)
		return rc;
	c->tls_cert = strdup(cert);
	c->tls_key = strdup(key);
	c->tls_ca = ca ? strdup(ca) : NULL;
	if (!c->tls_cert || !c->tls_key || (ca && !c->tls_ca))
		return -ENOMEM;
	return 0;
}

static int parse_host(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
		      size_t n, char *err, size_t errlen)
{
	const char *h = dnsfollow_kv_get(kv, n, "host");
	if (!h || !*h)
		h = getenv("DOCKER_HOST");
	if (!h || !*h)
		h = DEFAULT_HOST;
	if (strncmp(h, "unix://", 7) == 0) {
		const char *path = h + 7;
		if (path[0] != '/')
			return fail(err, errlen,
				    "host: '%s': the socket path must be absolute%s", h, "");
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return fail(err, errlen,
				    "host: socket path '%s' is too long%s", path, "");
		c->socket = strdup(path);
		c->base = strdup("http://localhost");
		return c->socket && c->base ? 0 : -ENOMEM;
	}
	int plain = strncmp(h, "http://", 7) == 0;
	if (!plain && strncmp(h, "tcp://", 6) != 0)
		return fail(err, errlen,
			    "host: '%s': expected unix:///PATH, tcp://HOST:PORT or "
			    "http://HOST:PORT%s", h, "");
	const char *hp = h + (plain ? 7 : 6);
	size_t hl = strcspn(hp, "/?#");
	if (hl == 0 || hp[hl] != '\0' || strpbrk(hp, " @\\"))
		return fail(err, errlen, "host: '%s' is not %s://HOST:PORT", h,
			    plain ? "http" : "tcp");
	/* Port given unless the text ends in a bare host or "[v6]". */
	const char *colon = strrchr(hp, ':');
	int has_port = colon && (hp[0] != '[' || colon > strchr(hp, ']'));
	size_t blen = strlen(hp) + 16;
	c->base = malloc(blen);
	if (!c->base)
		return -ENOMEM;
	/* http:// is plain text on purpose (a socket proxy on a private
	 * network, written out explicitly); tcp:// always means TLS. */
	snprintf(c->base, blen, "%s://%s%s%s", plain ? "http" : "https", hp,
		 has_port ? "" : ":", has_port ? "" : plain ? "2375" : DEFAULT_PORT);
	return plain ? 0 : tls_files(c, kv, n, err, errlen);
}

static int dup_label(char **dst, const struct dnsfollow_kv *kv, size_t n,
		     const char *key, const char *def)
{
	const char *v = dnsfollow_kv_get(kv, n, key);
	if (!v)
		v = def;
	if (!*v) /* empty: this source is switched off */
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* The prefix of service labels: Docker label keys are dotted words, so
 * no spaces, no '=' (the engine's label filter splits there) and no
 * trailing dot. */
static int label_prefix(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
			size_t n, char *err, size_t errlen)
{
	const char *v = dnsfollow_kv_get(kv, n, "label_prefix");
	if (!v)
		v = "dnsfollow";
	size_t len = strlen(v);
	if (!len || len > 100 || v[len - 1] == '.' || v[0] == '.' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-_") != len)
		return fail(err, errlen, "label_prefix: '%.100s' is not a label "
			    "prefix such as dnsfollow or com.example.dns%s", v, "");
	c->label_prefix = strdup(v);
	return c->label_prefix ? 0 : -ENOMEM;
}

/* Numbers and switches: typed keys, validated and defaulted by the
 * core (the defaults here only serve a kv array without them). */
static void take_numbers(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
			 size_t n)
{
	c->poll_ms = (unsigned)dnsfollow_kv_num(kv, n, "poll_interval", 5000);
	c->timeout_ms = (long)dnsfollow_kv_num(kv, n, "timeout_ms", 5000);
	c->settle_max_ms = (unsigned)dnsfollow_kv_num(kv, n, "settle_max_ms",
						      SWARM_SETTLE_MAX_MS);
	c->events = dnsfollow_kv_num(kv, n, "events", 1) != 0;
	c->allow_loopback = dnsfollow_kv_num(kv, n, "allow_loopback", 0) != 0;
}

int swarm_cfg_parse(struct swarm_cfg *c, const struct dnsfollow_kv *kv,
		    size_t n, swarm_normalise_fn normalise, char *err,
		    size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->normalise = normalise;
	take_numbers(c, kv, n);
	int rc = parse_host(c, kv, n, err, errlen);
	if (!rc)
		rc = dup_label(&c->label4, kv, n, "address_label", "dnsfollow.ipv4");
	if (!rc)
		rc = dup_label(&c->label6, kv, n, "address6_label", "dnsfollow.ipv6");
	if (!rc)
		rc = dup_label(&c->label_name, kv, n, "hostname_label",
			       "dnsfollow.hostname");
	if (!rc)
		rc = label_prefix(c, kv, n, err, errlen);
	for (size_t i = 0; !rc && i < n; i++)
		if (strncmp(kv[i].key, "node.", 5) == 0)
			rc = add_map(c, kv[i].key, kv[i].value, normalise, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc)
		swarm_cfg_free(c);
	return rc;
}

void swarm_cfg_free(struct swarm_cfg *c)
{
	free(c->socket);
	free(c->base);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->label4);
	free(c->label6);
	free(c->label_name);
	free(c->label_prefix);
	for (size_t i = 0; i < c->nmap; i++) {
		free(c->map[i].host);
		free(c->map[i].addr);
	}
	free(c->map);
	memset(c, 0, sizeof *c);
}

void swarm_addrcfg_of(const struct swarm_cfg *c, struct swarm_addrcfg *ac)
{
	ac->label4 = c->label4;
	ac->label6 = c->label6;
	ac->map = c->map;
	ac->nmap = c->nmap;
	ac->allow_loopback = c->allow_loopback;
	ac->label_name = c->label_name;
	ac->normalise = c->normalise;
}
