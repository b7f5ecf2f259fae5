// SPDX-License-Identifier: GPL-2.0
/*
 * PROC_GET: a dump of the process records (proc.c), filtered by pid or
 * by cgroup; and the figures of a process, which events carry too.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/limits.h>
#include <linux/pid_namespace.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "compat.h"
#include "netlink.h"
#include "pfn.h"
#include "proc.h"

/*
 * Not NLA_POLICY_VALIDATE_FN: when an attribute fails validation, 6.1's
 * netlink_ack() describes the policy to the sender, and for a validation
 * function it reads the function pointer as a range and WARNs (found by
 * memwatch_fuzz; any user could trigger it). A range is described right.
 */
static struct netlink_range_validation memwatch_pid_range __ro_after_init = {
	.min = 1,
	.max = PID_MAX_LIMIT,
};

const struct nla_policy
memwatch_proc_get_policy[MEMWATCH_A_PROC_CGROUP_ID + 1] = {
	[MEMWATCH_A_PROC_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_PROC_PID] = NLA_POLICY_FULL_RANGE(NLA_U32,
						      &memwatch_pid_range),
	[MEMWATCH_A_PROC_CGROUP_ID] = { .type = NLA_U64 },
};

/* PROC_GET dump state, in cb->ctx. */
struct memwatch_proc_dump {
	unsigned int slot;	/* next to look at */
	pid_t pid;		/* filter, or 0 */
	struct cgroup *cgrp;	/* filter (a reference), or NULL */
	char *path;		/* PATH_MAX scratch for cgroup paths */
	kuid_t uid;		/* the reader's */
	bool all;		/* the reader has CAP_SYS_ADMIN */
};

int memwatch_proc_get_start(struct netlink_callback *cb)
{
	struct memwatch_proc_dump *ctx = (void *)cb->ctx;
	struct nlattr **attrs = memwatch_dump_attrs(cb);

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	memset(ctx, 0, sizeof(*ctx));
	if (attrs[MEMWATCH_A_PROC_PID])
		ctx->pid = nla_get_u32(attrs[MEMWATCH_A_PROC_PID]);
	/* .start runs in the requester's sendmsg(): current is the reader. */
	ctx->uid = current_uid();
	ctx->all = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	ctx->path = kmalloc(PATH_MAX, GFP_KERNEL);
	return ctx->path ? 0 : -ENOMEM;
}

/*
 * The cgroup filter is resolved at the first dumpit, not in start: 6.1
 * gives .start no extack to explain a refusal with, .dumpit has one (the
 * error and its message come back in NLMSG_DONE).
 */
static int memwatch_proc_get_filter(struct netlink_callback *cb)
{
	struct memwatch_proc_dump *ctx = (void *)cb->ctx;
	struct nlattr *id = memwatch_dump_attrs(cb)[MEMWATCH_A_PROC_CGROUP_ID];
	struct cgroup *cgrp;

	if (!id || ctx->cgrp || ctx->slot)
		return 0;
	cgrp = cgroup_get_from_id(nla_get_u64(id));
	if (IS_ERR(cgrp)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, id, "no cgroup has this id");
		return -ENOENT;
	}
	ctx->cgrp = cgrp;
	return 0;
}

int memwatch_proc_get_done(struct netlink_callback *cb)
{
	struct memwatch_proc_dump *ctx = (void *)cb->ctx;

	if (ctx->cgrp)
		cgroup_put(ctx->cgrp);
	kfree(ctx->path);
	return 0;
}

/*
 * Without CAP_SYS_ADMIN a reader sees the live processes whose real uid is
 * its own, and nothing else: not the kernel's, exited or overflow records.
 */
static bool memwatch_proc_visible(const struct memwatch_proc_dump *ctx,
				  const struct memwatch_proc *p)
{
	struct task_struct *task;
	bool mine = false;

	if (ctx->all)
		return true;
	if (!p->tgid || p->state != MEMWATCH_PROC_ALIVE)
		return false;
	rcu_read_lock();
	task = pid_task(find_pid_ns(p->tgid, &init_pid_ns), PIDTYPE_TGID);
	if (task)
		mine = uid_eq(task_uid(task), ctx->uid);
	rcu_read_unlock();
	return mine;
}

/*
 * The nodes a process has pages on; *total is the sum of what went out.
 * The worker's tick folds per-CPU batches into the counters while a dump
 * reads them: each counter is read once, and the record's live, local
 * and remote figures come from this sum, so they agree with each other.
 */
