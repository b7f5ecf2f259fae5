/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_COMMANDS_H
#define MEMCTL_COMMANDS_H

int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_incidents(int argc, char **argv);

#endif
