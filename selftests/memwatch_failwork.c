// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads whose allocations fail, on a kernel built with fault
 * injection (CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAILSLAB: the kernel of
 * `make check-debug`; Debian's has neither). Anonymous and THP faults,
 * shmem page cache, fork and exit, page migration and monitoring
 * requests run in processes a share of whose page and slab allocations
 * fail (task-filter, /proc/self/make-it-fail); their records must come
 * out as the pages they hold, go back to their baseline when they free
 * them, and hold nothing once they exit. memwatch_fail fails every
 * allocation of a load, an unload and each request in turn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mempolicy.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define KIB 1024UL
#define MIB (1024UL * 1024)
#define PAGE 4096UL

static const char khugepaged_sleep[] =
	"/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs";

FIXTURE(failwork) {
	int fd;
	uint16_t id;
	bool was_loaded;
	int kmsg;
	struct mw_nl_reply r;
	struct mw_procs recs;
};

FIXTURE_SETUP(failwork)
{
	uint32_t grp;
	int err;

	self->fd = self->kmsg = -1;
	err = mw_faults_on(0, 0);
	if (err == -ENOENT)
		SKIP(return, "no fail_page_alloc or failslab in debugfs: a kernel without FAIL_PAGE_ALLOC and FAILSLAB (make check-debug has both)");
	ASSERT_EQ(0, err);
	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: memwatch's guests have two");
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	self->fd = mw_nl_open_family(&self->id, &grp);
	ASSERT_LE(0, self->fd);
	self->kmsg = mw_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(failwork)
{
	mw_knobs_restore();
	if (self->fd < 0)
		return;
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	if (self->kmsg >= 0)
		close(self->kmsg);
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

/*
 * The workloads. Each worker marks itself make-it-fail (its children
 * inherit it), so a share of its page and slab allocations fail; it
 * retries what a program would (a fault retries by itself; mmap, write
 * and fork return ENOMEM or EAGAIN). Each round it takes memory, stops
 * for the parent to check its record, frees it all, stops again.
 */
enum worker { W_ANON, W_SHMEM, W_FORK, W_MIGRATE, NR_WORKERS };
static const char *worker_name(int w)
{
	static const char *const name[NR_WORKERS] = {
		"anon+THP", "shmem", "fork", "migrate",
	};

	return w >= 0 && w < NR_WORKERS ? name[w] : "?";
}
#define ROUNDS 3
#define FORKS 16
#define HELD (16 * MIB)

struct board {
	long held[NR_WORKERS];		/* bytes taken this round */
	long on_node[2];		/* the migrate worker's, per node */
	pid_t forked[ROUNDS * FORKS];
	int nforked, fork_failed;
	long requests, request_errors;
	int stop;
	int died_line[NR_WORKERS + 1];	/* where a worker gave up, errno */
	int died_errno[NR_WORKERS + 1];
};

/* In a worker: the board, and which worker (NR_WORKERS: the monitor). */
static struct board *board;
static int me;
static bool in_child;		/* a child of the fork worker */

/* Give up: say where and why on the board. */
#define die() die_at(__LINE__)
static void __attribute__((noreturn)) die_at(int line)
{
	if (!in_child) {
		board->died_errno[me] = errno;
		board->died_line[me] = line;
	}
	_exit(1);
}

/*
 * Grow the stack before failures start: growing it later allocates (the
 * VMA tree's nodes), and a stack that cannot grow is a SIGSEGV, which
 * the kernel rightly sends and no retry avoids.
 */
static void __attribute__((noinline)) grow_stack(void)
{
	volatile char pad[256 * KIB];
	size_t i;

	for (i = 0; i < sizeof(pad); i += PAGE)
		pad[i] = 0;
}

/*
 * The kernel writes a thread's rseq area (glibc registers one) on its
 * way back to user space after a preemption; after a fork that page is
 * copy-on-write, and a copy that fails to allocate there is a SIGSEGV
 * (kernel/rseq.c), which no retry avoids. A worker unregisters it
 * first; its children inherit none.
 */
static int rseq_off(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return 0;
	return syscall(SYS_rseq, area, sizeof(struct rseq),
		       RSEQ_FLAG_UNREGISTER, RSEQ_SIG) ? -errno : 0;
}

/*
 * A worker keeps its own pipes of syncs[] (keep), the monitor none
 * (keep < 0): a worker that dies is then EOF to the parent.
 */
static void close_others(struct mw_sync *syncs, int keep)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++) {
		if (i == keep)
			continue;
		close(syncs[i].to_child[0]);
		close(syncs[i].to_child[1]);
		close(syncs[i].to_parent[0]);
		close(syncs[i].to_parent[1]);
	}
}

static int failing_fd = -1;	/* the worker's /proc/self/make-it-fail */

static void failing(bool on)
{
	if (pwrite(failing_fd, on ? "1" : "0", 1, 0) != 1)
		die();
}

/* The parent's turn, with this worker's failures off for the pipe. */
static void turn(struct mw_sync *s)
{
	failing(false);
	if (!mw_sync_child(s))
		_exit(0);
	failing(true);
}

static void *map_retry(size_t len)
{
	for (;;) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			return p;
		if (errno != ENOMEM && errno != EAGAIN)
			die();
	}
}

