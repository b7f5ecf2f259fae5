// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "memwatch": its commands, its groups, and
 * what every message shares. Each message is in a file of its own
 * (netlink.h). The protocol is documented in include/uapi/linux/memwatch.h.
 */
#include <linux/cgroup.h>
#include <linux/capability.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "netlink.h"

/*
 * Changing policy needs CAP_SYS_ADMIN. GENL_ADMIN_PERM on the ops refuses
 * callers without CAP_NET_ADMIN before their attributes are parsed; this
 * is the check that matters.
 */
int memwatch_nl_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack, "changing policy needs CAP_SYS_ADMIN");
	return -EPERM;
}

const char *memwatch_nl_cgroup_path(u64 id, char *buf)
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
		.policy = memwatch_policy_set_policy,
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

struct genl_family memwatch_genl_family __ro_after_init = {
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
	BUILD_BUG_ON(ARRAY_SIZE(memwatch_genl_mcgrps) != MEMWATCH_EVENT_GROUPS);
	return genl_register_family(&memwatch_genl_family);
}

void memwatch_genl_exit(void)
{
	genl_unregister_family(&memwatch_genl_family);
}
