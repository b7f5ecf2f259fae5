/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture `host` of memwatch_host and memwatch_swap, the tests of what
 * a production machine does that a clean test guest does not: the module
 * loaded, its family open, the kernel log read from setup on; every CPU
 * online at setup, and the knobs, a root policy and what a test left
 * running undone at teardown.
 */
#ifndef MEMWATCH_HOST_H
#define MEMWATCH_HOST_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "memwatch_fixture.h"
#include "memwatch_util.h"

FIXTURE_DATA(host) {
	int fd;
	uint16_t id;
	bool was_loaded;
	int kmsg;		/* /dev/kmsg, past what was there at setup */
	struct mw_nl_reply r;
	struct mw_procs recs;
};

int host_fx_setup(FIXTURE_DATA(host) *self);
void host_fx_teardown(FIXTURE_DATA(host) *self, bool passed);

/* The module still answers: STATUS gives its version. */
bool status_answers(FIXTURE_DATA(host) *self);
/* PROC_GET of pid into self->recs: 0 or -errno. */
int dump_pid(FIXTURE_DATA(host) *self, pid_t pid);
/* Sleep ms, however many signals come. */
void sleep_ms(unsigned long ms);
/* Milliseconds since t0 (CLOCK_MONOTONIC). */
unsigned long ms_since(const struct timespec *t0);

/*
 * What memwatch_host's tests read of the host's CPUs, here beside
 * online_all_cpus() (which keeps memwatch_host.c short):
 * hotpluggable_cpu(), the highest CPU that can go offline (not cpu0), or
 * -1; online_cpus(), how many CPUs are online, their numbers in cpus;
 * ipis(), a row of /proc/interrupts ("CAL:", "TLB:") summed over the CPUs.
 */
int hotpluggable_cpu(void);
int online_cpus(int *cpus, int max);
unsigned long long ipis(const char *row);

#endif
