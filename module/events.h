/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_EVENTS_H
#define _MEMWATCH_EVENTS_H

#include <linux/sched.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <uapi/linux/memwatch.h>

#include "top.h"

/* An event as detected; nl_event.c turns it into a message. */
struct memwatch_event {
	u64 cgroup_id;
	u64 usage, limit, threshold;	/* bytes */
	/* A crossing's: every level of its policy, bytes, 0 where off. */
	u64 thresholds[MEMWATCH_NR_LEVELS + 1];
	u64 ts_ns;			/* CLOCK_MONOTONIC at detection */
	u64 work_ns;			/* and when the work took it */
	int node;			/* a node's level, else NUMA_NO_NODE */
	u8 level;			/* enum memwatch_level */
	u8 direction;			/* enum memwatch_direction */
	u8 wmark_fired;			/* OOM: a watermark was crossed */
	/* Whom it may name (top.h): candidates, and the charger's slot. */
	u16 cand[MEMWATCH_TOP_CAND];
	u16 self;
	pid_t victim;			/* OOM: the kernel's choice */
	char victim_comm[TASK_COMM_LEN];
};

/* The queue's ceiling, module parameter max_events. */
#define MEMWATCH_EVENTS_MIN	4U
#define MEMWATCH_EVENTS_MAX	65536U

/* size events fit in the queue (clamped to MIN..MAX): 0 or -ENOMEM. */
/*
 * The ring, and its work: send takes the events out (memwatch_event_pop()
 * until it is empty) and says how each went (memwatch_event_done()).
 */
int memwatch_events_init(unsigned int size, work_func_t send);
void memwatch_events_exit(void);
/* Any context: queue an event for sending from process context. */
/* Any context: e into the ring, the work queued; or dropped, counted. */
void memwatch_event_push(const struct memwatch_event *e);
/* The work's: the oldest event, false when none is left. */
bool memwatch_event_pop(struct memwatch_event *e);
/* The work's: an event was sent, or dropped. */
void memwatch_event_done(bool sent);
u64 memwatch_events_sent(void);
u64 memwatch_events_dropped(void);
unsigned int memwatch_events_queued(void);
unsigned int memwatch_events_capacity(void);
size_t memwatch_events_bytes(void);

#endif /* _MEMWATCH_EVENTS_H */
