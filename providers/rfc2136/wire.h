/*
 * DNS wire format (RFC 1035), just what dynamic update needs: a writer for
 * queries and UPDATE messages and a strict decoder that refuses every
 * malformed message instead of reading past its end.
 */
#ifndef R2136_WIRE_H
#define R2136_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define R2136_NAME_MAX 1024 /* presentation form incl. NUL, escapes incl. */
#define R2136_WIRE_NAME_MAX 255
#define R2136_MSG_MAX 65535

#define R2136_CLASS_IN 1
#define R2136_CLASS_NONE 254
#define R2136_CLASS_ANY 255
#define R2136_TYPE_TSIG 250
#define R2136_TYPE_AXFR 252
#define R2136_TYPE_ANY 255

#define R2136_OP_QUERY 0
#define R2136_OP_UPDATE 5

/* Header flag bits. */
#define R2136_F_QR 0x8000u
#define R2136_F_AA 0x0400u
#define R2136_F_TC 0x0200u

/* Sections, in message order. */
enum r2136_section { R2136_QD, R2136_AN, R2136_NS, R2136_AR };

/** A growable output buffer; `err` sticks once set (checked at the end). */
struct r2136_buf {
	uint8_t *p;
	size_t len, cap;
	int err; /* 0, -ENOMEM or -EMSGSIZE */
};

void r2136_buf_free(struct r2136_buf *b);
void r2136_put_u8(struct r2136_buf *b, uint8_t v);
void r2136_put_u16(struct r2136_buf *b, uint16_t v);
void r2136_put_u32(struct r2136_buf *b, uint32_t v);
void r2136_put_u48(struct r2136_buf *b, uint64_t v);
void r2136_put_bytes(struct r2136_buf *b, const void *p, size_t n);
/** Write a name given as text ("a.example.test", "" or "." = root),
 *  lower-cased and uncompressed. Bad names set err = -EINVAL. */
void r2136_put_name(struct r2136_buf *b, const char *name);
/** Write rdata (with its 2-byte length) for `type` from presentation
 *  form. Returns 0 or -EINVAL (bad value, unsupported type). */
int r2136_put_rdata(struct r2136_buf *b, uint16_t type, const char *text);

/** Name text to wire form into `out` (at least 255 bytes); returns the
 *  wire length or -EINVAL. Lower-cases (TSIG wants canonical names). */
int r2136_name_to_wire(const char *name, uint8_t *out);

/** Write a message header. */
void r2136_put_header(struct r2136_buf *b, uint16_t id, uint16_t flags,
		      uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar);

/** One decoded resource record (or question: ttl 0, no rdata). */
struct r2136_rr {
	uint8_t section;   /* enum r2136_section */
	uint16_t type, cls;
	uint32_t ttl;
	char *name;        /* lower-case, no trailing dot, "" = root (malloc'd) */
	size_t off;        /* where the RR starts in the message */
	size_t rdoff;      /* where its rdata starts */
	uint16_t rdlen;
	char *text;        /* presentation form for A, AAAA, TXT, CNAME, NS,
			      SOA; NULL for other types (malloc'd) */
	size_t textlen;    /* length of text (TXT may hold NUL bytes) */
};

/** A decoded message. Sections are flattened in `rr` in order. */
struct r2136_msg {
	uint16_t id, flags;
	uint16_t count[4];  /* QD, AN, NS, AR as in the header */
	struct r2136_rr *rr;
	size_t nrr;
	const uint8_t *raw; /* borrowed: the caller keeps the buffer */
	size_t len;
};

static inline unsigned r2136_rcode(const struct r2136_msg *m)
{
	return m->flags & 0x000fu;
}
static inline unsigned r2136_opcode(const struct r2136_msg *m)
{
	return (m->flags >> 11) & 0x0fu;
}

/**
 * Decode `len` bytes. On success fills `m` (release with r2136_msg_free)
 * and returns 0. On a malformed message returns -EPROTO and writes a short
 * reason to `why` (may be NULL); `m` then needs no release.
 */
int r2136_msg_decode(const uint8_t *raw, size_t len, struct r2136_msg *m,
		     char *why, size_t whylen);
void r2136_msg_free(struct r2136_msg *m);

/** Presentation form `text` of `type` as a read would give it back
 *  (encoded, then decoded: lower-case names without the final dot,
 *  canonical addresses) into a malloc'd `*out`. Returns 0, -EINVAL or
 *  -ENOMEM. */
int r2136_rdata_canon(uint16_t type, const char *text, char **out);

/** Read a name at `*off` of `raw` (compression allowed iff `compress`).
 *  Advances `*off` past the name in place. Returns 0 or -EPROTO. */
int r2136_get_name(const uint8_t *raw, size_t len, size_t *off, int compress,
		   char *out, const char **why);

/** 1 if two names are equal ignoring ASCII case. */
int r2136_name_eq(const char *a, const char *b);

/** 16-bit big-endian read without bounds check (caller checked). */
static inline uint16_t r2136_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

#endif
