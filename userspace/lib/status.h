/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_STATUS_H
#define MEMCTL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

#define STATUS_MAX_ITEMS 64

struct status_hook {
	char name[64];
	unsigned int kind;
	bool attached;
	uint64_t hits, missed;
	uint32_t error;		/* not attached: the errno attaching gave */
	char uncounted[256];	/* not attached: what is not counted, or "" */
};

struct status_table {
	char name[64];
	uint32_t entries, capacity;
	uint64_t bytes, overflows;
};

struct status {
	char version[32];
	uint64_t events_sent, events_dropped;
	unsigned int family_version;
	unsigned int n_hooks, n_tables;
	struct status_hook hooks[STATUS_MAX_ITEMS];
	struct status_table tables[STATUS_MAX_ITEMS];
};

/* STATUS into st: 0 or -errno (the kernel's message in nl->extack). */
int status_fetch(struct mw_nl *nl, struct status *st);
/* "kprobe", "kretprobe", "tracepoint" or "unknown". */
const char *status_hook_kind_name(unsigned int kind);

#endif
