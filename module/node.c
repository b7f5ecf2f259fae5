// SPDX-License-Identifier: GPL-2.0
/*
 * Per-NUMA-node watermarks. A node's policy has the same five levels as a
 * cgroup's; its limit is the node's managed memory and its usage that less
 * what is available on the node: free pages over the zones' low
 * watermarks, and half the node's page cache (the per-node counterpart of
 * MemAvailable). A node can run dry while another has room: the event
 * names the node and the processes with the most live memory on it, so
 * memctl can move them (migrate_pages) before reclaim or a kill.
 *
 * Detection: on every charge and release of a page on the node, at most
 * once a jiffy per node (a cmpxchg on the jiffy, as for the host), and
 * from the module's tick (main.c).
 *
 * Locking: one RCU pointer per node (nr_node_ids of them, so the table's
 * ceiling is one policy per node). Probe handlers read under RCU; netlink
 * commands change them under memwatch_node_mutex and free after a grace
 * period.
 */
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <net/netlink.h>
#include <uapi/linux/memwatch.h>

#include "events.h"
#include "levels.h"
#include "node.h"

struct memwatch_node_policy {
	struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1];
	atomic_t level;
	unsigned long checked;	/* jiffies of the last check from a probe */
	struct rcu_head rcu;
};

static struct memwatch_node_policy __rcu **memwatch_node_pol;
static DEFINE_MUTEX(memwatch_node_mutex);
unsigned int memwatch_nnode;	/* changed under the mutex */

/* The node's managed memory, in pages: its policy's limit. */
static unsigned long memwatch_node_limit(int nid)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long pages = 0;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++)
		pages += zone_managed_pages(&pgdat->node_zones[z]);
	return pages;
}

/* Managed pages less free over the low watermarks and half the cache. */
static unsigned long memwatch_node_usage(int nid, unsigned long limit)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long free = 0, low = 0, avail;
	long file;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &pgdat->node_zones[z];

		free += zone_page_state(zone, NR_FREE_PAGES);
		low += low_wmark_pages(zone);
	}
	/* node_page_state() is not exported: the node's counter itself. */
	file = atomic_long_read(&pgdat->vm_stat[NR_ACTIVE_FILE]) +
	       atomic_long_read(&pgdat->vm_stat[NR_INACTIVE_FILE]);
	avail = (free > low ? free - low : 0) + (file > 0 ? file / 2 : 0);
	return avail < limit ? limit - avail : 0;
}

static void memwatch_node_policy_check(struct memwatch_node_policy *p,
				       int nid)
{
	unsigned long limit = memwatch_node_limit(nid);
	struct memwatch_event e = {
		.cgroup_id = 1,		/* the root cgroup's: the host */
		.node = nid,
	};

	memwatch_crossing(p->spec, &p->level, memwatch_node_usage(nid, limit),
			  limit, NULL, &e);
}

void memwatch_node_check_nid(int nid)
{
	struct memwatch_node_policy *p;
	unsigned long last, now = jiffies;

	if (nid < 0 || nid >= nr_node_ids)
		return;
	rcu_read_lock();
	p = rcu_dereference(memwatch_node_pol[nid]);
	if (p) {
		last = READ_ONCE(p->checked);
		if (last != now && cmpxchg(&p->checked, last, now) == last)
			memwatch_node_policy_check(p, nid);
	}
	rcu_read_unlock();
}

void memwatch_node_tick(void)
{
	struct memwatch_node_policy *p;
	int nid;

	if (!READ_ONCE(memwatch_nnode))
		return;
	rcu_read_lock();
	for (nid = 0; nid < nr_node_ids; nid++) {
		p = rcu_dereference(memwatch_node_pol[nid]);
		if (p)
			memwatch_node_policy_check(p, nid);
	}
	rcu_read_unlock();
}

int memwatch_node_set(int nid,
		      const struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1],
		      struct netlink_ext_ack *extack)
{
	struct memwatch_node_policy *p, *old;
	int err;

