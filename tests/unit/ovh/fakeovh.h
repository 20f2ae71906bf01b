/*
 * The fake OVH API (tests/ovh/fake_ovh.py) for one test binary: started
 * once for its group of tests in a folder of its own, stopped at the
 * end; `ctl` drives its /_control endpoints. Shared by the unit tests
 * that need a server (conflict, markers, zone reads).
 */
#ifndef DF_FAKEOVH_H
#define DF_FAKEOVH_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhost.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;

static char dir[128];
static int port;
static const struct dnsfollow_host *h;
static const struct dnsfollow_provider_ops *ops;

/* Start the fake for `zones` ("a.test,b.test") in /tmp/ovh-NAME-XXXXXX;
 * 0, or -1 (the group's tests then do not run). */
static int fakeovh_start(const char *name, const char *zones)
{
	const char *top = getenv("TOP");
	if (top && chdir(top) != 0)
		return -1;
	snprintf(dir, sizeof dir, "/tmp/ovh-%s-XXXXXX", name);
	if (!mkdtemp(dir))
		return -1;
	char cmd[512], pf[160];
	snprintf(cmd, sizeof cmd,
		 "FAKE_WATCH_PID=%d sh tests/ovh/fakectl.sh start %s "
		 "--zones %s >/dev/null", (int)getpid(), dir, zones);
	snprintf(pf, sizeof pf, "%s/port", dir);
	FILE *f = system(cmd) == 0 ? fopen(pf, "r") : NULL;
	if (!f || fscanf(f, "%d", &port) != 1)
		port = -1;
	if (f)
		fclose(f);
	h = testhost_new("ovh");
	ops = dnsfollow_plugin.ops;
	return port > 0 && h ? 0 : -1;
}

static int fakeovh_stop(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "sh tests/ovh/fakectl.sh stop %s; rm -rf %s",
		 dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", dir);
	testhost_free(h);
	return 0;
}

/* A control call to the fake server; returns the parsed answer. */
static json_t *ctl(const char *method, const char *what, const char *body)
{
	char url[256], ca[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/_control/%s", port, what);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	struct dnsfollow_http_request req = {
		.struct_size = sizeof req, .method = method, .url = url,
		.body = body, .body_len = body ? strlen(body) : 0, .ca_file = ca};
	struct dnsfollow_http_response resp = {0};
	assert_int_equal(h->http(h, &req, &resp), 0);
	assert_int_equal(resp.status, 200);
	json_t *j = json_loads(resp.body, JSON_DECODE_ANY, NULL);
	h->http_free(h, &resp);
	return j;
}

#endif
