/* The command line: options, their checks, usage. */
#ifndef DF_CLI_H
#define DF_CLI_H

#include <stdio.h>

#define EX_OK 0
#define EX_FAIL 1
#define EX_CHANGES 2 /* --detailed-exitcode: in sync after changes */
#define EX_USAGE_ 64
#define EX_TEMPFAIL_ 75

struct options {
	const char *config;
	int once, dry_run, check, verbose, list_plugins;
	int json;     /* --output json (with --dry-run) */
	int output;   /* --output was given */
	int detailed; /* --detailed-exitcode */
	int healthcheck; /* --healthcheck: ask a running daemon */
};

void df_usage(FILE *f);
/** Parse argv into o: 0, or -1 after one line and the usage on stderr.
 *  --version and --help print and exit. */
int df_parse_args(int argc, char **argv, struct options *o);

#endif
