/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_ACTIONS_H
#define MEMCTL_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/*
 * The daemon's hands: signals through pidfds, the reclaim thread and the
 * hook (cgroup files: cgroup.h). Nothing here allocates: buffers are the caller's
 * or static, so the action path never waits for memory.
 */

/* pidfd_open, pidfd_send_signal, process_mrelease: 0/fd or -errno. */
int proc_pidfd(pid_t pid);
int proc_signal(int pidfd, int sig);
int proc_mrelease(int pidfd);
/* Whether pid has a handler for sig (SigCgt in /proc/PID/status). */
bool proc_catches(pid_t pid, int sig);

/* The reclaim thread: memory.reclaim may take long, the loop may not. */
int reclaim_start(void);
void reclaim_stop(void);
/* Ask it to reclaim bytes from cg (level for the log); replaces a
 * request for cg still queued. False if the queue is full. */
bool reclaim_request(const char *cg, unsigned int level, uint64_t bytes);
/* Ask it to move pid's pages from node from to node to (bytes of them,
 * for the log); replaces a request for the same still queued. */
bool migrate_request(pid_t pid, const char *comm, int from, int to,
		     unsigned int level, uint64_t bytes);

/*
 * Hooks: run "sh -c cmd" with env (NULL-terminated "K=V" strings added
 * to the daemon's environment), in a process group of its own, without
 * waiting. With pidp, its pid is stored there and its end is kept for
 * hook_result() (at most 16 at a time). 0 or -errno.
 */
int hook_spawn(const char *cmd, char *const env[], pid_t *pidp);
/* Reap hooks that finished; call on SIGCHLD. */
void hook_reap(void);
/*
 * A watched hook: 1 and its wait status if it ended (then forgotten),
 * 0 if it runs, -ENOENT if pid is not watched.
 */
int hook_result(pid_t pid, int *status);
/* Stop watching pid (it was killed and will be reaped unwatched). */
void hook_forget(pid_t pid);

#endif
