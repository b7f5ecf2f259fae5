// SPDX-License-Identifier: GPL-2.0
/* Loading and unloading memwatch.ko, and what each leaves behind. */
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

/* Whether the family is registered, or -errno if that cannot be told. */
static int family_present(void)
{
	uint32_t version, grp;
	uint16_t id;
	int fd, err;

	fd = mw_nl_open();
	if (fd < 0)
		return fd;
	err = mw_nl_family(fd, MEMWATCH_GENL_NAME, &id, &version, &grp);
	close(fd);
	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

FIXTURE(module) {
	bool was_loaded;
};

FIXTURE_SETUP(module)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(false));
}

FIXTURE_TEARDOWN(module)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_module_ensure(false);
	if (self->was_loaded)
		mw_module_ensure(true);
}

/* A child running argv until killed. */
static pid_t start(char *const argv[])
{
	pid_t pid = fork();

	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* What the helpers of the load cycles saw, in shared memory. */
struct seen {
	unsigned long dumps, events;
};

/*
 * A reader: connect, dump processes and policies, again and again; and a
 * listener on the events group, joined anew every half second (the family
 * and its group come and go with the module).
 */
static pid_t start_reader(struct seen *seen, bool listen)
{
	static struct mw_nl_reply r;
	pid_t pid = fork();

	if (pid)
		return pid;
	for (;;) {
		static char buf[MW_NL_BUFSZ];
		uint32_t version, grp;
		uint16_t id;
		int fd = mw_nl_open(), ev, i;

		if (fd < 0 || mw_nl_family(fd, MEMWATCH_GENL_NAME, &id,
					   &version, &grp)) {
			if (fd >= 0)
				close(fd);
			usleep(2000);
			continue;
		}
		if (!listen) {
			if (!mw_nl_dump(fd, id, MEMWATCH_CMD_PROC_GET, NULL, 0,
					NULL, NULL, &r) &&
			    !mw_nl_dump(fd, id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
					NULL, NULL, &r))
				seen->dumps++;
			close(fd);
			continue;
		}
		close(fd);
		ev = mw_nl_events_open(grp);
		for (i = 0; ev >= 0 && i < 5; i++)
			if (mw_nl_next(ev, MEMWATCH_CMD_EVENT, 100, buf) > 0)
				seen->events++;
		if (ev >= 0)
			close(ev);
	}
}

/* In cgroup name, 40M touched and unmapped, over and over. */
static pid_t start_stepper(const char *name)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (mw_cgroup_enter(name))
		_exit(1);
	for (;;) {
		void *p = mw_alloc_on(40 << 20, -1);

		usleep(20000);
		if (p)
			munmap(p, 40 << 20);
		usleep(20000);
	}
}

/* notify at 50% of cgid's limit on a fresh socket: 0 or -errno. */
static int notify_at_half(uint64_t cgid)
{
	static struct mw_nl_reply r;
	int fd, err;
	uint16_t id;

	fd = mw_nl_open_family(&id, NULL);
	if (fd < 0)
		return fd;
	err = mw_policy_notify_at(fd, id, cgid, 50, &r);
	close(fd);
	return err;
}

/*
 * 100 loads and unloads while stress-ng allocates, a cgroup crosses its
 * level again and again (events flow), a reader dumps and a listener
 * listens: no error, no splat (vm-run checks the log), and nothing left.
 */
TEST_F_TIMEOUT(module, load_unload_100_times_under_stress, 1200)
{
	static char *stress[] = {
		"stress-ng", "--vm", "2", "--vm-bytes", "48M", "--quiet", NULL,
	};
	pid_t pids[4];
	struct seen *seen;
	char name[64];
	uint64_t cgid;
	int i, n = 0;

	seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	memset(seen, 0, sizeof(*seen));
	snprintf(name, sizeof(name), "mw-load-%d", getpid());
	cgid = mw_cgroup_make(name, "64M");
	ASSERT_NE(0, cgid);
	pids[n++] = start(stress);
	pids[n++] = start_stepper(name);
	pids[n++] = start_reader(seen, false);
	pids[n++] = start_reader(seen, true);
	for (i = 0; i < n; i++)
		ASSERT_LT(0, pids[i]);
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, mw_module_load("")) TH_LOG("load %d", i);
		ASSERT_EQ(1, family_present()) TH_LOG("load %d", i);
		ASSERT_EQ(0, notify_at_half(cgid)) TH_LOG("load %d", i);
		usleep(20000 + 10000 * (i % 5));
		ASSERT_EQ(0, mw_module_unload()) TH_LOG("unload %d", i);
		ASSERT_FALSE(mw_module_loaded());
		ASSERT_EQ(0, family_present()) TH_LOG("unload %d", i);
	}
	TH_LOG("100 cycles: %lu complete dumps, %lu events received",
	       seen->dumps, seen->events);
	for (i = 0; i < n; i++) {
		int status;

		kill(pids[i], SIGKILL);
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		/* Each ran until killed: stress-ng was there. */
		EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("helper %d", i);
	}
	/*
	 * stress-ng's workers outlive a SIGKILL of their parent: they are
	 * in this test's process group, end them too (else they go on
	 * allocating under the tests that follow).
	 */
	mw_reap_group();
	EXPECT_EQ(0, mw_cgroup_remove(name));
	EXPECT_LT(0, seen->dumps);
	EXPECT_LT(0, seen->events);
}

TEST_F(module, second_load_is_refused)
{
	ASSERT_EQ(0, mw_module_load(""));
	ASSERT_EQ(-EEXIST, mw_module_load(""));
	ASSERT_EQ(1, family_present());
}

TEST_F(module, malformed_parameter_is_refused)
{
	ASSERT_EQ(-EINVAL, mw_module_load("track=maybe"));
	ASSERT_FALSE(mw_module_loaded());
	ASSERT_EQ(0, family_present());
}

TEST_F(module, track_parameter_is_reported)
{
	char buf[8] = "";
	FILE *f;

	ASSERT_EQ(0, mw_module_load("track=0"));
	f = fopen("/sys/module/memwatch/parameters/track", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_STREQ("N\n", buf);
}

/*
 * probe_only=1 (make bench's "probes only" row): the same hooks fire and
 * count, and no process gets a record. Tracking on, the same faults give
 * this process one: the check below is the one that tells them apart.
 */
TEST_F(module, probe_only_counts_hits_and_tracks_nothing)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	const char *charged = ".hooks[] | select(.name == \"mm_page_alloc\" or"
			      " .name == \"__mem_cgroup_charge\") | .hits >= 4096";
	const char *none = ".tables[] | select(.name == \"procs\")"
			   " | .entries == 0";
	const size_t bytes = 16 << 20;
	void *p;

	ASSERT_EQ(0, mw_module_load("probe_only=1"));
	p = mw_alloc_on(bytes, -1);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, mw_memctl(out, err, "status", "--json", MW_END))
		TH_LOG("%s", err);
	EXPECT_EQ(0, mw_jq(out, charged, NULL));
	EXPECT_EQ(0, mw_jq(out, none, NULL));
	munmap(p, bytes);

	ASSERT_EQ(0, mw_module_unload());
	ASSERT_EQ(0, mw_module_load(""));
	p = mw_alloc_on(bytes, -1);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, mw_memctl(out, err, "status", "--json", MW_END))
		TH_LOG("%s", err);
	EXPECT_EQ(0, mw_jq(out, charged, NULL));
	EXPECT_NE(0, mw_jq(out, none, NULL));
	munmap(p, bytes);
}

TEST_HARNESS_MAIN
