// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "cgroup.h"

const char *cg_root(void)
{
	static char root[PATH_MAX];
	char line[4096], fstype[64], mnt[PATH_MAX];
	FILE *f;

	if (root[0])
		return root;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - fstype ... */
		if (!sep || sscanf(sep, " - %63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return root[0] ? root : NULL;
}

int cg_resolve(const char *arg, uint64_t *id, char *rel, size_t relsz)
{
	const char *root = cg_root();
	char path[PATH_MAX], real[PATH_MAX];
	size_t rootlen;
	struct statfs sfs;
	struct stat st;

	if (!root)
		return -ENOENT;
	rootlen = strlen(root);
	if (!strncmp(arg, root, rootlen) &&
	    (arg[rootlen] == '/' || !arg[rootlen]))
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "%s/%s", root,
			 arg[0] == '/' ? arg + 1 : arg);
	if (!realpath(path, real))
		return -errno;
	if (strncmp(real, root, rootlen) ||
	    (real[rootlen] != '/' && real[rootlen]))
		return -EINVAL;
	if (statfs(real, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC ||
	    stat(real, &st) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	snprintf(rel, relsz, "%s", real[rootlen] ? real + rootlen : "/");
	return 0;
}
