/*
 * Matching the items of a section against the keys the core and its
 * plugins declare: unknown keys, repeats, KEY_file, then each value by
 * its declared type (cfg_types.c), paths, secrets, and defaults. Every
 * problem is one "FILE:LINE: message".
 */
#include "cfg_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

const struct dnsfollow_key *df_cfg_find_key(const struct dnsfollow_key *table,
					    const char *key)
{
	/* An exact name wins over a wildcard wherever it is listed. */
	for (const struct dnsfollow_key *k = table; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	for (const struct dnsfollow_key *k = table; k && k->name; k++)
		if (wildcard_match(k->name, key))
			return k;
	return NULL;
}

/* The first declaration of `key` in ks (core, plugin, plugin2), or NULL. */
static const struct dnsfollow_key *keyset_find(const struct df_keyset *ks,
					       const char *key)
{
	const struct dnsfollow_key *k = df_cfg_find_key(ks->core, key);
	if (!k)
		k = df_cfg_find_key(ks->plugin, key);
	if (!k)
		k = df_cfg_find_key(ks->plugin2, key);
	return k;
}

/* 1 when any table of ks declares `key` a secret: its file is read as
 * one. */
static int keyset_secret(const struct df_keyset *ks, const char *key)
{
	const struct dnsfollow_key *t[] = {ks->core, ks->plugin, ks->plugin2};
	for (size_t i = 0; i < 3; i++) {
		const struct dnsfollow_key *k = df_cfg_find_key(t[i], key);
		if (k && k->type == DNSFOLLOW_T_SECRET)
			return 1;
	}
	return 0;
}

/* 1 when `table` lists exactly `name` (not through a wildcard). */
static int declared_as(const struct dnsfollow_key *table, const char *name)
{
	for (const struct dnsfollow_key *k = table; k && k->name; k++)
		if (strcmp(k->name, name) == 0)
			return 1;
	return 0;
}

static void allowed_list(const struct df_keyset *ks, char *buf, size_t len)
{
	const struct dnsfollow_key *t[] = {ks->core, ks->plugin, ks->plugin2};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < 3; i++)
		for (const struct dnsfollow_key *k = t[i]; k && k->name; k++) {
			/* Listed once when both plugins declare it. */
			if (i == 2 && declared_as(ks->plugin, k->name))
				continue;
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s",
							 used ? ", " : "", k->name);
		}
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
			       const struct dnsfollow_key *core)
{
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		size_t kl = strlen(it->key);
		if (kl <= 5 || strcmp(it->key + kl - 5, "_file") != 0)
			continue;
		it->key[kl - 5] = '\0';
		if (!declared_as(core, it->key)) {
			it->key[kl - 5] = '_';
			continue;
		}
		it->from_file = 1;
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

/* The declaration of the key of `it` (KEY or KEY_file) in ks, or NULL.
 * A KEY_file item is renamed KEY, marked from_file, and *renamed set: its
 * file is still to be read. */
static const struct dnsfollow_key *item_key(const struct df_keyset *ks,
					    struct df_item *it, int *renamed)
{
	const struct dnsfollow_key *k = keyset_find(ks, it->key);
	size_t kl = strlen(it->key);
	*renamed = 0;
	if (!k && kl > 5 && strcmp(it->key + kl - 5, "_file") == 0) {
		it->key[kl - 5] = '\0';
		k = keyset_find(ks, it->key);
		if (!k)
			it->key[kl - 5] = '_';
		else
			it->from_file = *renamed = 1;
	}
	return k;
}

static int check_repeat(struct df_config *cfg, const struct df_section *s,
			size_t i, const struct dnsfollow_key *k)
{
	const struct df_item *it = &s->items[i];
	if (k->flags & DNSFOLLOW_KEY_MULTI)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (s->items[j].key && strcmp(s->items[j].key, it->key) == 0) {
			df_cfg_error(cfg, it->line,
				     "'%s' given twice in [%s] (first at line %d)",
				     it->key, s->header, s->items[j].line);
			return 1;
		}
	return 0;
}

static int check_secret(struct df_config *cfg, const struct dnsfollow_key *k,
			struct df_item *it)
{
	/* The value rules of a secret (one line) are df_key_parse()'s, the
	 * same for the daemon, defaults and the test host. */
	char msg[512], *canon;
	uint64_t num;
	if (df_key_parse(k, it->key, it->value, &num, &canon, msg, sizeof msg) != 0) {
		df_cfg_error(cfg, it->line, "%s", msg);
		return 1;
	}
	free(canon);
	if (df_log_add_secret(it->value) != 0) {
		df_cfg_error(cfg, it->line,
			     "%s: a secret shorter than %d characters cannot be kept out of logs",
			     it->key, DF_MIN_SECRET);
		return 1;
	}
	if (!it->from_file && *it->value)
		warn_inline_secret(cfg, it);
	return 0;
}

int df_cfg_typed(struct df_config *cfg, const struct dnsfollow_key *k,
		 struct df_item *it)
{
	int bad = 0;
	if (((k->flags & DNSFOLLOW_KEY_REQUIRED) || k->type == DNSFOLLOW_T_PATH) &&
	    !*it->value) {
		df_cfg_error(cfg, it->line, "%s is empty", it->key);
		bad = 1;
	} else if (k->type == DNSFOLLOW_T_SECRET) {
		bad = check_secret(cfg, k, it);
	} else if (k->type == DNSFOLLOW_T_PATH) {
		char *abs = df_path_resolve(cfg->dir, it->value);
		free(it->value);
		it->value = abs;
		/* A FIFO or device would hang whoever opens it later (curl
		 * reading a CA file, say): refused here, once, for every
		 * plugin. A missing file may be made later; a folder or a
		 * socket may be what the key wants. */
		struct stat st;
		if (stat(abs, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
			df_cfg_error(cfg, it->line, "%s: %s: is %s; give a regular file", it->key,
				     abs, S_ISFIFO(st.st_mode) ? "a FIFO" : "a device");
			bad = 1;
		}
	} else if (k->type != DNSFOLLOW_T_STRING) {
		char msg[1024], *canon;
		uint64_t num;
		if (df_key_parse(k, it->key, it->value, &num, &canon, msg,
				 sizeof msg) != 0) {
			df_cfg_error(cfg, it->line, "%s", msg);
			bad = 1;
		} else {
			free(it->value);
			it->value = canon;
			it->num = num;
		}
	}
	it->bad = bad;
	return bad;
}

/* Any item of `s` for `key`, a broken one included. */
static int given(const struct df_item *items, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].key && strcmp(items[i].key, key) == 0)
			return 1;
	return 0;
}

