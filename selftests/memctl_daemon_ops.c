// SPDX-License-Identifier: GPL-2.0
/*
 * memctl daemon's life beside a leak: its configuration reloaded on
 * SIGHUP, what a restart restores, the exec and pre-kill hooks, how it
 * protects itself, and its command line's errors. The fixture is
 * memctl_daemon.h's (a cgroup with memory.max 256M and the daemon).
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

/* The cgroup's policy as `memctl policy list --json` shows it. */
static int policy_jq(FIXTURE_DATA(daemon) *self, const char *filter)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char full[512];

	if (mw_memctl(out, err, "policy", "list", "--json", MW_END))
		return -1;
	snprintf(full, sizeof(full), "[.[] | select(.cgroup == $v)] | %s",
		 filter);
	return mw_jq(out, full, self->path);
}

/* SIGHUP: a good file replaces the policies, a bad one changes nothing. */
TEST_F(daemon, sighup_reloads_the_configuration)
{
	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	EXPECT_EQ(0, policy_jq(self, "length == 1 and .[0].levels == "
			       "[{\"level\": \"notify\", \"percent\": 40, "
			       "\"threshold_bytes\": 107372544}]"));

	write_conf(self, "", "notify = 30%\nreclaim = 128M\n");
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "reloaded", 5000));
	EXPECT_EQ(0, policy_jq(self, "length == 1 and [.[0].levels[] | "
			       "[.level, .percent, .bytes]] == "
			       "[[\"notify\", 30, null], [\"reclaim\", null, 134217728]]"));

	/* A bad file: the daemon says why and keeps what it had. */
	write_conf(self, "freeze-grace = soon\n", "notify = 20%\n");
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "not reloaded", 5000));
	EXPECT_TRUE(wait_out(self, "freeze-grace: takes a duration", 100));
	EXPECT_EQ(0, policy_jq(self, ".[0].levels[0].percent == 30"));
	EXPECT_TRUE(alive(self->daemon));

	/* A cgroup gone from the file loses its policy. */
	ASSERT_EQ(0, put_file(self->conf, "[daemon]\n"));
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "policy cleared", 5000));
	EXPECT_EQ(0, policy_jq(self, "length == 0"));
}

/*
 * The daemon dies while the cgroup is throttled: a new one, with no
 * --config, undoes that from the state file and goes on with the
 * policies the module kept.
 */
TEST_F_TIMEOUT(daemon, restart_restores_and_keeps_the_module_policies,
	       MW_LADDER_TIMEOUT)
{
	char high[32];
	pid_t leaker;

	write_conf(self, SCENARIO_DAEMON,
		   "notify = 40%\nthrottle = 60%\nfreeze = 90%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--hold", "150M", "--leak", "256K",
			   "--every", "50", "--name", "slowleak", MW_END);
	ASSERT_LT(0, leaker);
	ASSERT_TRUE(wait_log(self, "\"throttle\"", 30000));
	kill(self->daemon, SIGKILL);
	waitpid(self->daemon, NULL, 0);
	self->daemon = 0;
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	EXPECT_STRNE("max", high);
	EXPECT_TRUE(file_has(self->state, "throttled max"));

	ASSERT_EQ(0, start_daemon(self, MW_END));
	EXPECT_TRUE(wait_log(self, "left by a memctl daemon", 5000));
	/* Still over the throttle level: throttled again, by the new one. */
	EXPECT_EQ(0, log_jq(self,
		"[.[] | select(.action | test(\"throttle\")) | .action]"
		" == [\"throttle\", \"unthrottle\", \"throttle\"]"));
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
	EXPECT_TRUE(wait_out(self, "unthrottle: ok: usage fell", 5000));
}

/*
 * The daemon dies while the cgroup is frozen and throttled (a long freeze
 * grace keeps it there): a new one thaws it and puts memory.high back.
 */
