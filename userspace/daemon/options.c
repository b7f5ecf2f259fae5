// SPDX-License-Identifier: GPL-2.0
/* memctl daemon's command line: its help, its options, and --check. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/memwatch.h>

#include "config.h"
#include "options.h"
#include "policy.h"
#include "psi.h"
#include "util.h"

static const char daemon_usage[] =
"Usage: memctl daemon [--config FILE] [--dry-run] [--exec CMD]\n"
"                     [--log-json FILE] [--avoid REGEX] [--prefer REGEX]\n"
"                     [--freeze-grace D] [--kill-grace D] [--settle D]\n"
"                     [--state FILE] [--oom-score-adj N] [--metrics FILE]\n"
"                     [--metrics-interval D] [--syslog] [--check]\n"
"                     [--pre-kill CMD] [--pre-kill-timeout D]\n"
"                     [--incidents DIR] [--incidents-max N]\n"
"\n"
"Listen for memwatch's watermark events and degrade a cgroup step by\n"
"step as its usage climbs, before the kernel OOM killer would fire; undo\n"
"each step as usage falls. The step for each level (see 'memctl policy'):\n"
"\n"
"  notify    log the crossing (and run the --exec hook, as for every event)\n"
"  reclaim   write memory.reclaim, asking for usage down to the level below\n"
"  throttle  set memory.high to the throttle threshold: the cgroup's\n"
"            allocators sleep in proportion to their overage; memory.high\n"
"            is put back when usage falls below the level\n"
"  freeze    cgroup.freeze: nothing in the cgroup runs, so nothing grows,\n"
"            for at most the freeze grace. If usage is still over the\n"
"            freeze level then and the policy has a kill level, kill; else\n"
"            thaw\n"
"  kill      the offender as memwatch attributes memory: the process\n"
"            growing fastest, then the one with most live bytes, with its\n"
"            siblings growing alike. SIGTERM (and process_mrelease when the\n"
"            signal is fatal), thaw the survivors, SIGKILL after the kill\n"
"            grace. Never memctl, pid 1, a process with oom_score_adj -1000\n"
"            or one --avoid matches. Nothing more is killed there until the\n"
"            victims are gone and their memory came back (or --settle\n"
"            passed). A [cgroup] section may kill the whole cgroup instead\n"
"            (kill = cgroup, or memory.oom.group set: cgroup.kill), restart\n"
"            its systemd unit (restart = UNIT), and have its own avoid and\n"
"            prefer. Each kill, and each kernel OOM kill, leaves an\n"
"            incident report (see 'memctl incidents')\n"
"\n"
"A [cgroup] section may add memory pressure as a second signal: with\n"
"pressure = some|full PERCENT WINDOW (a PSI trigger on its memory.pressure;\n"
"the host's for /), needs-pressure = LEVEL holds that step and those above\n"
"back until the trigger fires too (no kill while memory is merely full),\n"
"and on-pressure = LEVEL takes that step when it fires, whatever the usage\n"
"(thrashing under the levels). The action log's trigger says which decided.\n"
"\n"
"Options:\n"
"  -c, --config FILE     the [daemon] settings, [cgroup PATH] and [node N]\n"
"                        policies\n"
"                        (see Documentation/daemon.md); policies are set in\n"
"                        the module at start and on SIGHUP, which reloads\n"
"                        FILE. Without it, the policies already in the\n"
"                        module are used\n"
"  -n, --dry-run         log what would be done; change no cgroup, signal\n"
"                        no process, run no hook (policies are still set)\n"
"  -e, --exec CMD        run 'sh -c CMD' for every event, with MEMCTL_CGROUP,\n"
"                        MEMCTL_CGROUP_ID, MEMCTL_LEVEL, MEMCTL_DIRECTION,\n"
"                        MEMCTL_USAGE, MEMCTL_LIMIT, MEMCTL_THRESHOLD,\n"
"                        MEMCTL_TS_NS, MEMCTL_TOP_PID, MEMCTL_TOP_COMM set\n"
"  -l, --log-json FILE   append one JSON object per action: ts_ns, cgroup,\n"
"                        level, action (notify reclaim throttle unthrottle\n"
"                        freeze thaw kill; oom when the kernel killed), pid\n"
"                        and comm and signal (kill), bytes, result (ok,\n"
"                        dry-run, error: ...), reason, dry_run\n"
"      --avoid REGEX     never kill a process whose name or command line\n"
"                        matches (POSIX extended)\n"
"      --prefer REGEX    kill a matching process first\n"
"      --freeze-grace D  longest a cgroup stays frozen (default 2s)\n"
"      --kill-grace D    from SIGTERM to SIGKILL (default 2s)\n"
"      --settle D        longest wait for a victim's memory to come back\n"
"                        before the ladder climbs again (default 5s)\n"
"      --state FILE      where the daemon notes the cgroups it froze or\n"
"                        throttled, to restore them if it is restarted\n"
"                        (default /run/memctl/daemon.state)\n"
"      --oom-score-adj N the daemon's own (default -1000)\n"
"      --metrics FILE    rewrite FILE with the module's and the daemon's\n"
"                        figures in the Prometheus text format (see\n"
"                        'memctl metrics') every metrics interval, from a\n"
"                        thread of its own; removed when the daemon stops;\n"
"                        '' for none (default /run/memctl/metrics.prom)\n"
"      --metrics-interval D  (default 15s)\n"
"      --syslog          send the lines for people to syslog (the journal)\n"
"                        too, as daemon.notice; kills and errors as\n"
"                        daemon.warning\n"
"      --pre-kill CMD    before a kill, run 'sh -c CMD' and wait for it\n"
"                        (the cgroup stays frozen), with MEMCTL_CGROUP,\n"
"                        MEMCTL_CGROUP_ID, MEMCTL_LEVEL, MEMCTL_USAGE,\n"
"                        MEMCTL_LIMIT, MEMCTL_VICTIM_PID, MEMCTL_VICTIM_COMM,\n"
"                        MEMCTL_VICTIM_LIVE, MEMCTL_VICTIM_GROWTH,\n"
"                        MEMCTL_VICTIM_CGROUP, MEMCTL_VICTIM_PIDS, MEMCTL_KILL\n"
"                        (kill, kill-cgroup, restart), MEMCTL_KILL_TARGET,\n"
"                        MEMCTL_FROZEN, MEMCTL_REASON, MEMCTL_INCIDENT set\n"
"      --pre-kill-timeout D  the longest wait for it; then it is killed\n"
"                        (its process group) and the kill goes on\n"
"                        (default 10s)\n"
"      --incidents DIR   where incident reports go, '' for none (default\n"
"                        /var/lib/memctl/incidents)\n"
"      --incidents-max N how many are kept, the oldest removed first\n"
"                        (default 100)\n"
"      --check           check the configuration, print it, and exit\n"
"  -h, --help            show this help\n"
"\n"
"D is a duration: 2s, 500ms, or seconds (1.5). Options override the\n"
"[daemon] section. The daemon locks its memory, allocates nothing on the\n"
"action path, and on SIGTERM or SIGINT thaws and unthrottles what it\n"
"changed (policies stay in the module). Needs CAP_SYS_ADMIN.\n"
"\n"
"Exit status: 0 after SIGTERM or SIGINT, 1 if the module is not loaded or\n"
"goes away, 2 on a bad argument or configuration.\n";

int daemon_options(int argc, char **argv, struct daemon_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "exec", required_argument, NULL, 'e' },
		{ "log-json", required_argument, NULL, 'l' },
		{ "avoid", required_argument, NULL, 1 },
		{ "prefer", required_argument, NULL, 2 },
		{ "freeze-grace", required_argument, NULL, 3 },
		{ "kill-grace", required_argument, NULL, 4 },
		{ "settle", required_argument, NULL, 5 },
		{ "state", required_argument, NULL, 6 },
		{ "oom-score-adj", required_argument, NULL, 7 },
		{ "check", no_argument, NULL, 8 },
		{ "metrics", required_argument, NULL, 9 },
		{ "metrics-interval", required_argument, NULL, 10 },
		{ "syslog", no_argument, NULL, 11 },
		{ "pre-kill", required_argument, NULL, 12 },
		{ "pre-kill-timeout", required_argument, NULL, 13 },
		{ "incidents", required_argument, NULL, 14 },
		{ "incidents-max", required_argument, NULL, 15 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[512];
	int c, idx;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:ne:l:h", opts, &idx)) != -1) {
		const char *key = NULL;

		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 8:
			o->check = true;
			break;
		case 'h':
			fputs(daemon_usage, stdout);
			return -1;
		case 'e':
			key = "exec";
			break;
		case 'l':
			key = "log-json";
			break;
		case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		case 9: case 10: case 12: case 13: case 14: case 15:
			key = opts[idx].name;
			break;
		case 11:
			settings_set(&o->cli, "syslog", "yes", why, sizeof(why));
			break;
		default:
			return cli_bad_option("daemon", argv);
		}
		if (key && settings_set(&o->cli, key, optarg, why, sizeof(why)))
			return cli_usage_error("daemon", "--%s %s", key, why);
	}
	if (optind < argc)
		return cli_usage_error("daemon", "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

void daemon_print_config(const struct settings *s, const struct config *cfg)
{
	char v[32];
	unsigned int i, l;

	printf("freeze-grace = %ums\nkill-grace = %ums\nsettle = %ums\n"
	       "oom-score-adj = %d\nexec = %s\navoid = %s\nprefer = %s\n"
	       "log-json = %s\nstate = %s\nmetrics = %s\n"
	       "metrics-interval = %ums\nsyslog = %s\n"
	       "pre-kill = %s\npre-kill-timeout = %ums\n"
	       "incidents = %s\nincidents-max = %u\n",
	       s->freeze_grace_ms, s->kill_grace_ms, s->settle_ms,
	       s->oom_score_adj, s->exec, s->avoid, s->prefer,
	       s->log_json, s->state, s->metrics,
	       s->metrics_interval_ms, s->syslog ? "yes" : "no",
	       s->pre_kill, s->pre_kill_timeout_ms, s->incidents,
	       s->incidents_max);
	for (i = 0; i < cfg->n; i++) {
		if (cfg->cg[i].node >= 0)
			printf("\n[node %d]\n", cfg->cg[i].node);
		else
			printf("\n[cgroup %s]\n", cfg->cg[i].path);
		for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
			const struct policy_level *p = &cfg->cg[i].lv[l];

			if (p->pct)
				printf("%s = %u%%\n", cli_level_name(l), p->pct);
			else if (p->bytes)
				printf("%s = %s\n", cli_level_name(l),
				       cli_bytes(p->bytes, v, sizeof(v)));
		}
		if (cfg->cg[i].kill != KILL_DEFAULT)
			printf("kill = %s\n", cfg->cg[i].kill == KILL_CGROUP ?
			       "cgroup" : "process");
		if (cfg->cg[i].avoid[0])
			printf("avoid = %s\n", cfg->cg[i].avoid);
		if (cfg->cg[i].prefer[0])
			printf("prefer = %s\n", cfg->cg[i].prefer);
		if (cfg->cg[i].restart[0])
			printf("restart = %s\n", cfg->cg[i].restart);
		if (cfg->cg[i].swap)
			printf("swap = yes\n");
		if (cfg->cg[i].psi.pct)
			printf("pressure = %s\n", psi_format(&cfg->cg[i].psi, v,
							     sizeof(v)));
		if (cfg->cg[i].needs_pressure)
			printf("needs-pressure = %s\n",
			       cli_level_name(cfg->cg[i].needs_pressure));
		if (cfg->cg[i].on_pressure)
			printf("on-pressure = %s\n",
			       cli_level_name(cfg->cg[i].on_pressure));
	}
}
