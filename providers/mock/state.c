/*
 * The mock's state file. It is edited by hand and by scripts, so it is
 * checked whole when read: any wrong shape is one error naming the file
 * and where in it, and the pass fails before anything is written.
 */
#include "mock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mock_shown(const char *s, char *buf, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 4 < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	snprintf(buf + i, n - i, "%s", s[i] ? "..." : "");
	return buf;
}

static int check_rrset(json_t *rr, const char *path, const char *zone,
		       const char *name, const char *type, char *err, size_t errlen)
{
	char b1[80], b2[80], b3[24];
	json_t *ttl = json_object_get(rr, "ttl"), *data = json_object_get(rr, "rdata");
	const char *why = NULL;
	if (!json_is_object(rr))
		why = "not an object";
	else if (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
		 json_integer_value(ttl) > 2147483647)
		why = "\"ttl\" is not a whole number 0..2147483647";
	else if (!json_is_array(data))
		why = "\"rdata\" is not an array";
	for (size_t i = 0; !why && i < json_array_size(data); i++)
		if (!json_is_string(json_array_get(data, i)))
			why = "\"rdata\" holds a non-string";
	if (!why)
		return 0;
	snprintf(err, errlen, "%s: bad state file: zone %s: RRset %s %s: %s", path,
		 mock_shown(zone, b1, sizeof b1), mock_shown(name, b2, sizeof b2),
		 mock_shown(type, b3, sizeof b3), why);
	return -EIO;
}

static int check_zone(json_t *z, const char *path, const char *zone,
		      char *err, size_t errlen)
{
	char b1[80], b2[80];
	json_t *serial = json_object_get(z, "serial"), *sets = json_object_get(z, "rrsets");
	const char *why = NULL;
	if (!json_is_object(z))
		why = "not an object";
	else if (serial && (!json_is_integer(serial) || json_integer_value(serial) < 0))
		why = "\"serial\" is not a whole number";
	else if (!json_is_object(sets))
		why = "no \"rrsets\" object";
	if (why) {
		snprintf(err, errlen, "%s: bad state file: zone %s: %s", path,
			 mock_shown(zone, b1, sizeof b1), why);
		return -EIO;
	}
	const char *name, *type;
	json_t *byname, *rr;
	json_object_foreach(sets, name, byname) {
		if (!json_is_object(byname)) {
			snprintf(err, errlen, "%s: bad state file: zone %s: %s is not an object",
				 path, mock_shown(zone, b1, sizeof b1), mock_shown(name, b2, sizeof b2));
			return -EIO;
		}
		json_object_foreach(byname, type, rr) {
			int rc = check_rrset(rr, path, zone, name, type, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

json_t *mock_state_parse(const char *path, const char *data, size_t len,
			 char *err, size_t errlen)
{
	json_error_t e;
	char b[160];
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
	if (!doc) {
		snprintf(err, errlen, "%s:%d: bad state file: %s", path, e.line,
			 mock_shown(e.text, b, sizeof b));
		return NULL;
	}
	json_t *zones = json_object_get(doc, "zones");
	if (!json_is_object(doc) || !json_is_object(zones)) {
		snprintf(err, errlen, "%s: bad state file: no \"zones\" object", path);
		json_decref(doc);
		return NULL;
	}
	const char *zone;
	json_t *z;
	json_object_foreach(zones, zone, z) {
		if (check_zone(z, path, zone, err, errlen) != 0) {
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}
