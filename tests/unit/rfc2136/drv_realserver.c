/*
 * A driver for tests/rfc2136/t_update.sh: calls the provider's apply()
 * directly through the test host, so that the UPDATE path meets a real
 * named or knotd (dnsfollow itself reads first, and its first signed
 * query would fail before any UPDATE is sent).
 *
 *   drv_realserver SERVER KEYFILE|- ZONE NAME
 *
 * sets NAME A 192.0.2.99 and its ownership TXT in ZONE and prints
 *   rc=CODE
 *   kind=ok|temporary|permanent
 *   error=TEXT
 * DNSFOLLOW_TIME_OFFSET shifts the clock as for dnsfollow. It is built
 * with the unit tests but, not being a test_*, only t_update.sh runs it.
 */
#include <stdio.h>
#include <string.h>

#include "../../../providers/rfc2136/rfc2136.h"
#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static int apply_one(void *self, const char *zone, const char *name)
{
	static const char *const addr[] = {"192.0.2.99"};
	static const char *const own[] = {"heritage=dnsfollow,owner=driver"};
	char marker[300];
	snprintf(marker, sizeof marker, "_dnsfollow.%s", name);
	const struct dnsfollow_change c[] = {
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {.name = marker, .type = 16,
			.ttl = 60, .count = 1, .rdata = own}},
		{.op = DNSFOLLOW_CHANGE_SET, .rrset = {.name = name, .type = 1,
			.ttl = 60, .count = 1, .rdata = addr}},
	};
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	return ops->apply(self, zone, c, sizeof c / sizeof c[0]);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		printf("1..0 # SKIP driver for tests/rfc2136/t_update.sh\n");
		return argc == 1 ? 0 : 2;
	}
	char server[160], keyfile[300], zones[300];
	snprintf(server, sizeof server, "server=%s", argv[1]);
	snprintf(keyfile, sizeof keyfile, "key_file=%s", argv[2]);
	snprintf(zones, sizeof zones, "zones=%s", argv[3]);
	const char *kv[] = {server, "timeout_ms=1000", zones,
			    strcmp(argv[2], "-") ? keyfile : NULL, NULL};
	struct dnsfollow_kv cfg[8];
	const struct dnsfollow_host *h = testhost_new("driver");
	void *self = NULL;
	int rc = dnsfollow_plugin.create(h, cfg, testhost_kv(cfg, 8, kv), &self);
	if (rc == 0) {
		rc = apply_one(self, argv[3], argv[4]);
		dnsfollow_plugin.destroy(self);
	}
	printf("rc=%d\nkind=%s\nerror=%s\n", rc, rc == 0 ? "ok" :
	       dnsfollow_err_is_temporary(rc) ? "temporary" : "permanent",
	       testhost_error(h));
	testhost_free(h);
	return 0;
}
