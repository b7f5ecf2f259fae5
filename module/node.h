/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_NODE_H
#define _MEMWATCH_NODE_H

#include <linux/compiler.h>
#include <linux/types.h>

#include "levels.h"

struct netlink_ext_ack;

int memwatch_node_init(void);
/* After the hooks, the family and the module's tick are gone. */
void memwatch_node_exit(void);

/* Node policies set: the fault path checks them inline (no call). */
extern unsigned int memwatch_nnode;

void memwatch_node_check_nid(int nid);

/* Probe context: a page was charged or released on node nid. */
static inline void memwatch_node_check(int nid)
{
	if (READ_ONCE(memwatch_nnode))
		memwatch_node_check_nid(nid);
}

/* The module's tick (main.c): every node's policy, process context. */
void memwatch_node_tick(void);

/* Process context, from netlink: 0 or -errno with extack set. */
int memwatch_node_set(int nid,
		      const struct memwatch_wmark_spec spec[MEMWATCH_NR_LEVELS + 1],
		      struct netlink_ext_ack *extack);
int memwatch_node_del(int nid, struct netlink_ext_ack *extack);
/*
 * The policy of the first node from *from on, *from moved past it: 0, or
 * -ENOENT past the last.
 */
int memwatch_node_next(int *from, struct memwatch_policy_view *v);
unsigned int memwatch_node_count(void);
unsigned int memwatch_node_capacity(void);
size_t memwatch_node_bytes(void);

#endif /* _MEMWATCH_NODE_H */