TEST_F_TIMEOUT(daemon, restart_thaws_and_unthrottles_what_it_left, 180)
{
	char high[32], frozen[8];
	pid_t leaker;

	write_conf(self, "freeze-grace = 60s\nkill-grace = 2s\nsettle = 3s\n",
		   "notify = 40%\nthrottle = 55%\nfreeze = 64%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--hold", "150M", "--leak", "1M", "--every",
			   "20", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);
	ASSERT_TRUE(wait_log(self, "\"freeze\"", 60000));
	kill(self->daemon, SIGKILL);
	waitpid(self->daemon, NULL, 0);
	self->daemon = 0;
	ASSERT_EQ(0, cg_get(self->name, "cgroup.freeze", frozen, sizeof(frozen)));
	EXPECT_STREQ("1", frozen);
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	EXPECT_STRNE("max", high);
	EXPECT_TRUE(file_has(self->state, "frozen "));
	EXPECT_TRUE(file_has(self->state, "throttled "));

	ASSERT_EQ(0, start_daemon(self, MW_END));
	EXPECT_TRUE(wait_log(self, "left by a memctl daemon", 5000));
	EXPECT_EQ(0, log_jq(self,
		"any(.[]; .action == \"thaw\" and .result == \"ok\""
		" and (.reason | contains(\"left by\")))"
		" and any(.[]; .action == \"unthrottle\" and .result == \"ok\""
		" and (.reason | contains(\"left by\")))"));
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
}

/* --exec runs for each event with the event in MEMCTL_* variables. */
TEST_F(daemon, exec_hook_gets_the_event)
{
	char hook[256], file[96], want[128];
	pid_t hog;
	int i;

	snprintf(file, sizeof(file), "/tmp/%s.hook", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook), "env | grep ^MEMCTL_ | sort >> %s", file);
	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--exec",
				  hook, MW_END));
	hog = spawn_hog(self, "--hold", "120M", "--name", "big", MW_END);
	ASSERT_LT(0, hog);
	ASSERT_TRUE(wait_log(self, "\"notify\"", 10000));
	/*
	 * The hook runs on its own: sort writes when its input ends, after
	 * a shell, env and grep have started (over a second on the debug
	 * kernel).
	 */
	for (i = 0; i < 300 && !file_has(file, "MEMCTL_TOP_COMM="); i++)
		usleep(50000);
	EXPECT_TRUE(file_has(file, "MEMCTL_LEVEL=notify\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_DIRECTION=up\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_LIMIT=268435456\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_THRESHOLD=107372544\n"));
	snprintf(want, sizeof(want), "MEMCTL_CGROUP=%s\n", self->path);
	EXPECT_TRUE(file_has(file, want));
	snprintf(want, sizeof(want), "MEMCTL_TOP_PID=%d\n", hog);
	EXPECT_TRUE(file_has(file, want));
	EXPECT_TRUE(file_has(file, "MEMCTL_TOP_COMM=big\n"));
	unlink(file);
}

