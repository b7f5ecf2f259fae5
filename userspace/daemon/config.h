/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_CONFIG_H
#define MEMCTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "psi.h"

/* What memctl daemon is told, by its options and the [daemon] section. */
struct settings {
	unsigned int freeze_grace_ms;	/* longest a cgroup stays frozen */
	unsigned int kill_grace_ms;	/* SIGTERM to SIGKILL */
	unsigned int settle_ms;		/* longest wait for memory after a kill */
	int oom_score_adj;		/* the daemon's own */
	char exec[1024];		/* the hook, "" for none */
	char pre_kill[1024];		/* run and waited for before a kill */
	unsigned int pre_kill_timeout_ms;	/* its longest wait */
	char incidents[1024];		/* the incident reports' directory */
	unsigned int incidents_max;	/* how many are kept */
	char avoid[256], prefer[256];	/* regular expressions, "" for none */
	char log_json[1024];		/* the action log, "" for none */
	char state[1024];		/* what to restore after a restart */
	char metrics[1024];		/* the metrics file, "" for none */
	unsigned int metrics_interval_ms;	/* how often it is rewritten */
	bool syslog;			/* lines for people to syslog too */
	unsigned int set;		/* SET_* of the fields given */
};

enum {
	SET_FREEZE_GRACE = 1 << 0,
	SET_KILL_GRACE = 1 << 1,
	SET_SETTLE = 1 << 2,
	SET_OOM_SCORE_ADJ = 1 << 3,
	SET_EXEC = 1 << 4,
	SET_AVOID = 1 << 5,
	SET_PREFER = 1 << 6,
	SET_LOG_JSON = 1 << 7,
	SET_STATE = 1 << 8,
	SET_METRICS = 1 << 9,
	SET_METRICS_INTERVAL = 1 << 10,
	SET_SYSLOG = 1 << 11,
	SET_PRE_KILL = 1 << 12,
	SET_PRE_KILL_TIMEOUT = 1 << 13,
	SET_INCIDENTS = 1 << 14,
	SET_INCIDENTS_MAX = 1 << 15,
};

/* Whom a [cgroup] section's kill step kills. */
enum kill_scope {
	KILL_DEFAULT,	/* the offender; the cgroup if memory.oom.group */
	KILL_PROCESS,	/* the offender and its like siblings */
	KILL_CGROUP,	/* everything in the cgroup: cgroup.kill */
};

#define CFG_MAX_CGROUPS 256

/* A [cgroup PATH] section: its watermarks, as memctl policy set takes them. */
struct cfg_cgroup {
	char path[256];			/* "/" for a node */
	int node;			/* a [node N] section, else -1 */
	struct policy_level lv[MEMWATCH_NR_LEVELS + 1];
	enum kill_scope kill;
	char avoid[256], prefer[256];	/* "": the [daemon] section's */
	char restart[256];		/* a systemd unit to restart instead
					 * of a kill, "" for none */
	struct psi_spec psi;		/* pressure: the stall trigger */
	unsigned int needs_pressure;	/* this level and above act only
					 * while the trigger fires; 0 none */
	unsigned int on_pressure;	/* the level a firing trigger alone
					 * calls for; 0 none */
	bool swap;			/* usage counts the cgroup's swap */
};

struct config {
	struct settings s;		/* the [daemon] section */
	unsigned int n;
	struct cfg_cgroup cg[CFG_MAX_CGROUPS];
};

/* The defaults memctl(8) documents. */
void settings_defaults(struct settings *s);
/* Into out: each field of over that it sets, else base's. */
void settings_merge(struct settings *out, const struct settings *base,
		    const struct settings *over);
/*
 * Set the [daemon] key (as the option --key takes it) to val: 0, or
 * -EINVAL with a reason in why.
 */
int settings_set(struct settings *s, const char *key, const char *val,
		 char *why, size_t whysz);

/* Whether a section sets no level (on-pressure alone). */
bool cfg_cgroup_empty(const struct cfg_cgroup *cg);
/* Read FILE: 0, or -errno with "FILE:LINE: reason" in why. */
int config_load(const char *path, struct config *c, char *why, size_t whysz);

#endif
