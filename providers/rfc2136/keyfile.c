/*
 * TSIG key files. Two formats are read:
 *   BIND (tsig-keygen, rndc-confgen):  key "name" { algorithm A; secret "B64"; };
 *   Knot (keymgr -t):                  key:\n  - id: name\n    algorithm: A\n    secret: B64
 * Error texts name the file and line but never the secret.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* `src` cut to 64 bytes, anything but visible ASCII as '?': names from a
 * file go into one-line messages. */
static const char *shown(char out[65], const char *src)
{
	size_t i = 0;
	for (; src[i] && i < 64; i++)
		out[i] = isgraph((unsigned char)src[i]) ? src[i] : '?';
	out[i] = 0;
	return out;
}

static int graph_only(const char *s)
{
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return 0;
	return 1;
}

int r2136_key_set(struct r2136_key *k, const char *name, const char *alg,
		  const char *b64, char *err, size_t errlen)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	char sh[65];
	memset(k, 0, sizeof *k);
	size_t nl = strlen(name);
	/* Spaces and control bytes are legal in DNS labels but never meant
	 * in a key name, and would break the one-line messages naming it. */
	if (nl >= sizeof k->name || r2136_name_to_wire(name, w) < 0 ||
	    strcmp(name, ".") == 0 || nl == 0 || !graph_only(name)) {
		snprintf(err, errlen, "key name '%s' is not a valid DNS name",
			 shown(sh, name));
		return -EINVAL;
	}
	snprintf(k->name, sizeof k->name, "%s", name);
	if (k->name[nl - 1] == '.')
		k->name[nl - 1] = 0;
	for (char *c = k->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!(k->alg = r2136_alg_find(alg))) {
		snprintf(err, errlen, "unsupported TSIG algorithm '%s' (use "
			 "hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512)",
			 shown(sh, alg));
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
		if (strcmp(t, "key") != 0)
			return -1;
		if (*nkeys >= MAX_KEYS)
			return -3;
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
			if (dst && *dst)
				return -2; /* given twice */
			if (!dst || conf_token(&s, line, dst, cap) <= 0 ||
			    conf_token(&s, line, t, tcap) <= 0 || strcmp(t, ";"))
				return -1;
		}
		if (conf_token(&s, line, t, tcap) <= 0 || strcmp(t, ";"))
			return -1;
	}
	return r;
}

static int parse_bind(const char *text, const char *path, struct kf_key *keys,
		      size_t *nkeys, char *err, size_t errlen)
{
	char t[600], sh[65]; /* t: a token, maybe a secret in a bad file */
	int line = 1;
	int r = bind_keys(text, keys, nkeys, &line, t, sizeof t);
	if (r == -2) /* t is the statement's keyword */
		snprintf(err, errlen, "%.1024s:%d: key '%s' has a second %s "
			 "statement", path, line, shown(sh, keys[*nkeys - 1].name), t);
	else if (r == -3)
		snprintf(err, errlen, "%.1024s:%d: more than %d keys", path, line,
			 MAX_KEYS);
	else if (r)
		snprintf(err, errlen, "%.1024s:%d: expected key \"NAME\" { algorithm "
			 "ALG; secret \"BASE64\"; };", path, line);
	explicit_bzero(t, sizeof t);
	return r ? -EINVAL : 0;
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
	char *dst = strcmp(p, "id") == 0 ? (*k)->name :
		    strcmp(p, "algorithm") == 0 ? (*k)->alg :
		    strcmp(p, "secret") == 0 ? (*k)->secret : NULL;
	size_t cap = dst == (*k)->name ? sizeof (*k)->name :
		     dst == (*k)->alg ? sizeof (*k)->alg : sizeof (*k)->secret;
	if (!dst)
		return -1;
	if (*dst)
		return -2; /* given twice in one entry */
	snprintf(dst, cap, "%s", v);
	return 0;
}

/* The YAML `keymgr -t` prints: only the key: list is understood. */
static int parse_knot(const char *text, const char *path, struct kf_key *keys,
		      size_t *nkeys, char *err, size_t errlen)
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
	if (rc == -2)
		snprintf(err, errlen, "%.1024s:%d: a key entry has this field twice",
			 path, line);
	else
		snprintf(err, errlen, "%.1024s:%d: expected keymgr -t output "
			 "(key: / - id: / algorithm: / secret:)%s", path, line,
			 *nkeys >= MAX_KEYS ? " of at most 32 keys" : "");
	return -EINVAL;
}