static void touch(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/* The mapping a worker holds this round, for the release. */
static void *held_map;
static size_t held_len;

static void work_anon(struct board *b)
{
	char *h;

	held_len = HELD + 2 * MIB;
	held_map = map_retry(held_len);
	h = (char *)(((uintptr_t)held_map + 2 * MIB - 1) & ~(2 * MIB - 1));
	/* Half may be THP (whose allocation may fail: 4 KiB pages then). */
	while (madvise(h, HELD / 2, MADV_HUGEPAGE) && errno == ENOMEM)
		;
	while (madvise(h + HELD / 2, HELD / 2, MADV_NOHUGEPAGE) &&
	       errno == ENOMEM)
		;
	touch(h, HELD);
	b->held[W_ANON] = HELD;
}

static int shmem_fd = -1;

static void work_shmem(struct board *b)
{
	static char buf[64 * KIB];
	size_t done = 0;

	memset(buf, 'x', sizeof(buf));
	while ((shmem_fd = memfd_create("mw-fail", MFD_CLOEXEC)) < 0)
		if (errno != ENOMEM)
			die();
	while (done < HELD) {
		ssize_t n = pwrite(shmem_fd, buf, sizeof(buf), done);

		if (n > 0)
			done += n;
		else if (errno != ENOMEM && errno != ENOSPC && errno != EINTR)
			die();
	}
	b->held[W_SHMEM] = HELD;
}

static void work_fork(struct board *b)
{
	int i;

	for (i = 0; i < FORKS; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			if (errno != ENOMEM && errno != EAGAIN)
				die();
			i--;
			continue;
		}
		if (!pid) {
			in_child = true;
			touch(map_retry(MIB), MIB);
			_exit(0);
		}
		b->forked[b->nforked++] = pid;
	}
	for (i = 0; i < FORKS; i++) {
		int status = 0;

		/* EFAULT: the kernel's write of status hit a failed COW. */
		while (wait(&status) < 0 && (errno == EINTR || errno == EFAULT))
			;
		b->fork_failed += !WIFEXITED(status) || WEXITSTATUS(status);
	}
}

static void work_migrate(struct board *b)
{
	static void *pages[HELD / PAGE];
	static int nodes[HELD / PAGE], status[HELD / PAGE];
	unsigned long mask = 1;
	size_t i, n = HELD / PAGE;

	held_len = HELD;
	held_map = map_retry(held_len);
	while (syscall(SYS_mbind, held_map, HELD, MPOL_BIND, &mask, 64, 0))
		if (errno != ENOMEM)
			die();
	while (madvise(held_map, HELD, MADV_NOHUGEPAGE) && errno == ENOMEM)
		;
	touch(held_map, HELD);
	for (i = 0; i < n; i++) {
		pages[i] = (char *)held_map + i * PAGE;
		nodes[i] = 1;
	}
	/* Some pages' targets fail to allocate: those stay on node 0. */
	syscall(SYS_move_pages, 0, n, pages, nodes, status, 0);
	failing(false);
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
		die();
	b->on_node[0] = b->on_node[1] = 0;
	for (i = 0; i < n; i++)
		if (status[i] == 0 || status[i] == 1)
			b->on_node[status[i]] += PAGE;
	failing(true);
	b->held[W_MIGRATE] = HELD;
}

/*
 * Give back what work_*() took. munmap() allocates too (the VMA tree's
 * nodes) and fails with ENOMEM, leaving the mapping: again, then.
 */
static void release(enum worker w, struct board *b)
{
	while (held_map && munmap(held_map, held_len))
		if (errno != ENOMEM)
			die();
	held_map = NULL;
	if (shmem_fd >= 0)
		close(shmem_fd);
	shmem_fd = -1;
	b->held[w] = 0;
}

static void worker(enum worker w, struct board *b, struct mw_sync *syncs)
{
	struct mw_sync *s = &syncs[w];
	static void (*const work[NR_WORKERS])(struct board *) = {
		work_anon, work_shmem, work_fork, work_migrate,
	};
	int r;

	board = b;
	me = w;
	close_others(syncs, w);
	grow_stack();
	if (rseq_off())
		die();
	failing_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (failing_fd < 0)
		die();
	failing(true);
	turn(s);		/* the baseline */
	for (r = 0; r < ROUNDS; r++) {
		work[w](b);
		turn(s);
		release(w, b);
		turn(s);
	}
	_exit(0);
}

