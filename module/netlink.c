// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "memwatch": commands and the "events" group.
 * The protocol is documented in include/uapi/linux/memwatch.h.
 */
#include <linux/cgroup.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "memwatch.h"
#include "hooks.h"
#include "netlink.h"
#include "compat.h"
#include "events.h"
#include "pfn.h"
#include "proc.h"
#include "node.h"
#include "wmark.h"

static struct genl_family memwatch_genl_family;

/* Indexes into memwatch_genl_mcgrps. */
enum {
	MEMWATCH_GRP_EVENTS,
	MEMWATCH_GRP_PUBLIC,
};

static int memwatch_put_hooks(struct sk_buff *skb)
{
	struct memwatch_hook_stat st;
	struct nlattr *hooks, *hook;
	unsigned int i;

	hooks = nla_nest_start(skb, MEMWATCH_A_STATUS_HOOKS);
	if (!hooks)
		return -EMSGSIZE;
	for (i = 0; !memwatch_hooks_stat(i, &st); i++) {
		hook = nla_nest_start(skb, MEMWATCH_A_STATUS_HOOK);
		if (!hook ||
		    nla_put_string(skb, MEMWATCH_A_HOOK_NAME, st.name) ||
		    nla_put_u8(skb, MEMWATCH_A_HOOK_KIND, st.kind) ||
		    nla_put_u8(skb, MEMWATCH_A_HOOK_ATTACHED, st.attached) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_HOOK_HITS, st.hits,
				      MEMWATCH_A_HOOK_PAD) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_HOOK_MISSED, st.missed,
				      MEMWATCH_A_HOOK_PAD))
			return -EMSGSIZE;
		/* Missing on this kernel (not merely detached: track=0). */
		if (!st.attached && st.error && st.uncounted &&
		    (nla_put_u32(skb, MEMWATCH_A_HOOK_ERROR, -st.error) ||
		     nla_put_string(skb, MEMWATCH_A_HOOK_UNCOUNTED,
				    st.uncounted)))
			return -EMSGSIZE;
		nla_nest_end(skb, hook);
	}
	nla_nest_end(skb, hooks);
	return 0;
}

static int memwatch_put_table(struct sk_buff *skb, const char *name,
			      u32 entries, u32 capacity, u64 bytes,
			      u64 overflows)
{
	struct nlattr *table = nla_nest_start(skb, MEMWATCH_A_STATUS_TABLE);

	if (!table ||
	    nla_put_string(skb, MEMWATCH_A_TABLE_NAME, name) ||
	    nla_put_u32(skb, MEMWATCH_A_TABLE_ENTRIES, entries) ||
	    nla_put_u32(skb, MEMWATCH_A_TABLE_CAPACITY, capacity) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_TABLE_BYTES, bytes,
			      MEMWATCH_A_TABLE_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_TABLE_OVERFLOWS, overflows,
			      MEMWATCH_A_TABLE_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, table);
	return 0;
}

static int memwatch_put_tables(struct sk_buff *skb)
{
	unsigned int slots = memwatch_proc_capacity() + MEMWATCH_SLOT_FIRST;
	struct nlattr *tables;
	unsigned int s;
	long pages = 0;

	for (s = 0; s < slots; s++)
		if (memwatch_proc_get(s))
			pages += memwatch_proc_live(s, NUMA_NO_NODE);
	tables = nla_nest_start(skb, MEMWATCH_A_STATUS_TABLES);
	if (!tables ||
	    memwatch_put_table(skb, "policies", memwatch_wmark_count(),
			       memwatch_wmark_capacity(),
			       memwatch_wmark_bytes(), memwatch_wmark_refused()) ||
	    memwatch_put_table(skb, "node-policies", memwatch_node_count(),
			       memwatch_node_capacity(), memwatch_node_bytes(),
			       0) ||
	    memwatch_put_table(skb, "procs", memwatch_proc_used(),
			       memwatch_proc_capacity(), memwatch_proc_bytes(),
			       memwatch_proc_full_hits()) ||
	    memwatch_put_table(skb, "pages", max(pages, 0L),
			       memwatch_pfn_capacity(), memwatch_pfn_bytes(),
			       memwatch_pfn_untracked()) ||
	    memwatch_put_table(skb, "events", memwatch_events_queued(),
			       memwatch_events_capacity(),
			       memwatch_events_bytes(),
			       memwatch_events_dropped()))
		return -EMSGSIZE;
	nla_nest_end(skb, tables);
	return 0;
}

