// SPDX-License-Identifier: GPL-2.0
/*
 * The action ladder: what memctl daemon does as a cgroup crosses its
 * levels. Each level calls for one action, each stronger than the last:
 *
 *   notify    log it (the --exec hook runs for every event)
 *   reclaim   memory.reclaim, toward the threshold of the level below
 *   throttle  memory.high = the throttle threshold; back when usage falls
 *   freeze    cgroup.freeze = 1 for at most freeze-grace; if usage is still
 *             over the freeze level then and the policy has a kill level,
 *             kill; else thaw
 *   kill      the offender (victim.c): SIGTERM, process_mrelease when the
 *             signal is fatal, thaw the survivors, SIGKILL after kill-grace
 *
 * A policy on the root cgroup ("/") is the whole host: its usage is
 * MemTotal - MemAvailable, and the root has neither memory.high nor
 * cgroup.freeze. There reclaim is memory.reclaim on the root (the whole
 * host), throttle is skipped, freeze freezes nothing but still starts the
 * freeze grace (the kill after it), and kill chooses among every process.
 *
 * A NUMA node's policy ([node N]) has one action: at reclaim and above,
 * migrate the process with the most live memory on the node (the event
 * names it) to the node with the most free memory, in the reclaim thread;
 * notify logs as for a cgroup. The host's and the cgroups' own ladders do
 * the rest if memory runs short everywhere.
 *
 * After a kill, nothing more is killed in that cgroup until the victims
 * are gone and their memory came back (half their live bytes), or for
 * settle at the longest: then, if the cgroup is still over a level, the
 * ladder climbs again from there. Down crossings undo: throttle down
 * restores memory.high, freeze down thaws.
 *
 * Everything runs on the daemon's one loop but memory.reclaim, which the
 * reclaim thread does (actions.c). A cgroup's state is a slot of a fixed
 * table (lcg.h). What allocates after ladder_init(): a resync past the
 * 1,024 policies it reserves room for (policy_fetch() grows the list),
 * and the state file's stdio (ladder_state.c).
 *
 * This file decides (events, pressure, deadlines); the steps, the kill
 * and the state file are in ladder_steps.c, ladder_kill.c and
 * ladder_state.c.
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

struct lcg ladder_cg[LADDER_CGROUPS];
struct ladder_conf ladder_conf;
struct mw_nl *ladder_nl;
struct policy_list ladder_policies;
bool ladder_reapply;
/* What decided the steps being taken now, for the log. */
const char *ladder_trigger = "usage";

void ladder_init(const struct ladder_conf *conf, struct mw_nl *requests)
{
	ladder_conf = *conf;
	ladder_nl = requests;
	ladder_policies.v = calloc(LADDER_POLICIES,
				   sizeof(*ladder_policies.v));
	ladder_policies.cap = ladder_policies.v ? LADDER_POLICIES : 0;
}

void ladder_reconfigure(const struct ladder_conf *conf)
{
	ladder_conf = *conf;
}

static void ladder_set_policy(struct lcg *c, const struct policy_rec *r)
{
	unsigned int l;

	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++)
		c->thr[l] = r->w[l].threshold;
	c->limit = r->limit;
}

/* Take the thresholds of c's policy from the module. */
static void ladder_load_policy(struct lcg *c)
{
	size_t i;

	if (!ladder_policies.cap ||
	    policy_fetch_id(ladder_nl, c->id, &ladder_policies))
		return;
	for (i = 0; i < ladder_policies.n; i++)
		if (ladder_policies.v[i].id == c->id &&
		    ladder_policies.v[i].node < 0)
			ladder_set_policy(c, &ladder_policies.v[i]);
}

/* c's state, made if new, with its policy r or else the module's. */
/*
 * The kill's phases (lcg.h), and where each may go: a kill starts from
 * watching, with the pre-kill hook or at once; the victims are signalled
 * (or a whole cgroup, a restart, a dry run or no victim at all go
 * straight to settling); settling ends in watching. The hook may be
 * stopped with the daemon (back to watching).
 */
static const unsigned int lcg_moves[LCG_NR_PHASES] = {
	[LCG_WATCHING] = 1U << LCG_PREKILL | 1U << LCG_KILLING |
			 1U << LCG_SETTLING,
	[LCG_PREKILL] = 1U << LCG_KILLING | 1U << LCG_SETTLING |
			1U << LCG_WATCHING,
	[LCG_KILLING] = 1U << LCG_SETTLING,
	[LCG_SETTLING] = 1U << LCG_WATCHING | 1U << LCG_SETTLING,
};

