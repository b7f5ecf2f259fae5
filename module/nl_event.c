// SPDX-License-Identifier: GPL-2.0
/*
 * EVENT: a watermark crossed, up or down, or the kernel OOM killer's
 * choice, multicast on "events" (CAP_SYS_ADMIN: it names processes) and
 * "events-public" (the cgroup's figures only).
 *
 * Events matter most when memory is short. The ring (events.c) is sent
 * by memwatch_nl_event_send() on the ring's WQ_MEM_RECLAIM | WQ_HIGHPRI
 * workqueue, with what a message needs reserved ahead: a path buffer and
 * one message per group. The work allocates nothing that may reclaim
 * before the events are out (a second event in one run allocates with
 * GFP_ATOMIC), and replaces what it used after.
 */
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "events.h"
#include "netlink.h"
#include "proc.h"
#include "rank.h"
#include "top.h"

/* What one message needs, reserved ahead. */
struct memwatch_event_buf {
	char *path;				/* PATH_MAX */
	struct sk_buff *skb[MEMWATCH_EVENT_GROUPS];	/* NULL: used */
};

/* The work's alone: a work item never runs twice at once. */
static struct memwatch_event_buf memwatch_ebuf;

/*
 * The processes an event names (memwatch_rank_top(): a few candidates
 * read again now, never a pass over the process table).
 */
static int memwatch_put_top(struct sk_buff *skb, const struct memwatch_event *e)
{
	u16 top[MEMWATCH_EVENT_TOP];
	long live[MEMWATCH_EVENT_TOP];
	unsigned int n, i;
	struct nlattr *nest, *a;

	n = memwatch_rank_top(e->cgroup_id, e->node, e->cand, e->self, top,
			      live);
	nest = nla_nest_start(skb, MEMWATCH_A_EVENT_TOP);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		const struct memwatch_proc *p = memwatch_proc_get(top[i]);
		unsigned long anon, swap;

		if (!p)
			continue;
		memwatch_proc_mm(p, &anon, &swap);
		anon = min_t(unsigned long, anon, live[i]);
		a = nla_nest_start(skb, MEMWATCH_A_EVENT_PROC);
		if (!a || memwatch_nl_fill_proc(skb, p, live[i], anon))
			return -EMSGSIZE;
		nla_nest_end(skb, a);
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* A crossing's levels: each enabled one's threshold, as POLICY_GET's. */
static int memwatch_put_event_wmarks(struct sk_buff *skb,
				     const struct memwatch_event *e)
{
	struct nlattr *nest, *w;
	int l;

	nest = nla_nest_start(skb, MEMWATCH_A_EVENT_WMARKS);
	if (!nest)
		return -EMSGSIZE;
	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
		if (!e->thresholds[l])
			continue;
		w = nla_nest_start(skb, MEMWATCH_A_EVENT_WMARK);
		if (!w || nla_put_u8(skb, MEMWATCH_A_WMARK_LEVEL, l) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_WMARK_THRESHOLD,
				      e->thresholds[l], MEMWATCH_A_WMARK_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, w);
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * One event message, into msg (freed on failure). The full one
 * (privileged group) names the processes; the public one carries the
 * cgroup's figures only, since a multicast cannot be filtered per
 * listener.
 */
static struct sk_buff *memwatch_event_msg(const struct memwatch_event *e,
					  struct sk_buff *msg, char *path,
					  bool full)
{
	void *hdr;

	hdr = genlmsg_put(msg, 0, 0, &memwatch_genl_family, 0,
			  MEMWATCH_CMD_EVENT);
	if (!hdr ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_CGROUP_ID, e->cgroup_id,
			      MEMWATCH_A_EVENT_PAD) ||
	    nla_put_string(msg, MEMWATCH_A_EVENT_CGROUP_PATH,
			   memwatch_nl_cgroup_path(e->cgroup_id, path)) ||
	    nla_put_u8(msg, MEMWATCH_A_EVENT_LEVEL, e->level) ||
	    nla_put_u8(msg, MEMWATCH_A_EVENT_DIRECTION, e->direction) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_USAGE, e->usage,
			      MEMWATCH_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_LIMIT, e->limit,
			      MEMWATCH_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_THRESHOLD, e->threshold,
			      MEMWATCH_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_TS_NS, e->ts_ns,
			      MEMWATCH_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_WORK_NS, e->work_ns,
			      MEMWATCH_A_EVENT_PAD))
		goto err;
	if (e->level == MEMWATCH_LEVEL_OOM &&
	    nla_put_u8(msg, MEMWATCH_A_EVENT_WMARK_FIRED, e->wmark_fired))
		goto err;
	if (e->node != NUMA_NO_NODE &&
	    nla_put_u32(msg, MEMWATCH_A_EVENT_NODE, e->node))
		goto err;
	if (e->level != MEMWATCH_LEVEL_OOM && memwatch_put_event_wmarks(msg, e))
		goto err;
	if (full &&
	    (memwatch_put_top(msg, e) ||
	     (e->level == MEMWATCH_LEVEL_OOM &&
	      (nla_put_u32(msg, MEMWATCH_A_EVENT_VICTIM_PID, e->victim) ||
	       nla_put_string(msg, MEMWATCH_A_EVENT_VICTIM_COMM,
			      e->victim_comm)))))
		goto err;
	if (nla_put_u64_64bit(msg, MEMWATCH_A_EVENT_BUILT_NS, ktime_get_ns(),
			      MEMWATCH_A_EVENT_PAD))
		goto err;
	genlmsg_end(msg, hdr);
	return msg;
err:
	nlmsg_free(msg);
	return NULL;
}

