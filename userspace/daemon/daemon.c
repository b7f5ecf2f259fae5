// SPDX-License-Identifier: GPL-2.0
/* memctl daemon: act on memwatch's events before the OOM killer must. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "actions.h"
#include "actlog.h"
#include "cgroup.h"
#include "util.h"
#include "daemon.h"
#include "cgrules.h"
#include "config.h"
#include "dstats.h"
#include "event.h"
#include "incident.h"
#include "ladder.h"
#include "metrics.h"
#include "mthread.h"
#include "nl.h"
#include "options.h"
#include "policy.h"
#include "psi.h"
#include "victim.h"

struct daemon {
	const char *config_path;
	bool dry_run, check;
	struct settings cli;		/* what the options said */
	struct settings s;		/* in force */
	struct config cfg;		/* the file's, in force */
	regex_t avoid, prefer;
	bool has_avoid, has_prefer;
	struct mw_nl req, ev;
};

static struct daemon d;
static struct config daemon_new_cfg;	/* a reload's, checked before use */

static int daemon_compile(const struct settings *s, regex_t *avoid,
			  bool *has_avoid, regex_t *prefer, bool *has_prefer)
{
	*has_avoid = *has_prefer = false;
	if (s->avoid[0]) {
		if (regcomp(avoid, s->avoid, REG_EXTENDED | REG_NOSUB))
			return -EINVAL;
		*has_avoid = true;
	}
	if (s->prefer[0]) {
		if (regcomp(prefer, s->prefer, REG_EXTENDED | REG_NOSUB)) {
			if (*has_avoid)
				regfree(avoid);
			*has_avoid = false;
			return -EINVAL;
		}
		*has_prefer = true;
	}
	return 0;
}

static void daemon_free_regex(void)
{
	if (d.has_avoid)
		regfree(&d.avoid);
	if (d.has_prefer)
		regfree(&d.prefer);
	d.has_avoid = d.has_prefer = false;
}

static void daemon_ladder_conf(struct ladder_conf *lc)
{
	lc->s = &d.s;
	lc->avoid = d.has_avoid ? &d.avoid : NULL;
	lc->prefer = d.has_prefer ? &d.prefer : NULL;
	lc->dry_run = d.dry_run;
}

/* Set the policies of cfg in the module; clear those of old it lacks. */
static void daemon_apply(const struct config *cfg, const struct config *old)
{
	char rel[4096];
	unsigned int i, j;
	uint64_t id;
	int err;

	for (i = 0; old && i < old->n; i++) {
		for (j = 0; j < cfg->n; j++)
			if (old->cg[i].node == cfg->cg[j].node &&
			    !strcmp(old->cg[i].path, cfg->cg[j].path))
				break;
		if (j < cfg->n || cfg_cgroup_empty(&old->cg[i]))
			continue;
		if (old->cg[i].node >= 0) {
			err = policy_request(&d.req, MEMWATCH_CMD_POLICY_DEL, 0,
					     old->cg[i].node, NULL, 0);
			say("memctl daemon: node %d: policy cleared (gone from the configuration)%s%s",
			    old->cg[i].node, err ? ": " : "",
			    err ? strerror(-err) : "");
			continue;
		}
		if (cg_resolve(old->cg[i].path, &id, rel, sizeof(rel)))
			continue;
		err = policy_request(&d.req, MEMWATCH_CMD_POLICY_DEL, id, -1,
				     NULL, 0);
		say("memctl daemon: %s: policy cleared (gone from the configuration)%s%s",
		    rel, err ? ": " : "", err ? strerror(-err) : "");
	}
	for (i = 0; i < cfg->n; i++) {
		if (cfg_cgroup_empty(&cfg->cg[i])) {
			say("memctl daemon: %s: no levels: acts on memory.pressure alone",
			    cfg->cg[i].path);
			continue;
		}
		if (cfg->cg[i].node >= 0) {
			snprintf(rel, sizeof(rel), "node %d", cfg->cg[i].node);
			err = policy_request(&d.req, MEMWATCH_CMD_POLICY_SET, 0,
					     cfg->cg[i].node, cfg->cg[i].lv, 0);
			goto said;
		}
		err = cg_resolve(cfg->cg[i].path, &id, rel, sizeof(rel));
		if (err) {
			say("memctl daemon: %s: policy not set: not a cgroup: %s",
			    cfg->cg[i].path, strerror(-err));
			continue;
		}
		err = policy_request(&d.req, MEMWATCH_CMD_POLICY_SET, id, -1,
				     cfg->cg[i].lv,
				     cfg->cg[i].swap ? POLICY_SWAP : 0);
said:
		if (err)
			say("memctl daemon: %s: policy not set: %s%s%s", rel,
			    strerror(-err), d.req.extack[0] ? ": " : "",
			    d.req.extack);
		else
			say("memctl daemon: %s: policy set", rel);
	}
}

