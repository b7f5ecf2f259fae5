// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroups as memctl names them: where cgroup2 is mounted, a cgroup's path
 * and id, and its files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
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

static int cg_path(const char *cg, const char *file, char *path, size_t size)
{
	const char *root = cg_root();

	if (!root)
		return -ENOENT;
	if ((size_t)snprintf(path, size, "%s%s/%s", root,
			     strcmp(cg, "/") ? cg : "", file) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int cg_read(const char *cg, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err = cg_path(cg, file, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int cg_write(const char *cg, const char *file, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	int fd, err = cg_path(cg, file, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write(fd, val, len) == (ssize_t)len ? 0 : -errno;
	close(fd);
	return err;
}

/* The host's usage as memwatch measures it: MemTotal - MemAvailable. */
static uint64_t host_usage(void)
{
	unsigned long long total = 0, avail = 0, v;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			avail = v;
	}
	fclose(f);
	return total > avail ? (total - avail) << 10 : 0;
}

uint64_t cg_usage(const char *cg)
{
	char buf[32];

	/* The root cgroup has no memory.current: it is the whole host. */
	if (!strcmp(cg, "/"))
		return host_usage();
	return cg_read(cg, "memory.current", buf, sizeof(buf)) ? 0 :
	       strtoull(buf, NULL, 10);
}
