/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_HITS_H
#define _MEMWATCH_HITS_H

/*
 * The hooks, and how often each fired: counted by whoever handles the
 * hook (hooks.c's handlers, or acct.c's tracepoint probes, which are
 * registered directly), reported by STATUS through hooks.c. A leaf: it
 * includes nothing of the module's, so accounting need not include the
 * hooks that call it.
 */
#include <linux/percpu.h>
#include <linux/types.h>

enum {
	MEMWATCH_HOOK_CHARGE,
	MEMWATCH_HOOK_UNCHARGE,
	MEMWATCH_HOOK_ALLOC,
	MEMWATCH_HOOK_FREE,
	MEMWATCH_HOOK_COLLAPSE,
	MEMWATCH_HOOK_SPLIT,
	MEMWATCH_HOOK_MIGRATE,
	MEMWATCH_HOOK_OOM,
	MEMWATCH_HOOK_REPLACE,
	MEMWATCH_HOOK_SPLIT_PAGE,
	MEMWATCH_NR_HOOKS
};

/* Each hook's hits on each CPU: one instruction to count one. */
DECLARE_PER_CPU(u64, memwatch_hook_hits[MEMWATCH_NR_HOOKS]);

static __always_inline void memwatch_hit(unsigned int hook)
{
	this_cpu_inc(memwatch_hook_hits[hook]);
}

#endif /* _MEMWATCH_HITS_H */
