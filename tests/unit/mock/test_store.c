/* The mock's state kept parsed (issue 12): parsed once while the file is
 * unchanged, any edit by another process seen at the next call, every
 * accepted apply in the file when apply() returns, the file written as
 * one whole dump would write it, and nothing changed by a failed write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testhost.h"
#include "../../../providers/mock/mock.h"

extern const struct dnsfollow_plugin dnsfollow_plugin;
#define OPS ((const struct dnsfollow_provider_ops *)dnsfollow_plugin.ops)

static char dir[64], state[128];
static const struct dnsfollow_host *h;

static int setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	snprintf(state, sizeof state, "%s/state.json", dir);
	h = testhost_new("m");
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	testhost_free(h);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct mock *make(void)
{
	char st[160];
	snprintf(st, sizeof st, "state=%s", state);
	const char *kvs[] = {st, "zones=a.test, b.test, c.test", NULL};
	struct dnsfollow_kv kv[8];
	long n = testhost_kv_typed(kv, 8, kvs, dnsfollow_plugin.config_keys);
	assert_true(n > 0);
	void *self = NULL;
	assert_int_equal(dnsfollow_plugin.create(h, kv, (size_t)n, &self), 0);
	return self;
}

static int set_a(struct mock *m, const char *zone, const char *name, const char *addr)
{
	const char *v[] = {addr};
	int results[1] = {DNSFOLLOW_RESULT_UNKNOWN};
	struct dnsfollow_change c = {.op = DNSFOLLOW_CHANGE_SET,
				     .rrset = {name, DNSFOLLOW_TYPE_A, 60, 1, v}};
	struct dnsfollow_changeset cs = {.struct_size = sizeof cs, .zone = zone,
					 .changes = &c, .n = 1, .results = results};
	testhost_clear(h);
	return OPS->apply(m, &cs);
}

static int collect(void *ctx, const struct dnsfollow_rrset *rr)
{
	char *out = ctx;
	for (size_t i = 0; i < rr->count; i++)
		snprintf(out + strlen(out), 64 - strlen(out), "%s%s", *out ? " " : "", rr->rdata[i]);
	return 0;
}

/* The A data at `name` as read() reports it ("" when absent). */
static const char *read_a(struct mock *m, const char *zone, const char *name)
{
	static char out[64];
	struct dnsfollow_rrkey k = {name, DNSFOLLOW_TYPE_A};
	out[0] = '\0';
	testhost_clear(h);
	assert_int_equal(OPS->read(m, zone, &k, 1, collect, out), 0);
	return out;
}

/* Another process's state: one A RRset at git.a.test. */
static void write_state(const char *addr)
{
	FILE *f = fopen(state, "w");
	assert_non_null(f);
	fprintf(f, "{\"zones\": {\"a.test\": {\"serial\": 1, \"rrsets\": "
		   "{\"git.a.test\": {\"A\": {\"ttl\": 60, \"rdata\": [\"%s\"]}}}}}}", addr);
	assert_int_equal(fclose(f), 0);
}

/* An edit in place (same inode, same size): a text editor's save. */
static void edit_in_place(const char *from, const char *to)
{
	FILE *f = fopen(state, "r+");
	assert_non_null(f);
	char buf[512];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	char *p = strstr(buf, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Set the file's mtime (seconds ago), as `touch -d` or `cp -p` do. */
static void mtime_ago(int sec, struct timespec *set)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= sec;
	ts[1] = *set = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, state, ts, 0), 0);
}

static void pause_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Parsed once while the file does not change: reads of every zone, its
 * markers and its applies cost no parse; our own writes need none. */
static void test_parsed_once(void **s)
{
	(void)s;
	write_state("192.0.2.1");
	struct timespec t;
	mtime_ago(10, &t);
	pause_ms(60); /* the ctime the utimensat set is no longer "racy" */
	struct mock *m = make();
	for (int i = 0; i < 5; i++) {
		assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.1");
		assert_string_equal(read_a(m, "b.test", "git.b.test"), "");
	}
	assert_int_equal(m->parses, 1);
	assert_int_equal(set_a(m, "b.test", "git.b.test", "192.0.2.2"), 0);
	assert_int_equal(set_a(m, "c.test", "git.c.test", "192.0.2.3"), 0);
	assert_string_equal(read_a(m, "b.test", "git.b.test"), "192.0.2.2");
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.1");
	assert_int_equal(m->parses, 1);
	assert_int_equal(m->writes, 2);
	dnsfollow_plugin.destroy(m);
}

/* Every way another process can change the file between two reads is
 * seen at the second: a new file renamed over it, an edit in place of
 * the same size, the same edit with the old mtime put back (ctime still
 * moves), and an edit within the same clock tick as the version read. */
static void test_other_process_edit_seen(void **s)
{
	(void)s;
	struct timespec t;
	write_state("192.0.2.1");
	mtime_ago(10, &t);
	pause_ms(60);
	struct mock *m = make();
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.1");
	/* Renamed over (a new inode). */
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.other", state);
	assert_int_equal(rename(state, tmp), 0);
	write_state("192.0.2.5");
	unlink(tmp);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.5");
	/* In place, same size, from a version read long after it was written. */
	mtime_ago(10, &t);
	pause_ms(60);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.5");
	edit_in_place("192.0.2.5", "192.0.2.6");
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.6");
	/* The same, then the old mtime put back: size and mtime as before. */
	mtime_ago(10, &t);
	pause_ms(60);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.6");
	edit_in_place("192.0.2.6", "192.0.2.7");
	struct timespec back[2] = {t, t};
	assert_int_equal(utimensat(AT_FDCWD, state, back, 0), 0);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.7");
	/* Read just after it was written, then edited at once in place. */
	write_state("192.0.2.8");
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.8");
	edit_in_place("192.0.2.8", "192.0.2.9");
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.9");
	/* After our own write too: another process's edit wins. */
	assert_int_equal(set_a(m, "b.test", "git.b.test", "192.0.2.20"), 0);
	edit_in_place("192.0.2.20", "192.0.2.21");
	assert_string_equal(read_a(m, "b.test", "git.b.test"), "192.0.2.21");
	/* Removed: an empty state, as before it was written. */
	assert_int_equal(unlink(state), 0);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "");
	dnsfollow_plugin.destroy(m);
}

