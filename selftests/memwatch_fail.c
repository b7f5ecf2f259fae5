// SPDX-License-Identifier: GPL-2.0
/*
 * Allocations that fail, on a kernel built with fault injection
 * (CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAILSLAB: the kernel of
 * `make check-debug`, scripts/debug.config; Debian's has neither): the
 * module's load and unload, and each netlink command, with the n-th page
 * or slab allocation of the calling thread failed, for every n until the
 * call makes no more (/proc/thread-self/fail-nth). Every failure must
 * unwind, leave nothing half set up, and the module must work after.
 * memwatch_failwork fails allocations of workloads at random.
 *
 * What a failure path leaked, guest-check's kmemleak scan after the
 * unload finds; what it broke, the splat checks of the guest and of
 * each test here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

FIXTURE(fail) {
	int fd;
	uint16_t id;
	bool was_loaded;
	int kmsg;
	int nth;		/* /proc/thread-self/fail-nth */
	struct mw_nl_reply r;
	struct mw_procs recs;
};

/* Fail the n-th allocation of this thread from now (0: none). */
static void nth_arm(int fd, unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(fd, b, len, 0) != len)
		fprintf(stderr, "# fail-nth %u: %s\n", n, strerror(errno));
}

/* After the call: was the failure injected? Disarms. */
static bool nth_hit(int fd)
{
	char b[16] = "";
	bool hit = pread(fd, b, sizeof(b) - 1, 0) > 0 && atoi(b) == 0;

	nth_arm(fd, 0);
	return hit;
}

static int connect_family(FIXTURE_DATA(fail) *self)
{
	uint32_t grp;

	if (self->fd >= 0)
		close(self->fd);
	self->fd = mw_nl_open_family(&self->id, &grp);
	return self->fd < 0 ? self->fd : 0;
}

FIXTURE_SETUP(fail)
{
	int err;

	self->fd = -1;
	self->nth = self->kmsg = -1;
	err = mw_faults_on(0, 0);
	if (err == -ENOENT)
		SKIP(return, "no fail_page_alloc or failslab in debugfs: a kernel without FAIL_PAGE_ALLOC and FAILSLAB (make check-debug has both)");
	ASSERT_EQ(0, err);
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	ASSERT_EQ(0, connect_family(self));
	self->kmsg = mw_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	/* Fault in what the calls below write to: not their allocations. */
	memset(&self->recs, 0, sizeof(self->recs));
	memset(&self->r, 0, sizeof(self->r));
}

FIXTURE_TEARDOWN(fail)
{
	mw_knobs_restore();
	if (self->nth < 0)
		return;		/* skipped, or failed before the module */
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	close(self->nth);
	close(self->kmsg);
	if (self->fd >= 0)
		close(self->fd);
	mw_module_ensure(self->was_loaded);
}

static bool status_answers(FIXTURE_DATA(fail) *self)
{
	return mw_status_answers(self->fd, self->id, &self->r);
}

/* Is there a "memwatch" family (a failed load must not leave one)? */
static bool family_registered(void)
{
	uint32_t version, grp;
	uint16_t id;
	int fd = mw_nl_open(), err;

	if (fd < 0)
		return true;
	err = mw_nl_family(fd, MEMWATCH_GENL_NAME, &id, &version, &grp);
	close(fd);
	return err != -ENOENT;
}

/*
 * The module file, copied to a memfd: the sweeps load it a thousand
 * times, and a read from the guest's 9p root is slow.
 */
static int module_copy(void)
{
	int in = open(mw_module_path(), O_RDONLY | O_CLOEXEC);
	int out = memfd_create("memwatch.ko", MFD_CLOEXEC);
	static char buf[64 * KIB];
	ssize_t n = -1;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (in < 0 || n < 0) {
		if (out >= 0)
			close(out);
		return -1;
	}
	return out;
}

/* finit_module() of the module in mod: 0 or -errno. */
static long load(int mod, const char *params)
{
	return syscall(SYS_finit_module, mod, params, 0) ? -errno : 0;
}

