// SPDX-License-Identifier: GPL-2.0
/*
 * The process table: a slot per process (thread group) that charged pages
 * since load, plus the [kernel] and [overflow] slots. Fixed size, chosen at
 * load (max_procs); nothing here allocates after init but the worker.
 *
 * Locking and lifetime:
 * - Probe handlers find a process without a lock, through the index (an
 *   open-addressing hash from tgid to slot id) read under RCU: a probe
 *   handler runs with preemption off, which is an RCU read-side section.
 * - A slot is created by a probe handler at the process's first charge,
 *   under memwatch_proc_lock (raw, irqsave: probes run in any context).
 *   That is the only time the fault path takes the lock for a process.
 * - The worker notices a process has gone, tombstones its index entry
 *   under the lock (no new charge finds the slot) and marks it EXITED: its
 *   page cache stays charged to it. Once it owns no live page, and a grace
 *   period after the tombstone has passed (no probe still holds the id
 *   from a lookup), the slot is reset and freed.
 * - Page cache can outlive its process by hours, and each short-lived
 *   process (a build's compiler runs) would keep its slot meanwhile: once
 *   the table is three quarters full, the worker folds the EXITED records
 *   into the [exited] record (memwatch_proc_fold()), and frees them.
 * - Counters are atomics in the slot, but the fault path rarely touches
 *   them: each CPU batches the deltas of the last (slot, node) it saw and
 *   adds them to the atomics when it sees another (one batch for task
 *   context, one for interrupts, which is also flushed every
 *   MEMWATCH_PCP_BATCH pages: see memwatch_cpu), and the worker drains
 *   every CPU's by IPI every tick, before it judges a slot, and again
 *   before it frees one, so no delta is lost or lands on a reused slot.
 *   The batches are pcp.c's. Privileged netlink readers drain first and
 *   see the counters exact; the event work adds what the batches hold
 *   instead (memwatch_proc_live_now(): no IPI).
 */
#include <linux/bitmap.h>
#include <linux/cgroup.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <uapi/linux/memwatch.h>

#include "compat.h"
#include "pfn.h"
#include "proc.h"

#define MEMWATCH_SLOT_FREE	0xff
#define MEMWATCH_INDEX_TOMB	0xffff

struct memwatch_index {
	u32 mask;
	u32 used;	/* entries that are not empty: slots and tombstones */
	u16 slot[];
};

static struct memwatch_proc *memwatch_procs;
static atomic_long_t *memwatch_live;	/* [slot * nr_node_ids + nid] */
static unsigned int memwatch_nprocs;	/* including the special slots */
static struct memwatch_index __rcu *memwatch_index;
static u16 *memwatch_free;		/* stack of free slot ids */
static unsigned int memwatch_nfree;
static u16 *memwatch_reap;		/* the worker's scratch list */
static unsigned long *memwatch_reap_map;	/* the same, by slot id */
/* The records being folded, while memwatch_folding is on (proc.h). */
DEFINE_STATIC_KEY_FALSE(memwatch_folding);
unsigned long *memwatch_fold_map;
static unsigned long memwatch_fold_next;	/* jiffies: not before */
static DEFINE_RAW_SPINLOCK(memwatch_proc_lock);
static atomic64_t memwatch_full_hits;
static u64 memwatch_sample_ns[MEMWATCH_RATE_SAMPLES];
static unsigned long memwatch_ticks;
static size_t memwatch_index_size(u32 entries)
{
	return struct_size((struct memwatch_index *)NULL, slot, entries);
}

static u32 memwatch_index_hash(const struct memwatch_index *idx, pid_t tgid)
{
	return hash_32(tgid, ilog2(idx->mask + 1));
}

/* The slot of (tgid, start), or 0; its index position in *pos. */
static u16 memwatch_index_find(const struct memwatch_index *idx, pid_t tgid,
			       u64 start, u32 *pos)
{
	u32 h = memwatch_index_hash(idx, tgid), i;

	for (i = 0; i <= idx->mask; i++) {
		u32 at = (h + i) & idx->mask;
		u16 s = READ_ONCE(idx->slot[at]);
		const struct memwatch_proc *p;

		if (!s)
			break;
		if (s == MEMWATCH_INDEX_TOMB)
			continue;
		p = &memwatch_procs[s];
		if (READ_ONCE(p->tgid) == tgid &&
		    READ_ONCE(p->start_time) == start) {
			if (pos)
				*pos = at;
			return s;
		}
	}
	return 0;
}