static const char *const lcg_phase_names[LCG_NR_PHASES] = {
	"watching", "pre-kill", "killing", "settling",
};

void lcg_enter(struct lcg *c, enum lcg_phase to)
{
	if (!(lcg_moves[c->phase] & 1U << to))
		say("memctl daemon: %s: bug: the kill went from %s to %s",
		    c->path, lcg_phase_names[c->phase], lcg_phase_names[to]);
	c->phase = to;
}

struct lcg *ladder_get(uint64_t id, const char *path,
		       const struct policy_rec *r)
{
	struct lcg *c, *free_slot = NULL;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (c->used && c->id == id)
			return c;
		/* A slot at rest may be reused. */
		if (!free_slot && (!c->used ||
				   (!c->level && !c->throttled && !c->frozen &&
				    c->phase == LCG_WATCHING &&
				    !c->restart_pid && !c->acted &&
				    !c->pressure_on)))
			free_slot = c;
	}
	if (!free_slot) {
		say("memctl daemon: %s: ignored: %d cgroups are already under way",
		    path, LADDER_CGROUPS);
		return NULL;
	}
	c = free_slot;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->id = id;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->host = !strcmp(path, "/");
	if (r)
		ladder_set_policy(c, r);
	else
		ladder_load_policy(c);
	return c;
}

static void ladder_up(struct lcg *c, const struct ladder_event *e)
{
	switch (e->level) {
	case MEMWATCH_LEVEL_NOTIFY:
		ladder_log(c, e->level, "notify", 0, 0,
			   ladder_why("usage crossed the notify level up"));
		break;
	case MEMWATCH_LEVEL_RECLAIM:
		ladder_reclaim(c, e);
		break;
	case MEMWATCH_LEVEL_THROTTLE:
		ladder_throttle(c, e->threshold);
		break;
	case MEMWATCH_LEVEL_FREEZE:
		if (c->phase == LCG_KILLING)
			ladder_sigkill(c, "usage reached the freeze level again before the victims were gone");
		else
			ladder_freeze(c, e->level,
				      ladder_why("allocation stops while memctl decides"));
		break;
	case MEMWATCH_LEVEL_KILL:
		if (c->phase == LCG_KILLING) {
			ladder_sigkill(c, "usage reached the kill level before the victims were gone");
			break;
		}
		ladder_freeze(c, e->level, ladder_why("over the kill level"));
		ladder_kill(c, ladder_why("over the kill level"));
		break;
	}
}

static void ladder_down(struct lcg *c, const struct ladder_event *e)
{
	switch (e->level) {
	case MEMWATCH_LEVEL_NOTIFY:
		ladder_log(c, e->level, "notify", 0, 0, "usage fell below the notify level");
		break;
	case MEMWATCH_LEVEL_THROTTLE:
		ladder_unthrottle(c, "usage fell below the throttle level");
		break;
	case MEMWATCH_LEVEL_FREEZE:
		/* Not while the pre-kill hook runs: the kill is decided. */
		if (c->phase != LCG_KILLING && c->phase != LCG_PREKILL)
			ladder_thaw(c, e->level, "usage fell below the freeze level");
		break;
	}
}


/* Whether c's pressure trigger fired within the last two windows. */
static bool ladder_pressed(const struct lcg *c, const struct cgrule *r,
			   uint64_t now)
{
	return r && r->psi.pct && c->pressure_at &&
	       now - c->pressure_at < 2ULL * r->psi.window_ms * MS;
}

/*
 * The level the ladder should stand at: usage's, held under
 * needs-pressure while there is none, or on-pressure's while there is.
 */
static unsigned int ladder_target(const struct lcg *c,
				  const struct cgrule *r, uint64_t now)
{
	bool pressed = ladder_pressed(c, r, now);
	unsigned int u = c->level, p = 0;

	if (r && r->needs_pressure && !pressed && u >= r->needs_pressure)
		u = r->needs_pressure - 1;
	if (r && r->on_pressure && pressed)
		p = r->on_pressure;
	return u > p ? u : p;
}

/* An event of level l for c, as if the module had sent it. */
void ladder_synth(const struct lcg *c, unsigned int l, bool up,
		  struct ladder_event *e)
{
	memset(e, 0, sizeof(*e));
	e->cgroup_id = c->id;
	snprintf(e->cgroup, sizeof(e->cgroup), "%s", c->path);
	e->level = l;
	e->up = up;
	e->usage = cg_usage(c->path);
	e->limit = c->limit;
	e->threshold = c->thr[l] ? c->thr[l] : e->usage;
	e->ts_ns = now_ns();
}

