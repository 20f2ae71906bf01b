/*
 * libFuzzer target for the swarm backend's handling of engine answers.
 * The first byte picks what the rest is fed to: a node list (with every
 * address source switched on, loopback allowed or not), a task list, both
 * through the placement rules, the event stream cut into chunks, an
 * error body and an API version string, or a service list with labels. Any
 * input must give an answer or an error, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/swarm/swarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct swarm_map map[] = {{"n1", "192.0.2.1", AF_INET},
				 {"n2", "2001:db8::2", AF_INET6},
				 {"n3", "n3.example.org", AF_UNSPEC}};

/* Stands in for the host's name_normalise (the fuzz target links no
 * core): lower-case, no trailing dot, labels of 1..63, at most 253. */
static int normalise(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), lab = 0;
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= cap)
		return -22;
	for (size_t i = 0; i < n; i++) {
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
		lab = in[i] == '.' ? 0 : lab + 1;
		if (lab > 63 || (in[i] == '.' && (i == 0 || in[i - 1] == '.')))
			return -22;
	}
	out[n] = '\0';
	return 0;
}

static void fuzz_nodes(const char *p, size_t n, int lo)
{
	struct swarm_addrcfg ac = {"dnsfollow.ipv4", "dnsfollow.ipv6", map, 3, lo,
				   "dnsfollow.hostname", normalise};
	struct swarm_nodes ns;
	char err[SWARM_ERRLEN];
	if (swarm_parse_nodes(p, n, &ac, &ns, err, sizeof err) == 0) {
		for (size_t i = 0; i < ns.n; i++)
			if (strlen(ns.v[i].problem) >= sizeof ns.v[i].problem ||
			    strlen(ns.v[i].dns) >= sizeof ns.v[i].dns ||
			    (ns.v[i].dns[0] && !strchr(ns.v[i].dns, '.')))
				abort();
		swarm_nodes_free(&ns);
	}
}

/* "tasks JSON" NUL "nodes JSON": both, then the selection rules. */
static void fuzz_select(const char *p, size_t n)
{
	const char *sep = memchr(p, '\0', n);
	if (!sep)
		return;
	size_t tl = (size_t)(sep - p);
	struct swarm_addrcfg ac = {"dnsfollow.ipv4", NULL, map, 3, 0,
				   "dnsfollow.hostname", normalise};
	struct swarm_tasks ts;
	struct swarm_nodes ns;
	char err[SWARM_ERRLEN];
	if (swarm_parse_tasks(p, tl, &ts, err, sizeof err))
		return;
	if (swarm_parse_nodes(sep + 1, n - tl - 1, &ac, &ns, err, sizeof err) == 0) {
		for (int target = 0; target < 2; target++) {
			struct swarm_result r;
			if (swarm_select(&ts, &ns, target, &r, err, sizeof err) == 0) {
				if (r.n > ns.n)
					abort();
				swarm_result_free(&r);
			}
		}
		swarm_nodes_free(&ns);
	}
	swarm_tasks_free(&ts);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	char what[64];
	(*(size_t *)ctx)++;
	swarm_parse_event(line, len, what, sizeof what, NULL);
}

/* The stream in chunks whose sizes come from the input itself. */
static void fuzz_events(const char *p, size_t n)
{
	static struct swarm_linebuf lb;
	memset(&lb, 0, sizeof lb);
	size_t lines = 0, off = 0, step = n ? (unsigned char)p[0] % 17 + 1 : 1;
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		swarm_linebuf_feed(&lb, p + off, k, on_line, &lines);
		off += k;
		step = step * 7 % 31 + 1;
	}
}

/* An error body ({"message": ...}) and an API version string: the
 * message comes back as one printable line that fits, the version as a
 * number or -1. */
static void fuzz_error_and_version(const char *p, size_t n)
{
	char buf[64];
	const char *m = swarm_error_message(p, n, buf, sizeof buf);
	if (m) {
		if (m != buf || strlen(buf) >= sizeof buf)
			abort();
		for (const char *c = buf; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
	}
	char v[32];
	size_t k = n < sizeof v - 1 ? n : sizeof v - 1;
	memcpy(v, p, k);
	v[k] = '\0';
	int ver = swarm_parse_api_version(v);
	if (ver < -1 || ver > 999999)
		abort();
}

/* A service list under the prefix "dnsfollow": names come out trimmed,
 * non-empty and without commas; keys never "name", sorted; every
 * service is found again by its ID in the map made of the list. */
static void fuzz_services(const char *p, size_t n)
{
	struct swarm_services ss;
	char err[SWARM_ERRLEN];
	if (swarm_parse_services(p, n, "dnsfollow", &ss, err, sizeof err)) {
		if (ss.v || ss.n || !err[0] || strlen(err) >= sizeof err)
			abort();
		return;
	}
	for (size_t i = 0; i < ss.n; i++) {
		const struct swarm_service *s = &ss.v[i];
		if (!s->sid.id[0] || !s->sid.name[0] || (s->nnames && !s->has_name))
			abort();
		for (size_t k = 0; k < s->nnames; k++) {
			size_t l = strlen(s->names[k]);
			if (!l || strchr(s->names[k], ',') || s->names[k][0] == ' ' ||
			    s->names[k][l - 1] == ' ')
				abort();
		}
		for (size_t k = 0; k < s->nkeys; k++)
			if (strcmp(s->keys[k].key, "name") == 0 || !s->keys[k].value ||
			    (k && strcmp(s->keys[k - 1].key, s->keys[k].key) >= 0))
				abort();
	}
	struct swarm_svcmap m = {0};
	if (swarm_svcmap_set(&m, &ss) == 0) {
		for (size_t i = 0; i < ss.n; i++) {
			const struct swarm_svcid *id;
			if (swarm_svcmap_find(&m, ss.v[i].sid.id, &id) || !id ||
			    strcmp(id->id, ss.v[i].sid.id) != 0)
				abort();
		}
		swarm_svcmap_free(&m);
	}
	swarm_services_free(&ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	/* % 7: the seeds' first bytes (0..5) keep their meaning. */
	switch (data[0] % 7) {
	case 6: fuzz_services(p, n); break;
	case 5: fuzz_error_and_version(p, n); break;
	case 0: fuzz_nodes(p, n, 0); break;
	case 1: fuzz_nodes(p, n, 1); break;
	case 2: {
		struct swarm_tasks ts;
		char err[SWARM_ERRLEN];
		if (swarm_parse_tasks(p, n, &ts, err, sizeof err) == 0)
			swarm_tasks_free(&ts);
		break;
	}
	case 3: fuzz_select(p, n); break;
	default: fuzz_events(p, n); break;
	}
	return 0;
}
