/*
 * The static backend: placements written by hand in an INI file,
 *
 *   [gogs]
 *   addresses = 192.0.2.10, 2001:db8::10
 *
 * parsed whole once per version of the file (device, inode, size and
 * modification time tell a new version), so a pass resolving many services
 * reads it once, and watched with inotify, so an edit wakes the core at
 * once. A malformed file fails every resolution from it (records keep
 * their value); it never stops the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dnsfollow/plugin.h>

#define MAX_ADDRS 256 /* per service */

/* One address of one service, as the file gave it. */
struct entry {
	char *service;
	char *addr;     /* NULL: the service's section, even if empty */
	size_t order;   /* place in the file, to keep file order per service */
};

/* The parsed file: entries sorted by service, or the error it gave. */
struct table {
	struct entry *v;
	size_t n, cap;
	int rc;            /* 0, or the error of the whole file */
	char err[512];
	struct stat st;    /* the version parsed */
	time_t parsed_at;  /* wall clock of the parse */
	int valid;
};

struct stat_backend {
	const struct dnsfollow_host *h;
	char *file;
	char *base; /* file name inside its folder, for inotify events */
	int ifd;
	struct table t;
};

static const struct dnsfollow_key keys[] = {
	{"file", DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_PATH,
	 "placements file: [SERVICE] sections with addresses = A, B"},
	{NULL, 0, NULL},
};

static void table_clear(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].service);
		free(t->v[i].addr);
	}
	free(t->v);
	memset(t, 0, sizeof *t);
}

static void st_destroy(void *self)
{
	struct stat_backend *b = self;
	if (b->ifd >= 0)
		close(b->ifd);
	table_clear(&b->t);
	free(b->file);
	free(b);
}

static int watch_folder(struct stat_backend *b)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", b->file);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	b->base = slash ? b->file + (slash - dir) + 1 : b->file;
	b->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (b->ifd < 0)
		return b->h->error(b->h, -errno, "inotify: %s", strerror(errno));
	/* The folder, not the file: editors replace files by renaming. Only
	 * finished writes count (not IN_CREATE or IN_MODIFY), so a wake-up
	 * never finds a file half written. */
	if (inotify_add_watch(b->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
						   IN_DELETE | IN_MOVED_FROM | IN_ATTRIB) < 0)
		return b->h->error(b->h, -errno, "cannot watch %s: %s", dir, strerror(errno));
	return 0;
}

static int st_create(const struct dnsfollow_host *h,
		     const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	const char *file = dnsfollow_kv_get(cfg, n, "file");
	if (!file || !*file)
		return h->error(h, -EINVAL, "file = PATH is required");
	struct stat_backend *b = calloc(1, sizeof *b);
	if (!b || !(b->file = strdup(file))) {
		free(b);
		return h->error(h, -ENOMEM, "out of memory");
	}
	b->h = h;
	b->ifd = -1;
	int rc = watch_folder(b);
	if (rc) {
		st_destroy(b);
		return rc;
	}
	if (access(file, R_OK) != 0)
		h->log(h, DNSFOLLOW_LOG_WARN, "%s: %s (records using it keep their value until it exists)",
		       file, strerror(errno));
	*self = b;
	return 0;
}

