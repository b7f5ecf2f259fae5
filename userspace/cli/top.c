// SPDX-License-Identifier: GPL-2.0
/* memctl top: who holds and grows memory, and on which NUMA node. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "cgroup.h"
#include "util.h"
#include "commands.h"
#include "json.h"
#include "nl.h"
#include "procs.h"

struct top_opts {
	bool json;
	uint32_t pid;
	bool by_cgroup;
	uint64_t cgroup_id;
	long limit;		/* 0: all */
	bool by_rate;
	double interval;	/* 0: once */
	long count;		/* refreshes with --interval, 0: until killed */
};

static const char top_usage[] =
"Usage: memctl top [--json] [--pid PID] [--cgroup CGROUP] [-n N]\n"
"                  [--sort live|rate] [--interval S [--count K]]\n"
"\n"
"Show, per process, the user memory (anonymous and page cache) it has\n"
"charged since memwatch was loaded and not yet released: on which NUMA\n"
"node it lies, how much landed on the node of the CPU that charged it\n"
"(local) or elsewhere (remote), how fast the process charges new memory\n"
"over the last second, and what it charged and released in all. Threads\n"
"count with their process. Page cache outlives its process: it stays with\n"
"a record marked exited until it is released. Pages charged by kernel\n"
"threads go to [kernel]; a process that finds the table full goes to\n"
"[overflow].\n"
"\n"
"Options:\n"
"  -j, --json          print one JSON array per refresh\n"
"  -p, --pid PID       only this process\n"
"  -c, --cgroup CGROUP only processes in this cgroup or below it: a path\n"
"                      under the cgroup2 root (/a/b) or a full path\n"
"  -n N                only the first N records\n"
"  -s, --sort KEY      live (default): most live bytes first;\n"
"                      rate: fastest growing first\n"
"  -i, --interval S    refresh every S seconds (fractions allowed), like\n"
"                      top(1), until interrupted\n"
"      --count K       stop after K refreshes\n"
"  -h, --help          show this help\n"
"\n"
"JSON fields: pid, comm, state (alive, exited, kernel, overflow), cgroup,\n"
"live_bytes, nodes ([{node, live_bytes}]), local_bytes, remote_bytes,\n"
"alloc_bytes_per_s, anon_bytes, file_bytes (anon + file = live), swap_bytes,\n"
"allocated_bytes, released_bytes.\n"
"\n"
"ANON is a live process's resident anonymous memory (RssAnon), FILE the\n"
"rest of its live bytes (page cache it brought in), SWAP its anonymous\n"
"memory swapped out (VmSwap), which is not in LIVE.\n"
"\n"
"Exit status: 0 on success, 1 if the module is not loaded or the kernel\n"
"refused, 2 on a bad argument.\n";

