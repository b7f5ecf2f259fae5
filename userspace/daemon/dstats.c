// SPDX-License-Identifier: GPL-2.0
/* The daemon's counters, for `memctl metrics` and the metrics file. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <linux/memwatch.h>

#include "dstats.h"
#include "util.h"

static const char *const dstats_actions[] = {
	"notify", "reclaim", "throttle", "unthrottle", "freeze", "thaw",
	"kill", "oom", "migrate",
};
#define N_ACTIONS (sizeof(dstats_actions) / sizeof(dstats_actions[0]))
#define N_LEVELS (MEMWATCH_LEVEL_OOM + 1)

static struct {
	atomic_ullong events[N_LEVELS][2];
	atomic_ullong actions[N_ACTIONS][ACT_NR_OUTCOMES];
	atomic_ullong lost, reloads, reload_errors;
	atomic_uint frozen, throttled;
	double start;
	bool dry_run;
} ds;

static double dstats_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void dstats_start(bool dry_run)
{
	ds.start = dstats_now();
	ds.dry_run = dry_run;
}

void dstats_event(unsigned int level, bool up)
{
	if (level < N_LEVELS)
		atomic_fetch_add_explicit(&ds.events[level][up ? 0 : 1], 1,
					  memory_order_relaxed);
}

void dstats_action(const char *action, enum act_outcome outcome)
{
	size_t a;

	for (a = 0; a < N_ACTIONS; a++)
		if (!strcmp(action, dstats_actions[a]))
			break;
	if (a == N_ACTIONS || outcome >= ACT_NR_OUTCOMES)
		return;
	atomic_fetch_add_explicit(&ds.actions[a][outcome], 1,
				  memory_order_relaxed);
}

void dstats_events_lost(void)
{
	atomic_fetch_add_explicit(&ds.lost, 1, memory_order_relaxed);
}

void dstats_reload(bool ok)
{
	atomic_fetch_add_explicit(ok ? &ds.reloads : &ds.reload_errors, 1,
				  memory_order_relaxed);
}

void dstats_gauges(unsigned int frozen, unsigned int throttled)
{
	atomic_store_explicit(&ds.frozen, frozen, memory_order_relaxed);
	atomic_store_explicit(&ds.throttled, throttled, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void dstats_write(FILE *f)
{
	unsigned int l, d;
	size_t a, r;

	fprintf(f, "# HELP memctl_daemon_up 1 when memctl daemon wrote these figures.\n"
		"# TYPE memctl_daemon_up gauge\nmemctl_daemon_up 1\n");
	fprintf(f, "# HELP memctl_daemon_dry_run 1 when the daemon only logs what it would do.\n"
		"# TYPE memctl_daemon_dry_run gauge\nmemctl_daemon_dry_run %d\n",
		ds.dry_run);
	fprintf(f, "# HELP memctl_daemon_start_time_seconds When the daemon started, since the epoch.\n"
		"# TYPE memctl_daemon_start_time_seconds gauge\n"
		"memctl_daemon_start_time_seconds %.3f\n", ds.start);
	fprintf(f, "# HELP memctl_daemon_last_write_seconds When these figures were written, since the epoch.\n"
		"# TYPE memctl_daemon_last_write_seconds gauge\n"
		"memctl_daemon_last_write_seconds %.3f\n", dstats_now());
	fprintf(f, "# HELP memctl_daemon_events_total Watermark and OOM events received, by level and direction.\n"
		"# TYPE memctl_daemon_events_total counter\n");
	for (l = MEMWATCH_LEVEL_NOTIFY; l < N_LEVELS; l++)
		for (d = 0; d < 2; d++) {
			if (l == MEMWATCH_LEVEL_OOM && d)
				continue;
			fprintf(f, "memctl_daemon_events_total{level=\"%s\",direction=\"%s\"} %llu\n",
				cli_level_name(l), d ? "down" : "up",
				get(&ds.events[l][d]));
		}
	fprintf(f, "# HELP memctl_daemon_actions_total Actions taken (or, in a dry run, not), by action and result.\n"
		"# TYPE memctl_daemon_actions_total counter\n");
	for (a = 0; a < N_ACTIONS; a++)
		for (r = 0; r < ACT_NR_OUTCOMES; r++)
			fprintf(f, "memctl_daemon_actions_total{action=\"%s\",result=\"%s\"} %llu\n",
				dstats_actions[a], act_outcome_name(r),
				get(&ds.actions[a][r]));
	fprintf(f, "# HELP memctl_daemon_events_lost_total Times events overflowed the daemon's socket (it then re-reads the levels).\n"
		"# TYPE memctl_daemon_events_lost_total counter\n"
		"memctl_daemon_events_lost_total %llu\n", get(&ds.lost));
	fprintf(f, "# HELP memctl_daemon_reloads_total SIGHUP reloads of the configuration, by result.\n"
		"# TYPE memctl_daemon_reloads_total counter\n"
		"memctl_daemon_reloads_total{result=\"ok\"} %llu\n"
		"memctl_daemon_reloads_total{result=\"error\"} %llu\n",
		get(&ds.reloads), get(&ds.reload_errors));
	fprintf(f, "# HELP memctl_daemon_frozen_cgroups Cgroups the daemon holds frozen now.\n"
		"# TYPE memctl_daemon_frozen_cgroups gauge\n"
		"memctl_daemon_frozen_cgroups %u\n",
		atomic_load_explicit(&ds.frozen, memory_order_relaxed));
	fprintf(f, "# HELP memctl_daemon_throttled_cgroups Cgroups whose memory.high the daemon lowered.\n"
		"# TYPE memctl_daemon_throttled_cgroups gauge\n"
		"memctl_daemon_throttled_cgroups %u\n",
		atomic_load_explicit(&ds.throttled, memory_order_relaxed));
}
