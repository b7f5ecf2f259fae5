// SPDX-License-Identifier: GPL-2.0
/*
 * memwatch_hog: the workloads of the daemon's tests and of `make demo`.
 * Holds some memory, leaks more at a set pace (in N children if asked),
 * and stays until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"Usage: memwatch_hog [--hold SIZE] [--leak SIZE] [--every MS] [--max SIZE]\n"
"                    [--children N] [--name NAME] [--oom-score-adj N]\n"
"                    [--ready FD] [--work FILE] [--node N] [--deadline S]\n"
"                    [--read FILE] [--walk] [--thread]\n"
"\n"
"Touch --hold bytes at once, then --leak bytes every --every ms (0: as\n"
"fast as it can) until --max bytes in all, in --children processes if\n"
"given (the parent waits for them), then stay until killed. SIZE takes\n"
"K, M or G. --ready FD: write one byte to FD once the hold is touched.\n"
"--work FILE: instead of leaking, work on the hold and keep the number of\n"
"passes done in FILE. A pass is 16384 writes: 512 rounds over a 128 KiB\n"
"window, which moves on by 128 KiB each pass, so every page of the hold\n"
"is written in turn while a pass costs the same whatever the hold's size.\n"
"--node N: run on NUMA node N's CPUs only (so memory lands there first).\n"
"--deadline S: every process ends S seconds after the start (SIGALRM's\n"
"default action: the kernel ends it even when the machine thrashes).\n"
"--read FILE: instead of leaking, read --leak bytes of FILE every --every\n"
"ms, its first --max bytes (all without), over and over: page cache.\n"
"--walk: instead of leaking, write one byte in every page of the hold,\n"
"over and over: a working set bigger than the memory it may keep thrashes.\n"
"--thread: leak in a second thread while the first calls pthread_exit()\n"
"(a zombie leader whose process goes on growing).\n";

/* Run on node's CPUs (its sysfs cpulist, "0-3,8"): 0 or -1. */
static int run_on_node(const char *node)
{
	char path[96], list[256], *p = list;
	cpu_set_t set;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%s/cpulist",
		 node);
	f = fopen(path, "re");
	if (!f || !fgets(list, sizeof(list), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	CPU_ZERO(&set);
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return -1;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, &set);
		p = *end == ',' ? end + 1 : end;
	}
	return sched_setaffinity(0, sizeof(set), &set);
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	}
	if (end == s || *end) {
		fprintf(stderr, "memwatch_hog: bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

static char *held;

static void touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED) {
		perror("memwatch_hog: mmap");
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	for (i = 0; i < bytes; i += 4096)
		p[i] = 1;
	if (!held)
		held = p;
}

/*
 * Useful work: a pass is 512 rounds of one write per page over a 128 KiB
 * window of the hold, the window moving on each pass; the count goes to
 * fd. Not one write per page of the whole hold: under emulation (TCG)
 * that is bound by the emulator's software TLB, whose size changes with
 * what else the vCPU runs, and a pass's cost moved tenfold from one run
 * to the next. 32 pages stay in that TLB: a pass measures CPU progress.
 */
#define MEMWATCH_HOG_WINDOW	(128 << 10)
static void work(size_t hold, int fd)
{
	unsigned long passes = 0;
	size_t base = 0, i;
	char buf[32];
	int r;

	for (;;) {
		int n;

		for (r = 0; r < 512; r++)
			for (i = 0; i < MEMWATCH_HOG_WINDOW && base + i < hold;
			     i += 4096)
				held[base + i]++;
		base += MEMWATCH_HOG_WINDOW;
		if (base >= hold)
			base = 0;
		n = snprintf(buf, sizeof(buf), "%lu\n", ++passes);
		if (pwrite(fd, buf, n, 0) != n)
			exit(1);
	}
}

/* One write in every page of the hold, in turn, for ever. */
static void walk(size_t hold)
{
	size_t i;

	for (;;)
		for (i = 0; i < hold; i += 4096)
			held[i]++;
}

/* Seconds left of deadline since start, at least 1 (alarm(0) cancels). */
static unsigned int remaining(const struct timespec *start,
			      unsigned int deadline)
{
	struct timespec now;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (long)deadline - (now.tv_sec - start->tv_sec);
	return left > 1 ? (unsigned int)left : 1;
}

static void leak(size_t step, unsigned int every_ms, size_t max)
{
	struct timespec ts = {
		.tv_sec = every_ms / 1000,
		.tv_nsec = (long)(every_ms % 1000) * 1000000,
	};
	size_t done = 0;

	while (step && (!max || done < max)) {
		touch(step);
		done += step;
		if (every_ms)
			nanosleep(&ts, NULL);
	}
	for (;;)
		pause();
}

/*
 * Read FILE step bytes every every_ms, up to max bytes of it (all of it
 * without), then again from its start: page cache, not anonymous memory.
 */
static void read_file(const char *path, size_t step, unsigned int every_ms,
		      size_t max)
{
	struct timespec ts = {
		.tv_sec = every_ms / 1000,
		.tv_nsec = (long)(every_ms % 1000) * 1000000,
	};
	static char buf[1 << 16];
	size_t done = 0, n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !step) {
		perror("memwatch_hog: --read");
		exit(1);
	}
	for (;;) {
		for (n = 0; n < step; ) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r <= 0 || (max && done >= max)) {
				lseek(fd, 0, SEEK_SET);
				done = 0;
				break;
			}
			n += (size_t)r;
			done += (size_t)r;
		}
		if (every_ms)
			nanosleep(&ts, NULL);
	}
}

