// SPDX-License-Identifier: GPL-2.0
/* memctl: the memwatch controller. Subcommands dispatch from a table. */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "commands.h"
#include "daemon.h"

#define MEMCTL_VERSION "0.1.0"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "status", cmd_status, "show the module's version, hooks and tables" },
	{ "top", cmd_top, "show memory per process and NUMA node, live" },
	{ "policy", cmd_policy, "set, list or clear a cgroup's watermarks" },
	{ "watch", cmd_watch, "stream watermark and OOM events" },
	{ "daemon", cmd_daemon, "act on events: reclaim, throttle, freeze, kill" },
	{ "metrics", cmd_metrics, "print figures in the Prometheus text format" },
	{ "incidents", cmd_incidents, "list or show the daemon's incident reports" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"Usage: memctl COMMAND [OPTIONS]\n"
		"       memctl COMMAND --help\n"
		"\n"
		"Control and observe memwatch, the kernel module that tracks page\n"
		"allocations per process and NUMA node and watches cgroup memory.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show memctl's version\n"
		"\n"
		"Exit status: 0 on success, 1 on failure, 2 on a bad argument.\n");
}

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("memctl %s\n", MEMCTL_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "memctl: unknown command '%s' (see 'memctl --help')\n",
		argv[1]);
	return EXIT_USAGE;
}
