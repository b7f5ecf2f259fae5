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
 * interrupt, nobody: the [kernel] record. Under rcu_read_lock().
 */
static struct task_struct *memwatch_owner(struct mm_struct *mm)
{
	if (!in_task())
		return NULL;
	if (!(current->flags & PF_KTHREAD) && (!mm || mm == current->mm))
		return current;
	return mm ? rcu_dereference(mm->owner) : NULL;
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
	rcu_read_lock();
	slot = memwatch_proc_slot(memwatch_owner(d->mm));
	rcu_read_unlock();
	memwatch_acct_set(entry, slot | (remote ? MEMWATCH_PFN_REMOTE : 0),
			  nid, nr);
	memwatch_proc_charge(slot, nid, nr, remote);
	rcu_read_lock();
	memwatch_wmark_check(folio_memcg(folio));
	rcu_read_unlock();
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
	rcu_read_lock();
	memwatch_wmark_check(folio_memcg(folio));
	rcu_read_unlock();
	memwatch_node_check(nid);
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
