/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_LADDER_H
#define MEMCTL_LADDER_H

#include <poll.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/memwatch.h>

#include "config.h"
#include "nl.h"

/* One event as the module sent it. */
struct ladder_event {
	uint64_t cgroup_id;
	char cgroup[256];
	bool is_node;			/* a NUMA node's level: */
	int node;			/* that node */
	uint64_t top_live;		/* the first offender's live bytes
					 * (on the node, for a node's) */
	unsigned int level;
	bool up;
	uint64_t usage, limit, threshold, ts_ns;
	/* EVENT_WMARKS: every level's threshold (bytes, 0: off), if sent */
	bool has_wmarks;
	uint64_t thr[MEMWATCH_NR_LEVELS + 1];
	uint32_t top_pid;		/* the first offender, 0 if none */
	char top_comm[32];
	uint32_t victim;		/* OOM only */
	char victim_comm[32];
};

/* The ladder's view of its settings; the regexes are compiled. */
struct ladder_conf {
	const struct settings *s;
	const regex_t *avoid, *prefer;	/* NULL: none */
	bool dry_run;
};

/* requests: a socket for dumps, separate from the events socket. */
void ladder_init(const struct ladder_conf *conf, struct mw_nl *requests);
/* New settings (after SIGHUP); conf must stay valid. */
void ladder_reconfigure(const struct ladder_conf *conf);
/* React to one event. */
void ladder_event(const struct ladder_event *e);
/* A pressure trigger fd (cgrules_pollfds) fired. */
void ladder_pressure(int fd);
/* Deadlines: call when ladder_timeout_ms() ran out, or any time. */
void ladder_tick(void);
/* Milliseconds to the next deadline, -1 for none. */
int ladder_timeout_ms(void);
/* The pidfds of victims being killed: fills fds, returns how many. */
int ladder_pollfds(struct pollfd *fds, int max);
/* One of them became readable: its process is gone. */
void ladder_pidfd_ready(int fd);
/*
 * Take up the levels the module holds now, as if each had just been
 * crossed (at start, and after events were lost).
 */
void ladder_resync(void);
/*
 * Whether a restart since the last call made a new cgroup whose policy
 * must be set again (then call it once).
 */
bool ladder_take_reapply(void);
/* How many cgroups the daemon holds frozen, and throttled, now. */
void ladder_counts(unsigned int *frozen, unsigned int *throttled);
/* Thaw and unthrottle every cgroup the daemon changed (on exit). */
void ladder_restore(void);
/*
 * Undo what a previous daemon left in the state file (it was killed
 * while a cgroup was frozen or throttled).
 */
void ladder_restore_previous(void);

#endif
