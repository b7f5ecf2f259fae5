/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_EVENT_H
#define MEMCTL_EVENT_H

#include <stdint.h>
#include <netlink/attr.h>
#include <linux/memwatch.h>

/*
 * An event's EVENT_WMARKS nest (every enabled level of a crossing's
 * policy) into thr[level], bytes, 0 for a level that is off: how many
 * levels were given.
 */
int event_wmarks(struct nlattr *nest, uint64_t thr[MEMWATCH_NR_LEVELS + 1]);

#endif
