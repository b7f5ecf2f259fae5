// SPDX-License-Identifier: GPL-2.0
/*
 * memctl daemon against real pressure: a cgroup with memory.max 256M, an
 * innocent process holding 60M and leakers (memwatch_hog). The kernel OOM
 * killer must never fire, the leaker must be the one stopped, and the
 * cgroup must be left neither frozen nor throttled. This program: the
 * ladder and whom it picks. memctl_daemon_ops has the daemon's life
 * (configuration, restarts, hooks, its command line), memctl_daemon_host
 * the host's and the nodes' policies and pressure, memctl_swap the tests
 * that need swap; the fixture is memctl_daemon.h's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memctl_daemon.h"

MW_FIXTURE(daemon);

/* (1) One leaker beside an innocent: the leaker goes, step by step. */
TEST_F_TIMEOUT(daemon, leaker_is_killed_innocent_survives, MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000))
		TH_LOG("the cgroup was left frozen or throttled");
	EXPECT_TRUE(wait_log(self, "\"unthrottle\"", 15000));

	EXPECT_EQ(0, log_jq(self, ladder_order));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and .comm == \"leaker\" and .result == \"ok\""
		 " and (.reason | contains(\"the most\")))"
		 " and any(.[]; .action == \"thaw\") and any(.[]; .action == \"unthrottle\")"
		 " and all(.[]; .action == \"reclaim\" or .result == \"ok\")"
		 " and all(.[]; .dry_run == false)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	/* The incident report: the kill, and what led to it. */
	snprintf(filter, sizeof(filter),
		 "length == 1 and (.[0] | .kind == \"kill\" and .action == \"kill\""
		 " and .cgroup == $v and .victims[0].pid == %d"
		 " and .victims[0].comm == \"leaker\" and .limit == 268435456"
		 " and .thresholds.kill > 0 and .memory_stat.anon > 0"
		 " and (.memory_events | has(\"max\"))"
		 " and .memory_pressure.some.avg10 != null"
		 " and any(.timeline[]; .action == \"freeze\")"
		 " and any(.top[]; .pid == %d and .growth > 0 and (.nodes | length) >= 1)"
		 " and any(.top[]; .comm == \"innocent\"))", leaker, leaker);
	EXPECT_EQ(0, incidents_jq(self, filter, 5000));
}

/*
 * A leaker whose first thread called pthread_exit() (a zombie leader, a
 * thread leaking on): its process is not taken for one on its way out
 * (every thread would be), and its anonymous growth is seen through the
 * thread that has the mm. It dies, the innocent lives.
 */
TEST_F_TIMEOUT(daemon, leaker_behind_a_zombie_leader_is_killed,
	       MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair_how(self, &innocent, &leaker, "--thread"));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and .result == \"ok\""
		 " and (.reason | contains(\"the most\"))"
		 " and (.reason | contains(\"(anonymous 0B)\") | not))"
		 " and all(.[]; (.reason // \"\") | startswith(\"waiting\") | not)",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* (2) Eight leaking children of one parent go together. */