static int daemon_on_event(struct nlattr **tb, void *arg)
{
	struct ladder_event e = { 0 };
	struct nlattr *top = tb[MEMWATCH_A_EVENT_TOP];

	(void)arg;
	e.is_node = tb[MEMWATCH_A_EVENT_NODE] != NULL;
	if (e.is_node)
		e.node = (int)nla_get_u32(tb[MEMWATCH_A_EVENT_NODE]);
	if (!tb[MEMWATCH_A_EVENT_CGROUP_ID] || !tb[MEMWATCH_A_EVENT_LEVEL])
		return 0;
	e.cgroup_id = nla_get_u64(tb[MEMWATCH_A_EVENT_CGROUP_ID]);
	if (tb[MEMWATCH_A_EVENT_CGROUP_PATH])
		snprintf(e.cgroup, sizeof(e.cgroup), "%s",
			 nla_get_string(tb[MEMWATCH_A_EVENT_CGROUP_PATH]));
	e.level = nla_get_u8(tb[MEMWATCH_A_EVENT_LEVEL]);
	e.up = !tb[MEMWATCH_A_EVENT_DIRECTION] ||
	       nla_get_u8(tb[MEMWATCH_A_EVENT_DIRECTION]) == MEMWATCH_DIR_UP;
	dstats_event(e.level, e.up);
#define U64(a) (tb[a] ? nla_get_u64(tb[a]) : 0)
	e.usage = U64(MEMWATCH_A_EVENT_USAGE);
	e.limit = U64(MEMWATCH_A_EVENT_LIMIT);
	e.threshold = U64(MEMWATCH_A_EVENT_THRESHOLD);
	e.ts_ns = U64(MEMWATCH_A_EVENT_TS_NS);
#undef U64
	if (tb[MEMWATCH_A_EVENT_VICTIM_PID])
		e.victim = nla_get_u32(tb[MEMWATCH_A_EVENT_VICTIM_PID]);
	if (tb[MEMWATCH_A_EVENT_VICTIM_COMM])
		snprintf(e.victim_comm, sizeof(e.victim_comm), "%s",
			 nla_get_string(tb[MEMWATCH_A_EVENT_VICTIM_COMM]));
	if (tb[MEMWATCH_A_EVENT_WMARKS])
		e.has_wmarks = event_wmarks(tb[MEMWATCH_A_EVENT_WMARKS], e.thr) > 0;
	if (top) {
		struct nlattr *a, *t[MEMWATCH_A_PROC_MAX + 1];
		int rem;

		nla_for_each_nested(a, top, rem) {
			if (nla_parse_nested(t, MEMWATCH_A_PROC_MAX, a, NULL))
				break;
			if (t[MEMWATCH_A_PROC_PID])
				e.top_pid = nla_get_u32(t[MEMWATCH_A_PROC_PID]);
			if (t[MEMWATCH_A_PROC_COMM])
				snprintf(e.top_comm, sizeof(e.top_comm), "%s",
					 nla_get_string(t[MEMWATCH_A_PROC_COMM]));
			if (t[MEMWATCH_A_PROC_LIVE_BYTES])
				e.top_live = nla_get_u64(t[MEMWATCH_A_PROC_LIVE_BYTES]);
			break;
		}
	}
	ladder_event(&e);
	return 0;
}

