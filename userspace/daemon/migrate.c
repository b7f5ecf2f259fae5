// SPDX-License-Identifier: GPL-2.0
/* The daemon's node action: move an offender's pages to a roomier node. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "migrate.h"

#define NODE_BITS 1024
#define LONG_BITS (8 * sizeof(unsigned long))

uint64_t node_free(int nid)
{
	unsigned long long kb = 0;
	char path[96], line[160];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "Node 0 MemFree:  123456 kB" */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %d MemFree: %llu kB", &n, &kb) == 2)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

int node_roomiest(int from)
{
	uint64_t best_free = 0, f;
	struct dirent *de;
	int best = -1, n;
	DIR *d = opendir("/sys/devices/system/node");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "node%d", &n) != 1 || n == from ||
		    n < 0 || n >= NODE_BITS)
			continue;
		f = node_free(n);
		if (f > best_free) {
			best_free = f;
			best = n;
		}
	}
	closedir(d);
	return best;
}

long proc_migrate(pid_t pid, int from, int to)
{
	unsigned long old[NODE_BITS / LONG_BITS] = { 0 };
	unsigned long new[NODE_BITS / LONG_BITS] = { 0 };
	long left;

	if (from < 0 || from >= NODE_BITS || to < 0 || to >= NODE_BITS)
		return -EINVAL;
	old[from / LONG_BITS] |= 1UL << (from % LONG_BITS);
	new[to / LONG_BITS] |= 1UL << (to % LONG_BITS);
	left = syscall(SYS_migrate_pages, pid, NODE_BITS, old, new);
	return left < 0 ? -errno : left;
}
