/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_LADDER_H
#define MEMCTL_LADDER_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/memwatch.h>

#include "nl.h"

/* What the daemon was told: options and the [daemon] section. */
struct ladder_opts {
	bool dry_run;
	const char *exec;		/* the notify hook, or NULL */
	regex_t avoid, prefer;
	bool has_avoid, has_prefer;
	unsigned int freeze_grace_ms;	/* longest a cgroup stays frozen */
	unsigned int kill_grace_ms;	/* SIGTERM to SIGKILL */
	FILE *log_json;			/* one line per action, or NULL */
};

/* One event as the module sent it. */
struct ladder_event {
	uint64_t cgroup_id;
	char cgroup[256];
	unsigned int level;
	bool up;
	uint64_t usage, limit, threshold, ts_ns;
	uint32_t victim;		/* OOM only */
	uint32_t top_pid;		/* the first offender, 0 if none */
};

void ladder_init(const struct ladder_opts *o, struct mw_nl *requests);
/* React to one event. */
void ladder_event(const struct ladder_event *e);
/* Timers and exited victims: call when ladder_timeout_ms() ran out or a
 * pidfd of ladder_pollfds() became readable. */
void ladder_tick(void);
/* Milliseconds to the next deadline, -1 for none. */
int ladder_timeout_ms(void);
/* The pidfds of victims being killed: fills fds, returns how many. */
int ladder_pollfds(int *fds, int max);
/* Thaw and unthrottle everything the daemon changed (on exit). */
void ladder_restore(void);

uint64_t ladder_now_ns(void);

#endif
