/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PROC_H
#define _MEMWATCH_PROC_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/jump_label.h>
#include <linux/bitops.h>
#include <linux/types.h>

#include "pfn.h"

#define MEMWATCH_PCP_BATCH	64	/* pages an interrupts' batch holds */

/* Slot ids fit the 15 bits a page's owner entry has for them (pfn.h). */
#define MEMWATCH_SLOT_NONE	0
#define MEMWATCH_SLOT_KERNEL	1
#define MEMWATCH_SLOT_OVERFLOW	2
#define MEMWATCH_SLOT_EXITED	3	/* folded records (proc.c) */
#define MEMWATCH_SLOT_FIRST	4
/* The largest max_procs: slot ids up to MEMWATCH_PFN_SLOT. */
#define MEMWATCH_PROCS_MAX	(MEMWATCH_PFN_SLOT + 1 - MEMWATCH_SLOT_FIRST)

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
/* The module's tick (main.c), every 200 ms: drain, rates, ranks, reaping. */
#define MEMWATCH_TICK_MS	200	/* x MEMWATCH_RATE_SAMPLES = 1 s */
void memwatch_proc_tick(void);

/*
 * The fault path, inline: it runs at every user page allocated and freed.
 * Probe context, preemption off (an RCU read-side section).
 */

/*
 * A CPU's pending deltas for one owner-entry value (slot and remote bit,
 * pfn.h) and node: key is value << 16 | nid (a node id fits 16 bits,
 * MAX_NUMNODES <= 1024). The live delta is allocated - released. The key
 * stays when the batch is flushed.
 */
struct memwatch_pcp {
	u32 key;
	int allocated, released;
};

/*
 * What the fault path uses of a CPU, one cache line: the slot it last
 * found for a task in task context (a process faulting takes its slot
 * from here, not from the index, proc.c; it counts when the task's own
 * start time matches too, since a task_struct is reused; a thread keeps
 * its process, and exec by a thread takes the leader's pid and start
 * time); the pages that task allocated on this CPU's node since (own,
 * whose key is the slot's on this node); and the task batch, for
 * everything else in task context. Neither has a budget, so counting a
 * page is one instruction: own is flushed when the cache takes another
 * task, the batch when its key changes, and both by the worker's drain
 * (every tick, and before a reader's dump).
 */
struct memwatch_cpu {
	struct task_struct *task;
	u64 start;
	u16 val;	/* the slot: a local page's owner entry */
	int nid;	/* this CPU's node: own's */
	struct memwatch_pcp own;
	struct memwatch_pcp batch;
	unsigned int unchecked;	/* pages since the last level check (acct.c) */
};

DECLARE_PER_CPU_ALIGNED(struct memwatch_cpu, memwatch_cpu);

u16 memwatch_proc_slot_find(struct task_struct *task);
/* pcp.c: the batches; proc.c: the counters they go into. */
int memwatch_pcp_init(void);
void memwatch_pcp_exit(void);
void memwatch_pcp_flush(struct memwatch_pcp *c);
void memwatch_proc_add(unsigned int slot, int nid, bool remote,
		       int allocated, int released);
void memwatch_pcp_task_slow(u32 key, int allocated, int released);
void memwatch_pcp_add_irq(u32 key, int allocated, int released);
/* Process context: every CPU's batches in the counters. */
void memwatch_proc_drain(void);

static __always_inline u32 memwatch_pcp_key(u16 val, int nid)
{
	return (u32)val << 16 | nid;
}

/* Task context, task == current: its slot, from the cache if there. */
static __always_inline u16 memwatch_proc_slot_current(struct task_struct *task)
{
	if (likely(this_cpu_read(memwatch_cpu.task) == task)) {
		u16 val;

		barrier();
		val = this_cpu_read(memwatch_cpu.val);
		if (likely(this_cpu_read(memwatch_cpu.start) ==
			   task->start_time))
			return val;
	}
	return memwatch_proc_slot_find(task);
}

/* The slot pages of task go to (NULL: the [kernel] record). */
static inline u16 memwatch_proc_slot(struct task_struct *task)
{
	if (task && task == current && in_task())
		return memwatch_proc_slot_current(task);
	return memwatch_proc_slot_find(task);
}

/*
 * The task batch changes by single this_cpu instructions, which an
 * interrupt sees whole; a switch of its key and a flush run with
 * interrupts off (memwatch_pcp_task_slow(), task context only). So an
 * interrupt may add to it too when the key is the one it needs: it
 * never changes the key under a task that has checked it. The drain's
 * IPI flushes the counts and leaves the key likewise.
 */
static __always_inline bool memwatch_pcp_task_key(u32 key)
{
	return this_cpu_read(memwatch_cpu.batch.key) == key;
}

/* nr pages of owner-entry value val on node nid: any probe context. */
static __always_inline void memwatch_proc_charge(u16 val, int nid, long nr)
{
	u32 key = memwatch_pcp_key(val, nid);

	if (likely(memwatch_pcp_task_key(key)))
		this_cpu_add(memwatch_cpu.batch.allocated, nr);
	else if (in_task())
		memwatch_pcp_task_slow(key, nr, 0);
	else
		memwatch_pcp_add_irq(key, nr, 0);
}

/* val comes from a page's owner entry: its slot is below the maximum. */
static __always_inline void memwatch_proc_release(u16 val, int nid, long nr)
{
	u32 key = memwatch_pcp_key(val, nid);

	if (likely(memwatch_pcp_task_key(key)))
		this_cpu_add(memwatch_cpu.batch.released, nr);
	else if (in_task())
		memwatch_pcp_task_slow(key, 0, nr);
	else
		memwatch_pcp_add_irq(key, 0, nr);
}

void memwatch_proc_move(u16 slot, int from, int to, long nr);

/*
 * Folding (proc.c): on while the worker rewrites the owner entries of the
 * records it folds. Meanwhile an entry's writers that read it first
 * (a release, a migration, a split) swap it atomically, and a value they
 * copy to another entry is folded too.
 */
DECLARE_STATIC_KEY_FALSE(memwatch_folding);
extern unsigned long *memwatch_fold_map;

/* What an owner entry's value val is once folding is over. */
static inline u16 memwatch_proc_fold_val(u16 val)
{
	if (static_branch_unlikely(&memwatch_folding) &&
	    test_bit(val & MEMWATCH_PFN_SLOT, memwatch_fold_map))
		return MEMWATCH_SLOT_EXITED | (val & MEMWATCH_PFN_REMOTE);
	return val;
}

/* The live pages of slot now, with the CPUs' batches (no IPI). */
long memwatch_proc_live_now(unsigned int slot, int nid);
long memwatch_proc_live_total(void);

/* Readers (netlink): a slot in use, or NULL. */
const struct memwatch_proc *memwatch_proc_get(unsigned int slot);
long memwatch_proc_live(unsigned int slot, int nid);
/* proc_task.c, the tick's: whether it still runs; its comm and cgroup. */
bool memwatch_proc_refresh(struct memwatch_proc *p);
/* Process context: the cgroup the process is in now (its last if gone). */
u64 memwatch_proc_cgroup(const struct memwatch_proc *p);
struct cgroup;
bool memwatch_proc_in_cgroup(const struct memwatch_proc *p,
			     struct cgroup *ancestor);
void memwatch_proc_mm(const struct memwatch_proc *p, unsigned long *anon,
		      unsigned long *swap);
unsigned int memwatch_proc_capacity(void);
unsigned int memwatch_proc_used(void);
size_t memwatch_proc_bytes(void);
u64 memwatch_proc_full_hits(void);

#endif /* _MEMWATCH_PROC_H */
