/* apply()'s messages: one UPDATE per zone with the whole changeset, the
 * right classes and TTLs, split only above the size limit and only
 * between the core's groups; each group's deletes before its adds; a
 * CNAME target written in full; bad input refused clearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"
#include "harness.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

struct fx {
	const struct dnsfollow_host *h;
	struct r2136 *p;
};

static int setup(void **st)
{
	static const char *const kv[] = {
		"server=127.0.0.1:9", "key_name=k", "key_secret=c2VjcmV0c2VjcmV0", NULL};
	struct dnsfollow_kv cfg[16];
	struct fx *f = calloc(1, sizeof *f);
	f->h = testhost_new("t");
	size_t n = typed_kv(cfg, 16, kv);
	assert_int_equal(dnsfollow_plugin.create(f->h, cfg, n, (void **)&f->p), 0);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	dnsfollow_plugin.destroy(f->p);
	testhost_free(f->h);
	free(f);
	return 0;
}

static const char *const ip1[] = {"192.0.2.10", "192.0.2.11"};
static const char *const own[] = {"heritage=dnsfollow,owner=o"};

static struct dnsfollow_change set(const char *name, uint16_t type,
				   const char *const *rd, size_t n)
{
	return (struct dnsfollow_change){.op = DNSFOLLOW_CHANGE_SET,
		.rrset = {.name = name, .type = type, .ttl = 60, .count = n, .rdata = rd}};
}

/* Each change its own group, for build(..., NULL). */
static const uint32_t *own_groups(size_t n)
{
	static uint32_t g[8192];
	assert_true(n <= 8192);
	for (size_t i = 0; i < n; i++)
		g[i] = (uint32_t)i;
	return g;
}

/* Build with `groups` (NULL: each change its own group). */
static int build_g(struct fx *f, const struct dnsfollow_change *c, size_t n,
		   size_t limit, const uint32_t *groups, struct r2136_updates *u)
{
	const struct r2136_build how = {.limit = limit,
					.groups = groups ? groups : own_groups(n)};
	return r2136_build_updates(f->p, "example.test", c, n, &how, u);
}

static int build(struct fx *f, const struct dnsfollow_change *c, size_t n,
		 size_t limit, struct r2136_updates *u)
{
	return build_g(f, c, n, limit, NULL, u);
}

static struct dnsfollow_change del(const char *name, uint16_t type)
{
	return (struct dnsfollow_change){.op = DNSFOLLOW_CHANGE_DELETE,
		.rrset = {.name = name, .type = type}};
}

static void test_one_message(void **st)
{
	struct fx *f = *st;
	struct dnsfollow_change c[] = {
		set("git.example.test", 1, ip1, 2),
		set("_dnsfollow.git.example.test", 16, own, 1),
		del("old.example.test", 28),
	};
	struct r2136_updates u;
	assert_int_equal(build(f, c, 3, 65000, &u), 0);
	assert_int_equal(u.nmsg, 1);
	struct r2136_msg d;
	assert_int_equal(r2136_msg_decode(u.msg[0].p, u.msg[0].len, &d, NULL, 0), 0);
	assert_int_equal(r2136_opcode(&d), 5);
	assert_int_equal(d.count[0], 1);           /* zone */
	assert_int_equal(d.count[1], 2);           /* no CNAME at git, marker */
	assert_int_equal(d.count[2], 2 + 1 + 2 + 1); /* del+2 adds, del+add, del */
	assert_string_equal(d.rr[0].name, "example.test");
	assert_int_equal(d.rr[0].type, 6);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(d.rr[i].section, R2136_AN);
		assert_int_equal(d.rr[i].type, 5);
		assert_int_equal(d.rr[i].cls, 254);
		assert_int_equal(d.rr[i].rdlen, 0);
	}
	/* git: delete RRset (ANY, TTL 0, no rdata), then two IN adds */
	int seen_git = 0, seen_old = 0, seen_own = 0;
	for (size_t i = 3; i < d.nrr; i++) {
		struct r2136_rr *r = &d.rr[i];
		if (strcmp(r->name, "git.example.test") == 0) {
			if (seen_git++ == 0) {
				assert_int_equal(r->cls, 255);
				assert_int_equal(r->ttl, 0);
				assert_int_equal(r->rdlen, 0);
			} else {
				assert_int_equal(r->cls, 1);
				assert_int_equal(r->ttl, 60);
			}
		} else if (strcmp(r->name, "old.example.test") == 0) {
			seen_old++;
			assert_int_equal(r->cls, 255);
			assert_int_equal(r->type, 28);
			assert_int_equal(r->rdlen, 0);
		} else if (r->cls == 1) {
			seen_own++;
			assert_string_equal(r->text, own[0]);
		}
	}
	assert_int_equal(seen_git, 3);
	assert_int_equal(seen_old, 1);
	assert_int_equal(seen_own, 1);
	r2136_msg_free(&d);
	r2136_updates_free(&u);
}

