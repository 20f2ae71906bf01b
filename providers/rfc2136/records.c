/* Turning decoded RRs into the RRsets the core wants: sort, group, emit. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc2136.h"

static int cmp_rec(const void *a, const void *b)
{
	const struct r2136_rec *x = a, *y = b;
	int r = strcasecmp(x->name, y->name);
	if (r)
		return r;
	return (int)x->type - (int)y->type;
}

void r2136_recs_sort(struct r2136_rec *rr, size_t n)
{
	if (n > 1)
		qsort(rr, n, sizeof *rr, cmp_rec);
}

int r2136_recs_add(struct r2136_rec **recs, size_t *n, size_t *cap,
		   const struct r2136_rr *rr)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct r2136_rec *g = realloc(*recs, nc * sizeof *g);
		if (!g)
			return -ENOMEM;
		*recs = g;
		*cap = nc;
	}
	struct r2136_rec *r = &(*recs)[*n];
	*r = (struct r2136_rec){.name = strdup(rr->name), .type = rr->type,
				.ttl = rr->ttl, .text = strdup(rr->text)};
	if (!r->name || !r->text) {
		free(r->name);
		free(r->text);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

void r2136_recs_clear(struct r2136_rec *recs, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free(recs[i].name);
		free(recs[i].text);
	}
	*n = 0;
}

/* Emit one RRset per run of equal (name, type); duplicates (an RR seen
 * twice, as the SOA of an AXFR) are reported once. */
int r2136_emit_sorted(struct r2136_rec *rr, size_t n, dnsfollow_rrset_cb emit,
		      void *ctx)
{
	const char **data = n ? malloc(n * sizeof *data) : NULL;
	if (n && !data)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		size_t j = i, k = 0;
		for (; j < n && cmp_rec(&rr[i], &rr[j]) == 0; j++) {
			size_t d = 0;
			while (d < k && strcmp(data[d], rr[j].text) != 0)
				d++;
			if (d == k)
				data[k++] = rr[j].text;
		}
		struct dnsfollow_rrset s = {.name = rr[i].name, .type = rr[i].type,
					    .ttl = rr[i].ttl, .count = k,
					    .rdata = data};
		rc = emit(ctx, &s);
		i = j;
	}
	free(data);
	return rc;
}