/* STATUS, PROC_GET and POLICY_GET in a loop, failing too, until stop. */
static void monitor(struct board *b, struct mw_sync *syncs)
{
	static struct mw_nl_reply r;
	struct timeval tv = { 10, 0 };
	uint32_t version, grp;
	uint16_t id;
	int fd = -1;

	board = b;
	me = NR_WORKERS;
	close_others(syncs, -1);
	grow_stack();
	if (rseq_off())
		die();
	failing_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (failing_fd < 0)
		die();
	failing(true);
	while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
		int err;

		/* A poller's pace, not a busy loop: 20 ms between rounds. */
		usleep(20000);
		if (fd < 0) {
			fd = mw_nl_open();
			if (fd < 0 || mw_nl_family(fd, MEMWATCH_GENL_NAME, &id,
						   &version, &grp)) {
				if (fd >= 0)
					close(fd);
				fd = -1;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				   sizeof(tv));
		}
		err = mw_nl_xfer(fd, id, MEMWATCH_CMD_STATUS, 0, NULL, 0, &r);
		err = err ?: mw_nl_dump(fd, id, MEMWATCH_CMD_PROC_GET, NULL, 0,
					NULL, NULL, &r);
		err = err ?: mw_nl_dump(fd, id, MEMWATCH_CMD_POLICY_GET, NULL,
					0, NULL, NULL, &r);
		__atomic_add_fetch(&b->requests, 3, __ATOMIC_RELAXED);
		if (err) {
			__atomic_add_fetch(&b->request_errors, 1,
					   __ATOMIC_RELAXED);
			if (err == -EAGAIN)	/* no reply in 10 s */
				die();
			/* A dump cut short goes on at the next read: close. */
			close(fd);
			fd = -1;
		}
	}
	_exit(0);
}

static int record(FIXTURE_DATA(failwork) *self, pid_t pid,
		  struct mw_proc *out)
{
	return mw_proc_record(self->fd, self->id, pid, out, &self->recs,
			      &self->r);
}

/* Within 1 MiB: what a worker's own stack and libc data may move. */
#define SLACK (1 * MIB)

static long long diff(uint64_t a, uint64_t b)
{
	return (long long)a - (long long)b;
}

/*
 * The workers' records against what they hold, after a drain: a record
 * is consistent (local + remote and the nodes add up to live, live
 * within allocated) and its live is its baseline plus what it holds.
 */
static void check_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(failwork) *self, const pid_t *pid,
			const struct mw_proc *base, struct board *b,
			const char *phase, int round)
{
	int w, i;

	mw_drain_lru();
	for (w = 0; w < NR_WORKERS; w++) {
		struct mw_proc now;
		uint64_t nodes = 0;
		long long extra;

		ASSERT_EQ(1, record(self, pid[w], &now))
			TH_LOG("%s: no record", worker_name(w));
		for (i = 0; i < MW_MAX_NODES; i++)
			nodes += now.node[i];
		EXPECT_EQ(now.live, now.local + now.remote);
		EXPECT_EQ(now.live, nodes);
		EXPECT_GE(now.allocated, now.live);
		extra = diff(now.live, base[w].live) - b->held[w];
		if (llabs(extra) > (long long)SLACK || !round)
			TH_LOG("round %d, %s: %s holds %ld KiB, its record %+lld KiB from its baseline",
			       round, phase, worker_name(w), b->held[w] >> 10,
			       diff(now.live, base[w].live) / 1024);
		EXPECT_GE((long long)SLACK, llabs(extra))
			TH_LOG("round %d, %s: %s off by %lld KiB", round,
			       phase, worker_name(w), extra / 1024);
		if (w == W_MIGRATE && b->held[w]) {
			for (i = 0; i < 2; i++) {
				extra = diff(now.node[i], base[w].node[i]) -
					b->on_node[i];
				EXPECT_GE((long long)SLACK, llabs(extra))
					TH_LOG("round %d: migrate: node %d has %ld KiB of it, its record %+lld KiB",
					       round, i, b->on_node[i] >> 10,
					       diff(now.node[i], base[w].node[i]) / 1024);
			}
		}
	}
	TH_LOG("round %d, %s: checked; %ld page and %ld slab allocations failed so far",
	       round, phase, mw_faults_injected(false),
	       mw_faults_injected(true));
	/* The fork worker's children have exited: they hold nothing. */
	for (i = 0; i < b->nforked; i++) {
		struct mw_proc c;

		ASSERT_LE(0, record(self, b->forked[i], &c));
		EXPECT_EQ(0, c.live) TH_LOG("exited child %d: live %llu KiB",
					    b->forked[i],
					    (unsigned long long)c.live >> 10);
	}
}

