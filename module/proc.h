/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PROC_H
#define _MEMWATCH_PROC_H

#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/types.h>

/* Slot ids fit the 15 bits a page's owner entry has for them (pfn.h). */
#define MEMWATCH_SLOT_NONE	0
#define MEMWATCH_SLOT_KERNEL	1
#define MEMWATCH_SLOT_OVERFLOW	2
#define MEMWATCH_SLOT_FIRST	3
#define MEMWATCH_PROCS_MAX	32767

#define MEMWATCH_RATE_SAMPLES	5	/* ticks of the worker: one second */

struct memwatch_proc {
	pid_t tgid;
	u8 state;		/* enum memwatch_proc_state, or free */
	u64 start_time;		/* the group leader's, against pid reuse */
	u64 cgroup_id;
	char comm[TASK_COMM_LEN];
	atomic_long_t allocated;	/* pages, since load */
	atomic_long_t released;
	atomic_long_t remote;		/* live pages charged off-node */
	/* Owned by the worker. */
	unsigned long samples[MEMWATCH_RATE_SAMPLES];
	u64 rate;		/* bytes/s over the last second */
} ____cacheline_aligned_in_smp;

int memwatch_proc_init(unsigned int max_procs);
void memwatch_proc_exit(void);

/* Probe context, under rcu_read_lock(): the slot pages of task go to. */
u16 memwatch_proc_slot(struct task_struct *task);
void memwatch_proc_charge(u16 slot, int nid, long nr, bool remote);
void memwatch_proc_release(u16 slot, int nid, long nr, bool remote);
void memwatch_proc_move(u16 slot, int from, int to, long nr);

/* Readers (netlink): a slot in use, or NULL. */
const struct memwatch_proc *memwatch_proc_get(unsigned int slot);
long memwatch_proc_live(unsigned int slot, int nid);
/* Process context: the cgroup the process is in now (its last if gone). */
u64 memwatch_proc_cgroup(const struct memwatch_proc *p);
unsigned int memwatch_proc_capacity(void);
unsigned int memwatch_proc_used(void);
size_t memwatch_proc_bytes(void);
u64 memwatch_proc_full_hits(void);

#endif /* _MEMWATCH_PROC_H */
