// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <linux/genetlink.h>
#include <linux/mempolicy.h>
#include <linux/memwatch.h>

#include "memwatch_util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static const char *mw_path(const char *env, const char *rel)
{
	static char buf[2][2 * PATH_MAX];
	static int n;
	char exe[PATH_MAX], *slash;
	const char *v = getenv(env);
	ssize_t len;

	if (v && *v)
		return v;
	/* Relative to the test binary: selftests/ sits beside module/. */
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		return rel;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	n ^= 1;
	snprintf(buf[n], sizeof(buf[n]), "%s/../%s", exe, rel);
	return buf[n];
}

const char *mw_module_path(void)
{
	return mw_path("MEMWATCH_KO", "module/memwatch.ko");
}

const char *mw_memctl_path(void)
{
	return mw_path("MEMCTL", "userspace/memctl");
}

const char *mw_hog_path(void)
{
	return mw_path("MEMWATCH_HOG", "selftests/memwatch_hog");
}

bool mw_module_loaded(void)
{
	return access("/sys/module/memwatch", F_OK) == 0;
}

/*
 * $MEMWATCH_PARAMS goes before params: memwatch_kprobe.sh runs whole
 * suites with hooks=kprobe, and a test that reloads keeps that mode.
 */
int mw_module_load(const char *params)
{
	const char *env = getenv("MEMWATCH_PARAMS");
	char all[512];
	int fd, err = 0;

	if (env && *env) {
		if ((size_t)snprintf(all, sizeof(all), "%s %s", env, params) >=
		    sizeof(all))
			return -E2BIG;
		params = all;
	}
	fd = open(mw_module_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		err = -errno;
	close(fd);
	return err;
}

int mw_module_unload(void)
{
	int i;

	/* A reader may still hold the family for a moment: retry briefly. */
	for (i = 0; i < 50; i++) {
		if (!syscall(SYS_delete_module, "memwatch", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		usleep(100000);
	}
	return -errno;
}

int mw_module_ensure(bool loaded)
{
	if (mw_module_loaded() == loaded)
		return 0;
	return loaded ? mw_module_load("") : mw_module_unload();
}

int mw_fx_load(bool *was_loaded)
{
	int err;

	*was_loaded = mw_module_loaded();
	err = mw_module_ensure(true);
	if (err)
		fprintf(stderr, "# setup: loading memwatch failed: %s\n",
			strerror(-err));
	return err ? -1 : 0;
}

/* Read what fd has into buf (dropping what does not fit); 0 at EOF. */
static ssize_t mw_drain(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n;

	if (*len + 1 >= size) {
		char sink[4096];

		return read(fd, sink, sizeof(sink));
	}
	n = read(fd, buf + *len, size - 1 - *len);
	if (n > 0)
		*len += n;
	buf[*len] = '\0';
	return n;
}

int mw_run(char *const argv[], char *out, size_t outsz, char *err,
	   size_t errsz)
{
	int po[2], pe[2], status;
	size_t lo = 0, le = 0;
	struct pollfd pfd[2];
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	out[0] = err[0] = '\0';
	pfd[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents && mw_drain(po[0], out, outsz, &lo) <= 0)
			pfd[0].fd = -1;
		if (pfd[1].revents && mw_drain(pe[0], err, errsz, &le) <= 0)
			pfd[1].fd = -1;
	}
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int mw_memctl(char *out, char *err, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)mw_memctl_path();
	va_start(ap, err);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return mw_run(argv, out, MW_OUTSZ, err, MW_OUTSZ);
}

int mw_jq(const char *json, const char *filter, const char *var)
{
	char file[] = "/tmp/memwatch-jq.XXXXXX";
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	int fd = mkstemp(file), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, json, strlen(json)) == (ssize_t)strlen(json) ? 0 : -1;
	close(fd);
	if (!rc) {
		char *argv[] = { "jq", "-e", "--arg", "v",
				 (char *)(var ? var : ""), (char *)filter,
				 file, NULL };

		rc = mw_run(argv, out, sizeof(out), err, sizeof(err));
	}
	if (rc)
		fprintf(stderr, "# jq %s: %s%s", filter, out, err);
	unlink(file);
	return rc;
}

int mw_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

void *mw_alloc_on(size_t bytes, int node)
{
	unsigned long mask = 1UL << (node < 0 ? 0 : node);
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t off;

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_NOHUGEPAGE);
	if (node >= 0 && syscall(SYS_mbind, p, bytes, MPOL_BIND, &mask,
				 sizeof(mask) * 8, 0)) {
		munmap(p, bytes);
		return NULL;
	}
	for (off = 0; off < bytes; off += 4096)
		p[off] = 1;
	return p;
}