/* Under the lock; the slot's fields are published before its id. */
static bool memwatch_index_add(struct memwatch_index *idx, pid_t tgid, u16 s)
{
	u32 h = memwatch_index_hash(idx, tgid), i;

	for (i = 0; i <= idx->mask; i++) {
		u32 at = (h + i) & idx->mask;
		u16 cur = idx->slot[at];

		if (cur && cur != MEMWATCH_INDEX_TOMB)
			continue;
		if (!cur)
			idx->used++;
		/* Fields before the id: lookups depend on it (READ_ONCE). */
		smp_store_release(&idx->slot[at], s);
		return true;
	}
	return false;
}

/*
 * The per-CPU slot cache (proc.h): written here, by probes in task
 * context with preemption off, and cleared by IPI before reaped slots
 * wait their grace period (memwatch_proc_free()), so no probe holds a
 * reaped slot from it past that. ->task is written last and cleared
 * first (the IPI is on this CPU: program order).
 */
static void memwatch_slot_cache_put(struct task_struct *task, u16 s)
{
	struct memwatch_cpu *c;
	unsigned long flags;

	if (task != current || !in_task())
		return;
	c = this_cpu_ptr(&memwatch_cpu);
	/* The drain's IPI flushes own too: not in between. */
	local_irq_save(flags);
	WRITE_ONCE(c->task, NULL);
	barrier();
	memwatch_pcp_flush(&c->own);
	c->nid = numa_node_id();
	c->own.key = memwatch_pcp_key(s, c->nid);
	c->val = s;
	c->start = task->start_time;
	barrier();
	WRITE_ONCE(c->task, task);
	local_irq_restore(flags);
}

/* Whether cpu's cache holds a slot being reaped (memwatch_proc_free()). */
static bool memwatch_slot_cache_reaped(int cpu, void *info)
{
	const struct memwatch_cpu *c = per_cpu_ptr(&memwatch_cpu, cpu);

	return READ_ONCE(c->task) &&
	       test_bit(READ_ONCE(c->val), memwatch_reap_map);
}

static void memwatch_slot_cache_clear_this(void *info)
{
	/*
	 * ->val and own stay: a probe that read ->task before this may use
	 * them still, and holds the old id safely (a grace period follows,
	 * then a drain).
	 */
	WRITE_ONCE(this_cpu_ptr(&memwatch_cpu)->task, NULL);
}

/* The slot cache missed: the index, or a new slot. */
u16 memwatch_proc_slot_find(struct task_struct *task)
{
	struct task_struct *leader;
	struct memwatch_index *idx;
	struct memwatch_proc *p;
	unsigned long flags;
	pid_t tgid;
	u64 start;
	u16 s;

	if (!task)
		return MEMWATCH_SLOT_KERNEL;
	leader = READ_ONCE(task->group_leader);
	tgid = task->tgid;
	start = leader->start_time;
	s = memwatch_index_find(rcu_dereference_check(memwatch_index,
						      rcu_read_lock_any_held()),
				tgid, start, NULL);
	if (s) {
		memwatch_slot_cache_put(task, s);
		return s;
	}

	raw_spin_lock_irqsave(&memwatch_proc_lock, flags);
	idx = rcu_dereference_protected(memwatch_index,
					lockdep_is_held(&memwatch_proc_lock));
	s = memwatch_index_find(idx, tgid, start, NULL);
	if (s || !memwatch_nfree)
		goto out;
	s = memwatch_free[--memwatch_nfree];
	p = &memwatch_procs[s];
	WRITE_ONCE(p->tgid, tgid);
	WRITE_ONCE(p->start_time, start);
	strscpy(p->comm, leader->comm, sizeof(p->comm));
	p->cgroup_id = cgroup_id(task_dfl_cgroup(leader));
	WRITE_ONCE(p->state, MEMWATCH_PROC_ALIVE);
	if (!memwatch_index_add(idx, tgid, s)) {
		WRITE_ONCE(p->state, MEMWATCH_SLOT_FREE);
		memwatch_free[memwatch_nfree++] = s;
		s = 0;
	}
out:
	raw_spin_unlock_irqrestore(&memwatch_proc_lock, flags);
	if (s) {
		memwatch_slot_cache_put(task, s);
		return s;
	}
	atomic64_inc(&memwatch_full_hits);
	return MEMWATCH_SLOT_OVERFLOW;
}

