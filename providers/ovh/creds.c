/*
 * Credentials the way python-ovh finds them, so users keep the ovh.conf
 * they already have:
 *
 *   [default]
 *   endpoint = ovh-eu
 *   [ovh-eu]
 *   application_key = ...
 *   application_secret = ...
 *   consumer_key = ...
 *
 * Precedence, per value: the dnsfollow config key, then OVH_* environment
 * variables, then the files. python-ovh reads /etc/ovh.conf, ~/.ovh.conf
 * and ./ovh.conf in that order into one parser, later files overriding
 * earlier ones key by key; walking them the other way round and taking the
 * first file that holds a key gives the same answer. `credentials = PATH`
 * replaces the search list. Secrets read here are never logged: messages
 * name the key and the file, never the value.
 */
#include "ovh.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name, *url;
} endpoints[] = {
	{"ovh-eu", "https://eu.api.ovh.com/1.0"},
	{"ovh-ca", "https://ca.api.ovh.com/1.0"},
	{"ovh-us", "https://api.us.ovhcloud.com/1.0"},
	{"kimsufi-eu", "https://eu.api.kimsufi.com/1.0"},
	{"kimsufi-ca", "https://ca.api.kimsufi.com/1.0"},
	{"soyoustart-eu", "https://eu.api.soyoustart.com/1.0"},
	{"soyoustart-ca", "https://ca.api.soyoustart.com/1.0"},
};

/* Host part of an http:// URL (after any user@, without port or
 * brackets) into out; "" when it does not fit. */
static void url_host(const char *url, char *out, size_t cap)
{
	const char *a = url + strlen("http://");
	size_t alen = strcspn(a, "/?#");
	const char *at = memchr(a, '@', alen);
	while (at) { /* the host follows the last '@' of the authority */
		alen -= (size_t)(at + 1 - a);
		a = at + 1;
		at = memchr(a, '@', alen);
	}
	size_t hlen;
	if (*a == '[') {
		const char *close = memchr(a, ']', alen);
		a++;
		hlen = close ? (size_t)(close - a) : 0;
	} else {
		const char *colon = memchr(a, ':', alen);
		hlen = colon ? (size_t)(colon - a) : alen;
	}
	if (hlen >= cap)
		hlen = 0;
	memcpy(out, a, hlen);
	out[hlen] = '\0';
}

