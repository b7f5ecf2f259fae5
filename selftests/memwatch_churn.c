// SPDX-License-Identifier: GPL-2.0
/*
 * Whose pages are whose while processes and pages come and go: a stream
 * of short-lived processes that leave page cache behind must not fill
 * the process table, and the hooks, attached one by one at load while
 * pages are allocated, split and freed, must not leave live pages
 * behind. The fixture is memwatch_attrib's (memwatch_attrib.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_attrib.h"

MW_FIXTURE(attrib);

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
