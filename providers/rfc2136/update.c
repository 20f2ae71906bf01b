/*
 * apply(): the whole changeset of a zone in ONE UPDATE message (RFC 2136
 * §2–3), so records and their ownership markers change together. SET is
 * "delete RRset" (class ANY, TTL 0) followed by the new RRs; DELETE is the
 * delete alone. Only a changeset above 64 KiB is split, and then on the
 * core's group boundaries (cs->groups), so a marker and the records it
 * owns are never in different messages.
 *
 * Within a group every "delete RRset" goes before every add: servers
 * apply an UPDATE's RRs in order and ignore a CNAME added beside other
 * data (RFC 2136 §3.4.2.2), so switching a name from A to CNAME must
 * delete the A RRset first, whatever order the changes came in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

/* Room left for the TSIG RR: names up to 255 bytes twice, a 64-byte MAC. */
#define TSIG_RESERVE 640

/* A change's place while grouping: its group, where the group first
 * appears, and its own index. */
struct ent {
	uint32_t g;
	size_t first, index;
};

static int cmp_g(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int cmp_first(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

int r2136_type_ok(uint16_t t)
{
	for (const uint16_t *k = r2136_types; *k; k++)
		if (*k == t)
			return 1;
	return 0;
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
	default:
		return "CNAME target";
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

/* "TYPE99" or the host's name for it. */
static const char *type_text(const struct dnsfollow_host *h, uint16_t t)
{
	static __thread char buf[16];
	if (DNSFOLLOW_HOST_HAS(h, type_name))
		return h->type_name(t);
	snprintf(buf, sizeof buf, "TYPE%u", t);
	return buf;
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
	if (!r2136_type_ok(rs->type))
		return h->error(h, -EINVAL, "%s: record type %s is not supported",
				rs->name, type_text(h, rs->type));
	if (c->op != DNSFOLLOW_CHANGE_SET && c->op != DNSFOLLOW_CHANGE_DELETE)
		return h->error(h, -EINVAL, "%s: unknown change op %u", rs->name, c->op);
	return 0;
}

/* The "delete RRset" RR of a change, after its checks. Returns 1 (RR
 * written) or an error with text (-ENOMEM excepted: said once). */
static int put_delete(struct r2136 *p, struct r2136_buf *b, struct r2136_cz *cz,
		      const char *zone, const struct dnsfollow_change *c)
{
	int rc = check_change(p, zone, c);
	if (rc)
		return rc;
	put_rr_head(b, cz, c->rrset.name, c->rrset.type, R2136_CLASS_ANY, 0);
	r2136_put_u16(b, 0);
	return b->err ? b->err : 1;
}

/* The added RRs of a SET; returns how many, or an error as above. */
static int put_adds(struct r2136 *p, struct r2136_buf *b, struct r2136_cz *cz,
		    const struct dnsfollow_change *c)
{
	const struct dnsfollow_rrset *rs = &c->rrset;
	const struct dnsfollow_host *h = p->host;
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
	return b->err ? b->err : (int)adds;
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

/* The changes grouped: whole groups in the order their first change
 * came, each group's changes in their own order. `*first` gets, per
 * position, where its group starts in the changeset (equal values: one
 * group). No groups: everything is one group. */
static size_t *order(const uint32_t *groups, size_t n, size_t **first)
{
	struct ent *e = calloc(n, sizeof *e);
	size_t *o = calloc(n, sizeof *o), *f = calloc(n, sizeof *f);
	if (!e || !o || !f) {
		free(e);
		free(o);
		free(f);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		e[i] = (struct ent){groups ? groups[i] : 0, 0, i};
	qsort(e, n, sizeof *e, cmp_g);
	for (size_t i = 0; i < n; i++)
		e[i].first = i && e[i].g == e[i - 1].g ? e[i - 1].first : e[i].index;
	qsort(e, n, sizeof *e, cmp_first);
	for (size_t i = 0; i < n; i++) {
		o[i] = e[i].index;
		f[i] = e[i].first;
	}
	free(e);
	*first = f;
	return o;
}

/* Messages being built: the one being filled and those done. */
struct building {
	struct r2136 *p;
	const char *zone;
	const struct r2136_build *how;
	const struct dnsfollow_change *changes;
	size_t n;
	size_t *order, *first; /* see order() */
	struct r2136_buf m;    /* being filled */
	size_t up;             /* its update RRs */
	struct r2136_updates *out;
};

/* Encode the group at position *i into `g`, which will be appended at
 * offset `base` of the message: its deletes, then its adds. */
static int put_group(struct building *s, size_t *i, size_t base,
		     struct r2136_buf *g, size_t *rrs)
{
	struct r2136_cz cz, *czp = s->how->plain_names ? NULL : &cz;
	size_t j = *i;
	memset(g, 0, sizeof *g);
	*rrs = 0;
	r2136_cz_init(&cz, s->zone, base);
	while (j < s->n && s->first[j] == s->first[*i])
		j++;
	for (int adds = 0; adds < 2; adds++)
		for (size_t k = *i; k < j; k++) {
			const struct dnsfollow_change *c = &s->changes[s->order[k]];
			int r = adds ? put_adds(s->p, g, czp, c) :
				put_delete(s->p, g, czp, s->zone, c);
			if (r < 0)
				return r;
			*rrs += (size_t)r;
		}
	*i = j;
	return 0;
}

static int add_msg(struct r2136_updates *u, struct r2136_buf *b, size_t upto)
{
	struct r2136_buf *o = realloc(u->msg, (u->nmsg + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	u->msg = o;
	size_t *t = realloc(u->upto, (u->nmsg + 1) * sizeof *t);
	if (!t)
		return -ENOMEM;
	u->upto = t;
	o[u->nmsg] = *b;
	t[u->nmsg++] = upto;
	return 0;
}

/* Close the message being filled (it ends before position `upto`) and
 * start the next one. */
static int next_msg(struct building *s, size_t upto)
{
	if (s->m.err)
		return s->m.err;
	set_upcount(&s->m, s->up);
	int rc = add_msg(s->out, &s->m, upto);
	if (rc)
		return rc;
	start_msg(&s->m, s->zone, s->how->id);
	s->up = 0;
	return 0;
}

/* Append the group at position *i to the current message, or to a new
 * one when it does not fit. */
static int add_group(struct building *s, size_t *i)
{
	struct r2136_buf g;
	size_t at = *i, rrs;
	int rc = put_group(s, i, s->m.len, &g, &rrs);
	if (rc == 0 && s->m.len + g.len > s->how->limit && s->up > 0) {
		r2136_buf_free(&g);
		/* Pointers depend on where the group lands: encode again. */
		*i = at;
		if ((rc = next_msg(s, at)) == 0)
			rc = put_group(s, i, s->m.len, &g, &rrs);
	}
	if (rc == 0 && (s->m.len + g.len > s->how->limit || s->up + rrs > 65535))
		rc = s->p->host->error(s->p->host, -EMSGSIZE, "the changes of %s do "
				       "not fit in one UPDATE message",
				       s->changes[s->order[at]].rrset.name);
	if (rc == 0) {
		r2136_put_bytes(&s->m, g.p, g.len);
		s->up += rrs;
	}
	r2136_buf_free(&g);
	return rc;
}

int r2136_build_updates(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *changes, size_t n,
			const struct r2136_build *how, struct r2136_updates *out)
{
	struct building s = {.p = p, .zone = zone, .how = how, .changes = changes,
			     .n = n, .out = out};
	size_t i = 0;
	memset(out, 0, sizeof *out);
	s.order = n ? order(how->groups, n, &s.first) : NULL;
	int rc = n && !s.order ? -ENOMEM : 0;
	start_msg(&s.m, zone, how->id);
	while (rc == 0 && i < n)
		rc = add_group(&s, &i);
	if (rc == 0 && s.m.err)
		rc = p->host->error(p->host, s.m.err, "cannot build the UPDATE for %s",
				    zone);
	if (rc == 0 && s.up > 0)
		rc = next_msg(&s, n);
	r2136_buf_free(&s.m);
	if (rc == -ENOMEM)
		p->host->error(p->host, rc, "out of memory");
	free(s.first);
	out->order = s.order;
	if (rc)
		r2136_updates_free(out); /* the caller gets nothing to free */
	return rc;
}

void r2136_updates_free(struct r2136_updates *u)
{
	for (size_t i = 0; i < u->nmsg; i++)
		r2136_buf_free(&u->msg[i]);
	free(u->msg);
	free(u->order);
	free(u->upto);
	memset(u, 0, sizeof *u);
}

/* Message k went through: its changes are applied. */
static void mark_applied(const struct dnsfollow_changeset *cs,
			 const struct r2136_updates *u, size_t k)
{
	if (!DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		return;
	for (size_t j = k ? u->upto[k - 1] : 0; j < u->upto[k]; j++)
		cs->results[u->order[j]] = 0;
}

/* Send the messages in order, stopping at the first that fails: a
 * refused message leaves its changes' results unknown (nothing of it was
 * applied, but the server does not say which RR it objected to). */
static int send_all(struct r2136 *p, const struct dnsfollow_changeset *cs,
		    const struct r2136_updates *u, size_t *bytes)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < u->nmsg; i++) {
		struct r2136_reply r;
		char what[64];
		if (u->nmsg > 1)
			snprintf(what, sizeof what, "UPDATE (part %zu of %zu)", i + 1,
				 u->nmsg);
		else
			snprintf(what, sizeof what, "UPDATE");
		p->stats.updates++;
		*bytes += u->msg[i].len;
		rc = r2136_send(p, &u->msg[i], what, &r);
		if (rc == 0) {
			rc = r2136_judge(p, &r, what, cs->zone, 0);
			r2136_reply_free(&r);
		}
		if (rc == 0)
			mark_applied(cs, u, i);
		else if (i > 0)
			p->host->log(p->host, DNSFOLLOW_LOG_WARN, "zone %s: %zu of %zu "
				     "UPDATE messages were applied before the error",
				     cs->zone, i, u->nmsg);
	}
	return rc;
}

int r2136_apply(void *self, const struct dnsfollow_changeset *cs)
{
	struct r2136 *p = self;
	struct r2136_updates u;
	size_t bytes = 0;
	if (cs->n == 0)
		return 0;
	const struct r2136_build how = {
		.limit = R2136_MSG_MAX - TSIG_RESERVE,
		.groups = DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, groups) ?
			  cs->groups : NULL};
	int rc = r2136_build_updates(p, cs->zone, cs->changes, cs->n, &how, &u);
	if (rc == 0)
		rc = send_all(p, cs, &u, &bytes);
	if (rc == 0)
		p->host->log(p->host, DNSFOLLOW_LOG_INFO, "zone %s: %zu change(s) "
			     "applied in %zu UPDATE message(s), %zu bytes", cs->zone,
			     cs->n, u.nmsg, bytes);
	r2136_zcache_updated(p, cs->zone, cs->changes, cs->n, u.nmsg, rc == 0);
	r2136_updates_free(&u);
	return rc;
}
