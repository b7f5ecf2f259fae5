// SPDX-License-Identifier: GPL-2.0
/*
 * Whose pages are whose, at the edges: kernel work on a host with
 * cpusets (every allocation's traced gfp gets __GFP_HARDWALL), the
 * process table at its ceiling, and a migration done by another task.
 * The fixture (memwatch_attrib.h) is memwatch_churn's too: a stream of
 * short-lived processes and the hooks attaching while pages churn are
 * there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "memwatch_attrib.h"

MW_FIXTURE(attrib);

/* Pages the kernel allocated since boot: the pgalloc_* of /proc/vmstat. */
static uint64_t pgalloc(void)
{
	unsigned long long v;
	char line[128], name[64];
	uint64_t sum = 0;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", name, &v) == 2 &&
		    !strncmp(name, "pgalloc_", 8))
			sum += v;
	fclose(f);
	return sum;
}

/*
 * A child cpuset, which turns the kernel's cpusets on (cpuset_inc() at
 * its css online): from then on prepare_alloc_pages() adds
 * __GFP_HARDWALL to every allocation's gfp, the one mm_page_alloc
 * traces. Enables +cpuset at the root unless it was on; what the test
 * did, the teardown undoes.
 */
static int cpuset_on(FIXTURE_DATA(attrib) *self)
{
	char path[128], ctl[256] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg_root);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, ctl, sizeof(ctl) - 1);
	close(fd);
	ctl[n > 0 ? n : 0] = '\0';
	if (!strstr(ctl, "cpuset")) {
		int err = mw_write(path, "+cpuset");

		if (err)
			return err;
		self->cpuset_enabled = true;
	}
	snprintf(self->cpuset_cg, sizeof(self->cpuset_cg), "mw-attrib-cpuset-%d",
		 getpid());
	if (!mw_cgroup_make(self->cpuset_cg, NULL)) {
		self->cpuset_cg[0] = '\0';
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/%s/cpuset.cpus", cg_root,
		 self->cpuset_cg);
	return mw_write(path, "0");
}

/*
 * Kernel work with no user page in it: n directories made in dir, then
 * removed (a dentry and a shmem inode each, and what comes with them:
 * slab pages, all of them). The names are built in a static buffer.
 */
static void mkdir_rmdir(const char *dir, int n)
{
	static char path[PATH_MAX];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/d%d", dir, i);
		if (mkdir(path, 0700))
			_exit(20);
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/d%d", dir, i);
		if (rmdir(path))
			_exit(21);
	}
}

#define KERNEL_DIRS 30000

/*
 * With a cpuset on the host, the kernel's own allocations on behalf of a
 * process (slab for dentries and inodes) carry __GFP_HARDWALL in the
 * traced gfp, like user pages: they are not the process's user pages.
 * A user page is movable; those are not.
 */
TEST_F_TIMEOUT(attrib, cpuset_kernel_work_is_not_user_pages, 300)
{
	uint64_t pg_before, pg_after, grew;
	struct mw_proc before, after;
	struct timespec t0, t1;
	struct mw_sync s;
	pid_t child;

	ASSERT_EQ(0, cpuset_on(self)) TH_LOG("cannot make a child cpuset");
	ASSERT_EQ(0, tmpfs_mount(self));
	mw_cache_mapped_files();
	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		volatile char stack[256 * 1024];
		size_t off;

		/* Everything it will touch, touched: stack, code, names. */
		for (off = 0; off < sizeof(stack); off += PAGE)
			stack[off] = 1;
		mkdir_rmdir(self->mnt, 64);
		if (!mw_sync_child(&s))
			_exit(0);
		mkdir_rmdir(self->mnt, KERNEL_DIRS);
		mw_sync_child(&s);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
	ASSERT_EQ(1, record(self, child, &before)) TH_LOG("no record");
	pg_before = pgalloc();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mw_sync_go(&s);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pg_after = pgalloc();
	ASSERT_EQ(1, record(self, child, &after)) TH_LOG("no record");
	grew = after.allocated - before.allocated;
	TH_LOG("%d mkdir + rmdir on tmpfs in %.1f s: the kernel allocated %llu pages (pgalloc_*), the child's record %llu pages (%llu KiB allocated before, %llu after; live %llu KiB)",
	       KERNEL_DIRS, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)(pg_after - pg_before),
	       (unsigned long long)(grew / PAGE),
	       (unsigned long long)before.allocated >> 10,
	       (unsigned long long)after.allocated >> 10,
	       (unsigned long long)after.live >> 10);
	/* The work did allocate: thousands of pages. */
	ASSERT_LE(2000, pg_after - pg_before);
	EXPECT_GT(64 * PAGE, grew)
		TH_LOG("the kernel's pages were counted as the child's");
	mw_sync_go(&s);
	reap(child);
}

