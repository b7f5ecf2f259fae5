/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_WMARK_H
#define _MEMWATCH_WMARK_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/jump_label.h>
#include <linux/types.h>
#include <uapi/linux/memwatch.h>

#include "levels.h"

struct mem_cgroup;
struct mm_struct;
struct task_struct;
struct oom_control;
struct netlink_ext_ack;

int memwatch_wmark_init(unsigned int max_policies);
void memwatch_wmark_exit(void);
/* The module's tick (main.c): check, rank, drop removed cgroups' policies. */
void memwatch_wmark_tick(void);

/* Cgroup policies set: the fault path checks them inline (no call). */
extern unsigned int memwatch_npolicies;

void memwatch_wmark_check_memcg(struct mem_cgroup *memcg);
void memwatch_wmark_check_task(struct task_struct *task);
void memwatch_wmark_check_owner(struct mm_struct *mm);

/* Probe context: usage of memcg (and so of its ancestors) changed. */
static inline void memwatch_wmark_check(struct mem_cgroup *memcg)
{
	if (READ_ONCE(memwatch_npolicies))
		memwatch_wmark_check_memcg(memcg);
}

/* Probe context, hooks=tracepoint: the current task's memcg's. */
static inline void memwatch_wmark_check_current(void)
{
	if (READ_ONCE(memwatch_npolicies))
		memwatch_wmark_check_task(current);
}

/* Probe context, hooks=tracepoint: the memcg of mm's owner's. */
static inline void memwatch_wmark_check_mm(struct mm_struct *mm)
{
	if (READ_ONCE(memwatch_npolicies))
		memwatch_wmark_check_owner(mm);
}

/* Probe context: the kernel OOM killer chose oc->chosen. */
void memwatch_wmark_oom(struct oom_control *oc);

/* Process context, from netlink: 0 or -errno with extack set. */
int memwatch_wmark_set(u64 cgroup_id,
		       const struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1],
		       bool swap, struct netlink_ext_ack *extack);
int memwatch_wmark_del(u64 cgroup_id, struct netlink_ext_ack *extack);
/*
 * A POLICY_GET dump's place in the policy hash: the bucket, and the
 * cgroup id last given from it (0: from its start). Resuming by key costs
 * a dump O(policies + buckets) in all, not a scan from the first policy
 * for each one. A policy set or removed meanwhile may be missed or given
 * twice; the generation (memwatch_policies_gen()) says so to the dump.
 */
struct memwatch_wmark_cursor {
	unsigned int bkt;
	u64 after;
};

/*
 * The policy after cur: 0, or -ENOENT past the last. cur stays on its
 * bucket; once the policy is sent, the caller sets cur->after to its id.
 */
int memwatch_wmark_next(struct memwatch_wmark_cursor *cur,
			struct memwatch_policy_view *v);
/* The policy of cgroup_id: 0, or -ENOENT. */
int memwatch_wmark_get_id(u64 cgroup_id, struct memwatch_policy_view *v);
unsigned int memwatch_wmark_count(void);
unsigned int memwatch_wmark_capacity(void);
/* POLICY_SETs refused with -ENOSPC since load. */
u64 memwatch_wmark_refused(void);
size_t memwatch_wmark_bytes(void);

#endif /* _MEMWATCH_WMARK_H */
