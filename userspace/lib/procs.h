/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_PROCS_H
#define MEMCTL_PROCS_H

#include <stddef.h>
#include <stdint.h>

#include "nl.h"

#define MW_PROC_NODES 64

/* A process record as PROC_GET dumps it. */
struct mw_proc {
	uint32_t pid;
	uint8_t state;
	char comm[32];
	char cgroup[256];
	uint64_t live, local, remote, allocated, released, rate;
	uint64_t anon, file, swap;	/* live = anon + file; swap apart */
	unsigned int n_nodes;
	struct {
		uint32_t node;
		uint64_t live;
	} nodes[MW_PROC_NODES];
};

struct mw_procs {
	struct mw_proc *v;
	size_t n, cap;
};

/*
 * The records (of pid, of the cgroup subtree cgroup_id; 0 for any) into
 * l, which grows as needed (free l->v): 0 or -errno.
 */
int mw_procs_fetch(struct mw_nl *nl, uint32_t pid, uint64_t cgroup_id,
		   struct mw_procs *l);

#endif
