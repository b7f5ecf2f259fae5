/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_DSTATS_H
#define MEMCTL_DSTATS_H

#include <stdbool.h>
#include <stdio.h>

#include "outcome.h"

/*
 * The daemon's own figures: counters bumped where things happen (any
 * thread; relaxed atomics, no locks, no allocation) and read by the
 * metrics writer.
 */
void dstats_start(bool dry_run);
void dstats_event(unsigned int level, bool up);
/* An action as act_log() takes it, and how it ended. */
void dstats_action(const char *action, enum act_outcome outcome);
void dstats_events_lost(void);
void dstats_reload(bool ok);
/* Cgroups frozen and throttled by the daemon now (the main loop sets). */
void dstats_gauges(unsigned int frozen, unsigned int throttled);

/* The figures in the Prometheus text format, memctl_daemon_* names. */
void dstats_write(FILE *f);

#endif
