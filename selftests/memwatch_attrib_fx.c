// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture `attrib` (memwatch_attrib.h): its setup and teardown, and
 * the helpers of both its programs, memwatch_attrib and memwatch_churn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memwatch_attrib.h"
#include "memwatch_util.h"

const char cg_root[] = "/sys/fs/cgroup";
const char thp_enabled_path[] =
	"/sys/kernel/mm/transparent_hugepage/enabled";

/* Unload, load with params, reconnect: 0 or -errno. */
int reload(FIXTURE_DATA(attrib) *self, const char *params)
{
	return mw_reload_open(&self->fd, params, &self->id, &self->grp);
}

int attrib_fx_setup(FIXTURE_DATA(attrib) *self)
{
	return mw_fx_open(&self->was_loaded, &self->fd, &self->id, &self->grp);
}

void attrib_fx_teardown(FIXTURE_DATA(attrib) *self, bool passed)
{
	(void)passed;	/* the same undoing, whatever the verdict */
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	if (self->mnt[0]) {
		if (umount2(self->mnt, MNT_DETACH) || rmdir(self->mnt))
			fprintf(stderr, "# teardown: cannot remove %s: %s\n",
				self->mnt, strerror(errno));
	}
	if (self->cg[0] && mw_cgroup_remove(self->cg))
		fprintf(stderr, "# teardown: cannot remove cgroup %s\n",
			self->cg);
	if (self->cpuset_cg[0] && mw_cgroup_remove(self->cpuset_cg))
		fprintf(stderr, "# teardown: cannot remove cgroup %s\n",
			self->cpuset_cg);
	if (self->cpuset_enabled) {
		char path[128];

		snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
			 cg_root);
		if (mw_write(path, "-cpuset"))
			fprintf(stderr, "# teardown: cannot disable cpuset\n");
	}
	if (self->thp_enabled[0] &&
	    mw_write(thp_enabled_path, self->thp_enabled))
		fprintf(stderr, "# teardown: cannot restore %s\n",
			thp_enabled_path);
	if (self->fd >= 0)
		close(self->fd);
	if (self->reloaded) {
		mw_module_ensure(false);
		mw_module_load("");
	}
	mw_module_ensure(self->was_loaded);
}

/* The record of pid (a PROC_GET with its pid) into *out: 1, 0 or -errno. */
int record(FIXTURE_DATA(attrib) *self, pid_t pid, struct mw_proc *out)
{
	return mw_proc_record(self->fd, self->id, pid, out, &self->recs,
			      &self->r);
}

/* A tmpfs of its own for the test, at self->mnt: 0 or -errno. */
int tmpfs_mount(FIXTURE_DATA(attrib) *self)
{
	char dir[] = "/tmp/mw-attrib.XXXXXX";

	if (!mkdtemp(dir))
		return -errno;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=512m,mode=0700")) {
		int err = -errno;

		rmdir(dir);
		return err;
	}
	snprintf(self->mnt, sizeof(self->mnt), "%s", dir);
	return 0;
}

/* For a failure message: how the child ended (kill first). */
int reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
