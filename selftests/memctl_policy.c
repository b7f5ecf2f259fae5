// SPDX-License-Identifier: GPL-2.0
/* memctl policy and memctl watch, as a user runs them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

static char out[MW_OUTSZ], err[MW_OUTSZ];

FIXTURE(policy) {
	bool was_loaded;
	char name[64];		/* under the cgroup2 root */
	char path[80];		/* as memctl takes it: /name */
};

FIXTURE_SETUP(policy)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	snprintf(self->name, sizeof(self->name), "mw-cli-%d", getpid());
	snprintf(self->path, sizeof(self->path), "/%s", self->name);
	ASSERT_NE(0, mw_cgroup_make(self->name, "128M"));
}

FIXTURE_TEARDOWN(policy)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_cgroup_remove(self->name);
	mw_module_ensure(self->was_loaded);
}

TEST_F(policy, set_list_clear)
{
	static const char filter[] =
		"[.[] | select(.cgroup == $v)] | length == 1 and (.[0] |"
		" .level == \"none\" and .limit_bytes == 134217728"
		" and ([.levels[].level] == [\"notify\", \"reclaim\", \"kill\"])"
		" and .levels[0].percent == 25"
		" and .levels[0].threshold_bytes == 33554432"
		" and .levels[1].bytes == 67108864"
		" and .levels[2].threshold_bytes == (32768 * 90 / 100 | floor) * 4096)";
	char full[128];

	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", self->path,
			       "--notify", "25%", "--reclaim", "64M",
			       "--kill", "90%", MW_END)) TH_LOG("%s", err);
	EXPECT_STREQ("", err);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, filter, self->path));
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", MW_END));
	EXPECT_NE(NULL, strstr(out, self->path)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "reclaim"));

	/* A full path names the same cgroup; set replaces the policy. */
	snprintf(full, sizeof(full), "/sys/fs/cgroup/%s", self->name);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", full, "--notify",
			       "50%", MW_END)) TH_LOG("%s", err);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "[.[] | select(.cgroup == $v)] | length == 1 and .[0].levels == [{\"level\": \"notify\", \"percent\": 50, \"threshold_bytes\": 67108864}]"
			   " and .[0].swap == false", self->path));
	/* --swap: kept, and said in the list. */
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", self->path, "--notify",
			       "50%", "--swap", MW_END)) TH_LOG("%s", err);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "[.[] | select(.cgroup == $v)] | .[0].swap == true",
			   self->path));
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", MW_END));
	EXPECT_NE(NULL, strstr(out, "(swap included)")) TH_LOG("%s", out);

	ASSERT_EQ(0, mw_memctl(out, err, "policy", "clear", self->path,
			       MW_END)) TH_LOG("%s", err);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "all(.[]; .cgroup != $v)", self->path));
	/* Clearing again: the kernel says why not. */
	EXPECT_EQ(1, mw_memctl(out, err, "policy", "clear", self->path,
			       MW_END));
	EXPECT_NE(NULL, strstr(err, "kernel reports: this cgroup has no policy"))
		TH_LOG("%s", err);
}

TEST_F(policy, kernel_refusals_exit_1_with_the_reason)
{
	EXPECT_EQ(1, mw_memctl(out, err, "policy", "set", self->path,
			       "--notify", "60%", "--reclaim", "50%", MW_END));
	EXPECT_NE(NULL, strstr(err, "kernel reports: levels out of order"))
		TH_LOG("%s", err);
	/* The guest has nodes 0 and 1. */
	EXPECT_EQ(1, mw_memctl(out, err, "policy", "set", "--node", "7",
			       "--notify", "50%", MW_END));
	EXPECT_NE(NULL, strstr(err, "kernel reports: no node has this id"))
		TH_LOG("%s", err);
	EXPECT_EQ(1, mw_memctl(out, err, "policy", "clear", "--node", "1",
			       MW_END));
	EXPECT_NE(NULL, strstr(err, "kernel reports: this node has no policy"))
		TH_LOG("%s", err);
	/* The root counts the host's swap (memwatch_host tests the figure). */
	EXPECT_EQ(0, mw_memctl(out, err, "policy", "set", "/", "--notify",
			       "99%", "--swap", MW_END)) TH_LOG("%s", err);
	EXPECT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "[.[] | select(.cgroup == \"/\")] | .[0].swap == true",
			   NULL));
	EXPECT_EQ(0, mw_memctl(out, err, "policy", "clear", "/", MW_END))
		TH_LOG("%s", err);
	EXPECT_EQ(1, mw_memctl(out, err, "policy", "set", "--node", "1",
			       "--notify", "50%", "--swap", MW_END));
	EXPECT_NE(NULL, strstr(err, "kernel reports: a node's policy counts no swap"))
		TH_LOG("%s", err);
}

