// SPDX-License-Identifier: GPL-2.0
/*
 * Attribution of user pages (anonymous and page cache) to processes and
 * nodes. A page belongs to a memcg from a successful __mem_cgroup_charge()
 * until uncharge_folio(); mem_cgroup_migrate() moves the charge to a
 * replacement folio (NUMA balancing, compaction, migrate_pages), whose
 * owner entry takes over the old one's, so the old folio's later uncharge
 * finds nothing to release.
 */
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/topology.h>

#include "acct.h"
#include "compat.h"
#include "hits.h"
#include "pfn.h"
#include "proc.h"
#include "node.h"
#include "wmark.h"

notrace void memwatch_acct_charge_entry(struct memwatch_charge_data *d,
					struct pt_regs *regs)
{
	d->folio = (struct folio *)regs_get_kernel_argument(regs, 0);
	d->mm = (struct mm_struct *)regs_get_kernel_argument(regs, 1);
}

/*
 * Who a charge is for: the faulting task itself; for a kernel thread or
 * a task working on another mm (khugepaged, ptrace), the mm's owner; for
 * a kernel thread with no mm (writeback, a kworker's readahead) or an
 * interrupt, nobody: the [kernel] record. Probe handlers run with
 * preemption off, which is an RCU read-side section (mm->owner is
 * RCU-protected): no rcu_read_lock() on the fault path.
 */
static struct task_struct *memwatch_owner(struct mm_struct *mm)
{
	if (!in_task())
		return NULL;
	if (!(current->flags & PF_KTHREAD) && (!mm || mm == current->mm))
		return current;
	return mm ? rcu_dereference_check(mm->owner,
					  rcu_read_lock_any_held()) : NULL;
}

static u16 memwatch_acct_val(u16 slot, bool remote)
{
	return slot | (remote ? MEMWATCH_PFN_REMOTE : 0);
}

/* A page freed without our seeing its uncharge: release it now. */
static noinline void memwatch_acct_stale(u16 old, int nid, long nr)
{
	memwatch_proc_release(old, nid, nr);
}

/*
 * An owner entry is written by whoever holds its page: the allocation or
 * charge, the free or uncharge, the migration (both folios locked) and
 * the split (the folio frozen). They cannot run at once for one page, so
 * plain loads and stores would do; READ_ONCE/WRITE_ONCE keep them whole.
 * The one other writer is the worker folding exited records (proc.c),
 * which swaps a nonzero entry with cmpxchg(): while it does, those that
 * read an entry before they write it swap it atomically too (the fast
 * path that fills an empty entry needs not: the worker leaves those be).
 * Off the fault path that is always so.
 */
static void memwatch_acct_set(u16 *entry, u16 val, int nid, long nr)
{
	u16 old = xchg(entry, val);

	if (old)
		memwatch_acct_stale(old, nid, nr);
}

/* Any context, any owner: the general case. */
static void memwatch_acct_add(u16 *entry, struct mm_struct *mm, int nid,
			      long nr)
{
	u16 val = memwatch_acct_val(memwatch_proc_slot(memwatch_owner(mm)),
				    nid != numa_node_id());

	memwatch_acct_set(entry, val, nid, nr);
	memwatch_proc_charge(val, nid, nr);
}

/*
 * The common case of memwatch_acct_add(), inline and calling nothing but
 * to switch its batch: the current task in task context charging one
 * page for itself (the caller has made sure of all three), its slot in
 * this CPU's cache (which never holds a kernel thread), the entry empty
 * (read plainly: only the page's holder writes it, and that is us).
 * False: not that case, nothing done.
 */
static __always_inline bool memwatch_acct_add_fast(u16 *entry, int nid)
{
	struct task_struct *task = current;
	u32 key;
	u16 val;

	if (unlikely(this_cpu_read(memwatch_cpu.task) != task))
		return false;
	barrier();	/* the cache's task, then its slot (proc.c) */
	val = this_cpu_read(memwatch_cpu.val);
	if (unlikely(this_cpu_read(memwatch_cpu.start) != task->start_time ||
		     *entry))
		return false;
	/* own counts the slot's pages on this CPU's node. */
	if (likely(this_cpu_read(memwatch_cpu.nid) == nid)) {
		WRITE_ONCE(*entry, val);
		this_cpu_inc(memwatch_cpu.own.allocated);
		return true;
	}
	/* Off this CPU's node: remote. */
	val |= MEMWATCH_PFN_REMOTE;
	WRITE_ONCE(*entry, val);
	key = memwatch_pcp_key(val, nid);
	if (likely(memwatch_pcp_task_key(key)))
		this_cpu_inc(memwatch_cpu.batch.allocated);
	else
		memwatch_pcp_task_slow(key, 1, 0);
	return true;
}

