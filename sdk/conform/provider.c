/*
 * The provider checks: the semantics of provider.h every provider must
 * keep, each one TAP line. Names live under the scratch zone as
 * "dfc-LABEL.ZONE"; every one is deleted before the first check and
 * after the last.
 */
#include "conform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk.h"

#define TTL 300
#define N(a) (sizeof(a) / sizeof *(a))

/* Every label any check uses, so the first cleanup knows them all. */
static const char *const labels[] = {
	"absent", "set", "same", "dup", "iso", "cx1", "cx2", "atom1", "atom2",
	"grp1", "grp2", "grp3", "rt-a", "rt-aaaa", "rt-txt", "rt-cname", "mk-plain",
};

static void verdict(struct dfc *c, const char *why, const char *desc)
{
	if (why[0])
		dfc_diag("%s", why);
	dfc_ok(c, why[0] == 0, "%s", desc);
}

/* The type's name (the core's table; thread-local text, used at once). */
static const char *tname(uint16_t t) { return df_type_name(t); }

/* Sample data of a type: three distinct data, the third for changes. */
static const char *const *sample(uint16_t t)
{
	static const char *const a[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
	static const char *const aaaa[] = {"2001:db8::1", "2001:db8::a:2", "2001:db8::3"};
	static const char *const txt[] = {"dfc one", "dfc two", "dfc three"};
	static const char *const cname[] = {"target1.example.net", "target2.example.net",
					    "target3.example.net"};
	return t == DNSFOLLOW_TYPE_A ? a : t == DNSFOLLOW_TYPE_AAAA ? aaaa
		: t == DNSFOLLOW_TYPE_CNAME ? cname : txt;
}

/* A type that may hold several records: A when listed, else TXT. */
static uint16_t multi_type(const struct dfc *c)
{
	return dfc_has_type(c, DNSFOLLOW_TYPE_A) ? DNSFOLLOW_TYPE_A : DNSFOLLOW_TYPE_TXT;
}

/* "" when (name, type) holds exactly want[0..n) (n 0: absent), else why. */
static void expect(struct dfc *c, const char *name, uint16_t type,
		   const char *const *want, size_t n, char *why, size_t cap)
{
	struct dfc_rr rr;
	char d[200];
	int rc = dfc_get(c, name, type, &rr);
	if (rc < 0)
		snprintf(why, cap, "read of %s %s failed: %d %s", name, tname(type), rc,
			 dfc_error_text(c, d, sizeof d));
	else if (rc == 0 && n)
		snprintf(why, cap, "%s %s is absent", name, tname(type));
	else if (rc == 1 && !n)
		snprintf(why, cap, "%s %s is present (%zu record(s))", name, tname(type),
			 rr.count);
	else if (rc == 1 && !dfc_same_data(&rr, want, n, d, sizeof d))
		snprintf(why, cap, "%s %s: %s", name, tname(type), d);
	else if (rc == 1 && rr.ttl != TTL)
		snprintf(why, cap, "%s %s: TTL %u read back, %u written", name, tname(type),
			 rr.ttl, TTL);
	else
		why[0] = '\0';
	dfc_rr_free(&rr);
}

/* SET, then "" or why it failed. */
static int set_ok(struct dfc *c, const char *name, uint16_t type,
		  const char *const *v, size_t n, char *why, size_t cap)
{
	char e[200];
	int rc = dfc_set(c, name, type, TTL, v, n);
	if (rc == 0)
		return 1;
	snprintf(why, cap, "SET %s %s failed: %d %s", name, tname(type), rc,
		 dfc_error_text(c, e, sizeof e));
	return 0;
}

static int asked(const struct dnsfollow_rrkey *keys, size_t n, const struct dfc_rr *rr)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].type == rr->type && strcmp(keys[i].name, rr->name) == 0)
			return 1;
	return 0;
}

/* Delete every (name, type) the kit may have written that exists now,
 * in one changeset (absent ones are left to the DELETE-absent check). */
