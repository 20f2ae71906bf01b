#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#ifndef DNSFOLLOW_PLUGINDIR
#define DNSFOLLOW_PLUGINDIR "/usr/local/lib/dnsfollow"
#endif

struct loaded {
	char *name;
	void *handle;
	const struct dnsfollow_plugin *desc;
};

struct df_loader {
	char *dir;
	struct loaded *v;
	size_t n;
};

const char *df_kind_name(unsigned kind)
{
	return kind == DNSFOLLOW_KIND_PROVIDER	 ? "provider"
	       : kind == DNSFOLLOW_KIND_BACKEND ? "backend"
						 : "unknown";
}

struct df_loader *df_loader_new(const char *dir)
{
	struct df_loader *l = df_xcalloc(1, sizeof *l);
	l->dir = df_strdup(dir);
	return l;
}

void df_loader_free(struct df_loader *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].handle && !getenv("DNSFOLLOW_NO_DLCLOSE"))
			dlclose(l->v[i].handle);
		free(l->v[i].name);
	}
	free(l->v);
	free(l->dir);
	free(l);
}

static int valid_plugin_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* A 0-terminated type list longer than this is a missing terminator. */
#define MAX_TYPES 64

/* The provider's type list: present, terminated, and holding TXT, which
 * every ownership marker needs. */
static int check_types(const struct dnsfollow_provider_ops *o, char *err,
		       size_t len)
{
	int txt = 0;
	size_t i = 0;
	if (!o->types) {
		snprintf(err, len, "provider ops list no types (.types is NULL)");
		return -1;
	}
	for (; o->types[i] && i < MAX_TYPES; i++)
		txt |= o->types[i] == DNSFOLLOW_TYPE_TXT;
	if (i == MAX_TYPES) {
		snprintf(err, len, "provider types list has no 0 terminator within %d entries",
			 MAX_TYPES);
		return -1;
	}
	if (!txt) {
		snprintf(err, len, "provider types list lacks TXT, which ownership markers need");
		return -1;
	}
	return 0;
}

static int check_provider_ops(const struct dnsfollow_provider_ops *o,
			      char *err, size_t len)
{
	if (o->struct_size < offsetof(struct dnsfollow_provider_ops, apply) +
				     sizeof o->apply) {
		snprintf(err, len, "provider ops table too small (%zu bytes)",
			 o->struct_size);
		return -1;
	}
	if (!o->read || !o->apply) {
		snprintf(err, len, "mandatory op %s is NULL",
			 !o->read ? "read" : "apply");
		return -1;
	}
	return check_types(o, err, len);
}

static int check_ops(const struct dnsfollow_plugin *p, char *err, size_t len)
{
	if (p->kind == DNSFOLLOW_KIND_PROVIDER)
		return check_provider_ops(p->ops, err, len);
	const struct dnsfollow_backend_ops *o = p->ops;
	if (o->struct_size < offsetof(struct dnsfollow_backend_ops, resolve) +
				     sizeof o->resolve) {
		snprintf(err, len, "backend ops table too small (%zu bytes)",
			 o->struct_size);
		return -1;
	}
	if (!o->resolve) {
		snprintf(err, len, "mandatory op resolve is NULL");
		return -1;
	}
	return 0;
}

/* abi_version is the first member in every ABI: readable in any
 * descriptor, and read before anything else. */
static int check_version(const struct dnsfollow_plugin *p, char *err,
			 size_t len)
{
	if (p->abi_version >= DNSFOLLOW_ABI_MIN_VERSION &&
	    p->abi_version <= DNSFOLLOW_ABI_VERSION)
		return 0;
	snprintf(err, len,
		 "built for plugin ABI %u; this dnsfollow loads ABI %u to %u: rebuild it against the installed headers (pkg-config --cflags dnsfollow)",
		 p->abi_version, DNSFOLLOW_ABI_MIN_VERSION, DNSFOLLOW_ABI_VERSION);
	return -1;
}

