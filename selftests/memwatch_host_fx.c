// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture `host` (memwatch_host.h): its setup, its teardown, the
 * helpers of both its programs, memwatch_host and memwatch_swap, and what
 * memwatch_host reads of the host's CPUs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "memwatch_host.h"
#include "memwatch_util.h"

/*
 * A CPU a test offlined and could not put back (it was killed by its
 * timeout, which skips the teardown) would change every test after it.
 */
static void online_all_cpus(void)
{
	char path[64], val[8];
	int cpu;

	for (cpu = 1; cpu < CPU_SETSIZE; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d",
			 cpu);
		if (access(path, F_OK))
			break;
		strcat(path, "/online");
		if (mw_read_line(path, val, sizeof(val)) || strcmp(val, "0"))
			continue;
		fprintf(stderr, "# setup: cpu%d was offline: onlining it\n",
			cpu);
		mw_write(path, "1");
	}
}

int host_fx_setup(FIXTURE_DATA(host) *self)
{
	uint32_t grp;

	online_all_cpus();
	if (mw_fx_open(&self->was_loaded, &self->fd, &self->id, &grp))
		return -1;
	/* What the kernel logs from now on is this test's. */
	self->kmsg = mw_kmsg_open();
	if (self->kmsg < 0) {
		fprintf(stderr, "# setup: opening /dev/kmsg failed: %s\n",
			strerror(-self->kmsg));
		return -1;
	}
	return 0;
}

void host_fx_teardown(FIXTURE_DATA(host) *self, bool passed)
{
	char out[MW_OUTSZ], err[MW_OUTSZ];

	(void)passed;	/* the same teardown whether the test passed or not */
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	/* A root policy a failed test left (none: memctl says so, ignored). */
	mw_memctl(out, err, "policy", "clear", "/", MW_END);
	mw_knobs_restore();
	close(self->kmsg);
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

bool status_answers(FIXTURE_DATA(host) *self)
{
	return mw_status_answers(self->fd, self->id, &self->r);
}

int dump_pid(FIXTURE_DATA(host) *self, pid_t pid)
{
	uint32_t p = pid;
	char attrs[16];
	size_t len = 0;

	if (!mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_PROC_PID, &p,
			sizeof(p)))
		return -EMSGSIZE;
	return mw_proc_dump(self->fd, self->id, attrs, len, &self->recs,
			    &self->r);
}

void sleep_ms(unsigned long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

unsigned long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The highest CPU that can go offline (not cpu0), or -1. */
int hotpluggable_cpu(void)
{
	char path[64], val[8];
	int cpu, found = -1;

	for (cpu = 1; cpu < CPU_SETSIZE; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d",
			 cpu);
		if (access(path, F_OK))
			break;
		strcat(path, "/online");
		if (!access(path, W_OK) && !mw_read_line(path, val, sizeof(val)) &&
		    !strcmp(val, "1"))
			found = cpu;
	}
	return found;
}

/* The online CPUs: how many, their numbers in cpus. */
int online_cpus(int *cpus, int max)
{
	char list[256], *tok, *save = NULL;
	int n = 0;

	if (mw_read_line("/sys/devices/system/cpu/online", list, sizeof(list)))
		return 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int a, b, k = sscanf(tok, "%d-%d", &a, &b);

		if (k < 1)
			continue;
		if (k == 1)
			b = a;
		for (; a <= b && n < max; a++)
			cpus[n++] = a;
	}
	return n;
}

/* A row of /proc/interrupts ("CAL:", "TLB:"), summed over the CPUs. */
unsigned long long ipis(const char *row)
{
	char line[4096];
	unsigned long long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, row, strlen(row)))
			continue;
		p += strlen(row);
		for (;;) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}
