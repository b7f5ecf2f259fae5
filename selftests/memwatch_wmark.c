// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup watermarks and their events, on raw netlink sockets: one for
 * commands, one joined to the "events" group. Watermarks beyond one
 * cgroup (the OOM kill, the host's, a node's): memwatch_wmark_host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_wmark.h"

/* The harness's limit for a test slow under emulation, in seconds. */
#define MW_SLOW 240

MW_FIXTURE(wmark);

TEST_F(wmark, three_levels_up_then_down_in_order)
{
	static const int levels[][2] = { { 1, 25 }, { 2, 50 }, { 3, 75 } };
	static const int want[][2] = {
		{ 1, MEMWATCH_DIR_UP }, { 2, MEMWATCH_DIR_UP },
		{ 3, MEMWATCH_DIR_UP }, { 3, MEMWATCH_DIR_DOWN },
		{ 2, MEMWATCH_DIR_DOWN }, { 1, MEMWATCH_DIR_DOWN },
	};
	uint64_t last_ts = 0;
	struct mw_sync s;
	struct ev e;
	pid_t child;
	int i, k;

	ASSERT_EQ(0, set_policy(self, self->cgid, 3, levels))
		TH_LOG("%s", self->r.extack);
	ASSERT_EQ(0, mw_sync_init(&s));
	child = stepper(self->name, &s, 5 * MIB, 22);	/* 110 MiB */
	ASSERT_LT(0, child);
	for (i = 0; i < 6; i++) {
		if (i == 3) {
			/* All three up: now free. */
			ASSERT_TRUE(mw_sync_wait(&s));
			mw_sync_go(&s);
		}
		/*
		 * 20 s: under hooks=kprobe every charge traps, and beside a
		 * second guest on 2 cores the 32 MiB between two levels once
		 * took over 5 s.
		 */
		ASSERT_EQ(1, next_event(self->evfd, 20000, &e))
			TH_LOG("event %d did not come", i);
		EXPECT_EQ(self->cgid, e.cgid);
		EXPECT_EQ(want[i][0], e.level) TH_LOG("event %d", i);
		EXPECT_EQ(want[i][1], e.dir) TH_LOG("event %d", i);
		EXPECT_EQ(128 * MIB, e.limit);
		EXPECT_EQ(128 * MIB * levels[e.level - 1][1] / 100, e.threshold);
		/* Every level of the policy comes with each crossing. */
		EXPECT_EQ(3, e.nwmarks) TH_LOG("event %d", i);
		for (k = 0; k < 3; k++)
			EXPECT_EQ(128 * MIB * levels[k][1] / 100,
				  e.thr[levels[k][0]]);
		if (e.dir == MEMWATCH_DIR_UP) {
			EXPECT_LE(e.threshold, e.usage);
			/* The offender heads the event's top list. */
			for (k = 0; k < e.ntop && e.top[k] != (uint32_t)child; k++)
				;
			EXPECT_LT(k, e.ntop) TH_LOG("child not in top");
		} else {
			EXPECT_GT(e.threshold, e.usage);
		}
		EXPECT_LE(last_ts, e.ts);
		last_ts = e.ts;
		/* Each stage's stamp, in the order of the stages. */
		EXPECT_LE(e.ts, e.work) TH_LOG("event %d", i);
		EXPECT_LE(e.work, e.built) TH_LOG("event %d", i);
		EXPECT_LT(0, e.work) TH_LOG("event %d: no WORK_NS", i);
	}
	ASSERT_TRUE(mw_sync_wait(&s));
	/* Nothing more. */
	EXPECT_EQ(0, next_event(self->evfd, 500, &e));
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
}

/*
 * The processes an event names come from the worker's ranking of the
 * policy's subtree, not from a scan at the event: the one holding the
 * most heads the list though another's charge crossed the level, the
 * charger is in it, and a bigger process in a sibling cgroup is not.
 */
