/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A short list of candidates for an event's top offenders: the slots
 * holding the most live pages, most first. The workers keep one per
 * cgroup policy (wmark.c), one per node and one for the host (proc.c),
 * ranked every tick, so an event never scans the process table: it
 * re-reads the live pages of these few and of the process whose charge
 * crossed the level, and names the first MEMWATCH_EVENT_TOP of them.
 *
 * Lists are built by one worker in a scratch copy and published slot by
 * slot (WRITE_ONCE); a reader may see a list half old, half new. That is
 * harmless: every candidate is checked again when it is read (alive, in
 * the cgroup, its pages counted now), and 0 ends a list.
 */
#ifndef _MEMWATCH_TOP_H
#define _MEMWATCH_TOP_H

#include <linux/compiler.h>
#include <linux/types.h>

#define MEMWATCH_TOP_CAND	8	/* candidates a list keeps */
#define MEMWATCH_EVENT_TOP	5	/* processes an event names */

struct memwatch_top {
	unsigned int n;
	u16 slot[MEMWATCH_TOP_CAND];
	long live[MEMWATCH_TOP_CAND];
};

/* Keep slot if it holds more than the last kept (or there is room). */
static inline void memwatch_top_offer(struct memwatch_top *t, u16 slot,
				      long live)
{
	unsigned int i;

	if (live <= 0 ||
	    (t->n == MEMWATCH_TOP_CAND && live <= t->live[t->n - 1]))
		return;
	i = t->n < MEMWATCH_TOP_CAND ? t->n++ : t->n - 1;
	for (; i > 0 && t->live[i - 1] < live; i--) {
		t->slot[i] = t->slot[i - 1];
		t->live[i] = t->live[i - 1];
	}
	t->slot[i] = slot;
	t->live[i] = live;
}

/* The scratch list t becomes the published one, out (0 past its end). */
static inline void memwatch_top_publish(const struct memwatch_top *t,
					u16 out[MEMWATCH_TOP_CAND])
{
	unsigned int i;

	for (i = 0; i < MEMWATCH_TOP_CAND; i++)
		WRITE_ONCE(out[i], i < t->n ? t->slot[i] : 0);
}

#endif /* _MEMWATCH_TOP_H */
