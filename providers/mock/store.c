/*
 * The mock's state, kept parsed between calls and written per zone.
 *
 * Parse once: the document stays in memory with the identity of the file
 * it came from (device, inode, size, mtime and ctime to the nanosecond).
 * Every call stats the file first; any edit by another process, a test
 * or a person changes that identity, and the file is read again. One
 * case a stat cannot see: an edit in place within the same clock tick as
 * the version we read, keeping the size. So a file read while its last
 * change is younger than RACY_NS is read again at the next call, until
 * it is older (git's "racily clean" index entries, the same rule).
 *
 * Write per zone, cheaply: a DNS server commits an update before it
 * answers, so apply() returns only once the file holds the change (a
 * process reading the file after the pass sees everything apply()
 * accepted; there is no end-of-pass call in the ABI to defer to). What
 * made a write cost the whole state was dumping it: each zone's text is
 * kept as written (`frags`) and only the zone that changed is dumped
 * again; the file is the zones' texts put together, byte for byte what
 * one json_dump of the document gives. Then one fsync and one rename.
 * A zone nothing changed in is never written (a steady pass writes no
 * file).
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Younger than this, a file's timestamps may still be those of a later
 * edit in place (one coarse clock tick is at most 10 ms on Linux). A
 * file system keeping whole seconds gets RACY_COARSE_NS. */
#define RACY_NS 50000000LL
#define RACY_COARSE_NS 2000000000LL

static long long ns_of(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void id_of(const struct stat *st, struct mock_file *id)
{
	*id = (struct mock_file){1, st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim};
}

static int same_file(const struct mock_file *a, const struct mock_file *b)
{
	return a->exists == b->exists &&
	       (!a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
			       ns_of(a->mtim) == ns_of(b->mtim) && ns_of(a->ctim) == ns_of(b->ctim)));
}

/* Whether a later edit in place could leave `id` as it is. */
static int racy(const struct mock_file *id)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long last = ns_of(id->mtim) > ns_of(id->ctim) ? ns_of(id->mtim) : ns_of(id->ctim);
	long long margin = id->mtim.tv_nsec || id->ctim.tv_nsec ? RACY_NS : RACY_COARSE_NS;
	return ns_of(now) - last < margin;
}

void mock_state_forget(struct mock *m)
{
	json_decref(m->doc);
	json_decref(m->frags);
	m->doc = m->frags = NULL;
	if (m->pin >= 0)
		close(m->pin);
	m->pin = -1;
}

/* Take `doc` as the state of the file `id`. */
static int keep(struct mock *m, json_t *doc, const struct mock_file *id, int trusted)
{
	mock_state_forget(m);
	m->frags = json_object();
	if (!m->frags) {
		json_decref(doc);
		return m->h->error(m->h, -ENOMEM, "out of memory");
	}
	m->doc = doc;
	m->id = *id;
	m->trusted = trusted;
	return 0;
}

/* Read and check the whole file (it exists, or did a moment ago). */
static int load(struct mock *m, const struct mock_file *before)
{
	const struct dnsfollow_host *h = m->h;
	char *data = NULL, err[512];
	size_t len = 0;
	int rc = h->read_file(h, m->state, MOCK_MAX_STATE, DNSFOLLOW_READ_TEXT, &data, &len);
	if (rc)
		return rc; /* read_file said why, naming the file */
	m->parses++;
	json_t *doc = mock_state_parse(m->state, data, len, err, sizeof err);
	free(data);
	if (!doc)
		return h->error(h, -EIO, "%s", err);
	/* Changed while being read: which version we hold is not known,
	 * so it is read again next time. */
	struct stat st;
	struct mock_file after = {0};
	if (stat(m->state, &st) == 0)
		id_of(&st, &after);
	return keep(m, doc, &after, same_file(before, &after) && !racy(&after));
}

int mock_state_get(struct mock *m, json_t **out)
{
	struct stat st;
	struct mock_file now = {0};
	if (stat(m->state, &st) == 0)
		id_of(&st, &now);
	else if (errno != ENOENT)
		now.exists = 1; /* read_file names the file and says why */
	int rc = 0;
	if (!m->doc || !m->trusted || !same_file(&m->id, &now)) {
		if (now.exists) {
			rc = load(m, &now);
		} else { /* not written yet: an empty state */
			json_t *doc = json_pack("{s:{}}", "zones");
			rc = doc ? keep(m, doc, &now, 1) : m->h->error(m->h, -ENOMEM, "out of memory");
		}
	}
	if (rc)
		mock_state_forget(m); /* a bad file is read (and refused) again */
	*out = m->doc;
	return rc;
}

/* A zone's text as it stands in the file after the one before it: ","
 * and its key, then its own dump, each line moved in by the two levels
 * ("zones", the zone) it sits at. */
