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
#include "pfn.h"
#include "proc.h"
#include "node.h"
#include "wmark.h"

void memwatch_acct_charge_entry(struct memwatch_charge_data *d,
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

static void memwatch_acct_set(u16 *entry, u16 val, int nid, long nr)
{
	u16 old = xchg(entry, val);

	/* A page freed without our seeing its uncharge: release it now. */
	if (old)
		memwatch_proc_release(old & MEMWATCH_PFN_SLOT, nid, nr,
				      old & MEMWATCH_PFN_REMOTE);
}

void memwatch_acct_charge_return(struct memwatch_charge_data *d,
				 struct pt_regs *regs)
{
	struct folio *folio = d->folio;
	bool remote;
	u16 *entry;
	u16 slot;
	long nr;
	int nid;

	if ((int)regs_return_value(regs))
		return;
	nid = folio_nid(folio);
	entry = memwatch_pfn_entry(nid, folio_pfn(folio));
	if (!entry)
		return;
	nr = folio_nr_pages(folio);
	remote = nid != numa_node_id();
	slot = memwatch_proc_slot(memwatch_owner(d->mm));
	memwatch_acct_set(entry, slot | (remote ? MEMWATCH_PFN_REMOTE : 0),
			  nid, nr);
	memwatch_proc_charge(slot, nid, nr, remote);
	/* A charged folio holds its memcg. */
	memwatch_wmark_check(folio_memcg(folio));
	memwatch_node_check(nid);
}

void memwatch_acct_uncharge(struct pt_regs *regs)
{
	struct folio *folio = (struct folio *)regs_get_kernel_argument(regs, 0);
	int nid = folio_nid(folio);
	u16 *entry;

	entry = memwatch_pfn_entry(nid, folio_pfn(folio));
	if (!entry || !READ_ONCE(*entry))
		return;
	memwatch_acct_set(entry, 0, nid, folio_nr_pages(folio));
	/*
	 * The usage drops when this uncharge batch ends: what is seen here
	 * is the drop of the batches before it (and the worker's tick).
	 */
	memwatch_wmark_check(folio_memcg(folio));
	memwatch_node_check(nid);
}

/*
 * hooks=tracepoint: mm_page_alloc. A user page counts from here: one
 * with __GFP_HARDWALL, which GFP_USER and GFP_HIGHUSER* have and kernel
 * allocations do not, and without __GFP_ACCOUNT, which pipe buffers have
 * (the kernel charges those as kernel memory, and a pipe keeps a spare
 * page after its writer has gone). That is what the kprobe mode counts:
 * anonymous and page-cache pages. It counts for the allocating task
 * ([kernel] for a kernel thread or an interrupt). Its memcg is not
 * charged yet: the watermarks are checked against the usage of the
 * allocating task's cgroup as it stands, which is at most the previous
 * allocation's charge behind.
 */
void memwatch_acct_alloc(struct page *page, unsigned int order, gfp_t gfp)
{
	int nid = page_to_nid(page);
	bool remote;
	u16 *entry;
	u16 slot;
	long nr;

	if ((gfp & (__GFP_HARDWALL | __GFP_ACCOUNT)) != __GFP_HARDWALL)
		return;
	entry = memwatch_pfn_entry(nid, page_to_pfn(page));
	if (!entry)
		return;
	nr = 1L << order;
	remote = nid != numa_node_id();
	slot = memwatch_proc_slot(memwatch_owner(NULL));
	memwatch_acct_set(entry, slot | (remote ? MEMWATCH_PFN_REMOTE : 0),
			  nid, nr);
	memwatch_proc_charge(slot, nid, nr, remote);
	memwatch_wmark_check_current();
	memwatch_node_check(nid);
}

/*
 * hooks=tracepoint: mm_page_free, every page freed (any context). A
 * cgroup's usage falling is seen by the worker's tick.
 */
void memwatch_acct_free(struct page *page, unsigned int order)
{
	int nid = page_to_nid(page);
	u16 *entry;

	entry = memwatch_pfn_entry(nid, page_to_pfn(page));
	if (!entry || !READ_ONCE(*entry))
		return;
	memwatch_acct_set(entry, 0, nid, 1L << order);
}

void memwatch_acct_migrate(struct pt_regs *regs)
{
	struct folio *old = (struct folio *)regs_get_kernel_argument(regs, 0);
	struct folio *new = (struct folio *)regs_get_kernel_argument(regs, 1);
	int from = folio_nid(old), to = folio_nid(new);
	long nr = folio_nr_pages(new);
	u16 *old_entry, *new_entry;
	u16 val;

	/* mem_cgroup_migrate() charges new only in this case. */
	if (folio_memcg(new) || !folio_memcg(old))
		return;
	old_entry = memwatch_pfn_entry(from, folio_pfn(old));
	if (!old_entry)
		return;
	val = xchg(old_entry, 0);
	if (!val)
		return;
	new_entry = memwatch_pfn_entry(to, folio_pfn(new));
	if (!new_entry) {
		memwatch_proc_release(val & MEMWATCH_PFN_SLOT, from, nr,
				      val & MEMWATCH_PFN_REMOTE);
		return;
	}
	memwatch_acct_set(new_entry, val, to, nr);
	memwatch_proc_move(val & MEMWATCH_PFN_SLOT, from, to, nr);
}
