// SPDX-License-Identifier: GPL-2.0
/*
 * What outlives the daemon (lcg.h): the state file a restarted daemon
 * undoes, restoring on exit, and taking up the levels the module holds.
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

/* The state file: what a restarted daemon must undo. */
void ladder_save_state(void)
{
	const char *path = ladder_conf.s->state;
	char tmp[1100];
	struct lcg *c;
	FILE *f;

	if (ladder_conf.dry_run || !*path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f) {
		say("memctl daemon: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (!c->used)
			continue;
		if (c->throttled)
			fprintf(f, "throttled %s %s\n", c->orig_high, c->path);
		if (c->frozen && !c->host)
			fprintf(f, "frozen %s\n", c->path);
	}
	if (fclose(f) || rename(tmp, path))
		say("memctl daemon: cannot write %s: %s", path, strerror(errno));
}

void ladder_resync(void)
{
	size_t i;

	if (!ladder_policies.cap || policy_fetch(ladder_nl, &ladder_policies)) {
		say("memctl daemon: cannot read the module's policies: %s",
		    strerror(-ladder_nl->err));
		return;
	}
	for (i = 0; i < ladder_policies.n; i++) {
		const struct policy_rec *r = &ladder_policies.v[i];
		struct ladder_event e = {
			.cgroup_id = r->id, .usage = r->usage,
			.limit = r->limit, .ts_ns = now_ns(),
		};
		struct lcg *c = NULL;
		unsigned int l, from;

		/* A node's: a crossing comes with its next event. */
		if (r->node >= 0)
			continue;
		for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++)
			if (c->used && c->id == r->id)
				break;
		if (c == ladder_cg + LADDER_CGROUPS) {
			if (!r->level)
				continue;
			c = ladder_get(r->id, r->cgroup, r);
			if (!c)
				continue;
		}
		snprintf(e.cgroup, sizeof(e.cgroup), "%s", r->cgroup);
		from = c->level;
		/* Down to where the module is, then up to it. */
		for (l = from; l > r->level; l--) {
			e.level = l;
			e.up = false;
			e.threshold = r->w[l].threshold;
			if (e.threshold)
				ladder_event(&e);
		}
		for (l = from + 1; l <= r->level; l++) {
			e.level = l;
			e.up = true;
			e.threshold = r->w[l].threshold;
			if (e.threshold)
				ladder_event(&e);
		}
	}
}

void ladder_restore(void)
{
	struct lcg *c;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (!c->used)
			continue;
		if (c->phase == LCG_PREKILL) {
			kill(-c->prekill_pid, SIGKILL);
			hook_forget(c->prekill_pid);
			c->prekill_pid = 0;
			lcg_enter(c, LCG_WATCHING);
			ladder_drop_pidfds(c);
		}
		ladder_thaw(c, c->level, "memctl daemon stops");
		ladder_unthrottle(c, "memctl daemon stops");
	}
	if (!ladder_conf.dry_run && ladder_conf.s->state[0])
		unlink(ladder_conf.s->state);
}

/*
 * Undo one thing a previous daemon left (no slot of ours stands for it):
 * write val to the cgroup's file, and log it as action at level.
 */
static void ladder_undo_left(const char *path, unsigned int level,
			     const char *action, const char *file,
			     const char *val)
{
	struct act a = {
		.cgroup = path, .level = level, .action = action,
		.reason = "left by a memctl daemon that stopped without restoring it",
		.trigger = ladder_trigger,
	};
	int err = 0;

	if (!ladder_conf.dry_run)
		err = cg_write(path, file, val);
	act_outcome_set(&a, err, ladder_conf.dry_run);
	act_log(&a);
}

void ladder_restore_previous(void)
{
	char line[512], what[16], arg[32];
	bool any = false;
	FILE *f;

	if (!ladder_conf.s->state[0])
		return;
	f = fopen(ladder_conf.s->state, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int off = 0, off2 = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%15s %n", what, &off) != 1)
			continue;
		if (!strcmp(what, "frozen")) {
			ladder_undo_left(line + off, 0, "thaw", "cgroup.freeze",
					 "0");
			any = true;
		} else if (!strcmp(what, "throttled") &&
			   sscanf(line + off, "%31s %n", arg, &off2) == 1) {
			ladder_undo_left(line + off + off2,
					 MEMWATCH_LEVEL_THROTTLE, "unthrottle",
					 "memory.high", arg);
			any = true;
		}
	}
	fclose(f);
	/* Undone: the file now says what this daemon holds (nothing yet). */
	if (any)
		ladder_save_state();
}
