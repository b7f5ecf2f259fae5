// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup watermarks. A policy holds up to five levels (notify, reclaim,
 * throttle, freeze, kill), each a percentage of the cgroup's effective
 * limit or a number of bytes, and the highest level its usage has crossed.
 *
 * A policy on the root cgroup watches the whole host: its usage is all
 * RAM less MemAvailable (memwatch_usage()), its limit all RAM.
 *
 * Detection runs where usage changes: after charges and at uncharges of
 * tracked pages (acct.c, in batches), for the memcg and each of its
 * ancestors (the root's at most once a jiffy), and every 200 ms from the
 * module's tick (main.c) as a safety net (a limit lowered by hand changes
 * no usage; the host's usage also moves with kernel allocations no charge
 * sees). The levels themselves, their margin and the crossing are
 * levels.c's, shared with the nodes' policies.
 *
 * Locking: policies live in an RCU hash keyed by the memcg. Probe handlers
 * read it under RCU; netlink commands and the tick change it under
 * memwatch_wmark_mutex and free after a grace period. A policy holds a
 * reference on its memcg's css; the tick drops policies of cgroups that
 * were removed.
 */
#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/page_counter.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/netlink.h>
#include <uapi/linux/memwatch.h>

#include "compat.h"
#include "events.h"
#include "proc.h"
#include "rank.h"
#include "top.h"
#include "wmark.h"

struct memwatch_policy {
	struct hlist_node node;
	struct mem_cgroup *memcg;	/* a css reference */
	u64 cgroup_id;
	struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1];
	bool swap;			/* usage counts swapped-out memory */
	atomic_t level;
	/*
	 * Top candidates of the cgroup's subtree (top.h): ranked by the
	 * worker under the mutex, published to top for the probes.
	 */
	struct memwatch_top rank;
	u16 top[MEMWATCH_TOP_CAND];
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(memwatch_policies, 8);
static DEFINE_MUTEX(memwatch_wmark_mutex);
unsigned int memwatch_npolicies;	/* changed under the mutex */
static unsigned int memwatch_max_policies;
static atomic64_t memwatch_refused;	/* POLICY_SETs the full table refused */
static unsigned long memwatch_host_checked;	/* jiffies, see _check() */
static struct memwatch_policy *memwatch_policy_find(struct mem_cgroup *memcg)
{
	struct memwatch_policy *p;

	hash_for_each_possible_rcu(memwatch_policies, p, node,
				   (unsigned long)memcg)
		if (p->memcg == memcg)
			return p;
	return NULL;
}

/* memory.max of the cgroup or its nearest limited ancestor, or all RAM. */
static unsigned long memwatch_limit(struct mem_cgroup *memcg)
{
	for (; memcg && parent_mem_cgroup(memcg);
	     memcg = parent_mem_cgroup(memcg)) {
		unsigned long max = READ_ONCE(memcg->memory.max);

		if (max != PAGE_COUNTER_MAX)
			return max;
	}
	return totalram_pages();
}

/*
 * The usage a policy measures, in pages. A cgroup's is its page counter.
 * The root's means the whole host, and 6.1 keeps no page counter for the
 * root memcg: it is what the host cannot get back without killing, all
 * RAM less MemAvailable (si_mem_available(): free pages over the
 * watermarks, plus the reclaimable halves of page cache and slab).
 */
static unsigned long memwatch_host_usage(void)
{
	unsigned long total = totalram_pages(), avail = si_mem_available();

	return avail < total ? total - avail : 0;
}

static unsigned long memwatch_usage(struct mem_cgroup *memcg)
{
	if (parent_mem_cgroup(memcg))
		return page_counter_read(&memcg->memory);
	return memwatch_host_usage();
}

/*
 * A policy's usage: with swap, the cgroup's swapped-out memory too
 * (memory.swap.current: cgroup v2's swap counter, 0 where swap is not
 * accounted), so a leak the kernel pushes to swap at memory.high still
 * climbs the levels. On the root the same counter is the host's swap in
 * use: every child's swap charge is also charged to its ancestors, the
 * root's included (the host's SwapTotal is not exported to modules, so
 * SwapTotal - SwapFree cannot be read here). What it leaves out is swap
 * of processes in the root cgroup itself, and all of it where swap is
 * not accounted (cgroup v1, swapaccount=0): Documentation/design.md.
 */
static unsigned long memwatch_policy_usage(const struct memwatch_policy *p)
{
	unsigned long usage = memwatch_usage(p->memcg);

	if (p->swap)
		usage += page_counter_read(&p->memcg->swap);
	return usage;
}

