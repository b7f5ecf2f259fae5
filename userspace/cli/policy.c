// SPDX-License-Identifier: GPL-2.0
/* memctl policy set|list|clear: per-cgroup watermarks, kept in the module. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/memwatch.h>

#include "cgroup.h"
#include "util.h"
#include "commands.h"
#include "json.h"
#include "nl.h"
#include "policy.h"

static const char policy_usage[] =
"Usage: memctl policy set CGROUP [--notify V] [--reclaim V] [--throttle V]\n"
"                                [--freeze V] [--kill V] [--swap]\n"
"       memctl policy set --node N [LEVELS as above]\n"
"       memctl policy list [--json]\n"
"       memctl policy clear CGROUP | --node N\n"
"\n"
"Watermarks of a cgroup: up to five levels, each a share of the cgroup's\n"
"effective limit (its memory.max, else the nearest limited ancestor's,\n"
"else total RAM) as V = 80%, or an amount of memory as V = 512M (K, M, G,\n"
"T: powers of 1024; a bare number is bytes). Thresholds must rise with the\n"
"level. memwatch sends an event the moment the cgroup's usage crosses a\n"
"level, up (at the threshold) or down (under it by a margin: 2% of the\n"
"limit, at least 256 KiB per CPU); see 'memctl watch'. 'set' replaces\n"
"the cgroup's policy: levels not given are off.\n"
"\n"
"CGROUP is a path under the cgroup2 root (/a/b) or a full path\n"
"(/sys/fs/cgroup/a/b); the memory controller must be enabled for it.\n"
"CGROUP / is the whole host: usage is MemTotal - MemAvailable (what the\n"
"host cannot get back without killing), the limit total RAM.\n"
"\n"
"--node N sets the levels of NUMA node N instead: its limit is the node's\n"
"memory, its usage that less what is available on it (free pages over\n"
"the low watermarks and half its page cache). Its events name the node\n"
"and the processes with the most memory on it; memctl daemon migrates\n"
"them off the node (see memctl daemon --help).\n"
"Policies live in the module: they outlive memctl, and go with the\n"
"cgroup or the module. set and clear need CAP_SYS_ADMIN.\n"
"\n"
"Options:\n"
"  --notify V, --reclaim V, --throttle V, --freeze V, --kill V\n"
"                 the level's threshold (set)\n"
"  -n, --node N   a NUMA node's policy, not a cgroup's (set, clear)\n"
"  -s, --swap     usage counts the cgroup's memory swapped out too\n"
"                 (memory.swap.current), so a leak the kernel pushes to\n"
"                 swap (at memory.high, or the throttle level) still climbs\n"
"                 the levels; on /, the host's swap in use (every cgroup's,\n"
"                 about SwapTotal - SwapFree); not for a node (set)\n"
"  -j, --json     one JSON array (list)\n"
"  -h, --help     show this help\n"
"\n"
"Exit status: 0 on success, 1 if the module is not loaded or refused\n"
"(the kernel's reason is printed), 2 on a bad argument.\n";

static int policy_cgroup(const char *cmd, const char *arg, uint64_t *id,
			 char *rel, size_t relsz)
{
	int err = cg_resolve(arg, id, rel, relsz);

	if (err)
		return cli_usage_error(cmd, "'%s' is not a cgroup: %s", arg,
				       strerror(-err));
	return 0;
}

/* --node N: the node, or -1 after a usage error. */
static int policy_node(const char *cmd, const char *arg)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 0 || n > 1023) {
		cli_usage_error(cmd, "--node takes a node number (0 to 1023), not '%s'",
				arg);
		return -1;
	}
	return (int)n;
}

/* Connect, send the command for cgroup id or node (with levels for SET). */
static int policy_send(uint8_t cmd, uint64_t id, int node,
		       const struct policy_level *lv, unsigned int flags,
		       const char *what)
{
	struct mw_nl nl;
	int err;

	if (mw_nl_connect(&nl))
		return EXIT_FAIL;
	err = policy_request(&nl, cmd, id, node, lv, flags);
	if (err)
		mw_nl_perror(&nl, what);
	mw_nl_close(&nl);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int policy_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "notify", required_argument, NULL, 1 },
		{ "reclaim", required_argument, NULL, 2 },
		{ "throttle", required_argument, NULL, 3 },
		{ "freeze", required_argument, NULL, 4 },
		{ "kill", required_argument, NULL, 5 },
		{ "node", required_argument, NULL, 'n' },
		{ "swap", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy_level lv[MEMWATCH_NR_LEVELS + 1] = { 0 };
	unsigned int n = 0, flags = 0;
	uint64_t id = 0;
	int c, node = -1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "hn:s", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(policy_usage, stdout);
			return EXIT_OK;
		}
		if (c == 's') {
			flags |= POLICY_SWAP;
			continue;
		}
		if (c == 'n') {
			node = policy_node("policy set", optarg);
			if (node < 0)
				return EXIT_USAGE;
			continue;
		}
		if (c < 1 || c > MEMWATCH_NR_LEVELS)
			return cli_bad_option("policy set", argv);
		if (policy_parse_value(optarg, &lv[c]))
			return cli_usage_error("policy set",
				"--%s takes a percentage (1%% to 100%%) or bytes (at least 4096, e.g. 512M), not '%s'",
				cli_level_name(c), optarg);
		n++;
	}
	if (optind != argc - 1 && (node < 0 || optind != argc))
		return cli_usage_error("policy set",
				       node < 0 ? "give one CGROUP" :
				       "with --node, give no CGROUP or /");
	if (!n)
		return cli_usage_error("policy set", "give at least one level");
	if (optind < argc) {
		char rel[4096];
		int err = policy_cgroup("policy set", argv[optind], &id, rel,
					sizeof(rel));

		if (err)
			return err;
	}
	return policy_send(MEMWATCH_CMD_POLICY_SET, id, node, lv, flags,
			   "policy set");
}

