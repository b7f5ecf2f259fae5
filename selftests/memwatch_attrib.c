// SPDX-License-Identifier: GPL-2.0
/*
 * Whose pages are whose, at the edges: kernel work on a host with
 * cpusets (every allocation's traced gfp gets __GFP_HARDWALL), the
 * process table at its ceiling and under a stream of short-lived
 * processes, a migration done by another task, and the hooks attaching
 * while pages churn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)
#define PAGE 4096UL

static const char cg_root[] = "/sys/fs/cgroup";
static const char thp_enabled_path[] =
	"/sys/kernel/mm/transparent_hugepage/enabled";

FIXTURE(attrib) {
	int fd;
	uint16_t id;
	uint32_t grp;
	bool was_loaded;
	bool reloaded;		/* loaded with parameters: back to defaults */
	bool cpuset_enabled;	/* this test wrote +cpuset at the root */
	char cpuset_cg[64];	/* the child cpuset it made, or "" */
	char cg[64];		/* a cgroup with a policy, or "" */
	char mnt[64];		/* a tmpfs it mounted, or "" */
	char thp_enabled[32];	/* THP mode to restore, or "" */
	struct mw_nl_reply r;
	struct mw_procs recs;
};

/* (Re)open the command socket and resolve the family: 0 or -errno. */
static int connect_family(FIXTURE_DATA(attrib) *self)
{
	if (self->fd >= 0)
		close(self->fd);
	self->fd = mw_nl_open_family(&self->id, &self->grp);
	return self->fd < 0 ? self->fd : 0;
}

/* Unload, load with params, reconnect: 0 or -errno. */
static int reload(FIXTURE_DATA(attrib) *self, const char *params)
{
	return mw_reload_open(&self->fd, params, &self->id, &self->grp);
}

FIXTURE_SETUP(attrib)
{
	self->fd = -1;
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	ASSERT_EQ(0, connect_family(self));
}

FIXTURE_TEARDOWN(attrib)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	if (self->mnt[0]) {
		if (umount2(self->mnt, MNT_DETACH) || rmdir(self->mnt))
			fprintf(stderr, "# teardown: cannot remove %s: %s\n",
				self->mnt, strerror(errno));
	}
	if (self->cg[0] && mw_cgroup_remove(self->cg))
		fprintf(stderr, "# teardown: cannot remove cgroup %s\n",
			self->cg);
	if (self->cpuset_cg[0] && mw_cgroup_remove(self->cpuset_cg))
		fprintf(stderr, "# teardown: cannot remove cgroup %s\n",
			self->cpuset_cg);
	if (self->cpuset_enabled) {
		char path[128];

		snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
			 cg_root);
		if (mw_write(path, "-cpuset"))
			fprintf(stderr, "# teardown: cannot disable cpuset\n");
	}
	if (self->thp_enabled[0] &&
	    mw_write(thp_enabled_path, self->thp_enabled))
		fprintf(stderr, "# teardown: cannot restore %s\n",
			thp_enabled_path);
	if (self->fd >= 0)
		close(self->fd);
	if (self->reloaded) {
		mw_module_ensure(false);
		mw_module_load("");
	}
	mw_module_ensure(self->was_loaded);
}

/* The record of pid (a PROC_GET with its pid) into *out: 1, 0 or -errno. */
static int record(FIXTURE_DATA(attrib) *self, pid_t pid, struct mw_proc *out)
{
	return mw_proc_record(self->fd, self->id, pid, out, &self->recs,
			      &self->r);
}

/* A tmpfs of its own for the test, at self->mnt: 0 or -errno. */
static int tmpfs_mount(FIXTURE_DATA(attrib) *self)
{
	char dir[] = "/tmp/mw-attrib.XXXXXX";

	if (!mkdtemp(dir))
		return -errno;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=512m,mode=0700")) {
		int err = -errno;

		rmdir(dir);
		return err;
	}
	snprintf(self->mnt, sizeof(self->mnt), "%s", dir);
	return 0;
}

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

/* For a failure message: how the child ended (kill first). */
static int reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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

/* What a short-lived writer writes, and where. */
struct writer {
	int fd;
	off_t off;
};

static char page_buf[PAGE];

/* Leave one page of page cache behind, and go. */
static int writer_fn(void *arg)
{
	const struct writer *w = arg;

	return pwrite(w->fd, page_buf, PAGE, w->off) == (ssize_t)PAGE ? 0 : 1;
}

/*
 * A process that shares our memory and runs writer_fn on a stack of its
 * own (already touched: it allocates no user page but the file's), while
 * we wait for it to exit (CLONE_VFORK): a fork without the copy.
 */
