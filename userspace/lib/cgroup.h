/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_CGROUP_H
#define MEMCTL_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* Where cgroup2 is mounted (e.g. "/sys/fs/cgroup"), or NULL. */
const char *cg_root(void);

/*
 * Resolve CGROUP as memctl takes it, a path under the cgroup2 root
 * ("/a/b") or a full path ("/sys/fs/cgroup/a/b"), to its id (the
 * directory's inode) and its path under the root. 0 or -errno.
 */
int cg_resolve(const char *arg, uint64_t *id, char *rel, size_t relsz);

/* The files of a cgroup (a path under the cgroup2 root). */
/* Read FILE of cgroup CG (a path under the cgroup2 root) into buf,
 * trimmed: 0 or -errno. */
int cg_read(const char *cg, const char *file, char *buf, size_t size);
/* Write val to it: 0 or -errno. */
int cg_write(const char *cg, const char *file, const char *val);
/* memory.current of CG in bytes, or 0 if it cannot be read; for "/",
 * the host's: MemTotal - MemAvailable. */
uint64_t cg_usage(const char *cg);

#endif
