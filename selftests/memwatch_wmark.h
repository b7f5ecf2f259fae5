/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture "wmark" of memwatch_wmark (a cgroup's watermarks) and
 * memwatch_wmark_host (the host's, a node's, the OOM kill's): memwatch
 * loaded, a command socket and one joined to the "events" group, no
 * policy left from an earlier test, and a cgroup of 128M for the test.
 * With the event reader and the policy requests both programs' tests
 * make.
 */
#ifndef MEMWATCH_WMARK_H
#define MEMWATCH_WMARK_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/memwatch.h>

#include "memwatch_fixture.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

FIXTURE_DATA(wmark) {
	int fd, evfd;
	uint16_t id;
	bool was_loaded;
	struct mw_nl_reply r;
	char name[64];
	uint64_t cgid;
};

int wmark_fx_setup(FIXTURE_DATA(wmark) *self);
void wmark_fx_teardown(FIXTURE_DATA(wmark) *self, bool passed);

struct ev {
	uint64_t cgid, usage, limit, threshold, ts;
	uint64_t work, built;		/* the stages' stamps */
	int node;			/* -1: no EVENT_NODE */
	uint8_t level, dir, fired;
	uint32_t victim;
	int ntop;
	uint32_t top[8];
	int nwmarks;			/* -1: no EVENT_WMARKS */
	uint64_t thr[MEMWATCH_NR_LEVELS + 1];	/* from EVENT_WMARKS */
};

/* The next event within ms: 1, or 0 on timeout. */
int next_event(int fd, int ms, struct ev *e);

/* POLICY_SET for cgid with (level, percent) pairs; 0 or -errno. */
int set_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid, int n,
	       const int (*lp)[2]);
/* POLICY_DEL for cgid: 0 or -errno. */
int del_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid);
/* POLICY_SET (cgid 0: none) or, with lp NULL, POLICY_DEL for node. */
int node_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid, uint32_t node,
		int n, const int (*lp)[2]);
int del_node_policy(FIXTURE_DATA(wmark) *self, uint32_t node);
/* How many policies a POLICY_GET dump gives, or -1. */
int policies(FIXTURE_DATA(wmark) *self);

/* A child in the cgroup that allocates in steps, then frees in steps. */
pid_t stepper(const char *cgroup, struct mw_sync *s, size_t step, int steps);

#endif
