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
 * reclaim thread does (actions.c). State is a fixed table: nothing here
 * allocates after ladder_init().
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

#define LADDER_CGROUPS 256
#define LADDER_BASE 64
#define LADDER_POLICIES 1024
#define MS (1000000ULL)
/* ladder_log()'s err for a step that does not apply (host-wide). */
#define LADDER_SKIPPED 1

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
	bool settling;			/* after a kill: memory coming back */
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

static struct lcg ladder_cg[LADDER_CGROUPS];
static struct ladder_conf ladder_conf;
static struct mw_nl *ladder_nl;
static struct policy_list ladder_policies;
static bool ladder_reapply;
/* What decided the steps being taken now, for the log. */
static const char *ladder_trigger = "usage";

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

static void ladder_log(const struct lcg *c, unsigned int level,
		       const char *action, uint64_t bytes, int err,
		       const char *reason)
{
	char result[96];
	struct act a = {
		.cgroup = c->path, .level = level, .action = action,
		.bytes = bytes, .result = result, .reason = reason,
		.trigger = ladder_trigger,
	};

	if (ladder_conf.dry_run)
		snprintf(result, sizeof(result), "dry-run");
	else if (err == LADDER_SKIPPED)
		snprintf(result, sizeof(result), "skipped");
	else if (err)
		snprintf(result, sizeof(result), "error: %s", strerror(-err));
	else
		snprintf(result, sizeof(result), "ok");
	act_log(&a);
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
static struct lcg *ladder_get(uint64_t id, const char *path,
			      const struct policy_rec *r)
{
	struct lcg *c, *free_slot = NULL;

	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++) {
		if (c->used && c->id == id)
			return c;
		/* A slot at rest may be reused. */
		if (!free_slot && (!c->used ||
				   (!c->level && !c->throttled && !c->frozen &&
				    !c->nv_left && !c->settling &&
				    !c->prekill_pid && !c->restart_pid &&
				    !c->acted && !c->pressure_on)))
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

/* The state file: what a restarted daemon must undo. */
static void ladder_save_state(void)
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

static void ladder_hook(const struct ladder_event *e)
{
	ladder_hook_level(e, NULL);
}

static void ladder_reclaim(struct lcg *c, const struct ladder_event *e)
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

static void ladder_throttle(struct lcg *c, uint64_t high)
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

static void ladder_unthrottle(struct lcg *c, const char *reason)
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

static void ladder_freeze(struct lcg *c, unsigned int level,
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

static void ladder_thaw(struct lcg *c, unsigned int level, const char *reason)
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

static void ladder_settle(struct lcg *c, unsigned int ms)
{
	c->settling = true;
	c->settle_until = now_ns() + ms * MS;
}

static void ladder_kill_one(struct lcg *c, struct victim *v, int sig,
			    const char *reason)
{
	char result[96];
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "kill", .pid = v->pid, .comm = v->comm,
		.signal = sig == SIGKILL ? "SIGKILL" : "SIGTERM",
		.bytes = v->live, .result = result, .reason = reason,
		.trigger = ladder_trigger,
	};
	bool fatal = sig == SIGKILL;
	int err = 0;

	if (ladder_conf.dry_run) {
		snprintf(result, sizeof(result), "dry-run");
		act_log(&a);
		return;
	}
	if (v->pidfd < 0) {
		v->pidfd = proc_pidfd(v->pid);
		err = v->pidfd < 0 ? v->pidfd : 0;
	}
	if (!err) {
		if (sig == SIGTERM)
			fatal = !proc_catches(v->pid, SIGTERM);
		err = proc_signal(v->pidfd, sig);
	}
	/* A fatal signal lets the kernel reap the memory now, not at exit. */
	if (!err && fatal)
		proc_mrelease(v->pidfd);
	if (err)
		snprintf(result, sizeof(result), "error: %s", strerror(-err));
	else
		snprintf(result, sizeof(result), "ok");
	act_log(&a);
	if (err == -ESRCH && v->pidfd >= 0) {
		close(v->pidfd);
		v->pidfd = -1;
	}
	if (v->pidfd < 0) {
		v->gone = true;
		c->nv_left--;
	}
}

/*
 * The topmost cgroup with memory.oom.group 1 from the victim's own up to
 * c's (as the kernel OOM killer takes the whole of it): into out, or
 * false if there is none.
 */
static bool ladder_oom_group(const struct lcg *c, const char *vcg, char *out,
			     size_t outsz)
{
	size_t clen = strlen(c->path);
	char p[256], val[16];
	bool found = false;

	if (!c->host && (strncmp(vcg, c->path, clen) ||
			 (vcg[clen] && vcg[clen] != '/')))
		return false;
	snprintf(p, sizeof(p), "%s", vcg);
	while (strcmp(p, "/")) {
		char *slash;

		if (!cg_read(p, "memory.oom.group", val, sizeof(val)) &&
		    !strcmp(val, "1")) {
			snprintf(out, outsz, "%s", p);
			found = true;
		}
		if (!strcmp(p, c->path))
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		slash[slash == p] = '\0';
	}
	return found;
}

/* Whom c's kill takes: its section's kill and restart, memory.oom.group. */
static void ladder_scope(struct lcg *c, const struct cgrule *rule)
{
	c->how = LADDER_KILL_OFFENDER;
	c->target[0] = '\0';
	if (rule && rule->restart[0]) {
		c->how = LADDER_RESTART;
		snprintf(c->target, sizeof(c->target), "%s", rule->restart);
	} else if (rule && rule->kill == KILL_CGROUP && !c->host) {
		c->how = LADDER_KILL_CGROUP;
		snprintf(c->target, sizeof(c->target), "%s", c->path);
	} else if ((!rule || rule->kill == KILL_DEFAULT) &&
		   ladder_oom_group(c, c->v[0].cgroup, c->target,
				    sizeof(c->target))) {
		c->how = LADDER_KILL_CGROUP;
	}
}

static const char *ladder_how_name(const struct lcg *c)
{
	return c->how == LADDER_RESTART ? "restart" :
	       c->how == LADDER_KILL_CGROUP ? "kill-cgroup" : "kill";
}

static void ladder_incident(struct lcg *c)
{
	c->inc.action = ladder_how_name(c);
	c->inc.target = c->target[0] ? c->target : NULL;
	c->inc.v = c->v;
	c->inc.nv = c->nv;
	c->inc.base = c->base;
	c->inc.nbase = c->nbase;
	c->inc.thr = c->thr;
	c->inc.limit = c->limit;
	if (!ladder_conf.dry_run)
		incident_write(ladder_conf.s->incidents,
			       ladder_conf.s->incidents_max, &c->inc);
}

/* The victims' pidfds, when no signal is sent to them one by one. */
static void ladder_drop_pidfds(struct lcg *c)
{
	unsigned int i;

	for (i = 0; i < c->nv; i++) {
		if (c->v[i].pidfd >= 0)
			close(c->v[i].pidfd);
		c->v[i].pidfd = -1;
	}
}

/* cgroup.kill on the target: everything in it, at once, frozen or not. */
static void ladder_kill_cgroup(struct lcg *c)
{
	char result[96], why[512];
	uint64_t bytes = cg_usage(c->target);
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "kill", .signal = "SIGKILL", .target = c->target,
		.bytes = bytes, .result = result, .reason = why,
		.trigger = ladder_trigger,
	};
	const struct cgrule *rule = cgrules_find(c->id);
	int err = 0;

	snprintf(why, sizeof(why), "%s; the whole cgroup (%s), offender %u (%s)",
		 c->why, rule && rule->kill == KILL_CGROUP ? "kill = cgroup" :
		 "memory.oom.group is 1", c->v[0].pid, c->v[0].comm);
	if (!ladder_conf.dry_run)
		err = cg_write(c->target, "cgroup.kill", "1");
	snprintf(result, sizeof(result), ladder_conf.dry_run ? "dry-run" :
		 err ? "error: %s" : "ok", strerror(-err));
	act_log(&a);
	c->nv_left = 0;
	c->victims_live = err ? 0 : bytes;
	ladder_thaw(c, MEMWATCH_LEVEL_KILL, "the rest of the cgroup resumes");
	ladder_settle(c, ladder_conf.s->settle_ms);
}

/* systemctl restart UNIT instead of a kill: systemd stops it its way. */
static void ladder_restart(struct lcg *c)
{
	char result[96], why[512];
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "restart", .target = c->target,
		.bytes = cg_usage(c->path), .result = result, .reason = why,
		.trigger = ladder_trigger,
	};
	int err = 0;

	snprintf(why, sizeof(why), "%s; restart = %s (offender %u, %s)",
		 c->why, c->target, c->v[0].pid, c->v[0].comm);
	/* Thawed first: the unit's processes must run to stop. */
	ladder_thaw(c, MEMWATCH_LEVEL_KILL, "the unit is restarted");
	if (!ladder_conf.dry_run) {
		char *env[] = { NULL };
		char cmd[320];

		/* The name was checked: letters, digits and ":-_.\@". */
		snprintf(cmd, sizeof(cmd), "exec systemctl restart -- '%s'",
			 c->target);
		err = hook_spawn(cmd, env, &c->restart_pid);
	}
	snprintf(result, sizeof(result), ladder_conf.dry_run ? "dry-run" :
		 err ? "error: %s" : "ok", strerror(-err));
	act_log(&a);
	c->nv_left = 0;
	c->victims_live = err ? 0 : a.bytes;
	ladder_settle(c, ladder_conf.s->settle_ms);
}

