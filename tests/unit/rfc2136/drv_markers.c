/*
 * A driver for tests/rfc2136/t_axfr.sh: writes ownership markers with
 * apply() and lists them with markers(), through the test host, against
 * a real named or knotd.
 *
 *   drv_markers SERVER KEYFILE|- ZONE ARG...
 *
 * ARGs, in order:
 *   opt:KEY=VALUE   one more provider setting (before the first action)
 *   +NAME           set NAME A 192.0.2.1 and its marker _dnsfollow.NAME
 *   -NAME           delete both
 *                   (all +/- of a run go in one changeset, applied at the
 *                   first `markers` or at the end)
 *   markers         call markers() and print, per RRset it reports,
 *                     rrset=NAME COUNT       (one line per emit)
 *                     marker=NAME TTL DATA   (one line per datum)
 *                     other=NAME TYPE        (anything else reported)
 *                     log=LINE               (its log lines on the transfer)
 * and at the end
 *   rc=CODE  kind=ok|temporary|permanent  error=TEXT
 * (of the first failing step). Not a test_*: only t_axfr.sh runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"
#include "harness.h"

#define MAXCH 1024

static const char *const own[] = {"heritage=dnsfollow,owner=driver"};
static const char *const addr[] = {"192.0.2.1"};

struct pending {
	struct dnsfollow_change c[MAXCH];
	char names[MAXCH][300];
	size_t n;
};

static int add(struct pending *p, const char *arg)
{
	int set = arg[0] == '+';
	if (p->n + 2 > MAXCH)
		return -1;
	for (int k = 0; k < 2; k++) {
		struct dnsfollow_change *c = &p->c[p->n];
		char *nm = p->names[p->n];
		snprintf(nm, 300, "%s%s", k == 0 ? "_dnsfollow." : "", arg + 1);
		*c = (struct dnsfollow_change){
			.op = set ? DNSFOLLOW_CHANGE_SET : DNSFOLLOW_CHANGE_DELETE,
			.rrset = {.name = nm, .type = k == 0 ? 16 : 1, .ttl = 60,
				  .count = set, .rdata = set ? (k == 0 ? own : addr) : NULL}};
		p->n++;
	}
	return 0;
}

static int flush(void *self, const char *zone, struct pending *p)
{
	static uint32_t groups[MAXCH];
	if (!p->n)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		groups[i] = (uint32_t)(i / 2);
	int rc = apply_cs(self, zone, p->c, p->n, NULL, groups);
	p->n = 0;
	return rc;
}

static int print_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)ctx;
	if (rr->type != 16 || strncmp(rr->name, "_dnsfollow.", 11) != 0) {
		printf("other=%s %u\n", rr->name, rr->type);
		return 0;
	}
	printf("rrset=%s %zu\n", rr->name, rr->count);
	for (size_t i = 0; i < rr->count; i++)
		printf("marker=%s %u %s\n", rr->name, rr->ttl, rr->rdata[i]);
	return 0;
}

/* The provider's log lines about transfers, since the last call. */
static void print_log(const struct dnsfollow_host *h)
{
	static size_t done;
	const char *l = testhost_log(h);
	l += strlen(l) >= done ? done : strlen(l);
	done += strlen(l);
	while (*l) {
		size_t n = strcspn(l, "\n");
		if (memmem(l, n, "transfer", 8))
			printf("log=%.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
}

static int run(const struct dnsfollow_host *h, int argc, char **argv)
{
	const char *kv[32] = {0};
	char server[160], keyfile[300], zones[300];
	size_t nkv = 0;
	int i = 4;
	snprintf(server, sizeof server, "server=%s", argv[1]);
	snprintf(keyfile, sizeof keyfile, "key_file=%s", argv[2]);
	snprintf(zones, sizeof zones, "zones=%s", argv[3]);
	kv[nkv++] = server;
	kv[nkv++] = zones;
	if (strcmp(argv[2], "-"))
		kv[nkv++] = keyfile;
	for (; i < argc && strncmp(argv[i], "opt:", 4) == 0 && nkv < 30; i++)
		kv[nkv++] = argv[i] + 4;
	struct dnsfollow_kv cfg[32];
	void *self = NULL;
	int rc = dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 32, kv), &self);
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	static struct pending p;
	for (; rc == 0 && i < argc; i++) {
		if (argv[i][0] == '+' || argv[i][0] == '-') {
			rc = add(&p, argv[i]);
		} else if (strcmp(argv[i], "markers") == 0) {
			rc = flush(self, argv[3], &p);
			if (rc == 0)
				rc = ops->markers(self, argv[3], print_rrset, NULL);
			print_log(h);
			printf("markers-done\n");
		} else {
			fprintf(stderr, "drv_markers: unknown argument %s\n", argv[i]);
			rc = -22;
		}
	}
	if (rc == 0)
		rc = flush(self, argv[3], &p);
	if (self)
		dnsfollow_plugin.destroy(self);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		printf("1..0 # SKIP driver for tests/rfc2136/t_axfr.sh\n");
		return argc == 1 ? 0 : 2;
	}
	const struct dnsfollow_host *h = testhost_new("driver");
	int rc = run(h, argc, argv);
	printf("rc=%d\nkind=%s\nerror=%s\n", rc, rc == 0 ? "ok" :
	       dnsfollow_err_is_temporary(rc) ? "temporary" : "permanent",
	       rc ? testhost_error(h) : "");
	testhost_free(h);
	return 0;
}