/* What became of worker w, which stopped answering. */
static void died(struct __test_metadata *_metadata, struct board *b, int w,
		 pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	TH_LOG("%s died: status %#x (%s %d), gave up at line %d: %s",
	       worker_name(w), status,
	       WIFSIGNALED(status) ? "signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	       b->died_line[w], strerror(b->died_errno[w]));
}

/* Every worker's turn came: false (and why) if one died. */
static bool all_turned(struct __test_metadata *_metadata, struct mw_sync *s,
		       struct board *b, const pid_t *pid)
{
	int w;

	for (w = 0; w < NR_WORKERS; w++) {
		if (!mw_sync_wait(&s[w])) {
			died(_metadata, b, w, pid[w]);
			return false;
		}
	}
	return true;
}

TEST_F_TIMEOUT(failwork, workloads_under_failing_allocations, 1800)
{
	struct mw_proc base[NR_WORKERS];
	struct mw_sync s[NR_WORKERS];
	pid_t pid[NR_WORKERS], mon;
	long pages, slabs;
	struct board *b;
	char line[256];
	int w, r, status;

	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b);
	memset(b, 0, sizeof(*b));
	mw_cache_mapped_files();
	/*
	 * khugepaged asleep for the test: a collapse counts the huge page
	 * before it frees the 512 it replaces, and a check may fall in
	 * between. (The write wakes it for one scan, before any worker.)
	 */
	if (!access(khugepaged_sleep, W_OK))
		ASSERT_EQ(0, mw_knob_set(khugepaged_sleep, "3600000"));
	ASSERT_EQ(0, mw_faults_on(10, 2));
	for (w = 0; w < NR_WORKERS; w++)
		ASSERT_EQ(0, mw_sync_init(&s[w]));
	for (w = 0; w < NR_WORKERS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (!pid[w])
			worker(w, b, s);
	}
	mon = fork();
	ASSERT_LE(0, mon);
	if (!mon)
		monitor(b, s);
	/* The workers' ends: a worker that dies is EOF here. */
	for (w = 0; w < NR_WORKERS; w++) {
		close(s[w].to_parent[1]);
		close(s[w].to_child[0]);
	}
	ASSERT_TRUE(all_turned(_metadata, s, b, pid));
	mw_drain_lru();
	for (w = 0; w < NR_WORKERS; w++)
		ASSERT_EQ(1, record(self, pid[w], &base[w]));
	for (r = 0; r < ROUNDS; r++) {
		for (w = 0; w < NR_WORKERS; w++)
			mw_sync_go(&s[w]);
		ASSERT_TRUE(all_turned(_metadata, s, b, pid));
		check_round(_metadata, self, pid, base, b, "holding", r);
		for (w = 0; w < NR_WORKERS; w++)
			mw_sync_go(&s[w]);
		ASSERT_TRUE(all_turned(_metadata, s, b, pid));
		check_round(_metadata, self, pid, base, b, "freed", r);
	}
	for (w = 0; w < NR_WORKERS; w++) {
		mw_sync_go(&s[w]);
		ASSERT_EQ(pid[w], waitpid(pid[w], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("%s: status %#x, gave up at line %d: %s",
			       worker_name(w), status, b->died_line[w],
			       strerror(b->died_errno[w]));
	}
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(mon, waitpid(mon, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("monitor: status %#x, gave up at line %d: %s", status,
		       b->died_line[NR_WORKERS],
		       strerror(b->died_errno[NR_WORKERS]));
	pages = mw_faults_injected(false);
	slabs = mw_faults_injected(true);
	mw_knobs_restore();
	TH_LOG("%ld page and %ld slab allocations failed; %d of %d forked children failed; monitor: %ld of %ld requests failed",
	       pages, slabs, b->fork_failed, b->nforked, b->request_errors,
	       b->requests);
	EXPECT_LT(100, pages) TH_LOG("too few page allocations failed");
	EXPECT_LT(10, slabs) TH_LOG("too few slab allocations failed");
	EXPECT_LT(0, b->request_errors) TH_LOG("no request failed");
	EXPECT_LT(b->request_errors, b->requests) TH_LOG("every request failed");
	/* The workers have exited: what they took, they gave back. */
	mw_drain_lru();
	for (w = 0; w < NR_WORKERS; w++) {
		struct mw_proc c;

		ASSERT_LE(0, record(self, pid[w], &c));
		EXPECT_GE(64 * KIB, c.live) TH_LOG("exited %s: live %llu KiB",
						   worker_name(w),
						   (unsigned long long)c.live >> 10);
	}
	EXPECT_TRUE(mw_status_answers(self->fd, self->id, &self->r));
	EXPECT_EQ(NULL, mw_kmsg_splat(self->kmsg, line, sizeof(line)))
		TH_LOG("dmesg: %s", line);
}

TEST_HARNESS_MAIN