static int memwatch_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &memwatch_genl_family, 0,
				MEMWATCH_CMD_STATUS);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	err = -EMSGSIZE;
	if (nla_put_string(msg, MEMWATCH_A_STATUS_VERSION, MEMWATCH_VERSION))
		goto err_free;
	err = memwatch_put_hooks(msg);
	if (err)
		goto err_free;
	/*
	 * Exact counts cost an IPI to every CPU with counts pending: only
	 * for CAP_SYS_ADMIN. Anyone else reads them as of the worker's last
	 * drain (one tick, 200 ms): a loop of unprivileged requests must not
	 * interrupt every CPU (nohz_full ones included).
	 */
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		memwatch_proc_drain();
	err = memwatch_put_tables(msg);
	if (err)
		goto err_free;
	err = -EMSGSIZE;
	if (nla_put_u64_64bit(msg, MEMWATCH_A_STATUS_EVENTS_SENT,
			      memwatch_events_sent(), MEMWATCH_A_STATUS_PAD) ||
	    nla_put_u64_64bit(msg, MEMWATCH_A_STATUS_EVENTS_DROPPED,
			      memwatch_events_dropped(), MEMWATCH_A_STATUS_PAD))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/* PROC_GET dump state, in cb->ctx. */
struct memwatch_proc_dump {
	unsigned int slot;	/* next to look at */
	pid_t pid;		/* filter, or 0 */
	struct cgroup *cgrp;	/* filter (a reference), or NULL */
	char *path;		/* PATH_MAX scratch for cgroup paths */
	kuid_t uid;		/* the reader's */
	bool all;		/* the reader has CAP_SYS_ADMIN */
};

static int memwatch_proc_get_start(struct netlink_callback *cb)
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

static int memwatch_proc_get_done(struct netlink_callback *cb)
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

