/*
 * The static backend: placements written by hand in an INI file,
 *
 *   [gogs]
 *   addresses = 192.0.2.10, 2001:db8::10
 *
 * re-read on every resolution and watched with inotify, so an edit wakes
 * the core at once. A malformed file fails the resolution (records keep
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
#include <unistd.h>

#include <dnsfollow/plugin.h>

#define MAX_ADDRS 256

struct stat_backend {
	const struct dnsfollow_host *h;
	char *file;
	char *base; /* file name inside its folder, for inotify events */
	int ifd;
};

static const struct dnsfollow_key keys[] = {
	{"file", DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_PATH,
	 "placements file: [SERVICE] sections with addresses = A, B"},
	{NULL, 0, NULL},
};

static void st_destroy(void *self)
{
	struct stat_backend *b = self;
	if (b->ifd >= 0)
		close(b->ifd);
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
	/* The folder, not the file: editors replace files by renaming. */
	if (inotify_add_watch(b->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
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

struct parse {
	const char *service;
	int found;
	char err[256];
	char *addrs[MAX_ADDRS];
	size_t naddrs;
};

/* Check every address of a line; keep them when `keep`. */
static int add_addresses(struct parse *p, const char *section, const char *value,
			 int keep)
{
	char *copy = strdup(value), *save = NULL;
	if (!copy)
		return 0;
	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		unsigned char bin[16];
		if (inet_pton(AF_INET, t, bin) != 1 && inet_pton(AF_INET6, t, bin) != 1) {
			snprintf(p->err, sizeof p->err, "[%s]: '%s' is not an IP address",
				 section, t);
			break;
		}
		if (!keep)
			continue;
		if (p->naddrs == MAX_ADDRS) {
			snprintf(p->err, sizeof p->err, "[%s]: more than %d addresses",
				 section, MAX_ADDRS);
			break;
		}
		if (!(p->addrs[p->naddrs] = strdup(t)))
			break;
		p->naddrs++;
	}
	free(copy);
	return !p->err[0];
}

static int on_line(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parse *p = user;
	if (p->err[0])
		return 0;
	if (strcmp(key, "addresses") != 0) {
		snprintf(p->err, sizeof p->err, "[%s]: unknown key '%s' (allowed: addresses)",
			 section, key);
		return 0;
	}
	/* Check every section, keep only ours: a file with a mistake
	 * anywhere is not trusted at all. */
	int ours = strcmp(section, p->service) == 0;
	p->found |= ours;
	return add_addresses(p, section, value, ours);
}

static int st_resolve(void *self, const struct dnsfollow_query *q,
		      dnsfollow_placement_cb emit, void *ctx)
{
	struct stat_backend *b = self;
	struct parse p = {.service = q->service};
	int line = ini_parse(b->file, on_line, &p);
	int rc = 0;
	if (line == -1)
		rc = b->h->error(b->h, -ENOENT, "cannot open %s: %s", b->file, strerror(errno));
	else if (p.err[0])
		rc = b->h->error(b->h, -EINVAL, "%s:%d: %s", b->file, line, p.err);
	else if (line > 0)
		rc = b->h->error(b->h, -EINVAL, "%s:%d: syntax error", b->file, line);
	else if (line < 0)
		rc = b->h->error(b->h, -ENOMEM, "out of memory reading %s", b->file);
	else if (!p.found)
		rc = b->h->error(b->h, -ENOENT, "service '%s' has no [%s] section in %s",
				 q->service, q->service, b->file);
	for (size_t i = 0; i < p.naddrs; i++) {
		if (rc == 0) {
			const char *one[1] = {p.addrs[i]};
			struct dnsfollow_placement pl = {
				.struct_size = sizeof pl, .node_id = p.addrs[i],
				.node_name = p.addrs[i], .state = "static",
				.naddrs = 1, .addrs = one};
			rc = emit(ctx, &pl);
		}
		free(p.addrs[i]);
	}
	return rc;
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
