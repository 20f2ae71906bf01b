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
 * variables, then the files (`credentials = PATH` alone if given, else
 * ./ovh.conf, ~/.ovh.conf, /etc/ovh.conf; the first file holding a value
 * wins). Secrets read here are never logged: messages name the key and the
 * file, never the value.
 */
#include "ovh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

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

char *ovh_endpoint_url(const char *endpoint)
{
	if (strchr(endpoint, '/')) {
		if (strncmp(endpoint, "https://", 8) != 0 &&
		    strncmp(endpoint, "http://", 7) != 0)
			return NULL;
		char *u = strdup(endpoint);
		size_t n = u ? strlen(u) : 0;
		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
		return u;
	}
	for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
		if (strcmp(endpoint, endpoints[i].name) == 0)
			return strdup(endpoints[i].url);
	return NULL;
}

/* One parsed ovh.conf: (section, key, value) triplets. */
struct conf {
	const char *path;
	size_t n, cap;
	char **sec, **key, **val;
	int oom;
};

static int conf_add(void *user, const char *section, const char *name,
		    const char *value)
{
	struct conf *c = user;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **s = realloc(c->sec, cap * sizeof *s);
		if (s)
			c->sec = s;
		char **k = realloc(c->key, cap * sizeof *k);
		if (k)
			c->key = k;
		char **v = realloc(c->val, cap * sizeof *v);
		if (v)
			c->val = v;
		if (!s || !k || !v) {
			c->oom = 1;
			return 0;
		}
		c->cap = cap;
	}
	c->sec[c->n] = strdup(section);
	c->key[c->n] = strdup(name);
	c->val[c->n] = strdup(value ? value : "");
	c->n++;
	if (!c->sec[c->n - 1] || !c->key[c->n - 1] || !c->val[c->n - 1])
		c->oom = 1;
	return 1;
}

static void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->sec[i]);
		free(c->key[i]);
		free(c->val[i]);
	}
	free(c->sec);
	free(c->key);
	free(c->val);
	memset(c, 0, sizeof *c);
}

/* Last value wins inside one file, as configparser does. Keys are
 * case-insensitive there, section names are not. */
static const char *conf_get(const struct conf *c, const char *sec,
			    const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0 &&
		    strcasecmp(c->key[i], key) == 0)
			v = c->val[i];
	return v;
}

static int conf_has_section(const struct conf *c, const char *sec)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i], sec) == 0)
			return 1;
	return 0;
}

static void warn_if_readable(const struct dnsfollow_host *h, const char *path)
{
	struct stat st;
	if (h && stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		h->log(h, DNSFOLLOW_LOG_WARN,
		       "credentials file %s is readable by other users; "
		       "chmod 600 it", path);
}

/* Load `path` into c. -ENOENT when it does not exist. */
static int conf_load(const struct dnsfollow_host *h, const char *path,
		     struct conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return -ENOENT;
		int e = errno;
		snprintf(err, errlen, "cannot read credentials file %s: %s",
			 path, strerror(e));
		return -e;
	}
	warn_if_readable(h, path);
	int line = ini_parse_file(f, conf_add, c);
	fclose(f);
	if (c->oom) {
		conf_free(c);
		snprintf(err, errlen, "out of memory reading %s", path);
		return -ENOMEM;
	}
	if (line != 0) {
		conf_free(c);
		snprintf(err, errlen, "%s:%d: not in ovh.conf (INI) format",
			 path, line);
		return -EINVAL;
	}
	return 0;
}

/* Value of `key` for `endpoint` in one file: its [endpoint] section, or,
 * when the file has no such section, the section its own [default]
 * endpoint names (so a config that points `endpoint` at another URL can
 * still use an ovh.conf written for ovh-eu). */
static const char *conf_lookup(const struct conf *c, const char *endpoint,
			       const char *key)
{
	if (conf_has_section(c, endpoint))
		return conf_get(c, endpoint, key);
	const char *def = conf_get(c, "default", "endpoint");
	return def ? conf_get(c, def, key) : NULL;
}

