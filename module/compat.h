/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels memwatch supports: Debian 12's 6.1,
 * Debian 13's 6.12 and sid's 7.2 (Documentation/kernels.md). Each
 * difference was read in that kernel's source; the version it appeared
 * in is upstream's, for kernels in between that nobody has tested.
 */
#ifndef _MEMWATCH_COMPAT_H
#define _MEMWATCH_COMPAT_H

#include <linux/version.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

/* A dump's parsed attributes: in genl_info since 6.2. */
static inline struct nlattr **memwatch_dump_attrs(struct netlink_callback *cb)
{
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * khugepaged's allocation of the huge page it collapses into, (result
 * pointer, mm, collapse control, ...): a folio since 6.8.
 */
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
#define MEMWATCH_COLLAPSE_FN	"alloc_charge_folio"
#else
#define MEMWATCH_COLLAPSE_FN	"alloc_charge_hpage"
#endif

/*
 * A huge page split, and how its arguments say into what:
 * - up to 6.12: split_page_memcg(head, nr) into nr pages (6.1), then
 *   split_page_memcg(head, old_order, new_order) (6.9 on);
 * - 6.15 on: folio_split_memcg_refs(folio, old_order, new_order) for a
 *   folio, and split_page_memcg(page, order) for split_page() of a
 *   non-compound page, into order-0 pages (MEMWATCH_HOOK_SPLIT_PAGE).
 * MEMWATCH_SPLIT_ORDERS: the hook's second and third arguments are
 * orders, not a count.
 */
#if KERNEL_VERSION(6, 15, 0) <= LINUX_VERSION_CODE
#define MEMWATCH_SPLIT_FN	"folio_split_memcg_refs"
#define MEMWATCH_SPLIT_PAGE_FN	"split_page_memcg"
#define MEMWATCH_SPLIT_ORDERS	1
#elif KERNEL_VERSION(6, 9, 0) <= LINUX_VERSION_CODE
#define MEMWATCH_SPLIT_FN	"split_page_memcg"
#define MEMWATCH_SPLIT_ORDERS	1
#else
#define MEMWATCH_SPLIT_FN	"split_page_memcg"
#define MEMWATCH_SPLIT_ORDERS	0
#endif

/*
 * Since 6.7 mem_cgroup_migrate() moves the charge (the old folio is left
 * uncharged) and mem_cgroup_replace_folio() charges a page cache
 * replacement beside the old folio; before, mem_cgroup_migrate() did
 * the latter for both. The owner moves the same way in either.
 */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#define MEMWATCH_REPLACE_FN	"mem_cgroup_replace_folio"
#endif

/*
 * The unbound system workqueue: system_dfl_wq since 6.17 (7.2 warns once
 * for each work function queued on system_unbound_wq).
 */
#if KERNEL_VERSION(6, 17, 0) <= LINUX_VERSION_CODE
#define memwatch_unbound_wq	system_dfl_wq
#else
#define memwatch_unbound_wq	system_unbound_wq
#endif

/*
 * Tracepoint probes: up to 6.12 the tracepoint runs them with preemption
 * off (tracepoint.h, __DO_TRACE); 7.2 guards them with SRCU-fast alone
 * and leaves preemption to each probe (trace_events.h's own probes take
 * guard(preempt_notrace)). memwatch's probes need it off: per-CPU
 * batches, and RCU readers. Kernels between 6.12 and 7.2 are taken to
 * need it (it costs a preempt count where they would not).
 */
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
#define memwatch_tp_enter()	preempt_disable_notrace()
#define memwatch_tp_exit()	preempt_enable_notrace()
#else
#define memwatch_tp_enter()	do { } while (0)
#define memwatch_tp_exit()	do { } while (0)
#endif

/*
 * Whether a folio is charged to a memcg, without folio_memcg() (which
 * wants RCU since 7.x's objcg folios).
 */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define memwatch_folio_charged(folio)	folio_memcg_charged(folio)
#else
#define memwatch_folio_charged(folio)	(!!folio_memcg(folio))
#endif

#endif /* _MEMWATCH_COMPAT_H */