/* Carry out the kill decided: signals, cgroup.kill or the restart. */
static void ladder_kill_now(struct lcg *c)
{
	char why[320];
	unsigned int i;

	/* What the stall was about goes: pressure must be seen anew. */
	c->pressure_at = 0;
	c->pressure_on = false;
	c->kill_ts = now_ns();
	c->usage_at_kill = cg_usage(c->path);
	c->victims_live = 0;
	if (c->how != LADDER_KILL_OFFENDER)
		ladder_drop_pidfds(c);
	if (c->how == LADDER_KILL_CGROUP) {
		ladder_kill_cgroup(c);
		ladder_incident(c);
		return;
	}
	if (c->how == LADDER_RESTART) {
		ladder_restart(c);
		ladder_incident(c);
		return;
	}
	c->nv_left = c->nv;
	for (i = 0; i < c->nv; i++) {
		char b[16], a[16];

		c->victims_live += c->v[i].live;
		snprintf(why, sizeof(why), "%s; grew %s (anonymous %s) since the first level was crossed%s",
			 c->why, cli_bytes(c->v[i].growth, b, sizeof(b)),
			 cli_bytes(c->v[i].anon_growth, a, sizeof(a)),
			 i ? ", with the offender: same parent and name" :
			 c->v[i].preferred ? ", and prefer matches it" : ", the most");
		ladder_kill_one(c, &c->v[i], SIGTERM, why);
	}
	c->sigkill_at = now_ns() + ladder_conf.s->kill_grace_ms * MS;
	ladder_thaw(c, MEMWATCH_LEVEL_KILL,
		    "the survivors resume; victims handle SIGTERM");
	if (ladder_conf.dry_run) {
		c->nv_left = 0;
		ladder_settle(c, ladder_conf.s->settle_ms);
	}
	if (!c->nv_left && !c->settling)
		ladder_settle(c, ladder_conf.s->settle_ms);
	ladder_incident(c);
}