int mw_pin_to_node(int node)
{
	char path[64], list[256], *tok, *save = NULL;
	cpu_set_t set;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/cpulist", node);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(list, sizeof(list), f))
		list[0] = '\0';
	fclose(f);
	CPU_ZERO(&set);
	for (tok = strtok_r(list, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		int a, b, n = sscanf(tok, "%d-%d", &a, &b);

		if (n < 1)
			continue;
		if (n == 1)
			b = a;
		for (; a <= b; a++)
			CPU_SET(a, &set);
	}
	if (!CPU_COUNT(&set))
		return -ENOENT;
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int mw_sync_init(struct mw_sync *s)
{
	if (pipe(s->to_child))
		return -errno;
	if (pipe(s->to_parent)) {
		close(s->to_child[0]);
		close(s->to_child[1]);
		return -errno;
	}
	return 0;
}

bool mw_sync_child(struct mw_sync *s)
{
	char c = 1;

	/*
	 * Drop the child's copies of the parent's ends, so that a parent
	 * that dies (a failed assertion) is EOF here and EPIPE on the
	 * write: the child ends instead of holding its memory and the
	 * harness's output pipe for ever.
	 */
	if (s->to_child[1] >= 0) {
		close(s->to_child[1]);
		close(s->to_parent[0]);
		s->to_child[1] = s->to_parent[0] = -1;
	}
	if (write(s->to_parent[1], &c, 1) != 1)
		return false;
	return read(s->to_child[0], &c, 1) == 1;
}

bool mw_sync_wait(struct mw_sync *s)
{
	char c;

	return read(s->to_parent[0], &c, 1) == 1;
}

void mw_sync_go(struct mw_sync *s)
{
	char c = 1;

	if (write(s->to_child[1], &c, 1) != 1)
		return;
}

/* Kill the other live members of our process group: how many there were. */
static int mw_kill_group_once(void)
{
	pid_t self = getpid(), grp = getpgrp();
	struct dirent *d;
	int n = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		char path[64], buf[512], state, *rp;
		int pid = atoi(d->d_name), ppid, pgrp;
		ssize_t len;
		int fd;

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid pgrp ...": comm may hold spaces. */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
			continue;
		if (pgrp != grp || state == 'Z' || state == 'X')
			continue;
		kill(pid, SIGKILL);
		n++;
	}
	closedir(dir);
	return n;
}

uint64_t mw_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The state, wait channel and kernel stack of pid, for a hung test. */
static void mw_show_task(pid_t pid)
{
	char path[64], buf[4096], *rp;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (mw_read_line(path, buf, sizeof(buf)))
		return;
	rp = strrchr(buf, ')');
	fprintf(stderr, "# watchdog: %.*s state %c",
		rp ? (int)(rp - buf + 1) : 0, buf, rp && rp[1] ? rp[2] : '?');
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (!mw_read_line(path, buf, sizeof(buf)))
		fprintf(stderr, ", wchan %s", buf);
	fprintf(stderr, "\n");
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';
	for (rp = strtok(buf, "\n"); rp; rp = strtok(NULL, "\n"))
		fprintf(stderr, "# watchdog:   %s\n", rp);
}

void mw_node_meminfo_log(int node)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "MemFree") || strstr(line, "FilePages") ||
		    strstr(line, "Shmem:") || strstr(line, "AnonPages"))
			fprintf(stderr, "# %s", line);
	fclose(f);
}

pid_t mw_watchdog(unsigned int secs)
{
	pid_t parent = getpid(), pid = fork();
	char line[128];
	struct dirent *d;
	DIR *dir;
	int node;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	sleep(secs);
	fprintf(stderr, "# watchdog: still running after %u s\n", secs);
	if (!mw_read_line("/proc/loadavg", line, sizeof(line)))
		fprintf(stderr, "# watchdog: loadavg %s\n", line);
	dir = opendir("/proc");
	while (dir && (d = readdir(dir))) {
		pid_t p = atoi(d->d_name);

		if (p > 0 && p != getpid() && getpgid(p) == getpgrp())
			mw_show_task(p);
	}
	if (dir)
		closedir(dir);
	for (node = 0; node < MW_MAX_NODES; node++)
		mw_node_meminfo_log(node);
	_exit(0);
}

void mw_watchdog_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int mw_reap_group(void)
{
	int i, killed = 0;

	/* Killed, a process may take a moment to exit: until none is left. */
	for (i = 0; i < 100; i++) {
		int n = mw_kill_group_once();

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!i)
			killed = n;
		if (!n)
			break;
		usleep(50000);
	}
	return killed;
}

int mw_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = -errno;
	close(fd);
	return err;
}

uint64_t mw_cgroup_make(const char *name, const char *max)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return 0;
	if (max) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.max",
			 name);
		if (mw_write(path, max))
			return 0;
	}
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", name);
	return stat(path, &st) ? 0 : st.st_ino;
}

int mw_cgroup_remove(const char *name)
{
	char path[256];
	int i;

	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.kill", name);
	mw_write(path, "1");
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", name);
	/* The children first. */
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		char child[512];

		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", name, d->d_name);
		mw_cgroup_remove(child);
	}
	if (dir)
		closedir(dir);
	/* Killed tasks take a moment to leave. */
	for (i = 0; i < 50; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		usleep(20000);
	}
	return -errno;
}

int mw_cgroup_enter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", name);
	return mw_write(path, "0");
}

int mw_become_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");

	if (!pw)
		return -ENOENT;
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
		return -errno;
	return 0;
}
