// SPDX-License-Identifier: GPL-2.0
/*
 * stages: what each stage of a memwatch event costs, crossing after
 * crossing, with NPROCS processes on the host and BUSY CPUs spinning.
 *
 * A child touches memory over a notify level and frees it, N times, so
 * each round is one crossing up and one down. KIND picks the policy:
 *
 *   cgroup  /bench-stg (memory.max 256M): the child holds 52M and touches
 *           12.5M more over a level at 64M (as bench/latency)
 *   root    /: a level 112M over the host's usage (MemTotal -
 *           MemAvailable) as it is after one round; the child touches
 *           240M
 *   node    node 0: a level 80M over its usage (the node's memory less
 *           free pages over the low watermarks and half its page cache)
 *           after one round; the child touches 160M bound to node 0
 *
 * The root and the node take a round first, and touch and set their
 * levels that far: pages freed go to the CPUs' free lists first, which
 * MemFree does not count (48M of them on one CPU of the 2-CPU guest),
 * and the next round takes those back first; usage must fall under a
 * level by 2% of the limit to cross down.
 *
 * The other NPROCS - 1 processes sit in /bench-stg-idle, each having
 * touched a page of its own (so each has a slot in memwatch's process
 * table), and sleep. BUSY processes spin in the bench's own cgroup.
 * `memctl daemon` runs with the level in its configuration, and
 * `memctl watch --json` listens beside it.
 *
 * Prints a TSV line per event the watcher received: kind, nprocs, busy,
 * direction, and CLOCK_MONOTONIC at each stage: detected (ts_ns, in the
 * charge or the worker's tick), the module's event work took it
 * (work_ns), its message built (built_ns), memctl watch received it
 * (recv_ns), and memctl daemon logged its notify action for it (act_ns;
 * 0 if none came before the next event). In a guest whose clock counts
 * instructions (scripts/vm-run --icount) every difference is a count of
 * instructions.
 *
 * Usage: stages cgroup|root|node NPROCS BUSY N MEMCTL (N: at most 20 for
 * root and node)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"

#define MIB (1024UL * 1024)
#define MAXE 100000
#define MPOL_BIND_ 2	/* <numaif.h>'s MPOL_BIND, without libnuma */

static const char cg[] = "/sys/fs/cgroup/bench-stg";
static const char idle_cg[] = "/sys/fs/cgroup/bench-stg-idle";

struct ev {
	bool up;
	uint64_t ts, work, built, recv;
};

static struct ev *evs;
static size_t nev;

static void die(const char *what)
{
	fprintf(stderr, "stages: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

/* A "Key: N kB" line of a meminfo file, in bytes. */
static uint64_t meminfo(const char *file, const char *key)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		die(file);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p && p[strlen(key)] == ':') {
			v = strtoull(p + strlen(key) + 1, NULL, 10) * 1024;
			break;
		}
	}
	fclose(f);
	return v;
}

/* The low watermarks of node nid's zones, in bytes (/proc/zoneinfo). */
static uint64_t node_low(int nid)
{
	char line[256];
	uint64_t low = 0;
	bool in = false;
	FILE *f = fopen("/proc/zoneinfo", "r");
	int n;

	if (!f)
		die("/proc/zoneinfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1)
			in = n == nid;
		else if (in && !strncmp(line, "        low ", 12))
			low += strtoull(line + 12, NULL, 10) * 4096;
	}
	fclose(f);
	return low;
}

/* As memwatch measures the host's usage and node 0's (wmark.c, node.c). */
static uint64_t usage(const char *kind)
{
	const char *nf = "/sys/devices/system/node/node0/meminfo";
	uint64_t total, free, low, file, avail;

	if (!strcmp(kind, "root"))
		return meminfo("/proc/meminfo", "MemTotal") -
		       meminfo("/proc/meminfo", "MemAvailable");
	total = meminfo(nf, "MemTotal");
	free = meminfo(nf, "MemFree");
	low = node_low(0);
	file = meminfo(nf, "Active(file)") + meminfo(nf, "Inactive(file)");
	avail = (free > low ? free - low : 0) + file / 2;
	return avail < total ? total - avail : 0;
}

static char *touch(size_t bytes, bool node0)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long mask = 1;
	size_t i;

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, bytes, MADV_NOHUGEPAGE);
	if (node0 && syscall(SYS_mbind, p, bytes, MPOL_BIND_, &mask,
			     sizeof(mask) * 8, 0))
		die("mbind");
	for (i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return p;
}

