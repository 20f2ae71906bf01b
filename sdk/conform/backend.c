/*
 * The backend checks: the resolve/watch contract of backend.h. The
 * backend runs as the daemon would run it, from one thread.
 */
#include "conform.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


struct seen {
	size_t n;
	char why[300];
};

/* backend.h's form of a placement: addresses parse, fields set. */
static int on_placement(void *ctx, const struct dnsfollow_placement *p)
{
	struct seen *s = ctx;
	unsigned char bin[16];
	s->n++;
	if (s->why[0])
		return 0;
	if (p->struct_size < offsetof(struct dnsfollow_placement, addrs) + sizeof p->addrs)
		snprintf(s->why, sizeof s->why, "placement struct_size %zu too small",
			 p->struct_size);
	else if (p->naddrs && !p->addrs)
		snprintf(s->why, sizeof s->why, "naddrs %zu but addrs is NULL", p->naddrs);
	for (size_t i = 0; !s->why[0] && i < p->naddrs; i++)
		if (!p->addrs[i] || (inet_pton(AF_INET, p->addrs[i], bin) != 1 &&
				     inet_pton(AF_INET6, p->addrs[i], bin) != 1))
			snprintf(s->why, sizeof s->why, "address '%s' is not an IP address",
				 p->addrs[i] ? p->addrs[i] : "(null)");
	return 0;
}

static struct dnsfollow_query query(const struct dfc *c, const char *service)
{
	struct dnsfollow_query q = {sizeof q, service, c->rec_kv, c->rec_nkv};
	return q;
}

static int resolve(struct dfc *c, const char *service, struct seen *s)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	struct dnsfollow_query q = query(c, service);
	memset(s, 0, sizeof *s);
	dfc_reset(c);
	return ops->resolve(c->self, &q, on_placement, s);
}

static void check_unknown_service(struct dfc *c)
{
	char svc[64], e[300];
	snprintf(svc, sizeof svc, "dfc-no-such-service-%ld", (long)getpid());
	struct seen s;
	int rc = resolve(c, svc, &s);
	if (s.why[0])
		dfc_diag("%s", s.why);
	dfc_ok(c, rc < 0 || s.n == 0,
	       "resolve() of an unknown service errs or reports nothing (rc %d, %zu placement(s))",
	       rc, s.n);
	if (rc < 0 && !dfc_error_text(c, e, sizeof e)[0]) {
		dfc_diag("resolve returned %d without an error text", rc);
		c->missing_error_text++;
	}
	if (rc < 0)
		dfc_diag("resolve: %d %s", rc, e);
}

static void check_known_service(struct dfc *c)
{
	const char *desc = "resolve() of --service succeeds with well-formed placements";
	if (!c->service) {
		dfc_skip(c, "no --service given", "%s", desc);
		return;
	}
	struct seen s;
	char e[300];
	int rc = resolve(c, c->service, &s);
	if (rc < 0)
		dfc_diag("resolve(%s): %d %s", c->service, rc, dfc_error_text(c, e, sizeof e));
	if (s.why[0])
		dfc_diag("%s", s.why);
	dfc_diag("%s: %zu placement(s)", c->service, s.n);
	dfc_ok(c, rc == 0 && !s.why[0], "%s", desc);
}

static void check_query(struct dfc *c)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	const char *desc = "check_query() accepts a record with the default options";
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, check_query)) {
		dfc_skip(c, "no check_query op", "%s", desc);
		return;
	}
	struct dnsfollow_query q = query(c, c->service ? c->service : "dfc-service");
	char e[300];
	dfc_reset(c);
	int rc = ops->check_query(c->self, &q);
	if (rc)
		dfc_diag("check_query: %d %s", rc, dfc_error_text(c, e, sizeof e));
	dfc_ok(c, rc == 0, "%s", desc);
}

static void check_watch_set(struct dfc *c)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	const char *desc = "watch_set() accepts the queries of a config";
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_set)) {
		dfc_skip(c, "no watch_set op", "%s", desc);
		return;
	}
	struct dnsfollow_query q1 = query(c, "dfc-no-such-service");
	struct dnsfollow_query q2 = query(c, c->service ? c->service : "dfc-service");
	const struct dnsfollow_query *qs[] = {&q1, &q2};
	char e[300];
	dfc_reset(c);
	int rc = ops->watch_set(c->self, qs, 2);
	if (rc == 0)
		rc = ops->watch_set(c->self, qs, 0); /* a reload may empty it */
	if (rc)
		dfc_diag("watch_set: %d %s", rc, dfc_error_text(c, e, sizeof e));
	dfc_ok(c, rc == 0, "%s (two queries, then none)", desc);
}

/* watch_fd is asked once; the fd stays open and usable until destroy. */
static void check_watch(struct dfc *c)
{
	const struct dnsfollow_backend_ops *ops = c->plugin->ops;
	const char *desc = "watch_fd() is -1 or an fd that stays open; watch_ack() answers 0 or 1";
	if (!DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_fd) ||
	    !DNSFOLLOW_HAS(ops, struct dnsfollow_backend_ops, watch_ack)) {
		dfc_skip(c, "no watch_fd/watch_ack op", "%s", desc);
		return;
	}
	char why[200] = "";
	int fd = ops->watch_fd(c->self);
	if (fd < -1 || (fd >= 0 && fcntl(fd, F_GETFD) < 0))
		snprintf(why, sizeof why, "watch_fd() returned %d, not an open fd", fd);
	struct seen s;
	if (!why[0] && fd >= 0) {
		resolve(c, c->service ? c->service : "dfc-no-such-service", &s);
		check_watch_set(c);
		struct pollfd p = {fd, POLLIN, 0};
		if (fcntl(fd, F_GETFD) < 0)
			snprintf(why, sizeof why, "fd %d was closed by later calls", fd);
		else if (poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
			int a = ops->watch_ack(c->self);
			if (a != 0 && a != 1)
				snprintf(why, sizeof why, "watch_ack() returned %d", a);
		}
	} else {
		check_watch_set(c);
	}
	if (why[0])
		dfc_diag("%s", why);
	dfc_ok(c, !why[0], "%s", desc);
}

void dfc_backend_checks(struct dfc *c)
{
	check_unknown_service(c);
	check_known_service(c);
	check_query(c);
	check_watch(c);
	dfc_backend_source_checks(c);
	dfc_ok(c, c->missing_error_text == 0, "every failing op set an error text");
}
