/*
 * Decoding DNS messages. Everything the peer sends is untrusted: every
 * length is checked against the message end, compression pointers must
 * point backwards (no loops), known rdata must fill its length exactly,
 * and the header counts must account for every byte.
 */
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int r2136_name_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Append one label byte in presentation form (escaping as needed). */
static size_t present_byte(char *out, size_t o, uint8_t c)
{
	if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' ||
	    c == ')') {
		out[o++] = '\\';
		out[o++] = (char)c;
	} else if (c <= 0x20 || c >= 0x7f) {
		o += (size_t)snprintf(out + o, 5, "\\%03u", c);
	} else {
		out[o++] = (char)tolower(c);
	}
	return o;
}

int r2136_get_name(const uint8_t *raw, size_t len, size_t *off, int compress,
		   char *out, const char **why)
{
	size_t p = *off, o = 0, wire = 0, end = 0;
	size_t floor = *off; /* pointers must go strictly below this */
	int jumped = 0;
	for (;;) {
		if (p >= len)
			return *why = "name runs past the end", -EPROTO;
		uint8_t l = raw[p];
		if ((l & 0xc0) == 0xc0) {
			if (!compress)
				return *why = "compressed name where not allowed", -EPROTO;
			if (p + 1 >= len)
				return *why = "truncated compression pointer", -EPROTO;
			size_t to = (size_t)((l & 0x3f) << 8 | raw[p + 1]);
			if (to >= floor)
				return *why = "compression pointer does not point backwards", -EPROTO;
			if (!jumped)
				end = p + 2;
			jumped = 1;
			floor = to;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return *why = "unknown label type", -EPROTO;
		wire += (size_t)l + 1;
		if (wire > R2136_WIRE_NAME_MAX)
			return *why = "name longer than 255 bytes", -EPROTO;
		if (l == 0)
			break;
		if (p + 1 + l > len)
			return *why = "label runs past the end", -EPROTO;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++)
			o = present_byte(out, o, raw[p + 1 + i]);
		p += 1 + (size_t)l;
	}
	out[o] = 0;
	*off = jumped ? end : p + 1;
	return 0;
}

/* Character-strings of a TXT rdata, concatenated. */
static int txt_text(const uint8_t *rd, size_t n, struct r2136_rr *rr)
{
	char *t = malloc(n + 1);
	size_t o = 0, i = 0;
	if (!t)
		return -ENOMEM;
	while (i < n) {
		size_t k = rd[i++];
		if (i + k > n) {
			free(t);
			return -EPROTO;
		}
		memcpy(t + o, rd + i, k);
		o += k;
		i += k;
	}
	t[o] = 0;
	rr->text = t;
	rr->textlen = o;
	return 0;
}

static int set_text(struct r2136_rr *rr, const char *s)
{
	rr->textlen = strlen(s);
	rr->text = strdup(s);
	return rr->text ? 0 : -ENOMEM;
}

/* SOA: "mname rname serial refresh retry expire minimum". */
static int soa_text(const uint8_t *raw, size_t end, size_t p,
		    struct r2136_rr *rr, const char **why)
{
	char m[R2136_NAME_MAX], r[R2136_NAME_MAX], t[2 * R2136_NAME_MAX + 64];
	uint32_t v[5];
	if (r2136_get_name(raw, end, &p, 1, m, why) ||
	    r2136_get_name(raw, end, &p, 1, r, why))
		return -EPROTO;
	if (p + 20 != end)
		return *why = "bad SOA rdata length", -EPROTO;
	for (int i = 0; i < 5; i++, p += 4)
		v[i] = (uint32_t)raw[p] << 24 | (uint32_t)raw[p + 1] << 16 |
		       (uint32_t)raw[p + 2] << 8 | raw[p + 3];
	snprintf(t, sizeof t, "%s %s %" PRIu32 " %" PRIu32 " %" PRIu32
		 " %" PRIu32 " %" PRIu32, m, r, v[0], v[1], v[2], v[3], v[4]);
	return set_text(rr, t);
}

