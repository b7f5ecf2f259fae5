// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup watermarks and their events, on raw netlink sockets: one for
 * commands, one joined to the "events" group.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

/* The harness's limit for a test slow under emulation, in seconds. */
#define MW_SLOW 240

struct ev {
	uint64_t cgid, usage, limit, threshold, ts;
	uint64_t work, built;		/* the stages' stamps */
	int node;			/* -1: no EVENT_NODE */
	uint8_t level, dir, fired;
	uint32_t victim;
	int ntop;
	uint32_t top[8];
	int nwmarks;			/* -1: no EVENT_WMARKS */
	uint64_t thr[MEMWATCH_NR_LEVELS + 1];	/* from EVENT_WMARKS */
};

/* The next event within ms: 1, or 0 on timeout. */
static int next_event(int fd, int ms, struct ev *e)
{
	static char buf[MW_NL_BUFSZ];
	const struct nlattr *top, *p;
	int len = mw_nl_next(fd, MEMWATCH_CMD_EVENT, ms, buf), rem;

	if (len <= 0)
		return 0;
	memset(e, 0, sizeof(*e));
	e->cgid = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_CGROUP_ID);
	e->usage = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_USAGE);
	e->limit = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_LIMIT);
	e->threshold = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_THRESHOLD);
	e->ts = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_TS_NS);
	e->work = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_WORK_NS);
	e->built = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_BUILT_NS);
	e->level = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_LEVEL);
	e->dir = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_DIRECTION);
	e->fired = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_WMARK_FIRED);
	p = mw_nla_find(buf, len, MEMWATCH_A_EVENT_NODE);
	e->node = p ? (int)*(const uint32_t *)mw_nla_data(p) : -1;
	p = mw_nla_find(buf, len, MEMWATCH_A_EVENT_VICTIM_PID);
	e->victim = p ? *(const uint32_t *)mw_nla_data(p) : 0;
	e->nwmarks = -1;
	top = mw_nla_find(buf, len, MEMWATCH_A_EVENT_WMARKS);
	if (top) {
		e->nwmarks = 0;
		mw_nla_for_each(p, mw_nla_data(top), mw_nla_len(top), rem) {
			uint8_t l = mw_nla_u8(mw_nla_data(p), mw_nla_len(p),
					      MEMWATCH_A_WMARK_LEVEL);

			if (l >= 1 && l <= MEMWATCH_NR_LEVELS) {
				e->thr[l] = mw_nla_u64(mw_nla_data(p),
						       mw_nla_len(p),
						       MEMWATCH_A_WMARK_THRESHOLD);
				e->nwmarks++;
			}
		}
	}
	top = mw_nla_find(buf, len, MEMWATCH_A_EVENT_TOP);
	if (!top)
		return 1;
	mw_nla_for_each(p, mw_nla_data(top), mw_nla_len(top), rem) {
		const struct nlattr *pid = mw_nla_find(mw_nla_data(p),
						       mw_nla_len(p),
						       MEMWATCH_A_PROC_PID);

		if (pid && e->ntop < 8)
			e->top[e->ntop++] = *(const uint32_t *)mw_nla_data(pid);
	}
	return 1;
}

FIXTURE(wmark) {
	int fd, evfd;
	uint16_t id;
	bool was_loaded;
	struct mw_nl_reply r;
	char name[64];
	uint64_t cgid;
};

static int policies(struct _test_data_wmark *self);

/* POLICY_SET (cgid 0: none) or, with lp NULL, POLICY_DEL for node. */
static int node_policy(struct _test_data_wmark *self, uint64_t cgid,
		       uint32_t node, int n, const int (*lp)[2])
{
	char attrs[512];
	size_t len = 0;

	if (cgid)
		mw_nla_put(attrs, sizeof(attrs), &len,
			   MEMWATCH_A_POLICY_CGROUP_ID, &cgid, sizeof(cgid));
	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_NODE, &node,
		   sizeof(node));
	if (!lp)
		return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_DEL,
				  0, attrs, len, &self->r);
	mw_put_wmarks(attrs, sizeof(attrs), &len, n, lp);
	return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_SET, 0, attrs,
			  len, &self->r);
}

