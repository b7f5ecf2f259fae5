// SPDX-License-Identifier: GPL-2.0
/* memctl top, as a user runs it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

static char out[MW_OUTSZ], err[MW_OUTSZ];

FIXTURE(top) {
	bool was_loaded;
	struct mw_sync s;
	pid_t child;
	char pid[16];
};

/*
 * A child holding 64 MiB on node 1, from a CPU of node 0. Each test has
 * 120 s, not the harness's 30: the setup may load the module and the
 * child's faults run under emulation. (One CI run failed a test here
 * with its output cut; a slow host overrunning 30 s is the one cause
 * its log and a rerun left standing.)
 */
FIXTURE_SETUP(top)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	ASSERT_EQ(0, mw_sync_init(&self->s));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		if (mw_pin_to_node(0) || !mw_alloc_on(64 * MIB, 1))
			_exit(10);
		mw_sync_child(&self->s);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&self->s));
	snprintf(self->pid, sizeof(self->pid), "%d", self->child);
}

FIXTURE_TEARDOWN(top)
{
	kill(self->child, SIGKILL);
	waitpid(self->child, NULL, 0);
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_module_ensure(self->was_loaded);
}

TEST_F_TIMEOUT(top, json_record_of_one_process, 120)
{
	static const char filter[] =
		"length == 1 and (.[0] | .pid == ($v | tonumber)"
		" and (.comm | type) == \"string\" and .state == \"alive\""
		" and (.cgroup | startswith(\"/\"))"
		" and .live_bytes >= 64 * 1048576 * 0.95"
		" and ([.nodes[].live_bytes] | add) == .live_bytes"
		" and ([.nodes[] | select(.node == 1)][0].live_bytes"
		"      >= 64 * 1048576 * 0.95)"
		" and .local_bytes + .remote_bytes == .live_bytes"
		" and .remote_bytes >= 64 * 1048576 * 0.95"
		" and (.alloc_bytes_per_s | type) == \"number\""
		" and .allocated_bytes >= .live_bytes"
		" and (.released_bytes | type) == \"number\")";

	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "--pid", self->pid,
			       MW_END)) TH_LOG("%s", err);
	EXPECT_EQ(0, mw_jq(out, filter, self->pid)) TH_LOG("%s", out);
	EXPECT_EQ(1, mw_lines(out));
}

TEST_F_TIMEOUT(top, text_table, 120)
{
	char want[32];

	ASSERT_EQ(0, mw_memctl(out, err, "top", "-n", "3", MW_END));
	EXPECT_EQ(0, strncmp(out, "memwatch: ", 10)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "PID"));
	EXPECT_NE(NULL, strstr(out, "REMOTE"));
	EXPECT_GE(5, mw_lines(out));
	/* The child holds the most: it is on the first row. */
	snprintf(want, sizeof(want), "\n%8s ", self->pid);
	ASSERT_EQ(0, mw_memctl(out, err, "top", "-n", "1", MW_END));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_STREQ("", err);
}

TEST_F_TIMEOUT(top, sort_and_limit, 120)
{
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "-n", "2", MW_END));
	EXPECT_EQ(0, mw_jq(out, "length == 2", NULL));
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "[.[].live_bytes] as $l | $l == ($l | sort | reverse) and length > 2", NULL));
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "--sort", "rate",
			       MW_END));
	EXPECT_EQ(0, mw_jq(out, "[.[].alloc_bytes_per_s] as $r | $r == ($r | sort | reverse)", NULL));
}

TEST_F_TIMEOUT(top, cgroup_filter, 120)
{
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "--cgroup", "/",
			       MW_END)) TH_LOG("%s", err);
	EXPECT_EQ(0, mw_jq(out, "any(.[]; .pid == ($v | tonumber))",
			   self->pid));
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "--cgroup",
			       "/sys/fs/cgroup", MW_END)) TH_LOG("%s", err);
	EXPECT_EQ(0, mw_jq(out, "any(.[]; .pid == ($v | tonumber))",
			   self->pid));
}

TEST_F_TIMEOUT(top, interval_refreshes, 120)
{
	ASSERT_EQ(0, mw_memctl(out, err, "top", "--json", "--pid", self->pid,
			       "--interval", "0.2", "--count", "3", MW_END));
	EXPECT_EQ(3, mw_lines(out));
	EXPECT_EQ(0, mw_jq(out, "length == 1", NULL));
}

TEST_F_TIMEOUT(top, bad_arguments_are_one_line_and_status_2, 120)
{
	static const char *const bad[][3] = {
		{ "--sort", "size", NULL },
		{ "--pid", "abc", NULL },
		{ "--pid", "0", NULL },
		{ "-n", "0", NULL },
		{ "--interval", "0", NULL },
		{ "--interval", "x", NULL },
		{ "--count", "2", NULL },
		{ "--cgroup", "/no/such/cgroup", NULL },
		{ "--cgroup", "/etc", NULL },
		{ "--no-such-option", NULL, NULL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(2, mw_memctl(out, err, "top", bad[i][0], bad[i][1],
				       MW_END)) TH_LOG("top %s %s", bad[i][0],
						     bad[i][1] ?: "");
		EXPECT_EQ(1, mw_lines(err)) TH_LOG("%s", err);
		EXPECT_STREQ("", out);
	}
}

TEST_F_TIMEOUT(top, not_loaded, 120)
{
	ASSERT_EQ(0, mw_module_ensure(false));
	EXPECT_EQ(1, mw_memctl(out, err, "top", MW_END));
	EXPECT_NE(NULL, strstr(err, "memwatch module not loaded"));
}

TEST_HARNESS_MAIN
