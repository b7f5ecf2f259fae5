/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_NETLINK_H
#define _MEMWATCH_NETLINK_H

#include <linux/gfp.h>

struct memwatch_event;
struct sk_buff;

/* The multicast groups an event goes to: events, events-public. */
#define MEMWATCH_EVENT_GROUPS	2

/*
 * What sending an event takes, reserved ahead (events.c): a path buffer
 * and a message per group. A message used is replaced after the ring is
 * drained; until then the next event's are allocated without reclaim.
 */
struct memwatch_event_buf {
	char *path;				/* PATH_MAX */
	struct sk_buff *skb[MEMWATCH_EVENT_GROUPS];	/* NULL: used */
};

int memwatch_genl_init(void);
void memwatch_genl_exit(void);
/* The buffer's missing parts, allocated with gfp: 0 or -ENOMEM. */
int memwatch_event_buf_fill(struct memwatch_event_buf *b, gfp_t gfp);
void memwatch_event_buf_free(struct memwatch_event_buf *b);
/* The event worker: multicast e on the groups with listeners; 0 or -errno. */
int memwatch_genl_event(const struct memwatch_event *e,
			struct memwatch_event_buf *b);

#endif /* _MEMWATCH_NETLINK_H */