/*
 * The pre-kill hook, with the victim in its environment; the kill waits
 * for it (pre-kill-timeout at most) while the cgroup stays frozen.
 * 0 if it runs, -errno if it could not start (the kill goes on).
 */
static int ladder_prekill_start(struct lcg *c)
{
	char v[16][320], pids[256] = "";
	char *env[17];
	unsigned int i, n = 0;
	size_t len = 0;
	int err;

	for (i = 0; i < c->nv && len < sizeof(pids) - 12; i++)
		len += snprintf(pids + len, sizeof(pids) - len, "%s%u",
				i ? " " : "", c->v[i].pid);
	snprintf(v[n++], 320, "MEMCTL_CGROUP=%s", c->path);
	snprintf(v[n++], 320, "MEMCTL_CGROUP_ID=%" PRIu64, c->id);
	snprintf(v[n++], 320, "MEMCTL_LEVEL=%s", cli_level_name(c->level));
	snprintf(v[n++], 320, "MEMCTL_USAGE=%" PRIu64, cg_usage(c->path));
	snprintf(v[n++], 320, "MEMCTL_LIMIT=%" PRIu64, c->limit);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_PID=%u", c->v[0].pid);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_COMM=%s", c->v[0].comm);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_LIVE=%" PRIu64, c->v[0].live);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_GROWTH=%" PRIu64, c->v[0].growth);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_CGROUP=%s", c->v[0].cgroup);
	snprintf(v[n++], 320, "MEMCTL_VICTIM_PIDS=%s", pids);
	snprintf(v[n++], 320, "MEMCTL_KILL=%s", ladder_how_name(c));
	snprintf(v[n++], 320, "MEMCTL_KILL_TARGET=%s", c->target);
	snprintf(v[n++], 320, "MEMCTL_FROZEN=%d", c->frozen && !c->host);
	snprintf(v[n++], 320, "MEMCTL_REASON=%s", c->why);
	snprintf(v[n++], 320, "MEMCTL_INCIDENT=%s", c->inc.id);
	for (i = 0; i < n; i++)
		env[i] = v[i];
	env[n] = NULL;
	err = hook_spawn(ladder_conf.s->pre_kill, env, &c->prekill_pid);
	if (err) {
		c->prekill_pid = 0;
		return err;
	}
	c->prekill_fd = proc_pidfd(c->prekill_pid);
	c->prekill_start = now_ns();
	c->prekill_until = c->prekill_start +
			   ladder_conf.s->pre_kill_timeout_ms * MS;
	say("%s: pre-kill hook %d started for %u (%s); the kill waits for it",
	    c->path, c->prekill_pid, c->v[0].pid, c->v[0].comm);
	return 0;
}

