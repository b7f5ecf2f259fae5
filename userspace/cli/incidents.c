// SPDX-License-Identifier: GPL-2.0
/* memctl incidents: the daemon's incident reports, listed or shown. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "commands.h"

#define INCIDENTS_DIR "/var/lib/memctl/incidents"

static const char incidents_usage[] =
"Usage: memctl incidents [--dir DIR] [--json]\n"
"       memctl incidents show ID [--dir DIR] [--json]\n"
"\n"
"memctl daemon writes an incident report for every kill it makes (of a\n"
"process, a whole cgroup, or a unit's restart) and for every kernel OOM\n"
"kill it hears of: the cgroup's memory.stat, memory.events and\n"
"memory.pressure, usage, limit and swap, the levels, the victims, the\n"
"result of the pre-kill hook, the daemon's actions leading to it, and the\n"
"processes holding the most memory with their growth, allocation rate\n"
"and NUMA split. The first form lists them, the oldest first; 'show ID'\n"
"prints one (ID as listed, or a unique start of one).\n"
"\n"
"Options:\n"
"  -d, --dir DIR   where the reports are (the daemon's 'incidents'\n"
"                  setting; default " INCIDENTS_DIR ")\n"
"  -j, --json      the reports themselves: a JSON array of them, or the\n"
"                  one shown\n"
"  -h, --help      show this help\n"
"\n"
"Exit status: 0 on success (an empty list too), 1 if DIR cannot be read\n"
"or ID is not there, 2 on a bad argument.\n";

static int is_report(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".json");
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Copy the file at path to stdout (its first line only if first): 0/-1. */
static int print_file(const char *path, bool first)
{
	char buf[8192];
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (first) {
		if (fgets(buf, sizeof(buf), f))
			fputs(buf, stdout);
	} else {
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	fclose(f);
	return 0;
}

static int incidents_list(const char *dir, bool json)
{
	struct dirent **names;
	char path[4200];
	int n, i, shown = 0;

	n = scandir(dir, &names, is_report, name_cmp);
	if (n < 0) {
		if (errno == ENOENT) {
			printf(json ? "[]\n" : "no incidents (%s does not exist)\n",
			       dir);
			return EXIT_OK;
		}
		fprintf(stderr, "memctl incidents: %s: %s\n", dir,
			strerror(errno));
		return EXIT_FAIL;
	}
	if (json)
		printf("[");
	else if (n)
		printf("%-36s %-20s %-4s %-24s %s\n", "ID", "TIME", "KIND",
		       "CGROUP", "VICTIM ACTION");
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name) - 5;

		if (json) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			if (shown)
				printf(",");
			if (!print_file(path, false))
				shown++;
		} else {
			snprintf(path, sizeof(path), "%s/%.*s.txt", dir,
				 (int)len, names[i]->d_name);
			if (!print_file(path, true))
				shown++;
		}
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	else if (!shown)
		printf("no incidents in %s\n", dir);
	return EXIT_OK;
}

static int incidents_show(const char *dir, const char *id, bool json)
{
	struct dirent **names;
	char path[4200], found[512] = "";
	size_t idlen = strlen(id);
	int n, i, matches = 0;

	if (!idlen || strchr(id, '/'))
		return cli_usage_error("incidents", "show takes an incident ID, not '%s'",
				       id);
	n = scandir(dir, &names, is_report, name_cmp);
	if (n < 0) {
		fprintf(stderr, "memctl incidents: %s: %s\n", dir,
			strerror(errno));
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name) - 5;

		if (!strncmp(names[i]->d_name, id, idlen) && idlen <= len) {
			matches++;
			snprintf(found, sizeof(found), "%.*s", (int)len,
				 names[i]->d_name);
			/* The whole ID names one even if it starts others. */
			if (idlen == len) {
				matches = 1;
				break;
			}
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (matches != 1) {
		fprintf(stderr, "memctl incidents: %s: %s in %s\n", id,
			matches ? "names more than one incident" :
			"no such incident", dir);
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/%s.%s", dir, found,
		 json ? "json" : "txt");
	if (print_file(path, false)) {
		fprintf(stderr, "memctl incidents: %s: %s\n", path,
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_incidents(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = INCIDENTS_DIR;
	bool json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (!*optarg)
				return cli_usage_error("incidents", "--dir takes a directory");
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(incidents_usage, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("incidents", argv);
		}
	}
	if (optind == argc)
		return incidents_list(dir, json);
	if (strcmp(argv[optind], "show"))
		return cli_usage_error("incidents", "unknown action '%s' (show ID, or none to list)",
				       argv[optind]);
	if (optind + 2 != argc)
		return cli_usage_error("incidents", "show takes one incident ID");
	return incidents_show(dir, argv[optind + 1], json);
}
