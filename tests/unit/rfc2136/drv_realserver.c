/*
 * A driver for tests/rfc2136/t_update.sh: calls the provider's apply()
 * directly through the test host, so that the UPDATE path meets a real
 * named or knotd (dnsfollow itself reads first, and its first signed
 * query would fail before any UPDATE is sent).
 *
 *   drv_realserver SERVER KEYFILE|- ZONE NAME [TARGET]
 *
 * sets NAME A 192.0.2.99 and its ownership TXT in ZONE (deleting a CNAME
 * at NAME), or with TARGET sets NAME CNAME TARGET (deleting its A RRset),
 * in one changeset of one group as the core builds it, the delete given
 * last, and prints
 *   rc=CODE
 *   kind=ok|temporary|permanent
 *   error=TEXT
 *   results=R,R,R      (per change: 0 applied, 1 unknown)
 * and after a success what read() then reports for NAME A and CNAME:
 *   read=NAME TYPE DATA
 * DNSFOLLOW_TIME_OFFSET shifts the clock as for dnsfollow. It is built
 * with the unit tests but, not being a test_*, only t_update.sh runs it.
 */
#include <stdio.h>
#include <string.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"
#include "harness.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static int apply_one(void *self, const char *zone, const char *name,
		     const char *target)
{
	static const char *const addr[] = {"192.0.2.99"};
	static const char *const own[] = {"heritage=dnsfollow,owner=driver"};
	const char *const cname[] = {target};
	char marker[300];
	snprintf(marker, sizeof marker, "_dnsfollow.%s", name);
	const struct dnsfollow_change c[] = {
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {.name = marker, .type = 16,
			.ttl = 60, .count = 1, .rdata = own}},
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {.name = name,
			.type = target ? 5 : 1, .ttl = 60, .count = 1,
			.rdata = target ? cname : addr}},
		{.op = DNSFOLLOW_CHANGE_DELETE, .rrset = {.name = name,
			.type = target ? 1 : 5}},
	};
	const uint32_t groups[] = {1, 1, 1};
	int res[3];
	int rc = apply_cs(self, zone, c, 3, res, groups);
	printf("results=%d,%d,%d\n", res[0], res[1], res[2]);
	return rc;
}

static int print_rrset(void *ctx, const struct dnsfollow_rrset *rr)
{
	(void)ctx;
	for (size_t i = 0; i < rr->count; i++)
		printf("read=%s %u %s\n", rr->name, rr->type, rr->rdata[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		printf("1..0 # SKIP driver for tests/rfc2136/t_update.sh\n");
		return argc == 1 ? 0 : 2;
	}
	char server[160], keyfile[300], zones[300];
	snprintf(server, sizeof server, "server=%s", argv[1]);
	snprintf(keyfile, sizeof keyfile, "key_file=%s", argv[2]);
	snprintf(zones, sizeof zones, "zones=%s", argv[3]);
	const char *kv[] = {server, "timeout_ms=1000", zones,
			    strcmp(argv[2], "-") ? keyfile : NULL, NULL};
	struct dnsfollow_kv cfg[16];
	const struct dnsfollow_host *h = testhost_new("driver");
	void *self = NULL;
	int rc = dnsfollow_plugin.create(h, cfg, typed_kv(cfg, 16, kv), &self);
	if (rc == 0) {
		rc = apply_one(self, argv[3], argv[4], argc == 6 ? argv[5] : NULL);
		const struct dnsfollow_rrkey keys[] = {{argv[4], 1}, {argv[4], 5}};
		const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
		if (rc == 0 && ops->read(self, argv[3], keys, 2, print_rrset, NULL))
			printf("read failed: %s\n", testhost_error(h));
		dnsfollow_plugin.destroy(self);
	}
	printf("rc=%d\nkind=%s\nerror=%s\n", rc, rc == 0 ? "ok" :
	       dnsfollow_err_is_temporary(rc) ? "temporary" : "permanent",
	       testhost_error(h));
	testhost_free(h);
	return 0;
}
