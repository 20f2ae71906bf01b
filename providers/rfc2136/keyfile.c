/*
 * TSIG key files. Two formats are read:
 *   BIND (tsig-keygen, rndc-confgen):  key "name" { algorithm A; secret "B64"; };
 *   Knot (keymgr -t):                  key:\n  - id: name\n    algorithm: A\n    secret: B64
 * Error texts name the file and line but never the secret.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

#define MAX_KEYS 32
#define MAX_FILE (64 * 1024)

struct kf_key {
	char name[R2136_NAME_MAX], alg[64], secret[512];
	int line;
};

int r2136_base64_decode(const char *in, uint8_t *out, size_t cap)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t n = 0, chars = 0;
	for (const char *s = in; *s; s++) {
		if (isspace((unsigned char)*s))
			continue;
		chars++;
		if (*s == '=') {
			pad++;
			continue;
		}
		const char *c = strchr(al, *s);
		if (!c || pad)
			return -1; /* junk, or data after padding */
		acc = acc << 6 | (uint32_t)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (chars % 4 || pad > 2 || n == 0)
		return -1;
	return (int)n;
}

int r2136_key_set(struct r2136_key *k, const char *name, const char *alg,
		  const char *b64, char *err, size_t errlen)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	memset(k, 0, sizeof *k);
	size_t nl = strlen(name);
	if (nl >= sizeof k->name || r2136_name_to_wire(name, w) < 0 ||
	    strcmp(name, ".") == 0 || nl == 0) {
		snprintf(err, errlen, "key name '%.64s' is not a valid DNS name", name);
		return -EINVAL;
	}
	snprintf(k->name, sizeof k->name, "%s", name);
	if (k->name[nl - 1] == '.')
		k->name[nl - 1] = 0;
	for (char *c = k->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!(k->alg = r2136_alg_find(alg))) {
		snprintf(err, errlen, "unsupported TSIG algorithm '%.64s' (use "
			 "hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512)", alg);
		return -EINVAL;
	}
	int n = r2136_base64_decode(b64, k->secret, sizeof k->secret);
	if (n < 0) {
		snprintf(err, errlen, "the secret of key '%s' is not valid base64",
			 k->name);
		explicit_bzero(k, sizeof *k);
		return -EINVAL;
	}
	k->secret_len = (size_t)n;
	return 0;
}

/* A tokenizer for named.conf syntax: words, "strings", { } ; and
 * comments (#, //, C style). Returns the token length, 0 at the end, -1
 * on an unterminated string or comment. */
static int conf_token(const char **s, int *line, char *tok, size_t cap)
{
	const char *p = *s;
	for (;;) {
		while (isspace((unsigned char)*p))
			*line += *p++ == '\n';
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			if (!e)
				return -1;
			for (; p < e; p++)
				*line += *p == '\n';
			p += 2;
		} else {
			break;
		}
	}
	size_t n = 0;
	if (!*p)
		return *s = p, 0;
	if (*p == '{' || *p == '}' || *p == ';') {
		tok[n++] = *p++;
	} else if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (n + 1 < cap)
				tok[n++] = *p;
		if (*p++ != '"')
			return -1;
		if (n == 0)
			tok[n++] = 0; /* "" is still a token */
	} else {
		while (*p && !isspace((unsigned char)*p) && !strchr("{};\"", *p))
			if (n + 1 < cap)
				tok[n++] = *p++;
			else
				p++;
	}
	tok[n] = 0;
	*s = p;
	return (int)(n ? n : 1);
}

/* key NAME { algorithm A; secret "S"; }; — other statements are errors. */
static int bind_keys(const char *text, struct kf_key *keys, size_t *nkeys,
		     int *line, char *t, size_t tcap)
{
	const char *s = text;
	int r;
	while ((r = conf_token(&s, line, t, tcap)) > 0) {
		if (strcmp(t, "key") != 0 || *nkeys >= MAX_KEYS)
			return -1;
		struct kf_key *k = &keys[(*nkeys)++];
		memset(k, 0, sizeof *k);
		k->line = *line;
		if (conf_token(&s, line, k->name, sizeof k->name) <= 0 ||
		    conf_token(&s, line, t, tcap) <= 0 || strcmp(t, "{"))
			return -1;
		for (;;) {
			if (conf_token(&s, line, t, tcap) <= 0)
				return -1;
			if (strcmp(t, "}") == 0)
				break;
			char *dst = strcmp(t, "algorithm") == 0 ? k->alg :
				    strcmp(t, "secret") == 0 ? k->secret : NULL;
			size_t cap = dst == k->alg ? sizeof k->alg : sizeof k->secret;
			if (!dst || conf_token(&s, line, dst, cap) <= 0 ||
			    conf_token(&s, line, t, tcap) <= 0 || strcmp(t, ";"))
				return -1;
		}
		if (conf_token(&s, line, t, tcap) <= 0 || strcmp(t, ";"))
			return -1;
	}
	return r;
}