static atomic_long_t *memwatch_live_of(u16 slot, int nid)
{
	return &memwatch_live[(size_t)slot * nr_node_ids + nid];
}

/* A CPU's batch into slot's counters (pcp.c); interrupts off. */
void memwatch_proc_add(unsigned int slot, int nid, bool remote,
		       int allocated, int released)
{
	int live = allocated - released;
	struct memwatch_proc *p;

	if (!slot || slot >= memwatch_nprocs)
		return;
	p = &memwatch_procs[slot];
	/* Allocated before live: a reader sees live <= allocated. */
	if (allocated)
		atomic_long_add(allocated, &p->allocated);
	if (released)
		atomic_long_add(released, &p->released);
	if (live && remote)
		atomic_long_add(live, &p->remote);
	if (live) {
		/* Pairs with the smp_rmb() of readers (nl_proc.c). */
		smp_mb__before_atomic();
		atomic_long_add(live, memwatch_live_of(slot, nid));
	}
}

void memwatch_proc_move(u16 slot, int from, int to, long nr)
{
	if (slot >= memwatch_nprocs)
		return;
	atomic_long_sub(nr, memwatch_live_of(slot, from));
	atomic_long_add(nr, memwatch_live_of(slot, to));
}

long memwatch_proc_live(unsigned int slot, int nid)
{
	long sum = 0;
	int n;

	if (nid != NUMA_NO_NODE)
		return atomic_long_read(memwatch_live_of(slot, nid));
	for (n = 0; n < nr_node_ids; n++)
		sum += atomic_long_read(memwatch_live_of(slot, n));
	return sum;
}

const struct memwatch_proc *memwatch_proc_get(unsigned int slot)
{
	const struct memwatch_proc *p;

	if (slot >= memwatch_nprocs)
		return NULL;
	p = &memwatch_procs[slot];
	return READ_ONCE(p->state) == MEMWATCH_SLOT_FREE ? NULL : p;
}

unsigned int memwatch_proc_capacity(void)
{
	return memwatch_nprocs - MEMWATCH_SLOT_FIRST;
}

unsigned int memwatch_proc_used(void)
{
	return memwatch_proc_capacity() - READ_ONCE(memwatch_nfree);
}

size_t memwatch_proc_bytes(void)
{
	struct memwatch_index *idx;
	size_t bytes;

	bytes = memwatch_nprocs * (sizeof(*memwatch_procs) +
				   nr_node_ids * sizeof(*memwatch_live) +
				   2 * sizeof(u16));
	rcu_read_lock();
	idx = rcu_dereference(memwatch_index);
	bytes += memwatch_index_size(idx->mask + 1);
	rcu_read_unlock();
	return bytes;
}

u64 memwatch_proc_full_hits(void)
{
	return atomic64_read(&memwatch_full_hits);
}

static void memwatch_proc_mark_exited(struct memwatch_proc *p)
{
	struct memwatch_index *idx;
	unsigned long flags;
	u32 pos;

	raw_spin_lock_irqsave(&memwatch_proc_lock, flags);
	idx = rcu_dereference_protected(memwatch_index,
					lockdep_is_held(&memwatch_proc_lock));
	if (memwatch_index_find(idx, p->tgid, p->start_time, &pos))
		WRITE_ONCE(idx->slot[pos], MEMWATCH_INDEX_TOMB);
	WRITE_ONCE(p->state, MEMWATCH_PROC_EXITED);
	raw_spin_unlock_irqrestore(&memwatch_proc_lock, flags);
}