TEST_F_TIMEOUT(daemon, leaking_children_are_killed_together, MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t innocent, parent;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	parent = spawn_hog(self, "--children", "8", "--leak", "256K",
			   "--name", "leakers", MW_END);
	ASSERT_LT(0, parent);

	/* The parent returns once all its children are gone. */
	status = wait_end(parent, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaking children were not stopped in 90 s");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000));

	EXPECT_EQ(0, log_jq(self, ladder_order));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k"
		 " | ([$k[].pid] | unique | length) == 8"
		 " and all($k[]; .comm == \"leakers\" and .pid != %d and .pid != %d)",
		 innocent, parent);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* (3) A slow leak: reclaim and throttle hold it, nothing is killed. */
TEST_F_TIMEOUT(daemon, slow_leak_is_contained_without_a_kill, MW_LADDER_TIMEOUT)
{
	char high[32];
	pid_t innocent, leaker;
	long long usage;

	write_conf(self, SCENARIO_DAEMON,
		   "notify = 40%\nreclaim = 50%\nthrottle = 60%\n"
		   "freeze = 90%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--hold", "90M", "--leak", "256K", "--every",
			   "25", "--name", "slowleak", MW_END);
	ASSERT_LT(0, leaker);

	ASSERT_TRUE(wait_log(self, "\"throttle\"", 30000));
	sleep(12);
	EXPECT_TRUE(alive(leaker));
	EXPECT_TRUE(alive(innocent));
	usage = cg_key(self->name, "memory.stat", "anon");
	EXPECT_GT(256LL * 1024 * 1024 * 90 / 100, usage);
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	/* 60% of 256M, in whole pages. */
	EXPECT_EQ(65536LL * 60 / 100 * 4096, atoll(high)) TH_LOG("memory.high %s", high);
	EXPECT_EQ(0, log_jq(self,
		"[.[] | .action] as $a | ($a | index(\"reclaim\")) != null"
		" and ($a | index(\"throttle\")) != null"
		" and all($a[]; . != \"freeze\" and . != \"kill\")"));

	/* The leak ends: memory.high goes back. */
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
	EXPECT_TRUE(wait_log(self, "\"unthrottle\"", 5000));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
}

/* (4) --dry-run logs the ladder and touches nothing. */
TEST_F_TIMEOUT(daemon, dry_run_acts_on_nothing, MW_LADDER_TIMEOUT)
{
	char f[32], h[32], filter[512];
	pid_t innocent, leaker;
	int status = -1;
	struct timespec t0;
	bool changed = false;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--dry-run",
				  MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	/* Nothing stops the leaker but the kernel OOM killer. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 90000) {
		if (waitpid(leaker, &status, WNOHANG) == leaker)
			break;
		if (!cg_get(self->name, "cgroup.freeze", f, sizeof(f)) &&
		    !cg_get(self->name, "memory.high", h, sizeof(h)) &&
		    (strcmp(f, "0") || strcmp(h, "max")))
			changed = true;
		usleep(10000);
	}
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_FALSE(changed);
	EXPECT_LE(1, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_log(self, "\"oom\"", 5000));
	EXPECT_EQ(0, log_jq(self, ladder_order));
	/* A pretended kill leaves the leaker running: on a slow kernel the
	 * daemon "kills" it again at the kill level, never anyone else.
	 */
	snprintf(filter, sizeof(filter),
		 "all(.[]; .dry_run == true and"
		 " (.result == \"dry-run\" or .action == \"oom\"))"
		 " and ([.[] | select(.action == \"kill\") | .pid] |"
		 " length >= 1 and all(. == %d))",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_FALSE(file_has(self->state, "frozen"));
	/* A dry run writes no report, not even of the kernel's kill. */
	EXPECT_EQ(0, incidents_jq(self, "length == 0", 0));
}

/* (5) oom_score_adj -1000 and --avoid: never chosen, whatever they hold. */
TEST_F_TIMEOUT(daemon, protected_processes_are_never_chosen, MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t protected, avoided, other;
	int status;

	write_conf(self, SCENARIO_DAEMON "avoid = ^avoided$\n",
		   "notify = 40%\nfreeze = 60%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	avoided = spawn_hog(self, "--hold", "30M", "--name", "avoided", MW_END);
	ASSERT_LT(0, avoided);
	other = spawn_hog(self, "--hold", "20M", "--name", "other", MW_END);
	ASSERT_LT(0, other);
	protected = spawn_hog(self, "--oom-score-adj", "-1000", "--leak", "1M",
			      "--max", "150M", "--name", "protected", MW_END);
	ASSERT_LT(0, protected);

	/* The only process that may go is "other"; then there is none. */
	status = wait_end(other, 60000);
	ASSERT_NE(-1, status) TH_LOG("the unprotected process was not killed");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(wait_log(self, "no process may be killed", 30000));
	EXPECT_TRUE(alive(protected));
	EXPECT_TRUE(alive(avoided));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\" and .pid)] as $k"
		 " | ($k | length) >= 1 and all($k[]; .pid == %d)"
		 " and any(.[]; .action == \"kill\" and .result == \"no victim\""
		 " and (.reason | contains(\"1 protected by oom_score_adj -1000, 1 matched --avoid\")))",
		 other);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	kill(protected, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 20000));
}

/* kill = cgroup: the whole cgroup goes at once, the innocent with it. */
TEST_F_TIMEOUT(daemon, kill_cgroup_empties_the_cgroup, MW_LADDER_TIMEOUT)
{
	char filter[768], procs[256];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS "kill = cgroup\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = wait_end(innocent, 10000);
	EXPECT_NE(-1, status) TH_LOG("the rest of the cgroup was left");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(0, cg_get(self->name, "cgroup.procs", procs, sizeof(procs)));
	EXPECT_STREQ("", procs);
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) == 1"
		 " and ($k[0] | .target == $v and .signal == \"SIGKILL\""
		 " and .result == \"ok\" and (.reason | contains(\"kill = cgroup\"))"
		 " and (.reason | contains(\"offender %d (leaker)\")))", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, incidents_jq(self,
		  "length == 1 and .[0].action == \"kill-cgroup\" and .[0].target == $v",
		  5000));
}