static int del_node_policy(struct _test_data_wmark *self, uint32_t node)
{
	return node_policy(self, 0, node, 0, NULL);
}

/* POLICY_DEL for cgid: 0 or -errno. */
static int del_policy(struct _test_data_wmark *self, uint64_t cgid)
{
	char attrs[64];
	size_t len = 0;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &cgid, sizeof(cgid));
	return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_DEL, 0,
			  attrs, len, &self->r);
}

FIXTURE_SETUP(wmark)
{
	uint32_t grp;
	int i;

	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	self->fd = mw_nl_open_family(&self->id, &grp);
	ASSERT_LE(0, self->fd);
	self->evfd = mw_nl_events_open(grp);
	ASSERT_LE(0, self->evfd);
	/* The policies of the cgroups earlier tests removed go within ticks. */
	for (i = 0; i < 30 && policies(self); i++)
		usleep(100000);
	ASSERT_EQ(0, policies(self));
	snprintf(self->name, sizeof(self->name), "mw-wmark-%d", getpid());
	self->cgid = mw_cgroup_make(self->name, "128M");
	ASSERT_NE(0, self->cgid);
}

FIXTURE_TEARDOWN(wmark)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	/* A failed host or node test must not leave its policy behind. */
	del_policy(self, 1);
	del_node_policy(self, 1);
	mw_cgroup_remove("mw-wmark-host");
	mw_cgroup_remove(self->name);
	close(self->evfd);
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

/* POLICY_SET for cgid with (level, percent) pairs; 0 or -errno. */
static int set_policy(struct _test_data_wmark *self, uint64_t cgid, int n,
		      const int (*lp)[2])
{
	return mw_policy_set(self->fd, self->id, cgid, n, lp, &self->r);
}

static void count_policy(const void *attrs, int len, void *arg)
{
	(void)attrs;
	(void)len;
	++*(int *)arg;
}

static int policies(struct _test_data_wmark *self)
{
	int n = 0;

	if (mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
		       count_policy, &n, &self->r))
		return -1;
	return n;
}

/* A child in the cgroup that allocates in steps, then frees in steps. */
static pid_t stepper(const char *cgroup, struct mw_sync *s, size_t step,
		     int steps)
{
	pid_t pid = fork();
	char *p[64];
	int i;

	if (pid)
		return pid;
	if (mw_cgroup_enter(cgroup))
		_exit(10);
	for (i = 0; i < steps; i++) {
		p[i] = mw_alloc_on(step, -1);
		if (!p[i])
			_exit(11);
		usleep(20000);
	}
	if (!mw_sync_child(s))
		_exit(0);
	while (i--) {
		munmap(p[i], step);
		usleep(20000);
	}
	mw_sync_child(s);
	_exit(0);
}

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

TEST_F(wmark, kernel_oom_kill_is_an_event)
{
	static const int levels[][2] = { { 1, 50 } };
	bool notified = false, oom = false;
	char path[256];
	int status, i;
	struct ev e;
	pid_t child;

	ASSERT_EQ(0, mw_cgroup_remove(self->name));
	self->cgid = mw_cgroup_make(self->name, "32M");
	ASSERT_NE(0, self->cgid);
	/* With swap (the host profile) the child would swap, not be killed. */
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.swap.max",
		 self->name);
	ASSERT_EQ(0, mw_write(path, "0"));
	ASSERT_EQ(0, set_policy(self, self->cgid, 1, levels));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (mw_cgroup_enter(self->name))
			_exit(10);
		mw_alloc_on(64 * MIB, -1);	/* the OOM killer stops this */
		_exit(11);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (i = 0; i < 10 && !oom && next_event(self->evfd, 2000, &e); i++) {
		if (e.level == MEMWATCH_LEVEL_NOTIFY &&
		    e.dir == MEMWATCH_DIR_UP)
			notified = true;
		if (e.level == MEMWATCH_LEVEL_OOM) {
			oom = true;
			EXPECT_EQ(self->cgid, e.cgid);
			EXPECT_EQ((uint32_t)child, e.victim);
			EXPECT_EQ(1, e.fired);
			EXPECT_EQ(32 * MIB, e.limit);
			/* Not a crossing: no levels. */
			EXPECT_EQ(-1, e.nwmarks);
		}
	}
	EXPECT_TRUE(notified);
	EXPECT_TRUE(oom);
}