static void memwatch_proc_rate(struct memwatch_proc *p, unsigned int cur,
			       unsigned int oldest, u64 now)
{
	unsigned long alloc = atomic_long_read(&p->allocated);
	u64 dt = now - memwatch_sample_ns[oldest];
	long grown;

	p->samples[cur] = alloc;
	if (memwatch_ticks < MEMWATCH_RATE_SAMPLES - 1 || !dt)
		return;
	/*
	 * allocated can fall: a migration uncounts the page the migrating
	 * task was counted for (acct.c). A fall is no growth (and a negative
	 * delta would overflow the division: a divide error).
	 */
	grown = alloc - p->samples[oldest];
	p->rate = grown > 0 ? mul_u64_u64_div_u64((u64)grown << PAGE_SHIFT,
						  NSEC_PER_SEC, dt) : 0;
}

/*
 * Free the reaped slots that still own nothing. They are tombstoned in
 * the index: once a grace period has passed, no probe holds one from a
 * lookup, so none can put one in a CPU's cache any more. Then clear the
 * caches that hold one (an IPI to those CPUs only: an idle or nohz_full
 * CPU is left alone), and wait another grace period for a probe that
 * read its cache before the clear. What the slots still owe is then
 * batched: drain, and free those that own nothing. CPU hotplug waits
 * meanwhile, so a CPU that goes down has its batches flushed by
 * memwatch_pcp_cpu_dead() before or after, never during.
 */
static void memwatch_proc_free(unsigned int nreap)
{
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < nreap; i++)
		__set_bit(memwatch_reap[i], memwatch_reap_map);
	cpus_read_lock();
	synchronize_rcu();
	on_each_cpu_cond(memwatch_slot_cache_reaped,
			 memwatch_slot_cache_clear_this, NULL, true);
	synchronize_rcu();
	memwatch_proc_drain();
	raw_spin_lock_irqsave(&memwatch_proc_lock, flags);
	for (i = 0; i < nreap; i++) {
		u16 s = memwatch_reap[i];
		struct memwatch_proc *p = &memwatch_procs[s];

		__clear_bit(s, memwatch_reap_map);
		if (memwatch_proc_live(s, NUMA_NO_NODE))
			continue;
		memset(p, 0, sizeof(*p));
		p->state = MEMWATCH_SLOT_FREE;
		memwatch_free[memwatch_nfree++] = s;
	}
	raw_spin_unlock_irqrestore(&memwatch_proc_lock, flags);
	cpus_read_unlock();
}

/*
 * The live pages of a folded record go to [exited], node by node; its
 * owner entries say [exited] already and nothing releases the record's
 * own any more. They count as [exited]'s allocation (live stays within
 * allocated for readers: allocated first), but not in its rate.
 */
static void memwatch_proc_transfer(u16 s)
{
	struct memwatch_proc *x = &memwatch_procs[MEMWATCH_SLOT_EXITED];
	struct memwatch_proc *p = &memwatch_procs[s];
	long total = 0;
	int nid, i;

	for (nid = 0; nid < nr_node_ids; nid++)
		total += atomic_long_read(memwatch_live_of(s, nid));
	if (!total)
		return;
	atomic_long_add(total, &x->allocated);
	for (i = 0; i < MEMWATCH_RATE_SAMPLES; i++)
		x->samples[i] += total;
	atomic_long_add(atomic_long_xchg(&p->remote, 0), &x->remote);
	smp_mb__before_atomic();	/* as memwatch_pcp_flush() */
	for (nid = 0; nid < nr_node_ids; nid++)
		atomic_long_add(atomic_long_xchg(memwatch_live_of(s, nid), 0),
				memwatch_live_of(MEMWATCH_SLOT_EXITED, nid));
}

/*
 * Fold the EXITED records into [exited] once the table is three quarters
 * full and a sixteenth of it is EXITED, at most once a second (a pass
 * reads the whole owner table: 2 bytes per page of RAM). With
 * memwatch_folding on and a grace period passed, every writer that reads
 * an entry before it writes it swaps it atomically and maps a folded
 * value it copies (acct.c), so the pass's
 * cmpxchg() loses no update and leaves no folded value behind it. The
 * records' counts stay where they are meanwhile; once every release that
 * read an old value is done (a grace period) and batched (a drain), each
 * record's live pages are exactly those whose entries now say [exited]:
 * they move there, and the record, EXITED with nothing live, is freed by
 * the next tick. Hotplug waits, as for memwatch_proc_free().
 */
