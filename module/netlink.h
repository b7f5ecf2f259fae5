/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_NETLINK_H
#define _MEMWATCH_NETLINK_H

int memwatch_genl_init(void);
void memwatch_genl_exit(void);

#endif /* _MEMWATCH_NETLINK_H */
