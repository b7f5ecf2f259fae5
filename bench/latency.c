// SPDX-License-Identifier: GPL-2.0
/*
 * latency: how soon each way of watching a cgroup hears that its usage
 * crossed a level. A child in cgroup NAME (memory.max 256M) holds 52M and
 * N times touches 12.5M more (usage 64.5M, over the level at 64M) and
 * unmaps it (52M, under the level by more than memwatch's margin). 0.5M
 * over memory.high is under 1%: the kernel does not throttle for that. Three
 * watchers run side by side:
 *
 *   memctl   `memctl watch --json`: a memwatch notify event at 64M; the
 *            delay is memctl's receipt (recv_ns) minus the kernel's
 *            detection (ts_ns)
 *   events   poll(POLLPRI) on memory.events, with memory.high at 64M, so
 *            each crossing raises the "high" counter
 *   psi      a PSI trigger on memory.pressure: "some 1000 500000" (1 ms of
 *            stall in a 500 ms window, the smallest window the kernel takes)
 *
 * Each memwatch up event's detection time is the crossing's time; the
 * events and psi delays are their first report in [crossing - 2 ms, next
 * crossing). Prints one TSV line per crossing (crossing, ts_ns, the three
 * delays in us or "-") and, on stderr, a summary.
 *
 * Usage: latency NAME N MEMCTL
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"

#define MIB (1024UL * 1024)
#define EXTRA (12 * MIB + MIB / 2)
#define MAXT 200000

struct times {
	uint64_t *t;
	size_t n;
	pthread_mutex_t lock;
};

static struct times ev_times, psi_times;
static uint64_t *up_ts, *up_recv;
static size_t n_up;
static volatile bool stop;
static char cg[256];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void put(const char *file, const char *val)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		fprintf(stderr, "latency: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static void add(struct times *t, uint64_t v)
{
	pthread_mutex_lock(&t->lock);
	if (t->n < MAXT)
		t->t[t->n++] = v;
	pthread_mutex_unlock(&t->lock);
}

/* POLLPRI on a cgroup file: memory.events, or a PSI trigger. */
static void *watch_fd(void *arg)
{
	struct times *t = arg;
	char path[512], buf[4096];
	struct pollfd p;
	int fd;

	if (t == &ev_times) {
		snprintf(path, sizeof(path), "%s/memory.events", cg);
		fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
			return NULL;
		p = (struct pollfd){ .fd = fd, .events = POLLPRI };
	} else {
		static const char trig[] = "some 1000 500000";

		snprintf(path, sizeof(path), "%s/memory.pressure", cg);
		fd = open(path, O_RDWR | O_NONBLOCK);
		if (fd < 0 || write(fd, trig, strlen(trig) + 1) < 0) {
			fprintf(stderr, "latency: PSI trigger: %s\n",
				strerror(errno));
			return NULL;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLPRI };
	}
	while (!stop) {
		int n = poll(&p, 1, 100);

		if (n <= 0)
			continue;
		/* kernfs flags a change with POLLPRI | POLLERR; for a PSI
		 * trigger POLLERR alone means it is gone. */
		if (t == &psi_times && (p.revents & POLLERR))
			break;
		add(t, now_ns());
		if (t == &ev_times && pread(fd, buf, sizeof(buf), 0) < 0)
			break;
	}
	close(fd);
	return NULL;
}

/* memctl watch --json: keep the up events' detection and receipt. */
static void *watch_memctl(void *arg)
{
	FILE *f = arg;
	char line[8192];

	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "\"direction\":\"up\"") ||
		    !strstr(line, "\"level\":\"notify\"") || n_up >= MAXT)
			continue;
		up_ts[n_up] = jsonl_u64(line, "\"ts_ns\":");
		up_recv[n_up] = jsonl_u64(line, "\"recv_ns\":");
		n_up++;
	}
	return NULL;
}

