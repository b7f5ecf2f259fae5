// SPDX-License-Identifier: GPL-2.0
/*
 * memctl daemon beyond one cgroup's levels: a policy on the host's root
 * and on a NUMA node, the kernel OOM killer's own kills, and pressure
 * (PSI) as a level's condition. The fixture is memctl_daemon.h's.
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

/* oom_kill from /proc/vmstat: the host's kernel OOM kills since boot. */
static long long host_oom_kills(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * (11) The whole host, with no cgroup limit anywhere: a policy on "/"
 * (usage MemTotal - MemAvailable). An innocent holds 200M, a leaker takes
 * 8M every 20 ms: the daemon kills the leaker before the kernel's OOM
 * killer has to, and says it cannot throttle or freeze the root.
 */
TEST_F_TIMEOUT(daemon, host_policy_stops_a_leak_with_no_limit, 180)
{
	char max[96], filter[512];
	long long oom0 = host_oom_kills();
	pid_t innocent, leaker;
	int status;

	snprintf(max, sizeof(max), "/sys/fs/cgroup/%s/memory.max", self->name);
	ASSERT_EQ(0, put_file(max, "max"));
	ASSERT_EQ(0, put_file(self->conf,
		"[daemon]\nfreeze-grace = 1s\nkill-grace = 2s\nsettle = 3s\n"
		"[cgroup /]\nnotify = 50%\nreclaim = 60%\nthrottle = 65%\n"
		"freeze = 70%\nkill = 80%\n"));
	ASSERT_LE(0, oom0);
	self->host = true;
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "200M", "--name", "innocent",
			     MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--leak", "8M", "--every", "20", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 120000);
	EXPECT_NE(-1, status) TH_LOG("the leaker was not stopped in 120 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(oom0, host_oom_kills()) TH_LOG("the kernel OOM killer ran");
	EXPECT_TRUE(wait_log(self, "\"kill\"", 5000));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .cgroup == \"/\" and .pid == %d and .result == \"ok\")"
		 " and any(.[]; .cgroup == \"/\" and .action == \"notify\")"
		 " and all(.[]; .action != \"throttle\" or .result == \"skipped\")",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "status", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(outbuf, "any(.policies[]; .cgroup == \"/\" and (has(\"node\") | not))", ""))
		TH_LOG("status: %s", outbuf);
}

/* Pages of pid on node nid, from /proc/PID/numa_maps: -1 if unreadable. */
static long long pages_on_node(pid_t pid, int nid)
{
	char path[64], key[16], line[4096];
	long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	snprintf(key, sizeof(key), " N%d=", nid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p)
			n += atoll(p + strlen(key));
	}
	fclose(f);
	return n;
}

/*
 * (12) A process on node 1's CPU fills node 1 while node 0 has room: at
 * node 1's reclaim level the daemon moves its pages to node 0, named by
 * the node's event; nothing is killed.
 */
TEST_F_TIMEOUT(daemon, node_short_of_memory_gets_its_offender_migrated, 180)
{
	char max[96], filter[512];
	long long oom0 = host_oom_kills(), on0;
	pid_t hog;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: memwatch's guest has two");
	snprintf(max, sizeof(max), "/sys/fs/cgroup/%s/memory.max", self->name);
	ASSERT_EQ(0, put_file(max, "max"));
	ASSERT_EQ(0, put_file(self->conf,
		"[daemon]\nsettle = 3s\n"
		"[node 1]\nnotify = 40%\nreclaim = 60%\n"));
	self->node = true;
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	hog = spawn_hog(self, "--node", "1", "--leak", "8M", "--every", "50",
			"--max", "720M", "--name", "nodehog", MW_END);
	ASSERT_LT(0, hog);
	ASSERT_TRUE(wait_log(self, "\"migrate\"", 90000))
		TH_LOG("node 1 was not relieved in 90 s");
	/* The move is done in the reclaim thread: its log line says so. */
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"migrate\")] as $m | ($m | length) >= 1"
		 " and all($m[]; .pid == %d and .comm == \"nodehog\""
		 " and (.result == \"ok\" or (.result | startswith(\"partial\")))"
		 " and (.reason | contains(\"node 1 is short: to node 0\")))"
		 " and any(.[]; .action == \"notify\" and (.reason | startswith(\"node 1\")))",
		 hog);
	EXPECT_EQ(0, log_jq(self, filter));
	/* policy list and status show node 1's policy. */
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "status", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(outbuf, "any(.policies[]; .node == 1 and .cgroup == \"/\")", ""))
		TH_LOG("status: %s", outbuf);
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "policy", "list", MW_END));
	EXPECT_NE(NULL, strstr(outbuf, "node 1: usage"));
	on0 = pages_on_node(hog, 0);
	EXPECT_LE(64LL * 256, on0) TH_LOG("%lld pages on node 0", on0);
	EXPECT_TRUE(alive(hog));
	EXPECT_EQ(oom0, host_oom_kills());
}

