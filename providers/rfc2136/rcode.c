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

/* Not an rcode: NOTAUTH without a signature to a signed request. */
#define R2136_UNSIGNED_NOTAUTH 0x10009

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

int r2136_fail_over(int rc)
{
	return dnsfollow_err_is_temporary(rc) || rc == -EPROTO || rc == -EOPNOTSUPP;
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

/* The code and text for an error rcode, into `t`. */
static int rcode_text(const struct r2136 *p, unsigned rc, const char *srv,
		      const char *what, const char *zone, char *t, size_t len)
{
	switch (rc) {
	case 1:
		snprintf(t, len, "server %s could not parse the %s for zone %s "
			 "(FORMERR)", srv, what, zone);
		return -EPROTO;
	case 2:
		snprintf(t, len, "server %s failed on the %s for zone %s (SERVFAIL); "
			 "will retry", srv, what, zone);
		return -EAGAIN;
	case 4:
		snprintf(t, len, "server %s does not implement the %s (NOTIMP)", srv,
			 what);
		return -EOPNOTSUPP;
	case 5:
		snprintf(t, len, "server %s refused the %s for zone %s (REFUSED): %s",
			 srv, what, zone, strncmp(what, "UPDATE", 6) != 0 ?
			 "does it serve the zone, and allow this client and key?" :
			 "check its allow-update/update-policy (or ACL) and the TSIG key");
		return -EACCES;
	case 9:
		if (!p->have_key) {
			snprintf(t, len, "server %s did not authorize the unsigned %s for "
				 "zone %s (NOTAUTH): configure a TSIG key", srv, what, zone);
			return -EACCES;
		}
		snprintf(t, len, "server %s is not authoritative for zone %s or did "
			 "not authorize the %s (NOTAUTH)", srv, zone, what);
		return -ENOENT;
	case R2136_UNSIGNED_NOTAUTH:
		/* PowerDNS answers a wrong secret, an unknown key name and a
		 * wrong algorithm alike, and a zone it does not serve too. */
		snprintf(t, len, "server %s answered the %s for zone %s with an "
			 "unsigned NOTAUTH: the TSIG key '%s' (name, secret or "
			 "algorithm %s) may be wrong, or the server does not serve "
			 "the zone", srv, what, zone, p->key.name,
			 r2136_alg_name(p->key.alg));
		return -EACCES;
	case 7:
		/* Our only prerequisites say "RRset does not exist" (update.c):
		 * data a CNAME cannot sit beside, or a CNAME. */
		snprintf(t, len, "server %s refused the %s for zone %s (YXRRSET): "
			 "a CNAME and other data would share a name", srv, what, zone);
		return -EEXIST;
	case 10:
		snprintf(t, len, "server %s: a name of the %s is outside zone %s "
			 "(NOTZONE)", srv, what, zone);
		return -ENOENT;
	default:
		snprintf(t, len, "server %s answered the %s for zone %s with %s (%u)",
			 srv, what, zone, r2136_rcode_name(rc), rc);
		return -EPROTO;
	}
}

int r2136_judge(struct r2136 *p, const struct r2136_reply *r,
		const char *what, const char *zone, int nx_ok)
{
	unsigned rc = r2136_rcode(&r->msg);
	char t[512];
	if (r->tsig_error)
		return tsig_error(p, r, what);
	if (rc == 0 || (rc == 3 && nx_ok))
		return 0;
	int unsig = p->have_key && r->unsigned_answer;
	int code = rcode_text(p, unsig && rc == 9 ? R2136_UNSIGNED_NOTAUTH : rc,
			      r->server->text, what, zone, t, sizeof t);
	/* With a key, an unsigned error may not come from the server at all:
	 * say so (BIND signs NOTAUTH for a zone it does not serve, Knot does
	 * not). */
	return p->host->error(p->host, code, "%s%s", t, unsig && rc != 9 ?
			      "; the answer was not signed" : "");
}
