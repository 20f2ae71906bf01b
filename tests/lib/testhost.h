/*
 * A host table for plugin unit tests (collectd's plugin_mock idea): link a
 * plugin's objects with this instead of running the daemon. Logs and the
 * error text are captured for assertions; HTTP is the core's real helper.
 */
#ifndef DF_TESTHOST_H
#define DF_TESTHOST_H

#include <dnsfollow/plugin.h>

#include "host.h"

/** A fresh host for instance `name`. Free with testhost_free(). */
const struct dnsfollow_host *testhost_new(const char *name);
void testhost_free(const struct dnsfollow_host *h);

/** Every log line so far, '\n'-separated (static buffer of the host). */
const char *testhost_log(const struct dnsfollow_host *h);
/** Text of the last host->error() ("" if none), and its code. */
const char *testhost_error(const struct dnsfollow_host *h);
int testhost_error_rc(const struct dnsfollow_host *h);
unsigned testhost_retry_after(const struct dnsfollow_host *h);
void testhost_clear(const struct dnsfollow_host *h);

/** Build a kv array from "key=value" strings (NULL-terminated list);
 *  returns the count. The strings must outlive the array's use. */
size_t testhost_kv(struct dnsfollow_kv *out, size_t cap, const char *const *kvs);

/**
 * The configuration as the core hands it to create() (ABI 2): like
 * testhost_kv, each value then checked and typed against `keys` by the
 * core's own validator (num set, canonical text), "prefix.*" keys
 * matched, `zones` and `type` passed on, and every absent key that has a
 * default appended. Returns the count, or -1 (one line on stderr) for an
 * undeclared key or a value the core would refuse. Static storage: the
 * strings last until the next call.
 */
long testhost_kv_typed(struct dnsfollow_kv *out, size_t cap,
		       const char *const *kvs, const struct dnsfollow_key *keys);

/** The build folder this test binary belongs to (from /proc/self/exe:
 *  BUILD/tests/unit/NAME/test_x → BUILD). Static storage. */
const char *test_build_dir(void);

/** A fresh temporary folder (mkdtemp) and a file in it with `text`. */
const char *test_tmpdir(void);
char *test_write_file(const char *dir, const char *name, const char *text);

#endif