/* Every member ABI 2 defines, through `ops`. */
#define DESC_ABI2_SIZE \
	(offsetof(struct dnsfollow_plugin, ops) + sizeof(((struct dnsfollow_plugin *)0)->ops))

int df_plugin_check(const struct dnsfollow_plugin *p, const char *name,
		    unsigned kind, char *err, size_t len)
{
	if (check_version(p, err, len) != 0)
		return -1;
	if (p->struct_size < DESC_ABI2_SIZE) {
		snprintf(err, len, "descriptor too small (struct_size %u, ABI %u needs %zu): declare it with DNSFOLLOW_PROVIDER() or DNSFOLLOW_BACKEND()",
			 p->struct_size, p->abi_version, (size_t)DESC_ABI2_SIZE);
		return -1;
	}
	if (p->kind != kind) {
		snprintf(err, len, "is a %s plugin, not a %s",
			 df_kind_name(p->kind), df_kind_name(kind));
		return -1;
	}
	if (!p->name || strcmp(p->name, name) != 0) {
		snprintf(err, len, "declares name '%s', expected '%s'",
			 p->name ? p->name : "(null)", name);
		return -1;
	}
	if (!p->create || !p->destroy || !p->ops) {
		snprintf(err, len, "mandatory %s is NULL",
			 !p->create ? "create" : !p->destroy ? "destroy" : "ops");
		return -1;
	}
	if (check_ops(p, err, len) != 0)
		return -1;
	/* A bad declaration (a default its own type refuses) is the
	 * plugin's bug: said now, naming the file, not at each config. */
	if (df_keys_check(p->config_keys, "config key", err, len) != 0 ||
	    df_keys_check(p->record_keys, "record key", err, len) != 0)
		return -1;
	return 0;
}

/* The size of the descriptor symbol as the ELF file gives it, or
 * SIZE_MAX when unknown: a descriptor smaller than it claims would be
 * read past its end. */
static size_t symbol_size(const void *sym)
{
	Dl_info info;
	const ElfW(Sym) *es = NULL;
	if (!dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) || !es ||
	    !es->st_size)
		return SIZE_MAX;
	return es->st_size;
}

/* What can be read of `p` before df_plugin_check reads the rest. */
static int check_extent(const struct dnsfollow_plugin *p, char *err,
			size_t len)
{
	size_t have = symbol_size(p);
	if (have < sizeof p->abi_version) {
		snprintf(err, len, "descriptor is only %zu bytes", have);
		return -1;
	}
	if (check_version(p, err, len) != 0)
		return -1;
	if (have < offsetof(struct dnsfollow_plugin, kind) || have < p->struct_size) {
		snprintf(err, len, "descriptor is %zu bytes but its struct_size says %u",
			 have, have < offsetof(struct dnsfollow_plugin, kind) ? 0 : p->struct_size);
		return -1;
	}
	return 0;
}

static void *open_checked(const char *path, const char *name, unsigned kind,
			  const struct dnsfollow_plugin **desc, char *err,
			  size_t len)
{
	char why[256];
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, len, "%s: cannot load: %s", path,
			 e ? e : "unknown error");
		return NULL;
	}
	dlerror();
	const struct dnsfollow_plugin *p = dlsym(h, DNSFOLLOW_PLUGIN_SYMBOL);
	if (!p) {
		snprintf(err, len, "%s: refused: no '%s' symbol (not a dnsfollow plugin?)",
			 path, DNSFOLLOW_PLUGIN_SYMBOL);
		dlclose(h);
		return NULL;
	}
	if (check_extent(p, why, sizeof why) != 0 ||
	    df_plugin_check(p, name, kind, why, sizeof why) != 0) {
		snprintf(err, len, "%s: refused: %s", path, why);
		dlclose(h);
		return NULL;
	}
	*desc = p;
	return h;
}

