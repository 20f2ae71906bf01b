/*
 * Reading a file that someone may be saving right now: only a settled
 * version is handed over (settle.c).
 */
#ifndef DF_STATIC_SETTLE_H
#define DF_STATIC_SETTLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <dnsfollow/host.h>

#define SB_SETTLE_MS 200      /* changed less long ago: maybe mid-save */
#define SB_SETTLE_MAX_MS 1000 /* longest wait in one resolution */
#define SB_PATIENCE_MS 3000   /* after a timeout, no new wait this long */

struct sb_settle {
	uint64_t impatient_until; /* monotonic ms */
};

/* Same inode, size and time stamps: nothing was written in between. */
int sb_same_version(const struct stat *a, const struct stat *b);

/*
 * Read `file` (host->read_file, text only, at most `max` bytes) once it
 * has settled: its modification time is SB_SETTLE_MS old, or it stayed
 * the same for that long, and it did not change while read. Waits at
 * most SB_SETTLE_MAX_MS. Returns 0 with data, len and the version `st`;
 * -EAGAIN with `err` set when the file is still changing; any other
 * error of read_file with `err` empty (the host holds the text).
 */
int sb_settle_read(struct sb_settle *s, const struct dnsfollow_host *h,
		   const char *file, size_t max, char **data, size_t *len,
		   struct stat *st, char *err, size_t errlen);

#endif /* DF_STATIC_SETTLE_H */