/*
 * How many allocations (fault-injection checks) a load with params
 * makes, all in all, or -errno. Leaves the module unloaded.
 */
static long load_allocations(FIXTURE_DATA(fail) *self, int mod,
			     const char *params)
{
	const unsigned int many = 1000000;
	char b[16] = "";
	long err;

	nth_arm(self->nth, many);
	err = load(mod, params);
	if (pread(self->nth, b, sizeof(b) - 1, 0) <= 0)
		err = err ?: -EIO;
	nth_arm(self->nth, 0);
	if (err)
		return err;
	err = mw_module_unload();
	return err ?: (long)(many - strtoul(b, NULL, 10));
}

/*
 * Load with params, failing its n-th allocation, for every n from first
 * until the load makes fewer than n. A failed load must leave no module
 * and no family behind; a load that absorbed its failure (a fallback)
 * must work. Leaves the module loaded.
 */
static void sweep_load(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fail) *self, int mod, const char *params,
		       int first)
{
	int n, loads_failed = 0, loads_absorbed = 0;
	long err = 0;

	for (n = first; n < 100000; n++) {
		bool hit;

		nth_arm(self->nth, n);
		err = load(mod, params);
		hit = nth_hit(self->nth);
		if (!hit)
			break;
		if (err) {
			loads_failed++;
			ASSERT_FALSE(mw_module_loaded())
				TH_LOG("%s: load failing allocation %d: %ld, module left loaded",
				       params, n, err);
			ASSERT_FALSE(family_registered())
				TH_LOG("%s: load failing allocation %d: %ld, family left registered",
				       params, n, err);
		} else {
			loads_absorbed++;
			ASSERT_EQ(0, connect_family(self));
			ASSERT_TRUE(status_answers(self))
				TH_LOG("%s: loaded past failed allocation %d, STATUS %d",
				       params, n, self->r.error);
			close(self->fd);
			self->fd = -1;
			ASSERT_EQ(0, mw_module_unload());
		}
	}
	ASSERT_EQ(0, err) TH_LOG("%s: the load with no failure: %ld", params,
				 err);
	TH_LOG("%s: failing each of allocations %d to %d: %d loads failed, %d went on",
	       params, first, n - 1, loads_failed, loads_absorbed);
	EXPECT_LT(10, loads_failed) TH_LOG("%s: fail-nth failed no load",
					   params);
}

/*
 * Unload (the module loaded with params), failing its n-th allocation,
 * for every n until the unload makes fewer: every unload must work and
 * take the family with it. Leaves the module unloaded.
 */
static void sweep_unload(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fail) *self, int mod, const char *params)
{
	int n;

	for (n = 1; n < 100000; n++) {
		long err;
		bool hit;

		ASSERT_EQ(0, load(mod, params));
		nth_arm(self->nth, n);
		err = syscall(SYS_delete_module, "memwatch", O_NONBLOCK) ?
			-errno : 0;
		hit = nth_hit(self->nth);
		ASSERT_EQ(0, err) TH_LOG("%s: unload failing allocation %d",
					 params, n);
		ASSERT_FALSE(family_registered());
		if (!hit)
			break;
	}
	TH_LOG("%s: failing each of the unload's %d allocations: every unload went on",
	       params, n - 1);
}

/* A process holding bytes of anonymous memory is counted for it. */
static void counts_work(struct __test_metadata *_metadata,
			FIXTURE_DATA(fail) *self)
{
	struct mw_proc rec;
	struct mw_sync s;
	pid_t child;

	ASSERT_EQ(0, mw_sync_init(&s));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (!mw_alloc_on(16 * MIB, -1))
			_exit(10);
		mw_sync_child(&s);
		_exit(0);
	}
	ASSERT_TRUE(mw_sync_wait(&s));
	ASSERT_EQ(1, mw_proc_record(self->fd, self->id, child, &rec,
				    &self->recs, &self->r));
	EXPECT_LE(16 * MIB, rec.live);
	EXPECT_GE(16 * MIB + 2 * MIB, rec.live);
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
}