/* The hook ended (status >= 0) or overstayed (-1): log it, then kill. */
static void ladder_prekill_end(struct lcg *c, int status)
{
	unsigned int ms = (unsigned int)((now_ns() - c->prekill_start) / MS);
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "pre-kill", .pid = c->v[0].pid, .comm = c->v[0].comm,
		.result = c->prekill_result, .reason = ladder_conf.s->pre_kill,
	};

	if (status < 0) {
		kill(-c->prekill_pid, SIGKILL);
		hook_forget(c->prekill_pid);
		snprintf(c->prekill_result, sizeof(c->prekill_result),
			 "error: timed out after %u ms, killed", ms);
	} else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		snprintf(c->prekill_result, sizeof(c->prekill_result), "ok");
	} else if (WIFEXITED(status)) {
		snprintf(c->prekill_result, sizeof(c->prekill_result),
			 "error: exit status %d", WEXITSTATUS(status));
	} else {
		snprintf(c->prekill_result, sizeof(c->prekill_result),
			 "error: killed by signal %d", WTERMSIG(status));
	}
	act_log(&a);
	if (c->prekill_fd >= 0)
		close(c->prekill_fd);
	c->prekill_fd = -1;
	c->prekill_pid = 0;
	c->inc.pre_kill = c->prekill_result;
	c->inc.pre_kill_ms = ms;
	ladder_kill_now(c);
}

/* Whether the hook ended or its time is up; if so, the kill. */
static void ladder_prekill_check(struct lcg *c, uint64_t now)
{
	int status, r;

	if (!c->prekill_pid)
		return;
	r = hook_result(c->prekill_pid, &status);
	if (r == 1)
		ladder_prekill_end(c, status);
	else if (r < 0 || now >= c->prekill_until)
		ladder_prekill_end(c, -1);
}

