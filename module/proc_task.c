// SPDX-License-Identifier: GPL-2.0
/*
 * What a process record (proc.h) says about the process behind it, read
 * from its task now: whether it still runs, its cgroup, its memory map's
 * counters. A record names its process by tgid and start time, so a
 * reused pid is never taken for it.
 */
#include <linux/cgroup.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <uapi/linux/memwatch.h>

#include "proc.h"

/* Whether the process a slot stands for still runs; refreshes its names. */
bool memwatch_proc_refresh(struct memwatch_proc *p)
{
	struct task_struct *t;
	bool alive = false;
	struct pid *pid;

	pid = find_get_pid(p->tgid);
	if (!pid)
		return false;
	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	if (t && t->start_time == p->start_time &&
	    atomic_read(&t->signal->live) > 0) {
		alive = true;
		get_task_comm(p->comm, t);
		p->cgroup_id = cgroup_id(task_dfl_cgroup(t));
	}
	rcu_read_unlock();
	put_pid(pid);
	return alive;
}

u64 memwatch_proc_cgroup(const struct memwatch_proc *p)
{
	u64 id = READ_ONCE(p->cgroup_id);
	struct task_struct *t;
	struct pid *pid;

	if (READ_ONCE(p->state) != MEMWATCH_PROC_ALIVE)
		return id;
	pid = find_get_pid(p->tgid);
	if (!pid)
		return id;
	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	if (t && t->start_time == p->start_time)
		id = cgroup_id(task_dfl_cgroup(t));
	rcu_read_unlock();
	put_pid(pid);
	return id;
}

/*
 * Whether the process is in ancestor's subtree: where it is now, read
 * under RCU from its task (no lookup of the cgroup by id, whose idr lock
 * every CPU shares), or for a gone one, where it was last.
 */
bool memwatch_proc_in_cgroup(const struct memwatch_proc *p,
			     struct cgroup *ancestor)
{
	struct task_struct *t;
	struct cgroup *cgrp;
	bool in = false, found = false;

	if (READ_ONCE(p->state) == MEMWATCH_PROC_ALIVE) {
		rcu_read_lock();
		t = pid_task(find_pid_ns(READ_ONCE(p->tgid), &init_pid_ns),
			     PIDTYPE_TGID);
		if (t && t->start_time == READ_ONCE(p->start_time)) {
			in = cgroup_is_descendant(task_dfl_cgroup(t), ancestor);
			found = true;
		}
		rcu_read_unlock();
		if (found)
			return in;
	}
	cgrp = cgroup_get_from_id(READ_ONCE(p->cgroup_id));
	if (IS_ERR(cgrp))
		return false;
	in = cgroup_is_descendant(cgrp, ancestor);
	cgroup_put(cgrp);
	return in;
}

/*
 * A live record's resident anonymous and swapped-out pages, from its mm's
 * counters (RssAnon and VmSwap of /proc/PID/status); 0 for the others.
 * Process context: mmput() may sleep.
 */
void memwatch_proc_mm(const struct memwatch_proc *p, unsigned long *anon,
		      unsigned long *swap)
{
	struct task_struct *t = NULL;
	struct mm_struct *mm = NULL;
	struct pid *pid;

	*anon = *swap = 0;
	if (READ_ONCE(p->state) != MEMWATCH_PROC_ALIVE || !p->tgid)
		return;
	pid = find_get_pid(p->tgid);
	if (!pid)
		return;
	/*
	 * Any thread's mm, as the OOM killer's find_lock_task_mm() takes it:
	 * a leader that called pthread_exit() is a zombie without one while
	 * its threads go on using (and growing) theirs.
	 */
	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	if (t && t->start_time == p->start_time) {
		struct task_struct *th;

		for_each_thread(t, th) {
			task_lock(th);
			if (th->mm && !(th->flags & PF_KTHREAD) &&
			    mmget_not_zero(th->mm))
				mm = th->mm;
			task_unlock(th);
			if (mm)
				break;
		}
	}
	rcu_read_unlock();
	put_pid(pid);
	if (!mm)
		return;
	*anon = get_mm_counter(mm, MM_ANONPAGES);
	*swap = get_mm_counter(mm, MM_SWAPENTS);
	mmput(mm);
}
