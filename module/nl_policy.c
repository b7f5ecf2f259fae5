// SPDX-License-Identifier: GPL-2.0
/*
 * POLICY_SET, POLICY_DEL and POLICY_GET: a cgroup's watermarks (wmark.c)
 * or a node's (node.c), parsed and checked here, the levels' own rules in
 * levels.c.
 */
#include <linux/cgroup.h>
#include <linux/limits.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "compat.h"
#include "levels.h"
#include "netlink.h"
#include "node.h"
#include "wmark.h"

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

int memwatch_policy_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1] = {};
	struct nlattr *w;
	int rem, err, n = 0;

	err = memwatch_nl_admin(skb, info);
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

int memwatch_policy_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	int err = memwatch_nl_admin(skb, info);

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
			   memwatch_nl_cgroup_path(v->cgroup_id, path)) ||
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

int memwatch_policy_get_start(struct netlink_callback *cb)
{
	struct memwatch_policy_dump *ctx = (void *)cb->ctx;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->path = kmalloc(PATH_MAX, GFP_KERNEL);
	return ctx->path ? 0 : -ENOMEM;
}

int memwatch_policy_get_done(struct netlink_callback *cb)
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
int memwatch_policy_get_dumpit(struct sk_buff *skb,
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
const struct nla_policy
memwatch_policy_set_policy[MEMWATCH_A_POLICY_SWAP + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
	[MEMWATCH_A_POLICY_WMARKS] = { .type = NLA_NESTED },
	[MEMWATCH_A_POLICY_NODE] = { .type = NLA_U32 },
	[MEMWATCH_A_POLICY_SWAP] = NLA_POLICY_MAX(NLA_U8, 1),
};

const struct nla_policy
memwatch_policy_del_policy[MEMWATCH_A_POLICY_NODE + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
	[MEMWATCH_A_POLICY_NODE] = { .type = NLA_U32 },
};

/* POLICY_GET's filter: one cgroup's policy. */
const struct nla_policy
memwatch_policy_get_policy[MEMWATCH_A_POLICY_CGROUP_ID + 1] = {
	[MEMWATCH_A_POLICY_PAD] = { .type = NLA_REJECT },
	[MEMWATCH_A_POLICY_CGROUP_ID] = { .type = NLA_U64 },
};