/* Three children stepping up: slow beside a second guest. */
TEST_F_TIMEOUT(wmark, event_names_the_biggest_holder_not_only_the_charger,
	       MW_SLOW)
{
	static const int levels[][2] = { { 1, 55 } };	/* 70.4M of 128M */
	struct mw_sync sa, sb, sc;
	pid_t holder, charger, outsider;
	char sib[96];
	struct ev e;
	int k;

	snprintf(sib, sizeof(sib), "%s-sib", self->name);
	ASSERT_NE(0, mw_cgroup_make(sib, "256M"));
	ASSERT_EQ(0, mw_sync_init(&sa));
	ASSERT_EQ(0, mw_sync_init(&sb));
	ASSERT_EQ(0, mw_sync_init(&sc));
	holder = stepper(self->name, &sa, 6 * MIB, 10);		/* 60M */
	ASSERT_LT(0, holder);
	outsider = stepper(sib, &sc, 10 * MIB, 10);		/* 100M */
	ASSERT_LT(0, outsider);
	ASSERT_TRUE(mw_sync_wait(&sa));
	ASSERT_TRUE(mw_sync_wait(&sc));
	ASSERT_EQ(0, set_policy(self, self->cgid, 1, levels))
		TH_LOG("%s", self->r.extack);
	usleep(500000);		/* a tick or two: ranked */
	/* Under the level yet: the crossing must be the charger's. */
	ASSERT_EQ(0, next_event(self->evfd, 0, &e))
		TH_LOG("an event before the charger: usage %.1fM over %.1fM",
		       e.usage / 1048576.0, e.threshold / 1048576.0);
	charger = stepper(self->name, &sb, 1 * MIB, 20);	/* to 80M */
	ASSERT_LT(0, charger);
	ASSERT_EQ(1, next_event(self->evfd, 10000, &e)) TH_LOG("no event");
	EXPECT_EQ(self->cgid, e.cgid);
	EXPECT_EQ(MEMWATCH_DIR_UP, e.dir);
	ASSERT_LT(0, e.ntop);
	EXPECT_EQ((uint32_t)holder, e.top[0])
		TH_LOG("the top list starts with %u, not the holder %d",
		       e.top[0], holder);
	for (k = 0; k < e.ntop && e.top[k] != (uint32_t)charger; k++)
		;
	EXPECT_LT(k, e.ntop)
		TH_LOG("the charger %d is not named: %d named, first %u; usage %.1fM at the event, over %.1fM",
		       charger, e.ntop, e.ntop ? e.top[0] : 0,
		       e.usage / 1048576.0, e.threshold / 1048576.0);
	for (k = 0; k < e.ntop; k++)
		EXPECT_NE((uint32_t)outsider, e.top[k])
			TH_LOG("a process of another cgroup is named");
	ASSERT_TRUE(mw_sync_wait(&sb));
	kill(holder, SIGKILL);
	kill(charger, SIGKILL);
	kill(outsider, SIGKILL);
	waitpid(holder, NULL, 0);
	waitpid(charger, NULL, 0);
	waitpid(outsider, NULL, 0);
	EXPECT_EQ(0, mw_cgroup_remove(sib));
}

TEST_F(wmark, wobble_around_a_level_is_one_event)
{
	static const int levels[][2] = { { 1, 50 } };
	struct mw_sync s;
	struct ev e;
	pid_t child;
	int ups = 0, downs = 0;

	ASSERT_EQ(0, set_policy(self, self->cgid, 1, levels));
	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (mw_cgroup_enter(self->name) || !mw_alloc_on(63 * MIB, -1))
			_exit(10);
		/* 63 MiB + 2 MiB crosses 64 MiB; back to 63, 20 times. */
		for (int i = 0; i < 20; i++) {
			void *p = mw_alloc_on(2 * MIB, -1);

			if (!p)
				_exit(11);
			usleep(30000);
			munmap(p, 2 * MIB);
			usleep(30000);
		}
		mw_sync_child(&s);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&s));
	while (next_event(self->evfd, 1000, &e)) {
		ups += e.dir == MEMWATCH_DIR_UP;
		downs += e.dir == MEMWATCH_DIR_DOWN;
	}
	EXPECT_EQ(1, ups);
	EXPECT_EQ(0, downs);
	/* Leaving for good is one down event. */
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
	ASSERT_EQ(1, next_event(self->evfd, 3000, &e));
	EXPECT_EQ(MEMWATCH_DIR_DOWN, e.dir);
	EXPECT_EQ(0, next_event(self->evfd, 500, &e));
}

