/*
 * The static backend: placements written by hand in an INI file,
 *
 *   [gogs]
 *   addresses = 192.0.2.10, 2001:db8::10
 *   hostname = node1.example.net     ; optional: target of CNAME records
 *   names = git.example.test         ; optional: records it asks for
 *   record.type = A, AAAA            ; their keys (discover, as labels)
 *
 * parsed whole once per version of the file (device, inode, size and
 * time stamps tell a new version), so a pass resolving many services
 * reads it once, and watched with inotify, so an edit wakes the core at
 * once. A malformed file fails every resolution from it (records keep
 * their value); it never stops the daemon. A file being written is never
 * acted on: it must have settled (settle.c) and end with a newline.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dnsfollow/plugin.h>

#include "settle.h"
#include "static.h"

#define MAX_FILE (16u << 20) /* bytes; far above any real placements file */

/* The parsed file, or the error it gave. */
struct table {
	struct sb_table p;
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
	struct sb_settle settle;
};

static const struct dnsfollow_key keys[] = {
	DNSFOLLOW_KEY_PATH_("file", DNSFOLLOW_KEY_REQUIRED,
			    "placements file: [SERVICE] sections with addresses = A, B "
			    "and/or hostname = NAME"),
	DNSFOLLOW_KEY_END,
};

static void table_clear(struct table *t)
{
	sb_clear(&t->p);
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
	 * finished writes count (not IN_CREATE or IN_MODIFY); a file still
	 * being written is caught by the settling rule when read. */
	if (inotify_add_watch(b->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
						   IN_DELETE | IN_MOVED_FROM | IN_ATTRIB) < 0)
		return b->h->error(b->h, -errno, "cannot watch %s: %s", dir, strerror(errno));
	return 0;
}

