// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege: changing policy needs CAP_SYS_ADMIN; a user without it sees
 * its own processes in dumps and none in events (the full "events" group
 * refuses it; "events-public" carries no processes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MAXPIDS 4096

/* What a child saw, in shared memory. */
struct seen {
	int step;		/* how far it got: 0 = all went well */
	int err;
	char extack[256];
	int npids;
	uint32_t pids[MAXPIDS];
	bool event, top, victim;
	uint64_t cgid;
};

FIXTURE(priv) {
	bool was_loaded;
	int fd;
	uint16_t id;
	uint32_t events, public;
	char name[64];
	uint64_t cgid;
	pid_t root_hog, user_hog;
	struct seen *seen;
	struct mw_nl_reply r;
};

/* memwatch_hog holding 16M, as nobody if asked; returns once it holds. */
static pid_t hog(bool nobody)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		char fdarg[16];

		close(p[0]);
		if (nobody && mw_become_nobody())
			_exit(126);
		snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
		execl(mw_hog_path(), "memwatch_hog", "--hold", "16M", "--ready",
		      fdarg, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		if (pid > 0)
			kill(pid, SIGKILL);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

FIXTURE_SETUP(priv)
{

	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	self->fd = mw_nl_open_family(&self->id, &self->events);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mw_nl_group(self->fd, MEMWATCH_GENL_NAME,
				 MEMWATCH_MCGRP_PUBLIC, &self->public));
	snprintf(self->name, sizeof(self->name), "mw-priv-%d", getpid());
	self->cgid = mw_cgroup_make(self->name, "128M");
	ASSERT_NE(0, self->cgid);
	self->seen = mmap(NULL, sizeof(*self->seen), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->seen);
	memset(self->seen, 0, sizeof(*self->seen));
	self->root_hog = hog(false);
	ASSERT_LT(0, self->root_hog);
	self->user_hog = hog(true);
	ASSERT_LT(0, self->user_hog);
}

FIXTURE_TEARDOWN(priv)
{
	kill(self->root_hog, SIGKILL);
	kill(self->user_hog, SIGKILL);
	waitpid(self->root_hog, NULL, 0);
	waitpid(self->user_hog, NULL, 0);
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_cgroup_remove(self->name);
	munmap(self->seen, sizeof(*self->seen));
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

static void collect_pid(const void *attrs, int len, void *arg)
{
	struct seen *s = arg;
	const struct nlattr *a = mw_nla_find(attrs, len, MEMWATCH_A_PROC_PID);

	if (s->npids < MAXPIDS)
		s->pids[s->npids++] = a ? *(const uint32_t *)mw_nla_data(a) : 0;
}

static bool has_pid(const struct seen *s, uint32_t pid)
{
	int i;

	for (i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return true;
	return false;
}

/* PROC_GET, optionally for one pid, into s->pids; 0 or -errno. */
static int dump_pids(int fd, uint16_t id, uint32_t pid, struct seen *s)
{
	static struct mw_nl_reply r;
	char attrs[16];
	size_t len = 0;

	s->npids = 0;
	if (pid)
		mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_PROC_PID, &pid,
			   sizeof(pid));
	return mw_nl_dump(fd, id, MEMWATCH_CMD_PROC_GET, attrs, len,
			  collect_pid, s, &r);
}

/* Run fn(self) in a child as nobody: its result, or -1 if that failed. */
static int as_nobody(int (*fn)(FIXTURE_DATA(priv) *self),
		     FIXTURE_DATA(priv) *self)
{
	int status;
	pid_t pid = fork();

	if (!pid)
		_exit(mw_become_nobody() ? 100 : fn(self));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int nobody_dumps_all(FIXTURE_DATA(priv) *self)
{
	int fd = mw_nl_open();

	if (fd < 0)
		return 1;
	self->seen->err = dump_pids(fd, self->id, 0, self->seen);
	return self->seen->err ? 2 : 0;
}

static int nobody_dumps_roots(FIXTURE_DATA(priv) *self)
{
	int fd = mw_nl_open();

	if (fd < 0 || dump_pids(fd, self->id, self->root_hog, self->seen))
		return 1;
	return 0;
}

TEST_F(priv, unprivileged_dump_shows_only_its_own_processes)
{
	struct seen *s = self->seen;
	int i, status;

	/* Root sees both hogs. */
	ASSERT_EQ(0, dump_pids(self->fd, self->id, 0, s));
	EXPECT_TRUE(has_pid(s, self->root_hog));
	EXPECT_TRUE(has_pid(s, self->user_hog));

	status = as_nobody(nobody_dumps_all, self);
	ASSERT_EQ(0, status);
	TH_LOG("nobody sees %d records", s->npids);
	EXPECT_TRUE(has_pid(s, self->user_hog));
	EXPECT_FALSE(has_pid(s, self->root_hog));
	EXPECT_FALSE(has_pid(s, 0));
	for (i = 0; i < s->npids; i++) {
		char path[32];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/%u", s->pids[i]);
		if (!stat(path, &st))
			EXPECT_NE(0, st.st_uid) TH_LOG("pid %u", s->pids[i]);
	}

	/* Asking for root's process by pid gets nothing either. */
	status = as_nobody(nobody_dumps_roots, self);
	ASSERT_EQ(0, status);
	EXPECT_EQ(0, s->npids);
}

/* POLICY_SET of one notify level at 50% on cgid: 0 or -errno. */
static int set_policy(int fd, uint16_t id, uint64_t cgid,
		      struct mw_nl_reply *r)
{
	return mw_policy_notify_at(fd, id, cgid, 50, r);
}

static int del_policy(int fd, uint16_t id, uint64_t cgid,
		      struct mw_nl_reply *r)
{
	char attrs[16];
	size_t len = 0;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &cgid, sizeof(cgid));
	return mw_nl_xfer(fd, id, MEMWATCH_CMD_POLICY_DEL, 0, attrs, len, r);
}

/* Drop one capability from the effective and permitted sets. */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[cap / 32].effective &= ~(1U << (cap % 32));
	d[cap / 32].permitted &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int nobody_sets_policy(FIXTURE_DATA(priv) *self)
{
	static struct mw_nl_reply r;
	int fd = mw_nl_open();

	if (fd < 0)
		return 1;
	if (set_policy(fd, self->id, self->cgid, &r) != -EPERM)
		return 2;
	if (del_policy(fd, self->id, self->cgid, &r) != -EPERM)
		return 3;
	return 0;
}

TEST_F(priv, changing_policy_needs_cap_sys_admin)
{
	struct seen *s = self->seen;
	int status;

	/* nobody: refused, whatever it asks. */
	EXPECT_EQ(0, as_nobody(nobody_sets_policy, self));

	/* Root without CAP_SYS_ADMIN (CAP_NET_ADMIN kept): refused, and told. */
	status = fork();
	ASSERT_LE(0, status);
	if (!status) {
		static struct mw_nl_reply r;
		int fd;

		if (drop_cap(CAP_SYS_ADMIN))
			_exit(1);
		fd = mw_nl_open();
		if (fd < 0)
			_exit(2);
		s->err = set_policy(fd, self->id, self->cgid, &r);
		snprintf(s->extack, sizeof(s->extack), "%s", r.extack);
		_exit(0);
	}
	ASSERT_EQ(status, waitpid(status, NULL, 0));
	EXPECT_EQ(-EPERM, s->err);
	EXPECT_NE(NULL, strstr(s->extack, "CAP_SYS_ADMIN"))
		TH_LOG("extack: '%s'", s->extack);

	/* Nothing was set; root can. */
	EXPECT_EQ(-ENOENT, del_policy(self->fd, self->id, self->cgid, &self->r));
	EXPECT_EQ(0, set_policy(self->fd, self->id, self->cgid, &self->r));
	EXPECT_EQ(0, del_policy(self->fd, self->id, self->cgid, &self->r));
}

TEST_F_TIMEOUT(priv, events_name_processes_only_to_the_privileged, 180)
{
	struct seen *s = self->seen;
	static char buf[MW_NL_BUFSZ];
	struct mw_sync sync;
	pid_t child, leak;
	int rootfd, len, status;

	ASSERT_EQ(0, set_policy(self->fd, self->id, self->cgid, &self->r));
	rootfd = mw_nl_events_open(self->events);
	ASSERT_LE(0, rootfd);
	ASSERT_EQ(0, mw_sync_init(&sync));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		int fd;

		if (mw_become_nobody())
			_exit(100);
		s->step = 1;
		fd = mw_nl_events_open(self->events);
		if (fd != -EPERM)
			_exit(1);
		s->step = 2;
		fd = mw_nl_events_open(self->public);
		if (fd < 0)
			_exit(2);
		s->step = 3;
		if (!mw_sync_child(&sync))
			_exit(3);
		/* A bound, not a wait: this clock starts before the leak's
		 * (which a loaded or debug kernel makes slow). */
		len = mw_nl_next_of(fd, self->cgid, 60000, buf);
		s->err = len;
		s->event = len > 0;
		if (len > 0) {
			s->top = mw_nla_find(buf, len, MEMWATCH_A_EVENT_TOP);
			s->victim = mw_nla_find(buf, len,
						MEMWATCH_A_EVENT_VICTIM_PID);
			s->cgid = mw_nla_u64(buf, len,
					     MEMWATCH_A_EVENT_CGROUP_ID);
		}
		s->step = 0;
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&sync)) TH_LOG("nobody's step %d", s->step);
	mw_sync_go(&sync);
	/* 80M in the 128M cgroup: over its 50% notify level. */
	leak = fork();
	ASSERT_LE(0, leak);
	if (!leak) {
		if (mw_cgroup_enter(self->name) || !mw_alloc_on(80 << 20, -1))
			_exit(1);
		pause();
		_exit(0);
	}
	len = mw_nl_next_of(rootfd, self->cgid, 60000, buf);
	ASSERT_LT(0, len);
	EXPECT_NE(NULL, mw_nla_find(buf, len, MEMWATCH_A_EVENT_TOP));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	kill(leak, SIGKILL);
	waitpid(leak, NULL, 0);
	close(rootfd);
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("nobody's step %d", s->step);
	EXPECT_TRUE(s->event) TH_LOG("nobody's read: %d", s->err);
	EXPECT_EQ(self->cgid, s->cgid);
	EXPECT_FALSE(s->top);
	EXPECT_FALSE(s->victim);
}

TEST_HARNESS_MAIN
