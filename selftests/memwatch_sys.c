// SPDX-License-Identifier: GPL-2.0
/*
 * The tests' view of the system around the module: /proc and /sys knobs
 * set and put back, the kernel log's splats, fault injection, vmstat,
 * the page cache. memwatch_util.c has processes, cgroups and the module;
 * memwatch_nl.c netlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memwatch_util.h"

const char *mw_big_file(size_t bytes)
{
	static const char *const candidates[] = {
		"/usr/src/linux-source-6.1.tar.xz",
		"/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1",
		NULL,
	};
	struct stat st;
	int i;

	for (i = 0; candidates[i]; i++)
		if (!stat(candidates[i], &st) && (size_t)st.st_size >= bytes)
			return candidates[i];
	return NULL;
}

void mw_cache_mapped_files(void)
{
	char line[512], last[512] = "", buf[65536];
	FILE *maps = fopen("/proc/self/maps", "r");
	int fd;

	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');

		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		if (!strcmp(path, last))
			continue;
		snprintf(last, sizeof(last), "%s", path);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	fclose(maps);
}

long long mw_vmstat(const char *name)
{
	char line[128];
	size_t n = strlen(name);
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = atoll(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

int mw_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	buf[0] = 0;
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return err;
}

/*
 * Every knob changed through mw_knob_set(), with the value it had. A
 * kselftest test runs in a process of its own: static is per test.
 */
#define MW_MAX_KNOBS 32
static struct mw_knob {
	char path[128];
	char old[64];
} mw_knobs[MW_MAX_KNOBS];
static int mw_nknobs;

/*
 * A knob's value as it can be written back: "always [madvise] never" is
 * "madvise".
 */
static int mw_knob_value(const char *path, char *buf, size_t len)
{
	char line[64], *open, *close;
	int err = mw_read_line(path, line, sizeof(line));

	if (err)
		return err;
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close) {
		*close = 0;
		snprintf(buf, len, "%s", open + 1);
	} else {
		snprintf(buf, len, "%s", line);
	}
	return 0;
}

int mw_knob_set(const char *path, const char *val)
{
	int i;

	for (i = 0; i < mw_nknobs; i++)
		if (!strcmp(mw_knobs[i].path, path))
			break;
	if (i == mw_nknobs) {
		int err;

		if (mw_nknobs == MW_MAX_KNOBS)
			return -ENOSPC;
		err = mw_knob_value(path, mw_knobs[i].old,
				    sizeof(mw_knobs[i].old));
		if (err)
			return err;
		snprintf(mw_knobs[i].path, sizeof(mw_knobs[i].path), "%s",
			 path);
		mw_nknobs++;
	}
	return mw_write(path, val);
}

void mw_knobs_restore(void)
{
	char now[64];

	while (mw_nknobs > 0) {
		const struct mw_knob *k = &mw_knobs[--mw_nknobs];

		if (!mw_knob_value(k->path, now, sizeof(now)) &&
		    !strcmp(now, k->old))
			continue;
		if (mw_write(k->path, k->old))
			fprintf(stderr, "# teardown: cannot put %s back to %s\n",
				k->path, k->old);
	}
}

int mw_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

const char *mw_kmsg_splat(int fd, char *line, size_t len)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "general protection", "KASAN:",
		"kernel BUG at", "divide error", "invalid opcode",
		"scheduling while atomic", "possible circular locking",
		"possible recursive locking", "inconsistent lock state",
		"suspicious RCU usage", "ODEBUG:", NULL,
	};
	static char rec[8192];	/* a record, as /dev/kmsg gives it whole */
	const char *found = NULL;
	int i;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		for (i = 0; msg && bad[i] && !found; i++) {
			if (strstr(msg, bad[i])) {
				msg[strcspn(msg, "\n")] = 0;
				snprintf(line, len, "%s", msg + 1);
				found = line;
			}
		}
	}
	return found;
}

static const char mw_fail_page[] = "/sys/kernel/debug/fail_page_alloc";
static const char mw_fail_slab[] = "/sys/kernel/debug/failslab";
#define MW_FAULTS_TIMES 1000000000L

static int mw_fault_set(const char *dir, const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, knob);
	return mw_knob_set(path, val);
}

int mw_faults_on(int page_pct, int slab_pct)
{
	char page[16], slab[16], times[24];
	/* probability last: mw_knobs_restore() puts it back first. */
	const char *const set[][3] = {
		{ mw_fail_page, "verbose", "0" },
		{ mw_fail_page, "ignore-gfp-wait", "N" },
		{ mw_fail_page, "ignore-gfp-highmem", "N" },
		{ mw_fail_page, "min-order", "0" },
		{ mw_fail_page, "task-filter", "Y" },
		{ mw_fail_page, "interval", "1" },
		{ mw_fail_page, "times", times },
		{ mw_fail_slab, "verbose", "0" },
		{ mw_fail_slab, "ignore-gfp-wait", "N" },
		{ mw_fail_slab, "task-filter", "Y" },
		{ mw_fail_slab, "interval", "1" },
		{ mw_fail_slab, "times", times },
		{ mw_fail_page, "probability", page },
		{ mw_fail_slab, "probability", slab },
	};
	size_t i;

	if (access(mw_fail_page, F_OK) || access(mw_fail_slab, F_OK))
		return -ENOENT;
	snprintf(page, sizeof(page), "%d", page_pct);
	snprintf(slab, sizeof(slab), "%d", slab_pct);
	snprintf(times, sizeof(times), "%ld", MW_FAULTS_TIMES);
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		int err = mw_fault_set(set[i][0], set[i][1], set[i][2]);

		if (err)
			return err;
	}
	return 0;
}

long mw_faults_injected(bool slab)
{
	char path[128], line[32];

	snprintf(path, sizeof(path), "%s/times",
		 slab ? mw_fail_slab : mw_fail_page);
	if (mw_read_line(path, line, sizeof(line)))
		return -1;
	return MW_FAULTS_TIMES - strtol(line, NULL, 10);
}

int mw_drain_lru(void)
{
	int node = 0;

	/*
	 * move_pages() with somewhere to move to begins with
	 * lru_cache_disable(), which drains every CPU's batch, even for no
	 * page. (compact_memory drains too, but then compacts all memory:
	 * minutes on the debug kernel under emulation.)
	 */
	return syscall(SYS_move_pages, 0, 0UL, NULL, &node, NULL, 0) ? -errno :
								      0;
}
