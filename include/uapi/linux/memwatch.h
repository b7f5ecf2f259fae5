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
	__MEMWATCH_CMD_MAX
};

#define MEMWATCH_CMD_MAX (__MEMWATCH_CMD_MAX - 1)

enum memwatch_hook_kind {
	MEMWATCH_HOOK_KPROBE,
	MEMWATCH_HOOK_TRACEPOINT,
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
	__MEMWATCH_A_TABLE_MAX
};

#define MEMWATCH_A_TABLE_MAX (__MEMWATCH_A_TABLE_MAX - 1)

#endif /* _UAPI_LINUX_MEMWATCH_H */
