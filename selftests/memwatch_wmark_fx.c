// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture "wmark" (memwatch_wmark.h): its setup and teardown, the
 * event reader, the policy requests and the stepping child of
 * memwatch_wmark's and memwatch_wmark_host's tests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memwatch_wmark.h"
#include "memwatch_util.h"

/* The next event within ms: 1, or 0 on timeout. */
int next_event(int fd, int ms, struct ev *e)
{
	static char buf[MW_NL_BUFSZ];
	const struct nlattr *top, *p;
	int len = mw_nl_next(fd, MEMWATCH_CMD_EVENT, ms, buf), rem;

	if (len <= 0)
		return 0;
	memset(e, 0, sizeof(*e));
	e->cgid = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_CGROUP_ID);
	e->usage = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_USAGE);
	e->limit = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_LIMIT);
	e->threshold = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_THRESHOLD);
	e->ts = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_TS_NS);
	e->work = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_WORK_NS);
	e->built = mw_nla_u64(buf, len, MEMWATCH_A_EVENT_BUILT_NS);
	e->level = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_LEVEL);
	e->dir = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_DIRECTION);
	e->fired = mw_nla_u8(buf, len, MEMWATCH_A_EVENT_WMARK_FIRED);
	p = mw_nla_find(buf, len, MEMWATCH_A_EVENT_NODE);
	e->node = p ? (int)*(const uint32_t *)mw_nla_data(p) : -1;
	p = mw_nla_find(buf, len, MEMWATCH_A_EVENT_VICTIM_PID);
	e->victim = p ? *(const uint32_t *)mw_nla_data(p) : 0;
	e->nwmarks = -1;
	top = mw_nla_find(buf, len, MEMWATCH_A_EVENT_WMARKS);
	if (top) {
		e->nwmarks = 0;
		mw_nla_for_each(p, mw_nla_data(top), mw_nla_len(top), rem) {
			uint8_t l = mw_nla_u8(mw_nla_data(p), mw_nla_len(p),
					      MEMWATCH_A_WMARK_LEVEL);

			if (l >= 1 && l <= MEMWATCH_NR_LEVELS) {
				e->thr[l] = mw_nla_u64(mw_nla_data(p),
						       mw_nla_len(p),
						       MEMWATCH_A_WMARK_THRESHOLD);
				e->nwmarks++;
			}
		}
	}
	top = mw_nla_find(buf, len, MEMWATCH_A_EVENT_TOP);
	if (!top)
		return 1;
	mw_nla_for_each(p, mw_nla_data(top), mw_nla_len(top), rem) {
		const struct nlattr *pid = mw_nla_find(mw_nla_data(p),
						       mw_nla_len(p),
						       MEMWATCH_A_PROC_PID);

		if (pid && e->ntop < 8)
			e->top[e->ntop++] = *(const uint32_t *)mw_nla_data(pid);
	}
	return 1;
}

/* POLICY_SET (cgid 0: none) or, with lp NULL, POLICY_DEL for node. */
int node_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid, uint32_t node,
		int n, const int (*lp)[2])
{
	char attrs[512];
	size_t len = 0;

	if (cgid)
		mw_nla_put(attrs, sizeof(attrs), &len,
			   MEMWATCH_A_POLICY_CGROUP_ID, &cgid, sizeof(cgid));
	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_NODE, &node,
		   sizeof(node));
	if (!lp)
		return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_DEL,
				  0, attrs, len, &self->r);
	mw_put_wmarks(attrs, sizeof(attrs), &len, n, lp);
	return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_SET, 0, attrs,
			  len, &self->r);
}

int del_node_policy(FIXTURE_DATA(wmark) *self, uint32_t node)
{
	return node_policy(self, 0, node, 0, NULL);
}

/* POLICY_DEL for cgid: 0 or -errno. */
int del_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid)
{
	char attrs[64];
	size_t len = 0;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &cgid, sizeof(cgid));
	return mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_POLICY_DEL, 0,
			  attrs, len, &self->r);
}

/* POLICY_SET for cgid with (level, percent) pairs; 0 or -errno. */
int set_policy(FIXTURE_DATA(wmark) *self, uint64_t cgid, int n,
	       const int (*lp)[2])
{
	return mw_policy_set(self->fd, self->id, cgid, n, lp, &self->r);
}

static void count_policy(const void *attrs, int len, void *arg)
{
	(void)attrs;
	(void)len;
	++*(int *)arg;
}

int policies(FIXTURE_DATA(wmark) *self)
{
	int n = 0;

	if (mw_nl_dump(self->fd, self->id, MEMWATCH_CMD_POLICY_GET, NULL, 0,
		       count_policy, &n, &self->r))
		return -1;
	return n;
}

/* A child in the cgroup that allocates in steps, then frees in steps. */
pid_t stepper(const char *cgroup, struct mw_sync *s, size_t step, int steps)
{
	pid_t pid = fork();
	char *p[64];
	int i;

	if (pid)
		return pid;
	if (mw_cgroup_enter(cgroup))
		_exit(10);
	for (i = 0; i < steps; i++) {
		p[i] = mw_alloc_on(step, -1);
		if (!p[i])
			_exit(11);
		usleep(20000);
	}
	if (!mw_sync_child(s))
		_exit(0);
	while (i--) {
		munmap(p[i], step);
		usleep(20000);
	}
	mw_sync_child(s);
	_exit(0);
}

int wmark_fx_setup(FIXTURE_DATA(wmark) *self)
{
	uint32_t grp;
	int i, n;

	if (mw_fx_open(&self->was_loaded, &self->fd, &self->id, &grp))
		return -1;
	self->evfd = mw_nl_events_open(grp);
	if (self->evfd < 0) {
		fprintf(stderr,
			"# setup: joining the events group failed: %s\n",
			strerror(-self->evfd));
		return -1;
	}
	/* The policies of the cgroups earlier tests removed go within ticks. */
	for (i = 0; i < 30 && policies(self); i++)
		usleep(100000);
	n = policies(self);
	if (n < 0) {
		fprintf(stderr, "# setup: POLICY_GET failed: %s %s\n",
			strerror(-self->r.error), self->r.extack);
		return -1;
	}
	if (n) {
		fprintf(stderr,
			"# setup: no policy left failed: %d still there after 3 s\n",
			n);
		return -1;
	}
	snprintf(self->name, sizeof(self->name), "mw-wmark-%d", getpid());
	self->cgid = mw_cgroup_make(self->name, "128M");
	if (!self->cgid) {
		fprintf(stderr, "# setup: making cgroup %s failed: %s\n",
			self->name, strerror(errno));
		return -1;
	}
	return 0;
}

void wmark_fx_teardown(FIXTURE_DATA(wmark) *self, bool passed)
{
	(void)passed;	/* the same cleaning after a pass as after a failure */
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	/* A failed host or node test must not leave its policy behind. */
	del_policy(self, 1);
	del_node_policy(self, 1);
	mw_cgroup_remove("mw-wmark-host");
	mw_cgroup_remove(self->name);
	close(self->evfd);
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}
