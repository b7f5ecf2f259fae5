/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * memwatch: page allocation tracking and memory watermark events.
 *
 * Documentation
 * =============
 *
 * memwatch is driven over generic netlink, family MEMWATCH_GENL_NAME, version
 * MEMWATCH_GENL_VERSION. Events are multicast on the groups
 * MEMWATCH_MCGRP_EVENTS (joining it needs CAP_SYS_ADMIN) and
 * MEMWATCH_MCGRP_PUBLIC (any user; no process attributes). Every attribute
 * set is validated strictly: an attribute a command does not take is
 * rejected with -EINVAL and an extended ACK naming it.
 *
 * Numbers in this file are ABI: new commands and attributes are only ever
 * appended before the __MEMWATCH_*_MAX sentinel. The same protocol is in
 * the kernel's netlink spec format in Documentation/netlink/memwatch.yaml;
 * scripts/check-spec checks that the two agree.
 *
 * MEMWATCH_CMD_STATUS
 * -------------------
 *
 * Permission: any user. Request: NLM_F_REQUEST with no attributes. The
 * counts are exact as of the request for a CAP_SYS_ADMIN caller; for
 * anyone else they are as of the module's last tick (at most 200 ms old),
 * which spares every CPU an interrupt per request. The reply is one
 * message with the tree:
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
 *            MEMWATCH_A_HOOK_ERROR: NLA_U32, when not attached: the errno
 *                                   (positive) attaching it returned
 *            MEMWATCH_A_HOOK_UNCOUNTED: NLA_NUL_STRING, when not attached:
 *                                   what is not counted, or not right,
 *                                   without it (a hook the figures need
 *                                   cannot be missing: the load fails)
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
 *    MEMWATCH_A_STATUS_EVENTS_SENT: NLA_U64, events multicast
 *    MEMWATCH_A_STATUS_EVENTS_DROPPED: NLA_U64, events lost: the queue was
 *                                      full, or no memory to send one
 *
 * The tables: "policies" (a watermark set per cgroup; OVERFLOWS counts
 * POLICY_SETs refused with -ENOSPC), "node-policies" (a watermark set per
 * NUMA node: one per node at most, so OVERFLOWS stays 0), "procs" (a
 * record per process; when it is full, a new process's pages go to the
 * "[overflow]" record; when it is three quarters full, the records of
 * exited processes that still own pages (page cache) are folded into the
 * "[exited]" record, so short-lived processes do not fill it),
 * "pages" (an owner entry per page frame; ENTRIES counts the live pages
 * memwatch tracks) and "events" (the queue of events waiting to be sent;
 * OVERFLOWS counts events dropped).
 *
 * MEMWATCH_CMD_PROC_GET
 * ---------------------
 *
 * Permission: any user; without CAP_SYS_ADMIN the dump holds only the
 * caller's own live processes (by real uid), not the kernel's, exited or
 * overflow records, with counts as of the last tick (as STATUS).
 * Request: NLM_F_REQUEST | NLM_F_DUMP, optionally with filters:
 *
 *    MEMWATCH_A_PROC_PID: NLA_U32, only this process (thread group id;
 *                         1 to PID_MAX_LIMIT, else -ERANGE)
 *    MEMWATCH_A_PROC_CGROUP_ID: NLA_U64, only processes in this cgroup or
 *                               below it (the cgroup2 directory's inode;
 *                               -ENOENT when there is no such cgroup)
 *
 * The dump returns one message per process record:
 *
 *    MEMWATCH_A_PROC_PID: NLA_U32, thread group id (0 for the kernel's,
 *                         the overflow and the exited record)
 *    MEMWATCH_A_PROC_COMM: NLA_NUL_STRING, the group leader's comm, or
 *                          "[kernel]" / "[overflow]" / "[exited]"
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
 *    MEMWATCH_A_PROC_ANON_BYTES: NLA_U64, a live process's resident
 *                                anonymous memory (its mm's MM_ANONPAGES,
 *                                as RssAnon in /proc/PID/status), at most
 *                                live
 *    MEMWATCH_A_PROC_FILE_BYTES: NLA_U64, the rest of live: page cache
 *                                and file pages it brought in
 *    MEMWATCH_A_PROC_SWAP_BYTES: NLA_U64, its anonymous memory swapped
 *                                out (MM_SWAPENTS, VmSwap); not in live
 *    MEMWATCH_A_PROC_NODES: NLA_NESTED
 *        MEMWATCH_A_PROC_NODE: NLA_NESTED, one per node with live bytes
 *            MEMWATCH_A_NODE_ID: NLA_U32
 *            MEMWATCH_A_NODE_LIVE_BYTES: NLA_U64
 *        ...
 *
 * MEMWATCH_CMD_POLICY_SET
 * -----------------------
 *
 * Permission: CAP_SYS_ADMIN (and CAP_NET_ADMIN, which generic netlink's
 * admin flag checks first, with no message). Sets the watermarks of one
 * cgroup, or of one NUMA node, replacing any it had (levels not given are
 * off):
 *
 *    MEMWATCH_A_POLICY_CGROUP_ID: NLA_U64, required without POLICY_NODE
 *    MEMWATCH_A_POLICY_NODE: NLA_U32, a node's policy: the node's id
 *    MEMWATCH_A_POLICY_WMARKS: NLA_NESTED, required
 *        MEMWATCH_A_POLICY_WMARK: NLA_NESTED, one per level
 *            MEMWATCH_A_WMARK_LEVEL: NLA_U8, enum memwatch_level, NOTIFY..KILL
 *            MEMWATCH_A_WMARK_PERCENT: NLA_U32, 1..100 of the effective limit
 *            MEMWATCH_A_WMARK_BYTES: NLA_U64, or an absolute threshold
 *        ...
 *    MEMWATCH_A_POLICY_SWAP: NLA_U8, 1: usage counts the cgroup's memory
 *                            swapped out too (memory.swap.current), so a
 *                            leak pushed to swap still climbs the levels;
 *                            not on the root or a node (-EINVAL)
 *
 * The effective limit is the cgroup's memory.max, else its nearest limited
 * ancestor's, else total RAM. On the root cgroup (id 1 on the cgroup2 root)
 * the policy is the whole host's: usage is total RAM less MemAvailable
 * (si_mem_available()), the limit total RAM. A node's policy (POLICY_NODE;
 * CGROUP_ID absent or the root's) watches that node: its limit is the
 * node's managed memory, its usage that less what is available on it (free
 * over the low watermarks, and half its page cache). Thresholds must rise
 * with the level. Errors: -ENOENT (no such cgroup), -EINVAL (a bad level or
 * threshold, no such node), -ENOSPC (the policy table is full), -EPERM;
 * each with an extack message.
 *
 * MEMWATCH_CMD_POLICY_DEL
 * -----------------------
 *
 * Permission: as POLICY_SET. MEMWATCH_A_POLICY_CGROUP_ID: the cgroup whose
 * policy goes, or MEMWATCH_A_POLICY_NODE: the node whose policy goes
 * (-ENOENT if it has none).
 *
 * MEMWATCH_CMD_POLICY_GET
 * -----------------------
 *
 * Permission: any user. A dump, one message per policy; with
 * MEMWATCH_A_POLICY_CGROUP_ID in the request, that cgroup's policy alone
 * (ENOENT if it has none). The dump resumes by key, and a policy set or
 * removed while it runs marks the next message NLM_F_DUMP_INTR (ask
 * again):
 *
 *    MEMWATCH_A_POLICY_CGROUP_ID: NLA_U64
 *    MEMWATCH_A_POLICY_CGROUP_PATH: NLA_NUL_STRING
 *    MEMWATCH_A_POLICY_LEVEL: NLA_U8, the highest level crossed, 0 for none
 *    MEMWATCH_A_POLICY_USAGE: NLA_U64, bytes
 *    MEMWATCH_A_POLICY_LIMIT: NLA_U64, bytes, the effective limit
 *    MEMWATCH_A_POLICY_WMARKS: NLA_NESTED, as set, each with
 *        MEMWATCH_A_WMARK_THRESHOLD: NLA_U64, bytes, resolved now
 *    MEMWATCH_A_POLICY_NODE: NLA_U32, a node's policy only (its cgroup is
 *                            the root)
 *    MEMWATCH_A_POLICY_SWAP: NLA_U8, 1 if usage counts swap (then USAGE
 *                            does too)
 *
 * MEMWATCH_CMD_EVENT (multicast on MEMWATCH_MCGRP_EVENTS and _PUBLIC)
 * -------------------------------------------------------------------
 *
 * Sent the moment a cgroup's usage crosses a level (up: at or over its
 * threshold; down: under it by the margin, see Documentation/design.md),
 * or the kernel OOM killer chooses a victim:
 *
 *    MEMWATCH_A_EVENT_CGROUP_ID: NLA_U64
 *    MEMWATCH_A_EVENT_CGROUP_PATH: NLA_NUL_STRING
 *    MEMWATCH_A_EVENT_LEVEL: NLA_U8, enum memwatch_level (OOM for the kernel
 *                            OOM killer)
 *    MEMWATCH_A_EVENT_DIRECTION: NLA_U8, enum memwatch_direction
 *    MEMWATCH_A_EVENT_USAGE: NLA_U64, bytes, at detection
 *    MEMWATCH_A_EVENT_LIMIT: NLA_U64, bytes
 *    MEMWATCH_A_EVENT_THRESHOLD: NLA_U64, bytes (0 for OOM)
 *    MEMWATCH_A_EVENT_TS_NS: NLA_U64, CLOCK_MONOTONIC at detection
 *    MEMWATCH_A_EVENT_TOP: NLA_NESTED, the processes of the cgroup's
 *                          subtree holding the most live bytes
 *        MEMWATCH_A_EVENT_PROC: NLA_NESTED
 *            MEMWATCH_A_PROC_PID, MEMWATCH_A_PROC_COMM,
 *            MEMWATCH_A_PROC_LIVE_BYTES, MEMWATCH_A_PROC_RATE,
 *            MEMWATCH_A_PROC_ANON_BYTES, MEMWATCH_A_PROC_FILE_BYTES
 *        ...
 *    MEMWATCH_A_EVENT_VICTIM_PID: NLA_U32, OOM only
 *    MEMWATCH_A_EVENT_VICTIM_COMM: NLA_NUL_STRING, OOM only
 *    MEMWATCH_A_EVENT_WMARK_FIRED: NLA_U8, OOM only: 1 if a watermark of the
 *                                  cgroup or an ancestor was crossed
 *    MEMWATCH_A_EVENT_NODE: NLA_U32, a node's level only: the node; its
 *                           EVENT_TOP holds the processes with the most
 *                           live bytes on that node
 *    MEMWATCH_A_EVENT_WMARKS: NLA_NESTED, a crossing only: every enabled
 *                             level of the policy, so a listener needs no
 *                             POLICY_GET to know the others
 *        MEMWATCH_A_EVENT_WMARK: NLA_NESTED
 *            MEMWATCH_A_WMARK_LEVEL, MEMWATCH_A_WMARK_THRESHOLD (bytes,
 *            resolved against EVENT_LIMIT at detection)
 *        ...
 *    MEMWATCH_A_EVENT_WORK_NS: NLA_U64, CLOCK_MONOTONIC when the module's
 *                              event work took the event from its queue
 *    MEMWATCH_A_EVENT_BUILT_NS: NLA_U64, CLOCK_MONOTONIC when this message
 *                               was built, just before its multicast (with
 *                               TS_NS and a listener's receipt: the cost of
 *                               each stage of an event, bench/results.md)
 *
 * On MEMWATCH_MCGRP_PUBLIC the same events come without EVENT_TOP,
 * EVENT_VICTIM_PID and EVENT_VICTIM_COMM: a multicast cannot be filtered
 * per listener, and processes are shown only to their owners (PROC_GET).
 *
 * NLA_U64 attributes are padded with MEMWATCH_A_*_PAD (nla_put_u64_64bit).
 */
