/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_INCIDENT_H
#define MEMCTL_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"
#include "victim.h"

/*
 * An incident report: for every kill the daemon makes and every kernel
 * OOM kill it hears of, ID.json (for programs) and ID.txt (for people,
 * its first line a summary) in the incidents directory, at most max of
 * each, the oldest removed first. ID is the UTC time, the kind and the
 * first victim's pid: 20261204T195511Z-kill-1234. Both are written to a
 * temporary name and renamed: a reader sees whole files only.
 */
struct incident {
	char id[64];
	const char *kind;		/* "kill" (the daemon's), "oom" */
	const char *cgroup;		/* the policy's cgroup */
	uint64_t cgroup_id;
	unsigned int level;		/* the level that called for it */
	const char *reason;
	const char *action;		/* kill, kill-cgroup, restart, oom */
	const char *target;		/* kill-cgroup: the cgroup; restart:
					 * the unit; else NULL */
	uint64_t limit;
	const uint64_t *thr;		/* [level]: thresholds, 0 off */
	const struct victim *v;		/* chosen, or the kernel's victim */
	unsigned int nv;
	const struct baseline *base;	/* growth counts from here */
	unsigned int nbase;
	const char *pre_kill;		/* the hook's result, NULL if none */
	unsigned int pre_kill_ms;
};

/* Reserve the buffers once, so a report allocates little. */
int incident_init(struct mw_nl *nl);
void incident_exit(void);
/* A new id for a report on pid of kind: into in->id. */
void incident_new_id(struct incident *in, uint32_t pid);
/*
 * Read what the report holds of now: the cgroup's memory.stat,
 * memory.events, memory.pressure, swap and usage, the module's records
 * of its processes. Call before acting, write after.
 */
void incident_capture(const char *cgroup, uint64_t cgroup_id);
/* Write the report in dir: 0, or -errno (said once to the daemon's log). */
int incident_write(const char *dir, unsigned int max,
		   const struct incident *in);

#endif
