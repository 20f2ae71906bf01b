#include "testhost.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

struct testhost {
	struct df_host *dh; /* the real host; its log fn is replaced */
	char log[1 << 16];
	size_t loglen;
	pthread_mutex_t mu;
};

/* The df_host's first member is the public table; we keep our own
 * pointer alongside in a small registry keyed by the table address. */
#define MAX_HOSTS 64
static struct testhost *hosts[MAX_HOSTS];

static struct testhost *find(const struct dnsfollow_host *h)
{
	for (int i = 0; i < MAX_HOSTS; i++)
		if (hosts[i] && &hosts[i]->dh->pub == h)
			return hosts[i];
	return NULL;
}

static void th_log(const struct dnsfollow_host *h, int level, const char *fmt,
		   ...)
{
	struct testhost *t = find(h);
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	df_redact(line, sizeof line);
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	int n = snprintf(t->log + t->loglen, sizeof t->log - t->loglen,
			 "%d %s\n", level, line);
	if (n > 0 && t->loglen + (size_t)n < sizeof t->log)
		t->loglen += (size_t)n;
	pthread_mutex_unlock(&t->mu);
	if (getenv("TESTHOST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", h->instance, line);
}

const struct dnsfollow_host *testhost_new(const char *name)
{
	struct testhost *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->dh = df_host_new("test", name);
	if (!t->dh) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->dh->pub.log = th_log;
	for (int i = 0; i < MAX_HOSTS; i++)
		if (!hosts[i]) {
			hosts[i] = t;
			return &t->dh->pub;
		}
	df_host_free(t->dh);
	free(t);
	return NULL;
}

void testhost_free(const struct dnsfollow_host *h)
{
	for (int i = 0; i < MAX_HOSTS; i++)
		if (hosts[i] && &hosts[i]->dh->pub == h) {
			pthread_mutex_destroy(&hosts[i]->mu);
			df_host_free(hosts[i]->dh);
			free(hosts[i]);
			hosts[i] = NULL;
		}
}

const char *testhost_log(const struct dnsfollow_host *h)
{
	struct testhost *t = find(h);
	return t ? t->log : "";
}

const char *testhost_error(const struct dnsfollow_host *h)
{
	struct testhost *t = find(h);
	return t ? t->dh->err : "";
}

int testhost_error_rc(const struct dnsfollow_host *h)
{
	struct testhost *t = find(h);
	return t ? t->dh->err_rc : 0;
}

unsigned testhost_retry_after(const struct dnsfollow_host *h)
{
	struct testhost *t = find(h);
	return t ? t->dh->retry_after_ms : 0;
}

void testhost_clear(const struct dnsfollow_host *h)
{
	struct testhost *t = find(h);
	if (!t)
		return;
	df_host_reset(t->dh);
	pthread_mutex_lock(&t->mu);
	t->log[0] = '\0';
	t->loglen = 0;
	pthread_mutex_unlock(&t->mu);
}

size_t testhost_kv(struct dnsfollow_kv *out, size_t cap, const char *const *kvs)
{
	static char store[64][512];
	size_t n = 0;
	for (; kvs[n] && n < cap && n < 64; n++) {
		snprintf(store[n], sizeof store[n], "%s", kvs[n]);
		char *eq = strchr(store[n], '=');
		if (eq)
			*eq = '\0';
		out[n].key = store[n];
		out[n].value = eq ? eq + 1 : "";
		out[n].num = 0;
	}
	return n;
}

/* The declared key `key` matches: its name, or "prefix.*" for any key
 * below the prefix. */
static const struct dnsfollow_key *declared(const struct dnsfollow_key *keys,
					    const char *key)
{
	for (const struct dnsfollow_key *k = keys; k && k->name; k++) {
		size_t n = strlen(k->name);
		if (strcmp(k->name, key) == 0 ||
		    (n >= 2 && strcmp(k->name + n - 2, ".*") == 0 &&
		     strncmp(key, k->name, n - 1) == 0 && key[n - 1]))
			return k;
	}
	return NULL;
}

/* out[i] typed by the core's own validator; 0, or -1 with a message. */
static int type_one(struct dnsfollow_kv *kv, const struct dnsfollow_key *k,
		    char *canon_store, size_t cap)
{
	char msg[256], *canon = NULL;
	if (df_key_parse(k, kv->key, kv->value, &kv->num, &canon, msg,
			 sizeof msg) != 0) {
		fprintf(stderr, "testhost_kv_typed: %s\n", msg);
		return -1;
	}
	snprintf(canon_store, cap, "%s", canon);
	free(canon);
	kv->value = canon_store;
	return 0;
}

long testhost_kv_typed(struct dnsfollow_kv *out, size_t cap,
		       const char *const *kvs, const struct dnsfollow_key *keys)
{
	static char canon[64][512];
	size_t n = testhost_kv(out, cap, kvs);
	for (size_t i = 0; i < n; i++) {
		const struct dnsfollow_key *k = declared(keys, out[i].key);
		if (!k && (strcmp(out[i].key, "zones") == 0 ||
			   strcmp(out[i].key, "type") == 0))
			continue; /* the core's own keys, passed on */
		if (!k) {
			fprintf(stderr, "testhost_kv_typed: unknown key %s\n",
				out[i].key);
			return -1;
		}
		if (type_one(&out[i], k, canon[i], sizeof canon[i]) != 0)
			return -1;
	}
	for (const struct dnsfollow_key *k = keys; k && k->name; k++) {
		if (!k->def || dnsfollow_kv_find(out, n, k->name))
			continue;
		if (n >= cap || n >= 64)
			return -1;
		out[n] = (struct dnsfollow_kv){k->name, k->def, 0};
		if (type_one(&out[n], k, canon[n], sizeof canon[n]) != 0)
			return -1;
		n++;
	}
	return (long)n;
}

const char *test_build_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n <= 0)
		return "build";
	dir[n] = '\0';
	/* Strip /tests/unit/NAME/test_x: four path components. */
	for (int i = 0; i < 4; i++) {
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	return dir;
}

const char *test_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/dftest.XXXXXX");
	return mkdtemp(dir);
}

char *test_write_file(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	if (!path)
		return NULL;
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}