static int clean_all(struct dfc *c, char *why, size_t cap)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	size_t nt = 0, k = 0;
	for (const uint16_t *t = ops->types; t && *t; t++)
		nt++;
	size_t room = N(labels) * nt + dfc_nmarker_labels + 1;
	struct dnsfollow_rrkey *keys = calloc(room, sizeof *keys);
	struct dfc_change *ch = calloc(room, sizeof *ch);
	struct dfc_read now = {0};
	char e[200];
	int rc = -ENOMEM, refused = 0;
	if (!keys || !ch)
		goto out;
	for (size_t i = 0; i < N(labels); i++)
		for (size_t j = 0; j < nt; j++)
			keys[k++] = (struct dnsfollow_rrkey){dfc_name(c, labels[i]), ops->types[j]};
	for (size_t i = 0; i < dfc_nmarker_labels; i++) /* the markers checks' */
		keys[k++] = (struct dnsfollow_rrkey){dfc_marker_name(c, dfc_marker_labels[i]),
						     DNSFOLLOW_TYPE_TXT};
	rc = dfc_read_keys(c, c->zone, keys, k, &now);
	size_t m = 0;
	for (size_t i = 0; rc == 0 && i < now.n && m < k; i++)
		if (asked(keys, k, &now.v[i])) {
			ch[m] = (struct dfc_change){DNSFOLLOW_CHANGE_DELETE, now.v[i].name,
						    now.v[i].type, 0, 0, NULL, (uint32_t)m};
			m++;
		}
	if (rc == 0 && m)
		rc = dfc_apply(c, c->zone, ch, m, &refused, NULL);
out:
	if (rc < 0 || refused)
		snprintf(why, cap, "deleting the kit's names failed: %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	else
		why[0] = '\0';
	dfc_read_free(&now);
	free(keys);
	free(ch);
	return rc < 0 ? rc : refused ? -EPROTO : 0;
}

static void check_descriptor(struct dfc *c)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	char why[300] = "";
	int txt = 0;
	size_t n = 0;
	for (const uint16_t *t = ops->types; t && *t; t++, n++) {
		txt |= *t == DNSFOLLOW_TYPE_TXT;
		for (const uint16_t *u = ops->types; u < t; u++)
			if (*u == *t)
				snprintf(why, sizeof why, "type %u listed twice", *t);
	}
	if (!ops->types || n == 0)
		snprintf(why, sizeof why, "ops.types is empty");
	else if (!txt)
		snprintf(why, sizeof why, "ops.types lacks TXT (ownership markers)");
	verdict(c, why, "types lists TXT, each type once");
}

