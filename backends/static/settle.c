/*
 * An in-place save (open with O_TRUNC, write, close) goes through states
 * that are not the file the user meant: empty, half a line, half a list.
 * inotify's IN_CLOSE_WRITE marks the end of a save, but resolutions also
 * happen on a timer, and a writer may pause between two writes. So a
 * file is read only once its version has held still for a short window,
 * and a file that changed while being read is read again. This narrows
 * the danger; only an atomic rename removes it (README.md).
 */
#include "settle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEP_MS 50

int sb_same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Milliseconds since the last write (negative for a time stamp in the
 * future, which then settles by observation only). */
static int64_t age_ms(const struct stat *st)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)(now.tv_sec - st->st_mtim.tv_sec) * 1000 +
	       (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* Read a version judged settled; 1 when it changed during the read. */
static int read_now(const struct dnsfollow_host *h, const char *file,
		    size_t max, char **data, size_t *len, const struct stat *st,
		    int *rc)
{
	*rc = h->read_file(h, file, max, DNSFOLLOW_READ_TEXT, data, len);
	if (*rc)
		return 0;
	struct stat after;
	if (stat(file, &after) == 0 && sb_same_version(&after, st))
		return 0;
	free(*data);
	*data = NULL;
	*len = 0;
	return 1;
}

int sb_settle_read(struct sb_settle *s, const struct dnsfollow_host *h,
		   const char *file, size_t max, char **data, size_t *len,
		   struct stat *st, char *err, size_t errlen)
{
	uint64_t start = h->now_ms(), seen_at = start;
	/* A file that kept changing a moment ago is not waited for again at
	 * once: a pass resolving many services must not wait for each. */
	uint64_t deadline = start < s->impatient_until ? start : start + SB_SETTLE_MAX_MS;
	struct stat seen;
	int have_seen = 0, rc = 0;
	err[0] = '\0';
	for (;;) {
		if (stat(file, st) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot open: %s", file, strerror(-rc));
			return rc;
		}
		uint64_t now = h->now_ms();
		if (!have_seen || !sb_same_version(&seen, st)) {
			seen = *st;
			seen_at = now;
			have_seen = 1;
		}
		/* Not a regular file: read_file refuses it with a clear error. */
		if (!S_ISREG(st->st_mode) || age_ms(st) >= SB_SETTLE_MS ||
		    now - seen_at >= SB_SETTLE_MS) {
			if (!read_now(h, file, max, data, len, st, &rc)) {
				if (rc == 0)
					s->impatient_until = 0;
				return rc;
			}
			now = h->now_ms();
		}
		if (now >= deadline) {
			s->impatient_until = now + SB_PATIENCE_MS;
			snprintf(err, errlen,
				 "%s: changed less than %d ms ago, still changing after %llu ms: "
				 "being written? Records keep their value; write a new file and "
				 "rename it over this one", file, SB_SETTLE_MS,
				 (unsigned long long)(now - start));
			return -EAGAIN;
		}
		if (DNSFOLLOW_HOST_HAS(h, stopping) && h->stopping(h)) {
			snprintf(err, errlen, "%s: being written, and dnsfollow is stopping", file);
			return -EAGAIN;
		}
		pause_ms(STEP_MS);
	}
}