/* The cgroup's path as the reader's cgroup namespace sees it, or "". */
static const char *memwatch_cgroup_path(u64 id, char *buf)
{
	struct cgroup *cgrp = cgroup_get_from_id(id);
	int len;

	buf[0] = '\0';
	if (IS_ERR(cgrp))
		return buf;
	len = cgroup_path_ns(cgrp, buf, PATH_MAX, current->nsproxy->cgroup_ns);
	cgroup_put(cgrp);
	if (len < 0 || len >= PATH_MAX)
		buf[0] = '\0';
	return buf;
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
	if (nla_put_u32(skb, MEMWATCH_A_PROC_PID, p->tgid) ||
	    nla_put_string(skb, MEMWATCH_A_PROC_COMM, p->comm) ||
	    nla_put_u8(skb, MEMWATCH_A_PROC_STATE, p->state) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_CGROUP_ID, cgid,
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_string(skb, MEMWATCH_A_PROC_CGROUP_PATH,
			   cgid ? memwatch_cgroup_path(cgid, path) : "") ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_LIVE_BYTES,
			      (u64)live << PAGE_SHIFT, MEMWATCH_A_PROC_PAD) ||
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
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_RATE, READ_ONCE(p->rate),
			      MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_ANON_BYTES,
			      (u64)anon << PAGE_SHIFT, MEMWATCH_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_FILE_BYTES,
			      (u64)(live - anon) << PAGE_SHIFT,
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

static int memwatch_proc_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
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

/* POLICY_SET: parse and check the levels; the cgroup is wmark.c's job. */
static const struct nla_policy memwatch_wmark_policy[MEMWATCH_A_WMARK_MAX + 1] = {
	[MEMWATCH_A_WMARK_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_WMARK_LEVEL] = { .type = NLA_U8 },
	[MEMWATCH_A_WMARK_PERCENT] = { .type = NLA_U32 },
	[MEMWATCH_A_WMARK_BYTES] = { .type = NLA_U64 },
	[MEMWATCH_A_WMARK_THRESHOLD] = { .type = NLA_REJECT },
};

static int memwatch_parse_wmark(struct nlattr *nest,
				struct memwatch_wmark_spec *spec,
				struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MEMWATCH_A_WMARK_MAX + 1];
	struct nlattr *pct, *bytes;
	int err, level;

	err = nla_parse_nested(tb, MEMWATCH_A_WMARK_MAX, nest,
			       memwatch_wmark_policy, extack);
	if (err)
		return err;
	if (!tb[MEMWATCH_A_WMARK_LEVEL]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "a watermark needs a level");
		return -EINVAL;
	}
	level = nla_get_u8(tb[MEMWATCH_A_WMARK_LEVEL]);
	if (level < MEMWATCH_LEVEL_NOTIFY || level > MEMWATCH_LEVEL_KILL) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MEMWATCH_A_WMARK_LEVEL],
				    "level is notify (1) to kill (5)");
		return -EINVAL;
	}
	if (spec[level].kind) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MEMWATCH_A_WMARK_LEVEL],
				    "a level is given twice");
		return -EINVAL;
	}
	pct = tb[MEMWATCH_A_WMARK_PERCENT];
	bytes = tb[MEMWATCH_A_WMARK_BYTES];
	if (!pct == !bytes) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "a watermark is a percentage or bytes, one of them");
		return -EINVAL;
	}
	if (pct && (nla_get_u32(pct) < 1 || nla_get_u32(pct) > 100)) {
		NL_SET_ERR_MSG_ATTR(extack, pct,
				    "a percentage is 1 to 100 of the limit");
		return -EINVAL;
	}
	if (bytes && nla_get_u64(bytes) < PAGE_SIZE) {
		NL_SET_ERR_MSG_ATTR(extack, bytes,
				    "a threshold in bytes is at least a page");
		return -EINVAL;
	}
	spec[level].kind = pct ? MEMWATCH_WMARK_PERCENT : MEMWATCH_WMARK_BYTES;
	spec[level].value = pct ? nla_get_u32(pct) : nla_get_u64(bytes);
	return 0;
}

/*
 * Changing policy needs CAP_SYS_ADMIN. GENL_ADMIN_PERM on the ops refuses
 * callers without CAP_NET_ADMIN before their attributes are parsed; this
 * is the check that matters.
 */
static int memwatch_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack, "changing policy needs CAP_SYS_ADMIN");
	return -EPERM;
}

/*
 * A required attribute: GENL_REQ_ATTR_CHECK() only names the missing type
 * (NLMSGERR_ATTR_MISS_TYPE); a person reading the error wants words too.
 * A macro: NL_SET_ERR_MSG() takes a literal. Its locals must not be
 * called __info: GENL_REQ_ATTR_CHECK() declares one, and
 * "struct genl_info *__info = (__info)" initializes the inner from itself
 * (undefined; gcc 12 read address 0x20 and the kernel oopsed).
 */
#define memwatch_require(info, type, msg)				\
	({								\
		struct genl_info *mw_info_ = (info);			\
		bool mw_missing_ = GENL_REQ_ATTR_CHECK(mw_info_, type);	\
									\
		if (mw_missing_)					\
			NL_SET_ERR_MSG(mw_info_->extack, msg);		\
		mw_missing_;						\
	})

/*
 * A node's policy is the host's: with POLICY_NODE, a CGROUP_ID may only
 * name the root. NUMA_NO_NODE without POLICY_NODE, the node id with it, or
 * -EINVAL with the attribute named.
 */
