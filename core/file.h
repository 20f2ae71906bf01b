/* Reading the files a user points dnsfollow at: regular files only,
 * bounded, with a clear one-line error for everything else. */
#ifndef DF_FILE_H
#define DF_FILE_H

#include <stddef.h>

#include <dnsfollow/host.h>

/**
 * Read `path` whole into a NUL-terminated malloc'ed buffer. Refuses (with
 * a negative errno code and one line in `err` naming the path) a missing
 * or unreadable file, a directory, a FIFO, socket or device (opened
 * without blocking), a file larger than `max` bytes, and with
 * DNSFOLLOW_READ_TEXT a NUL byte (naming its line). With
 * DNSFOLLOW_READ_SECRET a group/world-readable file is warned about once
 * per path (the warning goes to the log under `who`).
 */
int df_read_file(const char *path, size_t max, unsigned flags, char **data,
		 size_t *len, char *err, size_t errlen, const char *who);

#endif
