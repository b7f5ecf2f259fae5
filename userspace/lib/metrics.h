/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_METRICS_H
#define MEMCTL_METRICS_H

#include <stdio.h>

#include "nl.h"
#include "policy.h"
#include "procs.h"

/* Where memctl daemon writes its metrics unless told otherwise. */
#define METRICS_DAEMON_FILE "/run/memctl/metrics.prom"

/* Dump buffers, kept between writes (free both .v when done). */
struct metrics_buf {
	struct policy_list policies;
	struct mw_procs procs;
};

/*
 * The module's figures (nl NULL: memwatch_up 0 only), with the top
 * processes by live bytes: 0 or -errno.
 */
int metrics_module(FILE *f, struct mw_nl *nl, struct metrics_buf *b,
		   unsigned int top);
/* fill() into a temporary file renamed to path: 0 or -errno. */
int metrics_write_file(const char *path, void (*fill)(FILE *f, void *arg),
		       void *arg);

#endif
