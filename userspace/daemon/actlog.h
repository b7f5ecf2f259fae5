/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_ACTLOG_H
#define MEMCTL_ACTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outcome.h"

/*
 * One thing the daemon did (or, with --dry-run, would have done): a line
 * on stdout for a person and, with --log-json, one JSON object per line.
 */
struct act {
	uint64_t ts_ns;		/* CLOCK_MONOTONIC when taken; 0: now */
	const char *cgroup;
	unsigned int level;	/* the level that called for it */
	const char *action;	/* notify reclaim throttle unthrottle freeze
				 * thaw kill */
	uint32_t pid;		/* kill: the victim; 0: none */
	const char *comm;
	const char *signal;	/* kill: "SIGTERM" or "SIGKILL" */
	uint64_t bytes;		/* reclaim: asked; throttle: memory.high;
				 * kill: the victim's live bytes */
	enum act_outcome outcome;
	const char *detail;	/* after the outcome in the result ("error:
				 * No such process"); NULL: none */
	const char *reason;	/* why, for a person; may be NULL */
	const char *target;	/* a kill of a whole cgroup, or a restart:
				 * the cgroup or the unit; may be NULL */
	const char *trigger;	/* what decided: "usage", "pressure",
				 * "usage+pressure"; may be NULL */
};

/* a's outcome: dry-run, else error with strerror(-err), else ok. */
void act_outcome_set(struct act *a, int err, bool dry_run);

/* A past action, as the ring of recent ones keeps it. */
struct act_rec {
	uint64_t ts_ns;
	char cgroup[256];
	unsigned int level;
	char action[16];
	uint32_t pid;
	char comm[32];
	uint64_t bytes;
	char result[64];
	char reason[192];
};

/*
 * The last actions on cgroup (at most max, of the last 256 logged), the
 * oldest first: an incident report's timeline. Thread-safe.
 */
unsigned int actlog_recent(const char *cgroup, struct act_rec *out,
			   unsigned int max);

/*
 * Append to path ("" or NULL: no JSON log): 0 or -errno. With syslog, the
 * lines for people go to syslog too (daemon facility).
 */
int actlog_open(const char *path, bool dry_run, bool syslog);
void actlog_close(void);
/* Thread-safe: the reclaim thread logs too. */
void act_log(const struct act *a);
/* A timestamped line for a person on stdout, thread-safe. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t now_ns(void);

#endif
