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

const char *mw_big_file(size_t bytes)
{
	static const char *const candidates[] = {
		"/usr/src/linux-source-6.1.tar.xz",
		"/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1",
		NULL,
	};
	struct stat st;
	int i;

	for (i = 0; candidates[i]; i++)
		if (!stat(candidates[i], &st) && (size_t)st.st_size >= bytes)
			return candidates[i];
	return NULL;
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

int mw_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

bool mw_nla_put(char *buf, size_t size, size_t *len, uint16_t type,
		const void *data, size_t data_len)
{
	struct nlattr *a = (struct nlattr *)(buf + *len);
	size_t total = NLA_ALIGN(NLA_HDRLEN + data_len);

	if (*len + total > size || NLA_HDRLEN + data_len > 0xffff)
		return false;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + data_len;
	if (data_len)
		memcpy(buf + *len + NLA_HDRLEN, data, data_len);
	memset(buf + *len + NLA_HDRLEN + data_len, 0,
	       total - NLA_HDRLEN - data_len);
	*len += total;
	return true;
}

int mw_nla_nest_start(char *buf, size_t size, size_t *len, uint16_t type)
{
	int offset = *len;

	if (!mw_nla_put(buf, size, len, type | NLA_F_NESTED, NULL, 0))
		return -1;
	return offset;
}

void mw_nla_nest_end(char *buf, int offset, size_t len)
{
	((struct nlattr *)(buf + offset))->nla_len = len - offset;
}

int mw_nl_events_open(uint32_t group)
{
	int fd = mw_nl_open();

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group))) {
		close(fd);
		return -errno;
	}
	return fd;
}

int mw_nl_next(int fd, uint8_t cmd, int timeout_ms, char *buf)
{
	static char msg[MW_NL_BUFSZ];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *h = (struct nlmsghdr *)msg;
		struct genlmsghdr *g;
		int len;
		ssize_t n;

		n = poll(&p, 1, timeout_ms);
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		n = recv(fd, msg, sizeof(msg), 0);
		if (n < 0)
			return -errno;
		if (!NLMSG_OK(h, n) || h->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		g = NLMSG_DATA(h);
		if (g->cmd != cmd)
			continue;
		len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
		memcpy(buf, (char *)g + GENL_HDRLEN, len);
		return len;
	}
}

int mw_nl_next_of(int fd, uint64_t cgid, int timeout_ms, char *buf)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int len = mw_nl_next(fd, MEMWATCH_CMD_EVENT, left, buf);
		if (len > 0 &&
		    mw_nla_u64(buf, len, MEMWATCH_A_EVENT_CGROUP_ID) == cgid)
			return len;
		if (len == 0 || (len < 0 && len != -ENOBUFS))
			return len;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
	}
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

const struct nlattr *mw_nla_find(const void *buf, int len, int type)
{
	const struct nlattr *a;
	int rem;

	mw_nla_for_each(a, buf, len, rem) {
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	}
	return NULL;
}

static int mw_nl_send(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
		      const void *attrs, size_t attrs_len, mw_nl_each_fn each,
		      void *arg, struct mw_nl_reply *r);

/*
 * The error of an NLMSG_ERROR (struct nlmsgerr, the request capped) or of
 * an NLMSG_DONE (an int), and the extack TLVs that follow either.
 */
uint64_t mw_nla_u64(const void *buf, int len, int type)
{
	const struct nlattr *a = mw_nla_find(buf, len, type);
	uint64_t v = 0;

	if (a)
		memcpy(&v, mw_nla_data(a), sizeof(v));
	return v;
}

uint8_t mw_nla_u8(const void *buf, int len, int type)
{
	const struct nlattr *a = mw_nla_find(buf, len, type);

	return a ? *(const uint8_t *)mw_nla_data(a) : 0;
}

static void mw_nl_parse_error(const struct nlmsghdr *h, struct mw_nl_reply *r)
{
	size_t head = h->nlmsg_type == NLMSG_ERROR ? sizeof(struct nlmsgerr)
						    : sizeof(int);
	const struct nlattr *msg;
	int len;

	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
		return;
	memcpy(&r->error, NLMSG_DATA(h), sizeof(int));
	len = (int)h->nlmsg_len - NLMSG_HDRLEN - (int)head;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	msg = mw_nla_find((const char *)NLMSG_DATA(h) + head, len,
			  NLMSGERR_ATTR_MSG);
	if (msg)
		snprintf(r->extack, sizeof(r->extack), "%.*s",
			 mw_nla_len(msg), (const char *)mw_nla_data(msg));
}

