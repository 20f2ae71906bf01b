#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dnsfollow/provider.h>

static void oom(void)
{
	fputs("dnsfollow: out of memory\n", stderr);
	abort();
}

char *df_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		oom();
	return d;
}

void *df_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *df_xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	size_t bytes = n * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q)
		oom();
	return q;
}

void *df_grow(void *v, size_t n, size_t size)
{
	/* Capacity is the next power of two: grow when n is one. */
	if (n == 0 || (n & (n - 1)) == 0)
		v = df_xrealloc(v, n ? n * 2 : 1, size);
	return v;
}

char *df_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

char *df_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

size_t df_split_list(const char *s, char ***out)
{
	char *copy = df_strdup(s);
	char **v = df_xcalloc(1, sizeof *v);
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ", \t", &save); t;
	     t = strtok_r(NULL, ", \t", &save)) {
		v = df_xrealloc(v, n + 2, sizeof *v);
		v[n++] = df_strdup(t);
		v[n] = NULL;
	}
	free(copy);
	*out = v;
	return n;
}

void df_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char *df_strv_join(char *const *v, size_t n, const char *sep)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + strlen(sep);
	char *out = df_xcalloc(len, 1), *p = out;
	for (size_t i = 0; i < n; i++)
		p = stpcpy(stpcpy(p, i ? sep : ""), v[i]);
	return out;
}

int df_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int df_parse_bool(const char *s)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int df_name_normalise(const char *in, char **out)
{
	*out = NULL;
	size_t n = strlen(in);
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	char *s = malloc(n + 1);
	if (!s)
		return -1;
	memcpy(s, in, n);
	s[n] = '\0';
	df_lower(s);
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63) {
				free(s);
				return -1;
			}
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_')) {
			free(s);
			return -1;
		}
		label++;
	}
	*out = s;
	return 0;
}

int df_name_in_zone(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);
	if (nl == zl)
		return strcmp(name, zone) == 0;
	if (nl < zl + 1)
		return 0;
	return name[nl - zl - 1] == '.' && strcmp(name + nl - zl, zone) == 0;
}

int df_addr_canon(const char *in, char out[46])
{
	unsigned char bin[16];
	if (inet_pton(AF_INET, in, bin) == 1) {
		inet_ntop(AF_INET, bin, out, 46);
		return 4;
	}
	if (inet_pton(AF_INET6, in, bin) == 1) {
		inet_ntop(AF_INET6, bin, out, 46);
		return 6;
	}
	return 0;
}

char *df_path_resolve(const char *dir, const char *path)
{
	if (path[0] == '/' || !dir || !*dir)
		return df_strdup(path);
	size_t n = strlen(dir) + strlen(path) + 2;
	char *p = df_xcalloc(n, 1);
	snprintf(p, n, "%s/%s", dir, path);
	return p;
}

/* IPv4 policy on the address in network order; NULL when publishable. */
static const char *v4_unusable(const unsigned char *b, int allow_loopback)
{
	if (b[0] == 127)
		return allow_loopback ? NULL : "a loopback address (allow_loopback = yes permits it)";
	if (b[0] == 0)
		return allow_loopback && !(b[1] | b[2] | b[3]) ? NULL
		       : "in 0.0.0.0/8 (this network)";
	if (b[0] == 169 && b[1] == 254)
		return "a link-local address (169.254.0.0/16)";
	if (b[0] >= 224 && b[0] < 240)
		return "a multicast address (224.0.0.0/4)";
	if (b[0] >= 240)
		return b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255
			       ? "the broadcast address"
			       : "a reserved address (240.0.0.0/4)";
	return NULL;
}

const char *df_addr_unusable(const char *canon, int allow_loopback)
{
	unsigned char b[16];
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (inet_pton(AF_INET, canon, b) == 1)
		return v4_unusable(b, allow_loopback);
	if (inet_pton(AF_INET6, canon, b) != 1)
		return "not an IP address";
	if (memcmp(b, zero, 12) == 0) {
		int low = (b[12] | b[13] | b[14]) == 0 && b[15] <= 1;
		if (low)
			return allow_loopback ? NULL
			       : b[15] ? "the IPv6 loopback address (allow_loopback = yes permits it)"
				       : "the unspecified address ::";
		return "an IPv4-compatible IPv6 address (::a.b.c.d, deprecated)";
	}
	if (memcmp(b, mapped, 12) == 0)
		return "an IPv4-mapped IPv6 address (::ffff:a.b.c.d); publish the IPv4 address as A";
	if (memcmp(b, nat64, 12) == 0 && v4_unusable(b + 12, 0))
		return "a NAT64 address (64:ff9b::/96) mapping an unusable IPv4 address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address (fe80::/10)";
	if (b[0] == 0xff)
		return "a multicast address (ff00::/8)";
	return NULL;
}
