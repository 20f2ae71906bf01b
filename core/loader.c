#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int check_ops(const struct dnsfollow_plugin *p, char *err, size_t len)
{
	if (p->kind == DNSFOLLOW_KIND_PROVIDER) {
		const struct dnsfollow_provider_ops *o = p->ops;
		if (o->struct_size < offsetof(struct dnsfollow_provider_ops,
					      apply) + sizeof o->apply) {
			snprintf(err, len, "provider ops table too small (%zu bytes)",
				 o->struct_size);
			return -1;
		}
		if (!o->read || !o->apply) {
			snprintf(err, len, "mandatory op %s is NULL",
				 !o->read ? "read" : "apply");
			return -1;
		}
		return 0;
	}
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

int df_plugin_check(const struct dnsfollow_plugin *p, const char *name,
		    unsigned kind, char *err, size_t len)
{
	if (p->abi_version != DNSFOLLOW_ABI_VERSION) {
		snprintf(err, len, "ABI version %u, this dnsfollow speaks %u",
			 p->abi_version, DNSFOLLOW_ABI_VERSION);
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
	return check_ops(p, err, len);
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
	if (df_plugin_check(p, name, kind, why, sizeof why) != 0) {
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
	for (; k && k->name; k++)
		fprintf(out, "    %s %-16s%s%s%s  %s\n", what, k->name,
			(k->flags & DNSFOLLOW_KEY_REQUIRED) ? " required" : "",
			(k->flags & DNSFOLLOW_KEY_SECRET) ? " secret" : "",
			(k->flags & DNSFOLLOW_KEY_PATH) ? " path" : "",
			k->help ? k->help : "");
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
		/* Peek at the kind first, then check it like a real load. */
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		const struct dnsfollow_plugin *p =
			h ? dlsym(h, DNSFOLLOW_PLUGIN_SYMBOL) : NULL;
		unsigned kind = p ? p->kind : 0;
		if (h)
			dlclose(h);
		const struct dnsfollow_plugin *d = NULL;
		h = kind ? open_checked(path, name, kind, &d, err, sizeof err) : NULL;
		if (!h) {
			if (!kind)
				snprintf(err, sizeof err, "%s: not a dnsfollow plugin", path);
			fprintf(out, "  %-10s refused: %s\n", name, err);
			continue;
		}
		fprintf(out, "  %-10s %s, version %s\n", name, df_kind_name(kind),
			d->version ? d->version : "?");
		print_keys(out, "key   ", d->config_keys);
		print_keys(out, "record", d->record_keys);
		dlclose(h);
	}
	free(ents);
	return 0;
}