int mw_nl_xfer(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
	       const void *attrs, size_t attrs_len, struct mw_nl_reply *r)
{
	return mw_nl_send(fd, family, cmd, flags, attrs, attrs_len, NULL, NULL,
			  r);
}

int mw_nl_dump(int fd, uint16_t family, uint8_t cmd, const void *attrs,
	       size_t attrs_len, mw_nl_each_fn each, void *arg,
	       struct mw_nl_reply *r)
{
	return mw_nl_send(fd, family, cmd, NLM_F_DUMP, attrs, attrs_len, each,
			  arg, r);
}

static int mw_nl_send(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
		      const void *attrs, size_t attrs_len, mw_nl_each_fn each,
		      void *arg, struct mw_nl_reply *r)
{
	static char buf[MW_NL_BUFSZ];
	static uint32_t seq = 1;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(h);
	size_t hlen = NLMSG_HDRLEN + GENL_HDRLEN;
	bool got = false, done = false;

	memset(r, 0, sizeof(*r));
	if (hlen + attrs_len > sizeof(buf))
		return r->error = -EMSGSIZE;
	memset(buf, 0, hlen);
	h->nlmsg_len = hlen + attrs_len;
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++seq;
	g->cmd = cmd;
	g->version = 1;
	memcpy(buf + hlen, attrs, attrs_len);
	if (send(fd, buf, h->nlmsg_len, 0) < 0)
		return r->error = -errno;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			return r->error = -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				r->intr = true;
			if (h->nlmsg_type == NLMSG_ERROR) {
				mw_nl_parse_error(h, r);
				done = true;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				mw_nl_parse_error(h, r);
				done = true;
			} else {
				const char *a = (char *)NLMSG_DATA(h) +
						GENL_HDRLEN;
				int alen = h->nlmsg_len - NLMSG_HDRLEN -
					   GENL_HDRLEN;

				if (each)
					each(a, alen, arg);
				if (!got) {
					got = true;
					r->len = alen;
					memcpy(r->attrs, a, alen);
				}
			}
		}
	}
	return r->error;
}

/* The family's id and version, and the id of its multicast group grp_name. */
static int mw_nl_getfamily(int fd, const char *name, const char *grp_name,
			   uint16_t *id, uint32_t *version, uint32_t *grp_id)
{
	static struct mw_nl_reply r;
	const struct nlattr *a, *grp;
	char attrs[64];
	size_t len = 0;
	int rem;

	if (!mw_nla_put(attrs, sizeof(attrs), &len, CTRL_ATTR_FAMILY_NAME,
			name, strlen(name) + 1))
		return -EINVAL;
	if (mw_nl_xfer(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, attrs, len, &r))
		return r.error;
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_FAMILY_ID);
	if (!a)
		return -EPROTO;
	*id = *(const uint16_t *)mw_nla_data(a);
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_VERSION);
	*version = a ? *(const uint32_t *)mw_nla_data(a) : 0;
	*grp_id = 0;
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_MCAST_GROUPS);
	if (!a)
		return 0;
	mw_nla_for_each(grp, mw_nla_data(a), mw_nla_len(a), rem) {
		const struct nlattr *gname, *gid;

		gname = mw_nla_find(mw_nla_data(grp), mw_nla_len(grp),
				    CTRL_ATTR_MCAST_GRP_NAME);
		gid = mw_nla_find(mw_nla_data(grp), mw_nla_len(grp),
				  CTRL_ATTR_MCAST_GRP_ID);
		if (gname && gid && !strcmp(mw_nla_data(gname), grp_name))
			*grp_id = *(const uint32_t *)mw_nla_data(gid);
	}
	return 0;
}

int mw_nl_family(int fd, const char *name, uint16_t *id, uint32_t *version,
		 uint32_t *events_grp)
{
	return mw_nl_getfamily(fd, name, "events", id, version, events_grp);
}

int mw_nl_open_family(uint16_t *id, uint32_t *grp)
{
	uint32_t version, events;
	int fd = mw_nl_open(), err;

	if (fd < 0)
		return fd;
	err = mw_nl_family(fd, MEMWATCH_GENL_NAME, id, &version,
			   grp ? grp : &events);
	if (err) {
		close(fd);
		return err < 0 ? err : -EIO;
	}
	return fd;
}