/*
 * Step from the level acted on to target, a level at a time: the levels
 * the policy lacks are passed over, but for on-pressure's when pressure
 * alone decides, and then it takes that step only.
 */
static void ladder_move(struct lcg *c, unsigned int target)
{
	const struct cgrule *r = cgrules_find(c->id);
	bool only_target = !strcmp(ladder_trigger, "pressure");
	unsigned int forced = only_target && r ? r->on_pressure : 0;
	struct ladder_event e;

	while (c->acted < target) {
		unsigned int l = ++c->acted;

		if (l != forced && (!c->thr[l] || only_target))
			continue;
		ladder_synth(c, l, true, &e);
		ladder_up(c, &e);
	}
	while (c->acted > target) {
		unsigned int l = c->acted--;

		if (l == MEMWATCH_LEVEL_NOTIFY && !c->thr[l])
			continue;
		ladder_synth(c, l, false, &e);
		ladder_down(c, &e);
	}
}


void ladder_event(const struct ladder_event *e)
{
	const struct cgrule *rule;
	char u[16], l[16];
	unsigned int target;
	struct lcg *c;
	bool start;

	ladder_hook(e);
	if (e->is_node && e->level >= MEMWATCH_LEVEL_NOTIFY &&
	    e->level <= MEMWATCH_LEVEL_KILL) {
		say("node %d: %s %s: usage %s of %s", e->node,
		    cli_level_name(e->level), e->up ? "up" : "down",
		    cli_bytes(e->usage, u, sizeof(u)),
		    cli_bytes(e->limit, l, sizeof(l)));
		ladder_node_event(e);
		return;
	}
	if (e->level == MEMWATCH_LEVEL_OOM) {
		struct act a = {
			.cgroup = e->cgroup, .level = e->level, .action = "oom",
			.pid = e->victim, .comm = e->victim_comm,
			.outcome = ACT_OBSERVED,
			.reason = "the kernel OOM killer chose this process",
		};

		act_log(&a);
		ladder_oom_incident(e);
		/*
		 * The kernel killed in a cgroup on the ladder: as after a
		 * kill of its own, choose no one else before settle, while
		 * the victim's memory comes back (on a slow kernel usage
		 * stays over the kill level a while, and the next biggest
		 * would be next).
		 */
		for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
			if (!c->used || c->id != e->cgroup_id ||
			    c->phase == LCG_KILLING || c->phase == LCG_PREKILL)
				continue;
			ladder_settle(c, ladder_conf.s->settle_ms);
			c->victims_live = 0;
			c->usage_at_kill = 0;
		}
		return;
	}
	if (e->level < MEMWATCH_LEVEL_NOTIFY || e->level > MEMWATCH_LEVEL_KILL)
		return;
	say("%s: %s %s: usage %s of %s", e->cgroup, cli_level_name(e->level),
	    e->up ? "up" : "down", cli_bytes(e->usage, u, sizeof(u)),
	    cli_bytes(e->limit, l, sizeof(l)));
	if (e->has_wmarks) {
		/* The event has every level: no POLICY_GET dump. */
		struct policy_rec r = { .id = e->cgroup_id, .limit = e->limit };
		unsigned int k;

		for (k = 1; k <= MEMWATCH_NR_LEVELS; k++)
			r.w[k].threshold = e->thr[k];
		c = ladder_get(e->cgroup_id, e->cgroup, &r);
		if (c)
			ladder_set_policy(c, &r);
	} else {
		c = ladder_get(e->cgroup_id, e->cgroup, NULL);
	}
	if (!c)
		return;
	c->thr[e->level] = e->threshold;
	c->limit = e->limit;
	rule = cgrules_find(c->id);
	/*
	 * Growth counts from the start of the episode: a snapshot of the
	 * cgroup's processes, a dump that grows with them. A kill needs it
	 * first; the levels below act first (the event's delay to its
	 * action is the daemon's promise) and take it right after.
	 */
	start = e->up && !c->level && !c->acted;
	if (e->up) {
		c->level = e->level;
	} else {
		c->level = e->level - 1;
	}
	target = ladder_target(c, rule, now_ns());
	if (start && (e->level >= MEMWATCH_LEVEL_FREEZE ||
		      target >= MEMWATCH_LEVEL_FREEZE)) {
		c->nbase = victims_baseline(ladder_nl, c->id, c->base,
					    LADDER_BASE);
		start = false;
	}
	ladder_trigger = c->pressure_on && rule && rule->needs_pressure &&
			 e->level >= rule->needs_pressure ? "usage+pressure" :
			 "usage";
	if (e->up && e->level == c->acted + 1 && e->level <= target) {
		/* The usual case: the module's event, as it came. */
		c->acted = e->level;
		ladder_up(c, e);
	} else if (!e->up && e->level == c->acted && e->level > target) {
		c->acted--;
		ladder_down(c, e);
	} else {
		if (e->up && e->level > target) {
			char why[160];

			snprintf(why, sizeof(why),
				 "usage over the %s level, but memory.pressure is under its trigger (needs-pressure = %s)",
				 cli_level_name(e->level),
				 cli_level_name(rule->needs_pressure));
			ladder_log(c, e->level, cli_level_name(e->level), 0,
				   LADDER_SKIPPED, why);
		}
		ladder_move(c, target);
	}
	ladder_trigger = "usage";
	if (start)
		c->nbase = victims_baseline(ladder_nl, c->id, c->base,
					    LADDER_BASE);
}

