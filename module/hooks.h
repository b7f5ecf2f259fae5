/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_HOOKS_H
#define _MEMWATCH_HOOKS_H

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

struct memwatch_hook_stat {
	const char *name;
	u8 kind;		/* enum memwatch_hook_kind */
	bool attached;
	u64 hits;
	u64 missed;
	int error;		/* not attached: what attaching returned */
	const char *uncounted;	/* not attached: what is not counted */
};

/* hooks=: which hook points account pages (hooks.c says what each is). */
enum {
	MEMWATCH_HOOKS_KPROBE,
	MEMWATCH_HOOKS_TRACEPOINT,
};

int memwatch_hooks_init(bool attach, bool probe_only, unsigned int mode,
			const char *absent);
void memwatch_hooks_exit(void);
int memwatch_hooks_stat(unsigned int i, struct memwatch_hook_stat *st);

#endif /* _MEMWATCH_HOOKS_H */