int mw_nl_group(int fd, const char *name, const char *group, uint32_t *id)
{
	uint32_t version;
	uint16_t family;
	int err = mw_nl_getfamily(fd, name, group, &family, &version, id);

	if (!err && !*id)
		err = -ENOENT;
	return err;
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

static void mw_proc_collect(const void *buf, int len, void *arg)
{
	struct mw_procs *ps = arg;
	const struct nlattr *a, *n;
	struct mw_proc *r;
	int rem;

	if (ps->total++ >= MW_MAX_PROCS)
		return;
	r = &ps->v[ps->n++];
	memset(r, 0, sizeof(*r));
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_PID);
	if (a)
		r->pid = *(const uint32_t *)mw_nla_data(a);
	r->state = mw_nla_u8(buf, len, MEMWATCH_A_PROC_STATE);
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_COMM);
	if (a)
		snprintf(r->comm, sizeof(r->comm), "%s",
			 (const char *)mw_nla_data(a));
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_CGROUP_PATH);
	if (a)
		snprintf(r->cgroup, sizeof(r->cgroup), "%s",
			 (const char *)mw_nla_data(a));
	r->cgroup_id = mw_nla_u64(buf, len, MEMWATCH_A_PROC_CGROUP_ID);
	r->live = mw_nla_u64(buf, len, MEMWATCH_A_PROC_LIVE_BYTES);
	r->local = mw_nla_u64(buf, len, MEMWATCH_A_PROC_LOCAL_BYTES);
	r->remote = mw_nla_u64(buf, len, MEMWATCH_A_PROC_REMOTE_BYTES);
	r->allocated = mw_nla_u64(buf, len, MEMWATCH_A_PROC_ALLOCATED_BYTES);
	r->released = mw_nla_u64(buf, len, MEMWATCH_A_PROC_RELEASED_BYTES);
	r->rate = mw_nla_u64(buf, len, MEMWATCH_A_PROC_RATE);
	r->anon = mw_nla_u64(buf, len, MEMWATCH_A_PROC_ANON_BYTES);
	r->file = mw_nla_u64(buf, len, MEMWATCH_A_PROC_FILE_BYTES);
	r->swap = mw_nla_u64(buf, len, MEMWATCH_A_PROC_SWAP_BYTES);
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_NODES);
	if (!a)
		return;
	mw_nla_for_each(n, mw_nla_data(a), mw_nla_len(a), rem) {
		const struct nlattr *id = mw_nla_find(mw_nla_data(n),
						      mw_nla_len(n),
						      MEMWATCH_A_NODE_ID);
		uint32_t nid = id ? *(const uint32_t *)mw_nla_data(id) : 0;

		if (nid < MW_MAX_NODES)
			r->node[nid] = mw_nla_u64(mw_nla_data(n), mw_nla_len(n),
						  MEMWATCH_A_NODE_LIVE_BYTES);
	}
}

int mw_proc_dump(int fd, uint16_t family, const void *attrs, size_t len,
		 struct mw_procs *procs, struct mw_nl_reply *r)
{
	procs->n = 0;
	procs->total = 0;
	return mw_nl_dump(fd, family, MEMWATCH_CMD_PROC_GET, attrs, len,
			  mw_proc_collect, procs, r);
}

const struct mw_proc *mw_proc_find(const struct mw_procs *procs, uint32_t pid)
{
	int i;

	for (i = 0; i < procs->n; i++)
		if (procs->v[i].pid == pid)
			return &procs->v[i];
	return NULL;
}

int mw_status_table(int fd, uint16_t family, const char *name,
		    struct mw_table *t, struct mw_nl_reply *r)
{
	const struct nlattr *tables, *a;
	int rem;

	if (mw_nl_xfer(fd, family, MEMWATCH_CMD_STATUS, 0, NULL, 0, r))
		return r->error;
	tables = mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_TABLES);
	if (!tables)
		return -EPROTO;
	mw_nla_for_each(a, mw_nla_data(tables), mw_nla_len(tables), rem) {
		const struct nlattr *n = mw_nla_find(mw_nla_data(a),
						     mw_nla_len(a),
						     MEMWATCH_A_TABLE_NAME);

		if (!n || strcmp(mw_nla_data(n), name))
			continue;
		t->entries = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					MEMWATCH_A_TABLE_ENTRIES);
		t->capacity = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					 MEMWATCH_A_TABLE_CAPACITY);
		t->overflows = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					  MEMWATCH_A_TABLE_OVERFLOWS);
		return 0;
	}
	return -ENOENT;
}

void mw_cache_mapped_files(void)
{
	char line[512], last[512] = "", buf[65536];
	FILE *maps = fopen("/proc/self/maps", "r");
	int fd;

	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');

		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		if (!strcmp(path, last))
			continue;
		snprintf(last, sizeof(last), "%s", path);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	fclose(maps);
}

