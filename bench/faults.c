// SPDX-License-Identifier: GPL-2.0
/*
 * faults: a page-fault microbenchmark in the style of will-it-scale's
 * page_fault1 (anonymous memory) and page_fault3 (a shared file mapping,
 * so every fault adds a page-cache page): map SIZE, write one byte per
 * 4 KiB page, unmap, ITERS times. Prints the nanoseconds per fault of the
 * whole loop (CLOCK_MONOTONIC), one number.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t size, i, pages;
	int iters, it, fd = -1;
	bool file;
	double t0, t1;

	if (argc != 4 || (strcmp(argv[1], "anon") && strcmp(argv[1], "file"))) {
		fprintf(stderr, "Usage: faults anon|file SIZE_MIB ITERS\n");
		return 2;
	}
	file = !strcmp(argv[1], "file");
	size = strtoul(argv[2], NULL, 10) << 20;
	iters = atoi(argv[3]);
	pages = size / 4096;
	if (file) {
		char path[] = "/tmp/faults.XXXXXX";

		/* tmpfs: the pages are page cache, charged like any other. */
		fd = mkstemp(path);
		if (fd < 0 || ftruncate(fd, size)) {
			perror("faults: file");
			return 1;
		}
		unlink(path);
	}
	t0 = now();
	for (it = 0; it < iters; it++) {
		char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       file ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS,
			       fd, 0);

		if (p == MAP_FAILED) {
			perror("faults: mmap");
			return 1;
		}
		for (i = 0; i < pages; i++)
			p[i * 4096] = 1;
		munmap(p, size);
		/* Drop the file's pages too, or the next pass finds them. */
		if (file && fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				      FALLOC_FL_KEEP_SIZE, 0, size)) {
			perror("faults: punch hole");
			return 1;
		}
	}
	t1 = now();
	printf("%.1f\n", (t1 - t0) / ((double)pages * iters));
	return 0;
}
