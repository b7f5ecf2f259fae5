// SPDX-License-Identifier: GPL-2.0
/*
 * STATUS: the module's version, its hooks (attached, hits, missed), its
 * tables (entries, capacity, bytes, overflows) and its events' counts.
 */
#include <linux/capability.h>
#include <net/genetlink.h>
#include <uapi/linux/memwatch.h>

#include "memwatch.h"
#include "events.h"
#include "hooks.h"
#include "netlink.h"
#include "node.h"
#include "pfn.h"
#include "proc.h"
#include "rank.h"
#include "wmark.h"

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
	struct nlattr *tables;

	tables = nla_nest_start(skb, MEMWATCH_A_STATUS_TABLES);
	if (!tables ||
	    memwatch_put_table(skb, "policies", memwatch_wmark_count(),
			       memwatch_wmark_capacity(),
			       memwatch_wmark_bytes(), memwatch_wmark_refused()) ||
	    memwatch_put_table(skb, "node-policies", memwatch_node_count(),
			       memwatch_node_capacity(), memwatch_node_bytes(),
			       0) ||
	    memwatch_put_table(skb, "procs", memwatch_proc_used(),
			       memwatch_proc_capacity(),
			       memwatch_proc_bytes() + memwatch_rank_bytes(),
			       memwatch_proc_full_hits()) ||
	    memwatch_put_table(skb, "pages", memwatch_proc_live_total(),
			       memwatch_pfn_capacity(), memwatch_pfn_bytes(),
			       memwatch_pfn_untracked()) ||
	    memwatch_put_table(skb, "events", memwatch_events_queued(),
			       memwatch_events_capacity(),
			       memwatch_events_bytes() +
			       memwatch_nl_event_bytes(),
			       memwatch_events_dropped()))
		return -EMSGSIZE;
	nla_nest_end(skb, tables);
	return 0;
}

int memwatch_status_doit(struct sk_buff *skb, struct genl_info *info)
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
