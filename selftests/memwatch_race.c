// SPDX-License-Identifier: GPL-2.0
/*
 * Races: a thousand cgroups with policies created and removed while they
 * allocate, and processes coming and going while their records are
 * dumped. Nothing may fail, splat (vm-run checks the log) or stay behind.
 * Load and unload under stress are memwatch_load's; a daemon killed while
 * cgroups are frozen and throttled is memctl_daemon's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

FIXTURE(race) {
	bool was_loaded;
	int fd;
	uint16_t id;
	char name[64];
	struct mw_nl_reply r;
};

FIXTURE_SETUP(race)
{
	uint32_t grp;
	char ctl[128];

	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	self->fd = mw_nl_open_family(&self->id, &grp);
	ASSERT_LE(0, self->fd);
	snprintf(self->name, sizeof(self->name), "mw-race-%d", getpid());
	ASSERT_NE(0, mw_cgroup_make(self->name, NULL));
	snprintf(ctl, sizeof(ctl), "/sys/fs/cgroup/%s/cgroup.subtree_control",
		 self->name);
	ASSERT_EQ(0, mw_write(ctl, "+memory"));
}

FIXTURE_TEARDOWN(race)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_cgroup_remove(self->name);
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

static void count(const void *attrs, int len, void *arg)
{
	(void)attrs;
	(void)len;
	++*(int *)arg;
}

static int policies(FIXTURE_DATA(race) *self)
{
	int n = 0;

	if (mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
		       count, &n, &self->r))
		return -1;
	return n;
}

/* POLICY_SET notify at 25%, kill at 75% of cgid's limit: 0 or -errno. */
static int set_policy(int fd, uint16_t id, uint64_t cgid)
{
	static const int lp[][2] = { { MEMWATCH_LEVEL_NOTIFY, 25 },
				     { MEMWATCH_LEVEL_KILL, 75 } };
	static struct mw_nl_reply r;

	return mw_policy_set(fd, id, cgid, 2, lp, &r);
}

/*
 * Worker w of 2: 500 cgroups, one after another: made (memory.max 16M),
 * given a policy, a child allocating 8M in it (over the 4M notify level)
 * and exiting, and removed at once, its policy still set. 0, or the step
 * that failed.
 */
static int churn(FIXTURE_DATA(race) *self, int w)
{
	uint32_t version, grp;
	uint16_t id;
	int fd = mw_nl_open(), i;

	if (fd < 0 || mw_nl_family(fd, MEMWATCH_GENL_NAME, &id, &version, &grp))
		return 1;
	for (i = 0; i < 500; i++) {
		char name[128];
		uint64_t cgid;
		pid_t pid;
		int status;

		snprintf(name, sizeof(name), "%s/w%d-%d", self->name, w, i);
		cgid = mw_cgroup_make(name, "16M");
		if (!cgid)
			return 2;
		if (set_policy(fd, id, cgid))
			return 3;
		pid = fork();
		if (!pid)
			_exit(mw_cgroup_enter(name) || !mw_alloc_on(8 * MIB, -1));
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			return 4;
		if (mw_cgroup_remove(name))
			return 5;
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(race, thousand_cgroups_with_policies_come_and_go_while_allocating, 900)
{
	uint64_t sent0, sent1;
	pid_t workers[2];
	int i, status, before = policies(self);

	ASSERT_LE(0, before);
	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	sent0 = mw_nla_u64(self->r.attrs, self->r.len,
			   MEMWATCH_A_STATUS_EVENTS_SENT);
	for (i = 0; i < 2; i++) {
		workers[i] = fork();
		ASSERT_LE(0, workers[i]);
		if (!workers[i])
			_exit(churn(self, i));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(workers[i], waitpid(workers[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("worker %d failed at step %d", i,
			       WEXITSTATUS(status));
	}
	/* The checker drops the removed cgroups' policies within ticks. */
	for (i = 0; i < 50 && policies(self) != before; i++)
		usleep(100000);
	EXPECT_EQ(before, policies(self));
	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	sent1 = mw_nla_u64(self->r.attrs, self->r.len,
			   MEMWATCH_A_STATUS_EVENTS_SENT);
	TH_LOG("1000 cgroups: %llu events sent",
	       (unsigned long long)(sent1 - sent0));
	/* At least the up crossings of most of them. */
	EXPECT_LE(500, sent1 - sent0);
}

/* A dumped record, checked as it comes. */
struct check {
	int records, bad;
};

static void check_record(const void *attrs, int len, void *arg)
{
	struct check *c = arg;
	uint64_t live = mw_nla_u64(attrs, len, MEMWATCH_A_PROC_LIVE_BYTES);
	uint64_t local = mw_nla_u64(attrs, len, MEMWATCH_A_PROC_LOCAL_BYTES);
	uint64_t remote = mw_nla_u64(attrs, len, MEMWATCH_A_PROC_REMOTE_BYTES);

	c->records++;
	if (!mw_nla_find(attrs, len, MEMWATCH_A_PROC_PID) ||
	    !mw_nla_find(attrs, len, MEMWATCH_A_PROC_COMM) ||
	    local + remote != live || live > (1ULL << 40))
		c->bad++;
}

TEST_F_TIMEOUT(race, processes_exit_while_they_are_dumped, 300)
{
	struct check c = { 0 };
	pid_t spawner;
	int i, dumps = 300;

	/* Children of 1M, 2 at a time, each gone in a few ms. */
	spawner = fork();
	ASSERT_LE(0, spawner);
	if (!spawner) {
		for (;;) {
			pid_t a = fork(), b;

			if (!a)
				_exit(!mw_alloc_on(MIB, -1));
			b = fork();
			if (!b)
				_exit(!mw_alloc_on(MIB, -1));
			waitpid(a, NULL, 0);
			waitpid(b, NULL, 0);
		}
	}
	for (i = 0; i < dumps; i++)
		ASSERT_EQ(0, mw_nl_dump(self->fd, self->id,
					MEMWATCH_CMD_PROC_GET, NULL, 0,
					check_record, &c, &self->r))
			TH_LOG("dump %d: %s", i, self->r.extack);
	kill(spawner, SIGKILL);
	waitpid(spawner, NULL, 0);
	TH_LOG("%d dumps, %d records", dumps, c.records);
	EXPECT_EQ(0, c.bad);
	EXPECT_LT(dumps, c.records);
}

TEST_HARNESS_MAIN