static int memwatch_node_of(struct genl_info *info)
{
	struct nlattr *node = info->attrs[MEMWATCH_A_POLICY_NODE];
	struct nlattr *id = info->attrs[MEMWATCH_A_POLICY_CGROUP_ID];
	struct cgroup *cgrp;
	bool root;

	if (!node)
		return NUMA_NO_NODE;
	if (id) {
		cgrp = cgroup_get_from_id(nla_get_u64(id));
		root = !IS_ERR(cgrp) && !cgroup_parent(cgrp);
		if (!IS_ERR(cgrp))
			cgroup_put(cgrp);
		if (!root) {
			NL_SET_ERR_MSG_ATTR(info->extack, id,
					    "a node's policy is the host's: no cgroup id, or the root's");
			return -EINVAL;
		}
	}
	if (nla_get_u32(node) >= nr_node_ids) {
		NL_SET_ERR_MSG_ATTR(info->extack, node, "no node has this id");
		return -EINVAL;
	}
	return nla_get_u32(node);
}

static int memwatch_policy_set_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1] = {};
	struct nlattr *w;
	int rem, err, n = 0;

	err = memwatch_admin(skb, info);
	if (err)
		return err;
	if ((!info->attrs[MEMWATCH_A_POLICY_NODE] &&
	     memwatch_require(info, MEMWATCH_A_POLICY_CGROUP_ID,
			      "missing attribute: the cgroup id")) ||
	    memwatch_require(info, MEMWATCH_A_POLICY_WMARKS,
			     "missing attribute: the watermarks"))
		return -EINVAL;
	err = memwatch_node_of(info);
	if (err < NUMA_NO_NODE)
		return err;
	nla_for_each_nested(w, info->attrs[MEMWATCH_A_POLICY_WMARKS], rem) {
		if (nla_type(w) != MEMWATCH_A_POLICY_WMARK) {
			NL_SET_ERR_MSG_ATTR(info->extack, w,
					    "only watermarks go in this nest");
			return -EINVAL;
		}
		err = memwatch_parse_wmark(w, spec, info->extack);
		if (err)
			return err;
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[MEMWATCH_A_POLICY_WMARKS],
				    "no watermark given");
		return -EINVAL;
	}
	if (info->attrs[MEMWATCH_A_POLICY_NODE] &&
	    info->attrs[MEMWATCH_A_POLICY_SWAP]) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[MEMWATCH_A_POLICY_SWAP],
				    "a node's policy counts no swap");
		return -EINVAL;
	}
	if (info->attrs[MEMWATCH_A_POLICY_NODE]) {
		err = memwatch_node_set(nla_get_u32(info->attrs[MEMWATCH_A_POLICY_NODE]),
					spec, info->extack);
		if (err && !info->extack->bad_attr)
			NL_SET_BAD_ATTR(info->extack,
					info->attrs[MEMWATCH_A_POLICY_NODE]);
		return err;
	}
	err = memwatch_wmark_set(nla_get_u64(info->attrs[MEMWATCH_A_POLICY_CGROUP_ID]),
				 spec, info->attrs[MEMWATCH_A_POLICY_SWAP] &&
				 nla_get_u8(info->attrs[MEMWATCH_A_POLICY_SWAP]),
				 info->extack);
	if (err && !info->extack->bad_attr)
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[MEMWATCH_A_POLICY_CGROUP_ID]);
	return err;
}

static int memwatch_policy_del_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	int err = memwatch_admin(skb, info);

	if (err)
		return err;
	if (info->attrs[MEMWATCH_A_POLICY_NODE]) {
		err = memwatch_node_of(info);
		if (err < NUMA_NO_NODE)
			return err;
		err = memwatch_node_del(nla_get_u32(info->attrs[MEMWATCH_A_POLICY_NODE]),
					info->extack);
		if (err)
			NL_SET_BAD_ATTR(info->extack,
					info->attrs[MEMWATCH_A_POLICY_NODE]);
		return err;
	}
	if (memwatch_require(info, MEMWATCH_A_POLICY_CGROUP_ID,
			     "missing attribute: the cgroup id"))
		return -EINVAL;
	err = memwatch_wmark_del(nla_get_u64(info->attrs[MEMWATCH_A_POLICY_CGROUP_ID]),
				 info->extack);
	if (err)
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[MEMWATCH_A_POLICY_CGROUP_ID]);
	return err;
}

