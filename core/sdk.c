/*
 * Host helpers for plugins (ABI 2): TXT presentation, record-type names,
 * DNS names, URL escaping, HTTP status classes, headers and Retry-After.
 * The core uses these same functions: one table of type names, one TXT
 * codec, one Retry-After parser. Character classes are ASCII by hand:
 * the <ctype.h> ones follow the locale, and DNS and URLs do not.
 */
#include "sdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "host.h"

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_alnum(unsigned char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
static char lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* ---- TXT ---- */

/* The longest character-string of a TXT record (a length byte). */
#define TXT_CHUNK 255

static int txt_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

char *df_txt_encode(const char *text)
{
	if (!text)
		text = "";
	size_t n = strlen(text);
	/* Worst case: every byte as \DDD, plus quotes and a space per chunk. */
	size_t chunks = n / TXT_CHUNK + 1;
	char *out = malloc(n * 4 + chunks * 3 + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	do {
		if (i)
			*o++ = ' ';
		*o++ = '"';
		for (size_t end = i + TXT_CHUNK; i < n && i < end; i++) {
			unsigned char c = (unsigned char)text[i];
			if (txt_plain(c))
				*o++ = (char)c;
			else if (c == '"' || c == '\\')
				o += sprintf(o, "\\%c", c);
			else
				o += sprintf(o, "\\%03u", c);
		}
		*o++ = '"';
	} while (i < n);
	*o = '\0';
	return out;
}

/* One escape after its '\\' at *pp: the byte it stands for, or -1 when it
 * is malformed. */
static int txt_escape(const char **pp)
{
	const char *p = *pp;
	if (is_digit((unsigned char)p[0])) {
		if (!is_digit((unsigned char)p[1]) || !is_digit((unsigned char)p[2]))
			return -1;
		int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		*pp = p + 3;
		/* \000 cannot live in a C string: refused, not cut short. */
		return v > 255 || v == 0 ? -1 : v;
	}
	if (!*p)
		return -1;
	*pp = p + 1;
	return (unsigned char)*p;
}

/* One character-string at *pp (quoted or, when `quoted` is 0, a bare
 * word) appended to *o. Returns 0, or -1 when malformed. */
static int txt_string(const char **pp, char **o, int quoted)
{
	const char *p = *pp;
	size_t len = 0;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (quoted ? c == '"' : (c == '\0' || is_space(c)))
			break;
		if (c == '\0' || (!quoted && c == '"'))
			return -1; /* an open quote; a quote inside a word */
		p++;
		int v = c == '\\' ? txt_escape(&p) : c;
		if (v < 0 || ++len > TXT_CHUNK)
			return -1;
		*(*o)++ = (char)v;
	}
	*pp = quoted ? p + 1 : p;
	return 0;
}

char *df_txt_decode(const char *in)
{
	if (!in)
		return NULL;
	char *out = malloc(strlen(in) + 1), *o = out;
	if (!out)
		return NULL;
	const char *p = in;
	int words = 0, quoted = 0;
	for (;;) {
		while (is_space((unsigned char)*p))
			p++;
		if (!*p)
			break;
		int q = *p == '"';
		/* Quoted strings or one bare word, never a mix: a bare
		 * "a b" is raw text given by mistake, not two strings. */
		if ((q && words) || (!q && (words || quoted)))
			goto bad;
		p += q;
		if (txt_string(&p, &o, q) != 0)
			goto bad;
		quoted += q;
		words += !q;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* ---- record types ---- */

static const struct {
	uint16_t code;
	const char *name;
} types[] = {
	{1, "A"},         {2, "NS"},          {5, "CNAME"},      {6, "SOA"},
	{12, "PTR"},      {13, "HINFO"},      {15, "MX"},        {16, "TXT"},
	{17, "RP"},       {18, "AFSDB"},      {24, "SIG"},       {25, "KEY"},
	{28, "AAAA"},     {29, "LOC"},        {33, "SRV"},       {35, "NAPTR"},
	{36, "KX"},       {37, "CERT"},       {39, "DNAME"},     {42, "APL"},
	{43, "DS"},       {44, "SSHFP"},      {45, "IPSECKEY"},  {46, "RRSIG"},
	{47, "NSEC"},     {48, "DNSKEY"},     {49, "DHCID"},     {50, "NSEC3"},
	{51, "NSEC3PARAM"}, {52, "TLSA"},     {53, "SMIMEA"},    {55, "HIP"},
	{59, "CDS"},      {60, "CDNSKEY"},    {61, "OPENPGPKEY"}, {62, "CSYNC"},
	{63, "ZONEMD"},   {64, "SVCB"},       {65, "HTTPS"},     {99, "SPF"},
	{108, "EUI48"},   {109, "EUI64"},     {255, "ANY"},      {256, "URI"},
	{257, "CAA"},
};

#define NTYPES (sizeof types / sizeof types[0])

const char *df_type_name(uint16_t type)
{
	static _Thread_local char generic[16];
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].code == type)
			return types[i].name;
	snprintf(generic, sizeof generic, "TYPE%u", (unsigned)type);
	return generic;
}

uint16_t df_type_code(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < NTYPES; i++)
		if (strcasecmp(types[i].name, name) == 0)
			return types[i].code;
	if (strncasecmp(name, "TYPE", 4) != 0)
		return 0;
	/* Digits only (strtoul would take a sign or spaces), at most five. */
	const char *d = name + 4;
	size_t nd = strspn(d, "0123456789");
	if (nd == 0 || nd > 5 || d[nd])
		return 0;
	unsigned long v = strtoul(d, NULL, 10);
	return v <= 65535 ? (uint16_t)v : 0;
}