static pid_t spawn_writer(struct writer *w)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));

	return clone(writer_fn, stack + sizeof(stack),
		     CLONE_VM | CLONE_VFORK | SIGCHLD, w);
}

/* The pids of an event's top list, into top (at most n): how many. */
static int event_top(const char *buf, int len, uint32_t *top, int n)
{
	const struct nlattr *list = mw_nla_find(buf, len, MEMWATCH_A_EVENT_TOP);
	const struct nlattr *p;
	int rem, k = 0;

	if (!list)
		return 0;
	mw_nla_for_each(p, mw_nla_data(list), mw_nla_len(list), rem) {
		const struct nlattr *pid = mw_nla_find(mw_nla_data(p),
						       mw_nla_len(p),
						       MEMWATCH_A_PROC_PID);

		if (pid && k < n)
			top[k++] = *(const uint32_t *)mw_nla_data(pid);
	}
	return k;
}

#define SHORT_LIVED 20000
#define SHORT_BATCH 250

/*
 * Processes that leave page cache behind keep exited records; a stream
 * of them must not fill the table, or every process after lands in
 * [overflow], which events and victim choice skip. Exited records are
 * folded into [exited] when the table is over 3/4 full, at most about
 * once a second: between batches, the test gives the module that second
 * when it is over 3/4 (and stops waiting the first time it does not
 * come down).
 */