static int memwatch_put_policy(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct memwatch_policy_view *v, char *path)
{
	struct nlattr *wmarks, *w;
	void *hdr;
	int l;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &memwatch_genl_family, NLM_F_MULTI,
			  MEMWATCH_CMD_POLICY_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (nla_put_u64_64bit(skb, MEMWATCH_A_POLICY_CGROUP_ID, v->cgroup_id,
			      MEMWATCH_A_POLICY_PAD) ||
	    nla_put_string(skb, MEMWATCH_A_POLICY_CGROUP_PATH,
			   memwatch_cgroup_path(v->cgroup_id, path)) ||
	    nla_put_u8(skb, MEMWATCH_A_POLICY_LEVEL, v->level) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_POLICY_USAGE, v->usage,
			      MEMWATCH_A_POLICY_PAD) ||
	    nla_put_u64_64bit(skb, MEMWATCH_A_POLICY_LIMIT, v->limit,
			      MEMWATCH_A_POLICY_PAD) ||
	    (v->node != NUMA_NO_NODE &&
	     nla_put_u32(skb, MEMWATCH_A_POLICY_NODE, v->node)) ||
	    (v->swap && nla_put_u8(skb, MEMWATCH_A_POLICY_SWAP, 1)))
		goto cancel;
	wmarks = nla_nest_start(skb, MEMWATCH_A_POLICY_WMARKS);
	if (!wmarks)
		goto cancel;
	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
		const struct memwatch_wmark_spec *sp = &v->spec[l];

		if (!sp->kind)
			continue;
		w = nla_nest_start(skb, MEMWATCH_A_POLICY_WMARK);
		if (!w || nla_put_u8(skb, MEMWATCH_A_WMARK_LEVEL, l) ||
		    (sp->kind == MEMWATCH_WMARK_PERCENT ?
		     nla_put_u32(skb, MEMWATCH_A_WMARK_PERCENT, sp->value) :
		     nla_put_u64_64bit(skb, MEMWATCH_A_WMARK_BYTES, sp->value,
				       MEMWATCH_A_WMARK_PAD)) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_WMARK_THRESHOLD,
				      v->threshold[l], MEMWATCH_A_WMARK_PAD))
			goto cancel;
		nla_nest_end(skb, w);
	}
	nla_nest_end(skb, wmarks);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * POLICY_GET dump state, in cb->ctx: where it is (cgroup policies, by
 * hash bucket and key, then node policies, by node), a path buffer.
 */
struct memwatch_policy_dump {
	struct memwatch_wmark_cursor cur;
	int nid;
	bool one_done;		/* a CGROUP_ID filter's policy is sent */
	char *path;
};

static int memwatch_policy_get_start(struct netlink_callback *cb)
{
	struct memwatch_policy_dump *ctx = (void *)cb->ctx;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->path = kmalloc(PATH_MAX, GFP_KERNEL);
	return ctx->path ? 0 : -ENOMEM;
}

static int memwatch_policy_get_done(struct netlink_callback *cb)
{
	struct memwatch_policy_dump *ctx = (void *)cb->ctx;

	kfree(ctx->path);
	return 0;
}

/*
 * Every policy, or with MEMWATCH_A_POLICY_CGROUP_ID that cgroup's alone
 * (-ENOENT, with a message, if it has none). A policy set or removed
 * while the dump runs marks the next message NLM_F_DUMP_INTR
 * (genl_dump_check_consistent()): the reader asks again.
 */
