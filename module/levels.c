// SPDX-License-Identifier: GPL-2.0
/*
 * Watermark levels, shared by cgroup policies (wmark.c) and node policies
 * (node.c): levels.h says what is here.
 *
 * Crossing up happens at the threshold; crossing down only below it by a
 * margin, so usage wobbling around a level sends one event, not a storm.
 * The level moves by cmpxchg: of the CPUs that see the same crossing, one
 * reports it.
 */
#include <linux/cpumask.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <net/netlink.h>

#include "events.h"
#include "levels.h"
#include "proc.h"
#include "top.h"

DEFINE_STATIC_KEY_FALSE(memwatch_checks);

/* Never 0: genl_dump_check_consistent() takes 0 for "not set yet". */
static atomic_t memwatch_gen = ATOMIC_INIT(1);

void memwatch_policies_changed(void)
{
	if (atomic_inc_return(&memwatch_gen) == 0)
		atomic_inc(&memwatch_gen);
}

unsigned int memwatch_policies_gen(void)
{
	return atomic_read(&memwatch_gen);
}

/* A level's threshold in pages, 0 when the level is off. */
unsigned long memwatch_threshold(const struct memwatch_wmark_spec *s,
				 unsigned long limit)
{
	switch (s->kind) {
	case MEMWATCH_WMARK_PERCENT:
		return max(1UL, (unsigned long)div_u64((u64)limit * s->value,
							100));
	case MEMWATCH_WMARK_BYTES:
		return max(1UL, (unsigned long)(s->value >> PAGE_SHIFT));
	}
	return 0;
}

int memwatch_levels_check(const struct memwatch_wmark_spec *spec,
			  unsigned long limit, struct netlink_ext_ack *extack)
{
	unsigned long prev = 0;
	int l;

	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
		unsigned long t = memwatch_threshold(&spec[l], limit);

		if (!t)
			continue;
		if (t <= prev) {
			NL_SET_ERR_MSG(extack,
				       "levels out of order: each threshold must be above the one of the level below");
			return -EINVAL;
		}
		prev = t;
	}
	return 0;
}

void memwatch_levels_view(struct memwatch_policy_view *v,
			  const struct memwatch_wmark_spec *spec, int level,
			  unsigned long usage, unsigned long limit)
{
	int l;

	v->level = level;
	v->usage = (u64)usage << PAGE_SHIFT;
	v->limit = (u64)limit << PAGE_SHIFT;
	memcpy(v->spec, spec, sizeof(v->spec));
	for (l = 0; l <= MEMWATCH_NR_LEVELS; l++)
		v->threshold[l] = (u64)memwatch_threshold(&spec[l], limit)
				  << PAGE_SHIFT;
}

/*
 * How far under a threshold usage must fall to cross down: 2% of the
 * limit, and at least the charges the CPUs may hold in their per-CPU
 * stock (64 pages each), which usage includes.
 */
static unsigned long memwatch_margin(unsigned long limit)
{
	return max(limit / 50, 64UL * num_online_cpus());
}

/* The level usage puts a policy of spec at, starting from cur. */
static int memwatch_level_of(const struct memwatch_wmark_spec *spec, int cur,
			     unsigned long usage, unsigned long limit)
{
	unsigned long margin = memwatch_margin(limit);
	int l, up = 0;

	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
		unsigned long t = memwatch_threshold(&spec[l], limit);

		if (t && usage >= t)
			up = l;
	}
	if (up >= cur)
		return up;
	/* Down, one enabled level at a time, each past its margin. */
	for (l = cur; l > up; l--) {
		unsigned long t = memwatch_threshold(&spec[l], limit);

		if (t && usage + margin >= t)
			return l;
	}
	return up;
}

void memwatch_crossing(const struct memwatch_wmark_spec *spec, atomic_t *level,
		       unsigned long usage, unsigned long limit,
		       const u16 *top, struct memwatch_event *e)
{
	int cur = atomic_read(level), new, l, step;

	new = memwatch_level_of(spec, cur, usage, limit);
	if (new == cur || atomic_cmpxchg(level, cur, new) != cur)
		return;
	/*
	 * Whom the event may name: the policy's ranked candidates (none for
	 * the host's and the nodes': the event work reads proc.c's), and
	 * the process whose charge crossed, which the last ranking may
	 * predate. The work checks each again.
	 */
	for (l = 0; top && l < MEMWATCH_TOP_CAND; l++)
		e->cand[l] = READ_ONCE(top[l]);
	if (in_task() && !(current->flags & PF_KTHREAD)) {
		preempt_disable();	/* the slot cache is per CPU */
		e->self = memwatch_proc_slot(current);
		preempt_enable();
	}
	e->usage = (u64)usage << PAGE_SHIFT;
	e->limit = (u64)limit << PAGE_SHIFT;
	e->ts_ns = ktime_get_ns();
	e->direction = new > cur ? MEMWATCH_DIR_UP : MEMWATCH_DIR_DOWN;
	for (l = 0; l <= MEMWATCH_NR_LEVELS; l++)
		e->thresholds[l] = (u64)memwatch_threshold(&spec[l], limit)
				   << PAGE_SHIFT;
	step = new > cur ? 1 : -1;
	/* Up: cur+1..new; down: cur..new+1. */
	for (l = new > cur ? cur + 1 : cur; l != (new > cur ? new + 1 : new);
	     l += step) {
		if (!spec[l].kind)
			continue;
		e->level = l;
		e->threshold = e->thresholds[l];
		memwatch_event_push(e);
	}
}
