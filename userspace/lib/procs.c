// SPDX-License-Identifier: GPL-2.0
/* Process records from the module's PROC_GET dump. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/memwatch.h>

#include "procs.h"

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

static int procs_parse(struct nlattr **tb, void *arg)
{
	struct mw_procs *l = arg;
	struct nlattr *nest, *a;
	struct mw_proc *r;
	int rem;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct mw_proc *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	if (tb[MEMWATCH_A_PROC_PID])
		r->pid = nla_get_u32(tb[MEMWATCH_A_PROC_PID]);
	if (tb[MEMWATCH_A_PROC_STATE])
		r->state = nla_get_u8(tb[MEMWATCH_A_PROC_STATE]);
	if (tb[MEMWATCH_A_PROC_COMM])
		snprintf(r->comm, sizeof(r->comm), "%s",
			 nla_get_string(tb[MEMWATCH_A_PROC_COMM]));
	if (tb[MEMWATCH_A_PROC_CGROUP_PATH])
		snprintf(r->cgroup, sizeof(r->cgroup), "%s",
			 nla_get_string(tb[MEMWATCH_A_PROC_CGROUP_PATH]));
	r->live = get_u64(tb[MEMWATCH_A_PROC_LIVE_BYTES]);
	r->local = get_u64(tb[MEMWATCH_A_PROC_LOCAL_BYTES]);
	r->remote = get_u64(tb[MEMWATCH_A_PROC_REMOTE_BYTES]);
	r->allocated = get_u64(tb[MEMWATCH_A_PROC_ALLOCATED_BYTES]);
	r->released = get_u64(tb[MEMWATCH_A_PROC_RELEASED_BYTES]);
	r->rate = get_u64(tb[MEMWATCH_A_PROC_RATE]);
	r->anon = get_u64(tb[MEMWATCH_A_PROC_ANON_BYTES]);
	r->file = get_u64(tb[MEMWATCH_A_PROC_FILE_BYTES]);
	r->swap = get_u64(tb[MEMWATCH_A_PROC_SWAP_BYTES]);
	nest = tb[MEMWATCH_A_PROC_NODES];
	if (!nest)
		return 0;
	nla_for_each_nested(a, nest, rem) {
		struct nlattr *nt[MEMWATCH_A_NODE_MAX + 1];

		if (r->n_nodes == MW_PROC_NODES)
			break;
		if (nla_parse_nested(nt, MEMWATCH_A_NODE_MAX, a, NULL))
			return -EPROTO;
		r->nodes[r->n_nodes].node = nt[MEMWATCH_A_NODE_ID] ?
			nla_get_u32(nt[MEMWATCH_A_NODE_ID]) : 0;
		r->nodes[r->n_nodes].live =
			get_u64(nt[MEMWATCH_A_NODE_LIVE_BYTES]);
		r->n_nodes++;
	}
	return 0;
}

int mw_procs_fetch(struct mw_nl *nl, uint32_t pid, uint64_t cgroup_id,
		   struct mw_procs *l)
{
	struct nl_msg *msg = mw_nl_msg(nl, MEMWATCH_CMD_PROC_GET, NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	if ((pid && nla_put_u32(msg, MEMWATCH_A_PROC_PID, pid)) ||
	    (cgroup_id &&
	     nla_put_u64(msg, MEMWATCH_A_PROC_CGROUP_ID, cgroup_id))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	l->n = 0;
	return mw_nl_request(nl, msg, MEMWATCH_A_PROC_MAX, procs_parse, l);
}