/* The message (index into u->msg) holding change `i`. */
static size_t msg_of(const struct r2136_updates *u, size_t i)
{
	for (size_t k = 0, j = 0; k < u->nmsg; k++)
		for (; j < u->upto[k]; j++)
			if (u->order[j] == i)
				return k;
	fail_msg("change %zu is in no message", i);
	return 0;
}

/* 40 groups of a marker and two records at other names (so no name
 * tells the group), given scrambled, with a limit that forces several
 * messages: every message holds whole groups, groups keep the order of
 * their first change, and every change is sent once. */
static void test_split_keeps_groups(void **st)
{
	struct fx *f = *st;
	enum { N = 40 };
	char names[N][3][64];
	struct dnsfollow_change c[3 * N];
	uint32_t g[3 * N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i][0], 64, "_dnsfollow.h%d.example.test", i);
		snprintf(names[i][1], 64, "h%d.example.test", i);
		snprintf(names[i][2], 64, "other%d.example.test", i);
		c[i] = set(names[i][0], 16, own, 1);
		c[2 * N + i] = set(names[i][1], 1, ip1, 1);
		c[2 * N - 1 - i] = set(names[i][2], 1, ip1, 1);
		/* c[N + k] is other(N-1-k), c[2N + k] is h(k) */
		g[i] = g[2 * N + i] = g[2 * N - 1 - i] = 1000u + (uint32_t)i * 7u;
	}
	struct r2136_updates u;
	assert_int_equal(build_g(f, c, 3 * N, 600, g, &u), 0);
	assert_true(u.nmsg > 3);
	assert_int_equal(u.upto[u.nmsg - 1], 3 * N);
	for (int i = 0; i < N; i++) {
		size_t k = msg_of(&u, (size_t)i);
		assert_int_equal(msg_of(&u, (size_t)(2 * N + i)), k);
		assert_int_equal(msg_of(&u, (size_t)(2 * N - 1 - i)), k);
		if (i)
			assert_true(msg_of(&u, (size_t)(i - 1)) <= k);
	}
	size_t total = 0;
	for (size_t k = 0; k < u.nmsg; k++) {
		struct r2136_msg d;
		assert_true(u.msg[k].len <= 600);
		assert_int_equal(r2136_msg_decode(u.msg[k].p, u.msg[k].len, &d, NULL, 0), 0);
		/* zone, then per change a delete and an add */
		size_t first = k ? u.upto[k - 1] : 0;
		assert_int_equal(d.count[2], 2 * (u.upto[k] - first));
		total += u.upto[k] - first;
		r2136_msg_free(&d);
	}
	assert_int_equal(total, 3 * N);
	r2136_updates_free(&u);
}

/* A group's "delete RRset" RRs go before its adds: a server ignores a
 * CNAME added while other data sits at the name (RFC 2136 §3.4.2.2), so
 * an A → CNAME switch given as (SET CNAME, DELETE A) must still delete
 * the A first. The target is written in full and read back as a name
 * without the trailing dot. */
