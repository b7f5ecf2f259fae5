/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_NETLINK_H
#define _MEMWATCH_NETLINK_H

struct memwatch_event;

int memwatch_genl_init(void);
void memwatch_genl_exit(void);
/* Process context: multicast e on the "events" group; 0 or -errno. */
int memwatch_genl_event(const struct memwatch_event *e);

#endif /* _MEMWATCH_NETLINK_H */
