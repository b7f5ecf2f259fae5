// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUs' batches of the process table's counters (proc.c): the fault
 * path adds to its CPU's batch, and a batch goes into the counters when
 * its key (slot and node) changes, when it is full, when the tick drains
 * every CPU by IPI, and when its CPU goes offline. Readers that must not
 * interrupt every CPU (the event work) add what the batches hold instead
 * (memwatch_proc_live_now()).
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/topology.h>

#include "pfn.h"
#include "proc.h"

/*
 * Two batches per CPU (struct memwatch_pcp, proc.h). Task context, the
 * fault path, changes memwatch_cpu.batch with preemption off and
 * interrupts on (a probe), by single this_cpu instructions, and turns
 * interrupts off only to switch its key or flush it. An interrupt (a
 * page freed in softirq, say) adds to it by single instructions too when
 * its key is the one the interrupt needs, and otherwise changes
 * memwatch_pcp with interrupts off; the drain's IPI flushes both and
 * leaves the keys. That spares the fault path a local_irq_save()/
 * restore() per page.
 */
static DEFINE_PER_CPU(struct memwatch_pcp, memwatch_pcp);
DEFINE_PER_CPU_ALIGNED(struct memwatch_cpu, memwatch_cpu);

/* Interrupts off. The key stays (proc.h). */
void memwatch_pcp_flush(struct memwatch_pcp *c)
{
	memwatch_proc_add((c->key >> 16) & MEMWATCH_PFN_SLOT, c->key & 0xffff,
			  (c->key >> 16) & MEMWATCH_PFN_REMOTE, c->allocated,
			  c->released);
	c->allocated = 0;
	c->released = 0;
}

/* Interrupts off. */
static void memwatch_pcp_update(struct memwatch_pcp *c, u32 key,
				int allocated, int released)
{
	if (c->key != key) {
		memwatch_pcp_flush(c);
		c->key = key;
	}
	c->allocated += allocated;
	c->released += released;
	if (c->allocated + c->released >= MEMWATCH_PCP_BATCH)
		memwatch_pcp_flush(c);
}

/* Task context: another key, or a full batch. */
void memwatch_pcp_task_slow(u32 key, int allocated, int released)
{
	unsigned long flags;

	local_irq_save(flags);
	memwatch_pcp_update(this_cpu_ptr(&memwatch_cpu.batch), key,
			    allocated, released);
	local_irq_restore(flags);
}

/* Interrupt context: the interrupts' batch, with interrupts off. */
void memwatch_pcp_add_irq(u32 key, int allocated, int released)
{
	unsigned long flags;

	local_irq_save(flags);
	memwatch_pcp_update(this_cpu_ptr(&memwatch_pcp), key, allocated,
			    released);
	local_irq_restore(flags);
}

/* IPI handlers, interrupts off. */
static bool memwatch_pcp_pending(int cpu, void *info)
{
	const struct memwatch_pcp *i = per_cpu_ptr(&memwatch_pcp, cpu);
	const struct memwatch_cpu *c = per_cpu_ptr(&memwatch_cpu, cpu);

	return READ_ONCE(i->allocated) || READ_ONCE(i->released) ||
	       READ_ONCE(c->own.allocated) || READ_ONCE(c->batch.allocated) ||
	       READ_ONCE(c->batch.released);
}

static void memwatch_pcp_drain_this(void *info)
{
	memwatch_pcp_flush(this_cpu_ptr(&memwatch_pcp));
	memwatch_pcp_flush(this_cpu_ptr(&memwatch_cpu.own));
	memwatch_pcp_flush(this_cpu_ptr(&memwatch_cpu.batch));
}

void memwatch_proc_drain(void)
{
	on_each_cpu_cond(memwatch_pcp_pending, memwatch_pcp_drain_this, NULL,
			 true);
}

/*
 * A CPU went offline: the drain's IPIs reach online CPUs only, so flush
 * its batches here, or they would wait (and their slots could be freed
 * and reused meanwhile) until it came back. It runs on another CPU once
 * the dead one runs nothing (CPUHP_BP_PREPARE_DYN's teardown): nothing
 * else touches that CPU's batches, and the counters are atomics.
 */
static int memwatch_pcp_cpu_dead(unsigned int cpu)
{
	struct memwatch_cpu *c = per_cpu_ptr(&memwatch_cpu, cpu);

	WRITE_ONCE(c->task, NULL);
	memwatch_pcp_flush(per_cpu_ptr(&memwatch_pcp, cpu));
	memwatch_pcp_flush(&c->own);
	memwatch_pcp_flush(&c->batch);
	return 0;
}

/* A batch's pages of slot (on nid, or any node), read from afar. */
static long memwatch_pcp_held(const struct memwatch_pcp *c,
			      unsigned int slot, int nid)
{
	u32 key = READ_ONCE(c->key);

	if (((key >> 16) & MEMWATCH_PFN_SLOT) != slot ||
	    (nid != NUMA_NO_NODE && (key & 0xffff) != nid))
		return 0;
	return (long)READ_ONCE(c->allocated) - READ_ONCE(c->released);
}

/*
 * The live pages of slot as of now, without the drain's IPI: its counters
 * and what each online CPU's batches hold for it, read in that order, so
 * a batch flushed in between is missed (at most a batch), never counted
 * twice. O(CPUs); the event work calls it for a handful of slots.
 */
long memwatch_proc_live_now(unsigned int slot, int nid)
{
	long live = memwatch_proc_live(slot, nid);
	int cpu;

	smp_rmb();	/* the counters before the batches */
	for_each_online_cpu(cpu) {
		const struct memwatch_cpu *c = per_cpu_ptr(&memwatch_cpu, cpu);

		live += memwatch_pcp_held(per_cpu_ptr(&memwatch_pcp, cpu),
					  slot, nid);
		live += memwatch_pcp_held(&c->own, slot, nid);
		live += memwatch_pcp_held(&c->batch, slot, nid);
	}
	return live;
}

static int memwatch_cpuhp_state;	/* ours, or 0 */

int memwatch_pcp_init(void)
{
	int err = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					    "memwatch:dead", NULL,
					    memwatch_pcp_cpu_dead);

	if (err < 0)
		return err;
	memwatch_cpuhp_state = err;
	return 0;
}

void memwatch_pcp_exit(void)
{
	if (memwatch_cpuhp_state)
		cpuhp_remove_state_nocalls(memwatch_cpuhp_state);
	memwatch_cpuhp_state = 0;
}
