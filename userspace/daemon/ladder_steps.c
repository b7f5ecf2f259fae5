// SPDX-License-Identifier: GPL-2.0
/*
 * The ladder's steps on a cgroup (lcg.h): reclaim, throttle, freeze and
 * thaw, each written to the cgroup and logged; the --exec hooks.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "actlog.h"
#include "cgrules.h"
#include "util.h"
#include "incident.h"
#include "ladder.h"
#include "psi.h"
#include "migrate.h"
#include "policy.h"
#include "victim.h"
#include "lcg.h"

void ladder_log(const struct lcg *c, unsigned int level,
		const char *action, uint64_t bytes, int err,
		const char *reason)
{
	struct act a = {
		.cgroup = c->path, .level = level, .action = action,
		.bytes = bytes, .reason = reason, .trigger = ladder_trigger,
	};

	if (ladder_conf.dry_run) {
		a.outcome = ACT_DRY_RUN;
	} else if (err == LADDER_SKIPPED) {
		a.outcome = ACT_SKIPPED;
	} else if (err) {
		a.outcome = ACT_ERROR;
		a.detail = strerror(-err);
	}
	act_log(&a);
}

/* The --exec hook for e; level_name overrides e's level's. */
static void ladder_hook_level(const struct ladder_event *e,
			      const char *level_name)
{
	char v[10][320];
	char *env[11];
	unsigned int i;
	int err;

	if (!ladder_conf.s->exec[0] || ladder_conf.dry_run)
		return;
	snprintf(v[0], sizeof(v[0]), "MEMCTL_CGROUP=%s", e->cgroup);
	snprintf(v[1], sizeof(v[1]), "MEMCTL_CGROUP_ID=%" PRIu64, e->cgroup_id);
	snprintf(v[2], sizeof(v[2]), "MEMCTL_LEVEL=%s",
		 level_name ? level_name : cli_level_name(e->level));
	snprintf(v[3], sizeof(v[3]), "MEMCTL_DIRECTION=%s", e->up ? "up" : "down");
	snprintf(v[4], sizeof(v[4]), "MEMCTL_USAGE=%" PRIu64, e->usage);
	snprintf(v[5], sizeof(v[5]), "MEMCTL_LIMIT=%" PRIu64, e->limit);
	snprintf(v[6], sizeof(v[6]), "MEMCTL_THRESHOLD=%" PRIu64, e->threshold);
	snprintf(v[7], sizeof(v[7]), "MEMCTL_TS_NS=%" PRIu64, e->ts_ns);
	snprintf(v[8], sizeof(v[8]), "MEMCTL_TOP_PID=%u",
		 e->level == MEMWATCH_LEVEL_OOM ? e->victim : e->top_pid);
	snprintf(v[9], sizeof(v[9]), "MEMCTL_TOP_COMM=%s",
		 e->level == MEMWATCH_LEVEL_OOM ? e->victim_comm : e->top_comm);
	for (i = 0; i < 10; i++)
		env[i] = v[i];
	env[10] = NULL;
	err = hook_spawn(ladder_conf.s->exec, env, NULL);
	if (err)
		say("memctl daemon: %s: hook '%s' did not start: %s", e->cgroup,
		    ladder_conf.s->exec, strerror(-err));
}

void ladder_hook(const struct ladder_event *e)
{
	ladder_hook_level(e, NULL);
}

void ladder_reclaim(struct lcg *c, const struct ladder_event *e)
{
	uint64_t target = c->thr[MEMWATCH_LEVEL_NOTIFY];

	if (!target || target >= e->threshold)
		target = e->threshold > e->limit / 50 ?
			 e->threshold - e->limit / 50 : 0;
	if (e->usage <= target)
		return;
	if (ladder_conf.dry_run) {
		ladder_log(c, MEMWATCH_LEVEL_RECLAIM, "reclaim",
			   e->usage - target, 0, "toward the level below");
		return;
	}
	/* The reclaim thread logs it when the kernel is done. */
	if (!reclaim_request(c->path, MEMWATCH_LEVEL_RECLAIM,
			     e->usage - target))
		ladder_log(c, MEMWATCH_LEVEL_RECLAIM, "reclaim",
			   e->usage - target, -EBUSY,
			   "the reclaim queue is full");
}

