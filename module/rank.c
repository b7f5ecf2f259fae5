// SPDX-License-Identifier: GPL-2.0
/*
 * Rankings of the processes holding the most (top.h), and the choice of
 * whom an event names. The tick ranks the host's list and each node's
 * (memwatch_rank_tick()), and hands every live process to the watermark
 * code, which ranks each cgroup policy's (memwatch_rank_each()). An event
 * then reads a few candidates again (memwatch_rank_top()), never the
 * whole process table.
 *
 * The lists are the tick's alone to write (one work item); readers see
 * them published slot by slot (top.h).
 */
#include <linux/cgroup.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <uapi/linux/memwatch.h>

#include "proc.h"
#include "rank.h"
#include "top.h"

/*
 * The host's and each node's top candidates, ranked by the tick:
 * [nid] by live pages on node nid, [nr_node_ids] by all of them.
 */
static struct memwatch_top *memwatch_rank;	/* the tick's scratch */
static u16 *memwatch_ranked;	/* published: [list * CAND + i] */

/* The slots of the process table, the special ones included. */
static unsigned int memwatch_rank_slots(void)
{
	return memwatch_proc_capacity() + MEMWATCH_SLOT_FIRST;
}

void memwatch_rank_tick(void)
{
	unsigned int s, slots = memwatch_rank_slots();
	long live, total;
	int nid;

	for (nid = 0; nid <= nr_node_ids; nid++)
		memwatch_rank[nid].n = 0;
	for (s = MEMWATCH_SLOT_FIRST; s < slots; s++) {
		const struct memwatch_proc *p = memwatch_proc_get(s);

		if (!p || READ_ONCE(p->state) != MEMWATCH_PROC_ALIVE)
			continue;
		total = 0;
		for (nid = 0; nid < nr_node_ids; nid++) {
			live = memwatch_proc_live(s, nid);
			memwatch_top_offer(&memwatch_rank[nid], s, live);
			total += live;
		}
		memwatch_top_offer(&memwatch_rank[nr_node_ids], s, total);
	}
	for (nid = 0; nid <= nr_node_ids; nid++)
		memwatch_top_publish(&memwatch_rank[nid],
				     &memwatch_ranked[nid * MEMWATCH_TOP_CAND]);
}

void memwatch_rank_host(int nid, u16 out[MEMWATCH_TOP_CAND])
{
	unsigned int list = nid == NUMA_NO_NODE ? nr_node_ids : nid, i;

	for (i = 0; i < MEMWATCH_TOP_CAND; i++)
		out[i] = READ_ONCE(memwatch_ranked[list * MEMWATCH_TOP_CAND +
						   i]);
}

void memwatch_rank_each(void (*offer)(struct task_struct *t, u16 slot,
				      long live, void *arg), void *arg)
{
	unsigned int s, slots = memwatch_rank_slots();

	for (s = MEMWATCH_SLOT_FIRST; s < slots; s++) {
		const struct memwatch_proc *p = memwatch_proc_get(s);
		struct task_struct *t;
		long live;

		if (!p || READ_ONCE(p->state) != MEMWATCH_PROC_ALIVE)
			continue;
		live = memwatch_proc_live(s, NUMA_NO_NODE);
		if (live <= 0)
			continue;
		rcu_read_lock();
		t = pid_task(find_pid_ns(READ_ONCE(p->tgid), &init_pid_ns),
			     PIDTYPE_TGID);
		if (t && t->start_time == READ_ONCE(p->start_time))
			offer(t, s, live, arg);
		rcu_read_unlock();
		cond_resched();
	}
}

/*
 * The processes an event names: of the cgroup's subtree (cgroup_id) the
 * ones holding the most, or for a node's event (nid not NUMA_NO_NODE),
 * holding the most on that node; at most MEMWATCH_EVENT_TOP, most first,
 * into top and live. Chosen among a few candidates (top.h), never by a
 * pass over the process table: cand (a policy's ranking; 0 ends it) and
 * self (the charger's slot, or 0), or for the root's subtree, the host,
 * the tick's ranking of the host or the node. Each is read again now:
 * alive, in the subtree, and its live pages with what the CPUs' batches
 * hold (no IPI). Process context.
 */
unsigned int memwatch_rank_top(u64 cgroup_id, int nid,
			       const u16 cand_in[MEMWATCH_TOP_CAND], u16 self,
			       u16 top[MEMWATCH_EVENT_TOP],
			       long live[MEMWATCH_EVENT_TOP])
{
	u16 cand[2 * MEMWATCH_TOP_CAND + 1];
	unsigned int ncand = 0, n = 0, i, k;
	struct cgroup *ancestor;

	for (i = 0; i < MEMWATCH_TOP_CAND && cand_in[i]; i++)
		cand[ncand++] = cand_in[i];
	ancestor = cgroup_get_from_id(cgroup_id);
	if (IS_ERR(ancestor))
		ancestor = NULL;
	/* The root's subtree is the host: no check, the host's ranking. */
	if (ancestor && !cgroup_parent(ancestor)) {
		cgroup_put(ancestor);
		ancestor = NULL;
		memwatch_rank_host(nid, &cand[ncand]);
		for (i = 0; i < MEMWATCH_TOP_CAND && cand[ncand]; i++)
			ncand++;
	}
	if (self >= MEMWATCH_SLOT_FIRST)
		cand[ncand++] = self;
	for (k = 0; k < ncand; k++) {
		const struct memwatch_proc *p = memwatch_proc_get(cand[k]);
		long l;

		for (i = 0; i < k && cand[i] != cand[k]; i++)
			;
		if (i < k || !p || p->state != MEMWATCH_PROC_ALIVE)
			continue;
		l = memwatch_proc_live_now(cand[k], nid);
		if (l <= 0 || (n == MEMWATCH_EVENT_TOP && l <= live[n - 1]))
			continue;
		if (ancestor && !memwatch_proc_in_cgroup(p, ancestor))
			continue;
		/* Insert in order, most live first. */
		i = n < MEMWATCH_EVENT_TOP ? n++ : n - 1;
		for (; i > 0 && live[i - 1] < l; i--) {
			live[i] = live[i - 1];
			top[i] = top[i - 1];
		}
		live[i] = l;
		top[i] = cand[k];
	}
	if (ancestor)
		cgroup_put(ancestor);
	return n;
}

size_t memwatch_rank_bytes(void)
{
	return (nr_node_ids + 1) * (sizeof(*memwatch_rank) +
				    MEMWATCH_TOP_CAND * sizeof(u16));
}

int memwatch_rank_init(void)
{
	memwatch_rank = kcalloc(nr_node_ids + 1, sizeof(*memwatch_rank),
				GFP_KERNEL);
	memwatch_ranked = kcalloc((nr_node_ids + 1) * MEMWATCH_TOP_CAND,
				  sizeof(u16), GFP_KERNEL);
	if (!memwatch_rank || !memwatch_ranked) {
		memwatch_rank_exit();
		return -ENOMEM;
	}
	return 0;
}

/* After the tick and every reader (the event work) are gone. */
void memwatch_rank_exit(void)
{
	kfree(memwatch_ranked);
	kfree(memwatch_rank);
	memwatch_ranked = NULL;
	memwatch_rank = NULL;
}