struct leak_args {
	size_t step, max;
	unsigned int every;
};

static void *leak_thread(void *arg)
{
	const struct leak_args *a = arg;

	leak(a->step, a->every, a->max);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hold", required_argument, NULL, 'H' },
		{ "leak", required_argument, NULL, 'l' },
		{ "every", required_argument, NULL, 'e' },
		{ "max", required_argument, NULL, 'm' },
		{ "children", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "oom-score-adj", required_argument, NULL, 'o' },
		{ "ready", required_argument, NULL, 'r' },
		{ "work", required_argument, NULL, 'w' },
		{ "node", required_argument, NULL, 'N' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "read", required_argument, NULL, 'R' },
		{ "walk", no_argument, NULL, 'W' },
		{ "thread", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t hold = 0, step = 0, max = 0;
	unsigned int every = 0, children = 0, deadline = 0, i;
	struct timespec start = { 0 };
	const char *adj = NULL, *reading = NULL;
	int c, ready = -1, work_fd = -1;
	bool walking = false, threaded = false;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': hold = parse_size(optarg); break;
		case 'l': step = parse_size(optarg); break;
		case 'e': every = (unsigned int)atoi(optarg); break;
		case 'm': max = parse_size(optarg); break;
		case 'c': children = (unsigned int)atoi(optarg); break;
		case 'n': prctl(PR_SET_NAME, optarg); break;
		case 'o': adj = optarg; break;
		case 'r': ready = atoi(optarg); break;
		case 'd': deadline = (unsigned int)atoi(optarg); break;
		case 'R': reading = optarg; break;
		case 'W': walking = true; break;
		case 'T': threaded = true; break;
		case 'N':
			if (run_on_node(optarg)) {
				fprintf(stderr, "memwatch_hog: --node %s: no such node\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			work_fd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (work_fd < 0) {
				perror("memwatch_hog: --work");
				return 1;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (adj) {
		FILE *f = fopen("/proc/self/oom_score_adj", "w");

		if (!f || fputs(adj, f) < 0 || fclose(f)) {
			perror("memwatch_hog: oom_score_adj");
			return 1;
		}
	}
	if (deadline) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		alarm(deadline);
	}
	if (hold)
		touch(hold);
	if (ready >= 0) {
		if (write(ready, "r", 1) != 1)
			return 1;
		close(ready);
	}
	if (work_fd >= 0 && hold)
		work(hold, work_fd);
	if (walking && hold)
		walk(hold);
	if (reading)
		read_file(reading, step, every, max);
	if (threaded && !children) {
		static struct leak_args a;
		pthread_t th;

		a = (struct leak_args){ .step = step, .max = max, .every = every };
		if (pthread_create(&th, NULL, leak_thread, &a)) {
			perror("memwatch_hog: --thread");
			return 1;
		}
		pthread_exit(NULL);
	}
	if (!children)
		leak(step, every, max);
	for (i = 0; i < children; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("memwatch_hog: fork");
			return 1;
		}
		if (!pid) {
			/* alarm() is not inherited: the rest of the time. */
			if (deadline)
				alarm(remaining(&start, deadline));
			leak(step, every, max);
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
