/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_ACCT_H
#define _MEMWATCH_ACCT_H

#include <linux/gfp.h>
#include <linux/ptrace.h>

struct folio;
struct page;
struct mm_struct;

/* What the charge kretprobe keeps from entry to return. */
struct memwatch_charge_data {
	struct folio *folio;
	struct mm_struct *mm;
};

/* Probe handlers: any context, preemption off, never sleep. */
void memwatch_acct_charge_entry(struct memwatch_charge_data *d,
				struct pt_regs *regs);
void memwatch_acct_charge_return(struct memwatch_charge_data *d,
				 struct pt_regs *regs);
void memwatch_acct_uncharge(struct pt_regs *regs);
/* The probes of the mm_page_alloc and mm_page_free tracepoints. */
void memwatch_acct_alloc(void *data, struct page *page, unsigned int order,
			 gfp_t gfp, int migratetype);
void memwatch_acct_free(void *data, struct page *page, unsigned int order);
void memwatch_acct_migrate(struct pt_regs *regs);
void memwatch_acct_split(struct pt_regs *regs);
void memwatch_acct_split_page(struct pt_regs *regs);
/* hooks=tracepoint, alloc_charge_hpage(): true if this one is named. */
bool memwatch_acct_collapse_entry(struct pt_regs *regs);
void memwatch_acct_collapse_return(void);

#endif /* _MEMWATCH_ACCT_H */
