/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PROC_H
#define _MEMWATCH_PROC_H

#include <linux/atomic.h>
#include <linux/math.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
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

/*
 * The fault path, inline: it runs at every user page allocated and freed.
 * Probe context, preemption off (an RCU read-side section).
 */

/*
 * The slot this CPU last found for the task in task context: a process
 * faulting takes its slot from here, not from the index (proc.c). The
 * entry counts when the task's own start time matches too, since a
 * task_struct is reused; a thread keeps its process (exec by a thread
 * takes the leader's pid and start time).
 */
struct memwatch_slot_cache {
	struct task_struct *task;
	u64 start;
	u16 slot;
};

DECLARE_PER_CPU(struct memwatch_slot_cache, memwatch_slot_cache);

u16 memwatch_proc_slot_find(struct task_struct *task);

/* The slot pages of task go to (NULL: the [kernel] record). */
static inline u16 memwatch_proc_slot(struct task_struct *task)
{
	struct memwatch_slot_cache *c = this_cpu_ptr(&memwatch_slot_cache);

	if (task && task == current && in_task() &&
	    READ_ONCE(c->task) == task) {
		u16 s;

		barrier();
		s = READ_ONCE(c->slot);
		if (READ_ONCE(c->start) == task->start_time)
			return s;
	}
	return memwatch_proc_slot_find(task);
}

#define MEMWATCH_PCP_BATCH	64	/* pages */

/* A CPU's pending deltas for one slot and node (slot 0: none). */
struct memwatch_pcp {
	u16 slot;
	bool busy;	/* task batch: a probe is changing it */
	int nid;
	int live, allocated, released, remote;
};

DECLARE_PER_CPU(struct memwatch_pcp, memwatch_pcp_task);

void memwatch_pcp_flush(struct memwatch_pcp *c);
void memwatch_pcp_add_irq(u16 slot, int nid, int live, int allocated,
			  int released, int remote);

static inline void memwatch_pcp_update(struct memwatch_pcp *c, u16 slot,
				       int nid, int live, int allocated,
				       int released, int remote)
{
	if (c->slot != slot || c->nid != nid) {
		memwatch_pcp_flush(c);
		c->slot = slot;
		c->nid = nid;
	}
	c->live += live;
	c->allocated += allocated;
	c->released += released;
	c->remote += remote;
	if (abs(c->live) >= MEMWATCH_PCP_BATCH ||
	    c->allocated >= MEMWATCH_PCP_BATCH ||
	    c->released >= MEMWATCH_PCP_BATCH)
		memwatch_pcp_flush(c);
}

/* Task context: this CPU's task batch, busy while it changes (proc.c). */
static inline void memwatch_pcp_add(u16 slot, int nid, int live,
				    int allocated, int released, int remote)
{
	struct memwatch_pcp *c;

	if (!in_task()) {
		memwatch_pcp_add_irq(slot, nid, live, allocated, released,
				     remote);
		return;
	}
	c = this_cpu_ptr(&memwatch_pcp_task);
	WRITE_ONCE(c->busy, true);
	barrier();	/* the drain's IPI is on this CPU: program order */
	memwatch_pcp_update(c, slot, nid, live, allocated, released, remote);
	barrier();
	WRITE_ONCE(c->busy, false);
}

static inline void memwatch_proc_charge(u16 slot, int nid, long nr,
					bool remote)
{
	memwatch_pcp_add(slot, nid, nr, nr, 0, remote ? nr : 0);
}

/* slot comes from a page's owner entry: always below MEMWATCH_PROCS_MAX. */
static inline void memwatch_proc_release(u16 slot, int nid, long nr,
					 bool remote)
{
	memwatch_pcp_add(slot, nid, -nr, 0, nr, remote ? -nr : 0);
}

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
