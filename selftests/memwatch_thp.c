// SPDX-License-Identifier: GPL-2.0
/*
 * Transparent huge pages in the per-process tracking, checked through the
 * PROC_GET dump: a huge page khugepaged collapses is the process's, and
 * one split into small pages is released whole. memwatch_track's
 * fixture; khugepaged's knobs are put back by its teardown.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_track.h"

MW_FIXTURE(track);

/* A 2 MiB-aligned 2 MiB, given advice, then written page by page. */
static char *touch_aligned_2mib(int advice)
{
	const size_t huge = 2 * MIB;
	char *p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *h;
	size_t off;

	if (p == MAP_FAILED)
		return NULL;
	h = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise(h, huge, advice))
		return NULL;
	for (off = 0; off < huge; off += 4096)
		h[off] = 1;
	return h;
}

/* AnonHugePages of pid, in KiB (0 if unknown). */
static unsigned long anon_huge_kib(pid_t pid)
{
	char path[64], line[128];
	unsigned long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * khugepaged collapses a process's 512 small pages into a huge page that
 * it, a kernel thread with no mm, allocates: the huge page is the
 * process's (kprobe mode: by the mm it is charged to; tracepoint mode:
 * by the mm alloc_charge_hpage() names), not [kernel]'s.
 */
TEST_F_TIMEOUT(track, khugepaged_collapse_is_the_processs, MW_SLOW)
{
	const size_t huge = 2 * MIB;
	unsigned long alloc_before;
	char mode[64];
	struct mw_sync s;
	pid_t child;
	int i;

	mw_read_line(thp_enabled_path, mode, sizeof(mode));
	mw_read_line(thp_sleep_path, thp_sleep, sizeof(thp_sleep));
	ASSERT_NE(0, mode[0]) TH_LOG("no %s", thp_enabled_path);
	ASSERT_NE(0, thp_sleep[0]) TH_LOG("no %s", thp_sleep_path);
	/* "always [madvise] never": the word in brackets is the mode. */
	if (strstr(mode, "[never]")) {
		strcpy(thp_enabled, "never");
		ASSERT_EQ(0, mw_write(thp_enabled_path, "madvise"));
	}
	ASSERT_EQ(0, mw_write(thp_sleep_path, "100"));

	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* 512 small pages in one aligned 2 MiB, then ask for THP. */
		char *h = touch_aligned_2mib(MADV_NOHUGEPAGE);

		if (!h)
			_exit(10);
		if (!mw_sync_child(&s))
			_exit(0);
		if (madvise(h, huge, MADV_HUGEPAGE))
			_exit(12);
		mw_sync_child(&s);
		_exit(0);
	}
	/* What it allocated before khugepaged may see it... */
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
	ASSERT_EQ(0, dump(self, child, 0));
	ASSERT_EQ(1, self->recs.n);
	alloc_before = self->recs.v[0].allocated;
	/* ...then MADV_HUGEPAGE, which hands its mm to khugepaged. */
	mw_sync_go(&s);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));

	for (i = 0; i < 600 && anon_huge_kib(child) < huge / 1024; i++)
		usleep(100000);
	ASSERT_LE(huge / 1024, anon_huge_kib(child))
		TH_LOG("khugepaged did not collapse the child's 2 MiB in 60 s");
	ASSERT_EQ(0, dump(self, child, 0));
	ASSERT_EQ(1, self->recs.n);
	EXPECT_LE(alloc_before + huge, self->recs.v[0].allocated)
		TH_LOG("allocated %lu KiB before the collapse, %lu after",
		       alloc_before / 1024, self->recs.v[0].allocated / 1024);
	EXPECT_LE(huge - huge / 20, self->recs.v[0].live)
		TH_LOG("live %lu KiB after the collapse",
		       self->recs.v[0].live / 1024);
	mw_sync_go(&s);
	EXPECT_EQ(0, wait_exit(child, false));
}

/*
 * A huge page split into 512 pages (here by debugfs's split_huge_pages,
 * as reclaim, migration or a partial unmap would) is freed page by
 * page: all 2 MiB are released, not the head's 4 KiB alone.
 */
TEST_F_TIMEOUT(track, split_huge_page_is_released_whole, MW_SLOW)
{
	static const char split[] = "/sys/kernel/debug/split_huge_pages";
	static const char cg[] = "mw-track-split";
	static const char swap_max[] =
		"/sys/fs/cgroup/mw-track-split/memory.swap.max";
	const size_t huge = 2 * MIB;
	unsigned long live_before;
	char cmd[128];
	struct mw_sync s;
	uintptr_t *addr;	/* where the child's huge page is, shared */
	pid_t child;

	if (access(split, W_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	ASSERT_EQ(0, access(split, W_OK)) TH_LOG("%s: %m", split);
	/*
	 * With swap on (vm-run --profile host), reclaim may put the child's
	 * pages in the swap cache while they are being written out: the
	 * munmap then leaves them there (and counted live) until reclaim
	 * frees them. A failure seen once in that guest, with all 2 MiB
	 * still live. Swap is not what this test is about: none for it.
	 */
	ASSERT_NE(0, mw_cgroup_make(cg, NULL));
	if (!access(swap_max, W_OK))
		ASSERT_EQ(0, mw_write(swap_max, "0"));
	addr = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, addr);
	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		char *h;

		if (mw_cgroup_enter(cg))
			_exit(11);
		h = touch_aligned_2mib(MADV_HUGEPAGE);
		if (!h)
			_exit(10);
		*addr = (uintptr_t)h;
		if (!mw_sync_child(&s))
			_exit(0);
		munmap(h, huge);
		mw_sync_child(&s);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
	ASSERT_LE(huge / 1024, anon_huge_kib(child))
		TH_LOG("the child got no huge page");
	snprintf(cmd, sizeof(cmd), "%d,0x%lx,0x%lx", child,
		 (unsigned long)*addr, (unsigned long)(*addr + huge));
	ASSERT_EQ(0, mw_write(split, cmd));
	ASSERT_EQ(0, anon_huge_kib(child)) TH_LOG("not split");
	ASSERT_EQ(0, dump(self, child, 0));
	ASSERT_EQ(1, self->recs.n);
	live_before = self->recs.v[0].live;
	ASSERT_LE(huge, live_before);

	mw_sync_go(&s);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
	ASSERT_EQ(0, dump(self, child, 0));
	ASSERT_EQ(1, self->recs.n);
	EXPECT_GE(live_before - huge + huge / 20, self->recs.v[0].live)
		TH_LOG("live %lu KiB before the munmap, %lu after",
		       live_before / 1024, self->recs.v[0].live / 1024);
	mw_sync_go(&s);
	EXPECT_EQ(0, wait_exit(child, false));
	munmap(addr, 4096);
	mw_cgroup_remove(cg);
}

TEST_HARNESS_MAIN