/* ---- names ---- */

static int name_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

int df_name_normalise_buf(const char *in, char *out, size_t cap)
{
	if (!in)
		return -EINVAL;
	size_t n = strlen(in);
	if (n == 1 && in[0] == '.')
		n = 0; /* the root */
	else if (n && in[n - 1] == '.')
		n--;
	if (n > 253)
		return -EINVAL;
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || in[i] == '.') {
			if (n && (label == 0 || label > 63))
				return -EINVAL;
			label = 0;
		} else if (!name_byte_ok((unsigned char)in[i])) {
			return -EINVAL;
		} else {
			label++;
		}
	}
	if (!out || cap <= n)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++)
		out[i] = lower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

/* ---- URLs ---- */

char *df_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!s)
		s = "";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (is_alnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ---- HTTP answers ---- */

int df_http_header(const struct dnsfollow_http_response *resp,
		   const char *name, char *buf, size_t cap)
{
	const char *val = NULL;
	size_t vlen = 0, nl = name ? strlen(name) : 0;
	if (buf && cap)
		buf[0] = '\0';
	for (const char *p = resp ? resp->headers : NULL; nl && p && *p;) {
		size_t len = strcspn(p, "\r\n");
		if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			/* The last one wins: a proxy may add its own. */
			val = p + nl + 1;
			vlen = len - nl - 1;
			while (vlen && is_space((unsigned char)*val))
				val++, vlen--;
			while (vlen && is_space((unsigned char)val[vlen - 1]))
				vlen--;
		}
		p += len;
		p += strspn(p, "\r\n");
	}
	if (!val)
		return -ENOENT;
	if (!buf || vlen >= cap)
		return -ENOSPC;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	return 0;
}

static int month_of(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (strlen(m) == 3 && strncasecmp(m, names + 3 * i, 3) == 0)
			return i;
	return -1;
}

/* An HTTP date (RFC 9110 5.6.7: IMF-fixdate, RFC 850, asctime) in epoch
 * seconds; -1 when it is none of them. */
static int64_t http_date(const char *s)
{
	char wd[16], mon[8];
	int d, y, hh, mm, ss, n = -1, ok;
	ok = sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd,
		    &d, mon, &y, &hh, &mm, &ss, &n) == 7 && n > 0 && !s[n];
	n = -1;
	if (!ok && sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n",
			  wd, &d, mon, &y, &hh, &mm, &ss, &n) == 7 &&
	    n > 0 && !s[n]) {
		ok = 1;
		y += y < 70 ? 2000 : 1900; /* two-digit years: RFC 9110 */
	}
	n = -1;
	if (!ok)
		ok = sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd,
			    mon, &d, &hh, &mm, &ss, &y, &n) == 7 && n > 0 && !s[n];
	if (!ok)
		return -1;
	int m = month_of(mon);
	if (m < 0 || d < 1 || d > 31 || y < 1970 || hh < 0 || hh > 23 ||
	    mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m, .tm_mday = d,
			.tm_hour = hh, .tm_min = mm, .tm_sec = ss};
	return (int64_t)timegm(&tm);
}

