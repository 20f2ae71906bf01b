/*
 * The engine's JSON → plain structs. Anything surprising (not JSON, wrong
 * types, missing fields, ids too long) is an error for the whole answer:
 * the core then keeps the record as it is, which beats guessing.
 */
#include "swarm.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *load_array(const char *body, size_t len, const char *what,
			  char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "engine sent malformed JSON for %s: %s",
			 what, je.text);
		return NULL;
	}
	if (!json_is_array(j)) {
		snprintf(err, errlen, "engine sent %s that is not a JSON array",
			 what);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* o[k1][k2] as a string, or NULL (missing or not a string). */
static const char *str_at(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);
	if (k2)
		v = json_object_get(v, k2);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Copies an optional string field: absent or null gives "", anything but
 * a string that fits is -1. */
static int copy_field(char *dst, size_t cap, json_t *o, const char *k1,
		      const char *k2)
{
	json_t *v = json_object_get(o, k1);
	if (k2)
		v = json_object_get(v, k2);
	dst[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	size_t n = json_string_length(v);
	if (n >= cap || strlen(json_string_value(v)) != n)
		return -1;
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

/* 0.0.0.0 and ::, which no client can connect to: never published. */
static int is_unspecified(const char *a, int fam)
{
	unsigned char b[sizeof(struct in6_addr)] = {0};
	inet_pton(fam, a, b);
	size_t n = fam == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return fam == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)b) &&
			       !(b[12] | b[13] | b[14] | b[15]);
	return 1;
}

static int is_loopback(const char *a, int fam)
{
	if (fam == AF_INET) {
		struct in_addr in;
		inet_pton(AF_INET, a, &in);
		return (ntohl(in.s_addr) >> 24) == 127;
	}
	struct in6_addr in6;
	inet_pton(AF_INET6, a, &in6);
	return IN6_IS_ADDR_LOOPBACK(&in6) ||
	       (IN6_IS_ADDR_V4MAPPED(&in6) && in6.s6_addr[12] == 127);
}

/* Whether an address the engine reports is the node's own: not an
 * unspecified one, a loopback one only when allowed (single-host labs). */
static int publishable(const char *a, int fam, int allow_lo)
{
	return !is_unspecified(a, fam) && (allow_lo || !is_loopback(a, fam));
}

/* Canonical text of `a` if it is an address of `fam`; else 0. */
static int canon(const char *a, int fam, char *out, size_t cap)
{
	unsigned char bin[sizeof(struct in6_addr)];
	if (!a || inet_pton(fam, a, bin) != 1)
		return 0;
	return inet_ntop(fam, bin, out, (socklen_t)cap) != NULL;
}

/* Host part of "ip:port" or "[ip6]:port" into out. */
static void host_part(const char *hp, char *out, size_t cap)
{
	out[0] = '\0';
	if (!hp)
		return;
	if (hp[0] == '[') {
		const char *e = strchr(hp, ']');
		if (e && (size_t)(e - hp - 1) < cap)
			snprintf(out, cap, "%.*s", (int)(e - hp - 1), hp + 1);
		return;
	}
	const char *c = strrchr(hp, ':');
	size_t n = c ? (size_t)(c - hp) : strlen(hp);
	if (n < cap)
		snprintf(out, cap, "%.*s", (int)n, hp);
}

/* An address learnt from the engine. Unspecified (Status.Addr is 0.0.0.0
 * on managers) or loopback means "look at the next source": that is a
 * choice of source, not a policy. Any other address is passed on as it is;
 * the core's address policy judges it. */
static int discovered(const char *a, int fam, int allow_lo, char *out,
		      size_t cap)
{
	return canon(a, fam, out, cap) && publishable(out, fam, allow_lo);
}

/* An address the operator gave (label, map): must be an address of its
 * family, or it is a problem to report rather than a reason to fall back
 * silently. Whether it may be published (loopback, multicast, link-local,
 * IPv4-mapped, ...) is the core's one address policy: it is passed on
 * unchanged, and the core refuses an unusable one naming the node. */
static int given(struct swarm_node *nd, const char *src, const char *a,
		 int fam, char *out, size_t cap)
{
	if (canon(a, fam, out, cap))
		return 0;
	snprintf(nd->problem, sizeof nd->problem,
		 "node %.40s: %.40s '%.40s' is not an %s address",
		 nd->host[0] ? nd->host : nd->id, src, a,
		 fam == AF_INET ? "IPv4" : "IPv6");
	return -1;
}

static void pick_family(const struct swarm_addrcfg *ac, struct swarm_node *nd,
			int fam, const char *label_val, const char *mgr,
			const char *st, char *out, size_t cap)
{
	char src[80];
	out[0] = '\0';
	if (label_val) {
		snprintf(src, sizeof src, "label %s",
			 fam == AF_INET ? ac->label4 : ac->label6);
		given(nd, src, label_val, fam, out, cap);
		return;
	}
	for (size_t i = 0; i < ac->nmap; i++) {
		if (ac->map[i].family != fam ||
		    strcasecmp(ac->map[i].host, nd->host) != 0)
			continue;
		char key[80];
		snprintf(key, sizeof key, "node.%.60s", ac->map[i].host);
		given(nd, key, ac->map[i].addr, fam, out, cap);
		return;
	}
	char h[INET6_ADDRSTRLEN + 8];
	host_part(mgr, h, sizeof h);
	if (discovered(h, fam, ac->allow_loopback, out, cap))
		return;
	if (!discovered(st, fam, ac->allow_loopback, out, cap))
		out[0] = '\0';
}

void swarm_pick_addrs(const struct swarm_addrcfg *ac, struct swarm_node *nd,
		      const char *label4_val, const char *label6_val,
		      const char *manager_addr, const char *status_addr)
{
	nd->problem[0] = '\0';
	pick_family(ac, nd, AF_INET, label4_val, manager_addr, status_addr,
		    nd->addr4, sizeof nd->addr4);
	pick_family(ac, nd, AF_INET6, label6_val, manager_addr, status_addr,
		    nd->addr6, sizeof nd->addr6);
	if (!nd->problem[0] && !nd->addr4[0] && !nd->addr6[0])
		snprintf(nd->problem, sizeof nd->problem,
			 "node %.40s has no usable address (give it a label %.30s "
			 "or a node.HOSTNAME = ADDRESS key)",
			 nd->host[0] ? nd->host : nd->id,
			 ac->label4 ? ac->label4 : "dnsfollow.ipv4");
}

int swarm_dns_name(swarm_normalise_fn normalise, const char *in, char *out,
		   size_t cap)
{
	/* Host names only (letters, digits, '-', '_'): a CNAME to a name
	 * with spaces or escapes is a mistake, not a node's name. */
	if (!normalise || !in ||
	    strspn(in, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789-_.") != strlen(in) ||
	    normalise(in, out, cap) != 0)
		return -1;
	const char *last = strrchr(out, '.');
	/* "node1" would become the TLD "node1.": a short host name given by
	 * mistake, not a target; "10.0.0.300" is a mistyped address. */
	if (!last || strspn(last + 1, "0123456789") == strlen(last + 1))
		return -1;
	return 0;
}

void swarm_pick_name(const struct swarm_addrcfg *ac, struct swarm_node *nd,
		     const char *label_val)
{
	nd->dns[0] = '\0';
	if (label_val) {
		if (swarm_dns_name(ac->normalise, label_val, nd->dns, sizeof nd->dns)) {
			nd->dns[0] = '\0';
			if (!nd->problem[0])
				snprintf(nd->problem, sizeof nd->problem,
					 "node %.40s: label %.40s '%.60s' is not a DNS name with "
					 "a dot", nd->host[0] ? nd->host : nd->id,
					 ac->label_name, label_val);
		}
		return;
	}
	for (size_t i = 0; i < ac->nmap; i++)
		if (ac->map[i].family == AF_UNSPEC &&
		    strcasecmp(ac->map[i].host, nd->host) == 0) {
			/* Checked when the configuration was read. */
			snprintf(nd->dns, sizeof nd->dns, "%s", ac->map[i].addr);
			return;
		}
}

static const char *label_of(json_t *node, const char *label)
{
	if (!label)
		return NULL;
	json_t *labels = json_object_get(json_object_get(node, "Spec"), "Labels");
	json_t *v = json_object_get(labels, label);
	if (!v)
		return NULL;
	/* A label that is there but not a string is still the operator's
	 * intent: report it rather than skip it. */
	return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

static int parse_node(json_t *o, const struct swarm_addrcfg *ac,
		      struct swarm_node *nd, size_t i, char *err, size_t errlen)
{
	memset(nd, 0, sizeof *nd);
	if (!json_is_object(o) || copy_field(nd->id, sizeof nd->id, o, "ID", NULL) ||
	    !nd->id[0]) {
		snprintf(err, errlen, "engine sent node #%zu without a valid ID", i);
		return -EPROTO;
	}
	if (copy_field(nd->host, sizeof nd->host, o, "Description", "Hostname")) {
		snprintf(err, errlen, "node %s: bad host name", nd->id);
		return -EPROTO;
	}
	const char *st = str_at(o, "Status", "State");
	const char *av = str_at(o, "Spec", "Availability");
	if (!st || !av) {
		snprintf(err, errlen, "engine sent node %s without %s", nd->id,
			 !st ? "Status.State" : "Spec.Availability");
		return -EPROTO;
	}
	nd->ready = strcmp(st, "ready") == 0;
	snprintf(nd->state, sizeof nd->state, "%s", st); /* for messages */
	for (char *c = nd->state; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	nd->active = strcmp(av, "active") == 0;
	swarm_pick_addrs(ac, nd, label_of(o, ac->label4), label_of(o, ac->label6),
			 str_at(o, "ManagerStatus", "Addr"),
			 str_at(o, "Status", "Addr"));
	swarm_pick_name(ac, nd, label_of(o, ac->label_name));
	return 0;
}

/* Parses one element of a JSON array into `elem`. */
typedef int (*parse_one_fn)(json_t *o, void *elem, size_t i, const void *ctx,
			    char *err, size_t errlen);

/* A JSON array of `what` into a fresh array of `size`-byte elements, each
 * made by `one`; any bad element fails the whole answer. */
static int parse_list(const char *body, size_t len, const char *what,
		      size_t size, parse_one_fn one, const void *ctx,
		      void **out, size_t *nout, char *err, size_t errlen)
{
	*out = NULL;
	*nout = 0;
	json_t *j = load_array(body, len, what, err, errlen);
	if (!j)
		return -EPROTO;
	size_t n = json_array_size(j);
	char *v = calloc(n ? n : 1, size);
	if (!v) {
		json_decref(j);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = one(json_array_get(j, i), v + i * size, i, ctx, err, errlen);
	json_decref(j);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int node_one(json_t *o, void *elem, size_t i, const void *ctx,
		    char *err, size_t errlen)
{
	return parse_node(o, ctx, elem, i, err, errlen);
}

int swarm_parse_nodes(const char *body, size_t len,
		      const struct swarm_addrcfg *ac, struct swarm_nodes *out,
		      char *err, size_t errlen)
{
	void *v;
	int rc = parse_list(body, len, "the node list", sizeof *out->v, node_one,
			    ac, &v, &out->n, err, errlen);
	out->v = v;
	return rc;
}

void swarm_nodes_free(struct swarm_nodes *n)
{
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

const struct swarm_node *swarm_nodes_find(const struct swarm_nodes *ns,
					  const char *id)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].id, id) == 0)
			return &ns->v[i];
	return NULL;
}

static int task_state(const char *s)
{
	static const char *done[] = {"complete", "shutdown", "failed",
				     "rejected", "remove", "orphaned"};
	if (strcmp(s, "running") == 0)
		return SWARM_TS_RUNNING;
	if (strcmp(s, "ready") == 0)
		return SWARM_TS_READY;
	for (size_t i = 0; i < sizeof done / sizeof *done; i++)
		if (strcmp(s, done[i]) == 0)
			return SWARM_TS_DONE;
	return SWARM_TS_OTHER;
}

static int parse_task(json_t *o, struct swarm_task *t, size_t i, char *err,
		      size_t errlen)
{
	memset(t, 0, sizeof *t);
	const char *d = json_is_object(o) ? str_at(o, "DesiredState", NULL) : NULL;
	const char *s = json_is_object(o) ? str_at(o, "Status", "State") : NULL;
	if (!d || !s) {
		snprintf(err, errlen,
			 "engine sent task #%zu without DesiredState or Status.State", i);
		return -EPROTO;
	}
	if (copy_field(t->node, sizeof t->node, o, "NodeID", NULL) ||
	    copy_field(t->service, sizeof t->service, o, "ServiceID", NULL)) {
		snprintf(err, errlen, "engine sent task #%zu with a bad NodeID or "
			 "ServiceID", i);
		return -EPROTO;
	}
	t->desired = task_state(d);
	t->state = task_state(s);
	return 0;
}

static int task_one(json_t *o, void *elem, size_t i, const void *ctx,
		    char *err, size_t errlen)
{
	(void)ctx;
	return parse_task(o, elem, i, err, errlen);
}

int swarm_parse_tasks(const char *body, size_t len, struct swarm_tasks *out,
		      char *err, size_t errlen)
{
	void *v;
	int rc = parse_list(body, len, "the task list", sizeof *out->v, task_one,
			    NULL, &v, &out->n, err, errlen);
	out->v = v;
	return rc;
}

void swarm_tasks_free(struct swarm_tasks *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const char *swarm_error_message(const char *body, size_t len, char *buf,
				size_t buflen)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	const char *m = str_at(j, "message", NULL);
	if (!m || buflen == 0) {
		json_decref(j);
		return NULL;
	}
	snprintf(buf, buflen, "%s", m);
	for (char *p = buf; *p; p++) /* one line, printable */
		if (!isprint((unsigned char)*p))
			*p = ' ';
	json_decref(j);
	return buf;
}

int swarm_parse_api_version(const char *s)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	long maj = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || maj > 999)
		return -1;
	long min = strtol(end + 1, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end || min > 999)
		return -1;
	return (int)(maj * 1000 + min);
}