static int memwatch_event_buf_fill(struct memwatch_event_buf *b, gfp_t gfp)
{
	unsigned int grp;

	if (!b->path)
		b->path = kmalloc(PATH_MAX, gfp);
	if (!b->path)
		return -ENOMEM;
	for (grp = 0; grp < MEMWATCH_EVENT_GROUPS; grp++) {
		if (!b->skb[grp])
			b->skb[grp] = genlmsg_new(NLMSG_GOODSIZE, gfp);
		if (!b->skb[grp])
			return -ENOMEM;
	}
	return 0;
}

static void memwatch_event_buf_free(struct memwatch_event_buf *b)
{
	unsigned int grp;

	for (grp = 0; grp < MEMWATCH_EVENT_GROUPS; grp++) {
		nlmsg_free(b->skb[grp]);
		b->skb[grp] = NULL;
	}
	kfree(b->path);
	b->path = NULL;
}

/*
 * Near OOM is when events matter: the message is the one reserved, or
 * else allocated without reclaim (GFP_ATOMIC may use the reserves), and
 * the multicast's clones for further listeners are too.
 */
static int memwatch_nl_event(const struct memwatch_event *e,
			     struct memwatch_event_buf *b)
{
	static const bool full[MEMWATCH_EVENT_GROUPS] = {
		[MEMWATCH_GRP_EVENTS] = true,
		[MEMWATCH_GRP_PUBLIC] = false,
	};
	const gfp_t gfp = GFP_ATOMIC | __GFP_NOWARN;
	struct sk_buff *msg;
	unsigned int grp;
	int err = 0, ret;

	if (!b->path)
		return -ENOMEM;
	for (grp = 0; grp < MEMWATCH_EVENT_GROUPS; grp++) {
		if (!genl_has_listeners(&memwatch_genl_family, &init_net, grp))
			continue;
		msg = b->skb[grp] ?: genlmsg_new(NLMSG_GOODSIZE, gfp);
		b->skb[grp] = NULL;
		if (msg)
			msg = memwatch_event_msg(e, msg, b->path, full[grp]);
		if (!msg) {
			err = -ENOMEM;
			continue;
		}
		ret = genlmsg_multicast(&memwatch_genl_family, msg, 0, grp,
					gfp);
		/* A listener leaving meanwhile is not a loss. */
		if (ret && ret != -ESRCH)
			err = ret;
	}
	return err;
}

void memwatch_nl_event_send(struct work_struct *work)
{
	struct memwatch_event e;

	while (memwatch_event_pop(&e)) {
		e.work_ns = ktime_get_ns();
		memwatch_event_done(!memwatch_nl_event(&e, &memwatch_ebuf));
	}
	/* What the events used, for the next ones (a failure tries again). */
	memwatch_event_buf_fill(&memwatch_ebuf, GFP_KERNEL | __GFP_NOWARN);
}

int memwatch_nl_event_init(void)
{
	if (memwatch_event_buf_fill(&memwatch_ebuf, GFP_KERNEL)) {
		memwatch_event_buf_free(&memwatch_ebuf);
		return -ENOMEM;
	}
	return 0;
}

/* After the ring's work is gone. */
void memwatch_nl_event_exit(void)
{
	memwatch_event_buf_free(&memwatch_ebuf);
}

/* The reserve: a path buffer and a message per group. */
size_t memwatch_nl_event_bytes(void)
{
	return PATH_MAX + MEMWATCH_EVENT_GROUPS * NLMSG_GOODSIZE;
}