static void memwatch_proc_fold(void)
{
	unsigned int s, n = 0;

	if (memwatch_proc_used() <= memwatch_proc_capacity() / 4 * 3 ||
	    time_before(jiffies, memwatch_fold_next))
		return;
	memwatch_fold_next = jiffies + HZ;
	for (s = MEMWATCH_SLOT_FIRST; s < memwatch_nprocs; s++)
		n += READ_ONCE(memwatch_procs[s].state) == MEMWATCH_PROC_EXITED;
	/* A table full of live processes: a pass would win little room. */
	if (n < memwatch_proc_capacity() / 16)
		return;
	for (s = MEMWATCH_SLOT_FIRST; s < memwatch_nprocs; s++)
		if (READ_ONCE(memwatch_procs[s].state) == MEMWATCH_PROC_EXITED)
			__set_bit(s, memwatch_fold_map);
	static_branch_enable(&memwatch_folding);
	synchronize_rcu();
	memwatch_pfn_fold(memwatch_fold_map, MEMWATCH_SLOT_EXITED);
	cpus_read_lock();
	synchronize_rcu();
	memwatch_proc_drain();
	for_each_set_bit(s, memwatch_fold_map, memwatch_nprocs)
		memwatch_proc_transfer(s);
	cpus_read_unlock();
	static_branch_disable(&memwatch_folding);
	/* No probe tests the map once a grace period has passed. */
	synchronize_rcu();
	bitmap_zero(memwatch_fold_map, memwatch_nprocs);
}

/* Tombstones make lookups long: build the index anew past 3/4 full. */
static void memwatch_index_rebuild(void)
{
	struct memwatch_index *old, *new;
	unsigned long flags;
	unsigned int s;

	old = rcu_dereference_protected(memwatch_index, 1);
	new = kvzalloc(memwatch_index_size(old->mask + 1), GFP_KERNEL);
	if (!new)
		return;
	new->mask = old->mask;
	raw_spin_lock_irqsave(&memwatch_proc_lock, flags);
	for (s = MEMWATCH_SLOT_FIRST; s < memwatch_nprocs; s++) {
		const struct memwatch_proc *p = &memwatch_procs[s];

		if (p->state == MEMWATCH_PROC_ALIVE)
			memwatch_index_add(new, p->tgid, s);
	}
	rcu_assign_pointer(memwatch_index, new);
	raw_spin_unlock_irqrestore(&memwatch_proc_lock, flags);
	synchronize_rcu();
	kvfree(old);
}

/* Every record's live pages: the "pages" table's entries (STATUS). */
long memwatch_proc_live_total(void)
{
	unsigned int s;
	long pages = 0;

	for (s = 0; s < memwatch_nprocs; s++)
		if (memwatch_proc_get(s))
			pages += memwatch_proc_live(s, NUMA_NO_NODE);
	return max(pages, 0L);
}

void memwatch_proc_tick(void)
{
	unsigned int cur = memwatch_ticks % MEMWATCH_RATE_SAMPLES;
	unsigned int oldest = (memwatch_ticks + 1) % MEMWATCH_RATE_SAMPLES;
	struct memwatch_index *idx;
	unsigned int s, nreap = 0;
	u64 now = ktime_get_ns();

	memwatch_proc_drain();
	memwatch_sample_ns[cur] = now;
	for (s = MEMWATCH_SLOT_KERNEL; s < memwatch_nprocs; s++) {
		struct memwatch_proc *p = &memwatch_procs[s];
		u8 state = READ_ONCE(p->state);

		if (state == MEMWATCH_SLOT_FREE)
			continue;
		memwatch_proc_rate(p, cur, oldest, now);
		if (state == MEMWATCH_PROC_ALIVE && !memwatch_proc_refresh(p)) {
			memwatch_proc_mark_exited(p);
			state = MEMWATCH_PROC_EXITED;
		}
		if (state == MEMWATCH_PROC_EXITED &&
		    !memwatch_proc_live(s, NUMA_NO_NODE))
			memwatch_reap[nreap++] = s;
	}
	memwatch_ticks++;
	if (nreap)
		memwatch_proc_free(nreap);
	memwatch_proc_fold();
	idx = rcu_dereference_protected(memwatch_index, 1);
	if (READ_ONCE(idx->used) > (idx->mask + 1) / 4 * 3)
		memwatch_index_rebuild();
}

