/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_HOOKS_H
#define _MEMWATCH_HOOKS_H

#include <linux/types.h>

#include "hits.h"

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
