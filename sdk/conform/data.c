/* Comparing record data per type, and the names the kit writes. */
#include "conform.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One datum in a form where equal data compare equal: addresses as
 * their canonical text, names lower-case without the final dot. */
static char *canon(uint16_t type, const char *d)
{
	unsigned char bin[16];
	char buf[INET6_ADDRSTRLEN];
	if (type == DNSFOLLOW_TYPE_A && inet_pton(AF_INET, d, bin) == 1)
		return strdup(inet_ntop(AF_INET, bin, buf, sizeof buf));
	if (type == DNSFOLLOW_TYPE_AAAA && inet_pton(AF_INET6, d, bin) == 1)
		return strdup(inet_ntop(AF_INET6, bin, buf, sizeof buf));
	char *s = strdup(d);
	if (s && (type == DNSFOLLOW_TYPE_CNAME || type == DNSFOLLOW_TYPE_NS)) {
		size_t n = strlen(s);
		if (n && s[n - 1] == '.')
			s[n - 1] = '\0';
		for (char *p = s; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return s;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical, sorted copies of v[0..n); with `uniq`, each datum once.
 * Returns the count kept. */
static size_t canon_set(uint16_t type, const char *const *v, size_t n, int uniq,
			char **out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = canon(type, v[i]);
	for (size_t i = 0; i < n; i++)
		if (!out[i])
			out[i] = strdup("");
	qsort(out, n, sizeof *out, by_text);
	if (!uniq || n == 0)
		return n;
	size_t k = 1;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(out[i], out[k - 1]) == 0)
			free(out[i]);
		else
			out[k++] = out[i];
	}
	for (size_t i = k; i < n; i++)
		out[i] = NULL; /* freed or moved down */
	return k;
}

static void free_set(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A short, printable form of a datum for a diagnostic line. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t j = 0, len = strlen(s);
	for (size_t i = 0; i < len && j + 4 < cap; i++)
		buf[j++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (j + 4 >= cap && len > j)
		memcpy(buf + j, "...", 4), j += 3;
	buf[j] = '\0';
	return buf;
}

int dfc_same_data(const struct dfc_rr *rr, const char *const *want, size_t n,
		  char *why, size_t cap)
{
	char **w = calloc(n + 1, sizeof *w);
	char **g = calloc(rr->count + 1, sizeof *g);
	char b1[80], b2[80];
	int same = 0;
	if (!w || !g) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	size_t nw = canon_set(rr->type, want, n, 1, w);
	size_t ng = canon_set(rr->type, (const char *const *)rr->rdata, rr->count, 0, g);
	if (ng != nw) {
		snprintf(why, cap, "%zu record(s) read back, %zu expected%s", ng, nw,
			 ng > nw ? " (a datum stored twice, or old data kept)" : "");
		goto out;
	}
	for (size_t i = 0; i < nw; i++)
		if (strcmp(w[i], g[i]) != 0) {
			snprintf(why, cap, "read back '%s', expected '%s'",
				 shown(g[i], b1, sizeof b1), shown(w[i], b2, sizeof b2));
			goto out;
		}
	same = 1;
out:
	if (w)
		free_set(w, n);
	if (g)
		free_set(g, rr->count);
	return same;
}

/* Keep `name` (malloc'd, or NULL) in c->names, once; the kept copy. */
static const char *keep(struct dfc *c, char *name)
{
	char **v = name ? realloc(c->names, (c->nnames + 1) * sizeof *v) : NULL;
	if (!v) {
		free(name);
		return "dfc-out-of-memory.invalid";
	}
	c->names = v;
	for (size_t i = 0; i < c->nnames; i++)
		if (strcmp(c->names[i], name) == 0) {
			free(name);
			return c->names[i];
		}
	c->names[c->nnames++] = name;
	return name;
}

static const char *make_name(struct dfc *c, const char *head, const char *label)
{
	size_t n = strlen(head) + strlen(label) + strlen(c->zone) + 6;
	char *name = malloc(n);
	if (name)
		snprintf(name, n, "%sdfc-%s.%s", head, label, c->zone);
	return keep(c, name);
}

const char *dfc_name(struct dfc *c, const char *label)
{
	return make_name(c, "", label);
}

const char *dfc_marker_name(struct dfc *c, const char *label)
{
	return make_name(c, "_dnsfollow.", label);
}

int dfc_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

int dfc_has_type(const struct dfc *c, uint16_t type)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	for (const uint16_t *t = ops->types; t && *t; t++)
		if (*t == type)
			return 1;
	return 0;
}