/* Lines of the kernel log from fd (opened on /dev/kmsg) that hold what. */
static void log_kmsg(int fd, const char *what)
{
	char rec[1024];
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (msg && strstr(msg, what))
			fprintf(stderr, "# dmesg: %s", msg + 1);
	}
}

/* A child that touches bytes of anonymous memory and waits. */
static pid_t toucher(struct mw_sync *s, size_t bytes)
{
	pid_t pid;

	mw_cache_mapped_files();
	pid = fork();

	if (pid)
		return pid;
	if (!mw_alloc_on(bytes, -1))
		_exit(10);
	mw_sync_child(s);
	_exit(0);
}

/*
 * A page's owner entry holds a 15-bit slot id, and slots 0 to 3 are
 * taken (none, [kernel], [overflow], [exited]): at most 32764 records.
 * A larger max_procs is clamped; what the table has, it can use.
 */
TEST_F_TIMEOUT(attrib, max_procs_ceiling, 180)
{
	static const char *const params[] = {
		"max_procs=32767", "max_procs=1000000",
	};
	const size_t bytes = 32 * MIB;
	struct mw_proc rec;
	struct mw_table t;
	struct mw_sync s;
	unsigned int i;
	pid_t child;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
		if (kmsg >= 0)
			lseek(kmsg, 0, SEEK_END);
		self->reloaded = true;
		ASSERT_EQ(0, reload(self, params[i])) TH_LOG("%s", params[i]);
		log_kmsg(kmsg, "max_procs");
		if (kmsg >= 0)
			close(kmsg);
		ASSERT_EQ(0, mw_status_table(self->fd, self->id, "procs", &t, &self->r));
		TH_LOG("%s: procs table capacity %u, entries %u", params[i],
		       t.capacity, t.entries);
		EXPECT_GE(32764, t.capacity)
			TH_LOG("%s: slots past 32767 do not fit an owner entry",
			       params[i]);

		ASSERT_EQ(0, mw_sync_init(&s));
		child = toucher(&s, bytes);
		ASSERT_LT(0, child);
		ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("child: %d", reap(child));
		ASSERT_EQ(1, record(self, child, &rec))
			TH_LOG("%s: the child has no record", params[i]);
		TH_LOG("%s: child %d: pid %u, comm %s, state %u, live %llu KiB",
		       params[i], child, rec.pid, rec.comm, rec.state,
		       (unsigned long long)rec.live >> 10);
		EXPECT_EQ((uint32_t)child, rec.pid);
		EXPECT_EQ(MEMWATCH_PROC_ALIVE, rec.state);
		EXPECT_LE(bytes, rec.live);
		EXPECT_GE(bytes + bytes / 20, rec.live);
		reap(child);
		close(s.to_child[0]);
		close(s.to_child[1]);
		close(s.to_parent[0]);
		close(s.to_parent[1]);
	}
	/* Back to the default table for whoever comes next. */
	ASSERT_EQ(0, reload(self, ""));
	self->reloaded = false;
}

/* What A and B tell each other and the test, shared. */
struct move {
	char *addr;	/* A's 64 MiB */
	long moved;	/* pages B saw on node 1 after move_pages, or -errno */
	long back;	/* migrate_pages's pages not moved, or -errno */
};

#define MOVE_PAGES (64 * MIB / PAGE)

/*
 * B moves A's pages to node 1 with move_pages(2), by address: A's own
 * 64 MiB and nothing else (migrate_pages(2) would, for root, move every
 * page A maps, the binary and libc with it, some allocated before the
 * module was loaded: pages with no owner to pass on). The arrays are
 * touched before the test reads B's record. Then, told to, B moves all
 * of A's pages on node 1 back to node 0 with migrate_pages(2): with them
 * the pages of A's binary and libc that memwatch never counted, which
 * must not become B's either.
 */
static void mover(struct mw_sync *s, struct move *m, pid_t a)
{
	void **pages = calloc(MOVE_PAGES, sizeof(*pages));
	int *nodes = calloc(MOVE_PAGES, sizeof(*nodes));
	int *status = calloc(MOVE_PAGES, sizeof(*status));
	unsigned long old_nodes, new_nodes;
	size_t i;

	if (!pages || !nodes || !status)
		_exit(10);
	for (i = 0; i < MOVE_PAGES; i++) {
		pages[i] = m->addr + i * PAGE;
		nodes[i] = 1;
		status[i] = -1;
	}
	if (!mw_sync_child(s))
		_exit(0);
	if (syscall(SYS_move_pages, a, MOVE_PAGES, pages, nodes, status,
		    MPOL_MF_MOVE)) {
		m->moved = -errno;
	} else {
		long n = 0;

		for (i = 0; i < MOVE_PAGES; i++)
			n += status[i] == 1;
		m->moved = n;
	}
	if (!mw_sync_child(s))
		_exit(0);
	old_nodes = 1UL << 1;
	new_nodes = 1UL << 0;
	m->back = syscall(SYS_migrate_pages, a, 8 * sizeof(old_nodes),
			  &old_nodes, &new_nodes);
	if (m->back < 0)
		m->back = -errno;
	mw_sync_child(s);
	_exit(0);
}

