/*
 * libFuzzer target for the Docker event stream (backends/swarm/events.c):
 * the input is the stream's bytes as they come off the socket, cut into
 * chunks whose sizes derive from the input, collected into lines and each
 * line classified. Seeds are real streams recorded from a three-node
 * Swarm (manager and worker), keep-alives, an error body and a proxy page.
 * Checked: every newline gives exactly one line, a line never exceeds the
 * buffer and is NUL-terminated, the class is one of the four, and the
 * description fits its buffer whatever its size (0 included).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../backends/swarm/swarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	size_t lines;
	size_t whatlen;
};

static void on_line(void *arg, const char *line, size_t len)
{
	struct ctx *c = arg;
	c->lines++;
	if (line && (len >= SWARM_LINE_MAX || line[len] != '\0'))
		abort();
	char what[200];
	memset(what, 'x', sizeof what);
	struct swarm_actor a;
	int k = swarm_parse_event(line, len, what, c->whatlen, &a);
	if (k < SWARM_EV_IGNORE || k > SWARM_EV_ERROR)
		abort();
	/* The actor's fields are terminated within their buffers, and only
	 * a relevant (service) event names one. */
	if (!memchr(a.name, '\0', sizeof a.name) || !memchr(a.id, '\0', sizeof a.id) ||
	    (a.service && k != SWARM_EV_RELEVANT) ||
	    (!a.service && (a.name[0] || a.id[0])))
		abort();
	if (c->whatlen && !memchr(what, '\0', c->whatlen))
		abort(); /* not terminated within its buffer */
	if (c->whatlen < sizeof what && what[c->whatlen] != 'x')
		abort(); /* written past its buffer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct swarm_linebuf lb; /* 64 KiB: not on the stack */
	memset(&lb, 0, sizeof lb);
	const char *p = (const char *)data;
	struct ctx c = {0, size % 3 == 0 ? 200 : size % 3 == 1 ? 16 : size % 7};
	size_t off = 0, step = size ? data[0] % 17 + 1 : 1;
	while (off < size) {
		size_t k = size - off < step ? size - off : step;
		swarm_linebuf_feed(&lb, p + off, k, on_line, &c);
		off += k;
		step = step * 7 % 31 + 1;
		if (off < size && data[off] == 0xff)
			step = 4096; /* now and then a big read */
	}
	size_t nl = 0;
	for (size_t i = 0; i < size; i++)
		nl += data[i] == '\n';
	if (c.lines != nl)
		abort();
	/* What the stream thread does when the connection ends mid-line. */
	if (lb.len && !lb.overflow)
		swarm_linebuf_feed(&lb, "\n", 1, on_line, &c);
	return 0;
}
