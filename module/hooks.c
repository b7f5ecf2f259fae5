// SPDX-License-Identifier: GPL-2.0
/*
 * The hook points: a kretprobe on __mem_cgroup_charge (a page is only
 * accounted once its charge succeeded), kprobes on uncharge_folio and
 * mem_cgroup_migrate, and one on oom_kill_process (its oom_control holds
 * the victim, referenced, at entry). All are ftrace-based: each sits on
 * its function's ftrace entry. Handlers count their hits in per-CPU
 * counters and hand over to acct.c and wmark.c.
 */
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/kernel.h>
#include <uapi/linux/memwatch.h>

#include "acct.h"
#include "hooks.h"
#include "wmark.h"

enum {
	MEMWATCH_HOOK_CHARGE,
	MEMWATCH_HOOK_UNCHARGE,
	MEMWATCH_HOOK_MIGRATE,
	MEMWATCH_HOOK_OOM,
	MEMWATCH_NR_HOOKS
};

struct memwatch_hook {
	struct kretprobe rp;	/* rp.kp alone for a plain kprobe */
	bool ret;
	bool attached;
	u64 __percpu *hits;
};

static struct memwatch_hook memwatch_hooks[MEMWATCH_NR_HOOKS];

static void memwatch_hit(unsigned int hook)
{
	this_cpu_inc(*memwatch_hooks[hook].hits);
}

static int memwatch_charge_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_CHARGE);
	memwatch_acct_charge_entry((struct memwatch_charge_data *)ri->data,
				   regs);
	return 0;
}

static int memwatch_charge_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	memwatch_acct_charge_return((struct memwatch_charge_data *)ri->data,
				    regs);
	return 0;
}

static int memwatch_uncharge_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_UNCHARGE);
	memwatch_acct_uncharge(regs);
	return 0;
}

static int memwatch_migrate_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_MIGRATE);
	memwatch_acct_migrate(regs);
	return 0;
}

/*
 * probe_only=1: the same probes on the same functions, counting their
 * hits and nothing else, so make bench can tell the kprobes' own cost
 * from memwatch's work in them.
 */
static int memwatch_count_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_CHARGE);
	return 0;
}

static int memwatch_count_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	return 0;
}

static int memwatch_count_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(kp == &memwatch_hooks[MEMWATCH_HOOK_UNCHARGE].rp.kp ?
		     MEMWATCH_HOOK_UNCHARGE : MEMWATCH_HOOK_MIGRATE);
	return 0;
}

static int memwatch_oom_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_OOM);
	memwatch_wmark_oom((struct oom_control *)
			   regs_get_kernel_argument(regs, 0));
	return 0;
}

static struct memwatch_hook memwatch_hooks[MEMWATCH_NR_HOOKS] = {
	[MEMWATCH_HOOK_CHARGE] = {
		.ret = true,
		.rp = {
			.kp.symbol_name = "__mem_cgroup_charge",
			.entry_handler = memwatch_charge_entry,
			.handler = memwatch_charge_return,
			.data_size = sizeof(struct memwatch_charge_data),
		},
	},
	[MEMWATCH_HOOK_UNCHARGE] = {
		.rp.kp = {
			.symbol_name = "uncharge_folio",
			.pre_handler = memwatch_uncharge_pre,
		},
	},
	[MEMWATCH_HOOK_MIGRATE] = {
		.rp.kp = {
			.symbol_name = "mem_cgroup_migrate",
			.pre_handler = memwatch_migrate_pre,
		},
	},
	[MEMWATCH_HOOK_OOM] = {
		.rp.kp = {
			.symbol_name = "oom_kill_process",
			.pre_handler = memwatch_oom_pre,
		},
	},
};

static void memwatch_hook_detach(struct memwatch_hook *hook)
{
	if (hook->attached && hook->ret)
		unregister_kretprobe(&hook->rp);
	else if (hook->attached)
		unregister_kprobe(&hook->rp.kp);
	hook->attached = false;
}

static int memwatch_hook_attach(struct memwatch_hook *hook)
{
	int err;

	if (hook->ret) {
		/* Charges sleep in reclaim: room for many at once. */
		hook->rp.maxactive = max_t(int, 64, 4 * num_possible_cpus());
		err = register_kretprobe(&hook->rp);
	} else {
		err = register_kprobe(&hook->rp.kp);
	}
	if (err) {
		pr_err("cannot attach to %s: %d\n", hook->rp.kp.symbol_name,
		       err);
		return err;
	}
	hook->attached = true;
	return 0;
}

/*
 * Detach first, all of them: unregistering waits for handlers still
 * running, so once this returns none is, and the counters can go.
 */
static void memwatch_hooks_release(unsigned int n)
{
	unsigned int i;

	for (i = n; i-- > 0;)
		memwatch_hook_detach(&memwatch_hooks[i]);
	for (i = n; i-- > 0;) {
		free_percpu(memwatch_hooks[i].hits);
		memwatch_hooks[i].hits = NULL;
	}
}

int memwatch_hooks_init(bool attach, bool probe_only)
{
	unsigned int i;
	int err;

	if (probe_only) {
		memwatch_hooks[MEMWATCH_HOOK_CHARGE].rp.entry_handler =
			memwatch_count_entry;
		memwatch_hooks[MEMWATCH_HOOK_CHARGE].rp.handler =
			memwatch_count_return;
		memwatch_hooks[MEMWATCH_HOOK_UNCHARGE].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_MIGRATE].rp.kp.pre_handler =
			memwatch_count_pre;
	}

	for (i = 0; i < MEMWATCH_NR_HOOKS; i++) {
		memwatch_hooks[i].hits = alloc_percpu(u64);
		if (!memwatch_hooks[i].hits) {
			memwatch_hooks_release(i);
			return -ENOMEM;
		}
	}
	for (i = 0; attach && i < MEMWATCH_NR_HOOKS; i++) {
		err = memwatch_hook_attach(&memwatch_hooks[i]);
		if (err) {
			memwatch_hooks_release(MEMWATCH_NR_HOOKS);
			return err;
		}
	}
	return 0;
}

void memwatch_hooks_exit(void)
{
	memwatch_hooks_release(MEMWATCH_NR_HOOKS);
}

int memwatch_hooks_stat(unsigned int i, struct memwatch_hook_stat *st)
{
	const struct memwatch_hook *hook;
	int cpu;

	if (i >= MEMWATCH_NR_HOOKS)
		return -ENOENT;
	hook = &memwatch_hooks[i];
	st->name = hook->rp.kp.symbol_name;
	st->kind = hook->ret ? MEMWATCH_HOOK_KRETPROBE : MEMWATCH_HOOK_KPROBE;
	st->attached = hook->attached;
	st->hits = 0;
	for_each_possible_cpu(cpu)
		st->hits += *per_cpu_ptr(hook->hits, cpu);
	st->missed = 0;
	if (hook->attached)
		st->missed = hook->rp.kp.nmissed + (hook->ret ? hook->rp.nmissed : 0);
	return 0;
}