TEST_F(wmark, removing_the_cgroup_drops_its_policy)
{
	static const int levels[][2] = { { 1, 50 } };
	int before = policies(self), i;

	ASSERT_LE(0, before);
	ASSERT_EQ(0, set_policy(self, self->cgid, 1, levels));
	EXPECT_EQ(before + 1, policies(self));
	ASSERT_EQ(0, mw_cgroup_remove(self->name));
	for (i = 0; i < 20 && policies(self) != before; i++)
		usleep(100000);
	EXPECT_EQ(before, policies(self));
}

/* The cgroup ids a POLICY_GET dump gave. */
struct ids {
	int n;
	uint64_t v[1024];
};

static void add_id(const void *attrs, int len, void *arg)
{
	struct ids *seen = arg;

	if (seen->n < 1024)
		seen->v[seen->n++] = mw_nla_u64(attrs, len,
						MEMWATCH_A_POLICY_CGROUP_ID);
}

static int count_id(const struct ids *seen, uint64_t id)
{
	int i, n = 0;

	for (i = 0; i < seen->n; i++)
		n += seen->v[i] == id;
	return n;
}

/* POLICY_GET, of one cgroup if id: 0 or -errno. */
static int policy_ids(struct _test_data_wmark *self, const uint64_t *id,
		      struct ids *seen)
{
	char attrs[32];
	size_t len = 0;

	seen->n = 0;
	if (id)
		mw_nla_put(attrs, sizeof(attrs), &len,
			   MEMWATCH_A_POLICY_CGROUP_ID, id, sizeof(*id));
	return mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, attrs,
			  len, add_id, seen, &self->r);
}

TEST_F(wmark, two_hundred_cgroups_at_once)
{
	static const int levels[][2] = { { 1, 40 }, { 5, 90 } };
	char name[96], parent[80], ctl[128];
	int i, k, before = policies(self);
	static struct ids seen;
	uint64_t ids[200], parent_id;
	bool intr = false;
	pid_t churn;

	snprintf(parent, sizeof(parent), "%s/many", self->name);
	ASSERT_NE(0, mw_cgroup_make(parent, NULL));
	/* The memory controller down to the 200. */
	for (i = 0; i < 2; i++) {
		snprintf(ctl, sizeof(ctl),
			 "/sys/fs/cgroup/%s/cgroup.subtree_control",
			 i ? parent : self->name);
		ASSERT_EQ(0, mw_write(ctl, "+memory"));
	}
	for (i = 0; i < 200; i++) {
		uint64_t id;

		snprintf(name, sizeof(name), "%s/c%d", parent, i);
		id = mw_cgroup_make(name, "64M");
		ASSERT_NE(0, id);
		ASSERT_EQ(0, set_policy(self, id, 2, levels))
			TH_LOG("cgroup %d: %s", i, self->r.extack);
		ids[i] = id;
	}
	/* The parent has no policy of its own. */
	parent_id = mw_cgroup_make(parent, NULL);
	EXPECT_EQ(before + 200, policies(self));
	/*
	 * The dump takes several messages' worth, resumed by key: every
	 * policy exactly once, and nothing changed meanwhile, so not
	 * NLM_F_DUMP_INTR.
	 */
	EXPECT_EQ(0, policy_ids(self, NULL, &seen));
	EXPECT_FALSE(self->r.intr);
	for (i = 0; i < 200; i++)
		EXPECT_EQ(1, count_id(&seen, ids[i])) TH_LOG("cgroup %d", i);
	/* A cgroup's alone: that one, once. */
	EXPECT_EQ(0, policy_ids(self, &ids[7], &seen));
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(1, count_id(&seen, ids[7]));
	/* A cgroup without a policy: -ENOENT, said. */
	EXPECT_EQ(-ENOENT, policy_ids(self, &parent_id, &seen));
	EXPECT_NE(NULL, strstr(self->r.extack, "this cgroup has no policy"))
		TH_LOG("extack: '%s'", self->r.extack);
	/*
	 * Policies set and removed while dumps run (on a socket of the
	 * child's own): some dump says so (NLM_F_DUMP_INTR); one that does
	 * not gives every other policy exactly once.
	 */
	churn = fork();
	ASSERT_LE(0, churn);
	if (!churn) {
		self->fd = mw_nl_open();
		for (;;) {
			set_policy(self, ids[0], 2, levels);
			del_policy(self, ids[0]);
		}
	}
	for (i = 0; i < 200 && !intr; i++) {
		if (policy_ids(self, NULL, &seen))
			continue;
		intr = self->r.intr;
		for (k = 1; k < 200 && !intr; k++)
			EXPECT_EQ(1, count_id(&seen, ids[k]))
				TH_LOG("dump %d, cgroup %d", i, k);
	}
	kill(churn, SIGKILL);
	waitpid(churn, NULL, 0);
	EXPECT_TRUE(intr) TH_LOG("%d dumps beside the changes, none marked", i);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "%s/c%d", parent, i);
		EXPECT_EQ(0, mw_cgroup_remove(name));
	}
	EXPECT_EQ(0, mw_cgroup_remove(parent));
	for (i = 0; i < 30 && policies(self) != before; i++)
		usleep(100000);
	EXPECT_EQ(before, policies(self));
}