static void child(int n)
{
	char *base;
	size_t i;
	int k;

	put("cgroup.procs", "0");
	base = mmap(NULL, 52 * MIB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(base, 52 * MIB, MADV_NOHUGEPAGE);
	for (i = 0; i < 52 * MIB; i += 4096)
		base[i] = 1;
	usleep(300000);
	for (k = 0; k < n; k++) {
		char *p = mmap(NULL, EXTRA, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(p, EXTRA, MADV_NOHUGEPAGE);
		for (i = 0; i < EXTRA; i += 4096)
			p[i] = 1;
		usleep(5000);
		munmap(p, EXTRA);
		usleep(5000);
	}
	_exit(0);
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void summary(const char *name, int64_t *d, size_t n, size_t of)
{
	if (!n) {
		fprintf(stderr, "%s\t0\t%zu\t-\t-\t-\n", name, of);
		return;
	}
	qsort(d, n, sizeof(*d), cmp);
	fprintf(stderr, "%s\t%zu\t%zu\t%lld\t%lld\t%lld\n", name, n, of,
		(long long)d[n / 2], (long long)d[(n * 99) / 100],
		(long long)d[n - 1]);
}

/* The first report in [ts - 2 ms, next): its delay in us, or INT64_MIN. */
static int64_t first_after(struct times *t, uint64_t ts, uint64_t next)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->t[i] + 2000000 >= ts && t->t[i] < next)
			return ((int64_t)t->t[i] - (int64_t)ts) / 1000;
	return INT64_MIN;
}

int main(int argc, char **argv)
{
	pthread_t te, tp, tm;
	int n, pfd[2], status;
	int64_t *dm, *de, *dp;
	size_t nm = 0, ne = 0, np = 0, i;
	pid_t watcher, kid;
	char cmd[512];
	FILE *wf;

	if (argc != 4) {
		fprintf(stderr, "Usage: latency NAME N MEMCTL\n");
		return 2;
	}
	n = atoi(argv[2]);
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/%s", argv[1]);
	if (mkdir(cg, 0755) && errno != EEXIST)
		return 1;
	put("memory.max", "256M");
	put("memory.high", "64M");
	snprintf(cmd, sizeof(cmd), "%s policy set /%s --notify 64M", argv[3],
		 argv[1]);
	if (system(cmd))
		return 1;
	ev_times.t = calloc(MAXT, sizeof(uint64_t));
	psi_times.t = calloc(MAXT, sizeof(uint64_t));
	up_ts = calloc(MAXT, sizeof(uint64_t));
	up_recv = calloc(MAXT, sizeof(uint64_t));
	pthread_mutex_init(&ev_times.lock, NULL);
	pthread_mutex_init(&psi_times.lock, NULL);

	if (pipe(pfd))
		return 1;
	watcher = fork();
	if (!watcher) {
		snprintf(cmd, sizeof(cmd), "/%s", argv[1]);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(argv[3], "memctl", "watch", "--json", "--cgroup", cmd,
		      NULL);
		_exit(127);
	}
	close(pfd[1]);
	wf = fdopen(pfd[0], "r");
	pthread_create(&tm, NULL, watch_memctl, wf);
	pthread_create(&te, NULL, watch_fd, &ev_times);
	pthread_create(&tp, NULL, watch_fd, &psi_times);
	usleep(500000);

	kid = fork();
	if (!kid)
		child(n);
	waitpid(kid, &status, 0);
	usleep(1000000);
	stop = true;
	kill(watcher, SIGTERM);
	waitpid(watcher, NULL, 0);
	pthread_join(tm, NULL);
	pthread_join(te, NULL);
	pthread_join(tp, NULL);

	dm = calloc(n_up + 1, sizeof(*dm));
	de = calloc(n_up + 1, sizeof(*de));
	dp = calloc(n_up + 1, sizeof(*dp));
	printf("crossing\tts_ns\tmemctl_us\tevents_us\tpsi_us\n");
	for (i = 0; i < n_up; i++) {
		uint64_t next = i + 1 < n_up ? up_ts[i + 1] : UINT64_MAX;
		int64_t m = ((int64_t)up_recv[i] - (int64_t)up_ts[i]) / 1000;
		int64_t e = first_after(&ev_times, up_ts[i], next);
		int64_t p = first_after(&psi_times, up_ts[i], next);

		dm[nm++] = m;
		if (e != INT64_MIN)
			de[ne++] = e;
		if (p != INT64_MIN)
			dp[np++] = p;
		printf("%zu\t%llu\t%lld\t", i + 1, (unsigned long long)up_ts[i],
		       (long long)m);
		if (e != INT64_MIN)
			printf("%lld\t", (long long)e);
		else
			printf("-\t");
		if (p != INT64_MIN)
			printf("%lld\n", (long long)p);
		else
			printf("-\n");
	}
	fprintf(stderr, "watcher\treported\tcrossings\tp50_us\tp99_us\tmax_us\n");
	summary("memctl", dm, nm, n_up);
	summary("memory.events", de, ne, n_up);
	summary("psi", dp, np, n_up);
	snprintf(cmd, sizeof(cmd), "%s policy clear /%s", argv[3], argv[1]);
	if (system(cmd))
		return 1;
	rmdir(cg);
	return n_up >= (size_t)n ? 0 : 1;
}
