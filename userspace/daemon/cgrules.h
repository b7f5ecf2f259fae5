/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_CGRULES_H
#define MEMCTL_CGRULES_H

#include <poll.h>
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
	const char *path;
	enum kill_scope kill;
	const regex_t *avoid, *prefer;	/* NULL: the daemon's */
	const char *restart;		/* "" for none */
	struct psi_spec psi;		/* pct 0: no pressure trigger */
	int psi_fd;			/* the trigger, -1 if none */
	unsigned int needs_pressure, on_pressure;	/* levels, 0 none */
};

/*
 * Compile the rules of c's [cgroup] sections whose cgroups exist now
 * (ids resolved): 0, or -EINVAL with the section in why. The rules in
 * force are replaced only on success.
 */
int cgrules_load(const struct config *c, char *why, size_t whysz);
/* The rules of cgroup id, or NULL if its section sets none. */
const struct cgrule *cgrules_find(uint64_t id);
/* The pressure triggers to poll (POLLPRI): fills fds, returns how many. */
int cgrules_pollfds(struct pollfd *fds, int max);
/* The rule whose trigger fd is, or NULL. */
const struct cgrule *cgrules_by_fd(int fd);
void cgrules_free(void);

#endif
