/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_VICTIM_H
#define MEMCTL_VICTIM_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

#define VICTIMS_MAX 16
/* Less growth than this is noise: page cache, stacks. */
#define VICTIM_GROWTH_NOISE (1ULL << 20)

struct victim {
	uint32_t pid, ppid;
	char comm[32];
	char cgroup[256];	/* its own, under the cgroup2 root */
	uint64_t live;		/* bytes, as the module attributes them */
	uint64_t growth;	/* live bytes gained since the baseline */
	uint64_t anon;		/* resident anonymous and swapped out */
	uint64_t anon_growth;	/* of those, gained since the baseline */
	bool preferred;
	int pidfd;		/* from signalling until it is gone, else -1 */
	bool gone;
};

/* A process's live bytes when its cgroup first crossed a level. */
struct baseline {
	uint32_t pid;
	uint64_t live;
	uint64_t anon;		/* resident anonymous and swapped out */
};

struct victim_rules {
	const regex_t *avoid, *prefer;	/* NULL: none */
};

/*
 * Choose whom to kill in the cgroup with id cgroup_id (its subtree): the
 * module's records, less the processes that may not be killed (memctl
 * itself, pid 1, oom_score_adj -1000, a match of rules->avoid on the
 * name or command line) and those exiting (every thread in do_exit);
 * while one of those holds memory, none (its memory comes back first),
 * for at most 10 s per exiting process. The rest are ordered by: matching rules->prefer, growth of
 * anonymous memory (resident and swapped out) since base, then growth
 * of live bytes (page cache too) since base (what was gained since the
 * cgroup first crossed a level, all of it for a process not in base;
 * under VICTIM_GROWTH_NOISE counts as none), then live bytes: a reader
 * of a big file is not taken for the leaker. The first is
 * the offender; its siblings of the same name (same parent, not pid 1)
 * that grew at least a quarter as much join it, so a parent's leaking
 * workers go together. Fills out[0..max) and returns how many, 0 with
 * the reason in why if none may be killed, or -errno.
 */
int victims_choose(struct mw_nl *nl, uint64_t cgroup_id,
		   const struct baseline *base, unsigned int nbase,
		   const struct victim_rules *rules, struct victim *out,
		   unsigned int max, char *why, size_t whysz);

/* The live bytes of the cgroup's (subtree's) max biggest processes now,
 * for victims_choose() later: how many were stored in base. */
unsigned int victims_baseline(struct mw_nl *nl, uint64_t cgroup_id,
			      struct baseline *base, unsigned int max);

/* Reserve the process list once, so choosing allocates nothing. */
int victims_init(void);
void victims_exit(void);

#endif