static void check_reads(struct dfc *c)
{
	struct dfc_read r;
	char why[300] = "", e[200];
	int rc = dfc_read_keys(c, c->zone, NULL, 0, &r);
	if (rc != 0)
		snprintf(why, sizeof why, "read() of no keys returned %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	dfc_read_free(&r);
	verdict(c, why, "read() of no keys succeeds");

	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	struct dnsfollow_rrkey keys[16];
	size_t n = 0;
	const char *absent = dfc_name(c, "absent");
	for (const uint16_t *t = ops->types; t && *t && n < N(keys); t++)
		keys[n++] = (struct dnsfollow_rrkey){absent, *t};
	why[0] = '\0';
	rc = dfc_read_keys(c, c->zone, keys, n, &r);
	if (rc != 0)
		snprintf(why, sizeof why, "read() returned %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	for (size_t i = 0; rc == 0 && i < r.n; i++)
		if (strcmp(r.v[i].name, absent) == 0)
			snprintf(why, sizeof why, "reported %s %s, which does not exist",
				 absent, tname(r.v[i].type));
	dfc_read_free(&r);
	verdict(c, why, "read() of absent names succeeds and reports nothing");
}

static void check_delete_absent(struct dfc *c)
{
	char why[300] = "", e[200];
	int rc = dfc_delete(c, dfc_name(c, "absent"), DNSFOLLOW_TYPE_TXT);
	if (rc != 0)
		snprintf(why, sizeof why, "DELETE returned %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	verdict(c, why, "DELETE of an absent RRset succeeds");
}

static void roundtrip(struct dfc *c, const char *label, uint16_t type,
		      const char *const *v, size_t n, const char *desc)
{
	if (!dfc_has_type(c, type)) {
		dfc_skip(c, "type not listed", "%s", desc);
		return;
	}
	char why[400] = "";
	const char *name = dfc_name(c, label);
	if (set_ok(c, name, type, v, n, why, sizeof why))
		expect(c, name, type, v, n, why, sizeof why);
	verdict(c, why, desc);
}

static void check_roundtrips(struct dfc *c)
{
	static char big[301];
	memset(big, 'x', sizeof big - 1);
	memcpy(big, "dfc 300 bytes: ", 15);
	const char *quotes[] = {"say \"hi\"", "back\\slash \\\" and \\\\ too", "a;b (c) @d $e"};
	const char *longtxt[] = {big};
	const char *multi[] = {"dfc one", "dfc two"};
	roundtrip(c, "rt-a", DNSFOLLOW_TYPE_A, sample(DNSFOLLOW_TYPE_A), 2,
		  "A round trip (two records, TTL kept)");
	roundtrip(c, "rt-aaaa", DNSFOLLOW_TYPE_AAAA, sample(DNSFOLLOW_TYPE_AAAA), 2,
		  "AAAA round trip (two records, TTL kept)");
	roundtrip(c, "rt-txt", DNSFOLLOW_TYPE_TXT, multi, 2, "TXT round trip (two records)");
	roundtrip(c, "rt-txt", DNSFOLLOW_TYPE_TXT, quotes, N(quotes),
		  "TXT round trip with quotes, backslashes and zone-file specials");
	roundtrip(c, "rt-txt", DNSFOLLOW_TYPE_TXT, longtxt, 1,
		  "TXT round trip of 300 bytes (more than one character-string)");
	roundtrip(c, "rt-cname", DNSFOLLOW_TYPE_CNAME, sample(DNSFOLLOW_TYPE_CNAME), 1,
		  "CNAME round trip");
}

static void check_set_replaces(struct dfc *c)
{
	uint16_t t = multi_type(c);
	const char *const *s = sample(t);
	const char *name = dfc_name(c, "set");
	char why[400] = "", e[200];
	if (set_ok(c, name, t, s, 2, why, sizeof why) &&
	    set_ok(c, name, t, s + 2, 1, why, sizeof why))
		expect(c, name, t, s + 2, 1, why, sizeof why);
	verdict(c, why, "SET replaces the whole RRset (2 records, then 1)");
	why[0] = '\0';
	int rc = dfc_delete(c, name, t);
	if (rc != 0)
		snprintf(why, sizeof why, "DELETE returned %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	else
		expect(c, name, t, NULL, 0, why, sizeof why);
	verdict(c, why, "DELETE removes the RRset");
}

static void check_idempotent(struct dfc *c)
{
	uint16_t t = multi_type(c);
	const char *name = dfc_name(c, "same");
	char why[400] = "";
	if (set_ok(c, name, t, sample(t), 2, why, sizeof why) &&
	    set_ok(c, name, t, sample(t), 2, why, sizeof why))
		expect(c, name, t, sample(t), 2, why, sizeof why);
	verdict(c, why, "the same SET applied twice succeeds and reads back the same");
}

static void check_duplicates(struct dfc *c)
{
	uint16_t t = multi_type(c);
	const char *const *s = sample(t);
	const char *v[] = {s[0], s[1], s[0]};
	const char *name = dfc_name(c, "dup");
	char why[400] = "";
	if (set_ok(c, name, t, v, 3, why, sizeof why))
		expect(c, name, t, v, 3, why, sizeof why); /* compares distinct data */
	verdict(c, why, "a datum given twice in one SET is stored once");
}

/* The address and text types the provider lists (CNAME stands alone). */
static size_t plain_types(const struct dfc *c, uint16_t *out)
{
	static const uint16_t cand[] = {DNSFOLLOW_TYPE_A, DNSFOLLOW_TYPE_AAAA,
					DNSFOLLOW_TYPE_TXT};
	size_t n = 0;
	for (size_t i = 0; i < N(cand); i++)
		if (dfc_has_type(c, cand[i]))
			out[n++] = cand[i];
	return n;
}

static void check_isolation(struct dfc *c)
{
	uint16_t t[3];
	size_t nt = plain_types(c, t);
	const char *desc = "changing one type leaves the other types at the name alone";
	if (nt < 2) {
		dfc_skip(c, "fewer than two of A, AAAA, TXT listed", "%s", desc);
		dfc_skip(c, "fewer than two of A, AAAA, TXT listed",
			 "DELETE of one type leaves the other types alone");
		return;
	}
	const char *name = dfc_name(c, "iso");
	char why[400] = "";
	int ok = 1;
	for (size_t i = 0; i < nt && ok; i++)
		ok = set_ok(c, name, t[i], sample(t[i]), 1, why, sizeof why);
	if (ok && set_ok(c, name, t[0], sample(t[0]) + 2, 1, why, sizeof why))
		for (size_t i = 1; i < nt && !why[0]; i++)
			expect(c, name, t[i], sample(t[i]), 1, why, sizeof why);
	verdict(c, why, desc);
	if (!why[0] && dfc_delete(c, name, t[0]) != 0)
		snprintf(why, sizeof why, "DELETE %s %s failed", name, tname(t[0]));
	for (size_t i = 1; i < nt && !why[0]; i++)
		expect(c, name, t[i], sample(t[i]), 1, why, sizeof why);
	verdict(c, why, "DELETE of one type leaves the other types alone");
}

/* Write `first` at a fresh name, then `second` beside it: the second
 * must be refused and the first must stay as it was. */
static int exclusive(struct dfc *c, const char *label, uint16_t first,
		     uint16_t second, const char *desc)
{
	const char *name = dfc_name(c, label);
	char why[400] = "";
	if (set_ok(c, name, first, sample(first), 1, why, sizeof why)) {
		struct dfc_change ch = {DNSFOLLOW_CHANGE_SET, name, second, TTL, 1,
					sample(second), 0};
		int refused = 0;
		dfc_apply(c, c->zone, &ch, 1, &refused, NULL);
		if (!refused)
			snprintf(why, sizeof why,
				 "%s %s was accepted beside %s (a DNS server refuses "
				 "or ignores it: refuse it with -EEXIST)",
				 name, tname(second), tname(first));
		else
			expect(c, name, first, sample(first), 1, why, sizeof why);
		if (refused && !why[0])
			expect(c, name, second, NULL, 0, why, sizeof why);
	}
	verdict(c, why, desc);
	return !why[0];
}

static void check_cname_exclusive(struct dfc *c)
{
	uint16_t other = multi_type(c);
	if (!dfc_has_type(c, DNSFOLLOW_TYPE_CNAME)) {
		dfc_skip(c, "CNAME not listed", "a CNAME beside other data is refused");
		dfc_skip(c, "CNAME not listed", "other data beside a CNAME is refused");
		return;
	}
	int ok1 = exclusive(c, "cx1", other, DNSFOLLOW_TYPE_CNAME,
			    "a CNAME beside other data is refused, the data kept");
	int ok2 = exclusive(c, "cx2", DNSFOLLOW_TYPE_CNAME, other,
			    "other data beside a CNAME is refused, the CNAME kept");
	c->cname_refused = ok1 && ok2;
}

/* One changeset: a valid TXT, then (group 1) a CNAME conflict. */
static void check_atomic(struct dfc *c)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	const char *desc = "an atomic provider applies all or nothing";
	if (!(ops->caps & DNSFOLLOW_CAP_ATOMIC)) {
		dfc_skip(c, "not DNSFOLLOW_CAP_ATOMIC", "%s", desc);
		return;
	}
	if (!c->cname_refused) {
		dfc_skip(c, "no CNAME conflict refused: no change this provider refuses", "%s", desc);
		return;
	}
	uint16_t other = multi_type(c);
	const char *n1 = dfc_name(c, "atom1"), *n2 = dfc_name(c, "atom2");
	const struct dfc_change ch[] = {
		{DNSFOLLOW_CHANGE_SET, n1, DNSFOLLOW_TYPE_TXT, TTL, 1,
		 sample(DNSFOLLOW_TYPE_TXT), 0},
		{DNSFOLLOW_CHANGE_SET, n2, other, TTL, 1, sample(other), 1},
		{DNSFOLLOW_CHANGE_SET, n2, DNSFOLLOW_TYPE_CNAME, TTL, 1,
		 sample(DNSFOLLOW_TYPE_CNAME), 1},
	};
	char why[400] = "";
	int refused = 0;
	dfc_apply(c, c->zone, ch, N(ch), &refused, NULL);
	if (!refused)
		snprintf(why, sizeof why, "a changeset putting a CNAME beside %s was accepted",
			 tname(other));
	for (size_t i = 0; i < N(ch) && !why[0]; i++)
		expect(c, ch[i].name, ch[i].type, NULL, 0, why, sizeof why);
	verdict(c, why, desc);
}

/* Non-atomic: group 1 fails (a CNAME beside data), group 2 must not be
 * applied (provider.h: "stop at the first failing group"). */
static void check_groups(struct dfc *c)
{
	const struct dnsfollow_provider_ops *ops = c->plugin->ops;
	const char *desc = "a failing group stops the groups after it";
	if (ops->caps & DNSFOLLOW_CAP_ATOMIC) {
		dfc_skip(c, "atomic: checked as all or nothing", "%s", desc);
		return;
	}
	if (!c->cname_refused) {
		dfc_skip(c, "no CNAME conflict refused: no change this provider refuses", "%s", desc);
		return;
	}
	uint16_t other = multi_type(c);
	const char *n1 = dfc_name(c, "grp1"), *n2 = dfc_name(c, "grp2"),
		   *n3 = dfc_name(c, "grp3");
	char why[400] = "";
	if (set_ok(c, n2, other, sample(other), 1, why, sizeof why)) {
		const struct dfc_change ch[] = {
			{DNSFOLLOW_CHANGE_SET, n1, DNSFOLLOW_TYPE_TXT, TTL, 1,
			 sample(DNSFOLLOW_TYPE_TXT), 0},
			{DNSFOLLOW_CHANGE_SET, n2, DNSFOLLOW_TYPE_CNAME, TTL, 1,
			 sample(DNSFOLLOW_TYPE_CNAME), 1},
			{DNSFOLLOW_CHANGE_SET, n3, DNSFOLLOW_TYPE_TXT, TTL, 1,
			 sample(DNSFOLLOW_TYPE_TXT), 2},
		};
		int refused = 0;
		dfc_apply(c, c->zone, ch, N(ch), &refused, NULL);
		if (!refused)
			snprintf(why, sizeof why, "the CNAME beside %s was accepted",
				 tname(other));
		else
			expect(c, n3, DNSFOLLOW_TYPE_TXT, NULL, 0, why, sizeof why);
	}
	verdict(c, why, desc);
}

static void check_unknown_zone(struct dfc *c)
{
	static const char zone[] = "dfc-unknown-zone.invalid";
	struct dnsfollow_rrkey k = {"www.dfc-unknown-zone.invalid", DNSFOLLOW_TYPE_TXT};
	struct dfc_read r;
	char why[400] = "";
	int rc = dfc_read_keys(c, zone, &k, 1, &r);
	dfc_read_free(&r);
	if (rc >= 0 || dnsfollow_err_is_temporary(rc))
		snprintf(why, sizeof why, "read() of zone %s returned %d", zone, rc);
	verdict(c, why, "read() of an unknown zone is a permanent error");
	why[0] = '\0';
	struct dfc_change ch = {DNSFOLLOW_CHANGE_SET, k.name, DNSFOLLOW_TYPE_TXT, TTL, 1,
				sample(DNSFOLLOW_TYPE_TXT), 0};
	int refused = 0;
	rc = dfc_apply(c, zone, &ch, 1, &refused, NULL);
	if (!refused || dnsfollow_err_is_temporary(rc))
		snprintf(why, sizeof why, "apply() to zone %s returned %d", zone, rc);
	verdict(c, why, "apply() to an unknown zone is a permanent error");
}

static void summaries(struct dfc *c)
{
	dfc_ok(c, c->bad_results == 0, "results[] hold only 0 or negative codes%s%s",
	       c->bad_results ? ": " : "", c->bad_results ? c->bad_results_why : "");
	dfc_ok(c, c->missing_error_text == 0, "every failing op set an error text (%u did not)",
	       c->missing_error_text);
	dfc_ok(c, c->malformed_reads == 0,
	       "read() and markers() report names lower-case without the final dot, "
	       "no empty RRsets (%u call(s) broke this)", c->malformed_reads);
}

void dfc_provider_checks(struct dfc *c)
{
	char why[400];
	check_descriptor(c);
	if (clean_all(c, why, sizeof why) != 0) {
		dfc_ok(c, 0, "the kit's names can be deleted before the checks");
		dfc_diag("%s", why);
		printf("Bail out! the scratch zone %s cannot be written\n", c->zone);
		return;
	}
	dfc_ok(c, 1, "the kit's names can be deleted before the checks");
	check_reads(c);
	check_delete_absent(c);
	check_roundtrips(c);
	check_set_replaces(c);
	check_idempotent(c);
	check_duplicates(c);
	check_isolation(c);
	check_cname_exclusive(c);
	check_atomic(c);
	check_groups(c);
	check_unknown_zone(c);
	dfc_marker_checks(c);
	int rc = clean_all(c, why, sizeof why);
	for (size_t i = 0; rc == 0 && i < N(labels) && !why[0]; i++) {
		const struct dnsfollow_provider_ops *ops = c->plugin->ops;
		for (const uint16_t *t = ops->types; *t && !why[0]; t++)
			expect(c, dfc_name(c, labels[i]), *t, NULL, 0, why, sizeof why);
	}
	for (size_t i = 0; rc == 0 && i < dfc_nmarker_labels && !why[0]; i++)
		expect(c, dfc_marker_name(c, dfc_marker_labels[i]), DNSFOLLOW_TYPE_TXT, NULL, 0,
		       why, sizeof why);
	verdict(c, why, "cleanup: none of the kit's names is left");
	summaries(c);
}
