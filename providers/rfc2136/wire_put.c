/* Writing DNS messages: names, header, rdata from presentation form. */
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void r2136_buf_free(struct r2136_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Room for `n` more bytes; DNS messages never exceed 64 KiB. */
static int reserve(struct r2136_buf *b, size_t n)
{
	if (b->err)
		return -1;
	if (b->len + n > R2136_MSG_MAX) {
		b->err = -EMSGSIZE;
		return -1;
	}
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap * 2 : 512;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void r2136_put_bytes(struct r2136_buf *b, const void *p, size_t n)
{
	if (reserve(b, n) == 0 && n) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

void r2136_put_u8(struct r2136_buf *b, uint8_t v)
{
	r2136_put_bytes(b, &v, 1);
}

void r2136_put_u16(struct r2136_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	r2136_put_bytes(b, x, 2);
}

void r2136_put_u32(struct r2136_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	r2136_put_bytes(b, x, 4);
}

void r2136_put_u48(struct r2136_buf *b, uint64_t v)
{
	r2136_put_u16(b, (uint16_t)(v >> 32));
	r2136_put_u32(b, (uint32_t)v);
}

void r2136_put_header(struct r2136_buf *b, uint16_t id, uint16_t flags,
		      uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	r2136_put_u16(b, id);
	r2136_put_u16(b, flags);
	r2136_put_u16(b, qd);
	r2136_put_u16(b, an);
	r2136_put_u16(b, ns);
	r2136_put_u16(b, ar);
}

/* One (possibly escaped) character of a name: "\DDD", "\X" or X. */
static int name_char(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	if (*p != '\\') {
		*s += 1;
		return tolower(*p);
	}
	if (isdigit(p[1]) && isdigit(p[2]) && isdigit(p[3])) {
		int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		*s += 4;
		return v > 255 ? -1 : tolower(v);
	}
	if (p[1] == 0)
		return -1;
	*s += 2;
	return tolower(p[1]);
}

int r2136_name_to_wire(const char *name, uint8_t *out)
{
	size_t n = 0;
	const char *s = name;
	if (strcmp(s, ".") == 0)
		s = "";
	while (*s) {
		size_t lab = n++;
		while (*s && *s != '.') {
			int c = name_char(&s);
			if (c < 0 || n >= R2136_WIRE_NAME_MAX - 1)
				return -EINVAL;
			out[n++] = (uint8_t)c;
		}
		size_t l = n - lab - 1;
		if (l == 0 || l > 63)
			return -EINVAL; /* empty label ("a..b") or too long */
		out[lab] = (uint8_t)l;
		if (*s == '.' && *++s == 0)
			break; /* a trailing dot is allowed */
	}
	out[n++] = 0;
	return (int)n;
}

void r2136_put_name(struct r2136_buf *b, const char *name)
{
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	int n = r2136_name_to_wire(name, w);
	if (n < 0) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	r2136_put_bytes(b, w, (size_t)n);
}

/* TXT: the text is split into character-strings of at most 255 bytes. */
static void put_txt(struct r2136_buf *b, const char *text)
{
	size_t n = strlen(text);
	do {
		size_t k = n > 255 ? 255 : n;
		r2136_put_u8(b, (uint8_t)k);
		r2136_put_bytes(b, text, k);
		text += k;
		n -= k;
	} while (n);
}

int r2136_put_rdata(struct r2136_buf *b, uint16_t type, const char *text)
{
	uint8_t a[16];
	size_t at = b->len;
	r2136_put_u16(b, 0); /* length, patched below */
	switch (type) {
	case 1:
		if (inet_pton(AF_INET, text, a) != 1)
			return -EINVAL;
		r2136_put_bytes(b, a, 4);
		break;
	case 28:
		if (inet_pton(AF_INET6, text, a) != 1)
			return -EINVAL;
		r2136_put_bytes(b, a, 16);
		break;
	case 16:
		if (strlen(text) > 65000)
			return -EINVAL;
		put_txt(b, text);
		break;
	case 2:
	case 5:
		/* A target, never the root: "" would write a bare 0 byte. */
		if (!*text || strcmp(text, ".") == 0)
			return -EINVAL;
		r2136_put_name(b, text);
		break;
	default:
		return -EINVAL;
	}
	if (b->err)
		return b->err;
	size_t rdlen = b->len - at - 2;
	b->p[at] = (uint8_t)(rdlen >> 8);
	b->p[at + 1] = (uint8_t)rdlen;
	return 0;
}
