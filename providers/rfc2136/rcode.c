/*
 * What a server's answer means for dnsfollow: DNS rcodes and TSIG errors
 * mapped to temporary or permanent errors, each with one line saying what
 * to check. Names of keys and zones are shown; secrets never.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rfc2136.h"

const char *r2136_rcode_name(unsigned rcode)
{
	static const char *const n[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
	return rcode < sizeof n / sizeof n[0] ? n[rcode] : "unknown rcode";
}

int r2136_try_next(const struct r2136_reply *r)
{
	unsigned rc = r2136_rcode(&r->msg);
	return !r->tsig_error && (rc == 2 || rc == 4);
}

int r2136_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (z == 0)
		return 1; /* the root holds everything */
	if (n < z || strcasecmp(name + n - z, zone) != 0)
		return 0;
	return n == z || name[n - z - 1] == '.';
}

static int tsig_error(struct r2136 *p, const struct r2136_reply *r,
		      const char *what)
{
	const char *srv = r->server->text, *key = p->key.name;
	switch (r->tsig_error) {
	case R2136_BADSIG:
		return p->host->error(p->host, -EACCES, "server %s rejected the "
				      "signature of TSIG key '%s' on the %s (BADSIG): wrong "
				      "secret or algorithm", srv, key, what);
	case R2136_BADKEY:
		return p->host->error(p->host, -EACCES, "server %s does not know "
				      "TSIG key '%s' with algorithm %s (BADKEY)", srv, key,
				      r2136_alg_name(p->key.alg));
	case R2136_BADTIME: {
		int64_t ours = p->host->wall_time();
		return p->host->error(p->host, -EACCES, "server %s rejected the "
				      "time of the %s (BADTIME): server time %llu, ours %lld "
				      "(off by %lld s); fix the clock", srv, what,
				      (unsigned long long)r->server_time, (long long)ours,
				      (long long)(ours - (int64_t)r->server_time));
	}
	default:
		return p->host->error(p->host, -EACCES, "server %s reported TSIG "
				      "error %d on the %s", srv, r->tsig_error, what);
	}
}

int r2136_judge(struct r2136 *p, const struct r2136_reply *r,
		const char *what, const char *zone, int nx_ok)
{
	const struct dnsfollow_host *h = p->host;
	const char *srv = r->server->text;
	unsigned rc = r2136_rcode(&r->msg);
	if (r->tsig_error)
		return tsig_error(p, r, what);
	switch (rc) {
	case 0:
		return 0;
	case 3:
		if (nx_ok)
			return 0;
		break;
	case 1:
		return h->error(h, -EPROTO, "server %s could not parse the %s "
				"for zone %s (FORMERR)", srv, what, zone);
	case 2:
		return h->error(h, -EAGAIN, "server %s failed on the %s for zone "
				"%s (SERVFAIL); will retry", srv, what, zone);
	case 4:
		return h->error(h, -EOPNOTSUPP, "server %s does not implement the "
				"%s (NOTIMP)", srv, what);
	case 5:
		if (strncmp(what, "UPDATE", 6) != 0)
			return h->error(h, -EACCES, "server %s refused the %s for zone "
					"%s (REFUSED): does it serve the zone, and allow "
					"this client and key?", srv, what, zone);
		return h->error(h, -EACCES, "server %s refused the %s for zone %s "
				"(REFUSED): check its allow-update/update-policy (or ACL) "
				"and the TSIG key", srv, what, zone);
	case 9:
		if (!p->have_key)
			return h->error(h, -EACCES, "server %s did not authorize the "
					"unsigned %s for zone %s (NOTAUTH): configure a TSIG key",
					srv, what, zone);
		return h->error(h, -ENOENT, "server %s is not authoritative for "
				"zone %s or did not authorize the %s (NOTAUTH)", srv, zone,
				what);
	case 10:
		return h->error(h, -ENOENT, "server %s: a name of the %s is outside "
				"zone %s (NOTZONE)", srv, what, zone);
	default:
		break;
	}
	return h->error(h, -EPROTO, "server %s answered the %s for zone %s with "
			"%s (%u)", srv, what, zone, r2136_rcode_name(rc), rc);
}