/* The kernel's own OOM kill leaves a report too, readable by a person. */
TEST_F_TIMEOUT(daemon, kernel_oom_kill_leaves_an_incident_report,
	       MW_LADDER_TIMEOUT)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char filter[512], id[128];
	pid_t leaker;
	int status;
	char *p;

	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--leak", "2M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);
	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_LE(1, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "length == 1 and (.[0] | .kind == \"oom\" and .cgroup == $v"
		 " and .victims[0].pid == %d and .victims[0].comm == \"leaker\""
		 /*
		  * Read when the kernel chose its victim: oom is counted
		  * by then, oom_kill only once the kill is done.
		  */
		 " and .memory_events.oom >= 1)", leaker);
	ASSERT_EQ(0, incidents_jq(self, filter, 10000));

	/* The list, for a person: a header and the report's line. */
	ASSERT_EQ(0, mw_memctl(out, err, "incidents", "--dir", self->inc, MW_END));
	EXPECT_EQ(2, mw_lines(out)) TH_LOG("%s", out);
	p = strchr(out, '\n');
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, sscanf(p + 1, "%127s", id));
	EXPECT_NE(NULL, strstr(id, "-oom-"));
	ASSERT_EQ(0, mw_memctl(out, err, "incidents", "--dir", self->inc,
			       "show", id, MW_END));
	EXPECT_NE(NULL, strstr(out, "the kernel OOM killer")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "memory.stat\nanon ")) TH_LOG("%s", out);
	/* A bad ID: one line, status 1; a bad argument: status 2. */
	EXPECT_EQ(1, mw_memctl(out, err, "incidents", "--dir", self->inc,
			       "show", "19700101", MW_END));
	EXPECT_EQ(1, mw_lines(err));
	EXPECT_EQ(2, mw_memctl(out, err, "incidents", "--bogus", MW_END));
	EXPECT_EQ(2, mw_memctl(out, err, "incidents", "show", MW_END));
}

/*
 * Thrashing under every level: memory.high 64M squeezes a leaker that
 * memory.max (256M) would let grow, so it stalls in reclaim and the
 * throttle while usage stays under notify (40%). Usage alone never acts;
 * the pressure trigger, with on-pressure = kill, does.
 */
TEST_F_TIMEOUT(daemon, thrash_under_the_levels_is_caught_by_pressure,
	       MW_LADDER_TIMEOUT)
{
	char filter[512];
	pid_t thrasher;
	int status;

	ASSERT_EQ(0, cg_set(self, "memory.high", "64M"));
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS
		   "pressure = some 20% 1s\non-pressure = kill\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	thrasher = spawn_hog(self, "--leak", "1M", "--max", "200M", "--name",
			     "thrasher", MW_END);
	ASSERT_LT(0, thrasher);

	status = wait_end(thrasher, 90000);
	ASSERT_NE(-1, status) TH_LOG("the thrasher was left stalling for 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "any(.[]; .action == \"pressure\" and .trigger == \"pressure\")"
		 " and ([.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and $k[0].pid == %d and $k[0].trigger == \"pressure\")"
		 " and all(.[]; .action != \"notify\" and .action != \"throttle\")",
		 thrasher);
	EXPECT_EQ(0, log_jq(self, filter));
	/* Thawed, and memory.high as the test set it. */
	EXPECT_TRUE(wait_restored_to(self, "67108864", 15000));
}

/*
 * needs-pressure = freeze: usage over the kill level with no stall (a
 * big process that just holds its memory) is left alone; once a leaker
 * stalls against memory.high, the trigger fires and the ladder acts on
 * the leaker, with both signals named.
 */
TEST_F_TIMEOUT(daemon, needs_pressure_holds_the_kill_until_stalls,
	       MW_LADDER_TIMEOUT)
{
	char filter[768];
	pid_t holder, leaker;
	int status;

	/*
	 * No reclaim or throttle level: memory.high under the holder would
	 * stall it. The holder first: it is the baseline, the leaker grows.
	 */
	holder = spawn_hog(self, "--hold", "215M", "--name", "holder", MW_END);
	ASSERT_LT(0, holder);
	write_conf(self, SCENARIO_DAEMON, "notify = 40%\nfreeze = 64%\nkill = 80%\n"
		   "pressure = some 20% 1s\nneeds-pressure = freeze\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	/* Over the kill level (80% is 205M), no stall: nothing happens. */
	ASSERT_TRUE(wait_log(self, "needs-pressure = freeze", 20000))
		TH_LOG("the freeze step was not held back");
	sleep(5);
	EXPECT_TRUE(alive(holder));
	EXPECT_EQ(0, log_jq(self,
		  "all(.[]; (.action != \"kill\" and .action != \"freeze\" and"
		  " .action != \"throttle\") or .result == \"skipped\")"));

	/* A leaker squeezed by memory.high: stalls, then the ladder acts. */
	ASSERT_EQ(0, cg_set(self, "memory.high", "225M"));
	leaker = spawn_hog(self, "--leak", "1M", "--max", "40M", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);
	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	/* The stall is over: the holder, still over the kill level, stays. */
	sleep(5);
	EXPECT_TRUE(alive(holder));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "any(.[]; .action == \"freeze\" and .result == \"ok\" and .trigger == \"usage+pressure\")"
		 " and ([.[] | select(.action == \"kill\" and .result != \"skipped\")] as $k"
		 " | ($k | length) >= 1 and all($k[]; .pid == %d))", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

TEST_HARNESS_MAIN
