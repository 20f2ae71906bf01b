/*
 * Matching the items of a section against the keys the core and a plugin
 * declare: unknown keys, repeats, KEY_file, empty required values, paths
 * and secrets. Every problem is one "FILE:LINE: message".
 */
#include "cfg_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "log.h"
#include "util.h"

/* Largest KEY_file: a secret, a name or a path, never a document. */
#define MAX_FILE_VALUE (64u << 10)

const struct df_item *df_cfg_item(const struct df_section *s, const char *key)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].key && !s->items[i].broken &&
		    strcmp(s->items[i].key, key) == 0)
			return &s->items[i];
	return NULL;
}

int df_cfg_item_broken(const struct df_section *s, const char *key)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].key && s->items[i].broken &&
		    strcmp(s->items[i].key, key) == 0)
			return 1;
	return 0;
}

static int wildcard_match(const char *pattern, const char *key)
{
	size_t n = strlen(pattern);
	return n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.' &&
	       strncmp(pattern, key, n - 1) == 0 && key[n - 1] != '\0';
}

/* Flags of `key` in ks, or -1 when it is not accepted. */
static long key_flags(const struct df_keyset *ks, const char *key)
{
	for (const struct df_keydef *k = ks->core; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k->flags;
	for (const struct dnsfollow_key *k = ks->plugin; k && k->name; k++)
		if (strcmp(k->name, key) == 0 || wildcard_match(k->name, key))
			return k->flags;
	return -1;
}

static void allowed_list(const struct df_keyset *ks, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (const struct df_keydef *k = ks->core; k && k->name; k++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
					 "%s%s", used ? ", " : "", k->name);
	for (const struct dnsfollow_key *k = ks->plugin; k && k->name; k++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
					 "%s%s", used ? ", " : "", k->name);
}

/* Replace the value of a KEY_file item by the file's content (trailing
 * white space removed). A secret's file is warned about when others can
 * read it. */
static int read_item_file(struct df_config *cfg, struct df_item *it,
			  int secret)
{
	if (!*it->value) {
		df_cfg_error(cfg, it->line, "%s_file is empty: give the path of the file holding %s",
			     it->key, it->key);
		return -1;
	}
	char *path = df_path_resolve(cfg->dir, it->value);
	char *v, err[1024];
	size_t n;
	unsigned flags = DNSFOLLOW_READ_TEXT | (secret ? DNSFOLLOW_READ_SECRET : 0);
	int rc = df_read_file(path, MAX_FILE_VALUE, flags, &v, &n, err,
			      sizeof err, NULL);
	if (rc != 0) {
		df_cfg_error(cfg, it->line, "%s_file: %s", it->key, err);
		free(path);
		return -1;
	}
	while (n && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	if (!n) /* said here, naming the file: "KEY is empty" would not */
		df_cfg_error(cfg, it->line, "%s_file: %s is empty (white space only)",
			     it->key, path);
	free(path);
	if (!n) {
		free(v);
		return -1;
	}
	free(it->value);
	it->value = v;
	return 0;
}

void df_cfg_resolve_core_files(struct df_config *cfg, struct df_section *s,
			       const struct df_keydef *core)
{
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		size_t kl = strlen(it->key);
		if (kl <= 5 || strcmp(it->key + kl - 5, "_file") != 0)
			continue;
		it->key[kl - 5] = '\0';
		int is_core = 0;
		for (const struct df_keydef *k = core; k->name; k++)
			is_core |= strcmp(k->name, it->key) == 0;
		if (!is_core) {
			it->key[kl - 5] = '_';
			continue;
		}
		if (read_item_file(cfg, it, 0) != 0)
			it->broken = 1;
	}
}

/* A secret written into a config file others can read is as exposed as
 * the file: said once per file, with the way out. */
static void warn_inline_secret(struct df_config *cfg, const struct df_item *it)
{
	if (!(cfg->file_mode & 077) || cfg->warned_inline)
		return;
	cfg->warned_inline = 1;
	df_log(DNSFOLLOW_LOG_WARN, NULL,
	       "%s:%d: %s is a secret written inline, but %s is readable by %s (mode %03o); chmod 600 it or use %s_file",
	       cfg->path, it->line, it->key, cfg->path,
	       (cfg->file_mode & 004) ? "everyone" : "its group",
	       cfg->file_mode & 0777, it->key);
}

/* The key of `it` (KEY or KEY_file) in ks: its flags, or -1. A KEY_file
 * item is renamed KEY and *from_file set. */
static long item_flags(const struct df_keyset *ks, struct df_item *it,
		       int *from_file)
{
	long fl = key_flags(ks, it->key);
	size_t kl = strlen(it->key);
	*from_file = 0;
	if (fl < 0 && kl > 5 && strcmp(it->key + kl - 5, "_file") == 0) {
		it->key[kl - 5] = '\0';
		fl = key_flags(ks, it->key);
		if (fl < 0)
			it->key[kl - 5] = '_';
		else
			*from_file = 1;
	}
	return fl;
}

static int check_repeat(struct df_config *cfg, const struct df_section *s,
			size_t i, long fl)
{
	const struct df_item *it = &s->items[i];
	if (fl & DNSFOLLOW_KEY_MULTI)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (strcmp(s->items[j].key, it->key) == 0) {
			df_cfg_error(cfg, it->line,
				     "'%s' given twice in [%s] (first at line %d)",
				     it->key, s->header, s->items[j].line);
			return 1;
		}
	return 0;
}

/* The value of a known key, once read: empty, secret, path. */
static int check_value(struct df_config *cfg, struct df_item *it, long fl,
		       int from_file)
{
	if ((fl & (DNSFOLLOW_KEY_REQUIRED | DNSFOLLOW_KEY_PATH)) && !*it->value) {
		df_cfg_error(cfg, it->line, "%s is empty", it->key);
		return 1;
	}
	if (fl & DNSFOLLOW_KEY_SECRET) {
		if (df_log_add_secret(it->value) != 0) {
			df_cfg_error(cfg, it->line,
				     "%s: a secret shorter than %d characters cannot be kept out of logs",
				     it->key, DF_MIN_SECRET);
			return 1;
		}
		if (!from_file && *it->value)
			warn_inline_secret(cfg, it);
	}
	if ((fl & DNSFOLLOW_KEY_PATH) && *it->value) {
		char *abs = df_path_resolve(cfg->dir, it->value);
		free(it->value);
		it->value = abs;
	}
	return 0;
}

int df_cfg_match_items(struct df_config *cfg, struct df_section *s,
		       const struct df_keyset *ks)
{
	int bad = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		if (it->broken)
			continue; /* its file could not be read (reported) */
		int from_file;
		long fl = item_flags(ks, it, &from_file);
		if (fl < 0) {
			char allowed[512];
			allowed_list(ks, allowed, sizeof allowed);
			df_cfg_error(cfg, it->line,
				     "unknown key '%s' in [%s] (allowed: %s)",
				     it->key, s->header, allowed);
			bad = 1;
			continue;
		}
		bad |= check_repeat(cfg, s, i, fl);
		if (from_file &&
		    read_item_file(cfg, it, (fl & DNSFOLLOW_KEY_SECRET) != 0) != 0) {
			/* Not also judged by its path as if it were the value. */
			it->broken = 1;
			bad = 1;
			continue;
		}
		bad |= check_value(cfg, it, fl, from_file);
	}
	return bad;
}

static int need(struct df_config *cfg, const struct df_section *s,
		const char *name)
{
	/* A KEY_file whose file could not be read counts as given: its
	 * error is already said, and "needs KEY" would be a second, wrong
	 * one. */
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].key, name) == 0)
			return 0;
	df_cfg_error(cfg, s->line, "[%s] needs '%s'", s->header, name);
	return 1;
}

int df_cfg_check_required(struct df_config *cfg, struct df_section *s,
			  const struct df_keyset *ks)
{
	int bad = 0;
	for (const struct df_keydef *k = ks->core; k && k->name; k++)
		if (k->flags & DNSFOLLOW_KEY_REQUIRED)
			bad |= need(cfg, s, k->name);
	for (const struct dnsfollow_key *k = ks->plugin; k && k->name; k++)
		if (k->flags & DNSFOLLOW_KEY_REQUIRED)
			bad |= need(cfg, s, k->name);
	return bad;
}
