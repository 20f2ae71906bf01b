/*
 * The markers() checks (ABI 2, optional op): policy = sync finds the
 * names dnsfollow owns through it and deletes those nothing asks for, so
 * a marker it misses is a name never cleaned up, and a marker it reports
 * that is not there (or not in the zone) is a deletion of records that
 * may belong to someone else. Each check is skipped, saying so, when the
 * provider has no markers op.
 */
#include "conform.h"

#include <stdio.h>
#include <string.h>

#define TTL 300 /* as the other provider checks write */
#define PREFIX "_dnsfollow."
#define NO_OP "no markers op"

const char *const dfc_marker_labels[] = {"mk1", "mk2"};
const size_t dfc_nmarker_labels = sizeof dfc_marker_labels / sizeof *dfc_marker_labels;

/* A marker's text as the core writes it; the second marker holds two
 * records, so a provider that reports one record per call, or only the
 * first, is seen. The plain TXT carries the same text at a name that is
 * no marker: a provider that picks markers by their data is seen too. */
static const char *const owner[] = {"heritage=dnsfollow,owner=dfc-kit"};
static const char *const two[] = {"heritage=dnsfollow,owner=dfc-kit", "dfc second datum"};

static int is_marker(const struct dfc_rr *rr)
{
	return rr->type == DNSFOLLOW_TYPE_TXT && strncmp(rr->name, PREFIX, strlen(PREFIX)) == 0;
}

static void verdict(struct dfc *c, const char *why, const char *desc)
{
	if (why[0])
		dfc_diag("%s", why);
	dfc_ok(c, why[0] == 0, "%s", desc);
}

/* markers() of the scratch zone; "" or why it failed in `why`. */
static int list(struct dfc *c, struct dfc_read *r, char *why, size_t cap)
{
	char e[200];
	int rc = dfc_markers(c, c->zone, r);
	if (rc != 0)
		snprintf(why, cap, "markers() of %s returned %d %s", c->zone, rc,
			 dfc_error_text(c, e, sizeof e));
	return rc;
}

/* "" when `name` TXT was reported exactly once, holding want[0..n)
 * with the TTL written; n 0: not reported at all. */
static void reported(const struct dfc_read *r, const char *name, const char *const *want,
		     size_t n, char *why, size_t cap)
{
	const struct dfc_rr *got = NULL;
	size_t times = 0;
	char d[200];
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == DNSFOLLOW_TYPE_TXT && strcmp(r->v[i].name, name) == 0)
			got = &r->v[i], times++;
	if (!n && times)
		snprintf(why, cap, "%s reported, but it was deleted", name);
	else if (n && !times)
		snprintf(why, cap, "%s not reported", name);
	else if (times > 1)
		snprintf(why, cap, "%s reported %zu times (one call per RRset, whole)", name, times);
	else if (n && !dfc_same_data(got, want, n, d, sizeof d))
		snprintf(why, cap, "%s: %s", name, d);
	else if (n && got->ttl != TTL)
		snprintf(why, cap, "%s: TTL %u reported, %u written", name, got->ttl, TTL);
	else
		why[0] = '\0';
}

/* Before the kit writes any marker (its own were deleted first). A zone
 * holding someone else's markers cannot say "none": skipped. */
static void check_none(struct dfc *c, const char *desc)
{
	struct dfc_read r;
	static const char mine[] = PREFIX "dfc-"; /* the kit's own markers */
	char why[400] = "";
	const char *foreign = NULL;
	size_t nforeign = 0;
	if (list(c, &r, why, sizeof why) == 0)
		for (size_t i = 0; i < r.n && !why[0]; i++) {
			if (!is_marker(&r.v[i]))
				continue; /* allowed: the core keeps only markers */
			if (!dfc_in_zone(r.v[i].name, c->zone))
				snprintf(why, sizeof why, "%s reported, outside zone %s",
					 r.v[i].name, c->zone);
			else if (strncmp(r.v[i].name, mine, strlen(mine)) == 0)
				snprintf(why, sizeof why, "%s reported, but the kit deleted it",
					 r.v[i].name);
			else if (nforeign++ == 0)
				foreign = r.v[i].name;
		}
	if (!why[0] && nforeign) {
		char skip[400];
		snprintf(skip, sizeof skip, "zone %s holds %zu marker(s) the kit did not write "
			 "(%s); --zone a zone nothing else uses checks this", c->zone, nforeign,
			 foreign);
		dfc_skip(c, skip, "%s", desc);
	} else {
		verdict(c, why, desc);
	}
	dfc_read_free(&r);
}

