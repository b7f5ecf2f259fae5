/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_LEVELS_H
#define _MEMWATCH_LEVELS_H

/*
 * Watermark levels: one idea for a cgroup's policy (wmark.c) and a node's
 * (node.c). A policy has up to five levels, each a percentage of a limit
 * or a number of bytes, and the highest level its usage has crossed; a
 * crossing, up or down, is an event (events.h). levels.c holds what both
 * kinds share: the thresholds, their order, the margin, the crossing, and
 * how a dump shows a policy.
 */
#include <linux/atomic.h>
#include <linux/jump_label.h>
#include <linux/types.h>
#include <uapi/linux/memwatch.h>

struct memwatch_event;
struct netlink_ext_ack;

enum {
	MEMWATCH_WMARK_OFF,
	MEMWATCH_WMARK_PERCENT,	/* value: 1..100 of the effective limit */
	MEMWATCH_WMARK_BYTES,	/* value: bytes */
};

struct memwatch_wmark_spec {
	u8 kind;
	u64 value;
};

/* A policy as the dump shows it; index 0 of the arrays is unused. */
struct memwatch_policy_view {
	u64 cgroup_id;
	int node;		/* a node's policy, else NUMA_NO_NODE */
	u8 level;
	bool swap;		/* usage counts swapped-out memory */
	u64 usage, limit;	/* bytes */
	struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1];
	u64 threshold[MEMWATCH_NR_LEVELS + 1];	/* bytes, resolved now */
};

/*
 * On while a cgroup or a node policy is set (one count for each): the
 * fast path of an allocation is a patched jump past every check while
 * there is none. Counted in process context, the policy's mutex held;
 * on before the policy is published, off after it is gone.
 */
DECLARE_STATIC_KEY_FALSE(memwatch_checks);

/* Bumped whenever a cgroup's or a node's policy is set or removed. */
void memwatch_policies_changed(void);
unsigned int memwatch_policies_gen(void);

/* A level's threshold in pages, 0 when the level is off. */
unsigned long memwatch_threshold(const struct memwatch_wmark_spec *s,
				 unsigned long limit);
/*
 * Each enabled level's threshold above the one below it, at this limit:
 * 0, or -EINVAL with extack set.
 */
int memwatch_levels_check(const struct memwatch_wmark_spec *spec,
			  unsigned long limit, struct netlink_ext_ack *extack);
/* v's level, usage, limit, levels and thresholds (pages in, bytes out). */
void memwatch_levels_view(struct memwatch_policy_view *v,
			  const struct memwatch_wmark_spec *spec, int level,
			  unsigned long usage, unsigned long limit);
/*
 * Move *level to where usage puts it (one CPU wins the cmpxchg) and send
 * an event for each enabled level crossed, from the template e (its
 * cgroup id and node). top: the policy's ranked candidates (top.h), or
 * NULL. Any context.
 */
void memwatch_crossing(const struct memwatch_wmark_spec *spec, atomic_t *level,
		       unsigned long usage, unsigned long limit,
		       const u16 *top, struct memwatch_event *e);

#endif /* _MEMWATCH_LEVELS_H */
