/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * memwatch: page allocation tracking and memory watermark events.
 *
 * Documentation
 * =============
 *
 * memwatch is driven over generic netlink, family MEMWATCH_GENL_NAME, version
 * MEMWATCH_GENL_VERSION. Events are multicast on the group
 * MEMWATCH_MCGRP_EVENTS. Every attribute set is validated strictly: an
 * attribute a command does not take is rejected with -EINVAL and an extended
 * ACK naming it.
 *
 * Numbers in this file are ABI: new commands and attributes are only ever
 * appended before the __MEMWATCH_*_MAX sentinel.
 *
 * MEMWATCH_CMD_STATUS
 * -------------------
 *
 * Permission: any user. Request: NLM_F_REQUEST with no attributes. The reply
 * is one message with the tree:
 *
 *    MEMWATCH_A_STATUS_VERSION: NLA_NUL_STRING, the module version
 *    MEMWATCH_A_STATUS_HOOKS: NLA_NESTED
 *        MEMWATCH_A_STATUS_HOOK: NLA_NESTED, one per hook point
 *            MEMWATCH_A_HOOK_NAME: NLA_NUL_STRING, kernel symbol or tracepoint
 *            MEMWATCH_A_HOOK_KIND: NLA_U8, enum memwatch_hook_kind
 *            MEMWATCH_A_HOOK_ATTACHED: NLA_U8, 1 when attached
 *            MEMWATCH_A_HOOK_HITS: NLA_U64, handler runs since load
 *            MEMWATCH_A_HOOK_MISSED: NLA_U64, hits the kernel could not
 *                                    deliver (kprobe nmissed)
 *        MEMWATCH_A_STATUS_HOOK: NLA_NESTED
 *            ...
 *    MEMWATCH_A_STATUS_TABLES: NLA_NESTED
 *        MEMWATCH_A_STATUS_TABLE: NLA_NESTED, one per table the module keeps
 *            MEMWATCH_A_TABLE_NAME: NLA_NUL_STRING
 *            MEMWATCH_A_TABLE_ENTRIES: NLA_U32, entries in use
 *            MEMWATCH_A_TABLE_CAPACITY: NLA_U32, the ceiling
 *            MEMWATCH_A_TABLE_BYTES: NLA_U64, memory the table holds
 *            MEMWATCH_A_TABLE_OVERFLOWS: NLA_U64, times an entry could not
 *                                        be had (see Documentation/design.md)
 *        ...
 *
 * The tables: "procs" (a record per process; when it is full, a new
 * process's pages go to the "[overflow]" record) and "pages" (an owner
 * entry per page frame; ENTRIES counts the live pages memwatch tracks).
 *
 * MEMWATCH_CMD_PROC_GET
 * ---------------------
 *
 * Permission: any user. Request: NLM_F_REQUEST | NLM_F_DUMP, optionally
 * with filters:
 *
 *    MEMWATCH_A_PROC_PID: NLA_U32, only this process (thread group id)
 *    MEMWATCH_A_PROC_CGROUP_ID: NLA_U64, only processes in this cgroup or
 *                               below it (the cgroup2 directory's inode)
 *
 * The dump returns one message per process record:
 *
 *    MEMWATCH_A_PROC_PID: NLA_U32, thread group id (0 for the kernel's and
 *                         the overflow record)
 *    MEMWATCH_A_PROC_COMM: NLA_NUL_STRING, the group leader's comm, or
 *                          "[kernel]" / "[overflow]"
 *    MEMWATCH_A_PROC_STATE: NLA_U8, enum memwatch_proc_state
 *    MEMWATCH_A_PROC_CGROUP_ID: NLA_U64
 *    MEMWATCH_A_PROC_CGROUP_PATH: NLA_NUL_STRING, under the cgroup2 root
 *    MEMWATCH_A_PROC_LIVE_BYTES: NLA_U64, charged and not yet released
 *    MEMWATCH_A_PROC_LOCAL_BYTES: NLA_U64, the part that landed on the node
 *                                 of the CPU that charged it
 *    MEMWATCH_A_PROC_REMOTE_BYTES: NLA_U64, the rest (local + remote = live)
 *    MEMWATCH_A_PROC_ALLOCATED_BYTES: NLA_U64, charged since load
 *    MEMWATCH_A_PROC_RELEASED_BYTES: NLA_U64, released since load
 *    MEMWATCH_A_PROC_RATE: NLA_U64, bytes/s charged over the last second
 *    MEMWATCH_A_PROC_NODES: NLA_NESTED
 *        MEMWATCH_A_PROC_NODE: NLA_NESTED, one per node with live bytes
 *            MEMWATCH_A_NODE_ID: NLA_U32
 *            MEMWATCH_A_NODE_LIVE_BYTES: NLA_U64
 *        ...
 *
 * NLA_U64 attributes are padded with MEMWATCH_A_*_PAD (nla_put_u64_64bit).
 */
#ifndef _UAPI_LINUX_MEMWATCH_H
#define _UAPI_LINUX_MEMWATCH_H

#define MEMWATCH_GENL_NAME	"memwatch"
#define MEMWATCH_GENL_VERSION	1
#define MEMWATCH_MCGRP_EVENTS	"events"

enum memwatch_cmd {
	MEMWATCH_CMD_UNSPEC,
	MEMWATCH_CMD_STATUS,
	MEMWATCH_CMD_PROC_GET,
	__MEMWATCH_CMD_MAX
};

#define MEMWATCH_CMD_MAX (__MEMWATCH_CMD_MAX - 1)

enum memwatch_hook_kind {
	MEMWATCH_HOOK_KPROBE,
	MEMWATCH_HOOK_TRACEPOINT,
	MEMWATCH_HOOK_KRETPROBE,
};

enum memwatch_proc_state {
	MEMWATCH_PROC_ALIVE,
	MEMWATCH_PROC_EXITED,	/* gone; its page cache is still charged */
	MEMWATCH_PROC_KERNEL,	/* kernel threads and interrupts */
	MEMWATCH_PROC_OVERFLOW,	/* processes that found the table full */
};

enum memwatch_attr_status {
	MEMWATCH_A_STATUS_UNSPEC,
	MEMWATCH_A_STATUS_PAD,
	MEMWATCH_A_STATUS_VERSION,
	MEMWATCH_A_STATUS_HOOKS,
	MEMWATCH_A_STATUS_HOOK,
	MEMWATCH_A_STATUS_TABLES,
	MEMWATCH_A_STATUS_TABLE,
	__MEMWATCH_A_STATUS_MAX
};

#define MEMWATCH_A_STATUS_MAX (__MEMWATCH_A_STATUS_MAX - 1)

enum memwatch_attr_hook {
	MEMWATCH_A_HOOK_UNSPEC,
	MEMWATCH_A_HOOK_PAD,
	MEMWATCH_A_HOOK_NAME,
	MEMWATCH_A_HOOK_KIND,
	MEMWATCH_A_HOOK_ATTACHED,
	MEMWATCH_A_HOOK_HITS,
	MEMWATCH_A_HOOK_MISSED,
	__MEMWATCH_A_HOOK_MAX
};

#define MEMWATCH_A_HOOK_MAX (__MEMWATCH_A_HOOK_MAX - 1)

enum memwatch_attr_table {
	MEMWATCH_A_TABLE_UNSPEC,
	MEMWATCH_A_TABLE_PAD,
	MEMWATCH_A_TABLE_NAME,
	MEMWATCH_A_TABLE_ENTRIES,
	MEMWATCH_A_TABLE_CAPACITY,
	MEMWATCH_A_TABLE_BYTES,
	MEMWATCH_A_TABLE_OVERFLOWS,
	__MEMWATCH_A_TABLE_MAX
};

#define MEMWATCH_A_TABLE_MAX (__MEMWATCH_A_TABLE_MAX - 1)

/* Request filters first: the PROC_GET policy takes only those. */
enum memwatch_attr_proc {
	MEMWATCH_A_PROC_UNSPEC,
	MEMWATCH_A_PROC_PAD,
	MEMWATCH_A_PROC_PID,
	MEMWATCH_A_PROC_CGROUP_ID,
	MEMWATCH_A_PROC_COMM,
	MEMWATCH_A_PROC_STATE,
	MEMWATCH_A_PROC_CGROUP_PATH,
	MEMWATCH_A_PROC_LIVE_BYTES,
	MEMWATCH_A_PROC_LOCAL_BYTES,
	MEMWATCH_A_PROC_REMOTE_BYTES,
	MEMWATCH_A_PROC_ALLOCATED_BYTES,
	MEMWATCH_A_PROC_RELEASED_BYTES,
	MEMWATCH_A_PROC_RATE,
	MEMWATCH_A_PROC_NODES,
	MEMWATCH_A_PROC_NODE,
	__MEMWATCH_A_PROC_MAX
};

#define MEMWATCH_A_PROC_MAX (__MEMWATCH_A_PROC_MAX - 1)

enum memwatch_attr_node {
	MEMWATCH_A_NODE_UNSPEC,
	MEMWATCH_A_NODE_PAD,
	MEMWATCH_A_NODE_ID,
	MEMWATCH_A_NODE_LIVE_BYTES,
	__MEMWATCH_A_NODE_MAX
};

#define MEMWATCH_A_NODE_MAX (__MEMWATCH_A_NODE_MAX - 1)

#endif /* _UAPI_LINUX_MEMWATCH_H */
