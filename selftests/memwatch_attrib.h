/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture `attrib`, of memwatch_attrib and memwatch_churn: memwatch
 * loaded and its family's command socket open. What a test changes on
 * the host (the module's parameters, a cpuset, a cgroup with a policy, a
 * tmpfs, the THP mode) it notes here, and the teardown undoes it.
 */
#ifndef MEMWATCH_ATTRIB_H
#define MEMWATCH_ATTRIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch_fixture.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)
#define PAGE 4096UL

extern const char cg_root[];
extern const char thp_enabled_path[];

FIXTURE_DATA(attrib) {
	int fd;
	uint16_t id;
	uint32_t grp;
	bool was_loaded;
	bool reloaded;		/* loaded with parameters: back to defaults */
	bool cpuset_enabled;	/* this test wrote +cpuset at the root */
	char cpuset_cg[64];	/* the child cpuset it made, or "" */
	char cg[64];		/* a cgroup with a policy, or "" */
	char mnt[64];		/* a tmpfs it mounted, or "" */
	char thp_enabled[32];	/* THP mode to restore, or "" */
	struct mw_nl_reply r;
	struct mw_procs recs;
};

/* memwatch loaded, the family connected: 0, or -1 having said why. */
int attrib_fx_setup(FIXTURE_DATA(attrib) *self);
/* Undo what the test noted in self; passed: the test's verdict. */
void attrib_fx_teardown(FIXTURE_DATA(attrib) *self, bool passed);

/* Unload, load with params, reconnect: 0 or -errno. */
int reload(FIXTURE_DATA(attrib) *self, const char *params);
/* The record of pid (a PROC_GET with its pid) into *out: 1, 0 or -errno. */
int record(FIXTURE_DATA(attrib) *self, pid_t pid, struct mw_proc *out);
/* A tmpfs of its own for the test, at self->mnt: 0 or -errno. */
int tmpfs_mount(FIXTURE_DATA(attrib) *self);
/* For a failure message: how the child ended (kill first). */
int reap(pid_t pid);

#endif
