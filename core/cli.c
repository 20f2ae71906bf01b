/*
 * The command line: options and the combinations refused (exit 64 with
 * one line and the usage).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <dnsfollow/abi.h>

#include "host.h"

void df_usage(FILE *f)
{
	fputs("usage: dnsfollow -c FILE [--once] [--dry-run [--output text|json]] [--detailed-exitcode]\n"
	      "                 [--check-config] [--healthcheck] [-v] [--version] [--list-plugins]\n",
	      f);
}

int df_parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'n'},
		{"check-config", no_argument, NULL, 'k'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"list-plugins", no_argument, NULL, 'L'},
		{"output", required_argument, NULL, 'O'},
		{"detailed-exitcode", no_argument, NULL, 'D'},
		{"healthcheck", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:vh", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (o->config) {
				fprintf(stderr, "dnsfollow: -c given twice; give one config file\n");
				return -1;
			}
			o->config = optarg;
			break;
		case 'o': o->once = 1; break;
		case 'n': o->dry_run = 1; break;
		case 'k': o->check = 1; break;
		case 'v': o->verbose = 1; break;
		case 'L': o->list_plugins = 1; break;
		case 'D': o->detailed = 1; break;
		case 'H': o->healthcheck = 1; break;
		case 'O':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr, "dnsfollow: --output must be text or json, not '%s'\n",
					optarg);
				return -1;
			}
			o->json = strcmp(optarg, "json") == 0;
			o->output = 1;
			break;
		case 'V':
			printf("dnsfollow %s (plugin ABI %u)\n", DNSFOLLOW_VERSION,
			       DNSFOLLOW_ABI_VERSION);
			exit(EX_OK);
		case 'h': df_usage(stdout); exit(EX_OK);
		default:
			fprintf(stderr, "dnsfollow: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			df_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dnsfollow: unexpected argument '%s'\n", argv[optind]);
		df_usage(stderr);
		return -1;
	}
	if (o->check && (o->once || o->dry_run)) {
		fprintf(stderr, "dnsfollow: --check-config touches no DNS; it cannot be combined with %s\n",
			o->dry_run ? "--dry-run" : "--once");
		df_usage(stderr);
		return -1;
	}
	if (o->healthcheck && (o->once || o->dry_run || o->check)) {
		fputs("dnsfollow: --healthcheck asks a running daemon; it goes alone with -c FILE\n",
		      stderr);
		df_usage(stderr);
		return -1;
	}
	if (o->output && !o->dry_run) {
		fputs("dnsfollow: --output chooses how a plan is printed: it goes with --dry-run\n", stderr);
		df_usage(stderr);
		return -1;
	}
	if (o->detailed && ((!o->once && !o->dry_run) || o->check)) {
		fputs(o->check ? "dnsfollow: --detailed-exitcode goes with --once or --dry-run, not --check-config\n"
			       : "dnsfollow: --detailed-exitcode goes with --once or --dry-run (a daemon does not exit with a plan)\n",
		      stderr);
		df_usage(stderr);
		return -1;
	}
	/* A plan is printed once: a dry run that looped would print it for
	 * ever and never tell a script it is done. */
	if (o->dry_run) {
		o->once = 1;
		df_set_dry_run(1);
	}
	if (!o->config && !o->list_plugins) {
		fputs("dnsfollow: -c FILE is required\n", stderr);
		df_usage(stderr);
		return -1;
	}
	return 0;
}