/*
 * Every allocation of a load without the hooks (track=0): the kernel's
 * loader, then memwatch's tables, its family and its event sender. With
 * the hooks, which attach last, from a little before where they start
 * (track=0's count, less the loader's few after the init and the copy
 * of hooks=), in each mode. Every allocation of the unload, without the
 * hooks: the kernel's own kprobe removal WARNs when its ftrace hash
 * cannot be allocated (kernel/kprobes.c, __disarm_kprobe_ftrace(); an
 * unregistration cannot fail back to its caller), which no module can
 * prevent or see.
 */
TEST_F_TIMEOUT(fail, load_and_unload_fail_at_every_allocation, 2400)
{
	static const char *const modes[] = { "hooks=tracepoint", "hooks=kprobe" };
	char line[256];
	int mod, i;
	long bare;

	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mw_module_ensure(false));
	mod = module_copy();
	ASSERT_LE(0, mod);
	bare = load_allocations(self, mod, "track=0");
	ASSERT_LT(0, bare);
	sweep_load(_metadata, self, mod, "track=0", 1);
	ASSERT_EQ(0, mw_module_unload());
	for (i = 0; i < 2; i++) {
		long hooked = load_allocations(self, mod, modes[i]);

		ASSERT_LT(bare, hooked);
		TH_LOG("%s: %ld allocations in a load, %ld with track=0",
		       modes[i], hooked, bare);
		sweep_load(_metadata, self, mod, modes[i],
			   bare > 32 ? bare - 32 : 1);
		ASSERT_EQ(0, mw_module_unload());
	}
	sweep_unload(_metadata, self, mod, "track=0");
	close(mod);
	ASSERT_EQ(0, mw_module_load(""));
	ASSERT_EQ(0, connect_family(self));
	counts_work(_metadata, self);
	EXPECT_EQ(NULL, mw_kmsg_splat(self->kmsg, line, sizeof(line)))
		TH_LOG("dmesg: %s", line);
}

/* Does cgid have a policy (a POLICY_GET dump on fd)? */
static void policy_seen(const void *attrs, int len, void *arg)
{
	uint64_t *cgid = arg;

	if (mw_nla_u64(attrs, len, MEMWATCH_A_POLICY_CGROUP_ID) == *cgid)
		*cgid = 0;
}

static bool has_policy(FIXTURE_DATA(fail) *self, uint64_t cgid)
{
	uint64_t want = cgid;

	mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
		   policy_seen, &want, &self->r);
	return want == 0;
}

enum req { REQ_STATUS, REQ_PROCS, REQ_PROC_PID, REQ_POLICY_SET,
	   REQ_POLICY_GET, REQ_POLICY_DEL, NR_REQ };
static const char *const req_name[NR_REQ] = {
	"STATUS", "PROC_GET", "PROC_GET pid", "POLICY_SET", "POLICY_GET",
	"POLICY_DEL",
};

/* One request of kind k on a socket of its own: 0 or -errno. */
static int request(FIXTURE_DATA(fail) *self, int fd, enum req k,
		   uint64_t cgid, struct mw_nl_reply *r)
{
	uint32_t pid = getpid();
	char attrs[16];
	size_t len = 0;

	switch (k) {
	case REQ_STATUS:
		return mw_nl_xfer(fd, self->id, MEMWATCH_CMD_STATUS, 0, NULL, 0,
				  r);
	case REQ_PROCS:
		return mw_nl_dump(fd, self->id, MEMWATCH_CMD_PROC_GET, NULL, 0,
				  NULL, NULL, r);
	case REQ_PROC_PID:
		mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_PROC_PID,
			   &pid, sizeof(pid));
		return mw_nl_dump(fd, self->id, MEMWATCH_CMD_PROC_GET, attrs,
				  len, NULL, NULL, r);
	case REQ_POLICY_SET:
		return mw_policy_notify_at(fd, self->id, cgid, 50, r);
	case REQ_POLICY_GET:
		return mw_nl_dump(fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL,
				  0, NULL, NULL, r);
	case REQ_POLICY_DEL:
		mw_nla_put(attrs, sizeof(attrs), &len,
			   MEMWATCH_A_POLICY_CGROUP_ID, &cgid, sizeof(cgid));
		return mw_nl_xfer(fd, self->id, MEMWATCH_CMD_POLICY_DEL, 0,
				  attrs, len, r);
	default:
		return -EINVAL;
	}
}

