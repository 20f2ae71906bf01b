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
 * delete the A RRset first, whatever order the changes came in. What
 * the changeset does not delete is guarded by prerequisites (changes.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2136.h"

/* Room left for the TSIG RR: names up to 255 bytes twice, a 64-byte MAC. */
#define TSIG_RESERVE 640

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
				rs->name, r2136_type_text(h, rs->type));
	if (c->op != DNSFOLLOW_CHANGE_SET && c->op != DNSFOLLOW_CHANGE_DELETE)
		return h->error(h, -EINVAL, "%s: unknown change op %u", rs->name, c->op);
	/* The apex always holds SOA and NS: servers would drop the CNAME. */
	if (c->op == DNSFOLLOW_CHANGE_SET && rs->count && rs->type ==
	    DNSFOLLOW_TYPE_CNAME && r2136_name_eq(rs->name, zone))
		return h->error(h, -EEXIST, "%s: a CNAME cannot be at the zone apex "
				"(it would sit beside the SOA and NS)", rs->name);
	return 0;
}

/* The "delete RRset" RR of a change. Returns 1 (RR written) or the
 * buffer's error. */
static int put_delete(struct r2136_buf *b, struct r2136_cz *cz,
		      const struct dnsfollow_change *c)
{
	put_rr_head(b, cz, c->rrset.name, c->rrset.type, R2136_CLASS_ANY, 0);
	r2136_put_u16(b, 0);
	return b->err ? b->err : 1;
}

/* The prerequisites "RRset does not exist" (class NONE, RFC 2136
 * §2.4.3) that guard change c's name (changes.c); returns how many. */