TEST_F(policy, unprivileged_set_is_refused)
{
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534",
			 "--clear-groups", (char *)mw_memctl_path(), "policy",
			 "set", self->path, "--notify", "50%", NULL };
	char *list[] = { "setpriv", "--reuid=65534", "--regid=65534",
			 "--clear-groups", (char *)mw_memctl_path(), "policy",
			 "list", NULL };

	EXPECT_EQ(1, mw_run(argv, out, sizeof(out), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "Operation not permitted"))
		TH_LOG("%s", err);
	EXPECT_EQ(0, mw_run(list, out, sizeof(out), err, sizeof(err)))
		TH_LOG("%s", err);
}

TEST_F(policy, bad_arguments_are_one_line_and_status_2)
{
	static const char *const bad[][5] = {
		{ "set", NULL },
		{ "set", "PATH", NULL },
		{ "set", "PATH", "--notify", "0%", NULL },
		{ "set", "PATH", "--notify", "150%", NULL },
		{ "set", "PATH", "--notify", "12Q", NULL },
		{ "set", "PATH", "--kill", "-5", NULL },
		{ "set", "PATH", "--notify", "1000", NULL },
		{ "set", "/no/such/cgroup", "--notify", "50%", NULL },
		{ "set", "PATH", "--bogus", "1", NULL },
		{ "clear", NULL },
		{ "list", "extra", NULL },
		{ "bogus", NULL },
		{ NULL },
	};
	const char *a[5];
	unsigned int i, k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (k = 0; k < 5; k++)
			a[k] = bad[i][k] && !strcmp(bad[i][k], "PATH") ?
			       self->path : bad[i][k];
		EXPECT_EQ(2, mw_memctl(out, err, "policy", a[0], a[1], a[2],
				       a[3], MW_END))
			TH_LOG("policy %s %s %s %s", a[0] ?: "", a[1] ?: "",
			       a[2] ?: "", a[3] ?: "");
		EXPECT_EQ(1, mw_lines(err)) TH_LOG("%s", err);
	}
	EXPECT_EQ(2, mw_memctl(out, err, "watch", "--count", "0", MW_END));
	EXPECT_EQ(2, mw_memctl(out, err, "watch", "--cgroup", "/no/such",
			       MW_END));
	EXPECT_EQ(1, mw_lines(err));
}

/* memctl watch --json in the background, output to a file. */
static pid_t start_watch(const char *cgroup, const char *file)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		_exit(10);
	execl(mw_memctl_path(), "memctl", "watch", "--json", "--count", "3",
	      "--cgroup", cgroup, (char *)NULL);
	_exit(11);
}

TEST_F(policy, watch_json_streams_the_crossings)
{
	static const char filter[] =
		"length == 3"
		" and map(.level) == [\"notify\", \"reclaim\", \"throttle\"]"
		" and all(.[]; .direction == \"up\" and .cgroup == $v"
		" and .limit_bytes == 134217728 and .usage_bytes >= .threshold_bytes"
		" and .recv_ns >= .ts_ns and (.cgroup_id | type) == \"number\""
		" and (.top | type) == \"array\" and (.top[0].pid | type) == \"number\""
		" and (.top[0] | has(\"comm\") and has(\"live_bytes\") and has(\"alloc_bytes_per_s\"))"
		/* Every level of the policy in each event: 25, 50, 75% of 128M. */
		" and .levels == [{\"level\": \"notify\", \"threshold_bytes\": 33554432},"
		" {\"level\": \"reclaim\", \"threshold_bytes\": 67108864},"
		" {\"level\": \"throttle\", \"threshold_bytes\": 100663296}]"
		" and .threshold_bytes == (.level as $l | .levels[] | select(.level == $l) | .threshold_bytes))";
	char file[] = "/tmp/memctl-watch.XXXXXX";
	pid_t watch, child;
	int fd, i, status;
	char *p;

	fd = mkstemp(file);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", self->path,
			       "--notify", "25%", "--reclaim", "50%",
			       "--throttle", "75%", MW_END)) TH_LOG("%s", err);
	watch = start_watch(self->path, file);
	ASSERT_LT(0, watch);
	/* A crossing before it has joined the group would be lost. */
	ASSERT_EQ(0, mw_wait_subscribed(watch, 20000))
		TH_LOG("memctl watch did not join the events group in 20 s");
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (mw_cgroup_enter(self->name))
			_exit(10);
		for (i = 0; i < 20; i++) {
			if (!mw_alloc_on(5 * MIB, -1))
				_exit(11);
			usleep(20000);
		}
		pause();
	}
	for (i = 0; i < 100 && waitpid(watch, &status, WNOHANG) != watch; i++)
		usleep(100000);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ASSERT_GT(100, i) TH_LOG("memctl watch did not see 3 events");
	kill(watch, SIGKILL);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	fd = open(file, O_RDONLY);
	ASSERT_LE(0, fd);
	memset(out, 0, sizeof(out));
	out[0] = '[';
	ASSERT_LT(0, read(fd, out + 1, sizeof(out) - 3));
	close(fd);
	unlink(file);
	/* One object a line: make them one array. */
	EXPECT_EQ(3, mw_lines(out));
	for (p = out; (p = strchr(p, '\n')); p++)
		*p = p[1] ? ',' : ']';
	EXPECT_EQ(0, mw_jq(out, filter, self->path)) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