TEST_F_TIMEOUT(attrib, short_lived_processes_do_not_fill_the_table, 600)
{
	static pid_t batch[SHORT_BATCH];
	static char ev[MW_NL_BUFSZ];
	int i, k, n, file, evfd, len, failed = 0, waits = 0, ntop;
	bool patient = true, named = false;
	struct timespec t0, t1;
	char path[128];
	struct mw_proc rec;
	struct mw_sync s;
	struct mw_table t;
	uint64_t cgid, overflows;
	uint32_t top[8];
	pid_t hog;

	ASSERT_EQ(0, tmpfs_mount(self));
	snprintf(path, sizeof(path), "%s/cache", self->mnt);
	file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, file);
	memset(page_buf, 'x', sizeof(page_buf));
	ASSERT_EQ(0, mw_status_table(self->fd, self->id, "procs", &t, &self->r));
	overflows = t.overflows;
	TH_LOG("before: procs table %u of %u, overflows %llu", t.entries,
	       t.capacity, (unsigned long long)t.overflows);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < SHORT_LIVED; i += n) {
		n = SHORT_LIVED - i < SHORT_BATCH ? SHORT_LIVED - i : SHORT_BATCH;
		for (k = 0; k < n; k++) {
			struct writer w = { file, (off_t)(i + k) * PAGE };

			batch[k] = spawn_writer(&w);
			ASSERT_LT(0, batch[k]) TH_LOG("clone: %m");
		}
		for (k = 0; k < n; k++) {
			int status;

			ASSERT_EQ(batch[k], waitpid(batch[k], &status, 0));
			failed += !WIFEXITED(status) || WEXITSTATUS(status);
		}
		ASSERT_EQ(0, mw_status_table(self->fd, self->id, "procs", &t, &self->r));
		if (!patient || t.entries <= t.capacity / 4 * 3)
			continue;
		/* Over 3/4: the fold comes within a second or so. */
		for (k = 0; k < 30 && t.entries > t.capacity / 4 * 3; k++) {
			usleep(100000);
			ASSERT_EQ(0, mw_status_table(self->fd, self->id, "procs", &t, &self->r));
		}
		waits++;
		if (t.entries > t.capacity / 4 * 3) {
			patient = false;
			TH_LOG("after %d processes: procs table %u of %u, still over 3/4 after 3 s; not waiting again",
			       i + n, t.entries, t.capacity);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(0, failed) TH_LOG("%d writers failed", failed);
	ASSERT_EQ(0, mw_status_table(self->fd, self->id, "procs", &t, &self->r));
	TH_LOG("%d processes that left a page each in %.1f s (%d waits over 3/4): procs table %u of %u, overflows %llu",
	       SHORT_LIVED, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       waits, t.entries, t.capacity, (unsigned long long)t.overflows);
	/* The special records, first in the dump. */
	ASSERT_EQ(0, mw_proc_dump(self->fd, self->id, NULL, 0, &self->recs,
				  &self->r));
	for (k = 0; k < self->recs.n; k++)
		if (self->recs.v[k].comm[0] == '[')
			TH_LOG("%s: pid %u, state %u, live %llu KiB",
			       self->recs.v[k].comm, self->recs.v[k].pid,
			       self->recs.v[k].state,
			       (unsigned long long)self->recs.v[k].live >> 10);
	EXPECT_GT(t.capacity, t.entries) TH_LOG("the table is full");
	/* Paced as above, the table never filled: no process overflowed. */
	EXPECT_EQ(overflows, t.overflows)
		TH_LOG("%llu processes went to [overflow]",
		       (unsigned long long)(t.overflows - overflows));

	/* A hog in a cgroup with a policy: the event names it. */
	snprintf(self->cg, sizeof(self->cg), "mw-attrib-%d", getpid());
	cgid = mw_cgroup_make(self->cg, "128M");
	ASSERT_NE(0, cgid);
	ASSERT_EQ(0, mw_policy_notify_at(self->fd, self->id, cgid, 25,
					 &self->r))
		TH_LOG("%s", self->r.extack);
	evfd = mw_nl_events_open(self->grp);
	ASSERT_LE(0, evfd);
	ASSERT_EQ(0, mw_sync_init(&s));
	hog = fork();
	ASSERT_LE(0, hog);
	if (!hog) {
		if (mw_cgroup_enter(self->cg) || !mw_alloc_on(48 * MIB, -1))
			_exit(10);
		mw_sync_child(&s);
		_exit(0);
	}
	len = mw_nl_next_of(evfd, cgid, 15000, ev);
	ASSERT_LT(0, len) TH_LOG("no event for the hog's cgroup: %d", len);
	EXPECT_EQ(MEMWATCH_LEVEL_NOTIFY,
		  mw_nla_u8(ev, len, MEMWATCH_A_EVENT_LEVEL));
	EXPECT_EQ(MEMWATCH_DIR_UP,
		  mw_nla_u8(ev, len, MEMWATCH_A_EVENT_DIRECTION));
	ntop = event_top(ev, len, top, 8);
	for (k = 0; k < ntop; k++) {
		TH_LOG("event offender %d: pid %u%s", k, top[k],
		       top[k] == (uint32_t)hog ? " (the hog)" : "");
		named |= top[k] == (uint32_t)hog;
	}
	EXPECT_TRUE(named) TH_LOG("the up event does not name the hog %d (%d offenders)",
				  hog, ntop);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("hog: %d", reap(hog));
	ASSERT_EQ(1, record(self, hog, &rec)) TH_LOG("the hog has no record");
	TH_LOG("hog %d: record pid %u, comm %s, state %u, live %llu KiB", hog,
	       rec.pid, rec.comm, rec.state, (unsigned long long)rec.live >> 10);
	EXPECT_EQ((uint32_t)hog, rec.pid);
	EXPECT_EQ(MEMWATCH_PROC_ALIVE, rec.state);
	EXPECT_LE(48 * MIB * 95 / 100, rec.live);
	reap(hog);
	close(evfd);
	close(file);
	EXPECT_EQ(0, unlink(path));
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

/* The churner's state, shared with the test. */
enum { CHURN_RUN, CHURN_STOP, CHURN_STOPPED };

struct churn {
	int state;
	unsigned long iters;
};

/*
 * One round: a 2 MiB-aligned THP-advised region touched (a huge page),
 * its first half advised cold (which splits the huge page:
 * madvise_cold_or_pageout_pte_range() on part of a PMD), its second half
 * dropped, all unmapped; and 16 small pages mapped, touched, unmapped.
 */
static void churn_once(void)
{
	const size_t huge = 2 * MIB, small = 16 * PAGE;
	char *p, *h, *q;
	size_t off;

	p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(30);
	h = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise(h, huge, MADV_HUGEPAGE);
	for (off = 0; off < huge; off += PAGE)
		h[off] = 1;
	madvise(h, huge / 2, MADV_COLD);
	madvise(h + huge / 2, huge / 2, MADV_DONTNEED);
	munmap(p, 2 * huge);
	q = mmap(NULL, small, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		_exit(31);
	for (off = 0; off < small; off += PAGE)
		q[off] = 1;
	munmap(q, small);
}

static void churner(struct churn *c)
{
	for (;;) {
		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == CHURN_STOP) {
			/* Each round frees what it took: nothing to free. */
			__atomic_store_n(&c->state, CHURN_STOPPED,
					 __ATOMIC_RELEASE);
			while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) ==
			       CHURN_STOPPED)
				usleep(1000);
		}
		churn_once();
		__atomic_add_fetch(&c->iters, 1, __ATOMIC_RELAXED);
	}
}

/* Ask the churner to stop and wait (10 s at most): true once it has. */
static bool churn_stop(struct churn *c)
{
	int i;

	__atomic_store_n(&c->state, CHURN_STOP, __ATOMIC_RELEASE);
	for (i = 0; i < 10000; i++) {
		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) ==
		    CHURN_STOPPED)
			return true;
		usleep(1000);
	}
	return false;
}

#define CHURN_CYCLES 20
#define CHURN_SLACK (64 * PAGE)	/* LRU batches and the like */