long long mw_vmstat(const char *name)
{
	char line[128];
	size_t n = strlen(name);
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = atoll(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

void mw_put_wmarks(char *attrs, size_t size, size_t *len, int n,
		   const int (*lp)[2])
{
	int nest = mw_nla_nest_start(attrs, size, len, MEMWATCH_A_POLICY_WMARKS);
	int i;

	for (i = 0; i < n; i++) {
		uint8_t level = lp[i][0];
		uint32_t pct = lp[i][1];
		int w = mw_nla_nest_start(attrs, size, len,
					  MEMWATCH_A_POLICY_WMARK);

		mw_nla_put(attrs, size, len, MEMWATCH_A_WMARK_LEVEL, &level,
			   sizeof(level));
		mw_nla_put(attrs, size, len, MEMWATCH_A_WMARK_PERCENT, &pct,
			   sizeof(pct));
		mw_nla_nest_end(attrs, w, *len);
	}
	mw_nla_nest_end(attrs, nest, *len);
}

int mw_policy_set(int fd, uint16_t family, uint64_t cgid, int n,
		  const int (*lp)[2], struct mw_nl_reply *r)
{
	char attrs[512];
	size_t len = 0;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &cgid, sizeof(cgid));
	mw_put_wmarks(attrs, sizeof(attrs), &len, n, lp);
	return mw_nl_xfer(fd, family, MEMWATCH_CMD_POLICY_SET, 0, attrs, len, r);
}

int mw_policy_notify_at(int fd, uint16_t family, uint64_t cgid, uint32_t pct,
			struct mw_nl_reply *r)
{
	const int lp[1][2] = { { MEMWATCH_LEVEL_NOTIFY, (int)pct } };

	return mw_policy_set(fd, family, cgid, 1, lp, r);
}

int mw_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	buf[0] = 0;
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return err;
}

/*
 * Every knob changed through mw_knob_set(), with the value it had. A
 * kselftest test runs in a process of its own: static is per test.
 */
#define MW_MAX_KNOBS 32
static struct mw_knob {
	char path[128];
	char old[64];
} mw_knobs[MW_MAX_KNOBS];
static int mw_nknobs;

/*
 * A knob's value as it can be written back: "always [madvise] never" is
 * "madvise".
 */
static int mw_knob_value(const char *path, char *buf, size_t len)
{
	char line[64], *open, *close;
	int err = mw_read_line(path, line, sizeof(line));

	if (err)
		return err;
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close) {
		*close = 0;
		snprintf(buf, len, "%s", open + 1);
	} else {
		snprintf(buf, len, "%s", line);
	}
	return 0;
}

int mw_knob_set(const char *path, const char *val)
{
	int i;

	for (i = 0; i < mw_nknobs; i++)
		if (!strcmp(mw_knobs[i].path, path))
			break;
	if (i == mw_nknobs) {
		int err;

		if (mw_nknobs == MW_MAX_KNOBS)
			return -ENOSPC;
		err = mw_knob_value(path, mw_knobs[i].old,
				    sizeof(mw_knobs[i].old));
		if (err)
			return err;
		snprintf(mw_knobs[i].path, sizeof(mw_knobs[i].path), "%s",
			 path);
		mw_nknobs++;
	}
	return mw_write(path, val);
}

void mw_knobs_restore(void)
{
	char now[64];

	while (mw_nknobs > 0) {
		const struct mw_knob *k = &mw_knobs[--mw_nknobs];

		if (!mw_knob_value(k->path, now, sizeof(now)) &&
		    !strcmp(now, k->old))
			continue;
		if (mw_write(k->path, k->old))
			fprintf(stderr, "# teardown: cannot put %s back to %s\n",
				k->path, k->old);
	}
}

int mw_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

const char *mw_kmsg_splat(int fd, char *line, size_t len)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "general protection", "KASAN:",
		"kernel BUG at", "divide error", "invalid opcode",
		"scheduling while atomic", "possible circular locking",
		"possible recursive locking", "inconsistent lock state",
		"suspicious RCU usage", "ODEBUG:", NULL,
	};
	static char rec[8192];	/* a record, as /dev/kmsg gives it whole */
	const char *found = NULL;
	int i;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		for (i = 0; msg && bad[i] && !found; i++) {
			if (strstr(msg, bad[i])) {
				msg[strcspn(msg, "\n")] = 0;
				snprintf(line, len, "%s", msg + 1);
				found = line;
			}
		}
	}
	return found;
}

static const char mw_fail_page[] = "/sys/kernel/debug/fail_page_alloc";
static const char mw_fail_slab[] = "/sys/kernel/debug/failslab";
#define MW_FAULTS_TIMES 1000000000L