static void memwatch_policy_check(struct memwatch_policy *p)
{
	struct memwatch_event e = {
		.cgroup_id = p->cgroup_id,
		.node = NUMA_NO_NODE,
	};

	memwatch_crossing(p->spec, &p->level, memwatch_policy_usage(p),
			  memwatch_limit(p->memcg),
			  parent_mem_cgroup(p->memcg) ? p->top : NULL, &e);
}

/*
 * Under RCU (memwatch_rank_each()): the live process t goes to the lists
 * of the policies on its cgroup and the cgroup's ancestors but the root
 * (whose list is the host's, proc.c); or, with only, to only's.
 */
static void memwatch_wmark_offer(struct task_struct *t, u16 slot, long live,
				 void *only)
{
	struct memwatch_policy *p = only;
	struct mem_cgroup *memcg;

	memcg = mem_cgroup_from_css(task_css(t, memory_cgrp_id));
	for (; memcg && parent_mem_cgroup(memcg);
	     memcg = parent_mem_cgroup(memcg)) {
		if (!only) {
			p = memwatch_policy_find(memcg);
			if (p)
				memwatch_top_offer(&p->rank, slot, live);
		} else if (memcg == p->memcg) {
			memwatch_top_offer(&p->rank, slot, live);
			return;
		}
	}
}

/*
 * Rank the candidates of every cgroup policy, or of only (one being set,
 * not in the hash yet): a pass over the process table, from the worker's
 * tick or POLICY_SET, never from an event. Under the mutex, or with only
 * not yet visible to anyone.
 */
static void memwatch_wmark_rank(struct memwatch_policy *only)
{
	struct memwatch_policy *p;
	bool any = false;
	int bkt;

	if (only) {
		only->rank.n = 0;
		memwatch_rank_each(memwatch_wmark_offer, only);
		memwatch_top_publish(&only->rank, only->top);
		return;
	}
	lockdep_assert_held(&memwatch_wmark_mutex);
	hash_for_each(memwatch_policies, bkt, p, node) {
		p->rank.n = 0;
		if (parent_mem_cgroup(p->memcg))
			any = true;
	}
	if (!any)
		return;
	memwatch_rank_each(memwatch_wmark_offer, NULL);
	hash_for_each(memwatch_policies, bkt, p, node)
		memwatch_top_publish(&p->rank, p->top);
}

void memwatch_wmark_check_memcg(struct mem_cgroup *memcg)
{
	struct memwatch_policy *p;

	rcu_read_lock();
	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		p = memwatch_policy_find(memcg);
		if (!p)
			continue;
		/*
		 * The host's usage sums counters over every zone: every
		 * charge anywhere comes here, so it is measured once a
		 * jiffy, by the first CPU to charge in it.
		 */
		if (!parent_mem_cgroup(memcg)) {
			unsigned long last = READ_ONCE(memwatch_host_checked);
			unsigned long now = jiffies;

			if (last == now ||
			    cmpxchg(&memwatch_host_checked, last, now) != last)
				continue;
		}
		memwatch_policy_check(p);
	}
	rcu_read_unlock();
}

/* hooks=tracepoint: at a user page allocation, task's (current or mm's owner). */
void memwatch_wmark_check_task(struct task_struct *task)
{
	struct cgroup_subsys_state *css;

	rcu_read_lock();
	css = task_css(task, memory_cgrp_id);
	memwatch_wmark_check_memcg(mem_cgroup_from_css(css));
	rcu_read_unlock();
}

/* hooks=tracepoint: a kernel thread allocating for mm: its owner's. */
void memwatch_wmark_check_owner(struct mm_struct *mm)
{
	struct task_struct *owner;

	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	if (owner)
		memwatch_wmark_check_task(owner);
	rcu_read_unlock();
}

