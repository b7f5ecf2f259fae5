/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_DAEMON_H
#define MEMCTL_DAEMON_H

/* memctl daemon (Documentation/daemon.md): the command's entry. */
int cmd_daemon(int argc, char **argv);

#endif
