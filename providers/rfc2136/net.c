/* Sockets with deadlines: UDP datagrams and TCP length-prefixed messages. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include "rfc2136.h"

int r2136_stopping(const struct r2136 *p)
{
	return DNSFOLLOW_HOST_HAS(p->host, stopping) && p->host->stopping(p->host);
}

int r2136_stop_error(const struct r2136 *p, const struct r2136_server *s,
		     const char *what)
{
	return p->host->error(p->host, -EAGAIN, "server %s: gave up on the %s: "
			      "dnsfollow is stopping", s->text, what);
}

/* Waits are cut into slices so that a SIGTERM ends them within
 * R2136_STOP_SLICE_MS, whatever timeout_ms says. */
int r2136_wait(const struct r2136 *p, int fd, short events, uint64_t deadline)
{
	for (;;) {
		if (r2136_stopping(p))
			return -ECANCELED;
		uint64_t now = p->host->now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t left = deadline - now;
		struct pollfd pfd = {.fd = fd, .events = events};
		int r = poll(&pfd, 1, (int)(left < R2136_STOP_SLICE_MS ? left :
					    R2136_STOP_SLICE_MS));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int open_socket(const struct r2136_server *s, int type)
{
	int fd = socket(s->addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->alen) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A connected UDP socket: the kernel drops datagrams from other peers
 * and reports ICMP port-unreachable as ECONNREFUSED. */
int r2136_udp_open(const struct r2136_server *s)
{
	return open_socket(s, SOCK_DGRAM);
}

int r2136_tcp_open(const struct r2136 *p, const struct r2136_server *s,
		   uint64_t deadline)
{
	int fd = open_socket(s, SOCK_STREAM);
	if (fd < 0)
		return fd;
	int rc = r2136_wait(p, fd, POLLOUT, deadline), e = 0;
	socklen_t el = sizeof e;
	if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e)
		rc = -e;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int r2136_write_all(const struct r2136 *p, int fd, const uint8_t *b,
		    size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int rc = r2136_wait(p, fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_all(const struct r2136 *p, int fd, uint8_t *b, size_t n,
		    uint64_t deadline)
{
	while (n) {
		ssize_t r = recv(fd, b, n, 0);
		if (r > 0) {
			/* Pipelined answers come as small writes: a delayed ACK
			 * here holds the server's next one back by up to 40 ms
			 * (Nagle), and Linux turns quick ACKs off again by itself. */
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			b += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET; /* closed in the middle */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int rc = r2136_wait(p, fd, POLLIN, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

int r2136_tcp_write(const struct r2136 *p, int fd, const uint8_t *m,
		    size_t len, uint64_t deadline)
{
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	int rc = r2136_write_all(p, fd, l, 2, deadline);
	return rc ? rc : r2136_write_all(p, fd, m, len, deadline);
}

int r2136_tcp_read(const struct r2136 *p, int fd, uint8_t *buf, size_t *len,
		   uint64_t deadline)
{
	uint8_t l[2];
	int rc = read_all(p, fd, l, 2, deadline);
	if (rc)
		return rc;
	*len = r2136_get16(l);
	return read_all(p, fd, buf, *len, deadline);
}