static int put_guards(struct r2136_buf *b, struct r2136_cz *cz,
		      const struct dnsfollow_change *c, unsigned mask)
{
	int k = 0;
	for (unsigned t = 0; r2136_types[t]; t++)
		if (mask & (1u << t)) {
			put_rr_head(b, cz, c->rrset.name, r2136_types[t],
				    R2136_CLASS_NONE, 0);
			r2136_put_u16(b, 0);
			k++;
		}
	return b->err ? b->err : k;
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

/* The prerequisite (ANCOUNT's place) and update (NSCOUNT's) counts. */
static void set_counts(struct r2136_buf *b, size_t pre, size_t up)
{
	b->p[6] = (uint8_t)(pre >> 8);
	b->p[7] = (uint8_t)pre;
	b->p[8] = (uint8_t)(up >> 8);
	b->p[9] = (uint8_t)up;
}

/* Messages being built. Pass 1 (plan) checks every change and sizes
 * each group with names in full, which no compression can exceed, and
 * cuts the message list between groups; pass 2 (emit) then writes each
 * message with every prerequisite before every update, as RFC 2136
 * orders its sections, so its size is known to fit. */
struct building {
	struct r2136 *p;
	const char *zone;
	const struct r2136_build *how;
	const struct dnsfollow_change *changes;
	size_t n;
	struct r2136_shape sh;
	size_t failed;         /* the change at fault, or SIZE_MAX */
	struct r2136_updates *out;
};

/* Where the group at position i ends. */
static size_t group_end(const struct building *s, size_t i)
{
	size_t j = i;
	while (j < s->n && s->sh.gstart[j] == s->sh.gstart[i])
		j++;
	return j;
}

/* Write one part of positions [i, j) to b: 0 the prerequisites, 1 the
 * deletes, 2 the adds (each group's deletes go before its adds). Adds
 * the RRs written to *rrs. */
static int put_part(struct building *s, size_t i, size_t j, int part,
		    struct r2136_buf *b, struct r2136_cz *cz, size_t *rrs)
{
	for (size_t k = i; k < j; k++) {
		size_t x = s->sh.order[k];
		const struct dnsfollow_change *c = &s->changes[x];
		int r = part == 0 ? (s->sh.name_first[x] == x ?
				     put_guards(b, cz, c, s->sh.guard[x]) : 0) :
			part == 1 ? put_delete(b, cz, c) : put_adds(s->p, b, cz, c);
		if (r < 0) {
			s->failed = x;
			return r;
		}
		*rrs += (size_t)r;
	}
	return 0;
}

/* Pass 1 for the group at [i, j): its checks, and its size in full. */
static int size_group(struct building *s, size_t i, size_t j, size_t *len,
		      size_t *pre, size_t *up)
{
	struct r2136_buf g = {0};
	int rc = 0;
	*pre = *up = 0;
	for (size_t k = i; rc == 0 && k < j; k++)
		if ((rc = check_change(s->p, s->zone, &s->changes[s->sh.order[k]])))
			s->failed = s->sh.order[k];
	for (int part = 0; rc == 0 && part < 3; part++)
		rc = put_part(s, i, j, part, &g, NULL, part ? up : pre);
	*len = g.len;
	r2136_buf_free(&g);
	return rc;
}

static int add_cut(struct r2136_updates *u, size_t upto)
{
	size_t *t = realloc(u->upto, (u->nmsg + 1) * sizeof *t);
	if (!t)
		return -ENOMEM;
	u->upto = t;
	t[u->nmsg++] = upto;
	return 0;
}

/* Pass 1: cut the positions into messages (u->upto, u->nmsg). */
static int plan(struct building *s)
{
	struct r2136_buf m;
	start_msg(&m, s->zone, 1);
	const size_t head = m.len;
	r2136_buf_free(&m);
	size_t len = head, pre = 0, up = 0, i = 0;
	int rc = 0;
	while (rc == 0 && i < s->n) {
		size_t j = group_end(s, i), gl, gp, gu;
		if ((rc = size_group(s, i, j, &gl, &gp, &gu)))
			break;
		if (len > head && (len + gl > s->how->limit || pre + gp > 65535 ||
				   up + gu > 65535)) {
			rc = add_cut(s->out, i);
			len = head;
			pre = up = 0;
		}
		if (rc == 0 && (len + gl > s->how->limit || pre + gp > 65535 ||
				up + gu > 65535)) {
			s->failed = s->sh.order[i];
			rc = s->p->host->error(s->p->host, -EMSGSIZE, "the changes of %s "
					       "do not fit in one UPDATE message",
					       s->changes[s->sh.order[i]].rrset.name);
		}
		len += gl;
		pre += gp;
		up += gu;
		i = j;
	}
	if (rc == 0 && len > head)
		rc = add_cut(s->out, s->n);
	return rc;
}

/* Pass 2: message k, positions [from, to). */
static int emit(struct building *s, size_t from, size_t to, struct r2136_buf *m)
{
	struct r2136_cz cz, *czp = s->how->plain_names ? NULL : &cz;
	size_t pre = 0, up = 0;
	int rc = 0;
	start_msg(m, s->zone, s->how->id);
	r2136_cz_init(&cz, s->zone, 0);
	rc = put_part(s, from, to, 0, m, czp, &pre);
	for (size_t i = from, j; rc == 0 && i < to; i = j) {
		j = group_end(s, i);
		rc = put_part(s, i, j, 1, m, czp, &up);
		if (rc == 0)
			rc = put_part(s, i, j, 2, m, czp, &up);
	}
	if (rc == 0 && m->err)
		rc = m->err;
	if (rc == 0)
		set_counts(m, pre, up);
	return rc;
}

static int emit_all(struct building *s)
{
	struct r2136_updates *u = s->out;
	u->msg = calloc(u->nmsg ? u->nmsg : 1, sizeof *u->msg);
	if (!u->msg)
		return -ENOMEM;
	for (size_t k = 0; k < u->nmsg; k++) {
		int rc = emit(s, k ? u->upto[k - 1] : 0, u->upto[k], &u->msg[k]);
		if (rc)
			return s->p->host->error(s->p->host, rc, "cannot build the UPDATE "
						 "for %s", s->zone);
	}
	return 0;
}

int r2136_build_updates(struct r2136 *p, const char *zone,
			const struct dnsfollow_change *changes, size_t n,
			const struct r2136_build *how, struct r2136_updates *out)
{
	struct building s = {.p = p, .zone = zone, .how = how, .changes = changes,
			     .n = n, .failed = SIZE_MAX, .out = out};
	memset(out, 0, sizeof *out);
	int rc = r2136_shape(p, changes, n, how->groups, !how->unguarded, &s.sh,
			     &s.failed);
	if (rc == 0)
		rc = plan(&s);
	if (rc == 0)
		rc = emit_all(&s);
	if (rc == -ENOMEM)
		p->host->error(p->host, rc, "out of memory");
	out->order = s.sh.order; /* the caller's now */
	s.sh.order = NULL;
	r2136_shape_free(&s.sh);
	if (rc)
		r2136_updates_free(out); /* the caller gets nothing to free */
	out->failed = s.failed;
	return rc;
}

void r2136_updates_free(struct r2136_updates *u)
{
	for (size_t i = 0; u->msg && i < u->nmsg; i++)
		r2136_buf_free(&u->msg[i]);
	free(u->msg);
	free(u->order);
	free(u->upto);
	memset(u, 0, sizeof *u);
	u->failed = SIZE_MAX;
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
	p->update_server = NULL;
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
			/* For the zone cache: one server took every message. */
			p->update_server = i == 0 || p->update_server == r.server ?
					   r.server : NULL;
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
	/* Refused before sending: the change at fault is known, so the core
	 * can apply the others without it. */
	if (rc && u.failed < cs->n && rc != -ENOMEM &&
	    DNSFOLLOW_HAS(cs, struct dnsfollow_changeset, results))
		cs->results[u.failed] = rc;
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