int ovh_conf_merge(const char *path, const char *section,
		   struct ovh_creds *cr, char *err, size_t errlen)
{
	struct conf c;
	int rc = conf_load(NULL, path, &c, err, errlen);
	if (rc != 0)
		return rc;
	const char *ep = section ? section : conf_get(&c, "default", "endpoint");
	struct {
		char **dst;
		const char *key;
	} f[] = {{&cr->endpoint, NULL},
		 {&cr->application_key, "application_key"},
		 {&cr->application_secret, "application_secret"},
		 {&cr->consumer_key, "consumer_key"}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = f[i].key ? (ep ? conf_lookup(&c, ep, f[i].key)
					       : NULL)
					 : ep;
		if (!*f[i].dst && v && *v && !(*f[i].dst = strdup(v)))
			rc = -ENOMEM;
	}
	conf_free(&c);
	return rc;
}

void ovh_creds_free(struct ovh_creds *c)
{
	free(c->endpoint);
	free(c->application_key);
	free(c->application_secret);
	free(c->consumer_key);
	free(c->source);
	memset(c, 0, sizeof *c);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* First of: explicit value, environment variable, files in order. */
static int pick(const char *cfg, const char *env, const struct conf *files,
		size_t nfiles, const char *endpoint, const char *key,
		char **dst, const char **from)
{
	const char *v = nonempty(cfg);
	*from = "the dnsfollow configuration";
	if (!v && (v = nonempty(getenv(env))))
		*from = env;
	for (size_t i = 0; !v && i < nfiles; i++) {
		if (key)
			v = nonempty(conf_lookup(&files[i], endpoint, key));
		else
			v = nonempty(conf_get(&files[i], "default", "endpoint"));
		*from = files[i].path;
	}
	if (!v)
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int load_files(const struct dnsfollow_host *h, const char *credentials,
		      const char *const *paths, struct conf *files,
		      size_t *nfiles, char *err, size_t errlen)
{
	*nfiles = 0;
	if (credentials) {
		int rc = conf_load(h, credentials, &files[0], err, errlen);
		if (rc == -ENOENT)
			snprintf(err, errlen, "credentials file %s does not exist",
				 credentials);
		if (rc == 0)
			*nfiles = 1;
		return rc;
	}
	for (size_t i = 0; paths && paths[i] && *nfiles < 3; i++) {
		int rc = conf_load(h, paths[i], &files[*nfiles], err, errlen);
		if (rc == 0)
			(*nfiles)++;
		else if (rc != -ENOENT)
			return rc;
	}
	return 0;
}

static int check_complete(const struct ovh_creds *out, char *err,
			  size_t errlen)
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
	snprintf(err, errlen,
		 "no %s for endpoint %s: set it in the provider section, in "
		 "%s, or in an ovh.conf (credentials = PATH, ./ovh.conf, "
		 "~/.ovh.conf, /etc/ovh.conf)",
		 missing, out->endpoint, env);
	return -EINVAL;
}

int ovh_creds_resolve(const struct dnsfollow_host *h,
		      const struct ovh_creds *cfg, const char *credentials,
		      const char *const *paths, struct ovh_creds *out,
		      char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct conf files[3];
	memset(files, 0, sizeof files);
	size_t nf = 0;
	int rc = load_files(h, credentials, paths, files, &nf, err, errlen);
	if (rc != 0)
		return rc;
	const char *from = NULL, *key_from = NULL;
	rc = pick(cfg->endpoint, "OVH_ENDPOINT", files, nf, NULL, NULL,
		  &out->endpoint, &from);
	if (rc == 0 && !out->endpoint && !(out->endpoint = strdup("ovh-eu")))
		rc = -ENOMEM;
	if (rc == 0)
		rc = pick(cfg->application_key, "OVH_APPLICATION_KEY", files,
			  nf, out->endpoint, "application_key",
			  &out->application_key, &key_from);
	if (rc == 0)
		rc = pick(cfg->application_secret, "OVH_APPLICATION_SECRET",
			  files, nf, out->endpoint, "application_secret",
			  &out->application_secret, &from);
	if (rc == 0)
		rc = pick(cfg->consumer_key, "OVH_CONSUMER_KEY", files, nf,
			  out->endpoint, "consumer_key", &out->consumer_key,
			  &from);
	if (rc == 0 && key_from && !(out->source = strdup(key_from)))
		rc = -ENOMEM;
	for (size_t i = 0; i < nf; i++)
		conf_free(&files[i]);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory reading credentials");
	if (rc == 0)
		rc = check_complete(out, err, errlen);
	if (rc != 0)
		ovh_creds_free(out);
	return rc;
}