/*
 * Each command, failing its n-th allocation for every n until it makes
 * fewer: the reply is an error or the answer, the module answers the
 * next request, and a POLICY_SET or POLICY_DEL the kernel refused
 * changed nothing. Each try has a socket of its own, closed after it:
 * a dump cut short by the failure is ended there.
 */
TEST_F_TIMEOUT(fail, requests_fail_at_every_allocation, 900)
{
	static struct mw_nl_reply r;
	struct timeval tv = { 10, 0 };
	char cg[64], line[256];
	uint64_t cgid;
	int k, n;

	memset(&r, 0, sizeof(r));

	snprintf(cg, sizeof(cg), "mw-fail-%d", getpid());
	cgid = mw_cgroup_make(cg, "256M");
	ASSERT_NE(0, cgid);
	for (k = 0; k < NR_REQ; k++) {
		int failed = 0;

		for (n = 1; n < 10000; n++) {
			int fd = mw_nl_open(), err;
			bool hit, had;

			ASSERT_LE(0, fd);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (k == REQ_POLICY_SET && has_policy(self, cgid))
				ASSERT_EQ(0, request(self, self->fd,
						     REQ_POLICY_DEL, cgid, &r));
			if (k == REQ_POLICY_DEL && !has_policy(self, cgid))
				ASSERT_EQ(0, request(self, self->fd,
						     REQ_POLICY_SET, cgid, &r));
			had = has_policy(self, cgid);
			/* A warm run first: what it faults in is not the request's. */
			if (n == 1 && (k == REQ_STATUS || k == REQ_PROCS ||
				       k == REQ_PROC_PID || k == REQ_POLICY_GET))
				request(self, fd, k, cgid, &r);
			nth_arm(self->nth, n);
			err = request(self, fd, k, cgid, &r);
			hit = nth_hit(self->nth);
			close(fd);
			ASSERT_NE(-EAGAIN, err) TH_LOG("%s failing allocation %d: no reply in %ld s",
						       req_name[k], n, tv.tv_sec);
			if (hit && err)
				failed++;
			ASSERT_TRUE(status_answers(self))
				TH_LOG("%s failing allocation %d: %d, then STATUS %d",
				       req_name[k], n, err, self->r.error);
			/* Refused by the kernel (an error ACK): nothing changed. */
			if (err == -ENOMEM && (k == REQ_POLICY_SET ||
					       k == REQ_POLICY_DEL))
				EXPECT_EQ(had, has_policy(self, cgid))
					TH_LOG("%s failing allocation %d: -ENOMEM, yet the policy changed",
					       req_name[k], n);
			if (!hit) {
				EXPECT_EQ(0, err) TH_LOG("%s with no failure: %d %s",
							 req_name[k], err, r.extack);
				break;
			}
		}
		TH_LOG("%s: %d allocations, each failed: %d requests failed",
		       req_name[k], n - 1, failed);
		EXPECT_LT(0, n - 1) TH_LOG("%s: no allocation", req_name[k]);
	}
	if (has_policy(self, cgid))
		request(self, self->fd, REQ_POLICY_DEL, cgid, &r);
	EXPECT_EQ(0, mw_cgroup_remove(cg));
	EXPECT_EQ(NULL, mw_kmsg_splat(self->kmsg, line, sizeof(line)))
		TH_LOG("dmesg: %s", line);
}

TEST_HARNESS_MAIN