static void test_cname_switch(void **st)
{
	struct fx *f = *st;
	static const char *const target[] = {"Node-1.Hosts.Example.Net."};
	const struct dnsfollow_change c[] = {
		set("_dnsfollow.x.example.test", 16, own, 1),
		set("x.example.test", 5, target, 1),
		del("x.example.test", 1),
	};
	const uint32_t g[] = {3, 3, 3};
	struct r2136_updates u;
	assert_int_equal(build_g(f, c, 3, 65000, g, &u), 0);
	assert_int_equal(u.nmsg, 1);
	struct r2136_msg d;
	assert_int_equal(r2136_msg_decode(u.msg[0].p, u.msg[0].len, &d, NULL, 0), 0);
	assert_int_equal(d.count[1], 3);
	assert_int_equal(d.count[2], 5);
	char seq[200] = "";
	for (size_t i = 1; i < d.nrr; i++)
		snprintf(seq + strlen(seq), sizeof seq - strlen(seq), "%u/%u ",
			 d.rr[i].type, d.rr[i].cls);
	/* prerequisites: no CNAME at the marker; no AAAA and no TXT at x (its
	 * A is deleted here); then the deletes, then the adds */
	assert_string_equal(seq, "5/254 28/254 16/254 16/255 5/255 1/255 16/1 5/1 ");
	struct r2136_rr *cn = &d.rr[8];
	assert_string_equal(cn->text, "node-1.hosts.example.net");
	/* uncompressed: 6 node-1 5 hosts 7 example 3 net 0 */
	assert_int_equal(cn->rdlen, 1 + 6 + 1 + 5 + 1 + 7 + 1 + 3 + 1);
	assert_memory_equal(u.msg[0].p + cn->rdoff, "\006node-1", 7);
	r2136_msg_free(&d);
	r2136_updates_free(&u);
	/* an empty target is no name */
	static const char *const empty[] = {""};
	const struct dnsfollow_change e = set("y.example.test", 5, empty, 1);
	assert_int_equal(build(f, &e, 1, 65000, &u), -EINVAL);
	assert_string_equal(testhost_error(f->h), "y.example.test: bad CNAME target ''");
}

/* The prerequisites of each name, as "TYPE/CLASS" of section 1. */
static void prereqs(struct fx *f, const struct dnsfollow_change *c, size_t n,
		    const char *want)
{
	struct r2136_updates u;
	struct r2136_msg d;
	char got[200] = "";
	assert_int_equal(build(f, c, n, 65000, &u), 0);
	assert_int_equal(r2136_msg_decode(u.msg[0].p, u.msg[0].len, &d, NULL, 0), 0);
	for (size_t i = 1; i < d.nrr; i++)
		if (d.rr[i].section == R2136_AN)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s %u/%u;",
				 d.rr[i].name, d.rr[i].type, d.rr[i].cls);
	assert_string_equal(got, want);
	r2136_msg_free(&d);
	r2136_updates_free(&u);
}

/* CNAME exclusivity: servers silently ignore a CNAME added beside other
 * data and data added beside a CNAME (and answer NOERROR), so each add
 * carries "RRset does not exist" prerequisites for what it cannot sit
 * beside, unless the changeset deletes or sets it at that name; a
 * changeset setting a CNAME and other data at one name is refused here,
 * naming the CNAME as the change at fault. */