TEST_F(wmark, bad_inputs_get_errno_and_message)
{
	static const int over[][2] = { { 1, 101 } };
	static const int order[][2] = { { 1, 60 }, { 2, 50 } };
	static const int nolevel[][2] = { { 9, 50 } };
	static const int twice[][2] = { { 1, 10 }, { 1, 20 } };
	static const int fine[][2] = { { 1, 50 } };
	int before = policies(self), status;
	char attrs[64];
	size_t len;
	pid_t pid;

	EXPECT_EQ(-ENOENT, set_policy(self, 0xdeadbeefULL, 1, fine));
	EXPECT_NE(0, strlen(self->r.extack));
	EXPECT_EQ(-EINVAL, set_policy(self, self->cgid, 1, over));
	EXPECT_NE(NULL, strstr(self->r.extack, "percentage"));
	EXPECT_EQ(-EINVAL, set_policy(self, self->cgid, 2, order));
	EXPECT_NE(NULL, strstr(self->r.extack, "order"));
	EXPECT_EQ(-EINVAL, set_policy(self, self->cgid, 1, nolevel));
	EXPECT_NE(0, strlen(self->r.extack));
	EXPECT_EQ(-EINVAL, set_policy(self, self->cgid, 2, twice));
	EXPECT_NE(0, strlen(self->r.extack));
	EXPECT_EQ(-EINVAL, set_policy(self, self->cgid, 0, fine));
	EXPECT_NE(0, strlen(self->r.extack));
	/* Clearing what is not there. */
	len = 0;
	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &self->cgid, sizeof(self->cgid));
	EXPECT_EQ(-ENOENT, mw_nl_xfer(self->fd, self->id,
				      MEMWATCH_CMD_POLICY_DEL, 0, attrs, len,
				      &self->r));
	EXPECT_NE(0, strlen(self->r.extack));
	/* Nothing was changed by any of it. */
	EXPECT_EQ(before, policies(self));

	/* An unprivileged caller may list, not set. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint32_t version, grp;

		if (mw_become_nobody())
			_exit(2);
		self->fd = mw_nl_open();
		if (self->fd < 0 ||
		    mw_nl_family(self->fd, MEMWATCH_GENL_NAME, &self->id,
				 &version, &grp))
			_exit(3);
		if (set_policy(self, self->cgid, 1, fine) != -EPERM)
			_exit(4);
		_exit(policies(self) == before ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(before, policies(self));
}

TEST_HARNESS_MAIN