static int memwatch_policy_get_dumpit(struct sk_buff *skb,
				      struct netlink_callback *cb)
{
	struct memwatch_policy_dump *ctx = (void *)cb->ctx;
	struct nlattr *id = memwatch_dump_attrs(cb)[MEMWATCH_A_POLICY_CGROUP_ID];
	struct memwatch_policy_view v;
	int err;

	cb->seq = memwatch_policies_gen();
	if (id) {
		if (ctx->one_done)
			return 0;
		err = memwatch_wmark_get_id(nla_get_u64(id), &v);
		if (err) {
			NL_SET_ERR_MSG_ATTR(cb->extack, id,
					    "this cgroup has no policy");
			return err;
		}
		err = memwatch_put_policy(skb, cb, &v, ctx->path);
		if (err)
			return err;
		ctx->one_done = true;
		return skb->len;
	}
	while (!memwatch_wmark_next(&ctx->cur, &v)) {
		/* Not sent: again at the next call. */
		if (memwatch_put_policy(skb, cb, &v, ctx->path))
			return skb->len;
		ctx->cur.after = v.cgroup_id;
	}
	while (ctx->nid < nr_node_ids) {
		int nid = ctx->nid;

		if (memwatch_node_next(&ctx->nid, &v))
			break;
		if (memwatch_put_policy(skb, cb, &v, ctx->path)) {
			ctx->nid = nid;
			break;
		}
	}
	return skb->len;
}

/* Attributes of replies (path, level, usage, limit) are rejected in a
 * request: strict validation refuses an NLA_UNSPEC entry, with a message.
 */
static const struct nla_policy
memwatch_policy_policy[MEMWATCH_A_POLICY_SWAP + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
	[MEMWATCH_A_POLICY_WMARKS] = { .type = NLA_NESTED },
	[MEMWATCH_A_POLICY_NODE] = { .type = NLA_U32 },
	[MEMWATCH_A_POLICY_SWAP] = NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy
memwatch_policy_del_policy[MEMWATCH_A_POLICY_NODE + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
	[MEMWATCH_A_POLICY_NODE] = { .type = NLA_U32 },
};

/* POLICY_GET's filter: one cgroup's policy. */
static const struct nla_policy
memwatch_policy_get_policy[MEMWATCH_A_POLICY_CGROUP_ID + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
};

/*
 * The processes an event names: the processes of its cgroup's subtree
 * holding the most, or for a node's event (nid not NUMA_NO_NODE), holding
 * the most on that node. Chosen among a few candidates (top.h), not by a
 * pass over the process table: the event's own (its policy's ranking and
 * the charger), or for the host and the nodes, the tick's ranking of
 * them. Each is read again now: alive, in the subtree, and its live
 * pages with what the CPUs' batches hold (no IPI).
 */
static int memwatch_put_top(struct sk_buff *skb, const struct memwatch_event *e)
{
	u16 cand[2 * MEMWATCH_TOP_CAND + 1], top[MEMWATCH_EVENT_TOP];
	unsigned int ncand = 0, n = 0, i, k;
	long live[MEMWATCH_EVENT_TOP];
	struct cgroup *ancestor;
	struct nlattr *nest, *a;
	int nid = e->node;

	for (i = 0; i < MEMWATCH_TOP_CAND && e->cand[i]; i++)
		cand[ncand++] = e->cand[i];
	ancestor = cgroup_get_from_id(e->cgroup_id);
	if (IS_ERR(ancestor))
		ancestor = NULL;
	/* The root's subtree is the host: no check, the host's ranking. */
	if (ancestor && !cgroup_parent(ancestor)) {
		cgroup_put(ancestor);
		ancestor = NULL;
		memwatch_proc_ranked(nid, &cand[ncand]);
		for (i = 0; i < MEMWATCH_TOP_CAND && cand[ncand]; i++)
			ncand++;
	}
	if (e->self >= MEMWATCH_SLOT_FIRST)
		cand[ncand++] = e->self;
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
		if (!a ||
		    nla_put_u32(skb, MEMWATCH_A_PROC_PID, p->tgid) ||
		    nla_put_string(skb, MEMWATCH_A_PROC_COMM, p->comm) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_LIVE_BYTES,
				      (u64)live[i] << PAGE_SHIFT,
				      MEMWATCH_A_PROC_PAD) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_RATE,
				      READ_ONCE(p->rate), MEMWATCH_A_PROC_PAD) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_ANON_BYTES,
				      (u64)anon << PAGE_SHIFT,
				      MEMWATCH_A_PROC_PAD) ||
		    nla_put_u64_64bit(skb, MEMWATCH_A_PROC_FILE_BYTES,
				      (u64)(live[i] - anon) << PAGE_SHIFT,
				      MEMWATCH_A_PROC_PAD))
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
			   memwatch_cgroup_path(e->cgroup_id, path)) ||
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