static int memwatch_put_nodes(struct sk_buff *skb, unsigned int slot,
			      long *total)
{
	struct nlattr *nodes, *node;
	int nid;

	*total = 0;
	nodes = nla_nest_start(skb, MEMWATCH_A_PROC_NODES);
	if (!nodes)
		return -EMSGSIZE;
	for_each_node_state(nid, N_MEMORY) {
		long live = memwatch_proc_live(slot, nid);

		if (live <= 0)
			continue;
		*total += live;
		node = nla_nest_start(skb, MEMWATCH_A_PROC_NODE);
		if (!node ||
		    nla_put_u32(skb, MEMWATCH_A_NODE_ID, nid) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_NODE_LIVE_BYTES,
				      (u64)live << PAGE_SHIFT,
				      MEMWATCH_A_NODE_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, node);
	}
	nla_nest_end(skb, nodes);
	return 0;
}

/*
 * What a PROC_GET record and an event's process say alike: who it is, its
 * live pages, growth, and how many of them are anonymous or file pages.
 */
int memwatch_nl_fill_proc(struct sk_buff *skb, const struct memwatch_proc *p,
			  long live, unsigned long anon)
{
	if (nla_put_u32(skb, MEMWATCH_A_PROC_PID, p->tgid) ||
	    nla_put_string(skb, MEMWATCH_A_PROC_COMM, p->comm) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_LIVE_BYTES,
			      (u64)live << PAGE_SHIFT, MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_RATE, READ_ONCE(p->rate),
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_ANON_BYTES,
			      (u64)anon << PAGE_SHIFT, MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_FILE_BYTES,
			      (u64)(live - anon) << PAGE_SHIFT,
			      MEMWATCH_A_PROC_PAD))
		return -EMSGSIZE;
	return 0;
}

/*
 * Live is read before allocated: a batch adds to allocated before live
 * (memwatch_pcp_flush()), so live never shows above allocated.
 */
static int memwatch_put_proc(struct sk_buff *skb, struct netlink_callback *cb,
			     unsigned int slot, const struct memwatch_proc *p,
			     char *path)
{
	u64 cgid = p->tgid ? memwatch_proc_cgroup(p) : 0;
	unsigned long anon, swap;
	long live, remote;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
			  cb->nlh->nlmsg_seq, &memwatch_genl_family,
			  NLM_F_MULTI, MEMWATCH_CMD_PROC_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (memwatch_put_nodes(skb, slot, &live))
		goto cancel;
	smp_rmb();	/* live before allocated, remote */
	remote = clamp(atomic_long_read(&p->remote), 0L, live);
	memwatch_proc_mm(p, &anon, &swap);
	anon = min_t(unsigned long, anon, live);
	if (memwatch_nl_fill_proc(skb, p, live, anon) ||
	    nla_put_u8(skb, MEMWATCH_A_PROC_STATE, p->state) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_CGROUP_ID, cgid,
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_string(skb, MEMWATCH_A_PROC_CGROUP_PATH,
			   cgid ? memwatch_nl_cgroup_path(cgid, path) : "") ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_LOCAL_BYTES,
			      (u64)(live - remote) << PAGE_SHIFT,
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_REMOTE_BYTES,
			      (u64)remote << PAGE_SHIFT, MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_ALLOCATED_BYTES,
			      (u64)atomic_long_read(&p->allocated) << PAGE_SHIFT,
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_RELEASED_BYTES,
			      (u64)atomic_long_read(&p->released) << PAGE_SHIFT,
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_SWAP_BYTES,
			      (u64)swap << PAGE_SHIFT, MEMWATCH_A_PROC_PAD))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

int memwatch_proc_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct memwatch_proc_dump *ctx = (void *)cb->ctx;
	unsigned int slots = memwatch_proc_capacity() + MEMWATCH_SLOT_FIRST;
	int err = memwatch_proc_get_filter(cb);

	if (err)
		return err;
	/* The first part of the dump: the counters as of now (as STATUS). */
	if (!ctx->slot && ctx->all)
		memwatch_proc_drain();
	for (; ctx->slot < slots; ctx->slot++) {
		const struct memwatch_proc *p = memwatch_proc_get(ctx->slot);

		if (!p)
			continue;
		/* The kernel's and the overflow record only once used. */
		if (!p->tgid && !atomic_long_read(&p->allocated))
			continue;
		if (ctx->pid && p->tgid != ctx->pid)
			continue;
		if (!memwatch_proc_visible(ctx, p))
			continue;
		if (ctx->cgrp &&
		    (!p->tgid || !memwatch_proc_in_cgroup(p, ctx->cgrp)))
			continue;
		if (memwatch_put_proc(skb, cb, ctx->slot, p, ctx->path))
			break;
	}
	return skb->len;
}