static void memwatch_proc_special(u16 s, u8 state, const char *comm)
{
	memwatch_procs[s].state = state;
	strscpy(memwatch_procs[s].comm, comm, sizeof(memwatch_procs[s].comm));
}

int memwatch_proc_init(unsigned int max_procs)
{
	struct memwatch_index *idx;
	unsigned int entries, s;
	int err;

	if (max_procs < 16 || max_procs > MEMWATCH_PROCS_MAX)
		pr_warn("max_procs=%u: using %u (16 to %u)\n", max_procs,
			clamp_t(unsigned int, max_procs, 16, MEMWATCH_PROCS_MAX),
			MEMWATCH_PROCS_MAX);
	memwatch_nprocs = clamp_t(unsigned int, max_procs, 16,
				  MEMWATCH_PROCS_MAX) + MEMWATCH_SLOT_FIRST;
	BUILD_BUG_ON(MEMWATCH_PROCS_MAX + MEMWATCH_SLOT_FIRST - 1 >
		     MEMWATCH_PFN_SLOT);
	memwatch_procs = kvcalloc(memwatch_nprocs, sizeof(*memwatch_procs),
				  GFP_KERNEL);
	memwatch_live = kvcalloc((size_t)memwatch_nprocs * nr_node_ids,
				 sizeof(*memwatch_live), GFP_KERNEL);
	memwatch_free = kvcalloc(memwatch_nprocs, sizeof(u16), GFP_KERNEL);
	memwatch_reap = kvcalloc(memwatch_nprocs, sizeof(u16), GFP_KERNEL);
	memwatch_reap_map = bitmap_zalloc(memwatch_nprocs, GFP_KERNEL);
	memwatch_fold_map = bitmap_zalloc(memwatch_nprocs, GFP_KERNEL);
	entries = roundup_pow_of_two(2 * memwatch_nprocs);
	idx = kvzalloc(memwatch_index_size(entries), GFP_KERNEL);
	if (!memwatch_procs || !memwatch_live || !memwatch_free ||
	    !memwatch_reap || !memwatch_reap_map || !memwatch_fold_map ||
	    !idx) {
		kvfree(idx);
		memwatch_proc_exit();
		return -ENOMEM;
	}
	idx->mask = entries - 1;
	RCU_INIT_POINTER(memwatch_index, idx);
	for (s = 0; s < memwatch_nprocs; s++)
		memwatch_procs[s].state = MEMWATCH_SLOT_FREE;
	memwatch_proc_special(MEMWATCH_SLOT_KERNEL, MEMWATCH_PROC_KERNEL,
			      "[kernel]");
	memwatch_proc_special(MEMWATCH_SLOT_OVERFLOW, MEMWATCH_PROC_OVERFLOW,
			      "[overflow]");
	memwatch_proc_special(MEMWATCH_SLOT_EXITED, MEMWATCH_PROC_FOLDED,
			      "[exited]");
	memwatch_nfree = 0;
	for (s = memwatch_nprocs - 1; s >= MEMWATCH_SLOT_FIRST; s--)
		memwatch_free[memwatch_nfree++] = s;
	memwatch_ticks = 0;
	atomic64_set(&memwatch_full_hits, 0);
	memwatch_fold_next = jiffies;
	err = memwatch_pcp_init();
	if (err) {
		memwatch_proc_exit();
		return err;
	}
	return 0;
}

/* After the hooks and the tick are gone: nothing looks a slot up any more. */
void memwatch_proc_exit(void)
{
	memwatch_pcp_exit();
	kvfree(rcu_dereference_protected(memwatch_index, 1));
	RCU_INIT_POINTER(memwatch_index, NULL);
	bitmap_free(memwatch_fold_map);
	bitmap_free(memwatch_reap_map);
	kvfree(memwatch_reap);
	kvfree(memwatch_free);
	kvfree(memwatch_live);
	kvfree(memwatch_procs);
	memwatch_fold_map = NULL;
	memwatch_reap_map = NULL;
	memwatch_reap = NULL;
	memwatch_free = NULL;
	memwatch_live = NULL;
	memwatch_procs = NULL;
}
