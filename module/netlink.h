/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_NETLINK_H
#define _MEMWATCH_NETLINK_H

/*
 * The generic netlink family "memwatch", split as ethtool's netlink is:
 * netlink.c holds the family, its ops and groups, and what every message
 * shares (below); each message has a file of its own with its handlers,
 * its request policy and one fill function for its attributes:
 * nl_status.c (STATUS), nl_proc.c (PROC_GET, and a process's figures,
 * which events carry too), nl_policy.c (POLICY_SET, _DEL, _GET) and
 * nl_event.c (EVENT: the multicast, and the work that sends the ring's
 * events). The protocol is documented in include/uapi/linux/memwatch.h.
 */
#include <linux/gfp.h>
#include <linux/types.h>
#include <net/genetlink.h>

struct memwatch_proc;
struct work_struct;

int memwatch_genl_init(void);
void memwatch_genl_exit(void);

extern struct genl_family memwatch_genl_family;

/* Indexes into the family's multicast groups. */
enum {
	MEMWATCH_GRP_EVENTS,	/* "events": CAP_SYS_ADMIN, names processes */
	MEMWATCH_GRP_PUBLIC,	/* "events-public": the cgroup's figures */
	MEMWATCH_EVENT_GROUPS
};

/* Changing policy needs CAP_SYS_ADMIN: 0, or -EPERM with a message. */
int memwatch_nl_admin(struct sk_buff *skb, struct genl_info *info);
/* The cgroup's path as the reader's cgroup namespace sees it, or "". */
const char *memwatch_nl_cgroup_path(u64 id, char *buf);

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

/* nl_status.c */
int memwatch_status_doit(struct sk_buff *skb, struct genl_info *info);

/* nl_proc.c */
extern const struct nla_policy memwatch_proc_get_policy[];
int memwatch_proc_get_start(struct netlink_callback *cb);
int memwatch_proc_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int memwatch_proc_get_done(struct netlink_callback *cb);
/*
 * A process's figures (PROC_* attributes), live pages and its anonymous
 * share read by the caller: what a PROC_GET record and an event's
 * process share.
 */
int memwatch_nl_fill_proc(struct sk_buff *skb, const struct memwatch_proc *p,
			  long live, unsigned long anon);

/* nl_policy.c */
extern const struct nla_policy memwatch_policy_set_policy[];
extern const struct nla_policy memwatch_policy_del_policy[];
extern const struct nla_policy memwatch_policy_get_policy[];
int memwatch_policy_set_doit(struct sk_buff *skb, struct genl_info *info);
int memwatch_policy_del_doit(struct sk_buff *skb, struct genl_info *info);
int memwatch_policy_get_start(struct netlink_callback *cb);
int memwatch_policy_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb);
int memwatch_policy_get_done(struct netlink_callback *cb);

/*
 * nl_event.c: what a message needs, reserved ahead (init), and the work
 * that sends the ring's events (events.h) with it.
 */
int memwatch_nl_event_init(void);
void memwatch_nl_event_exit(void);
void memwatch_nl_event_send(struct work_struct *work);
size_t memwatch_nl_event_bytes(void);

#endif /* _MEMWATCH_NETLINK_H */