static int policy_clear(int argc, char **argv)
{
	char rel[4096];
	uint64_t id;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(policy_usage, stdout);
		return EXIT_OK;
	}
	if (argc == 3 && (!strcmp(argv[1], "--node") || !strcmp(argv[1], "-n"))) {
		int node = policy_node("policy clear", argv[2]);
		if (node < 0)
			return EXIT_USAGE;
		return policy_send(MEMWATCH_CMD_POLICY_DEL, 0, node, NULL, 0,
				   "policy clear");
	}
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("policy clear",
				       "give one CGROUP, or --node N");
	err = policy_cgroup("policy clear", argv[1], &id, rel, sizeof(rel));
	if (err)
		return err;
	return policy_send(MEMWATCH_CMD_POLICY_DEL, id, -1, NULL, 0,
			   "policy clear");
}

static void policy_print_json(const struct policy_list *pl)
{
	struct json j;
	size_t i;
	unsigned int l;

	json_init(&j, stdout);
	json_begin_array(&j, NULL);
	for (i = 0; i < pl->n; i++) {
		const struct policy_rec *r = &pl->v[i];

		json_begin_object(&j, NULL);
		json_string(&j, "cgroup", r->cgroup);
		json_u64(&j, "cgroup_id", r->id);
		if (r->node >= 0)
			json_u64(&j, "node", (uint64_t)r->node);
		json_string(&j, "level", cli_level_name(r->level));
		json_u64(&j, "usage_bytes", r->usage);
		json_bool(&j, "swap", r->swap);
		json_u64(&j, "limit_bytes", r->limit);
		json_begin_array(&j, "levels");
		for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
			if (!r->w[l].threshold)
				continue;
			json_begin_object(&j, NULL);
			json_string(&j, "level", cli_level_name(l));
			if (r->w[l].pct)
				json_u64(&j, "percent", r->w[l].pct);
			else
				json_u64(&j, "bytes", r->w[l].bytes);
			json_u64(&j, "threshold_bytes", r->w[l].threshold);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_end(&j, '}');
	}
	json_end(&j, ']');
}

static void policy_print_text(const struct policy_list *pl)
{
	char a[16], b[16];
	size_t i;
	unsigned int l;

	if (!pl->n)
		printf("no policies\n");
	for (i = 0; i < pl->n; i++) {
		const struct policy_rec *r = &pl->v[i];

		char node[16];

		snprintf(node, sizeof(node), "node %d", r->node);
		printf("%s: usage %s%s of %s, level %s\n",
		       r->node >= 0 ? node : r->cgroup,
		       cli_bytes(r->usage, a, sizeof(a)),
		       r->swap ? " (swap included)" : "",
		       cli_bytes(r->limit, b, sizeof(b)),
		       cli_level_name(r->level));
		for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
			if (!r->w[l].threshold)
				continue;
			if (r->w[l].pct)
				snprintf(a, sizeof(a), "%u%%", r->w[l].pct);
			else
				cli_bytes(r->w[l].bytes, a, sizeof(a));
			printf("  %-9s %7s = %s\n", cli_level_name(l), a,
			       cli_bytes(r->w[l].threshold, b, sizeof(b)));
		}
	}
}

static int policy_list(int argc, char **argv)
{
	struct policy_list pl = { 0 };
	struct mw_nl nl;
	bool json;
	int err;

	err = cli_json_only("policy list", policy_usage, argc, argv, &json);
	if (err >= 0)
		return err;
	if (mw_nl_connect(&nl))
		return EXIT_FAIL;
	err = policy_fetch(&nl, &pl);
	if (err)
		mw_nl_perror(&nl, "policy list");
	else if (json)
		policy_print_json(&pl);
	else
		policy_print_text(&pl);
	mw_nl_close(&nl);
	free(pl.v);
	return err ? EXIT_FAIL : EXIT_OK;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("policy", "give a subcommand: set, list or clear");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(policy_usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "set"))
		return policy_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return policy_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "clear"))
		return policy_clear(argc - 1, argv + 1);
	return cli_usage_error("policy", "unknown subcommand '%s' (set, list, clear)",
			       argv[1]);
}