/* Presentation form of the rdata of known types; others keep text NULL. */
static int rdata_text(const uint8_t *raw, struct r2136_rr *rr,
		      const char **why)
{
	const uint8_t *rd = raw + rr->rdoff;
	size_t end = rr->rdoff + rr->rdlen, p = rr->rdoff;
	char buf[R2136_NAME_MAX];
	if (rr->section == R2136_QD)
		return 0;
	switch (rr->type) {
	case 1:
	case 28: {
		size_t want = rr->type == 1 ? 4 : 16;
		if (rr->rdlen == 0 && rr->cls != R2136_CLASS_IN)
			return 0; /* an UPDATE-style "delete RRset" */
		if (rr->rdlen != want)
			return *why = "bad address rdata length", -EPROTO;
		inet_ntop(rr->type == 1 ? AF_INET : AF_INET6, rd, buf, sizeof buf);
		return set_text(rr, buf);
	}
	case 16:
		if (rr->rdlen == 0)
			return rr->cls == R2136_CLASS_IN ?
				(*why = "empty TXT rdata", -EPROTO) : 0;
		if (txt_text(rd, rr->rdlen, rr))
			return *why = "TXT string runs past its rdata", -EPROTO;
		return 0;
	case 2:
	case 5:
		if (rr->rdlen == 0 && rr->cls != R2136_CLASS_IN)
			return 0;
		if (r2136_get_name(raw, end, &p, 1, buf, why))
			return -EPROTO;
		if (p != end)
			return *why = "junk after name in rdata", -EPROTO;
		return set_text(rr, buf);
	case 6:
		if (rr->rdlen == 0 && rr->cls != R2136_CLASS_IN)
			return 0;
		return soa_text(raw, end, p, rr, why);
	default:
		return 0;
	}
}

int r2136_rdata_canon(uint16_t type, const char *text, char **out)
{
	struct r2136_buf b = {0};
	struct r2136_rr rr = {.section = R2136_AN, .type = type,
			      .cls = R2136_CLASS_IN, .rdoff = 2};
	const char *why;
	int rc = r2136_put_rdata(&b, type, text);
	if (rc == 0 && b.err)
		rc = b.err;
	if (rc == 0) {
		rr.rdlen = (uint16_t)(b.len - 2);
		rc = rdata_text(b.p, &rr, &why);
	}
	if (rc == 0 && !rr.text)
		rc = -EINVAL; /* a type without presentation form */
	r2136_buf_free(&b);
	*out = rc ? NULL : rr.text;
	if (rc)
		free(rr.text);
	return rc;
}

static int decode_rr(const uint8_t *raw, size_t len, size_t *off,
		     struct r2136_rr *rr, const char **why)
{
	char name[R2136_NAME_MAX];
	size_t p = *off;
	rr->off = p;
	if (r2136_get_name(raw, len, &p, 1, name, why))
		return -EPROTO;
	if (!(rr->name = strdup(name)))
		return -ENOMEM;
	size_t fixed = rr->section == R2136_QD ? 4 : 10;
	if (p + fixed > len)
		return *why = "record header runs past the end", -EPROTO;
	rr->type = r2136_get16(raw + p);
	rr->cls = r2136_get16(raw + p + 2);
	if (rr->section != R2136_QD) {
		rr->ttl = (uint32_t)r2136_get16(raw + p + 4) << 16 |
			  r2136_get16(raw + p + 6);
		rr->rdlen = r2136_get16(raw + p + 8);
	}
	p += fixed;
	rr->rdoff = p;
	if (p + rr->rdlen > len)
		return *why = "rdata runs past the end", -EPROTO;
	*off = p + rr->rdlen;
	return rdata_text(raw, rr, why);
}

void r2136_msg_free(struct r2136_msg *m)
{
	for (size_t i = 0; i < m->nrr; i++) {
		free(m->rr[i].name);
		free(m->rr[i].text);
	}
	free(m->rr);
	memset(m, 0, sizeof *m);
}

static int fail(struct r2136_msg *m, int rc, const char *what, char *why,
		size_t whylen)
{
	r2136_msg_free(m);
	if (why && whylen)
		snprintf(why, whylen, "%s", what);
	return rc;
}

int r2136_msg_decode(const uint8_t *raw, size_t len, struct r2136_msg *m,
		     char *why, size_t whylen)
{
	const char *w = "malformed";
	memset(m, 0, sizeof *m);
	if (len < 12)
		return fail(m, -EPROTO, "shorter than a DNS header", why, whylen);
	m->raw = raw;
	m->len = len;
	m->id = r2136_get16(raw);
	m->flags = r2136_get16(raw + 2);
	size_t total = 0;
	for (int s = 0; s < 4; s++) {
		m->count[s] = r2136_get16(raw + 4 + 2 * s);
		total += m->count[s];
	}
	/* Every RR takes at least 5 (question) or 11 bytes: refuse absurd
	 * counts before allocating for them. */
	if (total * 5 > len - 12)
		return fail(m, -EPROTO, "record counts exceed the message size", why, whylen);
	if (total && !(m->rr = calloc(total, sizeof *m->rr)))
		return fail(m, -ENOMEM, "out of memory", why, whylen);
	size_t off = 12;
	for (int s = 0; s < 4; s++)
		for (unsigned i = 0; i < m->count[s]; i++) {
			struct r2136_rr *rr = &m->rr[m->nrr++];
			rr->section = (uint8_t)s;
			int rc = decode_rr(raw, len, &off, rr, &w);
			if (rc)
				return fail(m, rc, rc == -ENOMEM ? "out of memory" : w,
					    why, whylen);
		}
	if (off != len)
		return fail(m, -EPROTO, "trailing bytes after the last record", why, whylen);
	return 0;
}