/* The daemon locks itself in memory and sets its own oom_score_adj. */
TEST_F(daemon, protects_itself)
{
	char path[64], buf[32], line[4096];
	long long locked;
	FILE *f;

	write_conf(self, "oom-score-adj = -900\n", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", self->daemon);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_EQ(-900, atoi(buf));
	snprintf(path, sizeof(path), "/proc/%d/status", self->daemon);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	locked = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lld", &locked) == 1)
			break;
	fclose(f);
	/* Its heap, warmed at start, is locked too: a few MiB at least. */
	EXPECT_LT(4096, locked);
}

TEST_F(daemon, bad_arguments_are_one_line_and_status_2)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	static const char *const bad[][3] = {
		{ "--freeze-grace", "0", "--freeze-grace takes a duration" },
		{ "--kill-grace", "1h1", "--kill-grace takes a duration" },
		{ "--oom-score-adj", "-1001", "--oom-score-adj takes a number" },
		{ "--avoid", "(", "--avoid not a regular expression" },
		{ "--config", "/nonexistent", "/nonexistent: No such file" },
		{ "--bogus", "", "option '--bogus' is unknown" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(2, mw_memctl(out, err, "daemon", bad[i][0],
				       bad[i][1][0] ? bad[i][1] : MW_END,
				       MW_END)) TH_LOG("%s", bad[i][0]);
		EXPECT_EQ(1, mw_lines(err)) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, bad[i][2])) TH_LOG("%s", err);
		EXPECT_STREQ("", out);
	}
	write_conf(self, "kill-grace = 3s\n", "notify = 40%\nkill = 512M\n");
	ASSERT_EQ(0, mw_memctl(out, err, "daemon", "--config", self->conf,
			       "--check", "--kill-grace", "1500ms", MW_END));
	EXPECT_NE(NULL, strstr(out, "kill-grace = 1500ms\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "notify = 40%\nkill = 512.0M\n"));
	ASSERT_EQ(0, put_file(self->conf, "[cgroup /x]\nnotify = 101%\n"));
	EXPECT_EQ(2, mw_memctl(out, err, "daemon", "--config", self->conf,
			       MW_END));
	EXPECT_NE(NULL, strstr(err, ":2: notify takes a percentage")) TH_LOG("%s", err);
}

/*
 * --pre-kill: the hook runs with the victim named, the cgroup frozen and
 * the victim alive, and the kill waits for it to end.
 */
TEST_F_TIMEOUT(daemon, pre_kill_hook_runs_before_the_kill, MW_LADDER_TIMEOUT)
{
	char hook[512], file[96], want[128], filter[512];
	pid_t innocent, leaker;
	int status;

	snprintf(file, sizeof(file), "/tmp/%s.prekill", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook),
		 "{ echo \"victim $MEMCTL_VICTIM_PID $MEMCTL_VICTIM_COMM $MEMCTL_KILL frozen=$MEMCTL_FROZEN\";"
		 " kill -0 $MEMCTL_VICTIM_PID && echo alive;"
		 " grep frozen /sys/fs/cgroup$MEMCTL_CGROUP/cgroup.events;"
		 " sleep 1; kill -0 $MEMCTL_VICTIM_PID && echo still alive; } > %s",
		 file);
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--pre-kill",
				  hook, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(alive(innocent));
	snprintf(want, sizeof(want), "victim %d leaker kill frozen=1\n", leaker);
	EXPECT_TRUE(file_has(file, want)) TH_LOG("the hook did not run, or not first");
	EXPECT_TRUE(file_has(file, "alive\nfrozen 1\n"));
	EXPECT_TRUE(file_has(file, "still alive\n"))
		TH_LOG("the victim died before the hook ended");
	snprintf(filter, sizeof(filter),
		 "(map(select(.action == \"pre-kill\")) | .[0]) as $p"
		 " | (map(select(.action == \"kill\")) | .[0]) as $k"
		 " | $p.pid == %d and $p.result == \"ok\" and $k.pid == %d"
		 " and $p.ts_ns <= $k.ts_ns and $k.ts_ns - $p.ts_ns < 1000000000",
		 leaker, leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, incidents_jq(self,
		  ".[0].pre_kill.result == \"ok\" and .[0].pre_kill.ms >= 1000",
		  5000));
	unlink(file);
}

/* A pre-kill hook that overstays is killed, with what it started. */
TEST_F_TIMEOUT(daemon, pre_kill_hook_that_overstays_is_killed,
	       MW_LADDER_TIMEOUT)
{
	char hook[256], file[96];
	pid_t leaker;
	int status;

	snprintf(file, sizeof(file), "/tmp/%s.late", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook), "sleep 5; echo late > %s", file);
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--pre-kill",
				  hook, "--pre-kill-timeout", "1s", MW_END));
	leaker = spawn_hog(self, "--leak", "1M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_EQ(0, log_jq(self,
		  "any(.[]; .action == \"pre-kill\" and"
		  " (.result | startswith(\"error: timed out after\")))"));
	sleep(6);
	EXPECT_FALSE(file_has(file, "late")) TH_LOG("the hook's sleep was left running");
	unlink(file);
}

TEST_HARNESS_MAIN