/* MemTotal and MemAvailable from /proc/meminfo, in bytes. */
static void meminfo(uint64_t *total, uint64_t *avail)
{
	unsigned long long v;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	*total = *avail = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			*total = v << 10;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			*avail = v << 10;
	}
	fclose(f);
}

/*
 * The host's usage (MemTotal - MemAvailable) once it holds still: the
 * memory of what the tests before ended (an OOM victim's, reaped by the
 * kernel meanwhile) is given back first, or a level set 100 MiB over the
 * usage read while it was going is more than 100 MiB away. At most 10 s.
 */
static uint64_t host_usage_settled(uint64_t *total)
{
	uint64_t avail, a, b = 0;
	int i;

	for (i = 0; i < 20; i++) {
		meminfo(total, &avail);
		a = *total - avail;
		if (i && (a > b ? a - b : b - a) < 4 * MIB)
			break;
		b = a;
		usleep(500000);
	}
	return a;
}

/*
 * A policy on the root cgroup is the whole host: usage is MemTotal less
 * MemAvailable, the limit MemTotal. A process in a cgroup with no limit
 * takes it over a level 100 MiB above where the host is, and back.
 */
TEST_F_TIMEOUT(wmark, root_policy_watches_the_whole_host, 180)
{
	const char *cg = "mw-wmark-host";
	uint64_t total, avail, host, root = 1;
	uint64_t t0;
	struct mw_sync s;
	struct ev e;
	pid_t child;
	int level[1][2] = { { 1, 0 } };
	int k, set, got, st;

	host = host_usage_settled(&total);
	ASSERT_LT(host, total);
	level[0][1] = (int)((host + 100 * MIB) * 100 / total) + 1;
	ASSERT_GT(90, level[0][1]) TH_LOG("the host is too full already");
	ASSERT_NE(0, mw_cgroup_make(cg, "max"));
	set = set_policy(self, root, 1, level);
	ASSERT_EQ(0, set) TH_LOG("%s", self->r.extack);
	/* The dump shows it with the host's figures. */
	ASSERT_EQ(1, policies(self));

	ASSERT_EQ(0, mw_sync_init(&s));
	t0 = mw_now_ms();
	child = stepper(cg, &s, 5 * MIB, 60);	/* 300 MiB */
	ASSERT_LT(0, child);
	/*
	 * The child takes 300 MiB in 60 steps of 20 ms, the crossing comes
	 * at 100 to 120 MiB of it; under emulation with a second guest
	 * beside it that took over 10 s once (CI, kprobe mode): a minute.
	 */
	got = next_event(self->evfd, 60000, &e);
	if (!got) {
		meminfo(&total, &avail);
		TH_LOG("no up event in %llu ms: the host's usage %llu MiB, %llu MiB at the start, the level at %d%% of %llu MiB; the child %s",
		       (unsigned long long)(mw_now_ms() - t0),
		       (unsigned long long)((total - avail) / MIB),
		       (unsigned long long)(host / MIB), level[0][1],
		       (unsigned long long)(total / MIB),
		       waitpid(child, &st, WNOHANG) ? "has ended" : "runs");
	}
	ASSERT_EQ(1, got);
	fprintf(stderr, "# up event after %llu ms\n",
		(unsigned long long)(mw_now_ms() - t0));
	EXPECT_EQ(root, e.cgid);
	EXPECT_EQ(MEMWATCH_DIR_UP, e.dir);
	EXPECT_EQ(1, e.level);
	/* MemTotal is totalram in kB: the limit, exactly. */
	EXPECT_EQ(total, e.limit);
	EXPECT_EQ((total >> 12) * level[0][1] / 100 << 12, e.threshold);
	EXPECT_LE(e.threshold, e.usage);
	EXPECT_GT(e.threshold + 64 * MIB, e.usage);
	for (k = 0; k < e.ntop && e.top[k] != (uint32_t)child; k++)
		;
	EXPECT_LT(k, e.ntop) TH_LOG("the child is not among the offenders");
	ASSERT_TRUE(mw_sync_wait(&s));
	mw_sync_go(&s);
	ASSERT_EQ(1, next_event(self->evfd, 10000, &e)) TH_LOG("no down event");
	EXPECT_EQ(root, e.cgid);
	EXPECT_EQ(MEMWATCH_DIR_DOWN, e.dir);
	EXPECT_GT(e.threshold, e.usage);
	ASSERT_TRUE(mw_sync_wait(&s));
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
	EXPECT_EQ(0, del_policy(self, root));
}

