/*
 * The installed test host, used the way a plugin author would: this file
 * and a plugin's source (tests/conform/memprov.c) compiled out of tree
 * with `pkg-config --cflags --libs dnsfollow-testhost`, no daemon, no
 * dnsfollow sources. Prints TAP (run by tests/e2e/t_install.sh).
 */
#include <dnsfollow/testhost.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct dnsfollow_plugin dnsfollow_plugin; /* memprov.c */

static int n, failed;
static void check(int pass, const char *what)
{
	printf("%sok %d - %s\n", pass ? "" : "not ", ++n, what);
	failed += !pass;
}

static const char *const modes[] = {"keep", "delete", NULL};
static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_STRING("name", DNSFOLLOW_KEY_REQUIRED, "a name"),
	DNSFOLLOW_KEY_UINT("retries", "3", 1, 20, "attempts"),
	DNSFOLLOW_KEY_BOOL("verify", "yes", "check"),
	DNSFOLLOW_KEY_DURATION("wait", "30s", 0, 0, "delay"),
	DNSFOLLOW_KEY_ENUM("mode", "keep", modes, "what to do"),
	DNSFOLLOW_KEY_END,
};

static void typed_keys(void)
{
	struct dnsfollow_kv *kv;
	size_t nkv;
	char err[256];
	const char *good[] = {"name=x", "wait=5m", "mode=DELETE", NULL};
	int rc = dnsfollow_testhost_kv(keys, good, &kv, &nkv, err, sizeof err);
	check(rc == 0 && nkv == 5, "typed keys: items plus defaults");
	check(rc == 0 && dnsfollow_kv_num(kv, nkv, "retries", 0) == 3 &&
	      dnsfollow_kv_num(kv, nkv, "verify", 0) == 1 &&
	      dnsfollow_kv_num(kv, nkv, "wait", 0) == 300000 &&
	      dnsfollow_kv_num(kv, nkv, "mode", 9) == 1,
	      "typed keys: numbers as the daemon delivers them");
	dnsfollow_testhost_kv_free(kv, nkv);
	const char *bad[] = {"name=x", "retries=99", NULL};
	rc = dnsfollow_testhost_kv(keys, bad, &kv, &nkv, err, sizeof err);
	check(rc < 0 && strstr(err, "retries"), "typed keys: a value out of bounds is refused");
	const char *none[] = {"retries=2", NULL};
	rc = dnsfollow_testhost_kv(keys, none, &kv, &nkv, err, sizeof err);
	check(rc < 0 && strstr(err, "name"), "typed keys: a missing REQUIRED key is refused");
	const char *unknown[] = {"name=x", "colour=red", NULL};
	rc = dnsfollow_testhost_kv(keys, unknown, &kv, &nkv, err, sizeof err);
	check(rc < 0 && strstr(err, "colour"), "typed keys: an unknown key is refused");
}

static int on_rr(void *ctx, const struct dnsfollow_rrset *rr)
{
	*(int *)ctx = rr->count == 1 && strcmp(rr->rdata[0], "192.0.2.7") == 0;
	return 0;
}

static void plugin_calls(const struct dnsfollow_host *h)
{
	struct dnsfollow_kv cfg[] = {{"zones", "example.test", 0}};
	void *self = NULL;
	int rc = dnsfollow_plugin.create(h, cfg, 1, &self);
	check(rc == 0, "the plugin is created on the test host");
	const struct dnsfollow_provider_ops *ops = dnsfollow_plugin.ops;
	const char *data[] = {"192.0.2.7"};
	struct dnsfollow_change ch = {DNSFOLLOW_CHANGE_SET,
				      {"www.example.test", DNSFOLLOW_TYPE_A, 60, 1, data}, NULL};
	int res = DNSFOLLOW_RESULT_UNKNOWN;
	uint32_t group = 0;
	struct dnsfollow_options opt = {NULL, 0};
	struct dnsfollow_changeset cs = {sizeof cs, "example.test", &ch, 1, &res, &group, &opt};
	rc = ops->apply(self, &cs);
	struct dnsfollow_rrkey k = {"www.example.test", DNSFOLLOW_TYPE_A};
	int seen = 0;
	check(rc == 0 && res == 0 && ops->read(self, "example.test", &k, 1, on_rr, &seen) == 0 &&
	      seen, "apply then read through the plugin's ops");
	dnsfollow_testhost_clear(h);
	cs.zone = "elsewhere.test";
	rc = ops->apply(self, &cs);
	check(rc == -ENOENT && dnsfollow_testhost_error_rc(h) == -ENOENT &&
	      strstr(dnsfollow_testhost_error(h), "elsewhere.test"),
	      "the error text and code of a failing op are captured");
	dnsfollow_plugin.destroy(self);
}

static int fake_http(void *ctx, const struct dnsfollow_http_request *req,
		     struct dnsfollow_http_response *resp)
{
	*(int *)ctx += strcmp(req->method, "GET") == 0;
	return dnsfollow_testhost_respond(resp, 429, "Retry-After: 7\r\n",
					  "{\"message\": \"slow down\"}");
}

static void host_side(const struct dnsfollow_host *h)
{
	dnsfollow_testhost_clear(h);
	check(h->secret(h, "s3cr3t-value") == 0, "a secret is registered");
	h->log(h, DNSFOLLOW_LOG_WARN, "token is %s", "s3cr3t-value");
	check(strstr(dnsfollow_testhost_log(h), "warn: token is ***") != NULL,
	      "log lines are captured, secrets masked");
	dnsfollow_testhost_set_stopping(h, 1);
	check(h->stopping(h) == 1, "stopping() is set by the test");
	int calls = 0;
	dnsfollow_testhost_set_http(h, fake_http, &calls);
	struct dnsfollow_http_request req = {sizeof req, "GET", "https://api.invalid/x", NULL,
					     NULL, NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL,
					     NULL, NULL};
	struct dnsfollow_http_response resp = {0};
	int rc = h->http(h, &req, &resp);
	int err = rc == 0 ? h->http_error(h, &resp, "GET x") : 0;
	check(rc == 0 && calls == 1 && err == -EAGAIN &&
	      dnsfollow_testhost_retry_after(h) == 7000 &&
	      strstr(dnsfollow_testhost_error(h), "slow down"),
	      "HTTP answered by the test; http_error and Retry-After as in the daemon");
	h->http_free(h, &resp);
	char *txt = h->txt_encode("say \"hi\"");
	check(txt && strcmp(txt, "\"say \\\"hi\\\"\"") == 0, "the SDK helpers are there");
	free(txt);
}

int main(void)
{
	const struct dnsfollow_host *h = dnsfollow_testhost_new("unit");
	check(h && strcmp(h->instance, "unit") == 0 && DNSFOLLOW_HOST_HAS(h, url_escape),
	      "a test host with the whole ABI 2 table");
	if (!h)
		return 1;
	typed_keys();
	plugin_calls(h);
	host_side(h);
	dnsfollow_testhost_free(h);
	printf("1..%d\n", n);
	return failed != 0;
}