void memwatch_wmark_oom(struct oom_control *oc)
{
	struct task_struct *victim = oc->chosen;
	struct mem_cgroup *memcg = oc->memcg;
	struct memwatch_event e = {
		.level = MEMWATCH_LEVEL_OOM,
		.direction = MEMWATCH_DIR_UP,
		.ts_ns = ktime_get_ns(),
		.cgroup_id = 1,		/* the root cgroup's */
		.node = NUMA_NO_NODE,
	};
	struct memwatch_policy *p;
	int bkt;

	if (!victim || victim == (void *)-1UL)
		return;
	e.victim = victim->tgid;
	strscpy(e.victim_comm, victim->comm, sizeof(e.victim_comm));
	e.self = memwatch_proc_slot_find(victim);
	rcu_read_lock();
	if (memcg) {
		e.cgroup_id = cgroup_id(memcg->css.cgroup);
		e.usage = (u64)memwatch_usage(memcg) << PAGE_SHIFT;
		e.limit = (u64)memwatch_limit(memcg) << PAGE_SHIFT;
		for (; memcg; memcg = parent_mem_cgroup(memcg)) {
			p = memwatch_policy_find(memcg);
			if (!p)
				continue;
			e.wmark_fired |= !!atomic_read(&p->level);
			/* The nearest policy's candidates, but the host's. */
			if (!e.cand[0] && parent_mem_cgroup(memcg))
				memcpy(e.cand, p->top, sizeof(e.cand));
		}
	} else {
		e.usage = (u64)memwatch_host_usage() << PAGE_SHIFT;
		e.limit = (u64)totalram_pages() << PAGE_SHIFT;
		hash_for_each_rcu(memwatch_policies, bkt, p, node)
			if (atomic_read(&p->level))
				e.wmark_fired = 1;
	}
	rcu_read_unlock();
	memwatch_event_push(&e);
}

static void memwatch_policy_free(struct memwatch_policy *p)
{
	css_put(&p->memcg->css);
	kfree(p);
}

/* Under the mutex; the caller waits a grace period, then frees. */
static void memwatch_policy_unhash(struct memwatch_policy *p)
{
	hash_del_rcu(&p->node);
	WRITE_ONCE(memwatch_npolicies, memwatch_npolicies - 1);
	static_branch_dec(&memwatch_checks);
	memwatch_policies_changed();
}

int memwatch_wmark_set(u64 cgroup_id,
		       const struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1],
		       bool swap, struct netlink_ext_ack *extack)
{
	struct memwatch_policy *p, *old;
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp;
	int err;

	cgrp = cgroup_get_from_id(cgroup_id);
	if (IS_ERR(cgrp)) {
		NL_SET_ERR_MSG(extack, "no cgroup has this id");
		return -ENOENT;
	}
	css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
	if (!css || css->cgroup != cgrp) {
		if (css)
			css_put(css);
		cgroup_put(cgrp);
		NL_SET_ERR_MSG(extack,
			       "the memory controller is not enabled for this cgroup (cgroup.subtree_control of its parent)");
		return -EINVAL;
	}
	cgroup_put(cgrp);

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		css_put(css);
		return -ENOMEM;
	}
	p->memcg = mem_cgroup_from_css(css);
	p->cgroup_id = cgroup_id;
	p->swap = swap;
	memcpy(p->spec, spec, sizeof(p->spec));
	err = memwatch_levels_check(p->spec, memwatch_limit(p->memcg), extack);
	if (err) {
		memwatch_policy_free(p);
		return err;
	}
	/* Its first event names processes too. */
	if (parent_mem_cgroup(p->memcg))
		memwatch_wmark_rank(p);

	mutex_lock(&memwatch_wmark_mutex);
	old = memwatch_policy_find(p->memcg);
	if (!old && memwatch_npolicies >= memwatch_max_policies) {
		NL_SET_ERR_MSG(extack, "the policy table is full (max_policies)");
		atomic64_inc(&memwatch_refused);
		err = -ENOSPC;
		goto unlock;
	}
	if (old) {
		hlist_replace_rcu(&old->node, &p->node);
	} else {
		static_branch_inc(&memwatch_checks);
		hash_add_rcu(memwatch_policies, &p->node,
			     (unsigned long)p->memcg);
		WRITE_ONCE(memwatch_npolicies, memwatch_npolicies + 1);
	}
	memwatch_policies_changed();
	/* Usage may be over a level already: say so now. */
	rcu_read_lock();
	memwatch_policy_check(p);
	rcu_read_unlock();
unlock:
	mutex_unlock(&memwatch_wmark_mutex);
	if (err) {
		memwatch_policy_free(p);
		return err;
	}
	if (old) {
		synchronize_rcu();
		memwatch_policy_free(old);
	}
	return 0;
}

int memwatch_wmark_del(u64 cgroup_id, struct netlink_ext_ack *extack)
{
	struct memwatch_policy *p, *found = NULL;
	int bkt;

	mutex_lock(&memwatch_wmark_mutex);
	hash_for_each(memwatch_policies, bkt, p, node)
		if (p->cgroup_id == cgroup_id)
			found = p;
	if (found)
		memwatch_policy_unhash(found);
	mutex_unlock(&memwatch_wmark_mutex);
	if (!found) {
		NL_SET_ERR_MSG(extack, "this cgroup has no policy");
		return -ENOENT;
	}
	synchronize_rcu();
	memwatch_policy_free(found);
	return 0;
}

