/*
 * apply(): the whole changeset of a zone in ONE UPDATE message (RFC 2136
 * §2–3), so records and their ownership markers change together. SET is
 * "delete RRset" (class ANY, TTL 0) followed by the new RRs; DELETE is the
 * delete alone. Only a changeset above 64 KiB is split, and then a record
 * and its `_dnsfollow.` marker are kept in the same message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

#define MARKER "_dnsfollow."
/* Room left for the TSIG RR: names up to 255 bytes twice, a 64-byte MAC. */
#define TSIG_RESERVE 640

struct ordered {
	const struct dnsfollow_change *c;
	const char *group; /* owner name without the marker label */
	size_t index;
};

static int cmp_group(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	int r = strcasecmp(x->group, y->group);
	if (r)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int supported_type(uint16_t t)
{
	return t == 1 || t == 28 || t == 16 || t == 5 || t == 2;
}

/* What a bad value is, for the error text. */
static const char *value_kind(uint16_t t)
{
	switch (t) {
	case 1:
		return "A value";
	case 28:
		return "AAAA value";
	case 16:
		return "TXT value";
	case 5:
		return "CNAME target";
	default:
		return "NS target";
	}
}

/* `cz` NULL writes every owner name in full. */
static void put_rr_head(struct r2136_buf *b, struct r2136_cz *cz,
			const char *name, uint16_t type, uint16_t cls, uint32_t ttl)
{
	if (cz)
		r2136_put_name_cz(b, cz, name);
	else
		r2136_put_name(b, name);
	r2136_put_u16(b, type);
	r2136_put_u16(b, cls);
	r2136_put_u32(b, ttl);
}

/* The checks that need no encoding; each failure with its text. */
static int check_change(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *c)
{
	const struct dnsfollow_rrset *rs = &c->rrset;
	const struct dnsfollow_host *h = p->host;
	uint8_t w[R2136_WIRE_NAME_MAX + 1];
	if (!rs->name || !r2136_in_zone(rs->name, zone))
		return h->error(h, -EINVAL, "name %s is not in zone %s",
				rs->name ? rs->name : "(null)", zone);
	if (r2136_name_to_wire(rs->name, w) < 0)
		return h->error(h, -EINVAL, "%s: not a valid DNS name", rs->name);
	if (!supported_type(rs->type))
		return h->error(h, -EINVAL, "%s: record type %u is not supported",
				rs->name, rs->type);
	if (c->op != DNSFOLLOW_CHANGE_SET && c->op != DNSFOLLOW_CHANGE_DELETE)
		return h->error(h, -EINVAL, "%s: unknown change op %u", rs->name, c->op);
	return 0;
}

/* One change as update RRs; returns how many, or an error with text
 * (-ENOMEM excepted: the caller says it once). */
static int put_change(struct r2136 *p, struct r2136_buf *b, struct r2136_cz *cz,
		      const char *zone, const struct dnsfollow_change *c)
{
	const struct dnsfollow_rrset *rs = &c->rrset;
	const struct dnsfollow_host *h = p->host;
	int rc = check_change(p, zone, c);
	if (rc)
		return rc;
	put_rr_head(b, cz, rs->name, rs->type, R2136_CLASS_ANY, 0);
	r2136_put_u16(b, 0);
	size_t adds = c->op == DNSFOLLOW_CHANGE_SET ? rs->count : 0;
	for (size_t i = 0; i < adds && !b->err; i++) {
		put_rr_head(b, cz, rs->name, rs->type, R2136_CLASS_IN, rs->ttl);
		if (r2136_put_rdata(b, rs->type, rs->rdata[i]) == -EINVAL)
			return h->error(h, -EINVAL, "%s: bad %s '%.80s'", rs->name,
					value_kind(rs->type), rs->rdata[i]);
	}
	if (b->err == -EMSGSIZE)
		return h->error(h, -EMSGSIZE, "the changes of %s do not fit in one "
				"UPDATE message", rs->name);
	return b->err ? b->err : (int)(1 + adds);
}

static void start_msg(struct r2136_buf *b, const char *zone, uint16_t id)
{
	memset(b, 0, sizeof *b);
	r2136_put_header(b, id ? id : r2136_new_id(), R2136_OP_UPDATE << 11, 1, 0,
			 0, 0);
	r2136_put_name(b, zone);
	r2136_put_u16(b, DNSFOLLOW_TYPE_SOA);
	r2136_put_u16(b, R2136_CLASS_IN);
}

static void set_upcount(struct r2136_buf *b, size_t up)
{
	b->p[8] = (uint8_t)(up >> 8);
	b->p[9] = (uint8_t)up;
}

static int add_msg(struct r2136_buf **out, size_t *nout, struct r2136_buf *b)
{
	struct r2136_buf *o = realloc(*out, (*nout + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	o[(*nout)++] = *b;
	*out = o;
	return 0;
}

/* Order changes so a record and its marker are neighbours. */
static struct ordered *order(const struct dnsfollow_change *changes, size_t n)
{
	struct ordered *o = calloc(n, sizeof *o);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *nm = changes[i].rrset.name ? changes[i].rrset.name : "";
		if (strncasecmp(nm, MARKER, strlen(MARKER)) == 0)
			nm += strlen(MARKER);
		o[i] = (struct ordered){&changes[i], nm, i};
	}
	qsort(o, n, sizeof *o, cmp_group);
	return o;
}

/* Encode one group (same `group`) starting at o[*i] into `g`, which
 * will be appended at offset `base` of the message. */
static int put_group(struct r2136 *p, const char *zone, struct ordered *o,
		     size_t n, size_t *i, size_t base, int plain,
		     struct r2136_buf *g, size_t *rrs)
{
	struct r2136_cz cz;
	size_t j = *i;
	memset(g, 0, sizeof *g);
	*rrs = 0;
	r2136_cz_init(&cz, zone, base);
	do {
		int k = put_change(p, g, plain ? NULL : &cz, zone, o[j].c);
		if (k < 0)
			return k;
		*rrs += (size_t)k;
		j++;
	} while (j < n && strcasecmp(o[j].group, o[*i].group) == 0);
	*i = j;
	return 0;
}

/* Messages being built: the one being filled and those done. */
struct building {
	struct r2136 *p;
	const char *zone;
	const struct r2136_build *how;
	struct r2136_buf m; /* being filled */
	size_t up;          /* its update RRs */
	struct r2136_buf *out;
	size_t nout;
};

/* Close the message being filled and start the next one. */
static int next_msg(struct building *s)
{
	if (s->m.err)
		return s->m.err;
	set_upcount(&s->m, s->up);
	int rc = add_msg(&s->out, &s->nout, &s->m);
	if (rc)
		return rc;
	start_msg(&s->m, s->zone, s->how->id);
	s->up = 0;
	return 0;
}

/* Append the group at o[*i] to the current message, or to a new one
 * when it does not fit. */
static int add_group(struct building *s, struct ordered *o, size_t n, size_t *i)
{
	struct r2136_buf g;
	size_t first = *i, rrs;
	int plain = s->how->plain_names;
	int rc = put_group(s->p, s->zone, o, n, i, s->m.len, plain, &g, &rrs);
	if (rc == 0 && s->m.len + g.len > s->how->limit && s->up > 0) {
		r2136_buf_free(&g);
		/* Pointers depend on where the group lands: encode again. */
		*i = first;
		if ((rc = next_msg(s)) == 0)
			rc = put_group(s->p, s->zone, o, n, i, s->m.len, plain, &g, &rrs);
	}
	if (rc == 0 && (s->m.len + g.len > s->how->limit || s->up + rrs > 65535))
		rc = s->p->host->error(s->p->host, -EMSGSIZE, "the changes of %s do "
				       "not fit in one UPDATE message", o[first].group);
	if (rc == 0) {
		r2136_put_bytes(&s->m, g.p, g.len);
		s->up += rrs;
	}
	r2136_buf_free(&g);
	return rc;
}

int r2136_build_updates(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *changes, size_t n,
			const struct r2136_build *how, struct r2136_buf **out,
			size_t *nout)
{
	struct building s = {.p = p, .zone = zone, .how = how};
	struct ordered *o = order(changes, n);
	size_t i = 0;
	int rc = o ? 0 : -ENOMEM;
	start_msg(&s.m, zone, how->id);
	while (rc == 0 && i < n)
		rc = add_group(&s, o, n, &i);
	if (rc == 0 && s.m.err)
		rc = p->host->error(p->host, s.m.err, "cannot build the UPDATE for %s",
				    zone);
	if (rc == 0 && s.up > 0)
		rc = next_msg(&s);
	r2136_buf_free(&s.m);
	if (rc == -ENOMEM)
		p->host->error(p->host, rc, "out of memory");
	free(o);
	if (rc) {
		/* The caller frees what it gets: leave it nothing. */
		r2136_free_updates(s.out, s.nout);
		s.out = NULL;
		s.nout = 0;
	}
	*out = s.out;
	*nout = s.nout;
	return rc;
}

void r2136_free_updates(struct r2136_buf *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		r2136_buf_free(&m[i]);
	free(m);
}

int r2136_apply(void *self, const char *zone,
		const struct dnsfollow_change *changes, size_t n)
{
	struct r2136 *p = self;
	struct r2136_buf *msgs;
	size_t nmsg, bytes = 0;
	if (n == 0)
		return 0;
	const struct r2136_build how = {.limit = R2136_MSG_MAX - TSIG_RESERVE};
	int rc = r2136_build_updates(p, zone, changes, n, &how, &msgs, &nmsg);
	for (size_t i = 0; rc == 0 && i < nmsg; i++) {
		struct r2136_reply r;
		char what[64];
		if (nmsg > 1)
			snprintf(what, sizeof what, "UPDATE (part %zu of %zu)", i + 1, nmsg);
		else
			snprintf(what, sizeof what, "UPDATE");
		p->stats.updates++;
		bytes += msgs[i].len;
		rc = r2136_send(p, &msgs[i], what, &r);
		if (rc == 0) {
			rc = r2136_judge(p, &r, what, zone, 0);
			r2136_reply_free(&r);
		}
		if (rc && i > 0)
			p->host->log(p->host, DNSFOLLOW_LOG_WARN, "zone %s: %zu of %zu "
				     "UPDATE messages were applied before the error", zone,
				     i, nmsg);
	}
	if (rc == 0)
		p->host->log(p->host, DNSFOLLOW_LOG_INFO, "zone %s: %zu change(s) "
			     "applied in %zu UPDATE message(s), %zu bytes", zone, n,
			     nmsg, bytes);
	r2136_zcache_updated(p, zone, changes, n, nmsg, rc == 0);
	r2136_free_updates(msgs, nmsg);
	return rc;
}