unsigned df_parse_retry_after_at(const char *value, int64_t now)
{
	char v[64];
	if (!value)
		return 0;
	while (is_space((unsigned char)*value))
		value++;
	size_t n = strlen(value);
	while (n && is_space((unsigned char)value[n - 1]))
		n--;
	if (n == 0 || n >= sizeof v)
		return 0;
	memcpy(v, value, n);
	v[n] = '\0';
	int64_t secs = 0;
	if (strspn(v, "0123456789") == n) {
		/* Saturate rather than overflow: "99999999999999999999" is a
		 * long wait, capped below like any other. */
		for (size_t i = 0; i < n && secs <= DF_RETRY_AFTER_MAX_S; i++)
			secs = secs * 10 + (v[i] - '0');
	} else {
		int64_t t = http_date(v);
		if (t < 0)
			return 0;
		secs = t - now;
	}
	if (secs <= 0)
		return 0;
	if (secs > DF_RETRY_AFTER_MAX_S)
		secs = DF_RETRY_AFTER_MAX_S;
	return (unsigned)secs * 1000u;
}

unsigned df_parse_retry_after(const char *value)
{
	return df_parse_retry_after_at(value, df_wall_time());
}

static int status_rc(long status)
{
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return -EAGAIN;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 404)
		return -ENOENT;
	if (status == 409)
		return -EEXIST;
	return -EINVAL;
}

/* The message a JSON body carries in one of the usual places. */
static const char *json_message(json_t *j)
{
	const char *m = json_string_value(json_object_get(j, "message"));
	json_t *e = json_object_get(j, "error");
	if (!m)
		m = json_is_object(e) ? json_string_value(json_object_get(e, "message"))
				      : json_string_value(e);
	json_t *first = json_array_get(json_object_get(j, "errors"), 0);
	if (!m)
		m = json_is_object(first)
			    ? json_string_value(json_object_get(first, "message"))
			    : json_string_value(first);
	return m;
}

/* A copy of what the answer says, cut to a bound on a UTF-8 boundary
 * but without a mark: it ends the error text, where host->error() masks
 * a secret cut short. An HTML page says nothing useful: NULL. */
static char *answer_message(const struct dnsfollow_http_response *resp)
{
	const size_t max = 512;
	if (!resp->body || !resp->body_len)
		return NULL;
	json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *m = json_message(j);
	if (!m && resp->body[strspn(resp->body, " \t\r\n")] != '<')
		m = resp->body;
	while (m && is_space((unsigned char)*m))
		m++;
	size_t n = m ? strlen(m) : 0;
	while (n && is_space((unsigned char)m[n - 1]))
		n--;
	if (n > max)
		for (n = max; n && ((unsigned char)m[n] & 0xc0) == 0x80;)
			n--;
	char *out = m ? strndup(m, n) : NULL;
	json_decref(j);
	return out;
}

int df_http_error(const struct dnsfollow_host *h,
		  const struct dnsfollow_http_response *resp, const char *what)
{
	const char *w = what ? what : "", *sep = what ? ": " : "";
	if (!resp)
		return h->error(h, -EINVAL, "%s%sno HTTP answer", w, sep);
	if (resp->status >= 200 && resp->status <= 299)
		return 0;
	int rc = status_rc(resp->status);
	char ra[128];
	if (rc == -EAGAIN && h->retry_after &&
	    df_http_header(resp, "Retry-After", ra, sizeof ra) == 0) {
		int64_t now = DNSFOLLOW_HOST_HAS(h, wall_time) ? h->wall_time()
							       : df_wall_time();
		unsigned ms = df_parse_retry_after_at(ra, now);
		if (ms)
			h->retry_after(h, ms);
	}
	char *msg = answer_message(resp);
	int has = msg && *msg;
	h->error(h, rc, "%s%sHTTP %ld%s%s", w, sep, resp->status,
		 has ? ": " : "", has ? msg : "");
	free(msg);
	return rc;
}

/* ---- the host table ---- */

void df_sdk_fill(struct dnsfollow_host *pub)
{
	pub->txt_encode = df_txt_encode;
	pub->txt_decode = df_txt_decode;
	pub->type_name = df_type_name;
	pub->type_code = df_type_code;
	pub->name_normalise = df_name_normalise_buf;
	pub->http_error = df_http_error;
	pub->http_header = df_http_header;
	pub->parse_retry_after = df_parse_retry_after;
	pub->url_escape = df_url_escape;
}