void ladder_pressure(int fd)
{
	const struct cgrule *rule = cgrules_by_fd(fd);
	uint64_t now = now_ns();
	unsigned int target;
	struct lcg *c;

	if (!rule)
		return;
	c = ladder_get(rule->id, rule->path, NULL);
	if (!c)
		return;
	c->pressure_at = now;
	if (!c->pressure_on) {
		char why[160], spec[32], avg[16];

		c->pressure_on = true;
		snprintf(why, sizeof(why), "%s avg10 %s%% (trigger %s)",
			 rule->psi.full ? "full" : "some",
			 psi_avg10(c->path, &rule->psi, avg, sizeof(avg)),
			 psi_format(&rule->psi, spec, sizeof(spec)));
		ladder_trigger = "pressure";
		ladder_log(c, c->acted, "pressure", 0, 0, why);
		ladder_pressure_hook(c, true);
	}
	target = ladder_target(c, rule, now);
	if (target > c->acted) {
		if (!c->level && !c->acted)
			c->nbase = victims_baseline(ladder_nl, c->id, c->base,
						    LADDER_BASE);
		ladder_trigger = c->level >= target ? "usage+pressure" :
				 "pressure";
		ladder_move(c, target);
	}
	ladder_trigger = "usage";
}

/* After a kill settled: climb again if the cgroup is still over a level. */
static void ladder_reevaluate(struct lcg *c)
{
	const struct cgrule *r = cgrules_find(c->id);
	unsigned int t = ladder_target(c, r, now_ns());
	bool by_pressure = r && r->on_pressure && t > c->level;

	ladder_trigger = by_pressure ? "pressure" : "usage";
	if (t >= MEMWATCH_LEVEL_KILL &&
	    (c->thr[MEMWATCH_LEVEL_KILL] || by_pressure)) {
		ladder_freeze(c, MEMWATCH_LEVEL_KILL,
			      ladder_why("still over the kill level"));
		ladder_kill(c, ladder_why("still over the kill level after the last kill"));
	} else if (t >= MEMWATCH_LEVEL_FREEZE &&
		   (c->thr[MEMWATCH_LEVEL_FREEZE] || by_pressure)) {
		ladder_freeze(c, MEMWATCH_LEVEL_FREEZE,
			      ladder_why("still over the freeze level after the last kill"));
	} else if (t < MEMWATCH_LEVEL_FREEZE) {
		ladder_thaw(c, MEMWATCH_LEVEL_FREEZE, "under the freeze level");
	}
	ladder_trigger = "usage";
}