static void test_guards(void **st)
{
	struct fx *f = *st;
	static const char *const tgt[] = {"t.example.net"};
	const struct dnsfollow_change a = set("a.example.test", 1, ip1, 1);
	prereqs(f, &a, 1, "a.example.test 5/254;");
	const struct dnsfollow_change cn = set("c.example.test", 5, tgt, 1);
	prereqs(f, &cn, 1, "c.example.test 1/254;c.example.test 28/254;"
		"c.example.test 16/254;");
	/* deletes need no guard; a CNAME replacing the A and AAAA there
	 * guards only TXT; data replacing a CNAME (deleted) needs none */
	const struct dnsfollow_change mix[] = {
		del("d.example.test", 1), set("c.example.test", 5, tgt, 1),
		del("c.example.test", 1), del("c.example.test", 28),
		set("e.example.test", 28, (const char *const[]){"2001:db8::1"}, 1),
		del("e.example.test", 5)};
	prereqs(f, mix, 6, "c.example.test 16/254;");
	/* what read() found (old) proves the conflict absent: a replaced A
	 * or CNAME needs no guard; a CNAME replacing an A still guards the
	 * types the changeset does not touch */
	const struct dnsfollow_rrset olda = {.name = "h.example.test", .type = 1,
					     .ttl = 60, .count = 1, .rdata = ip1};
	const struct dnsfollow_rrset oldc = {.name = "c.example.test", .type = 5,
					     .ttl = 60, .count = 1, .rdata = tgt};
	struct dnsfollow_change held[] = {set("h.example.test", 1, ip1, 2),
					  set("c.example.test", 5, tgt, 1),
					  set("k.example.test", 5, tgt, 1),
					  del("k.example.test", 1)};
	held[0].old = &olda;
	held[1].old = &oldc;
	held[3].old = &olda;
	prereqs(f, held, 4, "k.example.test 28/254;k.example.test 16/254;");
	/* the case of a name does not make it another name */
	const struct dnsfollow_change mixed_case[] = {
		set("C.Example.Test", 5, tgt, 1), del("c.example.test", 1)};
	prereqs(f, mixed_case, 2, "c.example.test 28/254;c.example.test 16/254;");
	const struct dnsfollow_change both[] = {
		set("_dnsfollow.z.example.test", 16, own, 1),
		set("z.example.test", 1, ip1, 1), set("z.example.test", 5, tgt, 1)};
	struct r2136_updates u;
	assert_int_equal(build(f, both, 3, 65000, &u), -EEXIST);
	assert_int_equal(u.failed, 2);
	assert_non_null(strstr(testhost_error(f->h), "z.example.test: a CNAME "
			       "cannot sit beside other data ("));
	/* apply(): nothing sent, the CNAME's result says why */
	int res[3];
	assert_int_equal(apply_cs(f->p, "example.test", both, 3, res,
				  (const uint32_t[]){1, 1, 1}), -EEXIST);
	assert_int_equal(res[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(res[1], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(res[2], -EEXIST);
	assert_int_equal(f->p->stats.messages, 0);
	/* the apex holds SOA and NS: no CNAME there */
	const struct dnsfollow_change apex = set("example.test", 5, tgt, 1);
	assert_int_equal(build(f, &apex, 1, 65000, &u), -EEXIST);
	assert_string_equal(testhost_error(f->h), "example.test: a CNAME cannot be "
			    "at the zone apex (it would sit beside the SOA and NS)");
	/* a bad value is the change at fault too */
	static const char *const bad[] = {"192.0.2.300"};
	const struct dnsfollow_change bv[] = {set("a.example.test", 1, ip1, 1),
					      set("b.example.test", 1, bad, 1)};
	assert_int_equal(apply_cs(f->p, "example.test", bv, 2, res, NULL), -EINVAL);
	assert_int_equal(res[0], DNSFOLLOW_RESULT_UNKNOWN);
	assert_int_equal(res[1], -EINVAL);
}

static void test_refusals(void **st)
{
	struct fx *f = *st;
	struct r2136_updates u;
	struct dnsfollow_change c = set("x.fooexample.test", 1, ip1, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_non_null(strstr(testhost_error(f->h), "not in zone example.test"));
	static const char *const bad[] = {"192.0.2.300"};
	c = set("x.example.test", 1, bad, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_non_null(strstr(testhost_error(f->h), "bad A value '192.0.2.300'"));
	c = set("x.example.test", 99, ip1, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_non_null(strstr(testhost_error(f->h), "not supported"));
	c = set("a..example.test", 1, ip1, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_non_null(strstr(testhost_error(f->h), "not a valid DNS name"));
	/* one group larger than the limit */
	c = set("x.example.test", 1, ip1, 2);
	assert_int_equal(build(f, &c, 1, 60, &u), -EMSGSIZE);
	assert_non_null(strstr(testhost_error(f->h), "do not fit"));
}

/* A failure after the changeset was already split into several messages
 * leaves the caller nothing to free (it used to free them twice). */
static void test_failure_after_split(void **st)
{
	struct fx *f = *st;
	enum { N = 4000 };
	static const char *const bad[] = {"192.0.2.300"};
	char (*names)[32] = calloc(N, sizeof *names);
	struct dnsfollow_change *c = calloc(N + 1, sizeof *c);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "h%04d.example.test", i);
		c[i] = set(names[i], 1, ip1, 1);
	}
	c[N] = set("zz.example.test", 1, bad, 1); /* sorts last */
	struct r2136_updates u;
	c[40] = c[N]; /* after about 16 records per message of 600 bytes */
	assert_int_equal(build(f, c, 41, 600, &u), -EINVAL);
	assert_null(u.msg);
	assert_int_equal(u.nmsg, 0);
	assert_string_equal(testhost_error(f->h), "zz.example.test: bad A value '192.0.2.300'");
	/* 4000 records need three messages of 64 KiB before the bad one. */
	c[40] = set(names[40], 1, ip1, 1);
	testhost_clear(f->h);
	assert_int_equal(apply_cs(f->p, "example.test", c, N + 1, NULL, NULL), -EINVAL);
	assert_string_equal(testhost_error(f->h), "zz.example.test: bad A value '192.0.2.300'");
	assert_int_equal(f->p->stats.messages, 0);
	free(c);
	free(names);
}

/* A bad CNAME target is named as such, not as a bad owner; NS is
 * refused; a group larger than any message says so. */
static void test_bad_values(void **st)
{
	struct fx *f = *st;
	struct r2136_updates u;
	static const char *const target[] = {"a..b.example.test"};
	struct dnsfollow_change c = set("x.example.test", 5, target, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_string_equal(testhost_error(f->h),
			    "x.example.test: bad CNAME target 'a..b.example.test'");
	/* NS is not managed: a delegation would hide the name's marker */
	c = set("x.example.test", 2, target, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_non_null(strstr(testhost_error(f->h), "x.example.test: record type "));
	assert_non_null(strstr(testhost_error(f->h), " is not supported"));
	static const char *const good[] = {"git.example.test"};
	c = set("a..example.test", 5, good, 1);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EINVAL);
	assert_string_equal(testhost_error(f->h), "a..example.test: not a valid DNS name");
	/* 300 TXT strings of 250 bytes: no message can hold them. */
	static char txt[250];
	const char *many[300];
	memset(txt, 't', sizeof txt - 1);
	for (int i = 0; i < 300; i++)
		many[i] = txt;
	c = set("_dnsfollow.x.example.test", 16, many, 300);
	testhost_clear(f->h);
	assert_int_equal(build(f, &c, 1, 65000, &u), -EMSGSIZE);
	assert_string_equal(testhost_error(f->h), "the changes of "
			    "_dnsfollow.x.example.test do not fit in one UPDATE message");
	assert_null(u.msg);
}

static void test_long_txt(void **st)
{
	struct fx *f = *st;
	char t[600];
	memset(t, 'q', 599);
	t[599] = 0;
	const char *rd[] = {t};
	struct dnsfollow_change c = set("_dnsfollow.x.example.test", 16, rd, 1);
	struct r2136_updates u;
	assert_int_equal(build(f, &c, 1, 65000, &u), 0);
	struct r2136_msg d;
	assert_int_equal(r2136_msg_decode(u.msg[0].p, u.msg[0].len, &d, NULL, 0), 0);
	/* zone, the prerequisite (no CNAME), the delete, the add */
	assert_int_equal(d.rr[3].rdlen, 599 + 3); /* 255 + 255 + 89, 3 lengths */
	assert_string_equal(d.rr[3].text, t);
	r2136_msg_free(&d);
	r2136_updates_free(&u);
}

/* In a group (a record and its marker, as the core groups them) owner
 * names point at the zone, at an earlier owner, and the marker at its
 * record: header 12 + zone 18, the prerequisites "no CNAME" at git 16
 * ("\x03git" + pointer) and at the marker 23 ("\x0a_dnsfollow" +
 * pointer), then only pointers: delete 12, marker delete 12, add 16,
 * marker add 39 = 148 bytes. */
static void test_compression(void **st)
{
	struct fx *f = *st;
	struct dnsfollow_change c[] = {
		set("git.example.test", 1, ip1, 1),
		set("_dnsfollow.git.example.test", 16, own, 1),
	};
	const uint32_t g[] = {4, 4};
	struct r2136_updates u;
	assert_int_equal(build_g(f, c, 2, 65000, g, &u), 0);
	assert_int_equal(u.msg[0].len, 148);
	struct r2136_msg d;
	assert_int_equal(r2136_msg_decode(u.msg[0].p, u.msg[0].len, &d, NULL, 0), 0);
	for (size_t i = 1; i < 7; i += 2) {
		assert_string_equal(d.rr[i].name, "git.example.test");
		assert_string_equal(d.rr[i + 1].name, "_dnsfollow.git.example.test");
	}
	r2136_msg_free(&d);
	r2136_updates_free(&u);
	/* The apex itself is a bare pointer to the zone name. */
	struct dnsfollow_change apex = set("example.test", 1, ip1, 1);
	assert_int_equal(build(f, &apex, 1, 65000, &u), 0);
	assert_int_equal(u.msg[0].len, 12 + 18 + 12 + 12 + 16);
	r2136_updates_free(&u);
}

static void test_apply_nothing(void **st)
{
	struct fx *f = *st;
	/* no changes: nothing is sent (the server at port 9 would fail) */
	assert_int_equal(apply_cs(f->p, "example.test", NULL, 0, NULL, NULL), 0);
	assert_int_equal(f->p->stats.messages, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_keeps_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cname_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_txt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_nothing, setup, teardown),
	};
	return cmocka_run_group_tests_name("rfc2136 update", tests, NULL, NULL);
}