/* Uncount the nr pages at entry, if memwatch counted them. */
static __always_inline void memwatch_acct_drop(u16 *entry, int nid, long nr)
{
	u16 old = READ_ONCE(*entry);

	if (!old)
		return;
	if (static_branch_unlikely(&memwatch_folding))
		old = xchg(entry, 0);
	else
		WRITE_ONCE(*entry, 0);
	memwatch_proc_release(old, nid, nr);
}

/*
 * The watermarks of a charged folio's memcg. Since 7.x a folio's memcg is
 * its objcg's, read under RCU (it can move to the parent).
 */
static void memwatch_wmark_check_folio(struct folio *folio)
{
	if (READ_ONCE(memwatch_npolicies)) {
		rcu_read_lock();
		memwatch_wmark_check_memcg(folio_memcg(folio));
		rcu_read_unlock();
	}
}

/*
 * With a policy set (memwatch_checks), the levels are checked once per
 * MEMWATCH_CHECK_BATCH pages a CPU charges or releases, not at every
 * page: the fast path stays the fast path and only counts. A check
 * reads the usage itself, so none of those pages is missed, only seen
 * late. The batch holds one task's pages: the first charge after another
 * task ran on the CPU misses its slot cache, takes the slow path, which
 * checks at once and starts the batch anew. So a level is crossed by at
 * most MEMWATCH_CHECK_BATCH - 1 pages (124 KiB) per CPU charging the
 * cgroup before its check runs, on top of the memcg's own per-CPU charge
 * stock; pages under a batch's end that nothing follows are the
 * watermark worker's, at most 200 ms later (Documentation/design.md).
 */
#define MEMWATCH_CHECK_BATCH	32

static __always_inline bool memwatch_check_due(long nr)
{
	if (this_cpu_add_return(memwatch_cpu.unchecked, nr) <
	    MEMWATCH_CHECK_BATCH)
		return false;
	this_cpu_write(memwatch_cpu.unchecked, 0);
	return true;
}

/* A slow path checks now: the batch starts again from it. */
static __always_inline void memwatch_check_done(void)
{
	if (in_task())
		this_cpu_write(memwatch_cpu.unchecked, 0);
}

static noinline void memwatch_acct_charge_check(struct folio *folio, int nid)
{
	memwatch_wmark_check_folio(folio);
	memwatch_node_check(nid);
}

static noinline void memwatch_acct_charge_slow(struct memwatch_charge_data *d,
					       u16 *entry, int nid)
{
	memwatch_acct_add(entry, d->mm, nid, folio_nr_pages(d->folio));
	memwatch_check_done();
	memwatch_wmark_check_folio(d->folio);
	memwatch_node_check(nid);
}

notrace void memwatch_acct_charge_return(struct memwatch_charge_data *d,
					 struct pt_regs *regs)
{
	struct folio *folio = d->folio;
	u16 *entry;
	int nid;

	if ((int)regs_return_value(regs))
		return;
	nid = folio_nid(folio);
	if (!memwatch_pfn_entry(folio_pfn(folio), &entry))
		return;
	if (in_task() && (!d->mm || d->mm == current->mm) &&
	    !folio_test_large(folio) && memwatch_acct_add_fast(entry, nid)) {
		if (static_branch_unlikely(&memwatch_checks) &&
		    memwatch_check_due(1))
			memwatch_acct_charge_check(folio, nid);
		return;
	}
	memwatch_acct_charge_slow(d, entry, nid);
}