/* Choose the victims and whom the kill takes; kill, after the hook. */
static void ladder_kill(struct lcg *c, const char *reason)
{
	const struct cgrule *rule = cgrules_find(c->id);
	struct victim_rules rules = {
		.avoid = rule && rule->avoid ? rule->avoid : ladder_conf.avoid,
		.prefer = rule && rule->prefer ? rule->prefer :
			  ladder_conf.prefer,
	};
	char why[192];
	unsigned int i;
	int n;

	if (c->nv_left || c->settling || c->prekill_pid)
		return;
	incident_capture(c->path, c->id);
	n = victims_choose(ladder_nl, c->id, c->base, c->nbase, &rules, c->v,
			   VICTIMS_MAX, why, sizeof(why));
	if (n <= 0) {
		struct act a = {
			.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
			.action = "kill", .result = n ? "error" : "no victim",
			.reason = why,
		};

		act_log(&a);
		/* Try again after settle, not at every tick. */
		ladder_settle(c, ladder_conf.s->settle_ms);
		c->victims_live = 0;
		c->usage_at_kill = 0;
		ladder_thaw(c, MEMWATCH_LEVEL_KILL, "nothing may be killed");
		return;
	}
	c->nv = (unsigned int)n;
	c->nv_left = 0;
	snprintf(c->why, sizeof(c->why), "%s", reason);
	ladder_scope(c, rule);
	memset(&c->inc, 0, sizeof(c->inc));
	c->inc.kind = "kill";
	c->inc.cgroup = c->path;
	c->inc.cgroup_id = c->id;
	c->inc.level = c->level;
	c->inc.reason = c->why;
	incident_new_id(&c->inc, c->v[0].pid);
	/* Held from now: a pid reused during the hook is not signalled. */
	for (i = 0; i < c->nv && !ladder_conf.dry_run; i++)
		if (c->v[i].pidfd < 0)
			c->v[i].pidfd = proc_pidfd(c->v[i].pid);
	c->prekill_fd = -1;
	if (ladder_conf.s->pre_kill[0] && !ladder_conf.dry_run) {
		int err = ladder_prekill_start(c);

		if (!err)
			return;
		snprintf(c->prekill_result, sizeof(c->prekill_result),
			 "error: did not start: %s", strerror(-err));
		c->inc.pre_kill = c->prekill_result;
		say("%s: pre-kill hook did not start: %s; killing", c->path,
		    strerror(-err));
	}
	ladder_kill_now(c);
}

static void ladder_sigkill(struct lcg *c, const char *reason)
{
	unsigned int i;

	for (i = 0; i < c->nv; i++)
		if (!c->v[i].gone)
			ladder_kill_one(c, &c->v[i], SIGKILL, reason);
	c->sigkill_at = 0;
}

/* reason, or what pressure adds to it when pressure decided. */
static const char *ladder_why(const char *reason)
{
	if (!strcmp(ladder_trigger, "pressure"))
		return "memory.pressure over its trigger (on-pressure)";
	if (!strcmp(ladder_trigger, "usage+pressure")) {
		static char buf[192];

		snprintf(buf, sizeof(buf), "%s, and memory.pressure over its trigger",
			 reason);
		return buf;
	}
	return reason;
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
		if (c->nv_left)
			ladder_sigkill(c, "usage reached the freeze level again before the victims were gone");
		else
			ladder_freeze(c, e->level,
				      ladder_why("allocation stops while memctl decides"));
		break;
	case MEMWATCH_LEVEL_KILL:
		if (c->nv_left) {
			ladder_sigkill(c, "usage reached the kill level before the victims were gone");
			break;
		}
		ladder_freeze(c, e->level, ladder_why("over the kill level"));
		if (!c->settling)
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
		if (!c->nv_left && !c->prekill_pid)
			ladder_thaw(c, e->level, "usage fell below the freeze level");
		break;
	}
}