/*
 * One process moving another's pages between nodes: the pages the
 * kernel allocates on the target node, in the mover's context, are the
 * owner's pages moved, not the mover's allocation (in the tracepoint
 * mode mm_page_alloc sees them first, in the mover's context).
 */
TEST_F_TIMEOUT(attrib, migration_by_another_task_is_not_its_allocation, 180)
{
	const size_t bytes = 64 * MIB;
	struct mw_proc a0, a1, b0, b1;
	struct mw_sync sa, sb;
	struct move *m;
	pid_t a, b;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: memwatch's guest has two");
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	m->addr = NULL;
	m->moved = -1000;
	mw_cache_mapped_files();
	ASSERT_EQ(0, mw_sync_init(&sa));
	ASSERT_EQ(0, mw_sync_init(&sb));
	a = fork();
	ASSERT_LE(0, a);
	if (!a) {
		m->addr = mw_alloc_on(bytes, 0);
		if (!m->addr)
			_exit(10);
		mw_sync_child(&sa);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&sa)) TH_LOG("A: %d", reap(a));
	b = fork();
	ASSERT_LE(0, b);
	if (!b)
		mover(&sb, m, a);
	ASSERT_TRUE(mw_sync_wait(&sb)) TH_LOG("B: %d", reap(b));
	ASSERT_EQ(1, record(self, a, &a0)) TH_LOG("A has no record");
	ASSERT_EQ(1, record(self, b, &b0)) TH_LOG("B has no record");
	mw_sync_go(&sb);
	ASSERT_TRUE(mw_sync_wait(&sb)) TH_LOG("B: %d", reap(b));
	ASSERT_EQ(1, record(self, a, &a1));
	ASSERT_EQ(1, record(self, b, &b1));
	TH_LOG("move_pages(A's %lu pages, node 1) by B: %ld on node 1 after (or -errno)",
	       MOVE_PAGES, m->moved);
	TH_LOG("A: node 0 %llu -> %llu KiB, node 1 %llu -> %llu KiB, allocated %llu -> %llu KiB",
	       (unsigned long long)a0.node[0] >> 10,
	       (unsigned long long)a1.node[0] >> 10,
	       (unsigned long long)a0.node[1] >> 10,
	       (unsigned long long)a1.node[1] >> 10,
	       (unsigned long long)a0.allocated >> 10,
	       (unsigned long long)a1.allocated >> 10);
	TH_LOG("B: allocated %llu -> %llu KiB, released %llu -> %llu KiB, live %llu KiB",
	       (unsigned long long)b0.allocated >> 10,
	       (unsigned long long)b1.allocated >> 10,
	       (unsigned long long)b0.released >> 10,
	       (unsigned long long)b1.released >> 10,
	       (unsigned long long)b1.live >> 10);
	ASSERT_LE(0, m->moved);
	EXPECT_LE(bytes - 4 * MIB, a1.node[1]) TH_LOG("A's pages did not move");
	EXPECT_GT(4 * MIB, a1.node[0]);
	EXPECT_GE(a0.allocated + MIB, a1.allocated);
	EXPECT_GT(b0.allocated + MIB, b1.allocated)
		TH_LOG("the migration's target pages were counted as B's allocation");

	/* Back to node 0, with every page of A's on node 1. */
	mw_sync_go(&sb);
	ASSERT_TRUE(mw_sync_wait(&sb)) TH_LOG("B: %d", reap(b));
	ASSERT_EQ(1, record(self, a, &a0));
	ASSERT_EQ(1, record(self, b, &b0));
	TH_LOG("migrate_pages(A, node 1 -> 0) by B: %ld not moved (or -errno); A: node 0 %llu KiB; B: allocated %llu -> %llu KiB",
	       m->back, (unsigned long long)a0.node[0] >> 10,
	       (unsigned long long)b1.allocated >> 10,
	       (unsigned long long)b0.allocated >> 10);
	ASSERT_LE(0, m->back);
	EXPECT_LE(bytes - 4 * MIB, a0.node[0]) TH_LOG("A's pages did not move back");
	/* Before: 568 to 620 KiB, pages memwatch had not counted. */
	EXPECT_GT(b1.allocated + 64 * 1024, b0.allocated)
		TH_LOG("pages with no owner became the mover's");
	reap(b);
	reap(a);
	munmap(m, PAGE);
}

TEST_HARNESS_MAIN
