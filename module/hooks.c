// SPDX-License-Identifier: GPL-2.0
/*
 * The hook points, in one of two modes chosen at load (hooks=):
 *
 * tracepoint (the default): the page allocator's own tracepoints,
 * mm_page_alloc for a user page (anonymous or page cache: its gfp has
 * __GFP_HARDWALL and not __GFP_ACCOUNT; never a slab, page table, pipe
 * buffer or kernel stack) and mm_page_free: a page counts from its
 * allocation to its free. A tracepoint costs a direct call where a
 * kprobe costs an ftrace trampoline saving every register, so this mode
 * is the cheap one (make bench measures both). A kretprobe on
 * khugepaged's alloc_charge_hpage (alloc_charge_folio since 6.8) names
 * the process it allocates a huge page for (once per collapse, off the
 * fault path).
 *
 * kprobe: a kretprobe on __mem_cgroup_charge (a page is only accounted
 * once its charge succeeded) and a kprobe on uncharge_folio: a page
 * counts from its memcg charge to its uncharge.
 *
 * Both modes: a kprobe on the huge page split (split_page_memcg, or
 * folio_split_memcg_refs and split_page_memcg since 6.15: each piece
 * takes its owner), one on mem_cgroup_migrate and, since 6.7,
 * mem_cgroup_replace_folio (the owner follows a page that moves), and
 * one on oom_kill_process (its oom_control holds the victim, referenced,
 * at entry). Kprobes are ftrace-based: each sits on its function's ftrace
 * entry. Handlers count their hits in per-CPU counters and hand over to
 * acct.c and wmark.c. compat.h names each kernel's functions.
 *
 * A hook the figures need (every one but three) must attach or the load
 * fails, naming it. Three may be missing on a kernel where their function
 * is gone (-ENOENT) or cannot be probed (-EINVAL): the collapse, the page
 * cache replacement and the OOM kill. The figures stay right without
 * them (a page is still released by whoever counted it); what is then
 * not counted or not reported is each hook's .uncounted, which the load
 * logs and STATUS carries.
 */
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <uapi/linux/memwatch.h>

#include "acct.h"
#include "compat.h"
#include "hooks.h"
#include "wmark.h"

#define MEMWATCH_IN_KPROBE	BIT(MEMWATCH_HOOKS_KPROBE)
#define MEMWATCH_IN_TRACEPOINT	BIT(MEMWATCH_HOOKS_TRACEPOINT)

struct memwatch_hook {
	const char *name;
	u8 kind;		/* enum memwatch_hook_kind */
	u8 modes;		/* MEMWATCH_IN_*: the modes it is part of */
	struct kretprobe rp;	/* kprobes: rp.kp alone for a plain one */
	void *tp_probe;		/* tracepoints: the probe function */
	struct tracepoint *tp;
	const char *uncounted;	/* may be missing: what is lost then */
	int error;		/* what attaching it returned */
	bool attached;
};

static struct memwatch_hook memwatch_hooks[MEMWATCH_NR_HOOKS];
static unsigned int memwatch_hook_mode;
DEFINE_PER_CPU(u64, memwatch_hook_hits[MEMWATCH_NR_HOOKS]);

static notrace int memwatch_charge_entry(struct kretprobe_instance *ri,
					 struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_CHARGE);
	memwatch_acct_charge_entry((struct memwatch_charge_data *)ri->data,
				   regs);
	return 0;
}

static notrace int memwatch_charge_return(struct kretprobe_instance *ri,
					  struct pt_regs *regs)
{
	memwatch_acct_charge_return((struct memwatch_charge_data *)ri->data,
				    regs);
	return 0;
}

static notrace int memwatch_uncharge_pre(struct kprobe *kp,
					 struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_UNCHARGE);
	memwatch_acct_uncharge(regs);
	return 0;
}

static int memwatch_split_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_SPLIT);
	memwatch_acct_split(regs);
	return 0;
}

static int __maybe_unused memwatch_split_page_pre(struct kprobe *kp,
						  struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_SPLIT_PAGE);
	memwatch_acct_split_page(regs);
	return 0;
}

static int memwatch_migrate_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_MIGRATE);
	memwatch_acct_migrate(regs);
	return 0;
}

