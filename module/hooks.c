// SPDX-License-Identifier: GPL-2.0
/*
 * Hook points on the memcg charge/uncharge path. A user page (anonymous or
 * page cache) belongs to a memcg from __mem_cgroup_charge() until
 * uncharge; these are the points where it can be attributed.
 *
 * Handlers run in probe context (preemption off, any task, possibly from
 * reclaim): they only touch per-CPU data and never sleep or allocate.
 */
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/kernel.h>
#include <uapi/linux/memwatch.h>

#include "hooks.h"

struct memwatch_hook {
	struct kprobe kp;
	u64 __percpu *hits;
	bool attached;
};

static int memwatch_hook_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct memwatch_hook *hook = container_of(kp, struct memwatch_hook, kp);

	this_cpu_inc(*hook->hits);
	return 0;
}

static struct memwatch_hook memwatch_hooks[] = {
	{ .kp = { .symbol_name = "__mem_cgroup_charge" } },
	{ .kp = { .symbol_name = "__mem_cgroup_uncharge" } },
	{ .kp = { .symbol_name = "__mem_cgroup_uncharge_list" } },
};

static void memwatch_hooks_detach(unsigned int n)
{
	while (n--) {
		struct memwatch_hook *hook = &memwatch_hooks[n];

		if (hook->attached)
			unregister_kprobe(&hook->kp);
		hook->attached = false;
		free_percpu(hook->hits);
		hook->hits = NULL;
	}
}

int memwatch_hooks_init(bool attach)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(memwatch_hooks); i++) {
		struct memwatch_hook *hook = &memwatch_hooks[i];

		hook->hits = alloc_percpu(u64);
		if (!hook->hits) {
			err = -ENOMEM;
			goto err_detach;
		}
		if (!attach)
			continue;
		hook->kp.pre_handler = memwatch_hook_pre;
		err = register_kprobe(&hook->kp);
		if (err) {
			pr_err("cannot attach kprobe to %s: %d\n",
			       hook->kp.symbol_name, err);
			free_percpu(hook->hits);
			hook->hits = NULL;
			goto err_detach;
		}
		hook->attached = true;
	}
	return 0;

err_detach:
	memwatch_hooks_detach(i);
	return err;
}

void memwatch_hooks_exit(void)
{
	memwatch_hooks_detach(ARRAY_SIZE(memwatch_hooks));
}

int memwatch_hooks_stat(unsigned int i, struct memwatch_hook_stat *st)
{
	const struct memwatch_hook *hook;
	int cpu;

	if (i >= ARRAY_SIZE(memwatch_hooks))
		return -ENOENT;
	hook = &memwatch_hooks[i];
	st->name = hook->kp.symbol_name;
	st->kind = MEMWATCH_HOOK_KPROBE;
	st->attached = hook->attached;
	st->hits = 0;
	for_each_possible_cpu(cpu)
		st->hits += *per_cpu_ptr(hook->hits, cpu);
	st->missed = hook->attached ? hook->kp.nmissed : 0;
	return 0;
}