/* The usage and limit the dump gives a node's policy (else left 0). */
static void node_usage_of(const void *attrs, int len, void *arg)
{
	uint64_t *ul = arg;

	if (!mw_nla_find(attrs, len, MEMWATCH_A_POLICY_NODE))
		return;
	ul[0] = mw_nla_u64(attrs, len, MEMWATCH_A_POLICY_USAGE);
	ul[1] = mw_nla_u64(attrs, len, MEMWATCH_A_POLICY_LIMIT);
}

/* Node nid's MemTotal and MemFree (its sysfs meminfo), in bytes. */
static void node_meminfo(int nid, uint64_t *total, uint64_t *free)
{
	unsigned long long v;
	char path[96], line[160];
	FILE *f;
	int n;

	*total = *free = 0;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d MemTotal: %llu kB", &n, &v) == 2)
			*total = v << 10;
		else if (sscanf(line, "Node %d MemFree: %llu kB", &n, &v) == 2)
			*free = v << 10;
	}
	fclose(f);
}

/*
 * A NUMA node's policy: a child binds 200 MiB to node 1, 100 MiB past
 * where the node is; the up event names node 1 (cgroup 1, the host) and
 * the child as the top offender on it, and freeing brings the down event.
 * Bad node requests are refused with a message and change nothing.
 */