/* Under the mutex: p as a dump gives it. */
static void memwatch_policy_view(const struct memwatch_policy *p,
				 struct memwatch_policy_view *v)
{
	v->cgroup_id = p->cgroup_id;
	v->node = NUMA_NO_NODE;
	v->swap = p->swap;
	memwatch_levels_view(v, p->spec, atomic_read(&p->level),
			     memwatch_policy_usage(p), memwatch_limit(p->memcg));
}

int memwatch_wmark_next(struct memwatch_wmark_cursor *cur,
			struct memwatch_policy_view *v)
{
	struct memwatch_policy *p;
	bool skip;

	mutex_lock(&memwatch_wmark_mutex);
	for (; cur->bkt < HASH_SIZE(memwatch_policies); cur->bkt++) {
		/*
		 * Past cur->after in its bucket. If it was removed meanwhile,
		 * the rest of the bucket goes too (the generation says so).
		 */
		skip = cur->after != 0;
		hlist_for_each_entry(p, &memwatch_policies[cur->bkt], node) {
			if (skip) {
				skip = p->cgroup_id != cur->after;
				continue;
			}
			memwatch_policy_view(p, v);
			mutex_unlock(&memwatch_wmark_mutex);
			return 0;
		}
		cur->after = 0;
	}
	mutex_unlock(&memwatch_wmark_mutex);
	return -ENOENT;
}

int memwatch_wmark_get_id(u64 cgroup_id, struct memwatch_policy_view *v)
{
	struct memwatch_policy *p;
	int bkt, err = -ENOENT;

	mutex_lock(&memwatch_wmark_mutex);
	hash_for_each(memwatch_policies, bkt, p, node) {
		if (p->cgroup_id == cgroup_id) {
			memwatch_policy_view(p, v);
			err = 0;
			break;
		}
	}
	mutex_unlock(&memwatch_wmark_mutex);
	return err;
}

unsigned int memwatch_wmark_count(void)
{
	return READ_ONCE(memwatch_npolicies);
}

u64 memwatch_wmark_refused(void)
{
	return atomic64_read(&memwatch_refused);
}

unsigned int memwatch_wmark_capacity(void)
{
	return memwatch_max_policies;
}

size_t memwatch_wmark_bytes(void)
{
	return memwatch_wmark_count() * sizeof(struct memwatch_policy) +
	       sizeof(memwatch_policies);
}

/*
 * The module's tick (main.c): the safety net, the ranking, and the cleanup
 * of policies whose cgroup was removed.
 */
void memwatch_wmark_tick(void)
{
	struct memwatch_policy *p, *gone[16];
	struct hlist_node *tmp;
	unsigned int n = 0, i;
	int bkt;

	mutex_lock(&memwatch_wmark_mutex);
	hash_for_each_safe(memwatch_policies, bkt, tmp, p, node) {
		if (css_is_dying(&p->memcg->css) && n < ARRAY_SIZE(gone)) {
			memwatch_policy_unhash(p);
			gone[n++] = p;
		}
	}
	/*
	 * Ranked before the check: a crossing the tick finds (no charge
	 * followed it, or its charger was not running its check yet) has
	 * no charger to name, only the candidates, so they are as of now
	 * (a process that began since the last tick is among them).
	 */
	memwatch_wmark_rank(NULL);
	hash_for_each(memwatch_policies, bkt, p, node) {
		rcu_read_lock();
		memwatch_policy_check(p);
		rcu_read_unlock();
	}
	mutex_unlock(&memwatch_wmark_mutex);
	if (n) {
		synchronize_rcu();
		for (i = 0; i < n; i++)
			memwatch_policy_free(gone[i]);
	}
}

int memwatch_wmark_init(unsigned int max_policies)
{
	memwatch_max_policies = clamp(max_policies, 1U, 65536U);
	memwatch_npolicies = 0;
	atomic64_set(&memwatch_refused, 0);
	return 0;
}

/* After the hooks, the tick and the family are gone. */
void memwatch_wmark_exit(void)
{
	struct memwatch_policy *p;
	struct hlist_node *tmp;
	int bkt;

	/* No probe and no command can look a policy up any more. */
	synchronize_rcu();
	mutex_lock(&memwatch_wmark_mutex);
	hash_for_each_safe(memwatch_policies, bkt, tmp, p, node) {
		memwatch_policy_unhash(p);
		memwatch_policy_free(p);
	}
	mutex_unlock(&memwatch_wmark_mutex);
}