notrace void memwatch_acct_uncharge(struct pt_regs *regs)
{
	struct folio *folio = (struct folio *)regs_get_kernel_argument(regs, 0);
	int nid = folio_nid(folio);
	u16 *entry;

	if (!memwatch_pfn_entry(folio_pfn(folio), &entry) ||
	    !READ_ONCE(*entry))
		return;
	memwatch_acct_drop(entry, nid, folio_nr_pages(folio));
	/*
	 * The usage drops when this uncharge batch ends: what is seen here
	 * is the drop of the batches before it (and the worker's tick).
	 */
	if (static_branch_unlikely(&memwatch_checks) &&
	    memwatch_check_due(folio_nr_pages(folio)))
		memwatch_acct_charge_check(folio, nid);
}

/*
 * hooks=tracepoint: khugepaged collapses a process's pages into a huge
 * page it allocates in alloc_charge_hpage(hpage, mm, cc), a kernel
 * thread with no mm of its own, so mm_page_alloc cannot tell whose the
 * page is. A kretprobe there names mm for the allocations in between.
 * One collapse is named at a time (there is one khugepaged thread;
 * MADV_COLLAPSE runs in the process itself and needs no name): claimed
 * by its task at entry, let go by that task at return (a kretprobe whose
 * entry ran always gets its return); another task sees a claim that is
 * not its own and ignores it. khugepaged holds mm (mmgrab) throughout.
 */
static struct task_struct *memwatch_collapse_task;
static struct mm_struct *memwatch_collapse_mm;

notrace bool memwatch_acct_collapse_entry(struct pt_regs *regs)
{
	struct task_struct *task = current;

	if (!(task->flags & PF_KTHREAD) || task->mm ||
	    cmpxchg(&memwatch_collapse_task, NULL, task))
		return false;
	WRITE_ONCE(memwatch_collapse_mm,
		   (struct mm_struct *)regs_get_kernel_argument(regs, 1));
	return true;
}

notrace void memwatch_acct_collapse_return(void)
{
	WRITE_ONCE(memwatch_collapse_mm, NULL);
	/* The mm cleared before the claim goes: the next claimer's follows. */
	smp_store_release(&memwatch_collapse_task, NULL);
}

/*
 * Whose a page the current task allocates is, for the tracepoint mode:
 * NULL for its own (or an interrupt's: [kernel]); for a kernel thread,
 * the mm it works on: one it took with kthread_use_mm() (vhost, AIO),
 * or the one its collapse names; NULL again with neither ([kernel]).
 */
static struct mm_struct *memwatch_alloc_mm(void)
{
	struct task_struct *task = current;

	if (!in_task() || !(task->flags & PF_KTHREAD))
		return NULL;
	if (task->mm)
		return task->mm;
	if (READ_ONCE(memwatch_collapse_task) == task)
		return READ_ONCE(memwatch_collapse_mm);
	return NULL;
}

static noinline void memwatch_acct_alloc_slow(u16 *entry, int nid, long nr)
{
	struct mm_struct *mm = memwatch_alloc_mm();

	memwatch_acct_add(entry, mm, nid, nr);
	memwatch_check_done();
	if (mm)
		memwatch_wmark_check_mm(mm);
	else
		memwatch_wmark_check_current();
	memwatch_node_check(nid);
}

/* The fast path's batch is full: current's own levels (memwatch_checks). */
static noinline void memwatch_acct_alloc_check(int nid)
{
	memwatch_wmark_check_current();
	memwatch_node_check(nid);
}

/* A user page the fast path does not take (a huge page, say). */
static noinline void memwatch_acct_alloc_other(struct page *page,
					       unsigned int order)
{
	int nid = page_to_nid(page);
	u16 *entry;

	if (memwatch_pfn_entry(page_to_pfn(page), &entry))
		memwatch_acct_alloc_slow(entry, nid, 1L << order);
}

/* Of these, a user page's gfp has the first three (below). */
#define MEMWATCH_GFP_USER	(__GFP_MOVABLE | __GFP_HARDWALL | __GFP_IO)
#define MEMWATCH_GFP_USER_MASK	(MEMWATCH_GFP_USER | __GFP_RECLAIMABLE | \
				 __GFP_ACCOUNT)

