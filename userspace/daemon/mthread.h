/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_MTHREAD_H
#define MEMCTL_MTHREAD_H

/*
 * The daemon's writer thread: path (the module's and the daemon's
 * figures) every interval_ms, from its own netlink socket. path "" starts
 * nothing. metrics_stop() joins it and removes the file.
 */
int metrics_start(const char *path, unsigned int interval_ms,
		  unsigned int top);
void metrics_stop(void);

#endif