const struct dnsfollow_plugin *df_loader_get(struct df_loader *l,
					     const char *name, unsigned kind,
					     char *err, size_t len)
{
	if (!valid_plugin_name(name)) {
		snprintf(err, len, "'%s' is not a valid plugin name", name);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name) != 0)
			continue;
		if (l->v[i].desc->kind != kind) {
			snprintf(err, len, "%s/%s.so: refused: is a %s plugin, not a %s",
				 l->dir, name, df_kind_name(l->v[i].desc->kind),
				 df_kind_name(kind));
			return NULL;
		}
		return l->v[i].desc;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s.so", l->dir, name);
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, len, "%s: no such plugin (plugin_dir is %s)", path,
			 l->dir);
		return NULL;
	}
	const struct dnsfollow_plugin *desc = NULL;
	void *h = open_checked(path, name, kind, &desc, err, len);
	if (!h)
		return NULL;
	l->v = df_xrealloc(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n].name = df_strdup(name);
	l->v[l->n].handle = h;
	l->v[l->n].desc = desc;
	l->n++;
	return desc;
}

const char *df_default_plugin_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof dir, "%s/plugins", exe);
			struct stat st;
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				return dir;
		}
	}
	snprintf(dir, sizeof dir, "%s", DNSFOLLOW_PLUGINDIR);
	return dir;
}

static void print_keys(FILE *out, const char *what,
		       const struct dnsfollow_key *k)
{
	char type[256];
	for (; k && k->name; k++) {
		df_key_describe(k, type, sizeof type);
		if (k->help)
			fprintf(out, "    %s %-16s %-28s  %s\n", what, k->name, type, k->help);
		else
			fprintf(out, "    %s %-16s %s\n", what, k->name, type);
	}
}

/* "types A, AAAA, TXT" */
static void print_types(FILE *out, const struct dnsfollow_plugin *d)
{
	if (d->kind != DNSFOLLOW_KIND_PROVIDER)
		return;
	const struct dnsfollow_provider_ops *o = d->ops;
	fprintf(out, "    types ");
	for (size_t i = 0; o->types[i]; i++)
		fprintf(out, "%s%s", i ? ", " : "", df_type_name(o->types[i]));
	fprintf(out, "%s\n", (o->caps & DNSFOLLOW_CAP_ATOMIC) ? " (atomic)" : "");
}

static int so_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

int df_plugins_list(const char *dir, FILE *out)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, so_name, alphasort);
	if (n < 0) {
		fprintf(stderr, "dnsfollow: cannot read plugin folder %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	fprintf(out, "plugins in %s:\n", dir);
	for (int i = 0; i < n; i++) {
		char name[256], path[PATH_MAX], err[512];
		snprintf(name, sizeof name, "%.*s", (int)strlen(ents[i]->d_name) - 3,
			 ents[i]->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
		/* Peek at the kind (only where the descriptor can be read),
		 * then check it like a real load, which says why not. */
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		const struct dnsfollow_plugin *p =
			h ? dlsym(h, DNSFOLLOW_PLUGIN_SYMBOL) : NULL;
		unsigned kind = p && check_extent(p, err, sizeof err) == 0 &&
					p->kind == DNSFOLLOW_KIND_BACKEND
				? DNSFOLLOW_KIND_BACKEND
				: DNSFOLLOW_KIND_PROVIDER;
		if (h)
			dlclose(h);
		const struct dnsfollow_plugin *d = NULL;
		h = open_checked(path, name, kind, &d, err, sizeof err);
		if (!h) {
			size_t pl = strlen(path);
			const char *why = strncmp(err, path, pl) == 0 && err[pl] == ':'
						  ? err + pl + 2
						  : err;
			fprintf(out, "  %-10s %s\n", name, why);
			continue;
		}
		fprintf(out, "  %-10s %s, version %s\n", name, df_kind_name(kind),
			d->version ? d->version : "?");
		print_types(out, d);
		print_keys(out, "key   ", d->config_keys);
		print_keys(out, "record", d->record_keys);
		dlclose(h);
	}
	free(ents);
	return 0;
}