/* Key names compare as DNS names: case and a final dot do not count. */
static int key_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la > 1 && a[la - 1] == '.';
	lb -= lb > 1 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* A second definition of a name is refused, as named does: which of two
 * differing secrets or algorithms was meant cannot be guessed. */
static int check_duplicates(const struct kf_key *keys, size_t n,
			    const char *path, char *err, size_t errlen)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (key_name_eq(keys[i].name, keys[j].name)) {
				char sh[65];
				snprintf(err, errlen, "%.1024s:%d: key '%s' is defined "
					 "again (first at line %d); keep one definition",
					 path, keys[i].line, shown(sh, keys[i].name),
					 keys[j].line);
				return -EINVAL;
			}
	return 0;
}

static int pick(struct kf_key *keys, size_t n, const char *want,
		const char *path, struct r2136_key *k, char *err, size_t errlen)
{
	struct kf_key *use = NULL;
	char sh[65];
	for (size_t i = 0; i < n; i++)
		if (!want || key_name_eq(keys[i].name, want)) {
			if (use) {
				snprintf(err, errlen, "key_file %.1024s: holds several "
					 "keys; set key_name", path);
				return -EINVAL;
			}
			use = &keys[i];
		}
	if (!use) {
		snprintf(err, errlen, want ? "key_file %.1024s: has no key named "
			 "'%s'" : "key_file %.1024s: holds no key%.0s", path,
			 shown(sh, want ? want : ""));
		return -EINVAL;
	}
	if (!use->alg[0] || !use->secret[0]) {
		snprintf(err, errlen, "%.1024s:%d: key '%s' lacks its %s", path,
			 use->line, shown(sh, use->name), use->alg[0] ? "secret" :
			 "algorithm");
		return -EINVAL;
	}
	char why[200];
	int rc = r2136_key_set(k, use->name, use->alg, use->secret, why, sizeof why);
	if (rc)
		snprintf(err, errlen, "%.1024s:%d: %s", path, use->line, why);
	return rc;
}

int r2136_keyfile_parse(const char *text, const char *path, const char *want,
			struct r2136_key *k, char *err, size_t errlen)
{
	struct kf_key *keys = calloc(MAX_KEYS, sizeof *keys);
	size_t n = 0;
	int rc = -ENOMEM;
	if (!keys) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	const char *p = text + strspn(text, " \t\r\n");
	int knot = strncmp(p, "key:", 4) == 0 ||
		   (*p == '#' && strstr(text, "\nkey:"));
	rc = knot ? parse_knot(text, path, keys, &n, err, errlen)
		  : parse_bind(text, path, keys, &n, err, errlen);
	if (rc == 0)
		rc = check_duplicates(keys, n, path, err, errlen);
	if (rc == 0)
		rc = pick(keys, n, want, path, k, err, errlen);
	/* explicit_bzero: a memset before free() may be optimised away. */
	explicit_bzero(keys, MAX_KEYS * sizeof *keys);
	free(keys);
	return rc;
}

/* For a host without read_file: the same rules, in short (regular files
 * only, bounded, no NUL). */
static int read_plain(const struct dnsfollow_host *h, const char *path,
		      char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	int e = errno;
	if (fd < 0)
		return h->error(h, -e, "%s: cannot open: %s", path, strerror(e));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		close(fd);
		return h->error(h, -EINVAL, "%s: not a regular file of at most "
				"64 KiB", path);
	}
	*text = malloc((size_t)st.st_size + 1);
	ssize_t r = *text ? read(fd, *text, (size_t)st.st_size) : -1;
	close(fd);
	if (r < 0 || memchr(*text, 0, (size_t)r)) {
		if (*text)
			explicit_bzero(*text, (size_t)st.st_size);
		free(*text);
		*text = NULL;
		return h->error(h, -EINVAL, "%s: read error or a NUL byte", path);
	}
	(*text)[r] = 0;
	*len = (size_t)r;
	return 0;
}

int r2136_keyfile_load(const struct dnsfollow_host *h, const char *path,
		       const char *want, struct r2136_key *k)
{
	char *text = NULL, err[1400];
	size_t len = 0;
	int rc = DNSFOLLOW_HOST_HAS(h, read_file) ?
		 h->read_file(h, path, MAX_FILE, DNSFOLLOW_READ_TEXT |
			      DNSFOLLOW_READ_SECRET, &text, &len) :
		 read_plain(h, path, &text, &len);
	if (rc)
		return rc; /* the text, naming the path, is set */
	rc = r2136_keyfile_parse(text, path, want, k, err, sizeof err);
	explicit_bzero(text, len);
	free(text);
	if (rc)
		h->error(h, rc, "%s", err);
	return rc;
}
