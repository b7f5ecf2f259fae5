/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_LCG_H
#define MEMCTL_LCG_H

/*
 * The ladder's own: a cgroup's state (struct lcg) and what its files share.
 * ladder.c takes events and deadlines and decides; ladder_steps.c takes
 * the steps (reclaim, throttle, freeze, thaw) and logs them; ladder_kill.c
 * chooses and kills, with the pre-kill hook and restarts; ladder_state.c
 * keeps the state file and takes up the module's levels. Not for other
 * files: ladder.h is the ladder's interface.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "incident.h"
#include "ladder.h"
#include "policy.h"
#include "victim.h"

#define LADDER_CGROUPS 256
#define LADDER_BASE 64
#define LADDER_POLICIES 1024
#define MS (1000000ULL)
/* ladder_log()'s err for a step that does not apply (host-wide). */
#define LADDER_SKIPPED 1

/*
 * Where a cgroup's kill is. The moves allowed between them are a table
 * (ladder.c: lcg_enter()). Throttled and frozen are not phases: they are
 * what the cgroup holds (memory.high lowered, cgroup.freeze set), in any
 * phase, and undone by their own steps.
 */
enum lcg_phase {
	LCG_WATCHING,	/* no kill under way */
	LCG_PREKILL,	/* victims chosen; the pre-kill hook runs (prekill_pid) */
	LCG_KILLING,	/* victims signalled; nv_left of them not gone yet */
	LCG_SETTLING,	/* the kill is done: memory coming back, to settle_until */
	LCG_NR_PHASES
};

struct lcg {
	bool used;
	bool host;			/* the root cgroup: the whole host */
	uint64_t id;
	char path[256];
	unsigned int level;		/* as the module's events say */
	uint64_t thr[MEMWATCH_NR_LEVELS + 1];	/* bytes, 0: level off */
	uint64_t limit;
	bool throttled;
	char orig_high[32];		/* memory.high before throttling */
	bool frozen;
	uint64_t thaw_at;		/* the end of the freeze grace */
	struct victim v[VICTIMS_MAX];
	unsigned int nv, nv_left;	/* chosen; not gone yet */
	uint64_t kill_ts, sigkill_at;
	enum lcg_phase phase;		/* of the kill: ladder.c's table */
	uint64_t settle_until, usage_at_kill, victims_live;
	struct baseline base[LADDER_BASE];	/* at the first crossing */
	unsigned int nbase;
	/* The kill decided: whom, why, and the pre-kill hook it waits for. */
	enum { LADDER_KILL_OFFENDER, LADDER_KILL_CGROUP, LADDER_RESTART } how;
	char target[256];		/* the cgroup killed whole, the unit */
	char why[192];
	struct incident inc;
	pid_t prekill_pid;		/* 0: none running */
	int prekill_fd;			/* its pidfd, -1 if none */
	uint64_t prekill_start, prekill_until;
	char prekill_result[64];
	pid_t restart_pid;		/* systemctl restart, until it ends */
	/*
	 * level is the module's (usage); acted, the level the ladder acted
	 * on. They differ when needs-pressure holds a step back or
	 * on-pressure takes one with usage under its level.
	 */
	unsigned int acted;
	uint64_t pressure_at;		/* the trigger last fired, 0 never */
	bool pressure_on;		/* it fired within two windows */
};

extern struct lcg ladder_cg[LADDER_CGROUPS];
extern struct ladder_conf ladder_conf;
extern struct mw_nl *ladder_nl;
extern struct policy_list ladder_policies;
extern bool ladder_reapply;
/* What decided the steps being taken now, for the log. */
extern const char *ladder_trigger;

/* ladder.c */
/* Move c to phase to; a move the table does not allow is said, as a bug. */
void lcg_enter(struct lcg *c, enum lcg_phase to);
struct lcg *ladder_get(uint64_t id, const char *path,
		       const struct policy_rec *r);
void ladder_synth(const struct lcg *c, unsigned int l, bool up,
		  struct ladder_event *e);

/* ladder_steps.c */
void ladder_log(const struct lcg *c, unsigned int level,
		const char *action, uint64_t bytes, int err,
		const char *reason);
void ladder_hook(const struct ladder_event *e);
void ladder_reclaim(struct lcg *c, const struct ladder_event *e);
void ladder_throttle(struct lcg *c, uint64_t high);
void ladder_unthrottle(struct lcg *c, const char *reason);
void ladder_freeze(struct lcg *c, unsigned int level,
		   const char *reason);
void ladder_thaw(struct lcg *c, unsigned int level, const char *reason);
void ladder_settle(struct lcg *c, unsigned int ms);
void ladder_pressure_hook(const struct lcg *c, bool up);
/* A NUMA node's event: migrate its top process (reclaim and above). */
void ladder_node_event(const struct ladder_event *e);

/* ladder_kill.c */
void ladder_drop_pidfds(struct lcg *c);
void ladder_prekill_check(struct lcg *c, uint64_t now);
void ladder_kill(struct lcg *c, const char *reason);
void ladder_sigkill(struct lcg *c, const char *reason);
const char *ladder_why(const char *reason);
void ladder_restart_check(struct lcg *c);
/* The kernel's OOM kill: an incident report of it. */
void ladder_oom_incident(const struct ladder_event *e);

/* ladder_state.c */
void ladder_save_state(void);

#endif
