// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "memwatch": commands and the "events" group.
 * The protocol is documented in include/uapi/linux/memwatch.h.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "memwatch.h"
#include "hooks.h"
#include "netlink.h"

static struct genl_family memwatch_genl_family;

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
		nla_nest_end(skb, hook);
	}
	nla_nest_end(skb, hooks);
	return 0;
}

/* No table is kept yet: the nest is sent empty so readers can rely on it. */
static int memwatch_put_tables(struct sk_buff *skb)
{
	struct nlattr *tables;

	tables = nla_nest_start(skb, MEMWATCH_A_STATUS_TABLES);
	if (!tables)
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
	err = memwatch_put_tables(msg);
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/*
 * No .policy: with resv_start_op left at 0 the core rejects every
 * attribute sent to a command without one, with an extack message.
 */
static const struct genl_ops memwatch_genl_ops[] = {
	{
		.cmd = MEMWATCH_CMD_STATUS,
		.doit = memwatch_status_doit,
	},
};

static const struct genl_multicast_group memwatch_genl_mcgrps[] = {
	{ .name = MEMWATCH_MCGRP_EVENTS },
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
