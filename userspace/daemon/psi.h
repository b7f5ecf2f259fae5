/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_PSI_H
#define MEMCTL_PSI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A pressure stall trigger on memory.pressure (a cgroup's; the host's
 * /proc/pressure/memory for "/"): it fires when tasks stalled on memory
 * for pct percent of a window ("some": at least one task, "full": all
 * of them at once). See Documentation/accounting/psi.rst.
 */
struct psi_spec {
	bool full;
	unsigned int pct;		/* 1 to 100; 0: no trigger */
	unsigned int window_ms;		/* 500 to 10000 */
};

/* "some 10% 2s", "full 5% 500ms": 0, or -EINVAL with why. */
int psi_parse(const char *s, struct psi_spec *p, char *why, size_t whysz);
/* "full 10% 2s", for people and --check. */
const char *psi_format(const struct psi_spec *p, char *buf, size_t size);
/* Open cgroup's memory.pressure with the trigger: the fd to poll for
 * POLLPRI, or -errno. */
int psi_open(const char *cgroup, const struct psi_spec *p);
/* avg10 of the kind the trigger watches, now (e.g. "12.34"), or "?". */
const char *psi_avg10(const char *cgroup, const struct psi_spec *p,
		      char *buf, size_t size);

#endif