/*
 * The stopped churner's live bytes into *live (0 without a record): 1 or
 * 0 (whether it has a record), or -errno. Pages in the per-CPU LRU
 * batches are freed when those drain: while live is over the slack,
 * drain them (compaction does) and look again, for 2 s.
 */
static int churner_live(FIXTURE_DATA(attrib) *self, pid_t pid,
			unsigned long *live)
{
	struct mw_proc rec = { .live = 0 };
	int k, got = 0;

	for (k = 0; k < 20; k++) {
		got = record(self, pid, &rec);
		if (got < 0)
			return got;
		*live = got ? rec.live : 0;
		if (*live <= CHURN_SLACK)
			break;
		if (!k)
			mw_drain_lru();
		usleep(100000);
	}
	return got;
}

/*
 * memwatch attaches its hooks one by one at load, while the machine
 * allocates: a page allocated and freed, or a huge page allocated and
 * split, between two attachments must not leave live pages behind. A
 * churner allocates, splits and frees all along; after each load it
 * stops with nothing mapped but what it had before (its stack and
 * binary, counted before the load if at all), so its live figure must
 * fall back to about 0.
 */
TEST_F_TIMEOUT(attrib, hooks_attach_while_pages_churn, 600)
{
	uint64_t thp0, split0, thp1, split1;
	unsigned long worst = 0, leaked = 0, base = 0;
	char mode[64] = "";
	struct churn *c;
	int i, bad = 0, fd, got;
	ssize_t n;
	pid_t pid;

	fd = open(thp_enabled_path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("no %s", thp_enabled_path);
	n = read(fd, mode, sizeof(mode) - 1);
	close(fd);
	mode[n > 0 ? n : 0] = '\0';
	/* "always [madvise] never": the word in brackets is the mode. */
	if (strstr(mode, "[never]")) {
		strcpy(self->thp_enabled, "never");
		ASSERT_EQ(0, mw_write(thp_enabled_path, "madvise"));
	}
	c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	c->state = CHURN_RUN;
	c->iters = 0;
	thp0 = mw_vmstat("thp_fault_alloc");
	split0 = mw_vmstat("thp_split_page");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		churner(c);
	/*
	 * Its first rounds fault its stack and data in: before any cycle. A
	 * round faults a huge page, which may compact first: on 6.12 beside
	 * a second guest the first 20 took over 5 s once. A minute at most.
	 */
	for (i = 0; i < 1200 && __atomic_load_n(&c->iters, __ATOMIC_RELAXED) < 20;
	     i++)
		usleep(50000);
	ASSERT_LE(20, c->iters) TH_LOG("the churner does not churn (%d ms)",
				       i * 50);

	/* No load while it churns: the figure the cycles are held to. */
	ASSERT_TRUE(churn_stop(c)) TH_LOG("the churner does not stop");
	got = churner_live(self, pid, &base);
	ASSERT_LE(0, got);
	TH_LOG("loaded before the churn began, %lu rounds: churner live %lu KiB",
	       c->iters, base >> 10);
	EXPECT_GE(CHURN_SLACK, base)
		TH_LOG("pages stay live with no load in between");
	__atomic_store_n(&c->state, CHURN_RUN, __ATOMIC_RELEASE);

	for (i = 0; i < CHURN_CYCLES; i++) {
		unsigned long live = 0, iters = c->iters;

		ASSERT_EQ(0, reload(self, "")) TH_LOG("cycle %d", i);
		ASSERT_TRUE(churn_stop(c)) TH_LOG("cycle %d: the churner does not stop",
						  i);
		got = churner_live(self, pid, &live);
		ASSERT_LE(0, got);
		TH_LOG("cycle %d: %lu rounds during the load, churner live %lu KiB%s",
		       i, c->iters - iters, live >> 10,
		       got ? "" : " (no record)");
		if (live > CHURN_SLACK) {
			bad++;
			leaked += live;
		}
		if (live > worst)
			worst = live;
		__atomic_store_n(&c->state, CHURN_RUN, __ATOMIC_RELEASE);
	}
	thp1 = mw_vmstat("thp_fault_alloc");
	split1 = mw_vmstat("thp_split_page");
	TH_LOG("%d cycles: %d with the churner's live over %lu KiB (worst %lu KiB, %lu KiB in all); %lu rounds, %llu huge pages faulted, %llu split",
	       CHURN_CYCLES, bad, CHURN_SLACK >> 10, worst >> 10, leaked >> 10,
	       c->iters, (unsigned long long)(thp1 - thp0),
	       (unsigned long long)(split1 - split0));
	EXPECT_EQ(0, bad);
	reap(pid);
	munmap(c, PAGE);
}

TEST_HARNESS_MAIN