/* Two markers and a plain TXT in one changeset, as the core writes a
 * marker: first, in its own group. */
static void check_whole(struct dfc *c, const char *desc)
{
	const char *m1 = dfc_marker_name(c, "mk1"), *m2 = dfc_marker_name(c, "mk2");
	const char *plain = dfc_name(c, "mk-plain");
	const struct dfc_change ch[] = {
		{DNSFOLLOW_CHANGE_SET, m1, DNSFOLLOW_TYPE_TXT, TTL, 1, owner, 0},
		{DNSFOLLOW_CHANGE_SET, m2, DNSFOLLOW_TYPE_TXT, TTL, 2, two, 1},
		{DNSFOLLOW_CHANGE_SET, plain, DNSFOLLOW_TYPE_TXT, TTL, 1, owner, 2},
	};
	struct dfc_read r = {0};
	char why[400] = "", e[200];
	int refused = 0;
	int rc = dfc_apply(c, c->zone, ch, sizeof ch / sizeof *ch, &refused, NULL);
	if (rc < 0 || refused)
		snprintf(why, sizeof why, "writing two markers and a TXT failed: %d %s", rc,
			 dfc_error_text(c, e, sizeof e));
	else if (list(c, &r, why, sizeof why) == 0)
		reported(&r, m1, owner, 1, why, sizeof why);
	if (!why[0])
		reported(&r, m2, two, 2, why, sizeof why);
	/* Reporting the plain TXT is allowed, but then as it is. */
	const struct dfc_rr *p = dfc_find(&r, plain, DNSFOLLOW_TYPE_TXT);
	if (!why[0] && p)
		reported(&r, plain, owner, 1, why, sizeof why);
	verdict(c, why, desc);
	dfc_read_free(&r);
}

static void check_deleted(struct dfc *c, const char *desc)
{
	const char *m1 = dfc_marker_name(c, "mk1"), *m2 = dfc_marker_name(c, "mk2");
	struct dfc_read r = {0};
	char why[400] = "", e[200];
	int rc = dfc_delete(c, m1, DNSFOLLOW_TYPE_TXT);
	if (rc != 0)
		snprintf(why, sizeof why, "DELETE %s failed: %d %s", m1, rc,
			 dfc_error_text(c, e, sizeof e));
	else if (list(c, &r, why, sizeof why) == 0)
		reported(&r, m1, NULL, 0, why, sizeof why);
	if (!why[0])
		reported(&r, m2, two, 2, why, sizeof why);
	dfc_read_free(&r);
	if (!why[0] && (rc = dfc_delete(c, m2, DNSFOLLOW_TYPE_TXT)) != 0)
		snprintf(why, sizeof why, "DELETE %s failed: %d %s", m2, rc,
			 dfc_error_text(c, e, sizeof e));
	else if (!why[0] && list(c, &r, why, sizeof why) == 0)
		reported(&r, m2, NULL, 0, why, sizeof why);
	verdict(c, why, desc);
	dfc_read_free(&r);
}

void dfc_marker_checks(struct dfc *c)
{
	static const char *const desc[] = {
		"markers() of a zone without markers reports none",
		"markers() reports both markers written, whole (every record, TTL), once each",
		"markers() does not report a deleted marker (and still reports the other)",
		"every RRset markers() reported has a name inside its zone",
	};
	if (!dfc_has_markers(c)) {
		for (size_t i = 0; i < sizeof desc / sizeof *desc; i++)
			dfc_skip(c, NO_OP, "%s", desc[i]);
		return;
	}
	check_none(c, desc[0]);
	check_whole(c, desc[1]);
	check_deleted(c, desc[2]);
	if (c->markers_outside)
		dfc_diag("%s", c->markers_outside_why);
	dfc_ok(c, c->markers_outside == 0, "%s (%u outside)", desc[3], c->markers_outside);
}
