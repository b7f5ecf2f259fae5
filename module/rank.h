/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_RANK_H
#define _MEMWATCH_RANK_H

#include <linux/types.h>

#include "top.h"

struct task_struct;

int memwatch_rank_init(void);
void memwatch_rank_exit(void);
size_t memwatch_rank_bytes(void);

/* The module's tick (main.c): the host's and the nodes' lists. */
void memwatch_rank_tick(void);
/* The tick's list of the host (NUMA_NO_NODE) or of node nid, into out. */
void memwatch_rank_host(int nid, u16 out[MEMWATCH_TOP_CAND]);
/*
 * Every live process, its task and its live pages, to offer() (the
 * watermark code ranks its policies' lists with it). Process context;
 * offer() runs under RCU and must not sleep.
 */
void memwatch_rank_each(void (*offer)(struct task_struct *t, u16 slot,
				      long live, void *arg), void *arg);
/* Whom an event names: rank.c says how; n of them into top and live. */
unsigned int memwatch_rank_top(u64 cgroup_id, int nid,
			       const u16 cand[MEMWATCH_TOP_CAND], u16 self,
			       u16 top[MEMWATCH_EVENT_TOP],
			       long live[MEMWATCH_EVENT_TOP]);

#endif /* _MEMWATCH_RANK_H */