	if (nid < 0 || nid >= nr_node_ids || !node_online(nid) ||
	    !node_state(nid, N_MEMORY)) {
		NL_SET_ERR_MSG(extack, "no online node with memory has this id");
		return -EINVAL;
	}
	err = memwatch_levels_check(spec, memwatch_node_limit(nid), extack);
	if (err)
		return err;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memcpy(p->spec, spec, sizeof(p->spec));
	p->checked = jiffies - 1;

	mutex_lock(&memwatch_node_mutex);
	old = rcu_dereference_protected(memwatch_node_pol[nid],
					lockdep_is_held(&memwatch_node_mutex));
	if (!old)
		static_branch_inc(&memwatch_checks);
	rcu_assign_pointer(memwatch_node_pol[nid], p);
	memwatch_policies_changed();
	if (!old)
		WRITE_ONCE(memwatch_nnode, memwatch_nnode + 1);
	/* The node may be over a level already: say so now. */
	rcu_read_lock();
	memwatch_node_policy_check(p, nid);
	rcu_read_unlock();
	mutex_unlock(&memwatch_node_mutex);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

int memwatch_node_del(int nid, struct netlink_ext_ack *extack)
{
	struct memwatch_node_policy *old = NULL;

	mutex_lock(&memwatch_node_mutex);
	if (nid >= 0 && nid < nr_node_ids) {
		old = rcu_dereference_protected(memwatch_node_pol[nid],
						lockdep_is_held(&memwatch_node_mutex));
		RCU_INIT_POINTER(memwatch_node_pol[nid], NULL);
		memwatch_policies_changed();
	}
	if (old) {
		WRITE_ONCE(memwatch_nnode, memwatch_nnode - 1);
		static_branch_dec(&memwatch_checks);
	}
	mutex_unlock(&memwatch_node_mutex);
	if (!old) {
		NL_SET_ERR_MSG(extack, "this node has no policy");
		return -ENOENT;
	}
	kfree_rcu(old, rcu);
	return 0;
}

int memwatch_node_next(int *from, struct memwatch_policy_view *v)
{
	struct memwatch_node_policy *p;
	unsigned long limit;
	int nid;

	mutex_lock(&memwatch_node_mutex);
	for (nid = max(*from, 0); nid < nr_node_ids; nid++) {
		p = rcu_dereference_protected(memwatch_node_pol[nid],
					      lockdep_is_held(&memwatch_node_mutex));
		if (!p)
			continue;
		limit = memwatch_node_limit(nid);
		v->cgroup_id = 1;
		v->node = nid;
		v->swap = false;
		memwatch_levels_view(v, p->spec, atomic_read(&p->level),
				     memwatch_node_usage(nid, limit), limit);
		*from = nid + 1;
		mutex_unlock(&memwatch_node_mutex);
		return 0;
	}
	*from = nr_node_ids;
	mutex_unlock(&memwatch_node_mutex);
	return -ENOENT;
}

unsigned int memwatch_node_count(void)
{
	return READ_ONCE(memwatch_nnode);
}

unsigned int memwatch_node_capacity(void)
{
	return nr_node_ids;
}

size_t memwatch_node_bytes(void)
{
	return nr_node_ids * sizeof(*memwatch_node_pol) +
	       memwatch_node_count() * sizeof(struct memwatch_node_policy);
}

int memwatch_node_init(void)
{
	memwatch_node_pol = kcalloc(nr_node_ids, sizeof(*memwatch_node_pol),
				    GFP_KERNEL);
	memwatch_nnode = 0;
	return memwatch_node_pol ? 0 : -ENOMEM;
}

void memwatch_node_exit(void)
{
	struct memwatch_node_policy *p;
	int nid;

	if (!memwatch_node_pol)
		return;
	/* No probe, command or tick can reach a policy any more. */
	synchronize_rcu();
	for (nid = 0; nid < nr_node_ids; nid++) {
		p = rcu_dereference_protected(memwatch_node_pol[nid], 1);
		if (p)
			static_branch_dec(&memwatch_checks);
		kfree(p);
	}
	/* kfree_rcu() callbacks of replaced policies may still be queued. */
	rcu_barrier();
	kfree(memwatch_node_pol);
	memwatch_node_pol = NULL;
	memwatch_nnode = 0;
}