/* The file's bytes (a fresh string). */
static char *state_text(void)
{
	FILE *f = fopen(state, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* What one dump of the whole document writes (the format before). */
static void assert_whole_dump(void)
{
	char *text = state_text();
	json_t *doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	char *whole = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	assert_string_equal(text, whole);
	free(whole);
	json_decref(doc);
	free(text);
}

/* Written per zone, the file is byte for byte one dump of the whole
 * state (sorted zones, indentation, escapes), whatever zone changed. */
static void test_file_as_whole_dump(void **s)
{
	(void)s;
	struct mock *m = make();
	assert_int_equal(set_a(m, "b.test", "git.b.test", "192.0.2.2"), 0);
	assert_whole_dump();
	assert_int_equal(set_a(m, "a.test", "git.a.test", "192.0.2.1"), 0);
	assert_int_equal(set_a(m, "c.test", "x.c.test", "192.0.2.3"), 0);
	assert_whole_dump();
	const char *v[] = {"quote \" back\\slash tab\t \xc3\xa9 end"};
	struct dnsfollow_change c = {.op = DNSFOLLOW_CHANGE_SET,
				     .rrset = {"t.b.test", DNSFOLLOW_TYPE_TXT, 60, 1, v}};
	struct dnsfollow_changeset cs = {.struct_size = sizeof cs, .zone = "b.test",
					 .changes = &c, .n = 1};
	assert_int_equal(OPS->apply(m, &cs), 0);
	assert_whole_dump();
	/* A key a hand edit put beside "zones" stays. */
	dnsfollow_plugin.destroy(m);
	char *text = state_text();
	FILE *f = fopen(state, "w");
	fprintf(f, "{\"note\": \"by hand\",%s", strchr(text, '{') + 1);
	fclose(f);
	free(text);
	m = make();
	assert_int_equal(set_a(m, "a.test", "git.a.test", "192.0.2.4"), 0);
	assert_whole_dump();
	text = state_text();
	assert_non_null(strstr(text, "\"note\": \"by hand\""));
	assert_non_null(strstr(text, "192.0.2.4"));
	free(text);
	dnsfollow_plugin.destroy(m);
}

/* A write that fails changes nothing, on disk or in memory: the next
 * read reports the state before, and the zone's next write is whole. */
static void test_failed_write_changes_nothing(void **s)
{
	(void)s;
	struct mock *m = make();
	assert_int_equal(set_a(m, "a.test", "git.a.test", "192.0.2.1"), 0);
	char *before = state_text(), tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", state);
	assert_int_equal(mkdir(tmp, 0700), 0); /* the temporary file cannot be made */
	assert_int_equal(set_a(m, "a.test", "git.a.test", "192.0.2.2"), -EIO);
	assert_non_null(strstr(testhost_error(h), "cannot write"));
	assert_int_equal(set_a(m, "b.test", "git.b.test", "192.0.2.3"), -EIO);
	char *after = state_text();
	assert_string_equal(before, after);
	free(after);
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.1");
	assert_string_equal(read_a(m, "b.test", "git.b.test"), "");
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(set_a(m, "b.test", "git.b.test", "192.0.2.4"), 0);
	assert_whole_dump();
	after = state_text();
	assert_non_null(strstr(after, "192.0.2.1"));
	assert_non_null(strstr(after, "192.0.2.4"));
	assert_null(strstr(after, "192.0.2.2"));
	free(after);
	free(before);
	dnsfollow_plugin.destroy(m);
}

/* Reads and markers never write; a bad file is refused at every call
 * (not cached), and read again once it is fixed. */
static void test_reads_do_not_write(void **s)
{
	(void)s;
	struct mock *m = make();
	assert_int_equal(set_a(m, "a.test", "git.a.test", "192.0.2.1"), 0);
	struct stat st0, st1;
	assert_int_equal(stat(state, &st0), 0);
	char buf[64] = "";
	for (int i = 0; i < 3; i++) {
		assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.1");
		assert_int_equal(OPS->markers(m, "a.test", collect, buf), 0);
	}
	assert_int_equal(stat(state, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_int_equal(st0.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
	assert_int_equal(m->writes, 1);
	FILE *f = fopen(state, "w");
	fputs("{not json", f);
	fclose(f);
	struct dnsfollow_rrkey k = {"git.a.test", DNSFOLLOW_TYPE_A};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(OPS->read(m, "a.test", &k, 1, collect, buf), -EIO);
		assert_non_null(strstr(testhost_error(h), "bad state file"));
	}
	write_state("192.0.2.9");
	assert_string_equal(read_a(m, "a.test", "git.a.test"), "192.0.2.9");
	dnsfollow_plugin.destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parsed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_process_edit_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_as_whole_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_do_not_write, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