static int mw_fault_set(const char *dir, const char *knob, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, knob);
	return mw_knob_set(path, val);
}

int mw_faults_on(int page_pct, int slab_pct)
{
	char page[16], slab[16], times[24];
	/* probability last: mw_knobs_restore() puts it back first. */
	const char *const set[][3] = {
		{ mw_fail_page, "verbose", "0" },
		{ mw_fail_page, "ignore-gfp-wait", "N" },
		{ mw_fail_page, "ignore-gfp-highmem", "N" },
		{ mw_fail_page, "min-order", "0" },
		{ mw_fail_page, "task-filter", "Y" },
		{ mw_fail_page, "interval", "1" },
		{ mw_fail_page, "times", times },
		{ mw_fail_slab, "verbose", "0" },
		{ mw_fail_slab, "ignore-gfp-wait", "N" },
		{ mw_fail_slab, "task-filter", "Y" },
		{ mw_fail_slab, "interval", "1" },
		{ mw_fail_slab, "times", times },
		{ mw_fail_page, "probability", page },
		{ mw_fail_slab, "probability", slab },
	};
	size_t i;

	if (access(mw_fail_page, F_OK) || access(mw_fail_slab, F_OK))
		return -ENOENT;
	snprintf(page, sizeof(page), "%d", page_pct);
	snprintf(slab, sizeof(slab), "%d", slab_pct);
	snprintf(times, sizeof(times), "%ld", MW_FAULTS_TIMES);
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		int err = mw_fault_set(set[i][0], set[i][1], set[i][2]);

		if (err)
			return err;
	}
	return 0;
}

long mw_faults_injected(bool slab)
{
	char path[128], line[32];

	snprintf(path, sizeof(path), "%s/times",
		 slab ? mw_fail_slab : mw_fail_page);
	if (mw_read_line(path, line, sizeof(line)))
		return -1;
	return MW_FAULTS_TIMES - strtol(line, NULL, 10);
}

int mw_proc_record(int fd, uint16_t family, uint32_t pid, struct mw_proc *out,
		   struct mw_procs *scratch, struct mw_nl_reply *r)
{
	char attrs[16];
	size_t len = 0;
	int err;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_PROC_PID, &pid,
		   sizeof(pid));
	err = mw_proc_dump(fd, family, attrs, len, scratch, r);
	if (err)
		return err;
	if (!scratch->n) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	*out = scratch->v[0];
	return 1;
}

int mw_drain_lru(void)
{
	int node = 0;

	/*
	 * move_pages() with somewhere to move to begins with
	 * lru_cache_disable(), which drains every CPU's batch, even for no
	 * page. (compact_memory drains too, but then compacts all memory:
	 * minutes on the debug kernel under emulation.)
	 */
	return syscall(SYS_move_pages, 0, 0UL, NULL, &node, NULL, 0) ? -errno :
								      0;
}

bool mw_status_answers(int fd, uint16_t family, struct mw_nl_reply *r)
{
	return !mw_nl_xfer(fd, family, MEMWATCH_CMD_STATUS, 0, NULL, 0, r) &&
	       mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_VERSION);
}

/* Whether pid has a NETLINK_GENERIC socket in group id (1 to 32). */
static bool mw_in_group(pid_t pid, uint32_t id)
{
	FILE *f = fopen("/proc/net/netlink", "r");
	unsigned int proto, portid, groups;
	char line[256];
	bool in = false;

	if (!f)
		return false;
	while (!in && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %u %u %x", &proto, &portid, &groups) != 3)
			continue;
		/* libnl's port is the pid in its low 22 bits. */
		in = proto == NETLINK_GENERIC &&
		     (portid & 0x3fffff) == (unsigned int)pid &&
		     (groups & (1U << (id - 1)));
	}
	fclose(f);
	return in;
}

int mw_wait_subscribed(pid_t pid, int timeout_ms)
{
	uint32_t ids[2] = { 0, 0 };
	int fd = mw_nl_open(), i, waited;

	if (fd < 0)
		return fd;
	mw_nl_group(fd, MEMWATCH_GENL_NAME, MEMWATCH_MCGRP_EVENTS, &ids[0]);
	mw_nl_group(fd, MEMWATCH_GENL_NAME, MEMWATCH_MCGRP_PUBLIC, &ids[1]);
	close(fd);
	for (i = 0; i < 2; i++) {
		if (!ids[i] || ids[i] > 32) {	/* not shown: wait */
			usleep(2000000);
			return 0;
		}
	}
	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (mw_in_group(pid, ids[0]) || mw_in_group(pid, ids[1]))
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}