/* Keep the daemon itself alive and quick under the pressure it fights. */
static void daemon_protect(const struct settings *s)
{
	char val[16];
	int fd;

	/* Freed memory stays in the heap, which is locked: a later malloc
	 * (libnl's messages) reuses resident pages and never faults. */
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, -1);
	free(calloc(1, 4 << 20));
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		say("memctl daemon: mlockall: %s (continuing unlocked)",
		    strerror(errno));
	snprintf(val, sizeof(val), "%d", s->oom_score_adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		say("memctl daemon: oom_score_adj %s: %s", val, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * The directory of file (or file itself, a directory, with is_dir) and
 * its parent, if they are not there.
 */
static void daemon_mkdir_for(const char *file, bool is_dir)
{
	char dir[1024], *slash;

	if (!file[0])
		return;
	snprintf(dir, sizeof(dir), "%s", file);
	if (!is_dir) {
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return;
		*slash = '\0';
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	mkdir(dir, 0755);
}

static void daemon_reload(void)
{
	struct settings s, base;
	struct ladder_conf lc;
	regex_t avoid, prefer;
	bool ha, hp;
	char why[1200];

	if (!d.config_path) {
		say("memctl daemon: SIGHUP: no --config to reload");
		dstats_reload(false);
		return;
	}
	if (config_load(d.config_path, &daemon_new_cfg, why, sizeof(why))) {
		say("memctl daemon: SIGHUP: configuration not reloaded: %s", why);
		dstats_reload(false);
		return;
	}
	settings_defaults(&base);
	settings_merge(&s, &base, &daemon_new_cfg.s);
	settings_merge(&s, &s, &d.cli);
	if (daemon_compile(&s, &avoid, &ha, &prefer, &hp)) {
		say("memctl daemon: SIGHUP: configuration not reloaded: a bad regular expression");
		dstats_reload(false);
		return;
	}
	daemon_apply(&daemon_new_cfg, &d.cfg);
	if (cgrules_load(&daemon_new_cfg, why, sizeof(why)))
		say("memctl daemon: SIGHUP: the kill rules stay as they were: %s",
		    why);
	if (strcmp(s.log_json, d.s.log_json) || s.syslog != d.s.syslog) {
		actlog_close();
		if (actlog_open(s.log_json, d.dry_run, s.syslog))
			say("memctl daemon: cannot open %s: %s", s.log_json,
			    strerror(errno));
	}
	if (strcmp(s.metrics, d.s.metrics) ||
	    s.metrics_interval_ms != d.s.metrics_interval_ms) {
		metrics_stop();
		daemon_mkdir_for(s.metrics, false);
		if (metrics_start(s.metrics, s.metrics_interval_ms, 10))
			say("memctl daemon: cannot start the metrics thread: %s",
			    strerror(errno));
	}
	daemon_free_regex();
	d.s = s;
	d.avoid = avoid;
	d.prefer = prefer;
	d.has_avoid = ha;
	d.has_prefer = hp;
	d.cfg = daemon_new_cfg;
	daemon_mkdir_for(d.s.incidents, true);
	daemon_ladder_conf(&lc);
	ladder_reconfigure(&lc);
	say("memctl daemon: reloaded %s", d.config_path);
	dstats_reload(true);
	ladder_resync();
}

/* The loop: events, signals and victims' pidfds, until told to stop. */
static int daemon_loop(int sfd)
{
	struct pollfd fds[2 + 64 + CFG_MAX_CGROUPS];
	unsigned int frozen, throttled;
	int i, err;

	for (;;) {
		int n, np;

		fds[0] = (struct pollfd){ .fd = nl_socket_get_fd(d.ev.sk),
					  .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		np = 2 + ladder_pollfds(fds + 2, 64);
		n = np + cgrules_pollfds(fds + np, CFG_MAX_CGROUPS);
		if (poll(fds, n, ladder_timeout_ms()) < 0 && errno != EINTR)
			return -errno;
		/* First, while these fds still are the victims' and the
		 * triggers' ones: an event may close them, a reload the
		 * triggers, and a new kill reuse their numbers. */
		for (i = np; i < n; i++)
			if (fds[i].revents & (POLLPRI | POLLERR))
				ladder_pressure(fds[i].fd);
		for (i = 2; i < np; i++)
			if (fds[i].revents)
				ladder_pidfd_ready(fds[i].fd);
		if (fds[0].revents) {
			err = mw_nl_receive(&d.ev, MEMWATCH_A_EVENT_MAX,
					    daemon_on_event, NULL);
			if (err == -ENOBUFS) {
				dstats_events_lost();
				say("memctl daemon: events were lost; reading the levels from the module");
				ladder_resync();
			} else if (err < 0) {
				return err;
			}
		}
		if (fds[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					daemon_reload();
				else if (si.ssi_signo == SIGCHLD)
					hook_reap();
				else
					return 0;
			}
		}
		ladder_tick();
		if (ladder_take_reapply()) {
			char why[1200];

			daemon_apply(&d.cfg, NULL);
			if (cgrules_load(&d.cfg, why, sizeof(why)))
				say("memctl daemon: kill rules: %s", why);
		}
		ladder_counts(&frozen, &throttled);
		dstats_gauges(frozen, throttled);
	}
}

int cmd_daemon(int argc, char **argv)
{
	static struct daemon_opts opts;
	struct settings base;
	struct ladder_conf lc;
	char why[1200];
	sigset_t sigs;
	int rc, sfd, err;

	settings_defaults(&base);
	rc = daemon_options(argc, argv, &opts);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	d.config_path = opts.config_path;
	d.dry_run = opts.dry_run;
	d.check = opts.check;
	d.cli = opts.cli;
	if (d.config_path &&
	    config_load(d.config_path, &d.cfg, why, sizeof(why))) {
		fprintf(stderr, "memctl daemon: %s\n", why);
		return EXIT_USAGE;
	}
	settings_merge(&d.s, &base, &d.cfg.s);
	settings_merge(&d.s, &d.s, &d.cli);
	if (daemon_compile(&d.s, &d.avoid, &d.has_avoid, &d.prefer,
			   &d.has_prefer))
		return cli_usage_error("daemon", "a bad regular expression");
	if (d.check) {
		daemon_print_config(&d.s, &d.cfg);
		daemon_free_regex();
		return EXIT_OK;
	}

	if (mw_nl_connect(&d.req))
		return EXIT_FAIL;
	if (mw_nl_open(&d.ev) || mw_nl_subscribe(&d.ev, false)) {
		fprintf(stderr, "memctl daemon: cannot subscribe to memwatch's events\n");
		mw_nl_close(&d.req);
		return EXIT_FAIL;
	}
	nl_socket_set_nonblocking(d.ev.sk);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (actlog_open(d.s.log_json, d.dry_run, d.s.syslog)) {
		fprintf(stderr, "memctl daemon: cannot open %s: %s\n",
			d.s.log_json, strerror(errno));
		rc = EXIT_FAIL;
		goto out_nl;
	}
	if (sfd < 0 || victims_init() || incident_init(&d.req) ||
	    reclaim_start()) {
		fprintf(stderr, "memctl daemon: cannot start: %s\n",
			strerror(errno));
		rc = EXIT_FAIL;
		goto out_log;
	}
	daemon_mkdir_for(d.s.state, false);
	daemon_mkdir_for(d.s.metrics, false);
	daemon_mkdir_for(d.s.incidents, true);
	daemon_protect(&d.s);
	daemon_ladder_conf(&lc);
	ladder_init(&lc, &d.req);
	ladder_restore_previous();
	daemon_apply(&d.cfg, NULL);
	if (cgrules_load(&d.cfg, why, sizeof(why)))
		say("memctl daemon: no kill rules: %s", why);
	ladder_resync();
	dstats_start(d.dry_run);
	if (metrics_start(d.s.metrics, d.s.metrics_interval_ms, 10))
		say("memctl daemon: cannot start the metrics thread: %s",
		    strerror(errno));
	say("memctl daemon: ready%s (freeze grace %u ms, kill grace %u ms, settle %u ms)",
	    d.dry_run ? ", dry run: nothing will be changed" : "",
	    d.s.freeze_grace_ms, d.s.kill_grace_ms, d.s.settle_ms);

	err = daemon_loop(sfd);
	ladder_restore();
	metrics_stop();
	if (err) {
		say("memctl daemon: lost the connection to memwatch (module unloaded?): %s",
		    strerror(-err));
		rc = EXIT_FAIL;
	} else {
		say("memctl daemon: stopped");
		rc = EXIT_OK;
	}
	reclaim_stop();
	cgrules_free();
	incident_exit();
	victims_exit();
out_log:
	if (sfd >= 0)
		close(sfd);
	actlog_close();
out_nl:
	daemon_free_regex();
	mw_nl_close(&d.ev);
	mw_nl_close(&d.req);
	return rc;
}