/*
 * hooks=tracepoint: mm_page_alloc. A user page counts from here: one its
 * caller asked to be movable (__GFP_MOVABLE, which the kernel never adds
 * to a caller's gfp), with __GFP_HARDWALL and __GFP_IO and without
 * __GFP_ACCOUNT: GFP_HIGHUSER_MOVABLE and what is made of it (anonymous
 * pages, page cache, THP). Not kernel memory: slab, page tables and
 * kernel stacks are unmovable or reclaimable, zsmalloc (zram, zswap) has
 * no __GFP_IO, pipe buffers have __GFP_ACCOUNT (the kernel charges those
 * as kernel memory, and a pipe keeps a spare page after its writer has
 * gone). The traced gfp's __GFP_HARDWALL alone cannot tell: once any
 * child cpuset exists (cpusets_enabled(): every container host),
 * prepare_alloc_pages() adds it to every allocation's gfp, and GFP_KERNEL
 * is traced as GFP_USER. Nor is a hugetlb pool page (order > 0 with
 * __GFP_RETRY_MAYFAIL, which THP never asks for) a process's: it is the
 * pool's, not whoever wrote nr_hugepages.
 *
 * It counts for the allocating task, or for the mm a kernel thread works
 * on (memwatch_alloc_mm()). Its memcg is not charged yet: the watermarks
 * are checked against the usage of the allocating task's cgroup as it
 * stands, which is at most the previous allocation's charge behind.
 *
 * page is NULL when the allocation failed (__alloc_pages() traces that
 * too): a THP fault's __GFP_THISNODE try on a fragmented node, a hugetlb
 * pool grown past what is free, an OOM victim's fault.
 */
static __always_inline void memwatch_acct_alloc_tp(struct page *page,
						   unsigned int order,
						   gfp_t gfp)
{
	int nid;
	u16 *entry;

	/*
	 * The fast path: one user page, for a caller that may sleep for it
	 * (__GFP_DIRECT_RECLAIM), which only task context may (might_alloc()
	 * says so): that is its test for task context.
	 */
	if (unlikely((gfp & (MEMWATCH_GFP_USER_MASK | __GFP_DIRECT_RECLAIM)) !=
		     (MEMWATCH_GFP_USER | __GFP_DIRECT_RECLAIM) || order ||
		     !page)) {
		if ((gfp & MEMWATCH_GFP_USER_MASK) == MEMWATCH_GFP_USER &&
		    page && !(order && (gfp & __GFP_RETRY_MAYFAIL)))
			memwatch_acct_alloc_other(page, order);
		return;
	}
	nid = page_to_nid(page);
	if (!memwatch_pfn_entry(page_to_pfn(page), &entry))
		return;
	if (!memwatch_acct_add_fast(entry, nid))
		memwatch_acct_alloc_slow(entry, nid, 1);
	else if (static_branch_unlikely(&memwatch_checks) &&
		 memwatch_check_due(1))
		memwatch_acct_alloc_check(nid);
}

/*
 * The probes run with preemption off, which makes them RCU readers and
 * keeps them on one CPU's batches (proc.h): up to 6.12 the tracepoint
 * does that; 7.2 guards probes with SRCU alone (memwatch_tp_enter()).
 */
notrace void memwatch_acct_alloc(void *data, struct page *page,
				 unsigned int order, gfp_t gfp,
				 int migratetype)
{
	memwatch_hit(MEMWATCH_HOOK_ALLOC);
	memwatch_tp_enter();
	memwatch_acct_alloc_tp(page, order, gfp);
	memwatch_tp_exit();
}

static __always_inline void memwatch_acct_free_tp(struct page *page,
						  unsigned int order)
{
	int nid = page_to_nid(page);
	u16 *entry;

	if (!memwatch_pfn_entry(page_to_pfn(page), &entry))
		return;
	/* Most frees are of one page: no shift for them. */
	if (likely(!order))
		memwatch_acct_drop(entry, nid, 1);
	else
		memwatch_acct_drop(entry, nid, 1L << order);
}

/*
 * hooks=tracepoint: mm_page_free, every page freed (any context). A
 * cgroup's usage falling is seen by the worker's tick.
 */
notrace void memwatch_acct_free(void *data, struct page *page,
				unsigned int order)
{
	memwatch_hit(MEMWATCH_HOOK_FREE);
	memwatch_tp_enter();
	memwatch_acct_free_tp(page, order);
	memwatch_tp_exit();
}

