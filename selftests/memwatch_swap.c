// SPDX-License-Identifier: GPL-2.0
/*
 * The tests of the fixture `host` that need swap, which only the guest
 * `scripts/vm-run --profile host` boots has (512 MiB on a virtio disk):
 * memory swapped out in a process's record, and the host's swap counted
 * in a root policy's usage (`memctl policy set / --swap`).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_host.h"

MW_FIXTURE(host);

/* VmSwap of pid from /proc/PID/status, in bytes, or -1. */
static long long vm_swap(pid_t pid)
{
	char path[64], line[128];
	long long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : kib * 1024;
}

/*
 * A child in a new cgroup name of 64 MiB with swap, holding bytes (the
 * rest swapped out) until told to go: its pid, or -1.
 */
static pid_t swapping_child(const char *name, size_t bytes, struct mw_sync *s)
{
	char path[128];
	pid_t child;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.swap.max", name);
	if (!mw_cgroup_make(name, "64M") || mw_write(path, "max") ||
	    mw_sync_init(s))
		return -1;
	child = fork();
	if (!child) {
		if (mw_cgroup_enter(name) || !mw_alloc_on(bytes, -1))
			_exit(10);
		mw_sync_child(s);
		_exit(0);
	}
	return child;
}

/*
 * Swap per process: a child holding 128 MiB in a cgroup of 64 MiB has
 * half of it swapped out. Its record says so (swap_bytes as VmSwap), and
 * its anonymous part of live is what stayed resident.
 */
TEST_F_TIMEOUT(host, swapped_out_memory_is_in_the_record, 300)
{
	const size_t bytes = 128UL << 20;
	char name[64];
	const struct mw_proc *r;
	struct mw_sync s;
	long long vmswap;
	pid_t child;

	snprintf(name, sizeof(name), "mw-host-swap-%d", getpid());
	child = swapping_child(name, bytes, &s);
	ASSERT_LT(0, child);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("the child could not allocate");
	vmswap = vm_swap(child);
	ASSERT_EQ(0, dump_pid(self, child));
	ASSERT_EQ(1, self->recs.n);
	r = &self->recs.v[0];
	EXPECT_LE(48ULL << 20, r->swap) TH_LOG("swap %lu KiB, VmSwap %lld KiB",
					      r->swap >> 10, vmswap >> 10);
	/* Read apart from VmSwap: within 8 MiB of each other. */
	EXPECT_GE((long long)r->swap + (8LL << 20), vmswap);
	EXPECT_LE((long long)r->swap, vmswap + (8LL << 20));
	EXPECT_GE(64ULL << 20, r->anon) TH_LOG("anon %lu KiB", r->anon >> 10);
	EXPECT_EQ(r->live, r->anon + r->file);
	mw_sync_go(&s);
	waitpid(child, NULL, 0);
	mw_cgroup_remove(name);
}

/* A field of /proc/meminfo, in bytes, or -1. */
static long long meminfo(const char *field)
{
	char line[128], name[64];
	long long kib, val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (val < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %lld", name, &kib) == 2 &&
		    !strcmp(name, field))
			val = kib * 1024;
	fclose(f);
	return val;
}

/* The root policy's usage and level, from memctl policy list --json. */
static int root_policy(long long *usage, char *level, size_t len)
{
	char out[MW_OUTSZ], err[MW_OUTSZ], fmt[64];
	const char *p;

	if (mw_memctl(out, err, "policy", "list", "--json", MW_END))
		return -1;
	p = strstr(out, "{\"cgroup\":\"/\",");
	if (!p || !(p = strstr(p, "\"level\":")))
		return -1;
	snprintf(fmt, sizeof(fmt), "\"level\":\"%%%zu[a-z]\"", len - 1);
	if (sscanf(p, fmt, level) != 1)
		return -1;
	p = strstr(p, "\"usage_bytes\":");
	return p && sscanf(p, "\"usage_bytes\":%lld", usage) == 1 ? 0 : -1;
}

/*
 * The root policy's level, polled until it is want (true) or timeout_ms
 * passed; the last usage read in *usage.
 */
static bool root_level_is(const char *want, int timeout_ms, long long *usage)
{
	struct timespec t0;
	char level[16];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (!root_policy(usage, level, sizeof(level)) &&
		    !strcmp(level, want))
			return true;
		sleep_ms(100);
	} while (ms_since(&t0) < (unsigned long)timeout_ms);
	return false;
}

/*
 * 6. The host's swap in a root policy's usage (policy set / --swap): a
 * child holding 256 MiB in a 64 MiB cgroup pushes about 192 MiB of it to
 * swap, and the host's RAM in use grows by about 64 MiB only. A level
 * 160 MiB over the usage before is crossed only with swap counted; the
 * usage is RAM in use plus SwapTotal - SwapFree (within 32 MiB: page cache
 * and the kernel move meanwhile), and the level falls back when the
 * child exits and its swap is freed.
 */
TEST_F_TIMEOUT(host, root_policy_counts_the_hosts_swap, 300)
{
	const size_t bytes = 256UL << 20;
	char out[MW_OUTSZ], err[MW_OUTSZ], name[64], at[32];
	long long base, usage, ram, swap;
	struct mw_sync s;
	pid_t child;

	ASSERT_LT(256LL << 20, meminfo("SwapFree"))
		TH_LOG("the --profile host guest has 512 MiB of swap");
	/* The usage before, with swap counted: the level is off (100%). */
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", "/", "--notify",
			       "100%", "--swap", MW_END)) TH_LOG("%s", err);
	ASSERT_TRUE(root_level_is("none", 1000, &base));
	snprintf(at, sizeof(at), "%lld", base + (160LL << 20));
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "set", "/", "--notify", at,
			       "--swap", MW_END)) TH_LOG("%s", err);

	snprintf(name, sizeof(name), "mw-host-rootswap-%d", getpid());
	child = swapping_child(name, bytes, &s);
	ASSERT_LT(0, child);
	ASSERT_TRUE(mw_sync_wait(&s)) TH_LOG("the child could not allocate");
	/* The worker's 200 ms tick sees it if no charge did. */
	EXPECT_TRUE(root_level_is("notify", 5000, &usage))
		TH_LOG("usage %lld MiB, level at %lld MiB, swap used %lld MiB",
		       usage >> 20, (base >> 20) + 160,
		       (meminfo("SwapTotal") - meminfo("SwapFree")) >> 20);
	ram = meminfo("MemTotal") - meminfo("MemAvailable");
	swap = meminfo("SwapTotal") - meminfo("SwapFree");
	fprintf(stderr, "# usage %lld MiB: RAM in use %lld MiB, swap used %lld MiB (before: %lld MiB)\n",
		usage >> 20, ram >> 20, swap >> 20, base >> 20);
	EXPECT_LE(160LL << 20, swap);
	EXPECT_GE(ram + swap + (32LL << 20), usage);
	EXPECT_LE(ram + swap - (32LL << 20), usage);

	mw_sync_go(&s);
	waitpid(child, NULL, 0);
	EXPECT_TRUE(root_level_is("none", 5000, &usage))
		TH_LOG("usage %lld MiB after the child exited", usage >> 20);
	EXPECT_EQ(0, mw_memctl(out, err, "policy", "clear", "/", MW_END))
		TH_LOG("%s", err);
	mw_cgroup_remove(name);
}

TEST_HARNESS_MAIN
