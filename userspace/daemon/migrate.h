/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_MIGRATE_H
#define MEMCTL_MIGRATE_H

#include <stdint.h>
#include <sys/types.h>

/* Free memory of NUMA node nid in bytes (its sysfs meminfo), or 0. */
uint64_t node_free(int nid);
/* The node other than from with the most free memory, or -1 if none. */
int node_roomiest(int from);
/*
 * migrate_pages(2): move pid's pages on node from to node to. The pages
 * that could not be moved (>= 0), or -errno.
 */
long proc_migrate(pid_t pid, int from, int to);

#endif