static int __maybe_unused memwatch_replace_pre(struct kprobe *kp,
					       struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_REPLACE);
	memwatch_acct_migrate(regs);
	return 0;
}

/*
 * khugepaged's alloc_charge_hpage/_folio(): the huge page it allocates is for
 * its mm argument (acct.c). data: whether this call named it.
 */
static int memwatch_collapse_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_COLLAPSE);
	*(bool *)ri->data = memwatch_acct_collapse_entry(regs);
	return 0;
}

static int memwatch_collapse_return(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	if (*(bool *)ri->data)
		memwatch_acct_collapse_return();
	return 0;
}

/*
 * probe_only=1: the same probes on the same functions, counting their
 * hits and nothing else, so make bench can tell the hooks' own cost
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
	memwatch_hit(container_of(kp, struct memwatch_hook, rp.kp) -
		     memwatch_hooks);
	return 0;
}

static void memwatch_count_alloc_tp(void *data, struct page *page,
				    unsigned int order, gfp_t gfp,
				    int migratetype)
{
	memwatch_hit(MEMWATCH_HOOK_ALLOC);
}

static void memwatch_count_free_tp(void *data, struct page *page,
				   unsigned int order)
{
	memwatch_hit(MEMWATCH_HOOK_FREE);
}

static int memwatch_count_collapse(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_COLLAPSE);
	return 0;
}

static int memwatch_oom_pre(struct kprobe *kp, struct pt_regs *regs)
{
	memwatch_hit(MEMWATCH_HOOK_OOM);
	memwatch_wmark_oom((struct oom_control *)
			   regs_get_kernel_argument(regs, 0));
	return 0;
}

/* A kprobe both modes attach to fn. */
#define MEMWATCH_KPROBE_BOTH(fn, pre)					\
	.name = (fn),							\
	.kind = MEMWATCH_HOOK_KPROBE,					\
	.modes = MEMWATCH_IN_KPROBE | MEMWATCH_IN_TRACEPOINT,		\
	.rp.kp.pre_handler = (pre)

static struct memwatch_hook memwatch_hooks[MEMWATCH_NR_HOOKS] = {
	[MEMWATCH_HOOK_CHARGE] = {
		.name = "__mem_cgroup_charge",
		.kind = MEMWATCH_HOOK_KRETPROBE,
		.modes = MEMWATCH_IN_KPROBE,
		.rp = {
			.entry_handler = memwatch_charge_entry,
			.handler = memwatch_charge_return,
			.data_size = sizeof(struct memwatch_charge_data),
		},
	},
	[MEMWATCH_HOOK_UNCHARGE] = {
		.name = "uncharge_folio",
		.kind = MEMWATCH_HOOK_KPROBE,
		.modes = MEMWATCH_IN_KPROBE,
		.rp.kp.pre_handler = memwatch_uncharge_pre,
	},
	[MEMWATCH_HOOK_ALLOC] = {
		.name = "mm_page_alloc",
		.kind = MEMWATCH_HOOK_TRACEPOINT,
		.modes = MEMWATCH_IN_TRACEPOINT,
		.tp_probe = memwatch_acct_alloc,
	},
	[MEMWATCH_HOOK_FREE] = {
		.name = "mm_page_free",
		.kind = MEMWATCH_HOOK_TRACEPOINT,
		.modes = MEMWATCH_IN_TRACEPOINT,
		.tp_probe = memwatch_acct_free,
	},
	[MEMWATCH_HOOK_COLLAPSE] = {
		.name = MEMWATCH_COLLAPSE_FN,
		.kind = MEMWATCH_HOOK_KRETPROBE,
		.modes = MEMWATCH_IN_TRACEPOINT,
		.rp = {
			.entry_handler = memwatch_collapse_entry,
			.handler = memwatch_collapse_return,
			.data_size = sizeof(bool),
		},
		.uncounted = "huge pages khugepaged collapses count for [kernel]",
	},
	[MEMWATCH_HOOK_SPLIT] = {
		MEMWATCH_KPROBE_BOTH(MEMWATCH_SPLIT_FN, memwatch_split_pre),
	},
#ifdef MEMWATCH_SPLIT_PAGE_FN
	[MEMWATCH_HOOK_SPLIT_PAGE] = {
		MEMWATCH_KPROBE_BOTH(MEMWATCH_SPLIT_PAGE_FN,
				     memwatch_split_page_pre),
	},
#endif
	[MEMWATCH_HOOK_MIGRATE] = {
		MEMWATCH_KPROBE_BOTH("mem_cgroup_migrate", memwatch_migrate_pre),
	},
#ifdef MEMWATCH_REPLACE_FN
	[MEMWATCH_HOOK_REPLACE] = {
		MEMWATCH_KPROBE_BOTH(MEMWATCH_REPLACE_FN, memwatch_replace_pre),
		.uncounted = "a page cache folio replaced in place loses its owner",
	},
#endif
	[MEMWATCH_HOOK_OOM] = {
		MEMWATCH_KPROBE_BOTH("oom_kill_process", memwatch_oom_pre),
		.uncounted = "kernel OOM kills are not reported (no oom event)",
	},
};

