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

static void put_rr_head(struct r2136_buf *b, struct r2136_cz *cz,
			const char *name, uint16_t type, uint16_t cls, uint32_t ttl)
{
	r2136_put_name_cz(b, cz, name);
	r2136_put_u16(b, type);
	r2136_put_u16(b, cls);
	r2136_put_u32(b, ttl);
}

/* One change as update RRs; returns how many, or an error with text. */
static int put_change(struct r2136 *p, struct r2136_buf *b, struct r2136_cz *cz,
		      const char *zone, const struct dnsfollow_change *c)
{
	const struct dnsfollow_rrset *rs = &c->rrset;
	const struct dnsfollow_host *h = p->host;
	if (!rs->name || !r2136_in_zone(rs->name, zone))
		return h->error(h, -EINVAL, "name %s is not in zone %s",
				rs->name ? rs->name : "(null)", zone);
	if (!supported_type(rs->type))
		return h->error(h, -EINVAL, "%s: record type %u is not supported",
				rs->name, rs->type);
	if (c->op != DNSFOLLOW_CHANGE_SET && c->op != DNSFOLLOW_CHANGE_DELETE)
		return h->error(h, -EINVAL, "%s: unknown change op %u", rs->name, c->op);
	put_rr_head(b, cz, rs->name, rs->type, R2136_CLASS_ANY, 0);
	r2136_put_u16(b, 0);
	if (c->op == DNSFOLLOW_CHANGE_DELETE)
		return b->err ? b->err : 1;
	for (size_t i = 0; i < rs->count; i++) {
		put_rr_head(b, cz, rs->name, rs->type, R2136_CLASS_IN, rs->ttl);
		if (r2136_put_rdata(b, rs->type, rs->rdata[i]) && !b->err)
			return h->error(h, -EINVAL, "%s: bad %s value '%.80s'", rs->name,
					rs->type == 1 ? "A" : rs->type == 28 ? "AAAA" :
					rs->type == 16 ? "TXT" : "name", rs->rdata[i]);
	}
	if (b->err == -EINVAL)
		return h->error(h, -EINVAL, "%s: not a valid DNS name", rs->name);
	return b->err ? b->err : (int)(1 + rs->count);
}

static void start_msg(struct r2136_buf *b, const char *zone)
{
	memset(b, 0, sizeof *b);
	r2136_put_header(b, r2136_new_id(), R2136_OP_UPDATE << 11, 1, 0, 0, 0);
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
		     size_t n, size_t *i, size_t base, struct r2136_buf *g,
		     size_t *rrs)
{
	struct r2136_cz cz;
	size_t j = *i;
	memset(g, 0, sizeof *g);
	*rrs = 0;
	r2136_cz_init(&cz, zone, base);
	do {
		int k = put_change(p, g, &cz, zone, o[j].c);
		if (k < 0)
			return k;
		*rrs += (size_t)k;
		j++;
	} while (j < n && strcasecmp(o[j].group, o[*i].group) == 0);
	*i = j;
	return 0;
}

int r2136_build_updates(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *changes, size_t n,
			size_t limit, struct r2136_buf **out, size_t *nout)
{
	struct ordered *o = order(changes, n);
	struct r2136_buf m, g;
	size_t up = 0, i = 0, rrs;
	int rc = o ? 0 : -ENOMEM;
	*out = NULL;
	*nout = 0;
	start_msg(&m, zone);
	while (rc == 0 && i < n) {
		size_t first = i;
		if ((rc = put_group(p, zone, o, n, &i, m.len, &g, &rrs)) != 0) {
			r2136_buf_free(&g);
			break;
		}
		if (m.len + g.len > limit && up > 0) {
			set_upcount(&m, up);
			if ((rc = add_msg(out, nout, &m)) != 0)
				break;
			start_msg(&m, zone);
			up = 0;
			/* Pointers depend on where the group lands: encode again. */
			r2136_buf_free(&g);
			i = first;
			if ((rc = put_group(p, zone, o, n, &i, m.len, &g, &rrs)) != 0) {
				r2136_buf_free(&g);
				break;
			}
		}
		if (m.len + g.len > limit || up + rrs > 65535)
			rc = p->host->error(p->host, -EMSGSIZE, "the changes of %s do not "
					    "fit in one UPDATE message", o[i - 1].group);
		r2136_put_bytes(&m, g.p, g.len);
		up += rrs;
		r2136_buf_free(&g);
	}
	if (rc == 0 && m.err)
		rc = p->host->error(p->host, m.err, "cannot build the UPDATE for %s", zone);
	if (rc == 0 && up > 0) {
		set_upcount(&m, up);
		rc = add_msg(out, nout, &m);
	} else {
		r2136_buf_free(&m);
	}
	if (rc == -ENOMEM)
		p->host->error(p->host, rc, "out of memory");
	free(o);
	if (rc)
		r2136_free_updates(*out, *nout);
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
	int rc = r2136_build_updates(p, zone, changes, n,
				     R2136_MSG_MAX - TSIG_RESERVE, &msgs, &nmsg);
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
	r2136_free_updates(msgs, nmsg);
	return rc;
}
