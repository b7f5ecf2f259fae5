// SPDX-License-Identifier: GPL-2.0
/*
 * Every table memwatch keeps has a ceiling (a module parameter) and says
 * so at it: the policy table refuses with -ENOSPC and a message; the event
 * queue drops and counts. STATUS reports each table's entries, capacity
 * and overflows. The process table's overflow record is tested in
 * memwatch_track (full_table_overflows); the page table has an entry for
 * every page frame and cannot fill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

FIXTURE(limits) {
	int fd;
	uint16_t id;
	char name[64];
	struct mw_nl_reply r;
};

/* Reload memwatch with params and reconnect. */
static int reload(FIXTURE_DATA(limits) *self, const char *params)
{
	return mw_reload_open(&self->fd, params, &self->id, NULL);
}

FIXTURE_SETUP(limits)
{
	self->fd = -1;
	snprintf(self->name, sizeof(self->name), "mw-limits-%d", getpid());
	ASSERT_NE(0, mw_cgroup_make(self->name, NULL));
}

FIXTURE_TEARDOWN(limits)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	if (self->fd >= 0)
		close(self->fd);
	mw_cgroup_remove(self->name);
	/* Back to the defaults for whoever comes next. */
	mw_module_ensure(false);
	mw_module_load("");
}

/* n child cgroups of the test's, the memory controller enabled for them. */
static int children(FIXTURE_DATA(limits) *self, int n, uint64_t *ids)
{
	char path[128];
	int i;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.subtree_control",
		 self->name);
	if (mw_write(path, "+memory"))
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/c%d", self->name, i);
		ids[i] = mw_cgroup_make(path, NULL);
		if (!ids[i])
			return -1;
	}
	return 0;
}

TEST_F(limits, full_policy_table_is_enospc_with_a_message)
{
	struct mw_table t;
	uint64_t ids[5];
	int i;

	ASSERT_EQ(0, reload(self, "max_policies=4"));
	ASSERT_EQ(0, children(self, 5, ids));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, mw_policy_notify_at(self->fd, self->id,
						ids[i], 50, &self->r));
	EXPECT_EQ(-ENOSPC, mw_policy_notify_at(self->fd, self->id,
					ids[4], 50, &self->r));
	EXPECT_NE(NULL, strstr(self->r.extack, "full"))
		TH_LOG("extack: '%s'", self->r.extack);
	/* A policy that is there can still be replaced. */
	EXPECT_EQ(0, mw_policy_notify_at(self->fd, self->id,
					ids[0], 60, &self->r));
	ASSERT_EQ(0, mw_status_table(self->fd, self->id, "policies", &t, &self->r));
	EXPECT_EQ(4, t.entries);
	EXPECT_EQ(4, t.capacity);
	EXPECT_EQ(1, t.overflows);
}

TEST_F(limits, full_event_queue_drops_and_counts)
{
	enum { N = 64 };
	char path[128], max[32];
	struct mw_table t;
	uint64_t ids[N];
	pid_t kids[N];
	struct mw_sync s;
	int i;

	ASSERT_EQ(0, reload(self, "max_events=4"));
	ASSERT_EQ(0, mw_status_table(self->fd, self->id, "events", &t, &self->r));
	EXPECT_EQ(4, t.capacity);
	EXPECT_EQ(0, t.overflows);
	ASSERT_EQ(0, children(self, N, ids));
	/* 4M in each child; the parent's limit 1G, so 2% is 20M: under. */
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.max", self->name);
	ASSERT_EQ(0, mw_write(path, "1G"));
	ASSERT_EQ(0, mw_sync_init(&s));
	for (i = 0; i < N; i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s/c%d", self->name, i);
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i]) {
			if (mw_cgroup_enter(name) || !mw_alloc_on(4 * MIB, -1))
				_exit(1);
			mw_sync_child(&s);
			pause();
			_exit(0);
		}
		ASSERT_TRUE(mw_sync_wait(&s));
		ASSERT_EQ(0, mw_policy_notify_at(self->fd, self->id,
						ids[i], 2, &self->r));
	}
	/* 100M: all 64 are over 2% (2M) in the same tick of the checker. */
	snprintf(max, sizeof(max), "%lu", 100 * MIB);
	ASSERT_EQ(0, mw_write(path, max));
	for (i = 0; i < 20; i++) {
		usleep(100000);
		ASSERT_EQ(0, mw_status_table(self->fd, self->id, "events", &t, &self->r));
		if (t.overflows)
			break;
	}
	TH_LOG("%u queued, %llu dropped", t.entries,
	       (unsigned long long)t.overflows);
	EXPECT_LT(0, t.overflows);
	EXPECT_GE(N, t.overflows);
	EXPECT_EQ(t.overflows, mw_nla_u64(self->r.attrs, self->r.len,
					  MEMWATCH_A_STATUS_EVENTS_DROPPED));
	for (i = 0; i < N; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
}

TEST_HARNESS_MAIN