TEST_F(wmark, node_policy_names_the_node_and_its_offenders)
{
	static const int fine[][2] = { { 1, 50 } };
	uint64_t total, free, ul[2] = { 0, 0 }, now[2] = { 0, 0 };
	int level[1][2] = { { 1, 0 } };
	struct mw_sync s;
	int k, got, before;
	struct ev e;
	pid_t child;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: memwatch's guest has two");
	before = policies(self);
	EXPECT_EQ(-EINVAL, node_policy(self, 0, 4000, 1, fine));
	EXPECT_NE(NULL, strstr(self->r.extack, "node"));
	EXPECT_EQ(-EINVAL, node_policy(self, self->cgid, 1, 1, fine));
	EXPECT_NE(NULL, strstr(self->r.extack, "host"));
	EXPECT_EQ(-ENOENT, del_node_policy(self, 1));
	EXPECT_NE(0, strlen(self->r.extack));
	EXPECT_EQ(before, policies(self));

	node_meminfo(1, &total, &free);
	ASSERT_LT(400 * MIB, free) TH_LOG("node 1 has %lu MiB free",
					  (unsigned long)(free / MIB));
	/* Where node 1 is by the module's measure, from a policy at 99%. */
	level[0][1] = 99;
	ASSERT_EQ(0, node_policy(self, 1, 1, 1, level))
		TH_LOG("%s", self->r.extack);
	ASSERT_EQ(before + 1, policies(self));
	/*
	 * Memory the tests before freed can still be on its way back to
	 * the node: take the usage once two readings 200 ms apart agree
	 * within 4 MiB (or after 5 s), so the level is 100 MiB over where
	 * the node stays. The child takes 300 MiB: 200 over the level, as
	 * a process of the test before that had not run for 200 ms (two
	 * guests on 2 cores) can free up to 100 MiB after the readings
	 * agreed (7.2, kprobe mode: the node rose 102 MiB for a 200 MiB
	 * child).
	 */
	for (k = 0; k < 25; k++) {
		uint64_t prev = ul[0];

		ASSERT_EQ(0, mw_nl_dump(self->fd, self->id,
					MEMWATCH_CMD_POLICY_GET, NULL, 0,
					node_usage_of, ul, &self->r));
		if (k && ul[0] < prev + 4 * MIB && prev < ul[0] + 4 * MIB)
			break;
		usleep(200000);
	}
	ASSERT_LT(0, ul[1]);
	/* The node's managed memory: its MemTotal in sysfs. */
	EXPECT_EQ(total, ul[1]);
	level[0][1] = (int)((ul[0] + 100 * MIB) * 100 / ul[1]) + 1;
	ASSERT_EQ(0, node_policy(self, 1, 1, 1, level))
		TH_LOG("%s", self->r.extack);
	ASSERT_EQ(before + 1, policies(self));
	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		void *m = mw_alloc_on(300 * MIB, 1);

		if (!m || !mw_sync_child(&s))
			_exit(10);
		munmap(m, 300 * MIB);
		mw_sync_child(&s);
		_exit(0);
	}
	got = next_event(self->evfd, 10000, &e);
	if (got != 1) {
		/* Where the node is now, by the module's measure and sysfs. */
		mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
			   node_usage_of, now, &self->r);
		node_meminfo(1, &total, &free);
		mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0, NULL, 0,
			   &self->r);
	}
	ASSERT_EQ(1, got)
		TH_LOG("no up event: level %d%% of %lu MiB; node 1 was at %lu MiB, is at %lu MiB, %lu MiB free; events sent %llu, dropped %llu",
		       level[0][1], (unsigned long)(ul[1] / MIB),
		       (unsigned long)(ul[0] / MIB),
		       (unsigned long)(now[0] / MIB),
		       (unsigned long)(free / MIB),
		       (unsigned long long)mw_nla_u64(self->r.attrs, self->r.len,
						      MEMWATCH_A_STATUS_EVENTS_SENT),
		       (unsigned long long)mw_nla_u64(self->r.attrs, self->r.len,
						      MEMWATCH_A_STATUS_EVENTS_DROPPED));
	EXPECT_EQ(1, e.cgid);
	EXPECT_EQ(1, e.node);
	EXPECT_EQ(MEMWATCH_DIR_UP, e.dir);
	EXPECT_LE(e.threshold, e.usage);
	for (k = 0; k < e.ntop && e.top[k] != (uint32_t)child; k++)
		;
	EXPECT_LT(k, e.ntop) TH_LOG("the child is not among node 1's offenders");
	ASSERT_TRUE(mw_sync_wait(&s));
	mw_sync_go(&s);
	ASSERT_EQ(1, next_event(self->evfd, 10000, &e)) TH_LOG("no down event");
	EXPECT_EQ(1, e.node);
	EXPECT_EQ(MEMWATCH_DIR_DOWN, e.dir);
	ASSERT_TRUE(mw_sync_wait(&s));
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
	EXPECT_EQ(0, del_node_policy(self, 1));
	EXPECT_EQ(before, policies(self));
}

TEST_HARNESS_MAIN