/*
 * memory.oom.group on the offender's cgroup: that cgroup goes whole, as
 * the kernel would take it; a sibling cgroup under the same policy stays.
 */
TEST_F_TIMEOUT(daemon, oom_group_cgroup_is_killed_whole, MW_LADDER_TIMEOUT)
{
	char path[192], filter[768], a[160], b[160];
	pid_t innocent, sibling, leaker;
	int status;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.subtree_control",
		 self->name);
	ASSERT_EQ(0, mw_write(path, "+memory"));
	snprintf(a, sizeof(a), "%s/a", self->name);
	snprintf(b, sizeof(b), "%s/b", self->name);
	ASSERT_NE(0, mw_cgroup_make(a, NULL));
	ASSERT_NE(0, mw_cgroup_make(b, NULL));
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.oom.group", a);
	ASSERT_EQ(0, mw_write(path, "1"));
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	snprintf(self->hog_cg, sizeof(self->hog_cg), "%s", b);
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	snprintf(self->hog_cg, sizeof(self->hog_cg), "%s", a);
	sibling = spawn_hog(self, "--hold", "20M", "--name", "sibling", MW_END);
	ASSERT_LT(0, sibling);
	leaker = spawn_hog(self, "--leak", "1M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	status = wait_end(sibling, 10000);
	EXPECT_NE(-1, status) TH_LOG("the leaker's cgroup was not killed whole");
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and ($k[0] | .target == \"%s/a\" and .result == \"ok\""
		 " and (.reason | contains(\"memory.oom.group is 1\")))",
		 self->path);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* A [cgroup] section's prefer wins over the [daemon] section's. */
TEST_F_TIMEOUT(daemon, section_prefer_overrides_the_daemons, MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON "prefer = ^innocent$\n",
		   SCENARIO_LEVELS "prefer = ^leaker$\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(alive(innocent));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and (.reason | contains(\"prefer matches\")))",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

/*
 * A reader of a big file beside a leaker: the reader's page cache grows
 * faster than the leaker's heap, but it is page cache; the leaker, whose
 * anonymous memory grows, is the one killed, and the reader lives.
 */
TEST_F_TIMEOUT(daemon, page_cache_reader_is_not_taken_for_the_leaker,
	       MW_LADDER_TIMEOUT)
{
	const char *file = mw_big_file(130UL << 20);
	char filter[512];
	pid_t reader, leaker;
	int status;

	ASSERT_NE(NULL, file);
	sync();
	ASSERT_EQ(0, mw_write("/proc/sys/vm/drop_caches", "3"));
	/*
	 * No reclaim level: memory.reclaim would take the reader's cache.
	 * Growth counts from notify (51M): by the freeze level (164M) the
	 * reader (20M/s, up to 130M) has gained about twice the leaker's
	 * (5M/s), so growth of live bytes alone would choose the reader.
	 */
	write_conf(self, SCENARIO_DAEMON, "notify = 20%\nfreeze = 64%\nkill = 80%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	reader = spawn_hog(self, "--read", file, "--leak", "2M", "--every",
			   "100", "--max", "130M", "--name", "reader", MW_END);
	ASSERT_LT(0, reader);
	leaker = spawn_hog(self, "--leak", "1M", "--every", "200", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	sleep(3);
	EXPECT_TRUE(alive(reader)) TH_LOG("the reader was killed");
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

TEST_HARNESS_MAIN