/* NPROCS - 1 sleepers with a page each, in their own process group. */
static pid_t spawn_idle(int n)
{
	int pfd[2], i;
	char c = 0;
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid)  {
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			die("the idle processes");
		close(pfd[0]);
		return pid;
	}
	setpgid(0, 0);
	put(idle_cg, "cgroup.procs", "0");
	for (i = 0; i < n; i++) {
		pid_t k = fork();

		if (k < 0)
			die("fork");
		if (!k) {
			char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED)
				p[0] = 1;
			for (;;)
				pause();
		}
	}
	if (write(pfd[1], &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* memctl watch --json: every notify event (the only level set). */
static void *watch(void *arg)
{
	FILE *f = arg;
	char line[8192];

	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "\"level\":\"notify\"") || nev >= MAXE)
			continue;
		evs[nev] = (struct ev){
			.up = strstr(line, "\"direction\":\"up\"") != NULL,
			.ts = jsonl_u64(line, "\"ts_ns\":"),
			.work = jsonl_u64(line, "\"work_ns\":"),
			.built = jsonl_u64(line, "\"built_ns\":"),
			.recv = jsonl_u64(line, "\"recv_ns\":"),
		};
		nev++;
	}
	return NULL;
}

static pid_t run(char *const argv[], int out)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		if (out >= 0)
			dup2(out, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The daemon's notify actions' times, in the order it logged them. */
static size_t actions(const char *log, uint64_t *ts, size_t max)
{
	char line[8192];
	size_t n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f))
		if (strstr(line, "\"action\":\"notify\""))
			ts[n++] = jsonl_u64(line, "\"ts_ns\":");
	fclose(f);
	return n;
}

/* The daemon's configuration: a notify level (0: one nothing reaches). */
static void write_conf(const char *path, const char *kind, uint64_t level)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(path);
	if (!strcmp(kind, "cgroup"))
		fprintf(f, "[cgroup /bench-stg]\n");
	else
		fprintf(f, "[%s]\n", !strcmp(kind, "root") ? "cgroup /" : "node 0");
	if (level)
		fprintf(f, "notify = %" PRIu64 "M\n", level / MIB);
	else
		fprintf(f, "notify = 99%%\n");
	fclose(f);
}