static int is_loopback(const char *host)
{
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	struct in6_addr a6;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* A base URL given by the user: https, or plain http to this machine
 * only (tests), since the consumer key and signatures travel in headers. */
static int base_url(const char *endpoint, char **url, char *err,
		    size_t errlen)
{
	if (strncmp(endpoint, "http://", 7) == 0) {
		char host[256];
		url_host(endpoint, host, sizeof host);
		if (!is_loopback(host)) {
			snprintf(err, errlen, "endpoint: refusing http:// to "
				 "\"%s\": the consumer key and signatures would "
				 "travel in clear text; use https:// (http:// is "
				 "allowed to a loopback address only)", host);
			return -EINVAL;
		}
	} else if (strncmp(endpoint, "https://", 8) != 0) {
		snprintf(err, errlen, "endpoint: \"%s\" is not an https:// "
			 "URL", endpoint);
		return -EINVAL;
	}
	char *u = strdup(endpoint);
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	*url = u;
	return 0;
}

int ovh_endpoint_url(const char *endpoint, char **url, char *err,
		     size_t errlen)
{
	*url = NULL;
	if (strchr(endpoint, '/'))
		return base_url(endpoint, url, err, errlen);
	for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
		if (strcmp(endpoint, endpoints[i].name) == 0) {
			*url = strdup(endpoints[i].url);
			if (*url)
				return 0;
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	snprintf(err, errlen, "endpoint: unknown \"%s\" (ovh-eu, ovh-ca, "
		 "ovh-us, kimsufi-eu, kimsufi-ca, soyoustart-eu, soyoustart-ca, "
		 "or an https:// base URL)", endpoint);
	return -EINVAL;
}

/* Value of `key` in section `sec` of one file or, when the file has no
 * such section and `alt` is given, in section `alt`. An endpoint given as
 * a URL has no section of its own: `alt` is then the endpoint the files'
 * [default] names, so an ovh.conf written for ovh-eu works with a base
 * URL. A named endpoint has no `alt`: it never borrows another region's
 * keys. */
static const char *conf_lookup(const struct ovh_conf *c, const char *sec,
			       const char *alt, const char *key)
{
	if (ovh_conf_has_section(c, sec) || !alt)
		return ovh_conf_get(c, sec, key);
	return ovh_conf_get(c, alt, key);
}

/* `alt` for conf_lookup(): for a URL endpoint, the [default] endpoint of
 * the first file that names one (files merge key by key, this key too). */
static const char *url_section(const char *endpoint, const struct ovh_conf *files,
			       size_t nfiles)
{
	if (!strchr(endpoint, '/'))
		return NULL;
	for (size_t i = 0; i < nfiles; i++) {
		const char *d = ovh_conf_get(&files[i], "default", "endpoint");
		if (d && *d)
			return d;
	}
	return NULL;
}

int ovh_conf_merge(const char *path, const char *section,
		   struct ovh_creds *cr, char *err, size_t errlen)
{
	struct ovh_conf c;
	int rc = ovh_conf_load(NULL, path, &c, err, errlen);
	if (rc != 0)
		return rc;
	const char *ep = section ? section : ovh_conf_get(&c, "default", "endpoint");
	struct {
		char **dst;
		const char *key;
	} f[] = {{&cr->endpoint, NULL},
		 {&cr->application_key, "application_key"},
		 {&cr->application_secret, "application_secret"},
		 {&cr->consumer_key, "consumer_key"}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = f[i].key ? (ep ? conf_lookup(&c, ep,
							     url_section(ep, &c, 1),
							     f[i].key)
					       : NULL)
					 : ep;
		if (!*f[i].dst && v && *v && !(*f[i].dst = strdup(v)))
			rc = -ENOMEM;
	}
	ovh_conf_free(&c);
	return rc;
}

void ovh_creds_free(struct ovh_creds *c)
{
	free(c->endpoint);
	free(c->application_key);
	free(c->application_secret);
	free(c->consumer_key);
	free(c->ak_from);
	free(c->as_from);
	free(c->ck_from);
	memset(c, 0, sizeof *c);
}

void ovh_creds_sources(const struct ovh_creds *c, char *out, size_t cap)
{
	const struct {
		const char *key, *value, *from;
	} k[] = {{"application_key", c->application_key, c->ak_from},
		 {"application_secret", c->application_secret, c->as_from},
		 {"consumer_key", c->consumer_key, c->ck_from}};
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < 3 && o < cap; i++) {
		int w = k[i].value ? snprintf(out + o, cap - o, "%s%s from %s",
					      i ? ", " : "", k[i].key,
					      k[i].from ? k[i].from : "?")
				   : snprintf(out + o, cap - o, "%sno %s",
					      i ? ", " : "", k[i].key);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

void ovh_default_paths(char *buf, size_t cap, const char *paths[4])
{
	size_t k = 0;
	paths[k++] = "./ovh.conf";
	const char *home = getenv("HOME");
	if (home && *home &&
	    (size_t)snprintf(buf, cap, "%s/.ovh.conf", home) < cap)
		paths[k++] = buf;
	paths[k++] = "/etc/ovh.conf";
	paths[k] = NULL;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* Where a key is looked up in the files: `sec`, else `alt`. */
struct lookup {
	const struct ovh_conf *files;
	size_t n;
	const char *sec, *alt;
};

/* First of: explicit value, environment variable, files in order. Sets
 * *from (when given) to where the value was found. `key` NULL picks the
 * endpoint itself. */
static int pick(const char *cfg, const char *env, const struct lookup *w,
		const char *key, char **dst, char **from)
{
	const char *v = nonempty(cfg), *src = "the provider section";
	const struct ovh_conf *files = w->files;
	if (!v && (v = nonempty(getenv(env))))
		src = env;
	for (size_t i = 0; !v && i < w->n; i++) {
		if (key)
			v = nonempty(conf_lookup(&files[i], w->sec, w->alt, key));
		else
			v = nonempty(ovh_conf_get(&files[i], "default", "endpoint"));
		src = files[i].path;
	}
	if (!v)
		return 0;
	*dst = strdup(v);
	if (*dst && from && !(*from = strdup(src))) {
		free(*dst);
		*dst = NULL;
	}
	return *dst ? 0 : -ENOMEM;
}

static int load_files(const struct dnsfollow_host *h, const char *credentials,
		      const char *const *paths, struct ovh_conf *files,
		      size_t *nfiles, char *err, size_t errlen)
{
	*nfiles = 0;
	if (credentials) {
		int rc = ovh_conf_load(h, credentials, &files[0], err, errlen);
		if (rc == -ENOENT)
			snprintf(err, errlen, "credentials file %s does not exist",
				 credentials);
		if (rc == 0)
			*nfiles = 1;
		return rc;
	}
	for (size_t i = 0; paths && paths[i] && *nfiles < 3; i++) {
		int rc = ovh_conf_load(h, paths[i], &files[*nfiles], err, errlen);
		if (rc == 0)
			(*nfiles)++;
		else if (rc != -ENOENT)
			return rc;
	}
	return 0;
}

/* Where the endpoint came from, for messages: an ovh.conf and its line,
 * OVH_ENDPOINT, the built-in default, or (all unset) the provider
 * section, whose line the core names itself. */
struct origin {
	const char *path, *env;
	int line, dflt;
};

/* The same walk as pick() for the endpoint, told as an origin. */
static struct origin endpoint_origin(const struct ovh_creds *cfg,
				     const struct lookup *w)
{
	struct origin o = {0};
	if (nonempty(cfg->endpoint))
		return o;
	if (nonempty(getenv("OVH_ENDPOINT"))) {
		o.env = "OVH_ENDPOINT";
		return o;
	}
	for (size_t i = 0; i < w->n; i++)
		if (nonempty(ovh_conf_get(&w->files[i], "default", "endpoint"))) {
			o.path = w->files[i].path;
			o.line = ovh_conf_line(&w->files[i], "default", "endpoint");
			return o;
		}
	o.dflt = 1;
	return o;
}

/* Why file `c` gave no `key`: its lookup (conf_lookup()) told in words. */
static void why_none(const struct ovh_conf *c, const struct lookup *w,
		     const char *key, char *out, size_t cap)
{
	const char *sec = !ovh_conf_has_section(c, w->sec) && w->alt ? w->alt
								    : w->sec;
	int kl = ovh_conf_line(c, sec, key), sl = ovh_conf_line(c, sec, NULL);
	if (kl)
		snprintf(out, cap, "%s is empty on line %d", key, kl);
	else if (ovh_conf_has_section(c, sec))
		snprintf(out, cap, "its [%s] section (line %d) has no %s", sec,
			 sl, key);
	else if (sl)
		snprintf(out, cap, "its [%s] section (line %d) is empty", sec, sl);
	else
		snprintf(out, cap, "it has no [%s] section", sec);
}

/* " (read FILE: why; read FILE: why)" for the files read, "" for none. */
static void files_note(const struct lookup *w, const char *key, char *out,
		       size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < w->n && o < cap; i++) {
		char why[300];
		why_none(&w->files[i], w, key, why, sizeof why);
		int k = snprintf(out + o, cap - o, "%s%s: %s%s",
				 i ? "; read " : " (read ", w->files[i].path,
				 why, i + 1 == w->n ? ")" : "");
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

static int check_complete(const struct ovh_creds *out, const struct origin *o,
			  const struct lookup *w, char *err, size_t errlen)
{
	const char *missing = NULL, *env = NULL;
	if (!out->application_key)
		missing = "application_key", env = "OVH_APPLICATION_KEY";
	else if (!out->application_secret)
		missing = "application_secret", env = "OVH_APPLICATION_SECRET";
	else if (!out->consumer_key)
		missing = "consumer_key", env = "OVH_CONSUMER_KEY";
	if (!missing)
		return 0;
	char found[400], ep[300] = "", note[700];
	ovh_creds_sources(out, found, sizeof found);
	if (o->path)
		snprintf(ep, sizeof ep, " (from %s:%d)", o->path, o->line);
	else if (o->env || o->dflt)
		snprintf(ep, sizeof ep, " (%s%s)", o->env ? "from " : "",
			 o->env ? o->env : "the default");
	files_note(w, missing, note, sizeof note);
	snprintf(err, errlen,
		 "no %s for endpoint %s%s: set it in the provider section, in "
		 "%s, or in an ovh.conf (credentials = PATH, or ./ovh.conf, "
		 "~/.ovh.conf, /etc/ovh.conf); found: %s%s",
		 missing, out->endpoint, ep, env, found, note);
	return -EINVAL;
}

/* An unknown endpoint is the error to report, not the keys its (missing)
 * section lacks; one read from a file names the file and line. */
static int check_endpoint(const char *endpoint, const struct origin *o,
			  char *err, size_t errlen)
{
	char *url = NULL, msg[400];
	int rc = ovh_endpoint_url(endpoint, &url, msg, sizeof msg);
	free(url);
	if (rc == 0)
		return 0;
	if (o->path)
		snprintf(err, errlen, "%s:%d: %s", o->path, o->line, msg);
	else if (o->env)
		snprintf(err, errlen, "%s (from %s)", msg, o->env);
	else
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int ovh_creds_resolve(const struct dnsfollow_host *h,
		      const struct ovh_creds *cfg, const char *credentials,
		      const char *const *paths, struct ovh_creds *out,
		      char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	err[0] = '\0';
	struct ovh_conf files[3];
	memset(files, 0, sizeof files);
	size_t nf = 0;
	int rc = load_files(h, credentials, paths, files, &nf, err, errlen);
	if (rc != 0) {
		for (size_t i = 0; i < nf; i++)
			ovh_conf_free(&files[i]);
		return rc;
	}
	struct lookup w = {.files = files, .n = nf};
	rc = pick(cfg->endpoint, "OVH_ENDPOINT", &w, NULL, &out->endpoint, NULL);
	if (rc == 0 && !out->endpoint && !(out->endpoint = strdup("ovh-eu")))
		rc = -ENOMEM;
	struct origin o = endpoint_origin(cfg, &w);
	if (rc == 0)
		rc = check_endpoint(out->endpoint, &o, err, errlen);
	if (rc == 0) {
		w.sec = out->endpoint;
		w.alt = url_section(out->endpoint, files, nf);
		rc = pick(cfg->application_key, "OVH_APPLICATION_KEY", &w,
			  "application_key", &out->application_key,
			  &out->ak_from);
	}
	if (rc == 0)
		rc = pick(cfg->application_secret, "OVH_APPLICATION_SECRET", &w,
			  "application_secret", &out->application_secret,
			  &out->as_from);
	if (rc == 0)
		rc = pick(cfg->consumer_key, "OVH_CONSUMER_KEY", &w,
			  "consumer_key", &out->consumer_key, &out->ck_from);
	if (rc == 0)
		rc = check_complete(out, &o, &w, err, errlen);
	for (size_t i = 0; i < nf; i++)
		ovh_conf_free(&files[i]);
	if (rc == -ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory reading credentials");
	if (rc != 0)
		ovh_creds_free(out);
	return rc;
}