int memwatch_event_buf_fill(struct memwatch_event_buf *b, gfp_t gfp)
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

void memwatch_event_buf_free(struct memwatch_event_buf *b)
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
int memwatch_genl_event(const struct memwatch_event *e,
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

static const struct nla_policy
memwatch_proc_get_policy[MEMWATCH_A_PROC_CGROUP_ID + 1] = {
	[MEMWATCH_A_PROC_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_PROC_PID] = NLA_POLICY_FULL_RANGE(NLA_U32,
						      &memwatch_pid_range),
	[MEMWATCH_A_PROC_CGROUP_ID] = { .type = NLA_U64 },
};

/*
 * STATUS has no .policy: with resv_start_op left at 0 the core rejects
 * every attribute sent to a command without one, with an extack message.
 */
static const struct genl_ops memwatch_genl_ops[] = {
	{
		.cmd = MEMWATCH_CMD_STATUS,
		.doit = memwatch_status_doit,
	},
	{
		.cmd = MEMWATCH_CMD_PROC_GET,
		.start = memwatch_proc_get_start,
		.dumpit = memwatch_proc_get_dumpit,
		.done = memwatch_proc_get_done,
		.policy = memwatch_proc_get_policy,
		.maxattr = MEMWATCH_A_PROC_CGROUP_ID,
	},
	{
		.cmd = MEMWATCH_CMD_POLICY_SET,
		.doit = memwatch_policy_set_doit,
		.policy = memwatch_policy_policy,
		.maxattr = MEMWATCH_A_POLICY_SWAP,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MEMWATCH_CMD_POLICY_DEL,
		.doit = memwatch_policy_del_doit,
		.policy = memwatch_policy_del_policy,
		.maxattr = MEMWATCH_A_POLICY_NODE,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MEMWATCH_CMD_POLICY_GET,
		.start = memwatch_policy_get_start,
		.dumpit = memwatch_policy_get_dumpit,
		.done = memwatch_policy_get_done,
		.policy = memwatch_policy_get_policy,
		.maxattr = MEMWATCH_A_POLICY_CGROUP_ID,
	},
};

static const struct genl_multicast_group memwatch_genl_mcgrps[] = {
	[MEMWATCH_GRP_EVENTS] = {
		.name = MEMWATCH_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
	[MEMWATCH_GRP_PUBLIC] = { .name = MEMWATCH_MCGRP_PUBLIC },
};

static struct genl_family memwatch_genl_family __ro_after_init = {
	.name = MEMWATCH_GENL_NAME,
	.version = MEMWATCH_GENL_VERSION,
	.module = THIS_MODULE,
	.ops = memwatch_genl_ops,
	.n_ops = ARRAY_SIZE(memwatch_genl_ops),
	.mcgrps = memwatch_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(memwatch_genl_mcgrps),
	.netnsok = false,
};

int __init memwatch_genl_init(void)
{
	return genl_register_family(&memwatch_genl_family);
}

void memwatch_genl_exit(void)
{
	genl_unregister_family(&memwatch_genl_family);
}