int main(int argc, char **argv)
{
	char conf[] = "/tmp/stages-conf-XXXXXX", log[64];
	char *memctl, *kind, *wargv[4], *dargv[7], cmd[512];
	int nprocs, busy, n, pfd[2], i, status, fd;
	pid_t idle = 0, daemon, watcher, kid, *spin;
	size_t hold = 0, extra, nact, k, a;
	uint64_t *act;
	pthread_t tw;

	if (argc != 6) {
		fprintf(stderr, "Usage: stages cgroup|root|node NPROCS BUSY N MEMCTL\n");
		return 2;
	}
	kind = argv[1];
	nprocs = atoi(argv[2]);
	busy = atoi(argv[3]);
	n = atoi(argv[4]);
	memctl = argv[5];
	if ((strcmp(kind, "cgroup") && strcmp(kind, "root") &&
	     strcmp(kind, "node")) || nprocs < 1 || busy < 0 || n < 1) {
		fprintf(stderr, "stages: bad arguments\n");
		return 2;
	}
	/*
	 * The root's and the node's rounds touch 240M and 160M: under
	 * emulation 20 of them take minutes already.
	 */
	if (strcmp(kind, "cgroup") && n > 20)
		n = 20;
	evs = calloc(MAXE, sizeof(*evs));
	act = calloc(MAXE, sizeof(*act));
	spin = calloc(busy + 1, sizeof(*spin));
	if (!evs || !act || !spin)
		die("calloc");
	if ((mkdir(cg, 0755) && errno != EEXIST) ||
	    (mkdir(idle_cg, 0755) && errno != EEXIST))
		die("mkdir");
	put(cg, "memory.max", !strcmp(kind, "cgroup") ? "256M" : "max");
	if (nprocs > 1)
		idle = spawn_idle(nprocs - 1);
	for (i = 0; i < busy; i++) {
		spin[i] = fork();
		if (!spin[i])
			for (;;)
				;
	}
	sleep(2);	/* the sleepers' pages charged, the host settled */

	/*
	 * The daemon and the watcher first (the daemon's own memory moves the
	 * host's usage: tens of MiB with mlockall), at a level nothing
	 * reaches; then the level over the usage as it is with them, by a
	 * reload (SIGHUP sets the policies again).
	 */
	fd = mkstemp(conf);
	if (fd < 0)
		die("mkstemp");
	close(fd);
	if (!strcmp(kind, "cgroup")) {
		hold = 52 * MIB;
		extra = 12 * MIB + MIB / 2;
	} else {
		extra = (!strcmp(kind, "root") ? 240 : 160) * MIB;
	}
	write_conf(conf, kind, !strcmp(kind, "cgroup") ? 64 * MIB : 0);
	snprintf(log, sizeof(log), "%s.log", conf);
	unlink(log);
	dargv[0] = memctl;
	dargv[1] = "daemon";
	dargv[2] = "--config";
	dargv[3] = conf;
	dargv[4] = "--log-json";
	dargv[5] = log;
	dargv[6] = NULL;
	daemon = run(dargv, open("/dev/null", O_WRONLY));
	if (pipe(pfd))
		die("pipe");
	wargv[0] = memctl;
	wargv[1] = "watch";
	wargv[2] = "--json";
	wargv[3] = NULL;
	watcher = run(wargv, pfd[1]);
	close(pfd[1]);
	pthread_create(&tw, NULL, watch, fdopen(pfd[0], "r"));
	sleep(3);	/* the daemon up, both listening */
	if (strcmp(kind, "cgroup")) {
		/*
		 * A round first, unmeasured: pages freed wait in the CPUs'
		 * free lists, which MemFree does not count, and the next
		 * round takes them back first. With those lists full, usage
		 * moves by what a round takes beyond them.
		 */
		munmap(touch(extra, !strcmp(kind, "node")), extra);
		usleep(200000);
		write_conf(conf, kind, usage(kind) +
			   (!strcmp(kind, "root") ? 112 : 80) * MIB);
		kill(daemon, SIGHUP);
		sleep(2);
	}

	kid = fork();
	if (!kid) {
		char *base = NULL;

		put(cg, "cgroup.procs", "0");
		if (hold)
			base = touch(hold, false);
		usleep(300000);
		for (i = 0; i < n; i++) {
			char *p = touch(extra, !strcmp(kind, "node"));

			usleep(20000);
			munmap(p, extra);
			usleep(20000);
		}
		if (base)
			munmap(base, hold);
		_exit(0);
	}
	waitpid(kid, &status, 0);
	sleep(2);	/* the last down crossing: the worker's tick */
	stop(watcher);
	stop(daemon);
	pthread_join(tw, NULL);
	for (i = 0; i < busy; i++) {
		kill(spin[i], SIGKILL);
		waitpid(spin[i], NULL, 0);
	}
	if (idle) {
		kill(-idle, SIGKILL);
		waitpid(idle, NULL, 0);
	}

	/* Each event's action: the first logged in [ts, the next's ts). */
	nact = actions(log, act, MAXE);
	printf("kind\tnprocs\tbusy\tdirection\tts_ns\twork_ns\tbuilt_ns\trecv_ns\tact_ns\n");
	for (k = 0, a = 0; k < nev; k++) {
		uint64_t next = k + 1 < nev ? evs[k + 1].ts : UINT64_MAX;
		uint64_t t = 0;

		while (a < nact && act[a] < evs[k].ts)
			a++;
		if (a < nact && act[a] < next)
			t = act[a++];
		printf("%s\t%d\t%d\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		       "\t%" PRIu64 "\t%" PRIu64 "\n", kind, nprocs, busy,
		       evs[k].up ? "up" : "down", evs[k].ts, evs[k].work,
		       evs[k].built, evs[k].recv, t);
	}
	if (!strcmp(kind, "node"))
		snprintf(cmd, sizeof(cmd), "%s policy clear --node 0", memctl);
	else
		snprintf(cmd, sizeof(cmd), "%s policy clear %s", memctl,
			 !strcmp(kind, "root") ? "/" : "/bench-stg");
	if (system(cmd))
		fprintf(stderr, "stages: %s failed\n", cmd);
	unlink(conf);
	unlink(log);
	rmdir(cg);
	rmdir(idle_cg);
	fprintf(stderr, "stages: %s, %d processes, %d busy: %zu events of %d crossings, %zu daemon actions\n",
		kind, nprocs, busy, nev, 2 * n, nact);
	return nev >= (size_t)n ? 0 : 1;
}