static int add_entry(struct table *t, const char *service, const char *addr)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct entry *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	struct entry *e = &t->v[t->n];
	e->service = strdup(service);
	e->addr = addr ? strdup(addr) : NULL;
	e->order = t->n;
	if (!e->service || (addr && !e->addr)) {
		free(e->service);
		free(e->addr);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

/* Check every address of a line and keep it. */
static int add_addresses(struct table *t, const char *section, const char *value)
{
	char *copy = strdup(value), *save = NULL;
	if (!copy || add_entry(t, section, NULL) != 0) {
		free(copy);
		snprintf(t->err, sizeof t->err, "out of memory");
		return 0;
	}
	for (char *a = strtok_r(copy, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
		unsigned char bin[16];
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) {
			snprintf(t->err, sizeof t->err, "[%s]: '%s' is not an IP address",
				 section, a);
			break;
		}
		if (add_entry(t, section, a) != 0) {
			snprintf(t->err, sizeof t->err, "out of memory");
			break;
		}
	}
	free(copy);
	return !t->err[0];
}

static int on_line(void *user, const char *section, const char *key,
		   const char *value)
{
	struct table *t = user;
	if (t->err[0])
		return 0;
	if (strcmp(key, "addresses") != 0) {
		snprintf(t->err, sizeof t->err, "[%s]: unknown key '%s' (allowed: addresses)",
			 section, key);
		return 0;
	}
	return add_addresses(t, section, value);
}

static int by_service(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->service, y->service);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Parse the file into b->t unless the version parsed last is current.
 * The whole file must be right: a mistake anywhere fails every service. */
static void load(struct stat_backend *b)
{
	struct stat st;
	struct table *t = &b->t;
	int have = stat(b->file, &st) == 0;
	/* File times are coarse (a clock tick): a file changed in the very
	 * second it was parsed could change again, same size, same time
	 * stamp. Only a file older than its parse is trusted unchanged. */
	if (have && t->valid && st.st_dev == t->st.st_dev &&
	    st.st_ino == t->st.st_ino && st.st_size == t->st.st_size &&
	    st.st_mtim.tv_sec == t->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec &&
	    st.st_mtim.tv_sec < t->parsed_at)
		return;
	table_clear(t);
	if (!have) {
		t->rc = -ENOENT;
		snprintf(t->err, sizeof t->err, "cannot open %s: %s", b->file,
			 strerror(errno));
		return; /* not valid: looked at again next time */
	}
	t->parsed_at = time(NULL);
	int line = ini_parse(b->file, on_line, t);
	if (line == -1) {
		t->rc = -ENOENT;
		snprintf(t->err, sizeof t->err, "cannot open %s: %s", b->file,
			 strerror(errno));
		return;
	}
	if (t->err[0] || line != 0) {
		char what[sizeof t->err];
		snprintf(what, sizeof what, "%s", t->err[0] ? t->err
				 : line > 0 ? "syntax error" : "out of memory");
		t->rc = line < 0 ? -ENOMEM : -EINVAL;
		snprintf(t->err, sizeof t->err, "%s:%d: %s", b->file, line, what);
	}
	if (t->n) /* an empty file has no array at all */
		qsort(t->v, t->n, sizeof *t->v, by_service);
	t->st = st;
	t->valid = 1;
}

/* The first entry of `service`, or NULL. */
static const struct entry *find(const struct table *t, const char *service)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].service, service) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && strcmp(t->v[lo].service, service) == 0 ? &t->v[lo] : NULL;
}

static int st_resolve(void *self, const struct dnsfollow_query *q,
		      dnsfollow_placement_cb emit, void *ctx)
{
	struct stat_backend *b = self;
	const struct table *t = &b->t;
	load(b);
	if (t->rc)
		return b->h->error(b->h, t->rc, "%s", t->err);
	const struct entry *e = find(t, q->service);
	if (!e)
		return b->h->error(b->h, -ENOENT, "service '%s' has no [%s] section in %s",
				   q->service, q->service, b->file);
	size_t naddrs = 0;
	for (const struct entry *x = e; x < t->v + t->n && strcmp(x->service, q->service) == 0; x++) {
		if (!x->addr)
			continue;
		if (++naddrs > MAX_ADDRS)
			return b->h->error(b->h, -EINVAL, "%s: [%s]: more than %d addresses",
					   b->file, q->service, MAX_ADDRS);
	}
	for (; e < t->v + t->n && strcmp(e->service, q->service) == 0; e++) {
		if (!e->addr)
			continue;
		const char *one[1] = {e->addr};
		struct dnsfollow_placement pl = {
			.struct_size = sizeof pl, .node_id = e->addr,
			.node_name = e->addr, .state = "static",
			.naddrs = 1, .addrs = one};
		int rc = emit(ctx, &pl);
		if (rc)
			return rc;
	}
	return 0;
}

static int st_watch_fd(void *self)
{
	return ((struct stat_backend *)self)->ifd;
}

static int st_watch_ack(void *self)
{
	struct stat_backend *b = self;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0;
	ssize_t n;
	while ((n = read(b->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->len && strcmp(ev->name, b->base) == 0)
				relevant = 1;
			if (relevant)
				b->t.valid = 0;
			p += sizeof *ev + ev->len;
		}
	}
	return relevant;
}

static const struct dnsfollow_backend_ops ops = {
	.struct_size = sizeof ops,
	.resolve = st_resolve,
	.watch_fd = st_watch_fd,
	.watch_ack = st_watch_ack,
};

DNSFOLLOW_PLUGIN_EXPORT const struct dnsfollow_plugin dnsfollow_plugin = {
	.abi_version = DNSFOLLOW_ABI_VERSION,
	.kind = DNSFOLLOW_KIND_BACKEND,
	.name = "static",
	.version = "1.0",
	.config_keys = keys,
	.create = st_create,
	.destroy = st_destroy,
	.ops = &ops,
};
