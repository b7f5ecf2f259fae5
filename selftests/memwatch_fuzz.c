// SPDX-License-Identifier: GPL-2.0
/*
 * The memwatch family under hostile input: random and mutated generic
 * netlink messages, as root and as an unprivileged user, and dumps left
 * half-read. Every reply must be an ACK or an errno the protocol names,
 * with an extack message wherever the family could give one; messages the
 * kernel rejects must change no policy; the kernel log must stay clean
 * (vm-run checks it after the suite). The engine that builds, sends and
 * checks the messages is memwatch_fuzzer.c; here are the fixture and the
 * tests.
 *
 * MEMWATCH_FUZZ_SEED picks the seed (it is printed, so a failure can be
 * replayed); MEMWATCH_FUZZ_N scales the message counts (default 1.0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_fuzzer.h"
#include "memwatch_util.h"

#define ROOT_MESSAGES 70000
#define USER_MESSAGES 30000

static void fuzz_report(struct __test_metadata *_metadata, struct fuzz *f,
			const char *who)
{
	char line[512];
	size_t n = 0;
	unsigned int e;

	for (e = 0; e < sizeof(f->errnos) / sizeof(f->errnos[0]); e++) {
		const char *name = e ? strerrorname_np(e) : "ok";

		if (f->errnos[e] && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, " %s:%lu",
				      name ? name : "other", f->errnos[e]);
	}
	TH_LOG("%s: %lu messages, %lu dumps to the end, %lu left half-read, %lu records, %lu policy changes accepted; extack messages on %lu errors;%s",
	       who, f->sent, f->dumped, f->interrupted, f->records, f->changes,
	       f->with_msg, line);
}

FIXTURE(fuzz) {
	bool was_loaded;
	char name[64];
	struct fuzz f;
	char before[8192];
};

FIXTURE_SETUP(fuzz)
{
	uint32_t version, grp;
	struct msg *m;
	const char *s;

	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	snprintf(self->name, sizeof(self->name), "mw-fuzz-%d", getpid());
	self->f.cgid = mw_cgroup_make(self->name, "256M");
	ASSERT_NE(0, self->f.cgid);
	self->f.fd = fuzz_open_socket();
	ASSERT_LE(0, self->f.fd);
	ASSERT_EQ(0, mw_nl_family(self->f.fd, MEMWATCH_GENL_NAME,
				  &self->f.family, &version, &grp));
	self->f.rng = fuzz_seed() | 1;
	TH_LOG("seed %#llx (MEMWATCH_FUZZ_SEED replays it)",
	       (unsigned long long)self->f.rng);
	/* A policy to keep or lose, set the ordinary way. */
	m = malloc(sizeof(*m));
	ASSERT_NE(NULL, m);
	self->f.root = true;
	do
		fuzz_valid_message(&self->f, m);
	while (((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->cmd !=
	       MEMWATCH_CMD_POLICY_SET);
	ASSERT_EQ(0, fuzz_exchange(&self->f, self->f.fd, m, &s, false));
	free(m);
	ASSERT_EQ(0, fuzz_snapshot(&self->f, self->before));
	/* A root process holding memory, for the unprivileged dumps. */
	self->f.hidden = fork();
	ASSERT_LE(0, self->f.hidden);
	if (!self->f.hidden) {
		execl(mw_hog_path(), "memwatch_hog", "--hold", "16M", (char *)NULL);
		_exit(127);
	}
	memset(self->f.errnos, 0, sizeof(self->f.errnos));
	self->f.sent = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
	kill(self->f.hidden, SIGKILL);
	waitpid(self->f.hidden, NULL, 0);
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	close(self->f.fd);
	/* What fuzzing set goes with the module. */
	mw_module_ensure(false);
	mw_cgroup_remove(self->name);
	if (self->was_loaded)
		mw_module_ensure(true);
}

TEST_F_TIMEOUT(fuzz, root_messages_get_errno_and_message_and_change_nothing_rejected, 900)
{
	self->f.root = true;
	fuzz_run(&self->f, ROOT_MESSAGES * fuzz_scale());
	fuzz_report(_metadata, &self->f, "root");
	EXPECT_STREQ("", self->f.failure);
	/* Some of the mutations must have been accepted, some not. */
	EXPECT_LT(0, self->f.acked);
	EXPECT_LT(0, self->f.errnos[EINVAL]);
	EXPECT_LT(0, self->f.with_msg);
	EXPECT_LT(0, self->f.interrupted);
}

TEST_F_TIMEOUT(fuzz, unprivileged_messages_change_nothing_and_see_only_their_own, 600)
{
	struct fuzz *shared;
	char now[8192];
	pid_t pid;
	int status;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	*shared = self->f;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (mw_become_nobody())
			_exit(2);
		shared->root = false;
		shared->fd = fuzz_open_socket();
		if (shared->fd < 0)
			_exit(3);
		fuzz_run(shared, USER_MESSAGES * fuzz_scale());
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	fuzz_report(_metadata, shared, "nobody");
	EXPECT_STREQ("", shared->failure);
	EXPECT_EQ(0, shared->changes);
	EXPECT_LT(0, shared->errnos[EPERM]);
	EXPECT_LT(0, shared->records);	/* it saw itself */
	ASSERT_EQ(0, fuzz_snapshot(&self->f, now));
	EXPECT_STREQ(self->before, now);
	munmap(shared, sizeof(*shared));
}

TEST_HARNESS_MAIN
