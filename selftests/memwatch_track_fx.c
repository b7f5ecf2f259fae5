// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture `track` (memwatch_track.h): its setup and teardown, and the
 * helpers of both its programs, memwatch_track and memwatch_thp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "memwatch_track.h"
#include "memwatch_util.h"

int track_fx_setup(FIXTURE_DATA(track) *self)
{
	uint32_t grp;

	return mw_fx_open(&self->was_loaded, &self->fd, &self->id, &grp);
}

/* Not static: memwatch_thp's tests save the knobs here. */
char thp_enabled[32], thp_sleep[32];

const char thp_enabled_path[] =
	"/sys/kernel/mm/transparent_hugepage/enabled";
const char thp_sleep_path[] =
	"/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs";

void track_fx_teardown(FIXTURE_DATA(track) *self, bool passed)
{
	(void)passed;
	if (thp_enabled[0] && mw_write(thp_enabled_path, thp_enabled))
		fprintf(stderr, "# teardown: cannot restore %s\n",
			thp_enabled_path);
	if (thp_sleep[0] && mw_write(thp_sleep_path, thp_sleep))
		fprintf(stderr, "# teardown: cannot restore %s\n",
			thp_sleep_path);
	thp_enabled[0] = thp_sleep[0] = 0;
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

int dump(FIXTURE_DATA(track) *self, uint32_t pid, uint64_t cgid)
{
	char attrs[64];
	size_t len = 0;

	if (pid && !mw_nla_put(attrs, sizeof(attrs), &len,
			       MEMWATCH_A_PROC_PID, &pid, sizeof(pid)))
		return -EMSGSIZE;
	if (cgid && !mw_nla_put(attrs, sizeof(attrs), &len,
				MEMWATCH_A_PROC_CGROUP_ID, &cgid,
				sizeof(cgid)))
		return -EMSGSIZE;
	return mw_proc_dump(self->fd, self->id, attrs, len, &self->recs,
			    &self->r);
}

int wait_exit(pid_t pid, bool kill_first)
{
	int status;

	if (kill_first)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int reap(pid_t pid)
{
	return wait_exit(pid, true);
}