/*
 * The order hooks attach in: those that release a page's count (and
 * hand it on: split, migration) before those that count one. The other
 * way round, a page counted and then freed, uncharged or split before
 * its releasing hook is there keeps its count for ever (a split huge
 * page, 511 pages of it). This way a page counted has every hook that
 * can release it attached; one allocated before is not counted at all.
 * They detach in reverse: counting stops first.
 */
static const u8 memwatch_hook_order[MEMWATCH_NR_HOOKS] = {
	MEMWATCH_HOOK_UNCHARGE, MEMWATCH_HOOK_FREE, MEMWATCH_HOOK_SPLIT,
	MEMWATCH_HOOK_SPLIT_PAGE, MEMWATCH_HOOK_MIGRATE, MEMWATCH_HOOK_REPLACE,
	MEMWATCH_HOOK_OOM, MEMWATCH_HOOK_COLLAPSE, MEMWATCH_HOOK_CHARGE,
	MEMWATCH_HOOK_ALLOC,
};

/* In the mode loaded, and on this kernel (compat.h). */
static bool memwatch_hook_used(const struct memwatch_hook *hook)
{
	return hook->name && (hook->modes & BIT(memwatch_hook_mode));
}

static void memwatch_tp_find(struct tracepoint *tp, void *priv)
{
	struct memwatch_hook *hook = priv;

	if (!strcmp(tp->name, hook->name))
		hook->tp = tp;
}

static void memwatch_hook_detach(struct memwatch_hook *hook)
{
	if (!hook->attached)
		return;
	switch (hook->kind) {
	case MEMWATCH_HOOK_KRETPROBE:
		unregister_kretprobe(&hook->rp);
		break;
	case MEMWATCH_HOOK_KPROBE:
		unregister_kprobe(&hook->rp.kp);
		break;
	case MEMWATCH_HOOK_TRACEPOINT:
		tracepoint_probe_unregister(hook->tp, hook->tp_probe, NULL);
		break;
	}
	hook->attached = false;
}

