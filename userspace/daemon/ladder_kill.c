// SPDX-License-Identifier: GPL-2.0
/*
 * The ladder's last step (lcg.h): whom to kill and how (the offender,
 * the cgroup whole, or a systemd restart), the pre-kill hook it waits
 * for, SIGTERM then SIGKILL after the kill grace, the incident report.
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

static void ladder_kill_one(struct lcg *c, struct victim *v, int sig,
			    const char *reason)
{
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "kill", .pid = v->pid, .comm = v->comm,
		.signal = sig == SIGKILL ? "SIGKILL" : "SIGTERM",
		.bytes = v->live, .reason = reason, .trigger = ladder_trigger,
	};
	bool fatal = sig == SIGKILL;
	int err = 0;

	if (ladder_conf.dry_run) {
		a.outcome = ACT_DRY_RUN;
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
	if (err) {
		a.outcome = ACT_ERROR;
		a.detail = strerror(-err);
	}
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
void ladder_drop_pidfds(struct lcg *c)
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
	char why[512];
	uint64_t bytes = cg_usage(c->target);
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "kill", .signal = "SIGKILL", .target = c->target,
		.bytes = bytes, .reason = why, .trigger = ladder_trigger,
	};
	const struct cgrule *rule = cgrules_find(c->id);
	int err = 0;

	snprintf(why, sizeof(why), "%s; the whole cgroup (%s), offender %u (%s)",
		 c->why, rule && rule->kill == KILL_CGROUP ? "kill = cgroup" :
		 "memory.oom.group is 1", c->v[0].pid, c->v[0].comm);
	if (!ladder_conf.dry_run)
		err = cg_write(c->target, "cgroup.kill", "1");
	act_outcome_set(&a, err, ladder_conf.dry_run);
	act_log(&a);
	c->nv_left = 0;
	c->victims_live = err ? 0 : bytes;
	ladder_thaw(c, MEMWATCH_LEVEL_KILL, "the rest of the cgroup resumes");
	ladder_settle(c, ladder_conf.s->settle_ms);
}

/* systemctl restart UNIT instead of a kill: systemd stops it its way. */
static void ladder_restart(struct lcg *c)
{
	char why[512];
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "restart", .target = c->target,
		.bytes = cg_usage(c->path), .reason = why,
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
	act_outcome_set(&a, err, ladder_conf.dry_run);
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
	lcg_enter(c, LCG_KILLING);
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
	/* None to wait for (a dry run, or all gone at once): settle. */
	if (ladder_conf.dry_run)
		c->nv_left = 0;
	if (!c->nv_left)
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
	lcg_enter(c, LCG_PREKILL);
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
	char detail[64];
	struct act a = {
		.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
		.action = "pre-kill", .pid = c->v[0].pid, .comm = c->v[0].comm,
		.outcome = ACT_ERROR, .detail = detail,
		.reason = ladder_conf.s->pre_kill,
	};

	if (status < 0) {
		kill(-c->prekill_pid, SIGKILL);
		hook_forget(c->prekill_pid);
		snprintf(detail, sizeof(detail), "timed out after %u ms, killed",
			 ms);
	} else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		a.outcome = ACT_OK;
		a.detail = NULL;
	} else if (WIFEXITED(status)) {
		snprintf(detail, sizeof(detail), "exit status %d",
			 WEXITSTATUS(status));
	} else {
		snprintf(detail, sizeof(detail), "killed by signal %d",
			 WTERMSIG(status));
	}
	/* The incident report says it too. */
	act_result(a.outcome, a.detail, c->prekill_result,
		   sizeof(c->prekill_result));
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
void ladder_prekill_check(struct lcg *c, uint64_t now)
{
	int status, r;

	if (c->phase != LCG_PREKILL)
		return;
	r = hook_result(c->prekill_pid, &status);
	if (r == 1)
		ladder_prekill_end(c, status);
	else if (r < 0 || now >= c->prekill_until)
		ladder_prekill_end(c, -1);
}

/* Choose the victims and whom the kill takes; kill, after the hook. */
void ladder_kill(struct lcg *c, const char *reason)
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

	if (c->phase != LCG_WATCHING)
		return;
	incident_capture(c->path, c->id);
	n = victims_choose(ladder_nl, c->id, c->base, c->nbase, &rules, c->v,
			   VICTIMS_MAX, why, sizeof(why));
	if (n <= 0) {
		struct act a = {
			.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
			.action = "kill",
			.outcome = n ? ACT_ERROR : ACT_NO_VICTIM,
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
			 "%s: did not start: %s", act_outcome_name(ACT_ERROR),
			 strerror(-err));
		c->inc.pre_kill = c->prekill_result;
		say("%s: pre-kill hook did not start: %s; killing", c->path,
		    strerror(-err));
	}
	ladder_kill_now(c);
}

void ladder_sigkill(struct lcg *c, const char *reason)
{
	unsigned int i;

	for (i = 0; i < c->nv; i++)
		if (!c->v[i].gone)
			ladder_kill_one(c, &c->v[i], SIGKILL, reason);
	c->sigkill_at = 0;
}

/* reason, or what pressure adds to it when pressure decided. */
const char *ladder_why(const char *reason)
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

/* systemctl restart ended: an error is logged; a success was already. */
void ladder_restart_check(struct lcg *c)
{
	int status, r;

	if (!c->restart_pid)
		return;
	r = hook_result(c->restart_pid, &status);
	if (r == 0)
		return;
	if (r == 1 && !(WIFEXITED(status) && !WEXITSTATUS(status))) {
		char detail[64];
		struct act a = {
			.cgroup = c->path, .level = MEMWATCH_LEVEL_KILL,
			.action = "restart", .target = c->target,
			.outcome = ACT_ERROR, .detail = detail,
			.reason = "systemctl restart failed",
		};

		snprintf(detail, sizeof(detail), "systemctl exit status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		act_log(&a);
	}
	c->restart_pid = 0;
	/* The unit's new cgroup has a new id: its policy is set again. */
	ladder_reapply = true;
}

/* A kernel OOM kill's report: what the cgroup looks like after it. */
void ladder_oom_incident(const struct ladder_event *e)
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
