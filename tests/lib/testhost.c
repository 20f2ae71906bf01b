#include "testhost.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

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
	}
	return n;
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