void ladder_throttle(struct lcg *c, uint64_t high)
{
	char why[96];
	int err = 0;

	if (c->throttled)
		return;
	if (c->host) {
		ladder_log(c, MEMWATCH_LEVEL_THROTTLE, "throttle", 0,
			   LADDER_SKIPPED,
			   "the root cgroup has no memory.high: host-wide, freeze and kill follow");
		return;
	}
	high &= ~4095ULL;
	snprintf(c->orig_high, sizeof(c->orig_high), "max");
	if (!ladder_conf.dry_run) {
		err = cg_read(c->path, "memory.high", c->orig_high,
			      sizeof(c->orig_high));
		if (!err && strcmp(c->orig_high, "max") &&
		    strtoull(c->orig_high, NULL, 10) <= high) {
			snprintf(why, sizeof(why),
				 "memory.high is %s already, at or under the level",
				 c->orig_high);
			ladder_log(c, MEMWATCH_LEVEL_THROTTLE, "throttle", high,
				   0, why);
			return;
		}
		if (!err) {
			char val[32];

			/* Written ahead: a daemon killed between the two
			 * writes leaves a state its successor can undo.
			 */
			c->throttled = true;
			ladder_save_state();
			snprintf(val, sizeof(val), "%" PRIu64, high);
			err = cg_write(c->path, "memory.high", val);
		}
	}
	c->throttled = !err;
	ladder_save_state();
	snprintf(why, sizeof(why), "memory.high %s -> %" PRIu64,
		 c->orig_high, high);
	ladder_log(c, MEMWATCH_LEVEL_THROTTLE, "throttle", high, err, why);
}

void ladder_unthrottle(struct lcg *c, const char *reason)
{
	int err = 0;

	if (!c->throttled)
		return;
	if (!ladder_conf.dry_run)
		err = cg_write(c->path, "memory.high", c->orig_high);
	c->throttled = false;
	ladder_save_state();
	ladder_log(c, MEMWATCH_LEVEL_THROTTLE, "unthrottle", 0, err, reason);
}

void ladder_freeze(struct lcg *c, unsigned int level,
		   const char *reason)
{
	int err = 0;

	if (c->frozen)
		return;
	if (c->host) {
		/* Nothing to freeze: the grace still runs, then the kill. */
		c->frozen = true;
		c->thaw_at = now_ns() + ladder_conf.s->freeze_grace_ms * MS;
		ladder_log(c, level, "freeze", 0, LADDER_SKIPPED,
			   "the root cgroup cannot be frozen: the kill waits the freeze grace");
		return;
	}
	/* Written ahead, as for throttle; the log line comes after. */
	c->frozen = true;
	ladder_save_state();
	if (!ladder_conf.dry_run)
		err = cg_write(c->path, "cgroup.freeze", "1");
	if (err) {
		c->frozen = false;
		ladder_save_state();
	}
	ladder_log(c, level, "freeze", 0, err, reason);
	if (!err)
		c->thaw_at = now_ns() + ladder_conf.s->freeze_grace_ms * MS;
}

void ladder_thaw(struct lcg *c, unsigned int level, const char *reason)
{
	int err = 0;

	if (!c->frozen)
		return;
	if (c->host) {	/* nothing was frozen */
		c->frozen = false;
		return;
	}
	if (!ladder_conf.dry_run)
		err = cg_write(c->path, "cgroup.freeze", "0");
	c->frozen = false;
	ladder_save_state();
	ladder_log(c, level, "thaw", 0, err, reason);
}

void ladder_settle(struct lcg *c, unsigned int ms)
{
	lcg_enter(c, LCG_SETTLING);
	c->settle_until = now_ns() + ms * MS;
}

/* The --exec hook for pressure: MEMCTL_LEVEL=pressure, up or down. */
void ladder_pressure_hook(const struct lcg *c, bool up)
{
	struct ladder_event e;

	ladder_synth(c, 0, up, &e);
	ladder_hook_level(&e, "pressure");
}

/* A node's level: notify, or move its top offender elsewhere. */
void ladder_node_event(const struct ladder_event *e)
{
	char where[32], why[128];
	struct lcg n = { .level = e->level };
	int to;

	snprintf(where, sizeof(where), "node %d", e->node);
	snprintf(n.path, sizeof(n.path), "/");
	if (e->level == MEMWATCH_LEVEL_NOTIFY) {
		snprintf(why, sizeof(why), "%s: usage crossed the notify level %s",
			 where, e->up ? "up" : "down");
		ladder_log(&n, e->level, "notify", 0, 0, why);
		return;
	}
	if (!e->up)
		return;
	to = node_roomiest(e->node);
	if (!e->top_pid || e->top_pid == (uint32_t)getpid() || to < 0) {
		snprintf(why, sizeof(why), "%s: %s", where,
			 to < 0 ? "no other node has free memory" :
			 "no process to move");
		ladder_log(&n, e->level, "migrate", 0, LADDER_SKIPPED, why);
		return;
	}
	if (ladder_conf.dry_run) {
		struct act a = {
			.cgroup = "/", .level = e->level, .action = "migrate",
			.pid = e->top_pid, .comm = e->top_comm,
			.bytes = e->top_live, .outcome = ACT_DRY_RUN,
			.reason = why,
		};

		snprintf(why, sizeof(why), "%s is short: to node %d, the roomiest",
			 where, to);
		act_log(&a);
		return;
	}
	if (!migrate_request(e->top_pid, e->top_comm, e->node, to, e->level,
			     e->top_live))
		ladder_log(&n, e->level, "migrate", e->top_live, -EBUSY,
			   "the action queue is full");
}
