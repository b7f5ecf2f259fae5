// SPDX-License-Identifier: GPL-2.0
/*
 * memctl daemon's tests that need swap, run in the --profile host guest
 * (scripts/check): a leak the kernel pushes into swap is still the
 * leaker's, and is killed. The fixture is memctl_daemon.h's.
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

/* The swap device's size in bytes (SwapTotal), 0 without. */
static long long swap_total(void)
{
	char line[128];
	long long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SwapTotal: %lld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib * 1024;
}

/*
 * A leak the kernel pushes to swap: the throttle level's memory.high
 * (153M) holds memory.current under the freeze level (164M) while the
 * leak drains into swap. With swap = yes the cgroup's usage counts the
 * swap, climbs on, and the leaker is killed early, with little in swap;
 * without, it thrashes on until swap (512M) runs out.
 */
TEST_F_TIMEOUT(daemon, leak_into_swap_is_killed, 240)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char filter[512];
	pid_t innocent, leaker;
	long long cur, swp;
	int status;

	ASSERT_LE(256LL << 20, swap_total()) TH_LOG("the guest has no swap");
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS "swap = yes\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "any(.[]; .cgroup == $v and .swap == true)",
			   self->path));
	innocent = spawn_hog(self, "--hold", "30M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--leak", "1M", "--every", "10", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	/* The module's usage is memory.current + memory.swap.current. */
	ASSERT_TRUE(wait_log(self, "\"throttle\"", 60000));
	cur = cg_key(self->name, "memory.stat", "anon");
	ASSERT_EQ(0, cg_get(self->name, "memory.swap.current", filter,
			    sizeof(filter)));
	swp = atoll(filter);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.cgroup == $v)][0].usage_bytes >= %lld",
		 cur + swp - (16LL << 20));
	EXPECT_EQ(0, mw_jq(out, filter, self->path));

	status = wait_end(leaker, 180000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 180 s");
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	/* Killed once swap held about 52M (205M less 153M), not 512M. */
	EXPECT_EQ(0, incidents_jq(self,
		  ".[0].swap > 0 and .[0].swap < 134217728", 5000));
}

TEST_HARNESS_MAIN