#ifndef _UAPI_LINUX_MEMWATCH_H
#define _UAPI_LINUX_MEMWATCH_H

#define MEMWATCH_GENL_NAME	"memwatch"
#define MEMWATCH_GENL_VERSION	1
#define MEMWATCH_MCGRP_EVENTS	"events"
#define MEMWATCH_MCGRP_PUBLIC	"events-public"

enum memwatch_cmd {
	MEMWATCH_CMD_UNSPEC,
	MEMWATCH_CMD_STATUS,
	MEMWATCH_CMD_PROC_GET,
	MEMWATCH_CMD_POLICY_SET,
	MEMWATCH_CMD_POLICY_DEL,
	MEMWATCH_CMD_POLICY_GET,
	MEMWATCH_CMD_EVENT,
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
	MEMWATCH_PROC_FOLDED,	/* exited processes' pages, folded together */
};

enum memwatch_attr_status {
	MEMWATCH_A_STATUS_UNSPEC,
	MEMWATCH_A_STATUS_PAD,
	MEMWATCH_A_STATUS_VERSION,
	MEMWATCH_A_STATUS_HOOKS,
	MEMWATCH_A_STATUS_HOOK,
	MEMWATCH_A_STATUS_TABLES,
	MEMWATCH_A_STATUS_TABLE,
	MEMWATCH_A_STATUS_EVENTS_SENT,
	MEMWATCH_A_STATUS_EVENTS_DROPPED,
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
	MEMWATCH_A_HOOK_ERROR,
	MEMWATCH_A_HOOK_UNCOUNTED,
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

enum memwatch_level {
	MEMWATCH_LEVEL_NONE,
	MEMWATCH_LEVEL_NOTIFY,
	MEMWATCH_LEVEL_RECLAIM,
	MEMWATCH_LEVEL_THROTTLE,
	MEMWATCH_LEVEL_FREEZE,
	MEMWATCH_LEVEL_KILL,
	MEMWATCH_LEVEL_OOM,	/* events only: the kernel OOM killer ran */
};

#define MEMWATCH_NR_LEVELS MEMWATCH_LEVEL_KILL

enum memwatch_direction {
	MEMWATCH_DIR_UP = 1,
	MEMWATCH_DIR_DOWN,
};

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
	MEMWATCH_A_PROC_ANON_BYTES,
	MEMWATCH_A_PROC_FILE_BYTES,
	MEMWATCH_A_PROC_SWAP_BYTES,
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

enum memwatch_attr_policy {
	MEMWATCH_A_POLICY_UNSPEC,
	MEMWATCH_A_POLICY_PAD,
	MEMWATCH_A_POLICY_CGROUP_ID,
	MEMWATCH_A_POLICY_WMARKS,
	MEMWATCH_A_POLICY_WMARK,
	MEMWATCH_A_POLICY_CGROUP_PATH,
	MEMWATCH_A_POLICY_LEVEL,
	MEMWATCH_A_POLICY_USAGE,
	MEMWATCH_A_POLICY_LIMIT,
	MEMWATCH_A_POLICY_NODE,
	MEMWATCH_A_POLICY_SWAP,
	__MEMWATCH_A_POLICY_MAX
};

#define MEMWATCH_A_POLICY_MAX (__MEMWATCH_A_POLICY_MAX - 1)

enum memwatch_attr_wmark {
	MEMWATCH_A_WMARK_UNSPEC,
	MEMWATCH_A_WMARK_PAD,
	MEMWATCH_A_WMARK_LEVEL,
	MEMWATCH_A_WMARK_PERCENT,
	MEMWATCH_A_WMARK_BYTES,
	MEMWATCH_A_WMARK_THRESHOLD,
	__MEMWATCH_A_WMARK_MAX
};

#define MEMWATCH_A_WMARK_MAX (__MEMWATCH_A_WMARK_MAX - 1)

enum memwatch_attr_event {
	MEMWATCH_A_EVENT_UNSPEC,
	MEMWATCH_A_EVENT_PAD,
	MEMWATCH_A_EVENT_CGROUP_ID,
	MEMWATCH_A_EVENT_CGROUP_PATH,
	MEMWATCH_A_EVENT_LEVEL,
	MEMWATCH_A_EVENT_DIRECTION,
	MEMWATCH_A_EVENT_USAGE,
	MEMWATCH_A_EVENT_LIMIT,
	MEMWATCH_A_EVENT_THRESHOLD,
	MEMWATCH_A_EVENT_TS_NS,
	MEMWATCH_A_EVENT_TOP,
	MEMWATCH_A_EVENT_PROC,
	MEMWATCH_A_EVENT_VICTIM_PID,
	MEMWATCH_A_EVENT_VICTIM_COMM,
	MEMWATCH_A_EVENT_WMARK_FIRED,
	MEMWATCH_A_EVENT_NODE,
	MEMWATCH_A_EVENT_WMARKS,
	MEMWATCH_A_EVENT_WMARK,
	MEMWATCH_A_EVENT_WORK_NS,
	MEMWATCH_A_EVENT_BUILT_NS,
	__MEMWATCH_A_EVENT_MAX
};

#define MEMWATCH_A_EVENT_MAX (__MEMWATCH_A_EVENT_MAX - 1)

#endif /* _UAPI_LINUX_MEMWATCH_H */
