// SPDX-License-Identifier: GPL-2.0
/*
 * memctl metrics: the module's and the daemon's figures in the Prometheus
 * text format, on stdout or into a file for node_exporter's textfile
 * collector; and the daemon's thread that rewrites such a file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "util.h"
#include "commands.h"
#include "metrics.h"
#include "policy.h"
#include "procs.h"
#include "status.h"

#define METRICS_DEFAULT_TOP 10

static const char metrics_usage[] =
"Usage: memctl metrics [--output FILE] [--top N] [--daemon-metrics FILE]\n"
"\n"
"Print what memwatch and memctl daemon know in the Prometheus text\n"
"exposition format (for node_exporter's textfile collector, or any\n"
"scraper that reads it):\n"
"\n"
"  memwatch_up, memwatch_info{version}        the module answers, and which\n"
"  memwatch_hook_*{hook,kind}                 attached, hits, missed\n"
"  memwatch_table_*{table}                    entries, capacity, bytes,\n"
"                                             overflows\n"
"  memwatch_events_{sent,dropped}_total\n"
"  memwatch_cgroup_*{cgroup}                  for each policy: usage, limit,\n"
"                                             level crossed, each level's\n"
"                                             threshold\n"
"  memwatch_node_live_bytes{node}             live pages' bytes per NUMA node\n"
"  memwatch_live_bytes{locality}              local and remote to the\n"
"                                             charging CPU\n"
"  memwatch_process_{live_bytes,rate_bytes_per_second,anon_bytes,\n"
"    file_bytes,swap_bytes}{pid,comm,cgroup}\n"
"                                             the N processes holding most\n"
"  memctl_daemon_*                            the daemon's events, actions by\n"
"                                             result, frozen and throttled\n"
"                                             cgroups (from its metrics\n"
"                                             file, when it runs)\n"
"\n"
"Without CAP_SYS_ADMIN the process figures cover only your own processes.\n"
"\n"
"Options:\n"
"  -o, --output FILE          write FILE (through a temporary file and a\n"
"                             rename, so a reader never sees half) instead\n"
"                             of stdout\n"
"  -n, --top N                processes to show (default 10, 0 for none,\n"
"                             at most 1000)\n"
"      --daemon-metrics FILE  where memctl daemon writes its figures\n"
"                             (default " METRICS_DAEMON_FILE ");\n"
"                             its memctl_daemon_* lines are included, or\n"
"                             memctl_daemon_up 0 when it is not there\n"
"  -h, --help                 show this help\n"
"\n"
"Exit status: 0 on success; 1 if the module is not loaded (memwatch_up 0\n"
"is still printed or written) or FILE cannot be written; 2 on a bad\n"
"argument.\n";

/* The memctl_daemon_* lines of the daemon's file, or memctl_daemon_up 0. */
static void metrics_daemon_file(FILE *f, const char *path)
{
	bool any = false;
	FILE *in = fopen(path, "re");

	if (in) {
		char line[512];

		while (fgets(line, sizeof(line), in)) {
			if (!strncmp(line, "memctl_daemon_", 14) ||
			    !strncmp(line, "# HELP memctl_daemon_", 21) ||
			    !strncmp(line, "# TYPE memctl_daemon_", 21)) {
				fputs(line, f);
				any = true;
			}
		}
		fclose(in);
	}
	if (!any)
		fputs("# HELP memctl_daemon_up 1 when memctl daemon wrote these figures.\n"
		      "# TYPE memctl_daemon_up gauge\nmemctl_daemon_up 0\n", f);
}

struct metrics_cmd {
	struct mw_nl *nl;
	struct metrics_buf b;
	unsigned int top;
	const char *daemon_file;
	int err;
};

static void metrics_cmd_fill(FILE *f, void *arg)
{
	struct metrics_cmd *c = arg;

	c->err = metrics_module(f, c->nl, &c->b, c->top);
	metrics_daemon_file(f, c->daemon_file);
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 'n' },
		{ "daemon-metrics", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct metrics_cmd c = { .top = METRICS_DEFAULT_TOP,
				 .daemon_file = METRICS_DAEMON_FILE };
	const char *output = NULL;
	struct mw_nl nl;
	int opt, err;
	long v;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (!*optarg)
				return cli_usage_error("metrics", "--output takes a file name");
			output = optarg;
			break;
		case 'n':
			if (cli_parse_long(optarg, 0, 1000, &v))
				return cli_usage_error("metrics", "--top takes a number from 0 to 1000, not '%s'",
						       optarg);
			c.top = (unsigned int)v;
			break;
		case 1:
			c.daemon_file = optarg;
			break;
		case 'h':
			fputs(metrics_usage, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("metrics", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("metrics", "unexpected argument '%s'",
				       argv[optind]);

	err = mw_nl_open(&nl);
	if (err == -ENOENT)
		fprintf(stderr, "memctl: " MW_NOT_LOADED_MSG "\n");
	else if (err)
		fprintf(stderr, "memctl: cannot open generic netlink: %s\n",
			strerror(-err));
	c.nl = err ? NULL : &nl;
	if (output) {
		err = metrics_write_file(output, metrics_cmd_fill, &c);
		if (err)
			fprintf(stderr, "memctl: cannot write %s: %s\n", output,
				strerror(-err));
	} else {
		metrics_cmd_fill(stdout, &c);
		fflush(stdout);
		err = 0;
	}
	if (c.nl) {
		if (c.err)
			mw_nl_perror(&nl, "metrics");
		mw_nl_close(&nl);
	}
	free(c.b.policies.v);
	free(c.b.procs.v);
	return err || c.err ? EXIT_FAIL : EXIT_OK;
}