static void ladder_tick_one(struct lcg *c, uint64_t now)
{
	const struct cgrule *r = c->pressure_on ? cgrules_find(c->id) : NULL;

	ladder_prekill_check(c, now);
	ladder_restart_check(c);
	/* Two windows without the trigger: the pressure is over. */
	if (c->pressure_on && !ladder_pressed(c, r, now)) {
		c->pressure_on = false;
		ladder_trigger = "pressure";
		ladder_log(c, c->acted, "pressure", 0, 0,
			   "memory.pressure under its trigger again");
		ladder_pressure_hook(c, false);
		ladder_move(c, ladder_target(c, r, now));
		ladder_trigger = "usage";
	}
	if (c->phase == LCG_KILLING && c->sigkill_at && now >= c->sigkill_at)
		ladder_sigkill(c, "still there after the kill grace");
	if (c->phase == LCG_SETTLING) {
		uint64_t usage = cg_usage(c->path);

		if (now >= c->settle_until ||
		    (c->victims_live &&
		     usage + c->victims_live / 2 <= c->usage_at_kill)) {
			lcg_enter(c, LCG_WATCHING);
			ladder_reevaluate(c);
		}
	}
	if (c->frozen && now >= c->thaw_at && c->phase != LCG_PREKILL) {
		if (c->acted >= MEMWATCH_LEVEL_FREEZE &&
		    c->thr[MEMWATCH_LEVEL_KILL] && c->phase == LCG_WATCHING)
			ladder_kill(c, ladder_why("still over the freeze level after the freeze grace"));
		else
			ladder_thaw(c, MEMWATCH_LEVEL_FREEZE, "the freeze grace is over");
	}
}

void ladder_tick(void)
{
	uint64_t now = now_ns();
	struct lcg *c;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++)
		if (c->used)
			ladder_tick_one(c, now);
}

int ladder_timeout_ms(void)
{
	uint64_t now = now_ns(), next = UINT64_MAX;
	struct lcg *c;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (!c->used)
			continue;
		if (c->frozen && c->thaw_at < next && c->phase != LCG_PREKILL)
			next = c->thaw_at;
		if (c->phase == LCG_PREKILL && c->prekill_until < next)
			next = c->prekill_until;
		/* When the pressure would be over: look then. */
		if (c->pressure_on && now + 500 * MS < next)
			next = now + 500 * MS;
		/* Without a pidfd, or for systemctl: look every 50 ms. */
		if (((c->phase == LCG_PREKILL && c->prekill_fd < 0) ||
		     c->restart_pid) &&
		    now + 50 * MS < next)
			next = now + 50 * MS;
		if (c->phase == LCG_KILLING && c->sigkill_at &&
		    c->sigkill_at < next)
			next = c->sigkill_at;
		/* Watch memory come back every 50 ms. */
		if (c->phase == LCG_SETTLING && now + 50 * MS < next)
			next = now + 50 * MS;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + MS - 1) / MS);
}

int ladder_pollfds(struct pollfd *fds, int max)
{
	struct lcg *c;
	unsigned int i;
	int n = 0;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (c->used && c->phase == LCG_PREKILL && c->prekill_fd >= 0 &&
		    n < max) {
			fds[n].fd = c->prekill_fd;
			fds[n].events = POLLIN;
			fds[n++].revents = 0;
		}
		if (!c->used || c->phase != LCG_KILLING)
			continue;
		for (i = 0; i < c->nv && n < max; i++) {
			if (c->v[i].gone || c->v[i].pidfd < 0)
				continue;
			fds[n].fd = c->v[i].pidfd;
			fds[n].events = POLLIN;
			fds[n++].revents = 0;
		}
	}
	return n;
}

void ladder_pidfd_ready(int fd)
{
	char b[16];
	struct lcg *c;
	unsigned int i;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (c->used && c->phase == LCG_PREKILL && c->prekill_fd == fd) {
			ladder_prekill_check(c, now_ns());
			return;
		}
		if (!c->used || c->phase != LCG_KILLING)
			continue;
		for (i = 0; i < c->nv; i++) {
			struct victim *v = &c->v[i];

			if (v->gone || v->pidfd != fd)
				continue;
			close(v->pidfd);
			v->pidfd = -1;
			v->gone = true;
			say("%s: %u (%s) is gone, %llu ms after the kill", c->path,
			    v->pid, v->comm,
			    (unsigned long long)((now_ns() - c->kill_ts) / MS));
			if (--c->nv_left)
				return;
			say("%s: every victim is gone; waiting for %s to come back",
			    c->path, cli_bytes(c->victims_live / 2, b, sizeof(b)));
			ladder_settle(c, ladder_conf.s->settle_ms);
			return;
		}
	}
}

bool ladder_take_reapply(void)
{
	bool r = ladder_reapply;

	ladder_reapply = false;
	return r;
}

void ladder_counts(unsigned int *frozen, unsigned int *throttled)
{
	unsigned int i;

	*frozen = *throttled = 0;
	for (i = 0; i < LADDER_CGROUPS; i++) {
		*frozen += ladder_cg[i].frozen;
		*throttled += ladder_cg[i].throttled;
	}
}