static int parse_bind(const char *text, struct kf_key *keys, size_t *nkeys,
		      char *err, size_t errlen)
{
	char t[600]; /* a token: may be a secret when the file is malformed */
	int line = 1;
	int r = bind_keys(text, keys, nkeys, &line, t, sizeof t);
	explicit_bzero(t, sizeof t);
	if (r == 0)
		return 0;
	snprintf(err, errlen, "line %d: expected key \"NAME\" { algorithm ALG; "
		 "secret \"BASE64\"; };", line);
	return -EINVAL;
}

/* One line of `keymgr -t` YAML (in `l`, changed in place) into the keys. */
static int knot_line(char *l, int line, struct kf_key *keys, size_t *nkeys,
		     struct kf_key **k)
{
	char *p = l + strspn(l, " \t"), *v;
	if (*p == '#' || *p == 0 || strcmp(p, "key:") == 0)
		return 0;
	if (p[0] == '-' && p[1] == ' ') {
		if (*nkeys >= MAX_KEYS)
			return -1;
		*k = &keys[(*nkeys)++];
		memset(*k, 0, sizeof **k);
		(*k)->line = line;
		p += 2 + strspn(p + 2, " \t");
	}
	if (!*k || !(v = strchr(p, ':')))
		return -1;
	*v++ = 0;
	v += strspn(v, " \t");
	v[strcspn(v, " \t\r#")] = 0;
	if (strcmp(p, "id") == 0)
		snprintf((*k)->name, sizeof (*k)->name, "%s", v);
	else if (strcmp(p, "algorithm") == 0)
		snprintf((*k)->alg, sizeof (*k)->alg, "%s", v);
	else if (strcmp(p, "secret") == 0)
		snprintf((*k)->secret, sizeof (*k)->secret, "%s", v);
	else
		return -1;
	return 0;
}

/* The YAML `keymgr -t` prints: only the key: list is understood. */
static int parse_knot(const char *text, struct kf_key *keys, size_t *nkeys,
		      char *err, size_t errlen)
{
	int line = 0, rc = 0;
	struct kf_key *k = NULL;
	char l[700]; /* holds the secret line: wiped below */
	for (const char *s = text; *s && rc == 0;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		line++;
		snprintf(l, sizeof l, "%.*s", (int)(n < 699 ? n : 699), s);
		s += n + (e ? 1 : 0);
		rc = knot_line(l, line, keys, nkeys, &k);
	}
	explicit_bzero(l, sizeof l);
	if (rc == 0)
		return 0;
	snprintf(err, errlen, "line %d: expected keymgr -t output "
		 "(key: / - id: / algorithm: / secret:)", line);
	return -EINVAL;
}

static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad || n > MAX_FILE || memchr(buf, 0, n)) {
		snprintf(err, errlen, "%s", !buf ? "out of memory" : bad ?
			 "read error" : "not a text key file of at most 64 KiB");
		if (buf)
			explicit_bzero(buf, n < MAX_FILE + 1 ? n : MAX_FILE + 1);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

static int pick(struct kf_key *keys, size_t n, const char *want,
		struct r2136_key *k, char *err, size_t errlen)
{
	struct kf_key *use = NULL;
	for (size_t i = 0; i < n; i++)
		if (!want || r2136_name_eq(keys[i].name, want)) {
			if (use && !want) {
				snprintf(err, errlen, "holds several keys; set key_name");
				return -EINVAL;
			}
			use = use ? use : &keys[i];
		}
	if (!use) {
		snprintf(err, errlen, want ? "has no key named '%.64s'" :
			 "holds no key%.0s", want ? want : "");
		return -EINVAL;
	}
	if (!use->alg[0] || !use->secret[0]) {
		snprintf(err, errlen, "line %d: key '%.64s' lacks its %s", use->line,
			 use->name, use->alg[0] ? "secret" : "algorithm");
		return -EINVAL;
	}
	return r2136_key_set(k, use->name, use->alg, use->secret, err, errlen);
}

int r2136_keyfile_load(const char *path, const char *want,
		       struct r2136_key *k, char *err, size_t errlen)
{
	struct kf_key *keys = calloc(MAX_KEYS, sizeof *keys);
	size_t n = 0;
	char *text = keys ? slurp(path, err, errlen) : NULL;
	int rc = -EINVAL;
	if (!keys)
		snprintf(err, errlen, "out of memory");
	if (text) {
		const char *p = text + strspn(text, " \t\r\n");
		int knot = strncmp(p, "key:", 4) == 0 ||
			   (*p == '#' && strstr(text, "\nkey:"));
		rc = knot ? parse_knot(text, keys, &n, err, errlen)
			  : parse_bind(text, keys, &n, err, errlen);
		if (rc == 0)
			rc = pick(keys, n, want, k, err, errlen);
	}
	/* explicit_bzero: a memset before free() may be optimised away. */
	if (keys)
		explicit_bzero(keys, MAX_KEYS * sizeof *keys);
	free(keys);
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}