/* A node's level: notify, or move its top offender elsewhere. */
static void ladder_node_event(const struct ladder_event *e)
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
			.bytes = e->top_live, .result = "dry-run",
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
static void ladder_synth(const struct lcg *c, unsigned int l, bool up,
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

/* The --exec hook for pressure: MEMCTL_LEVEL=pressure, up or down. */
static void ladder_pressure_hook(const struct lcg *c, bool up)
{
	struct ladder_event e;

	ladder_synth(c, 0, up, &e);
	ladder_hook_level(&e, "pressure");
}

/* A kernel OOM kill's report: what the cgroup looks like after it. */
static void ladder_oom_incident(const struct ladder_event *e)
{
	static struct victim v;
	struct incident in = {
		.kind = "oom", .cgroup = e->cgroup, .cgroup_id = e->cgroup_id,
		.level = MEMWATCH_LEVEL_OOM, .action = "oom", .limit = e->limit,
		.reason = "the kernel OOM killer chose this process", .v = &v,
		.nv = 1,
	};
	struct lcg *c;

	if (ladder_conf.dry_run)
		return;
	memset(&v, 0, sizeof(v));
	v.pid = e->victim;
	snprintf(v.comm, sizeof(v.comm), "%s", e->victim_comm);
	for (c = ladder_cg; c < ladder_cg + LADDER_CGROUPS; c++)
		if (c->used && c->id == e->cgroup_id) {
			in.thr = c->thr;
			in.base = c->base;
			in.nbase = c->nbase;
			break;
		}
	incident_new_id(&in, e->victim);
	incident_capture(e->cgroup, e->cgroup_id);
	incident_write(ladder_conf.s->incidents, ladder_conf.s->incidents_max,
		       &in);
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
			.result = "observed",
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
			if (!c->used || c->id != e->cgroup_id || c->nv_left)
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

/* systemctl restart ended: an error is logged; a success was already. */
static void ladder_restart_check(struct lcg *c)
{
	int status, r;

	if (!c->restart_pid)
		return;
	r = hook_result(c->restart_pid, &status);
	if (r == 0)
		return;
	if (r == 1 && !(WIFEXITED(status) && !WEXITSTATUS(status))) {
		char result[64];
		struct act a = {
			.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
			.action = "restart", .target = c->target,
			.result = result, .reason = "systemctl restart failed",
		};

		snprintf(result, sizeof(result), "error: systemctl exit status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		act_log(&a);
	}
	c->restart_pid = 0;
	/* The unit's new cgroup has a new id: its policy is set again. */
	ladder_reapply = true;
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
	if (c->nv_left && c->sigkill_at && now >= c->sigkill_at)
		ladder_sigkill(c, "still there after the kill grace");
	if (c->settling && !c->nv_left) {
		uint64_t usage = cg_usage(c->path);

		if (now >= c->settle_until ||
		    (c->victims_live &&
		     usage + c->victims_live / 2 <= c->usage_at_kill)) {
			c->settling = false;
			ladder_reevaluate(c);
		}
	}
	if (c->frozen && now >= c->thaw_at && !c->prekill_pid) {
		if (c->acted >= MEMWATCH_LEVEL_FREEZE &&
		    c->thr[MEMWATCH_LEVEL_KILL] && !c->nv_left && !c->settling)
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
		if (c->frozen && c->thaw_at < next && !c->prekill_pid)
			next = c->thaw_at;
		if (c->prekill_pid && c->prekill_until < next)
			next = c->prekill_until;
		/* When the pressure would be over: look then. */
		if (c->pressure_on && now + 500 * MS < next)
			next = now + 500 * MS;
		/* Without a pidfd, or for systemctl: look every 50 ms. */
		if (((c->prekill_pid && c->prekill_fd < 0) || c->restart_pid) &&
		    now + 50 * MS < next)
			next = now + 50 * MS;
		if (c->nv_left && c->sigkill_at && c->sigkill_at < next)
			next = c->sigkill_at;
		/* Watch memory come back every 50 ms. */
		if (c->settling && !c->nv_left && now + 50 * MS < next)
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
		if (c->used && c->prekill_pid && c->prekill_fd >= 0 && n < max) {
			fds[n].fd = c->prekill_fd;
			fds[n].events = POLLIN;
			fds[n++].revents = 0;
		}
		if (!c->used || !c->nv_left)
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
		if (c->used && c->prekill_pid && c->prekill_fd == fd) {
			ladder_prekill_check(c, now_ns());
			return;
		}
		if (!c->used || !c->nv_left)
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
		if (c->prekill_pid) {
			kill(-c->prekill_pid, SIGKILL);
			hook_forget(c->prekill_pid);
			c->prekill_pid = 0;
			ladder_drop_pidfds(c);
		}
		ladder_thaw(c, c->level, "memctl daemon stops");
		ladder_unthrottle(c, "memctl daemon stops");
	}
	if (!ladder_conf.dry_run && ladder_conf.s->state[0])
		unlink(ladder_conf.s->state);
}

void ladder_restore_previous(void)
{
	const char *why = "left by a memctl daemon that stopped without restoring it";
	char line[512], what[16], arg[32];
	FILE *f;

	if (!ladder_conf.s->state[0])
		return;
	f = fopen(ladder_conf.s->state, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct lcg c = { .used = true };
		int off = 0, off2 = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%15s %n", what, &off) != 1)
			continue;
		if (!strcmp(what, "frozen")) {
			snprintf(c.path, sizeof(c.path), "%s", line + off);
			c.frozen = true;
			ladder_thaw(&c, 0, why);
		} else if (!strcmp(what, "throttled") &&
			   sscanf(line + off, "%31s %n", arg, &off2) == 1) {
			snprintf(c.path, sizeof(c.path), "%s",
				 line + off + off2);
			snprintf(c.orig_high, sizeof(c.orig_high), "%s", arg);
			c.throttled = true;
			ladder_unthrottle(&c, why);
		}
	}
	fclose(f);
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
