#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

/* Warn once per path: a daemon re-reads its files every pass. */
static void warn_mode(const char *path, mode_t m, const char *who)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static char **seen;
	static size_t nseen;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i], path) == 0) {
			pthread_mutex_unlock(&mu);
			return;
		}
	char **n = realloc(seen, (nseen + 1) * sizeof *n);
	if (n) {
		seen = n;
		seen[nseen] = strdup(path);
		if (seen[nseen])
			nseen++;
	}
	pthread_mutex_unlock(&mu);
	df_log(DNSFOLLOW_LOG_WARN, who,
	       "%s holds a secret but is readable by %s (mode %03o); chmod 600 it",
	       path, (m & 004) ? "everyone" : "its group", (unsigned)(m & 0777));
}

static int slurp(int fd, const char *path, size_t max, char **data,
		 size_t *len, char *err, size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			char *b = realloc(buf, cap + 1);
			if (!b)
				free(buf);
			buf = b;
			continue;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: read error: %s", path, strerror(e));
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int df_read_file(const char *path, size_t max, unsigned flags, char **data,
		 size_t *len, char *err, size_t errlen, const char *who)
{
	*data = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is %s; give a regular file", path,
			 kind_of(st.st_mode));
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		close(fd);
		return -EFBIG;
	}
	int rc = slurp(fd, path, max, data, len, err, errlen);
	close(fd);
	if (rc != 0)
		return rc;
	const char *nul = (flags & DNSFOLLOW_READ_TEXT) ? memchr(*data, '\0', *len) : NULL;
	if (nul) {
		int line = 1;
		for (const char *p = *data; p < nul; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s:%d: contains a NUL byte; not a text file",
			 path, line);
		free(*data);
		*data = NULL;
		*len = 0;
		return -EINVAL;
	}
	if ((flags & DNSFOLLOW_READ_SECRET) && (st.st_mode & 077))
		warn_mode(path, st.st_mode, who);
	return 0;
}