/* Append the defaults of `table`'s keys that neither `s` (a broken
 * KEY_file included: its error is said, a default would quietly stand
 * in) nor items[0..*n) give, typed like given values (the loader has
 * checked them). The core's keys are not a plugin's. */
static int add_defaults(struct df_config *cfg, const struct dnsfollow_key *table,
			const struct dnsfollow_key *core,
			const struct df_section *s, struct df_item **items,
			size_t *n)
{
	int bad = 0;
	for (const struct dnsfollow_key *k = table; k && k->name; k++) {
		if (!k->def || strchr(k->name, '*') ||
		    given(s->items, s->nitems, k->name) ||
		    given(*items, *n, k->name) ||
		    (core != table && declared_as(core, k->name)))
			continue;
		*items = df_xrealloc(*items, *n + 1, sizeof **items);
		struct df_item *it = &(*items)[(*n)++];
		memset(it, 0, sizeof *it);
		it->key = df_strdup(k->name);
		it->value = df_strdup(k->def);
		it->line = s->line;
		it->dflt = 1;
		bad |= df_cfg_typed(cfg, k, it);
	}
	return bad;
}

int df_cfg_match_items(struct df_config *cfg, struct df_section *s,
		       const struct df_keyset *ks)
{
	int bad = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		struct df_item *it = &s->items[i];
		if (it->broken)
			continue; /* its file could not be read (reported) */
		int renamed;
		const struct dnsfollow_key *k = item_key(ks, it, &renamed);
		if (!k) {
			char allowed[512];
			allowed_list(ks, allowed, sizeof allowed);
			df_cfg_error(cfg, it->line,
				     "unknown key '%s' in [%s] (allowed: %s)",
				     it->key, s->header, allowed);
			bad = 1;
			continue;
		}
		bad |= check_repeat(cfg, s, i, k);
		if (renamed &&
		    read_item_file(cfg, it, keyset_secret(ks, it->key)) != 0) {
			/* Not also judged by its path as if it were the value. */
			it->broken = 1;
			bad = 1;
			continue;
		}
		if (declared_as(ks->core, it->key))
			bad |= df_cfg_typed(cfg, k, it);
	}
	bad |= add_defaults(cfg, ks->core, ks->core, s, &s->items, &s->nitems);
	return bad;
}

int df_cfg_take_items(struct df_config *cfg, const struct df_section *s,
		      const struct dnsfollow_key *table,
		      const struct dnsfollow_key *core, struct df_item **out,
		      size_t *nout)
{
	int bad = 0;
	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		const struct df_item *src = &s->items[i];
		const struct dnsfollow_key *k = df_cfg_find_key(table, src->key);
		if (src->broken || !k || declared_as(core, src->key))
			continue;
		*out = df_xrealloc(*out, *nout + 1, sizeof **out);
		struct df_item *it = &(*out)[(*nout)++];
		*it = *src;
		it->key = df_strdup(src->key);
		it->value = df_strdup(src->value);
		bad |= df_cfg_typed(cfg, k, it);
	}
	bad |= add_defaults(cfg, table, core, s, out, nout);
	return bad;
}

static int need(struct df_config *cfg, const struct df_section *s,
		const char *name)
{
	/* A KEY_file whose file could not be read counts as given: its
	 * error is already said, and "needs KEY" would be a second, wrong
	 * one. */
	if (given(s->items, s->nitems, name))
		return 0;
	df_cfg_error(cfg, s->line, "[%s] needs '%s'", s->header, name);
	return 1;
}

int df_cfg_check_required(struct df_config *cfg, struct df_section *s,
			  const struct df_keyset *ks)
{
	const struct dnsfollow_key *t[] = {ks->core, ks->plugin, ks->plugin2};
	int bad = 0;
	for (size_t i = 0; i < 3; i++)
		for (const struct dnsfollow_key *k = t[i]; k && k->name; k++)
			if ((k->flags & DNSFOLLOW_KEY_REQUIRED) &&
			    !(i == 2 && declared_as(ks->plugin, k->name)))
				bad |= need(cfg, s, k->name);
	return bad;
}