/* Say at start-up what every resolution would say later. */
static void check_file(const struct dnsfollow_host *h, const char *file)
{
	struct stat st;
	if (stat(file, &st) != 0)
		h->log(h, DNSFOLLOW_LOG_WARN, "%s: %s (records using it keep their value until it exists)",
		       file, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		h->log(h, DNSFOLLOW_LOG_WARN, "%s: is %s, not a regular file (records using it keep their value)",
		       file, S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "special");
}

static int st_create(const struct dnsfollow_host *h,
		     const struct dnsfollow_kv *cfg, size_t n, void **self)
{
	const char *file = dnsfollow_kv_get(cfg, n, "file");
	if (!file || !*file)
		return h->error(h, -EINVAL, "file = PATH is required");
	if (!DNSFOLLOW_HOST_HAS(h, read_file) || !DNSFOLLOW_HOST_HAS(h, name_normalise))
		return h->error(h, -ENOTSUP, "this dnsfollow is too old for the static backend");
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
	check_file(h, file);
	*self = b;
	return 0;
}

static void set_error(struct table *t, int rc, const char *msg)
{
	t->rc = rc;
	snprintf(t->err, sizeof t->err, "%s", msg);
}

/* The settled text of the file: 0, or an error set in b->t (not valid,
 * so it is looked at again next time). */
static int read_settled(struct stat_backend *b, char **data, size_t *len,
			struct stat *st)
{
	const struct dnsfollow_host *h = b->h;
	char err[512];
	int rc = sb_settle_read(&b->settle, h, b->file, MAX_FILE, data, len, st,
				err, sizeof err);
	if (rc) {
		set_error(&b->t, rc, err);
		return rc;
	}
	if (*len && (*data)[*len - 1] != '\n') {
		int line = 1;
		for (size_t i = 0; i < *len; i++)
			line += (*data)[i] == '\n';
		snprintf(err, sizeof err,
			 "%s:%d: ends in the middle of a line (no final newline): being written? "
			 "Records keep their value; write a new file and rename it over this one",
			 b->file, line);
		set_error(&b->t, -EAGAIN, err);
		free(*data);
		*data = NULL;
		return -EAGAIN;
	}
	return 0;
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
	if (have && t->valid && sb_same_version(&st, &t->st) &&
	    st.st_mtim.tv_sec < t->parsed_at)
		return;
	table_clear(t);
	char *data = NULL;
	size_t len = 0;
	if (read_settled(b, &data, &len, &st) != 0)
		return;
	t->parsed_at = time(NULL);
	int rc = sb_parse(&t->p, b->file, data, len, b->h->name_normalise);
	free(data);
	if (rc) {
		set_error(t, rc, t->p.err);
		sb_clear(&t->p);
	}
	t->st = st;
	t->valid = rc != -ENOMEM;
}

/* A section with a hostname is one node: that name (the target of CNAME
 * records) with every address of the section (none is fine). */
static int emit_node(const struct sb_section *s, const struct sb_table *p,
		     dnsfollow_placement_cb emit, void *ctx)
{
	struct dnsfollow_placement pl = {
		.struct_size = sizeof pl, .node_id = s->hostname,
		.node_name = s->hostname, .state = "static", .naddrs = s->count,
		.addrs = s->count ? (const char *const *)p->addrs + s->first : NULL,
		.dns_name = s->hostname};
	return emit(ctx, &pl);
}

/* Without a hostname, each address is a node of its own. */
static int emit_each(const struct sb_section *s, const struct sb_table *p,
		     dnsfollow_placement_cb emit, void *ctx)
{
	for (size_t i = s->first; i < s->first + s->count; i++) {
		const char *one[1] = {p->addrs[i]};
		struct dnsfollow_placement pl = {
			.struct_size = sizeof pl, .node_id = one[0],
			.node_name = one[0], .state = "static",
			.naddrs = 1, .addrs = one};
		int rc = emit(ctx, &pl);
		if (rc)
			return rc;
	}
	return 0;
}

/* The error of the file as loaded, said through the host. */
static int table_error(const struct stat_backend *b)
{
	const struct table *t = &b->t;
	/* no text: read_file set it in this very call */
	return t->err[0] ? b->h->error(b->h, t->rc, "%s", t->err) : t->rc;
}

static int st_resolve(void *self, const struct dnsfollow_query *q,
		      dnsfollow_placement_cb emit, void *ctx)
{
	struct stat_backend *b = self;
	const struct table *t = &b->t;
	load(b);
	if (t->rc)
		return table_error(b);
	const struct sb_section *s = sb_find(&t->p, q->service);
	if (!s)
		return b->h->error(b->h, -ENOENT, "service '%s' has no [%s] section in %s",
				   q->service, q->service, b->file);
	return s->hostname ? emit_node(s, &t->p, emit, ctx) : emit_each(s, &t->p, emit, ctx);
}

/* One discovered record per name of the section, all with its keys. */
static int discover_section(const struct stat_backend *b, const struct sb_section *s,
			    dnsfollow_discover_cb emit, void *ctx)
{
	size_t n = strlen("static:") + strlen(s->name) + 1;
	char *source = malloc(n);
	struct dnsfollow_kv *kv = calloc(s->nrkeys ? s->nrkeys : 1, sizeof *kv);
	int rc = 0;
	if (!source || !kv)
		rc = b->h->error(b->h, -ENOMEM, "out of memory");
	else
		snprintf(source, n, "static:%s", s->name);
	for (size_t i = 0; rc == 0 && i < s->nrkeys; i++)
		kv[i] = (struct dnsfollow_kv){.key = s->rkeys[i].key, .value = s->rkeys[i].value};
	for (size_t i = 0; rc == 0 && i < s->nnames; i++) {
		struct dnsfollow_discovered d = {
			.struct_size = sizeof d, .source = source, .source_name = s->name,
			.name = s->names[i], .service = s->name, .keys = kv,
			.nkeys = s->nrkeys};
		rc = emit(ctx, &d);
	}
	free(kv);
	free(source);
	return rc;
}

/* The `names =` of every section, from the same parsed file as resolve():
 * a file that cannot be used is an error, never an empty list (that
 * would make every discovered name an orphan). */
static int st_discover(void *self, dnsfollow_discover_cb emit, void *ctx)
{
	struct stat_backend *b = self;
	const struct table *t = &b->t;
	load(b);
	if (t->rc)
		return table_error(b);
	for (size_t i = 0; i < t->p.nsec; i++) {
		if (!t->p.sec[i].nnames)
			continue;
		int rc = discover_section(b, &t->p.sec[i], emit, ctx);
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
	.discover = st_discover,
};

DNSFOLLOW_BACKEND("static", "2.0", keys, NULL, st_create, st_destroy, &ops);
