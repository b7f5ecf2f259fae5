/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_POLICY_H
#define MEMCTL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/memwatch.h>

#include "nl.h"

/* One level of a policy as given: a percentage, or bytes when pct is 0. */
struct policy_level {
	unsigned int pct;		/* 1..100, or 0 for bytes */
	unsigned long long bytes;
};

/* V as a percentage ("80%") or bytes ("512M"): 0 or -EINVAL. */
int policy_parse_value(const char *v, struct policy_level *out);

/*
 * POLICY_SET (lv[1..MEMWATCH_NR_LEVELS], a level with pct and bytes 0 is
 * off) or POLICY_DEL (lv NULL) for cgroup id, or for NUMA node node when
 * node >= 0 (then id 0 sends no cgroup): 0 or -errno, with the kernel's
 * message in nl->extack.
 */
int policy_request(struct mw_nl *nl, uint8_t cmd, uint64_t id, int node,
		   const struct policy_level *lv, unsigned int flags);

/* policy_request()'s flags. */
#define POLICY_SWAP	1	/* usage counts the cgroup's swap */

/* A policy as POLICY_GET dumps it; index 0 of w is unused. */
struct policy_rec {
	uint64_t id, usage, limit;
	int node;			/* a node's policy, else -1 */
	bool swap;			/* usage counts swap */
	unsigned int level;
	char cgroup[256];
	struct {
		unsigned int pct;	/* 0: bytes */
		uint64_t bytes, threshold;	/* threshold 0: level off */
	} w[MEMWATCH_NR_LEVELS + 1];
};

struct policy_list {
	struct policy_rec *v;
	size_t n, cap;
};

/*
 * Every policy into pl, which grows as needed (free pl->v): 0 or -errno
 * (-EINTR: policies kept changing during every try).
 */
int policy_fetch(struct mw_nl *nl, struct policy_list *pl);
/*
 * The policy of cgroup id alone (its node policies not): 0, -ENOENT if
 * it has none, or -errno.
 */
int policy_fetch_id(struct mw_nl *nl, uint64_t id, struct policy_list *pl);

#endif