static int top_cmp_live(const void *a, const void *b)
{
	const struct mw_proc *x = a, *y = b;

	if (x->live != y->live)
		return x->live < y->live ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int top_cmp_rate(const void *a, const void *b)
{
	const struct mw_proc *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	return top_cmp_live(a, b);
}

static const char *state_name(uint8_t state)
{
	switch (state) {
	case MEMWATCH_PROC_ALIVE:
		return "alive";
	case MEMWATCH_PROC_EXITED:
		return "exited";
	case MEMWATCH_PROC_KERNEL:
		return "kernel";
	case MEMWATCH_PROC_OVERFLOW:
		return "overflow";
	case MEMWATCH_PROC_FOLDED:
		return "folded";
	}
	return "unknown";
}

static void top_print_json(const struct mw_proc *v, size_t n)
{
	struct json j;
	size_t i;
	unsigned int k;

	json_init(&j, stdout);
	json_begin_array(&j, NULL);
	for (i = 0; i < n; i++) {
		const struct mw_proc *r = &v[i];

		json_begin_object(&j, NULL);
		json_u64(&j, "pid", r->pid);
		json_string(&j, "comm", r->comm);
		json_string(&j, "state", state_name(r->state));
		json_string(&j, "cgroup", r->cgroup);
		json_u64(&j, "live_bytes", r->live);
		json_begin_array(&j, "nodes");
		for (k = 0; k < r->n_nodes; k++) {
			json_begin_object(&j, NULL);
			json_u64(&j, "node", r->nodes[k].node);
			json_u64(&j, "live_bytes", r->nodes[k].live);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_u64(&j, "local_bytes", r->local);
		json_u64(&j, "remote_bytes", r->remote);
		json_u64(&j, "alloc_bytes_per_s", r->rate);
		json_u64(&j, "anon_bytes", r->anon);
		json_u64(&j, "file_bytes", r->file);
		json_u64(&j, "swap_bytes", r->swap);
		json_u64(&j, "allocated_bytes", r->allocated);
		json_u64(&j, "released_bytes", r->released);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	fflush(stdout);
}

static void top_print_text(const struct mw_proc *v, size_t n, size_t total)
{
	char live[16], local[16], remote[16], rate[16], node[16], name[48];
	char anon[16], file[16], swap[16];
	uint64_t sum = 0;
	size_t i;
	unsigned int k;

	for (i = 0; i < n; i++)
		sum += v[i].live;
	printf("memwatch: %zu records, showing %zu, %s live\n", total, n,
	       cli_bytes(sum, live, sizeof(live)));
	printf("%8s %-18s %-20s %9s %9s %9s %9s %9s %9s %9s  %s\n", "PID",
	       "COMM", "CGROUP", "LIVE", "ANON", "FILE", "SWAP", "LOCAL",
	       "REMOTE", "RATE/s", "NODES");
	for (i = 0; i < n; i++) {
		const struct mw_proc *r = &v[i];

		snprintf(name, sizeof(name), "%s%s", r->comm,
			 r->state == MEMWATCH_PROC_EXITED ? " (exited)" : "");
		printf("%8u %-18.18s %-20.20s %9s %9s %9s %9s %9s %9s %9s ",
		       r->pid, name, r->cgroup[0] ? r->cgroup : "-",
		       cli_bytes(r->live, live, sizeof(live)),
		       cli_bytes(r->anon, anon, sizeof(anon)),
		       cli_bytes(r->file, file, sizeof(file)),
		       cli_bytes(r->swap, swap, sizeof(swap)),
		       cli_bytes(r->local, local, sizeof(local)),
		       cli_bytes(r->remote, remote, sizeof(remote)),
		       cli_bytes(r->rate, rate, sizeof(rate)));
		for (k = 0; k < r->n_nodes; k++)
			printf(" %u:%s", r->nodes[k].node,
			       cli_bytes(r->nodes[k].live, node, sizeof(node)));
		printf("\n");
	}
	fflush(stdout);
}

static int top_parse_args(int argc, char **argv, struct top_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "sort", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char rel[4096];
	int c, err;
	long v;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jp:c:n:s:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'p':
			if (cli_parse_long(optarg, 1, 0x7fffffff, &v))
				return cli_usage_error("top", "--pid takes a process id, not '%s'", optarg);
			o->pid = v;
			break;
		case 'c':
			err = cg_resolve(optarg, &o->cgroup_id, rel, sizeof(rel));
			if (err)
				return cli_usage_error("top", "'%s' is not a cgroup: %s", optarg, strerror(-err));
			o->by_cgroup = true;
			break;
		case 'n':
			if (cli_parse_long(optarg, 1, 1000000, &o->limit))
				return cli_usage_error("top", "-n takes a positive number, not '%s'", optarg);
			break;
		case 's':
			if (strcmp(optarg, "live") && strcmp(optarg, "rate"))
				return cli_usage_error("top", "--sort is live or rate, not '%s'", optarg);
			o->by_rate = !strcmp(optarg, "rate");
			break;
		case 'i':
			if (cli_parse_seconds(optarg, &o->interval))
				return cli_usage_error("top", "--interval takes seconds > 0, not '%s'", optarg);
			break;
		case 'C':
			if (cli_parse_long(optarg, 1, 1000000000, &o->count))
				return cli_usage_error("top", "--count takes a positive number, not '%s'", optarg);
			break;
		case 'h':
			fputs(top_usage, stdout);
			return -1;
		default:
			return cli_bad_option("top", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("top", "unexpected argument '%s'", argv[optind]);
	if (o->count && !o->interval)
		return cli_usage_error("top", "--count needs --interval");
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = { 0 };
	struct mw_procs l = { 0 };
	struct mw_nl nl;
	long iter;
	int rc;

	rc = top_parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (mw_nl_connect(&nl))
		return EXIT_FAIL;
	for (iter = 1;; iter++) {
		size_t shown;

		if (mw_procs_fetch(&nl, o.pid, o.by_cgroup ? o.cgroup_id : 0,
				   &l)) {
			mw_nl_perror(&nl, "top");
			rc = EXIT_FAIL;
			break;
		}
		qsort(l.v, l.n, sizeof(*l.v), o.by_rate ? top_cmp_rate :
							    top_cmp_live);
		shown = o.limit && (size_t)o.limit < l.n ? (size_t)o.limit : l.n;
		if (o.json) {
			top_print_json(l.v, shown);
		} else {
			if (o.interval && isatty(STDOUT_FILENO))
				fputs("\033[H\033[2J", stdout);
			top_print_text(l.v, shown, l.n);
		}
		if (!o.interval || (o.count && iter >= o.count))
			break;
		cli_sleep(o.interval);
	}
	free(l.v);
	mw_nl_close(&nl);
	return rc;
}
