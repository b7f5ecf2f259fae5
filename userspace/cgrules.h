/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_CGRULES_H
#define MEMCTL_CGRULES_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * A [cgroup] section's kill rules, by cgroup id, for the ladder: whom
 * its kill step kills (kill, restart) and its own avoid and prefer.
 */
struct cgrule {
	uint64_t id;
	enum kill_scope kill;
	const regex_t *avoid, *prefer;	/* NULL: the daemon's */
	const char *restart;		/* "" for none */
};

/*
 * Compile the rules of c's [cgroup] sections whose cgroups exist now
 * (ids resolved): 0, or -EINVAL with the section in why. The rules in
 * force are replaced only on success.
 */
int cgrules_load(const struct config *c, char *why, size_t whysz);
/* The rules of cgroup id, or NULL if its section sets none. */
const struct cgrule *cgrules_find(uint64_t id);
void cgrules_free(void);

#endif
