/* OVH request signature and URL building (escaping: host->url_escape). */
#include "ovh.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

int ovh_sign(const char *as, const char *ck, const char *method,
	     const char *url, const char *body, int64_t ts,
	     char out[OVH_SIG_LEN])
{
	char tsbuf[24];
	snprintf(tsbuf, sizeof tsbuf, "%" PRId64, ts);
	const char *parts[] = {as, ck ? ck : "", method, url,
			       body ? body : "", tsbuf};
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	int ok = EVP_DigestInit_ex(md, EVP_sha1(), NULL);
	for (size_t i = 0; ok && i < sizeof parts / sizeof parts[0]; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(md, "+", 1);
		if (ok)
			ok = EVP_DigestUpdate(md, parts[i], strlen(parts[i]));
	}
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (ok)
		ok = EVP_DigestFinal_ex(md, dig, &dlen);
	EVP_MD_CTX_free(md);
	if (!ok || dlen != 20)
		return -EPROTO;
	memcpy(out, "$1$", 3);
	for (unsigned i = 0; i < dlen; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", dig[i]);
	return 0;
}

static char *fmt_alloc(const char *fmt, const char *a, const char *b,
		       const char *c)
{
	int n = snprintf(NULL, 0, fmt, a, b, c);
	char *o = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (o)
		snprintf(o, (size_t)n + 1, fmt, a, b, c);
	return o;
}

char *ovh_path_records(const struct dnsfollow_host *h, const char *zone,
		       const char *ftype, const char *sub)
{
	char *z = h->url_escape(zone), *t = h->url_escape(ftype),
	     *s = sub ? h->url_escape(sub) : NULL;
	char *o = NULL;
	if (z && t && s)
		o = fmt_alloc("/domain/zone/%s/record?fieldType=%s&subDomain=%s",
			      z, t, s);
	else if (z && t && !sub)
		o = fmt_alloc("/domain/zone/%s/record?fieldType=%s%s", z, t, "");
	free(z);
	free(t);
	free(s);
	return o;
}

char *ovh_path_record(const struct dnsfollow_host *h, const char *zone,
		      uint64_t id)
{
	char idbuf[24];
	snprintf(idbuf, sizeof idbuf, "%" PRIu64, id);
	char *z = h->url_escape(zone);
	char *o = z ? fmt_alloc("/domain/zone/%s/record/%s%s", z, idbuf, "")
		    : NULL;
	free(z);
	return o;
}

char *ovh_path_zone(const struct dnsfollow_host *h, const char *zone,
		    const char *tail)
{
	char *z = h->url_escape(zone);
	char *o = z ? fmt_alloc("/domain/zone/%s/%s%s", z, tail, "") : NULL;
	free(z);
	return o;
}

int ovh_subdomain(const char *name, const char *zone, char *out, size_t cap)
{
	size_t nl = strlen(name), zl = strlen(zone);
	if (zl == 0 || nl < zl)
		return -1;
	if (strcasecmp(name + nl - zl, zone) != 0)
		return -1;
	size_t sl;
	if (nl == zl) {
		sl = 0;
	} else {
		/* On a label boundary only: "fooexample.org" is not in
		 * "example.org". */
		if (nl == zl + 1 || name[nl - zl - 1] != '.')
			return -1;
		sl = nl - zl - 1;
	}
	if (sl + 1 > cap)
		return -1;
	for (size_t i = 0; i < sl; i++) {
		char ch = name[i];
		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	out[sl] = '\0';
	return 0;
}