/*
 * A split, both modes: a huge page (or a high-order page) of nr pages
 * becomes pieces of step pages, each freed and uncharged on its own from
 * now on. The head's entry counted all nr; each piece's first page takes
 * that entry, so each free releases its step pages and they add up. The
 * splitter holds the folio (locked, its references frozen): no free runs
 * meanwhile. 7.2 splits a folio one order at a time (non-uniform split):
 * each call splits the piece the last one left, whose entry it set.
 */
static void memwatch_acct_split_nr(struct page *head, unsigned int nr,
				   unsigned int step)
{
	unsigned long pfn = page_to_pfn(head);
	int nid = page_to_nid(head);
	u16 *entry, *last, val;
	unsigned int i;

	if (step >= nr || !memwatch_pfn_entry(pfn, &entry))
		return;
	val = memwatch_proc_fold_val(READ_ONCE(*entry));
	/* The entries are one array: the last in it, all are. */
	if (!val || !memwatch_pfn_entry(pfn + nr - 1, &last))
		return;
	for (i = step; i < nr; i += step)
		memwatch_acct_set(&entry[i], val, nid, step);
}

/* No folio is larger than this (MAX_PAGE_ORDER is 10 on x86). */
#define MEMWATCH_MAX_SPLIT_ORDER	20

/*
 * The folio split hook (compat.h): split_page_memcg(head, nr) into nr
 * pages (6.1); split_page_memcg(head, old_order, new_order) (6.12);
 * folio_split_memcg_refs(folio, old_order, new_order) (7.2).
 */
void memwatch_acct_split(struct pt_regs *regs)
{
	struct page *head = (struct page *)regs_get_kernel_argument(regs, 0);
#if MEMWATCH_SPLIT_ORDERS
	unsigned int from = regs_get_kernel_argument(regs, 1);
	unsigned int to = regs_get_kernel_argument(regs, 2);

	if (from <= MEMWATCH_MAX_SPLIT_ORDER && to < from)
		memwatch_acct_split_nr(head, 1U << from, 1U << to);
#else
	memwatch_acct_split_nr(head, regs_get_kernel_argument(regs, 1), 1);
#endif
}

/* Since 6.15: split_page_memcg(page, order), split_page() into pages. */
void memwatch_acct_split_page(struct pt_regs *regs)
{
	struct page *page = (struct page *)regs_get_kernel_argument(regs, 0);
	unsigned int order = regs_get_kernel_argument(regs, 1);

	if (order <= MEMWATCH_MAX_SPLIT_ORDER)
		memwatch_acct_split_nr(page, 1U << order, 1);
}

void memwatch_acct_migrate(struct pt_regs *regs)
{
	struct folio *old = (struct folio *)regs_get_kernel_argument(regs, 0);
	struct folio *new = (struct folio *)regs_get_kernel_argument(regs, 1);
	int from = folio_nid(old), to = folio_nid(new);
	long nr = folio_nr_pages(new);
	u16 *old_entry, *new_entry;
	u16 val, prev;

	/* mem_cgroup_migrate() charges new only in this case. */
	if (memwatch_folio_charged(new) || !memwatch_folio_charged(old))
		return;
	val = 0;
	if (memwatch_pfn_entry(folio_pfn(old), &old_entry) &&
	    READ_ONCE(*old_entry))
		val = xchg(old_entry, 0);
	if (!memwatch_pfn_entry(folio_pfn(new), &new_entry)) {
		if (val)
			memwatch_proc_release(val, from, nr);
		return;
	}
	/*
	 * hooks=tracepoint: mm_page_alloc counted the new folio for the task
	 * that allocated it, the migrating one (migrate_pages(2), NUMA
	 * balancing): it was never that task's page, so uncount it there,
	 * and the new folio is the old one's owner's, or nobody's if memwatch
	 * did not count the old one (allocated before the load).
	 */
	prev = xchg(new_entry, memwatch_proc_fold_val(val));
	if (prev)
		memwatch_proc_charge(prev, to, -nr);
	if (!val)
		return;
	memwatch_proc_move(val & MEMWATCH_PFN_SLOT, from, to, nr);
}