static json_t *zone_text(const char *name, json_t *z)
{
	json_t *key = json_string(name);
	char *k = key ? json_dumps(key, JSON_ENCODE_ANY) : NULL;
	char *v = json_dumps(z, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(key);
	size_t lines = 0, kl = k ? strlen(k) : 0, vl = v ? strlen(v) : 0;
	for (size_t i = 0; i < vl; i++)
		lines += v[i] == '\n';
	char *t = k && v ? malloc(kl + vl + 4 * lines + 8) : NULL;
	json_t *out = NULL;
	if (t) {
		size_t n = (size_t)sprintf(t, ",\n    %s: ", k);
		for (size_t i = 0; i < vl; i++) {
			t[n++] = v[i];
			if (v[i] == '\n')
				n += (size_t)sprintf(t + n, "    ");
		}
		out = json_stringn_nocheck(t, n);
	}
	free(t);
	free(k);
	free(v);
	return out;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Write all of `iov` (any count: writev takes IOV_MAX at a time). */
static int write_all(int fd, struct iovec *iov, size_t n)
{
	while (n) {
		ssize_t w = writev(fd, iov, n < IOV_MAX ? (int)n : IOV_MAX);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		for (; n && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* The iovecs of the whole file, from the zones' texts (made where
 * missing). NULL on ENOMEM. */
static struct iovec *file_iov(struct mock *m, size_t *count)
{
	json_t *zones = json_object_get(m->doc, "zones"), *z;
	size_t nz = json_object_size(zones), i = 0;
	const char **names = calloc(nz + 1, sizeof *names), *name;
	struct iovec *iov = calloc(nz + 2, sizeof *iov);
	if (!names || !iov)
		goto fail;
	json_object_foreach(zones, name, z)
		names[i++] = name;
	qsort(names, nz, sizeof *names, by_name); /* as JSON_SORT_KEYS does */
	static char head[] = "{\n  \"zones\": {", tail[] = "\n  }\n}", empty[] = "{\n  \"zones\": {}\n}";
	iov[0] = nz ? (struct iovec){head, sizeof head - 1} : (struct iovec){empty, sizeof empty - 1};
	for (i = 0; i < nz; i++) {
		json_t *t = json_object_get(m->frags, names[i]);
		if (!t && (!(t = zone_text(names[i], json_object_get(zones, names[i]))) ||
			   json_object_set_new(m->frags, names[i], t) != 0))
			goto fail;
		/* Each text starts with its separator; the first has none. */
		char *s = (char *)json_string_value(t);
		size_t l = json_string_length(t);
		iov[1 + i] = i ? (struct iovec){s, l} : (struct iovec){s + 1, l - 1};
	}
	if (nz)
		iov[1 + nz] = (struct iovec){tail, sizeof tail - 1};
	*count = nz ? nz + 2 : 1;
	free(names);
	return iov;
fail:
	free(names);
	free(iov);
	return NULL;
}

/* Write the document to `fd`: from the zones' texts, or in one dump when
 * a hand edit left keys beside "zones" (kept, as a full dump keeps them). */
static int write_doc(struct mock *m, int fd)
{
	if (json_object_size(m->doc) != 1)
		return json_dumpfd(m->doc, fd, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t n = 0;
	struct iovec *iov = file_iov(m, &n);
	if (!iov) {
		errno = ENOMEM;
		return -1;
	}
	int rc = write_all(fd, iov, n);
	free(iov);
	return rc;
}

/* On disk before the rename, so a crash cannot leave an empty state;
 * renamed over the state, so a reader sees the old or the new state,
 * never half of one. The new file's descriptor stays open: its inode
 * number cannot be handed to another file while it is the one cached. */
static int save(struct mock *m)
{
	size_t n = strlen(m->state) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return m->h->error(m->h, -ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp", m->state);
	int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	struct stat st;
	if (fd < 0 || write_doc(m, fd) != 0 || fsync(fd) != 0)
		rc = m->h->error(m->h, -EIO, "cannot write %s: %s", tmp, strerror(errno));
	else if (rename(tmp, m->state) != 0)
		rc = m->h->error(m->h, -EIO, "cannot rename %s: %s", tmp, strerror(errno));
	else if (fstat(fd, &st) != 0)
		rc = m->h->error(m->h, -EIO, "cannot stat %s: %s", m->state, strerror(errno));
	if (rc) {
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	} else {
		if (m->pin >= 0)
			close(m->pin);
		m->pin = fd;
		id_of(&st, &m->id);
		m->trusted = 1; /* we wrote it, and hold it */
		m->writes++;
	}
	free(tmp);
	return rc;
}

int mock_state_commit(struct mock *m, const char *zone, json_t *z)
{
	json_t *zones = json_object_get(m->doc, "zones");
	json_t *old = json_incref(json_object_get(zones, zone));
	int rc = json_object_set_new(zones, zone, z) == 0 ? 0 : -ENOMEM;
	if (rc == 0) {
		json_object_del(m->frags, zone); /* its text is dumped again */
		rc = save(m);
	} else {
		rc = m->h->error(m->h, rc, "out of memory");
	}
	if (rc) {
		/* Nothing written: the zone is as it was (all or nothing). */
		if (old)
			json_object_set(zones, zone, old);
		else
			json_object_del(zones, zone);
		json_object_del(m->frags, zone);
	}
	json_decref(old);
	return rc;
}