/* Whether name is in the comma-separated list (absent=). */
static bool memwatch_hook_listed(const char *name, const char *list)
{
	size_t len = strlen(name);

	while (list && *list) {
		if (!strncmp(list, name, len) &&
		    (list[len] == ',' || !list[len]))
			return true;
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return false;
}

static int memwatch_hook_attach(struct memwatch_hook *hook, const char *absent)
{
	int err = 0;

	switch (memwatch_hook_listed(hook->name, absent) ? -1 : hook->kind) {
	case -1:
		err = -ENOENT;	/* as register_kprobe() says it */
		break;
	case MEMWATCH_HOOK_KRETPROBE:
		hook->rp.kp.symbol_name = hook->name;
		/* Charges sleep in reclaim: room for many at once. */
		hook->rp.maxactive = max_t(int, 64, 4 * num_possible_cpus());
		err = register_kretprobe(&hook->rp);
		break;
	case MEMWATCH_HOOK_KPROBE:
		hook->rp.kp.symbol_name = hook->name;
		err = register_kprobe(&hook->rp.kp);
		break;
	case MEMWATCH_HOOK_TRACEPOINT:
		for_each_kernel_tracepoint(memwatch_tp_find, hook);
		err = hook->tp ? tracepoint_probe_register(hook->tp,
							   hook->tp_probe,
							   NULL) : -ENOENT;
		break;
	}
	hook->error = err;
	if (err && hook->uncounted && (err == -ENOENT || err == -EINVAL)) {
		pr_warn("%s is not on this kernel or cannot be probed (%d); loading without it: %s\n",
			hook->name, err, hook->uncounted);
		return 0;
	}
	if (err) {
		pr_err("cannot attach to %s: %d\n", hook->name, err);
		return err;
	}
	hook->attached = true;
	return 0;
}

/*
 * Unregistering a kprobe waits for its handlers still running; a
 * tracepoint's probes are waited for by tracepoint_synchronize_unregister().
 * After this no handler runs: what they use can go.
 */
static void memwatch_hooks_release(void)
{
	bool tracepoints = false;
	unsigned int i;

	for (i = MEMWATCH_NR_HOOKS; i-- > 0;) {
		struct memwatch_hook *hook =
			&memwatch_hooks[memwatch_hook_order[i]];

		if (hook->attached && hook->kind == MEMWATCH_HOOK_TRACEPOINT)
			tracepoints = true;
		memwatch_hook_detach(hook);
	}
	if (tracepoints)
		tracepoint_synchronize_unregister();
}

int memwatch_hooks_init(bool attach, bool probe_only, unsigned int mode,
			const char *absent)
{
	unsigned int i;
	int err, cpu;

	memwatch_hook_mode = mode;
	if (probe_only) {
		memwatch_hooks[MEMWATCH_HOOK_CHARGE].rp.entry_handler =
			memwatch_count_entry;
		memwatch_hooks[MEMWATCH_HOOK_CHARGE].rp.handler =
			memwatch_count_return;
		memwatch_hooks[MEMWATCH_HOOK_UNCHARGE].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_MIGRATE].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_SPLIT].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_SPLIT_PAGE].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_REPLACE].rp.kp.pre_handler =
			memwatch_count_pre;
		memwatch_hooks[MEMWATCH_HOOK_ALLOC].tp_probe =
			memwatch_count_alloc_tp;
		memwatch_hooks[MEMWATCH_HOOK_FREE].tp_probe =
			memwatch_count_free_tp;
		memwatch_hooks[MEMWATCH_HOOK_COLLAPSE].rp.entry_handler =
			memwatch_count_collapse;
		memwatch_hooks[MEMWATCH_HOOK_COLLAPSE].rp.handler =
			memwatch_count_return;
	}

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(memwatch_hook_hits, cpu), 0,
		       sizeof(memwatch_hook_hits));
	BUILD_BUG_ON(MEMWATCH_NR_HOOKS != 10);
	for (i = 0; attach && i < MEMWATCH_NR_HOOKS; i++) {
		struct memwatch_hook *hook =
			&memwatch_hooks[memwatch_hook_order[i]];

		if (!memwatch_hook_used(hook))
			continue;
		err = memwatch_hook_attach(hook, absent);
		if (err) {
			memwatch_hooks_release();
			return err;
		}
	}
	return 0;
}

void memwatch_hooks_exit(void)
{
	memwatch_hooks_release();
}

/* The i-th hook of the mode loaded (a hook of the other is not listed). */
int memwatch_hooks_stat(unsigned int i, struct memwatch_hook_stat *st)
{
	const struct memwatch_hook *hook = NULL;
	unsigned int h;
	int cpu;

	for (h = 0; h < MEMWATCH_NR_HOOKS; h++) {
		if (!memwatch_hook_used(&memwatch_hooks[h]))
			continue;
		if (!i--) {
			hook = &memwatch_hooks[h];
			break;
		}
	}
	if (!hook)
		return -ENOENT;
	st->name = hook->name;
	st->kind = hook->kind;
	st->attached = hook->attached;
	st->error = hook->error;
	st->uncounted = hook->uncounted;
	st->hits = 0;
	for_each_possible_cpu(cpu)
		st->hits += per_cpu(memwatch_hook_hits[h], cpu);
	st->missed = 0;
	if (hook->attached && hook->kind != MEMWATCH_HOOK_TRACEPOINT)
		st->missed = hook->rp.kp.nmissed;
	if (hook->attached && hook->kind == MEMWATCH_HOOK_KRETPROBE)
		st->missed += hook->rp.nmissed;
	return 0;
}
